//! The one error type of the catalogue handlers and how each case is answered.

use kit::{Problem, Response};

/// Why a catalogue request failed. Handlers return it; the router answers it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client mistake or a missing resource, already phrased for the client.
    #[error(transparent)]
    Client(#[from] Problem),
    /// No connection could be had from the pool in time.
    #[error("no database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
}

/// Data errors the database reports for a value the validation let through are the
/// client's (400); any other failure or refusal of the database means it is not usable
/// right now (503).
impl From<Error> for Response {
    fn from(err: Error) -> Self {
        let problem = match err {
            Error::Client(problem) => problem,
            Error::Db(err) if err.code().is_some_and(|c| c.code().starts_with("22")) => {
                Problem::bad_request(format!(
                    "The database refused a value: {}",
                    db_message(&err)
                ))
            }
            err @ (Error::Db(_) | Error::Pool(_)) => {
                log::warn!("{err}");
                Problem::unavailable("The database is unavailable")
            }
        };
        problem.into_response()
    }
}

fn db_message(err: &tokio_postgres::Error) -> &str {
    err.as_db_error().map_or("invalid value", |db| db.message())
}
