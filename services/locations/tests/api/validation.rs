//! Bad input: every rule of a location, malformed bodies and duplicate names, all
//! answered 4xx with a problem body and nothing written.

use crate::helpers::{assert_problem, spawn_app};

fn violation(field: &str, message: &str) -> String {
    format!(
        r#"{{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":[{{"field":"{field}","message":"{message}"}}]}}"#
    )
}

#[tokio::test]
async fn type_must_be_one_of_six() {
    let app = spawn_app().await;
    for kind in ["STAR", "city", ""] {
        let reply = app
            .post(
                "/api/locations",
                &format!(r#"{{"name":"Somewhere","type":"{kind}"}}"#),
            )
            .await;
        assert_problem(
            &reply,
            400,
            &violation(
                "type",
                "must be one of CITY, PLANET, PLACE, ISLAND, COUNTRY, MOON",
            ),
        );
    }
    assert_eq!(app.get("/api/locations").await.body, "[]");
}

#[tokio::test]
async fn name_must_have_3_to_50_characters() {
    let app = spawn_app().await;
    for name in ["ab".to_owned(), "n".repeat(51)] {
        let reply = app
            .post(
                "/api/locations",
                &format!(r#"{{"name":"{name}","type":"CITY"}}"#),
            )
            .await;
        assert_problem(
            &reply,
            400,
            &violation("name", "size must be between 3 and 50"),
        );
    }
    let fifty = "é".repeat(50);
    let reply = app
        .post(
            "/api/locations",
            &format!(r#"{{"name":"{fifty}","type":"CITY"}}"#),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[tokio::test]
async fn missing_fields_long_pictures_and_nul_bytes_are_violations() {
    let app = spawn_app().await;
    assert_problem(
        &app.post("/api/locations", "{}").await,
        400,
        r#"{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":[{"field":"name","message":"must not be null"},{"field":"type","message":"must not be null"}]}"#,
    );
    let long = format!(
        r#"{{"name":"Somewhere","type":"CITY","picture":"{}"}}"#,
        "p".repeat(256)
    );
    assert_problem(
        &app.post("/api/locations", &long).await,
        400,
        &violation("picture", "size must be between 0 and 255"),
    );
    let nul = r#"{"name":"Some\u0000where","type":"CITY"}"#;
    assert_problem(
        &app.post("/api/locations", nul).await,
        400,
        &violation("name", "must not contain control characters"),
    );
    let in_array = app
        .put(
            "/api/locations",
            r#"[{"name":"Fine Place","type":"CITY"},{"name":"x","type":"CITY"}]"#,
        )
        .await;
    assert_problem(
        &in_array,
        400,
        &violation("[1].name", "size must be between 3 and 50"),
    );
    assert_eq!(app.get("/api/locations").await.body, "[]");
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let app = spawn_app().await;
    for body in [
        r#"{"name":"Somewhere","type":"CITY""#,
        r#"{"name":42,"type":"CITY"}"#,
        r#"{"id":"one","name":"Somewhere","type":"CITY"}"#,
        r#"["Somewhere"]"#,
        "",
    ] {
        let reply = app.post("/api/locations", body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.header("content-type"), "application/problem+json");
        // Plain words naming the field, never the parser's internals.
        assert!(
            reply
                .body
                .starts_with(r#"{"title":"Bad Request","status":400,"detail":""#)
                && !reply.body.contains("character"),
            "{body}: {}",
            reply.body
        );
    }
    let not_an_array = app
        .put("/api/locations", r#"{"name":"Somewhere","type":"CITY"}"#)
        .await;
    assert_eq!(not_an_array.status, 400, "{}", not_an_array.body);
    assert_eq!(app.get("/api/locations").await.body, "[]");
}

#[tokio::test]
async fn duplicate_names_are_409() {
    let app = spawn_app().await;
    let conflict =
        r#"{"title":"Conflict","status":409,"detail":"A location with this name already exists"}"#;
    app.create("Taken Name", "CITY").await;
    let other = app.create("Other Name", "CITY").await;

    assert_problem(
        &app.post("/api/locations", r#"{"name":"Taken Name","type":"MOON"}"#)
            .await,
        409,
        conflict,
    );
    let renamed = app
        .put(
            &format!("/api/locations/{other}"),
            r#"{"name":"Taken Name","type":"CITY"}"#,
        )
        .await;
    assert_problem(&renamed, 409, conflict);
    let patched = app
        .patch(
            &format!("/api/locations/{other}"),
            r#"{"name":"Taken Name"}"#,
        )
        .await;
    assert_problem(&patched, 409, conflict);
    let twice = app
        .put(
            "/api/locations",
            r#"[{"name":"Twin","type":"CITY"},{"name":"Twin","type":"MOON"}]"#,
        )
        .await;
    assert_problem(&twice, 409, conflict);

    let list = app.get("/api/locations").await;
    assert!(
        list.body.contains("Taken Name") && list.body.contains("Other Name"),
        "{}",
        list.body
    );
    assert!(
        !list.body.contains("Twin"),
        "the failed replacement was rolled back: {}",
        list.body
    );
}

#[tokio::test]
async fn names_are_equal_only_when_they_differ_in_letter_case() {
    let app = spawn_app().await;
    let conflict =
        r#"{"title":"Conflict","status":409,"detail":"A location with this name already exists"}"#;
    let mut ids = Vec::new();
    for name in ["Gotham", "Gothám", "Gotham ", "Gotham🦇", "Gotham🦉"] {
        let body = format!(r#"{{"name":"{name}","type":"CITY"}}"#);
        let created = app.post("/api/locations", &body).await;
        assert_eq!(created.status, 201, "{name:?}: {}", created.body);
        ids.push(crate::helpers::id_of(&created));
    }
    for same in ["GOTHAM", "gotham", "GOTHÁM"] {
        let body = format!(r#"{{"name":"{same}","type":"MOON"}}"#);
        assert_problem(&app.post("/api/locations", &body).await, 409, conflict);
    }

    for (path, id, name) in [
        ("Gotham", ids[0], "Gotham"),
        ("gOtHaM", ids[0], "Gotham"),
        ("Goth%C3%A1m", ids[1], "Gothám"),
        ("GOTH%C3%81M", ids[1], "Gothám"),
        ("Gotham%20", ids[2], "Gotham "),
        ("Gotham%F0%9F%A6%87", ids[3], "Gotham🦇"),
        ("GOTHAM%F0%9F%A6%89", ids[4], "Gotham🦉"),
    ] {
        let found = app.get(&format!("/api/locations/name/{path}")).await;
        assert_eq!(
            (found.status.as_u16(), found.body.as_str()),
            (
                200,
                format!(r#"{{"id":{id},"name":"{name}","type":"CITY"}}"#).as_str()
            ),
            "{path}"
        );
    }
    let absent = app.get("/api/locations/name/Gotham%20%20").await;
    assert_problem(
        &absent,
        404,
        r#"{"title":"Not Found","status":404,"detail":"No location named 'Gotham  '"}"#,
    );
}

#[tokio::test]
async fn no_write_makes_a_row_larger_than_fights_reads() {
    let app = spawn_app().await;
    let id = app.create("Gotham City", "CITY").await;
    let before = app.get(&format!("/api/locations/{id}")).await;
    let too_large = format!(r#"{{"description":"{}"}}"#, "d".repeat(16_400));
    let problem = r#"{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":[{"field":"row","message":"the row as JSON must be at most 16384 bytes"}]}"#;

    let patched = app.patch(&format!("/api/locations/{id}"), &too_large).await;
    let table = format!(
        r#"[{{"name":"Metropolis","type":"CITY"}},{{"name":"Smallville","type":"CITY","description":"{}"}}]"#,
        "d".repeat(16_400)
    );
    let replaced = app.put("/api/locations", &table).await;

    assert_problem(&patched, 400, problem);
    assert_problem(
        &replaced,
        400,
        &problem.replace(r#""field":"row""#, r#""field":"[1].row""#),
    );
    let after = app.get(&format!("/api/locations/{id}")).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, before.body, "the row is unchanged");
}
