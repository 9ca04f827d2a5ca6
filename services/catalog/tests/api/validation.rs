//! Bad input: always a 4xx with a problem body, never a 500 or a dropped connection.

use http::Method;

use crate::helpers::{create, heroes};

#[tokio::test]
async fn broken_rules_are_listed() {
    let app = heroes().await;
    let cases = [
        (
            r#"{"name":"Al","level":1}"#,
            "name",
            "size must be between 3 and 50",
        ),
        (
            r#"{"name":"Alice","level":0}"#,
            "level",
            "must be greater than or equal to 1",
        ),
        (r#"{"level":3}"#, "name", "must not be null"),
        (r#"{"name":"Alice"}"#, "level", "must not be null"),
        (
            r#"{"name":"Alice","level":2147483648}"#,
            "level",
            "must be less than or equal to 2147483647",
        ),
        (
            r#"{"name":"Al\u0000ce","level":1}"#,
            "name",
            "must not contain control characters",
        ),
    ];
    let long_picture = format!(
        r#"{{"name":"Alice","level":1,"picture":"{}"}}"#,
        "x".repeat(256)
    );
    let cases = cases.into_iter().chain([(
        long_picture.as_str(),
        "picture",
        "size must be between 0 and 255",
    )]);
    for (body, field, message) in cases {
        let reply = app.client.post(&app.api(""), body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
        let problem = reply.json();
        assert_eq!(problem["title"], "Bad Request");
        assert_eq!(problem["violations"][0]["field"], field, "{body}");
        assert_eq!(problem["violations"][0]["message"], message, "{body}");
    }
    assert_eq!(
        app.client.get(&app.api("")).await.body,
        "[]",
        "nothing was stored"
    );
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let app = heroes().await;
    let id = create(&app, "Target", 3).await;
    for body in [
        r#"{"name":"Alice","level":"high"}"#,
        r#"{"name":"Alice","level":1.5}"#,
        r#"{"name":"Alice","#,
        "",
        "[]",
        "null",
    ] {
        for (method, url) in [
            (Method::POST, app.api("")),
            (Method::PATCH, app.api(&format!("/{id}"))),
        ] {
            let reply = app.client.send(method.clone(), &url, Some(body)).await;
            assert_eq!(reply.status, 400, "{method} {body}");
            assert_eq!(reply.json()["status"], 400);
        }
    }
}

#[tokio::test]
async fn ids_no_row_can_have_are_404_and_text_that_is_no_integer_400() {
    let app = heroes().await;
    let id = create(&app, "Signed", 1).await;
    let body = r#"{"name":"Nobody","level":4}"#;
    for impossible in ["-5", "99999999999999999999", "-99999999999999999999"] {
        let path = app.api(&format!("/{impossible}"));
        let expected = format!(
            r#"{{"title":"Not Found","status":404,"detail":"No hero with id {impossible}"}}"#
        );
        for method in [Method::GET, Method::PUT, Method::PATCH] {
            let json = (method != Method::GET).then_some(body);
            let reply = app.client.send(method.clone(), &path, json).await;
            assert_eq!(
                (reply.status.as_u16(), reply.body.as_str()),
                (404, expected.as_str()),
                "{method} {impossible}"
            );
            assert_eq!(reply.header("content-type"), "application/problem+json");
        }
        let deleted = app.client.delete(&path).await;
        assert_eq!((deleted.status.as_u16(), deleted.body.as_str()), (204, ""));
    }

    let plus = app.client.get(&app.api(&format!("/+{id}"))).await;
    assert_eq!(
        plus.status, 200,
        "Java's Long.parseLong reads +{id} as {id}"
    );
    assert_eq!(plus.json()["name"], "Signed");

    for text in ["abc", "1.5", "1e3", "%2042", "+", "--5"] {
        let path = app.api(&format!("/{text}"));
        let expected = format!(
            r#"{{"title":"Bad Request","status":400,"detail":"The hero id must be an integer, got '{text}'"}}"#
        );
        for reply in [app.client.get(&path).await, app.client.delete(&path).await] {
            assert_eq!(
                (reply.status.as_u16(), reply.body.as_str()),
                (400, expected.as_str()),
                "{text}"
            );
        }
    }
    let still_there = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(still_there.status, 200, "{}", still_there.body);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let app = heroes().await;
    let unknown = app.client.get(&app.server.url("/api/nothing")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["title"], "Not Found");
    assert_eq!(app.client.get(&app.api("/1/extra")).await.status, 404);

    let wrong = app
        .client
        .send(Method::POST, &app.api("/hello"), None)
        .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), "GET, HEAD, OPTIONS");
    assert_eq!(wrong.json()["status"], 405);
    let wrong = app
        .client
        .send(Method::PATCH, &app.api(""), Some("{}"))
        .await;
    assert_eq!(
        wrong.header("allow"),
        "GET, HEAD, POST, PUT, DELETE, OPTIONS"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = heroes().await;
    let body = format!(
        r#"{{"name":"Big","level":1,"powers":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let reply = app.client.post(&app.api(""), &body).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["title"], "Payload Too Large");
}

#[tokio::test]
async fn query_strings_with_nul_or_invalid_utf8_are_400() {
    let app = heroes().await;
    for query in ["?name_filter=%00", "?name_filter=%ff%fe"] {
        let reply = app.client.get(&app.api(query)).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.json()["status"], 400);
    }
}

#[tokio::test]
async fn no_write_makes_a_row_larger_than_fights_reads() {
    let app = heroes().await;
    let id = create(&app, "Alice", 3).await;
    let before = app.client.get(&app.api(&format!("/{id}"))).await;
    let too_large = format!(r#"{{"powers":"{}"}}"#, "p".repeat(16_400));
    let problem = r#"{"title":"Bad Request","status":400,"detail":"The request body is not valid","violations":[{"field":"row","message":"the row as JSON must be at most 16384 bytes"}]}"#;

    let patched = app
        .client
        .patch(&app.api(&format!("/{id}")), &too_large)
        .await;
    let table = format!(
        r#"[{{"name":"Bob","level":1}},{{"name":"Carol","level":1,"powers":"{}"}}]"#,
        "p".repeat(16_400)
    );
    let replaced = app.client.put(&app.api(""), &table).await;

    assert_eq!(patched.status, 400, "{}", patched.body);
    assert_eq!(patched.header("content-type"), "application/problem+json");
    assert_eq!(patched.body, problem);
    assert_eq!(replaced.status, 400, "{}", replaced.body);
    assert_eq!(
        replaced.body,
        problem.replace(r#""field":"row""#, r#""field":"[1].row""#)
    );
    let after = app.client.get(&app.api(&format!("/{id}"))).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, before.body, "the row is unchanged");
}
