//! HTTP conventions the serve loop keeps for every service: HEAD, OPTIONS, CORS.

use super::*;

fn request(method: &str, path: &str, headers: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}\r\n")
        .into_bytes()
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_the_head_of_get_without_its_body() {
    let server = Server::start(config()).await;
    let get = exchange(server.addr, &request("GET", "/hello", "")).await;
    let head = exchange(server.addr, &request("HEAD", "/hello", "")).await;
    assert_eq!(status_of(&head), 200, "{head}");
    assert_eq!(header(&head, "content-length"), Some("5"), "{head}");
    assert_eq!(header(&head, "content-type"), header(&get, "content-type"));
    assert_eq!(body(&head), "", "{head}");

    let head = exchange(server.addr, &request("HEAD", "/q/health/live", "")).await;
    assert_eq!(status_of(&head), 200, "{head}");
    assert_eq!(body(&head), "", "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_answers_204_with_allow_and_405_lists_head_and_options() {
    let server = Server::start(config()).await;
    let response = exchange(server.addr, &request("OPTIONS", "/hello", "")).await;
    assert_eq!(status_of(&response), 204, "{response}");
    assert_eq!(header(&response, "allow"), Some("GET, HEAD, OPTIONS"));
    let response = exchange(server.addr, &request("OPTIONS", "/echo", "")).await;
    assert_eq!(
        header(&response, "allow"),
        Some("POST, OPTIONS"),
        "{response}"
    );
    let response = exchange(server.addr, &request("OPTIONS", "/q/metrics", "")).await;
    assert_eq!(status_of(&response), 204, "{response}");
    assert_eq!(header(&response, "allow"), Some("GET, HEAD, OPTIONS"));

    let response = exchange(server.addr, &request("OPTIONS", "/nowhere", "")).await;
    assert_eq!(status_of(&response), 404, "{response}");
    assert!(body(&response).contains(r#""status":404"#), "{response}");

    let response = exchange(server.addr, &request("POST", "/q/health/live", "")).await;
    assert_eq!(status_of(&response), 405, "{response}");
    assert_eq!(header(&response, "allow"), Some("GET, HEAD, OPTIONS"));
    assert!(body(&response).contains(r#""status":405"#), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_is_answered_and_every_answer_to_a_page_carries_its_origin() {
    let server = Server::start(config()).await;
    let preflight = request(
        "OPTIONS",
        "/echo",
        "Origin: http://ui.test\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n",
    );
    let response = exchange(server.addr, &preflight).await;
    assert_eq!(status_of(&response), 204, "{response}");
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&response, "access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    assert!(header(&response, "access-control-allow-headers")
        .is_some_and(|h| h.to_ascii_lowercase().contains("content-type")));
    assert_eq!(header(&response, "access-control-max-age"), Some("3600"));

    for path in ["/hello", "/nowhere", "/q/health/live"] {
        let response = exchange(
            server.addr,
            &request("GET", path, "Origin: http://ui.test\r\n"),
        )
        .await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some("*"),
            "{response}"
        );
    }
    // Not a browser page: no CORS headers.
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_origins_echoes_only_listed_ones() {
    let server = Server::start(ServerConfig {
        cors: kit::cors::Cors::Only(vec![http::HeaderValue::from_static("https://ui.test")]),
        ..config()
    })
    .await;
    let listed = exchange(
        server.addr,
        &request("GET", "/hello", "Origin: https://ui.test\r\n"),
    )
    .await;
    assert_eq!(
        header(&listed, "access-control-allow-origin"),
        Some("https://ui.test"),
        "{listed}"
    );
    assert_eq!(header(&listed, "vary"), Some("origin"), "{listed}");
    let other = exchange(
        server.addr,
        &request("GET", "/hello", "Origin: https://evil.test\r\n"),
    )
    .await;
    assert_eq!(status_of(&other), 200, "{other}");
    assert_eq!(
        header(&other, "access-control-allow-origin"),
        None,
        "{other}"
    );
}

fn assert_problem(response: &str, status: u16) {
    assert_eq!(status_of(response), status, "{response}");
    assert_eq!(
        header(response, "content-type"),
        Some("application/problem+json"),
        "{response}"
    );
    assert!(
        body(response).contains(&format!(r#""status":{status}"#)),
        "{response}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_1_without_exactly_one_host_is_400() {
    let server = Server::start(config()).await;
    let none = exchange(
        server.addr,
        b"GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_problem(&none, 400);
    let two = request("GET", "/hello", "Host: other\r\n");
    assert_problem(&exchange(server.addr, &two).await, 400);
    let old = exchange(server.addr, b"GET /hello HTTP/1.0\r\n\r\n").await;
    assert_eq!(status_of_any(&old), 200, "{old}");
}

/// The status of an HTTP/1.0 or 1.1 response.
fn status_of_any(response: &str) -> u16 {
    response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_uri_is_414_with_a_problem() {
    let server = Server::start(config()).await;
    // Fits the read buffer: refused by the serve loop.
    let path = format!("/hello?{}", "a".repeat(10 * 1024));
    assert_problem(&exchange(server.addr, &get(&path)).await, 414);
    // Overflows the read buffer before the request line ends: hyper's own answer,
    // rewritten.
    let path = format!("/hello?{}", "a".repeat(100 * 1024));
    assert_problem(&exchange(server.addr, &get(&path)).await, 414);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_head_is_400_with_a_problem() {
    let server = Server::start(config()).await;
    let response = exchange(
        server.addr,
        b"GET /hello HTTP/1.1\r\nHost: test\r\nBad Header\r\n\r\n",
    )
    .await;
    assert_problem(&response, 400);
    let response = exchange(server.addr, b"\x01\x02 nonsense\r\n\r\n").await;
    assert_problem(&response, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expectation_other_than_100_continue_is_417() {
    let server = Server::start(config()).await;
    let response = exchange(server.addr, &request("GET", "/hello", "Expect: 200-ok\r\n")).await;
    assert_problem(&response, 417);
    let request = b"POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}";
    let response = exchange(server.addr, request).await;
    assert!(response.contains("HTTP/1.1 200 OK"), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_415() {
    let server = Server::start(config()).await;
    for content_type in [
        "Content-Type: text/plain\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        "",
    ] {
        let request = format!(
            "POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{content_type}Content-Length: 2\r\n\r\n{{}}"
        );
        let response = exchange(server.addr, request.as_bytes()).await;
        assert_problem(&response, 415);
    }
    let request = b"POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/merge-patch+json\r\nContent-Length: 2\r\n\r\n{}";
    let response = exchange(server.addr, request).await;
    assert_eq!(status_of(&response), 200, "{response}");
    // No body: the type does not matter.
    let request = b"POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n";
    let response = exchange(server.addr, request).await;
    assert_eq!(status_of(&response), 200, "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_slash_is_ignored() {
    let server = Server::start(config()).await;
    let response = exchange(server.addr, &get("/hello/")).await;
    assert_eq!(status_of(&response), 200, "{response}");
    assert_eq!(body(&response), "hello");
    let response = exchange(server.addr, &get("/q/health/live/")).await;
    assert_eq!(status_of(&response), 200, "{response}");
}
