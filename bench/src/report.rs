//! Per-command counts and latency percentiles, printed as a table and
//! kept as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::procmem::Memory;

/// Latencies of one client (or of all, once merged).
#[derive(Default)]
pub struct Recorder {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    pub errors: BTreeMap<String, u64>,
    /// `NO [EXPUNGEISSUED]`: a FETCH of a message another session of the
    /// same user expunged, not yet announced (RFC 2180 §4.1.2). An answer,
    /// not a failure, but counted so it stays visible.
    pub expunge_races: u64,
}

impl Recorder {
    pub fn record(&mut self, command: &'static str, took: Duration) {
        self.latencies.entry(command).or_default().push(took);
    }

    pub fn error(&mut self, what: &str, error: &std::io::Error) {
        let kind = format!(
            "{what}: {}",
            error.to_string().chars().take(80).collect::<String>()
        );
        *self.errors.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: Recorder) {
        for (command, mut list) in other.latencies {
            self.latencies.entry(command).or_default().append(&mut list);
        }
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
        self.expunge_races += other.expunge_races;
    }

    pub fn total(&self) -> usize {
        self.latencies.values().map(Vec::len).sum()
    }

    /// The summary of a run that lasted `elapsed`.
    pub fn summary(mut self, scenario: &str, elapsed: Duration, memory: Memory) -> Summary {
        let total = self.total();
        let commands = self
            .latencies
            .iter_mut()
            .map(|(name, list)| {
                list.sort_unstable();
                CommandStats {
                    command: (*name).to_owned(),
                    count: list.len(),
                    p50_ms: percentile(list, 0.50),
                    p99_ms: percentile(list, 0.99),
                    max_ms: percentile(list, 1.0),
                }
            })
            .collect();
        Summary {
            scenario: scenario.to_owned(),
            seconds: elapsed.as_secs_f64(),
            commands_total: total,
            commands_per_sec: total as f64 / elapsed.as_secs_f64(),
            errors: self.errors.values().sum(),
            error_kinds: self.errors,
            commands,
            memory,
            extra: if self.expunge_races > 0 {
                BTreeMap::from([(
                    "NO [EXPUNGEISSUED] answers".into(),
                    self.expunge_races as f64,
                )])
            } else {
                BTreeMap::new()
            },
        }
    }
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

#[derive(Serialize)]
pub struct CommandStats {
    pub command: String,
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seconds: f64,
    pub commands_total: usize,
    pub commands_per_sec: f64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub commands: Vec<CommandStats>,
    /// The server's memory at the end of the run (process tree).
    pub memory: Memory,
    /// Scenario-specific figures (per-connection memory, peak RSS, ...).
    pub extra: BTreeMap<String, f64>,
}

impl Summary {
    pub fn print(&self) {
        println!(
            "\n{}: {} commands in {:.1} s = {:.0}/s, {} errors; server {} processes, RSS {} KiB, PSS {} KiB",
            self.scenario,
            self.commands_total,
            self.seconds,
            self.commands_per_sec,
            self.errors,
            self.memory.processes,
            self.memory.rss_kib,
            self.memory.pss_kib
        );
        println!(
            "  {:<14} {:>9} {:>10} {:>10} {:>10}",
            "command", "count", "p50 ms", "p99 ms", "max ms"
        );
        for c in &self.commands {
            println!(
                "  {:<14} {:>9} {:>10.2} {:>10.2} {:>10.2}",
                c.command, c.count, c.p50_ms, c.p99_ms, c.max_ms
            );
        }
        for (name, value) in &self.extra {
            println!("  {name}: {value:.2}");
        }
        for (kind, n) in &self.error_kinds {
            println!("  error x{n}: {kind}");
        }
    }
}
