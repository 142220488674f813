//! The PostgreSQL backend beyond the conformance suite: its schema
//! versions, and several nodes on one database. Against the cluster that
//! `LETTERBOX_TEST_POSTGRES` names; skipped without one (never in CI).

mod common;

use std::path::PathBuf;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::binary::{add_user, free_port, serve, write_config};
use common::test_database::TestDatabase;
use common::{Client, PASSWORD, USER, blocking};
use letterbox::store::postgres::{PgOptions, PgStore};
use letterbox::store::{MailStore, StoreError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[test]
fn the_schema_migrates_once_and_a_newer_one_is_refused() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    drop(PgStore::open(&database.url, PgOptions::default()).unwrap());
    // A second node (or a restart) finds the schema current.
    drop(PgStore::open(&database.url, PgOptions::default()).unwrap());
    let mut client = postgres::Client::connect(&database.url, postgres::NoTls).unwrap();
    client
        .execute("UPDATE schema_version SET version = version + 1", &[])
        .unwrap();
    match PgStore::open(&database.url, PgOptions::default()) {
        Err(StoreError::Refused(message)) => assert!(message.contains("newer"), "{message}"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
}

/// One letterbox process of several on one database.
struct Node {
    imap: u16,
    lmtp: u16,
    config: PathBuf,
    process: Child,
    _dir: tempfile::TempDir,
}

impl Node {
    async fn start(database_url: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let (imap, lmtp) = (free_port(), free_port());
        let extra = format!(
            "[imap]\nlisten = [\"127.0.0.1:{imap}\"]\n[auth]\nallow_plaintext = true\n\
             failure_delay_ms = 0\n[lmtp]\nlisten = [\"127.0.0.1:{lmtp}\"]\n\
             [store]\nbackend = \"postgres\"\nurl = {database_url:?}\n"
        );
        let config = write_config(dir.path(), "letterbox.toml", &extra);
        let process = serve(&config, imap).await;
        Node {
            imap,
            lmtp,
            config,
            process,
            _dir: dir,
        }
    }

    async fn login(&self) -> Client {
        let mut client = Client::plain(format!("127.0.0.1:{}", self.imap).parse().unwrap()).await;
        client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        client
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Two nodes on one new database, with alice created through the first.
async fn two_nodes() -> Option<(TestDatabase, Node, Node)> {
    let database = TestDatabase::create()?;
    let a = Node::start(&database.url).await;
    let b = Node::start(&database.url).await;
    add_user(&a.config, USER, PASSWORD);
    Some((database, a, b))
}

/// APPEND of `raw` with a non-synchronizing literal; the tagged reply.
async fn append(client: &mut Client, tag: &str, raw: &str) -> String {
    let command = format!("{tag} APPEND INBOX {{{}+}}\r\n{raw}\r\n", raw.len());
    client.send(command.as_bytes()).await;
    client.until_tagged(tag).await.pop().unwrap()
}

/// The UID an `OK [APPENDUID v uid]` reply gives.
fn appended_uid(tagged: &str) -> u32 {
    let code = tagged.split("[APPENDUID ").nth(1).expect(tagged);
    code.split([' ', ']']).nth(1).unwrap().parse().unwrap()
}

/// Reads lines until one satisfies `wanted`; how long it took.
async fn wait_for(client: &mut Client, wanted: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let line = client.line().await;
        if wanted(&line) {
            return started.elapsed();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_on_one_node_sees_what_happens_on_the_other() {
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let mut idler = a.login().await;
    idler.ok("SELECT INBOX").await;
    idler.send(b"i1 IDLE\r\n").await;
    assert!(idler.line().await.starts_with("+ "));

    let mut writer = b.login().await;
    let tagged = append(&mut writer, "w1", "Subject: one\r\n\r\nfrom node B\r\n").await;
    assert!(tagged.contains("OK [APPENDUID"), "{tagged}");
    let latency = wait_for(&mut idler, |l| l == "* 1 EXISTS").await;
    eprintln!("APPEND on B reached IDLE on A in {latency:?}");

    writer.ok("SELECT INBOX").await;
    writer.ok("STORE 1 +FLAGS (\\Flagged)").await;
    wait_for(&mut idler, |l| {
        l.starts_with("* 1 FETCH") && l.contains("\\Flagged")
    })
    .await;

    // A delivery over LMTP to node B.
    let stream = TcpStream::connect(("127.0.0.1", b.lmtp)).await.unwrap();
    let mut lmtp = BufReader::new(stream);
    let mut reply = String::new();
    let rcpt = format!("RCPT TO:<{USER}@example.com>");
    for (command, expected) in [
        (None, "220 "),
        (Some("LHLO test"), "250 "),
        (Some("MAIL FROM:<sender@example.net>"), "250 "),
        (Some(rcpt.as_str()), "250 "),
        (Some("DATA"), "354 "),
        (Some("Subject: two\r\n\r\ndelivered to B\r\n."), "250 "),
    ] {
        if let Some(command) = command {
            let line = format!("{command}\r\n");
            lmtp.get_mut().write_all(line.as_bytes()).await.unwrap();
        }
        loop {
            reply.clear();
            lmtp.read_line(&mut reply).await.unwrap();
            if !reply.starts_with("250-") {
                break;
            }
        }
        assert!(reply.starts_with(expected), "{command:?}: {reply}");
    }
    wait_for(&mut idler, |l| l == "* 2 EXISTS").await;
    idler.send(b"DONE\r\n").await;
    wait_for(&mut idler, |l| l.starts_with("i1 OK")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_through_both_nodes_get_distinct_increasing_uids() {
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let mut writers = Vec::new();
    for client in 0..8 {
        let node = if client % 2 == 0 { &a } else { &b };
        let mut session = node.login().await;
        writers.push(tokio::spawn(async move {
            let mut uids = Vec::new();
            for n in 0..10 {
                let raw = format!("Subject: client {client} message {n}\r\n\r\nx\r\n");
                uids.push(appended_uid(
                    &append(&mut session, &format!("a{n}"), &raw).await,
                ));
            }
            uids
        }));
    }
    let mut all = Vec::new();
    for writer in writers {
        let uids = writer.await.unwrap();
        assert!(uids.windows(2).all(|w| w[0] < w[1]), "{uids:?}");
        all.extend(uids);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=80).collect::<Vec<u32>>(),
        "distinct, none skipped"
    );
    // Every acknowledged message is there, seen from either node.
    for node in [&a, &b] {
        let mut reader = node.login().await;
        let selected = reader.ok("SELECT INBOX").await;
        assert!(
            selected.contains(&"* 80 EXISTS".to_string()),
            "{selected:?}"
        );
    }
}

/// A node killed mid-APPEND loses nothing it acknowledged: the other node
/// serves every message either acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_during_appends_loses_nothing_acknowledged() {
    let Some((_database, a, mut b)) = two_nodes().await else {
        return;
    };
    let mut writers = Vec::new();
    for (client, port) in [(0, a.imap), (1, b.imap), (2, b.imap)] {
        writers.push(tokio::spawn(append_until_cut(port, client)));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    b.process.kill().unwrap();
    b.process.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    let from_b = acknowledged
        .iter()
        .filter(|(client, _)| *client > 0)
        .count();
    assert!(from_b > 0, "node B acknowledged appends before the kill");
    let mut reader = a.login().await;
    reader.ok("SELECT INBOX").await;
    let fetched = reader
        .ok("UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        .await;
    let text = fetched.join("\n");
    for (client, n) in &acknowledged {
        let subject = format!("Subject: client {client} message {n}\r");
        assert!(text.contains(&subject), "{subject:?} lost");
    }
}

/// Appends `client N message n` through the node on `port` until the
/// connection fails (client 0's node stays up: it stops after 40); the
/// (client, n) of every acknowledged APPEND.
async fn append_until_cut(port: u16, client: u32) -> Vec<(u32, u32)> {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return Vec::new();
    };
    let mut stream = BufReader::new(stream);
    let mut acknowledged = Vec::new();
    let mut line = String::new();
    let mut exchange = async |stream: &mut BufReader<TcpStream>, command: String| {
        stream.get_mut().write_all(command.as_bytes()).await.ok()?;
        loop {
            line.clear();
            if stream.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            if line.starts_with("a ") {
                return Some(line.starts_with("a OK"));
            }
        }
    };
    if exchange(&mut stream, format!("a LOGIN {USER} \"{PASSWORD}\"\r\n")).await != Some(true) {
        return acknowledged;
    }
    for n in 0.. {
        if client == 0 && n == 40 {
            break;
        }
        let raw = format!("Subject: client {client} message {n}\r\n\r\nx\r\n");
        let command = format!("a APPEND INBOX {{{}+}}\r\n{raw}\r\n", raw.len());
        match exchange(&mut stream, command).await {
            Some(true) => acknowledged.push((client, n)),
            Some(false) => panic!("APPEND refused: {line}"),
            None => break,
        }
    }
    acknowledged
}

/// PostgreSQL stopped under load and started again: commands in flight
/// fail with `NO [UNAVAILABLE]` (never a hang, never another answer), the
/// IDLE session on node A stays, and both nodes recover by themselves:
/// APPENDs through node B work again and reach A's IDLE session, which
/// needs A to have listened again on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_restarting_under_load() {
    if std::env::var("LETTERBOX_TEST_POSTGRES").is_err() {
        return;
    }
    let cluster = blocking(PrivateCluster::create).expect("PostgreSQL's programs");
    let node = Node::start(&cluster.url()).await;
    let other = Node::start(&cluster.url()).await;
    add_user(&node.config, USER, PASSWORD);
    let mut idler = node.login().await;
    idler.ok("SELECT INBOX").await;
    idler.send(b"i1 IDLE\r\n").await;
    assert!(idler.line().await.starts_with("+ "));

    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = other.login().await;
    let writing = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for n in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let raw = format!("Subject: message {n}\r\n\r\nx\r\n");
                let tagged = append(&mut writer, &format!("a{n}"), &raw).await;
                answers.push(tagged.split_once(' ').unwrap().1.to_owned());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    blocking(|| cluster.stop());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    blocking(|| cluster.start());
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    let answers = writing.await.unwrap();
    let ok = answers.iter().filter(|a| a.starts_with("OK")).count();
    let unavailable = answers
        .iter()
        .filter(|a| a.starts_with("NO [UNAVAILABLE]"))
        .count();
    eprintln!("{ok} APPENDs acknowledged, {unavailable} refused as unavailable");
    assert_eq!(ok + unavailable, answers.len(), "{answers:#?}");
    assert!(unavailable > 0, "the outage was noticed: {answers:#?}");
    assert!(
        answers.last().unwrap().starts_with("OK"),
        "recovered by itself: {answers:#?}"
    );
    // The IDLE session stayed, and hears of the last message.
    let expected = format!("* {ok} EXISTS");
    wait_for(&mut idler, |l| l == expected).await;
    idler.send(b"DONE\r\n").await;
    wait_for(&mut idler, |l| l.starts_with("i1 OK")).await;
    let mut reader = node.login().await;
    let selected = reader.ok("SELECT INBOX").await;
    assert!(selected.contains(&expected), "{selected:?}");
}

/// With TLS required, the database's certificate must chain to
/// `ca_file` (or the system's roots): a self-signed one is refused
/// without it, and with it the connection is encrypted.
#[test]
fn the_database_connection_is_encrypted_and_its_certificate_checked() {
    if std::env::var("LETTERBOX_TEST_POSTGRES").is_err() {
        return;
    }
    let cluster = PrivateCluster::create_with(true).expect("PostgreSQL's programs");
    let url = format!(
        "postgresql://letterbox@localhost:{}/postgres?sslmode=require",
        cluster.port
    );
    match PgStore::open(&url, PgOptions::default()) {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("certificate"), "{message}")
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("an unknown certificate was accepted"),
    }
    let options = PgOptions {
        ca_file: Some(cluster.dir.join("cert.pem")),
        ..PgOptions::default()
    };
    let store = PgStore::open(&url, options.clone()).unwrap();
    assert_eq!(store.find_user("nobody"), Ok(None));
    let mut client = letterbox::store::postgres::connect(&url, options).unwrap();
    let encrypted: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(encrypted);
}

/// A PostgreSQL cluster of this test's own, which it may stop and start
/// (the shared test cluster serves the other tests meanwhile). `None`
/// without PostgreSQL's programs (Debian's `postgresql`).
struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: then it runs as `postgres`.
    as_postgres: bool,
    /// Serving TLS with a self-signed certificate for localhost
    /// (`cert.pem` in `dir`).
    tls: bool,
}

impl PrivateCluster {
    fn create() -> Option<PrivateCluster> {
        PrivateCluster::create_with(false)
    }

    fn create_with(tls: bool) -> Option<PrivateCluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max()?;
        let uid = std::process::Command::new("id").arg("-u").output().ok()?;
        let cluster = PrivateCluster {
            bin,
            dir: tempfile::Builder::new()
                .prefix("letterbox-pg-test")
                .tempdir_in("/tmp")
                .unwrap()
                .keep(),
            port: free_port(),
            as_postgres: String::from_utf8_lossy(&uid.stdout).trim() == "0",
            tls,
        };
        if cluster.as_postgres {
            let chown = std::process::Command::new("chown")
                .arg("postgres")
                .arg(&cluster.dir)
                .status()
                .unwrap();
            assert!(chown.success());
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str()?,
                "-U",
                "letterbox",
                "--auth=trust",
                "--no-sync",
            ],
        );
        if tls {
            cluster.install_certificate(&data);
        }
        cluster.start();
        Some(cluster)
    }

    /// A self-signed certificate for localhost, as the server's (PEM in
    /// `data`, the key readable by its owner only) and in `cert.pem`.
    fn install_certificate(&self, data: &std::path::Path) {
        let (cert, key) = letterbox::tls::self_signed_localhost().unwrap();
        std::fs::write(self.dir.join("cert.pem"), &cert).unwrap();
        for (file, text) in [("server.crt", &cert), ("server.key", &key)] {
            let path = data.join(file);
            std::fs::write(&path, text).unwrap();
            let mut commands = vec![vec!["chmod", "600"]];
            if self.as_postgres {
                commands.push(vec!["chown", "postgres"]);
            }
            for command in commands {
                let status = std::process::Command::new(command[0])
                    .args(&command[1..])
                    .arg(&path)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = match self.as_postgres {
            true => {
                let mut command = std::process::Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(program);
                command
            }
            false => std::process::Command::new(program),
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} -c fsync=off \
             -c ssl={}",
            self.port,
            self.dir.display(),
            if self.tls { "on" } else { "off" }
        );
        let mut args = vec!["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap()];
        args.extend(["-w", "-o", &options]);
        args.extend(action);
        self.run("pg_ctl", &args);
    }

    fn start(&self) {
        self.pg_ctl(&["start"]);
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgresql://letterbox@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.pg_ctl(&["-m", "immediate", "stop"])
        }));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
