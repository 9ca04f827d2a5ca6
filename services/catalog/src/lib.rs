//! The one implementation behind the heroes and villains services: a catalogue of
//! characters in a PostgreSQL table, with cached random picks.

mod config;
mod error;
mod handlers;
pub mod model;
pub mod random_ids;
pub mod routes;
mod side;
mod store;

use std::{error::Error as StdError, sync::Arc};

use http::{request::Parts, Method};
use kit::body::Incoming;
use kit::{
    metrics::{Family, PoolGauges},
    process::Shutdown,
    App, Check, Problem, RandomIds, Response,
};
use tokio::net::TcpListener;

pub use config::Config;
pub use error::Error;
use routes::Endpoint;
pub use side::{Side, HEROES, VILLAINS};
use store::Store;

/// A running catalogue service.
pub struct Catalog {
    side: &'static Side,
    store: Store,
    ids: Arc<RandomIds>,
    max_body: usize,
    admin: kit::admin::AdminToken,
    /// The route labels of `side`, for the request metrics.
    labels: Vec<&'static str>,
}

impl Catalog {
    /// The catalogue of `config.side`, its pool connecting on first use and its
    /// random-pick set empty until [`run`] starts following the table.
    pub fn new(config: &Config) -> Result<Self, deadpool_postgres::BuildError> {
        Ok(Self {
            side: config.side,
            store: Store::new(
                config.side,
                config.database.clone(),
                config.pool_max,
                config.max_listings,
            )?,
            ids: Arc::new(RandomIds::default()),
            max_body: config.server.max_body_bytes,
            admin: config.admin.clone(),
            labels: Endpoint::labels(config.side),
        })
    }
}

impl App for Catalog {
    type Endpoint<'a> = Endpoint<'a>;
    type Error = Error;

    fn routes(&self) -> &[&'static str] {
        &self.labels
    }

    fn name(&self) -> &'static str {
        self.side.name
    }

    fn openapi(&self) -> &'static str {
        self.side.openapi
    }

    fn openapi_json(&self) -> &'static str {
        self.side.openapi_json
    }

    fn route<'a>(&self, method: &Method, path: &'a str) -> Result<Endpoint<'a>, Problem> {
        routes::route(self.side, method, path)
    }

    fn label(&self, endpoint: &Endpoint<'_>) -> &'static str {
        endpoint.label(self.side)
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
        let status = self.store.status();
        let labels = format!("service=\"{}\"", self.side.name);
        let gauges = PoolGauges {
            max: status.max_size,
            open: status.size,
            in_use: status.size.saturating_sub(status.available),
        };
        gauges.render(out, "db_pool", &labels);
        for (name, help, value) in [
            (
                "db_pool_waiting",
                "Requests waiting for a connection.",
                status.waiting,
            ),
            ("random_ids", "Ids in the random-pick set.", self.ids.len()),
        ] {
            Family::new(out, name, "gauge", help).sample(&labels, value);
        }
    }
}

/// Serves the catalogue of `config.side` on `listener` until `shutdown` completes.
///
/// Starts even when the database is down (readiness says so, requests get 503) so that
/// an orchestrator can start services in any order.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> Result<(), Box<dyn StdError + Send + Sync>> {
    let app = Arc::new(Catalog::new(&config)?);
    let side = config.side;
    if let Err(err) = app.store.execute_script(side.notify_sql).await {
        log::warn!("cannot install the {} notify trigger ({err:?}); other replicas' writes reach this one only on reload", side.table);
    }
    if let Err(err) = app.store.warm(config.pool_max).await {
        log::warn!("cannot warm the connection pool: {err:?}");
    }
    let follower = tokio::spawn(random_ids::follow(
        config.database,
        side.table,
        side.channel,
        app.ids.clone(),
    ));
    kit::serve::serve(listener, app.clone(), &config.server, shutdown).await;
    follower.abort();
    app.store.close();
    Ok(())
}
