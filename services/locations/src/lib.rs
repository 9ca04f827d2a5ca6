//! The locations service: CRUD over the MariaDB `locations` table and uniformly random
//! picks, served by the shared kit. `run` is the whole service; the binary only loads
//! the configuration and binds.

mod config;
mod error;
mod handlers;
mod model;
mod random_ids;
mod routes;
mod store;

use std::{sync::Arc, time::Duration};

use http::Request;
use kit::body::Incoming;
use kit::{labels::UNMATCHED, metrics::Family, process::Shutdown, Check, Routed};
use mysql_async::Pool;
use tokio::net::TcpListener;

pub use config::Config;

use error::Error;
use kit::listings::Listings;
use random_ids::LocationIds;
use routes::Endpoint;

/// How long start-up waits for the database before serving anyway, not ready.
const STARTUP_DB_TIMEOUT: Duration = Duration::from_secs(3);
/// How long shutdown waits for pooled connections to close.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What every request shares.
struct State {
    pool: Pool,
    /// Full listings streaming at once, each holding a pooled connection.
    listings: Listings,
    ids: Arc<LocationIds>,
    pool_max: usize,
    max_body_bytes: usize,
    admin: kit::admin::AdminToken,
    /// The route labels, for the request metrics.
    labels: Vec<&'static str>,
}

impl kit::App for State {
    fn routes(&self) -> &[&'static str] {
        &self.labels
    }

    fn name(&self) -> &'static str {
        "locations"
    }

    fn openapi(&self) -> &'static str {
        include_str!("../openapi.yaml")
    }

    fn openapi_json(&self) -> &'static str {
        include_str!("../openapi.json")
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Routed {
        let (parts, body) = req.into_parts();
        match routes::route(&parts.method, parts.uri.path()) {
            Ok(endpoint) => {
                if !self.admin.permits(&parts) {
                    return Routed::new(endpoint.label(), kit::admin::unauthorized());
                }
                let answer = handlers::dispatch(&self, endpoint, body).await;
                Routed::new(
                    endpoint.label(),
                    answer.unwrap_or_else(Error::into_response),
                )
            }
            Err(problem) => Routed::new(UNMATCHED, problem.into_response()),
        }
    }

    fn allow(&self, path: &str) -> Option<&'static str> {
        routes::route(&http::Method::OPTIONS, path).err()?.allow
    }

    async fn ready(&self) -> Vec<Check> {
        match store::ping(&self.pool).await {
            Ok(()) => vec![Check::up("database")],
            Err(err) => vec![Check::down("database", "database not answering", err)],
        }
    }

    fn render_metrics(&self, out: &mut String) {
        use std::sync::atomic::Ordering::Relaxed;
        let labels = "service=\"locations\"";
        let pool = self.pool.metrics();
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        for (name, kind, help, value) in [
            (
                "db_pool_max_connections",
                "gauge",
                "Connections the pool may open.",
                as_u64(self.pool_max),
            ),
            (
                "db_pool_connections",
                "gauge",
                "Open connections, idle or in use.",
                as_u64(pool.connection_count.load(Relaxed)),
            ),
            (
                "db_pool_idle_connections",
                "gauge",
                "Open connections waiting in the pool.",
                as_u64(pool.connections_in_pool.load(Relaxed)),
            ),
            (
                "db_pool_connect_failures_total",
                "counter",
                "Connections that could not be opened.",
                as_u64(pool.create_failed.load(Relaxed)),
            ),
            (
                "random_ids",
                "gauge",
                "Ids held for random picks.",
                as_u64(self.ids.len()),
            ),
            (
                "random_ids_reloads_total",
                "counter",
                "Reloads of the random-id set after a change by another replica or a miss.",
                self.ids.reloads(),
            ),
        ] {
            Family::new(out, name, kind, help).sample(labels, value);
        }
    }
}

/// Serves the locations API on `listener` until `shutdown` completes. An unreachable
/// database does not stop it from starting: it serves, reports not ready and recovers
/// once the database answers.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let pool = store::pool(&config.database_url, config.pool_max)?;
    let ids = Arc::new(LocationIds::new(config.ids_refresh));
    let startup = async {
        // Opened together and held until all are open, so the pool keeps them all.
        let mut warm = tokio::task::JoinSet::new();
        for _ in 0..config.pool_max {
            warm.spawn(pool.get_conn());
        }
        drop(warm.join_all().await);
        ids.reload(&pool).await
    };
    match tokio::time::timeout(STARTUP_DB_TIMEOUT, startup).await {
        Ok(Ok(())) => log::info!("loaded {} location ids", ids.len()),
        Ok(Err(err)) => log::warn!("database not available at start, serving anyway: {err:?}"),
        Err(_) => {
            log::warn!("database did not answer within {STARTUP_DB_TIMEOUT:?}, serving anyway")
        }
    }
    let state = Arc::new(State {
        pool: pool.clone(),
        listings: Listings::new(config.max_listings, Listings::REFUSAL),
        ids,
        pool_max: config.pool_max,
        max_body_bytes: config.server.max_body_bytes,
        admin: config.admin.clone(),
        labels: Endpoint::labels(),
    });
    kit::serve::serve(listener, state, &config.server, shutdown).await;
    match tokio::time::timeout(POOL_CLOSE_TIMEOUT, pool.disconnect()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => log::warn!("closing the database pool: {err}"),
        Err(_) => log::warn!("database connections still open after {POOL_CLOSE_TIMEOUT:?}"),
    }
    Ok(())
}
