//! Request bodies: read in full by the serve loop before a request takes an in-flight
//! slot, within a size limit, a deadline for the whole body and a minimum data rate.
//!
//! Reading in the serve loop rather than in the handlers is what keeps slow clients from
//! holding in-flight slots: a body trickling in at one byte a second costs a connection
//! (bounded by the connection limit) and a timer, never a place among the requests
//! being handled, and it is cut off with 408 once the rate or the deadline is missed.
//!
//! A chunked body is judged by the bytes that arrive: hyper does not expose the chunk
//! sizes a client declares, so a body declaring a huge chunk gets 413 as soon as its
//! data crosses the limit, or 408 when it stalls before that.

use std::time::{Duration, Instant};

use http::StatusCode;
use http_body_util::BodyExt;
use hyper::body::Body as _;

use crate::Problem;

/// How long a body may take to start flowing before the minimum data rate applies, so
/// that a client waiting for `100 Continue` or a slow first packet is not cut off.
const RATE_GRACE: Duration = Duration::from_secs(1);

/// The body of a request as handlers see it: already read in full by the serve loop
/// within the limits of [`BodyLimits`].
#[derive(Debug, Default)]
pub struct Incoming(Vec<u8>);

impl Incoming {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

/// The bounds every request body is read within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest body; larger ones get 413.
    pub max_bytes: usize,
    /// The whole body must arrive within this time after the request head; else 408.
    pub timeout: Duration,
    /// After [`RATE_GRACE`], the body must keep arriving at least this fast (bytes per
    /// second); else 408. 0 disables the rate check, leaving only the deadline.
    pub min_bytes_per_sec: u64,
}

/// The body of a request for a handler; 413 when it is larger than `limit`, which
/// lets an endpoint accept less than the server-wide [`BodyLimits::max_bytes`].
pub async fn read(body: Incoming, limit: usize) -> Result<Vec<u8>, Problem> {
    if body.0.len() > limit {
        return Err(too_large(limit));
    }
    Ok(body.0)
}

/// Reads a whole request body within `limits` into one contiguous buffer (simd-json
/// parses in place). A body whose announced length is over the limit is refused
/// before any of it is read.
pub(crate) async fn read_within(
    mut body: hyper::body::Incoming,
    limits: &BodyLimits,
) -> Result<Vec<u8>, Problem> {
    if body.is_end_stream() {
        return Ok(Vec::new());
    }
    let announced = body.size_hint().lower();
    if announced > limits.max_bytes as u64 {
        return Err(too_large(limits.max_bytes));
    }
    let start = Instant::now();
    let deadline = start + limits.timeout;
    // `announced` is at most `max_bytes` here, so the cast cannot truncate.
    let mut out = Vec::with_capacity(announced as usize);
    loop {
        let until = deadline.min(rate_deadline(start, out.len(), limits.min_bytes_per_sec));
        let frame = match tokio::time::timeout_at(until.into(), body.frame()).await {
            Err(_) => return Err(too_slow(limits)),
            Ok(None) => return Ok(out),
            Ok(Some(Err(_))) => return Err(Problem::bad_request("Request body could not be read")),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limits.max_bytes {
                return Err(too_large(limits.max_bytes));
            }
            out.extend_from_slice(&data);
        }
    }
}

/// The instant by which more than `received` bytes must have arrived to keep up
/// `min_rate` bytes per second after the grace period.
fn rate_deadline(start: Instant, received: usize, min_rate: u64) -> Instant {
    if min_rate == 0 {
        return start + Duration::from_secs(365 * 24 * 3600);
    }
    let secs = received as f64 / min_rate as f64;
    start + RATE_GRACE + Duration::from_secs_f64(secs)
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Request body is larger than {limit} bytes"),
    )
}

fn too_slow(limits: &BodyLimits) -> Problem {
    Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "Request body did not arrive in time: it must be complete within {} ms and \
             arrive at {} bytes per second or faster",
            limits.timeout.as_millis(),
            limits.min_bytes_per_sec
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_deadline_moves_with_the_bytes_received() {
        let start = Instant::now();
        assert_eq!(rate_deadline(start, 0, 1000), start + RATE_GRACE);
        assert_eq!(
            rate_deadline(start, 500, 1000),
            start + RATE_GRACE + Duration::from_millis(500)
        );
        assert!(rate_deadline(start, 0, 0) > start + Duration::from_secs(3600));
    }

    #[tokio::test]
    async fn a_handler_limit_below_the_server_limit_is_413() {
        let body = Incoming::new(vec![b'x'; 10]);
        let err = read(body, 5).await.err().map(|p| p.status);
        assert_eq!(err, Some(StatusCode::PAYLOAD_TOO_LARGE));
        assert_eq!(read(Incoming::new(vec![1, 2]), 5).await, Ok(vec![1, 2]));
    }
}
