//! Input limits and shutdown of the kit's serve loop, seen from the wire: a tiny `App`
//! served by `kit::serve::serve` on `127.0.0.1:0`, spoken to over raw TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use http::{request::Parts, Method, StatusCode};
use kit::body::Incoming;
use kit::{response, serve::serve, App, Check, Problem, Response, ServerConfig};
mod body;
mod connections;
mod health;
mod protocol;
mod shutdown;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
    task::JoinHandle,
};

const SLOW: Duration = Duration::from_millis(300);

/// `/hello` answers at once, `/slow` after [`SLOW`], `/echo` reads the body within the
/// configured limit and answers its length.
struct TestApp {
    max_body_bytes: usize,
    /// Readiness checks run; each takes [`READY_CHECK`].
    ready_checks: AtomicUsize,
}

const READY_CHECK: Duration = Duration::from_millis(200);

impl App for TestApp {
    type Endpoint<'a> = &'static str;
    type Error = Problem;

    fn routes(&self) -> &[&'static str] {
        &["hello", "slow", "echo"]
    }

    fn name(&self) -> &'static str {
        "limits-test"
    }

    fn openapi(&self) -> &'static str {
        "openapi: 3.0.3\n"
    }

    fn openapi_json(&self) -> &'static str {
        r#"{"openapi":"3.0.3"}"#
    }

    fn route(&self, method: &Method, path: &str) -> Result<&'static str, Problem> {
        let (label, allow) = match path {
            "/hello" => ("hello", "GET"),
            "/slow" => ("slow", "GET"),
            "/echo" => ("echo", "POST"),
            _ => return Err(Problem::unknown_path()),
        };
        match method.as_str() == allow {
            true => Ok(label),
            false => Err(Problem::method_not_allowed(allow)),
        }
    }

    fn label(&self, endpoint: &&'static str) -> &'static str {
        endpoint
    }

    async fn dispatch<'a>(
        self: &'a Arc<Self>,
        endpoint: &'static str,
        _request: &'a Parts,
        body: Incoming,
    ) -> Result<Response, Problem> {
        match endpoint {
            "slow" => {
                tokio::time::sleep(SLOW).await;
                Ok(response::text(StatusCode::OK, "slow"))
            }
            "echo" => {
                let body = kit::body::read(body, self.max_body_bytes).await?;
                Ok(response::bytes(
                    StatusCode::OK,
                    response::TEXT,
                    body.len().to_string(),
                ))
            }
            _ => Ok(response::text(StatusCode::OK, "hello")),
        }
    }

    async fn ready(&self) -> Vec<Check> {
        self.ready_checks.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(READY_CHECK).await;
        vec![Check::up("nothing")]
    }

    fn render_metrics(&self, _out: &mut String) {}
}

fn config() -> ServerConfig {
    ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1024,
        body_read_timeout: Duration::from_millis(800),
        body_min_bytes_per_sec: 0,
        keep_alive_max_requests: 1_000,
        keep_alive_max_age: Duration::from_secs(3600),
        header_read_timeout: Duration::from_millis(500),
        max_connections: 64,
        max_in_flight: 64,
        max_in_flight_q: 64,
        shutdown_timeout: Duration::from_secs(5),
        worker_threads: 2,
        cors: kit::cors::Cors::Any,
        telemetry: None,
    }
}

/// A running server: its address, the trigger of its shutdown and its task.
struct Server {
    addr: SocketAddr,
    app: Arc<TestApp>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Arc::new(TestApp {
            max_body_bytes: config.max_body_bytes,
            ready_checks: AtomicUsize::new(0),
        });
        let served = app.clone();
        let task = tokio::spawn(async move {
            serve(listener, served, &config, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Self {
            addr,
            app,
            stop: Some(stop),
            task,
        }
    }

    fn shutdown(&mut self) {
        let _ = self.stop.take().unwrap().send(());
    }
}

/// One raw exchange: writes `request`, then reads until the server closes, at most 5 s.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before all of an oversized request is written.
    let _ = stream.write_all(request).await;
    read_all(&mut stream).await
}

async fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "no end of response within 5 s: {}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one response of a keep-alive connection: its head and `Content-Length` bytes.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if out.len() >= end + 4 + length {
                return text;
            }
        }
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0)) => panic!("closed before a whole response: {text}"),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(err)) => panic!("read failed: {err}"),
            Err(_) => panic!("no whole response within 5 s: {text}"),
        }
    }
}

const KEEP_ALIVE_HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n";

/// A keep-alive connection that has made one request and now sits idle.
async fn idle_client(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(KEEP_ALIVE_HELLO).await.unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!(status_of(&response), 200, "{response}");
    stream
}

fn status_of(response: &str) -> u16 {
    response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.1 response: {response:?}"))
}

pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_request_is_served() {
    let server = Server::start(config()).await;
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 200, "{response}");
    assert!(response.ends_with("hello"), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    let server = Server::start(config()).await;
    // Announced by Content-Length: refused before it is read.
    let body = "x".repeat(4096);
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(server.addr, request.as_bytes()).await;
    assert_eq!(status_of(&response), 413, "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains(r#""status":413"#), "{response}");

    // Chunked, so the length is only known while reading.
    let chunk = "y".repeat(600);
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    let response = exchange(server.addr, request.as_bytes()).await;
    assert_eq!(status_of(&response), 413, "{response}");

    // Exactly at the limit is fine.
    let body = "z".repeat(1024);
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n{body}"
    );
    let response = exchange(server.addr, request.as_bytes()).await;
    assert_eq!(status_of(&response), 200, "{response}");
    assert!(response.ends_with("1024"), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_headers_are_431() {
    let server = Server::start(config()).await;
    let mut request = String::from("GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for i in 0..100 {
        request.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    request.push_str("\r\n");
    let response = exchange(server.addr, request.as_bytes()).await;
    // hyper answers a head over `max_headers` with 431 and closes the connection.
    assert_eq!(status_of(&response), 431, "{response}");
    assert!(response.contains(r#""status":431"#), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_header_block_is_431() {
    let server = Server::start(config()).await;
    // One header far over the 16 KiB read buffer.
    let request = format!(
        "GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let response = exchange(server.addr, request.as_bytes()).await;
    // hyper answers a head larger than `max_buf_size` with 431 and closes the connection.
    assert_eq!(status_of(&response), 431, "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains(r#""status":431"#), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_half_a_head_is_cut_off_after_the_timeout() {
    let server = Server::start(config()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let start = Instant::now();
    let response = read_all(&mut stream).await;
    let waited = start.elapsed();
    // Cut off after the 500 ms header-read timeout: closed without an answer or with 408.
    assert!(
        response.is_empty() || status_of(&response) == 408,
        "{response}"
    );
    assert!(
        waited >= Duration::from_millis(400),
        "closed too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "closed too late: {waited:?}"
    );
    // The server still serves others.
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 200, "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_in_flight_a_request_gets_503_with_a_problem() {
    let server = Server::start(ServerConfig {
        max_in_flight: 1,
        ..config()
    })
    .await;
    let addr = server.addr;
    let slow = tokio::spawn(async move { exchange(addr, &get("/slow")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 503, "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains(r#""status":503"#), "{response}");
    // The kit's own endpoints are not counted.
    let live = exchange(server.addr, &get("/q/health/live")).await;
    assert_eq!(status_of(&live), 200, "{live}");

    let slow = slow.await.unwrap();
    assert_eq!(status_of(&slow), 200, "{slow}");
    // Once the slow one is answered, there is room again.
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 200, "{response}");
}
