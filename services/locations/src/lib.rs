//! The locations service: CRUD over the MariaDB `locations` table and uniformly random
//! picks, served by the shared kit over HTTP and as the original's `Locations` gRPC
//! service. `run` is the whole service; the binary only loads the configuration and
//! binds.

mod config;
mod error;
mod grpc;
mod handlers;
mod model;
mod random_ids;
mod routes;
mod store;

use std::{sync::Arc, time::Duration};

use http::{request::Parts, Method};
use kit::body::Incoming;
use kit::{metrics::Family, process::Shutdown, Check, Problem, Response};
use tokio::net::TcpListener;

pub use config::{Config, GrpcConfig};

use error::Error;
use kit::listings::Listings;
use random_ids::LocationIds;
use routes::Endpoint;
use store::Store;

/// How long start-up waits for the database before serving anyway, not ready.
const STARTUP_DB_TIMEOUT: Duration = Duration::from_secs(3);
/// How long shutdown waits for pooled connections to close.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The locations service: what every request shares.
struct Locations {
    store: Store,
    /// Full listings streaming at once, each holding a pooled connection.
    listings: Listings,
    ids: Arc<LocationIds>,
    max_body_bytes: usize,
    admin: kit::admin::AdminToken,
    /// The route labels, for the request metrics.
    labels: Vec<&'static str>,
    /// Calls of the gRPC methods, rendered with the HTTP metrics.
    grpc_metrics: grpc::RpcMetrics,
}

impl kit::App for Locations {
    type Endpoint<'a> = Endpoint<'a>;
    type Error = Error;

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

    fn route<'a>(&self, method: &Method, path: &'a str) -> Result<Endpoint<'a>, Problem> {
        routes::route(method, path)
    }

    fn label(&self, endpoint: &Endpoint<'_>) -> &'static str {
        endpoint.label()
    }

    fn permits(&self, request: &Parts) -> bool {
        self.admin.permits(request)
    }

    async fn dispatch<'a>(
        self: &'a Arc<Self>,
        endpoint: Endpoint<'a>,
        request: &'a Parts,
        body: Incoming,
    ) -> Result<Response, Error> {
        handlers::dispatch(self, endpoint, request, body).await
    }

    async fn ready(&self) -> Vec<Check> {
        match self.store.ping().await {
            Ok(()) => vec![Check::up("database")],
            Err(err) => vec![Check::down("database", "database not answering", err)],
        }
    }

    fn render_metrics(&self, out: &mut String) {
        let labels = "service=\"locations\"";
        self.store.gauges().render(out, "db_pool", labels);
        for (name, kind, help, value) in [
            (
                "db_pool_connect_failures_total",
                "counter",
                "Connections that could not be opened.",
                self.store.connect_failures() as u64,
            ),
            (
                "random_ids",
                "gauge",
                "Ids in the random-pick set.",
                self.ids.len() as u64,
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
        self.grpc_metrics.render(out, "locations");
    }
}

/// Serves the locations API on `listener`, and the gRPC service on
/// `config.grpc.bind`, until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let bind = config.grpc.bind;
    let grpc = TcpListener::bind(bind)
        .await
        .map_err(|err| format!("cannot listen on {bind} for gRPC: {err}"))?;
    let bound = grpc.local_addr().unwrap_or(bind);
    log::info!("locations gRPC listening on {bound}");
    serve(listener, grpc, config, shutdown).await
}

/// Serves the HTTP API on `http` and the gRPC service on `grpc` until `shutdown`
/// completes, then drains both at once within `SHUTDOWN_TIMEOUT_MS`. An unreachable
/// database does not stop it from starting: it serves, reports not ready and recovers
/// once the database answers.
pub async fn serve(
    http: TcpListener,
    grpc: TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = Store::new(&config.database_url, config.pool_max)?;
    let ids = Arc::new(LocationIds::new(config.ids_refresh));
    let startup = async {
        store.warm().await;
        ids.reload(&store).await
    };
    match tokio::time::timeout(STARTUP_DB_TIMEOUT, startup).await {
        Ok(Ok(())) => log::info!("loaded {} location ids", ids.len()),
        Ok(Err(err)) => log::warn!("database not available at start, serving anyway: {err:?}"),
        Err(_) => {
            log::warn!("database did not answer within {STARTUP_DB_TIMEOUT:?}, serving anyway")
        }
    }
    let app = Arc::new(Locations {
        store,
        listings: Listings::new(config.max_listings, Listings::REFUSAL),
        ids,
        max_body_bytes: config.server.max_body_bytes,
        admin: config.admin.clone(),
        labels: Endpoint::labels(),
        grpc_metrics: grpc::RpcMetrics::default(),
    });
    // The gRPC server runs as a task of its own, so the HTTP accept loop never polls it;
    // it hears the stop signal when the HTTP side does.
    let router = grpc::router(&app, &config.grpc)?;
    let (stop_grpc, grpc_stopped) = tokio::sync::oneshot::channel::<()>();
    let grpc = tokio::spawn(grpc::serve(
        router,
        grpc,
        config.grpc.max_connections,
        async {
            let _ = grpc_stopped.await;
        },
        config.server.shutdown_timeout,
    ));
    let http_shutdown = async move {
        shutdown.await;
        let _ = stop_grpc.send(());
    };
    kit::serve::serve(http, app.clone(), &config.server, http_shutdown).await;
    if let Err(err) = grpc.await {
        log::error!("gRPC server task failed: {err}");
    }
    match tokio::time::timeout(POOL_CLOSE_TIMEOUT, app.store.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => log::warn!("closing the database pool: {err}"),
        Err(_) => log::warn!("database connections still open after {POOL_CLOSE_TIMEOUT:?}"),
    }
    Ok(())
}
