//! Bounded reading of request bodies.

use bytes::Buf;
use http::StatusCode;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::Problem;

/// Reads the whole body into one contiguous buffer (simd-json parses in place), refusing
/// with 413 anything larger than `limit` bytes before reading it where the client
/// announced its length.
pub async fn read(body: Incoming, limit: usize) -> Result<Vec<u8>, Problem> {
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body is larger than {limit} bytes"),
        )
    };
    let announced = hyper::body::Body::size_hint(&body).lower();
    if announced > limit as u64 {
        return Err(too_large());
    }
    let collected = Limited::new(body, limit).collect().await.map_err(|err| {
        if err.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            Problem::bad_request("Request body could not be read")
        }
    })?;
    let mut buf = collected.aggregate();
    let mut out = Vec::with_capacity(buf.remaining());
    while buf.has_remaining() {
        let chunk = buf.chunk();
        out.extend_from_slice(chunk);
        let n = chunk.len();
        buf.advance(n);
    }
    Ok(out)
}
