//! The open connections of one server and the bounds on them, handled as nginx does:
//! when the connection bound is reached, the connection idle the longest is closed to
//! make room; only when every connection is in the middle of a request is a new client
//! refused, with a fast 503 rather than silence in the listen backlog.
//!
//! A keep-alive connection is also bounded in the requests it carries and in its age,
//! so that no client holds one for ever and load spreads again across replicas.
//!
//! A client past the bound is answered 503 at once ([`Refusals`]), itself bounded: past
//! [`MAX_REFUSING`] refusals being written a further client is closed without an answer,
//! so that a flood costs bounded sockets.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::StatusCode;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    sync::{Notify, Semaphore},
};

use crate::Problem;

/// Clients past the connection bound being answered 503 at once.
const MAX_REFUSING: usize = 64;
/// How long a refused client has to read its 503 before the socket is closed.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// Bounds of every connection of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_open: usize,
    /// Requests one keep-alive connection carries; the last is answered with
    /// `Connection: close`.
    pub max_requests: u64,
    /// Age after which a keep-alive connection is closed after its current request.
    pub max_age: Duration,
}

/// One open connection, shared by its task (which serves it) and the table (which may
/// ask it to close).
#[derive(Debug)]
pub struct Connection {
    id: u64,
    opened: Instant,
    /// Requests of this connection being handled or answered; 0 means idle.
    busy: AtomicUsize,
    /// Requests started on this connection.
    requests: AtomicU64,
    /// When its last request started, in microseconds since the table was made: the
    /// connection idle the longest is the one whose last request started first.
    last_request_us: AtomicU64,
    close: Notify,
}

impl Connection {
    /// Resolves once the table asks this connection to close to make room.
    pub async fn close_requested(&self) {
        self.close.notified().await;
    }
}

/// Whether a new client gets a connection.
pub enum Admission {
    Admitted(Arc<Connection>),
    /// Every connection is busy with a request: answer 503 and close.
    Full,
}

/// The open connections of one server.
#[derive(Debug)]
pub struct Connections {
    limits: ConnectionLimits,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::with_capacity(limits.max_open.min(4096))),
        }
    }

    /// Admits a new connection, closing the one idle the longest when the bound is
    /// reached. The closed connection leaves the table at once: its task finishes
    /// within microseconds, as hyper closes an idle connection on the spot.
    pub fn admit(&self) -> Admission {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() >= self.limits.max_open {
            let idlest = open
                .values()
                .filter(|c| c.busy.load(Relaxed) == 0)
                .min_by_key(|c| c.last_request_us.load(Relaxed))
                .map(|c| c.id);
            let Some(evicted) = idlest.and_then(|id| open.remove(&id)) else {
                return Admission::Full;
            };
            evicted.close.notify_one();
        }
        let opened = Instant::now();
        let connection = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Relaxed),
            opened,
            busy: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            last_request_us: AtomicU64::new(self.micros(opened)),
            close: Notify::new(),
        });
        open.insert(connection.id, connection.clone());
        Admission::Admitted(connection)
    }

    /// Forgets a connection whose task has ended.
    pub fn remove(&self, connection: &Connection) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.remove(&connection.id);
    }

    /// Marks the start of a request on `connection`; the returned guard marks it idle
    /// again once the response has been written. Tells whether this must be the
    /// connection's last request.
    pub fn start_request(&self, connection: &Arc<Connection>, now: Instant) -> (Busy, bool) {
        connection.busy.fetch_add(1, Relaxed);
        connection.last_request_us.store(self.micros(now), Relaxed);
        let served = connection.requests.fetch_add(1, Relaxed) + 1;
        let last = served >= self.limits.max_requests
            || now.duration_since(connection.opened) >= self.limits.max_age;
        (Busy(connection.clone()), last)
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Connections with a request being handled or its answer being written.
    pub fn busy(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|c| c.busy.load(Relaxed) > 0)
            .count()
    }

    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }
}

/// A request in progress on a connection; dropped when its response is written.
#[derive(Debug)]
pub struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Relaxed);
    }
}

/// Answers clients past the connection bound: a 503 encoded once, written by at most
/// [`MAX_REFUSING`] tasks at a time.
#[derive(Debug)]
pub struct Refusals {
    permits: Semaphore,
    answer: Bytes,
}

impl Default for Refusals {
    fn default() -> Self {
        Self::new()
    }
}

impl Refusals {
    pub fn new() -> Self {
        Self {
            permits: Semaphore::new(MAX_REFUSING),
            answer: refusal(),
        }
    }

    /// Answers 503 and closes. The answer is written without waiting for the request,
    /// then the client's bytes are read until it closes (at most [`REFUSAL_TIME`]) so
    /// that closing with unread data does not reset the connection before the client
    /// has read the answer.
    pub async fn refuse<I>(&self, mut io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let Ok(_permit) = self.permits.try_acquire() else {
            return;
        };
        let answer = async {
            io.write_all(&self.answer).await?;
            io.shutdown().await?;
            let mut sink = [0u8; 1024];
            while io.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_TIME, answer).await;
    }
}

/// The answer to a client past the connection bound, as bytes on the wire.
fn refusal() -> Bytes {
    let problem = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Too many connections, try again shortly",
    );
    let body = crate::json::to_bytes(&problem.body(), 128);
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(max_open: usize) -> Connections {
        Connections::new(ConnectionLimits {
            max_open,
            max_requests: 3,
            max_age: Duration::from_secs(60),
        })
    }

    fn admitted(admission: Admission) -> Arc<Connection> {
        match admission {
            Admission::Admitted(connection) => connection,
            Admission::Full => panic!("refused while a connection was idle"),
        }
    }

    fn is_open(connections: &Connections, connection: &Connection) -> bool {
        let open = connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.contains_key(&connection.id)
    }

    #[test]
    fn the_connection_idle_the_longest_makes_room() {
        let connections = table(3);
        let a = admitted(connections.admit());
        let b = admitted(connections.admit());
        let c = admitted(connections.admit());
        let later = Instant::now() + Duration::from_secs(1);
        drop(connections.start_request(&a, later + Duration::from_millis(3)));
        drop(connections.start_request(&b, later + Duration::from_millis(1)));
        drop(connections.start_request(&c, later + Duration::from_millis(2)));
        let d = admitted(connections.admit());
        assert!(!is_open(&connections, &b), "b was idle the longest");
        assert_eq!(connections.len(), 3);
        // A connection that never sent a request has been idle since it opened.
        let e = admitted(connections.admit());
        assert!(!is_open(&connections, &d));
        assert!(
            is_open(&connections, &a) && is_open(&connections, &c) && is_open(&connections, &e)
        );
    }

    #[test]
    fn busy_connections_are_never_closed_and_a_full_table_refuses() {
        let connections = table(2);
        let a = admitted(connections.admit());
        let b = admitted(connections.admit());
        let now = Instant::now();
        let (_busy_a, _) = connections.start_request(&a, now);
        let (busy_b, _) = connections.start_request(&b, now);
        assert!(matches!(connections.admit(), Admission::Full));
        assert_eq!(connections.busy(), 2);
        drop(busy_b);
        assert_eq!(connections.busy(), 1);
        let c = admitted(connections.admit());
        assert!(!is_open(&connections, &b));
        let (_busy_c, _) = connections.start_request(&c, now);
        assert!(matches!(connections.admit(), Admission::Full));
        connections.remove(&c);
        assert_eq!(connections.len(), 1);
    }

    #[test]
    fn a_connection_ends_after_its_request_or_age_bound() {
        let connections = table(4);
        let a = admitted(connections.admit());
        let now = Instant::now();
        let lasts: Vec<bool> = (0..3)
            .map(|_| connections.start_request(&a, now).1)
            .collect();
        assert_eq!(lasts, vec![false, false, true]);
        let b = admitted(connections.admit());
        assert!(
            connections
                .start_request(&b, now + Duration::from_secs(61))
                .1
        );
    }
}
