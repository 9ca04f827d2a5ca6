//! The process entry point shared by every service binary: logger, config, runtime,
//! bind, serve until SIGTERM/SIGINT, exit code.

use std::{
    error::Error,
    future::Future,
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpStream},
    pin::Pin,
    process::ExitCode,
    time::Duration,
};

use tokio::net::TcpListener;

use crate::{
    config::{ConfigError, Env},
    ServerConfig,
};

/// The future that tells a running service to stop.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How long the runtime waits for its blocking tasks once the service has stopped.
const RUNTIME_CLOSE: Duration = Duration::from_secs(1);

/// A service's whole configuration.
pub trait ServiceConfig {
    fn server(&self) -> &ServerConfig;
}

/// Loads config (exit 2 when invalid, before binding), builds the runtime, binds and
/// serves until a stop signal. `serve` is the service's `run`.
///
/// Run as `<binary> healthcheck`, it instead asks the service configured by the same
/// environment for `/q/health/ready` and exits 0 when it answers 200: container
/// healthchecks then need no curl in the image.
pub fn run<C, F, Fut>(name: &str, load: fn(&Env) -> Result<C, ConfigError>, serve: F) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(TcpListener, C, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn Error + Send + Sync>>>,
{
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let config = match load(&Env::process()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{name}: {err}");
            return ExitCode::from(2);
        }
    };
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck(config.server().bind);
    }
    // One worker means the current-thread scheduler: the accept loop, connections and
    // database drivers then share one thread with no cross-thread wake-ups.
    let threads = config.server().worker_threads;
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{name}: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        let bind = config.server().bind;
        let listener = match TcpListener::bind(bind).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("{name}: cannot listen on {bind}: {err}");
                return ExitCode::FAILURE;
            }
        };
        log::info!("{name} listening on {bind}");
        match serve(listener, config, Box::pin(crate::shutdown::signal())).await {
            Ok(()) => {
                log::info!("{name} stopped");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{name}: {err}");
                ExitCode::FAILURE
            }
        }
    });
    // `serve` has drained and the pools are closed; what may be left is a blocking task
    // (a name lookup, say) that dropping the runtime would wait for without bound.
    runtime.shutdown_timeout(RUNTIME_CLOSE);
    code
}

/// Exit code of `healthcheck`: 0 when `/q/health/ready` answers 200 within 2 s.
fn healthcheck(bind: SocketAddr) -> ExitCode {
    let target = match bind.ip() {
        ip if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], bind.port())),
        _ => bind,
    };
    match ready_status(target) {
        Ok(line) if line.split(' ').nth(1) == Some("200") => ExitCode::SUCCESS,
        Ok(line) => {
            eprintln!("not ready: {line}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("not ready: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The status line of `GET /q/health/ready` at `target`.
fn ready_status(target: SocketAddr) -> std::io::Result<String> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(
        b"GET /q/health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}
