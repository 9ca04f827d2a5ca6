//! Random picks from the cached id set, and its coherence with writes of other replicas.

use std::{collections::HashSet, time::Duration};

use catalog::HEROES;
use simd_json::prelude::*;

use crate::helpers::{create, heroes, spawn_on};

#[tokio::test]
async fn empty_table_is_404_on_both_paths() {
    let app = heroes().await;
    for path in ["/random", "/random_hero"] {
        let reply = app.client.get(&app.api(path)).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json()["detail"], "No hero found");
    }
}

#[tokio::test]
async fn every_row_can_be_drawn_and_deleted_rows_never_are() {
    let app = heroes().await;
    let mut ids = Vec::new();
    for (name, level) in [("Red One", 1), ("Blue Two", 2), ("Green Three", 3)] {
        ids.push(create(&app, name, level).await);
    }
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let reply = app.client.get(&app.api("/random_hero")).await;
        assert_eq!(reply.status, 200);
        seen.insert(reply.json()["id"].as_i64().unwrap());
    }
    assert!(
        ids.iter().all(|id| seen.contains(id)),
        "all created rows drawn: {seen:?}"
    );

    app.client.delete(&app.api(&format!("/{}", ids[0]))).await;
    for _ in 0..100 {
        let reply = app.client.get(&app.api("/random")).await;
        assert_ne!(reply.json()["id"].as_i64(), Some(ids[0]));
    }
}

#[tokio::test]
async fn writes_through_another_replica_arrive_within_a_second() {
    let app = heroes().await;
    let other = spawn_on(HEROES, &app.db.url, &[]).await;
    let other_api = other.url("/api/heroes");
    // Let both instances start following the table.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let reply = app
        .client
        .post(&other_api, r#"{"name":"Elsewhere","level":5}"#)
        .await;
    assert_eq!(reply.status, 201);
    let id = reply.json()["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let drawn = app.client.get(&app.api("/random")).await;
    assert_eq!(drawn.status, 200);
    assert_eq!(drawn.json()["id"].as_i64(), Some(id));

    let second = app
        .client
        .post(&app.api(""), r#"{"name":"Here Too","level":6}"#)
        .await;
    let kept = second.json()["id"].as_i64().unwrap();
    app.client.delete(&format!("{other_api}/{id}")).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for _ in 0..50 {
        let reply = app.client.get(&app.api("/random")).await;
        assert_eq!(reply.json()["id"].as_i64(), Some(kept));
    }

    app.client.delete(&other_api).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.client.get(&app.api("/random")).await.status, 404);
}

#[tokio::test]
async fn rows_written_directly_in_the_database_are_drawn() {
    let app = heroes().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (client, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(
            "INSERT INTO hero (id, name, level) VALUES (nextval('hero_seq'), 'Direct', 3)",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let drawn = app.client.get(&app.api("/random")).await;
    assert_eq!(drawn.status, 200);
    assert_eq!(drawn.json()["name"], "Direct");
}
