//! Unpaged listings of all fights: a bounded number at once, past it 503 with
//! `Retry-After`, and inserts that never wait behind them.

use std::time::Duration;

use test_support::http::stalled_get;

use crate::{
    fakes::Fakes,
    helpers::{spawn_with, stored_fight, TestApp},
    storage::FIGHT,
};

/// Fights inserted straight into the collection: each about 8 KB, so that a listing is
/// far larger than what socket buffers and the body channel hold and a client that
/// stops reading keeps its listing running.
async fn fill(app: &TestApp, fights: usize) {
    let powers = "p".repeat(8 * 1024);
    let docs: Vec<_> = (0..fights)
        .map(|n| {
            let mut fight = stored_fight(format!("Hero {n}"));
            fight.insert("winnerPowers", &powers);
            fight
        })
        .collect();
    app.insert_fights(&docs).await;
}

#[tokio::test]
async fn listings_past_the_bound_are_503_and_posts_keep_answering() {
    let fakes = Fakes::start().await;
    let app = spawn_with(&fakes.urls(), &[("FIGHTS_MAX_LISTINGS", "4")]).await;
    fill(&app, 3_000).await;

    let mut stalled = Vec::new();
    for _ in 0..4 {
        let (stream, head) = stalled_get(app.server.addr, "/api/fights").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("application/json"), "{head}");
        stalled.push(stream);
    }

    let refused = app.client.get(&app.url("/api/fights")).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), "1");
    assert_eq!(refused.header("content-type"), "application/problem+json");
    assert_eq!(
        refused.body,
        r#"{"title":"Service Unavailable","status":503,"detail":"Too many listings of all fights running, try again shortly or ask for a page"}"#
    );

    for _ in 0..5 {
        let posted = app.client.post(&app.url("/api/fights"), FIGHT).await;
        assert_eq!(posted.status, 200, "{}", posted.body);
        assert!(
            posted.body.contains(r#""winnerName":"Yoda""#),
            "{}",
            posted.body
        );
    }
    let page = app.client.get(&app.url("/api/fights?size=1")).await;
    assert_eq!(page.status, 200, "pages are not listings: {}", page.body);
    assert!(page.body.starts_with(r#"[{"id":""#), "{}", page.body);

    drop(stalled);
    // The listings end once the service notices their clients are gone.
    let mut listed = app.client.get(&app.url("/api/fights")).await;
    for _ in 0..50 {
        if listed.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        listed = app.client.get(&app.url("/api/fights")).await;
    }
    assert_eq!(
        listed.status,
        200,
        "{}",
        &listed.body[..listed.body.len().min(200)]
    );
    assert!(listed.body.starts_with('[') && listed.body.ends_with(']'));
    assert_eq!(listed.body.matches(r#""loserName":"#).count(), 3_005);
}
