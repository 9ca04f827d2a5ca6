//! The fights service: random fighters and locations fetched from heroes, villains and
//! locations (with fallbacks when they fail), the fight rule, and fights stored in MongoDB.
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
pub mod routes;
mod store;

use std::{error::Error as StdError, sync::Arc, time::Duration};

use http::Request;
use hyper::body::Incoming;
use kit::{process::Shutdown, Check, Routed};
use tokio::net::TcpListener;

pub use config::{Config, InsertMode};
pub use downstream::{DownstreamConfig, Resolver};

use crate::{downstream::Downstream, routes::Endpoint, store::FightStore};

/// Connections opened per downstream and to MongoDB before the first request needs them.
const WARM_CONNECTIONS: usize = 4;
/// Bound on closing the MongoDB pool and the writer task at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared state of every request.
struct Fights {
    store: FightStore,
    heroes: Downstream,
    villains: Downstream,
    locations: Downstream,
    max_body: usize,
}

/// Serves the fights API on `listener` until `shutdown` completes, then drains requests,
/// lets the writer task store what it holds and closes the MongoDB pool.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> Result<(), Box<dyn StdError + Send + Sync>> {
    let (store, writer) = FightStore::connect(&config).await?;
    let d = &config.downstream;
    let app = Arc::new(Fights {
        store,
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
    });
    let warm = tokio::spawn({
        let app = app.clone();
        async move {
            tokio::join!(
                app.heroes.warm(WARM_CONNECTIONS),
                app.villains.warm(WARM_CONNECTIONS),
                app.locations.warm(WARM_CONNECTIONS),
                app.store.warm(WARM_CONNECTIONS),
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
    const ROUTES: &'static [&'static str] = routes::ROUTES;

    fn name(&self) -> &'static str {
        "fights"
    }

    fn openapi(&self) -> &'static str {
        include_str!("../openapi.yaml")
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Routed {
        let (parts, body) = req.into_parts();
        let (endpoint, route) = match routes::resolve(&parts.method, parts.uri.path()) {
            Ok(found) => found,
            Err((problem, route)) => return Routed::new(route, problem.into_response()),
        };
        let app = &*self;
        let result = match endpoint {
            Endpoint::List => handlers::list(app, parts.uri.query()).await,
            Endpoint::Create => handlers::create(app, body).await,
            Endpoint::Get(id) => handlers::get(app, id).await,
            Endpoint::ExecuteFight => handlers::execute_fight(app).await,
            Endpoint::RandomFighters => Ok(handlers::random_fighters(app).await),
            Endpoint::RandomLocation => Ok(handlers::random_location(app).await),
            Endpoint::Hello => Ok(handlers::hello()),
            Endpoint::HelloHeroes => Ok(handlers::relay_hello(
                &app.heroes,
                "Could not invoke the Heroes microservice",
            )
            .await),
            Endpoint::HelloVillains => Ok(handlers::relay_hello(
                &app.villains,
                "Could not invoke the Villains microservice",
            )
            .await),
            Endpoint::HelloLocations => Ok(handlers::relay_hello(
                &app.locations,
                "Could not invoke the Locations microservice",
            )
            .await),
        };
        Routed::new(route, result.unwrap_or_else(error::Error::into_response))
    }

    async fn ready(&self) -> Vec<Check> {
        match self.store.ping().await {
            Ok(()) => vec![Check::up("mongodb")],
            Err(err) => vec![Check::down("mongodb", err)],
        }
    }

    fn render_metrics(&self, out: &mut String) {
        downstream::render_metrics(&[&self.heroes, &self.villains, &self.locations], out);
        self.store.render_metrics(out);
    }
}
