//! Request metrics in Prometheus text format: counts by route and status, and a latency
//! histogram per route, kept in plain atomics so recording costs a few nanoseconds; and
//! [`Family`], the writer of every metric family of every service; [`PoolGauges`], the
//! one set of names every connection pool is reported under.

use std::{
    fmt::{Display, Write},
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use crate::labels::{
    HEALTH, LIVE, METRICS, OPENAPI, OPTIONS, OVERLOADED, READY, REFUSED, STARTED, UNMATCHED,
};

/// Statuses counted in a slot of their own; anything else counts as `other`.
const STATUSES: [u16; 16] = [
    200, 201, 204, 400, 404, 405, 408, 409, 413, 414, 415, 417, 431, 500, 502, 503,
];

/// Upper bounds of the latency buckets, in microseconds: fine between 1 and 50 ms, where
/// a stall decides whether a load generator with few virtual users falls behind.
const BUCKETS_US: [u64; 19] = [
    250, 500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000,
    75_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
];

/// A latency histogram in plain atomics: recording is a few nanoseconds and never locks.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(bucket) = BUCKETS_US.iter().position(|&b| us <= b) {
            self.buckets[bucket].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Writes the buckets, sum and count into `family` (of type `histogram`) under
    /// `labels`.
    pub fn render(&self, family: &mut Family, labels: &str) {
        let count = self.count();
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS_US.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let le = *bound as f64 / 1e6;
            family.part(
                "_bucket",
                &format!("{labels}{separator}le=\"{le}\""),
                cumulative,
            );
        }
        family.part("_bucket", &format!("{labels}{separator}le=\"+Inf\""), count);
        family.part("_sum", labels, self.sum_us.load(Relaxed) as f64 / 1e6);
        family.part("_count", labels, count);
    }
}

struct RouteStats {
    name: &'static str,
    by_status: [AtomicU64; STATUSES.len() + 1],
    latency: Histogram,
}

/// Request counters of one service.
pub struct Metrics {
    service: &'static str,
    routes: Vec<RouteStats>,
}

impl Metrics {
    /// `routes` are the labels handlers report; the kit's own routes and labels are added
    /// here, `unmatched` last.
    pub fn new(service: &'static str, routes: &[&'static str]) -> Self {
        let kit_routes = [
            HEALTH, LIVE, READY, STARTED, METRICS, OPENAPI, OPTIONS, OVERLOADED, REFUSED, UNMATCHED,
        ];
        let routes = routes
            .iter()
            .chain(kit_routes.iter())
            .map(|&name| RouteStats {
                name,
                by_status: Default::default(),
                latency: Histogram::default(),
            })
            .collect();
        Self { service, routes }
    }

    /// Counts one answered request. An unknown label counts as `unmatched`.
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let Some(stats) = self
            .routes
            .iter()
            .find(|r| r.name == route)
            .or_else(|| self.routes.last())
        else {
            return;
        };
        let slot = STATUSES
            .iter()
            .position(|&s| s == status)
            .unwrap_or(STATUSES.len());
        stats.by_status[slot].fetch_add(1, Relaxed);
        stats.latency.observe(elapsed);
    }

    /// Appends the request metrics in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let svc = self.service;
        let mut requests = Family::new(
            out,
            "http_requests_total",
            "counter",
            "Requests answered, by route and status.",
        );
        for r in &self.routes {
            for (slot, count) in r.by_status.iter().enumerate() {
                let count = count.load(Relaxed);
                if count == 0 {
                    continue;
                }
                let status = STATUSES
                    .get(slot)
                    .map_or("other".to_owned(), |s| s.to_string());
                requests.sample(
                    &format!("service=\"{svc}\",route=\"{}\",status=\"{status}\"", r.name),
                    count,
                );
            }
        }
        let mut durations = Family::new(
            out,
            "http_request_duration_seconds",
            "histogram",
            "Time from request head to response.",
        );
        for r in &self.routes {
            if r.latency.count() > 0 {
                let labels = format!("service=\"{svc}\",route=\"{}\"", r.name);
                r.latency.render(&mut durations, &labels);
            }
        }
    }
}

/// One metric family in Prometheus text format, the one way every service writes its
/// metrics: the HELP and TYPE lines when it is created, then its samples.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'a str,
}

impl<'a> Family<'a> {
    /// Starts family `name` of type `kind` (`counter`, `gauge`, `histogram`).
    pub fn new(out: &'a mut String, name: &'a str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        Self { out, name }
    }

    /// One sample; `labels` is the text between the braces (`service="heroes"`), left
    /// out when empty.
    pub fn sample(&mut self, labels: &str, value: impl Display) -> &mut Self {
        self.part("", labels, value)
    }

    /// One sample of a part of the family, such as a histogram's `_bucket` or `_sum`.
    pub fn part(&mut self, suffix: &str, labels: &str, value: impl Display) -> &mut Self {
        let name = self.name;
        let _ = if labels.is_empty() {
            writeln!(self.out, "{name}{suffix} {value}")
        } else {
            writeln!(self.out, "{name}{suffix}{{{labels}}} {value}")
        };
        self
    }
}

/// A connection pool's use, reported under the same three names by every service
/// (`{prefix}_max_connections`, `{prefix}_connections`, `{prefix}_in_use`), so that one
/// dashboard query reads any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGauges {
    /// Connections the pool may open.
    pub max: usize,
    /// Connections open, idle or in use.
    pub open: usize,
    /// Connections checked out by a request or task.
    pub in_use: usize,
}

impl PoolGauges {
    pub fn render(&self, out: &mut String, prefix: &str, labels: &str) {
        for (name, help, value) in [
            (
                "max_connections",
                "Connections the pool may open.",
                self.max,
            ),
            (
                "connections",
                "Open connections, idle or in use.",
                self.open,
            ),
            ("in_use", "Connections checked out.", self.in_use),
        ] {
            Family::new(out, &format!("{prefix}_{name}"), "gauge", help).sample(labels, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_and_status() {
        let m = Metrics::new("heroes", &["get"]);
        m.record("get", 200, Duration::from_micros(300));
        m.record("get", 200, Duration::from_micros(300));
        m.record("get", 418, Duration::from_secs(9));
        m.record("nonsense", 404, Duration::from_micros(1));
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains(r#"http_requests_total{service="heroes",route="get",status="200"} 2"#));
        assert!(
            out.contains(r#"http_requests_total{service="heroes",route="get",status="other"} 1"#)
        );
        assert!(out.contains(r#"route="unmatched",status="404"} 1"#));
        assert!(out.contains(
            r#"http_request_duration_seconds_bucket{service="heroes",route="get",le="0.0005"} 2"#
        ));
        assert!(out.contains(
            r#"http_request_duration_seconds_bucket{service="heroes",route="get",le="+Inf"} 3"#
        ));
    }
}
