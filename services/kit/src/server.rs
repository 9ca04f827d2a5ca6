//! One service's request handling, shared by all its connections: the in-flight bounds,
//! the request rules applied before routing, the split between the kit's `/q/*`
//! endpoints and the service, OPTIONS and CORS, metrics, the server span when telemetry
//! is on, and the HTTP/1 settings of each connection.

use std::{
    convert::Infallible,
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
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
use opentelemetry::context::FutureExt as _;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::watch,
};

use crate::{
    app::{self, App, Check, Routed},
    body::{self, BodyLimits},
    connections::{Admission, Busy, Connection, ConnectionLimits, Connections, Refusals},
    cors::Cors,
    health::Cached,
    hyper_answers::ProblemIo,
    labels::{OPTIONS, OVERLOADED, REFUSED, UNMATCHED},
    metrics::Metrics,
    q_endpoints, request_rules, response,
    server_config::ServerConfig,
    telemetry::Telemetry,
    Problem, Response,
};

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
    refusals: Refusals,
    /// Set once the stop signal came: from then on every answer carries
    /// `Connection: close`, so each connection ends after the request it is serving or
    /// the one next received.
    draining: AtomicBool,
    /// Set to `true` once the drain closes the connections that are idle: when no
    /// request is in progress any more and the drain's linger has passed.
    close_idle: watch::Sender<bool>,
    cors: Cors,
    http: http1::Builder,
    /// OpenTelemetry export, `None` when off: then a request takes one branch on this
    /// and nothing else, no span, context or allocation.
    telemetry: Option<Arc<Telemetry>>,
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

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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

impl<A: App> Server<A> {
    pub fn new(app: Arc<A>, config: &ServerConfig) -> Arc<Self> {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .keep_alive(true)
            .max_headers(64)
            .max_buf_size(16 * 1024);
        let telemetry = config.telemetry.as_ref().and_then(|telemetry| {
            Telemetry::start(telemetry, app.name())
                .inspect_err(|err| log::warn!("telemetry off: {err}"))
                .ok()
        });
        let server = Arc::new(Self {
            metrics: Metrics::new(app.name(), app.routes()),
            app,
            in_flight: AtomicUsize::new(0),
            max_in_flight: config.max_in_flight,
            q_in_flight: AtomicUsize::new(0),
            max_in_flight_q: config.max_in_flight_q,
            readiness: Cached::new(q_endpoints::READY_CACHE),
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
            refusals: Refusals::new(),
            draining: AtomicBool::new(false),
            close_idle: watch::Sender::new(false),
            cors: config.cors.clone(),
            http,
            telemetry,
        });
        if let Some(telemetry) = &server.telemetry {
            // Weak: the exporter must not keep the server alive.
            let weak = Arc::downgrade(&server);
            telemetry.observe(Arc::new(move || {
                weak.upgrade()
                    .map(|server| q_endpoints::metrics_text(&server))
            }));
        }
        server
    }

    pub(crate) fn app(&self) -> &A {
        &self.app
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub(crate) fn readiness(&self) -> &Cached<Vec<Check>> {
        &self.readiness
    }

    pub(crate) fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The running export, to be flushed once the service has drained.
    pub(crate) fn telemetry(&self) -> Option<&Arc<Telemetry>> {
        self.telemetry.as_ref()
    }

    /// From now on every answer closes its connection after it.
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Closes every connection that is idle now or becomes idle.
    pub(crate) fn close_idle(&self) {
        self.close_idle.send_replace(true);
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
                Admission::Full => {
                    server.metrics.record(OVERLOADED, 503, Duration::ZERO);
                    server.refusals.refuse(io).await;
                }
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
        } = match &self.telemetry {
            None => self.route(req).await,
            Some(telemetry) => {
                let span = telemetry.server_span(req.method(), req.headers());
                let routed = self.route(req).with_context(span.context()).await;
                span.finish(
                    routed.route,
                    routed.response.status().as_u16(),
                    start.elapsed(),
                );
                routed
            }
        };
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
        if let Err(problem) = request_rules::check_head(&parts, !body.is_end_stream()) {
            // Whatever body follows is left unread: the connection cannot go on.
            return Routed::new(REFUSED, closing(problem.into_response()));
        }
        if let Some(uri) = request_rules::without_trailing_slash(&parts.uri) {
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
            return q_endpoints::answer(self, &parts).await;
        }
        let Some(_slot) = InFlight::take(&self.in_flight, self.max_in_flight) else {
            return overloaded();
        };
        app::handle(self.app.clone(), Request::from_parts(parts, body)).await
    }

    /// Answers OPTIONS with the methods of the path, and a CORS preflight request with
    /// its `Access-Control-Allow-*` headers.
    fn options(&self, parts: &http::request::Parts) -> Routed {
        let path = parts.uri.path();
        let methods = if q_endpoints::PATHS.contains(&path) {
            Some("GET")
        } else {
            app::allow(&*self.app, path)
        };
        let Some(methods) = methods else {
            return Routed::new(UNMATCHED, Problem::unknown_path().into_response());
        };
        let allow = request_rules::allow_header(methods);
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
