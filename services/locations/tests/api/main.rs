//! Integration tests: the real service on `127.0.0.1:0` against a MariaDB database of
//! each test's own, spoken to over HTTP and gRPC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crud;
mod grpc;
mod helpers;
mod memory;
mod protocol;
mod random;
mod security;
mod validation;
