//! The request path with telemetry off and on: off starts no span at all; on, a
//! request gets a server span continuing the client's trace, and its database call a
//! child span.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use http::{request::Parts, Method, StatusCode};
use opentelemetry::trace::TraceContextExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::span::spans_started;
use crate::{
    body::Incoming, config::Env, response, server::Server, App, Check, Problem, Response,
    ServerConfig,
};

/// A client's trace: the server span must continue it.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `/db` makes a database span and answers the trace id its handler runs in.
struct Traced;

impl App for Traced {
    type Endpoint<'a> = ();
    type Error = Problem;

    fn name(&self) -> &'static str {
        "telemetry-test"
    }
    fn routes(&self) -> &[&'static str] {
        &["GET /db"]
    }
    fn openapi(&self) -> &'static str {
        ""
    }
    fn openapi_json(&self) -> &'static str {
        ""
    }
    fn route(&self, _method: &Method, path: &str) -> Result<(), Problem> {
        match path {
            "/db" => Ok(()),
            _ => Err(Problem::unknown_path()),
        }
    }
    fn label(&self, _endpoint: &()) -> &'static str {
        "GET /db"
    }
    async fn dispatch<'a>(
        self: &'a Arc<Self>,
        _endpoint: (),
        _request: &'a Parts,
        _body: Incoming,
    ) -> Result<Response, Problem> {
        let span = super::db_span("postgresql", "find");
        let trace = opentelemetry::Context::map_current(|cx| {
            cx.span().span_context().trace_id().to_string()
        });
        drop(span);
        Ok(response::bytes(StatusCode::OK, response::TEXT, trace))
    }
    async fn ready(&self) -> Vec<Check> {
        Vec::new()
    }
    fn render_metrics(&self, _out: &mut String) {}
}

/// One `GET /db` through a server configured by `pairs`: the answer's body.
async fn get_db(pairs: &[(&str, &str)]) -> String {
    let config = ServerConfig::from_env(&Env::from_pairs(pairs.iter().copied()), 0).unwrap();
    let server = Server::new(Arc::new(Traced), &config);
    let (mut client, served) = tokio::io::duplex(64 * 1024);
    let connection = tokio::spawn(server.connection(served));
    let request = format!(
        "GET /db HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         traceparent: 00-{TRACE_ID}-00f067aa0ba902b7-01\r\n\r\n"
    );
    client.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).await.unwrap();
    connection.await.unwrap();
    if let Some(telemetry) = server.telemetry() {
        telemetry.clone().shutdown().await;
    }
    answer.rsplit("\r\n\r\n").next().unwrap().to_owned()
}

#[tokio::test]
async fn off_starts_no_span() {
    let before = spans_started();

    let body = get_db(&[]).await;

    assert_eq!(spans_started(), before);
    assert_eq!(body, "00000000000000000000000000000000");
}

#[tokio::test]
async fn on_continues_the_clients_trace_into_the_database_call() {
    let before = spans_started();

    // Nothing listens on port 9: the export fails in the background, the request not.
    let body = get_db(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")]).await;

    assert_eq!(spans_started() - before, 2);
    assert_eq!(body, TRACE_ID);
}
