//! Calls to heroes, villains and locations: one keep-alive HTTP/1 client per service,
//! a timeout per attempt, retries for connection errors and 5xx, a circuit breaker, and
//! the counters behind the downstream metrics.

use std::{
    fmt::Write,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Mutex,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::{TokioExecutor, TokioTimer},
};
use serde::de::DeserializeOwned;

use crate::{
    circuit::{Admission, Circuit, State},
    config::DownstreamConfig,
};

/// Largest downstream body read; a fighter or location is a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// How one downstream call ended, the `outcome` label of the call counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    NotFound,
    ServerError,
    ClientError,
    Timeout,
    ConnectError,
    Invalid,
    CircuitOpen,
}

impl Outcome {
    const ALL: [Outcome; 8] = [
        Outcome::Ok,
        Outcome::NotFound,
        Outcome::ServerError,
        Outcome::ClientError,
        Outcome::Timeout,
        Outcome::ConnectError,
        Outcome::Invalid,
        Outcome::CircuitOpen,
    ];

    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::ServerError => "server_error",
            Outcome::ClientError => "client_error",
            Outcome::Timeout => "timeout",
            Outcome::ConnectError => "error",
            Outcome::Invalid => "invalid_body",
            Outcome::CircuitOpen => "circuit_open",
        }
    }

    /// Whether the downstream itself is in trouble, which is what the circuit counts. A
    /// 404 (an empty table) or a body we cannot read is an answer, not an outage.
    fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::ServerError | Outcome::Timeout | Outcome::ConnectError
        )
    }
}

/// One of the services the fights service calls.
pub struct Downstream {
    /// The `downstream` label of its metrics.
    name: &'static str,
    random: Uri,
    hello: Uri,
    client: Client<HttpConnector, Empty<Bytes>>,
    config: DownstreamConfig,
    circuit: Mutex<Circuit>,
    calls: [AtomicU64; Outcome::ALL.len()],
    fallbacks: AtomicU64,
    transitions: AtomicU64,
}

impl Downstream {
    /// `base` is `http://host:port`; `random` and `hello` are the paths called.
    pub fn new(
        name: &'static str,
        base: &str,
        random: &str,
        hello: &str,
        config: &DownstreamConfig,
    ) -> Result<Self, http::uri::InvalidUri> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.timeout));
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle)
            .pool_max_idle_per_host(config.pool_max_idle)
            .build(connector);
        Ok(Self {
            name,
            random: format!("{base}{random}").parse()?,
            hello: format!("{base}{hello}").parse()?,
            client,
            config: config.clone(),
            circuit: Mutex::new(Circuit::new(Instant::now())),
            calls: Default::default(),
            fallbacks: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
        })
    }

    /// A random entity parsed as `T`, or `fallback()` when the downstream cannot give one.
    pub async fn random<T: DeserializeOwned>(&self, fallback: fn() -> T) -> T {
        let parsed = self
            .call(&self.random, |body| {
                let mut bytes = body.to_vec();
                simd_json::serde::from_slice::<T>(&mut bytes).ok()
            })
            .await;
        parsed.unwrap_or_else(|| {
            self.fallbacks.fetch_add(1, Relaxed);
            fallback()
        })
    }

    /// The downstream's hello text, or `None` when it cannot be had.
    pub async fn hello(&self) -> Option<Bytes> {
        self.call(&self.hello, Some).await
    }

    /// Opens a few keep-alive connections ahead of the first requests. Best effort: the
    /// answers are ignored and neither the circuit nor the metrics see these calls.
    pub async fn warm(&self, connections: usize) {
        let attempts = (0..connections).map(|_| async {
            if let Ok(req) = Request::get(self.hello.clone()).body(Empty::new()) {
                if let Ok(Ok(resp)) =
                    tokio::time::timeout(self.config.timeout, self.client.request(req)).await
                {
                    let _ = resp.into_body().collect().await;
                }
            }
        });
        futures_util::future::join_all(attempts).await;
    }

    /// GETs `uri` through the circuit with retries and reads the body with `parse`;
    /// `None` means "use the fallback" and has already been counted.
    async fn call<T>(&self, uri: &Uri, parse: impl FnOnce(Bytes) -> Option<T>) -> Option<T> {
        let admission = {
            let mut circuit = self.lock();
            let before = circuit.state();
            let admission = circuit.admit(Instant::now());
            if circuit.state() != before {
                self.transitioned(circuit.state());
            }
            admission
        };
        if admission == Admission::Rejected {
            self.count(Outcome::CircuitOpen);
            return None;
        }
        let (outcome, body) = self.attempts(uri).await;
        let changed = self
            .lock()
            .record(admission, !outcome.is_failure(), Instant::now());
        if let Some(state) = changed {
            self.transitioned(state);
        }
        let parsed = body.and_then(parse);
        self.count(match outcome {
            Outcome::Ok if parsed.is_none() => Outcome::Invalid,
            outcome => outcome,
        });
        parsed
    }

    /// The first attempt and up to `retries` more, `retry_delay` apart, for connection
    /// errors and 5xx. A timeout is not retried: the caller has waited long enough.
    async fn attempts(&self, uri: &Uri) -> (Outcome, Option<Bytes>) {
        let mut attempt = 0;
        loop {
            let (outcome, body) = self.attempt(uri).await;
            let retry = matches!(outcome, Outcome::ServerError | Outcome::ConnectError);
            if !retry || attempt >= self.config.retries {
                return (outcome, body);
            }
            attempt += 1;
            tokio::time::sleep(self.config.retry_delay).await;
        }
    }

    async fn attempt(&self, uri: &Uri) -> (Outcome, Option<Bytes>) {
        let Ok(req) = Request::get(uri.clone()).body(Empty::new()) else {
            return (Outcome::ClientError, None);
        };
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|err| {
                log::debug!("{}: {err}", self.name);
                Outcome::ConnectError
            })?;
            let status = resp.status();
            let body = http_body_util::Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|_| Outcome::ConnectError)?
                .to_bytes();
            Ok::<_, Outcome>((status, body))
        };
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Err(_) => (Outcome::Timeout, None),
            Ok(Err(outcome)) => (outcome, None),
            Ok(Ok((status, body))) if status.is_success() => (Outcome::Ok, Some(body)),
            Ok(Ok((StatusCode::NOT_FOUND, _))) => (Outcome::NotFound, None),
            Ok(Ok((status, _))) if status.is_server_error() => (Outcome::ServerError, None),
            Ok(Ok(_)) => (Outcome::ClientError, None),
        }
    }

    fn transitioned(&self, state: State) {
        self.transitions.fetch_add(1, Relaxed);
        log::warn!("{} circuit is now {state:?}", self.name);
    }

    fn count(&self, outcome: Outcome) {
        if let Some(slot) = Outcome::ALL.iter().position(|&o| o == outcome) {
            self.calls[slot].fetch_add(1, Relaxed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Circuit> {
        // The circuit is plain data updated in a few instructions; a poisoned lock still
        // holds a consistent state.
        self.circuit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn state(&self) -> State {
        self.lock().state()
    }
}

/// Appends the downstream metrics of `services` in Prometheus text format.
pub fn render_metrics(services: &[&Downstream], out: &mut String) {
    out.push_str(
        "# HELP fights_downstream_calls_total Downstream calls, by downstream and outcome.\n",
    );
    out.push_str("# TYPE fights_downstream_calls_total counter\n");
    for d in services {
        for (outcome, count) in Outcome::ALL.iter().zip(&d.calls) {
            let _ = writeln!(
                out,
                "fights_downstream_calls_total{{downstream=\"{}\",outcome=\"{}\"}} {}",
                d.name,
                outcome.label(),
                count.load(Relaxed)
            );
        }
    }
    out.push_str("# HELP fights_downstream_fallbacks_total Fallback values served instead of a downstream answer.\n");
    out.push_str("# TYPE fights_downstream_fallbacks_total counter\n");
    for d in services {
        let _ = writeln!(
            out,
            "fights_downstream_fallbacks_total{{downstream=\"{}\"}} {}",
            d.name,
            d.fallbacks.load(Relaxed)
        );
    }
    out.push_str(
        "# HELP fights_circuit_state Circuit breaker state: 0 closed, 1 open, 2 half-open.\n",
    );
    out.push_str("# TYPE fights_circuit_state gauge\n");
    for d in services {
        let _ = writeln!(
            out,
            "fights_circuit_state{{downstream=\"{}\"}} {}",
            d.name,
            d.state() as u8
        );
    }
    out.push_str("# HELP fights_circuit_transitions_total Circuit breaker state changes.\n");
    out.push_str("# TYPE fights_circuit_transitions_total counter\n");
    for d in services {
        let _ = writeln!(
            out,
            "fights_circuit_transitions_total{{downstream=\"{}\"}} {}",
            d.name,
            d.transitions.load(Relaxed)
        );
    }
}
