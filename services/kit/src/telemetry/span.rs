//! Spans made inside a request: calls to other services and to databases, children of
//! the request's server span through the context the kit runs the handler in.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use http::HeaderMap;
use opentelemetry::{
    propagation::TextMapPropagator,
    trace::{SpanKind, Status, TraceContextExt, Tracer as _},
    Context, KeyValue,
};
use opentelemetry_http::HeaderInjector;

use super::Telemetry;

/// Set once any telemetry has started in this process. Until then the span helpers
/// return before they look at the task's context: the one cost of telemetry off.
static STARTED: AtomicBool = AtomicBool::new(false);

pub(super) fn mark_started() {
    STARTED.store(true, Ordering::Relaxed);
}

/// The telemetry of the request a context belongs to; in the context only while
/// telemetry is on.
#[derive(Clone)]
pub(super) struct Active(pub(super) Arc<Telemetry>);

/// A span in progress, ended when dropped.
pub struct Span {
    cx: Context,
}

impl Span {
    /// Writes `traceparent` for this span into `headers`, so that the service called
    /// continues the trace.
    pub fn inject(&self, headers: &mut HeaderMap) {
        if let Some(active) = self.cx.get::<Active>() {
            active
                .0
                .propagator
                .inject_context(&self.cx, &mut HeaderInjector(headers));
        }
    }

    /// Records the status of the answer the call got; a 5xx marks the span failed.
    pub fn status(&self, status: u16) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if status >= 500 {
            span.set_status(Status::error(""));
        }
    }

    /// Marks the span failed with `reason` (a timeout, a refused connection).
    pub fn fail(&self, reason: &'static str) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new("error.type", reason));
        span.set_status(Status::error(reason));
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.cx.span().end();
    }
}

/// A client span for an HTTP call to `peer`, when the request being handled is
/// traced; `None` otherwise, at the cost of one relaxed load while telemetry is off.
pub fn client_span(method: &'static str, peer: &'static str) -> Option<Span> {
    child(method, SpanKind::Client, || {
        [
            KeyValue::new("http.request.method", method),
            KeyValue::new("peer.service", peer),
        ]
    })
}

/// A client span for one database call (`operation` names the store method), when
/// the request being handled is traced; `None` otherwise.
pub fn db_span(system: &'static str, operation: &'static str) -> Option<Span> {
    child(operation, SpanKind::Client, || {
        [
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.operation.name", operation),
        ]
    })
}

fn child<const N: usize>(
    name: &'static str,
    kind: SpanKind,
    attributes: impl FnOnce() -> [KeyValue; N],
) -> Option<Span> {
    if !STARTED.load(Ordering::Relaxed) {
        return None;
    }
    Context::map_current(|cx| {
        let active = cx.get::<Active>()?;
        let tracer = &active.0.tracer;
        let span = tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes(attributes())
            .start_with_context(tracer, cx);
        count_started();
        Some(Span {
            cx: cx.with_span(span),
        })
    })
}

#[cfg(test)]
thread_local! {
    /// Spans the kit started on this thread, for the tests that prove the off path
    /// starts none.
    static SPANS_STARTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts a started span, in tests only.
#[inline]
pub(super) fn count_started() {
    #[cfg(test)]
    SPANS_STARTED.with(|count| count.set(count.get() + 1));
}

/// Spans the kit started on this thread.
#[cfg(test)]
pub(crate) fn spans_started() -> u64 {
    SPANS_STARTED.with(std::cell::Cell::get)
}
