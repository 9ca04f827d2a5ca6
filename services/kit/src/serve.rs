//! The HTTP/1 serve loop: accept with a connection bound, read request bodies within
//! their bounds, route the kit's own `/q/*` endpoints, hand everything else to the
//! service, record metrics, and drain in-flight requests on shutdown.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::{GracefulConnection, GracefulShutdown},
};
use serde::Serialize;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    sync::Semaphore,
};

use crate::{
    body::{self, BodyLimits},
    config::{ConfigError, Env},
    labels::{LIVE, METRICS, OPENAPI, OVERLOADED, READY, REFUSED, UNMATCHED},
    metrics::Metrics,
    response, Problem, Response,
};

/// How long a readiness check may take before the service counts as not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Limits and timeouts of the serve loop, shared by every service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// A request body must be complete within this time after its head; else 408.
    pub body_read_timeout: Duration,
    /// A request body must arrive at least this fast (bytes per second) after its first
    /// second; else 408. 0 leaves only `body_read_timeout`.
    pub body_min_bytes_per_sec: u64,
    /// A client must send its complete request head within this time.
    pub header_read_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Requests handled at once, counted from when their body is read; past it the
    /// service answers 503 at once.
    pub max_in_flight: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Tokio worker threads; 1 selects the single-threaded scheduler.
    pub worker_threads: usize,
}

impl ServerConfig {
    pub fn from_env(env: &Env, default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            bind: env.bind_addr(default_port)?,
            max_body_bytes: env.bounded("HTTP_MAX_BODY_BYTES", 64 * 1024, 1024, 64 << 20)? as usize,
            body_read_timeout: env.millis("HTTP_BODY_READ_TIMEOUT_MS", 5_000, 600_000)?,
            body_min_bytes_per_sec: env.bounded(
                "HTTP_BODY_MIN_BYTES_PER_SEC",
                1_024,
                0,
                1 << 30,
            )?,
            header_read_timeout: env.millis("HTTP_HEADER_READ_TIMEOUT_MS", 5_000, 600_000)?,
            max_connections: env.bounded("HTTP_MAX_CONNECTIONS", 4_096, 1, 1 << 20)? as usize,
            max_in_flight: env.bounded("HTTP_MAX_IN_FLIGHT", 1_024, 1, 1 << 20)? as usize,
            shutdown_timeout: env.millis("SHUTDOWN_TIMEOUT_MS", 10_000, 600_000)?,
            worker_threads: env.bounded("WORKER_THREADS", 1, 1, 256)? as usize,
        })
    }
}

/// What a service's handler answers: the response and the route label it is counted
/// under in `/q/metrics`.
pub struct Routed {
    pub route: &'static str,
    pub response: Response,
}

impl Routed {
    pub fn new(route: &'static str, response: Response) -> Self {
        Self { route, response }
    }
}

/// One dependency in the readiness answer.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Check {
    pub fn up(name: &'static str) -> Self {
        Self {
            name,
            status: "UP",
            detail: None,
        }
    }

    pub fn down(name: &'static str, detail: impl std::fmt::Display) -> Self {
        Self {
            name,
            status: "DOWN",
            detail: Some(detail.to_string()),
        }
    }

    fn is_up(&self) -> bool {
        self.status == "UP"
    }
}

/// A service served by the kit.
pub trait App: Send + Sync + 'static {
    /// Every route label `handle` reports.
    fn routes(&self) -> &[&'static str];

    /// Service name, the `service` label of every metric.
    fn name(&self) -> &'static str;

    /// The OpenAPI document served at `/q/openapi`, kept in the repo and served as is.
    fn openapi(&self) -> &'static str;

    /// Answers one request outside `/q/`, its body already read. Never fails: errors
    /// become problem responses.
    fn handle(self: Arc<Self>, req: Request<body::Incoming>)
        -> impl Future<Output = Routed> + Send;

    /// Checks the service's dependencies for `/q/health/ready`.
    fn ready(&self) -> impl Future<Output = Vec<Check>> + Send;

    /// Appends service-specific metrics (pool usage, downstream calls) to `/q/metrics`.
    fn render_metrics(&self, out: &mut String);
}

/// One service's request handling, shared by all its connections: routing, the
/// in-flight bound, metrics and the HTTP/1 settings.
pub struct Server<A> {
    app: Arc<A>,
    metrics: Metrics,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    body_limits: BodyLimits,
    http: http1::Builder,
}

/// Decrements the in-flight count when a request is answered or dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<A: App> Server<A> {
    pub fn new(app: Arc<A>, config: &ServerConfig) -> Arc<Self> {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .keep_alive(true)
            .max_headers(64)
            .max_buf_size(16 * 1024);
        Arc::new(Self {
            metrics: Metrics::new(app.name(), app.routes()),
            app,
            in_flight: AtomicUsize::new(0),
            max_in_flight: config.max_in_flight,
            body_limits: BodyLimits {
                max_bytes: config.max_body_bytes,
                timeout: config.body_read_timeout,
                min_bytes_per_sec: config.body_min_bytes_per_sec,
            },
            http,
        })
    }

    /// Serves the HTTP/1 requests of one connection until the client closes it. Any
    /// byte stream does: the serve loop passes TCP connections, the round-trip
    /// benchmark an in-memory pipe.
    pub fn connection<I>(
        self: &Arc<Self>,
        io: I,
    ) -> impl GracefulConnection<Error = hyper::Error> + Send + 'static
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let service = service_fn(move |req| {
            let server = server.clone();
            async move { Ok::<_, Infallible>(server.respond(req).await) }
        });
        self.http.serve_connection(TokioIo::new(io), service)
    }

    async fn respond(&self, req: Request<Incoming>) -> Response {
        let start = Instant::now();
        let Routed { route, response } = self.route(req).await;
        self.metrics
            .record(route, response.status().as_u16(), start.elapsed());
        response
    }

    async fn route(&self, req: Request<Incoming>) -> Routed {
        if req.uri().path().starts_with("/q/") {
            return self.kit_route(req.method(), req.uri().path()).await;
        }
        let (parts, body) = req.into_parts();
        let body = match body::read_within(body, &self.body_limits).await {
            Ok(bytes) => body::Incoming::new(bytes),
            // What is left of the body is unread: the connection cannot carry another request.
            Err(problem) => return Routed::new(REFUSED, closing(problem.into_response())),
        };
        if self.in_flight.fetch_add(1, Ordering::Relaxed) >= self.max_in_flight {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            let problem = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many requests in flight, try again shortly",
            );
            return Routed::new(OVERLOADED, problem.into_response());
        }
        let _guard = InFlight(&self.in_flight);
        self.app
            .clone()
            .handle(Request::from_parts(parts, body))
            .await
    }

    async fn kit_route(&self, method: &Method, path: &str) -> Routed {
        let route = match path {
            LIVE => LIVE,
            READY => READY,
            METRICS => METRICS,
            OPENAPI => OPENAPI,
            _ => return Routed::new(UNMATCHED, Problem::unknown_path().into_response()),
        };
        if method != Method::GET {
            return Routed::new(route, Problem::method_not_allowed("GET").into_response());
        }
        let response = match route {
            LIVE => response::json(
                StatusCode::OK,
                &Health {
                    status: "UP",
                    checks: &[],
                },
                32,
            ),
            READY => self.readiness().await,
            METRICS => {
                let mut out = String::with_capacity(8 * 1024);
                self.metrics.render(&mut out);
                self.app.render_metrics(&mut out);
                response::bytes(
                    StatusCode::OK,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    out,
                )
            }
            _ => response::bytes(
                StatusCode::OK,
                HeaderValue::from_static("application/yaml;charset=UTF-8"),
                Bytes::from_static(self.app.openapi().as_bytes()),
            ),
        };
        Routed::new(route, response)
    }

    async fn readiness(&self) -> Response {
        let checks = tokio::time::timeout(READY_TIMEOUT, self.app.ready())
            .await
            .unwrap_or_else(|_| vec![Check::down("dependencies", "check timed out")]);
        let up = checks.iter().all(Check::is_up);
        let (status, word) = if up {
            (StatusCode::OK, "UP")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "DOWN")
        };
        response::json(
            status,
            &Health {
                status: word,
                checks: &checks,
            },
            128,
        )
    }
}

/// `response` with `Connection: close`, so that hyper closes the connection after it.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    checks: &'a [Check],
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and
/// waits up to `shutdown_timeout` for open requests to finish.
pub async fn serve<A: App>(
    listener: TcpListener,
    app: Arc<A>,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let server = Server::new(app, config);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(config.max_connections));
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    log::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are written in one piece; waiting for more to coalesce only adds latency.
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(server.connection(stream));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                log::debug!("connection ended with an error: {err}");
            }
            drop(permit);
        });
    }

    drop(listener);
    log::info!("shutting down: waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => log::info!("all connections closed"),
        () = tokio::time::sleep(config.shutdown_timeout) => {
            log::warn!("shutdown deadline passed with connections still open");
        }
    }
}
