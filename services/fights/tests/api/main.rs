//! Integration tests of the fights service: the real service on a loopback port, the real
//! MongoDB-compatible server with a database per test, and small in-test downstream
//! services (see `fakes`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod balancing;
mod endpoints;
mod fakes;
mod helpers;
mod listings;
mod narration;
mod page;
mod real_services;
mod relay;
mod resilience;
mod shutdown;
mod stats;
mod storage;
mod validation;
