//! The OpenTelemetry settings: the standard `OTEL_*` variables, read and validated
//! before anything binds.

use std::time::Duration;

use crate::config::{ConfigError, Env};

/// Which traces are recorded, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    AlwaysOn,
    AlwaysOff,
    /// A share of traces, in millionths, chosen by trace id.
    Ratio(u32),
    /// The caller's decision when a request carries one, else the inner choice.
    ParentBased(Root),
}

/// The choice a parent-based sampler makes for a trace that starts here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    AlwaysOn,
    AlwaysOff,
    Ratio(u32),
}

/// Where and how telemetry is exported. Present only when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set: without it a service runs no exporter at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// Base URL of the OTLP/HTTP receiver; `/v1/traces` and `/v1/metrics` are appended.
    pub endpoint: String,
    /// `service.name` of every span and metric; `None` means the service's own name.
    pub service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, `key=value` pairs.
    pub resource: Vec<(String, String)>,
    pub sampling: Sampling,
    /// `OTEL_METRIC_EXPORT_INTERVAL`: how often metrics are sent.
    pub metric_interval: Duration,
}

impl TelemetryConfig {
    /// The settings, or `None` when no endpoint is set. The only protocol is
    /// `http/protobuf`: the services carry no gRPC client for OTLP, so another value
    /// would export nothing and is refused instead.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let endpoint = env.string("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        if endpoint.is_empty() {
            return Ok(None);
        }
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let valid = endpoint.starts_with("http://")
            && endpoint
                .parse::<http::Uri>()
                .is_ok_and(|uri| uri.host().is_some());
        if !valid {
            return Err(error(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("'{endpoint}' is not an http:// URL (such as http://otel-lgtm:4318)"),
            ));
        }
        let protocol = env.string("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        if protocol != "http/protobuf" {
            return Err(error(
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                format!("'{protocol}' is not supported: the only protocol is http/protobuf"),
            ));
        }
        let service_name = Some(env.string("OTEL_SERVICE_NAME", "")).filter(|s| !s.is_empty());
        Ok(Some(Self {
            endpoint,
            service_name,
            resource: resource(&env.string("OTEL_RESOURCE_ATTRIBUTES", ""))?,
            sampling: sampling(env)?,
            metric_interval: env.millis("OTEL_METRIC_EXPORT_INTERVAL", 60_000, 3_600_000)?,
        }))
    }
}

fn error(var: &str, message: String) -> ConfigError {
    ConfigError {
        var: var.to_owned(),
        message,
    }
}

/// `key=value,key=value`, values percent-decoded as the specification says.
fn resource(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                let value = percent_encoding::percent_decode_str(value.trim())
                    .decode_utf8_lossy()
                    .into_owned();
                Ok((key.trim().to_owned(), value))
            }
            _ => Err(error(
                "OTEL_RESOURCE_ATTRIBUTES",
                format!("'{pair}' is not key=value"),
            )),
        })
        .collect()
}

/// `OTEL_TRACES_SAMPLER` and its `OTEL_TRACES_SAMPLER_ARG`; the default, as in the
/// specification, is `parentbased_always_on`.
fn sampling(env: &Env) -> Result<Sampling, ConfigError> {
    let name = env.string("OTEL_TRACES_SAMPLER", "parentbased_always_on");
    let ratio = || -> Result<u32, ConfigError> {
        let ratio: f64 = env.parse("OTEL_TRACES_SAMPLER_ARG", 1.0)?;
        if (0.0..=1.0).contains(&ratio) {
            Ok((ratio * 1_000_000.0).round() as u32)
        } else {
            Err(error(
                "OTEL_TRACES_SAMPLER_ARG",
                format!("{ratio} is outside 0..=1"),
            ))
        }
    };
    Ok(match name.as_str() {
        "always_on" => Sampling::AlwaysOn,
        "always_off" => Sampling::AlwaysOff,
        "traceidratio" => Sampling::Ratio(ratio()?),
        "parentbased_always_on" => Sampling::ParentBased(Root::AlwaysOn),
        "parentbased_always_off" => Sampling::ParentBased(Root::AlwaysOff),
        "parentbased_traceidratio" => Sampling::ParentBased(Root::Ratio(ratio()?)),
        other => {
            return Err(error(
                "OTEL_TRACES_SAMPLER",
                format!(
                    "'{other}' is not one of always_on, always_off, traceidratio, \
                     parentbased_always_on, parentbased_always_off, parentbased_traceidratio"
                ),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<TelemetryConfig>, ConfigError> {
        TelemetryConfig::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn off_without_an_endpoint() {
        assert_eq!(parse(&[("OTEL_SERVICE_NAME", "x")]), Ok(None));
    }

    #[test]
    fn reads_the_standard_variables() {
        let config = parse(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-lgtm:4318/"),
            ("OTEL_SERVICE_NAME", "rust-heroes"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=dev, team=a%20b",
            ),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ]);
        let expected = TelemetryConfig {
            endpoint: "http://otel-lgtm:4318".to_owned(),
            service_name: Some("rust-heroes".to_owned()),
            resource: vec![
                ("deployment.environment".to_owned(), "dev".to_owned()),
                ("team".to_owned(), "a b".to_owned()),
            ],
            sampling: Sampling::ParentBased(Root::Ratio(250_000)),
            metric_interval: Duration::from_secs(60),
        };
        assert_eq!(config, Ok(Some(expected)));
    }

    #[test]
    fn defaults_to_parent_based_always_on() {
        let config = parse(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]);
        let sampling = config.ok().flatten().map(|c| c.sampling);
        assert_eq!(sampling, Some(Sampling::ParentBased(Root::AlwaysOn)));
    }

    #[test]
    fn refuses_other_protocols_by_name() {
        let err = parse(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "invalid configuration OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not supported: \
                 the only protocol is http/protobuf"
            )
        );
    }

    #[test]
    fn refuses_bad_endpoints_samplers_and_attributes() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        for (pairs, var) in [
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                vec![endpoint, ("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                vec![
                    endpoint,
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "2"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                vec![endpoint, ("OTEL_RESOURCE_ATTRIBUTES", "novalue")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
        ] {
            let err = parse(&pairs).err().map(|e| e.var);
            assert_eq!(err.as_deref(), Some(var), "{pairs:?}");
        }
    }
}
