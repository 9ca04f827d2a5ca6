//! The values of `/q/metrics` (counters and gauges: pools, the writer, downstream calls,
//! circuits, connections) and the process's CPU time and memory, read by the metric
//! exporter at each export, so a dashboard sees over OTLP what a scrape would see.

use std::sync::Arc;

use opentelemetry::{
    metrics::{AsyncInstrument, Meter},
    KeyValue,
};

/// Renders the `/q/metrics` text now; `None` once the server is gone.
pub(crate) type Render = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Registers one observable instrument per counter and gauge family `render` shows
/// now (a histogram as its `_count`, a gauge), each read from a fresh rendering when
/// the exporter collects: nothing runs on the request path.
pub(crate) fn observe(meter: &Meter, render: Render) {
    let Some(text) = render() else { return };
    for (name, kind) in families(&text) {
        let (name, counter) = match kind {
            "counter" => (name.to_owned(), true),
            "gauge" => (name.to_owned(), false),
            "histogram" => (format!("{name}_count"), false),
            _ => continue,
        };
        let render = render.clone();
        let sample_name = name.clone();
        let callback = move |instrument: &dyn AsyncInstrument<f64>| {
            if let Some(text) = render() {
                for (labels, value) in samples(&text, &sample_name) {
                    instrument.observe(value, &labels);
                }
            }
        };
        if counter {
            meter
                .f64_observable_counter(name)
                .with_callback(callback)
                .build();
        } else {
            meter
                .f64_observable_gauge(name)
                .with_callback(callback)
                .build();
        }
    }
    meter
        .f64_observable_counter("process.cpu.time")
        .with_unit("s")
        .with_description("CPU seconds the process used, user and system.")
        .with_callback(|instrument| {
            if let Some(seconds) = cpu_seconds() {
                instrument.observe(seconds, &[]);
            }
        })
        .build();
    meter
        .f64_observable_gauge("process.memory.usage")
        .with_unit("By")
        .with_description("Resident memory of the process.")
        .with_callback(|instrument| {
            if let Some(bytes) = resident_bytes() {
                instrument.observe(bytes, &[]);
            }
        })
        .build();
}

/// Every `# TYPE name kind` line.
fn families(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let mut words = line.strip_prefix("# TYPE ")?.split_whitespace();
        Some((words.next()?, words.next()?))
    })
}

/// The samples of `name`: their labels and values.
fn samples<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = (Vec<KeyValue>, f64)> + 'a {
    text.lines().filter_map(move |line| {
        let rest = line.strip_prefix(name)?;
        let (labels, value) = match rest.strip_prefix('{') {
            Some(rest) => {
                let (labels, value) = rest.rsplit_once('}')?;
                (labels, value)
            }
            None if rest.starts_with(' ') => ("", rest),
            None => return None,
        };
        let value = value.trim().parse().ok()?;
        Some((parse_labels(labels), value))
    })
}

/// `key="value",key="value"`, as the kit writes them (no quote inside a value).
fn parse_labels(text: &str) -> Vec<KeyValue> {
    let mut labels = Vec::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some((value, after)) = after.split_once('"') else {
            break;
        };
        labels.push(KeyValue::new(
            key.trim_start_matches(',').to_owned(),
            value.to_owned(),
        ));
        rest = after;
    }
    labels
}

/// User and system CPU time from `/proc/self/stat`, counted in the kernel's user tick
/// of 1/100 s (`USER_HZ`, fixed by the Linux ABI).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let user: f64 = fields.nth(11)?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Resident memory from `/proc/self/status` (`VmRSS`, in KiB).
fn resident_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE db_pool_in_use gauge\n\
        db_pool_in_use{service=\"heroes\"} 3\n\
        # TYPE http_requests_total counter\n\
        http_requests_total{service=\"heroes\",route=\"GET /api/heroes/{id}\",status=\"200\"} 7\n\
        # TYPE up gauge\n\
        up 1\n";

    #[test]
    fn finds_the_families() {
        let found: Vec<_> = families(TEXT).collect();
        assert_eq!(
            found,
            [
                ("db_pool_in_use", "gauge"),
                ("http_requests_total", "counter"),
                ("up", "gauge")
            ]
        );
    }

    #[test]
    fn reads_samples_with_braces_in_labels() {
        let found: Vec<_> = samples(TEXT, "http_requests_total").collect();
        assert_eq!(
            found,
            [(
                vec![
                    KeyValue::new("service", "heroes"),
                    KeyValue::new("route", "GET /api/heroes/{id}"),
                    KeyValue::new("status", "200"),
                ],
                7.0
            )]
        );
        let bare: Vec<_> = samples(TEXT, "up").collect();
        assert_eq!(bare, [(Vec::new(), 1.0)]);
    }

    #[test]
    fn reads_this_process() {
        assert!(cpu_seconds().is_some_and(|s| s >= 0.0));
        assert!(resident_bytes().is_some_and(|b| b > 0.0));
    }
}
