//! Which endpoint a method and path name: one flat match, no allocation.

use http::Method;
use kit::Problem;

use crate::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    List,
    Create,
    ReplaceAll,
    DeleteAll,
    Hello,
    Random,
    Get(i64),
    Update(i64),
    Patch(i64),
    Delete(i64),
}

/// Every label `Route::label` returns, for the metrics table.
pub const LABELS: &[&str] = &[
    "list",
    "create",
    "replace_all",
    "delete_all",
    "hello",
    "random",
    "get",
    "update",
    "patch",
    "delete",
];

impl Route {
    pub fn label(self) -> &'static str {
        match self {
            Route::List => "list",
            Route::Create => "create",
            Route::ReplaceAll => "replace_all",
            Route::DeleteAll => "delete_all",
            Route::Hello => "hello",
            Route::Random => "random",
            Route::Get(_) => "get",
            Route::Update(_) => "update",
            Route::Patch(_) => "patch",
            Route::Delete(_) => "delete",
        }
    }
}

pub fn route(kind: &Kind, method: &Method, path: &str) -> Result<Route, Problem> {
    let Some(rest) = path.strip_prefix(kind.base) else {
        return Err(Problem::unknown_path());
    };
    let m = method.clone();
    match rest {
        "" | "/" => match m {
            Method::GET => Ok(Route::List),
            Method::POST => Ok(Route::Create),
            Method::PUT => Ok(Route::ReplaceAll),
            Method::DELETE => Ok(Route::DeleteAll),
            _ => Err(Problem::method_not_allowed("GET, POST, PUT, DELETE")),
        },
        "/hello" => match m {
            Method::GET => Ok(Route::Hello),
            _ => Err(Problem::method_not_allowed("GET")),
        },
        _ if rest == "/random" || rest.strip_prefix('/') == Some(kind.random_path) => match m {
            Method::GET => Ok(Route::Random),
            _ => Err(Problem::method_not_allowed("GET")),
        },
        _ => {
            let Some(segment) = rest.strip_prefix('/').filter(|s| !s.contains('/')) else {
                return Err(Problem::unknown_path());
            };
            let by_id: fn(i64) -> Route = match m {
                Method::GET => Route::Get,
                Method::PUT => Route::Update,
                Method::PATCH => Route::Patch,
                Method::DELETE => Route::Delete,
                _ => return Err(Problem::method_not_allowed("GET, PUT, PATCH, DELETE")),
            };
            segment.parse().map(by_id).map_err(|_| {
                Problem::bad_request(format!(
                    "The {} id must be an integer, got '{segment}'",
                    kind.noun
                ))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HEROES, VILLAINS};

    fn status(result: Result<Route, Problem>) -> Result<Route, u16> {
        result.map_err(|p| p.status.as_u16())
    }

    #[test]
    fn collection_and_fixed_paths() {
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes")),
            Ok(Route::List)
        );
        assert_eq!(
            status(route(HEROES, &Method::POST, "/api/heroes/")),
            Ok(Route::Create)
        );
        assert_eq!(
            status(route(HEROES, &Method::PUT, "/api/heroes")),
            Ok(Route::ReplaceAll)
        );
        assert_eq!(
            status(route(HEROES, &Method::DELETE, "/api/heroes")),
            Ok(Route::DeleteAll)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/hello")),
            Ok(Route::Hello)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/random")),
            Ok(Route::Random)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/random_hero")),
            Ok(Route::Random)
        );
        assert_eq!(
            status(route(
                VILLAINS,
                &Method::GET,
                "/api/villains/random_villain"
            )),
            Ok(Route::Random)
        );
    }

    #[test]
    fn by_id() {
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/51")),
            Ok(Route::Get(51))
        );
        assert_eq!(
            status(route(HEROES, &Method::PUT, "/api/heroes/51")),
            Ok(Route::Update(51))
        );
        assert_eq!(
            status(route(HEROES, &Method::PATCH, "/api/heroes/51")),
            Ok(Route::Patch(51))
        );
        assert_eq!(
            status(route(HEROES, &Method::DELETE, "/api/heroes/-1")),
            Ok(Route::Delete(-1))
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/abc")),
            Err(400)
        );
        assert_eq!(
            status(route(
                HEROES,
                &Method::GET,
                "/api/heroes/99999999999999999999"
            )),
            Err(400)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/random_villain")),
            Err(400)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroes/1/2")),
            Err(404)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/heroesx")),
            Err(404)
        );
        assert_eq!(
            status(route(HEROES, &Method::GET, "/api/villains")),
            Err(404)
        );
        assert_eq!(
            status(route(HEROES, &Method::POST, "/api/heroes/1")),
            Err(405)
        );
        assert_eq!(
            status(route(HEROES, &Method::PATCH, "/api/heroes")),
            Err(405)
        );
        assert_eq!(
            status(route(HEROES, &Method::POST, "/api/heroes/random")),
            Err(405)
        );
    }
}
