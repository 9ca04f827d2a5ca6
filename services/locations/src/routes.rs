//! Which endpoint a method and path name: one flat match, no allocation. Path
//! parameters stay text here; the handler parses them like any other input, so a
//! malformed one is a 400 counted under its endpoint.

use http::Method;
use kit::Problem;

/// Every locations endpoint; `handlers::dispatch` runs each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    List,
    Create,
    ReplaceAll,
    DeleteAll,
    Hello,
    RandomLocation,
    Random,
    /// The name as sent, still percent-encoded.
    ByName(&'a str),
    Get(&'a str),
    Replace(&'a str),
    Patch(&'a str),
    Delete(&'a str),
    /// A seed row's portrait (`pictures/{file}`), drawn by [`kit::portrait`].
    Picture(&'a str),
}

impl Endpoint<'static> {
    /// One of each endpoint (path parameters are placeholders).
    pub const ALL: [Self; 13] = [
        Endpoint::List,
        Endpoint::Create,
        Endpoint::ReplaceAll,
        Endpoint::DeleteAll,
        Endpoint::Hello,
        Endpoint::RandomLocation,
        Endpoint::Random,
        Endpoint::ByName("{name}"),
        Endpoint::Get("{id}"),
        Endpoint::Replace("{id}"),
        Endpoint::Patch("{id}"),
        Endpoint::Delete("{id}"),
        Endpoint::Picture("{file}"),
    ];

    /// The label of every endpoint, for the request metrics.
    pub fn labels() -> Vec<&'static str> {
        Self::ALL.iter().map(Endpoint::label).collect()
    }
}

impl Endpoint<'_> {
    /// The operation as the OpenAPI document names it, the `route` label of the request
    /// metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Endpoint::List => "GET /api/locations",
            Endpoint::Create => "POST /api/locations",
            Endpoint::ReplaceAll => "PUT /api/locations",
            Endpoint::DeleteAll => "DELETE /api/locations",
            Endpoint::Hello => "GET /api/locations/hello",
            Endpoint::RandomLocation => "GET /api/locations/random_location",
            Endpoint::Random => "GET /api/locations/random",
            Endpoint::ByName(_) => "GET /api/locations/name/{name}",
            Endpoint::Get(_) => "GET /api/locations/{id}",
            Endpoint::Replace(_) => "PUT /api/locations/{id}",
            Endpoint::Patch(_) => "PATCH /api/locations/{id}",
            Endpoint::Delete(_) => "DELETE /api/locations/{id}",
            Endpoint::Picture(_) => "GET /api/locations/pictures/{file}",
        }
    }
}

/// The endpoint `method` and `path` name, or the 404 (unknown path) or 405 (known path,
/// other methods, with `Allow`) to answer.
pub fn route<'a>(method: &Method, path: &'a str) -> Result<Endpoint<'a>, Problem> {
    let Some(rest) = path.strip_prefix("/api/locations") else {
        return Err(Problem::unknown_path());
    };
    let get_only = |endpoint| match *method {
        Method::GET => Ok(endpoint),
        _ => Err(Problem::method_not_allowed("GET")),
    };
    let segment = match rest.strip_prefix('/') {
        None if rest.is_empty() => None,
        Some(segment) if !segment.is_empty() => Some(segment),
        _ => return Err(Problem::unknown_path()),
    };
    match segment {
        None => match *method {
            Method::GET => Ok(Endpoint::List),
            Method::POST => Ok(Endpoint::Create),
            Method::PUT => Ok(Endpoint::ReplaceAll),
            Method::DELETE => Ok(Endpoint::DeleteAll),
            _ => Err(Problem::method_not_allowed("GET, POST, PUT, DELETE")),
        },
        Some("hello") => get_only(Endpoint::Hello),
        Some("random_location") => get_only(Endpoint::RandomLocation),
        Some("random") => get_only(Endpoint::Random),
        Some(segment) if segment.starts_with("pictures/") => {
            match segment.strip_prefix("pictures/") {
                Some(file) if !file.is_empty() && !file.contains('/') => {
                    get_only(Endpoint::Picture(file))
                }
                _ => Err(Problem::unknown_path()),
            }
        }
        Some(segment) => match segment.strip_prefix("name/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                get_only(Endpoint::ByName(name))
            }
            Some(_) => Err(Problem::unknown_path()),
            None if segment.contains('/') => Err(Problem::unknown_path()),
            None => match *method {
                Method::GET => Ok(Endpoint::Get(segment)),
                Method::PUT => Ok(Endpoint::Replace(segment)),
                Method::PATCH => Ok(Endpoint::Patch(segment)),
                Method::DELETE => Ok(Endpoint::Delete(segment)),
                _ => Err(Problem::method_not_allowed("GET, PUT, PATCH, DELETE")),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: Method, path: &str) -> Result<Endpoint<'_>, u16> {
        route(&method, path).map_err(|p| p.status.as_u16())
    }

    #[test]
    fn every_endpoint_is_reachable_under_its_label() {
        use Endpoint::*;
        for (method, path, expected) in [
            (Method::GET, "/api/locations", List),
            (Method::POST, "/api/locations", Create),
            (Method::PUT, "/api/locations", ReplaceAll),
            (Method::DELETE, "/api/locations", DeleteAll),
            (Method::GET, "/api/locations/hello", Hello),
            (
                Method::GET,
                "/api/locations/random_location",
                RandomLocation,
            ),
            (Method::GET, "/api/locations/random", Random),
            (
                Method::GET,
                "/api/locations/name/Port%20Halcyon",
                ByName("Port%20Halcyon"),
            ),
            (Method::GET, "/api/locations/42", Get("42")),
            (Method::PUT, "/api/locations/42", Replace("42")),
            (Method::PATCH, "/api/locations/42", Patch("42")),
            (Method::DELETE, "/api/locations/-1", Delete("-1")),
            (
                Method::GET,
                "/api/locations/pictures/port-willow-1.svg",
                Picture("port-willow-1.svg"),
            ),
        ] {
            let found = endpoint(method.clone(), path);
            assert_eq!(found, Ok(expected), "{method} {path}");
            let label = found.map(|endpoint| endpoint.label()).unwrap_or_default();
            assert!(Endpoint::labels().contains(&label), "{label}");
            assert!(label.starts_with(method.as_str()), "{label}");
        }
    }

    #[test]
    fn labels_are_distinct() {
        let mut labels = Endpoint::labels();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Endpoint::ALL.len());
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
            "/api/locations/pictures/",
            "/api/locations/pictures/a/b.svg",
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
            (Method::DELETE, "/api/locations/pictures/x.svg", "GET"),
        ] {
            let problem = route(&method, path).err();
            assert_eq!(
                problem.and_then(|p| p.allow),
                Some(allow),
                "{method} {path}"
            );
        }
    }
}
