//! Spreading the calls to one downstream over every address its host name has.
//!
//! A keep-alive connection to a Kubernetes ClusterIP Service stays on the one pod it was
//! opened to, so replicas added later never see traffic from a warm pool. When the
//! downstream URL names a host (rather than an IP), its addresses are looked up every
//! [`RESOLVE_EVERY`] and each request goes, round-robin, to one of them: the request URI
//! carries `ip:port` (so the connections are kept per address) and the `Host` header
//! keeps the configured name. Pointed at a headless Service this spreads calls over every
//! ready pod. A failed or empty lookup keeps the last good list; with one address, or an
//! IP in the URL, requests go to the configured URL exactly as before.
//!
//! An address that cannot be connected to is dropped from the list at once and the host
//! looked up again, so that a replica that went away (a rolling update, a lost node)
//! stops taking calls before the next periodic lookup; a lookup that still names it
//! brings it back.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed},
        Arc, PoisonError, RwLock, Weak,
    },
    time::Duration,
};

use http::{HeaderValue, Uri};
use tokio::task::JoinHandle;

/// How often the addresses of a downstream host are looked up again.
const RESOLVE_EVERY: Duration = Duration::from_secs(5);

type Lookup = dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>
    + Send
    + Sync;

/// How downstream host names become addresses: the system resolver in production, a
/// fixed table where a test needs one name with several addresses (loopback has the
/// whole 127.0.0.0/8) the way a headless Service has one per pod.
#[derive(Clone)]
pub struct Resolver(Arc<Lookup>);

impl Resolver {
    /// `tokio::net::lookup_host`, which asks the system resolver.
    pub fn system() -> Self {
        Self::from_fn(|host, port| async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    }

    /// Answers the host names of `table` with its addresses and every other name with
    /// the system resolver.
    pub fn fixed<'a>(table: impl IntoIterator<Item = (&'a str, Vec<IpAddr>)>) -> Self {
        let table: Arc<HashMap<String, Vec<IpAddr>>> = Arc::new(
            table
                .into_iter()
                .map(|(host, ips)| (host.to_ascii_lowercase(), ips))
                .collect(),
        );
        let system = Self::system();
        Self::from_fn(move |host, port| {
            let fixed = table.get(&host.to_ascii_lowercase()).map(|ips| {
                ips.iter()
                    .map(|&ip| SocketAddr::new(ip, port))
                    .collect::<Vec<_>>()
            });
            let system = system.clone();
            async move {
                match fixed {
                    Some(addrs) => Ok(addrs),
                    None => system.lookup(host, port).await,
                }
            }
        })
    }

    /// Any lookup function.
    pub fn from_fn<F, Fut>(lookup: F) -> Self
    where
        F: Fn(String, u16) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'static,
    {
        Self(Arc::new(move |host, port| Box::pin(lookup(host, port))))
    }

    async fn lookup(&self, host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        (self.0)(host, port).await
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// Which of the two downstream requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Random,
    Hello,
}

/// The two requests made to one address.
#[derive(Clone)]
struct Target {
    random: Uri,
    hello: Uri,
}

/// The addresses of a downstream host and the round-robin position among them.
pub struct Balancer {
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
    resolver: Resolver,
    /// Set while a lookup asked for by [`Balancer::forget`] runs, so that many failed
    /// calls at once start one lookup.
    relooking: AtomicBool,
}

impl Balancer {
    /// A balancer for `base` (`http://host:port`), or `None` when its host is an IP.
    pub fn new(base: &Uri, random: &str, hello: &str, resolver: Resolver) -> Option<Self> {
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
            resolver,
            relooking: AtomicBool::new(false),
        })
    }

    /// Looks the host up once and installs the answer unless the lookup failed, found
    /// nothing or found what is already installed.
    pub async fn refresh(&self) {
        let mut addrs = match self.resolver.lookup(self.host.clone(), self.port).await {
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

    /// Drops `authority` (`ip:port`) from the addresses calls go to, unless it is the
    /// last one, and starts one lookup of the host. Calls spread over the remaining
    /// addresses even if only one is left, so that none goes back to a name the system
    /// resolver may still answer with the dropped address.
    pub fn forget(self: &Arc<Self>, authority: &str) {
        let Ok(gone) = authority.parse::<SocketAddr>() else {
            return;
        };
        {
            let mut addrs = write(&self.addrs);
            let Some(at) = addrs.iter().position(|&addr| addr == gone) else {
                return;
            };
            if addrs.len() < 2 {
                return;
            }
            let mut kept = addrs.to_vec();
            kept.remove(at);
            let mut targets = write(&self.targets);
            let mut kept_targets: Vec<Target> = targets.iter().cloned().collect();
            kept_targets.remove(at);
            *targets = Arc::from(kept_targets);
            *addrs = Arc::from(kept);
        }
        log::warn!(
            "{}: {gone} does not connect; calls go to the other addresses",
            self.host
        );
        if self.relooking.swap(true, Relaxed) {
            return;
        }
        let balancer = self.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                balancer.refresh().await;
                balancer.relooking.store(false, Relaxed);
            });
        } else {
            self.relooking.store(false, Relaxed);
        }
    }

    /// The next address's URI for `route` and the `Host` header to send with it, or
    /// `None` to use the configured URL.
    pub fn pick(&self, route: Route) -> Option<(Uri, HeaderValue)> {
        if !self.spread.load(Relaxed) {
            return None;
        }
        let targets = read(&self.targets);
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

/// Looks `balancer`'s host up every [`RESOLVE_EVERY`] for as long as the balancer
/// exists; `None` outside a Tokio runtime.
pub fn keep_resolving(balancer: &Arc<Balancer>) -> Option<JoinHandle<()>> {
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
}

fn read<T: ?Sized>(lock: &RwLock<Arc<T>>) -> Arc<T> {
    lock.read().unwrap_or_else(PoisonError::into_inner).clone()
}

fn write<T: ?Sized>(lock: &RwLock<Arc<T>>) -> std::sync::RwLockWriteGuard<'_, Arc<T>> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A resolver answering whatever `answers` holds at the time of the lookup.
    fn scripted(answers: Arc<Mutex<io::Result<Vec<SocketAddr>>>>) -> Resolver {
        Resolver::from_fn(move |_, _| {
            let answer = match &*answers.lock().unwrap_or_else(PoisonError::into_inner) {
                Ok(addrs) => Ok(addrs.clone()),
                Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
            };
            async move { answer }
        })
    }

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, last], 8001))
    }

    fn balancer(answers: &Arc<Mutex<io::Result<Vec<SocketAddr>>>>) -> Option<Balancer> {
        let base: Uri = "http://heroes:8001".parse().ok()?;
        Balancer::new(
            &base,
            "/api/heroes/random_hero",
            "/api/heroes/hello",
            scripted(answers.clone()),
        )
    }

    fn hosts(balancer: &Balancer, route: Route, n: usize) -> Vec<Option<String>> {
        (0..n)
            .map(|_| balancer.pick(route).map(|(uri, _)| uri.to_string()))
            .collect()
    }

    #[test]
    fn an_ip_in_the_url_needs_no_balancer() {
        let answers = Arc::new(Mutex::new(Ok(vec![addr(1)])));
        for base in ["http://127.0.0.1:8001", "http://[::1]:8001"] {
            let base: Uri = base.parse().unwrap_or_default();
            let made = Balancer::new(&base, "/r", "/h", scripted(answers.clone()));
            assert!(made.is_none(), "{base}");
        }
    }

    #[tokio::test]
    async fn several_addresses_are_taken_in_turn_with_the_configured_host() {
        let answers = Arc::new(Mutex::new(Ok(vec![addr(2), addr(1), addr(2)])));
        let Some(balancer) = balancer(&answers) else {
            panic!("a host name gets a balancer");
        };
        assert_eq!(balancer.pick(Route::Random), None, "nothing looked up yet");
        balancer.refresh().await;
        assert_eq!(
            hosts(&balancer, Route::Random, 3),
            [
                Some("http://127.0.0.1:8001/api/heroes/random_hero".to_owned()),
                Some("http://127.0.0.2:8001/api/heroes/random_hero".to_owned()),
                Some("http://127.0.0.1:8001/api/heroes/random_hero".to_owned()),
            ]
        );
        let host = balancer
            .pick(Route::Hello)
            .map(|(uri, host)| (uri.path().to_owned(), host));
        assert_eq!(
            host,
            Some((
                "/api/heroes/hello".to_owned(),
                HeaderValue::from_static("heroes:8001")
            ))
        );
    }

    #[tokio::test]
    async fn one_address_uses_the_configured_url() {
        let answers = Arc::new(Mutex::new(Ok(vec![addr(1)])));
        let Some(balancer) = balancer(&answers) else {
            panic!("a host name gets a balancer");
        };
        balancer.refresh().await;
        assert_eq!(balancer.pick(Route::Random), None);
    }

    #[tokio::test]
    async fn failed_or_empty_lookups_keep_the_last_addresses() {
        let answers = Arc::new(Mutex::new(Ok(vec![addr(1), addr(2)])));
        let Some(balancer) = balancer(&answers) else {
            panic!("a host name gets a balancer");
        };
        balancer.refresh().await;
        *answers.lock().unwrap_or_else(PoisonError::into_inner) = Ok(Vec::new());
        balancer.refresh().await;
        *answers.lock().unwrap_or_else(PoisonError::into_inner) =
            Err(io::Error::other("no resolver"));
        balancer.refresh().await;
        assert!(hosts(&balancer, Route::Random, 2)
            .iter()
            .all(Option::is_some));
        *answers.lock().unwrap_or_else(PoisonError::into_inner) = Ok(vec![addr(3)]);
        balancer.refresh().await;
        assert_eq!(balancer.pick(Route::Random), None, "down to one address");
    }

    #[tokio::test]
    async fn a_fixed_table_answers_its_names_only() {
        let ip = IpAddr::from([127, 0, 0, 9]);
        let resolver = Resolver::fixed([("Heroes.Test", vec![ip])]);
        let found = resolver.lookup("heroes.test".to_owned(), 80).await.ok();
        assert_eq!(found, Some(vec![SocketAddr::new(ip, 80)]));
        let found = resolver.lookup("localhost".to_owned(), 80).await;
        assert!(found.is_ok_and(|addrs| !addrs.is_empty()));
    }

    #[tokio::test]
    async fn an_address_that_does_not_connect_is_dropped_until_a_lookup_names_it() {
        let answers = Arc::new(Mutex::new(Ok(vec![addr(1), addr(2), addr(3)])));
        let Some(balancer) = balancer(&answers).map(Arc::new) else {
            panic!("a host name gets a balancer");
        };
        balancer.refresh().await;
        *answers.lock().unwrap_or_else(PoisonError::into_inner) = Ok(vec![addr(1), addr(3)]);

        balancer.forget("127.0.0.2:8001");

        let picked = hosts(&balancer, Route::Hello, 4);
        assert!(
            picked
                .iter()
                .all(|uri| uri.as_deref().is_some_and(|uri| !uri.contains("127.0.0.2"))),
            "{picked:?}"
        );
        balancer.forget("127.0.0.1:8001");
        balancer.forget("127.0.0.3:8001");
        assert!(
            balancer.pick(Route::Hello).is_some(),
            "the last address is kept"
        );
        for _ in 0..100 {
            if !balancer.relooking.load(Relaxed) {
                break;
            }
            tokio::task::yield_now().await;
        }
        balancer.refresh().await;
        assert_eq!(*read(&balancer.addrs), [addr(1), addr(3)]);
    }
}
