//! A listing of a table far larger than the service's memory bound, read by a client,
//! leaves the heroes process small: the rows are streamed, never held whole.
//!
//! The catalogue's in-process tests share their memory with the test itself, so this
//! one runs the heroes binary as a child process and reads the peak resident set
//! (`VmHWM`) the kernel kept for it: a number that holds whatever the timing.

use test_support::ChildService;

use crate::{NOTIFY, SCHEMA};

/// 500 heroes with 60 KB powers: a 30 MB table.
const LARGE: &str = "INSERT INTO hero (id, level, name, powers) \
     SELECT nextval('hero_seq'), 1, 'Hero ' || i, repeat('x', 61440) \
     FROM generate_series(1, 500) AS i";

#[tokio::test]
async fn listing_a_30_mb_table_keeps_the_process_under_40_mb() {
    let db = test_support::db::postgres(&[SCHEMA, NOTIFY, LARGE]).await;
    let service =
        ChildService::start(env!("CARGO_BIN_EXE_heroes"), &[("DATABASE_URL", &db.url)]).await;
    let client = test_support::Client::new();

    let list = client.get(&service.url("/api/heroes")).await;

    assert_eq!(list.status, 200);
    assert_eq!(list.header("content-type"), "application/json");
    assert!(list.body.starts_with(r#"[{"id":"#), "{}", &list.body[..100]);
    assert_eq!(list.body.matches(r#""name":"Hero "#).count(), 500);
    assert!(list.body.len() > 30_000_000, "{}", list.body.len());

    let filtered = client
        .get(&service.url("/api/heroes?name_filter=HERO%20499"))
        .await;
    assert_eq!(filtered.status, 200);
    assert!(
        filtered.body.starts_with(r#"[{"id":"#) && filtered.body.contains(r#""name":"Hero 499""#),
        "{}",
        &filtered.body[..100]
    );
    assert_eq!(filtered.body.matches(r#""name":"#).count(), 1);

    let peak = service.peak_rss_kib();
    assert!(peak < 40 * 1024, "peak resident set {peak} KiB");
}
