//! The optional admin token of the catalogue services: when `ADMIN_TOKEN` is set, a
//! write (any method but GET, HEAD and OPTIONS) needs `Authorization: Bearer <token>`.

use std::fmt;

use http::{header, request::Parts, HeaderValue, Method, StatusCode};

use crate::{
    config::{ConfigError, Env},
    Problem, Response,
};

/// `ADMIN_TOKEN`, or nothing when unset or empty: then writes are open, as in the
/// original system.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AdminToken(Option<Box<[u8]>>);

/// Never the token itself: a configuration printed to a log must not carry it.
impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "AdminToken(set)"
        } else {
            "AdminToken(unset)"
        })
    }
}

impl AdminToken {
    /// `ADMIN_TOKEN`, refused when it holds anything a client could not send in an
    /// `Authorization` header (spaces, control or non-ASCII characters).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let token = env.string("ADMIN_TOKEN", "");
        if token.is_empty() {
            return Ok(Self(None));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError {
                var: "ADMIN_TOKEN".to_owned(),
                message: "must be printable ASCII without spaces".to_owned(),
            });
        }
        Ok(Self(Some(token.into_bytes().into_boxed_slice())))
    }

    /// Whether writes need the token.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Whether `request` may go on: a read, any request when no token is set, a write
    /// carrying the token. Else answer [`unauthorized`].
    pub fn permits(&self, request: &Parts) -> bool {
        let Some(token) = &self.0 else { return true };
        if matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return true;
        }
        let authorization = request.headers.get(header::AUTHORIZATION);
        same_token(authorization.map(HeaderValue::as_bytes), token)
    }

    /// Whether a write carrying `authorization` (the value of an `Authorization` header,
    /// or of gRPC metadata of that name) may go on: always when no token is set.
    pub fn permits_write(&self, authorization: Option<&[u8]>) -> bool {
        self.0
            .as_deref()
            .is_none_or(|token| same_token(authorization, token))
    }
}

/// Whether `authorization` is `Bearer <token>`.
fn same_token(authorization: Option<&[u8]>, token: &[u8]) -> bool {
    authorization
        .and_then(bearer)
        .is_some_and(|sent| same(sent, token))
}

/// The credentials of a `Bearer` authorization (the scheme is case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
}

/// Compares in time that depends on the lengths only, not on where the bytes differ, so
/// that timing cannot reveal the token a byte at a time.
fn same(sent: &[u8], token: &[u8]) -> bool {
    if sent.len() != token.len() {
        return false;
    }
    let difference = sent
        .iter()
        .zip(token)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

/// The 401 to a write without the admin token, with `WWW-Authenticate: Bearer`.
pub fn unauthorized() -> Response {
    let problem = Problem::new(
        StatusCode::UNAUTHORIZED,
        "This write needs Authorization: Bearer with the admin token",
    );
    let mut response = problem.into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> Result<AdminToken, ConfigError> {
        AdminToken::from_env(&Env::from_pairs([("ADMIN_TOKEN", value)]))
    }

    fn status(admin: &AdminToken, method: Method, authorization: Option<&str>) -> u16 {
        let mut request = http::Request::builder().method(method).uri("/api/heroes");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let (parts, ()) = request
            .body(())
            .map(http::Request::into_parts)
            .unwrap_or_else(|_| http::Request::new(()).into_parts());
        if admin.permits(&parts) {
            200
        } else {
            unauthorized().status().as_u16()
        }
    }

    #[test]
    fn unset_or_empty_leaves_writes_open() {
        for admin in [AdminToken::default(), token("").unwrap_or_default()] {
            assert!(!admin.is_set());
            assert_eq!(status(&admin, Method::DELETE, None), 200);
        }
    }

    #[test]
    fn a_set_token_guards_writes_only() {
        let admin = token("s3cret-token").unwrap_or_default();
        assert!(admin.is_set());
        assert_eq!(status(&admin, Method::GET, None), 200);
        assert_eq!(status(&admin, Method::HEAD, None), 200);
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(status(&admin, method.clone(), None), 401);
            assert_eq!(status(&admin, method.clone(), Some("Bearer wrong")), 401);
            assert_eq!(
                status(&admin, method.clone(), Some("Basic s3cret-token")),
                401
            );
            assert_eq!(
                status(&admin, method.clone(), Some("Bearer s3cret-toke")),
                401
            );
            assert_eq!(
                status(&admin, method.clone(), Some("Bearer s3cret-token")),
                200
            );
            assert_eq!(status(&admin, method, Some("bearer s3cret-token")), 200);
        }
    }

    #[test]
    fn a_write_outside_http_needs_the_same_bearer() {
        let admin = token("s3cret-token").unwrap_or_default();
        assert!(admin.permits_write(Some(b"Bearer s3cret-token")));
        assert!(!admin.permits_write(Some(b"Bearer wrong")));
        assert!(!admin.permits_write(None));
        assert!(AdminToken::default().permits_write(None));
    }

    #[test]
    fn tokens_a_header_cannot_carry_are_refused_and_never_printed() {
        for bad in ["two words", "tab\there", "ünï"] {
            assert_eq!(
                token(bad).err().map(|e| e.var),
                Some("ADMIN_TOKEN".to_owned())
            );
        }
        let admin = token("s3cret-token").unwrap_or_default();
        assert_eq!(format!("{admin:?}"), "AdminToken(set)");
    }
}
