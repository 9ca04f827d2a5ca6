//! A listing of a table far larger than the service's memory bound, read by a client,
//! leaves the service process small: the rows are streamed, never held whole.
//!
//! The in-process services of the other tests share their memory with the test itself,
//! so this one runs the service binary as a child process and reads the peak resident
//! set (`VmHWM`) the kernel kept for it: a number that holds whatever the timing.

use test_support::ChildService;

const SCHEMA: &str = include_str!("../../../../database/locations-db/01-schema.sql");
/// 500 locations with 60 KB descriptions: a 30 MB table.
const LARGE: &str = "INSERT INTO locations (name, description, type) \
     SELECT CONCAT('Place ', i), REPEAT('x', 61440), 'CITY' FROM \
     (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
      SELECT i FROM n) AS numbers";

#[tokio::test]
async fn listing_a_30_mb_table_keeps_the_process_under_40_mb() {
    let db = test_support::db::mysql(&[SCHEMA, LARGE]).await;
    let service = ChildService::start(
        env!("CARGO_BIN_EXE_locations"),
        &[("DATABASE_URL", &db.url), ("GRPC_BIND_ADDR", "127.0.0.1:0")],
    )
    .await;

    let list = test_support::Client::new()
        .get(&service.url("/api/locations"))
        .await;

    assert_eq!(list.status, 200);
    assert_eq!(list.header("content-type"), "application/json");
    assert!(list.body.starts_with(r#"[{"id":"#), "{}", &list.body[..100]);
    assert!(list.body.ends_with(r#""type":"CITY"}]"#));
    assert_eq!(list.body.matches(r#""name":"Place "#).count(), 500);
    assert!(list.body.len() > 30_000_000, "{}", list.body.len());
    let peak = service.peak_rss_kib();
    assert!(peak < 40 * 1024, "peak resident set {peak} KiB");
}
