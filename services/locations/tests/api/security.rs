//! Hostile input: SQL and LIKE metacharacters, NUL bytes, invalid UTF-8, huge numbers and
//! very long values get a correct answer or a 4xx, never a 5xx; a database failure never
//! shows the database password.

use test_support::Reply;
use test_support::{json_string, url_encode as encode};

use crate::helpers::{spawn_app, spawn_on};

fn assert_4xx(reply: &Reply, what: &str) {
    assert!(
        reply.status.is_client_error(),
        "{what}: {} {}",
        reply.status,
        reply.body
    );
}

const NAMES: &[&str] = &[
    "Plain Town",
    "100% Town",
    "Under_score",
    "O'Brien Bay",
    r"Back\slash",
    "Semi;-- colon",
    "Quote\" City",
];

#[tokio::test]
async fn names_of_metacharacters_are_found_literally() {
    let app = spawn_app().await;
    for name in NAMES {
        let body = format!(r#"{{"name":{},"type":"CITY"}}"#, json_string(name));
        let reply = app.post("/api/locations", &body).await;
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
    }
    for name in NAMES {
        let reply = app
            .get(&format!("/api/locations/name/{}", encode(name)))
            .await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert!(
            reply
                .body
                .contains(&format!(r#""name":{}"#, json_string(name))),
            "{name}: {}",
            reply.body
        );
    }
    // Wildcards and injections match nothing: the lookup is by the exact name.
    for probe in [
        "%",
        "_",
        "%Town",
        "Plain_Town",
        "'",
        "\\",
        ";--",
        "' OR '1'='1",
        "' OR 1=1 -- ",
        "x'; DROP TABLE locations; --",
        "\"",
        "*",
    ] {
        let reply = app
            .get(&format!("/api/locations/name/{}", encode(probe)))
            .await;
        assert_eq!(reply.status, 404, "{probe:?}: {}", reply.body);
    }
    let all = app.get("/api/locations").await;
    assert_eq!(all.status, 200);
    for name in NAMES {
        assert!(all.body.contains(&json_string(name)), "{name} is gone");
    }
}

#[tokio::test]
async fn nul_bytes_and_invalid_utf8_are_4xx() {
    let app = spawn_app().await;
    app.create("Plain Town", "CITY").await;
    for path in [
        "/api/locations/name/%00",
        "/api/locations/name/Plain%00Town",
        "/api/locations/name/Plain%20Town%00",
        "/api/locations/name/%ff",
        "/api/locations/name/%c3%28",
        "/api/locations/name/%ed%a0%80",
        "/api/locations/name/%",
        "/api/locations/name/%zz",
    ] {
        let reply = app.get(path).await;
        assert_4xx(&reply, path);
    }
    assert_eq!(app.get("/api/locations/name/%ff").await.status, 400);
    for body in [
        r#"{"name":"Nul\u0000Town","type":"CITY"}"#,
        r#"{"name":"Fine Town","type":"CITY","description":"a\u0000b"}"#,
        r#"{"name":"Bad \ud800 Town","type":"CITY"}"#,
    ] {
        let reply = app.post("/api/locations", body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
    }
}

#[tokio::test]
async fn huge_and_malformed_ids_are_4xx() {
    let app = spawn_app().await;
    for id in test_support::HOSTILE_IDS
        .iter()
        .copied()
        .chain(["1;DROP%20TABLE%20locations"])
    {
        let path = format!("/api/locations/{id}");
        assert_4xx(&app.get(&path).await, &path);
        assert_4xx(
            &app.put(&path, r#"{"name":"Some Town","type":"CITY"}"#)
                .await,
            &path,
        );
        assert_4xx(&app.patch(&path, r#"{"name":"Some Town"}"#).await, &path);
        // Deleting what is not there is done: 204 for a valid id, 4xx for others.
        let reply = app.delete(&path).await;
        assert!(
            reply.status == 204 || reply.status.is_client_error(),
            "{path}: {} {}",
            reply.status,
            reply.body
        );
    }
}

#[tokio::test]
async fn very_long_values_are_answered_or_refused_with_4xx() {
    let app = spawn_app().await;
    app.create("Plain Town", "CITY").await;
    let reply = app
        .get(&format!("/api/locations/name/{}", "a".repeat(8_000)))
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    // Past the request head limit: refused before the service sees it.
    let reply = app
        .get(&format!("/api/locations/name/{}", "a".repeat(20 * 1024)))
        .await;
    assert_4xx(&reply, "20 KiB name");
    let reply = app
        .get(&format!("/api/locations/{}", "9".repeat(5_000)))
        .await;
    assert_4xx(&reply, "5000-digit id");
    let long = "x".repeat(70_000);
    for body in [
        format!(r#"{{"name":"{long}","type":"CITY"}}"#),
        format!(r#"{{"name":"Long Town","type":"CITY","picture":"{long}"}}"#),
        format!(r#"{{"name":"Long Town","type":"CITY","description":"{long}"}}"#),
        format!(r#"{{"name":"Long Town","type":"{long}"}}"#),
        r#"{"name":"Long Town","type":"CITY","id":99999999999999999999999}"#.to_owned(),
    ] {
        let reply = app.post("/api/locations", &body).await;
        assert_4xx(&reply, &body[..40]);
    }
    let huge = "x".repeat(1 << 20);
    let reply = app
        .post(
            "/api/locations",
            &format!(r#"{{"name":"Huge Town","type":"CITY","description":"{huge}"}}"#),
        )
        .await;
    assert_eq!(reply.status, 413, "{}", reply.body);
}

#[tokio::test]
async fn a_database_failure_does_not_show_the_password() {
    let service = spawn_on("mysql://locations:sekret@127.0.0.1:1/locations_database").await;
    let client = test_support::Client::new();
    for path in [
        "/api/locations",
        "/api/locations/1",
        "/api/locations/name/Plain",
        "/q/health/ready",
    ] {
        let reply = client.get(&service.url(path)).await;
        assert_eq!(reply.status, 503, "{path}: {}", reply.body);
        assert!(!reply.body.contains("sekret"), "{path}: {}", reply.body);
        assert!(!reply.body.contains("locations:"), "{path}: {}", reply.body);
    }
    // Random picks come from the id cache, empty while the database is unreachable.
    let reply = client
        .get(&service.url("/api/locations/random_location"))
        .await;
    assert!(
        reply.status.is_client_error() || reply.status == 503,
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("sekret"), "{}", reply.body);
    let reply = client
        .post(
            &service.url("/api/locations"),
            r#"{"name":"Some Town","type":"CITY"}"#,
        )
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(!reply.body.contains("sekret"), "{}", reply.body);
}

#[tokio::test]
async fn with_admin_token_set_writes_need_it_and_reads_do_not() {
    use http::Method;

    let app = crate::helpers::spawn_app().await;
    let guarded = crate::helpers::spawn_with(&app.db.url, &[("ADMIN_TOKEN", "loc-admin-7")]).await;
    let id = app.create("Open Town", "CITY").await;
    let one = r#"{"name":"Guarded Town","type":"CITY"}"#;
    let all = format!("[{one}]");
    let unauthorized = r#"{"title":"Unauthorized","status":401,"detail":"This write needs Authorization: Bearer with the admin token"}"#;
    for (method, path, body) in [
        (Method::POST, "/api/locations".to_owned(), one),
        (Method::PUT, "/api/locations".to_owned(), all.as_str()),
        (Method::DELETE, "/api/locations".to_owned(), ""),
        (Method::PUT, format!("/api/locations/{id}"), one),
        (Method::PATCH, format!("/api/locations/{id}"), one),
        (Method::DELETE, format!("/api/locations/{id}"), ""),
    ] {
        for token in [
            &[][..],
            &[("authorization", "Bearer wrong")],
            &[("authorization", "loc-admin-7")],
        ] {
            let json = (!body.is_empty()).then_some(body);
            let reply = app
                .client
                .send_with(method.clone(), &guarded.url(&path), json, token)
                .await;
            assert_eq!(reply.status, 401, "{method} {path} {token:?}");
            assert_eq!(reply.header("www-authenticate"), "Bearer");
            assert_eq!(reply.body, unauthorized);
        }
    }
    let read = app
        .client
        .get(&guarded.url(&format!("/api/locations/{id}")))
        .await;
    assert_eq!(
        (read.status.as_u16(), read.body.as_str()),
        (
            200,
            format!(r#"{{"id":{id},"name":"Open Town","type":"CITY"}}"#).as_str()
        )
    );
    let patched = app
        .client
        .send_with(
            Method::PATCH,
            &guarded.url(&format!("/api/locations/{id}")),
            Some(one),
            &[("authorization", "Bearer loc-admin-7")],
        )
        .await;
    assert_eq!(
        (patched.status.as_u16(), patched.body.as_str()),
        (
            200,
            format!(r#"{{"id":{id},"name":"Guarded Town","type":"CITY"}}"#).as_str()
        )
    );
}
