//! CONDSTORE and QRESYNC (RFC 7162), ENABLE (RFC 5161) and ESEARCH
//! (RFC 4731) over real sockets.

mod common;

use common::*;

async fn append(client: &mut Client, n: usize) {
    for i in 0..n {
        let message = format!("Subject: m{i}\r\n\r\nbody {i}\r\n");
        client
            .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
            .await;
    }
}

/// The number in a `[CODE n]` response code anywhere in the lines.
fn code_value(lines: &[String], code: &str) -> u64 {
    let marker = format!("[{code} ");
    let line = lines
        .iter()
        .find(|l| l.contains(&marker))
        .unwrap_or_else(|| panic!("no {code} in {lines:#?}"));
    let rest = &line[line.find(&marker).unwrap() + marker.len()..];
    rest[..rest.find(']').unwrap()].parse().unwrap()
}

/// The number after `word` in a line: `MODSEQ (12)`, `HIGHESTMODSEQ 12`.
fn number_after(line: &str, word: &str) -> u64 {
    let start = line
        .find(word)
        .unwrap_or_else(|| panic!("no {word} in {line}"))
        + word.len();
    let digits: String = line[start..]
        .trim_start_matches([' ', '('])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {word} in {line}"))
}

#[tokio::test]
async fn enable_and_highestmodseq() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 2).await;
    let plain = client.ok("SELECT INBOX").await;
    assert!(
        !plain.iter().any(|l| l.contains("HIGHESTMODSEQ")),
        "{plain:#?}"
    );
    let enabled = client.ok("ENABLE CONDSTORE X-UNKNOWN").await;
    assert_eq!(enabled[0], "* ENABLED CONDSTORE");
    assert_eq!(
        client.ok("ENABLE CONDSTORE").await[0],
        "* ENABLED",
        "already on"
    );
    let select = client.ok("SELECT INBOX").await;
    assert_eq!(select[0], "* OK [CLOSED] Previous mailbox closed");
    let highest = code_value(&select, "HIGHESTMODSEQ");
    let status = client.ok("STATUS INBOX (HIGHESTMODSEQ MESSAGES)").await;
    assert_eq!(
        status[0],
        format!("* STATUS INBOX (HIGHESTMODSEQ {highest} MESSAGES 2)")
    );
    // SELECT (CONDSTORE) turns it on without ENABLE.
    let mut other = server.logged_in().await;
    let select = other.ok("EXAMINE INBOX (CONDSTORE)").await;
    assert_eq!(code_value(&select, "HIGHESTMODSEQ"), highest);
    let enabled = other.ok("ENABLE QRESYNC").await;
    assert_eq!(enabled[0], "* ENABLED QRESYNC");
}

#[tokio::test]
async fn modseq_fetch_changedsince_and_unsolicited_updates() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 3).await;
    let select = client.ok("SELECT INBOX (CONDSTORE)").await;
    let before = code_value(&select, "HIGHESTMODSEQ");
    let stored = client.ok("STORE 2 +FLAGS (\\Flagged)").await;
    assert_eq!(
        stored[0],
        format!(
            "* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ ({}))",
            before + 1
        )
    );
    let changed = client
        .ok(&format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {before})"))
        .await;
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert_eq!(
        changed[0],
        format!(
            "* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ ({}))",
            before + 1
        )
    );
    let all = client.ok("FETCH 1:3 (MODSEQ)").await;
    assert_eq!(all.len(), 4);
    // Another session's change arrives with its MODSEQ.
    let mut other = server.logged_in().await;
    other.ok("SELECT INBOX").await;
    other.ok("STORE 3 +FLAGS.SILENT (\\Seen)").await;
    let noop = client.ok("NOOP").await;
    assert_eq!(
        noop[0],
        format!(
            "* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent) MODSEQ ({}))",
            before + 2
        )
    );
    // Implicit \Seen reports the new MODSEQ too.
    let body = client.ok("FETCH 1 BODY[TEXT]").await;
    assert!(
        body[0].ends_with(&format!("FLAGS (\\Seen \\Recent) MODSEQ ({}))", before + 3)),
        "{body:#?}"
    );
}

#[tokio::test]
async fn conditional_store() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 3).await;
    let select = client.ok("SELECT INBOX (CONDSTORE)").await;
    let base = code_value(&select, "HIGHESTMODSEQ");
    client.ok("STORE 2 +FLAGS.SILENT (\\Answered)").await; // message 2 now at base+1
    let lines = client
        .ok(&format!(
            "STORE 1:3 (UNCHANGEDSINCE {base}) +FLAGS.SILENT (\\Deleted)"
        ))
        .await;
    // RFC 7162 §3.1.3: even .SILENT reports the new MODSEQ of what changed;
    // message 2 fails the test and is listed by sequence number.
    assert_eq!(
        lines,
        [
            format!("* 1 FETCH (MODSEQ ({}))", base + 2),
            format!("* 3 FETCH (MODSEQ ({}))", base + 2),
            "t7 OK [MODIFIED 2] STORE completed".to_string(),
        ]
    );
    let lines = client
        .ok(&format!(
            "UID STORE 2 (UNCHANGEDSINCE {base}) FLAGS (\\Seen)"
        ))
        .await;
    assert_eq!(lines, ["t8 OK [MODIFIED 2] UID STORE completed"]);
    let lines = client
        .ok("UID STORE 2 (UNCHANGEDSINCE 0) -FLAGS (\\Answered)")
        .await;
    assert!(
        lines[0].contains("[MODIFIED 2]"),
        "0 always fails: {lines:?}"
    );
}

#[tokio::test]
async fn search_modseq_and_expunge_highestmodseq() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 4).await;
    let select = client.ok("SELECT INBOX (CONDSTORE)").await;
    let base = code_value(&select, "HIGHESTMODSEQ");
    client.ok("STORE 2,4 +FLAGS (\\Deleted)").await;
    let search = client.ok(&format!("SEARCH MODSEQ {}", base + 1)).await;
    assert_eq!(search[0], format!("* SEARCH 2 4 (MODSEQ {})", base + 1));
    let none = client.ok(&format!("SEARCH MODSEQ {}", base + 5)).await;
    assert_eq!(none[0], "* SEARCH");
    let expunge = client.ok("EXPUNGE").await;
    assert_eq!(
        expunge.last().unwrap(),
        &format!("t10 OK [HIGHESTMODSEQ {}] EXPUNGE completed", base + 2)
    );
    let nothing = client.ok("EXPUNGE").await;
    assert_eq!(nothing.last().unwrap(), "t11 OK EXPUNGE completed");
    client.ok("STORE 1 +FLAGS (\\Deleted)").await;
    let close = client.ok("CLOSE").await;
    assert_eq!(
        close,
        [format!(
            "t13 OK [HIGHESTMODSEQ {}] CLOSE completed",
            base + 4
        )]
    );
}

#[tokio::test]
async fn qresync_select_reports_exactly_what_was_missed() {
    let server = TestServer::start().await;
    let mut writer = server.logged_in().await;
    append(&mut writer, 6).await;
    writer.ok("SELECT INBOX").await;
    // The client was last here at this point.
    let mut client = server.logged_in().await;
    client.ok("ENABLE QRESYNC").await;
    let first = client.ok("SELECT INBOX").await;
    let uidvalidity = code_value(&first, "UIDVALIDITY");
    let known = code_value(&first, "HIGHESTMODSEQ");
    client.ok("LOGOUT").await;
    // While it is away: two expunges and a flag change.
    writer.ok("STORE 2,5 +FLAGS.SILENT (\\Deleted)").await;
    writer.ok("EXPUNGE").await;
    writer.ok("STORE 4 +FLAGS.SILENT (\\Flagged)").await; // UID 6, now number 4
    let mut client = server.logged_in().await;
    assert!(
        client
            .status(&format!("SELECT INBOX (QRESYNC ({uidvalidity} {known}))"))
            .await
            .starts_with("BAD"),
        "QRESYNC needs ENABLE first"
    );
    client.ok("ENABLE QRESYNC").await;
    let lines = client
        .ok(&format!(
            "SELECT INBOX (QRESYNC ({uidvalidity} {known} 1:6))"
        ))
        .await;
    let vanished: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("* VANISHED"))
        .collect();
    assert_eq!(vanished, ["* VANISHED (EARLIER) 2,5"]);
    let fetches: Vec<&String> = lines.iter().filter(|l| l.contains(" FETCH ")).collect();
    // Messages 2 and 5 (UIDs 2, 5) got \Deleted before going: only UID 6 remains changed.
    assert_eq!(fetches.len(), 1, "{lines:#?}");
    assert!(
        fetches[0].starts_with("* 4 FETCH (UID 6 FLAGS (\\Flagged) MODSEQ ("),
        "{fetches:?}"
    );
    let vanished_at = lines
        .iter()
        .position(|l| l.starts_with("* VANISHED"))
        .unwrap();
    let uidnext_at = lines.iter().position(|l| l.contains("[UIDNEXT")).unwrap();
    assert!(
        vanished_at > uidnext_at,
        "after the usual SELECT data: {lines:#?}"
    );
    // Known UIDs narrow VANISHED; a wrong UIDVALIDITY means a plain SELECT.
    let narrowed = client
        .ok(&format!(
            "EXAMINE INBOX (QRESYNC ({uidvalidity} {known} 3:6))"
        ))
        .await;
    assert!(
        narrowed.contains(&"* VANISHED (EARLIER) 5".to_string()),
        "{narrowed:#?}"
    );
    let other = client
        .ok(&format!(
            "EXAMINE INBOX (QRESYNC ({} {known}))",
            uidvalidity + 1
        ))
        .await;
    assert!(
        !other
            .iter()
            .any(|l| l.contains("VANISHED") || l.contains(" FETCH ")),
        "{other:#?}"
    );
}

#[tokio::test]
async fn qresync_reports_vanished_instead_of_expunge() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 5).await;
    client.ok("ENABLE QRESYNC").await;
    let select = client.ok("SELECT INBOX").await;
    let base = code_value(&select, "HIGHESTMODSEQ");
    let mut other = server.logged_in().await;
    other.ok("SELECT INBOX").await;
    other.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    other.ok("EXPUNGE").await;
    let noop = client.ok("NOOP").await;
    assert!(noop.contains(&"* VANISHED 1:2".to_string()), "{noop:#?}");
    assert!(!noop.iter().any(|l| l.ends_with("EXPUNGE")), "{noop:#?}");
    client.ok("STORE 3 +FLAGS.SILENT (\\Deleted)").await; // UID 5
    let expunge = client.ok("EXPUNGE").await;
    assert_eq!(expunge[0], "* VANISHED 5");
    // UID FETCH ... (CHANGEDSINCE m VANISHED) reports earlier expunges first.
    let lines = client
        .ok(&format!(
            "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {base} VANISHED)"
        ))
        .await;
    assert_eq!(lines[0], "* VANISHED (EARLIER) 1:2,5");
    assert!(
        client
            .status(&format!("FETCH 1 (FLAGS) (CHANGEDSINCE {base} VANISHED)"))
            .await
            .starts_with("BAD")
    );
}

#[tokio::test]
async fn esearch_return_options() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 5).await;
    client.ok("SELECT INBOX").await;
    client.ok("STORE 2,4:5 +FLAGS (\\Flagged)").await;
    client
        .send(b"e1 UID SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n")
        .await;
    assert_eq!(
        client.line().await,
        "* ESEARCH (TAG \"e1\") UID MIN 2 MAX 5 COUNT 3 ALL 2,4:5"
    );
    assert_eq!(client.line().await, "e1 OK UID SEARCH completed");
    client.send(b"e2 SEARCH RETURN () FLAGGED\r\n").await;
    assert_eq!(client.line().await, "* ESEARCH (TAG \"e2\") ALL 2,4:5");
    assert_eq!(client.line().await, "e2 OK SEARCH completed");
    client
        .send(b"e3 SEARCH RETURN (MIN COUNT) DELETED\r\n")
        .await;
    assert_eq!(client.line().await, "* ESEARCH (TAG \"e3\") COUNT 0");
    assert_eq!(client.line().await, "e3 OK SEARCH completed");
    assert!(
        client
            .status("SEARCH RETURN (RELEVANCY) ALL")
            .await
            .starts_with("BAD")
    );
}

/// RFC 7162 §3.1: the first CONDSTORE enabling command of a session that
/// has a mailbox selected (here FETCH MODSEQ, without ENABLE or SELECT
/// (CONDSTORE)) gets `* OK [HIGHESTMODSEQ n]` once.
#[tokio::test]
async fn first_condstore_command_announces_highestmodseq() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 2).await;
    let status = client.ok("STATUS INBOX (HIGHESTMODSEQ)").await;
    let highest = number_after(&status[0], "HIGHESTMODSEQ");
    // STATUS with HIGHESTMODSEQ enabled CONDSTORE, but nothing was selected.
    let mut other = server.logged_in().await;
    other.ok("SELECT INBOX").await;
    let lines = other.ok("FETCH 1 (MODSEQ)").await;
    assert_eq!(
        lines[0],
        format!("* OK [HIGHESTMODSEQ {highest}] Highest"),
        "{lines:#?}"
    );
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let again = other.ok("FETCH 1 (MODSEQ)").await;
    assert_eq!(again.len(), 2, "only the first time: {again:#?}");
    let mut third = server.logged_in().await;
    third.ok("SELECT INBOX").await;
    let lines = third.ok("UID SEARCH MODSEQ 1").await;
    assert_eq!(
        lines[0],
        format!("* OK [HIGHESTMODSEQ {highest}] Highest"),
        "{lines:#?}"
    );
}

/// RFC 4731 §3.2: with a MODSEQ criterion, ESEARCH's MODSEQ is that of
/// the MIN message, of the MAX message, of both, or the highest of all
/// matched with ALL or COUNT.
#[tokio::test]
async fn esearch_modseq_is_that_of_what_is_returned() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, 4).await;
    client.ok("SELECT INBOX (CONDSTORE)").await;
    // Message 2 changes last, so it has the highest MODSEQ; 4 the next.
    client.ok("STORE 4 +FLAGS (\\Seen)").await;
    client.ok("STORE 2 +FLAGS (\\Seen)").await;
    let fetched = client.ok("FETCH 1:4 (MODSEQ)").await;
    let modseq: Vec<u64> = fetched[..4]
        .iter()
        .map(|l| number_after(l, "MODSEQ"))
        .collect();
    assert!(modseq[1] > modseq[3] && modseq[3] > modseq[2], "{modseq:?}");
    let cases = [
        ("MIN", format!("MIN 1 MODSEQ {}", modseq[0])),
        ("MAX", format!("MAX 4 MODSEQ {}", modseq[3])),
        ("MIN MAX", format!("MIN 1 MAX 4 MODSEQ {}", modseq[3])),
        ("COUNT", format!("COUNT 4 MODSEQ {}", modseq[1])),
        ("MIN ALL", format!("MIN 1 ALL 1:4 MODSEQ {}", modseq[1])),
    ];
    for (returns, expected) in cases {
        let lines = client
            .ok(&format!("SEARCH RETURN ({returns}) MODSEQ 1"))
            .await;
        assert!(
            lines[0].ends_with(&format!(") {expected}")),
            "{returns}: {lines:#?}"
        );
    }
}
