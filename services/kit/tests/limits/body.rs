//! Request bodies: slow or stalled bodies are cut off with 408 and never hold the
//! in-flight slots that other clients need.

use super::*;

/// A request announcing `length` bytes of body of which only `sent` are written; the
/// stream stays open.
async fn start_body(addr: SocketAddr, length: usize, sent: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(sent).await.unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_get_408_within_the_deadline_while_others_are_served() {
    let server = Server::start(ServerConfig {
        max_in_flight: 1,
        ..config()
    })
    .await;
    let start = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..8 {
        stalled.push(start_body(server.addr, 100, b"{").await);
    }
    // Eight stalled bodies, one in-flight slot: the slot is free for requests whose body
    // has arrived.
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 200, "{response}");
    let request = b"POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    let response = exchange(server.addr, request).await;
    assert_eq!(status_of(&response), 200, "{response}");

    for mut stream in stalled {
        let response = read_all(&mut stream).await;
        assert_eq!(status_of(&response), 408, "{response}");
        assert!(response.contains("application/problem+json"), "{response}");
        assert!(response.contains(r#""status":408"#), "{response}");
        assert!(
            response.to_ascii_lowercase().contains("connection: close"),
            "{response}"
        );
    }
    let waited = start.elapsed();
    // The 800 ms deadline, with room for a loaded machine.
    assert!(
        waited >= Duration::from_millis(700),
        "cut off too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "cut off too late: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_below_the_minimum_rate_gets_408_before_the_deadline() {
    let server = Server::start(ServerConfig {
        body_read_timeout: Duration::from_secs(30),
        body_min_bytes_per_sec: 100,
        ..config()
    })
    .await;
    let start = Instant::now();
    let mut stream = start_body(server.addr, 1000, b"[").await;
    // One byte every 100 ms: 10 bytes per second against the 100 required.
    let response = loop {
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(n)) => break String::from_utf8_lossy(&buf[..n]).into_owned(),
            Ok(Err(err)) => panic!("read failed: {err}"),
            Err(_) => {
                let _ = stream.write_all(b"1").await;
                assert!(start.elapsed() < Duration::from_secs(5), "never cut off");
            }
        }
    };
    assert_eq!(status_of(&response), 408, "{response}");
    // One second of grace plus the few bytes sent, far from the 30 s deadline.
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "cut off too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(4),
        "cut off too late: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_crossing_the_limit_is_413_before_it_ends() {
    let server = Server::start(config()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // Declares a 1 MiB chunk and sends 2 KiB of it, then waits.
    let head = "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[b'x'; 2048]).await.unwrap();
    let start = Instant::now();
    let response = read_all(&mut stream).await;
    assert_eq!(status_of(&response), 413, "{response}");
    assert!(response.contains(r#""status":413"#), "{response}");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}
