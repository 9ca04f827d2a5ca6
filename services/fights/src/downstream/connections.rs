//! Keep-alive HTTP/1 connections to the downstreams, kept per address and reused
//! last-in-first-out.
//!
//! A connection goes back to the pool as soon as its response body has been read, and a
//! request waits for that connection to be ready instead of opening another: a pool that
//! opens a connection whenever a request arrives before a just-used one is handed back
//! (as hyper-util's pooling client does) keeps growing under load, and connect, accept
//! and handshake become a large part of fights' CPU (`bench/README.md` has the figures).
//!
//! A kept connection can be closed by the server just as a request goes out on it (the
//! catalogues close keep-alive connections idle for their header-read timeout). Such a
//! request is sent again at once on a new connection: the downstream is fine, only the
//! connection was stale, so neither the retry pause nor the circuit should see it.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{header::HOST, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why an exchange produced no response.
#[derive(Debug)]
pub enum ExchangeError {
    /// No connection, or it broke before the response was complete.
    Connect,
    /// The response body was larger than allowed.
    TooLarge,
}

struct Idle {
    sender: SendRequest<Empty<Bytes>>,
    since: Instant,
}

/// The idle connections of one downstream, by `host:port`.
pub struct Connections {
    idle: Mutex<HashMap<String, Vec<Idle>>>,
    /// Idle connections kept per address; more are closed.
    max_idle: usize,
    /// A connection idle for longer is closed rather than reused.
    idle_timeout: Duration,
    /// Bound on opening a connection. A vanished address often answers nothing at all
    /// (no reset), and a call waiting out its whole timeout on it would end in a
    /// fallback; past this bound it is a connection error, retried on another address.
    connect_timeout: Duration,
    /// Requests sent again on a new connection because a kept one failed before its
    /// answer.
    reconnects: AtomicU64,
}

impl Connections {
    pub fn new(max_idle: usize, idle_timeout: Duration, connect_timeout: Duration) -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
            max_idle,
            idle_timeout,
            connect_timeout,
            reconnects: AtomicU64::new(0),
        }
    }

    /// Requests sent again at once on a new connection so far.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Relaxed)
    }

    /// Sends `req` (an absolute URI) to the address in its URI and reads the whole
    /// response, up to `max_body` bytes. The request goes out in origin form with a
    /// `Host` header, as HTTP/1.1 servers expect.
    pub async fn exchange(
        &self,
        req: Request<Empty<Bytes>>,
        max_body: usize,
    ) -> Result<(StatusCode, Bytes), ExchangeError> {
        let (mut parts, body) = req.into_parts();
        let authority = parts
            .uri
            .authority()
            .ok_or(ExchangeError::Connect)?
            .as_str()
            .to_owned();
        if !parts.headers.contains_key(HOST) {
            let host = HeaderValue::from_str(&authority).map_err(|_| ExchangeError::Connect)?;
            parts.headers.insert(HOST, host);
        }
        if let Some(path) = parts.uri.path_and_query() {
            parts.uri = Uri::from(path.clone());
        }
        // What it takes to send the request again: a few reference counts, no copy.
        let (method, uri) = (parts.method.clone(), parts.uri.clone());
        let host = parts.headers.get(HOST).cloned();
        let mut req = Request::from_parts(parts, body);
        let (sender, resp) = loop {
            let Some(mut sender) = self.take(&authority) else {
                break fresh(&authority, req, self.connect_timeout).await?;
            };
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(resp) => break (sender, resp),
                // A connection the server closed while idle hands the request back
                // unsent; it then goes out on the next connection.
                Err(mut err) => match err.take_message() {
                    Some(unsent) => req = unsent,
                    // Sent, but the connection ended before an answer: the server closed
                    // it as the request arrived. Every downstream call is a GET, safe to
                    // send again, and a new connection has no such race.
                    None => {
                        self.reconnects.fetch_add(1, Relaxed);
                        let mut again = Request::new(Empty::new());
                        *again.method_mut() = method;
                        *again.uri_mut() = uri;
                        if let Some(host) = host {
                            again.headers_mut().insert(HOST, host);
                        }
                        break fresh(&authority, again, self.connect_timeout).await?;
                    }
                },
            }
        };
        let status = resp.status();
        let body = Limited::new(resp.into_body(), max_body)
            .collect()
            .await
            .map_err(|err| {
                if err.is::<http_body_util::LengthLimitError>() {
                    ExchangeError::TooLarge
                } else {
                    ExchangeError::Connect
                }
            })?;
        // Ready again once its driver has seen the end of the response; `take` waits.
        self.put(&authority, sender);
        Ok((status, body.to_bytes()))
    }

    fn take(&self, authority: &str) -> Option<SendRequest<Empty<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.get_mut(authority)?;
        while let Some(conn) = list.pop() {
            if !conn.sender.is_closed() && conn.since.elapsed() < self.idle_timeout {
                return Some(conn.sender);
            }
        }
        None
    }

    fn put(&self, authority: &str, sender: SendRequest<Empty<Bytes>>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = match idle.get_mut(authority) {
            Some(list) => list,
            None => idle.entry(authority.to_owned()).or_default(),
        };
        if list.len() < self.max_idle {
            list.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }
}

/// `req` sent on a new connection to `authority`, with the connection and the answer.
async fn fresh(
    authority: &str,
    req: Request<Empty<Bytes>>,
    connect_timeout: Duration,
) -> Result<
    (
        SendRequest<Empty<Bytes>>,
        http::Response<hyper::body::Incoming>,
    ),
    ExchangeError,
> {
    let mut sender = tokio::time::timeout(connect_timeout, connect(authority))
        .await
        .map_err(|_| ExchangeError::Connect)??;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|_| ExchangeError::Connect)?;
    Ok((sender, resp))
}

/// A new connection to `authority`, its driver spawned.
async fn connect(authority: &str) -> Result<SendRequest<Empty<Bytes>>, ExchangeError> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|_| ExchangeError::Connect)?;
    // Requests are written whole; Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ExchangeError::Connect)?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            log::debug!("downstream connection ended: {err}");
        }
    });
    Ok(sender)
}
