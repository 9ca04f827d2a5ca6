//! Integration tests of the catalogue: the real service on `127.0.0.1:0` against a
//! PostgreSQL database of each test's own, created from `database/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crud;
mod listings;
mod random;
mod security;
mod service;
mod validation;

use catalog::{Config, Kind, HEROES};
use kit::config::Env;
use simd_json::prelude::*;
use test_support::{db::PgDb, spawn, Client, Spawned};

/// A service under test with its database and a client.
pub struct TestApp {
    pub server: Spawned,
    pub http: Client,
    pub db: PgDb,
    pub kind: &'static Kind,
}

impl TestApp {
    /// `path` under the service's base path (`/api/heroes` + `path`).
    pub fn api(&self, path: &str) -> String {
        self.server.url(&format!("{}{path}", self.kind.base))
    }
}

pub fn schema(kind: &Kind) -> [&'static str; 2] {
    if kind.table == "hero" {
        [
            include_str!("../../../../database/heroes-db/01-schema.sql"),
            kind.notify_sql,
        ]
    } else {
        [
            include_str!("../../../../database/villains-db/01-schema.sql"),
            kind.notify_sql,
        ]
    }
}

/// A fresh database and the service on it.
pub async fn spawn_app(kind: &'static Kind) -> TestApp {
    let db = test_support::db::postgres(&schema(kind)).await;
    let server = spawn_on(kind, &db.url, &[]).await;
    TestApp {
        server,
        http: Client::new(),
        db,
        kind,
    }
}

/// Another instance of the service on the database at `url`.
pub async fn spawn_on(kind: &'static Kind, url: &str, extra: &[(&str, &str)]) -> Spawned {
    let mut pairs = vec![("DATABASE_URL", url), ("DB_POOL_MAX", "2")];
    pairs.extend_from_slice(extra);
    let config = Config::from_env(kind, &Env::from_pairs(pairs)).unwrap();
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
    let reply = app.http.post(&app.api(""), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}
