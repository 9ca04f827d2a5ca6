//! The arena page at `GET /`: the embedded HTML with its headers, and revalidation.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;

use crate::fakes::Fakes;
use crate::helpers::{spawn_app, TestApp};

async fn get_page(app: &TestApp, if_none_match: Option<&str>) -> test_support::Reply {
    let mut request = Request::get(app.url("/"));
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    app.client
        .send_request(request.body(Full::new(Bytes::new())).unwrap())
        .await
}

#[tokio::test]
async fn the_page_is_served_with_its_headers() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = get_page(&app, None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(reply.header("cache-control"), "no-cache");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    let policy = reply.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'unsafe-inline'",
        "style-src 'unsafe-inline'",
        "img-src * data:",
        "connect-src 'self'",
    ] {
        assert!(
            policy.contains(directive),
            "{directive} missing in {policy}"
        );
    }
    let etag = reply.header("etag");
    assert!(
        etag.len() == 18 && etag.starts_with('"') && etag.ends_with('"'),
        "{etag}"
    );
    assert!(reply.body.starts_with("<!doctype html>"), "{}", reply.body);
    assert!(reply.body.contains("<title>Super Heroes Arena</title>"));
    assert_eq!(reply.header("content-length"), reply.body.len().to_string());
}

#[tokio::test]
async fn a_current_copy_is_revalidated_with_304() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;
    let etag = get_page(&app, None).await.header("etag").to_owned();

    let same = get_page(&app, Some(&etag)).await;
    let weak = get_page(&app, Some(&format!("\"old\", W/{etag}"))).await;
    let other = get_page(&app, Some("\"0000000000000000\"")).await;

    for reply in [&same, &weak] {
        assert_eq!(reply.status, 304);
        assert_eq!(reply.body, "");
        assert_eq!(reply.header("etag"), etag);
        assert_eq!(reply.header("cache-control"), "no-cache");
    }
    assert_eq!(other.status, 200);
    assert!(other.body.contains("<title>Super Heroes Arena</title>"));
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let fakes = Fakes::start().await;
    let app = spawn_app(&fakes).await;

    let reply = app
        .client
        .send(Method::POST, &app.url("/"), Some("{}"))
        .await;

    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), "GET, HEAD, OPTIONS");
    assert_eq!(reply.header("content-type"), "application/problem+json");
    assert_eq!(reply.json()["status"], 405);
}
