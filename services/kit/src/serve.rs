//! The HTTP/1 serve loop: accept with a connection bound, read request bodies within
//! their bounds, route the kit's own `/q/*` endpoints, hand everything else to the
//! service, record metrics, and drain on shutdown: every request already received is
//! answered before `serve` returns, up to a deadline.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    task::Poll,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, StatusCode};
use hyper::{
    body::{Body as _, Incoming},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{watch, Semaphore},
    task::JoinSet,
};

use crate::{
    body::{self, BodyLimits},
    config::{ConfigError, Env},
    connections::{Admission, Busy, Connection, ConnectionLimits, Connections},
    cors::Cors,
    health::Cached,
    http_rules,
    labels::{
        HEALTH, LIVE, METRICS, OPENAPI, OPTIONS, OVERLOADED, READY, REFUSED, STARTED, UNMATCHED,
    },
    metrics::{Family, Metrics},
    parse_errors::ProblemIo,
    response, Problem, Response,
};

/// The kit's own paths, all answering GET only.
const KIT_PATHS: [&str; 6] = [HEALTH, LIVE, READY, STARTED, METRICS, OPENAPI];

/// The answer of `/q/health/started` once the service serves: SmallRye's shape, no checks.
const STARTED_BODY: &str = r#"{"status":"UP","checks":[]}"#;

/// How long a readiness check may take before the service counts as not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a readiness result is reused: however many probes ask, the dependencies
/// are checked at most once per interval.
const READY_CACHE: Duration = Duration::from_secs(1);

/// Clients past the connection bound being answered 503 at once; past this many, a
/// further one is closed without an answer, so that a flood costs bounded sockets.
const MAX_REFUSING: usize = 64;
/// How long a refused client has to read its 503 before the socket is closed.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// How long idle connections stay open after the stop signal even when no request is in
/// progress: a request a client sent just before the signal may still be unread in the
/// socket, and closing then would reset it unanswered. Bounded by the shutdown timeout.
const IDLE_LINGER: Duration = Duration::from_millis(250);
/// How often the drain looks whether any request is still in progress: a scan of the
/// connection table paid only while shutting down, instead of a shared counter touched
/// by every request.
const DRAIN_POLL: Duration = Duration::from_millis(10);

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
    /// Connections open at once. Past it the connection idle the longest is closed to
    /// make room; when none is idle, a new client gets 503 and is closed.
    pub max_connections: usize,
    /// Requests one keep-alive connection carries before it is closed.
    pub keep_alive_max_requests: u64,
    /// Age after which a keep-alive connection is closed after its current request.
    pub keep_alive_max_age: Duration,
    /// Requests handled at once, counted from when their body is read; past it the
    /// service answers 503 at once.
    pub max_in_flight: usize,
    /// `/q/*` requests (health, metrics, OpenAPI) handled at once, apart from
    /// `max_in_flight` so that probes and API requests cannot starve each other.
    pub max_in_flight_q: usize,
    /// How long the drain may take after the stop signal; past it the connections
    /// still open are cut, so that a hung request cannot keep the process alive.
    pub shutdown_timeout: Duration,
    /// Tokio worker threads; 1 selects the single-threaded scheduler.
    pub worker_threads: usize,
    /// Origins whose browser pages may call the service.
    pub cors: Cors,
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
            keep_alive_max_requests: env.bounded(
                "HTTP_KEEP_ALIVE_MAX_REQUESTS",
                1_000,
                1,
                u64::MAX,
            )?,
            keep_alive_max_age: env.millis("HTTP_KEEP_ALIVE_MAX_AGE_MS", 3_600_000, 86_400_000)?,
            max_in_flight: env.bounded("HTTP_MAX_IN_FLIGHT", 1_024, 1, 1 << 20)? as usize,
            max_in_flight_q: env.bounded("HTTP_MAX_IN_FLIGHT_Q", 16, 1, 1 << 20)? as usize,
            shutdown_timeout: env.millis("SHUTDOWN_TIMEOUT_MS", 10_000, 600_000)?,
            worker_threads: env.bounded("WORKER_THREADS", 1, 1, 256)? as usize,
            cors: Cors::from_env(env)?,
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
    /// A short reason in plain words, never the driver's error: that may name users,
    /// hosts, source files or the topology, which a probe has no need to see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

impl Check {
    pub fn up(name: &'static str) -> Self {
        Self {
            name,
            status: "UP",
            detail: None,
        }
    }

    /// A failed check answering `reason`; `error`, the whole story, goes to the log.
    pub fn down(name: &'static str, reason: &'static str, error: impl std::fmt::Display) -> Self {
        log::warn!("readiness check {name} failed: {error}");
        Self {
            name,
            status: "DOWN",
            detail: Some(reason),
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

    /// The same document in JSON, served at `/q/openapi?format=json` or to a client that
    /// accepts `application/json`: a rendition of the YAML committed beside it.
    fn openapi_json(&self) -> &'static str;

    /// Answers one request outside `/q/`, its body already read. Never fails: errors
    /// become problem responses.
    fn handle(self: Arc<Self>, req: Request<body::Incoming>)
        -> impl Future<Output = Routed> + Send;

    /// The methods `path` accepts (`"GET, POST"`), as its 405 answers list them, or
    /// `None` for a path the service does not serve. The serve loop adds HEAD and
    /// OPTIONS and answers OPTIONS with it.
    fn allow(&self, path: &str) -> Option<&'static str>;

    /// Checks the service's dependencies for `/q/health/ready`.
    fn ready(&self) -> impl Future<Output = Vec<Check>> + Send;

    /// Appends service-specific metrics (pool usage, downstream calls) to `/q/metrics`.
    fn render_metrics(&self, out: &mut String);
}

/// One service's request handling, shared by all its connections: routing, the
/// connection and in-flight bounds, metrics and the HTTP/1 settings.
pub struct Server<A> {
    app: Arc<A>,
    metrics: Metrics,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    q_in_flight: AtomicUsize,
    max_in_flight_q: usize,
    readiness: Cached<Vec<Check>>,
    body_limits: BodyLimits,
    connections: Connections,
    /// Refusals being written, at most [`MAX_REFUSING`].
    refusing: Arc<Semaphore>,
    /// The whole 503 answer to a client past the connection bound, encoded once.
    refusal: Bytes,
    /// Set once the stop signal came: from then on every answer carries
    /// `Connection: close`, so each connection ends after the request it is serving or
    /// the one next received.
    draining: AtomicBool,
    /// Set to `true` once the drain closes the connections that are idle: when no
    /// request is in progress any more and [`IDLE_LINGER`] has passed.
    close_idle: watch::Sender<bool>,
    cors: Cors,
    http: http1::Builder,
}

/// A place among the requests in flight, given back when the request is answered or
/// dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    /// A place if fewer than `max` are taken.
    fn take(count: &'a AtomicUsize, max: usize) -> Option<Self> {
        if count.fetch_add(1, Ordering::Relaxed) >= max {
            count.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Self(count))
    }
}

/// The answer past an in-flight bound.
fn overloaded() -> Routed {
    let problem = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Too many requests in flight, try again shortly",
    );
    Routed::new(OVERLOADED, problem.into_response())
}

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
            q_in_flight: AtomicUsize::new(0),
            max_in_flight_q: config.max_in_flight_q,
            readiness: Cached::new(READY_CACHE),
            body_limits: BodyLimits {
                max_bytes: config.max_body_bytes,
                timeout: config.body_read_timeout,
                min_bytes_per_sec: config.body_min_bytes_per_sec,
            },
            connections: Connections::new(ConnectionLimits {
                max_open: config.max_connections,
                max_requests: config.keep_alive_max_requests,
                max_age: config.keep_alive_max_age,
            }),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
            refusal: refusal(),
            draining: AtomicBool::new(false),
            close_idle: watch::Sender::new(false),
            cors: config.cors.clone(),
            http,
        })
    }

    /// Serves the HTTP/1 requests of one connection until the client closes it, the
    /// server shuts down or the connection is closed to make room for a new one. Any
    /// byte stream does: the serve loop passes TCP connections, the round-trip
    /// benchmark an in-memory pipe.
    ///
    /// Admission is decided here, before the returned future runs, so that connections
    /// are admitted in the order they were accepted.
    pub fn connection<I>(self: &Arc<Self>, io: I) -> impl Future<Output = ()> + Send + 'static
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let close_idle = self.close_idle.subscribe();
        let admission = self.connections.admit();
        async move {
            match admission {
                Admission::Admitted(connection) => {
                    server.serve_connection(io, &connection, close_idle).await;
                    server.connections.remove(&connection);
                }
                Admission::Full => server.refuse(io).await,
            }
        }
    }

    async fn serve_connection<I>(
        self: &Arc<Self>,
        io: I,
        connection: &Arc<Connection>,
        mut close_idle: watch::Receiver<bool>,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let serving = connection.clone();
        let service = service_fn(move |req| {
            let server = server.clone();
            let connection = serving.clone();
            async move { Ok::<_, Infallible>(server.respond(req, &connection).await) }
        });
        let conn = self
            .http
            .serve_connection(TokioIo::new(ProblemIo::new(io)), service);
        tokio::pin!(conn);
        // On either signal hyper closes the connection at once when it is idle, or
        // after the response in progress.
        let result = tokio::select! {
            result = conn.as_mut() => result,
            () = connection.close_requested() => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
            () = signalled(&mut close_idle) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(err) = result {
            log::debug!("connection ended with an error: {err}");
        }
    }

    /// Answers a client past every connection bound with 503 and closes. The answer
    /// is written without waiting for the request, then the client's bytes are read
    /// until it closes (at most [`REFUSAL_TIME`]) so that closing with unread data
    /// does not reset the connection before the client has read the answer.
    async fn refuse<I>(&self, mut io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        self.metrics.record(OVERLOADED, 503, Duration::ZERO);
        let Ok(_permit) = self.refusing.clone().try_acquire_owned() else {
            return;
        };
        let answer = async {
            io.write_all(&self.refusal).await?;
            io.shutdown().await?;
            let mut sink = [0u8; 1024];
            while io.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_TIME, answer).await;
    }

    async fn respond(
        &self,
        req: Request<Incoming>,
        connection: &Arc<Connection>,
    ) -> http::Response<Written> {
        let start = Instant::now();
        let (busy, last) = self.connections.start_request(connection, start);
        let origin = req.headers().get(header::ORIGIN).cloned();
        let Routed {
            route,
            mut response,
        } = self.route(req).await;
        self.metrics
            .record(route, response.status().as_u16(), start.elapsed());
        self.cors.apply(origin.as_ref(), response.headers_mut());
        // Read after the answer is made, so that a request in progress when the drain
        // starts is the last of its connection too.
        let response = if last || self.draining.load(Ordering::Relaxed) {
            closing(response)
        } else {
            response
        };
        response.map(|body| Written { body, _busy: busy })
    }

    async fn route(&self, req: Request<Incoming>) -> Routed {
        let (mut parts, body) = req.into_parts();
        if let Err(problem) = http_rules::check_head(&parts, !body.is_end_stream()) {
            // Whatever body follows is left unread: the connection cannot go on.
            return Routed::new(REFUSED, closing(problem.into_response()));
        }
        if let Some(uri) = http_rules::without_trailing_slash(&parts.uri) {
            parts.uri = uri;
        }
        let body = match body::read_within(body, &self.body_limits).await {
            Ok(bytes) => body::Incoming::new(bytes),
            // What is left of the body is unread: the connection cannot carry another request.
            Err(problem) => return Routed::new(REFUSED, closing(problem.into_response())),
        };
        // HEAD is answered as GET; hyper, knowing the request was HEAD, sends the head
        // of the answer (Content-Length included) and leaves out its body.
        if parts.method == Method::HEAD {
            parts.method = Method::GET;
        }
        if parts.method == Method::OPTIONS {
            return self.options(&parts);
        }
        if parts.uri.path().starts_with("/q/") {
            let Some(_slot) = InFlight::take(&self.q_in_flight, self.max_in_flight_q) else {
                return overloaded();
            };
            return self.kit_route(&parts).await;
        }
        let Some(_slot) = InFlight::take(&self.in_flight, self.max_in_flight) else {
            return overloaded();
        };
        self.app
            .clone()
            .handle(Request::from_parts(parts, body))
            .await
    }

    /// Answers OPTIONS with the methods of the path, and a CORS preflight request with
    /// its `Access-Control-Allow-*` headers.
    fn options(&self, parts: &http::request::Parts) -> Routed {
        let path = parts.uri.path();
        let methods = if KIT_PATHS.contains(&path) {
            Some("GET")
        } else {
            self.app.allow(path)
        };
        let Some(methods) = methods else {
            return Routed::new(UNMATCHED, Problem::unknown_path().into_response());
        };
        let allow = http_rules::allow_header(methods);
        let mut response = response::empty(StatusCode::NO_CONTENT);
        let preflight = parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if let (true, Some(origin)) = (preflight, parts.headers.get(header::ORIGIN)) {
            self.cors
                .preflight(origin, allow.clone(), response.headers_mut());
        }
        response.headers_mut().insert(header::ALLOW, allow);
        Routed::new(OPTIONS, response)
    }

    async fn kit_route(&self, parts: &http::request::Parts) -> Routed {
        let Some(route) = KIT_PATHS.into_iter().find(|&p| p == parts.uri.path()) else {
            return Routed::new(UNMATCHED, Problem::unknown_path().into_response());
        };
        if parts.method != Method::GET {
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
            // Liveness has no checks of its own: all checks are the readiness checks.
            READY | HEALTH => self.readiness().await,
            STARTED => response::bytes(
                StatusCode::OK,
                response::JSON,
                Bytes::from_static(STARTED_BODY.as_bytes()),
            ),
            METRICS => {
                let mut out = String::with_capacity(8 * 1024);
                self.metrics.render(&mut out);
                Family::new(
                    &mut out,
                    "http_connections_open",
                    "gauge",
                    "Client connections open.",
                )
                .sample(
                    &format!("service=\"{}\"", self.app.name()),
                    self.connections.len(),
                );
                self.app.render_metrics(&mut out);
                response::bytes(
                    StatusCode::OK,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    out,
                )
            }
            _ if http_rules::wants_json(parts) => response::bytes(
                StatusCode::OK,
                response::JSON,
                Bytes::from_static(self.app.openapi_json().as_bytes()),
            ),
            _ => response::bytes(
                StatusCode::OK,
                HeaderValue::from_static("application/yaml;charset=UTF-8"),
                Bytes::from_static(self.app.openapi().as_bytes()),
            ),
        };
        Routed::new(route, response)
    }

    async fn readiness(&self) -> Response {
        let checks = self
            .readiness
            .get(|| async {
                tokio::time::timeout(READY_TIMEOUT, self.app.ready())
                    .await
                    .unwrap_or_else(|_| {
                        let waited = format!("no answer within {READY_TIMEOUT:?}");
                        vec![Check::down("dependencies", "timed out", waited)]
                    })
            })
            .await;
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

/// A response body that marks its connection idle again once it has been written
/// (hyper drops the body then), so that only idle connections are closed to make room.
pub struct Written {
    body: response::Body,
    _busy: Busy,
}

impl hyper::body::Body for Written {
    type Data = Bytes;
    type Error = <response::Body as hyper::body::Body>::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The answer to a client past the connection bound, as bytes on the wire.
fn refusal() -> Bytes {
    let problem = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Too many connections, try again shortly",
    );
    let body = crate::json::to_bytes(&problem.body(), 128);
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    Bytes::from(out)
}

/// Resolves once `flag` is `true`.
async fn signalled(flag: &mut watch::Receiver<bool>) {
    // An error means the server is gone, which cannot happen while a connection holds it.
    let _ = flag.wait_for(|set| *set).await;
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

/// Serves `app` on `listener` until `shutdown` completes, then drains: stops accepting,
/// lets every request already received finish and be answered, answers one arriving
/// meanwhile on an open connection too, each with `Connection: close`, then closes the
/// idle connections. Returns once every connection task has ended, so that the caller
/// closes its pools and the runtime with nothing left running; past `shutdown_timeout`
/// the connections still open are cut.
pub async fn serve<A: App>(
    listener: TcpListener,
    app: Arc<A>,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let server = Server::new(app, config);
    // Every connection task: the drain waits for them all, and can cut them at the deadline.
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);

    // The loop never waits for room: a client past every bound is answered 503 at
    // once instead of waiting unanswered in the listen backlog.
    loop {
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
            Some(ended) = tasks.join_next(), if !tasks.is_empty() => {
                report(ended);
                continue;
            }
            () = &mut shutdown => break,
        };
        spawn_connection(&server, &mut tasks, stream);
    }

    // Handshakes the kernel completed before the signal belong to clients that may
    // already have sent a request: they are served like the others, not reset.
    while let Some(Ok((stream, _))) = std::future::poll_fn(|cx| {
        Poll::Ready(match listener.poll_accept(cx) {
            Poll::Ready(accepted) => Some(accepted),
            Poll::Pending => None,
        })
    })
    .await
    {
        spawn_connection(&server, &mut tasks, stream);
    }
    drop(listener);
    server.draining.store(true, Ordering::Relaxed);
    log::info!(
        "shutting down: {} connections open, {} with a request in progress",
        server.connections.len(),
        server.connections.busy()
    );
    drain(&server, &mut tasks, config.shutdown_timeout).await;
}

fn spawn_connection<A: App>(server: &Arc<Server<A>>, tasks: &mut JoinSet<()>, stream: TcpStream) {
    // Responses are written in one piece; waiting for more to coalesce only adds latency.
    let _ = stream.set_nodelay(true);
    tasks.spawn(server.connection(stream));
}

/// Waits for every connection task to end; once no request is in progress and
/// [`IDLE_LINGER`] has passed, closes the idle connections. At `timeout` cuts what is
/// left.
async fn drain<A: App>(server: &Server<A>, tasks: &mut JoinSet<()>, timeout: Duration) {
    let linger_end = Instant::now() + IDLE_LINGER.min(timeout);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut poll = tokio::time::interval(DRAIN_POLL);
    let mut idle_open = true;
    loop {
        tokio::select! {
            ended = tasks.join_next() => match ended {
                Some(ended) => report(ended),
                None => break,
            },
            _ = poll.tick(), if idle_open => {
                if Instant::now() >= linger_end && server.connections.busy() == 0 {
                    server.close_idle.send_replace(true);
                    idle_open = false;
                }
            }
            () = &mut deadline => {
                let (open, busy) = (tasks.len(), server.connections.busy());
                log::warn!(
                    "shutdown deadline of {timeout:?} passed: cutting {open} connections, \
                     {busy} with a request in progress"
                );
                tasks.shutdown().await;
                return;
            }
        }
    }
    log::info!("drained: every request answered, all connections closed");
}

/// Logs a connection task that did not end normally.
fn report(ended: Result<(), tokio::task::JoinError>) {
    if let Err(err) = ended {
        log::error!("connection task failed: {err}");
    }
}
