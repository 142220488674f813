//! `letterbox migrate imap` against a real Dovecot (Debian's
//! dovecot-imapd, started by the test on loopback with TLS): every
//! message, flag and INTERNALDATE compared, odd folder names, special-use
//! folders under other names, a second run and a later run, a connection
//! cut mid-folder, and a folder the old server refuses.
//!
//! Skipped with a message where Dovecot is not installed or the tests do
//! not run as root (Dovecot needs to switch to a mail user); `.ci/run`
//! installs it and runs as root.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::binary::{add_user, free_port, letterbox, write_config};
use common::{Client, blocking, run_with_stdin};
use letterbox::proto::value::{self, Value};
use letterbox::store::{FetchRequest, MailStore, MailboxName, SystemFlags};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const DOVECOT: &str = "/usr/sbin/dovecot";
const PASSWORD: &str = "old provider pass";
/// The system user Dovecot's mail processes run as.
const MAIL_USER: &str = "lbmigrate";

/// A Dovecot serving alice over IMAPS on loopback, stopped when dropped.
struct Dovecot {
    dir: tempfile::TempDir,
    config: PathBuf,
    /// Implicit TLS.
    port: u16,
    /// STARTTLS.
    starttls_port: u16,
    cert: PathBuf,
}

impl Dovecot {
    /// None (with a message) where Dovecot cannot run here.
    fn start() -> Option<Dovecot> {
        if !Path::new(DOVECOT).exists() {
            eprintln!("skipping: {DOVECOT} is not installed (apt install dovecot-imapd)");
            return None;
        }
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipping: Dovecot needs root to switch to its mail user");
            return None;
        }
        let known = Command::new("id").arg(MAIL_USER).output().unwrap();
        if !known.status.success() {
            let added = Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    MAIL_USER,
                ])
                .status()
                .unwrap();
            assert!(added.success(), "useradd {MAIL_USER}");
        }
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path();
        let mail = work.join("mail");
        std::fs::create_dir(&mail).unwrap();
        let chown = Command::new("chown")
            .arg(format!("{MAIL_USER}:{MAIL_USER}"))
            .arg(&mail)
            .status();
        assert!(chown.unwrap().success());
        // Dovecot's processes must reach the temp dir.
        std::fs::set_permissions(work, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let (cert, key) = (work.join("cert.pem"), work.join("key.pem"));
        letterbox::tls::ensure_dev_certificate(&cert, &key).unwrap();
        std::fs::write(
            work.join("users"),
            format!("alice:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        let (port, starttls_port) = (free_port(), free_port());
        let config = work.join("dovecot.conf");
        std::fs::write(
            &config,
            format!(
                r#"base_dir = {work}/run
state_dir = {work}/state
log_path = {work}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {work}/users
}}
userdb {{
  driver = static
  args = uid={MAIL_USER} gid={MAIL_USER} home={mail}/%u
}}
mail_location = maildir:{mail}/%u:LAYOUT=fs
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "Sent Items" {{
    special_use = \Sent
  }}
  mailbox "Deleted Items" {{
    special_use = \Trash
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {starttls_port}
  }}
  inet_listener imaps {{
    port = {port}
  }}
}}
"#,
                work = work.display(),
                cert = cert.display(),
                key = key.display(),
                mail = mail.display(),
            ),
        )
        .unwrap();
        let started = Command::new(DOVECOT)
            .arg("-c")
            .arg(&config)
            .status()
            .unwrap();
        assert!(started.success(), "dovecot starts");
        Some(Dovecot {
            dir,
            config,
            port,
            starttls_port,
            cert,
        })
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    async fn client(&self) -> Client {
        common::binary::wait_for_port(self.port).await;
        let mut client = Client::tls(self.addr(), &self.cert).await;
        client.ok(&format!("LOGIN alice \"{PASSWORD}\"")).await;
        client
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail/alice")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(DOVECOT)
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .status();
    }
}

/// APPENDs `raw` with flags and date (LITERAL+, which Dovecot offers).
async fn append(client: &mut Client, mailbox: &str, flags: &str, date: &str, raw: &[u8]) {
    let mut command = format!(
        "a APPEND \"{mailbox}\" ({flags}) \"{date}\" {{{}+}}\r\n",
        raw.len()
    )
    .into_bytes();
    command.extend_from_slice(raw);
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let lines = client.until_tagged("a").await;
    assert!(lines.last().unwrap().starts_with("a OK"), "{lines:?}");
}

/// Folders (as Dovecot names them on the wire) and where they must land.
const FOLDERS: [(&str, &str); 7] = [
    ("INBOX", "INBOX"),
    ("Sent Items", "Sent"),
    ("Deleted Items", "Trash"),
    ("Projekte/Entw&APw-rfe 2024", "Projekte/Entwürfe 2024"),
    ("with space", "with space"),
    ("dots.in.name", "dots.in.name"),
    ("Empty", "Empty"),
];

/// Fills Dovecot: synthetic messages (with dot lines, 8-bit, no final
/// line end) and, when present, the shared corpus in INBOX; a few in
/// every other folder; plus an excluded folder.
async fn fill(dovecot: &Dovecot) -> usize {
    let mut client = dovecot.client().await;
    for (wire, _) in &FOLDERS[1..] {
        client.ok(&format!("CREATE \"{wire}\"")).await;
    }
    client.ok("CREATE \"Excluded/old\"").await;
    let flag_sets = [
        "\\Seen",
        "",
        "\\Seen \\Flagged $Work",
        "\\Answered \\Draft",
        "\\Deleted",
        "Later",
    ];
    let mut count = 0;
    for n in 0..60 {
        let raw = format!(
            "From: n{n}@example.com\r\nSubject: message {n}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n.line {n}\r\n{}\r\nend",
            "x".repeat(3000)
        );
        let date = format!("{:02}-Feb-2024 1{}:30:00 +0{}00", 1 + n % 28, n % 10, n % 3);
        append(
            &mut client,
            "INBOX",
            flag_sets[n % flag_sets.len()],
            &date,
            raw.as_bytes(),
        )
        .await;
        count += 1;
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail-parser");
    for group in ["rfc", "legacy", "thirdparty"] {
        let Ok(entries) = std::fs::read_dir(corpus.join(group)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        {
            let raw = std::fs::read(path).unwrap();
            append(
                &mut client,
                "INBOX",
                "\\Seen",
                "12-Mar-2023 08:00:00 -0500",
                &raw,
            )
            .await;
            count += 1;
        }
    }
    for (wire, _) in &FOLDERS[1..6] {
        for n in 0..3 {
            let raw = format!("Subject: {wire} {n}\r\n\r\nbody \u{e9}\r\n");
            append(
                &mut client,
                wire,
                "\\Seen",
                "03-Apr-2022 23:59:59 +1200",
                raw.as_bytes(),
            )
            .await;
            count += 1;
        }
    }
    append(
        &mut client,
        "Excluded/old",
        "",
        "03-Apr-2022 23:59:59 +1200",
        b"Subject: no\r\n\r\nx\r\n",
    )
    .await;
    count
}

/// (octets, flags, INTERNALDATE) of every message of a Dovecot folder,
/// in UID order.
type Messages = Vec<(Vec<u8>, Vec<String>, String)>;

async fn dovecot_messages(client: &mut Client, wire: &str) -> Messages {
    client.ok(&format!("EXAMINE \"{wire}\"")).await;
    // Raw lines: the octets of 8-bit messages must stay as they are.
    client
        .send(b"f UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])\r\n")
        .await;
    let mut lines = Vec::new();
    loop {
        let line = client.raw_line().await;
        if line.starts_with(b"f ") {
            assert!(
                line.starts_with(b"f OK"),
                "{}",
                String::from_utf8_lossy(&line)
            );
            break;
        }
        lines.push(line);
    }
    let mut messages = Vec::new();
    for line in lines.iter().filter(|l| l.starts_with(b"* ")) {
        let (_, items) = value::parse_fetch(line).unwrap();
        let get = |name: &str| {
            items
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let (Some(Value::Str(raw)), Some(Value::List(flags)), Some(Value::Str(date))) =
            (get("BODY[]"), get("FLAGS"), get("INTERNALDATE"))
        else {
            panic!("{}", String::from_utf8_lossy(line));
        };
        let mut flags: Vec<String> = flags
            .iter()
            .filter_map(|f| match f {
                Value::Atom(a) if a != "\\Recent" => Some(a.clone()),
                _ => None,
            })
            .collect();
        flags.sort();
        let date =
            letterbox::proto::parse::datetime::date_time(&[b"\"", &date[..], b"\""].concat())
                .unwrap()
                .1
                .to_rfc3339();
        messages.push((raw, flags, date));
    }
    messages
}

fn local_messages(store: &dyn MailStore, mailbox: &str) -> Messages {
    let stored = blocking(|| {
        let user = store.find_user("alice").unwrap().unwrap().id;
        let selected = store
            .select(user, &MailboxName::new(mailbox).unwrap(), false)
            .unwrap();
        let uids: Vec<u32> = selected.messages.iter().map(|m| m.uid).collect();
        let everything = FetchRequest {
            index: false,
            raw: true,
        };
        store.fetch(selected.id, &uids, everything).unwrap()
    });
    stored
        .into_iter()
        .map(|m| {
            let system = [
                (SystemFlags::SEEN, "\\Seen"),
                (SystemFlags::ANSWERED, "\\Answered"),
                (SystemFlags::FLAGGED, "\\Flagged"),
                (SystemFlags::DELETED, "\\Deleted"),
                (SystemFlags::DRAFT, "\\Draft"),
            ];
            let mut flags: Vec<String> = system
                .iter()
                .filter(|(bit, _)| m.flags.system.has(*bit))
                .map(|(_, name)| name.to_string())
                .chain(m.flags.keywords.iter().cloned())
                .collect();
            flags.sort();
            (m.raw.unwrap(), flags, m.internal_date.to_rfc3339())
        })
        .collect()
}

/// A letterbox data dir with the user alice; returns the config path.
fn letterbox_setup(dir: &Path) -> PathBuf {
    let config = write_config(dir, "letterbox.toml", "");
    add_user(&config, "alice", "new pass");
    config
}

fn open_store(config: &Path) -> Arc<dyn MailStore> {
    common::binary::open_store(config)
}

/// Runs `letterbox migrate imap` from `addr`'s port (certificate checked
/// against Dovecot's); returns (success, stdout + stderr).
fn migrate(config: &Path, dovecot: &Dovecot, port: u16, extra: &[&str]) -> (bool, String) {
    let mut command = letterbox(config);
    command
        .args(["migrate", "imap", "--user", "alice", "--from"])
        .arg(format!("imaps://alice@localhost:{port}"))
        .arg("--ca-file")
        .arg(&dovecot.cert)
        .args(["--exclude", "Excluded*"])
        .args(extra);
    let output = run_with_stdin(&mut command, format!("{PASSWORD}\n").as_bytes());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Every folder holds what Dovecot's holds, in the same order, with the
/// same octets, flags and dates; the excluded one is absent.
async fn assert_same(dovecot: &Dovecot, config: &Path) {
    let store = open_store(config);
    let mut client = dovecot.client().await;
    for (wire, local) in FOLDERS {
        let expected = dovecot_messages(&mut client, wire).await;
        let got = local_messages(&*store, local);
        assert_eq!(got.len(), expected.len(), "{wire} -> {local}");
        for (n, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert!(got.0 == expected.0, "{wire} message {n}: octets differ");
            assert_eq!(
                (&got.1, &got.2),
                (&expected.1, &expected.2),
                "{wire} message {n}"
            );
        }
    }
    let user = blocking(|| store.find_user("alice").unwrap().unwrap().id);
    let names: Vec<String> = blocking(|| store.list_mailboxes(user).unwrap())
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("Excluded")),
        "{names:?}"
    );
    let subscribed = blocking(|| store.list_subscriptions(user).unwrap());
    assert!(
        subscribed.contains(&"Projekte/Entwürfe 2024".to_string()),
        "{subscribed:?}"
    );
}

fn copied(output: &str) -> usize {
    let line = output
        .lines()
        .rev()
        .find(|l| l.contains(" messages copied ("))
        .expect(output);
    let after = line.split(": ").last().unwrap();
    after.split(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn migrates_a_dovecot_account_then_only_what_is_new() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let total = fill(&dovecot).await;
    let dir = tempfile::tempdir().unwrap();
    let config = letterbox_setup(dir.path());

    let (ok, output) = migrate(&config, &dovecot, dovecot.port, &[]);
    assert!(ok, "{output}");
    assert_eq!(copied(&output), total, "{output}");
    assert!(
        output.contains("Excluded/old: skipped, excluded"),
        "{output}"
    );
    assert_same(&dovecot, &config).await;

    // A second run (the cut-over) copies nothing again...
    let (ok, output) = migrate(&config, &dovecot, dovecot.port, &[]);
    assert!(ok, "{output}");
    assert_eq!(copied(&output), 0, "{output}");
    assert_same(&dovecot, &config).await;

    // ...and a later one only what arrived since.
    let mut client = dovecot.client().await;
    append(
        &mut client,
        "INBOX",
        "",
        "04-Dec-2026 09:00:00 +0000",
        b"Subject: late\r\n\r\nnew\r\n",
    )
    .await;
    let (ok, output) = migrate(&config, &dovecot, dovecot.port, &[]);
    assert!(ok, "{output}");
    assert_eq!(copied(&output), 1, "{output}");
    assert_same(&dovecot, &config).await;
}

/// A TCP relay to Dovecot that cuts each of its first `cuts` connections
/// after `limit` octets from the server (inside TLS records: the client
/// sees a dropped connection mid-FETCH).
async fn cutting_relay(upstream: SocketAddr, limit: usize, cuts: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let cut = connections.fetch_add(1, Ordering::SeqCst) < cuts;
            tokio::spawn(async move {
                let server = TcpStream::connect(upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let mut sent = 0;
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = match tokio::io::AsyncReadExt::read(&mut server_read, &mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let n = if cut { n.min(limit - sent) } else { n };
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    sent += n;
                    if cut && sent >= limit {
                        break;
                    }
                }
                up.abort();
            });
        }
    });
    port
}

// The relay runs on the runtime while the test waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_folder_is_resumed_without_duplicates() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let total = fill(&dovecot).await;
    let dir = tempfile::tempdir().unwrap();
    let config = letterbox_setup(dir.path());
    // Every connection cut after 40 KB: three tries per folder cannot
    // finish INBOX (over 180 KB), so this run fails part way...
    let relay = cutting_relay(dovecot.addr(), 40_000, usize::MAX).await;
    let (ok, output) = migrate(&config, &dovecot, relay, &[]);
    assert!(!ok, "{output}");
    assert!(output.contains("connection lost"), "{output}");
    assert!(output.contains("run again to resume"), "{output}");
    let partial = local_messages(&*open_store(&config), "INBOX").len();
    assert!(partial > 0 && partial < total, "{partial} of {total}");

    // ...two cuts then a clean connection: the run resumes INBOX...
    let relay = cutting_relay(dovecot.addr(), 40_000, 2).await;
    let (ok, output) = migrate(&config, &dovecot, relay, &[]);
    assert!(ok, "{output}");
    assert!(output.contains("connection lost"), "{output}");
    // ...and in the end each message is there once.
    assert_same(&dovecot, &config).await;
}

#[tokio::test]
async fn a_folder_the_old_server_refuses_is_reported_and_the_rest_copied() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    fill(&dovecot).await;
    let mut client = dovecot.client().await;
    client.ok("CREATE Forbidden").await;
    append(
        &mut client,
        "Forbidden",
        "",
        "03-Apr-2022 23:59:59 +1200",
        b"Subject: x\r\n\r\ny\r\n",
    )
    .await;
    client.ok("LOGOUT").await;
    // Unreadable for Dovecot's mail user: its EXAMINE answers NO.
    let forbidden = dovecot.mail_dir().join("Forbidden");
    std::fs::set_permissions(
        &forbidden,
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = letterbox_setup(dir.path());
    let (ok, output) = migrate(&config, &dovecot, dovecot.port, &[]);
    assert!(!ok, "{output}");
    assert!(output.contains("folder Forbidden"), "{output}");
    assert!(output.contains("1 failed"), "{output}");
    assert_same(&dovecot, &config).await;
}

#[tokio::test]
async fn folder_maps_send_a_folder_and_its_children_elsewhere() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let mut client = dovecot.client().await;
    client.ok("CREATE Old").await;
    client.ok("CREATE \"Old/2019\"").await;
    append(
        &mut client,
        "Old/2019",
        "",
        "03-Apr-2019 10:00:00 +0000",
        b"Subject: a\r\n\r\nb\r\n",
    )
    .await;
    append(
        &mut client,
        "Old",
        "\\Seen",
        "03-Apr-2019 10:00:00 +0000",
        b"Subject: c\r\n\r\nd\r\n",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = letterbox_setup(dir.path());
    let (ok, output) = migrate(
        &config,
        &dovecot,
        dovecot.port,
        &["--folder-map", "Old=Archive/Old"],
    );
    assert!(ok, "{output}");
    let store = open_store(&config);
    assert_eq!(local_messages(&*store, "Archive/Old").len(), 1);
    assert_eq!(local_messages(&*store, "Archive/Old/2019").len(), 1);
    // A wrong password is refused before anything is written.
    let mut command = letterbox(&config);
    command
        .args(["migrate", "imap", "--user", "alice", "--from"])
        .arg(format!("imaps://alice@localhost:{}", dovecot.port))
        .arg("--ca-file")
        .arg(&dovecot.cert);
    let output = run_with_stdin(&mut command, b"not-the-password-xyz\n");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LOGIN refused"), "{stderr}");
    assert!(
        !stderr.contains("not-the-password-xyz"),
        "never echoed: {stderr}"
    );
    // So is a server whose certificate is not trusted.
    let mut command = letterbox(&config);
    command
        .args(["migrate", "imap", "--user", "alice", "--from"])
        .arg(format!("imaps://alice@localhost:{}", dovecot.port));
    let output = run_with_stdin(&mut command, format!("{PASSWORD}\n").as_bytes());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The refusal names the certificate presented, in the form
    // --tls-fingerprint takes; pinning it then works without any CA.
    let fingerprint = fingerprint(&dovecot.cert);
    assert!(
        stderr.contains(&format!("--tls-fingerprint {fingerprint}")),
        "{stderr}"
    );
    command.args(["--tls-fingerprint", &fingerprint]);
    let output = run_with_stdin(&mut command, format!("{PASSWORD}\n").as_bytes());
    assert!(output.status.success(), "{output:?}");
    let mut other = fingerprint.into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let mut command = letterbox(&config);
    command
        .args(["migrate", "imap", "--user", "alice", "--from"])
        .arg(format!("imaps://alice@localhost:{}", dovecot.port))
        .args(["--tls-fingerprint", std::str::from_utf8(&other).unwrap()]);
    let output = run_with_stdin(&mut command, format!("{PASSWORD}\n").as_bytes());
    assert!(!output.status.success(), "another fingerprint is refused");
}

/// The SHA-256 fingerprint of a PEM certificate, as openssl prints it.
fn fingerprint(pem: &Path) -> String {
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_file(pem).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

#[tokio::test]
async fn a_csv_copies_several_accounts_in_turn_over_tls_or_starttls() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let mut client = dovecot.client().await;
    append(
        &mut client,
        "INBOX",
        "\\Seen",
        "03-Apr-2019 10:00:00 +0000",
        b"Subject: a\r\n\r\nb\r\n",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = letterbox_setup(dir.path());
    add_user(&config, "bob", "bob pass");
    let password_file = dir.path().join("old-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let from = format!("imaps://alice@localhost:{}", dovecot.port);
    // Bob's copy comes over STARTTLS.
    let starttls = format!("imap://alice@localhost:{}", dovecot.starttls_port);
    let csv = dir.path().join("accounts.csv");
    let lines = [
        "# source, letterbox user, password file".to_string(),
        format!("{from},alice,{}", password_file.display()),
        String::new(),
        format!("{starttls}, bob , {}", password_file.display()),
    ];
    std::fs::write(&csv, lines.join("\n")).unwrap();
    let output = letterbox(&config)
        .args(["migrate", "imap", "--csv"])
        .arg(&csv)
        .arg("--ca-file")
        .arg(&dovecot.cert)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("-> alice: 1 messages copied"), "{text}");
    assert!(text.contains("-> bob: 1 messages copied"), "{text}");
    let store = open_store(&config);
    let inbox = MailboxName::new("INBOX").unwrap();
    let messages = |name| {
        blocking(|| {
            let user = store.find_user(name).unwrap().unwrap();
            store.status(user.id, &inbox).unwrap().messages
        })
    };
    assert_eq!(messages("alice"), 1);
    assert_eq!(messages("bob"), 1);
    // A malformed line is refused with its place, before anything runs.
    std::fs::write(&csv, format!("{from},alice\n")).unwrap();
    let output = letterbox(&config)
        .args(["migrate", "imap", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("accounts.csv:1: expected SOURCE_URL,USER,PASSWORD_FILE"),
        "{stderr}"
    );
}

/// A message the old server cannot read: the folder is reported failed,
/// never finished without it; the messages it did send are kept.
#[tokio::test]
async fn a_message_the_old_server_cannot_send_fails_its_folder() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let mut client = dovecot.client().await;
    client.ok("CREATE Broken").await;
    for n in 0..3 {
        let raw = format!("Subject: {n}\r\n\r\nbody\r\n");
        append(
            &mut client,
            "Broken",
            "",
            "03-Apr-2022 23:59:59 +1200",
            raw.as_bytes(),
        )
        .await;
    }
    client.ok("LOGOUT").await;
    let cur = dovecot.mail_dir().join("Broken/cur");
    let new = dovecot.mail_dir().join("Broken/new");
    let mut files: Vec<PathBuf> = [cur, new]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(d)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    std::fs::set_permissions(
        &files[1],
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = letterbox_setup(dir.path());
    let (ok, output) = migrate(&config, &dovecot, dovecot.port, &[]);
    assert!(!ok, "{output}");
    assert!(output.contains("folder Broken"), "{output}");
    let copied = local_messages(&*open_store(&config), "Broken").len();
    assert!(copied < 3, "{copied} copied: {output}");
}
