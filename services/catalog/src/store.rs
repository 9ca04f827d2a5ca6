//! All SQL of a catalogue, on pooled connections with prepared statements.
//!
//! The statements differ between heroes and villains only by table name, so they are
//! written once here and completed with it when the store is built.

use std::time::Duration;

use deadpool_postgres::{
    BuildError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Status,
};
use futures_util::{Stream, StreamExt};
use kit::listings::Listings;
use tokio_postgres::{types::ToSql, NoTls, Row};

use crate::{
    model::{validate_one, Character, Fields, Input},
    Error, Side,
};

/// Longest wait for a pooled connection before answering 503.
const POOL_WAIT: Duration = Duration::from_secs(2);

/// The parameters of a statement that takes none, for `query_raw`.
const NO_PARAMS: [&(dyn ToSql + Sync); 0] = [];

const COLUMNS: &str = "id, name, othername, level, picture, powers";

/// The statements of one table.
struct Sql {
    list: String,
    filter: String,
    get: String,
    get_for_update: String,
    insert: String,
    update: String,
    delete: String,
    delete_all: String,
    ids: String,
}

impl Sql {
    fn new(t: &str) -> Self {
        Self {
            list: format!("SELECT {COLUMNS} FROM {t} ORDER BY id"),
            // strpos, not LIKE: the filter is plain text, with no wildcards to escape.
            filter: format!(
                "SELECT {COLUMNS} FROM {t} WHERE strpos(lower(name), lower($1)) > 0 ORDER BY id"
            ),
            get: format!("SELECT {COLUMNS} FROM {t} WHERE id = $1"),
            get_for_update: format!("SELECT {COLUMNS} FROM {t} WHERE id = $1 FOR UPDATE"),
            insert: format!(
                "INSERT INTO {t} ({COLUMNS}) VALUES (nextval('{t}_seq'), $1, $2, $3, $4, $5) RETURNING id"
            ),
            update: format!(
                "UPDATE {t} SET name = $2, othername = $3, level = $4, picture = $5, powers = $6 WHERE id = $1"
            ),
            delete: format!("DELETE FROM {t} WHERE id = $1"),
            delete_all: format!("DELETE FROM {t}"),
            ids: format!("SELECT id FROM {t}"),
        }
    }
}

pub struct Store {
    pool: Pool,
    /// Full listings streaming at once, each holding a pooled connection.
    listings: Listings,
    sql: Sql,
}

fn character(row: &Row) -> Result<Character, tokio_postgres::Error> {
    Ok(Character {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        other_name: row.try_get(2)?,
        level: row.try_get(3)?,
        picture: row.try_get(4)?,
        powers: row.try_get(5)?,
    })
}

impl Store {
    /// A pool of at most `max` connections, `max_listings` of which full listings may
    /// hold at once; none is opened until first used.
    pub fn new(
        side: &Side,
        database: tokio_postgres::Config,
        max: usize,
        max_listings: usize,
    ) -> Result<Self, BuildError> {
        let manager = Manager::from_config(
            database,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .recycle_timeout(Some(POOL_WAIT))
            .build()?;
        Ok(Self {
            pool,
            listings: Listings::new(max_listings, Listings::REFUSAL),
            sql: Sql::new(side.table),
        })
    }

    /// Opens every pooled connection and prepares the hot statement on it, so the first
    /// requests do not pay for either.
    pub async fn warm(&self, max: usize) -> Result<(), Error> {
        let mut clients = Vec::with_capacity(max);
        for _ in 0..max {
            let client = self.pool.get().await?;
            client.prepare_cached(&self.sql.get).await?;
            clients.push(client);
        }
        Ok(())
    }

    /// Runs a multi-statement script, such as the notify trigger.
    pub async fn execute_script(&self, script: &str) -> Result<(), Error> {
        Ok(self.pool.get().await?.batch_execute(script).await?)
    }

    pub async fn ping(&self) -> Result<(), Error> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("SELECT 1").await?;
        client.query_one(&stmt, &[]).await?;
        Ok(())
    }

    pub fn status(&self) -> Status {
        self.pool.status()
    }

    /// Every row, or those whose name contains `name_filter`, in id order, read from
    /// the database as the stream is polled: the connection stops reading the result
    /// while the stream is not polled, so a table of any size is never held whole. The
    /// stream keeps its pooled connection and its place among the listings until it
    /// ends; past the listings bound, a 503 at once.
    pub async fn list(
        &self,
        name_filter: Option<&str>,
    ) -> Result<impl Stream<Item = Result<Character, Error>> + Send + 'static, Error> {
        let _span = kit::telemetry::db_span("postgresql", "list");
        let listing = self.listings.start()?;
        let client = self.pool.get().await?;
        let rows = match name_filter {
            Some(filter) => {
                let stmt = client.prepare_cached(&self.sql.filter).await?;
                client.query_raw(&stmt, [filter]).await?
            }
            None => {
                let stmt = client.prepare_cached(&self.sql.list).await?;
                client.query_raw(&stmt, NO_PARAMS).await?
            }
        };
        Ok(rows.map(move |row| {
            let _ = (&client, &listing);
            Ok(character(&row?)?)
        }))
    }

    pub async fn get(&self, id: i64) -> Result<Option<Character>, Error> {
        let _span = kit::telemetry::db_span("postgresql", "get");
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&self.sql.get).await?;
        Ok(client
            .query_opt(&stmt, &[&id])
            .await?
            .as_ref()
            .map(character)
            .transpose()?)
    }

    /// Inserts a row and returns the id the sequence gave it.
    pub async fn insert(&self, f: &Fields) -> Result<i64, Error> {
        let _span = kit::telemetry::db_span("postgresql", "insert");
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&self.sql.insert).await?;
        let row = client
            .query_one(
                &stmt,
                &[&f.name, &f.other_name, &f.level, &f.picture, &f.powers],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Replaces every field of row `id`; false when there is no such row.
    pub async fn update(&self, id: i64, f: &Fields) -> Result<bool, Error> {
        let _span = kit::telemetry::db_span("postgresql", "update");
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&self.sql.update).await?;
        let n = client
            .execute(
                &stmt,
                &[&id, &f.name, &f.other_name, &f.level, &f.picture, &f.powers],
            )
            .await?;
        Ok(n > 0)
    }

    /// Merges `input` into row `id` and validates the result, under a row lock so that
    /// concurrent patches do not lose each other's fields. `None` when there is no row.
    pub async fn patch(&self, id: i64, input: Input) -> Result<Option<Character>, Error> {
        let _span = kit::telemetry::db_span("postgresql", "patch");
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(&self.sql.get_for_update).await?;
        let Some(row) = tx.query_opt(&stmt, &[&id]).await? else {
            return Ok(None);
        };
        let f = validate_one(input.merge_into(character(&row)?))?;
        let stmt = tx.prepare_cached(&self.sql.update).await?;
        tx.execute(
            &stmt,
            &[&id, &f.name, &f.other_name, &f.level, &f.picture, &f.powers],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(f.with_id(id)))
    }

    pub async fn delete(&self, id: i64) -> Result<(), Error> {
        let _span = kit::telemetry::db_span("postgresql", "delete");
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&self.sql.delete).await?;
        client.execute(&stmt, &[&id]).await?;
        Ok(())
    }

    /// Replaces the whole table in one transaction; returns the rows as created.
    pub async fn replace_all(&self, rows: Vec<Fields>) -> Result<Vec<Character>, Error> {
        let _span = kit::telemetry::db_span("postgresql", "replace_all");
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(&self.sql.delete_all, &[]).await?;
        let stmt = tx.prepare_cached(&self.sql.insert).await?;
        let mut created = Vec::with_capacity(rows.len());
        for f in rows {
            let row = tx
                .query_one(
                    &stmt,
                    &[&f.name, &f.other_name, &f.level, &f.picture, &f.powers],
                )
                .await?;
            created.push(f.with_id(row.try_get(0)?));
        }
        tx.commit().await?;
        Ok(created)
    }

    pub async fn delete_all(&self) -> Result<(), Error> {
        let _span = kit::telemetry::db_span("postgresql", "delete_all");
        let client = self.pool.get().await?;
        client.execute(&self.sql.delete_all, &[]).await?;
        Ok(())
    }

    pub async fn ids(&self) -> Result<Vec<i64>, Error> {
        let _span = kit::telemetry::db_span("postgresql", "ids");
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&self.sql.ids).await?;
        let rows = client.query(&stmt, &[]).await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    pub fn close(&self) {
        self.pool.close();
    }
}
