//! The soak run: many clients for a long time, some of them dropping the
//! connection in the middle of a command (half a line, a literal announced
//! and not sent, half an APPEND). Afterwards every APPEND the server
//! acknowledged must read back byte for byte, the server must have
//! answered everything else without an error, and its memory must not
//! have grown with time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::Client;
use crate::generate::Generator;
use crate::procmem;
use crate::report::{Recorder, Summary};
use crate::scenarios::{Setup, appended_uid, timed};

/// Acknowledged APPENDs still expected in the mailbox: (user, UID) -> octets.
type Ledger = Arc<Mutex<BTreeMap<(String, u32), Vec<u8>>>>;

/// How the server's memory is sampled during the run.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// One look at the server.
#[derive(Clone, Copy)]
struct Sample {
    rss_kib: u64,
    threads: u64,
    /// What the store says it holds (letterbox's metrics), when known.
    store_kib: Option<u64>,
}

pub async fn soak(setup: &Setup, clients: usize, duration: Duration, seed: u64) -> Summary {
    let ledger = Ledger::default();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = setup.server_pid.map(|pid| {
        let samples = Arc::clone(&samples);
        let metrics = setup.metrics_addr;
        tokio::spawn(async move {
            loop {
                let now = sample(pid, metrics).await;
                samples.lock().unwrap().push(now);
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        })
    });
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let (setup, ledger) = (setup.clone(), Arc::clone(&ledger));
            tokio::spawn(async move {
                let mut r = Recorder::default();
                let mut rng = StdRng::seed_from_u64(seed ^ n as u64);
                let mut generator = Generator::new(seed.wrapping_add(n as u64));
                let deadline = Instant::now() + duration;
                let user = setup.users[n % setup.users.len()].clone();
                while Instant::now() < deadline {
                    let _ = session(&setup, &user, &ledger, &mut rng, &mut generator, &mut r).await;
                }
                r
            })
        })
        .collect();
    let mut all = Recorder::default();
    for task in tasks {
        all.merge(task.await.expect("soak client"));
    }
    let elapsed = start.elapsed();
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let (verified, missing, changed) = verify(setup, &ledger, &mut all).await;
    let samples = samples.lock().unwrap().clone();
    let at_rest = match setup.server_pid {
        Some(pid) => {
            tokio::time::sleep(SETTLE).await;
            Some(sample(pid, setup.metrics_addr).await)
        }
        None => None,
    };
    let mut summary = all.summary("soak", elapsed, setup.memory());
    let extra = &mut summary.extra;
    extra.insert("acknowledged APPENDs verified".into(), verified as f64);
    extra.insert("acknowledged APPENDs missing".into(), missing as f64);
    extra.insert("acknowledged APPENDs changed".into(), changed as f64);
    let rss: Vec<f64> = samples.iter().map(|s| s.rss_kib as f64).collect();
    curve(extra, "RSS KiB", &rss);
    let threads: Vec<f64> = samples.iter().map(|s| s.threads as f64).collect();
    curve(extra, "threads", &threads);
    // The store's caches fill up to their configured size as the run
    // touches more of the database; what is left is everything else.
    let store: Option<Vec<f64>> = samples
        .iter()
        .map(|s| s.store_kib.map(|kib| kib as f64))
        .collect();
    if let Some(store) = store.filter(|s| !s.is_empty()) {
        curve(extra, "store KiB", &store);
        let outside: Vec<f64> = rss.iter().zip(&store).map(|(r, s)| r - s).collect();
        curve(extra, "RSS outside the store KiB", &outside);
    }
    if let Some(rest) = at_rest {
        extra.insert("RSS KiB at rest after the run".into(), rest.rss_kib as f64);
        extra.insert("threads at rest after the run".into(), rest.threads as f64);
        if let Some(store) = rest.store_kib {
            extra.insert("store KiB at rest after the run".into(), store as f64);
            extra.insert(
                "RSS outside the store KiB at rest after the run".into(),
                rest.rss_kib.saturating_sub(store) as f64,
            );
        }
    }
    summary
}

/// How long the server gets, once every client has gone, to give back
/// what the load needed: idle blocking threads exit after 10 s and free
/// heap memory is trimmed every 30 s. What it still holds then, beyond
/// the store's caches, is what the run left behind.
const SETTLE: Duration = Duration::from_secs(45);

async fn sample(pid: u32, metrics: Option<std::net::SocketAddr>) -> Sample {
    let store_kib = match metrics {
        Some(addr) => store_memory_kib(addr).await,
        None => None,
    };
    Sample {
        rss_kib: procmem::of_tree(pid).rss_kib,
        threads: procmem::threads(pid),
        store_kib,
    }
}

/// Records a sampled quantity: one point a minute (to see a plateau), its
/// maximum and last value, and the growth of the run's last quarter over
/// its second (the first quarter is warm-up).
fn curve(extra: &mut BTreeMap<String, f64>, name: &str, samples: &[f64]) {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return;
    };
    extra.insert(format!("{name} first sample"), *first);
    let per_minute = (60 / SAMPLE_EVERY.as_secs()) as usize;
    for (minute, value) in samples.iter().step_by(per_minute).enumerate().skip(1) {
        extra.insert(format!("{name} at minute {minute:02}"), *value);
    }
    let max = samples.iter().copied().fold(f64::MIN, f64::max);
    extra.insert(format!("{name} max"), max);
    extra.insert(format!("{name} last sample"), *last);
    let quarter = samples.len() / 4;
    if quarter > 0 {
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let early = mean(&samples[quarter..2 * quarter]);
        let late = mean(&samples[samples.len() - quarter..]);
        extra.insert(
            format!("{name} growth, last vs second quarter %"),
            (late / early - 1.0) * 100.0,
        );
    }
}

/// `letterbox_store_memory_bytes` from the server's metrics, in KiB.
async fn store_memory_kib(addr: std::net::SocketAddr) -> Option<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .await
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let bytes: u64 = response
        .lines()
        .find_map(|l| l.strip_prefix("letterbox_store_memory_bytes "))?
        .parse()
        .ok()?;
    Some(bytes / 1024)
}

/// One connection's life: log in, run commands, maybe walk away mid-command.
async fn session(
    setup: &Setup,
    user: &str,
    ledger: &Ledger,
    rng: &mut StdRng,
    generator: &mut Generator,
    r: &mut Recorder,
) -> std::io::Result<()> {
    let mut c = timed(r, "LOGIN", setup.login(user)).await?;
    timed(r, "SELECT", c.command("SELECT INBOX")).await?;
    for _ in 0..rng.gen_range(5..=30) {
        let exists = c.exists.max(1);
        let n = rng.gen_range(1..=exists);
        let mut step = rng.gen_range(0..100);
        if c.exists == 0 && step >= 35 {
            // Nothing to address by sequence number in an empty mailbox
            // (FETCH 1 would rightly get BAD): append instead.
            step = 5;
        }
        match step {
            0..5 => {
                abandon(&mut c, rng).await;
                r.record("abandoned", Duration::ZERO);
                return Ok(());
            }
            // As many deletions as appends: mailboxes keep their size, so
            // memory can be expected to stay flat.
            5..20 => {
                let message = generator.message();
                let tagged = timed(r, "APPEND", c.append("INBOX", &message)).await?;
                let uid = appended_uid(&tagged).expect("APPENDUID");
                ledger
                    .lock()
                    .unwrap()
                    .insert((user.to_owned(), uid), message);
            }
            20..35 => {
                let doomed = {
                    let ledger = ledger.lock().unwrap();
                    let mine: Vec<u32> = ledger
                        .keys()
                        .filter(|(u, _)| u == user)
                        .map(|(_, uid)| *uid)
                        .collect();
                    (!mine.is_empty()).then(|| mine[rng.gen_range(0..mine.len())])
                };
                if let Some(uid) = doomed {
                    // No longer expected once the deletion may happen.
                    ledger.lock().unwrap().remove(&(user.to_owned(), uid));
                    let command = format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)");
                    timed(r, "STORE", c.command(&command)).await?;
                    timed(r, "EXPUNGE", c.command("EXPUNGE")).await?;
                }
            }
            35..55 => {
                let from = n.saturating_sub(19).max(1);
                let command = format!("FETCH {from}:{n} (UID FLAGS RFC822.SIZE ENVELOPE)");
                timed(r, "FETCH headers", c.command(&command)).await?;
            }
            55..70 => {
                timed(
                    r,
                    "FETCH body",
                    c.command(&format!("FETCH {n} BODY.PEEK[]")),
                )
                .await?;
            }
            70..85 => {
                timed(r, "STORE", c.command(&format!("STORE {n} +FLAGS (\\Seen)"))).await?;
            }
            85..90 => {
                timed(r, "SEARCH", c.command("SEARCH UNSEEN")).await?;
            }
            _ => {
                timed(r, "NOOP", c.command("NOOP")).await?;
            }
        }
    }
    timed(r, "LOGOUT", c.command("LOGOUT")).await?;
    Ok(())
}

/// Sends part of a command and drops the connection.
async fn abandon(c: &mut Client, rng: &mut StdRng) {
    let partial: &[u8] = match rng.gen_range(0..4) {
        0 => b"x1 FETCH 1:",
        1 => b"x1 APPEND INBOX {5000}\r\n",
        2 => b"x1 APPEND INBOX {5000+}\r\nFrom: someone\r\nSubject: half a message\r\n",
        _ => b"x1 UID SEARCH OR (FROM a) (",
    };
    let _ = c.send_raw(partial).await;
}

/// Reads back every acknowledged APPEND still expected: (verified,
/// missing, changed).
async fn verify(setup: &Setup, ledger: &Ledger, r: &mut Recorder) -> (usize, usize, usize) {
    let ledger = ledger.lock().unwrap().clone();
    let mut by_user: BTreeMap<&str, Vec<(u32, &Vec<u8>)>> = BTreeMap::new();
    for ((user, uid), message) in &ledger {
        by_user.entry(user).or_default().push((*uid, message));
    }
    let (mut verified, mut missing, mut changed) = (0, 0, 0);
    for (user, messages) in by_user {
        let Ok(mut c) = setup.login(user).await else {
            missing += messages.len();
            continue;
        };
        if c.command("SELECT INBOX").await.is_err() {
            missing += messages.len();
            continue;
        }
        for (uid, sent) in messages {
            match c.command(&format!("UID FETCH {uid} BODY.PEEK[]")).await {
                Ok(lines) => match lines.iter().find_map(|l| body_of(l)) {
                    Some(body) if body == sent.as_slice() => verified += 1,
                    Some(_) => changed += 1,
                    None => missing += 1,
                },
                Err(e) => {
                    r.error("verify", &e);
                    missing += 1;
                }
            }
        }
    }
    (verified, missing, changed)
}

/// The octets of `BODY[] {n}\r\n...` in a FETCH response.
fn body_of(line: &[u8]) -> Option<&[u8]> {
    let at = line.windows(8).position(|w| w == b"BODY[] {")? + 8;
    let close = at + line[at..].iter().position(|&b| b == b'}')?;
    let len: usize = std::str::from_utf8(&line[at..close]).ok()?.parse().ok()?;
    line.get(close + 3..close + 3 + len)
}
