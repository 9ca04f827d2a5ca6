//! Fights stored in MongoDB and read back: by id, all, and page by page.

use simd_json::prelude::*;

use crate::fakes::Fakes;
use crate::helpers::{spawn_app, spawn_with};

pub const FIGHT: &str = r#"{"hero":{"id":1,"name":"Yoda","level":9000000000,"picture":"https://example.com/yoda.png","powers":"Force"},"villain":{"name":"Jabba","level":3,"picture":"https://example.com/jabba.png"},"location":{"name":"Tatooine","description":"Sand","type":"PLANET"}}"#;

fn fight_between(hero: &str, villain: &str) -> String {
    format!(
        r#"{{"hero":{{"name":"{hero}","level":1000,"picture":"p.png"}},"villain":{{"name":"{villain}","level":1,"picture":"p.png"}}}}"#
    )
}

#[tokio::test]
async fn a_posted_fight_is_stored_and_read_back() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app.client.post(&app.url("/api/fights"), FIGHT).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let fight = reply.json();
    let id = fight["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let date = fight["fightDate"].as_str().unwrap();
    assert_eq!(date.len(), "2026-11-23T16:51:41.787Z".len(), "{date}");
    assert!(date.ends_with('Z') && date.as_bytes()[19] == b'.', "{date}");
    let expected = format!(
        r#"{{"id":"{id}","fightDate":"{date}","winnerName":"Yoda","winnerLevel":9000000000,"winnerPowers":"Force","winnerPicture":"https://example.com/yoda.png","winnerTeam":"heroes","loserName":"Jabba","loserLevel":3,"loserPicture":"https://example.com/jabba.png","loserTeam":"villains","location":{{"name":"Tatooine","description":"Sand"}}}}"#
    );
    assert_eq!(reply.body, expected);

    let read = app.client.get(&app.url(&format!("/api/fights/{id}"))).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, expected);
}

#[tokio::test]
async fn pages_are_newest_first() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let reply = app
            .client
            .post(
                &app.url("/api/fights"),
                &fight_between(&format!("Hero{n}"), "Vader"),
            )
            .await;
        assert_eq!(reply.status, 200);
        ids.push(reply.json()["id"].as_str().unwrap().to_owned());
    }

    let first = app.client.get(&app.url("/api/fights?page=0&size=2")).await;
    let second = app.client.get(&app.url("/api/fights?page=1&size=2")).await;
    let default = app.client.get(&app.url("/api/fights?page=0")).await;
    let beyond = app.client.get(&app.url("/api/fights?page=5")).await;

    let ids_of = |body: &simd_json::OwnedValue| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(first.status, 200);
    assert_eq!(ids_of(&first.json()), [ids[2].clone(), ids[1].clone()]);
    assert_eq!(first.json()[0]["winnerName"], "Hero2");
    assert_eq!(ids_of(&second.json()), [ids[0].clone()]);
    assert_eq!(
        ids_of(&default.json()),
        [ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    assert_eq!((beyond.status.as_u16(), beyond.body.as_str()), (200, "[]"));

    let below_zero = app.client.get(&app.url("/api/fights?page=-3&size=2")).await;
    let size_zero = app.client.get(&app.url("/api/fights?size=0")).await;
    let size_huge = app.client.get(&app.url("/api/fights?size=1000")).await;
    assert_eq!(below_zero.status, 200);
    assert_eq!(below_zero.body, first.body, "page below 0 is page 0");
    assert_eq!(size_zero.status, 200);
    assert_eq!(
        ids_of(&size_zero.json()),
        [ids[2].clone()],
        "size below 1 is 1"
    );
    assert_eq!(size_huge.status, 200);
    assert_eq!(size_huge.body, default.body, "size above 100 is 100");
}

#[tokio::test]
async fn all_fights_are_listed() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let empty = app.client.get(&app.url("/api/fights")).await;
    assert_eq!((empty.status.as_u16(), empty.body.as_str()), (200, "[]"));
    // Enough fights for the streamed array to span several chunks.
    for n in 0..60 {
        let reply = app
            .client
            .post(
                &app.url("/api/fights"),
                &fight_between(&format!("Han{n}"), "Vader"),
            )
            .await;
        assert_eq!(reply.status, 200);
    }

    let all = app.client.get(&app.url("/api/fights")).await;

    assert_eq!(all.status, 200);
    assert_eq!(all.header("content-type"), "application/json");
    assert_eq!(
        all.header("transfer-encoding"),
        "chunked",
        "streamed, not buffered"
    );
    let fights = all.json();
    let fights = fights.as_array().unwrap();
    assert_eq!(fights.len(), 60, "more than the default page size");
    assert!(fights.iter().all(|f| f["loserName"] == "Vader"));
}

#[tokio::test]
async fn concurrent_posts_are_each_stored_once() {
    let fakes = Fakes::start().await;
    for mode in ["batch", "single"] {
        let app = spawn_with(&fakes.urls(), &[("FIGHTS_INSERT_MODE", mode)]).await;
        let posts = (0..40).map(|n| {
            let (client, url) = (app.client.clone(), app.url("/api/fights"));
            async move {
                client
                    .post(&url, &fight_between(&format!("Han{n}"), "Vader"))
                    .await
            }
        });

        let replies = futures_util::future::join_all(posts).await;

        assert!(replies.iter().all(|r| r.status == 200), "{mode}");
        let mut ids: Vec<String> = replies
            .iter()
            .map(|r| r.json()["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 40, "{mode}");
        let all = app.client.get(&app.url("/api/fights")).await.json();
        assert_eq!(all.as_array().unwrap().len(), 40, "{mode}");
    }
}
