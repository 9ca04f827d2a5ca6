//! The harness every test of this crate shares: the service started on loopback ports
//! (HTTP and gRPC) against a database of its own, and the client that talks to it.

use std::net::SocketAddr;

use kit::config::Env;
use locations::Config;
use test_support::{db::MyDb, Client, Reply, Spawned};

const SCHEMA: &str = include_str!("../../../../database/locations-db/01-schema.sql");

/// One service on a fresh database. Fields drop in order: the service stops before its
/// database is dropped.
pub struct TestApp {
    pub server: Service,
    pub client: Client,
    pub db: MyDb,
}

/// A fresh database and the service on it.
pub async fn spawn_app() -> TestApp {
    TestApp::start().await
}

impl TestApp {
    async fn start() -> Self {
        let db = test_support::db::mysql(&[SCHEMA]).await;
        let server = spawn_on(&db.url).await;
        Self {
            server,
            client: Client::new(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.client.get(&self.url(path)).await
    }

    pub async fn post(&self, path: &str, json: &str) -> Reply {
        self.client.post(&self.url(path), json).await
    }

    pub async fn put(&self, path: &str, json: &str) -> Reply {
        self.client.put(&self.url(path), json).await
    }

    pub async fn patch(&self, path: &str, json: &str) -> Reply {
        self.client.patch(&self.url(path), json).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.client.delete(&self.url(path)).await
    }

    /// Creates a location and returns its id, asserting the 201.
    pub async fn create(&self, name: &str, kind: &str) -> i64 {
        let reply = self
            .post(
                "/api/locations",
                &format!(r#"{{"name":"{name}","type":"{kind}"}}"#),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        id_of(&reply)
    }
}

/// A running service: its HTTP side, which stops it, and where its gRPC side listens.
pub struct Service {
    pub http: Spawned,
    pub grpc: SocketAddr,
}

impl Service {
    /// `http://127.0.0.1:port` + `path` of the HTTP side.
    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    /// The gRPC side's URI, for a tonic channel.
    pub fn grpc_uri(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Sends the stop signal and waits for the service to return, which is its result.
    pub async fn stop(self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.http.stop().await
    }
}

/// Another instance of the service on an existing database, as a second replica.
pub async fn spawn_on(database_url: &str) -> Service {
    spawn_with(database_url, &[]).await
}

/// An instance of the service on `database_url` with `extra` settings, its gRPC side on
/// a loopback port of its own.
pub async fn spawn_with(database_url: &str, extra: &[(&str, &str)]) -> Service {
    let mut pairs = vec![("DATABASE_URL", database_url), ("BIND_ADDR", "127.0.0.1:0")];
    pairs.extend_from_slice(extra);
    let env = Env::from_pairs(pairs);
    let config = Config::from_env(&env).expect("the test configuration is valid");
    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0 for gRPC");
    let grpc = grpc_listener.local_addr().expect("local address");
    let http = test_support::spawn(|listener, shutdown| {
        locations::serve(listener, grpc_listener, config, shutdown)
    })
    .await;
    Service { http, grpc }
}

/// The id at the end of a 201's `Location` header.
pub fn id_of(reply: &Reply) -> i64 {
    let location = reply.header("location");
    location
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no id in Location header '{location}' ({} {})",
                reply.status, reply.body
            )
        })
}

/// Asserts a problem answer: status, content type and the exact body.
pub fn assert_problem(reply: &Reply, status: u16, body: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/problem+json");
    assert_eq!(reply.body, body);
}
