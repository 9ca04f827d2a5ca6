//! The fights service: random fighters and locations fetched from heroes, villains and
//! locations (with fallbacks when they fail), the fight rule, fights stored in MongoDB,
//! their statistics, and the arena page that shows all of it in a browser.
//!
//! The binary only parses config and calls [`run`]; tests call [`run`] on a loopback port.
//! The fight rule, the model (with the stored document) and routing are public for the
//! criterion benchmarks in `bench/`.

mod config;
mod downstream;
mod error;
pub mod fight;
mod handlers;
pub mod model;
mod narration;
mod page;
pub mod routes;
mod stats;
mod store;

use std::{error::Error as StdError, sync::Arc, time::Duration};

use http::{request::Parts, Method};
use kit::body::Incoming;
use kit::{process::Shutdown, Check, Problem, Response};
use tokio::net::TcpListener;

pub use config::{Config, InsertMode};
pub use downstream::{DownstreamConfig, Resolver};

use crate::{
    downstream::Downstream, error::Error, routes::Endpoint, stats::StatsCache, store::Store,
};

/// Connections opened per downstream and to MongoDB before the first request needs them.
const WARM_CONNECTIONS: usize = 4;
/// Bound on closing the MongoDB pool and the writer task at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared state of every request.
struct Fights {
    store: Store,
    stats: Arc<StatsCache>,
    heroes: Downstream,
    villains: Downstream,
    locations: Downstream,
    max_body: usize,
    /// The route labels, for the request metrics.
    labels: Vec<&'static str>,
}

/// Serves the fights API on `listener` until `shutdown` completes, then drains requests,
/// lets the writer task store what it holds and closes the MongoDB pool.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> Result<(), Box<dyn StdError + Send + Sync>> {
    let (store, writer) = Store::connect(&config).await?;
    let d = &config.downstream;
    let stats = StatsCache::new(
        store.stats_query(),
        config.stats_interval,
        config.mongodb_timeout,
    );
    let app = Arc::new(Fights {
        store,
        stats: Arc::new(stats),
        heroes: Downstream::new(
            "heroes",
            &config.heroes_url,
            "/api/heroes/random_hero",
            "/api/heroes/hello",
            d,
            config.resolver.clone(),
        )?,
        villains: Downstream::new(
            "villains",
            &config.villains_url,
            "/api/villains/random_villain",
            "/api/villains/hello",
            d,
            config.resolver.clone(),
        )?,
        locations: Downstream::new(
            "locations",
            &config.locations_url,
            "/api/locations/random_location",
            "/api/locations/hello",
            d,
            config.resolver.clone(),
        )?,
        max_body: config.server.max_body_bytes,
        labels: Endpoint::labels(),
    });
    let warm = tokio::spawn({
        let app = app.clone();
        async move {
            let index = async {
                if let Err(err) = app.store.create_stats_index().await {
                    log::warn!("statistics index not created: {err}");
                }
            };
            tokio::join!(
                app.heroes.warm(WARM_CONNECTIONS),
                app.villains.warm(WARM_CONNECTIONS),
                app.locations.warm(WARM_CONNECTIONS),
                app.store.warm(WARM_CONNECTIONS),
                index,
            );
        }
    });

    kit::serve::serve(listener, app.clone(), &config.server, shutdown).await;

    warm.abort();
    let _ = warm.await;
    match Arc::try_unwrap(app) {
        Ok(app) => {
            let closing = async {
                app.store.shutdown().await;
                if let Some(writer) = writer {
                    let _ = writer.await;
                }
            };
            if tokio::time::timeout(CLOSE_TIMEOUT, closing).await.is_err() {
                log::warn!("MongoDB pool did not close in time");
            }
        }
        Err(_) => {
            log::warn!("requests still running at shutdown; MongoDB pool left to the process exit")
        }
    }
    Ok(())
}

impl kit::App for Fights {
    type Endpoint<'a> = Endpoint<'a>;
    type Error = Error;

    fn routes(&self) -> &[&'static str] {
        &self.labels
    }

    fn name(&self) -> &'static str {
        "fights"
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
            Ok(()) => vec![Check::up("mongodb")],
            Err(err) => vec![Check::down("mongodb", "mongodb not answering", err)],
        }
    }

    fn render_metrics(&self, out: &mut String) {
        downstream::render_metrics(&[&self.heroes, &self.villains, &self.locations], out);
        self.store.render_metrics(out);
        self.stats.render_metrics(out);
    }
}
