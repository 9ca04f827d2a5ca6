//! Configuration of a catalogue service, from the environment.

use kit::{
    admin::AdminToken,
    config::{redact_url, ConfigError, Env},
    process::ServiceConfig,
    ServerConfig,
};

use crate::Side;

#[derive(Debug, Clone)]
pub struct Config {
    pub side: &'static Side,
    pub server: ServerConfig,
    /// `DATABASE_URL`, parsed.
    pub database: tokio_postgres::Config,
    /// `DB_POOL_MAX`: connections in the pool. A few suffice: every query is one
    /// primary-key lookup on a prepared statement.
    pub pool_max: usize,
    /// `DB_MAX_LISTINGS`: full listings streamed at once ([`kit::listings`]).
    pub max_listings: usize,
    /// `ADMIN_TOKEN`: when set, writes need it as a bearer token.
    pub admin: AdminToken,
}

impl Config {
    pub fn from_env(side: &'static Side, env: &Env) -> Result<Self, ConfigError> {
        let url = env.string("DATABASE_URL", side.default_database_url);
        let database = url.parse().map_err(|err| ConfigError {
            var: "DATABASE_URL".to_owned(),
            message: format!("'{}' is not a PostgreSQL URL: {err}", redact_url(&url)),
        })?;
        let pool_max = env.bounded("DB_POOL_MAX", 4, 2, 512)? as usize;
        Ok(Self {
            side,
            server: ServerConfig::from_env(env, side.default_port)?,
            database,
            pool_max,
            max_listings: kit::listings::max_from_env(env, pool_max)?,
            admin: AdminToken::from_env(env)?,
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
    use crate::{HEROES, VILLAINS};

    #[test]
    fn defaults_are_the_compose_values() {
        let config = Config::from_env(VILLAINS, &Env::from_pairs([])).ok();
        let config = config.as_ref();
        assert_eq!(config.map(|c| c.server.bind.port()), Some(8002));
        assert_eq!(
            config.and_then(|c| c.database.get_dbname()),
            Some("villains_database")
        );
        assert_eq!(config.map(|c| c.pool_max), Some(4));
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        for (var, value) in [
            ("DATABASE_URL", "mysql:/nope"),
            ("DB_POOL_MAX", "0"),
            ("BIND_ADDR", "x"),
        ] {
            let err = Config::from_env(HEROES, &Env::from_pairs([(var, value)])).err();
            assert_eq!(err.map(|e| e.var), Some(var.to_owned()));
        }
    }

    #[test]
    fn passwords_stay_out_of_errors() {
        let err = Config::from_env(
            HEROES,
            &Env::from_pairs([("DATABASE_URL", "postgres://u:secret@h:notaport/d")]),
        )
        .err()
        .map(|e| e.message);
        assert!(err.is_some_and(|m| !m.contains("secret")));
    }
}
