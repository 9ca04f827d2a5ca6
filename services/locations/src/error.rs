//! The service's one error type and the only place errors become statuses and problem
//! bodies.

use http::StatusCode;
use kit::{Problem, Response};

/// MariaDB's "Duplicate entry for key": the unique name was taken.
const ER_DUP_ENTRY: u16 = 1062;

/// Why a request failed. Handlers return it; the router answers it.
#[derive(Debug)]
pub enum Error {
    /// A client mistake or a missing resource, already phrased for the client.
    Client(Problem),
    /// The database refused or could not be reached.
    Database(mysql_async::Error),
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Self::Client(problem)
    }
}

impl From<mysql_async::Error> for Error {
    fn from(err: mysql_async::Error) -> Self {
        Self::Database(err)
    }
}

impl Error {
    /// The problem answer: duplicates are 409, an unreachable database 503, anything
    /// else the database refused 500 (validation keeps bad input from getting there).
    pub fn into_response(self) -> Response {
        self.into_problem().into_response()
    }

    fn into_problem(self) -> Problem {
        match self {
            Self::Client(problem) => problem,
            Self::Database(mysql_async::Error::Server(err)) if err.code == ER_DUP_ENTRY => {
                Problem::new(
                    StatusCode::CONFLICT,
                    "A location with this name already exists",
                )
            }
            Self::Database(err @ mysql_async::Error::Server(_)) => {
                log::error!("database error: {err}");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The database refused the request",
                )
            }
            Self::Database(err) => {
                log::warn!("database unavailable: {err}");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> Error {
        Error::Database(mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "x".into(),
            state: "23000".into(),
        }))
    }

    #[test]
    fn statuses() {
        assert_eq!(
            server_error(1062).into_problem().status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            server_error(1146).into_problem().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let io = Error::Database(mysql_async::Error::Io(mysql_async::IoError::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        )));
        assert_eq!(io.into_problem().status, StatusCode::SERVICE_UNAVAILABLE);
        let missing = Error::from(Problem::not_found("No location with id 1"));
        assert_eq!(missing.into_problem().status, StatusCode::NOT_FOUND);
    }
}
