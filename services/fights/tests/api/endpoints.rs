//! Every endpoint's status and body with all downstreams answering normally.

use simd_json::prelude::*;

use crate::fakes::Fakes;
use crate::helpers::spawn_app;

#[tokio::test]
async fn hello_answers_text() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app.client.get(&app.url("/api/fights/hello")).await;

    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").starts_with("text/plain"));
    assert_eq!(reply.body, "Hello Fight Resource");
}

#[tokio::test]
async fn hello_relays_each_downstream() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    for (path, expected) in [
        ("/api/fights/hello/heroes", "Hello Hero Resource"),
        ("/api/fights/hello/villains", "Hello Villain Resource"),
        ("/api/fights/hello/locations", "Hello Location Resource"),
    ] {
        let reply = app.client.get(&app.url(path)).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.body, expected, "{path}");
    }
}

#[tokio::test]
async fn random_fighters_come_from_heroes_and_villains() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app.client.get(&app.url("/api/fights/randomfighters")).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(
        reply.body,
        r#"{"hero":{"name":"Luke Skywalker","level":10,"picture":"https://example.com/luke.png","powers":"Uses light sabre, The force"},"villain":{"name":"Darth Vader","level":600000001,"picture":"https://example.com/vader.png","powers":"The dark side"}}"#
    );
}

#[tokio::test]
async fn random_location_comes_from_locations() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app.client.get(&app.url("/api/fights/randomlocation")).await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        r#"{"name":"Gotham City","description":"A dark city","picture":"https://example.com/gotham.png"}"#
    );
}

#[tokio::test]
async fn execute_fight_fights_the_random_pair_and_stores_it() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app.client.get(&app.url("/api/fights/execute_fight")).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let fight = reply.json();
    // Level 10 + at most 19 never beats 600,000,001: the villain always wins.
    assert_eq!(fight["winnerName"], "Darth Vader");
    assert_eq!(fight["winnerLevel"], 600_000_001);
    assert_eq!(fight["winnerTeam"], "villains");
    assert_eq!(fight["loserName"], "Luke Skywalker");
    assert_eq!(fight["loserTeam"], "heroes");
    assert_eq!(fight["location"]["name"], "Gotham City");
    let id = fight["id"].as_str().unwrap().to_owned();
    let stored = app.client.get(&app.url(&format!("/api/fights/{id}"))).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.body, reply.body);
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let missing = app.client.get(&app.url("/api/fight")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    assert_eq!(missing.json()["status"], 404);

    let wrong = app.client.delete(&app.url("/api/fights")).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), "GET, HEAD, POST, OPTIONS");
    assert_eq!(wrong.json()["status"], 405);

    let wrong = app
        .client
        .post(&app.url("/api/fights/execute_fight"), "{}")
        .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), "GET, HEAD, OPTIONS");
}

#[tokio::test]
async fn health_openapi_and_metrics_are_served() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let live = app.client.get(&app.url("/q/health/live")).await;
    assert_eq!(
        (live.status.as_u16(), live.body.as_str()),
        (200, r#"{"status":"UP"}"#)
    );

    let ready = app.client.get(&app.url("/q/health/ready")).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.body,
        r#"{"status":"UP","checks":[{"name":"mongodb","status":"UP"}]}"#
    );

    let openapi = app.client.get(&app.url("/q/openapi")).await;
    assert_eq!(openapi.status, 200);
    assert!(openapi.body.starts_with("openapi: 3.0.3"));
    assert!(openapi.body.contains("/api/fights/execute_fight:"));

    app.client.get(&app.url("/api/fights/randomlocation")).await;
    let metrics = app.client.get(&app.url("/q/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .body
        .contains(r#"fights_downstream_calls_total{downstream="locations",outcome="ok"} 1"#));
    assert!(metrics
        .body
        .contains(r#"fights_circuit_state{downstream="heroes"} 0"#));
    assert!(metrics
        .body
        .contains("fights_mongodb_pool_max_connections 32\n"));
    assert!(metrics.body.contains("fights_insert_queue_depth 0\n"));
    assert!(
        !metrics.body.contains("fights_mongodb_pool_connections 0\n"),
        "the pool was warmed"
    );
    assert!(metrics.body.contains(
        r#"http_requests_total{service="fights",route="GET /api/fights/randomlocation",status="200"} 1"#
    ));
}

#[tokio::test]
async fn stops_cleanly() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let reply = app
        .client
        .post(&app.url("/api/fights"), crate::storage::FIGHT)
        .await;
    assert_eq!(reply.status, 200);

    let result = app.server.stop().await;

    assert!(result.is_ok(), "{result:?}");
}
