//! Response builders: every response carries a complete body with its Content-Length.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use http_body_util::{
    channel::{Channel, Sender},
    Either, Full,
};
use serde::Serialize;

/// A complete body (sent with its Content-Length), or one streamed in chunks for
/// answers too large to hold in memory.
pub type Body = Either<Full<Bytes>, Channel<Bytes, std::io::Error>>;

/// The response type of every handler.
pub type Response = http::Response<Body>;

/// Chunks a streamed body holds before the producer waits for the client.
const STREAM_BUFFER: usize = 8;

pub const JSON: HeaderValue = HeaderValue::from_static("application/json");
pub const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");
pub const TEXT: HeaderValue = HeaderValue::from_static("text/plain;charset=UTF-8");

/// A response with the given body and content type.
pub fn bytes(status: StatusCode, content_type: HeaderValue, body: impl Into<Bytes>) -> Response {
    let mut resp = http::Response::new(Either::Left(Full::new(body.into())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    resp
}

/// A response whose body is sent chunk by chunk through the returned sender; the
/// producer waits when the client reads slower than it writes. Aborting the sender
/// cuts the connection, so a client never mistakes a broken stream for a whole one.
pub fn stream(
    status: StatusCode,
    content_type: HeaderValue,
) -> (Sender<Bytes, std::io::Error>, Response) {
    let (sender, body) = Channel::new(STREAM_BUFFER);
    let mut resp = http::Response::new(Either::Right(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    (sender, resp)
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
    let mut resp = http::Response::new(Either::Left(Full::new(Bytes::new())));
    *resp.status_mut() = status;
    resp
}
