//! A minimal HTTP/1 client for asserting on status, headers and body.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client as HyperClient},
    rt::TokioExecutor,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> simd_json::OwnedValue {
        let mut bytes = self.body.clone().into_bytes();
        simd_json::to_owned_value(&mut bytes)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", self.body))
    }

    /// A header as text, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, Full<Bytes>>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    pub fn new() -> Self {
        Self {
            inner: HyperClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn get(&self, url: &str) -> Reply {
        self.send(Method::GET, url, None).await
    }

    pub async fn delete(&self, url: &str) -> Reply {
        self.send(Method::DELETE, url, None).await
    }

    pub async fn post(&self, url: &str, json: &str) -> Reply {
        self.send(Method::POST, url, Some(json)).await
    }

    pub async fn put(&self, url: &str, json: &str) -> Reply {
        self.send(Method::PUT, url, Some(json)).await
    }

    pub async fn patch(&self, url: &str, json: &str) -> Reply {
        self.send(Method::PATCH, url, Some(json)).await
    }

    /// Sends one request; a JSON body gets `Content-Type: application/json`.
    pub async fn send(&self, method: Method, url: &str, json: Option<&str>) -> Reply {
        self.send_with(method, url, json, &[]).await
    }

    /// As [`Client::send`], with `headers` added to the request.
    pub async fn send_with(
        &self,
        method: Method,
        url: &str,
        json: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(url);
        for &(name, value) in headers {
            req = req.header(name, value);
        }
        if json.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = Full::new(Bytes::from(json.unwrap_or_default().to_owned()));
        self.send_request(req.body(body).expect("valid request"))
            .await
    }

    pub async fn send_request(&self, req: Request<Full<Bytes>>) -> Reply {
        let resp = self.inner.request(req).await.expect("request failed");
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("body read").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        }
    }
}

/// A client that sends `GET path` to `addr`, reads the head of the answer and then
/// stops reading: a streamed listing stays running for it until the connection is
/// dropped. Returns the connection and the head.
pub async fn stalled_get(addr: std::net::SocketAddr, path: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the head");
        head.extend_from_slice(&buf[..n]);
    }
    (stream, String::from_utf8_lossy(&head).into_owned())
}

/// One client connection kept alive between requests, sent one at a time: for what a
/// server does with a connection it already holds, which a pooling client hides.
pub struct KeepAlive {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    connection: tokio::task::JoinHandle<()>,
}

impl KeepAlive {
    pub async fn open(addr: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {addr}: {err}"));
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("HTTP/1 handshake");
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        Self { sender, connection }
    }

    /// `GET path` on this connection; an error when the server closed it without an
    /// answer.
    pub async fn get(&mut self, path: &str) -> Result<Reply, hyper::Error> {
        let req = Request::get(path)
            .header("host", "test")
            .body(Full::new(Bytes::new()))
            .expect("valid request");
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        })
    }

    /// Whether the connection has ended (the server closed it) within `limit`.
    pub async fn closed_within(&mut self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, &mut self.connection)
            .await
            .is_ok()
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.connection.abort();
    }
}
