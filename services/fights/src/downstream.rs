//! Calls to heroes, villains and locations: one keep-alive HTTP/1 client per service,
//! a timeout per attempt, retries for connection errors and 5xx, a circuit breaker, and
//! the counters behind the downstream metrics.
//!
//! Balancing: a keep-alive connection to a Kubernetes ClusterIP Service stays on the one
//! pod it was opened to, so replicas added later never see traffic from a warm pool. When
//! the downstream URL names a host (rather than an IP), its addresses are looked up every
//! [`RESOLVE_EVERY`] and each request goes, round-robin, to one of them: the request URI
//! carries `ip:port` (so the client pools keep-alive connections per address) and the
//! `Host` header keeps the configured name. Pointed at a headless Service this spreads
//! calls over every ready pod. A failed or empty lookup keeps the last good list; with
//! one address, or an IP in the URL, requests go to the configured URL exactly as before.

use std::{
    collections::HashMap,
    fmt::Write,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed},
        Arc, Mutex, OnceLock, RwLock, Weak,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{header::HOST, HeaderValue, Request, StatusCode, Uri};
use http_body_util::Empty;
use serde::de::DeserializeOwned;

use crate::{
    circuit::{Admission, Circuit, State},
    config::{Config, DownstreamConfig},
    connections::Connections,
};

/// Largest downstream body read; a fighter or location is a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// How often the addresses of a downstream host are looked up again.
const RESOLVE_EVERY: Duration = Duration::from_secs(5);

/// Looks up the addresses of `host:port`.
pub(crate) type Resolve = Arc<
    dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The system resolver (`tokio::net::lookup_host`), after the fixed answers registered
/// with [`Config::resolve_host_as`].
fn system_resolver() -> Resolve {
    Arc::new(|host, port| {
        Box::pin(async move {
            if let Some(addrs) = fixed_answer(&host, port) {
                return Ok(addrs);
            }
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    })
}

/// Host names answered without asking the system resolver; see [`Config::resolve_host_as`].
fn fixed_answers() -> &'static Mutex<HashMap<String, Vec<IpAddr>>> {
    static ANSWERS: OnceLock<Mutex<HashMap<String, Vec<IpAddr>>>> = OnceLock::new();
    ANSWERS.get_or_init(Default::default)
}

fn fixed_answer(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    let answers = fixed_answers()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ips = answers.get(&host.to_ascii_lowercase())?;
    Some(ips.iter().map(|&ip| SocketAddr::new(ip, port)).collect())
}

impl Config {
    /// Makes every fights service of this process resolve downstream host `host` to
    /// `ips` instead of asking the system resolver. A test hook: it lets an in-process
    /// test give a downstream name several addresses (loopback has the whole
    /// 127.0.0.0/8) the way a headless Service in Kubernetes does. Use a host name no
    /// other test uses; production code never calls it.
    #[doc(hidden)]
    pub fn resolve_host_as(host: &str, ips: &[IpAddr]) {
        fixed_answers()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(host.to_ascii_lowercase(), ips.to_vec());
    }
}

/// The two requests made to one address.
struct Target {
    random: Uri,
    hello: Uri,
}

/// The addresses of a downstream host and the round-robin position among them.
struct Balancer {
    host: String,
    port: u16,
    /// The configured host, sent as the `Host` header when the URI carries an address.
    host_header: HeaderValue,
    random_path: String,
    hello_path: String,
    /// Whether `targets` holds two or more addresses; while false the configured URL is
    /// used and the hot path reads nothing else.
    spread: AtomicBool,
    /// The last good lookup, in a stable order.
    addrs: RwLock<Arc<[SocketAddr]>>,
    targets: RwLock<Arc<[Target]>>,
    next: AtomicUsize,
    resolve: Resolve,
}

impl Balancer {
    /// A balancer for `base` (`http://host:port`), or `None` when its host is an IP.
    fn new(base: &Uri, random: &str, hello: &str, resolve: Resolve) -> Option<Self> {
        let authority = base.authority()?;
        let host = authority.host();
        if host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
        {
            return None;
        }
        Some(Self {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            host_header: HeaderValue::from_str(authority.as_str()).ok()?,
            random_path: random.to_owned(),
            hello_path: hello.to_owned(),
            spread: AtomicBool::new(false),
            addrs: RwLock::new(Arc::from(Vec::new())),
            targets: RwLock::new(Arc::from(Vec::new())),
            next: AtomicUsize::new(0),
            resolve,
        })
    }

    /// Looks the host up once and installs the answer unless the lookup failed, found
    /// nothing or found what is already installed.
    async fn refresh(&self) {
        let mut addrs = match (self.resolve)(self.host.clone(), self.port).await {
            Ok(addrs) if !addrs.is_empty() => addrs,
            Ok(_) => {
                log::warn!("{}: no addresses; keeping the last ones", self.host);
                return;
            }
            Err(err) => {
                log::warn!(
                    "{}: lookup failed ({err}); keeping the last addresses",
                    self.host
                );
                return;
            }
        };
        addrs.sort_unstable();
        addrs.dedup();
        if *read(&self.addrs) == addrs[..] {
            return;
        }
        let targets: Option<Vec<Target>> = addrs
            .iter()
            .map(|addr| {
                Some(Target {
                    random: format!("http://{addr}{}", self.random_path).parse().ok()?,
                    hello: format!("http://{addr}{}", self.hello_path).parse().ok()?,
                })
            })
            .collect();
        let Some(targets) = targets else { return };
        log::info!("{}: {} address(es) {addrs:?}", self.host, addrs.len());
        let spread = targets.len() > 1;
        *write(&self.targets) = Arc::from(targets);
        *write(&self.addrs) = Arc::from(addrs);
        self.spread.store(spread, Relaxed);
    }

    /// The next address's URI for `route` and the `Host` header to send with it, or
    /// `None` to use the configured URL.
    fn pick(&self, route: Route) -> Option<(Uri, HeaderValue)> {
        if !self.spread.load(Relaxed) {
            return None;
        }
        let targets = read(&self.targets).clone();
        if targets.is_empty() {
            return None;
        }
        let target = &targets[self.next.fetch_add(1, Relaxed) % targets.len()];
        let uri = match route {
            Route::Random => target.random.clone(),
            Route::Hello => target.hello.clone(),
        };
        Some((uri, self.host_header.clone()))
    }
}

fn read<T: ?Sized>(lock: &RwLock<Arc<T>>) -> Arc<T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

fn write<T: ?Sized>(lock: &RwLock<Arc<T>>) -> std::sync::RwLockWriteGuard<'_, Arc<T>> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Which of the two downstream requests.
#[derive(Debug, Clone, Copy)]
enum Route {
    Random,
    Hello,
}

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
    /// Spreads requests over the host's addresses; `None` for an IP in the URL.
    balancer: Option<Arc<Balancer>>,
    /// Re-resolves the host every [`RESOLVE_EVERY`]; aborted on drop.
    refresher: Option<tokio::task::JoinHandle<()>>,
    connections: Connections,
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
        Self::with_resolver(name, base, random, hello, config, system_resolver())
    }

    /// [`Downstream::new`] with the host's addresses looked up by `resolve`. Must be
    /// called within a Tokio runtime for the addresses to be refreshed.
    pub(crate) fn with_resolver(
        name: &'static str,
        base: &str,
        random: &str,
        hello: &str,
        config: &DownstreamConfig,
        resolve: Resolve,
    ) -> Result<Self, http::uri::InvalidUri> {
        let base_uri: Uri = base.parse()?;
        let balancer = Balancer::new(&base_uri, random, hello, resolve).map(Arc::new);
        let refresher = balancer.as_ref().and_then(|balancer| {
            let handle = tokio::runtime::Handle::try_current().ok()?;
            let weak: Weak<Balancer> = Arc::downgrade(balancer);
            Some(handle.spawn(async move {
                let mut every = tokio::time::interval(RESOLVE_EVERY);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    let Some(balancer) = weak.upgrade() else {
                        return;
                    };
                    balancer.refresh().await;
                }
            }))
        });
        let connections = Connections::new(config.pool_max_idle, config.pool_idle);
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
            self.count(Outcome::CircuitOpen);
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
            Outcome::Ok if parsed.is_none() => Outcome::Invalid,
            outcome => outcome,
        });
        parsed
    }

    /// The first attempt and up to `retries` more, `retry_delay` apart, for connection
    /// errors and 5xx. A timeout is not retried: the caller has waited long enough. Each
    /// attempt takes the next address, so a retry avoids the one that just failed.
    async fn attempts(&self, route: Route) -> (Outcome, Option<Bytes>) {
        let mut attempt = 0;
        loop {
            let (outcome, body) = self.attempt(route).await;
            let retry = matches!(outcome, Outcome::ServerError | Outcome::ConnectError);
            if !retry || attempt >= self.config.retries {
                return (outcome, body);
            }
            attempt += 1;
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

    async fn attempt(&self, route: Route) -> (Outcome, Option<Bytes>) {
        let Ok(req) = self.request(route) else {
            return (Outcome::ClientError, None);
        };
        let exchange = async {
            self.connections
                .exchange(req, MAX_BODY)
                .await
                .map_err(|err| {
                    log::debug!("{}: {err:?}", self.name);
                    Outcome::ConnectError
                })
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

impl Drop for Downstream {
    fn drop(&mut self) {
        if let Some(refresher) = &self.refresher {
            refresher.abort();
        }
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
    per_downstream(
        out,
        services,
        "fights_downstream_fallbacks_total",
        "counter",
        "Fallback values served instead of a downstream answer.",
        |d| d.fallbacks.load(Relaxed),
    );
    per_downstream(
        out,
        services,
        "fights_circuit_state",
        "gauge",
        "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
        |d| d.state() as u64,
    );
    per_downstream(
        out,
        services,
        "fights_circuit_transitions_total",
        "counter",
        "Circuit breaker state changes.",
        |d| d.transitions.load(Relaxed),
    );
}

/// One metric family with a sample per downstream.
fn per_downstream(
    out: &mut String,
    services: &[&Downstream],
    name: &str,
    kind: &str,
    help: &str,
    value: impl Fn(&Downstream) -> u64,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for d in services {
        let _ = writeln!(out, "{name}{{downstream=\"{}\"}} {}", d.name, value(d));
    }
}
