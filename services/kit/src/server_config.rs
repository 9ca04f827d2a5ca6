//! The limits and timeouts of the serve loop, the same variables for every service,
//! read and validated before anything binds.

use std::{net::SocketAddr, time::Duration};

use crate::{
    config::{ConfigError, Env},
    cors::Cors,
    telemetry::TelemetryConfig,
};

/// Limits and timeouts of the serve loop, shared by every service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// A request body must be complete within this time after its head; else 408.
    pub body_read_timeout: Duration,
    /// A request body must arrive at least this fast (bytes per second) after its first
    /// second; else 408. 0 leaves only `body_read_timeout`.
    pub body_min_bytes_per_sec: u64,
    /// A client must send its complete request head within this time.
    pub header_read_timeout: Duration,
    /// Connections open at once. Past it the connection idle the longest is closed to
    /// make room; when none is idle, a new client gets 503 and is closed.
    pub max_connections: usize,
    /// Requests one keep-alive connection carries before it is closed.
    pub keep_alive_max_requests: u64,
    /// Age after which a keep-alive connection is closed after its current request.
    pub keep_alive_max_age: Duration,
    /// Requests handled at once, counted from when their body is read; past it the
    /// service answers 503 at once.
    pub max_in_flight: usize,
    /// `/q/*` requests (health, metrics, OpenAPI) handled at once, apart from
    /// `max_in_flight` so that probes and API requests cannot starve each other.
    pub max_in_flight_q: usize,
    /// How long the drain may take after the stop signal; past it the connections
    /// still open are cut, so that a hung request cannot keep the process alive.
    pub shutdown_timeout: Duration,
    /// Tokio worker threads; 1 selects the single-threaded scheduler.
    pub worker_threads: usize,
    /// Origins whose browser pages may call the service.
    pub cors: Cors,
    /// OpenTelemetry export; `None` (no `OTEL_EXPORTER_OTLP_ENDPOINT`) runs none.
    pub telemetry: Option<TelemetryConfig>,
}

impl ServerConfig {
    pub fn from_env(env: &Env, default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            bind: env.bind_addr(default_port)?,
            max_body_bytes: env.bounded("HTTP_MAX_BODY_BYTES", 64 * 1024, 1024, 64 << 20)? as usize,
            body_read_timeout: env.millis("HTTP_BODY_READ_TIMEOUT_MS", 5_000, 600_000)?,
            body_min_bytes_per_sec: env.bounded(
                "HTTP_BODY_MIN_BYTES_PER_SEC",
                1_024,
                0,
                1 << 30,
            )?,
            header_read_timeout: env.millis("HTTP_HEADER_READ_TIMEOUT_MS", 5_000, 600_000)?,
            max_connections: env.bounded("HTTP_MAX_CONNECTIONS", 4_096, 1, 1 << 20)? as usize,
            keep_alive_max_requests: env.bounded(
                "HTTP_KEEP_ALIVE_MAX_REQUESTS",
                1_000,
                1,
                u64::MAX,
            )?,
            keep_alive_max_age: env.millis("HTTP_KEEP_ALIVE_MAX_AGE_MS", 3_600_000, 86_400_000)?,
            max_in_flight: env.bounded("HTTP_MAX_IN_FLIGHT", 1_024, 1, 1 << 20)? as usize,
            max_in_flight_q: env.bounded("HTTP_MAX_IN_FLIGHT_Q", 16, 1, 1 << 20)? as usize,
            shutdown_timeout: env.millis("SHUTDOWN_TIMEOUT_MS", 10_000, 600_000)?,
            worker_threads: env.bounded("WORKER_THREADS", 1, 1, 256)? as usize,
            cors: Cors::from_env(env)?,
            telemetry: TelemetryConfig::from_env(env)?,
        })
    }
}
