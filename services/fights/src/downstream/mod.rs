//! Calls to heroes, villains and locations: the call policy (a timeout per attempt,
//! retries for connection errors and 5xx, a circuit breaker per downstream, the fallback
//! when all of that gives nothing) and the counters behind the downstream metrics.
//! Where a call goes is [`balance`]'s business, how it travels [`connections`]'.

mod balance;
mod circuit;
mod connections;
pub mod fallback;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{header::HOST, Request, StatusCode, Uri};
use http_body_util::Empty;
use kit::metrics::Family;
use serde::de::DeserializeOwned;

pub use balance::Resolver;
use balance::{Balancer, Route};
use circuit::{Admission, Circuit, State};
use connections::{Connections, ExchangeError};

/// Largest downstream body read: four times the largest row a catalogue stores, so that
/// every row can be read, and a larger answer is refused without holding it whole.
const MAX_BODY: usize = 4 * kit::field_rules::ROW_MAX_BYTES;

/// Timeouts and retries shared by the three downstream clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownstreamConfig {
    /// Bound on each attempt of a call; a call with retries can take up to
    /// `(retries + 1) * timeout + retries * retry_delay`.
    pub timeout: Duration,
    /// Further attempts after a connection error or a 5xx (a timeout is not retried).
    pub retries: u32,
    /// Pause between attempts.
    pub retry_delay: Duration,
    /// Bound on opening a connection; past it the attempt is a connection error.
    pub connect_timeout: Duration,
    /// How long an unused keep-alive connection stays in the pool.
    pub pool_idle: Duration,
    /// Idle connections kept per downstream host.
    pub pool_max_idle: usize,
}

/// How one downstream call ended, the `outcome` label of the call counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallOutcome {
    Ok,
    NotFound,
    ServerError,
    ClientError,
    Timeout,
    ConnectError,
    Invalid,
    /// A body over [`MAX_BODY`]: an answer the downstream gave, not an outage, and the
    /// same answer again on a retry.
    TooLarge,
    CircuitOpen,
}

impl CallOutcome {
    const ALL: [CallOutcome; 9] = [
        CallOutcome::Ok,
        CallOutcome::NotFound,
        CallOutcome::ServerError,
        CallOutcome::ClientError,
        CallOutcome::Timeout,
        CallOutcome::ConnectError,
        CallOutcome::Invalid,
        CallOutcome::TooLarge,
        CallOutcome::CircuitOpen,
    ];

    fn label(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::NotFound => "not_found",
            CallOutcome::ServerError => "server_error",
            CallOutcome::ClientError => "client_error",
            CallOutcome::Timeout => "timeout",
            CallOutcome::ConnectError => "error",
            CallOutcome::Invalid => "invalid_body",
            CallOutcome::TooLarge => "too_large",
            CallOutcome::CircuitOpen => "circuit_open",
        }
    }

    /// Whether the downstream itself is in trouble, which is what the circuit counts. A
    /// 404 (an empty table) or a body we cannot read or that is too large is an answer,
    /// not an outage.
    fn is_failure(self) -> bool {
        matches!(
            self,
            CallOutcome::ServerError | CallOutcome::Timeout | CallOutcome::ConnectError
        )
    }
}

/// One of the services the fights service calls.
pub struct Downstream {
    /// The `downstream` label of its metrics.
    name: &'static str,
    random: Uri,
    hello: Uri,
    /// Spreads requests over the host's addresses; `None` for an IP in the URL.
    balancer: Option<Arc<Balancer>>,
    /// Looks the host up again periodically; aborted on drop.
    refresher: Option<tokio::task::JoinHandle<()>>,
    connections: Connections,
    config: DownstreamConfig,
    circuit: Mutex<Circuit>,
    calls: [AtomicU64; CallOutcome::ALL.len()],
    fallbacks: AtomicU64,
    transitions: AtomicU64,
    /// Attempts made after a failed one, `retry_delay` later.
    retries: AtomicU64,
}

impl Downstream {
    /// `base` is `http://host:port`; `random` and `hello` are the paths called; a host
    /// name in `base` is looked up with `resolver`, and looked up again periodically when
    /// called within a Tokio runtime.
    pub fn new(
        name: &'static str,
        base: &str,
        random: &str,
        hello: &str,
        config: &DownstreamConfig,
        resolver: Resolver,
    ) -> Result<Self, http::uri::InvalidUri> {
        let base_uri: Uri = base.parse()?;
        let balancer = Balancer::new(&base_uri, random, hello, resolver).map(Arc::new);
        let refresher = balancer.as_ref().and_then(balance::keep_resolving);
        let connections = Connections::new(
            config.pool_max_idle,
            config.pool_idle,
            config.connect_timeout,
        );
        Ok(Self {
            name,
            random: format!("{base}{random}").parse()?,
            hello: format!("{base}{hello}").parse()?,
            balancer,
            refresher,
            connections,
            config: config.clone(),
            circuit: Mutex::new(Circuit::new(Instant::now())),
            calls: Default::default(),
            fallbacks: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// A random entity parsed as `T`, or `fallback()` when the downstream cannot give one.
    pub async fn random<T: DeserializeOwned>(&self, fallback: fn() -> T) -> T {
        let parsed = self
            .call(Route::Random, |body| {
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
        self.call(Route::Hello, Some).await
    }

    /// Opens a few keep-alive connections ahead of the first requests. Best effort: the
    /// answers are ignored and neither the circuit nor the metrics see these calls.
    /// With several addresses the connections are spread over them, and the addresses
    /// are looked up first.
    pub async fn warm(&self, connections: usize) {
        if let Some(balancer) = &self.balancer {
            balancer.refresh().await;
        }
        let attempts = (0..connections).map(|_| async {
            if let Ok(req) = self.request(Route::Hello) {
                let exchange = self.connections.exchange(req, MAX_BODY);
                let _ = tokio::time::timeout(self.config.timeout, exchange).await;
            }
        });
        futures_util::future::join_all(attempts).await;
    }

    /// GETs `uri` through the circuit with retries and reads the body with `parse`;
    /// `None` means "use the fallback" and has already been counted.
    async fn call<T>(&self, route: Route, parse: impl FnOnce(Bytes) -> Option<T>) -> Option<T> {
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
            self.count(CallOutcome::CircuitOpen);
            return None;
        }
        let (outcome, body) = self.attempts(route).await;
        let changed = self
            .lock()
            .record(admission, !outcome.is_failure(), Instant::now());
        if let Some(state) = changed {
            self.transitioned(state);
        }
        let parsed = body.and_then(parse);
        self.count(match outcome {
            CallOutcome::Ok if parsed.is_none() => CallOutcome::Invalid,
            outcome => outcome,
        });
        parsed
    }

    /// The first attempt and up to `retries` more, `retry_delay` apart, for connection
    /// errors and 5xx. A timeout is not retried: the caller has waited long enough. Each
    /// attempt takes the next address, so a retry avoids the one that just failed.
    async fn attempts(&self, route: Route) -> (CallOutcome, Option<Bytes>) {
        let mut attempt = 0;
        loop {
            let (outcome, body) = self.attempt(route).await;
            let retry = matches!(
                outcome,
                CallOutcome::ServerError | CallOutcome::ConnectError
            );
            if !retry || attempt >= self.config.retries {
                return (outcome, body);
            }
            attempt += 1;
            self.retries.fetch_add(1, Relaxed);
            tokio::time::sleep(self.config.retry_delay).await;
        }
    }

    /// The GET for `route`: to the next address of the host when it has several, else
    /// to the configured URL.
    fn request(&self, route: Route) -> http::Result<Request<Empty<Bytes>>> {
        if let Some((uri, host)) = self.balancer.as_ref().and_then(|b| b.pick(route)) {
            return Request::get(uri).header(HOST, host).body(Empty::new());
        }
        let uri = match route {
            Route::Random => &self.random,
            Route::Hello => &self.hello,
        };
        Request::get(uri.clone()).body(Empty::new())
    }

    /// One GET, traced as a client span carrying `traceparent` when the fight being
    /// answered is traced.
    async fn attempt(&self, route: Route) -> (CallOutcome, Option<Bytes>) {
        let Ok(mut req) = self.request(route) else {
            return (CallOutcome::ClientError, None);
        };
        let span = kit::telemetry::client_span("GET", self.name);
        if let Some(span) = &span {
            span.inject(req.headers_mut());
        }
        // Only a spread call names an address the balancer may have to forget.
        let spread_to = self.balancer.as_ref().map(|_| req.uri().clone());
        let exchange = async {
            self.connections
                .exchange(req, MAX_BODY)
                .await
                .map_err(|err| {
                    log::debug!("{}: {err:?}", self.name);
                    match err {
                        ExchangeError::TooLarge => CallOutcome::TooLarge,
                        ExchangeError::Connect => CallOutcome::ConnectError,
                    }
                })
        };
        let exchanged = tokio::time::timeout(self.config.timeout, exchange).await;
        if let Some(span) = &span {
            match &exchanged {
                Ok(Ok((status, _))) => span.status(status.as_u16()),
                Ok(Err(_)) => span.fail("connect"),
                Err(_) => span.fail("timeout"),
            }
        }
        if matches!(exchanged, Ok(Err(CallOutcome::ConnectError))) {
            let authority = spread_to.as_ref().and_then(Uri::authority);
            if let (Some(balancer), Some(authority)) = (&self.balancer, authority) {
                balancer.forget(authority.as_str());
            }
        }
        match exchanged {
            Err(_) => (CallOutcome::Timeout, None),
            Ok(Err(outcome)) => (outcome, None),
            Ok(Ok((status, body))) if status.is_success() => (CallOutcome::Ok, Some(body)),
            Ok(Ok((StatusCode::NOT_FOUND, _))) => (CallOutcome::NotFound, None),
            Ok(Ok((status, _))) if status.is_server_error() => (CallOutcome::ServerError, None),
            Ok(Ok(_)) => (CallOutcome::ClientError, None),
        }
    }

    fn transitioned(&self, state: State) {
        self.transitions.fetch_add(1, Relaxed);
        log::warn!("{} circuit is now {state:?}", self.name);
    }

    fn count(&self, outcome: CallOutcome) {
        if let Some(slot) = CallOutcome::ALL.iter().position(|&o| o == outcome) {
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

impl Drop for Downstream {
    fn drop(&mut self) {
        if let Some(refresher) = &self.refresher {
            refresher.abort();
        }
    }
}

/// Appends the downstream metrics of `services` in Prometheus text format.
pub fn render_metrics(services: &[&Downstream], out: &mut String) {
    let mut calls = Family::new(
        out,
        "fights_downstream_calls_total",
        "counter",
        "Downstream calls, by downstream and outcome.",
    );
    for d in services {
        for (outcome, count) in CallOutcome::ALL.iter().zip(&d.calls) {
            calls.sample(
                &format!("downstream=\"{}\",outcome=\"{}\"", d.name, outcome.label()),
                count.load(Relaxed),
            );
        }
    }
    let mut retries = Family::new(
        out,
        "fights_downstream_retries_total",
        "counter",
        "Requests sent again: after a failed attempt and the retry pause (after_failure), or \
         at once on a new connection when a kept one closed under the request (reconnect).",
    );
    for d in services {
        let kinds = [
            ("after_failure", d.retries.load(Relaxed)),
            ("reconnect", d.connections.reconnects()),
        ];
        for (kind, count) in kinds {
            retries.sample(&format!("downstream=\"{}\",kind=\"{kind}\"", d.name), count);
        }
    }
    type Value = fn(&Downstream) -> u64;
    let per_downstream: [(&str, &str, &str, Value); 3] = [
        (
            "fights_downstream_fallbacks_total",
            "counter",
            "Fallback values served instead of a downstream answer.",
            |d| d.fallbacks.load(Relaxed),
        ),
        (
            "fights_circuit_state",
            "gauge",
            "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
            |d| d.state() as u64,
        ),
        (
            "fights_circuit_transitions_total",
            "counter",
            "Circuit breaker state changes.",
            |d| d.transitions.load(Relaxed),
        ),
    ];
    for (name, kind, help, value) in per_downstream {
        let mut family = Family::new(out, name, kind, help);
        for d in services {
            family.sample(&format!("downstream=\"{}\"", d.name), value(d));
        }
    }
}
