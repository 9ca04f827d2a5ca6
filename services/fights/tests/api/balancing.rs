//! Calls to a downstream whose host name has several addresses are spread over all of
//! them, as fights does in Kubernetes through a headless Service. Two instances of the
//! real heroes service share one database and one port on two loopback addresses
//! (127.0.0.1 and 127.0.0.2); the heroes host name resolves to both.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use kit::{config::Env, process::Shutdown};
use test_support::Client;
use tokio::{net::TcpListener, sync::oneshot};

use crate::fakes::{Downstreams, Fakes};
use crate::helpers::spawn_resolving;

/// A name that resolves only through this test's fixed table.
const HEROES_HOST: &str = "heroes-headless.balancing.test";
const CALLS: usize = 40;

/// One heroes instance on `listener`; it stops when the returned sender is dropped.
fn heroes(listener: TcpListener, database_url: &str) -> oneshot::Sender<()> {
    let env = Env::from_pairs([("DATABASE_URL", database_url), ("DB_POOL_MAX", "2")]);
    let config = catalog::Config::from_env(catalog::HEROES, &env).expect("valid heroes config");
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown: Shutdown = Box::pin(async move {
        let _ = stopped.await;
    });
    tokio::spawn(catalog::run(listener, config, shutdown));
    stop
}

/// The `random` requests answered with 200 by the heroes instance at `addr`.
async fn random_served(client: &Client, addr: SocketAddr) -> u64 {
    let metrics = client.get(&format!("http://{addr}/q/metrics")).await;
    assert_eq!(metrics.status, 200);
    metrics
        .body
        .lines()
        .find(|line| {
            line.starts_with("http_requests_total{")
                && line.contains("route=\"GET /api/heroes/random_hero\"")
                && line.contains("status=\"200\"")
        })
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0, |count| count.parse().expect("a counter value"))
}

#[tokio::test]
async fn random_fighters_are_spread_over_every_heroes_address() {
    let db = test_support::db::postgres(&[
        include_str!("../../../../database/heroes-db/01-schema.sql"),
        catalog::HEROES.notify_sql,
        include_str!("../../../../database/heroes-db/03-seed.sql"),
    ])
    .await;
    let first = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = first.local_addr().unwrap().port();
    let second = TcpListener::bind(("127.0.0.2", port))
        .await
        .expect("bind 127.0.0.2 on the same port");
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), port);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port);
    let _stop_a = heroes(first, &db.url);
    let _stop_b = heroes(second, &db.url);

    let resolver = fights::Resolver::fixed([(HEROES_HOST, vec![a.ip(), b.ip()])]);
    let fakes = Fakes::start().await;
    let downstreams = Downstreams {
        heroes: format!("http://{HEROES_HOST}:{port}"),
        ..fakes.urls()
    };
    let app = spawn_resolving(&downstreams, &[("DOWNSTREAM_TIMEOUT_MS", "2000")], resolver).await;

    let client = Client::new();
    let before = (
        random_served(&client, a).await,
        random_served(&client, b).await,
    );
    for _ in 0..CALLS {
        let reply = app.client.get(&app.url("/api/fights/randomfighters")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let hero = reply.json()["hero"]["name"].to_string();
        assert!(!hero.contains("Fallback hero"), "{hero}");
    }
    let served = (
        random_served(&client, a).await - before.0,
        random_served(&client, b).await - before.1,
    );

    assert_eq!(served.0 + served.1, CALLS as u64, "{served:?}");
    assert!(
        served.0 > 0 && served.1 > 0,
        "one instance got every call: {served:?}"
    );
}
