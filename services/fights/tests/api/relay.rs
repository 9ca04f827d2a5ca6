//! A TCP relay in front of the MongoDB server that can freeze or delay what passes.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering::SeqCst},
        Arc,
    },
    time::Duration,
};

use tokio::{net::TcpListener, task::JoinHandle};

/// A TCP relay to a real server that can stop relaying or delay what reaches the server:
/// stands in for a MongoDB that took the connection and then went silent (hung, or cut
/// off by the network) or answers slowly, which the shared real server cannot be made to
/// do without breaking every other test.
pub struct Relay {
    pub url: String,
    frozen: Arc<AtomicBool>,
    request_delay_ms: Arc<AtomicU64>,
    /// Bytes relayed from the server to the client.
    replied: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Relays a port of its own to the host and port of `mongodb_url`.
    pub async fn to_mongodb(mongodb_url: &str) -> Self {
        let authority = mongodb_url
            .trim_start_matches("mongodb://")
            .split(['/', '?'])
            .next()
            .unwrap();
        let upstream = authority.rsplit('@').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "mongodb://{}/?directConnection=true",
            listener.local_addr().unwrap()
        );
        let frozen = Arc::new(AtomicBool::new(false));
        let request_delay_ms = Arc::new(AtomicU64::new(0));
        let replied = Arc::new(AtomicU64::new(0));
        let (flag, delay, count) = (frozen.clone(), request_delay_ms.clone(), replied.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let requests = Direction {
                    frozen: flag.clone(),
                    delay_ms: delay.clone(),
                    bytes: Arc::new(AtomicU64::new(0)),
                };
                let replies = Direction {
                    frozen: flag.clone(),
                    delay_ms: Arc::new(AtomicU64::new(0)),
                    bytes: count.clone(),
                };
                tokio::spawn(relay(client_read, server_write, requests));
                tokio::spawn(relay(server_read, client_write, replies));
            }
        });
        Self {
            url,
            frozen,
            request_delay_ms,
            replied,
            accept,
        }
    }

    /// From now on nothing more reaches either side; connections stay open.
    pub fn freeze(&self) {
        self.frozen.store(true, SeqCst);
    }

    /// Bytes the server sent through the relay so far.
    pub fn replied_bytes(&self) -> u64 {
        self.replied.load(SeqCst)
    }

    /// From now on every command reaches the server `delay` late.
    pub fn delay_requests(&self, delay: Duration) {
        self.request_delay_ms
            .store(delay.as_millis() as u64, SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// What a relay does to one direction of a connection.
struct Direction {
    frozen: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

/// Relays `from` to `to`: a reader hands each chunk over with the time it arrived, and
/// the writer sends it the configured delay after that, so that a command read in several
/// chunks is delayed once.
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx
                        .send((tokio::time::Instant::now(), buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    while let Some((arrived, chunk)) = rx.recv().await {
        let delay = Duration::from_millis(direction.delay_ms.load(SeqCst));
        tokio::time::sleep_until(arrived + delay).await;
        while direction.frozen.load(SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&chunk).await.is_err() {
            break;
        }
        direction.bytes.fetch_add(chunk.len() as u64, SeqCst);
    }
    reader.abort();
}
