//! Fake heroes, villains and locations services. They stand in for the real catalog and
//! locations services on purpose: the tests need faults the real services cannot be made
//! to produce on demand (answers slower than the timeout, 5xx, 404 for a random pick, a
//! given number of failures before recovery). Each fake serves fixed JSON for its random
//! endpoint and a fixed hello text.

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering::SeqCst},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, task::JoinHandle};

pub const HERO: &str = r#"{"id":1,"name":"Luke Skywalker","otherName":"Luke","level":10,"picture":"https://example.com/luke.png","powers":"Uses light sabre, The force"}"#;
pub const VILLAIN: &str = r#"{"id":2,"name":"Darth Vader","otherName":"Anakin","level":600000001,"picture":"https://example.com/vader.png","powers":"The dark side"}"#;
pub const LOCATION: &str = r#"{"id":3,"name":"Gotham City","description":"A dark city","picture":"https://example.com/gotham.png","type":"CITY"}"#;

/// Which downstream a fake plays.
#[derive(Clone, Copy)]
pub enum Role {
    Heroes,
    Villains,
    Locations,
}

impl Role {
    fn random_path(self) -> &'static str {
        match self {
            Role::Heroes => "/api/heroes/random_hero",
            Role::Villains => "/api/villains/random_villain",
            Role::Locations => "/api/locations/random_location",
        }
    }

    fn hello_path(self) -> &'static str {
        match self {
            Role::Heroes => "/api/heroes/hello",
            Role::Villains => "/api/villains/hello",
            Role::Locations => "/api/locations/hello",
        }
    }

    fn body(self) -> &'static str {
        match self {
            Role::Heroes => HERO,
            Role::Villains => VILLAIN,
            Role::Locations => LOCATION,
        }
    }

    fn hello(self) -> &'static str {
        match self {
            Role::Heroes => "Hello Hero Resource",
            Role::Villains => "Hello Villain Resource",
            Role::Locations => "Hello Location Resource",
        }
    }
}

/// How a fake currently misbehaves.
#[derive(Default)]
struct Faults {
    /// When non-zero, every answer has this status and an empty body.
    status: AtomicU16,
    /// This many next requests get a 500 before answers are normal again.
    fail_next: AtomicU32,
    /// Delay before every answer.
    delay_ms: AtomicU64,
    /// When set, the random entity is a hero far larger than any catalogue row.
    oversized: AtomicBool,
    /// Requests received.
    hits: AtomicU64,
    /// Requests received for the random entity.
    random_hits: AtomicU64,
}

/// A fake downstream service on a loopback port.
pub struct Fake {
    pub url: String,
    faults: Arc<Faults>,
    task: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub async fn start(role: Role) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let faults = Arc::new(Faults::default());
        let state = faults.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(role, &state, req.uri().path()).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, faults, task }
    }

    /// Every answer from now on has `status` (0 restores normal answers).
    pub fn answer_with(&self, status: u16) {
        self.faults.status.store(status, SeqCst);
    }

    /// The next `n` requests get a 500.
    pub fn fail_next(&self, n: u32) {
        self.faults.fail_next.store(n, SeqCst);
    }

    /// From now on the random entity is a valid hero of 100 KiB.
    pub fn answer_oversized(&self) {
        self.faults.oversized.store(true, SeqCst);
    }

    pub fn delay(&self, delay: Duration) {
        self.faults.delay_ms.store(delay.as_millis() as u64, SeqCst);
    }

    pub fn hits(&self) -> u64 {
        self.faults.hits.load(SeqCst)
    }

    /// Requests received for the random entity (the warm-up calls hello).
    pub fn random_hits(&self) -> u64 {
        self.faults.random_hits.load(SeqCst)
    }
}

async fn answer(role: Role, faults: &Faults, path: &str) -> Response<Full<Bytes>> {
    faults.hits.fetch_add(1, SeqCst);
    if path == role.random_path() {
        faults.random_hits.fetch_add(1, SeqCst);
    }
    let delay = faults.delay_ms.load(SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = faults.status.load(SeqCst);
    let failing = faults
        .fail_next
        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let (status, body, content_type) = if failing {
        (500, Bytes::new(), "text/plain")
    } else if status != 0 {
        (status, Bytes::new(), "text/plain")
    } else if path == role.random_path() && faults.oversized.load(SeqCst) {
        let hero = format!(
            r#"{{"name":"Big Hero","level":1,"picture":"p.png","powers":"{}"}}"#,
            "p".repeat(100 * 1024)
        );
        (200, Bytes::from(hero), "application/json")
    } else if path == role.random_path() {
        (
            200,
            Bytes::from_static(role.body().as_bytes()),
            "application/json",
        )
    } else if path == role.hello_path() {
        (
            200,
            Bytes::from_static(role.hello().as_bytes()),
            "text/plain",
        )
    } else {
        (404, Bytes::new(), "text/plain")
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", content_type)
        .body(Full::new(body))
        .unwrap()
}

/// A URL where nothing listens: a downstream that is stopped.
pub async fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Where the fights service under test finds its downstreams.
pub struct Downstreams {
    pub heroes: String,
    pub villains: String,
    pub locations: String,
}

/// The three fakes, all answering normally.
pub struct Fakes {
    pub heroes: Fake,
    pub villains: Fake,
    pub locations: Fake,
}

impl Fakes {
    pub async fn start() -> Self {
        Self {
            heroes: Fake::start(Role::Heroes).await,
            villains: Fake::start(Role::Villains).await,
            locations: Fake::start(Role::Locations).await,
        }
    }

    pub fn urls(&self) -> Downstreams {
        Downstreams {
            heroes: self.heroes.url.clone(),
            villains: self.villains.url.clone(),
            locations: self.locations.url.clone(),
        }
    }
}
