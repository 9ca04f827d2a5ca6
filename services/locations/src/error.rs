//! The service's one error type and the only place errors become statuses: HTTP statuses
//! with problem bodies, and gRPC statuses with the same words.

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

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        grpc_status(err.into_problem())
    }
}

/// The gRPC status of an HTTP problem, so that both APIs answer one failure alike: the
/// code that means what the HTTP status means, and the detail with every violation
/// spelled out, as a gRPC client has no problem body to read them from.
pub fn grpc_status(problem: Problem) -> tonic::Status {
    use tonic::Code;
    let code = match problem.status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidArgument,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::CONFLICT => Code::AlreadyExists,
        StatusCode::PAYLOAD_TOO_LARGE => Code::ResourceExhausted,
        StatusCode::REQUEST_TIMEOUT => Code::DeadlineExceeded,
        StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
        _ => Code::Internal,
    };
    if problem.violations.is_empty() {
        return tonic::Status::new(code, problem.detail);
    }
    let violations: Vec<String> = problem
        .violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.message))
        .collect();
    tonic::Status::new(
        code,
        format!("{}: {}", problem.detail, violations.join("; ")),
    )
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

    #[test]
    fn grpc_statuses_mean_what_the_http_ones_do() {
        let duplicate = tonic::Status::from(server_error(1062));
        assert_eq!(duplicate.code(), tonic::Code::AlreadyExists);
        assert_eq!(
            duplicate.message(),
            "A location with this name already exists"
        );
        let down = tonic::Status::from(server_error(1040));
        assert_eq!(down.code(), tonic::Code::Unavailable);
        let invalid = grpc_status(Problem::invalid(vec![
            kit::Violation::new("locations[0].name", "must not be blank"),
            kit::Violation::new("locations[1].type", "must be one of CITY"),
        ]));
        assert_eq!(invalid.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            invalid.message(),
            "The request body is not valid: locations[0].name: must not be blank; \
             locations[1].type: must be one of CITY"
        );
    }
}
