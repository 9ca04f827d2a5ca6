//! The paths the kit answers itself and the route labels it counts requests under, apart
//! from the serve loop and the metrics so that both can use them.

/// The kit's own paths, each also the label its requests count under (whatever the
/// method: the label names the path).
pub const HEALTH: &str = "/q/health";
pub const LIVE: &str = "/q/health/live";
pub const READY: &str = "/q/health/ready";
pub const STARTED: &str = "/q/health/started";
pub const METRICS: &str = "/q/metrics";
pub const OPENAPI: &str = "/q/openapi";

/// Route label of requests that name no endpoint of a service: an unknown path (404),
/// or a known path with a method it does not have (405), since a service's labels name
/// an operation, method and path ("GET /api/heroes/{id}"). A request that names an
/// endpoint is counted under that endpoint's label whatever it is answered, a malformed
/// path parameter (400) included.
pub const UNMATCHED: &str = "unmatched";
/// Route label of OPTIONS requests, answered by the serve loop for every path.
pub const OPTIONS: &str = "options";
/// Route label of requests refused for load: past the in-flight or connection bound.
pub const OVERLOADED: &str = "overloaded";
/// Route label of requests the serve loop refuses before routing: a body too large or
/// too slow, a malformed request head.
pub const REFUSED: &str = "refused";
