//! RFC 9457 problem details: the one error body every service answers with.

use std::{borrow::Cow, fmt};

use http::StatusCode;
use serde::Serialize;

use crate::{
    request_rules,
    response::{self, Response},
};

/// A problem to report to the client as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub detail: Cow<'static, str>,
    pub violations: Vec<Violation>,
    /// Methods the service routes for the path; set only for 405 answers, sent with HEAD
    /// and OPTIONS as the `Allow` header.
    pub allow: Option<&'static str>,
    /// Seconds after which the client may try again, sent as `Retry-After`: set for
    /// refusals of load that passes.
    pub retry_after: Option<u32>,
}

/// One failed validation rule of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub field: Cow<'static, str>,
    pub message: Cow<'static, str>,
}

impl Violation {
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    violations: &'a [Violation],
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            detail: detail.into(),
            violations: Vec::new(),
            allow: None,
            retry_after: None,
        }
    }

    /// The same problem, telling the client to try again after `seconds`.
    pub fn retry_after(self, seconds: u32) -> Self {
        Self {
            retry_after: Some(seconds),
            ..self
        }
    }

    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// The 404 of an id that names nothing: "No hero with id 42".
    pub fn not_found_id(noun: &str, id: impl std::fmt::Display) -> Self {
        Self::not_found(format!("No {noun} with id {id}"))
    }

    /// A 503 for a dependency that failed or refused: the request may succeed later.
    pub fn unavailable(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// A 400 listing every rule the request body broke.
    pub fn invalid(violations: Vec<Violation>) -> Self {
        Self {
            violations,
            ..Self::bad_request("The request body is not valid")
        }
    }

    /// A 405 for a known path; `allow` is the comma-separated list of the methods the
    /// service routes for it, to which HEAD (with GET) and OPTIONS are added.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let full = request_rules::allow_header(allow);
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Allowed methods: {}", full.to_str().unwrap_or(allow)),
            )
        }
    }

    /// The 404 for a path no route matches.
    pub fn unknown_path() -> Self {
        Self::not_found("No resource at this path")
    }

    /// The JSON body of this problem.
    pub(crate) fn body(&self) -> impl Serialize + '_ {
        Body {
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            violations: &self.violations,
        }
    }

    pub fn into_response(self) -> Response {
        let mut resp = response::bytes(
            self.status,
            response::PROBLEM_JSON,
            crate::json::to_bytes(&self.body(), 128),
        );
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(http::header::ALLOW, request_rules::allow_header(allow));
        }
        if let Some(seconds) = self.retry_after {
            resp.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        resp
    }
}

/// The detail, as the client reads it; lets service error enums wrap a problem with
/// `thiserror` like any other source.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Problem {}

impl From<Problem> for Response {
    fn from(problem: Problem) -> Self {
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(resp: Response) -> String {
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn not_found_has_title_status_and_detail() {
        let resp = Problem::not_found("No hero with id 42").into_response();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        assert_eq!(
            body_of(resp).await,
            r#"{"title":"Not Found","status":404,"detail":"No hero with id 42"}"#
        );
    }

    #[tokio::test]
    async fn violations_are_listed() {
        let resp = Problem::invalid(vec![Violation::new(
            "name",
            "size must be between 3 and 50",
        )])
        .into_response();
        assert_eq!(
            body_of(resp).await,
            r#"{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":[{"field":"name","message":"size must be between 3 and 50"}]}"#
        );
    }

    #[test]
    fn method_not_allowed_sets_allow() {
        let resp = Problem::method_not_allowed("GET, POST").into_response();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(resp.headers()["allow"], "GET, HEAD, POST, OPTIONS");
    }
}
