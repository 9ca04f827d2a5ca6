//! All SQL of the service, each statement beside the function that runs it. Every query
//! is a prepared statement, cached per connection by the driver.

use futures_util::{Stream, StreamExt};
use std::sync::atomic::Ordering::Relaxed;

use kit::{listings::Listing, metrics::PoolGauges};
use mysql_async::{prelude::Queryable, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use tokio::sync::mpsc;

use crate::{
    error::Error,
    model::{Fingerprint, Location, LocationType, NewLocation},
};

/// A database answer this service cannot read, reported as a database failure.
fn unexpected(message: String) -> Error {
    Error::Database(mysql_async::Error::Other(message.into()))
}

/// The written columns of a location, in the order INSERT and UPDATE name them.
fn columns(location: &NewLocation) -> (&str, &Option<String>, &Option<String>, &'static str) {
    (
        &location.name,
        &location.description,
        &location.picture,
        location.kind.as_str(),
    )
}

/// The columns of a `Location`, in the order `to_location` reads them.
type Row = (i64, String, Option<String>, Option<String>, String);

fn to_location((id, name, description, picture, kind): Row) -> Result<Location, Error> {
    let kind = LocationType::parse(&kind)
        .ok_or_else(|| unexpected(format!("location {id} has an unknown type '{kind}'")))?;
    Ok(Location {
        id,
        name,
        description,
        picture,
        kind,
    })
}

/// Every query of the service over one MariaDB pool.
pub struct Store {
    pool: Pool,
    pool_max: usize,
}

impl Store {
    /// A pool of `pool_max` connections, all kept open. Connections are not reset when they
    /// go back to the pool: a reset costs a round trip and wipes the prepared-statement
    /// cache, and no statement here leaves session state behind. `client_found_rows` makes
    /// an UPDATE that changes nothing still count the row it matched, so a PUT of identical
    /// values is not mistaken for a missing row.
    pub fn new(url: &str, pool_max: usize) -> Result<Self, mysql_async::UrlError> {
        let constraints = PoolConstraints::new(pool_max, pool_max).unwrap_or_default();
        let opts = OptsBuilder::from_opts(Opts::from_url(url)?)
            .pool_opts(
                PoolOpts::default()
                    .with_constraints(constraints)
                    .with_reset_connection(false),
            )
            .client_found_rows(true);
        Ok(Self {
            pool: Pool::new(opts),
            pool_max,
        })
    }

    /// Opens every pooled connection ahead of the first request. They are held until
    /// all are open, so that the pool keeps them all.
    pub async fn warm(&self) {
        let mut warm = tokio::task::JoinSet::new();
        for _ in 0..self.pool_max {
            warm.spawn(self.pool.get_conn());
        }
        drop(warm.join_all().await);
    }

    /// The pool's use, for the metrics.
    pub fn gauges(&self) -> PoolGauges {
        let metrics = self.pool.metrics();
        let open = metrics.connection_count.load(Relaxed);
        PoolGauges {
            max: self.pool_max,
            open,
            in_use: open.saturating_sub(metrics.connections_in_pool.load(Relaxed)),
        }
    }

    /// Connections the pool could not open since start.
    pub fn connect_failures(&self) -> usize {
        self.pool.metrics().create_failed.load(Relaxed)
    }

    /// Closes every pooled connection.
    pub async fn close(&self) -> Result<(), mysql_async::Error> {
        self.pool.clone().disconnect().await
    }

    const PING: &str = "SELECT 1";

    /// Answers when the database does: the readiness check, also used to open connections
    /// ahead of the first request.
    pub async fn ping(&self) -> Result<(), Error> {
        let mut conn = self.pool.get_conn().await?;
        conn.exec_drop(Self::PING, ()).await?;
        Ok(())
    }

    const LIST: &str = "SELECT id, name, description, picture, type FROM locations ORDER BY id";

    /// Locations read ahead of the client: with the body's own chunks, all a listing holds.
    const LIST_AHEAD: usize = 16;

    /// Every location, in id order, read from the database as the stream is polled, so a
    /// table of any size is never held whole. A result set borrows its connection, so a task
    /// owns both and hands rows over a bounded channel: it reads on only as the client does.
    /// The first row (or the error that kept it from coming) is awaited here, so a database
    /// that is down answers 503 rather than a broken body. The task keeps `listing`, the
    /// request's place among the listings, for as long as it holds the connection.
    pub async fn list(
        &self,
        listing: Listing,
    ) -> Result<impl Stream<Item = Result<Location, Error>> + Send + 'static, Error> {
        let _span = kit::telemetry::db_span("mariadb", "list");
        let mut conn = self.pool.get_conn().await?;
        let (tx, mut rx) = mpsc::channel(Self::LIST_AHEAD);
        tokio::spawn(async move {
            let _listing = listing;
            let mut rows = match conn.exec_iter(Self::LIST, ()).await {
                Ok(rows) => rows,
                Err(err) => {
                    let _ = tx.send(Err(Error::from(err))).await;
                    return;
                }
            };
            loop {
                let next = match rows.next().await {
                    Ok(Some(row)) => mysql_async::from_row_opt::<Row>(row)
                        .map_err(|err| unexpected(err.to_string()))
                        .and_then(to_location),
                    Ok(None) => return,
                    Err(err) => Err(Error::from(err)),
                };
                let failed = next.is_err();
                if tx.send(next).await.is_err() || failed {
                    return;
                }
            }
        });
        let first = rx.recv().await.transpose()?;
        let rest = futures_util::stream::unfold(rx, |mut rx| async {
            rx.recv().await.map(|item| (item, rx))
        });
        Ok(futures_util::stream::iter(first.map(Ok)).chain(rest))
    }

    const GET: &str = "SELECT id, name, description, picture, type FROM locations WHERE id = ?";

    /// The location with primary key `id`: also how a random pick reads its row.
    pub async fn get(&self, id: i64) -> Result<Option<Location>, Error> {
        let _span = kit::telemetry::db_span("mariadb", "get");
        let mut conn = self.pool.get_conn().await?;
        let row: Option<Row> = conn.exec_first(Self::GET, (id,)).await?;
        row.map(to_location).transpose()
    }

    /// The lookup goes through `name_key`, the unique lower-case key; the parameter is
    /// lowered under the column's own collation so that both sides fold case alike.
    const BY_NAME: &str = "SELECT id, name, description, picture, type FROM locations \
        WHERE name_key = LOWER(CONVERT(? USING utf8mb4) COLLATE utf8mb4_nopad_bin)";

    /// The location named `name`, ignoring letter case only (see the schema): at most one
    /// row can match, as the unique key is the same comparison.
    pub async fn by_name(&self, name: &str) -> Result<Option<Location>, Error> {
        let _span = kit::telemetry::db_span("mariadb", "by_name");
        let mut conn = self.pool.get_conn().await?;
        let row: Option<Row> = conn.exec_first(Self::BY_NAME, (name,)).await?;
        row.map(to_location).transpose()
    }

    /// `RETURNING` (MariaDB 10.5+) hands back the id in the same round trip, on a plain
    /// connection and inside a transaction alike.
    const INSERT: &str =
        "INSERT INTO locations (name, description, picture, type) VALUES (?, ?, ?, ?) RETURNING id";

    /// Inserts `location`, returning the id the database assigned.
    pub async fn insert(&self, location: &NewLocation) -> Result<i64, Error> {
        let _span = kit::telemetry::db_span("mariadb", "insert");
        let mut conn = self.pool.get_conn().await?;
        Self::insert_on(&mut conn, location).await
    }

    async fn insert_on(conn: &mut impl Queryable, location: &NewLocation) -> Result<i64, Error> {
        let id: Option<i64> = conn.exec_first(Self::INSERT, columns(location)).await?;
        id.ok_or_else(|| unexpected("INSERT returned no id".to_owned()))
    }

    const UPDATE: &str =
        "UPDATE locations SET name = ?, description = ?, picture = ?, type = ? WHERE id = ?";

    /// Replaces row `id`; false when there is none.
    pub async fn update(&self, id: i64, location: &NewLocation) -> Result<bool, Error> {
        let _span = kit::telemetry::db_span("mariadb", "update");
        let (name, description, picture, kind) = columns(location);
        let mut conn = self.pool.get_conn().await?;
        conn.exec_drop(Self::UPDATE, (name, description, picture, kind, id))
            .await?;
        Ok(conn.affected_rows() > 0)
    }

    const GET_FOR_UPDATE: &str =
        "SELECT id, name, description, picture, type FROM locations WHERE id = ? FOR UPDATE";

    /// Merges changes into row `id` with `merge` and stores the result, in one transaction
    /// holding the row's lock: two PATCHes of one row at once apply one after the other, so
    /// neither overwrites the other's fields with what it read before. `None` when there is
    /// no such row.
    pub async fn patch(
        &self,
        id: i64,
        merge: impl FnOnce(Location) -> Result<NewLocation, Error>,
    ) -> Result<Option<NewLocation>, Error> {
        let _span = kit::telemetry::db_span("mariadb", "patch");
        let mut conn = self.pool.get_conn().await?;
        let mut tx = conn
            .start_transaction(mysql_async::TxOpts::default())
            .await?;
        let row: Option<Row> = tx.exec_first(Self::GET_FOR_UPDATE, (id,)).await?;
        let Some(stored) = row.map(to_location).transpose()? else {
            return Ok(None);
        };
        let location = merge(stored)?;
        let (name, description, picture, kind) = columns(&location);
        tx.exec_drop(Self::UPDATE, (name, description, picture, kind, id))
            .await?;
        tx.commit().await?;
        Ok(Some(location))
    }

    const DELETE: &str = "DELETE FROM locations WHERE id = ?";

    /// Deletes row `id`; deleting a missing row is not an error, DELETE is idempotent.
    pub async fn delete(&self, id: i64) -> Result<(), Error> {
        let _span = kit::telemetry::db_span("mariadb", "delete");
        let mut conn = self.pool.get_conn().await?;
        conn.exec_drop(Self::DELETE, (id,)).await?;
        Ok(())
    }

    const DELETE_ALL: &str = "DELETE FROM locations";

    /// Empties the table.
    pub async fn delete_all(&self) -> Result<(), Error> {
        let _span = kit::telemetry::db_span("mariadb", "delete_all");
        let mut conn = self.pool.get_conn().await?;
        conn.exec_drop(Self::DELETE_ALL, ()).await?;
        Ok(())
    }

    /// Empties the table and inserts `locations` in one transaction, so other readers see
    /// either the old table or the new one. Returns the ids assigned, in order.
    pub async fn replace_all(&self, locations: &[NewLocation]) -> Result<Vec<i64>, Error> {
        let _span = kit::telemetry::db_span("mariadb", "replace_all");
        let mut conn = self.pool.get_conn().await?;
        let mut tx = conn
            .start_transaction(mysql_async::TxOpts::default())
            .await?;
        tx.exec_drop(Self::DELETE_ALL, ()).await?;
        let mut ids = Vec::with_capacity(locations.len());
        for location in locations {
            ids.push(Self::insert_on(&mut tx, location).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    const IDS: &str = "SELECT id FROM locations";

    /// Every id in the table, for the random-id set.
    pub async fn ids(&self) -> Result<Vec<i64>, Error> {
        let _span = kit::telemetry::db_span("mariadb", "ids");
        let mut conn = self.pool.get_conn().await?;
        Ok(conn.exec(Self::IDS, ()).await?)
    }

    const FINGERPRINT: &str = "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(BIT_XOR(id), 0), \
         CAST(COALESCE(SUM(id), 0) AS CHAR) FROM locations";

    /// A summary of the set of ids that changes whenever a row is added or removed, read
    /// from the primary key alone.
    pub async fn fingerprint(&self) -> Result<Fingerprint, Error> {
        let _span = kit::telemetry::db_span("mariadb", "fingerprint");
        let mut conn = self.pool.get_conn().await?;
        let row: Option<(u64, i64, u64, String)> = conn.exec_first(Self::FINGERPRINT, ()).await?;
        let (count, max, xor, sum) = row.unwrap_or((0, 0, 0, "0".to_owned()));
        let sum = sum
            .parse()
            .map_err(|_| unexpected(format!("SUM(id) is not a number: {sum}")))?;
        Ok(Fingerprint {
            count,
            max,
            xor,
            sum,
        })
    }
}
