//! Hostile input: SQL and LIKE metacharacters, NUL bytes, invalid UTF-8, huge numbers and
//! very long values get a correct answer or a 4xx, never a 5xx; a database failure never
//! shows the database password.

use catalog::HEROES;
use simd_json::prelude::*;
use test_support::{json_string, url_encode as encode};

use crate::helpers::{heroes, spawn_on, TestApp};

async fn create_named(app: &TestApp, name: &str) {
    let body = format!(r#"{{"name":{},"level":5}}"#, json_string(name));
    let reply = app.client.post(&app.api(""), &body).await;
    assert_eq!(reply.status, 201, "{name}: {}", reply.body);
}

fn assert_not_5xx(reply: &test_support::Reply, what: &str) {
    assert!(
        reply.status.as_u16() < 500,
        "{what}: {} {}",
        reply.status,
        reply.body
    );
}

const NAMES: &[&str] = &[
    "Plain Hero",
    "100% Hero",
    "Under_score",
    "O'Brien",
    r"Back\slash",
    "Semi;-- colon",
    "Quote\" Man",
];

#[tokio::test]
async fn a_name_filter_of_metacharacters_matches_them_literally() {
    let app = heroes().await;
    for name in NAMES {
        create_named(&app, name).await;
    }
    for filter in [
        "%",
        "_",
        "'",
        "\\",
        ";--",
        "\"",
        "%%",
        "' OR '1'='1",
        "'; DROP TABLE hero; --",
        "\\%",
        "[a-z]*",
        "$1",
    ] {
        let url = format!("{}?name_filter={}", app.api(""), encode(filter));
        let reply = app.client.get(&url).await;
        assert_eq!(reply.status, 200, "{filter:?}: {}", reply.body);
        let json = reply.json();
        let mut got: Vec<String> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|hero| hero["name"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        let mut expected: Vec<String> = NAMES
            .iter()
            .filter(|name| name.to_lowercase().contains(&filter.to_lowercase()))
            .map(|name| (*name).to_owned())
            .collect();
        expected.sort();
        assert_eq!(got, expected, "filter {filter:?}");
    }
    // The table survived the attempts above.
    let all = app.client.get(&app.api("")).await;
    assert_eq!(all.json().as_array().unwrap().len(), NAMES.len());
}

#[tokio::test]
async fn nul_bytes_and_invalid_utf8_are_4xx() {
    let app = heroes().await;
    create_named(&app, "Plain Hero").await;
    for query in [
        "name_filter=%00",
        "name_filter=Plain%00Hero",
        "name_filter=%ff",
        "name_filter=%c3%28",
        "name_filter=%",
        "name_filter=%zz",
        "name_filter=%ed%a0%80",
    ] {
        let reply = app.client.get(&format!("{}?{query}", app.api(""))).await;
        assert_not_5xx(&reply, query);
        assert!(
            reply.status == 200 || reply.status.is_client_error(),
            "{query}: {} {}",
            reply.status,
            reply.body
        );
    }
    let nul = app
        .client
        .get(&format!("{}?name_filter=%00", app.api("")))
        .await;
    assert_eq!(nul.status, 400, "{}", nul.body);
    let bad = app
        .client
        .get(&format!("{}?name_filter=%ff", app.api("")))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // NUL in a body, escaped as JSON allows it.
    for body in [
        r#"{"name":"Nul\u0000Hero","level":5}"#,
        r#"{"name":"Fine Hero","level":5,"powers":"a\u0000b"}"#,
    ] {
        let reply = app.client.post(&app.api(""), body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
    }
    // A lone surrogate: an escape that is no character.
    let reply = app
        .client
        .post(&app.api(""), r#"{"name":"Bad \ud800 Hero","level":5}"#)
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
}

#[tokio::test]
async fn huge_and_malformed_ids_are_4xx() {
    let app = heroes().await;
    for id in test_support::HOSTILE_IDS
        .iter()
        .copied()
        .chain(["1;DROP%20TABLE%20hero", "%2e%2e"])
    {
        let url = app.api(&format!("/{id}"));
        for reply in [
            app.client.get(&url).await,
            app.client
                .put(&url, r#"{"name":"Some Hero","level":5}"#)
                .await,
            app.client.patch(&url, r#"{"level":6}"#).await,
        ] {
            assert!(
                reply.status.is_client_error(),
                "{id}: {} {}",
                reply.status,
                reply.body
            );
        }
        // Deleting what is not there is done: 204 for a valid id, 4xx for others.
        let reply = app.client.delete(&url).await;
        assert!(
            reply.status == 204 || reply.status.is_client_error(),
            "{id}: {} {}",
            reply.status,
            reply.body
        );
    }
}

#[tokio::test]
async fn very_long_values_are_answered_or_refused_with_4xx() {
    let app = heroes().await;
    create_named(&app, "Plain Hero").await;
    // Long, but within the request head limit: an answer.
    let filter = "a".repeat(8_000);
    let reply = app
        .client
        .get(&format!("{}?name_filter={filter}", app.api("")))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, "[]");
    // Past the head limit: refused by the server before the service sees it.
    let filter = "a".repeat(20 * 1024);
    let reply = app
        .client
        .get(&format!("{}?name_filter={filter}", app.api("")))
        .await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    // A long id.
    let reply = app
        .client
        .get(&app.api(&format!("/{}", "9".repeat(5_000))))
        .await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    // Long fields in a body: a violation, not a database error.
    let long = "x".repeat(10_000);
    for body in [
        format!(r#"{{"name":"{long}","level":5}}"#),
        format!(r#"{{"name":"Long Hero","level":5,"otherName":"{long}"}}"#),
        format!(r#"{{"name":"Long Hero","level":5,"picture":"{long}"}}"#),
        r#"{"name":"Long Hero","level":99999999999999999999999}"#.to_owned(),
    ] {
        let reply = app.client.post(&app.api(""), &body).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
    }
    // Long powers (unbounded text) are stored.
    let body = format!(r#"{{"name":"Long Hero","level":5,"powers":"{long}"}}"#);
    let reply = app.client.post(&app.api(""), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    // A body past the limit.
    let huge = "x".repeat(1 << 20);
    let body = format!(r#"{{"name":"Huge Hero","level":5,"powers":"{huge}"}}"#);
    let reply = app.client.post(&app.api(""), &body).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
}

#[tokio::test]
async fn a_database_failure_does_not_show_the_password() {
    let url = "postgres://superman:sekret@127.0.0.1:1/heroes_database";
    let server = spawn_on(HEROES, url, &[]).await;
    let http = test_support::Client::new();
    let list = http.get(&server.url("/api/heroes")).await;
    assert_eq!(list.status, 503, "{}", list.body);
    assert_eq!(list.header("content-type"), "application/problem+json");
    for reply in [
        list,
        http.get(&server.url("/api/heroes/1")).await,
        http.get(&server.url("/api/heroes/random")).await,
        http.post(
            &server.url("/api/heroes"),
            r#"{"name":"Some Hero","level":5}"#,
        )
        .await,
        http.get(&server.url("/q/health/ready")).await,
    ] {
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(!reply.body.contains("sekret"), "{}", reply.body);
        assert!(!reply.body.contains("superman:"), "{}", reply.body);
    }
}

#[tokio::test]
async fn with_admin_token_set_writes_need_it_and_reads_do_not() {
    use http::Method;

    let app = crate::helpers::heroes().await;
    let guarded = crate::helpers::spawn_on(
        catalog::HEROES,
        &app.db.url,
        &[("ADMIN_TOKEN", "hero-admin-7")],
    )
    .await;
    let id = crate::helpers::create(&app, "Open Hero", 3).await;
    let unauthorized = r#"{"title":"Unauthorized","status":401,"detail":"This write needs Authorization: Bearer with the admin token"}"#;
    let one = r#"{"name":"Guarded Hero","level":4}"#;
    let all = format!("[{one}]");
    for (method, path, body) in [
        (Method::POST, "/api/heroes".to_owned(), Some(one)),
        (Method::PUT, "/api/heroes".to_owned(), Some(all.as_str())),
        (Method::DELETE, "/api/heroes".to_owned(), None),
        (Method::PUT, format!("/api/heroes/{id}"), Some(one)),
        (Method::PATCH, format!("/api/heroes/{id}"), Some(one)),
        (Method::DELETE, format!("/api/heroes/{id}"), None),
    ] {
        for token in [&[][..], &[("authorization", "Bearer hero-admin-8")]] {
            let reply = app
                .client
                .send_with(method.clone(), &guarded.url(&path), body, token)
                .await;
            assert_eq!(reply.status, 401, "{method} {path} {token:?}");
            assert_eq!(reply.header("www-authenticate"), "Bearer");
            assert_eq!(reply.body, unauthorized);
        }
    }
    let read = app
        .client
        .get(&guarded.url(&format!("/api/heroes/{id}")))
        .await;
    assert_eq!(
        (read.status.as_u16(), read.body.as_str()),
        (200, format!(r#"{{"id":{id},"name":"Open Hero","otherName":"Other Open Hero","level":3,"powers":"Flight"}}"#).as_str())
    );
    let created = app
        .client
        .send_with(
            Method::POST,
            &guarded.url("/api/heroes"),
            Some(one),
            &[("authorization", "Bearer hero-admin-7")],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let open = app.client.delete(&app.api(&format!("/{id}"))).await;
    assert_eq!(open.status, 204, "without ADMIN_TOKEN writes stay open");
}
