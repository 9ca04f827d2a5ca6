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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_checks_and_started_answer_in_the_smallrye_shape() {
    let server = Server::start(config()).await;
    let all = exchange(server.addr, &get("/q/health")).await;
    assert_eq!(status_of(&all), 200, "{all}");
    assert!(all.contains("content-type: application/json\r\n"), "{all}");
    assert!(
        all.ends_with(r#"{"status":"UP","checks":[{"name":"nothing","status":"UP"}]}"#),
        "{all}"
    );
    let started = exchange(server.addr, &get("/q/health/started")).await;
    assert_eq!(status_of(&started), 200, "{started}");
    assert!(
        started.ends_with(r#"{"status":"UP","checks":[]}"#),
        "{started}"
    );

    for path in ["/q/health", "/q/health/started"] {
        let head = exchange(
            server.addr,
            format!("HEAD {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(status_of(&head), 200, "{head}");
        assert!(head.ends_with("\r\n\r\n"), "no body: {head}");
        let options = exchange(
            server.addr,
            format!("OPTIONS {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
        assert_eq!(status_of(&options), 204, "{options}");
        assert!(
            options.contains("allow: GET, HEAD, OPTIONS\r\n"),
            "{options}"
        );
    }
    let metrics = exchange(server.addr, &get("/q/metrics")).await;
    for route in ["/q/health", "/q/health/started"] {
        let sample = format!(r#"route="{route}",status="200"}} 2"#);
        assert!(metrics.contains(&sample), "{sample} in {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_in_yaml_or_json() {
    let server = Server::start(config()).await;
    let yaml = exchange(server.addr, &get("/q/openapi")).await;
    assert!(
        yaml.contains("content-type: application/yaml;charset=UTF-8\r\n"),
        "{yaml}"
    );
    assert!(yaml.ends_with("openapi: 3.0.3\n"), "{yaml}");
    let by_format = exchange(server.addr, &get("/q/openapi?format=json")).await;
    let by_accept = exchange(
        server.addr,
        b"GET /q/openapi HTTP/1.1\r\nHost: test\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
    )
    .await;
    for json in [by_format, by_accept] {
        assert_eq!(status_of(&json), 200, "{json}");
        assert!(
            json.contains("content-type: application/json\r\n"),
            "{json}"
        );
        assert!(json.ends_with(r#"{"openapi":"3.0.3"}"#), "{json}");
    }
}

/// The JSON renditions the services embed say what their YAML says.
#[test]
fn every_json_rendition_is_in_step_with_its_yaml() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/system/openapi_json.py"
    );
    let output = std::process::Command::new("python3")
        .args([script, "--check"])
        .output()
        .expect("python3 with PyYAML runs the check (apt-get install python3-yaml)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
