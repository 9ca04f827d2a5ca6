//! The accept loop and the drain at shutdown: every request already received is
//! answered before `serve` returns, up to a deadline.

use std::{
    future::Future,
    sync::Arc,
    task::Poll,
    time::{Duration, Instant},
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};

use crate::{app::App, server::Server, ServerConfig};

/// How long idle connections stay open after the stop signal even when no request is in
/// progress: a request a client sent just before the signal may still be unread in the
/// socket, and closing then would reset it unanswered. Bounded by the shutdown timeout.
const IDLE_LINGER: Duration = Duration::from_millis(250);
/// How often the drain looks whether any request is still in progress: a scan of the
/// connection table paid only while shutting down, instead of a shared counter touched
/// by every request.
const DRAIN_POLL: Duration = Duration::from_millis(10);

/// Serves `app` on `listener` until `shutdown` completes, then drains: stops accepting,
/// lets every request already received finish and be answered, answers one arriving
/// meanwhile on an open connection too, each with `Connection: close`, then closes the
/// idle connections. Returns once every connection task has ended, so that the caller
/// closes its pools and the runtime with nothing left running; past `shutdown_timeout`
/// the connections still open are cut.
pub async fn serve<A: App>(
    listener: TcpListener,
    app: Arc<A>,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let server = Server::new(app, config);
    // Every connection task: the drain waits for them all, and can cut them at the deadline.
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);

    // The loop never waits for room: a client past every bound is answered 503 at
    // once instead of waiting unanswered in the listen backlog.
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    log::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(ended) = tasks.join_next(), if !tasks.is_empty() => {
                report(ended);
                continue;
            }
            () = &mut shutdown => break,
        };
        spawn_connection(&server, &mut tasks, stream);
    }

    // Handshakes the kernel completed before the signal belong to clients that may
    // already have sent a request: they are served like the others, not reset.
    while let Some(Ok((stream, _))) = std::future::poll_fn(|cx| {
        Poll::Ready(match listener.poll_accept(cx) {
            Poll::Ready(accepted) => Some(accepted),
            Poll::Pending => None,
        })
    })
    .await
    {
        spawn_connection(&server, &mut tasks, stream);
    }
    drop(listener);
    server.start_draining();
    log::info!(
        "shutting down: {} connections open, {} with a request in progress",
        server.connections().len(),
        server.connections().busy()
    );
    drain(&server, &mut tasks, config.shutdown_timeout).await;
    if let Some(telemetry) = server.telemetry() {
        telemetry.clone().shutdown().await;
    }
}

fn spawn_connection<A: App>(server: &Arc<Server<A>>, tasks: &mut JoinSet<()>, stream: TcpStream) {
    // Responses are written in one piece; waiting for more to coalesce only adds latency.
    let _ = stream.set_nodelay(true);
    tasks.spawn(server.connection(stream));
}

/// Waits for every connection task to end; once no request is in progress and
/// [`IDLE_LINGER`] has passed, closes the idle connections. At `timeout` cuts what is
/// left.
async fn drain<A: App>(server: &Server<A>, tasks: &mut JoinSet<()>, timeout: Duration) {
    let linger_end = Instant::now() + IDLE_LINGER.min(timeout);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut poll = tokio::time::interval(DRAIN_POLL);
    let mut idle_open = true;
    loop {
        tokio::select! {
            ended = tasks.join_next() => match ended {
                Some(ended) => report(ended),
                None => break,
            },
            _ = poll.tick(), if idle_open => {
                if Instant::now() >= linger_end && server.connections().busy() == 0 {
                    server.close_idle();
                    idle_open = false;
                }
            }
            () = &mut deadline => {
                let (open, busy) = (tasks.len(), server.connections().busy());
                log::warn!(
                    "shutdown deadline of {timeout:?} passed: cutting {open} connections, \
                     {busy} with a request in progress"
                );
                tasks.shutdown().await;
                return;
            }
        }
    }
    log::info!("drained: every request answered, all connections closed");
}

/// Logs a connection task that did not end normally.
fn report(ended: Result<(), tokio::task::JoinError>) {
    if let Err(err) = ended {
        log::error!("connection task failed: {err}");
    }
}
