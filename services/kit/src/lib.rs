//! Shared runtime of the Rust Super Heroes services.
//!
//! Everything two or more services need and nothing else: the hyper HTTP/1 serve loop
//! with graceful shutdown, responses and problem bodies, JSON, query strings, shared input
//! rules, config from the environment, health, metrics, OpenTelemetry export and the process
//! entry point.

pub mod admin;
pub mod app;
pub mod body;
pub mod config;
pub mod connections;
pub mod cors;
pub mod field_rules;
pub mod health;
mod hyper_answers;
pub mod json;
mod json_messages;
pub mod labels;
pub mod listings;
pub mod metrics;
pub mod portrait;
pub mod problem;
pub mod process;
mod q_endpoints;
pub mod query;
pub mod random_ids;
pub mod request_rules;
pub mod response;
pub mod serve;
pub mod server;
pub mod server_config;
pub mod shutdown;
pub mod telemetry;

pub use app::{App, Check, Routed};
pub use problem::{Problem, Violation};
pub use random_ids::RandomIds;
pub use response::Response;
pub use server_config::ServerConfig;

/// The allocator of every service binary: mimalloc is faster than glibc malloc on the
/// many small, short-lived allocations of request handling and keeps RSS lower.
pub use mimalloc::MiMalloc;
