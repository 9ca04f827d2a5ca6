//! OpenTelemetry export over OTLP/HTTP (protobuf): one server span per request, the
//! request duration histogram, and the context that carries a trace into a service's
//! downstream and database calls.
//!
//! Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Off costs nothing: the server then
//! holds no [`Telemetry`], the request path takes one branch on that `Option`, and the
//! span helpers ([`client_span`], [`db_span`]) return `None` after one relaxed load.

mod bridge;
mod config;
mod http_client;
mod span;

use std::{sync::Arc, time::Duration};

use http::{HeaderMap, Method};
use opentelemetry::{
    metrics::{Histogram, Meter, MeterProvider as _},
    propagation::TextMapPropagator,
    trace::{SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _},
    Context, KeyValue,
};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{
    MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
};
use opentelemetry_sdk::{
    metrics::{PeriodicReader, SdkMeterProvider},
    propagation::TraceContextPropagator,
    trace::{BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider},
    Resource,
};

pub use config::{Root, Sampling, TelemetryConfig};
pub use span::{client_span, db_span, Span};

use http_client::HyperClient;

/// Spans waiting for export at most; past it new spans are dropped (and counted by
/// the SDK's batch processor), so a receiver that is down never grows memory.
const MAX_QUEUED_SPANS: usize = 4096;
/// Spans in one export request.
const EXPORT_BATCH: usize = 512;
/// How long spans wait before they are sent, at most.
const EXPORT_DELAY: Duration = Duration::from_secs(1);
/// Bound on one export request, connection included.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bucket bounds of `http.server.request.duration` in seconds, as the HTTP semantic
/// conventions advise.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// A running export: the tracer, the request-duration histogram and the providers
/// whose threads send them. Exists only while telemetry is on.
pub struct Telemetry {
    tracer: SdkTracer,
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    meter: Meter,
    duration: Histogram<f64>,
    propagator: TraceContextPropagator,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Telemetry {
    /// Starts the exporters of `service` on the current Tokio runtime: a batch span
    /// processor and a periodic metric reader, each on a thread of its own, sending
    /// through [`HyperClient`].
    pub fn start(config: &TelemetryConfig, service: &'static str) -> Result<Arc<Self>, String> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "telemetry needs a Tokio runtime".to_owned())?;
        let client = HyperClient::new(runtime, EXPORT_TIMEOUT);
        let name = config
            .service_name
            .clone()
            .unwrap_or_else(|| service.to_owned());
        let resource = Resource::builder_empty()
            .with_service_name(name)
            .with_attributes(
                config
                    .resource
                    .iter()
                    .filter(|(key, _)| key != "service.name")
                    .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
            )
            .build();

        let spans = SpanExporter::builder()
            .with_http()
            .with_http_client(client.clone())
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", config.endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|err| format!("span exporter: {err}"))?;
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(MAX_QUEUED_SPANS)
            .with_max_export_batch_size(EXPORT_BATCH)
            .with_scheduled_delay(EXPORT_DELAY)
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_span_processor(
                BatchSpanProcessor::builder(spans)
                    .with_batch_config(batch)
                    .build(),
            )
            .with_sampler(sampler(config.sampling))
            .with_resource(resource.clone())
            .build();

        let metrics = MetricExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/metrics", config.endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|err| format!("metric exporter: {err}"))?;
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(
                PeriodicReader::builder(metrics)
                    .with_interval(config.metric_interval)
                    .build(),
            )
            .with_resource(resource)
            .build();
        let meter = meter_provider.meter("kit");
        let duration = meter
            .f64_histogram("http.server.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP server requests.")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build();
        span::mark_started();
        Ok(Arc::new(Self {
            tracer: tracer_provider.tracer("kit"),
            tracer_provider,
            meter_provider,
            meter,
            duration,
            propagator: TraceContextPropagator::new(),
        }))
    }

    /// Exports what `render` (the `/q/metrics` text) shows, read at each export.
    pub(crate) fn observe(&self, render: bridge::Render) {
        bridge::observe(&self.meter, render);
    }

    /// The server span of one request, a child of the `traceparent` the client sent
    /// when it sent a valid one. Named and finished by [`ServerSpan::finish`] once the
    /// route is known.
    pub(crate) fn server_span(
        self: &Arc<Self>,
        method: &Method,
        headers: &HeaderMap,
    ) -> ServerSpan {
        let parent = self
            .propagator
            .extract_with_context(&Context::new(), &HeaderExtractor(headers));
        let method = method_name(method);
        let span = self
            .tracer
            .span_builder(method)
            .with_kind(SpanKind::Server)
            .with_attributes([KeyValue::new("http.request.method", method)])
            .start_with_context(&self.tracer, &parent);
        span::count_started();
        let cx = parent
            .with_span(span)
            .with_value(span::Active(self.clone()));
        ServerSpan {
            cx,
            method,
            telemetry: self.clone(),
        }
    }

    /// Sends what is still queued and stops the exporter threads. Runs the blocking
    /// flush on the blocking pool, so that the runtime stays free to carry the last
    /// export requests even with one worker thread.
    pub async fn shutdown(self: Arc<Self>) {
        let flushed = tokio::task::spawn_blocking(move || {
            if let Err(err) = self.tracer_provider.shutdown() {
                log::warn!("telemetry: spans not all sent at shutdown: {err}");
            }
            if let Err(err) = self.meter_provider.shutdown() {
                log::warn!("telemetry: metrics not sent at shutdown: {err}");
            }
        });
        if let Err(err) = flushed.await {
            log::warn!("telemetry: shutdown failed: {err}");
        }
    }
}

/// The span of one request in progress and the context its handler runs in.
pub(crate) struct ServerSpan {
    cx: Context,
    method: &'static str,
    telemetry: Arc<Telemetry>,
}

impl ServerSpan {
    /// The context the request is handled in: the span, and the telemetry that its
    /// downstream and database spans are made by.
    pub(crate) fn context(&self) -> Context {
        self.cx.clone()
    }

    /// Names the span after `route`, records the answer's status and ends it, and
    /// records the request in `http.server.request.duration`.
    pub(crate) fn finish(self, route: &'static str, status: u16, elapsed: Duration) {
        let span = self.cx.span();
        span.update_name(route);
        span.set_attributes([
            KeyValue::new("http.route", route),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ]);
        if status >= 500 {
            span.set_status(Status::error(""));
        }
        span.end();
        self.telemetry.duration.record(
            elapsed.as_secs_f64(),
            &[
                KeyValue::new("http.route", route),
                KeyValue::new("http.request.method", self.method),
                KeyValue::new("http.response.status_code", i64::from(status)),
            ],
        );
    }
}

/// The method as the semantic conventions name it; `_OTHER` for any method not
/// registered, so a client cannot grow the label set.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

fn sampler(sampling: Sampling) -> Sampler {
    let root = |root| match root {
        Root::AlwaysOn => Sampler::AlwaysOn,
        Root::AlwaysOff => Sampler::AlwaysOff,
        Root::Ratio(millionths) => Sampler::TraceIdRatioBased(ratio(millionths)),
    };
    match sampling {
        Sampling::AlwaysOn => Sampler::AlwaysOn,
        Sampling::AlwaysOff => Sampler::AlwaysOff,
        Sampling::Ratio(millionths) => Sampler::TraceIdRatioBased(ratio(millionths)),
        Sampling::ParentBased(inner) => Sampler::ParentBased(Box::new(root(inner))),
    }
}

fn ratio(millionths: u32) -> f64 {
    f64::from(millionths) / 1_000_000.0
}

#[cfg(test)]
mod tests;
