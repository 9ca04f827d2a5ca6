//! Configuration from environment variables, read through a lookup function so that
//! tests pass a map instead of mutating the process environment.

use std::{collections::HashMap, fmt, net::SocketAddr, str::FromStr, time::Duration};

/// A configuration value that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Looks up one variable by name.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where configuration values come from.
pub struct Env {
    lookup: Lookup,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: Box::new(|name| std::env::var(name).ok()),
        }
    }

    /// A fixed map, for tests and for services started in-process.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self {
            lookup: Box::new(move |name| map.get(name).cloned()),
        }
    }

    /// The value of `name`, or `default` when unset or empty.
    pub fn string(&self, name: &str, default: &str) -> String {
        match (self.lookup)(name) {
            Some(value) if !value.trim().is_empty() => value.trim().to_owned(),
            _ => default.to_owned(),
        }
    }

    /// The value of `name` parsed as `T`, or `default` when unset or empty.
    pub fn parse<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match (self.lookup)(name) {
            Some(value) if !value.trim().is_empty() => {
                value.trim().parse().map_err(|err: T::Err| ConfigError {
                    var: name.to_owned(),
                    message: format!("'{value}': {err}"),
                })
            }
            _ => Ok(default),
        }
    }

    /// A whole number in `min..=max`.
    pub fn bounded(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let value = self.parse(name, default)?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError {
                var: name.to_owned(),
                message: format!("{value} is outside {min}..={max}"),
            })
        }
    }

    /// A duration given in milliseconds, in `1..=max_ms`.
    pub fn millis(
        &self,
        name: &str,
        default_ms: u64,
        max_ms: u64,
    ) -> Result<Duration, ConfigError> {
        self.bounded(name, default_ms, 1, max_ms)
            .map(Duration::from_millis)
    }

    /// `BIND_ADDR`, defaulting to all interfaces on the service's port.
    pub fn bind_addr(&self, default_port: u16) -> Result<SocketAddr, ConfigError> {
        self.parse("BIND_ADDR", SocketAddr::from(([0, 0, 0, 0], default_port)))
    }
}

/// `url` with any password replaced by `***`, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_unset_or_blank() {
        let env = Env::from_pairs([("A", " ")]);
        assert_eq!(env.string("A", "x"), "x");
        assert_eq!(env.parse("B", 5u32), Ok(5));
        assert_eq!(env.bind_addr(8001).map(|a| a.port()), Ok(8001));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let env = Env::from_pairs([("N", "ten"), ("BIND_ADDR", "nowhere"), ("M", "0")]);
        assert_eq!(env.parse("N", 1u32).map_err(|e| e.var), Err("N".to_owned()));
        assert!(env.bind_addr(1).is_err());
        assert!(env.millis("M", 5, 10).is_err());
        assert!(env.bounded("M", 5, 1, 10).is_err());
    }

    #[test]
    fn port_zero_is_allowed() {
        let env = Env::from_pairs([("BIND_ADDR", "127.0.0.1:0")]);
        assert_eq!(env.bind_addr(8001).map(|a| a.port()), Ok(0));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://superman:secret@db:5432/heroes"),
            "postgres://superman:***@db:5432/heroes"
        );
        assert_eq!(
            redact_url("mongodb://db:27017/?x=@"),
            "mongodb://db:27017/?x=@"
        );
        assert_eq!(redact_url("nonsense"), "nonsense");
    }
}
