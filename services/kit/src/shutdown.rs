//! The process's stop signal: SIGTERM or SIGINT.

/// Completes on the first SIGTERM or SIGINT. If the handlers cannot be installed the
/// service cannot be stopped gracefully, which is worth saying but not worth refusing
/// to serve over: the future then only completes on Ctrl-C.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                return;
            }
            (Err(err), _) | (_, Err(err)) => {
                log::warn!("cannot install signal handlers: {err}");
            }
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
