//! Configuration of the locations service, read from the environment and validated
//! before anything binds.

use std::time::Duration;

use kit::{
    config::{redact_url, ConfigError, Env},
    process::ServiceConfig,
    ServerConfig,
};

/// The port of the locations service in the original system.
const DEFAULT_PORT: u16 = 8003;
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
        Ok(Self {
            server: ServerConfig::from_env(env, DEFAULT_PORT)?,
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
