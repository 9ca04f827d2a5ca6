//! The fights service's configuration, read from the environment and validated before
//! anything binds.

use std::time::Duration;

use kit::{
    config::{ConfigError, Env},
    process::ServiceConfig,
    ServerConfig,
};

use crate::downstream::{DownstreamConfig, Resolver};

/// The port of the fights service in the original system.
const PORT: u16 = 8004;

/// How long an unused downstream connection is kept: below the 5 s after which heroes,
/// villains and locations close a keep-alive connection that sent nothing
/// (`HTTP_HEADER_READ_TIMEOUT_MS`), so that fights drops a connection before the
/// downstream does and seldom sends a request on one being closed.
const POOL_IDLE_MS: u64 = 4_000;

/// How a POSTed fight reaches MongoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// One writer task stores whatever is queued with one `insert_many`: fewer round trips
    /// under load, same durability per request.
    Batch,
    /// Each request inserts its own document, for comparison.
    Single,
}

/// Everything the service needs to start; built from the environment so a bad value
/// stops the process before it binds.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub mongodb_url: String,
    pub mongodb_database: String,
    /// Connections the MongoDB driver may open for everything but unpaged listings.
    pub mongodb_pool_max: u32,
    /// Unpaged `GET /api/fights` listings running at once, each reading through a pool
    /// of this many connections kept apart from the inserts'.
    pub max_listings: u32,
    pub insert_mode: InsertMode,
    /// Fights waiting for the writer task; past it a POST answers 503 at once.
    pub insert_queue: usize,
    /// How long the writer waits for more fights before an insert while fights arrive
    /// faster than one per insert round trip (0: never waits).
    pub insert_linger: Duration,
    /// Bound on one MongoDB read or write as a request waits for it; past it the request
    /// answers 503. The driver itself waits on a silent server indefinitely.
    pub mongodb_timeout: Duration,
    /// Shortest time between two computations of the fight statistics.
    pub stats_interval: Duration,
    /// Longest the wins of stored fights wait before the writer adds them to the
    /// statistics counters, in one command for all of them (0: after every insert).
    pub stats_flush: Duration,
    pub heroes_url: String,
    pub villains_url: String,
    pub locations_url: String,
    pub downstream: DownstreamConfig,
    /// How the downstream host names are looked up: the system resolver unless a test
    /// gives a name several addresses.
    pub resolver: Resolver,
}

impl Config {
    /// Reads and validates every setting; the error names the variable at fault.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mongodb_url = env.string(
            "MONGODB_URL",
            "mongodb://superfight:superfight@fights-db:27017/fights",
        );
        if !mongodb_url.starts_with("mongodb://") && !mongodb_url.starts_with("mongodb+srv://") {
            return Err(ConfigError {
                var: "MONGODB_URL".to_owned(),
                message: format!(
                    "'{}' is not a mongodb:// URL",
                    kit::config::redact_url(&mongodb_url)
                ),
            });
        }
        let insert_mode = match env.string("FIGHTS_INSERT_MODE", "batch").as_str() {
            "batch" => InsertMode::Batch,
            "single" => InsertMode::Single,
            other => {
                return Err(ConfigError {
                    var: "FIGHTS_INSERT_MODE".to_owned(),
                    message: format!("'{other}' is neither 'batch' nor 'single'"),
                })
            }
        };
        Ok(Self {
            server: ServerConfig::from_env(env, PORT)?,
            mongodb_url,
            mongodb_database: env.string("MONGODB_DATABASE", "fights"),
            mongodb_pool_max: env.bounded("MONGODB_POOL_MAX", 32, 1, 1_000)? as u32,
            max_listings: env.bounded("FIGHTS_MAX_LISTINGS", 2, 1, 100)? as u32,
            insert_mode,
            insert_queue: env.bounded("FIGHTS_INSERT_QUEUE", 4_096, 1, 1 << 20)? as usize,
            insert_linger: Duration::from_millis(env.bounded(
                "FIGHTS_INSERT_LINGER_MS",
                3,
                0,
                1_000,
            )?),
            mongodb_timeout: env.millis("MONGODB_TIMEOUT_MS", 3_000, 600_000)?,
            stats_interval: env.millis("FIGHTS_STATS_INTERVAL_MS", 1_000, 3_600_000)?,
            stats_flush: Duration::from_millis(env.bounded(
                "FIGHTS_STATS_FLUSH_MS",
                1_000,
                0,
                60_000,
            )?),
            heroes_url: http_url(env, "HEROES_URL", "http://heroes:8001")?,
            villains_url: http_url(env, "VILLAINS_URL", "http://villains:8002")?,
            locations_url: http_url(env, "LOCATIONS_URL", "http://locations:8003")?,
            downstream: DownstreamConfig {
                timeout: env.millis("DOWNSTREAM_TIMEOUT_MS", 2_000, 600_000)?,
                retries: env.bounded("DOWNSTREAM_RETRIES", 2, 0, 10)? as u32,
                retry_delay: Duration::from_millis(env.bounded(
                    "DOWNSTREAM_RETRY_DELAY_MS",
                    200,
                    0,
                    60_000,
                )?),
                connect_timeout: env.millis("DOWNSTREAM_CONNECT_TIMEOUT_MS", 500, 600_000)?,
                pool_idle: env.millis("DOWNSTREAM_POOL_IDLE_MS", POOL_IDLE_MS, 3_600_000)?,
                pool_max_idle: env.bounded("DOWNSTREAM_POOL_MAX_IDLE", 256, 1, 1 << 16)? as usize,
            },
            resolver: Resolver::system(),
        })
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}

/// `name` as an `http://host:port` base URL without a trailing slash.
fn http_url(env: &Env, name: &str, default: &str) -> Result<String, ConfigError> {
    let value = env.string(name, default);
    let invalid = |message: &str| ConfigError {
        var: name.to_owned(),
        message: format!("'{value}' {message}"),
    };
    let uri: http::Uri = value.parse().map_err(|_| invalid("is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(invalid("must start with http://"));
    }
    if uri.host().is_none_or(str::is_empty) || uri.port_u16().is_none() {
        return Err(invalid("must be http://host:port"));
    }
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return Err(invalid("must not have a path"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_compose_values() {
        let config = Config::from_env(&Env::from_pairs([])).map_err(|e| e.to_string());
        let config = config.as_ref();
        assert_eq!(config.map(|c| c.server.bind.port()), Ok(8004));
        assert_eq!(
            config.map(|c| c.insert_linger),
            Ok(Duration::from_millis(3))
        );
        assert_eq!(
            config.map(|c| c.heroes_url.as_str()),
            Ok("http://heroes:8001")
        );
        assert_eq!(
            config.map(|c| c.villains_url.as_str()),
            Ok("http://villains:8002")
        );
        assert_eq!(
            config.map(|c| c.locations_url.as_str()),
            Ok("http://locations:8003")
        );
        assert_eq!(config.map(|c| c.mongodb_database.as_str()), Ok("fights"));
        assert_eq!(config.map(|c| c.insert_mode), Ok(InsertMode::Batch));
        assert_eq!(
            config.map(|c| c.mongodb_timeout),
            Ok(Duration::from_secs(3))
        );
        assert_eq!(config.map(|c| c.stats_interval), Ok(Duration::from_secs(1)));
        assert_eq!(
            config.map(|c| c.downstream.timeout),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(config.map(|c| c.downstream.retries), Ok(2));
        assert_eq!(
            config.map(|c| c.downstream.retry_delay),
            Ok(Duration::from_millis(200))
        );
        assert_eq!(
            config.map(|c| c.downstream.pool_idle),
            Ok(Duration::from_secs(4)),
            "below the downstreams' 5 s idle close"
        );
        assert_eq!(config.map(|c| c.max_listings), Ok(2));
    }

    #[test]
    fn values_are_read_and_trailing_slashes_dropped() {
        let env = Env::from_pairs([
            ("HEROES_URL", "http://127.0.0.1:9001/"),
            ("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            ("MONGODB_DATABASE", "fights_test"),
            ("DOWNSTREAM_TIMEOUT_MS", "300"),
            ("DOWNSTREAM_RETRIES", "0"),
            ("FIGHTS_INSERT_MODE", "single"),
        ]);
        let config = Config::from_env(&env).map_err(|e| e.to_string());
        let config = config.as_ref();
        assert_eq!(
            config.map(|c| c.heroes_url.as_str()),
            Ok("http://127.0.0.1:9001")
        );
        assert_eq!(
            config.map(|c| c.mongodb_database.as_str()),
            Ok("fights_test")
        );
        assert_eq!(
            config.map(|c| c.downstream.timeout),
            Ok(Duration::from_millis(300))
        );
        assert_eq!(config.map(|c| c.downstream.retries), Ok(0));
        assert_eq!(config.map(|c| c.insert_mode), Ok(InsertMode::Single));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("HEROES_URL", "heroes:8001"),
            ("VILLAINS_URL", "https://villains:8002"),
            ("LOCATIONS_URL", "http://locations"),
            ("LOCATIONS_URL", "http://locations:8003/api"),
            ("MONGODB_URL", "postgres://db/fights"),
            ("FIGHTS_INSERT_MODE", "sometimes"),
            ("DOWNSTREAM_TIMEOUT_MS", "0"),
            ("DOWNSTREAM_RETRIES", "many"),
            ("MONGODB_POOL_MAX", "0"),
            ("FIGHTS_STATS_INTERVAL_MS", "0"),
        ] {
            let err = Config::from_env(&Env::from_pairs([(var, value)])).err();
            assert_eq!(err.map(|e| e.var), Some(var.to_owned()), "{var}={value}");
        }
    }
}
