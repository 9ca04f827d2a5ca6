//! Which endpoint a method and path name: one flat match, no allocation. Path
//! parameters stay text here; the handler parses them like any other input, so a
//! malformed one is a 400 counted under its endpoint.

use http::Method;
use kit::Problem;

/// Every fights endpoint; `handlers::dispatch` runs each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// The arena page, for people in a browser.
    Page,
    List,
    Create,
    Get(&'a str),
    RandomFighters,
    RandomLocation,
    ExecuteFight,
    Stats,
    Hello,
    HelloHeroes,
    HelloVillains,
    HelloLocations,
    HelloNarration,
    /// The story of a fight, written by fights itself.
    Narrate,
    /// The URL of a narration's picture.
    NarrateImage,
    /// A narration's picture, drawn from its URL.
    Poster,
}

impl Endpoint<'static> {
    /// One of each endpoint (path parameters are placeholders).
    pub const ALL: [Self; 16] = [
        Endpoint::Page,
        Endpoint::List,
        Endpoint::Create,
        Endpoint::Get("{id}"),
        Endpoint::RandomFighters,
        Endpoint::RandomLocation,
        Endpoint::ExecuteFight,
        Endpoint::Stats,
        Endpoint::Hello,
        Endpoint::HelloHeroes,
        Endpoint::HelloVillains,
        Endpoint::HelloLocations,
        Endpoint::HelloNarration,
        Endpoint::Narrate,
        Endpoint::NarrateImage,
        Endpoint::Poster,
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
            Endpoint::Page => "GET /",
            Endpoint::List => "GET /api/fights",
            Endpoint::Create => "POST /api/fights",
            Endpoint::Get(_) => "GET /api/fights/{id}",
            Endpoint::RandomFighters => "GET /api/fights/randomfighters",
            Endpoint::RandomLocation => "GET /api/fights/randomlocation",
            Endpoint::ExecuteFight => "GET /api/fights/execute_fight",
            Endpoint::Stats => "GET /api/fights/stats",
            Endpoint::Hello => "GET /api/fights/hello",
            Endpoint::HelloHeroes => "GET /api/fights/hello/heroes",
            Endpoint::HelloVillains => "GET /api/fights/hello/villains",
            Endpoint::HelloLocations => "GET /api/fights/hello/locations",
            Endpoint::HelloNarration => "GET /api/fights/hello/narration",
            Endpoint::Narrate => "POST /api/fights/narrate",
            Endpoint::NarrateImage => "POST /api/fights/narrate/image",
            Endpoint::Poster => "GET /api/fights/narrate/poster",
        }
    }
}

/// The endpoint `method` and `path` name, or the 404 (unknown path) or 405 (known path,
/// other methods, with `Allow`) to answer.
pub fn route<'a>(method: &Method, path: &'a str) -> Result<Endpoint<'a>, Problem> {
    let get_only = |endpoint| match *method {
        Method::GET => Ok(endpoint),
        _ => Err(Problem::method_not_allowed("GET")),
    };
    let post_only = |endpoint| match *method {
        Method::POST => Ok(endpoint),
        _ => Err(Problem::method_not_allowed("POST")),
    };
    match path {
        "/" => get_only(Endpoint::Page),
        "/api/fights" => match *method {
            Method::GET => Ok(Endpoint::List),
            Method::POST => Ok(Endpoint::Create),
            _ => Err(Problem::method_not_allowed("GET, POST")),
        },
        "/api/fights/randomfighters" => get_only(Endpoint::RandomFighters),
        "/api/fights/randomlocation" => get_only(Endpoint::RandomLocation),
        "/api/fights/execute_fight" => get_only(Endpoint::ExecuteFight),
        "/api/fights/stats" => get_only(Endpoint::Stats),
        "/api/fights/hello" => get_only(Endpoint::Hello),
        "/api/fights/hello/heroes" => get_only(Endpoint::HelloHeroes),
        "/api/fights/hello/villains" => get_only(Endpoint::HelloVillains),
        "/api/fights/hello/locations" => get_only(Endpoint::HelloLocations),
        "/api/fights/hello/narration" => get_only(Endpoint::HelloNarration),
        "/api/fights/narrate" => post_only(Endpoint::Narrate),
        "/api/fights/narrate/image" => post_only(Endpoint::NarrateImage),
        "/api/fights/narrate/poster" => get_only(Endpoint::Poster),
        _ => match path.strip_prefix("/api/fights/") {
            Some(id) if !id.is_empty() && !id.contains('/') => get_only(Endpoint::Get(id)),
            _ => Err(Problem::unknown_path()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(method: Method, path: &str) -> Result<Endpoint<'_>, u16> {
        route(&method, path).map_err(|problem| problem.status.as_u16())
    }

    #[test]
    fn every_endpoint_is_reachable_under_its_label() {
        use Endpoint::*;
        for (method, path, expected) in [
            (Method::GET, "/", Page),
            (Method::GET, "/api/fights", List),
            (Method::POST, "/api/fights", Create),
            (Method::GET, "/api/fights/abc", Get("abc")),
            (Method::GET, "/api/fights/randomfighters", RandomFighters),
            (Method::GET, "/api/fights/randomlocation", RandomLocation),
            (Method::GET, "/api/fights/execute_fight", ExecuteFight),
            (Method::GET, "/api/fights/stats", Stats),
            (Method::GET, "/api/fights/hello", Hello),
            (Method::GET, "/api/fights/hello/heroes", HelloHeroes),
            (Method::GET, "/api/fights/hello/villains", HelloVillains),
            (Method::GET, "/api/fights/hello/locations", HelloLocations),
            (Method::GET, "/api/fights/hello/narration", HelloNarration),
            (Method::POST, "/api/fights/narrate", Narrate),
            (Method::POST, "/api/fights/narrate/image", NarrateImage),
            (Method::GET, "/api/fights/narrate/poster", Poster),
        ] {
            let found = status(method.clone(), path);
            assert_eq!(found, Ok(expected), "{method} {path}");
            let label = found.map(|endpoint| endpoint.label()).unwrap_or_default();
            assert!(Endpoint::labels().contains(&label), "{label}");
            assert!(label.starts_with(method.as_str()), "{label}");
        }
    }

    #[test]
    fn every_label_is_an_operation_of_the_openapi_document() {
        let document = include_str!("../openapi.yaml");
        for label in Endpoint::labels() {
            let (method, path) = label.split_once(' ').unwrap_or_default();
            let operations = document
                .split_once(&format!("\n  {path}:\n"))
                .map(|(_, rest)| rest.split("\n  /").next().unwrap_or_default());
            let method = format!("    {}:", method.to_lowercase());
            assert!(
                operations.is_some_and(|ops| ops.lines().any(|line| line == method)),
                "{label} is not in openapi.yaml"
            );
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
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_eq!(status(Method::GET, "/api/fight"), Err(404));
        assert_eq!(status(Method::GET, "/api/fights/"), Err(404));
        assert_eq!(status(Method::GET, "/api/fights/a/b"), Err(404));
        assert_eq!(status(Method::DELETE, "/api/fights"), Err(405));
        assert_eq!(status(Method::POST, "/api/fights/randomfighters"), Err(405));
        assert_eq!(status(Method::PUT, "/api/fights/abc"), Err(405));
        assert_eq!(status(Method::POST, "/"), Err(405));
        assert_eq!(status(Method::DELETE, "/api/fights/stats"), Err(405));
        assert_eq!(status(Method::GET, "/index.html"), Err(404));
        let allow = route(&Method::DELETE, "/api/fights")
            .err()
            .and_then(|p| p.allow);
        assert_eq!(allow, Some("GET, POST"));
    }
}
