//! Malformed input: 400 with a problem body, 404 for absent fights.

use crate::fakes::Fakes;
use crate::helpers::spawn_app;

#[tokio::test]
async fn incomplete_fights_are_rejected_with_violations() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    for (body, fields) in [
        (
            r#"{"villain":{"picture":"p.png","name":"Vader","level":1}}"#,
            r#"[{"field":"hero","message":"must not be null"}]"#,
        ),
        (
            r#"{"hero":{"picture":"p.png","level":1},"villain":{"picture":"p.png","name":"Vader","level":1}}"#,
            r#"[{"field":"hero.name","message":"must not be null"}]"#,
        ),
        (
            r#"{"hero":{"picture":"p.png","name":"Han\u0007","level":1},"villain":{"picture":"p.png","name":"Va","level":1}}"#,
            r#"[{"field":"hero.name","message":"must not contain control characters"},{"field":"villain.name","message":"size must be between 3 and 50"}]"#,
        ),
        (
            r#"{"hero":{"picture":"p.png","name":"Han","level":1},"villain":{"picture":"p.png","name":"Vader","level":1},"location":{"name":"X"}}"#,
            r#"[{"field":"location.name","message":"size must be between 3 and 50"}]"#,
        ),
        (
            r#"{"hero":{"picture":"p.png","name":"Han","level":1},"villain":{"picture":"p.png","name":"Vader"}}"#,
            r#"[{"field":"villain.level","message":"must not be null"}]"#,
        ),
        (
            "{}",
            r#"[{"field":"hero","message":"must not be null"},{"field":"villain","message":"must not be null"}]"#,
        ),
    ] {
        let reply = app.client.post(&app.url("/api/fights"), body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(
            reply.body,
            format!(
                r#"{{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":{fields}}}"#
            ),
            "{body}"
        );
    }
}

#[tokio::test]
async fn wrong_types_and_bad_json_are_400() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    for body in [
        r#"{"hero":{"name":"Han","level":"ten"},"villain":{"name":"Vader","level":1}}"#,
        r#"{"hero":{"name":7,"level":1},"villain":{"name":"Vader","level":1}}"#,
        r#"{"hero":"H","villain":{"name":"Vader","level":1}}"#,
        r#"{"hero":{"name":"Han","level":1.5},"villain":{"name":"Vader","level":1}}"#,
        r#"{"hero":{"name":"Han","level":1},"villain":{"name":"Vader","level":1}"#,
        "[]",
        "",
    ] {
        let reply = app.client.post(&app.url("/api/fights"), body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.json()["title"], "Bad Request", "{body}");
    }
    let list = app.client.get(&app.url("/api/fights")).await;
    assert_eq!(list.body, "[]", "nothing was stored");
}

#[tokio::test]
async fn ids_must_be_24_hex_digits() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let malformed = app.client.get(&app.url("/api/fights/42")).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(
        malformed.body,
        r#"{"title":"Bad Request","status":400,"detail":"Fight id must be 24 hexadecimal digits, got '42'"}"#
    );
    let not_hex = app
        .client
        .get(&app.url("/api/fights/653bea9d188984908cd1242z"))
        .await;
    assert_eq!(not_hex.status, 400);

    let absent = app
        .client
        .get(&app.url("/api/fights/653bea9d188984908cd12429"))
        .await;
    assert_eq!(absent.status, 404);
    assert_eq!(
        absent.body,
        r#"{"title":"Not Found","status":404,"detail":"No fight with id 653bea9d188984908cd12429"}"#
    );
}

#[tokio::test]
async fn page_and_size_must_be_integers() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    for (query, name, value) in [
        ("page=x", "page", "x"),
        ("size=ten", "size", "ten"),
        ("page=1.5", "page", "1.5"),
        ("size=%2B", "size", "+"),
        ("page=99999999999999999999", "page", "99999999999999999999"),
    ] {
        let reply = app
            .client
            .get(&app.url(&format!("/api/fights?{query}")))
            .await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(
            reply.body,
            format!(
                r#"{{"title":"Bad Request","status":400,"detail":"Query parameter '{name}' must be an integer, got '{value}'"}}"#
            ),
            "{query}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let body = format!(
        r#"{{"hero":{{"name":"Han","level":1,"powers":"{}"}},"villain":{{"name":"Vader","level":1}}}}"#,
        "x".repeat(70_000)
    );

    let reply = app.client.post(&app.url("/api/fights"), &body).await;

    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["status"], 413);
}

#[tokio::test]
async fn clamped_and_far_pages_are_empty_and_beyond_int64_are_400() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    for query in [
        "page=9223372036854775807",
        "page=9223372036854775807&size=100",
        "page=-1",
        "size=0",
        "size=-5",
        "size=101",
        "size=100",
    ] {
        let reply = app
            .client
            .get(&app.url(&format!("/api/fights?{query}")))
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.body.as_str()),
            (200, "[]"),
            "{query}"
        );
    }
    let reply = app
        .client
        .get(&app.url("/api/fights?page=9223372036854775808"))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["detail"],
        "Query parameter 'page' must be an integer, got '9223372036854775808'"
    );
}

#[tokio::test]
async fn fighters_follow_the_catalogues_rules() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let long_picture = "p".repeat(256);

    for (hero, villain, location, fields) in [
        (
            r#"{"name":"Han","level":0,"picture":"p.png"}"#.to_owned(),
            r#"{"name":"Vader","level":-9223372036854775808,"picture":"p.png"}"#.to_owned(),
            "null".to_owned(),
            r#"[{"field":"hero.level","message":"must be greater than or equal to 1"},{"field":"villain.level","message":"must be greater than or equal to 1"}]"#,
        ),
        (
            r#"{"name":"Han","level":1}"#.to_owned(),
            r#"{"name":"Vader","level":1,"picture":""}"#.to_owned(),
            "null".to_owned(),
            r#"[{"field":"hero.picture","message":"must not be empty"},{"field":"villain.picture","message":"must not be empty"}]"#,
        ),
        (
            format!(r#"{{"name":"Han","level":1,"picture":"{long_picture}"}}"#),
            r#"{"name":"Vader","level":1,"picture":"p.png"}"#.to_owned(),
            format!(r#"{{"name":"Gotham","description":"Dark","picture":"{long_picture}"}}"#),
            r#"[{"field":"hero.picture","message":"size must be between 0 and 255"},{"field":"location.picture","message":"size must be between 0 and 255"}]"#,
        ),
    ] {
        let body = format!(r#"{{"hero":{hero},"villain":{villain},"location":{location}}}"#);
        let reply = app.client.post(&app.url("/api/fights"), &body).await;
        assert_eq!(reply.status, 400, "{fields}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(
            reply.body,
            format!(
                r#"{{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":{fields}}}"#
            ),
        );
    }
    let list = app.client.get(&app.url("/api/fights")).await;
    assert_eq!(list.body, "[]", "nothing was stored");
}

#[tokio::test]
async fn integers_out_of_range_say_which_range_is_accepted() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let body = r#"{"hero":{"name":"Han","level":18446744073709551615,"picture":"p.png"},"villain":{"name":"Vader","level":1,"picture":"p.png"}}"#;

    let reply = app.client.post(&app.url("/api/fights"), body).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("content-type"), "application/problem+json");
    assert_eq!(
        reply.body,
        r#"{"title":"Bad Request","status":400,"detail":"hero.level: expected an integer from -9223372036854775808 to 9223372036854775807, got one beyond that range"}"#
    );
}

#[tokio::test]
async fn objects_sent_as_arrays_are_400() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    for (path, body) in [
        (
            "/api/fights",
            r#"{"hero":["Yoda",5,"https://example.com/y.png"],"villain":{"name":"Vader","level":2,"picture":"v.png"}}"#,
        ),
        ("/api/fights", r#"[{"name":"Yoda"},{"name":"Vader"}]"#),
        (
            "/api/fights/narrate",
            r#"{"winnerName":"A","winnerPowers":"p","winnerTeam":"heroes","loserName":"B","loserPowers":"q","loserTeam":"villains","location":[null,null]}"#,
        ),
        ("/api/fights/narrate/image", r#"["a story",null,null]"#),
    ] {
        let reply = app.client.post(&app.url(path), body).await;
        assert_eq!(reply.status, 400, "{path} {body}: {}", reply.body);
        assert_eq!(reply.header("content-type"), "application/problem+json");
    }
}
