//! Prometheus metrics, owned by the app state (no global registry).

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    pub pool: Family<StateLabel, Gauge>,
    pub outbox: Family<StatusLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("qifu");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let pool = Family::<StateLabel, Gauge>::default();
        let outbox = Family::<StatusLabel, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and status",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            pool.clone(),
        );
        registry.register(
            "outbox_messages",
            "Outbox messages by status",
            outbox.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            pool,
            outbox,
        }
    }
}

/// Label values must come from a fixed set: every new value is a series kept forever, so a
/// client inventing methods or paths could grow `/metrics` and the heap without limit.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or(OTHER)
}

/// The value for a method outside the known ones or a path that matched no route.
pub const OTHER: &str = "other";

impl Metrics {
    /// `route` is the matched route pattern (a fixed set), `None` when nothing matched.
    pub fn observe_request(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method_label(method).to_owned(),
            route: route.unwrap_or(OTHER).to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_and_unmatched_paths_share_one_series() {
        let metrics = Metrics::default();
        for method in ["BREW", "get", "X-1", "PROPFIND"] {
            metrics.observe_request(method, None, 405, 0.001);
        }
        metrics.observe_request("GET", Some("/healthz"), 200, 0.001);
        let text = metrics.encode();
        assert!(text.contains(
            "qifu_http_requests_total{method=\"other\",route=\"other\",status=\"405\"} 4"
        ));
        assert!(text.contains("method=\"GET\",route=\"/healthz\""));
        assert!(!text.contains("BREW"));
    }
}
