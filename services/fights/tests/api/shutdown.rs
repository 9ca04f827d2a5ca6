//! SIGTERM to the fights process: a fight in flight is answered and stored, a request on
//! an open keep-alive connection meanwhile is answered with `Connection: close`, the
//! process exits 0; past `SHUTDOWN_TIMEOUT_MS` it exits anyway. Run as a child process,
//! since only a process shows whether the runtime outlives what it was serving.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use simd_json::prelude::*;
use test_support::KeepAlive;

use crate::fakes::Fakes;
use crate::helpers::Process;

/// How long heroes takes to answer while a fight is held in flight.
const HELD: Duration = Duration::from_millis(1_500);

/// Waits until `done` holds, at most 5 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: not within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the process refuses new connections: its listener is closed, the drain
/// has begun.
async fn until_refused(addr: SocketAddr) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still accepting connections 5 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_fight_in_flight_at_sigterm_is_answered_and_stored_and_the_process_exits_0() {
    let fakes = Fakes::start().await;
    let mut process = Process::start(&fakes.urls(), &[("DOWNSTREAM_TIMEOUT_MS", "10000")]).await;
    let addr = process.server.addr();
    let mut idle = KeepAlive::open(addr).await;
    let hello = idle.get("/api/fights/hello").await.unwrap();
    assert_eq!(hello.status, 200, "{}", hello.body);
    assert_ne!(hello.header("connection"), "close");
    fakes.heroes.delay(HELD);
    let asked = fakes.heroes.hits();
    let mut held = KeepAlive::open(addr).await;
    let fight = tokio::spawn(async move { held.get("/api/fights/execute_fight").await });
    until("the fight asks heroes", || fakes.heroes.hits() > asked).await;

    process.server.terminate();
    until_refused(addr).await;
    let during = idle.get("/api/fights/hello").await;

    let during = during.expect("a request on an idle connection during the drain is answered");
    assert_eq!(during.status, 200, "{}", during.body);
    assert_eq!(during.body, "Hello Fight Resource");
    assert_eq!(during.header("connection"), "close");
    assert!(idle.closed_within(Duration::from_secs(5)).await);
    let fight = fight
        .await
        .unwrap()
        .expect("the fight in flight is answered");
    assert_eq!(fight.status, 200, "{}", fight.body);
    let json = fight.json();
    let id = json["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", fight.body));
    assert!(json["winnerName"].as_str().is_some(), "{}", fight.body);
    assert!(
        process.stored(id).await,
        "fight {id} answered but not stored"
    );
    let status = process.server.exited_within(Duration::from_secs(10)).await;
    let status = status.expect("the process exits once drained");
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn past_the_shutdown_timeout_the_process_exits_and_cuts_what_is_left() {
    let fakes = Fakes::start().await;
    let mut process = Process::start(
        &fakes.urls(),
        &[
            ("DOWNSTREAM_TIMEOUT_MS", "30000"),
            ("SHUTDOWN_TIMEOUT_MS", "300"),
        ],
    )
    .await;
    let addr = process.server.addr();
    fakes.heroes.delay(Duration::from_secs(20));
    let asked = fakes.heroes.hits();
    let mut held = KeepAlive::open(addr).await;
    let fight = tokio::spawn(async move { held.get("/api/fights/execute_fight").await });
    until("the fight asks heroes", || fakes.heroes.hits() > asked).await;

    let signalled = Instant::now();
    process.server.terminate();
    let status = process.server.exited_within(Duration::from_secs(10)).await;
    let waited = signalled.elapsed();

    let status = status.expect("the process exits past its deadline");
    assert!(status.success(), "exit status {status}");
    assert!(
        waited >= Duration::from_millis(300),
        "exited {waited:?} after SIGTERM, before its 300 ms deadline"
    );
    let cut = fight.await.unwrap();
    assert!(
        cut.is_err(),
        "the request left at the deadline is cut: {cut:?}"
    );
}
