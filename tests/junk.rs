//! Spam filter training (`[junk] learn_spam`, `learn_ham`): a MOVE or COPY
//! into Junk hands the message to learn_spam, out of Junk (but to Trash)
//! to learn_ham, in the background; the MOVE neither waits for the
//! command nor fails with it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// The files the training commands appended the messages to.
fn learned(dir: &Path, verdict: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{verdict}.log"))).unwrap_or_default()
}

async fn wait_for(dir: &Path, verdict: &str, text: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if learned(dir, verdict).contains(text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn append(client: &mut Client, subject: &str) {
    let message = format!("Subject: {subject}\r\n\r\nbody\r\n");
    client
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
        .await;
}

#[tokio::test]
async fn moves_into_and_out_of_junk_train_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().to_owned();
    // Each command appends the message and who it was for; learn_spam
    // sleeps first, so a MOVE that waited for it would take seconds.
    let spam = format!(
        "sleep 2; (echo \"user=$LETTERBOX_USER\"; cat) >> {}/spam.log",
        logs.display()
    );
    let ham = format!(
        "(echo \"user=$LETTERBOX_USER\"; cat) >> {}/ham.log",
        logs.display()
    );
    let server = TestServer::start_with(move |c| {
        c.junk.learn_spam = Some(spam);
        c.junk.learn_ham = Some(ham);
    })
    .await;
    let mut client = server.logged_in().await;
    for subject in ["buy pills", "lunch", "newsletter"] {
        append(&mut client, subject).await;
    }
    client.ok("SELECT INBOX").await;
    let started = Instant::now();
    client.ok("MOVE 1 Junk").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "MOVE waited for the command"
    );
    assert!(
        wait_for(&logs, "spam", "Subject: buy pills").await,
        "{}",
        learned(&logs, "spam")
    );
    assert!(learned(&logs, "spam").starts_with(&format!("user={USER}\n")));
    // COPY into Junk teaches too; moving within INBOX/Archive does not.
    client.ok("COPY 2 Junk").await;
    client.ok("MOVE 1 Archive").await;
    assert!(wait_for(&logs, "spam", "Subject: newsletter").await);
    // Out of Junk: ham, except into Trash.
    client.ok("SELECT Junk").await;
    client.ok("UID MOVE 2 INBOX").await;
    assert!(
        wait_for(&logs, "ham", "Subject: newsletter").await,
        "{}",
        learned(&logs, "ham")
    );
    client.ok("MOVE 1 Trash").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !learned(&logs, "ham").contains("buy pills"),
        "Trash teaches nothing"
    );
    assert!(!learned(&logs, "spam").contains("lunch") && !learned(&logs, "ham").contains("lunch"));
}

#[tokio::test]
async fn a_failing_command_does_not_fail_the_move() {
    let server = TestServer::start_with(|c| {
        c.junk.learn_spam = Some("exit 3".into());
    })
    .await;
    let mut client = server.logged_in().await;
    append(&mut client, "junk").await;
    client.ok("SELECT INBOX").await;
    let moved = client.ok("MOVE 1 Junk").await;
    assert!(moved.last().unwrap().contains("OK"), "{moved:?}");
    let status = client.ok("STATUS Junk (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS Junk (MESSAGES 1)");
}
