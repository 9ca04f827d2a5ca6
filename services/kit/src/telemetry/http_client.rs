//! The HTTP client the OTLP exporters send with: hyper-util's pooled client on the
//! service's own runtime.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use opentelemetry_http::{HttpClient, HttpError};
use tokio::runtime::Handle;

/// The largest receiver answer read: an OTLP answer is a short status message.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Sends OTLP requests over hyper. The SDK exports from threads of its own with a
/// blocking executor that has no Tokio reactor, so every request runs as a task on the
/// service's runtime and the exporter thread only waits for its result.
#[derive(Debug, Clone)]
pub(crate) struct HyperClient {
    client: Client<HttpConnector, Full<Bytes>>,
    runtime: Handle,
    timeout: Duration,
}

impl HyperClient {
    pub(crate) fn new(runtime: Handle, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(2)
            .build(connector);
        Self {
            client,
            runtime,
            timeout,
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for HyperClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let timeout = self.timeout;
        let exchange = async move {
            let (head, body) = request.into_parts();
            let answer = client
                .request(Request::from_parts(head, Full::new(body)))
                .await?;
            let (head, body) = answer.into_parts();
            let body = Limited::new(body, MAX_ANSWER_BYTES).collect().await?;
            Ok::<_, HttpError>(Response::from_parts(head, body.to_bytes()))
        };
        let task = self
            .runtime
            .spawn(async move { tokio::time::timeout(timeout, exchange).await });
        match task.await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err("OTLP export timed out".into()),
            Err(err) => Err(Box::new(err)),
        }
    }
}
