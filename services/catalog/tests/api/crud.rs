//! Create, read, update and delete, one row and the whole table.

use http::Method;
use simd_json::prelude::*;

use crate::helpers::{create, heroes};

#[tokio::test]
async fn create_answers_201_with_location_and_the_stored_row() {
    let app = heroes().await;
    let reply = app
        .client
        .post(
            &app.api(""),
            r#"{"name":"Luke Skywalker","otherName":"Luke","level":10,"picture":"https://p/luke.jpg","powers":"Uses light sabre, The force"}"#,
        )
        .await;
    assert_eq!(reply.status, 201);
    let body = reply.json();
    let id = body["id"].as_i64().unwrap();
    assert_eq!(
        reply.header("location"),
        app.api(&format!("/{id}")),
        "absolute, on the Host the client named"
    );
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(
        reply.body,
        format!(
            r#"{{"id":{id},"name":"Luke Skywalker","otherName":"Luke","level":10,"picture":"https://p/luke.jpg","powers":"Uses light sabre, The force"}}"#
        )
    );
    let fetched = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, reply.body);
}

#[tokio::test]
async fn ids_come_from_the_sequence_and_absent_optionals_are_left_out() {
    let app = heroes().await;
    let first = create(&app, "Alpha", 1).await;
    let reply = app
        .client
        .post(&app.api(""), r#"{"name":"Beta","level":2,"id":12345}"#)
        .await;
    assert_eq!(reply.status, 201);
    let second = reply.json()["id"].as_i64().unwrap();
    assert_eq!(second - first, 50, "sequence increments by 50");
    assert_eq!(
        reply.body,
        format!(r#"{{"id":{second},"name":"Beta","level":2}}"#)
    );
}

#[tokio::test]
async fn list_and_name_filter() {
    let app = heroes().await;
    let reply = app.client.get(&app.api("")).await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (200, "[]"));
    create(&app, "Spider Girl", 5).await;
    create(&app, "Iron Lad", 7).await;
    create(&app, "100%_Hero", 9).await;

    let all = app.client.get(&app.api("")).await;
    assert_eq!(all.status, 200);
    let names: Vec<String> = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Spider Girl", "Iron Lad", "100%_Hero"]);

    let filtered = app.client.get(&app.api("?name_filter=GIRL")).await;
    assert_eq!(filtered.status, 200);
    assert_eq!(filtered.json().as_array().unwrap().len(), 1);
    assert_eq!(filtered.json()[0]["name"], "Spider Girl");

    // LIKE metacharacters are plain text.
    let percent = app.client.get(&app.api("?name_filter=%25_")).await;
    assert_eq!(percent.json().as_array().unwrap().len(), 1);
    let underscore = app.client.get(&app.api("?name_filter=_")).await;
    assert_eq!(underscore.json()[0]["name"], "100%_Hero");
    let quote = app
        .client
        .get(&app.api("?name_filter=%27%3B%20DROP%20TABLE%20hero%3B--"))
        .await;
    assert_eq!((quote.status.as_u16(), quote.body.as_str()), (200, "[]"));
}

#[tokio::test]
async fn put_replaces_every_field() {
    let app = heroes().await;
    let id = create(&app, "Old Name", 3).await;
    let reply = app
        .client
        .put(
            &app.api(&format!("/{id}")),
            r#"{"name":"New Name","level":4}"#,
        )
        .await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (204, ""));
    let fetched = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(
        fetched.body,
        format!(r#"{{"id":{id},"name":"New Name","level":4}}"#)
    );

    let missing = app
        .client
        .put(&app.api("/999999"), r#"{"name":"Nobody","level":4}"#)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["detail"], "No hero with id 999999");
}

#[tokio::test]
async fn patch_merges_and_validates_the_result() {
    let app = heroes().await;
    let id = create(&app, "Patchy", 3).await;
    let reply = app
        .client
        .patch(
            &app.api(&format!("/{id}")),
            r#"{"level":30,"picture":"https://p/x.png"}"#,
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        format!(
            r#"{{"id":{id},"name":"Patchy","otherName":"Other Patchy","level":30,"picture":"https://p/x.png","powers":"Flight"}}"#
        )
    );
    let bad = app
        .client
        .patch(&app.api(&format!("/{id}")), r#"{"name":"P"}"#)
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["violations"][0]["field"], "name");
    let unchanged = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(unchanged.json()["name"], "Patchy");

    let missing = app
        .client
        .patch(&app.api("/999999"), r#"{"level":2}"#)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["title"], "Not Found");
}

#[tokio::test]
async fn delete_is_204_also_when_absent() {
    let app = heroes().await;
    let id = create(&app, "Gone Soon", 3).await;
    for _ in 0..2 {
        let reply = app.client.delete(&app.api(&format!("/{id}"))).await;
        assert_eq!((reply.status.as_u16(), reply.body.as_str()), (204, ""));
    }
    let fetched = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(fetched.status, 404);
    assert_eq!(fetched.header("content-type"), "application/problem+json");
    assert_eq!(
        fetched.body,
        format!(r#"{{"title":"Not Found","status":404,"detail":"No hero with id {id}"}}"#)
    );
}

#[tokio::test]
async fn collection_put_replaces_and_delete_empties_the_table() {
    let app = heroes().await;
    create(&app, "Replaced", 3).await;
    let reply = app
        .client
        .put(
            &app.api(""),
            r#"[{"name":"One Hero","level":1},{"name":"Two Hero","level":2,"powers":"Both"}]"#,
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), app.api(""));
    let created = reply.json();
    assert_eq!(created.as_array().unwrap().len(), 2);
    assert_eq!(created[1]["powers"], "Both");
    let listed = app.client.get(&app.api("")).await;
    assert_eq!(listed.json(), created);

    let invalid = app
        .client
        .put(&app.api(""), r#"[{"name":"Fine","level":1},{"name":"No"}]"#)
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["violations"][0]["field"], "[1].name");
    assert_eq!(invalid.json()["violations"][1]["field"], "[1].level");
    assert_eq!(
        app.client.get(&app.api("")).await.json(),
        created,
        "a refused replace changes nothing"
    );

    let emptied = app.client.delete(&app.api("")).await;
    assert_eq!((emptied.status.as_u16(), emptied.body.as_str()), (204, ""));
    assert_eq!(app.client.get(&app.api("")).await.body, "[]");
}

#[tokio::test]
async fn huge_levels_round_trip() {
    let app = heroes().await;
    let id = create(&app, "Mighty", 2_000_000_000).await;
    let fetched = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(fetched.json()["level"], 2_000_000_000);
}

#[tokio::test]
async fn unknown_fields_are_ignored_as_the_original_ignores_them() {
    let app = heroes().await;
    let reply = app
        .client
        .post(
            &app.api(""),
            r#"{"name":"Seed Hero","othername":"Seedy","level":3,"team":{"x":[1]}}"#,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_i64().unwrap();
    assert_eq!(
        reply.body,
        format!(r#"{{"id":{id},"name":"Seed Hero","level":3}}"#)
    );
    let patched = app
        .client
        .patch(&app.api(&format!("/{id}")), r#"{"level":4,"colour":"red"}"#)
        .await;
    assert_eq!(
        (patched.status.as_u16(), patched.body.as_str()),
        (
            200,
            format!(r#"{{"id":{id},"name":"Seed Hero","level":4}}"#).as_str()
        )
    );
    let wrong_type = app
        .client
        .post(&app.api(""), r#"{"name":"Seed Hero","level":"high","x":1}"#)
        .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(
        wrong_type.json()["detail"],
        "level: expected an integer, got a string"
    );
}

#[tokio::test]
async fn location_names_the_host_header_or_else_only_the_path() {
    let app = heroes().await;
    let body = Some(r#"{"name":"Hosted","level":1}"#);
    let on = |host: &'static str| {
        let (client, url) = (app.client.clone(), app.api(""));
        async move {
            client
                .send_with(Method::POST, &url, body, &[("host", host)])
                .await
        }
    };

    let named = on("heroes.example:8001").await;
    assert_eq!(named.status, 201, "{}", named.body);
    let id = named.json()["id"].as_i64().unwrap();
    assert_eq!(
        named.header("location"),
        format!("http://heroes.example:8001/api/heroes/{id}")
    );
    assert_eq!(
        named.body,
        format!(r#"{{"id":{id},"name":"Hosted","level":1}}"#)
    );

    for odd in ["user@evil.example", "a b", "a/b"] {
        let reply = on(odd).await;
        assert_eq!(reply.status, 201, "{odd}: {}", reply.body);
        let id = reply.json()["id"].as_i64().unwrap();
        assert_eq!(
            reply.header("location"),
            format!("/api/heroes/{id}"),
            "{odd}"
        );
    }
}

#[tokio::test]
async fn null_text_fields_are_absent_never_stored_as_null_text() {
    let app = heroes().await;
    let created = app
        .client
        .post(
            &app.api(""),
            r#"{"name":"Nully","otherName":null,"level":2,"picture":null,"powers":null}"#,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let bare = format!(r#"{{"id":{id},"name":"Nully","level":2}}"#);
    assert_eq!(created.body, bare);
    assert_eq!(app.client.get(&app.api(&format!("/{id}"))).await.body, bare);
    let (client, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT othername IS NULL, picture IS NULL, powers IS NULL FROM hero WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, bool>(0),
            row.get::<_, bool>(1),
            row.get::<_, bool>(2)
        ),
        (true, true, true),
        "SQL NULL, not the text 'null'"
    );

    let full = create(&app, "Keeper", 3).await;
    let patched = app
        .client
        .patch(
            &app.api(&format!("/{full}")),
            r#"{"otherName":null,"picture":null,"powers":null,"level":4}"#,
        )
        .await;
    assert_eq!(
        (patched.status.as_u16(), patched.body.as_str()),
        (
            200,
            format!(
                r#"{{"id":{full},"name":"Keeper","otherName":"Other Keeper","level":4,"powers":"Flight"}}"#
            )
            .as_str()
        ),
        "in a PATCH a null leaves the field as it was"
    );
}
