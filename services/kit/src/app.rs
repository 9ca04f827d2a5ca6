//! The service contract: what a service tells the kit (its routes, handlers, readiness
//! and metrics) and the one way every request outside `/q/` is routed, authorised,
//! dispatched and answered.

use std::{future::Future, sync::Arc};

use http::{request::Parts, Method, Request};
use serde::Serialize;

use crate::{body::Incoming, labels::UNMATCHED, Problem, Response};

/// A service served by the kit. The service routes and handles; the kit does the rest
/// (bounds, `/q/*`, metrics, CORS, OPTIONS, shutdown), the same way for every service.
pub trait App: Send + Sync + 'static {
    /// One endpoint of the service, its path parameters still text borrowed from the
    /// request path: a malformed parameter is the handler's 400, counted under the
    /// endpoint.
    type Endpoint<'a>: Send;

    /// The service's one error type; every error a handler returns becomes its answer.
    type Error: Into<Response> + Send;

    /// Service name, the `service` label of every metric.
    fn name(&self) -> &'static str;

    /// Every route label `label` returns, so that the metrics list each from the start.
    fn routes(&self) -> &[&'static str];

    /// The OpenAPI document served at `/q/openapi`, kept in the repo and served as is.
    fn openapi(&self) -> &'static str;

    /// The same document in JSON, served at `/q/openapi?format=json` or to a client that
    /// accepts `application/json`: a rendition of the YAML committed beside it.
    fn openapi_json(&self) -> &'static str;

    /// The endpoint `method` and `path` name, or the 404 (unknown path) or 405 (known
    /// path, other methods, with `Allow`) to answer.
    fn route<'a>(&self, method: &Method, path: &'a str) -> Result<Self::Endpoint<'a>, Problem>;

    /// The endpoint's operation as the OpenAPI document names it (`GET /api/heroes/{id}`),
    /// the `route` label of the request metrics.
    fn label(&self, endpoint: &Self::Endpoint<'_>) -> &'static str;

    /// Whether the request may run at all; a refused one is answered 401.
    fn permits(&self, _request: &Parts) -> bool {
        true
    }

    /// Runs one endpoint, the request body already read within its bounds.
    fn dispatch<'a>(
        self: &'a Arc<Self>,
        endpoint: Self::Endpoint<'a>,
        request: &'a Parts,
        body: Incoming,
    ) -> impl Future<Output = Result<Response, Self::Error>> + Send + 'a;

    /// Checks the service's dependencies for `/q/health/ready`.
    fn ready(&self) -> impl Future<Output = Vec<Check>> + Send;

    /// Appends service-specific metrics (pool usage, downstream calls) to `/q/metrics`.
    fn render_metrics(&self, out: &mut String);
}

/// What a request outside `/q/` is answered, and the route label it is counted under in
/// `/q/metrics`.
pub struct Routed {
    pub route: &'static str,
    pub response: Response,
}

impl Routed {
    pub fn new(route: &'static str, response: Response) -> Self {
        Self { route, response }
    }
}

/// Answers one request outside `/q/`: routed, authorised, dispatched. Never fails: an
/// error becomes its problem answer.
pub(crate) async fn handle<A: App>(app: Arc<A>, req: Request<Incoming>) -> Routed {
    let (parts, body) = req.into_parts();
    let endpoint = match app.route(&parts.method, parts.uri.path()) {
        Ok(endpoint) => endpoint,
        Err(problem) => return Routed::new(UNMATCHED, problem.into_response()),
    };
    let label = app.label(&endpoint);
    if !app.permits(&parts) {
        return Routed::new(label, crate::admin::unauthorized());
    }
    let answer = app.dispatch(endpoint, &parts, body).await;
    Routed::new(label, answer.unwrap_or_else(Into::into))
}

/// The methods `path` accepts (`"GET, POST"`), as its 405 answers list them, or `None`
/// for a path the service does not serve. No service routes OPTIONS itself, so asking
/// for it yields the 405 that carries the list.
pub(crate) fn allow<A: App>(app: &A, path: &str) -> Option<&'static str> {
    app.route(&Method::OPTIONS, path).err()?.allow
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

    pub(crate) fn is_up(&self) -> bool {
        self.status == "UP"
    }
}
