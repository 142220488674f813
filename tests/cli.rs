//! The `letterbox` binary: check-config, user management, serve --dev.

mod common;

use common::binary::{BIN, add_user, free_port, letterbox, rewrite, run_with_stdin, write_config};
use common::blocking;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn check_config_prints_effective_settings_or_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "good.toml", "[limits]\nmax_connections = 77\n");
    let output = letterbox(&config).arg("check-config").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("max_connections = 77"), "{stdout}");
    assert!(
        stdout.contains("max_command_line = 65536"),
        "defaults shown: {stdout}"
    );

    let bad = write_config(dir.path(), "bad.toml", "[limits]\nmax_conections = 77\n");
    let output = letterbox(&bad).arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("max_conections"), "{stderr}");

    let output = letterbox(&dir.path().join("missing.toml"))
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.toml"));

    // The config path also comes from LETTERBOX_CONFIG.
    let output = Command::new(BIN)
        .arg("check-config")
        .env("LETTERBOX_CONFIG", &config)
        .output()
        .unwrap();
    assert!(output.status.success());
}

#[test]
fn user_add_passwd_list_del() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "letterbox.toml", "");
    let mut add = letterbox(&config);
    add.args(["user", "add", "bob"]);
    let output = run_with_stdin(add, "first password\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut again = letterbox(&config);
    again.args(["user", "add", "bob"]);
    let output = run_with_stdin(again, "x\n");
    assert_eq!(output.status.code(), Some(1));

    let password_file = dir.path().join("pw");
    std::fs::write(&password_file, "second password\n").unwrap();
    let output = letterbox(&config)
        .args(["user", "passwd", "bob", "--password-file"])
        .arg(&password_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let store = common::binary::open_store(&config);
    let hash = blocking(|| store.find_user("bob").unwrap().unwrap().password_hash);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(letterbox::auth::verify_password(
        Some(&hash),
        b"second password"
    ));
    drop(store);

    let output = letterbox(&config).args(["user", "list"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("bob ")), "{stdout}");
    // Usage as a share of each limit: none yet, then a message limit.
    let columns = |stdout: &str| -> Vec<String> {
        let line = stdout.lines().find(|l| l.starts_with("bob ")).unwrap();
        line.split_whitespace().map(str::to_owned).collect()
    };
    assert!(stdout.starts_with("USER"), "{stdout}");
    let header: Vec<&str> = stdout.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[4..], ["STORAGE%", "MESSAGE%"]);
    assert_eq!(columns(&stdout)[4..], ["-", "-"]);
    let output = letterbox(&config)
        .args(["quota", "set", "bob", "--messages", "4"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = letterbox(&config).args(["user", "list"]).output().unwrap();
    assert_eq!(
        columns(&String::from_utf8_lossy(&output.stdout))[4..],
        ["-", "0%"]
    );

    let output = letterbox(&config)
        .args(["user", "del", "bob"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let output = letterbox(&config)
        .args(["user", "del", "bob"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let mut passwd = letterbox(&config);
    passwd.args(["user", "passwd", "bob"]);
    assert_eq!(run_with_stdin(passwd, "x\n").status.code(), Some(1));
}

/// `serve --dev` needs no config: it makes a certificate and a demo user,
/// listens on 1143/1993, and exits 0 on SIGTERM.
#[tokio::test]
async fn serve_dev_starts_from_nothing_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--dev"])
        .current_dir(dir.path())
        .env_remove("LETTERBOX_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (password, ready) = tokio::task::spawn_blocking(move || {
        let mut password = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("created user demo with password ") {
                password = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.starts_with("IMAPS (implicit TLS) on 127.0.0.1:1993") {
                return (password, true);
            }
        }
        (password, false)
    })
    .await
    .unwrap();
    assert!(ready, "server announced its listeners");
    let password = password.expect("demo password printed");
    let cert = dir.path().join("letterbox-data/dev-cert.pem");
    assert!(cert.exists());
    let mut client = common::Client::tls("127.0.0.1:1993".parse().unwrap(), &cert).await;
    client.ok(&format!("LOGIN demo {password}")).await;
    let lines = client.ok("LIST \"\" *").await;
    assert_eq!(lines.len(), 7, "{lines:?}");

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(client.line().await, "* BYE Server shutting down");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "exits in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `letterbox backup` while a client keeps APPENDing: the copy is sound
/// and holds at least every message acknowledged before the backup began.
#[tokio::test]
async fn backup_while_appends_run() {
    if common::on_postgres() {
        // `backup` copies the SQLite file; PostgreSQL has pg_dump.
        return;
    }
    use letterbox::store::MailStore;
    let server = common::TestServer::start().await;
    let mut client = server.logged_in().await;
    let appended = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = appended.clone();
    let writer = tokio::spawn(async move {
        for i in 0..200 {
            let message = format!("Subject: {i}\r\n\r\nbody {i}\r\n");
            client
                .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
                .await;
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    while appended.load(std::sync::atomic::Ordering::SeqCst) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let config = server.config_file("backup.toml", "");
    let target = server.dir.path().join("copy.db");
    let acknowledged = appended.load(std::sync::atomic::Ordering::SeqCst);
    let output = letterbox(&config)
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    writer.await.unwrap();
    let again = letterbox(&config)
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "never overwrites");

    let copy = letterbox::store::sqlite::SqliteStore::open(
        &target,
        letterbox::config::Synchronous::Normal,
    )
    .unwrap();
    assert_eq!(copy.integrity_check().unwrap(), "ok");
    let user = copy.find_user(common::USER).unwrap().unwrap();
    let inbox = letterbox::store::MailboxName::new("INBOX").unwrap();
    let messages = copy.status(user.id, &inbox).unwrap().messages as usize;
    assert!(
        (acknowledged..=200).contains(&messages),
        "{acknowledged} <= {messages} <= 200"
    );
}

/// Under systemd (NOTIFY_SOCKET) the server says READY=1 once it listens
/// and STOPPING=1 on SIGTERM; SIGHUP makes new connections use a renewed
/// certificate while sessions that were open stay open.
#[tokio::test]
async fn systemd_notify_and_sighup_reload() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), "letterbox.toml", "");
    rewrite(&config, "127.0.0.1:0", &format!("127.0.0.1:{port}"));
    add_user(&config, common::USER, common::PASSWORD);
    let old_cert = dir.path().join("old-cert.pem");
    std::fs::copy(dir.path().join("cert.pem"), &old_cert).unwrap();
    let notify_path = dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut server = letterbox(&config)
        .arg("serve")
        .env("NOTIFY_SOCKET", &notify_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut message = [0u8; 256];
    let n = notify.recv(&mut message).unwrap();
    assert_eq!(&message[..n], b"READY=1\n");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut before = common::Client::tls(addr, &old_cert).await;
    before
        .ok(&format!("LOGIN {} \"{}\"", common::USER, common::PASSWORD))
        .await;

    // Renew: a new key and certificate written over the old files, and a
    // config change that applies while running (one session per user).
    let (cert, key) = letterbox::tls::self_signed_localhost().unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
    std::fs::write(dir.path().join("key.pem"), key).unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[limits]\nmax_connections_per_user = 1\n");
    std::fs::write(&config, text).unwrap();
    Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    let new_cert = dir.path().join("cert.pem");
    let started = Instant::now();
    loop {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        if common::tls_connector(&new_cert)
            .connect(name, tcp)
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "new certificate in use"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    before.ok("NOOP").await;
    // The reloaded limit: `before` holds the user's only session.
    let mut second = common::Client::tls(addr, &new_cert).await;
    let refused = second
        .status(&format!("LOGIN {} \"{}\"", common::USER, common::PASSWORD))
        .await;
    assert!(refused.starts_with("NO [LIMIT]"), "{refused}");
    before.ok("APPEND INBOX {16+}\r\nSubject: kept\r\n").await;
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let n = notify.recv(&mut message).unwrap();
    assert_eq!(&message[..n], b"STOPPING=1\n");
    assert!(server.wait().unwrap().success());
    // Nothing acknowledged before the stop is lost.
    let store = common::binary::open_store(&config);
    let user = blocking(|| store.find_user(common::USER).unwrap().unwrap());
    let inbox = letterbox::store::MailboxName::new("INBOX").unwrap();
    assert_eq!(
        blocking(|| store.status(user.id, &inbox).unwrap().messages),
        1
    );
}

/// `healthcheck` reads the greeting; JSON logging writes one JSON object
/// per line.
#[tokio::test]
async fn healthcheck_and_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        "letterbox.toml",
        "[log]\nformat = \"json\"\n[auth]\nallow_plaintext = true\n",
    );
    rewrite(
        &config,
        "[imaps]\nlisten = [\"127.0.0.1:0\"]",
        &format!("[imap]\nlisten = [\"0.0.0.0:{port}\"]"),
    );
    let down = letterbox(&config).arg("healthcheck").output().unwrap();
    assert_eq!(down.status.code(), Some(1), "nothing listens yet");
    let mut server = letterbox(&config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep draining the server's log so it never writes to a closed pipe.
    let stderr = server.stderr.take().unwrap();
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let _ = first_tx.send(line.unwrap());
        }
    });
    let first = first_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let event: serde_json::Value =
        serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert_eq!(event["fields"]["message"], "listening", "{first}");
    let up = letterbox(&config).arg("healthcheck").output().unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let said = String::from_utf8_lossy(&up.stdout);
    assert!(
        said.lines()
            .any(|l| l.starts_with("ok: * OK [CAPABILITY IMAP4rev1")),
        "{said}"
    );
    // With PostgreSQL it speaks for the database too.
    assert_eq!(
        said.lines().any(|l| l.starts_with("ok: PostgreSQL ")),
        common::on_postgres(),
        "{said}"
    );

    // A session worth logging, then a clean stop; every line is JSON, the
    // events are there, the password and message text are not.
    add_user(&config, "erin", "sup3r-secret");
    let mut client = common::Client::plain(format!("127.0.0.1:{port}").parse().unwrap()).await;
    client.ok("LOGIN erin sup3r-secret").await;
    client.ok("CREATE Projects").await;
    client
        .ok("APPEND Projects {23+}\r\nSubject: confidential\r\n")
        .await;
    client.ok("LOGOUT").await;
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
    let mut messages = vec![event["fields"]["message"].as_str().unwrap().to_owned()];
    while let Ok(line) = first_rx.recv_timeout(Duration::from_secs(2)) {
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            !line.contains("sup3r-secret") && !line.contains("confidential"),
            "{line}"
        );
        messages.push(
            event["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    for expected in [
        "connection",
        "login",
        "mailbox created",
        "disconnected",
        "shutting down",
    ] {
        assert!(
            messages.iter().any(|m| m == expected),
            "{expected} in {messages:?}"
        );
    }
}

/// What the Docker image does, without Docker: config from
/// LETTERBOX_CONFIG (config/docker.toml with local paths), `serve`, and
/// the HEALTHCHECK's `letterbox healthcheck`.
#[tokio::test]
async fn docker_runtime_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (
        dir.path().join("fullchain.pem"),
        dir.path().join("privkey.pem"),
    );
    letterbox::tls::ensure_dev_certificate(&cert, &key).unwrap();
    let (imap, imaps, lmtp) = (free_port(), free_port(), free_port());
    let shipped = include_str!("../config/docker.toml");
    let config = shipped
        .replace(
            "/var/lib/letterbox",
            dir.path().join("data").to_str().unwrap(),
        )
        .replace("/etc/letterbox/certs", dir.path().to_str().unwrap())
        .replace("0.0.0.0:143", &format!("127.0.0.1:{imap}"))
        .replace("0.0.0.0:993", &format!("127.0.0.1:{imaps}"))
        .replace("0.0.0.0:24", &format!("127.0.0.1:{lmtp}"));
    let config_path = dir.path().join("letterbox.toml");
    std::fs::write(&config_path, config).unwrap();
    let image = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command.args(args).env("LETTERBOX_CONFIG", &config_path);
        command
    };
    assert!(image(&["check-config"]).output().unwrap().status.success());
    let mut server = image(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let health = image(&["healthcheck"]).output().unwrap();
        if health.status.success() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "healthy in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lmtp_up = tokio::net::TcpStream::connect(("127.0.0.1", lmtp)).await;
    assert!(lmtp_up.is_ok(), "LMTP listens for the Postfix container");
    let _ = server.kill();
    let _ = server.wait();
}

/// `user app-password add|list|revoke`: a per-device password logs in
/// beside the main one, shows its last use, and stops working when revoked.
#[tokio::test]
async fn app_passwords() {
    let server = common::TestServer::start().await;
    let config = server.config_file("app.toml", "");
    let output = letterbox(&config)
        .args(["user", "app-password", "add", common::USER, "phone"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let password = stdout
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let again = letterbox(&config)
        .args(["user", "app-password", "add", common::USER, "phone"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "labels are unique per user");

    let mut phone = server.tls().await;
    phone
        .ok(&format!("LOGIN {} {password}", common::USER))
        .await;
    let mut desktop = server.logged_in().await;
    desktop.ok("NOOP").await;
    let user = blocking(|| server.store.find_user(common::USER).unwrap().unwrap());
    let apps = blocking(|| server.store.app_passwords(user.id).unwrap());
    assert!(apps[0].last_used.is_some(), "last use recorded");
    let list = letterbox(&config)
        .args(["user", "app-password", "list", common::USER])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout)
            .lines()
            .any(|l| l.starts_with("phone "))
    );

    let revoke = letterbox(&config)
        .args(["user", "app-password", "revoke", common::USER, "phone"])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let mut again = server.tls().await;
    let refused = again
        .status(&format!("LOGIN {} {password}", common::USER))
        .await;
    assert!(
        refused.starts_with("NO [AUTHENTICATIONFAILED]"),
        "{refused}"
    );
}

/// With `[log] format = "json"` every line the server writes, on stdout
/// and on stderr, is a JSON object: the listening addresses are events,
/// and so is the failure of a second server that cannot bind.
#[tokio::test]
async fn json_mode_writes_only_json_on_both_streams() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), "letterbox.toml", "[log]\nformat = \"json\"\n");
    rewrite(
        &config,
        "[imaps]\nlisten = [\"127.0.0.1:0\"]",
        &format!("[imap]\nlisten = [\"127.0.0.1:{port}\"]"),
    );
    let mut server = letterbox(&config)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    for stream in [
        Box::new(server.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(server.stderr.take().unwrap()),
    ] {
        let lines_tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let _ = lines_tx.send(line.unwrap());
            }
        });
    }
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !messages
        .iter()
        .any(|m: &String| m.starts_with("serving IMAP"))
    {
        let line = lines_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server announces its listener");
        messages.push(json_message(&line));
    }
    let second = letterbox(&config).arg("serve").output().unwrap();
    assert!(!second.status.success(), "the port is taken");
    let output = [second.stdout, second.stderr].concat();
    let second_lines: Vec<String> = String::from_utf8_lossy(&output)
        .lines()
        .map(json_message)
        .collect();
    assert!(
        second_lines.iter().any(|m| m == "letterbox stopped"),
        "{second_lines:?}"
    );
    common::Client::plain(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .ok("LOGOUT")
        .await;
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
    while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(2)) {
        messages.push(json_message(&line));
    }
    assert!(
        messages.iter().any(|m| m == "shutting down"),
        "{messages:?}"
    );
}

/// The message of one JSON log line; panics when the line is not JSON.
fn json_message(line: &str) -> String {
    let event: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    event["fields"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `letterbox auth status` and `auth unblock` reach the running server's
/// login guard through its control socket: a locked address is listed
/// with the user names it tried, and after `unblock` it can log in again.
#[tokio::test]
async fn auth_status_and_unblock_through_the_control_socket() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        "letterbox.toml",
        "[auth]\nallow_plaintext = true\nfailure_delay_ms = 0\nmax_failures = 3\n",
    );
    rewrite(
        &config,
        "[imaps]\nlisten = [\"127.0.0.1:0\"]",
        &format!("[imap]\nlisten = [\"127.0.0.1:{port}\"]"),
    );
    let auth = |args: &[&str]| {
        let output = letterbox(&config).arg("auth").args(args).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };
    let (ok, text) = auth(&["status"]);
    assert!(
        !ok && text.contains("is `letterbox serve` running?"),
        "{text}"
    );

    add_user(&config, "alice", "right-pass");
    let mut server = common::binary::serve(&config, port).await;
    let imap = format!("127.0.0.1:{port}").parse().unwrap();
    let mut attacker = common::Client::plain_from(imap, "127.0.0.3").await;
    for user in ["alice", "alice", "bob"] {
        let reply = attacker.status(&format!("LOGIN {user} wrong")).await;
        assert!(reply.starts_with("NO [AUTHENTICATIONFAILED]"), "{reply}");
    }
    let (ok, text) = auth(&["status"]);
    assert!(ok, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("127.0.0.3 "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("alice, bob"), "{line}");
    let (ok, text) = auth(&["status", "--address", "127.0.0.4"]);
    assert!(ok && text.trim() == "no penalties", "{text}");
    let reply = attacker.status("LOGIN alice right-pass").await;
    assert!(
        reply.starts_with("NO [AUTHENTICATIONFAILED]"),
        "locked: {reply}"
    );

    // Three wrong passwords and the refused right one count against the
    // address; only the two wrong ones against alice.
    let (ok, text) = auth(&["unblock", "127.0.0.3"]);
    assert!(
        ok && text.trim() == "unblocked 127.0.0.3 (4 failures)",
        "{text}"
    );
    attacker.ok("LOGIN alice right-pass").await;
    let (ok, text) = auth(&["unblock", "127.0.0.3"]);
    assert!(ok && text.trim() == "no penalty on 127.0.0.3", "{text}");
    let (ok, text) = auth(&["unblock", "--user", "alice"]);
    assert!(ok && text.trim() == "cleared alice (2 failures)", "{text}");
    let (ok, text) = auth(&["unblock", "not-an-address"]);
    assert!(!ok && text.contains("not an IP address"), "{text}");

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
}
