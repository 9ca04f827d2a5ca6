//! The heroes binary run as a child process, for what the catalogue's in-process tests
//! cannot show: the memory the process holds, and what a stop signal does to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod memory;
mod shutdown;

const SCHEMA: &str = include_str!("../../../../database/heroes-db/01-schema.sql");
const NOTIFY: &str = include_str!("../../../../database/heroes-db/02-notify.sql");
