//! Crash consistency: the real binary is killed with SIGKILL at random
//! moments while clients APPEND, deliver over LMTP, STORE and EXPUNGE.
//! After every kill the database must pass `integrity_check` and hold every
//! change the server acknowledged: messages byte for byte, flags, expunges,
//! UIDs that never repeat or go backwards, and an unchanged UIDVALIDITY.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::binary::{add_user, free_port, serve, write_config};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const ROUNDS: usize = 20;
const PASSWORD: &str = "crash test";

/// Everything the server acknowledged, across all rounds.
#[derive(Default)]
struct Ledger {
    /// INBOX UID -> octets, from APPEND's APPENDUID.
    inbox: BTreeMap<u32, Vec<u8>>,
    /// INBOX UIDs whose `STORE +FLAGS (\Flagged)` was acknowledged.
    flagged: BTreeSet<u32>,
    /// LMTP deliveries acknowledged with 250: token -> octets sent.
    delivered: BTreeMap<String, Vec<u8>>,
    /// Churn UIDs appended and not (acknowledged) expunged.
    churn_live: BTreeSet<u32>,
    /// Churn UIDs whose EXPUNGE was sent but not answered: either way is
    /// right after a kill.
    churn_doomed: BTreeSet<u32>,
    churn_expunged: BTreeSet<u32>,
    /// The lowest UID an acknowledgement may carry this round, per mailbox:
    /// the UIDNEXT seen after the last restart.
    floor: BTreeMap<&'static str, u32>,
    /// Every UID ever acknowledged, per mailbox.
    seen: BTreeMap<&'static str, BTreeSet<u32>>,
}

impl Ledger {
    /// Records an APPENDUID, checking that the UID is new and not below
    /// what the server had already handed out before the last crash.
    fn acknowledged_uid(&mut self, mailbox: &'static str, uid: u32) {
        let floor = self.floor.get(mailbox).copied().unwrap_or(1);
        assert!(uid >= floor, "{mailbox}: UID {uid} below UIDNEXT {floor}");
        assert!(
            self.seen.entry(mailbox).or_default().insert(uid),
            "{mailbox}: UID {uid} handed out twice"
        );
    }
}

type Shared = Arc<Mutex<Ledger>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_never_loses_acknowledged_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (imap, lmtp) = (free_port(), free_port());
    let extra = format!(
        "[imap]\nlisten = [\"127.0.0.1:{imap}\"]\n[auth]\nallow_plaintext = true\n\
         failure_delay_ms = 0\n[lmtp]\nlisten = [\"127.0.0.1:{lmtp}\"]\n"
    );
    let config = write_config(dir.path(), "letterbox.toml", &extra);
    add_user(&config, "alice", PASSWORD);
    let database = dir.path().join("data/letterbox.db");

    let seed: u64 = rand::thread_rng().r#gen();
    println!("seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let ledger = Shared::default();
    let mut uidvalidity = BTreeMap::new();
    for round in 0..ROUNDS {
        let mut server = serve(&config, imap).await;
        if round == 0 {
            let mut c = Session::login(imap).await.unwrap();
            c.command("CREATE Churn").await.unwrap();
        }
        verify(imap, &ledger, &mut uidvalidity).await;

        let workers = vec![
            tokio::spawn(appender(imap, ledger.clone(), round, 0, rng.r#gen())),
            tokio::spawn(appender(imap, ledger.clone(), round, 1, rng.r#gen())),
            tokio::spawn(deliverer(lmtp, ledger.clone(), round, rng.r#gen())),
            tokio::spawn(flagger(imap, ledger.clone(), rng.r#gen())),
            tokio::spawn(churner(imap, ledger.clone(), round, rng.r#gen())),
        ];
        let pause = rng.gen_range(150..1200);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill().unwrap();
        server.wait().unwrap();
        for worker in workers {
            // Each worker stops at its first I/O error: the kill.
            tokio::time::timeout(Duration::from_secs(30), worker)
                .await
                .expect("worker notices the kill")
                .unwrap();
        }

        // The file must be sound (PostgreSQL keeps its own WAL: verify
        // below covers it).
        if !common::on_postgres() {
            let store = letterbox::store::sqlite::SqliteStore::open(
                &database,
                letterbox::config::Synchronous::Full,
            )
            .unwrap();
            assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        }
    }
    let _server = KillOnDrop(serve(&config, imap).await);
    verify(imap, &ledger, &mut uidvalidity).await;
    let ledger = ledger.lock().unwrap();
    println!(
        "{ROUNDS} kills: {} APPENDs, {} deliveries, {} flag changes, {} expunges acknowledged",
        ledger.seen.values().map(BTreeSet::len).sum::<usize>(),
        ledger.delivered.len(),
        ledger.flagged.len(),
        ledger.churn_expunged.len()
    );
    // The kills must have hit work in progress, or the test proves little.
    assert!(ledger.inbox.len() >= ROUNDS && ledger.delivered.len() >= ROUNDS);
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Checks the restarted server against the ledger and sets the UID floors
/// for the next round.
async fn verify(imap: u16, ledger: &Shared, uidvalidity: &mut BTreeMap<&'static str, u32>) {
    let mut c = Session::login(imap).await.unwrap();
    for mailbox in ["INBOX", "Churn"] {
        let lines = c.command(&format!("SELECT {mailbox}")).await.unwrap();
        let validity = code_number(&lines, "UIDVALIDITY").unwrap();
        let uidnext = code_number(&lines, "UIDNEXT").unwrap();
        let first = *uidvalidity.entry(mailbox).or_insert(validity);
        assert_eq!(validity, first, "{mailbox}: UIDVALIDITY changed");
        let messages = c.fetch_all().await.unwrap();
        let mut ledger = ledger.lock().unwrap();
        let highest = ledger.seen.get(mailbox).and_then(|s| s.last()).copied();
        assert!(
            highest.is_none_or(|h| uidnext > h),
            "{mailbox}: UIDNEXT {uidnext} not above acknowledged UID {highest:?}"
        );
        ledger.floor.insert(mailbox, uidnext);
        if mailbox == "INBOX" {
            check_inbox(&ledger, &messages);
        } else {
            for uid in &ledger.churn_live {
                assert!(messages.contains_key(uid), "Churn UID {uid} lost");
            }
            for uid in &ledger.churn_expunged {
                assert!(!messages.contains_key(uid), "Churn UID {uid} came back");
            }
        }
    }
}

fn check_inbox(ledger: &Ledger, messages: &BTreeMap<u32, Fetched>) {
    for (uid, octets) in &ledger.inbox {
        let found = messages
            .get(uid)
            .unwrap_or_else(|| panic!("UID {uid} lost"));
        assert!(found.octets == *octets, "UID {uid} changed");
    }
    for uid in &ledger.flagged {
        assert!(
            messages[uid].flags.contains("\\Flagged"),
            "UID {uid} lost \\Flagged"
        );
    }
    for (token, sent) in &ledger.delivered {
        // Delivery adds Return-Path and Delivered-To above the message.
        assert!(
            messages.values().any(|m| m.octets.ends_with(sent)),
            "delivery {token} lost"
        );
    }
}

fn message(kind: &str, token: &str, rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let lines = rng.gen_range(0..200);
    let mut text = format!(
        "From: crash@example.org\r\nSubject: {kind} {token}\r\nMessage-ID: <{token}@crash>\r\n\r\n"
    );
    for n in 0..lines {
        text.push_str(&format!("{token} line {n} {}\r\n", rng.r#gen::<u64>()));
    }
    text.into_bytes()
}

/// APPENDs to INBOX until the connection dies.
async fn appender(imap: u16, ledger: Shared, round: usize, id: usize, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let Ok(mut c) = Session::login(imap).await else {
        return;
    };
    for n in 0.. {
        let octets = message("append", &format!("r{round}a{id}n{n}"), &mut rng);
        let Ok(lines) = c.append("INBOX", &octets).await else {
            return;
        };
        let uid = appended_uid(&lines);
        let mut ledger = ledger.lock().unwrap();
        ledger.acknowledged_uid("INBOX", uid);
        ledger.inbox.insert(uid, octets);
    }
}

/// Sets \Flagged on acknowledged INBOX messages until the connection dies.
async fn flagger(imap: u16, ledger: Shared, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let Ok(mut c) = Session::login(imap).await else {
        return;
    };
    if c.command("SELECT INBOX").await.is_err() {
        return;
    }
    loop {
        let uid = {
            let ledger = ledger.lock().unwrap();
            let count = ledger.inbox.len();
            (count > 0).then(|| *ledger.inbox.keys().nth(rng.gen_range(0..count)).unwrap())
        };
        let Some(uid) = uid else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        if c.command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Flagged)"))
            .await
            .is_err()
        {
            return;
        }
        ledger.lock().unwrap().flagged.insert(uid);
    }
}

/// APPENDs to Churn and expunges some of what it appended, until the
/// connection dies.
async fn churner(imap: u16, ledger: Shared, round: usize, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let Ok(mut c) = Session::login(imap).await else {
        return;
    };
    if c.command("SELECT Churn").await.is_err() {
        return;
    }
    for n in 0.. {
        let octets = message("churn", &format!("r{round}c{n}"), &mut rng);
        let Ok(lines) = c.append("Churn", &octets).await else {
            return;
        };
        let uid = appended_uid(&lines);
        {
            let mut ledger = ledger.lock().unwrap();
            ledger.acknowledged_uid("Churn", uid);
            ledger.churn_live.insert(uid);
        }
        if n % 3 != 2 {
            continue;
        }
        let doomed: Vec<u32> = {
            let ledger = ledger.lock().unwrap();
            let live: Vec<u32> = ledger.churn_live.iter().copied().collect();
            (0..2).map(|_| live[rng.gen_range(0..live.len())]).collect()
        };
        let set = format!("{},{}", doomed[0], doomed[1]);
        {
            let mut ledger = ledger.lock().unwrap();
            for uid in &doomed {
                ledger.churn_live.remove(uid);
                ledger.churn_doomed.insert(*uid);
            }
        }
        let stored = c
            .command(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"))
            .await;
        if stored.is_err() || c.command(&format!("UID EXPUNGE {set}")).await.is_err() {
            return;
        }
        let mut ledger = ledger.lock().unwrap();
        for uid in doomed {
            ledger.churn_doomed.remove(&uid);
            ledger.churn_expunged.insert(uid);
        }
    }
}

/// Delivers over LMTP until the connection dies.
async fn deliverer(lmtp: u16, ledger: Shared, round: usize, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let Ok(tcp) = TcpStream::connect(("127.0.0.1", lmtp)).await else {
        return;
    };
    let mut lmtp = BufReader::new(tcp);
    if smtp_reply(&mut lmtp).await.is_err() {
        return;
    }
    for n in 0.. {
        let token = format!("r{round}d{n}");
        let octets = message("lmtp", &token, &mut rng);
        let mut transaction =
            b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n".to_vec();
        if n == 0 {
            transaction.splice(0..0, b"LHLO crash.test\r\n".iter().copied());
        }
        let ok = async {
            lmtp.get_mut().write_all(&transaction).await?;
            for _ in 0..if n == 0 { 4 } else { 3 } {
                smtp_reply(&mut lmtp).await?;
            }
            lmtp.get_mut().write_all(&octets).await?;
            lmtp.get_mut().write_all(b".\r\n").await?;
            let reply = smtp_reply(&mut lmtp).await?;
            std::io::Result::Ok(reply.starts_with("250"))
        }
        .await;
        match ok {
            Ok(true) => {
                ledger.lock().unwrap().delivered.insert(token, octets);
            }
            Ok(false) => panic!("delivery refused"),
            Err(_) => return,
        }
    }
}

/// Reads one (possibly multi-line) SMTP reply; its last line.
async fn smtp_reply(lmtp: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    loop {
        let mut line = String::new();
        if lmtp.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(line);
        }
    }
}

fn appended_uid(lines: &[String]) -> u32 {
    let tagged = lines.last().unwrap();
    let code = tagged
        .split_once("[APPENDUID ")
        .unwrap_or_else(|| panic!("no APPENDUID: {tagged}"))
        .1;
    code.split([' ', ']']).nth(1).unwrap().parse().unwrap()
}

fn code_number(lines: &[String], code: &str) -> Option<u32> {
    let prefix = format!("[{code} ");
    lines.iter().find_map(|l| {
        let rest = l.split_once(&prefix)?.1;
        rest.split(']').next()?.parse().ok()
    })
}

struct Fetched {
    flags: String,
    octets: Vec<u8>,
}

/// An IMAP client whose every step returns an error instead of panicking,
/// because the server dies under it on purpose. A NO or BAD is a test
/// failure (nothing here is refused normally), so it panics.
struct Session {
    stream: BufReader<TcpStream>,
    tag: u32,
}

impl Session {
    async fn login(port: u16) -> std::io::Result<Session> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let mut session = Session {
            stream: BufReader::new(tcp),
            tag: 0,
        };
        session.read_response().await?;
        session
            .command(&format!("LOGIN alice \"{PASSWORD}\""))
            .await?;
        Ok(session)
    }

    async fn command(&mut self, command: &str) -> std::io::Result<Vec<String>> {
        self.send(command.as_bytes(), &[]).await
    }

    async fn append(&mut self, mailbox: &str, octets: &[u8]) -> std::io::Result<Vec<String>> {
        let head = format!("APPEND {mailbox} {{{}+}}\r\n", octets.len());
        self.send(head.as_bytes(), octets).await
    }

    /// Sends `tag command literal CRLF`; the lines up to the tagged reply.
    async fn send(&mut self, command: &[u8], literal: &[u8]) -> std::io::Result<Vec<String>> {
        self.tag += 1;
        let tag = format!("c{}", self.tag);
        let mut bytes = format!("{tag} ").into_bytes();
        bytes.extend_from_slice(command);
        bytes.extend_from_slice(literal);
        bytes.extend_from_slice(b"\r\n");
        self.stream.get_mut().write_all(&bytes).await?;
        let lines = self.read_response_to(&tag).await?;
        let last = lines.last().unwrap();
        assert!(
            last.starts_with(&format!("{tag} OK")),
            "{}: {last}",
            String::from_utf8_lossy(command)
        );
        Ok(lines)
    }

    async fn read_response(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.stream.read_until(b'\n', &mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            out.extend_from_slice(&line);
            let size = line
                .strip_suffix(b"}\r\n")
                .and_then(|l| l.rsplit(|&b| b == b'{').next())
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok());
            let Some(size) = size else {
                return Ok(out);
            };
            let mut literal = vec![0; size];
            self.stream.read_exact(&mut literal).await?;
            out.extend_from_slice(&literal);
        }
    }

    async fn read_response_to(&mut self, tag: &str) -> std::io::Result<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            let line = String::from_utf8_lossy(&self.read_response().await?).into_owned();
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return Ok(lines);
            }
        }
    }

    /// UID, FLAGS and octets of every message in the selected mailbox.
    async fn fetch_all(&mut self) -> std::io::Result<BTreeMap<u32, Fetched>> {
        self.tag += 1;
        let tag = format!("c{}", self.tag);
        let command = format!("{tag} UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n");
        self.stream.get_mut().write_all(command.as_bytes()).await?;
        let mut messages = BTreeMap::new();
        loop {
            let response = self.read_response().await?;
            if response.starts_with(tag.as_bytes()) {
                assert!(response.starts_with(format!("{tag} OK").as_bytes()));
                return Ok(messages);
            }
            let (uid, fetched) = parse_fetch(&response);
            messages.insert(uid, fetched);
        }
    }
}

/// `* n FETCH (UID u FLAGS (...) BODY[] {len}\r\n<octets>)\r\n`, in the
/// order the server writes the items.
fn parse_fetch(response: &[u8]) -> (u32, Fetched) {
    let text = String::from_utf8_lossy(response);
    let uid = text.split("UID ").nth(1).unwrap();
    let uid: u32 = uid.split([' ', ')']).next().unwrap().parse().unwrap();
    let flags = text.split("FLAGS (").nth(1).unwrap();
    let flags = flags.split(')').next().unwrap().to_owned();
    let open = response.windows(8).position(|w| w == b"BODY[] {").unwrap() + 8;
    let close = open + response[open..].iter().position(|&b| b == b'}').unwrap();
    let len: usize = std::str::from_utf8(&response[open..close])
        .unwrap()
        .parse()
        .unwrap();
    let start = close + 3;
    let octets = response[start..start + len].to_vec();
    (uid, Fetched { flags, octets })
}
