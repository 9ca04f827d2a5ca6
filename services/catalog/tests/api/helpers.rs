//! The harness every test of this crate shares: the service started on a loopback
//! port against a database of its own, and the client that talks to it.

use catalog::{Config, Side, HEROES};
use kit::config::Env;
use simd_json::prelude::*;
use test_support::{db::PgDb, spawn, Client, Spawned};

/// A service under test with its database and a client.
pub struct TestApp {
    pub server: Spawned,
    pub client: Client,
    pub db: PgDb,
    pub side: &'static Side,
}

impl TestApp {
    /// `path` under the service's base path (`/api/heroes` + `path`).
    pub fn api(&self, path: &str) -> String {
        self.server.url(&format!("{}{path}", self.side.base))
    }
}

pub fn schema(side: &Side) -> [&'static str; 2] {
    if side.table == "hero" {
        [
            include_str!("../../../../database/heroes-db/01-schema.sql"),
            side.notify_sql,
        ]
    } else {
        [
            include_str!("../../../../database/villains-db/01-schema.sql"),
            side.notify_sql,
        ]
    }
}

/// A fresh database and the service on it.
pub async fn spawn_app(side: &'static Side) -> TestApp {
    let db = test_support::db::postgres(&schema(side)).await;
    let server = spawn_on(side, &db.url, &[]).await;
    TestApp {
        server,
        client: Client::new(),
        db,
        side,
    }
}

/// Another instance of the service on the database at `url`.
pub async fn spawn_on(side: &'static Side, url: &str, extra: &[(&str, &str)]) -> Spawned {
    let mut pairs = vec![("DATABASE_URL", url), ("DB_POOL_MAX", "2")];
    pairs.extend_from_slice(extra);
    let config = Config::from_env(side, &Env::from_pairs(pairs)).unwrap();
    spawn(|listener, shutdown| catalog::run(listener, config, shutdown)).await
}

pub async fn heroes() -> TestApp {
    spawn_app(HEROES).await
}

/// Creates a hero and returns its id.
pub async fn create(app: &TestApp, name: &str, level: i64) -> i64 {
    let body = format!(
        r#"{{"name":"{name}","otherName":"Other {name}","level":{level},"powers":"Flight"}}"#
    );
    let reply = app.client.post(&app.api(""), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}
