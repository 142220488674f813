//! QUOTA (RFC 9208): limits from the config and per user, reported by
//! GETQUOTA/GETQUOTAROOT, enforced on APPEND, COPY and delivery.

mod common;

use common::*;
use letterbox::config::LmtpListen;
use letterbox::store::QuotaOverride;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn append(client: &mut Client, mailbox: &str) -> String {
    client
        .status(&format!("APPEND {mailbox} {{12+}}\r\nSubject: q\r\n"))
        .await
}

#[tokio::test]
async fn message_limit_applies_to_append_copy_and_lmtp() {
    let server = TestServer::start_with(|c| {
        c.quota.messages = 3;
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
    })
    .await;
    let mut client = server.logged_in().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(
        caps[0].contains(" QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE"),
        "{caps:?}"
    );
    let root = client.ok("GETQUOTAROOT INBOX").await;
    assert_eq!(
        &root[..2],
        ["* QUOTAROOT INBOX \"\"", "* QUOTA \"\" (MESSAGE 0 3)"]
    );
    for _ in 0..2 {
        assert!(append(&mut client, "INBOX").await.starts_with("OK"));
    }
    client.ok("SELECT INBOX").await;
    // Two copies would make four: refused whole.
    assert!(
        client
            .status("COPY 1:2 Archive")
            .await
            .starts_with("NO [OVERQUOTA]")
    );
    assert_eq!(
        client.ok("STATUS Archive (MESSAGES)").await[0],
        "* STATUS Archive (MESSAGES 0)"
    );
    assert!(client.status("COPY 1 Archive").await.starts_with("OK"));
    assert!(
        append(&mut client, "INBOX")
            .await
            .starts_with("NO [OVERQUOTA]")
    );
    // MOVE does not add to the usage.
    client.ok("MOVE 2 Archive").await;
    let quota = client.ok("GETQUOTA \"\"").await;
    assert_eq!(quota[0], "* QUOTA \"\" (MESSAGE 3 3)");
    assert!(client.status("GETQUOTA \"other\"").await.starts_with("NO"));
    assert!(
        client
            .status("SETQUOTA \"\" (STORAGE 100)")
            .await
            .starts_with("NO [NOPERM]")
    );

    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(b"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nDATA\r\n")
        .await
        .unwrap();
    let mut line = String::new();
    while !line.starts_with("354") {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
    }
    write
        .write_all(b"Subject: x\r\n\r\nfull\r\n.\r\n")
        .await
        .unwrap();
    line.clear();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("552 5.2.2"), "{line}");
}

#[tokio::test]
async fn per_user_storage_override() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    // No limits: no quota root and no QUOTAROOT line (as Dovecot), so
    // that clients draw no empty usage bar.
    let root = client.command("GETQUOTAROOT INBOX").await;
    assert!(
        root.len() == 1 && root[0].ends_with(" OK No quota"),
        "{root:?}"
    );
    assert!(client.status("GETQUOTA \"\"").await.starts_with("NO"));
    blocking(|| {
        server
            .store
            .set_quota(
                USER,
                QuotaOverride {
                    bytes: Some(2048),
                    messages: None,
                },
            )
            .unwrap()
    });
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(1500));
    client
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{big}", big.len()))
        .await;
    let quota = client.ok("GETQUOTA \"\"").await;
    assert_eq!(quota[0], format!("* QUOTA \"\" (STORAGE 2 2)"));
    let refused = client
        .status(&format!("APPEND INBOX {{{}+}}\r\n{big}", big.len()))
        .await;
    assert!(refused.starts_with("NO [OVERQUOTA]"), "{refused}");
    // 0 lifts the limit again.
    blocking(|| {
        server
            .store
            .set_quota(
                USER,
                QuotaOverride {
                    bytes: Some(0),
                    messages: None,
                },
            )
            .unwrap()
    });
    client
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{big}", big.len()))
        .await;
    let users = blocking(|| server.store.list_users().unwrap());
    assert_eq!((users[0].messages, users[0].limits.bytes), (2, None));
}

#[tokio::test]
async fn deliver_over_quota_exits_73() {
    let server = TestServer::start().await;
    let config = server.config_file("quota.toml", "[quota]\nmessages = 1\n");
    let deliver = || {
        run_with_stdin(
            std::process::Command::new(env!("CARGO_BIN_EXE_letterbox"))
                .arg("--config")
                .arg(&config)
                .args(["deliver", "--to", USER]),
            b"Subject: q\n\nx\n",
        )
    };
    assert_eq!(deliver().status.code(), Some(0));
    let refused = deliver();
    assert_eq!(refused.status.code(), Some(73));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("quota"));
}

/// The subjects of the quota warnings in INBOX, oldest first.
async fn warnings(client: &mut Client) -> Vec<String> {
    client.ok("SELECT INBOX").await;
    let lines = client
        .ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT AUTO-SUBMITTED)])")
        .await;
    lines
        .iter()
        .filter(|l| l.contains("Auto-Submitted: auto-generated"))
        .map(|l| {
            let subject = l.split("Subject: ").nth(1).unwrap_or_default();
            subject.split("\r\n").next().unwrap_or_default().to_owned()
        })
        .collect()
}

/// A warning in INBOX when an APPEND crosses 80% or 95% of a limit, once
/// per crossing, and again after a cleanup went back below.
#[tokio::test]
async fn a_warning_for_each_threshold_crossed() {
    let server = TestServer::start_with(|c| c.quota.messages = 10).await;
    let mut client = server.logged_in().await;
    for _ in 0..7 {
        assert!(append(&mut client, "INBOX").await.starts_with("OK"));
    }
    assert!(warnings(&mut client).await.is_empty(), "70%");
    assert!(append(&mut client, "INBOX").await.starts_with("OK"));
    assert_eq!(warnings(&mut client).await, ["Your mailbox is 80% full"]);
    // The warning itself is the ninth message; the tenth crosses 95%.
    assert!(append(&mut client, "Archive").await.starts_with("OK"));
    assert_eq!(
        warnings(&mut client).await,
        ["Your mailbox is 80% full", "Your mailbox is 95% full"]
    );
    let text = client.ok("FETCH 10 BODY.PEEK[TEXT]").await;
    assert!(
        text[0].contains("95% of its message count limit: 10 messages of 10 messages"),
        "{text:?}"
    );
    // Full now (the warnings are kept all the same): no more warnings.
    assert!(
        append(&mut client, "INBOX")
            .await
            .starts_with("NO [OVERQUOTA]")
    );
    assert_eq!(warnings(&mut client).await.len(), 2);
    // A cleanup to 5 messages (of 11: the warnings are past the limit),
    // then back up to 8: 80% warns again, once.
    client.ok("STORE 1:6 +FLAGS.SILENT (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    for _ in 0..3 {
        assert!(append(&mut client, "INBOX").await.starts_with("OK"));
    }
    assert_eq!(
        warnings(&mut client).await,
        [
            "Your mailbox is 80% full",
            "Your mailbox is 95% full",
            "Your mailbox is 80% full"
        ]
    );
    // No thresholds, no warnings.
    let quiet = TestServer::start_with(|c| {
        c.quota.messages = 2;
        c.quota.warn_at_percent = vec![];
    })
    .await;
    let mut client = quiet.logged_in().await;
    for _ in 0..2 {
        assert!(append(&mut client, "INBOX").await.starts_with("OK"));
    }
    assert!(warnings(&mut client).await.is_empty());
}

/// Storage crossed by a delivery over LMTP, with the template from the
/// config.
#[tokio::test]
async fn a_delivery_that_crosses_the_storage_threshold_warns() {
    let server = TestServer::start_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.quota.warning_subject = "{user}: {resource} at {percent}%".into();
        c.quota.warning_body = "{used} of {limit}".into();
    })
    .await;
    blocking(|| {
        server
            .store
            .set_quota(
                USER,
                QuotaOverride {
                    bytes: Some(4096),
                    messages: None,
                },
            )
            .unwrap()
    });
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let body = "x".repeat(3400);
    write
        .write_all(
            format!(
                "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<{USER}>\r\nDATA\r\nSubject: big\r\n\r\n{body}\r\n.\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut line = String::new();
    while !line.starts_with("250 2.0.0") && !line.starts_with('5') {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
    }
    assert!(line.starts_with("250 2.0.0"), "{line}");
    let mut client = server.logged_in().await;
    assert_eq!(
        warnings(&mut client).await,
        [format!("{USER}: storage at 80%")]
    );
    let text = client.ok("FETCH 2 BODY.PEEK[TEXT]").await;
    assert!(text[0].contains(" KiB of 4.0 KiB"), "{text:?}");
}
