//! `/q/*` inside a bound of its own, and readiness checked at most once a second however
//! many probes ask.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_readiness_probes_make_one_dependency_check() {
    let server = Server::start(config()).await;
    let addr = server.addr;
    let probes: Vec<_> = (0..40)
        .map(|_| tokio::spawn(async move { exchange(addr, &get("/q/health/ready")).await }))
        .collect();
    for probe in probes {
        let response = probe.await.unwrap();
        assert_eq!(status_of(&response), 200, "{response}");
        assert!(
            response.ends_with(r#"{"status":"UP","checks":[{"name":"nothing","status":"UP"}]}"#),
            "{response}"
        );
    }
    assert_eq!(server.app.ready_checks.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_past_their_bound_get_503_while_the_api_is_served() {
    let server = Server::start(ServerConfig {
        max_in_flight_q: 2,
        max_in_flight: 2,
        ..config()
    })
    .await;
    let addr = server.addr;
    let probes: Vec<_> = (0..10)
        .map(|_| tokio::spawn(async move { exchange(addr, &get("/q/health/ready")).await }))
        .collect();
    tokio::time::sleep(READY_CHECK / 4).await;
    // Probes hold their own places, not the API's.
    let response = exchange(server.addr, &get("/hello")).await;
    assert_eq!(status_of(&response), 200, "{response}");

    let mut statuses = Vec::new();
    for probe in probes {
        let response = probe.await.unwrap();
        if status_of(&response) == 503 {
            assert!(response.contains(r#""status":503"#), "{response}");
        }
        statuses.push(status_of(&response));
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 503).count(),
        8,
        "{statuses:?}"
    );
}
