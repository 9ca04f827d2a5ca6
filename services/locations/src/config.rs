//! Configuration of the locations service, read from the environment and validated
//! before anything binds.

use std::{net::SocketAddr, time::Duration};

use kit::{
    config::{redact_url, ConfigError, Env},
    process::ServiceConfig,
    ServerConfig,
};

/// The port of the locations service in the original system.
const DEFAULT_PORT: u16 = 8003;
/// The port of the original system's locations gRPC service.
const DEFAULT_GRPC_PORT: u16 = 8089;
/// The compose value of `DATABASE_URL`.
const DEFAULT_DATABASE_URL: &str =
    "mysql://locations:locations@locations-db:3306/locations_database";

/// Everything the service needs to start, so that a bad value stops it before it binds.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    /// `DATABASE_URL`, a `mysql://` URL known to parse.
    pub database_url: String,
    /// `DB_POOL_MAX`: connections in the pool. A few suffice: nearly every query is one
    /// primary-key lookup on a prepared statement.
    pub pool_max: usize,
    /// `DB_MAX_LISTINGS`: full listings streamed at once ([`kit::listings`]).
    pub max_listings: usize,
    /// `IDS_REFRESH_MS`: how long the random-id set is trusted before a pick checks it
    /// against the table for writes made by other replicas; it bounds how stale a random
    /// pick can be.
    pub ids_refresh: Duration,
    /// `ADMIN_TOKEN`: when set, writes need it as a bearer token.
    pub admin: kit::admin::AdminToken,
    /// The gRPC server beside the HTTP one.
    pub grpc: GrpcConfig,
}

/// Where the `Locations` gRPC service listens and the bounds it serves within, so that
/// no client can make it hold more than these whatever it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcConfig {
    /// `GRPC_BIND_ADDR`: HTTP/2 cleartext, port 0 allowed.
    pub bind: SocketAddr,
    /// `GRPC_MAX_REQUEST_BYTES`: larger messages are refused with RESOURCE_EXHAUSTED
    /// before they are decoded; the same bound as `HTTP_MAX_BODY_BYTES` by default, as
    /// `ReplaceAllLocations` is the whole-table PUT.
    pub max_request_bytes: usize,
    /// `GRPC_MAX_RESPONSE_BYTES`: the largest answer, `GetAllLocations` included, which
    /// answers RESOURCE_EXHAUSTED past it rather than hold a table of any size. gRPC
    /// clients refuse larger messages by default, so a larger answer would fail anyway.
    pub max_response_bytes: usize,
    /// `GRPC_MAX_CONNECTIONS`: connections open at once; a client arriving past it is
    /// closed at once.
    pub max_connections: usize,
    /// `GRPC_MAX_CONCURRENT_STREAMS`: calls one HTTP/2 connection may have open; the
    /// client waits for a stream beyond it.
    pub max_streams: u32,
    /// `GRPC_MAX_IN_FLIGHT_PER_CONNECTION`: calls of one connection handled at once;
    /// the others wait their turn, so one client cannot take every pooled connection.
    pub max_in_flight_per_connection: usize,
    /// `GRPC_KEEPALIVE_INTERVAL_MS`: how long a connection may be silent before the
    /// server pings it, so that a vanished client's connection is closed.
    pub keepalive_interval: Duration,
    /// `GRPC_KEEPALIVE_TIMEOUT_MS`: how long a ping waits for its answer before the
    /// connection is closed.
    pub keepalive_timeout: Duration,
    /// `GRPC_REQUEST_TIMEOUT_MS`: a call still running after this answers CANCELLED (a
    /// client's shorter `grpc-timeout` applies first).
    pub request_timeout: Duration,
}

impl GrpcConfig {
    /// The gRPC variables; `max_body_bytes` is the HTTP body bound, the default for
    /// requests.
    fn from_env(env: &Env, max_body_bytes: usize) -> Result<Self, ConfigError> {
        let bytes = |name, default: usize| {
            env.bounded(name, default as u64, 1024, 64 * 1024 * 1024)
                .map(|value| value as usize)
        };
        Ok(Self {
            bind: env.parse(
                "GRPC_BIND_ADDR",
                SocketAddr::from(([0, 0, 0, 0], DEFAULT_GRPC_PORT)),
            )?,
            max_request_bytes: bytes("GRPC_MAX_REQUEST_BYTES", max_body_bytes)?,
            max_response_bytes: bytes("GRPC_MAX_RESPONSE_BYTES", 4 * 1024 * 1024)?,
            max_connections: env.bounded("GRPC_MAX_CONNECTIONS", 1_024, 1, 1 << 20)? as usize,
            max_streams: env.bounded("GRPC_MAX_CONCURRENT_STREAMS", 256, 1, 65_536)? as u32,
            max_in_flight_per_connection: env.bounded(
                "GRPC_MAX_IN_FLIGHT_PER_CONNECTION",
                64,
                1,
                65_536,
            )? as usize,
            keepalive_interval: env.millis("GRPC_KEEPALIVE_INTERVAL_MS", 60_000, 3_600_000)?,
            keepalive_timeout: env.millis("GRPC_KEEPALIVE_TIMEOUT_MS", 20_000, 600_000)?,
            request_timeout: env.millis("GRPC_REQUEST_TIMEOUT_MS", 10_000, 600_000)?,
        })
    }
}

impl Config {
    /// Reads and validates the configuration; the error names the offending variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let database_url = env.string("DATABASE_URL", DEFAULT_DATABASE_URL);
        mysql_async::Opts::from_url(&database_url).map_err(|err| ConfigError {
            var: "DATABASE_URL".to_owned(),
            message: format!("'{}' is not a MySQL URL: {err}", redact_url(&database_url)),
        })?;
        let pool_max = env.bounded("DB_POOL_MAX", 4, 2, 512)? as usize;
        let server = ServerConfig::from_env(env, DEFAULT_PORT)?;
        Ok(Self {
            grpc: GrpcConfig::from_env(env, server.max_body_bytes)?,
            server,
            database_url,
            pool_max,
            max_listings: kit::listings::max_from_env(env, pool_max)?,
            ids_refresh: env.millis("IDS_REFRESH_MS", 500, 60_000)?,
            admin: kit::admin::AdminToken::from_env(env)?,
        })
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_compose_values() {
        let config = Config::from_env(&Env::from_pairs([])).ok();
        let config = config.as_ref();
        assert_eq!(config.map(|c| c.server.bind.port()), Some(8003));
        assert_eq!(
            config.map(|c| c.database_url.as_str()),
            Some(DEFAULT_DATABASE_URL)
        );
        assert_eq!(config.map(|c| c.pool_max), Some(4));
        assert_eq!(
            config.map(|c| c.ids_refresh),
            Some(Duration::from_millis(500))
        );
        let grpc = config.map(|c| &c.grpc);
        assert_eq!(
            grpc.map(|g| g.bind.to_string()).as_deref(),
            Some("0.0.0.0:8089")
        );
        assert_eq!(grpc.map(|g| g.max_request_bytes), Some(65_536));
        assert_eq!(grpc.map(|g| g.max_response_bytes), Some(4 * 1024 * 1024));
    }

    #[test]
    fn grpc_values_are_read() {
        let env = Env::from_pairs([
            ("GRPC_BIND_ADDR", "127.0.0.1:0"),
            ("HTTP_MAX_BODY_BYTES", "131072"),
            ("GRPC_MAX_RESPONSE_BYTES", "1048576"),
            ("GRPC_MAX_CONNECTIONS", "16"),
            ("GRPC_MAX_CONCURRENT_STREAMS", "8"),
            ("GRPC_MAX_IN_FLIGHT_PER_CONNECTION", "4"),
            ("GRPC_KEEPALIVE_INTERVAL_MS", "1000"),
            ("GRPC_KEEPALIVE_TIMEOUT_MS", "500"),
            ("GRPC_REQUEST_TIMEOUT_MS", "2000"),
        ]);
        let grpc = Config::from_env(&env).ok().map(|c| c.grpc);
        assert_eq!(
            grpc,
            Some(GrpcConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                max_request_bytes: 131_072,
                max_response_bytes: 1_048_576,
                max_connections: 16,
                max_streams: 8,
                max_in_flight_per_connection: 4,
                keepalive_interval: Duration::from_secs(1),
                keepalive_timeout: Duration::from_millis(500),
                request_timeout: Duration::from_secs(2),
            })
        );
    }

    #[test]
    fn values_are_read() {
        let env = Env::from_pairs([
            ("DATABASE_URL", "mysql://u:p@127.0.0.1:3306/db"),
            ("DB_POOL_MAX", "9"),
            ("IDS_REFRESH_MS", "50"),
            ("BIND_ADDR", "127.0.0.1:0"),
        ]);
        let config = Config::from_env(&env).ok();
        let config = config.as_ref();
        assert_eq!(config.map(|c| c.server.bind.port()), Some(0));
        assert_eq!(config.map(|c| c.pool_max), Some(9));
        assert_eq!(
            config.map(|c| c.ids_refresh),
            Some(Duration::from_millis(50))
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        for (var, value) in [
            ("DATABASE_URL", "postgres://u@h/d"),
            ("DATABASE_URL", "not a url"),
            ("DB_POOL_MAX", "0"),
            ("IDS_REFRESH_MS", "0"),
            ("IDS_REFRESH_MS", "soon"),
            ("BIND_ADDR", "x"),
            ("GRPC_BIND_ADDR", "8089"),
            ("GRPC_MAX_REQUEST_BYTES", "10"),
            ("GRPC_MAX_RESPONSE_BYTES", "1e9"),
            ("GRPC_MAX_CONCURRENT_STREAMS", "0"),
            ("GRPC_MAX_IN_FLIGHT_PER_CONNECTION", "0"),
            ("GRPC_KEEPALIVE_INTERVAL_MS", "0"),
            ("GRPC_KEEPALIVE_TIMEOUT_MS", "-1"),
            ("GRPC_REQUEST_TIMEOUT_MS", "later"),
        ] {
            let err = Config::from_env(&Env::from_pairs([(var, value)])).err();
            assert_eq!(err.map(|e| e.var), Some(var.to_owned()), "{var}={value}");
        }
    }

    #[test]
    fn passwords_stay_out_of_errors() {
        let env = Env::from_pairs([("DATABASE_URL", "postgres://u:secret@h:3306/d")]);
        let message = Config::from_env(&env).err().map(|e| e.message);
        assert!(message.is_some_and(|m| !m.contains("secret")));
    }
}
