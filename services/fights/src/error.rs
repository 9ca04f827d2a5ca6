//! The service's one error type and the status and problem body of each variant.

use std::time::Duration;

use http::StatusCode;
use kit::{Problem, Response};

/// Everything a fights request can fail with. Downstream trouble is absent on purpose:
/// it is answered with fallbacks, never with an error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A client mistake or a missing resource, already phrased for the client.
    #[error(transparent)]
    Client(#[from] Problem),
    #[error("'{0}' is not a fight id")]
    BadId(String),
    /// MongoDB failed or could not be reached.
    #[error("MongoDB failed: {0}")]
    Store(#[from] mongodb::error::Error),
    /// MongoDB did not answer within the configured bound.
    #[error("MongoDB did not answer within {} ms", .0.as_millis())]
    StoreTimeout(Duration),
    /// An insert outlived the bound and so did the delete that would have withdrawn it:
    /// the fight may be stored.
    #[error("MongoDB did not answer an insert nor its withdrawal within {} ms", .0.as_millis())]
    StoreUnknown(Duration),
    /// The group-commit writer is gone (the service is stopping).
    #[error("the fight writer has stopped")]
    WriterStopped,
    /// The insert queue is full.
    #[error("too many fights waiting to be stored")]
    Overloaded,
    /// No statistics to answer: MongoDB failed or was too slow to compute them (the
    /// refresh logs why).
    #[error("no fight statistics")]
    StatsUnavailable,
}

/// The one place where an error becomes a status and a problem body.
impl From<Error> for Response {
    fn from(err: Error) -> Self {
        let problem = match err {
            Error::Client(problem) => problem,
            Error::BadId(id) => Problem::bad_request(format!(
                "Fight id must be 24 hexadecimal digits, got '{id}'"
            )),
            err @ (Error::Store(_)
            | Error::StoreTimeout(_)
            | Error::StoreUnknown(_)
            | Error::WriterStopped) => {
                log::warn!("fight store failed: {err}");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Fights cannot be stored or read right now",
                )
            }
            Error::Overloaded => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many fights waiting to be stored, try again shortly",
            ),
            Error::StatsUnavailable => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "MongoDB could not compute the fight statistics right now",
            ),
        };
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_has_its_status() {
        let cases = [
            (Error::Client(Problem::bad_request("x")), 400),
            (Error::Client(Problem::not_found_id("fight", "a")), 404),
            (Error::BadId("a".into()), 400),
            (Error::StoreTimeout(Duration::from_secs(3)), 503),
            (Error::WriterStopped, 503),
            (Error::Overloaded, 503),
            (Error::StatsUnavailable, 503),
        ];
        for (err, status) in cases {
            assert_eq!(Response::from(err).status().as_u16(), status);
        }
    }
}
