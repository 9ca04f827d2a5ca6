//! Reading and writing locations: every endpoint's success and not-found answers.

use http::Method;
use mysql_async::prelude::Queryable;

use crate::helpers::{assert_problem, id_of, spawn_app};

const GOTHAM: &str =
    r#"{"name":"Gotham City","description":"Dark","picture":"https://p/g.png","type":"CITY"}"#;

#[tokio::test]
async fn created_locations_can_be_read_back() {
    let app = spawn_app().await;

    let created = app.post("/api/locations", GOTHAM).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = id_of(&created);
    assert_eq!(
        created.header("location"),
        app.url(&format!("/api/locations/{id}")),
        "absolute, on the Host the client named"
    );
    let expected = format!(
        r#"{{"id":{id},"name":"Gotham City","description":"Dark","picture":"https://p/g.png","type":"CITY"}}"#
    );
    assert_eq!(created.body, expected);
    assert_eq!(created.header("content-type"), "application/json");

    let by_id = app.get(&format!("/api/locations/{id}")).await;
    assert_eq!(
        (by_id.status.as_u16(), by_id.body.as_str()),
        (200, expected.as_str())
    );
    let by_name = app.get("/api/locations/name/Gotham%20City").await;
    assert_eq!(
        (by_name.status.as_u16(), by_name.body.as_str()),
        (200, expected.as_str())
    );
}

#[tokio::test]
async fn list_is_ordered_by_id_and_leaves_out_absent_fields() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/locations").await.body, "[]");
    let first = app.create("Zeta Moon", "MOON").await;
    let second = app.create("Alpha Isle", "ISLAND").await;
    let list = app.get("/api/locations").await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body,
        format!(
            r#"[{{"id":{first},"name":"Zeta Moon","type":"MOON"}},{{"id":{second},"name":"Alpha Isle","type":"ISLAND"}}]"#
        )
    );
}

#[tokio::test]
async fn missing_and_malformed_ids() {
    let app = spawn_app().await;
    assert_problem(
        &app.get("/api/locations/42").await,
        404,
        r#"{"title":"Not Found","status":404,"detail":"No location with id 42"}"#,
    );
    assert_problem(
        &app.get("/api/locations/forty-two").await,
        400,
        r#"{"title":"Bad Request","status":400,"detail":"The id must be an integer, got 'forty-two'"}"#,
    );
    let id = app.create("Signed Town", "CITY").await;
    for impossible in ["-5", "99999999999999999999", "-99999999999999999999"] {
        let path = format!("/api/locations/{impossible}");
        let expected = format!(
            r#"{{"title":"Not Found","status":404,"detail":"No location with id {impossible}"}}"#
        );
        assert_problem(&app.get(&path).await, 404, &expected);
        assert_problem(&app.put(&path, GOTHAM).await, 404, &expected);
        assert_problem(
            &app.patch(&path, r#"{"name":"Other"}"#).await,
            404,
            &expected,
        );
        let deleted = app.delete(&path).await;
        assert_eq!((deleted.status.as_u16(), deleted.body.as_str()), (204, ""));
    }
    let plus = app.get(&format!("/api/locations/+{id}")).await;
    assert_eq!(
        (plus.status.as_u16(), plus.body.as_str()),
        (
            200,
            format!(r#"{{"id":{id},"name":"Signed Town","type":"CITY"}}"#).as_str()
        ),
        "Java's Long.parseLong reads +{id} as {id}"
    );
    for text in ["1.5", "%2042", "+", "--5"] {
        let path = format!("/api/locations/{text}");
        let expected = format!(
            r#"{{"title":"Bad Request","status":400,"detail":"The id must be an integer, got '{text}'"}}"#
        );
        assert_problem(&app.get(&path).await, 400, &expected);
        assert_problem(&app.delete(&path).await, 400, &expected);
    }
    assert_eq!(app.get(&format!("/api/locations/{id}")).await.status, 200);
    assert_problem(
        &app.get("/api/locations/name/Nowhere%20Land").await,
        404,
        r#"{"title":"Not Found","status":404,"detail":"No location named 'Nowhere Land'"}"#,
    );
    assert_problem(
        &app.put("/api/locations/42", GOTHAM).await,
        404,
        r#"{"title":"Not Found","status":404,"detail":"No location with id 42"}"#,
    );
    assert_problem(
        &app.patch("/api/locations/42", r#"{"name":"Other"}"#).await,
        404,
        r#"{"title":"Not Found","status":404,"detail":"No location with id 42"}"#,
    );
}

#[tokio::test]
async fn put_replaces_the_whole_location() {
    let app = spawn_app().await;
    let id = id_of(&app.post("/api/locations", GOTHAM).await);
    let replaced = app
        .put(
            &format!("/api/locations/{id}"),
            r#"{"id":999,"name":"Metropolis","type":"CITY"}"#,
        )
        .await;
    assert_eq!(
        (replaced.status.as_u16(), replaced.body.as_str()),
        (204, "")
    );
    let again = app
        .put(
            &format!("/api/locations/{id}"),
            r#"{"name":"Metropolis","type":"CITY"}"#,
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.body.as_str()),
        (204, ""),
        "identical values still match the row"
    );
    let read = app.get(&format!("/api/locations/{id}")).await;
    assert_eq!(
        read.body,
        format!(r#"{{"id":{id},"name":"Metropolis","type":"CITY"}}"#)
    );
}

#[tokio::test]
async fn patch_merges_and_validates() {
    let app = spawn_app().await;
    let id = id_of(&app.post("/api/locations", GOTHAM).await);
    let patched = app
        .patch(
            &format!("/api/locations/{id}"),
            r#"{"description":"Brighter","type":"PLACE"}"#,
        )
        .await;
    let expected = format!(
        r#"{{"id":{id},"name":"Gotham City","description":"Brighter","picture":"https://p/g.png","type":"PLACE"}}"#
    );
    assert_eq!(
        (patched.status.as_u16(), patched.body.as_str()),
        (200, expected.as_str())
    );
    assert_eq!(
        app.get(&format!("/api/locations/{id}")).await.body,
        expected
    );

    let invalid = app
        .patch(&format!("/api/locations/{id}"), r#"{"name":"No"}"#)
        .await;
    assert_problem(
        &invalid,
        400,
        r#"{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":[{"field":"name","message":"size must be between 3 and 50"}]}"#,
    );
    assert_eq!(
        app.get(&format!("/api/locations/{id}")).await.body,
        expected
    );
}

#[tokio::test]
async fn delete_is_204_also_when_absent() {
    let app = spawn_app().await;
    let id = app.create("Gone Soon", "PLANET").await;
    for _ in 0..2 {
        let reply = app.delete(&format!("/api/locations/{id}")).await;
        assert_eq!((reply.status.as_u16(), reply.body.as_str()), (204, ""));
    }
    assert_eq!(app.get(&format!("/api/locations/{id}")).await.status, 404);
}

#[tokio::test]
async fn the_collection_can_be_replaced_and_emptied() {
    let app = spawn_app().await;
    app.create("Old Place", "PLACE").await;
    let replaced = app
        .put(
            "/api/locations",
            r#"[{"name":"New One","type":"MOON"},{"id":7,"name":"New Two","picture":"p","type":"COUNTRY"}]"#,
        )
        .await;
    assert_eq!(replaced.status, 201, "{}", replaced.body);
    assert_eq!(replaced.header("location"), app.url("/api/locations"));
    let list = app.get("/api/locations").await;
    assert_eq!(list.body, replaced.body);
    assert!(
        list.body.contains(r#""name":"New One","type":"MOON"}"#)
            && list
                .body
                .contains(r#""name":"New Two","picture":"p","type":"COUNTRY"}"#)
            && !list.body.contains("Old Place"),
        "{}",
        list.body
    );

    let emptied = app.delete("/api/locations").await;
    assert_eq!((emptied.status.as_u16(), emptied.body.as_str()), (204, ""));
    assert_eq!(app.get("/api/locations").await.body, "[]");
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_both_survive() {
    let app = spawn_app().await;
    let id = id_of(&app.post("/api/locations", GOTHAM).await);
    let path = format!("/api/locations/{id}");
    for round in 0..30 {
        let description = format!(r#"{{"description":"round {round}"}}"#);
        let picture = format!(r#"{{"picture":"https://p/{round}.png"}}"#);
        let (first, second) =
            tokio::join!(app.patch(&path, &description), app.patch(&path, &picture));
        assert_eq!(
            (first.status.as_u16(), second.status.as_u16()),
            (200, 200),
            "{} {}",
            first.body,
            second.body
        );
        let expected = format!(
            r#"{{"id":{id},"name":"Gotham City","description":"round {round}","picture":"https://p/{round}.png","type":"CITY"}}"#
        );
        let read = app.get(&path).await;
        assert_eq!(
            (read.status.as_u16(), read.body.as_str()),
            (200, expected.as_str()),
            "round {round} lost a change"
        );
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored_as_the_original_ignores_them() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/locations",
            r#"{"name":"Seed Town","type":"CITY","population":3,"tags":["x"]}"#,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = id_of(&created);
    assert_eq!(
        created.body,
        format!(r#"{{"id":{id},"name":"Seed Town","type":"CITY"}}"#)
    );
    let wrong_type = app
        .post("/api/locations", r#"{"name":"Seed Town","type":7,"x":1}"#)
        .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(
        wrong_type.json()["detail"],
        "type: expected a string, got an integer"
    );
}

#[tokio::test]
async fn location_names_the_host_header_or_else_only_the_path() {
    let app = spawn_app().await;
    let post = |name: &'static str, host: &'static str| {
        let (client, url) = (app.client.clone(), app.url("/api/locations"));
        async move {
            let body = format!(r#"{{"name":"{name}","type":"CITY"}}"#);
            client
                .send_with(Method::POST, &url, Some(&body), &[("host", host)])
                .await
        }
    };

    let named = post("Hosted Town", "locations.example:8003").await;
    assert_eq!(named.status, 201, "{}", named.body);
    let id = id_of(&named);
    assert_eq!(
        named.header("location"),
        format!("http://locations.example:8003/api/locations/{id}")
    );
    assert_eq!(
        named.body,
        format!(r#"{{"id":{id},"name":"Hosted Town","type":"CITY"}}"#)
    );

    for (name, odd) in [("At Town", "user@evil.example"), ("Space Town", "a b")] {
        let reply = post(name, odd).await;
        assert_eq!(reply.status, 201, "{odd}: {}", reply.body);
        let id = id_of(&reply);
        assert_eq!(
            reply.header("location"),
            format!("/api/locations/{id}"),
            "{odd}"
        );
    }
}

#[tokio::test]
async fn null_text_fields_are_absent_never_stored_as_null_text() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/locations",
            r#"{"name":"Null Town","description":null,"picture":null,"type":"CITY"}"#,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = id_of(&created);
    let bare = format!(r#"{{"id":{id},"name":"Null Town","type":"CITY"}}"#);
    assert_eq!(created.body, bare);
    assert_eq!(app.get(&format!("/api/locations/{id}")).await.body, bare);
    let mut conn = mysql_async::Conn::from_url(app.db.url.as_str())
        .await
        .unwrap();
    let nulls: Option<(bool, bool)> = conn
        .exec_first(
            "SELECT description IS NULL, picture IS NULL FROM locations WHERE id = ?",
            (id,),
        )
        .await
        .unwrap();
    assert_eq!(nulls, Some((true, true)), "SQL NULL, not the text 'null'");
    conn.disconnect().await.unwrap();

    let full = id_of(&app.post("/api/locations", GOTHAM).await);
    let patched = app
        .patch(
            &format!("/api/locations/{full}"),
            r#"{"description":null,"picture":null,"type":"PLACE"}"#,
        )
        .await;
    assert_eq!(
        (patched.status.as_u16(), patched.body.as_str()),
        (
            200,
            format!(
                r#"{{"id":{full},"name":"Gotham City","description":"Dark","picture":"https://p/g.png","type":"PLACE"}}"#
            )
            .as_str()
        ),
        "in a PATCH a null leaves the field as it was"
    );
}
