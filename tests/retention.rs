//! Retention: messages that entered Trash longer ago than configured are
//! expunged by the background task, and sessions are told.

mod common;

use std::time::Duration;

use common::*;
use letterbox::store::SpecialUse;

#[tokio::test]
async fn old_trash_is_purged_and_sessions_hear_of_it() {
    let server = TestServer::start_with(|c| {
        c.retention.days = [("Trash".to_string(), 0)].into();
        c.retention.check_interval_secs = 1;
    })
    .await;
    let mut client = server.logged_in().await;
    for mailbox in ["Trash", "INBOX", "Junk"] {
        client
            .ok(&format!("APPEND {mailbox} {{7+}}\r\nx: y\r\n\r\n"))
            .await;
    }
    client.ok("SELECT Trash").await;
    client.send(b"i IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    // Zero days: gone at the first purge after the second it arrived in.
    let expunge = client.line_within(Duration::from_secs(5)).await;
    assert_eq!(expunge, "* 1 EXPUNGE");
    client.send(b"DONE\r\n").await;
    client.until_tagged("i").await;
    for (mailbox, left) in [("Trash", 0), ("INBOX", 1), ("Junk", 1)] {
        let status = client.ok(&format!("STATUS {mailbox} (MESSAGES)")).await;
        assert_eq!(status[0], format!("* STATUS {mailbox} (MESSAGES {left})"));
    }
}

#[tokio::test]
async fn purge_counts_from_when_a_message_entered_the_mailbox() {
    let server = TestServer::start_with(|c| c.retention.enabled = false).await;
    let mut client = server.logged_in().await;
    // An old INTERNALDATE does not make a message old in Trash.
    client
        .ok("APPEND INBOX \"01-Jan-2000 00:00:00 +0000\" {7+}\r\nx: y\r\n\r\n")
        .await;
    client.ok("SELECT INBOX").await;
    client.ok("MOVE 1 Trash").await;
    let now = chrono::Utc::now().timestamp();
    let purge = |special_use, cutoff| {
        blocking(|| server.store.purge_older_than(special_use, cutoff).unwrap())
    };
    assert_eq!(purge(SpecialUse::Trash, now - 60), 0);
    assert_eq!(purge(SpecialUse::Trash, now + 2), 1);
    assert_eq!(purge(SpecialUse::Junk, now + 2), 0);
}
