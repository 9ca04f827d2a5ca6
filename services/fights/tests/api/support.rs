//! Test fixtures: the fights service spawned against a throwaway MongoDB database, and
//! fake heroes, villains and locations services.
//!
//! The fakes stand in for the real catalog and locations services on purpose: the tests
//! need faults the real services cannot be made to produce on demand (answers slower than
//! the timeout, 5xx, 404 for a random pick, a given number of failures before recovery).
//! Each fake serves fixed JSON for its random endpoint and a fixed hello text.

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering::SeqCst},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use kit::config::Env;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use test_support::{ChildService, Client, Spawned};
use tokio::{net::TcpListener, task::JoinHandle};

pub const HERO: &str = r#"{"id":1,"name":"Luke Skywalker","otherName":"Luke","level":10,"picture":"https://example.com/luke.png","powers":"Uses light sabre, The force"}"#;
pub const VILLAIN: &str = r#"{"id":2,"name":"Darth Vader","otherName":"Anakin","level":600000001,"picture":"https://example.com/vader.png","powers":"The dark side"}"#;
pub const LOCATION: &str = r#"{"id":3,"name":"Gotham City","description":"A dark city","picture":"https://example.com/gotham.png","type":"CITY"}"#;

/// Which downstream a fake plays.
#[derive(Clone, Copy)]
pub enum Kind {
    Heroes,
    Villains,
    Locations,
}

impl Kind {
    fn random_path(self) -> &'static str {
        match self {
            Kind::Heroes => "/api/heroes/random_hero",
            Kind::Villains => "/api/villains/random_villain",
            Kind::Locations => "/api/locations/random_location",
        }
    }

    fn hello_path(self) -> &'static str {
        match self {
            Kind::Heroes => "/api/heroes/hello",
            Kind::Villains => "/api/villains/hello",
            Kind::Locations => "/api/locations/hello",
        }
    }

    fn body(self) -> &'static str {
        match self {
            Kind::Heroes => HERO,
            Kind::Villains => VILLAIN,
            Kind::Locations => LOCATION,
        }
    }

    fn hello(self) -> &'static str {
        match self {
            Kind::Heroes => "Hello Hero Resource",
            Kind::Villains => "Hello Villain Resource",
            Kind::Locations => "Hello Location Resource",
        }
    }
}

/// How a fake currently misbehaves.
#[derive(Default)]
struct Faults {
    /// When non-zero, every answer has this status and an empty body.
    status: AtomicU16,
    /// This many next requests get a 500 before answers are normal again.
    fail_next: AtomicU32,
    /// Delay before every answer.
    delay_ms: AtomicU64,
    /// When set, the random entity is a hero far larger than any catalogue row.
    oversized: AtomicBool,
    /// Requests received.
    hits: AtomicU64,
    /// Requests received for the random entity.
    random_hits: AtomicU64,
}

/// A fake downstream service on a loopback port.
pub struct Fake {
    pub url: String,
    faults: Arc<Faults>,
    task: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub async fn start(kind: Kind) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let faults = Arc::new(Faults::default());
        let state = faults.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(kind, &state, req.uri().path()).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, faults, task }
    }

    /// Every answer from now on has `status` (0 restores normal answers).
    pub fn answer_with(&self, status: u16) {
        self.faults.status.store(status, SeqCst);
    }

    /// The next `n` requests get a 500.
    pub fn fail_next(&self, n: u32) {
        self.faults.fail_next.store(n, SeqCst);
    }

    /// From now on the random entity is a valid hero of 100 KiB.
    pub fn answer_oversized(&self) {
        self.faults.oversized.store(true, SeqCst);
    }

    pub fn delay(&self, delay: Duration) {
        self.faults.delay_ms.store(delay.as_millis() as u64, SeqCst);
    }

    pub fn hits(&self) -> u64 {
        self.faults.hits.load(SeqCst)
    }

    /// Requests received for the random entity (the warm-up calls hello).
    pub fn random_hits(&self) -> u64 {
        self.faults.random_hits.load(SeqCst)
    }
}

async fn answer(kind: Kind, faults: &Faults, path: &str) -> Response<Full<Bytes>> {
    faults.hits.fetch_add(1, SeqCst);
    if path == kind.random_path() {
        faults.random_hits.fetch_add(1, SeqCst);
    }
    let delay = faults.delay_ms.load(SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = faults.status.load(SeqCst);
    let failing = faults
        .fail_next
        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let (status, body, content_type) = if failing {
        (500, Bytes::new(), "text/plain")
    } else if status != 0 {
        (status, Bytes::new(), "text/plain")
    } else if path == kind.random_path() && faults.oversized.load(SeqCst) {
        let hero = format!(
            r#"{{"name":"Big Hero","level":1,"picture":"p.png","powers":"{}"}}"#,
            "p".repeat(100 * 1024)
        );
        (200, Bytes::from(hero), "application/json")
    } else if path == kind.random_path() {
        (
            200,
            Bytes::from_static(kind.body().as_bytes()),
            "application/json",
        )
    } else if path == kind.hello_path() {
        (
            200,
            Bytes::from_static(kind.hello().as_bytes()),
            "text/plain",
        )
    } else {
        (404, Bytes::new(), "text/plain")
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", content_type)
        .body(Full::new(body))
        .unwrap()
}

/// A TCP relay to a real server that can stop relaying or delay what reaches the server:
/// stands in for a MongoDB that took the connection and then went silent (hung, or cut
/// off by the network) or answers slowly, which the shared real server cannot be made to
/// do without breaking every other test.
pub struct Relay {
    pub url: String,
    frozen: Arc<AtomicBool>,
    request_delay_ms: Arc<AtomicU64>,
    /// Bytes relayed from the server to the client.
    replied: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Relays a port of its own to the host and port of `mongodb_url`.
    pub async fn to_mongodb(mongodb_url: &str) -> Self {
        let authority = mongodb_url
            .trim_start_matches("mongodb://")
            .split(['/', '?'])
            .next()
            .unwrap();
        let upstream = authority.rsplit('@').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "mongodb://{}/?directConnection=true",
            listener.local_addr().unwrap()
        );
        let frozen = Arc::new(AtomicBool::new(false));
        let request_delay_ms = Arc::new(AtomicU64::new(0));
        let replied = Arc::new(AtomicU64::new(0));
        let (flag, delay, count) = (frozen.clone(), request_delay_ms.clone(), replied.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let requests = Direction {
                    frozen: flag.clone(),
                    delay_ms: delay.clone(),
                    bytes: Arc::new(AtomicU64::new(0)),
                };
                let replies = Direction {
                    frozen: flag.clone(),
                    delay_ms: Arc::new(AtomicU64::new(0)),
                    bytes: count.clone(),
                };
                tokio::spawn(relay(client_read, server_write, requests));
                tokio::spawn(relay(server_read, client_write, replies));
            }
        });
        Self {
            url,
            frozen,
            request_delay_ms,
            replied,
            accept,
        }
    }

    /// From now on nothing more reaches either side; connections stay open.
    pub fn freeze(&self) {
        self.frozen.store(true, SeqCst);
    }

    /// Bytes the server sent through the relay so far.
    pub fn replied_bytes(&self) -> u64 {
        self.replied.load(SeqCst)
    }

    /// From now on every command reaches the server `delay` late.
    pub fn delay_requests(&self, delay: Duration) {
        self.request_delay_ms
            .store(delay.as_millis() as u64, SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// What a relay does to one direction of a connection.
struct Direction {
    frozen: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

/// Relays `from` to `to`: a reader hands each chunk over with the time it arrived, and
/// the writer sends it the configured delay after that, so that a command read in several
/// chunks is delayed once.
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx
                        .send((tokio::time::Instant::now(), buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    while let Some((arrived, chunk)) = rx.recv().await {
        let delay = Duration::from_millis(direction.delay_ms.load(SeqCst));
        tokio::time::sleep_until(arrived + delay).await;
        while direction.frozen.load(SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&chunk).await.is_err() {
            break;
        }
        direction.bytes.fetch_add(chunk.len() as u64, SeqCst);
    }
    reader.abort();
}

/// A URL where nothing listens: a downstream that is stopped.
pub async fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Where the fights service under test finds its downstreams.
pub struct Downstreams {
    pub heroes: String,
    pub villains: String,
    pub locations: String,
}

/// The three fakes, all answering normally.
pub struct Fakes {
    pub heroes: Fake,
    pub villains: Fake,
    pub locations: Fake,
}

impl Fakes {
    pub async fn start() -> Self {
        Self {
            heroes: Fake::start(Kind::Heroes).await,
            villains: Fake::start(Kind::Villains).await,
            locations: Fake::start(Kind::Locations).await,
        }
    }

    pub fn urls(&self) -> Downstreams {
        Downstreams {
            heroes: self.heroes.url.clone(),
            villains: self.villains.url.clone(),
            locations: self.locations.url.clone(),
        }
    }
}

/// The fights service under test and its own database, dropped at the end of the test.
pub struct App {
    pub service: Spawned,
    pub client: Client,
    _db: TestDb,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        self.service.url(path)
    }

    /// How many fights the service's collection holds, read around the service.
    pub async fn stored_fights(&self) -> u64 {
        mongo_client(&self._db.url)
            .await
            .database(&self._db.name)
            .collection::<Document>("Fights")
            .count_documents(doc! {})
            .await
            .unwrap()
    }

    /// The teams' totals in the statistics counters, read around the service.
    pub async fn counted_wins(&self) -> (i64, i64) {
        self._db.counted_wins().await
    }

    /// Stops the service (its shutdown drains and lets the writer finish) and keeps the
    /// database for reading what it left.
    pub async fn stop(self) -> Stopped {
        let stopped = self.service.stop().await;
        assert!(stopped.is_ok(), "the service stopped with an error");
        Stopped { db: self._db }
    }

    /// Writes `fights` straight into the service's collection, 500 to a command.
    pub async fn insert_fights(&self, fights: &[Document]) {
        let collection = mongo_client(&self._db.url)
            .await
            .database(&self._db.name)
            .collection::<Document>("Fights");
        for batch in fights.chunks(500) {
            collection.insert_many(batch).await.unwrap();
        }
    }
}

/// A fight as stored, won by the hero `winner` against a level-1 villain, for tests that
/// write the collection directly.
pub fn stored_fight(winner: String) -> Document {
    doc! {
        "_id": ObjectId::new(),
        "fightDate": DateTime::now(),
        "winnerName": winner,
        "winnerLevel": 10_i64,
        "winnerTeam": "heroes",
        "loserName": "Villain",
        "loserLevel": 1_i64,
        "loserTeam": "villains",
    }
}

/// Spawns fights against `downstreams` and a fresh database; `extra` overrides settings.
pub async fn spawn_with(downstreams: &Downstreams, extra: &[(&str, &str)]) -> App {
    spawn_resolving(downstreams, extra, fights::Resolver::system()).await
}

/// [`spawn_with`], with downstream host names looked up by `resolver`.
pub async fn spawn_resolving(
    downstreams: &Downstreams,
    extra: &[(&str, &str)],
    resolver: fights::Resolver,
) -> App {
    let (mongo_url, database) = test_support::db::mongodb();
    let db = TestDb::open(&mongo_url, &database).await;
    let mut pairs = vec![
        ("MONGODB_URL", mongo_url.as_str()),
        ("MONGODB_DATABASE", database.as_str()),
        ("HEROES_URL", downstreams.heroes.as_str()),
        ("VILLAINS_URL", downstreams.villains.as_str()),
        ("LOCATIONS_URL", downstreams.locations.as_str()),
        ("DOWNSTREAM_TIMEOUT_MS", "300"),
        ("DOWNSTREAM_RETRY_DELAY_MS", "20"),
        // Counted after every insert, so the statistics right after a POST are exact.
        ("FIGHTS_STATS_FLUSH_MS", "0"),
    ];
    pairs.extend_from_slice(extra);
    let mut config = fights::Config::from_env(&Env::from_pairs(pairs)).expect("valid test config");
    config.resolver = resolver;
    let service =
        test_support::spawn(move |listener, shutdown| fights::run(listener, config, shutdown))
            .await;
    App {
        service,
        client: Client::new(),
        _db: db,
    }
}

/// The fights binary run as a child process against `downstreams` and a fresh database:
/// for what only a process shows, such as what a stop signal does to it.
pub struct Process {
    pub service: ChildService,
    db: TestDb,
}

impl Process {
    pub async fn start(downstreams: &Downstreams, extra: &[(&str, &str)]) -> Self {
        let (mongo_url, database) = test_support::db::mongodb();
        let db = TestDb::open(&mongo_url, &database).await;
        let mut env = vec![
            ("MONGODB_URL", mongo_url.as_str()),
            ("MONGODB_DATABASE", database.as_str()),
            ("HEROES_URL", downstreams.heroes.as_str()),
            ("VILLAINS_URL", downstreams.villains.as_str()),
            ("LOCATIONS_URL", downstreams.locations.as_str()),
        ];
        env.extend_from_slice(extra);
        let service = ChildService::start(env!("CARGO_BIN_EXE_fights"), &env).await;
        Self { service, db }
    }

    /// Whether the fight `id` is in the collection.
    pub async fn stored(&self, id: &str) -> bool {
        let id = ObjectId::parse_str(id).unwrap_or_else(|err| panic!("{id}: {err}"));
        mongo_client(&self.db.url)
            .await
            .database(&self.db.name)
            .collection::<Document>("Fights")
            .find_one(doc! { "_id": id })
            .await
            .unwrap()
            .is_some()
    }
}

/// Spawns fights against fakes that answer normally.
pub async fn spawn(fakes: &Fakes) -> App {
    spawn_with(&fakes.urls(), &[]).await
}

/// A service stopped by [`App::stop`], with its database.
pub struct Stopped {
    db: TestDb,
}

impl Stopped {
    /// The teams' totals in the statistics counters.
    pub async fn counted_wins(&self) -> (i64, i64) {
        self.db.counted_wins().await
    }
}

/// A MongoDB database of one test, dropped on drop.
struct TestDb {
    url: String,
    name: String,
}

impl TestDb {
    async fn open(url: &str, name: &str) -> Self {
        let client = mongo_client(url).await;
        client
            .database("admin")
            .run_command(mongodb::bson::doc! { "ping": 1 })
            .await
            .unwrap_or_else(|err| {
                panic!("MongoDB at {url} is not reachable ({err}): start it with `database/setup.sh mongodb`")
            });
        Self {
            url: url.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The teams' totals in the statistics counters, (heroes, villains); zeros before the
    /// first count.
    async fn counted_wins(&self) -> (i64, i64) {
        let totals = mongo_client(&self.url)
            .await
            .database(&self.name)
            .collection::<Document>("FightStats")
            .find_one(doc! { "_id": "teams" })
            .await
            .unwrap();
        let wins = |team| {
            totals
                .as_ref()
                .and_then(|t| t.get(team))
                .and_then(|n| n.as_i64().or(n.as_i32().map(i64::from)))
                .unwrap_or(0)
        };
        (wins("heroes"), wins("villains"))
    }
}

async fn mongo_client(url: &str) -> mongodb::Client {
    let mut options = mongodb::options::ClientOptions::parse(url).await.unwrap();
    options.server_selection_timeout = Some(Duration::from_secs(3));
    mongodb::Client::with_options(options).unwrap()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let thread = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    let _ = mongo_client(&url).await.database(&name).drop().await;
                });
            }
        });
        let _ = thread.join();
    }
}

/// The value of the metric sample that starts with `prefix` (name and labels).
pub async fn metric(app: &App, sample: &str) -> Option<u64> {
    let reply = app.client.get(&app.url("/q/metrics")).await;
    reply
        .body
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}
