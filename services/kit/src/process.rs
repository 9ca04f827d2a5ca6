//! The process entry point shared by every service binary: logger, config, runtime,
//! bind, serve until SIGTERM/SIGINT, exit code.

use std::{error::Error, future::Future, pin::Pin, process::ExitCode};

use tokio::net::TcpListener;

use crate::{
    config::{ConfigError, Env},
    ServerConfig,
};

/// The future that tells a running service to stop.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A service's whole configuration.
pub trait ServiceConfig {
    fn server(&self) -> &ServerConfig;
}

/// Loads config (exit 2 when invalid, before binding), builds the runtime, binds and
/// serves until a stop signal. `serve` is the service's `run`.
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.server().worker_threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{name}: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
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
    })
}
