//! The workloads. Each returns a [`Summary`]; none knows which server it
//! talks to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Barrier;

use crate::client::{Client, Target};
use crate::generate::{self, Generator};
use crate::procmem::{self, Memory};
use crate::report::{Recorder, Summary};

/// What every scenario needs to know about the server under test.
#[derive(Clone)]
pub struct Setup {
    pub target: Target,
    /// Another node on the same store (PostgreSQL): `mixed` sends every
    /// other client there, and `idle-latency` appends through it while
    /// the idlers wait on `target`.
    pub second: Option<Target>,
    /// Users with small mailboxes, for many-client scenarios.
    pub users: Vec<String>,
    /// The user whose INBOX holds the large mailbox.
    pub big_user: String,
    pub password: String,
    /// The server's (master) process, for memory figures.
    pub server_pid: Option<u32>,
    /// The server's Prometheus endpoint, when it has one.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl Setup {
    pub(crate) fn memory(&self) -> Memory {
        self.server_pid.map(procmem::of_tree).unwrap_or_default()
    }

    fn user(&self, n: usize) -> &str {
        &self.users[n % self.users.len()]
    }

    /// Client `n`'s node: with a second node, odd clients use it.
    fn node(&self, n: usize) -> Setup {
        let mut setup = self.clone();
        if let Some(second) = self.second.clone().filter(|_| n % 2 == 1) {
            setup.target = second;
        }
        setup
    }

    pub(crate) async fn login(&self, user: &str) -> std::io::Result<Client> {
        let mut client = Client::connect(&self.target).await?;
        client.login(user, &self.password).await?;
        Ok(client)
    }
}

/// Times one step into `recorder` under `name`; an error is counted and
/// returned so the caller can drop the connection.
pub(crate) async fn timed<T>(
    recorder: &mut Recorder,
    name: &'static str,
    step: impl Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    let start = Instant::now();
    match step.await {
        Ok(value) => {
            recorder.record(name, start.elapsed());
            Ok(value)
        }
        Err(e) => {
            recorder.error(name, &e);
            Err(e)
        }
    }
}

/// Runs `clients` copies of `work` at once and merges what they recorded.
async fn run_clients<F, Fut>(clients: usize, work: F) -> (Recorder, Duration)
where
    F: Fn(usize, Arc<Barrier>) -> Fut,
    Fut: Future<Output = Recorder> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(clients + 1));
    let tasks: Vec<_> = (0..clients)
        .map(|n| tokio::spawn(work(n, barrier.clone())))
        .collect();
    barrier.wait().await;
    let start = Instant::now();
    let mut all = Recorder::default();
    for task in tasks {
        all.merge(task.await.expect("client task"));
    }
    (all, start.elapsed())
}

/// The mixed load of a mail client population: each client logs in to its
/// own user, runs a random session of 5-30 commands (header and flag
/// fetches, message bodies, BODYSTRUCTURE, flag changes, searches, appends
/// and expunges, NOOP polls), logs out, and starts again.
pub async fn mixed(setup: &Setup, clients: usize, duration: Duration, seed: u64) -> Summary {
    let (recorder, elapsed) = run_clients(clients, |n, barrier| {
        let setup = setup.node(n);
        async move {
            let mut recorder = Recorder::default();
            let mut rng = StdRng::seed_from_u64(seed ^ n as u64);
            let mut generator = Generator::new(seed ^ (n as u64) << 32);
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let user = setup.user(n).to_owned();
                let session = mixed_session(&setup, &user, &mut rng, &mut generator, &mut recorder);
                let _ = session.await;
            }
            recorder
        }
    })
    .await;
    recorder.summary("mixed", elapsed, setup.memory())
}

async fn mixed_session(
    setup: &Setup,
    user: &str,
    rng: &mut StdRng,
    generator: &mut Generator,
    r: &mut Recorder,
) -> std::io::Result<()> {
    let mut c = timed(r, "CONNECT", Client::connect(&setup.target)).await?;
    let result = mixed_commands(&mut c, setup, user, rng, generator, r).await;
    r.expunge_races += c.expunge_races;
    result
}

async fn mixed_commands(
    c: &mut Client,
    setup: &Setup,
    user: &str,
    rng: &mut StdRng,
    generator: &mut Generator,
    r: &mut Recorder,
) -> std::io::Result<()> {
    timed(r, "LOGIN", c.login(user, &setup.password)).await?;
    timed(r, "SELECT", c.command("SELECT INBOX")).await?;
    let mut appended = Vec::new();
    for _ in 0..rng.gen_range(5..=30) {
        let exists = c.exists.max(1);
        let n = rng.gen_range(1..=exists);
        let mut step = rng.gen_range(0..100);
        if c.exists == 0 && step < 62 {
            // Nothing to address by sequence number in an empty mailbox.
            step = 70;
        }
        match step {
            0..25 => {
                let from = exists
                    .saturating_sub(rng.gen_range(0..exists.min(200)))
                    .max(1);
                let to = (from + 19).min(exists);
                let command = format!("FETCH {from}:{to} (UID FLAGS RFC822.SIZE ENVELOPE)");
                timed(r, "FETCH headers", c.command(&command)).await?;
            }
            25..40 => {
                timed(
                    r,
                    "FETCH body",
                    c.command(&format!("FETCH {n} BODY.PEEK[]")),
                )
                .await?;
            }
            40..48 => {
                let command = format!("FETCH {n} BODYSTRUCTURE");
                timed(r, "FETCH struct", c.command(&command)).await?;
            }
            48..62 => {
                let sign = if rng.gen_bool(0.5) { '+' } else { '-' };
                let command = format!("STORE {n} {sign}FLAGS (\\Seen)");
                timed(r, "STORE", c.command(&command)).await?;
            }
            62..70 => {
                let command = match rng.gen_range(0..3) {
                    0 => "SEARCH UNSEEN".to_owned(),
                    1 => format!("SEARCH SUBJECT {}", generate::SUBJECT_WORD),
                    _ => "SEARCH FLAGGED".to_owned(),
                };
                timed(r, "SEARCH", c.command(&command)).await?;
            }
            70..80 => {
                let message = generator.message();
                let tagged = timed(r, "APPEND", c.append("INBOX", &message)).await?;
                if let Some(uid) = appended_uid(&tagged) {
                    appended.push(uid);
                }
            }
            80..85 if !appended.is_empty() => {
                let uid = appended.swap_remove(0);
                let command = format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)");
                timed(r, "STORE", c.command(&command)).await?;
                timed(r, "EXPUNGE", c.command("EXPUNGE")).await?;
            }
            _ => {
                timed(r, "NOOP", c.command("NOOP")).await?;
            }
        }
    }
    timed(r, "LOGOUT", c.command("LOGOUT")).await?;
    Ok(())
}

/// `[APPENDUID validity uid]` in a tagged OK.
pub(crate) fn appended_uid(tagged: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(tagged).ok()?;
    let code = text.split_once("[APPENDUID ")?.1;
    code.split([' ', ']']).nth(1)?.parse().ok()
}

/// A client's first sync of the large mailbox: everything a mail client
/// asks for to draw the message list.
pub async fn initial_sync(setup: &Setup, repeats: usize) -> Summary {
    let mut r = Recorder::default();
    let start = Instant::now();
    let mut messages = 0;
    for _ in 0..repeats {
        let Ok(mut c) = timed(&mut r, "LOGIN", setup.login(&setup.big_user)).await else {
            continue;
        };
        if timed(&mut r, "SELECT", c.command("SELECT INBOX"))
            .await
            .is_err()
        {
            continue;
        }
        let command = "UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE)";
        if let Ok((count, _)) = timed(&mut r, "UID FETCH 1:*", c.command_counted(command)).await {
            messages = count;
        }
        let _ = c.command("LOGOUT").await;
    }
    let mut summary = r.summary("initial-sync", start.elapsed(), setup.memory());
    summary.extra.insert("messages".into(), messages as f64);
    summary
}

/// SEARCH over the large mailbox without any prepared index on the
/// client side: body text (rare and common words), subject, sender.
pub async fn search(setup: &Setup, repeats: usize) -> Summary {
    let mut r = Recorder::default();
    let start = Instant::now();
    // Each needle is sent as a literal with CHARSET UTF-8, so ASCII and
    // non-ASCII needles take the same path.
    let queries: [(&'static str, &str, &str); 4] = [
        ("TEXT rare", "TEXT", generate::RARE_WORD),
        ("BODY common", "BODY", generate::COMMON_WORD),
        ("SUBJECT", "SUBJECT", generate::SUBJECT_WORD),
        ("FROM", "FROM", generate::FROM_NAME),
    ];
    if let Ok(mut c) = setup.login(&setup.big_user).await {
        let _ = c.command("SELECT INBOX").await;
        for _ in 0..repeats {
            for (name, key, needle) in queries {
                let command = format!(
                    "SEARCH CHARSET UTF-8 {key} {{{}+}}\r\n{needle}",
                    needle.len()
                );
                let _ = timed(&mut r, name, c.command(&command)).await;
            }
        }
    }
    r.summary("search", start.elapsed(), setup.memory())
}

/// Server-side sorted and threaded views of the large mailbox, as a webmail
/// asks for them (Roundcube: UID SORT for a sorted list, UID THREAD REFS
/// for its thread view). The first run of each is counted as well: a
/// server that builds its sort data lazily pays for it there.
pub async fn sort_thread(setup: &Setup, repeats: usize) -> Summary {
    let mut r = Recorder::default();
    let start = Instant::now();
    let commands: [(&'static str, &str); 4] = [
        ("SORT (DATE)", "UID SORT (DATE) UTF-8 ALL"),
        ("SORT (SUBJECT)", "UID SORT (SUBJECT) UTF-8 ALL"),
        ("THREAD REFERENCES", "UID THREAD REFERENCES UTF-8 ALL"),
        ("THREAD REFS", "UID THREAD REFS UTF-8 ALL"),
    ];
    if let Ok(mut c) = setup.login(&setup.big_user).await {
        let _ = c.command("SELECT INBOX").await;
        for _ in 0..repeats {
            for (name, command) in commands {
                let _ = timed(&mut r, name, c.command(command)).await;
            }
        }
    }
    r.summary("sort-thread", start.elapsed(), setup.memory())
}

/// APPEND throughput: every client appends to its own INBOX; each
/// acknowledgement means the message is durable on the server.
pub async fn append(setup: &Setup, clients: usize, duration: Duration, seed: u64) -> Summary {
    let (recorder, elapsed) = run_clients(clients, |n, barrier| {
        let setup = setup.clone();
        async move {
            let mut r = Recorder::default();
            let mut generator = Generator::new(seed ^ n as u64);
            let client = setup.login(setup.user(n)).await;
            barrier.wait().await;
            let Ok(mut c) = client else {
                return r;
            };
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let message = generator.message();
                if timed(&mut r, "APPEND", c.append("INBOX", &message))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            r
        }
    })
    .await;
    recorder.summary("append", elapsed, setup.memory())
}

/// Server memory per logged-in idle connection: `connections` sessions
/// log in, SELECT INBOX and IDLE; the server's memory is read before and
/// with all of them open.
pub async fn idle_memory(setup: &Setup, connections: usize) -> Summary {
    let before = setup.memory();
    let start = Instant::now();
    let mut r = Recorder::default();
    let mut open = Vec::with_capacity(connections);
    for outcome in open_idlers(setup, connections, |n| setup.user(n).to_owned()).await {
        match outcome {
            Ok((c, cr)) => {
                open.push(c);
                r.merge(cr);
            }
            Err(_) => r.error("LOGIN", &std::io::Error::other("session not established")),
        }
    }
    // Let the server settle (Dovecot's login processes hand over).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = setup.memory();
    let elapsed = start.elapsed();
    let held = open.len().max(1) as f64;
    let mut summary = r.summary("idle-memory", elapsed, during);
    summary
        .extra
        .insert("sessions held".into(), open.len() as f64);
    summary.extra.insert(
        "PSS KiB per session".into(),
        (during.pss_kib as f64 - before.pss_kib as f64) / held,
    );
    summary.extra.insert(
        "RSS KiB per session".into(),
        (during.rss_kib as f64 - before.rss_kib as f64) / held,
    );
    if let Some(pid) = setup.server_pid {
        summary.extra.insert(
            "peak RSS KiB (main process)".into(),
            procmem::peak_rss_kib(pid) as f64,
        );
    }
    drop(open);
    summary
}

/// Opens `count` sessions, 50 at a time as a population of clients would:
/// each logs in as `user_of(n)`, selects INBOX and starts IDLE, with the
/// steps timed in its own recorder.
async fn open_idlers(
    setup: &Setup,
    count: usize,
    user_of: impl Fn(usize) -> String,
) -> Vec<std::io::Result<(Client, Recorder)>> {
    let mut outcomes = Vec::with_capacity(count);
    for first in (0..count).step_by(50) {
        let logins: Vec<_> = (first..(first + 50).min(count))
            .map(|n| {
                let (setup, user) = (setup.clone(), user_of(n));
                tokio::spawn(async move {
                    let mut r = Recorder::default();
                    let mut c = timed(&mut r, "LOGIN", setup.login(&user)).await?;
                    timed(&mut r, "SELECT", c.command("SELECT INBOX")).await?;
                    timed(&mut r, "IDLE", c.idle()).await?;
                    Ok((c, r))
                })
            })
            .collect();
        for login in logins {
            outcomes.push(
                login
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string()))),
            );
        }
    }
    outcomes
}

/// IDLE push latency: `idlers` sessions of one user wait in IDLE; another
/// session APPENDs; the time until each idler hears EXISTS, `rounds` times.
pub async fn idle_latency(setup: &Setup, idlers: usize, rounds: usize) -> Summary {
    let user = setup.user(0).to_owned();
    let mut r = Recorder::default();
    let mut sessions = Vec::new();
    for outcome in open_idlers(setup, idlers, |_| user.clone()).await {
        match outcome {
            Ok((c, _)) => sessions.push(c),
            Err(e) => r.error("IDLE setup", &e),
        }
    }
    let start = Instant::now();
    let mut writer = setup.node(1).login(&user).await.expect("writer logs in");
    let mut generator = Generator::new(7);
    for _ in 0..rounds {
        let sent = Instant::now();
        let waiting: Vec<_> = sessions
            .drain(..)
            .map(|mut c| {
                tokio::spawn(async move {
                    let heard = c.wait_for(b"EXISTS", Duration::from_secs(60)).await;
                    (c, heard.map(|()| sent.elapsed()))
                })
            })
            .collect();
        let message = generator.message();
        let _ = timed(&mut r, "APPEND", writer.append("INBOX", &message)).await;
        for task in waiting {
            let (c, heard) = task.await.expect("idler task");
            match heard {
                Ok(took) => r.record("IDLE notify", took),
                Err(e) => r.error("IDLE notify", &e),
            }
            sessions.push(c);
        }
    }
    let mut summary = r.summary("idle-latency", start.elapsed(), setup.memory());
    summary.extra.insert("idlers".into(), sessions.len() as f64);
    summary
}
