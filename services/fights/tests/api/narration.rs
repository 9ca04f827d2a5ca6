//! Narration: the story of a fight, its poster's URL and the poster, all answered by
//! fights itself.

use simd_json::prelude::*;

use crate::fakes::Fakes;
use crate::helpers::spawn_app;

const FIGHT: &str = r#"{"id":"653bea9d188984908cd12429","fightDate":"2026-11-23T16:51:41.787Z",
  "winnerName":"Captain Meridian","winnerLevel":42,"winnerPowers":"Flight, Heat vision",
  "winnerPicture":"http://localhost:8001/api/heroes/pictures/captain-meridian-1.svg",
  "winnerTeam":"heroes","loserName":"Night Wolf","loserLevel":7,"loserPowers":"Mind control",
  "loserTeam":"villains","location":{"name":"Port Halcyon","description":"A harbour city of fog."}}"#;

#[tokio::test]
async fn a_fight_is_told_the_same_way_every_time() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let url = app.url("/api/fights/narrate");

    let first = app.client.post(&url, FIGHT).await;
    let again = app.client.post(&url, FIGHT).await;
    let other = app
        .client
        .post(&url, &FIGHT.replace("Night Wolf", "Iron Comet"))
        .await;

    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("content-type"), "text/plain;charset=UTF-8");
    for word in ["Captain Meridian", "Night Wolf"] {
        assert!(first.body.contains(word), "{}", first.body);
    }
    assert_eq!(first.body, again.body);
    assert_eq!(other.status, 200);
    assert!(other.body.contains("Iron Comet"), "{}", other.body);
    assert_ne!(first.body, other.body);
}

#[tokio::test]
async fn a_fight_without_names_powers_or_teams_is_400_naming_each() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app
        .client
        .post(
            &app.url("/api/fights/narrate"),
            r#"{"winnerName":"","winnerLevel":1,"loserName":"Night Wolf","loserPowers":"x","loserTeam":"villains"}"#,
        )
        .await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("content-type"), "application/problem+json");
    let fields: Vec<String> = reply.json()["violations"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|v| v["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(fields, ["winnerName", "winnerPowers", "winnerTeam"]);
}

#[tokio::test]
async fn the_image_of_a_narration_is_a_poster_fights_serves() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let story = app
        .client
        .post(&app.url("/api/fights/narrate"), FIGHT)
        .await;
    let request = format!(
        r#"{{"narration":{},"winnerPictureUrl":"http://localhost:8001/api/heroes/pictures/captain-meridian-1.svg","loserPictureUrl":"https://example.com/wolf.jpg"}}"#,
        simd_json::to_string(&story.body).unwrap()
    );

    let image = app
        .client
        .post(&app.url("/api/fights/narrate/image"), &request)
        .await;

    assert_eq!(image.status, 200, "{}", image.body);
    assert_eq!(image.header("content-type"), "application/json");
    let json = image.json();
    let url = json["imageUrl"].as_str().unwrap_or_default().to_owned();
    assert!(
        url.starts_with(&app.url("/api/fights/narrate/poster?text=")),
        "{url}"
    );
    assert_eq!(json["imageNarration"].as_str(), Some(story.body.as_str()));

    let poster = app.client.get(&url).await;
    assert_eq!(poster.status, 200);
    assert_eq!(poster.header("content-type"), "image/svg+xml");
    assert!(poster.body.starts_with("<svg "), "{}", poster.body);
    assert!(poster.body.contains(">CM</text>"), "the winner's portrait");
    assert!(poster.body.contains("Night Wolf"), "the story");
    assert_eq!(app.client.get(&url).await.body, poster.body);
}

#[tokio::test]
async fn an_image_needs_a_narration() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app
        .client
        .post(
            &app.url("/api/fights/narrate/image"),
            r#"{"winnerPictureUrl":"x"}"#,
        )
        .await;

    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["violations"][0]["field"].as_str(),
        Some("narration")
    );
}

#[tokio::test]
async fn narration_says_hello_and_refuses_other_methods() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let hello = app
        .client
        .get(&app.url("/api/fights/hello/narration"))
        .await;
    let get = app.client.get(&app.url("/api/fights/narrate")).await;

    assert_eq!(
        (hello.status.as_u16(), hello.body.as_str()),
        (200, "Hello Narration")
    );
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), "POST, OPTIONS");
}
