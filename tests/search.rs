//! SEARCH and UID SEARCH end to end (RFC 3501 §6.4.4): every search key,
//! sequence sets, logic, charsets, decoding of MIME text, literals, and
//! the interaction with other sessions (EXPUNGE and EXISTS timing,
//! `\Recent`). Every expected answer below is derived from the RFC and the
//! messages built by hand here.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;

/// APPENDs `message` with a LITERAL+ literal of its exact octet count.
async fn append(
    client: &mut Client,
    mailbox: &str,
    flags: &str,
    date: Option<&str>,
    message: &str,
) {
    let date = date.map(|d| format!(" \"{d}\"")).unwrap_or_default();
    client
        .ok(&format!(
            "APPEND {mailbox} ({flags}){date} {{{}+}}\r\n{message}",
            message.len()
        ))
        .await;
}

/// A non-synchronizing literal carrying `text` (for non-ASCII needles).
fn lit(text: &str) -> String {
    format!("{{{}+}}\r\n{text}", text.len())
}

/// The numbers of the one `* SEARCH` line in `lines`; panics unless there
/// is exactly one and it follows `"SEARCH" *(SP nz-number)`.
fn search_result(lines: &[String]) -> Vec<u32> {
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with("* SEARCH")).collect();
    assert_eq!(found.len(), 1, "exactly one * SEARCH line: {lines:#?}");
    parse_search_line(found[0])
}

fn parse_search_line(line: &str) -> Vec<u32> {
    let rest = line.strip_prefix("* SEARCH").unwrap();
    if rest.is_empty() {
        return Vec::new();
    }
    let numbers = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("malformed search response {line:?}"));
    numbers
        .split(' ')
        .map(|n| match n.parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => panic!("malformed number {n:?} in {line:?}"),
        })
        .collect()
}

/// Runs `SEARCH criteria` (which must succeed) and returns its numbers.
async fn search(client: &mut Client, criteria: &str) -> Vec<u32> {
    let lines = client.ok(&format!("SEARCH {criteria}")).await;
    search_result(&lines)
}

/// Runs `UID SEARCH criteria` (which must succeed) and returns its UIDs.
async fn uid_search(client: &mut Client, criteria: &str) -> Vec<u32> {
    let lines = client.ok(&format!("UID SEARCH {criteria}")).await;
    search_result(&lines)
}

fn case(criteria: impl Into<String>, expected: &[u32]) -> (String, Vec<u32>) {
    (criteria.into(), expected.to_vec())
}

/// Runs `verb criteria` for every case and reports all mismatches at once
/// (failed commands included), so one run shows every wrong answer.
async fn expect_all(client: &mut Client, verb: &str, cases: &[(String, Vec<u32>)]) {
    let mut failures = Vec::new();
    for (criteria, expected) in cases {
        let command = format!("{verb} {criteria}");
        let lines = client.command(&command).await;
        let tagged = lines.last().unwrap();
        if tagged.split(' ').nth(1) != Some("OK") {
            failures.push(format!("{command:?}: expected {expected:?}, got {lines:?}"));
            continue;
        }
        let got = search_result(&lines);
        if &got != expected {
            failures.push(format!("{command:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} searches wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A message whose RFC822.SIZE is exactly `size` octets.
fn message_of_size(size: usize) -> String {
    let head = "Subject: size\r\n\r\n";
    let message = format!("{head}{}\r\n", "x".repeat(size - head.len() - 2));
    assert_eq!(message.len(), size);
    message
}

fn simple(from: &str, subject: &str) -> String {
    format!("From: {from}\r\nTo: nobody@example.com\r\nSubject: {subject}\r\n\r\nbody\r\n")
}

#[tokio::test]
async fn flag_keys_recent_new_old_and_keywords() {
    let server = TestServer::start().await;
    let mut a = server.logged_in().await;
    for (i, flags) in [
        "",
        "\\Answered",
        "\\Deleted \\Seen",
        "\\Draft",
        "\\Flagged $Work",
        "\\Seen \\Answered \\Flagged $Work Urgent",
    ]
    .iter()
    .enumerate()
    {
        append(
            &mut a,
            "INBOX",
            flags,
            None,
            &simple("a@example.com", &format!("m{}", i + 1)),
        )
        .await;
    }
    // The first session to select sees all six as \Recent.
    let select = a.ok("SELECT INBOX").await;
    assert!(select.contains(&"* 6 RECENT".to_string()), "{select:#?}");
    expect_all(
        &mut a,
        "SEARCH",
        &[
            case("ALL", &[1, 2, 3, 4, 5, 6]),
            case("ANSWERED", &[2, 6]),
            case("UNANSWERED", &[1, 3, 4, 5]),
            case("DELETED", &[3]),
            case("UNDELETED", &[1, 2, 4, 5, 6]),
            case("DRAFT", &[4]),
            case("UNDRAFT", &[1, 2, 3, 5, 6]),
            case("FLAGGED", &[5, 6]),
            case("UNFLAGGED", &[1, 2, 3, 4]),
            case("SEEN", &[3, 6]),
            case("UNSEEN", &[1, 2, 4, 5]),
            case("RECENT", &[1, 2, 3, 4, 5, 6]),
            case("NEW", &[1, 2, 4, 5]),
            case("OLD", &[]),
            case("NOT RECENT", &[]),
            case("NOT NEW", &[3, 6]),
            case("KEYWORD $Work", &[5, 6]),
            case("KEYWORD $work", &[5, 6]),
            case("KEYWORD $WORK", &[5, 6]),
            case("KEYWORD urgent", &[6]),
            case("KEYWORD NoSuchKeyword", &[]),
            case("UNKEYWORD $Work", &[1, 2, 3, 4]),
            case("UNKEYWORD $WORK", &[1, 2, 3, 4]),
            case("UNKEYWORD NoSuchKeyword", &[1, 2, 3, 4, 5, 6]),
            case("FLAGGED SEEN", &[6]),
            case("UNSEEN UNDELETED UNFLAGGED", &[1, 2, 4]),
            case("unseen flagged", &[5]),
        ],
    )
    .await;
    expect_all(
        &mut a,
        "UID SEARCH",
        &[case("FLAGGED", &[5, 6]), case("NEW", &[1, 2, 4, 5])],
    )
    .await;

    // STORE changes are seen by the next SEARCH.
    a.ok("STORE 1 +FLAGS.SILENT (\\Seen \\Flagged)").await;
    a.ok("STORE 6 -FLAGS.SILENT (\\Answered $Work)").await;
    a.ok("STORE 2 +FLAGS.SILENT (NewKw)").await;
    expect_all(
        &mut a,
        "SEARCH",
        &[
            case("SEEN", &[1, 3, 6]),
            case("NEW", &[2, 4, 5]),
            case("FLAGGED", &[1, 5, 6]),
            case("ANSWERED", &[2]),
            case("KEYWORD $work", &[5]),
            case("KEYWORD NEWKW", &[2]),
            case("UNKEYWORD newkw", &[1, 3, 4, 5, 6]),
        ],
    )
    .await;

    // A second session selecting later gets no \Recent: all is OLD.
    let mut b = server.logged_in().await;
    let select = b.ok("SELECT INBOX").await;
    assert!(select.contains(&"* 0 RECENT".to_string()), "{select:#?}");
    expect_all(
        &mut b,
        "SEARCH",
        &[
            case("RECENT", &[]),
            case("NEW", &[]),
            case("OLD", &[1, 2, 3, 4, 5, 6]),
            case("SEEN", &[1, 3, 6]),
            case("NOT RECENT", &[1, 2, 3, 4, 5, 6]),
        ],
    )
    .await;
    // ... while the first keeps them.
    expect_all(
        &mut a,
        "SEARCH",
        &[
            case("RECENT", &[1, 2, 3, 4, 5, 6]),
            case("OLD", &[]),
            case("NEW", &[2, 4, 5]),
        ],
    )
    .await;
}

#[tokio::test]
async fn internaldate_and_sent_date_keys() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    // (INTERNALDATE, Date: header). The date of each in its own zone:
    // 1: internal 5-Mar (06-Mar in UTC), sent 2-Mar (03-Mar in UTC)
    // 2: internal 6-Mar (05-Mar in UTC), sent 3-Mar (02-Mar in UTC)
    // 3: internal 4-Mar, no Date: (sent date falls back to 4-Mar)
    // 4: internal 7-Mar, sent 1-Mar
    // 5: internal 1-Jan-2027, sent 31-Dec-2026 (01-Jan-2027 in UTC)
    // 6: internal 10-Mar, sent 8-Mar (no weekday, no seconds, a comment;
    //    09-Mar in UTC)
    let messages = [
        (
            "05-Mar-2026 23:30:00 -0800",
            Some("Mon, 02 Mar 2026 23:30:00 -0800"),
        ),
        (
            "06-Mar-2026 00:30:00 +0100",
            Some("Tue, 3 Mar 2026 00:15:00 +0100"),
        ),
        ("04-Mar-2026 12:00:00 +0000", None),
        (
            " 7-Mar-2026 08:00:00 +0000",
            Some("Sun, 01 Mar 2026 10:00:00 +0000"),
        ),
        (
            "01-Jan-2027 00:00:00 +0000",
            Some("Thu, 31 Dec 2026 23:59:59 -1200"),
        ),
        (
            "10-Mar-2026 09:00:00 +0000",
            Some("8 Mar 2026 22:05 -0500 (EST)"),
        ),
    ];
    for (i, (internal, date)) in messages.iter().enumerate() {
        let date_line = date.map(|d| format!("Date: {d}\r\n")).unwrap_or_default();
        let message = format!(
            "From: d@example.com\r\n{date_line}Subject: d{}\r\n\r\nhi\r\n",
            i + 1
        );
        append(&mut c, "Archive", "", Some(internal), &message).await;
    }
    c.ok("SELECT Archive").await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case("ON 5-Mar-2026", &[1]),
            case("ON 6-Mar-2026", &[2]),
            case("ON 4-Mar-2026", &[3]),
            case("ON 7-mar-2026", &[4]),
            case("ON \"07-Mar-2026\"", &[4]),
            case("ON 1-Jan-2027", &[5]),
            case("ON 8-Mar-2026", &[]),
            case("BEFORE 6-Mar-2026", &[1, 3]),
            case("BEFORE 5-Mar-2026", &[3]),
            case("BEFORE 4-Mar-2026", &[]),
            case("BEFORE 1-Jan-2027", &[1, 2, 3, 4, 6]),
            case("SINCE 6-Mar-2026", &[2, 4, 5, 6]),
            case("SINCE 5-Mar-2026", &[1, 2, 4, 5, 6]),
            case("SINCE 1-Jan-2027", &[5]),
            case("SINCE 2-Jan-2027", &[]),
            case("SINCE 5-Mar-2026 BEFORE 7-Mar-2026", &[1, 2]),
            case("NOT ON 5-Mar-2026", &[2, 3, 4, 5, 6]),
            case("ON 10-Mar-2026", &[6]),
            case("OR ON 4-Mar-2026 ON 7-Mar-2026", &[3, 4]),
            case("SENTON 2-Mar-2026", &[1]),
            case("SENTON 3-Mar-2026", &[2]),
            case("SENTON 4-Mar-2026", &[3]),
            case("SENTON 1-Mar-2026", &[4]),
            case("SENTON 31-Dec-2026", &[5]),
            case("SENTON 5-Mar-2026", &[]),
            case("SENTON 8-Mar-2026", &[6]),
            case("SENTON 9-Mar-2026", &[]),
            case("SENTBEFORE 3-Mar-2026", &[1, 4]),
            case("SENTBEFORE 1-Mar-2026", &[]),
            case("SENTBEFORE 31-Dec-2026", &[1, 2, 3, 4, 6]),
            case("SENTBEFORE 1-Jan-2027", &[1, 2, 3, 4, 5, 6]),
            case("SENTSINCE 3-Mar-2026", &[2, 3, 5, 6]),
            case("SENTSINCE 4-Mar-2026", &[3, 5, 6]),
            case("SENTSINCE 9-Mar-2026", &[5]),
            case("SENTSINCE 1-Mar-2026", &[1, 2, 3, 4, 5, 6]),
            case("SENTSINCE 1-Jan-2027", &[]),
            case("SENTSINCE 2-Mar-2026 SENTBEFORE 4-Mar-2026", &[1, 2]),
            case("SENTBEFORE 4-Mar-2026 SINCE 6-Mar-2026", &[2, 4]),
        ],
    )
    .await;
    expect_all(
        &mut c,
        "UID SEARCH",
        &[
            case("ON 6-Mar-2026", &[2]),
            case("SENTON 31-Dec-2026", &[5]),
        ],
    )
    .await;
}

#[tokio::test]
async fn larger_and_smaller_use_rfc822_size() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    let sizes = [100, 200, 201, 300];
    for size in sizes {
        append(&mut c, "INBOX", "", None, &message_of_size(size)).await;
    }
    c.ok("SELECT INBOX").await;
    // Precondition: the sizes are what we sent.
    let fetch = c.ok("FETCH 1:* (RFC822.SIZE)").await;
    for (i, size) in sizes.iter().enumerate() {
        let want = format!("* {} FETCH (RFC822.SIZE {size})", i + 1);
        assert!(fetch.contains(&want), "{want}: {fetch:#?}");
    }
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case("LARGER 200", &[3, 4]),
            case("SMALLER 200", &[1]),
            case("LARGER 199", &[2, 3, 4]),
            case("SMALLER 201", &[1, 2]),
            case("LARGER 300", &[]),
            case("SMALLER 100", &[]),
            case("SMALLER 101", &[1]),
            case("LARGER 0", &[1, 2, 3, 4]),
            case("SMALLER 4294967295", &[1, 2, 3, 4]),
            case("LARGER 100 SMALLER 300", &[2, 3]),
            case("OR SMALLER 101 LARGER 299", &[1, 4]),
            case("NOT LARGER 200", &[1, 2]),
        ],
    )
    .await;
    assert_eq!(uid_search(&mut c, "LARGER 200").await, vec![3, 4]);
}

/// Base64 in lines of 76 characters, as MIME requires; the multi-byte
/// characters straddle line breaks.
fn wrapped_base64(text: &str) -> String {
    let encoded = STANDARD.encode(text);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert!(lines.len() > 1);
    lines.join("\r\n")
}

/// Five messages exercising decoding; expected answers are against the
/// decoded text.
fn decoding_messages() -> Vec<String> {
    let m1 = "From: \"Alice Example\" <alice@example.com>\r\n\
              To: Bob <bob@example.org>\r\n\
              Cc: carol@example.net\r\n\
              Subject: Quarterly report\r\n\
              Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\
              Message-ID: <m1@example.com>\r\n\
              X-Custom: yes\r\n\
              \r\n\
              Hello Bob, the numbers are in.\r\n"
        .to_string();
    // Subject "Überprüfung der Rechnung" (UTF-8, B), From name "André
    // Müller" (ISO-8859-1, Q), body "Grüße aus Köln, die Straße ist
    // schön." in quoted-printable ISO-8859-1.
    let m2 = format!(
        "From: =?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@example.de>\r\n\
         To: alice@example.com\r\n\
         Bcc: secret@example.com\r\n\
         Subject: =?UTF-8?B?{}?=\r\n\
         X-Custom:\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=iso-8859-1\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Gr=FC=DFe aus K=F6ln, die Stra=DFe ist sch=F6n.\r\n",
        STANDARD.encode("Überprüfung der Rechnung")
    );
    // Subject "Café meeting tomorrow", To name "Zoë"; a base64 UTF-8 plain
    // part and a quoted-printable UTF-8 HTML part.
    let m3 = format!(
        "From: carol@example.net\r\n\
         To: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.com>, alice@example.com\r\n\
         Subject: =?utf-8?q?Caf=C3=A9_meeting?= tomorrow\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"XYZ\"\r\n\
         \r\n\
         --XYZ\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --XYZ\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         <html><body><p>Agenda: <b>pineapple</b> pizza, Men=C3=BC du=\r\n jour</p></body></html>\r\n\
         --XYZ--\r\n",
        wrapped_base64(
            "Rendez-vous au café à midi. Please bring the slides and the \
             budget figures. Ünïcödé at the end.\r\n"
        )
    );
    // A folded Subject: unfolds to "a very long folded subject line".
    let m4 = "From: dave@example.com\r\n\
              To: alice@example.com\r\n\
              Subject: a very long\r\n folded subject line\r\n\
              X-Tag: one\r\n\
              X-Tag: two\r\n\
              \r\n\
              See you at lunch.\r\n"
        .to_string();
    // Raw 8-bit UTF-8 body.
    let m5 = "From: Eve <eve@example.com>\r\n\
              To: alice@example.com\r\n\
              Subject: =?UTF-8?Q?Fa=C3=A7ade?= =?UTF-8?Q?_notes?=\r\n\
              MIME-Version: 1.0\r\n\
              Content-Type: text/plain; charset=utf-8\r\n\
              Content-Transfer-Encoding: 8bit\r\n\
              \r\n\
              Naïve façade, ok.\r\n"
        .to_string();
    vec![m1, m2, m3, m4, m5]
}

async fn decoding_mailbox(server: &TestServer) -> Client {
    let mut c = server.logged_in().await;
    for message in decoding_messages() {
        append(&mut c, "INBOX", "", None, &message).await;
    }
    c.ok("SELECT INBOX").await;
    c
}

#[tokio::test]
async fn string_keys_match_decoded_text() {
    let server = TestServer::start().await;
    let mut c = decoding_mailbox(&server).await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            // FROM
            case("FROM alice", &[1]),
            case("FROM \"ALICE EXAMPLE\"", &[1]),
            case("FROM example.com", &[1, 4, 5]),
            case("FROM andre", &[2]),
            case(format!("CHARSET UTF-8 FROM {}", lit("Müller")), &[2]),
            case(format!("CHARSET UTF-8 FROM {}", lit("André M")), &[2]),
            case("FROM al", &[1]),
            case("FROM nobody", &[]),
            // TO, CC, BCC
            case("TO bob", &[1]),
            case("TO alice", &[2, 3, 4, 5]),
            case("TO zoe", &[3]),
            case(format!("CHARSET UTF-8 TO {}", lit("Zoë")), &[3]),
            case("CC carol", &[1]),
            case("CC alice", &[]),
            case("BCC secret", &[2]),
            case("BCC example", &[2]),
            // SUBJECT
            case("SUBJECT report", &[1]),
            case("SUBJECT QUARTERLY", &[1]),
            case("SUBJECT \"quarterly REPORT\"", &[1]),
            case(
                format!("CHARSET UTF-8 SUBJECT {}", lit("Überprüfung der")),
                &[2],
            ),
            case("SUBJECT RECHNUNG", &[2]),
            case(
                format!("CHARSET UTF-8 SUBJECT {}", lit("Café meeting tomorrow")),
                &[3],
            ),
            case("SUBJECT \"meeting tomorrow\"", &[3]),
            case("SUBJECT \"long folded\"", &[4]),
            case("SUBJECT q", &[1]),
            case(
                format!("CHARSET UTF-8 SUBJECT {}", lit("Façade notes")),
                &[5],
            ),
            case(format!("CHARSET UTF-8 SUBJECT {}", lit("ü")), &[2]),
            case(format!("CHARSET UTF-8 SUBJECT {}", lit("é")), &[3]),
            // BODY
            case("BODY numbers", &[1]),
            case(format!("CHARSET UTF-8 BODY {}", lit("grüße")), &[2]),
            case(format!("CHARSET UTF-8 BODY {}", lit("Köln")), &[2]),
            case(format!("CHARSET UTF-8 BODY {}", lit("ist schön.")), &[2]),
            case(format!("CHARSET UTF-8 BODY {}", lit("café à midi")), &[3]),
            case("BODY rendez-vous", &[3]),
            case("BODY pineapple", &[3]),
            case(format!("CHARSET UTF-8 BODY {}", lit("Menü du jour")), &[3]),
            case(format!("CHARSET UTF-8 BODY {}", lit("naïve façade")), &[5]),
            case("BODY lunch", &[4]),
            case("BODY koln", &[]),
            case("BODY strasse", &[]),
            case("SUBJECT uberprufung", &[]),
            case(
                format!("CHARSET UTF-8 BODY {}", lit("Ünïcödé at the end")),
                &[3],
            ),
            case("BODY \"budget figures\"", &[3]),
            case("BODY Quarterly", &[]),
            case("BODY o", &[1, 3, 4, 5]),
            case("BODY ok", &[5]),
            case(format!("CHARSET UTF-8 BODY {}", lit("é")), &[3]),
            // TEXT: header or body
            case("TEXT Quarterly", &[1]),
            case("TEXT bob", &[1]),
            case("TEXT pineapple", &[3]),
            case("TEXT X-Custom", &[1, 2]),
            case(format!("CHARSET UTF-8 TEXT {}", lit("Zoë")), &[3]),
            case(format!("CHARSET UTF-8 TEXT {}", lit("é")), &[2, 3]),
            case(format!("CHARSET UTF-8 TEXT {}", lit("Köln")), &[2]),
            // HEADER
            case("HEADER X-Custom \"\"", &[1, 2]),
            case("HEADER x-custom yes", &[1]),
            case("HEADER X-CUSTOM \"YES\"", &[1]),
            case("HEADER Message-ID m1@", &[1]),
            case("HEADER Content-Transfer-Encoding \"\"", &[2, 5]),
            case("HEADER To \"\"", &[1, 2, 3, 4, 5]),
            case("HEADER Cc \"\"", &[1]),
            case("HEADER Date \"\"", &[1]),
            case("HEADER Bcc \"\"", &[2]),
            case("HEADER X-Absent \"\"", &[]),
            case("HEADER Subject rechnung", &[2]),
            case("HEADER Content-Type multipart", &[3]),
            case("HEADER X-Cust \"\"", &[]),
            case("HEADER Subject \"long folded\"", &[4]),
            case("HEADER X-Tag one", &[4]),
            case("HEADER X-Tag two", &[4]),
            case("HEADER X-Tag \"\"", &[4]),
            // several string keys at once
            case("TO alice BODY o", &[3, 4, 5]),
            case("OR SUBJECT report BODY lunch", &[1, 4]),
            case(
                format!(
                    "CHARSET UTF-8 BODY {} SUBJECT {}",
                    lit("köln"),
                    lit("Überprüfung")
                ),
                &[2],
            ),
            case(
                format!(
                    "CHARSET UTF-8 OR BODY {} BODY {}",
                    lit("café"),
                    lit("naïve")
                ),
                &[3, 5],
            ),
        ],
    )
    .await;
    // Only the selected mailbox is searched.
    let decoy = &decoding_messages()[2];
    append(&mut c, "Archive", "", None, decoy).await;
    assert_eq!(search(&mut c, "BODY pineapple").await, vec![3]);
    assert_eq!(search(&mut c, "ALL").await, vec![1, 2, 3, 4, 5]);
    // The same with UID SEARCH (no expunges here, so UIDs = numbers).
    expect_all(
        &mut c,
        "UID SEARCH",
        &[
            case(format!("CHARSET UTF-8 FROM {}", lit("Müller")), &[2]),
            case("BODY pineapple", &[3]),
        ],
    )
    .await;
    c.ok("SELECT Archive").await;
    assert_eq!(search(&mut c, "BODY pineapple").await, vec![1]);
    assert_eq!(search(&mut c, "FROM alice").await, Vec::<u32>::new());
}

#[tokio::test]
async fn more_mime_decoding() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    // Subject "Prix spécial" in ISO-8859-1, B encoding in lower case; a
    // windows-1252 quoted-printable body "Price: 10 €, naïve".
    let e1 = format!(
        "From: shop@example.com\r\n\
         To: alice@example.com\r\n\
         Subject: =?iso-8859-1?b?{}?=\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=windows-1252\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Price: 10 =80, na=EFve\r\n",
        STANDARD.encode(b"Prix sp\xe9cial")
    );
    // multipart/mixed: a QP part with a soft line break, a base64 text
    // attachment, and an attached message whose header must not count
    // for FROM/SUBJECT (those are the top-level envelope's).
    let e2 = format!(
        "From: bob@example.com\r\n\
         To: alice@example.com\r\n\
         Subject: =?UTF-8?Q?snake=5Fcase_word?= and say \"hi\" now\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
         \r\n\
         --outer\r\n\
         Content-Type: text/plain; charset=\"UTF-8\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         First part, soft=\r\n break.\r\n\
         --outer\r\n\
         Content-Type: text/plain; name=\"notes.txt\"\r\n\
         Content-Disposition: attachment; filename=\"notes.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --outer\r\n\
         Content-Type: message/rfc822\r\n\
         \r\n\
         From: inner@example.com\r\n\
         Subject: inner message\r\n\
         \r\n\
         nested secret word\r\n\
         --outer--\r\n",
        STANDARD.encode("Attached notes: kumquat harvest.\r\n")
    );
    // No Content-Type (text/plain us-ascii) but a base64 body.
    let e3 = format!(
        "From: carol@example.com\r\n\
         Subject: plain\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n",
        STANDARD.encode("hidden treasure\r\n")
    );
    for message in [e1, e2, e3] {
        append(&mut c, "INBOX", "", None, &message).await;
    }
    c.ok("SELECT INBOX").await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case(format!("CHARSET UTF-8 SUBJECT {}", lit("spécial")), &[1]),
            case(format!("CHARSET UTF-8 BODY {}", lit("10 €")), &[1]),
            case(format!("CHARSET UTF-8 BODY {}", lit("naïve")), &[1]),
            case("SUBJECT \"snake_case word\"", &[2]),
            case("SUBJECT \"say \\\"hi\\\" now\"", &[2]),
            case("BODY \"soft break\"", &[2]),
            case("BODY \"kumquat harvest\"", &[2]),
            case("BODY \"nested secret\"", &[2]),
            case("TEXT \"inner message\"", &[2]),
            case("FROM inner", &[]),
            case("SUBJECT \"inner message\"", &[]),
            case("BODY \"hidden treasure\"", &[3]),
            case("TEXT treasure", &[3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn non_ascii_needles_are_case_insensitive() {
    let server = TestServer::start().await;
    let mut c = decoding_mailbox(&server).await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case(
                format!("CHARSET UTF-8 SUBJECT {}", lit("überprüfung")),
                &[2],
            ),
            case(format!("CHARSET UTF-8 SUBJECT {}", lit("CAFÉ")), &[3]),
            case(format!("CHARSET UTF-8 FROM {}", lit("MÜLLER")), &[2]),
            case(format!("CHARSET UTF-8 BODY {}", lit("KÖLN")), &[2]),
            case(format!("CHARSET UTF-8 BODY {}", lit("NAÏVE")), &[5]),
        ],
    )
    .await;
}

#[tokio::test]
async fn synchronizing_literals_in_search() {
    let server = TestServer::start().await;
    let mut c = decoding_mailbox(&server).await;
    // ASCII needle in a synchronizing literal, no CHARSET.
    c.send(b"L1 SEARCH SUBJECT {7}\r\n").await;
    let cont = c.line().await;
    assert!(cont.starts_with("+"), "{cont}");
    c.send(b"meeting\r\n").await;
    let lines = c.until_tagged("L1").await;
    assert!(lines.last().unwrap().starts_with("L1 OK"), "{lines:#?}");
    assert_eq!(search_result(&lines), vec![3]);

    // Non-ASCII needle, two synchronizing literals in one command.
    let first = "Überprüfung";
    let second = "Köln";
    c.send(format!("L2 SEARCH CHARSET UTF-8 SUBJECT {{{}}}\r\n", first.len()).as_bytes())
        .await;
    let cont = c.line().await;
    assert!(cont.starts_with("+"), "{cont}");
    c.send(format!("{first} BODY {{{}}}\r\n", second.len()).as_bytes())
        .await;
    let cont = c.line().await;
    assert!(cont.starts_with("+"), "{cont}");
    c.send(format!("{second}\r\n").as_bytes()).await;
    let lines = c.until_tagged("L2").await;
    assert!(lines.last().unwrap().starts_with("L2 OK"), "{lines:#?}");
    assert_eq!(search_result(&lines), vec![2]);

    // UID SEARCH with a synchronizing literal.
    let needle = "Zoë";
    c.send(format!("L3 UID SEARCH CHARSET UTF-8 TO {{{}}}\r\n", needle.len()).as_bytes())
        .await;
    let cont = c.line().await;
    assert!(cont.starts_with("+"), "{cont}");
    c.send(format!("{needle}\r\n").as_bytes()).await;
    let lines = c.until_tagged("L3").await;
    assert!(lines.last().unwrap().starts_with("L3 OK"), "{lines:#?}");
    assert_eq!(search_result(&lines), vec![3]);
}

/// Eight appended, the 1st and 4th expunged: sequence numbers 1..6 are
/// UIDs 2, 3, 5, 6, 7, 8.
async fn sets_mailbox(server: &TestServer) -> Client {
    let mut c = server.logged_in().await;
    for (from, subject, flags) in [
        ("alice", "gone one", "\\Deleted"),
        ("alice", "alpha", ""),
        ("bob", "beta", ""),
        ("bob", "gone four", "\\Deleted"),
        ("alice", "gamma", "\\Flagged"),
        ("carol", "delta", "\\Seen"),
        ("bob", "epsilon", "\\Flagged \\Seen"),
        ("alice", "zeta", ""),
    ] {
        let message = simple(&format!("{from}@example.com"), subject);
        append(&mut c, "INBOX", flags, None, &message).await;
    }
    c.ok("SELECT INBOX").await;
    let expunge = c.ok("EXPUNGE").await;
    assert_eq!(expunge.len(), 3, "{expunge:#?}");
    c
}

#[tokio::test]
async fn sequence_sets_uids_and_logic() {
    let server = TestServer::start().await;
    let mut c = sets_mailbox(&server).await;
    expect_all(
        &mut c,
        "UID SEARCH",
        &[
            case("ALL", &[2, 3, 5, 6, 7, 8]),
            case("UID 5:*", &[5, 6, 7, 8]),
            case("2:3", &[3, 5]),
            case("*", &[8]),
            case("FROM alice", &[2, 5, 8]),
            case("OR FROM bob FROM carol", &[3, 6, 7]),
            case("NOT UID 2:5", &[6, 7, 8]),
            case("UID 4", &[]),
            case("UID 1,4", &[]),
            case("UID 8:1", &[2, 3, 5, 6, 7, 8]),
            case("FLAGGED", &[5, 7]),
        ],
    )
    .await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case("ALL", &[1, 2, 3, 4, 5, 6]),
            // sequence sets
            case("2:4", &[2, 3, 4]),
            case("5:2", &[2, 3, 4, 5]),
            case("1,3,6", &[1, 3, 6]),
            case("6,1:2", &[1, 2, 6]),
            case("1,1,2,1:2", &[1, 2]),
            case("*", &[6]),
            case("4:*", &[4, 5, 6]),
            case("*:5", &[5, 6]),
            case("1:*", &[1, 2, 3, 4, 5, 6]),
            case("2:5 4:6", &[4, 5]),
            case("1:3 4:6", &[]),
            // UID key
            case("UID 3:6", &[2, 3, 4]),
            case("UID 4", &[]),
            case("UID 1:2", &[1]),
            case("UID *", &[6]),
            case("UID 100:*", &[6]),
            case("UID 2,8", &[1, 6]),
            // implicit AND
            case("FROM alice FLAGGED", &[3]),
            case("FROM bob SEEN FLAGGED", &[5]),
            case("2:5 FROM alice", &[3]),
            case("ALL FROM bob", &[2, 5]),
            case("FROM alice NOT 1", &[3, 6]),
            // OR, NOT, parentheses, nesting
            case("OR FROM bob FROM carol", &[2, 4, 5]),
            case("OR FLAGGED SEEN", &[3, 4, 5]),
            case("NOT FROM alice", &[2, 4, 5]),
            case("NOT NOT FROM alice", &[1, 3, 6]),
            case("NOT 2:5", &[1, 6]),
            case("NOT UID 5:6", &[1, 2, 5, 6]),
            case("(FROM alice FLAGGED)", &[3]),
            case("((FROM alice))", &[1, 3, 6]),
            case("(FROM alice) (SUBJECT zeta)", &[6]),
            case("OR (FROM alice FLAGGED) (FROM bob SEEN)", &[3, 5]),
            case("NOT (FROM alice FLAGGED)", &[1, 2, 4, 5, 6]),
            case("(OR FROM carol (NOT FROM alice)) SEEN", &[4, 5]),
            case(
                "OR OR FROM carol SUBJECT zeta NOT OR FROM alice FROM bob",
                &[4, 6],
            ),
            case("NOT OR FLAGGED SEEN", &[1, 2, 6]),
            case("OR 1 6", &[1, 6]),
            case("OR UID 2 UID 8", &[1, 6]),
            case("OR 1 OR 3 OR 5 6", &[1, 3, 5, 6]),
            case("NOT (OR 1 (2:3 NOT 3))", &[3, 4, 5, 6]),
        ],
    )
    .await;
    // Nothing matches: the exact line is `* SEARCH` with no trailing space.
    for command in ["SEARCH FROM nobody", "UID SEARCH UID 4"] {
        let lines = c.ok(command).await;
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert_eq!(lines[0], "* SEARCH", "{command}");
    }
    // Lower-case command and keys; the response is still `* SEARCH`.
    let lines = c.ok("search from ALICE").await;
    assert_eq!(lines[0], "* SEARCH 1 3 6");
    let lines = c.ok("uid search or from bob subject ZETA").await;
    assert_eq!(lines[0], "* SEARCH 3 7 8");
    let tagged = lines.last().unwrap();
    assert!(tagged.contains("OK"), "{tagged}");
}

#[tokio::test]
async fn charset_argument() {
    let server = TestServer::start().await;
    let mut c = decoding_mailbox(&server).await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case("CHARSET UTF-8 SUBJECT report", &[1]),
            case("CHARSET utf-8 SUBJECT report", &[1]),
            case("CHARSET \"UTF-8\" SUBJECT report", &[1]),
            case("CHARSET US-ASCII SUBJECT report", &[1]),
            case("CHARSET us-ascii ALL", &[1, 2, 3, 4, 5]),
            case(format!("CHARSET {} SUBJECT report", lit("UTF-8")), &[1]),
        ],
    )
    .await;
    expect_all(
        &mut c,
        "UID SEARCH",
        &[case("CHARSET UTF-8 SUBJECT report", &[1])],
    )
    .await;
    for command in [
        "SEARCH CHARSET KOI8-R SUBJECT report",
        "UID SEARCH CHARSET KOI8-R ALL",
        "SEARCH CHARSET koi8-r ALL",
    ] {
        let lines = c.command(command).await;
        assert_eq!(
            lines.len(),
            1,
            "no untagged SEARCH for {command}: {lines:#?}"
        );
        let status = lines[0].split_once(' ').unwrap().1;
        assert!(
            status.starts_with("NO [BADCHARSET (UTF-8 US-ASCII)]"),
            "{command} -> {status}"
        );
    }
    // A refused charset with a LITERAL+ string: the literal is consumed and
    // the session stays in sync.
    let status = c.status("SEARCH CHARSET KOI8-R SUBJECT {4+}\r\nabcd").await;
    assert!(
        status.starts_with("NO [BADCHARSET (UTF-8 US-ASCII)]"),
        "{status}"
    );
    assert_eq!(search(&mut c, "SUBJECT report").await, vec![1]);
}

#[tokio::test]
async fn search_does_not_send_expunge_from_another_session() {
    let server = TestServer::start().await;
    let mut a = server.logged_in().await;
    for subject in ["first", "second", "third"] {
        append(&mut a, "INBOX", "", None, &simple("x@example.com", subject)).await;
    }
    a.ok("SELECT INBOX").await;
    let mut b = server.logged_in().await;
    b.ok("SELECT INBOX").await;
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    let expunged = b.ok("EXPUNGE").await;
    assert_eq!(expunged[0], "* 2 EXPUNGE");

    // A has not been told: "third" is still its message 3.
    let lines = a.ok("SEARCH SUBJECT third").await;
    assert!(
        !lines.iter().any(|l| l.contains("EXPUNGE")),
        "SEARCH must not send EXPUNGE: {lines:#?}"
    );
    assert_eq!(search_result(&lines), vec![3], "{lines:#?}");
    let lines = a.ok("SEARCH ALL").await;
    assert!(
        !lines.iter().any(|l| l.contains("EXPUNGE")),
        "SEARCH must not send EXPUNGE: {lines:#?}"
    );
    let all = search_result(&lines);
    assert!(
        all.contains(&1) && all.contains(&3) && all.iter().all(|&n| n <= 3),
        "{lines:#?}"
    );
    for (criteria, expected) in [
        ("2:3 SUBJECT third", vec![3]),
        ("*", vec![3]),
        ("UID 3", vec![3]),
    ] {
        let lines = a.ok(&format!("SEARCH {criteria}")).await;
        assert!(!lines.iter().any(|l| l.contains("EXPUNGE")), "{lines:#?}");
        assert_eq!(
            search_result(&lines),
            expected,
            "SEARCH {criteria}: {lines:#?}"
        );
    }
    let lines = a.ok("SEARCH NOT SUBJECT second").await;
    assert!(!lines.iter().any(|l| l.contains("EXPUNGE")), "{lines:#?}");
    assert_eq!(search_result(&lines), vec![1, 3], "{lines:#?}");

    // The next NOOP brings the EXPUNGE; then the numbers shift.
    let noop = a.ok("NOOP").await;
    assert!(noop.contains(&"* 2 EXPUNGE".to_string()), "{noop:#?}");
    assert_eq!(search(&mut a, "SUBJECT third").await, vec![2]);
    assert_eq!(search(&mut a, "ALL").await, vec![1, 2]);
    assert_eq!(uid_search(&mut a, "ALL").await, vec![1, 3]);
}

/// The count in the last `* n EXISTS` of `lines`.
fn last_exists(lines: &[String]) -> Option<u32> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXISTS")?.parse().ok())
        .next_back()
}

/// Checks that every number in the `* SEARCH` line was announced by an
/// EXISTS before it (`known` = the EXISTS count before the command);
/// returns the numbers.
fn announced_result(lines: &[String], mut known: u32) -> Vec<u32> {
    let mut result = None;
    for line in lines {
        if let Some(n) = line
            .strip_prefix("* ")
            .and_then(|l| l.strip_suffix(" EXISTS"))
        {
            known = n.parse().unwrap();
        } else if line.starts_with("* SEARCH") {
            assert!(result.is_none(), "{lines:#?}");
            let numbers = parse_search_line(line);
            assert!(
                numbers.iter().all(|&n| n <= known),
                "SEARCH returned a message not announced by EXISTS before it: {lines:#?}"
            );
            result = Some(numbers);
        }
    }
    result.unwrap_or_else(|| panic!("no * SEARCH: {lines:#?}"))
}

#[tokio::test]
async fn search_only_reports_announced_messages_and_recent_follows_the_first_session() {
    let server = TestServer::start().await;
    let mut a = server.logged_in().await;
    for subject in ["first", "second", "third"] {
        append(&mut a, "INBOX", "", None, &simple("x@example.com", subject)).await;
    }
    a.ok("SELECT INBOX").await;
    let mut b = server.logged_in().await;
    append(
        &mut b,
        "INBOX",
        "",
        None,
        &simple("x@example.com", "fourth"),
    )
    .await;

    let lines = a.ok("SEARCH ALL").await;
    let all = announced_result(&lines, 3);
    let known = last_exists(&lines).unwrap_or(3);
    assert!(all.starts_with(&[1, 2, 3]), "{lines:#?}");
    append(&mut b, "INBOX", "", None, &simple("x@example.com", "fifth")).await;
    let lines = a.ok("SEARCH SUBJECT fifth").await;
    let fifth = announced_result(&lines, known);
    assert!(fifth.is_empty() || fifth == [5], "{lines:#?}");

    a.ok("NOOP").await;
    assert_eq!(search(&mut a, "ALL").await, vec![1, 2, 3, 4, 5]);
    assert_eq!(search(&mut a, "SUBJECT fifth").await, vec![5]);
    assert_eq!(uid_search(&mut a, "SUBJECT fourth").await, vec![4]);
    // A was selected when 4 and 5 arrived: it is the first session told of
    // them, so all five are \Recent for A.
    assert_eq!(search(&mut a, "RECENT").await, vec![1, 2, 3, 4, 5]);
    assert_eq!(search(&mut a, "NEW").await, vec![1, 2, 3, 4, 5]);

    // A third session selecting later sees no \Recent.
    let mut c = server.logged_in().await;
    let select = c.ok("SELECT INBOX").await;
    assert!(select.contains(&"* 0 RECENT".to_string()), "{select:#?}");
    assert_eq!(search(&mut c, "RECENT").await, Vec::<u32>::new());
    assert_eq!(search(&mut c, "NEW").await, Vec::<u32>::new());
    assert_eq!(search(&mut c, "OLD").await, vec![1, 2, 3, 4, 5]);
    assert_eq!(search(&mut a, "RECENT").await, vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn malformed_criteria_and_wrong_state() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    append(&mut c, "INBOX", "", None, &simple("a@example.com", "one")).await;
    let unselected = c.status("SEARCH ALL").await;
    assert!(
        unselected.starts_with("BAD") || unselected.starts_with("NO"),
        "SEARCH outside the selected state: {unselected}"
    );
    c.ok("SELECT INBOX").await;
    for criteria in [
        "",
        "FROM",
        "OR FROM a",
        "(FROM a",
        "FROM a)",
        "NOT",
        "BEFORE 2026-03-05",
        "LARGER abc",
        "NOSUCHKEY",
        "UID",
        "HEADER X-Custom",
    ] {
        let lines = c.command(&format!("SEARCH {criteria}")).await;
        assert_eq!(lines.len(), 1, "SEARCH {criteria}: {lines:#?}");
        let status = lines[0].split_once(' ').unwrap().1;
        assert!(status.starts_with("BAD"), "SEARCH {criteria} -> {status}");
    }
    assert_eq!(search(&mut c, "ALL").await, vec![1]);
}

#[tokio::test]
async fn sent_dates_in_obsolete_syntax() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    // RFC 5322 §4.3/§4.4: a two-digit year (26 = 2026), an alphabetic
    // zone, a comment, a doubled space. Every one was sent on 5-Mar-2026
    // in its own zone; INTERNALDATE is 20-Mar-2026 for all.
    for date in [
        "Thu, 05 Mar 26 10:00:00 GMT",
        "5 Mar 2026 23:00:00 EST",
        "Thu,  5 Mar 2026 01:00:00 +0200 (CEST)",
    ] {
        let message = format!("From: o@example.com\r\nDate: {date}\r\nSubject: old\r\n\r\nhi\r\n");
        append(
            &mut c,
            "INBOX",
            "",
            Some("20-Mar-2026 12:00:00 +0000"),
            &message,
        )
        .await;
    }
    c.ok("SELECT INBOX").await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case("SENTON 5-Mar-2026", &[1, 2, 3]),
            case("SENTBEFORE 5-Mar-2026", &[]),
            case("SENTSINCE 6-Mar-2026", &[]),
            case("SENTSINCE 5-Mar-2026", &[1, 2, 3]),
            case("ON 20-Mar-2026", &[1, 2, 3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn body_search_covers_the_whole_of_a_large_message() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    let line = "filler text for a large message body 0123456789\r\n";
    let mut message = String::from("From: big@example.com\r\nSubject: big\r\n\r\nfirst line\r\n");
    while message.len() < 5 * 1024 * 1024 {
        message.push_str(line);
    }
    message.push_str("zanzibar at the very end\r\n");
    append(&mut c, "INBOX", "", None, &message).await;
    append(
        &mut c,
        "INBOX",
        "",
        None,
        &simple("small@example.com", "small"),
    )
    .await;
    c.ok("SELECT INBOX").await;
    expect_all(
        &mut c,
        "SEARCH",
        &[
            case("LARGER 5000000", &[1]),
            case("BODY \"first line\"", &[1]),
            case("BODY filler", &[1]),
            case("BODY zanzibar", &[1]),
            case("TEXT \"at the very end\"", &[1]),
        ],
    )
    .await;
}

#[tokio::test]
async fn empty_mailbox_and_examine() {
    let server = TestServer::start().await;
    let mut c = server.logged_in().await;
    c.ok("SELECT Junk").await;
    for command in [
        "SEARCH ALL",
        "SEARCH *",
        "SEARCH 1:*",
        "SEARCH UID *",
        "UID SEARCH UID 1:*",
        "UID SEARCH *",
        "SEARCH NOT ALL",
    ] {
        let lines = c.ok(command).await;
        assert_eq!(lines[0], "* SEARCH", "{command}: {lines:#?}");
        assert_eq!(lines.len(), 2, "{command}: {lines:#?}");
    }
    append(
        &mut c,
        "Sent",
        "\\Seen",
        None,
        &simple("me@example.com", "sent"),
    )
    .await;
    append(&mut c, "Sent", "", None, &simple("me@example.com", "draft")).await;
    // EXAMINE: read-only, but SEARCH works; this session is the first to
    // see both, RECENT included.
    c.ok("EXAMINE Sent").await;
    assert_eq!(search(&mut c, "ALL").await, vec![1, 2]);
    assert_eq!(search(&mut c, "SEEN").await, vec![1]);
    assert_eq!(search(&mut c, "SUBJECT draft").await, vec![2]);
    assert_eq!(uid_search(&mut c, "UNSEEN").await, vec![2]);
}

/// FROM/TO/CC/BCC match an address as written and in its normalised
/// form: comments and folding whitespace inside the address removed,
/// display names decoded.
#[tokio::test]
async fn address_keys_match_the_normalised_address() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let message = "From: <user-from (comment)@ (comment) domain.org>\r\n\
                   To: =?UTF-8?Q?J=C3=BCrgen?= <j (x) @example.com>\r\n\
                   Subject: addresses\r\n\r\nbody\r\n";
    append(&mut client, "INBOX", "", None, message).await;
    append(
        &mut client,
        "INBOX",
        "",
        None,
        "From: other@domain.org\r\n\r\nx\r\n",
    )
    .await;
    client.ok("SELECT INBOX").await;
    assert_eq!(search(&mut client, "FROM user-from@domain.org").await, [1]);
    assert_eq!(
        search(&mut client, "FROM \"(comment)\"").await,
        [1],
        "as written"
    );
    assert_eq!(search(&mut client, "TO \"j@example.com\"").await, [1]);
    assert_eq!(search(&mut client, "TO \"rgen <j@\"").await, [1]);
    assert_eq!(search(&mut client, "FROM domain.org").await, [1, 2]);
    assert!(search(&mut client, "CC domain.org").await.is_empty());
}

/// WITHIN (RFC 5032): OLDER n and YOUNGER n compare INTERNALDATE with now.
#[tokio::test]
async fn older_and_younger() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(
        caps[0].contains(" WITHIN") && caps[0].contains(" LITERAL-"),
        "{}",
        caps[0]
    );
    append(
        &mut client,
        "INBOX",
        "",
        Some("01-Jan-2020 00:00:00 +0000"),
        "Subject: old\r\n\r\nx\r\n",
    )
    .await;
    append(&mut client, "INBOX", "", None, "Subject: new\r\n\r\nx\r\n").await;
    client.ok("SELECT INBOX").await;
    assert_eq!(search(&mut client, "OLDER 3600").await, [1]);
    assert_eq!(search(&mut client, "YOUNGER 3600").await, [2]);
    // Within about 126 years everything is young; 2020 is less than 31
    // years ago.
    assert_eq!(search(&mut client, "YOUNGER 4000000000").await, [1, 2]);
    assert!(search(&mut client, "OLDER 1000000000").await.is_empty());
    assert_eq!(search(&mut client, "NOT OLDER 3600").await, [2]);
    assert!(client.status("SEARCH OLDER x").await.starts_with("BAD"));
}

/// SAVEDATE (RFC 8514): the date a message entered its mailbox, for FETCH
/// and SEARCH; a copy has its own.
#[tokio::test]
async fn save_dates() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(caps[0].contains(" SAVEDATE"), "{}", caps[0]);
    append(
        &mut client,
        "INBOX",
        "",
        Some("01-Jan-2020 00:00:00 +0000"),
        "Subject: old\r\n\r\nx\r\n",
    )
    .await;
    client.ok("SELECT INBOX").await;
    let today = chrono::Utc::now().date_naive();
    let fetched = client.ok("FETCH 1 (SAVEDATE INTERNALDATE)").await;
    let expected = today.format("SAVEDATE \"%d-%b-%Y ").to_string();
    assert!(
        fetched[0].contains(&expected) && fetched[0].contains(" +0000\""),
        "{}",
        fetched[0]
    );
    assert!(
        fetched[0].contains("INTERNALDATE \"01-Jan-2020"),
        "{}",
        fetched[0]
    );
    let on = today.format("%d-%b-%Y").to_string();
    assert_eq!(search(&mut client, &format!("SAVEDON {on}")).await, [1]);
    assert_eq!(search(&mut client, &format!("SAVEDSINCE {on}")).await, [1]);
    assert!(
        search(&mut client, &format!("SAVEDBEFORE {on}"))
            .await
            .is_empty()
    );
    assert!(
        search(&mut client, "SAVEDBEFORE 1-Jan-2021")
            .await
            .is_empty(),
        "not the INTERNALDATE"
    );
    assert_eq!(search(&mut client, "SAVEDATESUPPORTED").await, [1]);
    // COPY and MOVE give the message a save date in its new mailbox.
    let ten_days_ago = chrono::Utc::now().timestamp() - 10 * 86_400;
    common::raw_sql(
        &server.ctx.config(),
        &format!("UPDATE messages SET added_at = {ten_days_ago}"),
    );
    assert!(
        search(&mut client, &format!("SAVEDON {on}"))
            .await
            .is_empty()
    );
    client.ok("CREATE Saved").await;
    client.ok("COPY 1 Saved").await;
    client.ok("SELECT Saved").await;
    assert_eq!(search(&mut client, &format!("SAVEDON {on}")).await, [1]);
}

/// SAVEDATE after MOVE: the moved message's save date is the move's.
#[tokio::test]
async fn save_date_after_move() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    append(&mut client, "INBOX", "", None, "Subject: m\r\n\r\nx\r\n").await;
    let ten_days_ago = chrono::Utc::now().timestamp() - 10 * 86_400;
    common::raw_sql(
        &server.ctx.config(),
        &format!("UPDATE messages SET added_at = {ten_days_ago}"),
    );
    client.ok("SELECT INBOX").await;
    let on = chrono::Utc::now()
        .date_naive()
        .format("%d-%b-%Y")
        .to_string();
    assert!(
        search(&mut client, &format!("SAVEDON {on}"))
            .await
            .is_empty()
    );
    client.ok("CREATE Moved").await;
    client.ok("MOVE 1 Moved").await;
    client.ok("SELECT Moved").await;
    assert_eq!(search(&mut client, &format!("SAVEDON {on}")).await, [1]);
    let old = chrono::DateTime::from_timestamp(ten_days_ago, 0)
        .unwrap()
        .date_naive()
        .format("%d-%b-%Y")
        .to_string();
    assert!(
        search(&mut client, &format!("SAVEDON {old}"))
            .await
            .is_empty()
    );
}

/// The untagged lines of a command that must succeed (tagged line dropped).
async fn untagged(client: &mut Client, command: &str) -> Vec<String> {
    let mut lines = client.ok(command).await;
    lines.pop();
    lines
}

/// SEARCHRES (RFC 5182): `SEARCH RETURN (SAVE)` keeps its result as `$`
/// for FETCH, STORE, COPY, MOVE, SEARCH and UID EXPUNGE, in UID and
/// sequence-number commands alike.
#[tokio::test]
async fn saved_search_result_across_commands() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(caps[0].contains(" SEARCHRES"), "{}", caps[0]);
    for (n, flags) in ["", "\\Flagged", "", "\\Flagged", "\\Flagged"]
        .iter()
        .enumerate()
    {
        let message = format!("Subject: {}\r\n\r\nbody\r\n", 5 - n);
        append(&mut client, "INBOX", flags, None, &message).await;
    }
    client.ok("CREATE Other").await;
    client.ok("SELECT INBOX").await;
    // Before any SAVE, `$` names nothing.
    assert!(untagged(&mut client, "FETCH $ UID").await.is_empty());
    assert!(search(&mut client, "$").await.is_empty());

    // SAVE alone: no ESEARCH, only the tagged OK.
    assert!(
        untagged(&mut client, "SEARCH RETURN (SAVE) FLAGGED")
            .await
            .is_empty()
    );
    assert_eq!(
        untagged(&mut client, "FETCH $ (UID)").await,
        [
            "* 2 FETCH (UID 2)",
            "* 4 FETCH (UID 4)",
            "* 5 FETCH (UID 5)"
        ]
    );
    assert_eq!(untagged(&mut client, "UID FETCH $ (FLAGS)").await.len(), 3);
    assert_eq!(search(&mut client, "$").await, [2, 4, 5]);
    assert_eq!(search(&mut client, "NOT $").await, [1, 3]);
    assert_eq!(search(&mut client, "OR $ 1").await, [1, 2, 4, 5]);
    assert_eq!(uid_search(&mut client, "UID $").await, [2, 4, 5]);
    client.ok("STORE $ +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(search(&mut client, "SEEN").await, [2, 4, 5]);
    let copied = client.ok("UID COPY $ Other").await;
    assert!(
        copied.last().unwrap().contains("[COPYUID ") && copied.last().unwrap().contains(" 2,4:5 "),
        "{copied:?}"
    );

    // An expunged message leaves the saved result; the rest renumber.
    client.ok("STORE 4 +FLAGS.SILENT (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    assert_eq!(search(&mut client, "$").await, [2, 4]);
    assert_eq!(uid_search(&mut client, "$").await, [2, 5]);

    // With MIN (or MAX) and nothing wider, only that message is kept.
    let min = untagged(&mut client, "SEARCH RETURN (SAVE MIN) FLAGGED").await;
    assert!(min.len() == 1 && min[0].ends_with(") MIN 2"), "{min:?}");
    assert_eq!(search(&mut client, "$").await, [2]);
    untagged(&mut client, "SEARCH RETURN (SAVE MIN MAX) ALL").await;
    assert_eq!(search(&mut client, "$").await, [1, 4]);
    // COUNT (or ALL) saves everything found.
    untagged(&mut client, "SEARCH RETURN (SAVE MAX COUNT) ALL").await;
    assert_eq!(search(&mut client, "$").await, [1, 2, 3, 4]);

    // SORT RETURN (SAVE) too; MIN is the first in sort order.
    untagged(&mut client, "SORT RETURN (SAVE MIN) (SUBJECT) UTF-8 ALL").await;
    // Subjects now: 1 "5", 2 "4", 3 "3", 4 "1": the least is message 4.
    assert_eq!(search(&mut client, "$").await, [4]);

    // Pipelined: the FETCH sees what the SEARCH before it saved.
    client
        .send(b"p1 SEARCH RETURN (SAVE) UNSEEN\r\np2 FETCH $ (UID)\r\n")
        .await;
    assert_eq!(client.line().await, "p1 OK SEARCH completed");
    assert_eq!(client.line().await, "* 1 FETCH (UID 1)");
    assert_eq!(client.line().await, "* 3 FETCH (UID 3)");
    assert_eq!(client.line().await, "p2 OK FETCH completed");

    // A SEARCH with SAVE that fails leaves `$` empty (RFC 5182 §2.1).
    let failed = client
        .status("SEARCH RETURN (SAVE) CHARSET KOI8-R FROM x")
        .await;
    assert!(failed.starts_with("NO [BADCHARSET"), "{failed}");
    assert!(untagged(&mut client, "FETCH $ UID").await.is_empty());

    // MOVE and UID EXPUNGE with `$`.
    untagged(&mut client, "SEARCH RETURN (SAVE) SUBJECT 3").await;
    let moved = untagged(&mut client, "MOVE $ Other").await;
    assert!(
        moved.len() == 2
            && moved[0].starts_with("* OK [COPYUID ")
            && moved[0].ends_with(" 3 4] Moved"),
        "{moved:?}"
    );
    assert_eq!(moved[1], "* 3 EXPUNGE");
    client.ok("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    untagged(&mut client, "SEARCH RETURN (SAVE) DELETED").await;
    assert_eq!(
        untagged(&mut client, "UID EXPUNGE $").await,
        ["* 1 EXPUNGE"]
    );
    assert_eq!(uid_search(&mut client, "ALL").await, [2, 5]);
    // `$` stands alone; a new SELECT forgets it.
    assert!(client.status("FETCH 1,$ UID").await.starts_with("BAD"));
    untagged(&mut client, "SEARCH RETURN (SAVE) ALL").await;
    client.ok("SELECT INBOX").await;
    assert!(untagged(&mut client, "FETCH $ UID").await.is_empty());
}
