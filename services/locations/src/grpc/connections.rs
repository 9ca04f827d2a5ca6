//! The bound on gRPC connections open at once: each accepted connection holds a place
//! until it closes, and a client arriving when every place is taken is closed at once,
//! so that a flood of connections costs bounded sockets and memory, as on the HTTP side.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::Stream;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How long accepting waits after a failure (usually out of file descriptors), so that a
/// failure that lasts does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A connection and its place among the open ones, given back when it is dropped.
pub struct Bounded {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
}

/// The connections accepted on `listener`, at most `max_open` open at once, with Nagle's
/// algorithm off (answers are written whole).
pub fn incoming(listener: TcpListener, max_open: usize) -> impl Stream<Item = io::Result<Bounded>> {
    let places = Arc::new(Semaphore::new(max_open));
    futures_util::stream::unfold((listener, places), move |(listener, places)| async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let Ok(place) = places.clone().try_acquire_owned() else {
                        log::debug!("gRPC connection refused: {max_open} open");
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let bounded = Bounded {
                        stream,
                        _place: place,
                    };
                    return Some((Ok(bounded), (listener, places)));
                }
                Err(err) => {
                    log::warn!("gRPC accept failed: {err}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    })
}

impl Connected for Bounded {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Bounded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Bounded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
