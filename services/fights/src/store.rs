//! Every MongoDB access of the service: storing fights (one writer task batching
//! concurrent inserts, or one insert per request), reading them back, and the ping of
//! the readiness check.

use std::{
    fmt::Write,
    sync::{
        atomic::{AtomicI64, Ordering::Relaxed},
        Arc,
    },
    time::Duration,
};

use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, DateTime},
    event::{cmap::CmapEvent, EventHandler},
    options::{ClientOptions, FindOptions},
    Client, Collection,
};
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use crate::{
    config::{Config, InsertMode},
    error::Error,
    model::{is_blank, Fight, FightLocation},
};

/// The collection of the original system.
const COLLECTION: &str = "Fights";
/// Most fights written with one `insert_many`.
const BATCH: usize = 64;
/// Server selection bound when the URL sets none: a POST while MongoDB is down answers
/// 503 after this long instead of the driver's 30 s.
const SERVER_SELECTION: Duration = Duration::from_secs(2);
/// Bound on the readiness ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// A fight as stored: the API's field names, `_id` an ObjectId and `fightDate` a BSON
/// date so that MongoDB tools and the original system read it as their own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FightDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub fight_date: DateTime,
    pub winner_name: String,
    pub winner_level: i64,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub winner_powers: Option<String>,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub winner_picture: Option<String>,
    pub winner_team: String,
    pub loser_name: String,
    pub loser_level: i64,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub loser_powers: Option<String>,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub loser_picture: Option<String>,
    pub loser_team: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FightLocation>,
}

impl From<FightDoc> for Fight {
    fn from(doc: FightDoc) -> Self {
        Fight {
            id: doc.id.to_hex(),
            fight_date: iso_millis(doc.fight_date.timestamp_millis()),
            winner_name: doc.winner_name,
            winner_level: doc.winner_level,
            winner_powers: doc.winner_powers,
            winner_picture: doc.winner_picture,
            winner_team: doc.winner_team,
            loser_name: doc.loser_name,
            loser_level: doc.loser_level,
            loser_powers: doc.loser_powers,
            loser_picture: doc.loser_picture,
            loser_team: doc.loser_team,
            location: doc.location,
        }
    }
}

/// One fight waiting for the writer task, with where to send it back once stored.
struct Pending {
    doc: FightDoc,
    done: oneshot::Sender<Result<FightDoc, String>>,
}

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

/// The fights collection and the way inserts reach it.
pub struct FightStore {
    client: Client,
    fights: Collection<FightDoc>,
    writer: Option<mpsc::Sender<Pending>>,
    pool: Arc<PoolUsage>,
    pool_max: u32,
    timeout: Duration,
}

impl FightStore {
    /// Builds the client (connecting lazily, so a MongoDB that is down makes the service
    /// not ready rather than not start) and, in batch mode, the writer task.
    pub async fn connect(
        config: &Config,
    ) -> Result<(Self, Option<JoinHandle<()>>), mongodb::error::Error> {
        let mut options = ClientOptions::parse(&config.mongodb_url).await?;
        options.app_name.get_or_insert_with(|| "fights".to_owned());
        options.max_pool_size = Some(config.mongodb_pool_max);
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION);
        options.connect_timeout.get_or_insert(SERVER_SELECTION);
        let pool = Arc::new(PoolUsage::default());
        let observed = pool.clone();
        options.cmap_event_handler = Some(EventHandler::callback(move |event: CmapEvent| {
            observed.observe(&event)
        }));
        let client = Client::with_options(options)?;
        let fights = client
            .database(&config.mongodb_database)
            .collection::<FightDoc>(COLLECTION);
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
                    ))),
                )
            }
        };
        let pool_max = config.mongodb_pool_max;
        Ok((
            Self {
                client,
                fights,
                writer,
                pool,
                pool_max,
                timeout: config.mongodb_timeout,
            },
            task,
        ))
    }

    /// Stores `doc`; returns once MongoDB acknowledged it. A fight still queued when the
    /// request gives up is not written: the writer skips requests no longer waiting.
    pub async fn insert(&self, doc: FightDoc) -> Result<Fight, Error> {
        let stored = match &self.writer {
            None => {
                self.bounded(self.fights.insert_one(&doc)).await?;
                doc
            }
            Some(writer) => {
                let (done, outcome) = oneshot::channel();
                writer
                    .try_send(Pending { doc, done })
                    .map_err(|err| match err {
                        mpsc::error::TrySendError::Full(_) => Error::Overloaded,
                        mpsc::error::TrySendError::Closed(_) => {
                            Error::Store("writer stopped".to_owned())
                        }
                    })?;
                self.bounded(async {
                    outcome
                        .await
                        .map_err(|_| Error::Store("writer stopped".to_owned()))?
                        .map_err(Error::Store)
                })
                .await?
            }
        };
        Ok(stored.into())
    }

    /// One fight, `None` when absent.
    pub async fn find(&self, id: ObjectId) -> Result<Option<Fight>, Error> {
        let found = self
            .bounded(self.fights.find_one(doc! { "_id": id }))
            .await?;
        Ok(found.map(Fight::from))
    }

    /// Every fight in storage order, as a cursor to stream from.
    pub async fn all(&self) -> Result<mongodb::Cursor<FightDoc>, Error> {
        self.bounded(self.fights.find(doc! {}).batch_size(1_000))
            .await
    }

    /// Page `page` of `size` fights, newest first, encoded as one JSON array.
    pub async fn page_json(&self, page: u64, size: u64) -> Result<Vec<u8>, Error> {
        // MongoDB counts skips in a signed 64-bit integer: a page beyond that is empty.
        let Some(skip) = page
            .checked_mul(size)
            .filter(|&skip| i64::try_from(skip).is_ok())
        else {
            return Ok(b"[]".to_vec());
        };
        let options = FindOptions::builder()
            .sort(doc! { "fightDate": -1, "_id": -1 })
            .skip(skip)
            .limit(i64::try_from(size).unwrap_or(i64::MAX))
            .build();
        self.bounded(async {
            encode_array(self.fights.find(doc! {}).with_options(options).await?).await
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
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(outcome) => Ok(outcome?),
            Err(_) => Err(Error::Store(timed_out(self.timeout))),
        }
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

    /// Appends MongoDB pool usage and the insert queue depth in Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        let gauges = [
            (
                "fights_mongodb_pool_max",
                "Connections the MongoDB pool may open.",
                i64::from(self.pool_max),
            ),
            (
                "fights_mongodb_pool_open",
                "Open MongoDB connections.",
                self.pool.open.load(Relaxed),
            ),
            (
                "fights_mongodb_pool_in_use",
                "MongoDB connections checked out.",
                self.pool.in_use.load(Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
                value.max(0)
            );
        }
        if let Some(writer) = &self.writer {
            let queued = writer.max_capacity() - writer.capacity();
            let name = "fights_insert_queue_depth";
            let _ = writeln!(
                out,
                "# HELP {name} Fights waiting for the writer task.\n# TYPE {name} gauge\n{name} {queued}"
            );
        }
    }

    /// Closes the pool once every user of the store is gone.
    pub async fn shutdown(self) {
        drop(self.writer);
        self.client.shutdown().await;
    }
}

impl From<mongodb::error::Error> for Error {
    fn from(err: mongodb::error::Error) -> Self {
        Error::Store(err.to_string())
    }
}

fn timed_out(timeout: Duration) -> String {
    format!("MongoDB did not answer within {} ms", timeout.as_millis())
}

/// Bytes gathered before a chunk of a streamed array is sent.
const CHUNK: usize = 16 * 1024;

/// Writes the JSON array of a cursor's fights into one buffer, for pages.
async fn encode_array(mut cursor: mongodb::Cursor<FightDoc>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(4 * 1024);
    out.push(b'[');
    while let Some(doc) = cursor.try_next().await? {
        push_fight(&mut out, doc)?;
    }
    out.push(b']');
    Ok(out)
}

/// Sends the JSON array of a cursor's fights in chunks of about [`CHUNK`] bytes, so the
/// whole collection is never in memory. A read error mid-way aborts the body and with it
/// the connection: the client sees a broken answer, never a short but valid array.
pub async fn stream_array(
    mut cursor: mongodb::Cursor<FightDoc>,
    mut sender: http_body_util::channel::Sender<bytes::Bytes, std::io::Error>,
) {
    let mut out = Vec::with_capacity(CHUNK + 1024);
    out.push(b'[');
    let mut first = true;
    loop {
        match cursor.try_next().await {
            Ok(Some(doc)) => {
                if !first {
                    out.push(b',');
                }
                first = false;
                if let Err(err) = simd_json::to_writer(&mut out, &Fight::from(doc)) {
                    sender.abort(std::io::Error::other(err.to_string()));
                    return;
                }
                if out.len() >= CHUNK {
                    let chunk = std::mem::replace(&mut out, Vec::with_capacity(CHUNK + 1024));
                    if sender.send_data(chunk.into()).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break,
            Err(err) => {
                log::warn!("listing fights failed mid-stream: {err}");
                sender.abort(std::io::Error::other(err.to_string()));
                return;
            }
        }
    }
    out.push(b']');
    let _ = sender.send_data(out.into()).await;
}

/// Appends one fight to a JSON array being written.
fn push_fight(out: &mut Vec<u8>, doc: FightDoc) -> Result<(), Error> {
    if out.len() > 1 {
        out.push(b',');
    }
    simd_json::to_writer(out, &Fight::from(doc)).map_err(|err| Error::Store(err.to_string()))
}

/// The writer task: takes whatever is queued (up to `BATCH`), stores it with one
/// `insert_many` bounded by `timeout` and answers every waiting request. Fights whose
/// request stopped waiting are left out. Ends when the store is dropped.
async fn write_batches(
    fights: Collection<FightDoc>,
    mut queue: mpsc::Receiver<Pending>,
    timeout: Duration,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        batch.retain(|pending| !pending.done.is_closed());
        if batch.is_empty() {
            continue;
        }
        let insert = fights.insert_many(batch.iter().map(|p| &p.doc));
        let outcome = match tokio::time::timeout(timeout, insert).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(timed_out(timeout)),
        };
        for pending in batch.drain(..) {
            let answer = outcome.clone().map(|()| pending.doc);
            let _ = pending.done.send(answer);
        }
    }
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso_millis(millis: i64) -> String {
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_with_milliseconds() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_795_452_701_787), "2026-11-23T16:51:41.787Z");
        assert_eq!(iso_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_millis(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn documents_become_api_fights() {
        let id = ObjectId::new();
        let doc = FightDoc {
            id,
            fight_date: DateTime::from_millis(1_795_452_701_787),
            winner_name: "Yoda".to_owned(),
            winner_level: 9_000_000_000,
            winner_powers: None,
            winner_picture: Some(String::new()),
            winner_team: "heroes".to_owned(),
            loser_name: "Vader".to_owned(),
            loser_level: 1,
            loser_powers: Some("Force".to_owned()),
            loser_picture: None,
            loser_team: "villains".to_owned(),
            location: None,
        };
        let json = kit::json::to_bytes(&Fight::from(doc), 256);
        let expected = format!(
            r#"{{"id":"{}","fightDate":"2026-11-23T16:51:41.787Z","winnerName":"Yoda","winnerLevel":9000000000,"winnerTeam":"heroes","loserName":"Vader","loserLevel":1,"loserPowers":"Force","loserTeam":"villains"}}"#,
            id.to_hex()
        );
        assert_eq!(String::from_utf8_lossy(&json), expected);
    }
}
