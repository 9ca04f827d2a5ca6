//! The routing table: one flat match from method and path to an endpoint, with the route
//! label each request is counted under.

use http::Method;
use kit::Problem;

const COLLECTION: &str = "/api/locations";
const ITEM: &str = "/api/locations/{id}";
const RANDOM_LOCATION: &str = "/api/locations/random_location";
const RANDOM: &str = "/api/locations/random";
const BY_NAME: &str = "/api/locations/name/{name}";
const HELLO: &str = "/api/locations/hello";

/// Every route label, for `App::ROUTES`.
pub const ROUTES: &[&str] = &[COLLECTION, ITEM, RANDOM_LOCATION, RANDOM, BY_NAME, HELLO];

/// What a request asks for, its path parameters parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Create,
    ReplaceAll,
    DeleteAll,
    Hello,
    Random,
    ByName(String),
    Get(i64),
    Replace(i64),
    Patch(i64),
    Delete(i64),
}

/// The outcome of routing: the label to count the request under and either the endpoint
/// or the problem to answer (404, 405 with `Allow`, 400 for a malformed parameter).
#[derive(Debug)]
pub struct Resolved {
    pub route: &'static str,
    pub endpoint: Result<Endpoint, Problem>,
}

impl Resolved {
    fn to(route: &'static str, endpoint: Endpoint) -> Self {
        Self {
            route,
            endpoint: Ok(endpoint),
        }
    }

    fn refuse(route: &'static str, problem: Problem) -> Self {
        Self {
            route,
            endpoint: Err(problem),
        }
    }
}

/// Routes a request without touching its body, so routing is a pure function and
/// unit-testable.
pub fn resolve(method: &Method, path: &str) -> Resolved {
    let Some(rest) = path.strip_prefix(COLLECTION) else {
        return unknown();
    };
    let segments = match rest.strip_prefix('/') {
        None if rest.is_empty() => None,
        None => return unknown(),
        Some(rest) => Some(rest),
    };
    let wrong_method = |route, allow| Resolved::refuse(route, Problem::method_not_allowed(allow));
    let mut parts = segments.map(|rest| rest.split('/'));
    let first = parts.as_mut().and_then(Iterator::next);
    let second = parts.as_mut().and_then(Iterator::next);
    let more = parts.as_mut().and_then(Iterator::next).is_some();
    if more || first == Some("") || second == Some("") {
        return unknown();
    }
    match (first, second) {
        (None, _) => match *method {
            Method::GET => Resolved::to(COLLECTION, Endpoint::List),
            Method::POST => Resolved::to(COLLECTION, Endpoint::Create),
            Method::PUT => Resolved::to(COLLECTION, Endpoint::ReplaceAll),
            Method::DELETE => Resolved::to(COLLECTION, Endpoint::DeleteAll),
            _ => wrong_method(COLLECTION, "GET, POST, PUT, DELETE"),
        },
        (Some("hello"), None) => get_only(method, HELLO, Endpoint::Hello),
        (Some("random_location"), None) => get_only(method, RANDOM_LOCATION, Endpoint::Random),
        (Some("random"), None) => get_only(method, RANDOM, Endpoint::Random),
        (Some("name"), Some(raw)) => {
            if *method != Method::GET {
                return wrong_method(BY_NAME, "GET");
            }
            match percent_encoding::percent_decode_str(raw).decode_utf8() {
                Ok(name) => Resolved::to(BY_NAME, Endpoint::ByName(name.into_owned())),
                Err(_) => Resolved::refuse(
                    BY_NAME,
                    Problem::bad_request("The name is not valid UTF-8 after percent-decoding"),
                ),
            }
        }
        (Some(raw), None) => {
            let endpoint: fn(i64) -> Endpoint = match *method {
                Method::GET => Endpoint::Get,
                Method::PUT => Endpoint::Replace,
                Method::PATCH => Endpoint::Patch,
                Method::DELETE => Endpoint::Delete,
                _ => return wrong_method(ITEM, "GET, PUT, PATCH, DELETE"),
            };
            match raw.parse() {
                Ok(id) => Resolved::to(ITEM, endpoint(id)),
                Err(_) => Resolved::refuse(
                    ITEM,
                    Problem::bad_request(format!("The id must be an integer, got '{raw}'")),
                ),
            }
        }
        (Some(_), Some(_)) => unknown(),
    }
}

fn get_only(method: &Method, route: &'static str, endpoint: Endpoint) -> Resolved {
    if *method == Method::GET {
        Resolved::to(route, endpoint)
    } else {
        Resolved::refuse(route, Problem::method_not_allowed("GET"))
    }
}

fn unknown() -> Resolved {
    Resolved::refuse(kit::metrics::UNMATCHED, Problem::unknown_path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: Method, path: &str) -> Result<Endpoint, u16> {
        resolve(&method, path)
            .endpoint
            .map_err(|p| p.status.as_u16())
    }

    #[test]
    fn every_endpoint_is_reachable() {
        use Endpoint::*;
        for (method, path, expected) in [
            (Method::GET, "/api/locations", List),
            (Method::POST, "/api/locations", Create),
            (Method::PUT, "/api/locations", ReplaceAll),
            (Method::DELETE, "/api/locations", DeleteAll),
            (Method::GET, "/api/locations/hello", Hello),
            (Method::GET, "/api/locations/random_location", Random),
            (Method::GET, "/api/locations/random", Random),
            (
                Method::GET,
                "/api/locations/name/Port%20Halcyon",
                ByName("Port Halcyon".into()),
            ),
            (Method::GET, "/api/locations/name/a+b", ByName("a+b".into())),
            (Method::GET, "/api/locations/42", Get(42)),
            (Method::PUT, "/api/locations/42", Replace(42)),
            (Method::PATCH, "/api/locations/42", Patch(42)),
            (Method::DELETE, "/api/locations/-1", Delete(-1)),
        ] {
            assert_eq!(
                endpoint(method.clone(), path),
                Ok(expected),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn malformed_ids_are_400() {
        for path in [
            "/api/locations/abc",
            "/api/locations/1.5",
            "/api/locations/99999999999999999999",
        ] {
            assert_eq!(endpoint(Method::GET, path), Err(400), "{path}");
        }
        assert_eq!(endpoint(Method::GET, "/api/locations/name/%ff"), Err(400));
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in [
            "/",
            "/api/locationsx",
            "/api/locations/",
            "/api/locations/1/2",
            "/api/locations/name/",
            "/api/locations/name/a/b",
            "/api/heroes",
        ] {
            assert_eq!(endpoint(Method::GET, path), Err(404), "{path}");
        }
    }

    #[test]
    fn wrong_methods_are_405_with_allow() {
        for (method, path, allow) in [
            (Method::PATCH, "/api/locations", "GET, POST, PUT, DELETE"),
            (Method::POST, "/api/locations/1", "GET, PUT, PATCH, DELETE"),
            (Method::DELETE, "/api/locations/random", "GET"),
            (Method::POST, "/api/locations/hello", "GET"),
            (Method::PUT, "/api/locations/name/x", "GET"),
        ] {
            let problem = resolve(&method, path).endpoint.err();
            assert_eq!(
                problem.and_then(|p| p.allow),
                Some(allow),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn labels_are_declared() {
        for path in [
            "/api/locations",
            "/api/locations/7",
            "/api/locations/name/x",
            "/api/locations/random",
        ] {
            assert!(
                ROUTES.contains(&resolve(&Method::GET, path).route),
                "{path}"
            );
        }
        assert_eq!(
            resolve(&Method::GET, "/nope").route,
            kit::metrics::UNMATCHED
        );
    }
}
