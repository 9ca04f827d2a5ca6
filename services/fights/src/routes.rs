//! The routing table: one flat match from method and path to an endpoint and the label
//! it is counted under.

use http::Method;
use kit::Problem;

/// The fights endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint<'a> {
    List,
    Create,
    Get(&'a str),
    RandomFighters,
    RandomLocation,
    ExecuteFight,
    Hello,
    HelloHeroes,
    HelloVillains,
    HelloLocations,
}

/// Every route label, for the request metrics.
pub const ROUTES: &[&str] = &[
    LIST,
    CREATE,
    GET,
    RANDOM_FIGHTERS,
    RANDOM_LOCATION,
    EXECUTE,
    HELLO,
    HELLO_HEROES,
    HELLO_VILLAINS,
    HELLO_LOCATIONS,
];
const LIST: &str = "GET /api/fights";
const CREATE: &str = "POST /api/fights";
const GET: &str = "GET /api/fights/{id}";
const RANDOM_FIGHTERS: &str = "GET /api/fights/randomfighters";
const RANDOM_LOCATION: &str = "GET /api/fights/randomlocation";
const EXECUTE: &str = "GET /api/fights/execute_fight";
const HELLO: &str = "GET /api/fights/hello";
const HELLO_HEROES: &str = "GET /api/fights/hello/heroes";
const HELLO_VILLAINS: &str = "GET /api/fights/hello/villains";
const HELLO_LOCATIONS: &str = "GET /api/fights/hello/locations";

/// The endpoint of a request and its route label, or the 404/405 problem with the label
/// it is counted under.
pub fn resolve<'a>(
    method: &Method,
    path: &'a str,
) -> Result<(Endpoint<'a>, &'static str), (Problem, &'static str)> {
    let get = |endpoint, label| {
        if method == Method::GET {
            Ok((endpoint, label))
        } else {
            Err((Problem::method_not_allowed("GET"), label))
        }
    };
    match path {
        "/api/fights" => match *method {
            Method::GET => Ok((Endpoint::List, LIST)),
            Method::POST => Ok((Endpoint::Create, CREATE)),
            _ => Err((Problem::method_not_allowed("GET, POST"), LIST)),
        },
        "/api/fights/randomfighters" => get(Endpoint::RandomFighters, RANDOM_FIGHTERS),
        "/api/fights/randomlocation" => get(Endpoint::RandomLocation, RANDOM_LOCATION),
        "/api/fights/execute_fight" => get(Endpoint::ExecuteFight, EXECUTE),
        "/api/fights/hello" => get(Endpoint::Hello, HELLO),
        "/api/fights/hello/heroes" => get(Endpoint::HelloHeroes, HELLO_HEROES),
        "/api/fights/hello/villains" => get(Endpoint::HelloVillains, HELLO_VILLAINS),
        "/api/fights/hello/locations" => get(Endpoint::HelloLocations, HELLO_LOCATIONS),
        _ => match path.strip_prefix("/api/fights/") {
            Some(id) if !id.is_empty() && !id.contains('/') => get(Endpoint::Get(id), GET),
            _ => Err((Problem::unknown_path(), kit::metrics::UNMATCHED)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(method: Method, path: &str) -> u16 {
        match resolve(&method, path) {
            Ok(_) => 200,
            Err((problem, _)) => problem.status.as_u16(),
        }
    }

    #[test]
    fn known_paths_resolve() {
        assert_eq!(
            resolve(&Method::GET, "/api/fights").ok(),
            Some((Endpoint::List, LIST))
        );
        assert_eq!(
            resolve(&Method::POST, "/api/fights").ok(),
            Some((Endpoint::Create, CREATE))
        );
        assert_eq!(
            resolve(&Method::GET, "/api/fights/abc").ok(),
            Some((Endpoint::Get("abc"), GET))
        );
        assert_eq!(
            resolve(&Method::GET, "/api/fights/hello/villains").ok(),
            Some((Endpoint::HelloVillains, HELLO_VILLAINS))
        );
        assert_eq!(
            resolve(&Method::GET, "/api/fights/execute_fight").ok(),
            Some((Endpoint::ExecuteFight, EXECUTE))
        );
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_eq!(status(Method::GET, "/api/fight"), 404);
        assert_eq!(status(Method::GET, "/api/fights/"), 404);
        assert_eq!(status(Method::GET, "/api/fights/a/b"), 404);
        assert_eq!(status(Method::DELETE, "/api/fights"), 405);
        assert_eq!(status(Method::POST, "/api/fights/randomfighters"), 405);
        assert_eq!(status(Method::PUT, "/api/fights/abc"), 405);
        let allow = resolve(&Method::DELETE, "/api/fights")
            .err()
            .and_then(|(p, _)| p.allow);
        assert_eq!(allow, Some("GET, POST"));
    }
}
