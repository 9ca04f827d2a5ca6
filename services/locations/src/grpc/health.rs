//! The standard gRPC health service (`grpc.health.v1.Health`): SERVING while the
//! database answers, as `/q/health/ready` is UP, for gRPC probes and load balancers.

use std::{pin::Pin, sync::Arc, time::Duration};

use futures_util::Stream;
use kit::health::Cached;
use tonic::{Request, Response, Status};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_server::Health, HealthCheckRequest,
    HealthCheckResponse,
};

use super::proto::locations_server::SERVICE_NAME;
use crate::Locations;

/// How long the database may take to answer before the service counts as not serving.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a result is reused: however many probes ask, the database is asked at most
/// once per interval; also how often an open `Watch` looks again.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The health of the whole server (service name `""`) and of the `Locations` service,
/// which are the same: both need the database.
pub struct Readiness {
    app: Arc<Locations>,
    last: Arc<Cached<ServingStatus>>,
}

impl Readiness {
    pub fn new(app: Arc<Locations>) -> Self {
        Self {
            app,
            last: Arc::new(Cached::new(CHECK_EVERY)),
        }
    }

    /// The status of `service`, or `None` for a service this server does not serve.
    async fn status(
        app: &Locations,
        last: &Cached<ServingStatus>,
        service: &str,
    ) -> Option<ServingStatus> {
        if !service.is_empty() && service != SERVICE_NAME {
            return None;
        }
        let status = last
            .get(|| async {
                match tokio::time::timeout(CHECK_TIMEOUT, app.store.ping()).await {
                    Ok(Ok(())) => ServingStatus::Serving,
                    Ok(Err(err)) => {
                        log::debug!("gRPC health: database not answering: {err:?}");
                        ServingStatus::NotServing
                    }
                    Err(_) => ServingStatus::NotServing,
                }
            })
            .await;
        Some(status)
    }
}

fn answer(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status.into(),
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for Readiness {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = &request.get_ref().service;
        match Self::status(&self.app, &self.last, service).await {
            Some(status) => Ok(Response::new(answer(status))),
            None => Err(Status::not_found(format!("unknown service '{service}'"))),
        }
    }

    type WatchStream = WatchStream;

    /// The status at once, then each change, looked for once per [`CHECK_EVERY`] only
    /// while the watch is open: a server nobody watches runs no timer.
    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let service = request.into_inner().service;
        let state = (self.app.clone(), self.last.clone(), service, None);
        let changes =
            futures_util::stream::unfold(state, |(app, last, service, sent)| async move {
                loop {
                    if sent.is_some() {
                        tokio::time::sleep(CHECK_EVERY).await;
                    }
                    let status = Self::status(&app, &last, &service)
                        .await
                        .unwrap_or(ServingStatus::ServiceUnknown);
                    if sent != Some(status) {
                        return Some((Ok(answer(status)), (app, last, service, Some(status))));
                    }
                }
            });
        Ok(Response::new(Box::pin(changes)))
    }
}
