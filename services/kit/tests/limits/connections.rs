//! Connection pressure: idle keep-alive connections make room for new clients, a
//! client past every bound gets a fast 503, keep-alive connections end after their
//! request bound.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_connection_held_by_idle_clients_a_new_client_is_served_within_a_second() {
    let server = Server::start(ServerConfig {
        max_connections: 4,
        ..config()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(idle_client(server.addr).await);
    }
    // The first client asks again, so the second is now the one idle the longest.
    held[0].write_all(KEEP_ALIVE_HELLO).await.unwrap();
    read_response(&mut held[0]).await;

    let start = Instant::now();
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 200, "{response}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );

    // The second client's connection was closed to make room; the first is still open.
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(1), held[1].read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "not closed: {read:?}"
    );
    held[0].write_all(KEEP_ALIVE_HELLO).await.unwrap();
    let response = read_response(&mut held[0]).await;
    assert_eq!(status_of(&response), 200, "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_connection_busy_a_new_client_gets_503_at_once_and_a_close() {
    let server = Server::start(ServerConfig {
        max_connections: 2,
        ..config()
    })
    .await;
    let addr = server.addr;
    let busy: Vec<_> = (0..2)
        .map(|_| tokio::spawn(async move { exchange(addr, &get("/slow")).await }))
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let start = Instant::now();
    let response = exchange(server.addr, &get("/hello")).await;
    assert!(
        start.elapsed() < Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status_of(&response), 503, "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    assert!(response.contains(r#""status":503"#), "{response}");

    for task in busy {
        let response = task.await.unwrap();
        assert_eq!(status_of(&response), 200, "{response}");
    }
    // Counted as overload, not as an unknown route.
    let metrics = exchange(server.addr, &get("/q/metrics")).await;
    assert!(
        metrics.contains(r#"route="overloaded",status="503"} 1"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_ends_after_its_request_bound() {
    let server = Server::start(ServerConfig {
        keep_alive_max_requests: 2,
        ..config()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(KEEP_ALIVE_HELLO).await.unwrap();
    let first = read_response(&mut stream).await;
    assert!(!first.contains("connection: close"), "{first}");
    stream.write_all(KEEP_ALIVE_HELLO).await.unwrap();
    let last = read_all(&mut stream).await;
    assert_eq!(status_of(&last), 200, "{last}");
    assert!(last.contains("connection: close"), "{last}");
}
