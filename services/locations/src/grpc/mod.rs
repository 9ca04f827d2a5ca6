//! The original system's `Locations` gRPC service (`proto/locations.proto`), served on
//! its own port beside the HTTP API, on the same runtime and over the same state: the
//! server with its bounds, health and reflection, and the drain at shutdown.

mod connections;
mod health;
mod metrics;
mod service;

use std::{future::Future, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tonic::transport::server::Router;

pub use metrics::RpcMetrics;

use crate::{config::GrpcConfig, Locations};

/// The code generated from `proto/locations.proto` by `build.rs`.
#[allow(clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("io.quarkus.sample.superheroes.location.v1");
}

/// The encoded descriptors of `proto/locations.proto`, which reflection answers with.
const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/locations_descriptor.bin"));

/// The largest request head: the same bound as the HTTP side's header buffer.
const MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;

/// The gRPC server: `Locations`, health and reflection (v1 and v1alpha, as clients ask
/// for either), each connection held to `config`'s bounds.
pub fn router(
    app: &Arc<Locations>,
    config: &GrpcConfig,
) -> Result<Router, tonic_reflection::server::Error> {
    let locations = proto::locations_server::LocationsServer::new(service::LocationsRpc::new(
        app.clone(),
        config.max_response_bytes,
    ))
    .max_decoding_message_size(config.max_request_bytes)
    .max_encoding_message_size(config.max_response_bytes);
    let health =
        tonic_health::pb::health_server::HealthServer::new(health::Readiness::new(app.clone()))
            .max_decoding_message_size(config.max_request_bytes);
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(DESCRIPTOR)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Ok(tonic::transport::Server::builder()
        .concurrency_limit_per_connection(config.max_in_flight_per_connection)
        .max_concurrent_streams(config.max_streams)
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        .http2_keepalive_interval(Some(config.keepalive_interval))
        .http2_keepalive_timeout(Some(config.keepalive_timeout))
        .timeout(config.request_timeout)
        .add_service(locations)
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?))
}

/// Serves `router` on `listener` until `stop` completes, then drains: stops accepting,
/// tells every connection to finish (HTTP/2 GOAWAY), lets the calls in progress answer,
/// and returns once every connection has closed or `shutdown_timeout` after `stop`,
/// whichever comes first: connections still open then end with the runtime.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    max_connections: usize,
    stop: impl Future<Output = ()> + Send,
    shutdown_timeout: Duration,
) {
    let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        stop.await;
        let _ = draining.send(());
    };
    let serving = router
        .serve_with_incoming_shutdown(connections::incoming(listener, max_connections), signal);
    tokio::pin!(serving);
    let deadline = async {
        if drain_started.await.is_ok() {
            tokio::time::sleep(shutdown_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = &mut serving => match served {
            Ok(()) => log::info!("gRPC drained: every call answered, all connections closed"),
            Err(err) => log::error!("gRPC server failed: {err}"),
        },
        () = deadline => {
            log::warn!(
                "gRPC shutdown deadline of {shutdown_timeout:?} passed with connections open"
            );
        }
    }
}
