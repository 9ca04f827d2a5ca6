//! `GET /api/fights/stats`: counts and top winners computed by the real MongoDB-compatible
//! server, one computation per interval however many ask, and 503 without MongoDB.

use std::time::Duration;

use simd_json::prelude::*;

use crate::fakes::{closed_url, Downstreams, Fake, Fakes, Role};
use crate::helpers::{metric, spawn_app, spawn_with, TestApp};
use crate::relay::Relay;

const EMPTY: &str = r#"{"fights":0,"wins":{"heroes":0,"villains":0},"topWinners":[]}"#;
const UNAVAILABLE: &str = r#"{"title":"Service Unavailable","status":503,"detail":"MongoDB could not compute the fight statistics right now"}"#;
const REFRESHES: &str = "fights_stats_refreshes_total";

/// A POST body for a fight that `winner` of `team` wins against a level-1 opponent.
fn won_by(team: &str, winner: &str) -> String {
    let (hero, villain) = match team {
        "heroes" => ((winner, 1000), ("Loser", 1)),
        _ => (("Loser", 1), (winner, 1000)),
    };
    format!(
        r#"{{"hero":{{"name":"{}","level":{},"picture":"p.png"}},"villain":{{"name":"{}","level":{},"picture":"p.png"}}}}"#,
        hero.0, hero.1, villain.0, villain.1
    )
}

async fn store(app: &TestApp, fights: &[(&str, &str)]) {
    let posts = fights.iter().map(|&(team, winner)| {
        let (client, url) = (app.client.clone(), app.url("/api/fights"));
        async move { client.post(&url, &won_by(team, winner)).await }
    });
    for reply in futures_util::future::join_all(posts).await {
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

/// Waits until the counters hold `wins` (heroes, villains): the writer counts the wins
/// of stored fights after it answered them.
async fn counted(app: &TestApp, wins: (i64, i64)) {
    let mut counted = app.counted_wins().await;
    for _ in 0..100 {
        if counted == wins {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        counted = app.counted_wins().await;
    }
    assert_eq!(counted, wins, "the counters never reached the stored wins");
}

#[tokio::test]
async fn stats_of_no_fights_are_zeros() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app.client.get(&app.url("/api/fights/stats")).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.body, EMPTY);
}

#[tokio::test]
async fn stats_count_fights_and_rank_the_top_ten_winners() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let mut fights = vec![
        ("heroes", "Yoda"),
        ("heroes", "Yoda"),
        ("heroes", "Yoda"),
        ("heroes", "Luke"),
        ("heroes", "Luke"),
        ("heroes", "Anakin"),
        ("heroes", "Anakin"),
        ("villains", "Vader"),
        ("villains", "Vader"),
        ("villains", "Anakin"),
    ];
    let names: Vec<String> = (0..11).map(|n| format!("H{n:02}")).collect();
    fights.extend(names.iter().map(|name| ("heroes", name.as_str())));
    store(&app, &fights).await;
    counted(&app, (18, 3)).await;

    let reply = app.client.get(&app.url("/api/fights/stats")).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let stats = reply.json();
    assert_eq!(stats["fights"], 21);
    assert_eq!(stats["wins"]["heroes"], 18);
    assert_eq!(stats["wins"]["villains"], 3);
    let top: Vec<String> = stats["topWinners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{} {} {}",
                w["name"].as_str().unwrap(),
                w["team"].as_str().unwrap(),
                w["wins"].as_i64().unwrap()
            )
        })
        .collect();
    assert_eq!(
        top,
        [
            "Yoda heroes 3",
            "Anakin heroes 2",
            "Luke heroes 2",
            "Vader villains 2",
            "Anakin villains 1",
            "H00 heroes 1",
            "H01 heroes 1",
            "H02 heroes 1",
            "H03 heroes 1",
            "H04 heroes 1",
        ],
        "most wins first, ties by name then team, ten at most"
    );
}

#[tokio::test]
async fn what_a_refresh_costs_does_not_grow_with_the_winner_names() {
    let fakes = Fakes::start().await;
    let relay = Relay::to_mongodb(&test_support::db::mongodb().0).await;
    let app = spawn_with(
        &fakes.urls(),
        &[
            ("MONGODB_URL", relay.url.as_str()),
            ("FIGHTS_STATS_INTERVAL_MS", "600000"),
        ],
    )
    .await;
    // Names anyone can POST, each winning once, one of them twice.
    let names: Vec<String> = (0..3_000).map(|n| format!("Hero {n:04}")).collect();
    for chunk in names.chunks(200) {
        let fights: Vec<(&str, &str)> = chunk.iter().map(|n| ("heroes", n.as_str())).collect();
        store(&app, &fights).await;
    }
    store(&app, &[("heroes", "Hero 2999"), ("villains", "Vader")]).await;
    counted(&app, (3_001, 1)).await;

    let before = relay.replied_bytes();
    let reply = app.client.get(&app.url("/api/fights/stats")).await;
    let read = relay.replied_bytes() - before;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let stats = reply.json();
    assert_eq!(stats["fights"], 3_002);
    assert_eq!(stats["wins"]["heroes"], 3_001);
    assert_eq!(stats["wins"]["villains"], 1);
    let top: Vec<String> = stats["topWinners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{} {}", w["name"].as_str().unwrap(), w["wins"]))
        .collect();
    assert_eq!(
        top,
        [
            "Hero 2999 2",
            "Hero 0000 1",
            "Hero 0001 1",
            "Hero 0002 1",
            "Hero 0003 1",
            "Hero 0004 1",
            "Hero 0005 1",
            "Hero 0006 1",
            "Hero 0007 1",
            "Hero 0008 1",
        ]
    );
    // The totals and ten winners, not a group per name (3,000 of them are 60 KB and more).
    assert!(
        read < 8 * 1024,
        "a refresh read {read} bytes from MongoDB for 3,000 names"
    );
}

#[tokio::test]
async fn requests_within_the_interval_share_one_computation() {
    let fakes = Fakes::start().await;
    let app = spawn_with(&fakes.urls(), &[("FIGHTS_STATS_INTERVAL_MS", "600000")]).await;
    assert_eq!(metric(&app, REFRESHES).await, Some(0));

    let first = (0..8).map(|_| {
        let (client, url) = (app.client.clone(), app.url("/api/fights/stats"));
        async move { client.get(&url).await }
    });
    let first = futures_util::future::join_all(first).await;
    store(&app, &[("heroes", "Yoda")]).await;
    let later = app.client.get(&app.url("/api/fights/stats")).await;

    for reply in first.iter().chain([&later]) {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, EMPTY, "the snapshot of the one computation");
    }
    assert_eq!(metric(&app, REFRESHES).await, Some(1));
}

#[tokio::test]
async fn an_old_snapshot_is_answered_while_a_new_one_is_computed() {
    let fakes = Fakes::start().await;
    let app = spawn_with(&fakes.urls(), &[("FIGHTS_STATS_INTERVAL_MS", "1")]).await;
    let first = app.client.get(&app.url("/api/fights/stats")).await;
    assert_eq!(first.body, EMPTY);
    store(&app, &[("villains", "Vader")]).await;

    let mut seen = Vec::new();
    for _ in 0..100 {
        let reply = app.client.get(&app.url("/api/fights/stats")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let done = reply.json()["fights"] == 1;
        seen.push(reply.body);
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert_eq!(
        seen.last().map(String::as_str),
        Some(
            r#"{"fights":1,"wins":{"heroes":0,"villains":1},"topWinners":[{"name":"Vader","team":"villains","wins":1}]}"#
        ),
        "the new fight is counted once a refresh ran"
    );
    assert!(seen
        .iter()
        .all(|body| body == EMPTY || body == seen.last().unwrap()));
    assert!(metric(&app, REFRESHES).await.unwrap() >= 2);
}

fn fake_downstreams(fake: &Fake) -> Downstreams {
    Downstreams {
        heroes: fake.url.clone(),
        villains: fake.url.clone(),
        locations: fake.url.clone(),
    }
}

#[tokio::test]
async fn stats_without_mongodb_are_503() {
    let fake = Fake::start(Role::Heroes).await;
    let closed = closed_url().await.replace("http://", "mongodb://");
    let mongo_url = format!("{closed}/?serverSelectionTimeoutMS=500&connectTimeoutMS=500");
    let app = spawn_with(
        &fake_downstreams(&fake),
        &[
            ("MONGODB_URL", mongo_url.as_str()),
            ("FIGHTS_STATS_INTERVAL_MS", "600000"),
        ],
    )
    .await;

    let waited = app.client.get(&app.url("/api/fights/stats")).await;
    let again = app.client.get(&app.url("/api/fights/stats")).await;

    for reply in [&waited, &again] {
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(reply.body, UNAVAILABLE);
    }
    assert_eq!(
        metric(&app, "fights_stats_refresh_failures_total").await,
        Some(1),
        "no second attempt within the interval"
    );
}

#[tokio::test]
async fn stats_from_a_silent_mongodb_are_503_within_the_timeout() {
    let fake = Fake::start(Role::Heroes).await;
    let relay = Relay::to_mongodb(&test_support::db::mongodb().0).await;
    let app = spawn_with(
        &fake_downstreams(&fake),
        &[
            ("MONGODB_URL", relay.url.as_str()),
            ("MONGODB_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    relay.freeze();

    let reply = app.client.get(&app.url("/api/fights/stats")).await;

    assert_eq!(reply.status, 503);
    assert_eq!(reply.body, UNAVAILABLE);
}

#[tokio::test]
async fn wins_are_counted_within_the_flush_interval_while_no_fight_arrives() {
    let fakes = Fakes::start().await;
    let app = spawn_with(&fakes.urls(), &[("FIGHTS_STATS_FLUSH_MS", "200")]).await;

    store(&app, &[("heroes", "Yoda"), ("villains", "Vader")]).await;
    store(&app, &[("heroes", "Yoda")]).await;

    counted(&app, (2, 1)).await;
    assert_eq!(app.stored_fights().await, 3);
}

#[tokio::test]
async fn wins_still_tallied_at_shutdown_are_counted_before_it_ends() {
    let fakes = Fakes::start().await;
    let app = spawn_with(&fakes.urls(), &[("FIGHTS_STATS_FLUSH_MS", "60000")]).await;
    store(&app, &[("heroes", "Yoda")]).await;
    store(&app, &[("villains", "Vader"), ("villains", "Maul")]).await;

    let stopped = app.stop().await;

    assert_eq!(stopped.counted_wins().await, (1, 2));
}
