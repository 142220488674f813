//! Message access end to end: FETCH (every attribute and section form),
//! STORE, COPY, EXPUNGE and UID EXPUNGE, with several sessions.

mod common;

use common::*;

const MESSAGE: &str = concat!(
    "From: \"Ann Example\" <ann@example.com>\r\n",
    "To: bob@example.org, Team: carol@example.net, dave@example.net;\r\n",
    "Subject: =?UTF-8?Q?caf=C3=A9?= plans\r\n",
    "Date: Wed, 04 Nov 2026 10:00:00 +0100\r\n",
    "Message-ID: <m1@example.com>\r\n",
    "X-Folded: one\r\n",
    "  two\r\n",
    "MIME-Version: 1.0\r\n",
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n",
    "\r\n",
    "--XX\r\n",
    "Content-Type: text/plain; charset=utf-8\r\n",
    "\r\n",
    "Hello Bob\r\n",
    "--XX\r\n",
    "Content-Type: text/html\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "\r\n",
    "<b>Hi</b>\r\n",
    "--XX\r\n",
    "Content-Type: message/rfc822\r\n",
    "\r\n",
    "Subject: inner\r\n",
    "From: x@y.z\r\n",
    "\r\n",
    "inner body\r\n",
    "--XX--\r\n",
);

/// The message's header block, blank line included.
fn header() -> &'static str {
    &MESSAGE[..MESSAGE.find("\r\n\r\n").unwrap() + 4]
}

fn literal(text: &str) -> String {
    format!("{{{}}}\r\n{text}", text.len())
}

async fn append(client: &mut Client, mailbox: &str, flags: &str, message: &str) {
    client
        .ok(&format!(
            "APPEND {mailbox} ({flags}) {{{}+}}\r\n{message}",
            message.len()
        ))
        .await;
}

/// A session with MESSAGE appended to INBOX (as UID 1) and INBOX selected.
async fn with_message(server: &TestServer) -> Client {
    let mut client = server.logged_in().await;
    client
        .ok(&format!(
            "APPEND INBOX \"04-Nov-2026 10:00:05 +0100\" {{{}+}}\r\n{MESSAGE}",
            MESSAGE.len()
        ))
        .await;
    client.ok("SELECT INBOX").await;
    client
}

/// The single FETCH response line of a command.
async fn fetch1(client: &mut Client, command: &str) -> String {
    let lines = client.ok(command).await;
    assert_eq!(lines.len(), 2, "{command}: {lines:#?}");
    lines[0].clone()
}

#[tokio::test]
async fn simple_attributes_and_macros() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let size = MESSAGE.len();
    let fast = fetch1(&mut client, "FETCH 1 FAST").await;
    assert_eq!(
        fast,
        format!(
            "* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \"04-Nov-2026 10:00:05 +0100\" RFC822.SIZE {size})"
        )
    );
    let envelope = concat!(
        "ENVELOPE (\"Wed, 04 Nov 2026 10:00:00 +0100\" \"=?UTF-8?Q?caf=C3=A9?= plans\" ",
        "((\"Ann Example\" NIL \"ann\" \"example.com\")) ",
        "((\"Ann Example\" NIL \"ann\" \"example.com\")) ",
        "((\"Ann Example\" NIL \"ann\" \"example.com\")) ",
        "((NIL NIL \"bob\" \"example.org\")(NIL NIL \"Team\" NIL)(NIL NIL \"carol\" \"example.net\")",
        "(NIL NIL \"dave\" \"example.net\")(NIL NIL NIL NIL)) ",
        "NIL NIL NIL \"<m1@example.com>\")"
    );
    let all = fetch1(&mut client, "FETCH 1 ALL").await;
    assert!(
        all.ends_with(&format!("RFC822.SIZE {size} {envelope})")),
        "{all}"
    );
    let full = fetch1(&mut client, "FETCH 1 FULL").await;
    assert!(full.contains(envelope), "{full}");
    assert!(full.contains(" BODY (("), "{full}");
    let uid = fetch1(&mut client, "FETCH 1 (UID)").await;
    assert_eq!(uid, "* 1 FETCH (UID 1)");
    // UID FETCH reports the UID even when not asked.
    let uid_fetch = fetch1(&mut client, "UID FETCH 1 RFC822.SIZE").await;
    assert_eq!(uid_fetch, format!("* 1 FETCH (UID 1 RFC822.SIZE {size})"));
}

#[tokio::test]
async fn body_structure_of_a_nested_message() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let structure = fetch1(&mut client, "FETCH 1 BODYSTRUCTURE").await;
    let expected = concat!(
        "* 1 FETCH (BODYSTRUCTURE (",
        "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)",
        "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"quoted-printable\" 9 0 NIL NIL NIL NIL)",
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 41 ",
        "(NIL \"inner\" ((NIL NIL \"x\" \"y.z\")) ((NIL NIL \"x\" \"y.z\")) ((NIL NIL \"x\" \"y.z\")) NIL NIL NIL NIL NIL) ",
        "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)",
        " \"mixed\" (\"boundary\" \"XX\") NIL NIL NIL))"
    );
    assert_eq!(structure, expected);
    let body = fetch1(&mut client, "FETCH 1 BODY").await;
    assert!(
        body.starts_with(
            "* 1 FETCH (BODY ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 9 0)"
        ),
        "{body}"
    );
    assert!(
        body.ends_with(" \"mixed\"))"),
        "non-extensible form: {body}"
    );
}

#[tokio::test]
async fn body_sections() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let cases: Vec<(&str, String)> = vec![
        ("BODY.PEEK[]", format!("BODY[] {}", literal(MESSAGE))),
        (
            "BODY.PEEK[HEADER]",
            format!("BODY[HEADER] {}", literal(header())),
        ),
        (
            "BODY.PEEK[TEXT]",
            format!("BODY[TEXT] {}", literal(&MESSAGE[header().len()..])),
        ),
        (
            "BODY.PEEK[HEADER.FIELDS (subject X-FOLDED)]",
            format!(
                "BODY[HEADER.FIELDS (subject X-FOLDED)] {}",
                literal("Subject: =?UTF-8?Q?caf=C3=A9?= plans\r\nX-Folded: one\r\n  two\r\n\r\n")
            ),
        ),
        (
            "BODY.PEEK[HEADER.FIELDS (No-Such)]",
            format!("BODY[HEADER.FIELDS (No-Such)] {}", literal("\r\n")),
        ),
        ("BODY.PEEK[1]", format!("BODY[1] {}", literal("Hello Bob"))),
        (
            "BODY.PEEK[1.MIME]",
            format!(
                "BODY[1.MIME] {}",
                literal("Content-Type: text/plain; charset=utf-8\r\n\r\n")
            ),
        ),
        ("BODY.PEEK[2]", format!("BODY[2] {}", literal("<b>Hi</b>"))),
        (
            "BODY.PEEK[3]",
            format!(
                "BODY[3] {}",
                literal("Subject: inner\r\nFrom: x@y.z\r\n\r\ninner body")
            ),
        ),
        (
            "BODY.PEEK[3.HEADER]",
            format!(
                "BODY[3.HEADER] {}",
                literal("Subject: inner\r\nFrom: x@y.z\r\n\r\n")
            ),
        ),
        (
            "BODY.PEEK[3.TEXT]",
            format!("BODY[3.TEXT] {}", literal("inner body")),
        ),
        (
            "BODY.PEEK[3.1]",
            format!("BODY[3.1] {}", literal("inner body")),
        ),
        (
            "BODY.PEEK[3.HEADER.FIELDS.NOT (From)]",
            format!(
                "BODY[3.HEADER.FIELDS.NOT (From)] {}",
                literal("Subject: inner\r\n\r\n")
            ),
        ),
        ("BODY.PEEK[]<0.4>", format!("BODY[]<0> {}", literal("From"))),
        (
            "BODY.PEEK[1]<6.100>",
            format!("BODY[1]<6> {}", literal("Bob")),
        ),
        (
            "BODY.PEEK[1]<500.10>",
            format!("BODY[1]<500> {}", literal("")),
        ),
        // Parts that do not exist are empty, as Dovecot answers.
        ("BODY.PEEK[4]", format!("BODY[4] {}", literal(""))),
        ("BODY.PEEK[1.2]", format!("BODY[1.2] {}", literal(""))),
        (
            "BODY.PEEK[1.HEADER]",
            format!("BODY[1.HEADER] {}", literal("")),
        ),
        (
            "RFC822.HEADER",
            format!("RFC822.HEADER {}", literal(header())),
        ),
    ];
    for (attribute, expected) in cases {
        let line = fetch1(&mut client, &format!("FETCH 1 ({attribute})")).await;
        assert_eq!(line, format!("* 1 FETCH ({expected})"), "{attribute}");
    }
    // Nothing above set \Seen.
    let flags = fetch1(&mut client, "FETCH 1 FLAGS").await;
    assert_eq!(flags, "* 1 FETCH (FLAGS (\\Recent))");
}

#[tokio::test]
async fn non_peek_fetch_sets_seen_and_reports_it() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let mut other = server.logged_in().await;
    other.ok("SELECT INBOX").await;
    let line = fetch1(&mut client, "FETCH 1 BODY[1]").await;
    assert_eq!(
        line,
        format!(
            "* 1 FETCH (BODY[1] {} FLAGS (\\Seen \\Recent))",
            literal("Hello Bob")
        )
    );
    // Reported once: not again at the next command.
    let noop = client.ok("NOOP").await;
    assert_eq!(noop.len(), 1, "{noop:?}");
    // The other session hears about it.
    let noop = other.ok("NOOP").await;
    assert_eq!(noop[0], "* 1 FETCH (UID 1 FLAGS (\\Seen))");
    // RFC822 and RFC822.TEXT also set \Seen; EXAMINE never does.
    client.ok("STORE 1 -FLAGS (\\Seen)").await;
    let text = fetch1(&mut client, "FETCH 1 RFC822.TEXT").await;
    assert!(text.ends_with("FLAGS (\\Seen \\Recent))"), "{text}");
    client.ok("STORE 1 -FLAGS.SILENT (\\Seen)").await;
    client.ok("EXAMINE INBOX").await;
    let line = fetch1(&mut client, "FETCH 1 RFC822").await;
    assert_eq!(line, format!("* 1 FETCH (RFC822 {})", literal(MESSAGE)));
    assert_eq!(
        fetch1(&mut client, "FETCH 1 FLAGS").await,
        "* 1 FETCH (FLAGS ())"
    );
}

#[tokio::test]
async fn sequence_and_uid_sets() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for i in 0..5 {
        let flags = if i == 1 { "\\Deleted" } else { "" };
        append(
            &mut client,
            "INBOX",
            flags,
            &format!("Subject: {i}\r\n\r\nx\r\n"),
        )
        .await;
    }
    client.ok("SELECT INBOX").await;
    client.ok("EXPUNGE").await; // UIDs now 1,3,4,5
    let uids = |lines: Vec<String>| -> Vec<String> {
        lines[..lines.len() - 1]
            .iter()
            .map(|l| l.to_string())
            .collect()
    };
    assert_eq!(
        uids(client.ok("FETCH 4:2 UID").await),
        [
            "* 2 FETCH (UID 3)",
            "* 3 FETCH (UID 4)",
            "* 4 FETCH (UID 5)"
        ]
    );
    assert_eq!(
        uids(client.ok("FETCH *,1 UID").await),
        ["* 1 FETCH (UID 1)", "* 4 FETCH (UID 5)"]
    );
    assert_eq!(
        uids(client.ok("UID FETCH 2:3 FLAGS").await),
        ["* 2 FETCH (UID 3 FLAGS (\\Recent))"]
    );
    // n:* always includes the highest UID, even when n is above it.
    assert_eq!(
        uids(client.ok("UID FETCH 99:* UID").await),
        ["* 4 FETCH (UID 5)"]
    );
    assert!(uids(client.ok("UID FETCH 6:98 UID").await).is_empty());
    assert!(client.status("FETCH 5 UID").await.starts_with("BAD"));
    assert!(
        client
            .status("FETCH 1:4294967295 UID")
            .await
            .starts_with("BAD")
    );
    assert_eq!(uids(client.ok("UID FETCH 1:4294967295 UID").await).len(), 4);
    // An empty mailbox: UID FETCH 1:* matches nothing, FETCH 1:* is an error.
    client.ok("SELECT Drafts").await;
    assert!(uids(client.ok("UID FETCH 1:* FLAGS").await).is_empty());
    assert!(client.status("FETCH 1:* FLAGS").await.starts_with("BAD"));
}

#[tokio::test]
async fn store_variants() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for _ in 0..3 {
        append(&mut client, "INBOX", "", "Subject: s\r\n\r\nx\r\n").await;
    }
    client.ok("SELECT INBOX").await;
    let lines = client.ok("STORE 1:2 +FLAGS (\\Flagged $Work)").await;
    assert_eq!(
        &lines[..2],
        [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted",
        ]
    );
    assert_eq!(
        &lines[2..4],
        [
            "* 1 FETCH (FLAGS (\\Flagged \\Recent $Work))",
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $Work))",
        ]
    );
    let lines = client.ok("STORE 2 -FLAGS ($work)").await;
    assert_eq!(lines[0], "* 2 FETCH (FLAGS (\\Flagged \\Recent))");
    let lines = client.ok("STORE 3 FLAGS (\\Seen \\Answered)").await;
    assert_eq!(lines[0], "* 3 FETCH (FLAGS (\\Answered \\Seen \\Recent))");
    let lines = client.ok("UID STORE 3 FLAGS.SILENT (\\Draft)").await;
    assert_eq!(lines.len(), 1, "silent: {lines:?}");
    let lines = client.ok("UID STORE 1 -FLAGS.SILENT (\\Flagged)").await;
    assert_eq!(lines.len(), 1);
    let lines = client.ok("UID STORE 1:3 +FLAGS (\\Seen)").await;
    assert_eq!(
        &lines[..3],
        [
            "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent $Work))",
            "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Seen \\Recent))",
            "* 3 FETCH (UID 3 FLAGS (\\Seen \\Draft \\Recent))",
        ]
    );
    assert!(
        client
            .status("STORE 1 +FLAGS (\\Recent)")
            .await
            .starts_with("BAD")
    );
    assert!(
        client
            .status("STORE 1 +FLAGS (\\Bogus)")
            .await
            .starts_with("BAD")
    );
    // Flags persist for new sessions; EXAMINE refuses STORE.
    let mut other = server.logged_in().await;
    other.ok("EXAMINE INBOX").await;
    let flags = other.ok("FETCH 1:3 FLAGS").await;
    assert_eq!(flags[1], "* 2 FETCH (FLAGS (\\Flagged \\Seen))");
    assert!(
        other
            .status("STORE 1 +FLAGS (\\Seen)")
            .await
            .starts_with("NO")
    );
}

#[tokio::test]
async fn silent_store_is_still_reported_to_other_sessions() {
    let server = TestServer::start().await;
    let mut first = server.logged_in().await;
    append(&mut first, "INBOX", "", "Subject: s\r\n\r\nx\r\n").await;
    first.ok("SELECT INBOX").await;
    let mut second = server.logged_in().await;
    second.ok("SELECT INBOX").await;
    first.ok("STORE 1 +FLAGS.SILENT (\\Answered)").await;
    let noop = second.ok("NOOP").await;
    assert_eq!(noop[0], "* 1 FETCH (UID 1 FLAGS (\\Answered))");
    assert_eq!(first.ok("NOOP").await.len(), 1, "own change not echoed");
}

#[tokio::test]
async fn copy_keeps_flags_and_dates_and_reports_copyuid() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client
        .ok("APPEND INBOX (\\Flagged $A) \"01-Jan-2020 00:00:00 +0000\" {14+}\r\nSubject: one\r\n")
        .await;
    client.ok("APPEND INBOX () {14+}\r\nSubject: two\r\n").await;
    client
        .ok("APPEND Archive () {16+}\r\nSubject: first\r\n")
        .await;
    client.ok("SELECT INBOX").await;
    let archive = letterbox::store::MailboxName::new("Archive").unwrap();
    let uidvalidity = blocking(|| server.store.status(1, &archive).unwrap().uidvalidity);
    let done = client.ok("COPY 1:2 Archive").await;
    assert_eq!(
        done[0].split_once(' ').unwrap().1,
        format!("OK [COPYUID {uidvalidity} 1:2 2:3] COPY completed")
    );
    let done = client.ok("UID COPY 2 Archive").await;
    assert!(
        done[0].contains(&format!("[COPYUID {uidvalidity} 2 4]")),
        "{done:?}"
    );
    let missing = client.status("COPY 1 Nowhere").await;
    assert!(missing.starts_with("NO [TRYCREATE]"), "{missing}");
    assert!(client.status("COPY 9 Archive").await.starts_with("BAD"));
    client.ok("SELECT Archive").await;
    let copied = client.ok("FETCH 2 (FLAGS INTERNALDATE BODY.PEEK[])").await;
    assert_eq!(
        copied[0],
        format!(
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $A) INTERNALDATE \"01-Jan-2020 00:00:00 +0000\" BODY[] {})",
            literal("Subject: one\r\n")
        )
    );
}

#[tokio::test]
async fn expunge_numbering_with_two_sessions() {
    let server = TestServer::start().await;
    let mut a = server.logged_in().await;
    for i in 1..=6 {
        append(&mut a, "INBOX", "", &format!("Subject: {i}\r\n\r\nx\r\n")).await;
    }
    a.ok("SELECT INBOX").await;
    let mut b = server.logged_in().await;
    b.ok("SELECT INBOX").await;
    a.ok("STORE 2:4,6 +FLAGS.SILENT (\\Deleted)").await;
    let lines = a.ok("EXPUNGE").await;
    assert_eq!(
        &lines[..4],
        ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"]
    );
    // B is not told during FETCH, STORE or SEARCH; fetching messages that
    // are gone gives the others' data and a NO (RFC 2180 §4.1.2).
    let fetch = b.command("FETCH 1:6 (UID)").await;
    assert!(!fetch.iter().any(|l| l.ends_with("EXPUNGE")), "{fetch:#?}");
    assert_eq!(&fetch[..2], ["* 1 FETCH (UID 1)", "* 5 FETCH (UID 5)"]);
    assert!(fetch[2].split(' ').nth(1) == Some("NO"), "{fetch:#?}");
    let search = b.ok("SEARCH ALL").await;
    assert!(
        !search.iter().any(|l| l.ends_with("EXPUNGE")),
        "{search:#?}"
    );
    let noop = b.ok("NOOP").await;
    let expunges: Vec<&str> = noop
        .iter()
        .filter(|l| l.ends_with("EXPUNGE"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        expunges,
        ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"]
    );
    let after = b.ok("FETCH 1:* (UID)").await;
    assert_eq!(&after[..2], ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 5)"]);
}

#[tokio::test]
async fn uid_expunge_only_touches_the_given_uids() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for _ in 0..4 {
        append(&mut client, "INBOX", "\\Deleted", "Subject: d\r\n\r\nx\r\n").await;
    }
    client.ok("SELECT INBOX").await;
    let lines = client.ok("UID EXPUNGE 2:3").await;
    assert_eq!(&lines[..2], ["* 2 EXPUNGE", "* 2 EXPUNGE"]);
    let left = client.ok("UID SEARCH ALL").await;
    assert_eq!(left[0], "* SEARCH 1 4");
}

#[tokio::test]
async fn appends_from_elsewhere_arrive_as_exists_with_new_keywords() {
    let server = TestServer::start().await;
    let mut a = server.logged_in().await;
    a.ok("SELECT INBOX").await;
    let mut b = server.logged_in().await;
    append(&mut b, "INBOX", "$Fresh", "Subject: n\r\n\r\nx\r\n").await;
    let noop = a.ok("NOOP").await;
    assert!(noop.contains(&"* 1 EXISTS".to_string()), "{noop:#?}");
    assert!(noop.contains(&"* 1 RECENT".to_string()), "{noop:#?}");
    assert!(
        noop.iter()
            .any(|l| l.starts_with("* FLAGS (") && l.contains("$Fresh")),
        "{noop:#?}"
    );
}

/// As Dovecot answers it: the message gets a new UID at the end of the
/// mailbox and the original goes, in one command.
#[tokio::test]
async fn move_into_the_selected_mailbox_renumbers_the_message() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for i in 1..=3 {
        append(
            &mut client,
            "INBOX",
            "\\Flagged",
            &format!("Subject: {i}\r\n\r\nx\r\n"),
        )
        .await;
    }
    let select = client.ok("SELECT INBOX").await;
    let uidvalidity = select
        .iter()
        .find_map(|l| l.strip_prefix("* OK [UIDVALIDITY "))
        .and_then(|rest| rest.split(']').next())
        .expect("UIDVALIDITY")
        .to_string();
    let lines = client.ok("MOVE 1 INBOX").await;
    assert_eq!(
        lines[..2],
        [
            format!("* OK [COPYUID {uidvalidity} 1 4] Moved"),
            "* 1 EXPUNGE".to_string(),
        ],
        "{lines:#?}"
    );
    assert!(lines.contains(&"* 3 EXISTS".to_string()), "{lines:#?}");
    let after = client
        .ok("FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        .await;
    let fetched: Vec<_> = after.iter().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(fetched.len(), 3, "{after:#?}");
    assert!(
        fetched[0].starts_with("* 1 FETCH (UID 2 FLAGS (\\Flagged"),
        "{after:#?}"
    );
    // The moved message is last, under its new UID, flags and text intact.
    assert!(
        fetched[2].starts_with("* 3 FETCH (UID 4 FLAGS (\\Flagged"),
        "{after:#?}"
    );
    assert!(fetched[2].contains("Subject: 1\r\n"), "{after:#?}");
}

#[tokio::test]
async fn move_reports_copyuid_then_expunges() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for i in 1..=4 {
        append(
            &mut client,
            "INBOX",
            if i == 2 { "\\Seen" } else { "" },
            &format!("Subject: {i}\r\n\r\nx\r\n"),
        )
        .await;
    }
    client.ok("SELECT INBOX").await;
    let mut watcher = server.logged_in().await;
    watcher.ok("SELECT INBOX").await;
    let archive = letterbox::store::MailboxName::new("Archive").unwrap();
    let uidvalidity = blocking(|| server.store.status(1, &archive).unwrap().uidvalidity);
    let lines = client.ok("MOVE 2:3 Archive").await;
    assert_eq!(
        lines[..3],
        [
            format!("* OK [COPYUID {uidvalidity} 2:3 1:2] Moved"),
            "* 2 EXPUNGE".to_string(),
            "* 2 EXPUNGE".to_string(),
        ]
    );
    let lines = client.ok("UID MOVE 4 Archive").await;
    assert_eq!(lines[0], format!("* OK [COPYUID {uidvalidity} 4 3] Moved"));
    assert_eq!(lines[1], "* 2 EXPUNGE");
    assert!(
        client
            .status("MOVE 1 Nowhere")
            .await
            .starts_with("NO [TRYCREATE]")
    );
    // The other session hears of the expunges; the flags moved along.
    let noop = watcher.ok("NOOP").await;
    let expunges = noop.iter().filter(|l| l.ends_with("EXPUNGE")).count();
    assert_eq!(expunges, 3, "{noop:#?}");
    client.ok("EXAMINE Archive").await;
    assert!(
        client.status("MOVE 1 INBOX").await.starts_with("NO"),
        "read-only"
    );
    let flags = client.ok("FETCH 1:3 (UID FLAGS)").await;
    // Nobody has selected Archive read-write yet, so the messages are still \Recent.
    assert_eq!(flags[0], "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))");
}
