//! What every service answers alike: hello, unknown paths, wrong methods, body limits,
//! health, metrics and the OpenAPI document.

use http::Method;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn hello_is_plain_text() {
    let app = spawn_app().await;
    let reply = app.get("/api/locations/hello").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "text/plain;charset=UTF-8");
    assert_eq!(reply.body, "Hello Location Resource");
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app().await;
    for path in ["/api/locations/1/2", "/api/heroes", "/api/locations/1/2/"] {
        let reply = app.get(path).await;
        assert_problem(
            &reply,
            404,
            r#"{"title":"Not Found","status":404,"detail":"No resource at this path"}"#,
        );
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (
            Method::PATCH,
            "/api/locations",
            "GET, HEAD, POST, PUT, DELETE, OPTIONS",
        ),
        (
            Method::POST,
            "/api/locations/1",
            "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
        ),
        (
            Method::DELETE,
            "/api/locations/random_location",
            "GET, HEAD, OPTIONS",
        ),
        (Method::POST, "/api/locations/hello", "GET, HEAD, OPTIONS"),
    ] {
        let reply = app.client.send(method, &app.url(path), None).await;
        assert_eq!(reply.header("allow"), allow, "{path}");
        let body = format!(
            r#"{{"title":"Method Not Allowed","status":405,"detail":"Allowed methods: {allow}"}}"#
        );
        assert_problem(&reply, 405, &body);
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"name":"Big","type":"CITY","description":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let reply = app.post("/api/locations", &big).await;
    assert_problem(
        &reply,
        413,
        r#"{"title":"Payload Too Large","status":413,"detail":"Request body is larger than 65536 bytes"}"#,
    );
    assert_eq!(app.get("/api/locations").await.body, "[]");
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let app = spawn_app().await;
    let live = app.get("/q/health/live").await;
    assert_eq!(
        (live.status.as_u16(), live.body.as_str()),
        (200, r#"{"status":"UP"}"#)
    );
    let ready = app.get("/q/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(
        ready.body,
        r#"{"status":"UP","checks":[{"name":"database","status":"UP"}]}"#
    );

    app.get("/api/locations").await;
    let metrics = app.get("/q/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains(
            r#"http_requests_total{service="locations",route="GET /api/locations",status="200"} 1"#
        ),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains(r#"db_pool_max_connections{service="locations"} 4"#),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains(r#"random_ids{service="locations"} 0"#),
        "{}",
        metrics.body
    );

    let openapi = app.get("/q/openapi").await;
    assert_eq!(openapi.status, 200);
    assert!(
        openapi.body.starts_with("openapi: 3.0.3"),
        "{}",
        openapi.body
    );
    assert!(openapi.body.contains("/api/locations/random_location:"));
}

#[tokio::test]
async fn an_unreachable_database_is_not_ready_but_served() {
    let server =
        crate::helpers::spawn_on("mysql://locations:locations@127.0.0.1:1/locations_database")
            .await;
    let client = test_support::Client::new();
    let ready = client.get(&server.url("/q/health/ready")).await;
    let expected = r#"{"status":"DOWN","checks":[{"name":"database","status":"DOWN","detail":"database not answering"}]}"#;
    assert_eq!(
        (ready.status.as_u16(), ready.body.as_str()),
        (503, expected)
    );
    let all = client.get(&server.url("/q/health")).await;
    assert_eq!((all.status.as_u16(), all.body.as_str()), (503, expected));
    let reply = client.get(&server.url("/api/locations/1")).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(
        reply.body,
        r#"{"title":"Service Unavailable","status":503,"detail":"The database is unavailable"}"#
    );
    let hello = client.get(&server.url("/api/locations/hello")).await;
    assert_eq!(
        (hello.status.as_u16(), hello.body.as_str()),
        (200, "Hello Location Resource")
    );
}

#[tokio::test]
async fn stopping_drains_and_closes_the_pool() {
    let app = spawn_app().await;
    app.create("Before Stop", "CITY").await;
    let crate::helpers::TestApp { server, db, .. } = app;
    let result = server.stop().await;
    assert!(result.is_ok(), "{result:?}");
    drop(db);
}

#[tokio::test]
async fn seed_pictures_are_portraits_the_service_draws() {
    let app = spawn_app().await;
    let seed = include_str!("../../../../database/locations-db/02-seed.sql");
    let start = seed
        .find("/api/locations/pictures/")
        .expect("a seed picture");
    let end = start + seed[start..].find('\'').expect("a quoted picture");

    let picture = app.get(&seed[start..end]).await;
    assert_eq!(picture.status, 200);
    assert_eq!(picture.header("content-type"), "image/svg+xml");
    assert!(picture.body.starts_with("<svg "), "{}", picture.body);

    let unknown = app.get("/api/locations/pictures/a/b.svg").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains(r#""status":404"#), "{}", unknown.body);
}
