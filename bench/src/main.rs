//! letterbox-bench: an IMAP load generator. `generate` writes seeded test
//! mail as a Maildir (both servers import the same octets), `run` drives
//! one scenario against one server and appends its summary as a JSON line,
//! `compare` turns two such files into a table of ratios.
//! `bench/compare.sh` runs the whole side-by-side comparison with Dovecot.

mod client;
mod generate;
mod procmem;
mod report;
mod scenarios;
mod soak;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write `count` seeded messages as a Maildir.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run one scenario against one server.
    Run(Box<RunArgs>),
    /// Print the ratios between two servers' results (JSON lines files).
    Compare {
        /// Results of letterbox.
        ours: PathBuf,
        /// Results of the peer (Dovecot).
        peer: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    Mixed,
    InitialSync,
    Search,
    /// SORT (DATE), SORT (SUBJECT), THREAD REFERENCES and THREAD REFS of
    /// the large mailbox.
    SortThread,
    Append,
    IdleMemory,
    IdleLatency,
    /// Long run with clients dropping connections mid-command; verifies
    /// every acknowledged APPEND afterwards (docs/robustness.md).
    Soak,
}

#[derive(clap::Args)]
struct RunArgs {
    #[arg(long, value_enum)]
    scenario: Scenario,
    #[arg(long)]
    addr: SocketAddr,
    /// Implicit TLS.
    #[arg(long)]
    tls: bool,
    /// A second node on the same store (PostgreSQL): `mixed` alternates
    /// clients between the nodes; `idle-latency` appends through it.
    #[arg(long)]
    second_addr: Option<SocketAddr>,
    /// Users are `<prefix>1` .. `<prefix>N`.
    #[arg(long, default_value = "bench")]
    user_prefix: String,
    #[arg(long, default_value_t = 10)]
    users: usize,
    /// The user with the large mailbox.
    #[arg(long, default_value = "big")]
    big_user: String,
    #[arg(long, default_value = "bench password")]
    password: String,
    /// The server's main process; its process tree is measured.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's Prometheus endpoint (letterbox's `[metrics] listen`):
    /// the soak samples the store's memory from it.
    #[arg(long)]
    metrics_addr: Option<SocketAddr>,
    /// Concurrent clients (mixed, append).
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Run time (mixed, append).
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Repetitions (initial-sync, search, sort-thread, idle-latency rounds).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Connections (idle-memory, idle-latency idlers).
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Name of the scenario in the results (default: derived).
    #[arg(long)]
    label: Option<String>,
    /// Append the summary as one JSON line to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { out, count, seed } => {
            let bytes = generate::write_maildir(&out, seed, count).expect("write the Maildir");
            println!(
                "{count} messages, {} MiB, in {}",
                bytes >> 20,
                out.display()
            );
        }
        Command::Run(args) => {
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime.block_on(run(*args));
        }
        Command::Compare { ours, peer } => compare(&ours, &peer),
    }
}

async fn run(args: RunArgs) {
    let setup = scenarios::Setup {
        target: client::Target::new(args.addr, args.tls),
        second: args
            .second_addr
            .map(|addr| client::Target::new(addr, args.tls)),
        users: (1..=args.users.max(1))
            .map(|n| format!("{}{n}", args.user_prefix))
            .collect(),
        big_user: args.big_user.clone(),
        password: args.password.clone(),
        server_pid: args.server_pid,
        metrics_addr: args.metrics_addr,
    };
    let duration = Duration::from_secs(args.seconds);
    let mut summary = match args.scenario {
        Scenario::Mixed => scenarios::mixed(&setup, args.clients, duration, args.seed).await,
        Scenario::InitialSync => scenarios::initial_sync(&setup, args.repeats).await,
        Scenario::Search => scenarios::search(&setup, args.repeats).await,
        Scenario::SortThread => scenarios::sort_thread(&setup, args.repeats).await,
        Scenario::Append => scenarios::append(&setup, args.clients, duration, args.seed).await,
        Scenario::IdleMemory => scenarios::idle_memory(&setup, args.connections).await,
        Scenario::IdleLatency => {
            scenarios::idle_latency(&setup, args.connections, args.repeats).await
        }
        Scenario::Soak => soak::soak(&setup, args.clients, duration, args.seed).await,
    };
    if let Some(label) = args.label {
        summary.scenario = label;
    }
    summary.print();
    let failed = matches!(args.scenario, Scenario::Soak)
        && (summary.errors > 0
            || summary.extra["acknowledged APPENDs missing"] > 0.0
            || summary.extra["acknowledged APPENDs changed"] > 0.0);
    if let Some(path) = args.json {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("open the results file");
        let line = serde_json::to_string(&summary).expect("summary as JSON");
        writeln!(file, "{line}").expect("write the results file");
    }
    if failed {
        eprintln!("soak: FAILED (errors, or acknowledged messages missing or changed)");
        std::process::exit(1);
    }
}

/// One row per scenario: the figure that matters for it, for both servers,
/// and how many times better letterbox is (>1 is better).
fn compare(ours: &PathBuf, peer: &PathBuf) {
    let load = |path: &PathBuf| -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .expect("read results")
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let (ours, peer) = (load(ours), load(peer));
    println!("| scenario | figure | letterbox | Dovecot | ratio (x better) |");
    println!("|---|---|---:|---:|---:|");
    for ours in &ours {
        let name = ours["scenario"].as_str().unwrap_or("?");
        let Some(peer) = peer.iter().find(|p| p["scenario"] == ours["scenario"]) else {
            continue;
        };
        for (figure, higher_is_better, get) in figures(name) {
            let (a, b) = (get(ours), get(peer));
            let (Some(a), Some(b)) = (a, b) else { continue };
            let ratio = if higher_is_better { a / b } else { b / a };
            println!("| {name} | {figure} | {a:.2} | {b:.2} | {ratio:.2} |");
        }
    }
}

type Getter = fn(&serde_json::Value) -> Option<f64>;

/// The figures compared for a scenario: (label, higher is better, value).
fn figures(scenario: &str) -> Vec<(&'static str, bool, Getter)> {
    let per_sec: Getter = |v| v["commands_per_sec"].as_f64();
    let errors: Getter = |v| v["errors"].as_f64().map(|e| e + 1.0);
    let kind = [
        "mixed",
        "append",
        "idle-memory",
        "idle-latency",
        "initial-sync",
        "search",
        "sort-thread",
    ]
    .into_iter()
    .find(|k| scenario.starts_with(k))
    .unwrap_or("");
    match kind {
        "mixed" => vec![
            ("commands/s", true, per_sec),
            ("p99 ms (all commands)", false, |v| worst_p99(v)),
        ],
        "append" => vec![("APPENDs/s", true, per_sec)],
        "idle-memory" => vec![
            ("PSS KiB per session", false, |v| {
                v["extra"]["PSS KiB per session"].as_f64()
            }),
            ("RSS KiB per session", false, |v| {
                v["extra"]["RSS KiB per session"].as_f64()
            }),
        ],
        "idle-latency" => vec![
            ("notify p50 ms", false, |v| {
                command(v, "IDLE notify", "p50_ms")
            }),
            ("notify p99 ms", false, |v| {
                command(v, "IDLE notify", "p99_ms")
            }),
        ],
        "initial-sync" => vec![("UID FETCH 1:* p50 ms", false, |v| {
            command(v, "UID FETCH 1:*", "p50_ms")
        })],
        "search" => vec![
            ("TEXT rare p50 ms", false, |v| {
                command(v, "TEXT rare", "p50_ms")
            }),
            ("BODY common p50 ms", false, |v| {
                command(v, "BODY common", "p50_ms")
            }),
            ("SUBJECT p50 ms", false, |v| command(v, "SUBJECT", "p50_ms")),
            ("FROM p50 ms", false, |v| command(v, "FROM", "p50_ms")),
        ],
        "sort-thread" => vec![
            ("SORT (DATE) p50 ms", false, |v| {
                command(v, "SORT (DATE)", "p50_ms")
            }),
            ("SORT (SUBJECT) p50 ms", false, |v| {
                command(v, "SORT (SUBJECT)", "p50_ms")
            }),
            ("THREAD REFERENCES p50 ms", false, |v| {
                command(v, "THREAD REFERENCES", "p50_ms")
            }),
            ("THREAD REFS p50 ms", false, |v| {
                command(v, "THREAD REFS", "p50_ms")
            }),
        ],
        _ => vec![("errors + 1", false, errors)],
    }
}

fn command(v: &serde_json::Value, name: &str, field: &str) -> Option<f64> {
    v["commands"]
        .as_array()?
        .iter()
        .find(|c| c["command"] == name)?[field]
        .as_f64()
}

fn worst_p99(v: &serde_json::Value) -> Option<f64> {
    v["commands"]
        .as_array()?
        .iter()
        .filter_map(|c| c["p99_ms"].as_f64())
        .reduce(f64::max)
}
