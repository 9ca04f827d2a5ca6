//! Full listings streamed at once are bounded, so that slow readers cannot take every
//! pooled connection: past the bound a listing is 503 with `Retry-After`, while random
//! picks keep being answered.

use crate::helpers::{schema, spawn_on};
use catalog::HEROES;
use test_support::{http::stalled_get, Client};

/// 500 heroes with 60 KB powers: a 30 MB table, far more than socket buffers and the
/// body channel hold, so a client that stops reading keeps its listing running.
const LARGE: &str = "INSERT INTO hero (id, level, name, powers) \
     SELECT nextval('hero_seq'), 1, 'Hero ' || i, repeat('x', 61440) \
     FROM generate_series(1, 500) AS i";

#[tokio::test]
async fn a_listing_past_the_bound_is_refused_while_picks_go_on() {
    let [table, notify] = schema(HEROES);
    let db = test_support::db::postgres(&[table, notify, LARGE]).await;
    // Two pooled connections, so one listing at a time (`DB_MAX_LISTINGS` by default).
    let server = spawn_on(HEROES, &db.url, &[]).await;
    let http = Client::new();

    let (stalled, head) = stalled_get(server.addr, "/api/heroes").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let refused = http.get(&server.url("/api/heroes")).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), "1");
    assert_eq!(
        refused.json()["detail"],
        "Too many full listings running, try again shortly"
    );
    let pick = http.get(&server.url("/api/heroes/random_hero")).await;
    assert_eq!(pick.status, 200, "{}", pick.body);
    assert!(
        pick.body.contains(r#""name":"Hero "#),
        "{}",
        &pick.body[..80]
    );

    drop(stalled);
    let mut listed = http.get(&server.url("/api/heroes")).await;
    for _ in 0..50 {
        if listed.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        listed = http.get(&server.url("/api/heroes")).await;
    }
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body.matches(r#""name":"Hero "#).count(), 500);
}
