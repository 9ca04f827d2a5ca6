//! The side a catalogue holds, heroes or villains, and all that tells them apart: table,
//! paths, metric labels, messages and defaults.

use crate::routes::{labels, Endpoint};

/// One catalogue served by this crate.
#[derive(Debug)]
pub struct Side {
    /// Service name, also the last segment of the base path.
    pub name: &'static str,
    /// `/api/heroes`.
    pub base: &'static str,
    /// Table and sequence prefix (`hero`, `hero_seq`).
    pub table: &'static str,
    /// Word used in problem details ("No hero with id 42").
    pub noun: &'static str,
    /// The side's own random path segment next to `random`.
    pub random_path: &'static str,
    /// The label of each endpoint under `base`; see [`Endpoint::label`].
    pub labels: fn(&Endpoint<'_>) -> &'static str,
    pub hello: &'static str,
    /// `LISTEN` channel fed by the table's trigger.
    pub channel: &'static str,
    /// The idempotent trigger script, run at start so that a database initialised by
    /// other means still notifies replicas of changes.
    pub notify_sql: &'static str,
    pub openapi: &'static str,
    /// The JSON rendition of `openapi`, written by `deploy/system/openapi_json.py`.
    pub openapi_json: &'static str,
    pub default_port: u16,
    pub default_database_url: &'static str,
}

pub const HEROES: &Side = &Side {
    name: "heroes",
    base: "/api/heroes",
    table: "hero",
    noun: "hero",
    random_path: "random_hero",
    labels: labels!("/api/heroes", "random_hero"),
    hello: "Hello Hero Resource",
    channel: "hero_ids",
    notify_sql: include_str!("../../../database/heroes-db/02-notify.sql"),
    openapi: include_str!("../openapi/heroes.yaml"),
    openapi_json: include_str!("../openapi/heroes.json"),
    default_port: 8001,
    default_database_url: "postgres://superman:superman@heroes-db:5432/heroes_database",
};

pub const VILLAINS: &Side = &Side {
    name: "villains",
    base: "/api/villains",
    table: "villain",
    noun: "villain",
    random_path: "random_villain",
    labels: labels!("/api/villains", "random_villain"),
    hello: "Hello Villain Resource",
    channel: "villain_ids",
    notify_sql: include_str!("../../../database/villains-db/02-notify.sql"),
    openapi: include_str!("../openapi/villains.yaml"),
    openapi_json: include_str!("../openapi/villains.json"),
    default_port: 8002,
    default_database_url: "postgres://superbad:superbad@villains-db:5432/villains_database",
};
