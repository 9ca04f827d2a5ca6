//! Hello, health, metrics, OpenAPI, villains, and shutdown.

use catalog::VILLAINS;
use simd_json::prelude::*;

use crate::helpers::{create, heroes, spawn_app};

#[tokio::test]
async fn hello_is_plain_text() {
    let app = heroes().await;
    let reply = app.client.get(&app.api("/hello")).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body.as_str()),
        (200, "Hello Hero Resource")
    );
    assert!(reply.header("content-type").starts_with("text/plain"));
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let app = heroes().await;
    let live = app.client.get(&app.server.url("/q/health/live")).await;
    assert_eq!(
        (live.status.as_u16(), live.body.as_str()),
        (200, r#"{"status":"UP"}"#)
    );
    let ready = app.client.get(&app.server.url("/q/health/ready")).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.body,
        r#"{"status":"UP","checks":[{"name":"database","status":"UP"}]}"#
    );

    create(&app, "Counted", 1).await;
    let metrics = app.client.get(&app.server.url("/q/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains(
        r#"http_requests_total{service="heroes",route="POST /api/heroes",status="201"} 1"#
    ));
    assert!(metrics.body.contains(
        r#"http_request_duration_seconds_count{service="heroes",route="POST /api/heroes"} 1"#
    ));
    assert!(metrics
        .body
        .contains(r#"db_pool_max_connections{service="heroes"} 2"#));
    assert!(metrics.body.contains(r#"random_ids{service="heroes"} 1"#));

    let openapi = app.client.get(&app.server.url("/q/openapi")).await;
    assert_eq!(openapi.status, 200);
    assert!(openapi.body.starts_with("openapi: 3"));
    assert!(openapi.body.contains("/api/heroes/random_hero"));
    assert_eq!(
        openapi.header("content-type"),
        "application/yaml;charset=UTF-8"
    );
    let json = app
        .client
        .get(&app.server.url("/q/openapi?format=json"))
        .await;
    assert_eq!(json.status, 200);
    assert_eq!(json.header("content-type"), "application/json");
    assert!(json.json()["paths"]["/api/heroes/random_hero"]["get"].is_object());
    assert_eq!(json.json()["openapi"], "3.0.3");
    assert_eq!(
        app.client
            .post(&app.server.url("/q/health/live"), "")
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_unreachable() {
    let db = test_support::db::postgres(&[]).await;
    let url = db.url.replace("127.0.0.1:5432", "127.0.0.1:1");
    let server = crate::helpers::spawn_on(catalog::HEROES, &url, &[]).await;
    let http = test_support::Client::new();
    let ready = http.get(&server.url("/q/health/ready")).await;
    let expected = r#"{"status":"DOWN","checks":[{"name":"database","status":"DOWN","detail":"database not answering"}]}"#;
    assert_eq!(
        (ready.status.as_u16(), ready.body.as_str()),
        (503, expected),
        "a reason in plain words, no driver details"
    );
    let all = http.get(&server.url("/q/health")).await;
    assert_eq!((all.status.as_u16(), all.body.as_str()), (503, expected));
    let started = http.get(&server.url("/q/health/started")).await;
    assert_eq!(
        (started.status.as_u16(), started.body.as_str()),
        (200, r#"{"status":"UP","checks":[]}"#)
    );
    let list = http.get(&server.url("/api/heroes")).await;
    assert_eq!(list.status, 503);
    assert_eq!(list.json()["status"], 503);
    assert!(!list.body.contains("5432"));
}

#[tokio::test]
async fn villains_share_the_implementation() {
    let app = spawn_app(VILLAINS).await;
    let reply = app
        .client
        .post(&app.api(""), r#"{"name":"Darth Vader","level":90}"#)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_i64().unwrap();
    assert_eq!(reply.header("location"), app.api(&format!("/{id}")));
    let random = app.client.get(&app.api("/random_villain")).await;
    assert_eq!(
        random.body,
        format!(r#"{{"id":{id},"name":"Darth Vader","level":90}}"#)
    );
    let hello = app.client.get(&app.api("/hello")).await;
    assert_eq!(hello.body, "Hello Villain Resource");
    let missing = app.client.get(&app.api("/2")).await;
    assert_eq!(missing.json()["detail"], "No villain with id 2");
}

#[tokio::test]
async fn shutdown_returns_cleanly() {
    let app = heroes().await;
    assert_eq!(app.client.get(&app.api("/hello")).await.status, 200);
    assert!(app.server.stop().await.is_ok());
}

/// The path of the first seed picture of `seed` (the seed stores it under its host).
fn first_seed_picture(seed: &str) -> &str {
    let start = seed.find("/api/heroes/pictures/").expect("a seed picture");
    let end = start + seed[start..].find('\'').expect("a quoted picture");
    &seed[start..end]
}

#[tokio::test]
async fn seed_pictures_are_portraits_the_service_draws() {
    let app = heroes().await;
    let path = first_seed_picture(include_str!("../../../../database/heroes-db/03-seed.sql"));
    assert!(path.starts_with("/api/heroes/pictures/"), "{path}");

    let picture = app.client.get(&app.server.url(path)).await;
    assert_eq!(picture.status, 200);
    assert_eq!(picture.header("content-type"), "image/svg+xml");
    assert_eq!(picture.header("cache-control"), "public, max-age=86400");
    assert!(picture.body.starts_with("<svg "), "{}", picture.body);

    let unknown = app.client.get(&app.api("/pictures/Not-A-Slug.svg")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.body,
        r#"{"title":"Not Found","status":404,"detail":"No picture named 'Not-A-Slug.svg'"}"#
    );
}
