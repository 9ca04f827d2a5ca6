//! Starts a service's `run` on a fresh loopback port, as its binary would.

use std::{error::Error, future::Future, net::SocketAddr};

use kit::process::Shutdown;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

type RunResult = Result<(), Box<dyn Error + Send + Sync>>;

/// A running service; dropping it aborts the service.
pub struct Spawned {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<RunResult>>,
}

impl Spawned {
    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends the stop signal and waits for `run` to return, which is its result.
    pub async fn stop(mut self) -> RunResult {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .take()
            .expect("stop is called once")
            .await
            .expect("service task panicked")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Binds `127.0.0.1:0` and runs `run(listener, shutdown)` in the background.
pub async fn spawn<F, Fut>(run: F) -> Spawned
where
    F: FnOnce(TcpListener, Shutdown) -> Fut,
    Fut: Future<Output = RunResult> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown: Shutdown = Box::pin(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(run(listener, shutdown));
    Spawned {
        addr,
        stop: Some(stop),
        task: Some(task),
    }
}
