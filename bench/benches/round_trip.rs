//! A request's whole path through a service without the network: HTTP/1 parsing,
//! kit routing, in-flight bound and metrics, the catalogue's routing and handler,
//! response encoding, over an in-memory pipe instead of a socket.
//!
//! What is left out is the kernel's part (loopback TCP, epoll, wake-ups), which the
//! load harness measures with the rest (`make load`). The handlers benched here need no
//! database: those that do are bound by the database round trip, which the harness
//! measures too.

use std::{sync::Arc, time::Instant};

use catalog::{Catalog, Config, HEROES};
use criterion::{criterion_group, criterion_main, Criterion};
use kit::{config::Env, server::Server};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, DuplexStream},
    runtime::Runtime,
};

/// The client end of an in-memory connection to one heroes service.
struct Pipe {
    client: DuplexStream,
    buffer: Vec<u8>,
}

impl Pipe {
    /// A heroes service on the current-thread runtime the services run on, with one
    /// connection to it that carries every iteration (no keep-alive request limit).
    fn open(runtime: &Runtime) -> Pipe {
        let unlimited = u64::MAX.to_string();
        let env = Env::from_pairs([("HTTP_KEEP_ALIVE_MAX_REQUESTS", unlimited.as_str())]);
        let config =
            Config::from_env(HEROES, &env).unwrap_or_else(|err| panic!("heroes config: {err}"));
        let app = Catalog::new(&config).unwrap_or_else(|err| panic!("heroes: {err}"));
        let server = Server::new(Arc::new(app), &config.server);
        let (client, served) = tokio::io::duplex(64 * 1024);
        runtime.spawn(server.connection(served));
        Pipe {
            client,
            buffer: Vec::with_capacity(4096),
        }
    }

    /// Sends `request` and reads the whole response; returns its status.
    async fn exchange(&mut self, request: &[u8]) -> u16 {
        self.client
            .write_all(request)
            .await
            .unwrap_or_else(|err| panic!("write: {err}"));
        self.buffer.clear();
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut response = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(head)) = response.parse(&self.buffer) {
                let length = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                    .unwrap_or_else(|| panic!("response without content-length"));
                if self.buffer.len() >= head + length {
                    return response.code.unwrap_or_default();
                }
            }
            let read = self
                .client
                .read_buf(&mut self.buffer)
                .await
                .unwrap_or_else(|err| panic!("read: {err}"));
            assert!(read > 0, "the service closed the connection");
        }
    }
}

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("runtime: {err}"));
    let mut pipe = Pipe::open(&runtime);
    let mut group = c.benchmark_group("round_trip");
    for (name, request, status) in [
        (
            "kit_live",
            &b"GET /q/health/live HTTP/1.1\r\nhost: heroes\r\n\r\n"[..],
            200,
        ),
        (
            "heroes_hello",
            b"GET /api/heroes/hello HTTP/1.1\r\nhost: heroes\r\n\r\n",
            200,
        ),
        (
            "heroes_bad_id",
            b"GET /api/heroes/not-a-number HTTP/1.1\r\nhost: heroes\r\n\r\n",
            400,
        ),
    ] {
        assert_eq!(runtime.block_on(pipe.exchange(request)), status, "{name}");
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        pipe.exchange(request).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
