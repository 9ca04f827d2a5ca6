//! SIGTERM with a write in flight: a `POST /api/heroes` blocked on a table lock held by
//! another session is answered 201 once the lock is released, and its row is there;
//! never committed without an answer. The process then exits 0.

use std::time::{Duration, Instant};

use test_support::{ChildService, Client};
use tokio_postgres::NoTls;

use crate::{NOTIFY, SCHEMA};

async fn session(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn a_write_in_flight_at_sigterm_is_answered_and_stored_and_the_process_exits_0() {
    let db = test_support::db::postgres(&[SCHEMA, NOTIFY]).await;
    let mut service =
        ChildService::start(env!("CARGO_BIN_EXE_heroes"), &[("DATABASE_URL", &db.url)]).await;
    let locker = session(&db.url).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE hero IN SHARE MODE")
        .await
        .unwrap();
    let url = service.url("/api/heroes");
    let post = tokio::spawn(async move {
        Client::new()
            .post(&url, r#"{"name":"Held Hero","level":7}"#)
            .await
    });
    let watcher = session(&db.url).await;
    let started = Instant::now();
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the insert never waited on the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    service.terminate();
    let early = service.exited_within(Duration::from_millis(300)).await;
    assert!(early.is_none(), "exited with a write in flight: {early:?}");
    locker.batch_execute("COMMIT").await.unwrap();
    let reply = post.await.unwrap();

    assert_eq!(reply.status, 201, "{}", reply.body);
    let id: i64 = reply
        .header("location")
        .rsplit_once("/api/heroes/")
        .and_then(|(_, id)| id.parse().ok())
        .unwrap_or_else(|| panic!("no location: {reply:?}"));
    assert!(
        reply.body.contains(r#""name":"Held Hero""#),
        "{}",
        reply.body
    );
    let rows = watcher
        .query("SELECT level FROM hero WHERE id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "hero {id} answered 201 but not stored");
    assert_eq!(rows[0].get::<_, i32>(0), 7);
    let status = service.exited_within(Duration::from_secs(10)).await;
    let status = status.expect("the process exits once drained");
    assert!(status.success(), "exit status {status}");
}
