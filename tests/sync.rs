//! Three sessions on one mailbox, each with its own view: appends, flag
//! changes and expunges reach every session at its next command, with
//! sequence numbers right for that session's view; `\Recent` goes to
//! exactly one session.

mod common;

use common::*;

async fn select_inbox(server: &TestServer) -> Client {
    let mut client = server.logged_in().await;
    client.ok("SELECT INBOX").await;
    client
}

fn untagged(lines: &[String]) -> Vec<&str> {
    lines[..lines.len() - 1]
        .iter()
        .map(String::as_str)
        .collect()
}

async fn uids(client: &mut Client) -> Vec<u32> {
    let lines = client.ok("UID SEARCH ALL").await;
    lines[0]
        .trim_start_matches("* SEARCH")
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn expunges_with_three_different_views() {
    let server = TestServer::start().await;
    let mut a = server.logged_in().await;
    for i in 1..=6 {
        let message = format!("Subject: {i}\r\n\r\nx\r\n");
        a.ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
            .await;
    }
    a.ok("SELECT INBOX").await;
    let mut b = select_inbox(&server).await;
    let mut c = select_inbox(&server).await;

    // B expunges UID 2. A is busy fetching (not told); C is told.
    b.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(untagged(&b.ok("EXPUNGE").await), ["* 2 EXPUNGE"]);
    let fetch = a.command("FETCH 1:6 (UID)").await;
    assert!(!fetch.iter().any(|l| l.ends_with(" EXPUNGE")), "{fetch:#?}");
    assert_eq!(
        fetch.len(),
        6,
        "data for the five left, then NO: {fetch:#?}"
    );
    let noop = c.ok("NOOP").await;
    assert!(noop.contains(&"* 2 EXPUNGE".to_string()), "{noop:#?}");

    // C, whose view is now UIDs 1,3,4,5,6, expunges UIDs 4 and 5 (its 3 and 4).
    c.ok("STORE 3:4 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(
        untagged(&c.ok("EXPUNGE").await),
        ["* 3 EXPUNGE", "* 3 EXPUNGE"]
    );

    // A still holds all six: it hears of UID 2, 4 and 5 in its own numbering.
    let noop = a.ok("NOOP").await;
    let expunges: Vec<&str> = noop
        .iter()
        .filter(|l| l.ends_with("EXPUNGE"))
        .map(String::as_str)
        .collect();
    assert_eq!(expunges, ["* 2 EXPUNGE", "* 3 EXPUNGE", "* 3 EXPUNGE"]);
    // B had already dropped UID 2: it hears of 4 and 5 only.
    let noop = b.ok("NOOP").await;
    let expunges: Vec<&str> = noop
        .iter()
        .filter(|l| l.ends_with("EXPUNGE"))
        .map(String::as_str)
        .collect();
    assert_eq!(expunges, ["* 3 EXPUNGE", "* 3 EXPUNGE"]);
    for client in [&mut a, &mut b, &mut c] {
        assert_eq!(uids(client).await, [1, 3, 6]);
    }
}

#[tokio::test]
async fn appends_and_flags_reach_every_session_and_recent_goes_to_one() {
    let server = TestServer::start().await;
    let mut a = select_inbox(&server).await;
    let mut b = select_inbox(&server).await;
    let mut c = select_inbox(&server).await;
    let message = "Subject: new\r\n\r\nx\r\n";
    // B is the first session to hear of its own APPEND: \Recent is B's.
    let appended = b
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
        .await;
    assert_eq!(&appended[..2], ["* 1 EXISTS", "* 1 RECENT"]);
    for client in [&mut a, &mut c] {
        let noop = client.ok("NOOP").await;
        assert_eq!(untagged(&noop), ["* 1 EXISTS", "* 0 RECENT"]);
    }

    c.ok("STORE 1 +FLAGS.SILENT (\\Flagged)").await;
    for client in [&mut a, &mut b] {
        let noop = client.ok("NOOP").await;
        assert!(
            noop.iter()
                .any(|l| l.starts_with("* 1 FETCH (UID 1 FLAGS (\\Flagged")),
            "{noop:#?}"
        );
    }
    assert_eq!(
        c.ok("NOOP").await.len(),
        1,
        "C is not told of its own change twice"
    );
}

#[tokio::test]
async fn deleting_a_selected_mailbox_disconnects_its_sessions() {
    let server = TestServer::start().await;
    let mut owner = server.logged_in().await;
    owner.ok("CREATE Doomed").await;
    owner.ok("CREATE Parent/Child").await;
    let mut reader = server.logged_in().await;
    reader.ok("SELECT Doomed").await;
    let mut idler = server.logged_in().await;
    idler.ok("SELECT Doomed").await;
    idler.send(b"i IDLE\r\n").await;
    assert_eq!(idler.line().await, "+ idling");
    owner.ok("DELETE Doomed").await;
    assert_eq!(
        idler.line().await,
        "* BYE Selected mailbox was deleted, have to disconnect"
    );
    assert!(idler.closed().await);
    let noop = reader.command("NOOP").await;
    assert_eq!(noop[0], "t3 OK NOOP completed");
    assert_eq!(
        reader.line().await,
        "* BYE Selected mailbox was deleted, have to disconnect"
    );

    // A parent becomes \Noselect: its messages go as expunges; once it is
    // re-created, the old view is gone for good.
    owner.ok("APPEND Parent {7+}\r\nx: y\r\n\r\n").await;
    let mut parent = server.logged_in().await;
    parent.ok("SELECT Parent").await;
    owner.ok("DELETE Parent").await;
    assert!(parent.ok("NOOP").await.contains(&"* 1 EXPUNGE".to_string()));
    owner.ok("CREATE Parent").await;
    parent.command("NOOP").await;
    assert_eq!(
        parent.line().await,
        "* BYE Selected mailbox was deleted, have to disconnect"
    );
}

/// A UID learned from another connection's APPENDUID can be used at once:
/// the session is told of the new message first (EXISTS), then the command
/// reaches it, instead of skipping it as unknown.
#[tokio::test]
async fn uid_commands_reach_messages_appended_elsewhere() {
    let server = TestServer::start().await;
    let mut reader = select_inbox(&server).await;
    let mut writer = server.logged_in().await;
    let lines = writer.ok("APPEND INBOX {10+}\r\nSubject: x").await;
    let uid = lines[0]
        .split_once("[APPENDUID ")
        .and_then(|(_, code)| code.split([' ', ']']).nth(1))
        .unwrap()
        .to_owned();
    let lines = reader
        .ok(&format!("UID STORE {uid} +FLAGS (\\Flagged)"))
        .await;
    assert_eq!(lines[0], "* 1 EXISTS", "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("* 1 FETCH (") && l.contains("\\Flagged")),
        "{lines:?}"
    );
    let lines = reader.ok(&format!("UID FETCH {uid} (FLAGS)")).await;
    assert!(lines[0].contains("\\Flagged"), "{lines:?}");
}
