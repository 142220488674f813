//! Prometheus metrics in the text exposition format: connections, commands
//! by name and result, command latency, deliveries and authentication
//! failures. `server::metrics_endpoint` serves them over HTTP.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the command latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// What the metrics read at the moment they are rendered.
pub struct Gauges {
    /// Connections open now.
    pub active: usize,
    /// Sessions past LOGIN/AUTHENTICATE.
    pub logged_in: usize,
    /// Addresses (or networks) locked out by the login guard.
    pub penalised_addresses: usize,
    /// What the store says it holds in memory.
    pub store_memory: Option<u64>,
    /// Messages whose sort fields the sort cache holds.
    pub sort_cache_messages: usize,
}

#[derive(Default)]
pub struct Metrics {
    connections: Mutex<BTreeMap<&'static str, u64>>,
    commands: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency: Histogram,
    deliveries: Mutex<BTreeMap<&'static str, u64>>,
    auth_failures: AtomicU64,
}

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum in microseconds, to stay an integer.
    sum_micros: AtomicU64,
}

fn snapshot<K: Ord + Clone>(map: &Mutex<BTreeMap<K, u64>>) -> BTreeMap<K, u64> {
    map.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += 1;
}

impl Metrics {
    /// A connection accepted on a listener (`imap`, `imaps`, `pop3`, `pop3s`, `lmtp`).
    pub fn connection(&self, listener: &'static str) {
        bump(&self.connections, listener);
    }

    /// A command finished with `result` (`OK`, `NO`, `BAD`) after `elapsed`.
    pub fn command(&self, name: &'static str, result: &'static str, elapsed: Duration) {
        bump(&self.commands, (name, result));
        let seconds = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.latency.counts) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// A delivery (LMTP) to one recipient: `delivered` or `failed`.
    pub fn delivery(&self, result: &'static str) {
        bump(&self.deliveries, result);
    }

    pub fn auth_failure(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition of the counters and of the gauges read now.
    pub fn render(&self, gauges: Gauges) -> String {
        let Gauges {
            active,
            logged_in,
            penalised_addresses,
            store_memory,
            sort_cache_messages,
        } = gauges;
        let mut out = String::new();

        out.push_str("# TYPE letterbox_connections_total counter\n");
        let connections = snapshot(&self.connections);
        for (listener, n) in connections {
            out.push_str(&format!(
                "letterbox_connections_total{{listener=\"{listener}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "# TYPE letterbox_connections_active gauge\nletterbox_connections_active {active}\n\
             # TYPE letterbox_sessions gauge\nletterbox_sessions{{state=\"authenticated\"}} {logged_in}\n"
        ));
        out.push_str("# TYPE letterbox_commands_total counter\n");
        let commands = snapshot(&self.commands);
        for ((command, result), n) in commands {
            out.push_str(&format!(
                "letterbox_commands_total{{command=\"{command}\",result=\"{result}\"}} {n}\n"
            ));
        }
        out.push_str("# TYPE letterbox_command_duration_seconds histogram\n");
        for (bound, count) in BUCKETS.iter().zip(&self.latency.counts) {
            out.push_str(&format!(
                "letterbox_command_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
                count.load(Ordering::Relaxed)
            ));
        }
        let count = self.latency.count.load(Ordering::Relaxed);
        let sum = self.latency.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        out.push_str(&format!(
            "letterbox_command_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             letterbox_command_duration_seconds_sum {sum}\n\
             letterbox_command_duration_seconds_count {count}\n"
        ));
        out.push_str("# TYPE letterbox_deliveries_total counter\n");
        let deliveries = snapshot(&self.deliveries);
        for (result, n) in deliveries {
            out.push_str(&format!(
                "letterbox_deliveries_total{{result=\"{result}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "# TYPE letterbox_auth_failures_total counter\nletterbox_auth_failures_total {}\n",
            self.auth_failures.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# TYPE letterbox_auth_locked_addresses gauge\nletterbox_auth_locked_addresses {penalised_addresses}\n"
        ));
        out.push_str(&format!(
            "# TYPE letterbox_sort_cache_messages gauge\nletterbox_sort_cache_messages {sort_cache_messages}\n"
        ));
        if let Some(bytes) = store_memory {
            out.push_str(&format!(
                "# TYPE letterbox_store_memory_bytes gauge\nletterbox_store_memory_bytes {bytes}\n"
            ));
        }
        out
    }
}
