//! The kit's own endpoints under `/q/`, the same in every service: liveness, readiness
//! (with its checks shared between probes), start-up, Prometheus metrics and the
//! OpenAPI document.

use std::time::Duration;

use bytes::Bytes;
use http::{request::Parts, HeaderValue, Method, StatusCode};
use serde::Serialize;

use crate::{
    app::{App, Check, Routed},
    labels::{HEALTH, LIVE, METRICS, OPENAPI, READY, STARTED, UNMATCHED},
    metrics::Family,
    request_rules,
    response::{self, Response},
    server::Server,
    Problem,
};

/// The kit's own paths, all answering GET only.
pub const PATHS: [&str; 6] = [HEALTH, LIVE, READY, STARTED, METRICS, OPENAPI];

/// The answer of `/q/health/started` once the service serves: SmallRye's shape, no checks.
const STARTED_BODY: &str = r#"{"status":"UP","checks":[]}"#;

/// How long a readiness check may take before the service counts as not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a readiness result is reused: however many probes ask, the dependencies
/// are checked at most once per interval.
pub const READY_CACHE: Duration = Duration::from_secs(1);

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    checks: &'a [Check],
}

/// Answers a request under `/q/`.
pub async fn answer<A: App>(server: &Server<A>, parts: &Parts) -> Routed {
    let Some(route) = PATHS.into_iter().find(|&p| p == parts.uri.path()) else {
        return Routed::new(UNMATCHED, Problem::unknown_path().into_response());
    };
    if parts.method != Method::GET {
        return Routed::new(route, Problem::method_not_allowed("GET").into_response());
    }
    let app = server.app();
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
        READY | HEALTH => readiness(server).await,
        STARTED => response::bytes(
            StatusCode::OK,
            response::JSON,
            Bytes::from_static(STARTED_BODY.as_bytes()),
        ),
        METRICS => {
            let out = metrics_text(server);
            response::bytes(
                StatusCode::OK,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                out,
            )
        }
        _ if request_rules::wants_json(parts) => response::bytes(
            StatusCode::OK,
            response::JSON,
            Bytes::from_static(app.openapi_json().as_bytes()),
        ),
        _ => response::bytes(
            StatusCode::OK,
            HeaderValue::from_static("application/yaml;charset=UTF-8"),
            Bytes::from_static(app.openapi().as_bytes()),
        ),
    };
    Routed::new(route, response)
}

/// The `/q/metrics` text: the kit's request metrics and connections, then the service's.
pub(crate) fn metrics_text<A: App>(server: &Server<A>) -> String {
    let app = server.app();
    let mut out = String::with_capacity(8 * 1024);
    server.metrics().render(&mut out);
    Family::new(
        &mut out,
        "http_connections_open",
        "gauge",
        "Client connections open.",
    )
    .sample(
        &format!("service=\"{}\"", app.name()),
        server.connections().len(),
    );
    app.render_metrics(&mut out);
    out
}

/// The readiness answer: 200 when every check is up, else 503 naming the checks.
async fn readiness<A: App>(server: &Server<A>) -> Response {
    let checks = server
        .readiness()
        .get(|| async {
            tokio::time::timeout(READY_TIMEOUT, server.app().ready())
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
