//! The one error type of the catalogue handlers and how each case is answered.

use http::StatusCode;
use kit::{Problem, Response};

#[derive(Debug)]
pub enum Error {
    /// Bad input or a missing row: answered as is.
    Problem(Problem),
    /// No connection could be had from the pool in time.
    Pool(deadpool_postgres::PoolError),
    Db(tokio_postgres::Error),
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        Self::Pool(err)
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        Self::Db(err)
    }
}

impl Error {
    /// Data errors the database reports for a value the validation let through are the
    /// client's (400); everything else means the database is not usable right now (503).
    pub fn into_response(self) -> Response {
        let problem = match self {
            Error::Problem(problem) => problem,
            Error::Db(err) if err.code().is_some_and(|c| c.code().starts_with("22")) => {
                Problem::bad_request(format!(
                    "The database refused a value: {}",
                    db_message(&err)
                ))
            }
            Error::Db(err) => {
                log::warn!("database error: {err}");
                unavailable()
            }
            Error::Pool(err) => {
                log::warn!("no database connection: {err}");
                unavailable()
            }
        };
        problem.into_response()
    }
}

fn db_message(err: &tokio_postgres::Error) -> &str {
    err.as_db_error().map_or("invalid value", |db| db.message())
}

fn unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The database is not available, try again shortly",
    )
}
