//! Cross-origin resource sharing, so that a browser page served elsewhere (the original
//! system's web UI, for one) can call the services: `CORS_ALLOWED_ORIGINS` is `*` (any
//! origin, the original's demo configuration) or a comma-separated list of origins.
//!
//! As in Quarkus, the headers go only on answers to requests that carry `Origin` (every
//! cross-origin browser request does), so that other clients pay nothing for them; with
//! a list, `Vary: Origin` goes on every answer so that caches keep answers per origin.

use http::{header, HeaderMap, HeaderValue};

use crate::config::{ConfigError, Env};

const ANY: HeaderValue = HeaderValue::from_static("*");
const ORIGIN: HeaderValue = HeaderValue::from_static("origin");
/// Response headers a page may read besides the always-readable ones.
const EXPOSE: HeaderValue = HeaderValue::from_static("Location, Retry-After");
/// Request headers a page may send.
const ALLOW_HEADERS: HeaderValue = HeaderValue::from_static("Accept, Authorization, Content-Type");
/// How long a browser may reuse a preflight answer, in seconds.
const MAX_AGE: HeaderValue = HeaderValue::from_static("3600");

/// The origins whose pages may call the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    Any,
    Only(Vec<HeaderValue>),
}

impl Cors {
    /// `CORS_ALLOWED_ORIGINS`: `*` (the default) or origins such as
    /// `https://ui.example:8080`, comma-separated.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        const VAR: &str = "CORS_ALLOWED_ORIGINS";
        let value = env.string(VAR, "*");
        if value == "*" {
            return Ok(Self::Any);
        }
        let invalid = |origin: &str| ConfigError {
            var: VAR.to_owned(),
            message: format!(
                "'{origin}' is not an origin: expected `*` or scheme://host[:port], comma-separated"
            ),
        };
        value
            .split(',')
            .map(str::trim)
            .map(|origin| {
                let (scheme, host) = origin.split_once("://").ok_or_else(|| invalid(origin))?;
                let valid = !scheme.is_empty()
                    && !host.is_empty()
                    && !host.contains(['/', '*', ' ', '?', '#']);
                if !valid {
                    return Err(invalid(origin));
                }
                HeaderValue::from_str(&origin.to_ascii_lowercase()).map_err(|_| invalid(origin))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Only)
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    fn allowed(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match self {
            Self::Any => Some(ANY),
            Self::Only(origins) => origins
                .iter()
                .any(|o| o.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
                .then(|| origin.clone()),
        }
    }

    /// Adds the CORS headers of an answer to a request from `origin`.
    pub fn apply(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if let Self::Only(_) = self {
            headers.append(header::VARY, ORIGIN);
        }
        if let Some(allowed) = origin.and_then(|origin| self.allowed(origin)) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE);
        }
    }

    /// Adds the headers of an answer to a preflight request from `origin` for a path
    /// that accepts `methods`.
    pub fn preflight(&self, origin: &HeaderValue, methods: HeaderValue, headers: &mut HeaderMap) {
        if self.allowed(origin).is_some() {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(value: &str) -> Result<Cors, ConfigError> {
        Cors::from_env(&Env::from_pairs([("CORS_ALLOWED_ORIGINS", value)]))
    }

    #[test]
    fn any_origin_by_default() {
        assert_eq!(Cors::from_env(&Env::from_pairs([])), Ok(Cors::Any));
        let mut headers = HeaderMap::new();
        Cors::Any.apply(None, &mut headers);
        assert!(headers.is_empty(), "no Origin, no CORS headers");
        Cors::Any.apply(
            Some(&HeaderValue::from_static("http://a.test")),
            &mut headers,
        );
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(headers.get(header::VARY).is_none());
    }

    #[test]
    fn a_list_echoes_a_listed_origin_and_varies_by_origin() {
        let cors = cors("https://ui.test:8080, http://other.test").unwrap_or(Cors::Any);
        let mut headers = HeaderMap::new();
        cors.apply(
            Some(&HeaderValue::from_static("https://UI.test:8080")),
            &mut headers,
        );
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://UI.test:8080"
        );
        assert_eq!(headers[header::VARY], "origin");

        let mut headers = HeaderMap::new();
        cors.apply(
            Some(&HeaderValue::from_static("https://evil.test")),
            &mut headers,
        );
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(headers[header::VARY], "origin");
    }

    #[test]
    fn preflight_names_methods_headers_and_max_age() {
        let mut headers = HeaderMap::new();
        Cors::Any.preflight(
            &HeaderValue::from_static("http://a.test"),
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
            &mut headers,
        );
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET, HEAD, OPTIONS"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "3600");
        assert!(headers.contains_key(header::ACCESS_CONTROL_ALLOW_HEADERS));
    }

    #[test]
    fn malformed_origins_are_refused() {
        for value in [
            "ui.test",
            "https://",
            "https://ui.test/path",
            "*, https://a.test",
        ] {
            assert!(cors(value).is_err(), "{value}");
        }
    }
}
