//! POP3 (RFC 1939, RFC 2449, RFC 2595, RFC 5034) over real sockets:
//! Python's poplib in the clear, after STLS and over implicit TLS,
//! fetchmail as a real legacy client, and raw sessions for what clients
//! do not show (pipelining, bad input, limits, what IMAP sees after QUIT).

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use letterbox::config::{Config, ListenConfig};
use letterbox::store::{FetchRequest, Flags, MailboxName, SystemFlags};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn with_pop3(config: &mut Config) {
    let local = || ListenConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        ..ListenConfig::default()
    };
    config.pop3 = local();
    config.pop3s = local();
}

async fn pop3_server(adjust: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|config| {
        with_pop3(config);
        adjust(config);
    })
    .await
}

/// Stores `raw` in alice's INBOX as a delivery would; returns its UID.
fn append(server: &TestServer, raw: &[u8]) -> u32 {
    let user = blocking(|| server.store.find_user(USER).unwrap().unwrap().id);
    let message = letterbox::mail::new_message(raw, Flags::default(), chrono::Utc::now().into());
    blocking(|| {
        let inbox = MailboxName::new("INBOX").unwrap();
        server.store.append(user, &inbox, message).unwrap().uid
    })
}

/// Alice's INBOX: (UID, flags, octets) in UID order.
fn inbox(server: &TestServer) -> Vec<(u32, Flags, Vec<u8>)> {
    let user = blocking(|| server.store.find_user(USER).unwrap().unwrap().id);
    let selected = blocking(|| {
        server
            .store
            .select(user, &MailboxName::new("INBOX").unwrap(), false)
            .unwrap()
    });
    let uids: Vec<u32> = selected.messages.iter().map(|m| m.uid).collect();
    let raw = FetchRequest {
        index: false,
        raw: true,
    };
    blocking(|| server.store.fetch(selected.id, &uids, raw).unwrap())
        .into_iter()
        .map(|m| (m.uid, m.flags, m.raw.unwrap()))
        .collect()
}

fn uidvalidity(server: &TestServer) -> u32 {
    let user = blocking(|| server.store.find_user(USER).unwrap().unwrap().id);
    let inbox = MailboxName::new("INBOX").unwrap();
    blocking(|| server.store.status(user, &inbox).unwrap().uidvalidity)
}

/// Messages whose lines test the dot-stuffing and the line ends.
const SAMPLES: [&[u8]; 4] = [
    b"From: a@example.com\r\nSubject: first\r\n\r\nHello.\r\n",
    b"Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\nend.\r\n",
    b"Subject: no final line end\r\n\r\nlast line",
    b"Subject: empty body\r\n\r\n",
];

/// Puts the samples (and, when the shared corpus is there, some of its
/// real messages) in the INBOX; returns how many.
fn fill_inbox(server: &TestServer) -> usize {
    let mut count = 0;
    for raw in SAMPLES {
        append(server, raw);
        count += 1;
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail-parser");
    if !corpus.exists() {
        eprintln!("no corpus at {}: samples only", corpus.display());
    }
    for group in ["rfc", "legacy", "malformed", "thirdparty"] {
        let Ok(entries) = std::fs::read_dir(corpus.join(group)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        {
            append(server, &std::fs::read(path).unwrap());
            count += 1;
        }
    }
    count
}

/// Runs tests/clients/poplib_session.py in `mode` against `port`, with
/// the INBOX's stored octets as the expected messages.
async fn run_poplib(server: &TestServer, mode: &str, port: u16) -> String {
    let expected = tempfile::tempdir().unwrap();
    for (index, (_, _, raw)) in inbox(server).iter().enumerate() {
        std::fs::write(expected.path().join(format!("{index:05}")), raw).unwrap();
    }
    let script = format!(
        "{}/tests/clients/poplib_session.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut command = Command::new("python3");
    command
        .args([script.as_str(), mode, "localhost", &port.to_string()])
        .arg(&server.cert_path)
        .args([USER, PASSWORD])
        .arg(expected.path());
    let stdout = run_client(command).await;
    assert!(stdout.starts_with("poplib ok"), "{stdout}");
    stdout
}

/// After the poplib session: message 1 removed, every other one `\Seen`
/// (all were retrieved), and the unique-ids are UID and UIDVALIDITY.
fn check_after_poplib(server: &TestServer, before: &[(u32, Flags, Vec<u8>)], stdout: &str) {
    let validity = uidvalidity(server);
    let ids: Vec<&str> = stdout.split_whitespace().skip(2).collect();
    let expected: Vec<String> = before
        .iter()
        .map(|(uid, _, _)| format!("{uid:08x}{validity:08x}"))
        .collect();
    assert_eq!(ids, expected);
    let after = inbox(server);
    let uids: Vec<u32> = after.iter().map(|(uid, _, _)| *uid).collect();
    let remaining: Vec<u32> = before[1..].iter().map(|(uid, _, _)| *uid).collect();
    assert_eq!(uids, remaining);
    for (uid, flags, _) in &after {
        assert!(flags.system.has(SystemFlags::SEEN), "UID {uid}: {flags:?}");
    }
}

async fn poplib_round(mode: &str, allow_plaintext: bool) {
    let server = pop3_server(|c| c.auth.allow_plaintext = allow_plaintext).await;
    let count = fill_inbox(&server);
    let before = inbox(&server);
    assert_eq!(before.len(), count);
    let port = match mode {
        "pop3s" => server.pop3s.unwrap().port(),
        _ => server.pop3.unwrap().port(),
    };
    let stdout = run_poplib(&server, mode, port).await;
    check_after_poplib(&server, &before, &stdout);
}

#[tokio::test]
async fn poplib_in_the_clear_where_plaintext_is_allowed() {
    poplib_round("plain", true).await;
}

#[tokio::test]
async fn poplib_after_stls() {
    poplib_round("stls", false).await;
}

#[tokio::test]
async fn poplib_over_implicit_tls() {
    poplib_round("pop3s", false).await;
}

/// A raw POP3 client over plain TCP.
struct Pop3Client {
    stream: BufReader<TcpStream>,
}

impl Pop3Client {
    async fn connect(addr: SocketAddr) -> Pop3Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut client = Pop3Client {
            stream: BufReader::new(tcp),
        };
        let greeting = client.line().await;
        assert!(greeting.starts_with("+OK "), "{greeting}");
        client
    }

    /// Connected and logged in as alice (the server allows plaintext).
    async fn logged_in(addr: SocketAddr) -> Pop3Client {
        let mut client = Pop3Client::connect(addr).await;
        client.ok(&format!("USER {USER}")).await;
        client.ok(&format!("PASS {PASSWORD}")).await;
        client
    }

    async fn send(&mut self, bytes: &[u8]) {
        let stream = self.stream.get_mut();
        stream.write_all(bytes).await.unwrap();
        stream.flush().await.unwrap();
    }

    async fn line(&mut self) -> String {
        let mut line = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(20),
            self.stream.read_until(b'\n', &mut line),
        );
        let n = read.await.expect("a line in time").unwrap();
        assert!(n > 0, "connection closed");
        assert!(line.ends_with(b"\r\n"), "{line:?}");
        line.truncate(line.len() - 2);
        String::from_utf8_lossy(&line).into_owned()
    }

    /// Sends a command and returns its status line.
    async fn command(&mut self, command: &str) -> String {
        self.send(format!("{command}\r\n").as_bytes()).await;
        self.line().await
    }

    async fn ok(&mut self, command: &str) -> String {
        let line = self.command(command).await;
        assert!(line.starts_with("+OK"), "{command} -> {line}");
        line
    }

    async fn err(&mut self, command: &[u8]) -> String {
        self.send(command).await;
        let line = self.line().await;
        assert!(
            line.starts_with("-ERR"),
            "{:?} -> {line}",
            String::from_utf8_lossy(command)
        );
        line
    }

    /// The lines of a multi-line body, up to the lone `.`, as sent.
    async fn body(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            if line == "." {
                return lines;
            }
            lines.push(line);
        }
    }

    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        let read = tokio::io::AsyncReadExt::read_to_end(&mut self.stream, &mut rest);
        matches!(
            tokio::time::timeout(Duration::from_secs(20), read).await,
            Ok(Ok(0))
        )
    }
}

fn plaintext(config: &mut Config) {
    config.auth.allow_plaintext = true;
}

#[tokio::test]
async fn retr_is_dot_stuffed_on_the_wire() {
    let server = pop3_server(plaintext).await;
    append(&server, SAMPLES[1]);
    append(&server, SAMPLES[2]);
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    let size = SAMPLES[1].len();
    assert_eq!(pop.ok("RETR 1").await, format!("+OK {size} octets"));
    assert_eq!(
        pop.body().await,
        ["Subject: dots", "", "..", "...", "..leading dot", "end."]
    );
    // The missing last line end is added before the terminator.
    pop.ok("RETR 2").await;
    assert_eq!(
        pop.body().await,
        ["Subject: no final line end", "", "last line"]
    );
    pop.ok("TOP 1 1").await;
    assert_eq!(pop.body().await, ["Subject: dots", "", ".."]);
}

#[tokio::test]
async fn deletions_happen_at_quit_and_imap_sessions_see_them() {
    let server = pop3_server(plaintext).await;
    for n in 0..3 {
        append(&server, format!("Subject: {n}\r\n\r\nbody\r\n").as_bytes());
    }
    let before = inbox(&server);
    let mut imap = server.logged_in().await;
    imap.ok("SELECT INBOX").await;

    // A session that ends without QUIT changes nothing (RFC 1939 §6).
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    pop.ok("DELE 1").await;
    pop.ok("RETR 2").await;
    pop.body().await;
    drop(pop);
    // The next session finds all three, none read.
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    assert!(pop.ok("STAT").await.starts_with("+OK 3 "));
    pop.ok("RSET").await;
    drop(pop);
    assert_eq!(inbox(&server), before);

    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    pop.ok("DELE 1").await;
    pop.ok("DELE 3").await;
    pop.ok("RETR 2").await;
    pop.body().await;
    // Until QUIT, IMAP still sees all three.
    let noop = imap.ok("NOOP").await;
    assert!(!noop.iter().any(|l| l.contains("EXPUNGE")), "{noop:?}");
    assert_eq!(pop.ok("QUIT").await, "+OK Bye, 1 messages left");
    assert!(pop.closed().await);

    let noop = imap.ok("NOOP").await;
    assert_eq!(noop[..2], ["* 1 EXPUNGE", "* 2 EXPUNGE"]);
    assert!(noop[2].starts_with("* 1 FETCH ("), "{noop:?}");
    assert!(noop[2].contains("\\Seen"), "{noop:?}");
    let after = inbox(&server);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, before[1].0);
}

#[tokio::test]
async fn unique_ids_stay_across_sessions_and_are_never_reused() {
    let server = pop3_server(plaintext).await;
    let first = append(&server, b"Subject: a\r\n\r\nx\r\n");
    append(&server, b"Subject: b\r\n\r\nx\r\n");
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    pop.ok("UIDL").await;
    let listed = pop.body().await;
    pop.ok("DELE 2").await;
    pop.ok("QUIT").await;

    append(&server, b"Subject: c\r\n\r\nx\r\n");
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    pop.ok("UIDL").await;
    let again = pop.body().await;
    assert_eq!(again[0], listed[0], "message 1 keeps its unique-id");
    assert_eq!(again.len(), 2);
    let new_id = again[1].split(' ').nth(1).unwrap();
    assert!(
        !listed.iter().any(|l| l.ends_with(new_id)),
        "{listed:?} {again:?}"
    );
    let validity = uidvalidity(&server);
    assert_eq!(
        pop.ok("UIDL 1").await,
        format!("+OK 1 {first:08x}{validity:08x}")
    );
}

#[tokio::test]
async fn bad_input_gets_err_and_the_session_goes_on() {
    let server = pop3_server(|c| c.auth.allow_plaintext = false).await;
    append(&server, b"Subject: a\r\n\r\nx\r\n");
    let mut pop = Pop3Client::connect(server.pop3.unwrap()).await;
    // Not logged in yet.
    pop.err(b"STAT\r\n").await;
    pop.err(b"RETR 1\r\n").await;
    pop.err(b"PASS secret\r\n").await;
    // No password in the clear without TLS.
    let refused = pop.err(format!("USER {USER}\r\n").as_bytes()).await;
    assert!(refused.starts_with("-ERR [AUTH]"), "{refused}");
    let refused = pop.err(b"AUTH PLAIN AGFsaWNlAHNlY3JldCBwYXNz\r\n").await;
    assert!(refused.starts_with("-ERR [AUTH]"), "{refused}");
    for junk in [
        &b"\r\n"[..],
        b"XYZZY\r\n",
        b"\x00\xff\xfe\r\n",
        b"STAT STAT\r\n",
        b"AUTH CRAM-MD5\r\n",
        b"APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n",
    ] {
        pop.err(junk).await;
    }
    // An over-long line is refused once and skipped, without buffering it.
    let mut long = vec![b'A'; 100_000];
    long.extend_from_slice(b"\r\n");
    let too_long = pop.err(&long).await;
    assert_eq!(too_long, "-ERR Line too long");
    pop.ok("CAPA").await;
    let capabilities = pop.body().await;
    assert!(
        capabilities.contains(&"STLS".to_string()),
        "{capabilities:?}"
    );
    assert!(
        !capabilities.contains(&"USER".to_string()),
        "{capabilities:?}"
    );
    assert_eq!(pop.ok("QUIT").await, "+OK Bye");
}

#[tokio::test]
async fn transaction_commands_check_their_message_numbers() {
    let server = pop3_server(plaintext).await;
    append(&server, b"Subject: a\r\n\r\nx\r\n");
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    for bad in [
        "RETR 0", "RETR 2", "DELE 99", "LIST 2", "TOP 1", "TOP 2 0", "UIDL x", "RETR 1 1",
    ] {
        pop.err(format!("{bad}\r\n").as_bytes()).await;
    }
    pop.err(format!("USER {USER}\r\n").as_bytes()).await;
    pop.err(b"STLS\r\n").await;
    pop.ok("DELE 1").await;
    assert_eq!(pop.err(b"DELE 1\r\n").await, "-ERR Message is deleted");
    assert_eq!(pop.err(b"LIST 1\r\n").await, "-ERR Message is deleted");
    assert_eq!(pop.ok("STAT").await, "+OK 0 0");
    assert_eq!(pop.ok("RSET").await, "+OK 1 messages (17 octets)");
    assert_eq!(pop.ok("LIST 1").await, "+OK 1 17");
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let server = pop3_server(plaintext).await;
    append(&server, b"Subject: a\r\n\r\nx\r\n");
    append(&server, b"Subject: b\r\n\r\ny\r\n");
    let mut pop = Pop3Client::connect(server.pop3.unwrap()).await;
    let batch =
        format!("USER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nLIST\r\nRETR 2\r\nNOOP\r\nQUIT\r\n");
    pop.send(batch.as_bytes()).await;
    assert!(pop.line().await.starts_with("+OK"));
    assert!(pop.line().await.starts_with("+OK Logged in, 2 messages"));
    assert_eq!(pop.line().await, "+OK 2 34");
    assert_eq!(pop.line().await, "+OK 2 messages (34 octets)");
    assert_eq!(pop.body().await, ["1 17", "2 17"]);
    assert_eq!(pop.line().await, "+OK 17 octets");
    assert_eq!(pop.body().await, ["Subject: b", "", "y"]);
    assert_eq!(pop.line().await, "+OK");
    assert!(pop.line().await.starts_with("+OK Bye"));
    assert!(pop.closed().await);
}

#[tokio::test]
async fn failed_pop3_logins_lock_the_address_out_of_imap_too() {
    let server = pop3_server(|c| {
        c.auth.allow_plaintext = true;
        c.auth.max_failures = 3;
    })
    .await;
    let mut pop = Pop3Client::connect(server.pop3.unwrap()).await;
    for _ in 0..3 {
        pop.ok(&format!("USER {USER}")).await;
        let failed = pop.err(b"PASS wrong\r\n").await;
        assert_eq!(failed, "-ERR [AUTH] Authentication failed");
    }
    // Locked out: the right password is refused, over POP3 and IMAP.
    pop.ok(&format!("USER {USER}")).await;
    pop.err(format!("PASS {PASSWORD}\r\n").as_bytes()).await;
    let mut imap = server.plain().await;
    let login = imap.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(login.starts_with("NO [AUTHENTICATIONFAILED]"), "{login}");
}

#[tokio::test]
async fn app_passwords_log_in_over_pop3() {
    let server = pop3_server(plaintext).await;
    let hash = letterbox::auth::hash_password("scanner-pass");
    blocking(|| {
        server
            .store
            .add_app_password(USER, "scanner", &hash)
            .unwrap()
    });
    let mut pop = Pop3Client::connect(server.pop3.unwrap()).await;
    pop.ok(&format!("USER {USER}")).await;
    pop.ok("PASS scanner-pass").await;
    let apps = blocking(|| {
        let user = server.store.find_user(USER).unwrap().unwrap();
        server.store.app_passwords(user.id).unwrap()
    });
    assert!(apps[0].last_used.is_some(), "{apps:?}");
}

#[tokio::test]
async fn an_idle_client_is_logged_out() {
    let server = pop3_server(|c| c.limits.preauth_timeout_secs = 1).await;
    let mut pop = Pop3Client::connect(server.pop3.unwrap()).await;
    assert_eq!(pop.line().await, "-ERR Autologout; idle for too long");
    assert!(pop.closed().await);
}

#[tokio::test]
async fn shutdown_ends_sessions_without_removing_anything() {
    let mut server = pop3_server(plaintext).await;
    append(&server, b"Subject: a\r\n\r\nx\r\n");
    let mut pop = Pop3Client::logged_in(server.pop3.unwrap()).await;
    pop.ok("DELE 1").await;
    server.shutdown().await;
    assert_eq!(pop.line().await, "-ERR [SYS/TEMP] Server shutting down");
    assert_eq!(inbox(&server).len(), 1);
}

/// Runs fetchmail once against `port` (STLS, certificate checked)
/// with `options` (`keep` or `nokeep flush`), its UIDL list and log in
/// `work`, delivering each message to a file in `work/out`; returns how
/// many files `work/out` then holds.
fn fetchmail(work: &Path, port: u16, cert: &Path, options: &str, code: i32) -> usize {
    let out = work.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let rc = work.join("fetchmailrc");
    let mda = format!("/bin/sh -c 'cat > {}/$$.eml'", out.display());
    let log = work.join("log");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\nset logfile {log}\n\
             poll localhost protocol pop3 port {port} uidl:\n\
             \tuser \"{USER}\" password \"{PASSWORD}\" is \"{USER}\" here\n\
             \t{options} sslproto tls1.2+ sslcertck sslcertfile \"{cert}\" mda \"{mda}\"\n",
            log = log.display(),
            cert = cert.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let output = Command::new("fetchmail")
        .env("HOME", work)
        .env("FETCHMAILHOME", work)
        .arg("--fetchmailrc")
        .arg(&rc)
        .args(["--nodetach", "--invisible", "--nosyslog"])
        .output()
        .expect("fetchmail is installed (the README lists it)");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    // 0: mail fetched; 1: no mail.
    assert_eq!(output.status.code(), Some(code), "{output:?}\n{log}");
    std::fs::read_dir(&out).unwrap().count()
}

/// fetchmail, the classic legacy client: with `keep` and UIDL it fetches
/// each message once across runs; with `nokeep flush` it deletes them,
/// and IMAP finds the INBOX empty.
#[tokio::test]
async fn fetchmail_fetches_each_message_once_then_empties_the_inbox() {
    let server = pop3_server(|_| {}).await;
    for n in 0..3 {
        append(
            &server,
            format!("Subject: m{n}\r\n\r\n.dot line {n}\r\n").as_bytes(),
        );
    }
    let work = tempfile::tempdir().unwrap();
    let port = server.pop3.unwrap().port();
    let run = |options: &'static str, code| {
        let (work, cert) = (work.path().to_owned(), server.cert_path.clone());
        tokio::task::spawn_blocking(move || fetchmail(&work, port, &cert, options, code))
    };
    assert_eq!(run("keep", 0).await.unwrap(), 3, "three messages fetched");
    assert_eq!(run("keep", 1).await.unwrap(), 3, "nothing fetched twice");
    for file in std::fs::read_dir(work.path().join("out")).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert!(text.contains("\n.dot line"), "dot-stuffing undone: {text}");
    }
    append(&server, b"Subject: later\r\n\r\nnew\r\n");
    assert_eq!(
        run("keep", 0).await.unwrap(),
        4,
        "only the new message fetched"
    );
    // Nothing new to fetch (exit 1), but the old messages are flushed.
    run("nokeep flush", 1).await.unwrap();
    assert!(
        inbox(&server).is_empty(),
        "fetchmail deleted what it fetched"
    );
    let mut imap = server.logged_in().await;
    let status = imap.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 0)");
}

/// AUTH PLAIN the way Thunderbird sends it (the response after `+ `),
/// with `*` to cancel, bare AUTH listing the mechanism, and no echo of an
/// unknown one.
#[tokio::test]
async fn auth_plain_with_a_continuation() {
    let server = pop3_server(plaintext).await;
    let mut pop = Pop3Client::connect(server.pop3.unwrap()).await;
    pop.ok("AUTH").await;
    assert_eq!(pop.body().await, ["PLAIN"]);
    let unknown = pop.err(b"AUTH X-SECRET-MECHANISM\r\n").await;
    assert!(!unknown.contains("X-SECRET"), "{unknown}");
    assert_eq!(pop.command("AUTH PLAIN").await, "+ ");
    assert_eq!(pop.err(b"*\r\n").await, "-ERR Authentication cancelled");
    assert_eq!(pop.command("AUTH PLAIN").await, "+ ");
    pop.err(b"not base64!\r\n").await;
    assert_eq!(pop.command("AUTH PLAIN").await, "+ ");
    let credentials = base64_plain(USER, PASSWORD);
    let logged_in = pop.ok(&credentials).await;
    assert!(logged_in.starts_with("+OK Logged in"), "{logged_in}");
}

fn base64_plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}
