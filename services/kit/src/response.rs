//! Response builders: complete bodies sent with their Content-Length, and JSON arrays
//! streamed in chunks for listings of any length.

use std::{fmt, pin::pin, time::Duration};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
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

/// A 200 JSON array of `items`, encoded and sent in chunks of about [`CHUNK`] bytes as
/// the items arrive, so that a listing of any length is never held whole. The client
/// reading slower than the items come makes the producer wait. An item that fails
/// mid-way aborts the body and with it the connection: the client sees a broken
/// answer, never a short but valid array; so does a client that takes no chunk for
/// [`CHUNK_SEND_TIMEOUT`].
pub fn json_array<S, T, E>(items: S) -> Response
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: Serialize + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let (sender, body) = Channel::new(STREAM_BUFFER);
    let mut resp = http::Response::new(Either::Right(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, JSON);
    tokio::spawn(send_array(items, sender));
    resp
}

/// Bytes gathered before a chunk of a streamed array is sent.
const CHUNK: usize = 16 * 1024;

/// Longest a streamed array waits for its client to take the next chunk. A listing holds
/// a database connection (or cursor) and one of the few listing places while it waits,
/// so a client that stops reading is cut off rather than holding them for good.
const CHUNK_SEND_TIMEOUT: Duration = Duration::from_secs(10);

async fn send_array<S, T, E>(items: S, mut sender: Sender<Bytes, std::io::Error>)
where
    S: Stream<Item = Result<T, E>>,
    T: Serialize,
    E: fmt::Display,
{
    let mut items = pin!(items);
    let mut out = Vec::with_capacity(CHUNK + 1024);
    out.push(b'[');
    let mut first = true;
    while let Some(item) = items.next().await {
        let written = item.map_err(|err| err.to_string()).and_then(|item| {
            if !first {
                out.push(b',');
            }
            first = false;
            simd_json::to_writer(&mut out, &item).map_err(|err| err.to_string())
        });
        if let Err(err) = written {
            log::warn!("streamed JSON array broken off: {err}");
            sender.abort(std::io::Error::other(err));
            return;
        }
        if out.len() >= CHUNK {
            let chunk = std::mem::replace(&mut out, Vec::with_capacity(CHUNK + 1024));
            sender = match send_chunk(sender, chunk).await {
                Some(sender) => sender,
                None => return,
            };
        }
    }
    out.push(b']');
    send_chunk(sender, out).await;
}

/// Hands `chunk` to the body within [`CHUNK_SEND_TIMEOUT`]; `None` when the client has
/// gone or, too slow, was cut off.
async fn send_chunk(
    mut sender: Sender<Bytes, std::io::Error>,
    chunk: Vec<u8>,
) -> Option<Sender<Bytes, std::io::Error>> {
    match tokio::time::timeout(CHUNK_SEND_TIMEOUT, sender.send_data(chunk.into())).await {
        Ok(Ok(())) => Some(sender),
        Ok(Err(_)) => None,
        Err(_) => {
            sender.abort(std::io::Error::from(std::io::ErrorKind::TimedOut));
            None
        }
    }
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
