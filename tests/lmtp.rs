//! Delivery: LMTP (RFC 2033) with Python's smtplib and with a pipelined
//! Postfix-style client, the unix socket, and the `deliver` command's
//! mapping of addresses and sysexits codes.

mod common;

use std::process::Command;

use common::*;
use letterbox::config::LmtpListen;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn lmtp_server() -> TestServer {
    TestServer::start_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.delivery.domains = vec!["example.com".into()];
        c.aliases.insert("sales@example.com".into(), USER.into());
    })
    .await
}

/// Reads one reply (all its lines) and returns its lines.
async fn reply<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert!(!line.is_empty(), "connection closed after {lines:?}");
        let last = line.as_bytes().get(3) == Some(&b' ');
        lines.push(line.trim_end().to_owned());
        if last {
            return lines;
        }
    }
}

#[tokio::test]
async fn python_smtplib_lmtp_delivers_and_idle_sees_it() {
    let server = lmtp_server().await;
    let mut idle = server.logged_in().await;
    idle.ok("SELECT INBOX").await;
    idle.send(b"i IDLE\r\n").await;
    assert_eq!(idle.line().await, "+ idling");
    let port = server.lmtp.unwrap().port();
    let script = format!(
        r#"
import smtplib
lmtp = smtplib.LMTP("127.0.0.1", {port})
code, caps = lmtp.ehlo_or_helo_if_needed() or (None, None)
code, text = lmtp.docmd("LHLO", "client.example.com")
assert code == 250 and b"PIPELINING" in text and b"ENHANCEDSTATUSCODES" in text, text
refused = lmtp.sendmail("bob@sender.org", ["{USER}@example.com", "nobody@example.com"],
                        b"Subject: via lmtp\r\n\r\nline one\r\n.line starting with a dot\r\n")
assert list(refused) == ["nobody@example.com"], refused
assert refused["nobody@example.com"][0] == 550, refused
lmtp.quit()
print("lmtp ok")
"#
    );
    let mut python = Command::new("python3");
    python.args(["-c", &script]);
    run_client(python).await;
    assert_eq!(idle.line().await, "* 1 EXISTS");
    idle.send(b"DONE\r\n").await;
    idle.until_tagged("i").await;
    let body = idle.ok("FETCH 1 BODY.PEEK[]").await;
    let expected = "Return-Path: <bob@sender.org>\r\nDelivered-To: alice@example.com\r\nSubject: via lmtp\r\n\r\nline one\r\n.line starting with a dot\r\n";
    assert_eq!(
        body[0],
        format!("* 1 FETCH (BODY[] {{{}}}\r\n{expected})", expected.len())
    );
}

#[tokio::test]
async fn pipelined_lmtp_gets_one_reply_per_recipient() {
    let server = lmtp_server().await;
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    assert!(reply(&mut reader).await[0].starts_with("220 "));
    write.write_all(b"LHLO mta.example.com\r\n").await.unwrap();
    let lhlo = reply(&mut reader).await;
    assert!(
        lhlo.iter().any(|l| l.ends_with("SIZE 67108864")),
        "{lhlo:?}"
    );
    // Postfix sends the envelope in one go, then the message after 354.
    write
        .write_all(
            b"MAIL FROM:<> BODY=8BITMIME SIZE=100\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<ghost@example.com>\r\n\
              RCPT TO:<sales@Example.COM>\r\nRCPT TO:<alice@elsewhere.org>\r\nDATA\r\n",
        )
        .await
        .unwrap();
    let expected = [
        "250 2.1.0",
        "250 2.1.5",
        "550 5.1.1",
        "250 2.1.5",
        "550 5.1.1",
        "354 ",
    ];
    for prefix in expected {
        let got = reply(&mut reader).await;
        assert!(got[0].starts_with(prefix), "{prefix}: {got:?}");
    }
    write
        .write_all(b"Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    // One reply per accepted recipient, in RCPT order, then QUIT's.
    assert_eq!(
        reply(&mut reader).await,
        ["250 2.0.0 <alice@example.com> delivered"]
    );
    assert_eq!(
        reply(&mut reader).await,
        ["250 2.0.0 <sales@Example.COM> delivered"]
    );
    assert!(reply(&mut reader).await[0].starts_with("221 "));
    let mut client = server.logged_in().await;
    let status = client.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 2)");
}

#[tokio::test]
async fn lmtp_refuses_out_of_order_and_oversized_mail() {
    let server = TestServer::start_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.limits.max_message_size = 2048;
    })
    .await;
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    reply(&mut reader).await;
    let mut step = async |command: &str, expect: &str| {
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        let got = reply(&mut reader).await;
        assert!(
            got.last().unwrap().starts_with(expect),
            "{command}: {got:?}"
        );
    };
    step("HELO x", "500").await;
    step("MAIL FROM:<a@b>", "503").await;
    step("LHLO x", "250").await;
    step("RCPT TO:<alice@example.com>", "503").await;
    step("DATA", "503").await;
    step("MAIL FROM:<a@b> SIZE=999999", "552").await;
    step("MAIL FROM:<a@b>", "250").await;
    step("MAIL FROM:<a@b>", "503").await;
    step("RCPT TO:<alice@anything.org>", "250").await;
    step("DATA", "354").await;
    let big = format!("Subject: big\r\n\r\n{}\r\n.", "x".repeat(5000));
    step(&big, "552 5.3.4").await;
    step("RSET", "250").await;
    step("NOOP", "250").await;
    step("VRFY alice", "252").await;
    step("BOGUS", "500").await;
    step("QUIT", "221").await;
}

#[tokio::test]
async fn lmtp_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/lmtp.sock");
    let socket = path.clone();
    let server =
        TestServer::start_with(move |c| c.lmtp.listen = vec![LmtpListen::Unix(socket)]).await;
    let stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    reply(&mut reader).await;
    write
        .write_all(b"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nDATA\r\n")
        .await
        .unwrap();
    for _ in 0..4 {
        reply(&mut reader).await;
    }
    write
        .write_all(b"Subject: unix\r\n\r\nhi\r\n.\r\n")
        .await
        .unwrap();
    assert!(reply(&mut reader).await[0].starts_with("250 2.0.0"));
    let mut client = server.logged_in().await;
    assert_eq!(
        client.ok("STATUS INBOX (MESSAGES)").await[0],
        "* STATUS INBOX (MESSAGES 1)"
    );
}

/// Runs `letterbox deliver` against the server's database with `stdin`.
fn deliver(server: &TestServer, args: &[&str], stdin: &[u8], config_extra: &str) -> (i32, String) {
    let config = server.config_file(
        "deliver.toml",
        &format!(
            "[limits]\nmax_message_size = 4096\n[delivery]\ndomains = [\"example.com\"]\n{config_extra}"
        ),
    );
    let output = run_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_letterbox"))
            .arg("--config")
            .arg(&config)
            .arg("deliver")
            .args(args)
            .env_remove("SENDER"),
        stdin,
    );
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn deliver_command_maps_addresses_and_exits_with_sysexits() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("SELECT INBOX").await;
    let message = b"Subject: by deliver\nFrom: x@y\n\nbare LF body\n";
    let aliases = "[aliases]\n\"team@example.com\" = \"alice\"\n";
    assert_eq!(
        deliver(
            &server,
            &["--to", "alice@example.com", "--from", "x@y"],
            message,
            ""
        )
        .0,
        0
    );
    // The running server notices the other process's commit.
    client.send(b"i IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    assert_eq!(
        deliver(&server, &["--to", "team@example.com"], message, aliases).0,
        0
    );
    let pushed = client.line().await;
    assert!(pushed == "* 1 EXISTS" || pushed == "* 2 EXISTS", "{pushed}");
    client.send(b"DONE\r\n").await;
    client.until_tagged("i").await;
    // +tag goes to an existing mailbox (case-insensitively), else INBOX.
    assert_eq!(
        deliver(&server, &["--to", "alice+archive@example.com"], message, "").0,
        0
    );
    assert_eq!(
        deliver(&server, &["--to", "alice+nosuch@example.com"], message, "").0,
        0
    );
    assert_eq!(
        deliver(
            &server,
            &["--to", "alice", "--mailbox", "Junk"],
            message,
            ""
        )
        .0,
        0
    );
    let (code, stderr) = deliver(&server, &["--to", "nobody@example.com"], message, "");
    assert_eq!(code, 67, "{stderr}");
    assert_eq!(
        deliver(&server, &["--to", "alice@other.org"], message, "").0,
        67
    );
    assert_eq!(deliver(&server, &["--to", "alice"], b"", "").0, 65);
    assert_eq!(
        deliver(&server, &["--to", "alice"], &vec![b'x'; 5000], "").0,
        73
    );
    for (mailbox, count) in [("INBOX", 3), ("Archive", 1), ("Junk", 1)] {
        let status = client.ok(&format!("STATUS {mailbox} (MESSAGES)")).await;
        assert_eq!(status[0], format!("* STATUS {mailbox} (MESSAGES {count})"));
    }
    let first = client.ok("FETCH 1 BODY.PEEK[]").await;
    let stored = "Return-Path: <x@y>\r\nDelivered-To: alice@example.com\r\nSubject: by deliver\r\nFrom: x@y\r\n\r\nbare LF body\r\n";
    assert_eq!(
        first[0],
        format!("* 1 FETCH (BODY[] {{{}}}\r\n{stored})", stored.len())
    );
}

#[tokio::test]
async fn lmtp_sessions_end_at_shutdown_and_count_against_limits() {
    let mut server = TestServer::start_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.limits.max_connections_per_ip = 2;
    })
    .await;
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    reply(&mut reader).await;
    write.write_all(b"LHLO x\r\n").await.unwrap();
    reply(&mut reader).await;
    let _imap = server.plain().await;
    // A third connection from this address is over the per-address limit.
    let third = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let mut third = BufReader::new(third);
    assert!(reply(&mut third).await[0].starts_with("421 4.3.2"));

    let started = std::time::Instant::now();
    server.shutdown().await;
    assert!(reply(&mut reader).await[0].starts_with("421 4.3.2 Server shutting down"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn lmtp_allow_list() {
    let server = TestServer::start_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.lmtp.allow = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let mut reader = BufReader::new(stream);
    assert!(reply(&mut reader).await[0].starts_with("421 4.7.0"));
}
