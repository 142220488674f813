//! THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT, REFERENCES and REFS
//! over real sockets, on a mailbox with replies, a missing parent, a
//! References loop, a duplicate Message-ID and subject-only relatives.
//! Every expected answer is worked out by hand in the comments from the
//! RFC's steps (bench/sort_compare.py compares with Dovecot at scale).

mod common;

use common::*;

/// (Message-ID, References / In-Reply-To line, Subject, day and hour of
/// January 2026), in sequence order.
const MESSAGES: [(&str, &str, &str, (u32, u32)); 11] = [
    ("<a@x>", "", "Plan", (1, 10)),
    ("<b@x>", "References: <a@x>", "Re: Plan", (1, 11)),
    ("<c@x>", "References: <a@x> <b@x>", "Re: Plan", (1, 12)),
    ("<d@x>", "In-Reply-To: <a@x>", "Re: Plan", (1, 10)),
    ("<e@x>", "References: <missing@x>", "Budget", (2, 9)),
    ("<f@x>", "References: <missing@x>", "Re: Budget", (1, 8)),
    ("<g@x>", "", "Re: Plan", (3, 10)),
    ("<h@x>", "References: <i@x>", "Loop", (4, 10)),
    ("<i@x>", "References: <h@x>", "Loop", (4, 9)),
    ("<a@x>", "", "Other", (5, 10)),
    ("", "", "plan", (6, 10)),
];

async fn mailbox() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for (id, refs, subject, (day, hour)) in MESSAGES {
        let mut message = String::new();
        if !id.is_empty() {
            message += &format!("Message-ID: {id}\r\n");
        }
        if !refs.is_empty() {
            message += &format!("{refs}\r\n");
        }
        // Message 4 is half an hour after message 1.
        let minute = if id == "<d@x>" { 30 } else { 0 };
        message += &format!(
            "Subject: {subject}\r\nDate: {day} Jan 2026 {hour:02}:{minute:02}:00 +0000\r\n\r\nx\r\n"
        );
        client
            .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
            .await;
    }
    client.ok("SELECT INBOX").await;
    (server, client)
}

/// The `* THREAD` line's data of a successful command.
async fn thread(client: &mut Client, command: &str) -> String {
    let lines = client.ok(command).await;
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with("* THREAD")).collect();
    assert_eq!(found.len(), 1, "{command}: {lines:#?}");
    found[0]["* THREAD".len()..].trim_start().to_owned()
}

#[tokio::test]
async fn references_orderedsubject_and_refs() {
    let (_server, mut client) = mailbox().await;
    let caps = client.ok("CAPABILITY").await;
    for cap in ["THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "THREAD=REFS"] {
        assert!(caps[0].contains(cap), "{cap}");
    }
    // REFERENCES: 2, 3 (via 2) and 4 hang under 1; 5 and 6 under the
    // missing <missing@x>, a dummy kept at the top because it has two
    // children; 8 and 9 reference each other, so 9 (processed last) cannot
    // become 8's parent's child: 9 is the root; 10 repeats 1's Message-ID,
    // so it stands alone; 7 (a reply to "Plan" by subject) joins 1; 11
    // ("plan", no reply) and 1 both own the subject: a dummy joins them.
    // Siblings and threads by sent date: 4 (10:30) before 2 (11:00).
    assert_eq!(
        thread(&mut client, "THREAD REFERENCES UTF-8 ALL").await,
        "((6)(5))((1 (4)(2 3)(7))(11))(9 8)(10)"
    );
    // ORDEREDSUBJECT: by base subject, the first (oldest) is the parent
    // of the others; threads by their first message's date.
    assert_eq!(
        thread(&mut client, "THREAD ORDEREDSUBJECT UTF-8 ALL").await,
        "(6 5)(1 (4)(2)(3)(7)(11))(9 8)(10)"
    );
    // REFS: REFERENCES without subject merging, threads by their newest
    // message: 1's ends 1 Jan 12:00, the dummy's 2 Jan, then 7, the loop
    // (4 Jan 10:00), 10, 11.
    assert_eq!(
        thread(&mut client, "THREAD REFS UTF-8 ALL").await,
        "(1 (4)(2 3))((6)(5))(7)(9 8)(10)(11)"
    );
}

#[tokio::test]
async fn criteria_uids_and_errors() {
    let (_server, mut client) = mailbox().await;
    assert_eq!(
        thread(&mut client, "THREAD REFERENCES US-ASCII NOT SUBJECT plan").await,
        "((6)(5))(9 8)(10)"
    );
    // Without message 1, its replies have a missing parent: 4 and 2 under a
    // dummy; 7 and 11 merge with it by subject (the dummy holds "Plan").
    client.ok("STORE 1 +FLAGS (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    assert_eq!(
        thread(&mut client, "UID THREAD REFERENCES UTF-8 SUBJECT plan").await,
        "((4)(2 3)(7)(11))"
    );
    assert_eq!(
        thread(&mut client, "THREAD REFERENCES UTF-8 SUBJECT plan").await,
        "((3)(1 2)(6)(10))"
    );
    assert_eq!(
        thread(&mut client, "THREAD REFS UTF-8 SUBJECT nothing").await,
        ""
    );
    let reply = client.status("THREAD REFS KOI8-R ALL").await;
    assert!(reply.starts_with("NO [BADCHARSET"), "{reply}");
    for bad in [
        "THREAD UTF-8 ALL",
        "THREAD THREADS UTF-8 ALL",
        "THREAD REFS ALL",
    ] {
        assert!(client.status(bad).await.starts_with("BAD"), "{bad}");
    }
}
