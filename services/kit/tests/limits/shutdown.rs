//! The drain on shutdown: `serve` returns only once every request already received is
//! answered, a request arriving on an open keep-alive connection meanwhile is answered
//! with `Connection: close`, and past the deadline what is left is cut.

use super::*;

const KEEP_ALIVE_SLOW: &[u8] = b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n";

/// Waits until the server refuses new connections: its listener is closed, the drain
/// has begun.
async fn until_refused(addr: SocketAddr) {
    let started = Instant::now();
    while TcpStream::connect(addr).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "still accepting connections 2 s after the stop signal"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits for `serve` to return, at most 3 s (the deadline is 5 s).
async fn returned(server: &mut Server) {
    tokio::time::timeout(Duration::from_secs(3), &mut server.task)
        .await
        .expect("serve returned before its deadline")
        .unwrap();
}

fn closes(response: &str) -> bool {
    response
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .any(|line| line.eq_ignore_ascii_case("connection: close"))
}

/// The bytes the peer sends until it closes; `None` when it sends nothing more for 5 s.
async fn rest(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_returns_only_once_every_request_in_flight_is_answered() {
    let mut server = Server::start(config()).await;
    let addr = server.addr;
    let slow: Vec<_> = (0..3)
        .map(|_| tokio::spawn(async move { exchange(addr, KEEP_ALIVE_SLOW).await }))
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    server.shutdown();
    until_refused(addr).await;
    assert!(
        !server.task.is_finished(),
        "serve returned with requests in flight"
    );

    for task in slow {
        let response = task.await.unwrap();
        assert_eq!(status_of(&response), 200, "{response}");
        assert!(response.ends_with("slow"), "{response}");
        assert!(closes(&response), "{response}");
    }
    returned(&mut server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_on_an_idle_keep_alive_connection_during_the_drain_is_answered_with_close() {
    let mut server = Server::start(config()).await;
    let addr = server.addr;
    let mut idle = idle_client(addr).await;
    // Holds the drain open while the idle connection is used again.
    let slow = tokio::spawn(async move { exchange(addr, KEEP_ALIVE_SLOW).await });
    tokio::time::sleep(Duration::from_millis(50)).await;

    server.shutdown();
    until_refused(addr).await;
    idle.write_all(KEEP_ALIVE_HELLO).await.unwrap();
    let during = read_response(&mut idle).await;

    assert_eq!(status_of(&during), 200, "{during}");
    assert!(during.ends_with("hello"), "{during}");
    assert!(closes(&during), "{during}");
    assert_eq!(rest(&mut idle).await, Some(Vec::new()), "closed after it");
    let slow = slow.await.unwrap();
    assert_eq!(status_of(&slow), 200, "{slow}");
    returned(&mut server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_just_before_the_signal_is_answered_and_idle_connections_close() {
    let mut server = Server::start(config()).await;
    let addr = server.addr;
    let mut idle = idle_client(addr).await;
    let mut sending = idle_client(addr).await;

    // In the server's socket, maybe not read yet, when the signal comes.
    sending.write_all(KEEP_ALIVE_HELLO).await.unwrap();
    server.shutdown();

    let answered = read_response(&mut sending).await;
    assert_eq!(status_of(&answered), 200, "{answered}");
    assert!(answered.ends_with("hello"), "{answered}");
    assert_eq!(
        rest(&mut sending).await,
        Some(Vec::new()),
        "closed after it"
    );
    // With nothing in progress, idle connections close well before the deadline (5 s).
    assert_eq!(
        rest(&mut idle).await,
        Some(Vec::new()),
        "idle connection closed"
    );
    returned(&mut server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_deadline_the_connections_left_are_cut() {
    let mut server = Server::start(ServerConfig {
        shutdown_timeout: Duration::from_millis(100),
        ..config()
    })
    .await;
    let addr = server.addr;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(&get("/slow")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let start = Instant::now();
    server.shutdown();
    tokio::time::timeout(Duration::from_secs(2), &mut server.task)
        .await
        .expect("serve returned")
        .unwrap();
    let waited = start.elapsed();

    assert!(
        waited >= Duration::from_millis(100),
        "serve returned before its deadline: {waited:?}"
    );
    assert_eq!(
        rest(&mut slow).await,
        Some(Vec::new()),
        "cut without an answer"
    );
}
