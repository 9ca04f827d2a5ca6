//! Which endpoint a method and path name: one flat match, no allocation. Path
//! parameters stay text here; the handler parses them like any other input, so a
//! malformed one is a 400 counted under its endpoint.

use http::Method;
use kit::Problem;

use crate::Side;

/// Every catalogue endpoint; `handlers::dispatch` runs each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    List,
    Create,
    ReplaceAll,
    DeleteAll,
    Hello,
    /// `random_hero` or `random_villain`.
    RandomOfKind,
    Random,
    Get(&'a str),
    Replace(&'a str),
    Patch(&'a str),
    Delete(&'a str),
    /// A seed row's portrait (`pictures/{file}`), drawn by [`kit::portrait`].
    Picture(&'a str),
}

impl Endpoint<'static> {
    /// One of each endpoint (path parameters are placeholders).
    pub const ALL: [Self; 12] = [
        Endpoint::List,
        Endpoint::Create,
        Endpoint::ReplaceAll,
        Endpoint::DeleteAll,
        Endpoint::Hello,
        Endpoint::RandomOfKind,
        Endpoint::Random,
        Endpoint::Get("{id}"),
        Endpoint::Replace("{id}"),
        Endpoint::Patch("{id}"),
        Endpoint::Delete("{id}"),
        Endpoint::Picture("{file}"),
    ];

    /// The label of every endpoint of `side`, for the request metrics.
    pub fn labels(side: &Side) -> Vec<&'static str> {
        Self::ALL
            .iter()
            .map(|endpoint| endpoint.label(side))
            .collect()
    }
}

impl Endpoint<'_> {
    /// The operation as `side`'s OpenAPI document names it, the `route` label of the
    /// request metrics.
    pub fn label(&self, side: &Side) -> &'static str {
        (side.labels)(self)
    }
}

/// The labels of one catalogue, written out from its base path and random segment at
/// compile time: `labels!("/api/heroes", "random_hero")`. A macro because a label is a
/// `&'static str` and only `concat!` joins literals into one.
macro_rules! labels {
    ($base:literal, $random:literal) => {
        |endpoint: &$crate::routes::Endpoint<'_>| match endpoint {
            $crate::routes::Endpoint::List => concat!("GET ", $base),
            $crate::routes::Endpoint::Create => concat!("POST ", $base),
            $crate::routes::Endpoint::ReplaceAll => concat!("PUT ", $base),
            $crate::routes::Endpoint::DeleteAll => concat!("DELETE ", $base),
            $crate::routes::Endpoint::Hello => concat!("GET ", $base, "/hello"),
            $crate::routes::Endpoint::RandomOfKind => concat!("GET ", $base, "/", $random),
            $crate::routes::Endpoint::Random => concat!("GET ", $base, "/random"),
            $crate::routes::Endpoint::Get(_) => concat!("GET ", $base, "/{id}"),
            $crate::routes::Endpoint::Replace(_) => concat!("PUT ", $base, "/{id}"),
            $crate::routes::Endpoint::Patch(_) => concat!("PATCH ", $base, "/{id}"),
            $crate::routes::Endpoint::Delete(_) => concat!("DELETE ", $base, "/{id}"),
            $crate::routes::Endpoint::Picture(_) => concat!("GET ", $base, "/pictures/{file}"),
        }
    };
}
pub(crate) use labels;

/// The endpoint `method` and `path` name in `side`'s catalogue, or the 404 (unknown
/// path) or 405 (known path, other methods, with `Allow`) to answer.
pub fn route<'a>(side: &Side, method: &Method, path: &'a str) -> Result<Endpoint<'a>, Problem> {
    let Some(rest) = path.strip_prefix(side.base) else {
        return Err(Problem::unknown_path());
    };
    let get_only = |endpoint| match *method {
        Method::GET => Ok(endpoint),
        _ => Err(Problem::method_not_allowed("GET")),
    };
    if let Some(file) = rest.strip_prefix("/pictures/") {
        return match file.contains('/') {
            true => Err(Problem::unknown_path()),
            false => get_only(Endpoint::Picture(file)),
        };
    }
    let segment = match rest {
        "" | "/" => None,
        _ => match rest.strip_prefix('/') {
            Some(segment) if !segment.contains('/') => Some(segment),
            _ => return Err(Problem::unknown_path()),
        },
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
        Some("random") => get_only(Endpoint::Random),
        Some(segment) if segment == side.random_path => get_only(Endpoint::RandomOfKind),
        Some(id) => match *method {
            Method::GET => Ok(Endpoint::Get(id)),
            Method::PUT => Ok(Endpoint::Replace(id)),
            Method::PATCH => Ok(Endpoint::Patch(id)),
            Method::DELETE => Ok(Endpoint::Delete(id)),
            _ => Err(Problem::method_not_allowed("GET, PUT, PATCH, DELETE")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HEROES, VILLAINS};

    fn status<'a>(side: &Side, method: Method, path: &'a str) -> Result<Endpoint<'a>, u16> {
        route(side, &method, path).map_err(|p| p.status.as_u16())
    }

    #[test]
    fn every_endpoint_is_reachable_under_its_label() {
        use Endpoint::*;
        for (method, path, expected, label) in [
            (Method::GET, "/api/heroes", List, "GET /api/heroes"),
            (Method::POST, "/api/heroes/", Create, "POST /api/heroes"),
            (Method::PUT, "/api/heroes", ReplaceAll, "PUT /api/heroes"),
            (
                Method::DELETE,
                "/api/heroes",
                DeleteAll,
                "DELETE /api/heroes",
            ),
            (
                Method::GET,
                "/api/heroes/hello",
                Hello,
                "GET /api/heroes/hello",
            ),
            (
                Method::GET,
                "/api/heroes/random_hero",
                RandomOfKind,
                "GET /api/heroes/random_hero",
            ),
            (
                Method::GET,
                "/api/heroes/random",
                Random,
                "GET /api/heroes/random",
            ),
            (
                Method::GET,
                "/api/heroes/51",
                Get("51"),
                "GET /api/heroes/{id}",
            ),
            (
                Method::PUT,
                "/api/heroes/51",
                Replace("51"),
                "PUT /api/heroes/{id}",
            ),
            (
                Method::PATCH,
                "/api/heroes/51",
                Patch("51"),
                "PATCH /api/heroes/{id}",
            ),
            (
                Method::DELETE,
                "/api/heroes/-1",
                Delete("-1"),
                "DELETE /api/heroes/{id}",
            ),
            (
                Method::GET,
                "/api/heroes/pictures/night-wolf-1.svg",
                Picture("night-wolf-1.svg"),
                "GET /api/heroes/pictures/{file}",
            ),
        ] {
            let found = status(HEROES, method.clone(), path);
            assert_eq!(found, Ok(expected), "{method} {path}");
            assert_eq!(found.map(|e| e.label(HEROES)), Ok(label));
            assert!(Endpoint::labels(HEROES).contains(&label), "{label}");
        }
    }

    #[test]
    fn labels_follow_the_kind_and_are_distinct() {
        for side in [HEROES, VILLAINS] {
            let mut labels = Endpoint::labels(side);
            for label in &labels {
                let path = label.split_once(' ').map(|(_, path)| path);
                assert!(path.is_some_and(|p| p.starts_with(side.base)), "{label}");
            }
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(labels.len(), Endpoint::ALL.len());
        }
        assert_eq!(
            Endpoint::RandomOfKind.label(VILLAINS),
            "GET /api/villains/random_villain"
        );
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_eq!(status(HEROES, Method::GET, "/api/heroes/1/2"), Err(404));
        assert_eq!(status(HEROES, Method::GET, "/api/heroesx"), Err(404));
        assert_eq!(status(HEROES, Method::GET, "/api/villains"), Err(404));
        assert_eq!(status(HEROES, Method::POST, "/api/heroes/1"), Err(405));
        assert_eq!(status(HEROES, Method::PATCH, "/api/heroes"), Err(405));
        assert_eq!(status(HEROES, Method::POST, "/api/heroes/random"), Err(405));
        assert_eq!(
            status(HEROES, Method::PUT, "/api/heroes/pictures/a.svg"),
            Err(405)
        );
        assert_eq!(
            status(HEROES, Method::GET, "/api/heroes/pictures/a/b.svg"),
            Err(404)
        );
        assert_eq!(
            status(VILLAINS, Method::GET, "/api/villains/random_villain"),
            Ok(Endpoint::RandomOfKind)
        );
        assert_eq!(
            status(HEROES, Method::GET, "/api/heroes/random_villain"),
            Ok(Endpoint::Get("random_villain")),
            "the other side's random segment is an id, refused by the handler"
        );
    }
}
