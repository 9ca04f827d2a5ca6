//! Counts and latencies of the `Locations` gRPC methods by method and status code, for
//! `/q/metrics` of the HTTP side: `grpc_requests_total` and
//! `grpc_request_duration_seconds`, in the same atomics as the HTTP request metrics.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use kit::metrics::{Family, Histogram};

/// The methods of the `Locations` service, in the order of [`Rpc::NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rpc {
    GetRandomLocation,
    GetAllLocations,
    DeleteAllLocations,
    GetLocationByName,
    ReplaceAllLocations,
    Hello,
}

impl Rpc {
    /// The method names as the `.proto` file spells them, the `method` label.
    const NAMES: [&'static str; 6] = [
        "GetRandomLocation",
        "GetAllLocations",
        "DeleteAllLocations",
        "GetLocationByName",
        "ReplaceAllLocations",
        "Hello",
    ];
}

/// The canonical names of the gRPC status codes, indexed by code.
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

#[derive(Default)]
struct MethodStats {
    by_code: [AtomicU64; CODES.len()],
    latency: Histogram,
}

/// Calls answered by each method, by status code, and how long they took; recording
/// never locks.
#[derive(Default)]
pub struct RpcMetrics {
    methods: [MethodStats; Rpc::NAMES.len()],
}

impl RpcMetrics {
    /// Counts one answered call of `rpc`.
    pub fn record(&self, rpc: Rpc, code: tonic::Code, elapsed: Duration) {
        let Some(stats) = self.methods.get(rpc as usize) else {
            return;
        };
        if let Some(count) = stats.by_code.get(code as usize) {
            count.fetch_add(1, Relaxed);
        }
        stats.latency.observe(elapsed);
    }

    /// Appends both families; methods never called are left out, as HTTP routes are.
    pub fn render(&self, out: &mut String, service: &str) {
        let mut requests = Family::new(
            out,
            "grpc_requests_total",
            "counter",
            "gRPC calls answered, by method and status code.",
        );
        for (name, stats) in Rpc::NAMES.iter().zip(&self.methods) {
            for (code, count) in CODES.iter().zip(&stats.by_code) {
                let count = count.load(Relaxed);
                if count > 0 {
                    requests.sample(
                        &format!("service=\"{service}\",method=\"{name}\",code=\"{code}\""),
                        count,
                    );
                }
            }
        }
        let mut durations = Family::new(
            out,
            "grpc_request_duration_seconds",
            "histogram",
            "Time from a gRPC call's arrival to its answer.",
        );
        for (name, stats) in Rpc::NAMES.iter().zip(&self.methods) {
            if stats.latency.count() > 0 {
                let labels = format!("service=\"{service}\",method=\"{name}\"");
                stats.latency.render(&mut durations, &labels);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_method_and_code() {
        let metrics = RpcMetrics::default();
        metrics.record(
            Rpc::GetRandomLocation,
            tonic::Code::Ok,
            Duration::from_micros(300),
        );
        metrics.record(
            Rpc::GetRandomLocation,
            tonic::Code::Ok,
            Duration::from_micros(300),
        );
        metrics.record(Rpc::Hello, tonic::Code::Unauthenticated, Duration::ZERO);
        let mut out = String::new();
        metrics.render(&mut out, "locations");
        assert!(out.contains(
            r#"grpc_requests_total{service="locations",method="GetRandomLocation",code="OK"} 2"#
        ));
        assert!(out.contains(
            r#"grpc_requests_total{service="locations",method="Hello",code="UNAUTHENTICATED"} 1"#
        ));
        assert!(out.contains(
            r#"grpc_request_duration_seconds_bucket{service="locations",method="GetRandomLocation",le="0.0005"} 2"#
        ));
        assert!(!out.contains(r#"method="GetAllLocations""#));
    }

    #[test]
    fn the_names_are_the_codes_tonic_knows() {
        assert_eq!(CODES[tonic::Code::NotFound as usize], "NOT_FOUND");
        assert_eq!(
            CODES[tonic::Code::Unauthenticated as usize],
            "UNAUTHENTICATED"
        );
        assert_eq!(Rpc::NAMES[Rpc::Hello as usize], "Hello");
    }
}
