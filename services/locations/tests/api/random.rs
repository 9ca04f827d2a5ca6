//! Random picks: empty tables, rows created and deleted after start, and coherence
//! between two replicas on one database.

use std::time::{Duration, Instant};

use crate::helpers::{assert_problem, spawn_app, spawn_on};

const EMPTY: &str = r#"{"title":"Not Found","status":404,"detail":"There are no locations"}"#;

#[tokio::test]
async fn an_empty_table_is_404() {
    let app = spawn_app().await;
    assert_problem(&app.get("/api/locations/random_location").await, 404, EMPTY);
    assert_problem(&app.get("/api/locations/random").await, 404, EMPTY);
}

#[tokio::test]
async fn every_created_row_can_be_drawn() {
    let app = spawn_app().await;
    let ids = [
        app.create("First Moon", "MOON").await,
        app.create("Second Moon", "MOON").await,
    ];
    let mut seen = [false; 2];
    for _ in 0..200 {
        let reply = app.get("/api/locations/random_location").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let position = ids
            .iter()
            .position(|id| reply.body.starts_with(&format!(r#"{{"id":{id},"#)));
        seen[position.unwrap_or_else(|| panic!("unexpected pick {}", reply.body))] = true;
        if seen == [true; 2] {
            break;
        }
    }
    assert_eq!(seen, [true; 2]);
    let random = app.get("/api/locations/random").await;
    assert!(random.body.contains(r#""type":"MOON"}"#), "{}", random.body);
}

#[tokio::test]
async fn a_deleted_row_is_never_drawn() {
    let app = spawn_app().await;
    let kept = app.create("Kept Place", "PLACE").await;
    let deleted = app.create("Deleted Place", "PLACE").await;
    app.delete(&format!("/api/locations/{deleted}")).await;
    for _ in 0..50 {
        let reply = app.get("/api/locations/random_location").await;
        assert_eq!(
            reply.body,
            format!(r#"{{"id":{kept},"name":"Kept Place","type":"PLACE"}}"#)
        );
    }
}

/// Polls `path` on `url` until `accept` holds, failing after a generous deadline.
async fn eventually(client: &test_support::Client, url: &str, accept: impl Fn(u16, &str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = client.get(url).await;
        if accept(reply.status.as_u16(), &reply.body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn replicas_see_each_others_writes() {
    let a = spawn_app().await;
    let b = spawn_on(&a.db.url).await;
    let a_random = a.url("/api/locations/random_location");
    assert_problem(&a.get("/api/locations/random_location").await, 404, EMPTY);

    let created = a
        .client
        .post(
            &b.url("/api/locations"),
            r#"{"name":"Made By B","type":"ISLAND"}"#,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let made_by_b = crate::helpers::id_of(&created);
    let expected = format!(r#"{{"id":{made_by_b},"name":"Made By B","type":"ISLAND"}}"#);
    eventually(&a.client, &a_random, |status, body| {
        status == 200 && body == expected
    })
    .await;

    let own = a.create("Made By A", "ISLAND").await;
    let deleted = a
        .client
        .delete(&b.url(&format!("/api/locations/{made_by_b}")))
        .await;
    assert_eq!(deleted.status, 204);
    let only = format!(r#"{{"id":{own},"name":"Made By A","type":"ISLAND"}}"#);
    for _ in 0..50 {
        let reply = a.get("/api/locations/random_location").await;
        assert_eq!(
            (reply.status.as_u16(), reply.body.as_str()),
            (200, only.as_str())
        );
    }

    let emptied = a.client.delete(&b.url("/api/locations")).await;
    assert_eq!(emptied.status, 204);
    eventually(&a.client, &a_random, |status, body| {
        status == 404 && body == EMPTY
    })
    .await;
}
