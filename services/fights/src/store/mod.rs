//! Every MongoDB access of the service: storing fights (through the group-commit
//! [`writer`] or one insert per request), reading them back as fights, the fight
//! [`stats`], and the ping of the readiness check.

mod listing;
mod stats;
mod writer;

use std::{
    future::Future,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{Stream, TryStreamExt};
use kit::{
    listings::Listings,
    metrics::{Family, Histogram, PoolGauges},
};
use mongodb::{
    bson::{doc, oid::ObjectId, Document},
    event::{cmap::CmapEvent, EventHandler},
    options::{ClientOptions, FindOptions},
    Client, Collection,
};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use crate::{
    config::{Config, InsertMode},
    error::Error,
    model::{Fight, FightDoc},
};
pub use stats::StatsQuery;
use writer::{write_batches, Claim, Pending};

/// The collection of the original system.
const COLLECTION: &str = "Fights";
/// Server selection bound when the URL sets none: a POST while MongoDB is down answers
/// 503 after this long instead of the driver's 30 s.
const SERVER_SELECTION: Duration = Duration::from_secs(2);
/// Bound on the readiness ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections of the MongoDB pool, kept from the driver's connection events because
/// the driver exposes no pool statistics of its own.
#[derive(Default)]
struct PoolUsage {
    open: AtomicI64,
    in_use: AtomicI64,
}

impl PoolUsage {
    fn observe(&self, event: &CmapEvent) {
        match event {
            CmapEvent::ConnectionCreated(_) => self.open.fetch_add(1, Relaxed),
            CmapEvent::ConnectionClosed(_) => self.open.fetch_sub(1, Relaxed),
            CmapEvent::ConnectionCheckedOut(_) => self.in_use.fetch_add(1, Relaxed),
            CmapEvent::ConnectionCheckedIn(_) => self.in_use.fetch_sub(1, Relaxed),
            _ => 0,
        };
    }
}

/// Every insert round trip to MongoDB, in either insert mode: how long MongoDB took to
/// acknowledge, how many round trips and how many fights they carried. The latency of
/// `POST /api/fights` is this plus the wait for the writer; the load harness reports both.
#[derive(Default)]
pub struct Inserts {
    latency: Histogram,
    fights: AtomicU64,
    /// Statistics counter updates that failed: their fights are missing from the stats.
    counter_failures: AtomicU64,
}

impl Inserts {
    /// Runs one insert of `fights` fights, timing it.
    async fn timed<T>(&self, fights: usize, insert: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let outcome = insert.await;
        self.latency.observe(started.elapsed());
        self.fights
            .fetch_add(u64::try_from(fights).unwrap_or(u64::MAX), Relaxed);
        outcome
    }

    fn render(&self, out: &mut String) {
        let mut latency = Family::new(
            out,
            "fights_mongodb_insert_duration_seconds",
            "histogram",
            "Time MongoDB took to acknowledge one insert round trip.",
        );
        self.latency.render(&mut latency, "");
        Family::new(
            out,
            "fights_mongodb_inserted_total",
            "counter",
            "Fights sent in insert round trips (divided by the histogram's count: the batch size).",
        )
        .sample("", self.fights.load(Relaxed));
        Family::new(
            out,
            "fights_stats_counter_failures_total",
            "counter",
            "Batches of stored fights whose statistics counter update failed.",
        )
        .sample("", self.counter_failures.load(Relaxed));
    }
}

/// The fights collection and the way inserts reach it.
pub struct Store {
    client: Client,
    fights: Collection<FightDoc>,
    /// Unpaged listings read through a client of their own, its pool as large as the
    /// number of listings allowed at once: a listing holds a connection for every
    /// batch it fetches, and inserts must never wait for one behind listings.
    listing_client: Client,
    listing: Collection<FightDoc>,
    /// Unpaged listings running; past the bound a listing answers 503 at once.
    listings: Listings,
    /// The page reads of the running listings, one at a time ([`listing::Turns`]).
    turns: Arc<listing::Turns>,
    writer: Option<mpsc::Sender<Pending>>,
    pool: Arc<PoolUsage>,
    pool_max: u32,
    timeout: Duration,
    inserts: Arc<Inserts>,
}

impl Store {
    /// Builds the client (connecting lazily, so a MongoDB that is down makes the service
    /// not ready rather than not start) and, in batch mode, the writer task.
    pub async fn connect(
        config: &Config,
    ) -> Result<(Self, Option<JoinHandle<()>>), mongodb::error::Error> {
        let mut options = ClientOptions::parse(&config.mongodb_url).await?;
        options.app_name.get_or_insert_with(|| "fights".to_owned());
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION);
        options.connect_timeout.get_or_insert(SERVER_SELECTION);
        let mut listing_options = options.clone();
        listing_options.max_pool_size = Some(config.max_listings);
        listing_options.min_pool_size = Some(0);
        let listing_client = Client::with_options(listing_options)?;
        let listing = listing_client
            .database(&config.mongodb_database)
            .collection::<FightDoc>(COLLECTION);
        options.max_pool_size = Some(config.mongodb_pool_max);
        let pool = Arc::new(PoolUsage::default());
        let observed = pool.clone();
        options.cmap_event_handler = Some(EventHandler::callback(move |event: CmapEvent| {
            observed.observe(&event)
        }));
        let client = Client::with_options(options)?;
        let fights = client
            .database(&config.mongodb_database)
            .collection::<FightDoc>(COLLECTION);
        let inserts = Arc::new(Inserts::default());
        let (writer, task) = match config.insert_mode {
            InsertMode::Single => (None, None),
            InsertMode::Batch => {
                let (tx, rx) = mpsc::channel(config.insert_queue);
                (
                    Some(tx),
                    Some(tokio::spawn(write_batches(
                        fights.clone(),
                        rx,
                        config.mongodb_timeout,
                        config.insert_linger,
                        config.stats_flush,
                        inserts.clone(),
                    ))),
                )
            }
        };
        let pool_max = config.mongodb_pool_max;
        Ok((
            Self {
                client,
                fights,
                listing_client,
                listing,
                listings: Listings::new(
                    config.max_listings as usize,
                    "Too many listings of all fights running, try again shortly or ask for a page",
                ),
                turns: Arc::new(listing::Turns::new()),
                writer,
                pool,
                pool_max,
                timeout: config.mongodb_timeout,
                inserts,
            },
            task,
        ))
    }

    /// Stores `doc`; returns once MongoDB acknowledged it, and answers an error only when
    /// the fight is not stored (see [`writer`]). A fight still queued when its request's
    /// MongoDB timeout is up is given up and never written; a fight already in an insert
    /// is waited for, the insert itself being bounded by the same timeout.
    pub async fn insert(&self, doc: FightDoc) -> Result<Fight, Error> {
        let _span = kit::telemetry::db_span("mongodb", "insert");
        let stored = match &self.writer {
            None => {
                writer::store(&self.fights, &[&doc], self.timeout, &self.inserts).await?;
                let mut tally = stats::Tally::default();
                tally.add(&doc);
                let command = tally.take_command(1);
                let database = self.client.database(self.fights.namespace().db.as_str());
                let failures = &self.inserts.counter_failures;
                stats::count(&database, command, self.timeout, failures).await;
                doc
            }
            Some(writer) => {
                let (done, mut outcome) = oneshot::channel();
                let claim = Arc::new(Claim::default());
                let pending = Pending {
                    doc,
                    claim: claim.clone(),
                    done,
                };
                writer.try_send(pending).map_err(|err| match err {
                    mpsc::error::TrySendError::Full(_) => Error::Overloaded,
                    mpsc::error::TrySendError::Closed(_) => Error::WriterStopped,
                })?;
                let answer = match tokio::time::timeout(self.timeout, &mut outcome).await {
                    Ok(answer) => answer,
                    Err(_) if claim.give_up() => return Err(Error::StoreTimeout(self.timeout)),
                    Err(_) => outcome.await,
                };
                answer.map_err(|_| Error::WriterStopped)??
            }
        };
        Ok(stored.into())
    }

    /// One fight, `None` when absent.
    pub async fn find(&self, id: ObjectId) -> Result<Option<Fight>, Error> {
        let _span = kit::telemetry::db_span("mongodb", "find");
        let found = self
            .bounded(self.fights.find_one(doc! { "_id": id }))
            .await?;
        Ok(found.map(Fight::from))
    }

    /// Every fight in `_id` order, read a page at a time as the stream is polled
    /// ([`listing`]), so a listing of any length is never held whole. At most the
    /// configured number run at once, each until its stream is dropped; past it a 503
    /// with `Retry-After`.
    pub async fn all(&self) -> Result<impl Stream<Item = Result<Fight, Error>>, Error> {
        let _span = kit::telemetry::db_span("mongodb", "all");
        let running = self.listings.start()?;
        let fights =
            listing::every_fight(self.listing.clone(), self.turns.clone(), self.timeout).await?;
        // The slot is the stream's: freed when the listing ends or breaks off.
        Ok(fights.inspect_ok(move |_| {
            let _ = &running;
        }))
    }

    /// Page `page` of `size` fights, newest first.
    pub async fn page(&self, page: u64, size: u64) -> Result<Vec<Fight>, Error> {
        let _span = kit::telemetry::db_span("mongodb", "page");
        // MongoDB counts skips in a signed 64-bit integer: a page beyond that is empty.
        let Some(skip) = page
            .checked_mul(size)
            .filter(|&skip| i64::try_from(skip).is_ok())
        else {
            return Ok(Vec::new());
        };
        let options = FindOptions::builder()
            .sort(doc! { "fightDate": -1, "_id": -1 })
            .skip(skip)
            .limit(i64::try_from(size).unwrap_or(i64::MAX))
            .build();
        self.bounded(async {
            self.fights
                .find(doc! {})
                .with_options(options)
                .await?
                .map_ok(Fight::from)
                .try_collect::<Vec<_>>()
                .await
        })
        .await
    }

    /// Waits for one MongoDB operation at most the configured timeout.
    async fn bounded<T, E>(
        &self,
        operation: impl std::future::IntoFuture<Output = Result<T, E>>,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        bounded(self.timeout, operation).await
    }

    /// The statistics query, to run apart from the store's own requests.
    pub fn stats_query(&self) -> StatsQuery {
        StatsQuery::new(self.counters(), self.timeout)
    }

    /// The statistics counters, in the fights' database.
    fn counters(&self) -> Collection<Document> {
        self.client
            .database(self.fights.namespace().db.as_str())
            .collection(stats::COUNTERS)
    }

    /// Creates the index of the statistics counters unless it exists (`createIndexes` of
    /// an existing index changes nothing).
    pub async fn create_stats_index(&self) -> Result<(), Error> {
        self.bounded(self.counters().create_index(stats::counters_index()))
            .await
            .map(drop)
    }

    /// Whether MongoDB answers a ping within two seconds.
    pub async fn ping(&self) -> Result<(), String> {
        let admin = self.client.database("admin");
        let ping = admin.run_command(doc! { "ping": 1 });
        match tokio::time::timeout(PING_TIMEOUT, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("ping timed out".to_owned()),
        }
    }

    /// Opens up to `connections` pooled connections ahead of the first requests.
    pub async fn warm(&self, connections: usize) {
        let pings = (0..connections).map(|_| self.ping());
        futures_util::future::join_all(pings).await;
    }

    /// Appends MongoDB pool usage, insert round trips and the insert queue depth in
    /// Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        let count = |n: &AtomicI64| usize::try_from(n.load(Relaxed)).unwrap_or(0);
        PoolGauges {
            max: self.pool_max as usize,
            open: count(&self.pool.open),
            in_use: count(&self.pool.in_use),
        }
        .render(out, "fights_mongodb_pool", "");
        self.inserts.render(out);
        if let Some(writer) = &self.writer {
            let queued = writer.max_capacity() - writer.capacity();
            Family::new(
                out,
                "fights_insert_queue_depth",
                "gauge",
                "Fights waiting for the writer task.",
            )
            .sample("", queued);
        }
    }

    /// Closes the pools once every user of the store is gone.
    pub async fn shutdown(self) {
        drop(self.writer);
        self.listing_client.shutdown().await;
        self.client.shutdown().await;
    }
}

/// Waits for `operation` at most `timeout`.
async fn bounded<T, E>(
    timeout: Duration,
    operation: impl std::future::IntoFuture<Output = Result<T, E>>,
) -> Result<T, Error>
where
    Error: From<E>,
{
    match tokio::time::timeout(timeout, operation).await {
        Ok(outcome) => Ok(outcome?),
        Err(_) => Err(Error::StoreTimeout(timeout)),
    }
}
