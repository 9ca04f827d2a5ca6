//! The paths the kit answers itself and the route labels it counts requests under, apart
//! from the serve loop and the metrics so that both can use them.

pub const LIVE: &str = "/q/health/live";
pub const READY: &str = "/q/health/ready";
pub const METRICS: &str = "/q/metrics";
pub const OPENAPI: &str = "/q/openapi";

/// Route label of requests that name no endpoint: an unknown path (404), or a known
/// path with a method it does not have (405). A request that names an endpoint is
/// counted under that endpoint's label whatever it is answered, a malformed path
/// parameter (400) included.
pub const UNMATCHED: &str = "unmatched";
