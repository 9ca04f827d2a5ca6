//! Test harness shared by the services' integration tests: the real service spawned on
//! `127.0.0.1:0`, an HTTP client, and a throwaway database per test so tests run in
//! parallel and twice in a row.
//!
//! Panicking is how a test reports failure, so this crate unwraps freely.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod db;
pub mod http;
pub mod process;
pub mod spawn;

pub use http::{Client, KeepAlive, Reply};
pub use process::ChildService;
pub use spawn::{spawn, Spawned};

/// A name no other test run uses, for databases and rows.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{:016x}", fastrand::u64(..))
}

/// `text` with every byte but ASCII letters and digits percent-encoded, for paths and
/// query values that must reach the service exactly as written.
pub fn url_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    simd_json::to_string(text).expect("a string always encodes")
}

/// Path ids every catalogue must answer with a 4xx (or 204 for DELETE of a valid but
/// absent id): out of range, not decimal, NUL, invalid UTF-8, SQL fragments.
pub const HOSTILE_IDS: &[&str] = &[
    "99999999999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "-1",
    "0",
    "1e3",
    "0x10",
    "1%00",
    "%ff",
    "1'",
];
