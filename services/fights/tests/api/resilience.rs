//! Downstream trouble yields fallbacks and never a 5xx; a failing downstream opens its
//! circuit, which closes again after recovery; MongoDB trouble is a 503.

use std::time::{Duration, Instant};

use simd_json::prelude::*;

use crate::fakes::{closed_url, Downstreams, Fake, Fakes, Role};
use crate::helpers::{metric, spawn_app, spawn_with};
use crate::relay::Relay;

const FALLBACK_HERO: &str = r#"{"name":"Fallback hero","level":1,"picture":"https://dummyimage.com/240x320/1e8fff/ffffff&text=Fallback+Hero","powers":"Fallback hero powers"}"#;
const FALLBACK_VILLAIN: &str = r#"{"name":"Fallback villain","level":45,"picture":"https://dummyimage.com/240x320/b22222/ffffff&text=Fallback+Villain","powers":"Fallback villain powers"}"#;
const FALLBACK_LOCATION: &str = r#"{"name":"Fallback location","description":"This is a fallback location. Not generally someplace you'd like to visit.","picture":"https://dummyimage.com/240x320/b22222/ffffff&text=Fallback+Location"}"#;

#[tokio::test]
async fn stopped_downstreams_yield_fallbacks() {
    let closed = closed_url().await;
    let downstreams = Downstreams {
        heroes: closed.clone(),
        villains: closed.clone(),
        locations: closed,
    };
    let app = spawn_with(&downstreams, &[]).await;

    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;
    let location = app.client.get(&app.url("/api/fights/randomlocation")).await;
    let fight = app.client.get(&app.url("/api/fights/execute_fight")).await;
    let hello = app.client.get(&app.url("/api/fights/hello/heroes")).await;
    let hello_villains = app.client.get(&app.url("/api/fights/hello/villains")).await;
    let hello_locations = app
        .client
        .get(&app.url("/api/fights/hello/locations"))
        .await;

    assert_eq!(fighters.status, 200);
    assert_eq!(
        fighters.body,
        format!(r#"{{"hero":{FALLBACK_HERO},"villain":{FALLBACK_VILLAIN}}}"#)
    );
    assert_eq!(
        (location.status.as_u16(), location.body.as_str()),
        (200, FALLBACK_LOCATION)
    );
    assert_eq!(fight.status, 200);
    assert_eq!(fight.json()["winnerName"], "Fallback villain");
    assert_eq!(fight.json()["location"]["name"], "Fallback location");
    assert_eq!(
        (hello.status.as_u16(), hello.body.as_str()),
        (200, "Could not invoke the Heroes microservice")
    );
    assert_eq!(
        hello_villains.body,
        "Could not invoke the Villains microservice"
    );
    assert_eq!(
        hello_locations.body,
        "Could not invoke the Locations microservice"
    );
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_fallbacks_total{downstream="heroes"}"#
        )
        .await,
        Some(2)
    );
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_fallbacks_total{downstream="locations"}"#
        )
        .await,
        Some(2)
    );
}

#[tokio::test]
async fn slow_downstreams_time_out_into_fallbacks() {
    let fakes = Fakes::start().await;
    fakes.heroes.delay(Duration::from_millis(1_000));
    let app = spawn_app(&fakes).await;

    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;

    assert_eq!(fighters.status, 200);
    let body = fighters.json();
    assert_eq!(body["hero"]["name"], "Fallback hero");
    assert_eq!(body["villain"]["name"], "Darth Vader");
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="heroes",outcome="timeout"}"#
        )
        .await,
        Some(1)
    );
}

#[tokio::test]
async fn not_found_from_a_downstream_yields_the_fallback() {
    let fakes = Fakes::start().await;
    fakes.locations.answer_with(404);
    let app = spawn_app(&fakes).await;

    let location = app.client.get(&app.url("/api/fights/randomlocation")).await;

    assert_eq!(
        (location.status.as_u16(), location.body.as_str()),
        (200, FALLBACK_LOCATION)
    );
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="locations",outcome="not_found"}"#
        )
        .await,
        Some(1)
    );
}

#[tokio::test]
async fn unreadable_bodies_yield_the_fallback() {
    let fakes = Fakes::start().await;
    fakes.heroes.answer_with(200);
    let app = spawn_app(&fakes).await;

    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;

    assert_eq!(fighters.status, 200);
    assert_eq!(fighters.json()["hero"]["name"], "Fallback hero");
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="heroes",outcome="invalid_body"}"#
        )
        .await,
        Some(1)
    );
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="heroes",outcome="ok"}"#
        )
        .await,
        Some(0)
    );
}

#[tokio::test]
async fn a_too_large_answer_is_a_fallback_without_retry_or_circuit() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    fakes.heroes.answer_oversized();

    for _ in 0..10 {
        let reply = app.client.get(&app.url("/api/fights/randomfighters")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body,
            format!(
                r#"{{"hero":{FALLBACK_HERO},"villain":{}}}"#,
                r#"{"name":"Darth Vader","level":600000001,"picture":"https://example.com/vader.png","powers":"The dark side"}"#
            )
        );
    }

    assert_eq!(
        fakes.heroes.random_hits(),
        10,
        "one request a call, no retry"
    );
    assert_eq!(
        metric(&app, r#"fights_circuit_state{downstream="heroes"}"#).await,
        Some(0),
        "the circuit stays closed"
    );
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="heroes",outcome="too_large"}"#
        )
        .await,
        Some(10)
    );
}

#[tokio::test]
async fn server_errors_are_retried() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    fakes.villains.fail_next(2);

    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;

    assert_eq!(fighters.status, 200);
    assert_eq!(
        fighters.json()["villain"]["name"],
        "Darth Vader",
        "the third attempt succeeds"
    );
    fakes.villains.fail_next(3);
    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;
    assert_eq!(
        fighters.json()["villain"]["name"],
        "Fallback villain",
        "two retries at most"
    );
}

#[tokio::test]
async fn failures_open_the_circuit_and_recovery_closes_it() {
    let fakes = Fakes::start().await;
    let app = spawn_with(&fakes.urls(), &[("DOWNSTREAM_RETRIES", "0")]).await;
    let state = r#"fights_circuit_state{downstream="heroes"}"#;
    fakes.heroes.answer_with(500);

    for _ in 0..8 {
        let reply = app.client.get(&app.url("/api/fights/randomfighters")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["hero"]["name"], "Fallback hero");
    }
    assert_eq!(metric(&app, state).await, Some(1), "open after 8 failures");
    let hits = fakes.heroes.hits();
    let rejected = app.client.get(&app.url("/api/fights/randomfighters")).await;
    assert_eq!(rejected.json()["hero"]["name"], "Fallback hero");
    assert_eq!(fakes.heroes.hits(), hits, "an open circuit does not call");
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="heroes",outcome="circuit_open"}"#
        )
        .await,
        Some(1)
    );

    fakes.heroes.answer_with(0);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let recovered = app.client.get(&app.url("/api/fights/randomfighters")).await;

    assert_eq!(recovered.json()["hero"]["name"], "Luke Skywalker");
    assert_eq!(
        metric(&app, state).await,
        Some(0),
        "closed after a successful trial"
    );
    assert_eq!(
        metric(
            &app,
            r#"fights_circuit_transitions_total{downstream="heroes"}"#
        )
        .await,
        Some(3)
    );
}

#[tokio::test]
async fn mongodb_down_is_503_and_not_ready() {
    let fake = Fake::start(Role::Heroes).await;
    let closed = closed_url().await.replace("http://", "mongodb://");
    let mongo_url = format!("{closed}/?serverSelectionTimeoutMS=500&connectTimeoutMS=500");
    let downstreams = Downstreams {
        heroes: fake.url.clone(),
        villains: fake.url.clone(),
        locations: fake.url.clone(),
    };
    let app = spawn_with(&downstreams, &[("MONGODB_URL", mongo_url.as_str())]).await;

    let post = app
        .client
        .post(&app.url("/api/fights"), crate::storage::FIGHT)
        .await;
    let execute = app.client.get(&app.url("/api/fights/execute_fight")).await;
    let list = app.client.get(&app.url("/api/fights")).await;
    let ready = app.client.get(&app.url("/q/health/ready")).await;
    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;

    for reply in [&post, &execute, &list] {
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(
            reply.body,
            r#"{"title":"Service Unavailable","status":503,"detail":"Fights cannot be stored or read right now"}"#
        );
    }
    assert_eq!(
        (ready.status.as_u16(), ready.body.as_str()),
        (
            503,
            r#"{"status":"DOWN","checks":[{"name":"mongodb","status":"DOWN","detail":"mongodb not answering"}]}"#
        ),
        "a reason in plain words, no topology"
    );
    assert_eq!(fighters.status, 200, "fighters do not need MongoDB");
}

#[tokio::test]
async fn a_silent_mongodb_is_503_within_the_timeout() {
    let fake = Fake::start(Role::Heroes).await;
    let relay = Relay::to_mongodb(&test_support::db::mongodb().0).await;
    let downstreams = Downstreams {
        heroes: fake.url.clone(),
        villains: fake.url.clone(),
        locations: fake.url.clone(),
    };
    let app = spawn_with(
        &downstreams,
        &[
            ("MONGODB_URL", relay.url.as_str()),
            ("MONGODB_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    let stored = app
        .client
        .post(&app.url("/api/fights"), crate::storage::FIGHT)
        .await;
    assert_eq!(stored.status, 200, "{}", stored.body);
    let id = stored.json()["id"].as_str().unwrap().to_owned();

    relay.freeze();
    let started = Instant::now();
    let post = app
        .client
        .post(&app.url("/api/fights"), crate::storage::FIGHT)
        .await;
    let get = app.client.get(&app.url(&format!("/api/fights/{id}"))).await;
    let page = app.client.get(&app.url("/api/fights?page=0")).await;
    let waited = started.elapsed();

    for reply in [&post, &get, &page] {
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(reply.header("content-type"), "application/problem+json");
    }
    // Three requests, each bounded by the 500 ms timeout.
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}");
}

/// A heroes downstream on raw sockets that answers the first request of every
/// connection and closes the connection, without a byte of answer, on the second one:
/// what a server closing an idle keep-alive connection looks like to a client whose
/// request crosses the close.
async fn closing_reused_connections() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        crate::fakes::HERO.len(),
        crate::fakes::HERO
    );
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                for request in 0.. {
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    if request > 0 {
                        return;
                    }
                    head.clear();
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, task)
}

#[tokio::test]
async fn a_kept_connection_closed_under_a_request_is_replaced_at_once() {
    let fakes = Fakes::start().await;
    let (heroes, task) = closing_reused_connections().await;
    let downstreams = Downstreams {
        heroes,
        ..fakes.urls()
    };
    // With no retries, only the resend on a new connection can give the hero.
    let app = spawn_with(&downstreams, &[("DOWNSTREAM_RETRIES", "0")]).await;

    for round in 0..3 {
        let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;
        assert_eq!(fighters.status, 200);
        assert_eq!(
            fighters.json()["hero"]["name"],
            "Luke Skywalker",
            "round {round}: {}",
            fighters.body
        );
    }

    let sample = |kind: &str| {
        format!(r#"fights_downstream_retries_total{{downstream="heroes",kind="{kind}"}}"#)
    };
    let reconnects = metric(&app, &sample("reconnect")).await.unwrap();
    assert!(
        reconnects >= 2,
        "rounds after the first went out on a kept connection: {reconnects}"
    );
    assert_eq!(metric(&app, &sample("after_failure")).await, Some(0));
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_calls_total{downstream="heroes",outcome="error"}"#
        )
        .await,
        Some(0)
    );
    assert_eq!(
        metric(&app, r#"fights_circuit_state{downstream="heroes"}"#).await,
        Some(0)
    );
    task.abort();
}

#[tokio::test]
async fn retries_after_a_failure_are_counted() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    fakes.villains.answer_with(500);

    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;

    assert_eq!(fighters.status, 200);
    assert_eq!(fighters.json()["villain"]["name"], "Fallback villain");
    assert_eq!(
        metric(
            &app,
            r#"fights_downstream_retries_total{downstream="villains",kind="after_failure"}"#
        )
        .await,
        Some(2),
        "the two retries of the one call"
    );
}

#[tokio::test]
async fn with_a_slow_mongodb_exactly_the_fights_answered_200_are_stored() {
    let fakes = Fakes::start().await;
    let relay = Relay::to_mongodb(&test_support::db::mongodb().0).await;
    let app = spawn_with(
        &fakes.urls(),
        &[
            ("MONGODB_URL", relay.url.as_str()),
            ("MONGODB_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    let first = app
        .client
        .post(&app.url("/api/fights"), crate::storage::FIGHT)
        .await;
    assert_eq!(first.status, 200, "{}", first.body);

    // Each insert now takes longer than half the timeout: fights queued behind one wait
    // for it, and some are taken into an insert late in their time.
    relay.delay_requests(Duration::from_millis(300));
    let waves = (0..3).map(|wave| {
        let (client, url) = (app.client.clone(), app.url("/api/fights"));
        async move {
            tokio::time::sleep(Duration::from_millis(200 * wave)).await;
            let posts = (0..20).map(|_| client.post(&url, crate::storage::FIGHT));
            futures_util::future::join_all(posts).await
        }
    });
    let replies: Vec<_> = futures_util::future::join_all(waves)
        .await
        .into_iter()
        .flatten()
        .collect();
    // Whatever MongoDB still had in hand has landed by now.
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let answered = replies.iter().filter(|r| r.status == 200).count() as u64;
    for reply in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(
            reply.body,
            r#"{"title":"Service Unavailable","status":503,"detail":"Fights cannot be stored or read right now"}"#
        );
    }
    assert!(answered > 0, "some fights are stored");
    assert_eq!(
        app.stored_fights().await,
        1 + answered,
        "stored fights are exactly the answered ones ({answered} of 60 answered 200)"
    );
}
