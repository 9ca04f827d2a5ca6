//! hyper's own answers to requests it cannot parse, turned into problem bodies.
//!
//! When a request head is malformed (400) or does not fit the read buffer (431), hyper
//! answers by itself with an empty body and closes; the service never sees the request.
//! [`ProblemIo`] sits between hyper and the socket and replaces exactly those answers,
//! recognised by their form (a 4xx head with `content-length: 0`, no content type and
//! nothing after it: every answer of the services has a content type or is not 4xx),
//! with the same status and a problem+json body.
//!
//! A head that overflows the buffer before its request line ends is an over-long URI:
//! on a connection's first request that is answered 414. On later requests of a
//! keep-alive connection the start of the head is not known here without parsing
//! what hyper parses, and such a head stays 431.

use std::{
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::Problem;

/// Longest answer hyper writes by itself: a status line, `content-length: 0` and a date.
const LONGEST_AUTOMATIC: usize = 160;

/// A connection's byte stream with hyper's automatic error answers rewritten.
pub(crate) struct ProblemIo<I> {
    inner: I,
    /// A rewritten answer and how much of it has been written.
    pending: Option<(Bytes, usize)>,
    /// No line end has arrived on this connection yet: its first request line is open.
    request_line_open: bool,
}

impl<I> ProblemIo<I> {
    pub(crate) fn new(inner: I) -> Self {
        Self {
            inner,
            pending: None,
            request_line_open: true,
        }
    }
}

impl<I: AsyncWrite + Unpin> ProblemIo<I> {
    /// Writes what is left of a rewritten answer.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
            if *written == bytes.len() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Takes over `buf` when it is one of hyper's automatic answers.
    fn rewrite(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<io::Result<usize>> {
        let mut status = automatic_error(buf)?;
        if status == StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE && self.request_line_open {
            status = StatusCode::URI_TOO_LONG;
        }
        self.pending = Some((answer(status), 0));
        // The bytes are accepted now; what the socket does not take yet, flush writes.
        match self.drive(cx) {
            Poll::Ready(Err(err)) => Some(Err(err)),
            _ => Some(Ok(buf.len())),
        }
    }
}

/// The status of `buf` if it is an answer hyper wrote by itself.
fn automatic_error(buf: &[u8]) -> Option<StatusCode> {
    if buf.len() > LONGEST_AUTOMATIC
        || !buf.starts_with(b"HTTP/1.1 4")
        || !buf.ends_with(b"\r\n\r\n")
    {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?;
    let lower = head.to_ascii_lowercase();
    if !lower.contains("\r\ncontent-length: 0\r\n") || lower.contains("content-type") {
        return None;
    }
    let status = StatusCode::from_bytes(buf.get(9..12)?).ok()?;
    [
        StatusCode::BAD_REQUEST,
        StatusCode::URI_TOO_LONG,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    ]
    .contains(&status)
    .then_some(status)
}

/// The whole answer for `status`, with a problem body, closing the connection.
fn answer(status: StatusCode) -> Bytes {
    let detail = match status {
        StatusCode::URI_TOO_LONG => "The request URI is too long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "The request head is too large or has too many header fields"
        }
        _ => "The request is not valid HTTP/1.1",
    };
    let body = crate::json::to_bytes(&Problem::new(status, detail).body(), 128);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Bytes::from(out)
}

impl<I: AsyncRead + Unpin> AsyncRead for ProblemIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if this.request_line_open && buf.filled()[before..].contains(&b'\n') {
            this.request_line_open = false;
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ProblemIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drive(cx))?;
        if let Some(result) = this.rewrite(cx, buf) {
            return Poll::Ready(result);
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drive(cx))?;
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next()) {
            if let Some(result) = this.rewrite(cx, only) {
                return Poll::Ready(result);
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_hypers_own_answers() {
        let automatic = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n";
        assert_eq!(
            automatic_error(automatic),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let bad = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_error(bad), Some(StatusCode::BAD_REQUEST));
        for ours in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
        ] {
            assert_eq!(automatic_error(ours), None, "{}", String::from_utf8_lossy(ours));
        }
    }

    #[test]
    fn the_answer_carries_a_problem_body() {
        let answer = answer(StatusCode::URI_TOO_LONG);
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
        assert!(
            text.ends_with(r#""status":414,"detail":"The request URI is too long"}"#),
            "{text}"
        );
    }
}
