//! Response builders: every response carries a complete body with its Content-Length.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use http_body_util::Full;
use serde::Serialize;

/// The response type of every handler.
pub type Response = http::Response<Full<Bytes>>;

pub const JSON: HeaderValue = HeaderValue::from_static("application/json");
pub const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");
pub const TEXT: HeaderValue = HeaderValue::from_static("text/plain;charset=UTF-8");

/// A response with the given body and content type.
pub fn bytes(status: StatusCode, content_type: HeaderValue, body: impl Into<Bytes>) -> Response {
    let mut resp = http::Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    resp
}

/// `value` as a JSON body; `capacity` is a guess of its encoded size so that the buffer
/// is allocated once.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T, capacity: usize) -> Response {
    bytes(status, JSON, crate::json::to_bytes(value, capacity))
}

pub fn text(status: StatusCode, body: &'static str) -> Response {
    bytes(status, TEXT, Bytes::from_static(body.as_bytes()))
}

/// An empty answer such as 204 No Content.
pub fn empty(status: StatusCode) -> Response {
    let mut resp = http::Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}
