//! Integration tests of the catalogue: the real service on `127.0.0.1:0` against a
//! PostgreSQL database of each test's own, created from `database/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crud;
mod helpers;
mod listings;
mod random;
mod security;
mod service;
mod validation;
