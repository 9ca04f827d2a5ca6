//! The harness every test of this crate shares: the fights service spawned on a loopback
//! port (in process, or as a child process) against a throwaway MongoDB database.

use std::time::Duration;

use kit::config::Env;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use test_support::{ChildService, Client, Spawned};

use crate::fakes::{Downstreams, Fakes};

/// The fights service under test and its own database, dropped at the end of the test.
pub struct TestApp {
    pub server: Spawned,
    pub client: Client,
    pub db: TestDb,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// How many fights the service's collection holds, read around the service.
    pub async fn stored_fights(&self) -> u64 {
        mongo_client(&self.db.url)
            .await
            .database(&self.db.name)
            .collection::<Document>("Fights")
            .count_documents(doc! {})
            .await
            .unwrap()
    }

    /// The teams' totals in the statistics counters, read around the service.
    pub async fn counted_wins(&self) -> (i64, i64) {
        self.db.counted_wins().await
    }

    /// Stops the service (its shutdown drains and lets the writer finish) and keeps the
    /// database for reading what it left.
    pub async fn stop(self) -> Stopped {
        let stopped = self.server.stop().await;
        assert!(stopped.is_ok(), "the service stopped with an error");
        Stopped { db: self.db }
    }

    /// Writes `fights` straight into the service's collection, 500 to a command.
    pub async fn insert_fights(&self, fights: &[Document]) {
        let collection = mongo_client(&self.db.url)
            .await
            .database(&self.db.name)
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
pub async fn spawn_with(downstreams: &Downstreams, extra: &[(&str, &str)]) -> TestApp {
    spawn_resolving(downstreams, extra, fights::Resolver::system()).await
}

/// [`spawn_with`], with downstream host names looked up by `resolver`.
pub async fn spawn_resolving(
    downstreams: &Downstreams,
    extra: &[(&str, &str)],
    resolver: fights::Resolver,
) -> TestApp {
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
    let server =
        test_support::spawn(move |listener, shutdown| fights::run(listener, config, shutdown))
            .await;
    TestApp {
        server,
        client: Client::new(),
        db,
    }
}

/// The fights binary run as a child process against `downstreams` and a fresh database:
/// for what only a process shows, such as what a stop signal does to it.
pub struct Process {
    pub server: ChildService,
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
        let server = ChildService::start(env!("CARGO_BIN_EXE_fights"), &env).await;
        Self { server, db }
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
pub async fn spawn_app(fakes: &Fakes) -> TestApp {
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
pub struct TestDb {
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
pub async fn metric(app: &TestApp, sample: &str) -> Option<u64> {
    let reply = app.client.get(&app.url("/q/metrics")).await;
    reply
        .body
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}
