//! The service's one error type and the only place errors become statuses and problem
//! bodies.

use http::StatusCode;
use kit::{Problem, Response};

/// MariaDB's "Duplicate entry for key": the unique name was taken.
const ER_DUP_ENTRY: u16 = 1062;

/// Why a request failed. Handlers return it; the router answers it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client mistake or a missing resource, already phrased for the client.
    #[error(transparent)]
    Client(#[from] Problem),
    /// The database refused or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] mysql_async::Error),
}

impl From<Error> for Response {
    fn from(err: Error) -> Self {
        err.into_problem().into_response()
    }
}

impl Error {
    /// The problem answer: duplicates are 409; anything else the database refused, or a
    /// database that cannot be reached, 503 (validation keeps bad input from getting
    /// there).
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
                log::warn!("database refused: {err}");
                Problem::unavailable("The database refused the request")
            }
            Self::Database(err) => {
                log::warn!("database unavailable: {err}");
                Problem::unavailable("The database is unavailable")
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
        // No such table, too many connections, access denied, lock wait timeout,
        // deadlock: the database refused, the client did nothing wrong.
        for code in [1146, 1040, 1045, 1205, 1213] {
            let problem = server_error(code).into_problem();
            assert_eq!(problem.status, StatusCode::SERVICE_UNAVAILABLE, "{code}");
            assert_eq!(problem.detail, "The database refused the request", "{code}");
        }
        let io = Error::Database(mysql_async::Error::Io(mysql_async::IoError::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        )));
        assert_eq!(io.into_problem().status, StatusCode::SERVICE_UNAVAILABLE);
        let missing = Error::from(Problem::not_found("No location with id 1"));
        assert_eq!(missing.into_problem().status, StatusCode::NOT_FOUND);
    }
}
