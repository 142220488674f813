//! IDLE (RFC 2177): pushes for appends, flag changes, expunges and changes
//! made through another connection to the database, DONE with pipelined
//! commands behind it, and bad input.

mod common;

use std::time::{Duration, Instant};

use common::*;
use letterbox::store::{Flags, MailboxName};

async fn idling(server: &TestServer, mailbox: &str) -> Client {
    let mut client = server.logged_in().await;
    client.ok(&format!("SELECT {mailbox}")).await;
    client.send(b"i1 IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    client
}

async fn append(client: &mut Client, mailbox: &str, flags: &str) {
    let message = "Subject: pushed\r\n\r\nhello\r\n";
    client
        .ok(&format!(
            "APPEND {mailbox} ({flags}) {{{}+}}\r\n{message}",
            message.len()
        ))
        .await;
}

#[tokio::test]
async fn append_elsewhere_is_pushed_quickly() {
    let server = TestServer::start().await;
    let mut idle = idling(&server, "INBOX").await;
    let mut other = server.logged_in().await;
    let mut latencies = Vec::new();
    for n in 1..=5 {
        let sent = Instant::now();
        append(&mut other, "INBOX", "").await;
        assert_eq!(idle.line().await, format!("* {n} EXISTS"));
        latencies.push(sent.elapsed());
        assert_eq!(idle.line().await, format!("* {n} RECENT"));
    }
    latencies.sort();
    eprintln!(
        "IDLE push latency after APPEND's OK (median of 5): {:?}",
        latencies[2]
    );
    idle.send(b"DONE\r\n").await;
    assert_eq!(idle.line().await, "i1 OK IDLE terminated");
    idle.ok("NOOP").await;
}

#[tokio::test]
async fn flag_changes_and_expunges_are_pushed() {
    let server = TestServer::start().await;
    let mut other = server.logged_in().await;
    for _ in 0..3 {
        append(&mut other, "INBOX", "").await;
    }
    let mut idle = idling(&server, "INBOX").await;
    other.ok("SELECT INBOX").await;
    other.ok("STORE 2 +FLAGS.SILENT (\\Flagged)").await;
    assert_eq!(
        idle.line().await,
        "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))"
    );
    other.ok("STORE 1,3 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(
        idle.line().await,
        "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))"
    );
    assert_eq!(
        idle.line().await,
        "* 3 FETCH (UID 3 FLAGS (\\Deleted \\Recent))"
    );
    other.ok("EXPUNGE").await;
    assert_eq!(idle.line().await, "* 1 EXPUNGE");
    assert_eq!(idle.line().await, "* 2 EXPUNGE");
    idle.send(b"DONE\r\n").await;
    assert_eq!(idle.line().await, "i1 OK IDLE terminated");
    let left = idle.ok("FETCH 1:* (UID)").await;
    assert_eq!(left[0], "* 1 FETCH (UID 2)");
}

#[tokio::test]
async fn changes_from_another_database_connection_are_pushed() {
    let server = TestServer::start().await;
    let mut idle = idling(&server, "INBOX").await;
    // A second store on the same data: its writes reach the server only
    // through the database (SQLite's file, PostgreSQL's NOTIFY), as a
    // `deliver` process's or another node's would.
    let config = server.ctx.config();
    let foreign = blocking(|| config.open_store().unwrap().mail());
    let user = blocking(|| foreign.find_user(USER).unwrap().unwrap());
    let sent = Instant::now();
    let message = letterbox::mail::new_message(
        b"Subject: delivered\r\n\r\nbody\r\n",
        Flags::default(),
        chrono::Utc::now().fixed_offset(),
    );
    blocking(|| {
        let inbox = MailboxName::new("INBOX").unwrap();
        foreign.append(user.id, &inbox, message).unwrap()
    });
    assert_eq!(idle.line().await, "* 1 EXISTS");
    let latency = sent.elapsed();
    eprintln!("IDLE push latency for another connection's commit: {latency:?}");
    assert!(latency < Duration::from_secs(2), "{latency:?}");
}

#[tokio::test]
async fn commands_pipelined_after_done_run() {
    let server = TestServer::start().await;
    let mut idle = idling(&server, "INBOX").await;
    idle.send(b"DONE\r\nn1 NOOP\r\nn2 STATUS INBOX (MESSAGES)\r\n")
        .await;
    assert_eq!(idle.line().await, "i1 OK IDLE terminated");
    assert_eq!(idle.line().await, "n1 OK NOOP completed");
    assert_eq!(idle.line().await, "* STATUS INBOX (MESSAGES 0)");
    assert_eq!(idle.line().await, "n2 OK STATUS completed");
}

#[tokio::test]
async fn other_input_during_idle_is_bad_and_idle_without_a_mailbox_works() {
    let server = TestServer::start().await;
    let mut idle = idling(&server, "INBOX").await;
    idle.send(b"x1 NOOP\r\n").await;
    assert!(idle.line().await.starts_with("i1 BAD"));
    idle.ok("NOOP").await;
    idle.ok("UNSELECT").await;
    idle.send(b"i2 IDLE\r\n").await;
    assert_eq!(idle.line().await, "+ idling");
    idle.send(b"done\r\n").await;
    assert_eq!(idle.line().await, "i2 OK IDLE terminated");
}

#[tokio::test]
async fn shutdown_during_idle_says_bye() {
    let mut server = TestServer::start().await;
    let mut idle = idling(&server, "INBOX").await;
    server.shutdown().await;
    assert_eq!(idle.line().await, "* BYE Server shutting down");
    assert!(idle.closed().await);
}

#[tokio::test]
async fn idle_before_login_is_refused() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    assert!(client.status("IDLE").await.starts_with("BAD"));
}
