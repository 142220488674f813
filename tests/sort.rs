//! SORT and UID SORT (RFC 5256), DISPLAYFROM/DISPLAYTO (RFC 5957) and
//! ESORT (RFC 5267) over real sockets. Every expected order below is
//! worked out by hand from the RFCs' rules and the messages built here.

mod common;

use common::*;

/// The messages, in arrival order (sequence numbers 1 to 6). Sizes grow
/// with the padding; dates are chosen so DATE, ARRIVAL and the sequence
/// disagree.
const MESSAGES: [(&str, &str); 6] = [
    (
        "01-Jan-2026 10:00:00 +0000",
        "From: Zed <zed@example.org>\r\nTo: amy@example.org\r\nCc: Bob <bob@x.org>\r\n\
         Subject: Re: Lunch\r\nDate: Mon, 5 Jan 2026 09:00:00 +0100\r\n\r\nxx\r\n",
    ),
    (
        "02-Jan-2026 10:00:00 +0000",
        "From: amy@example.org\r\nTo: \"Carl\" <zed@example.org>\r\n\
         Subject: [team] lunch\r\nDate: Mon, 5 Jan 2026 07:30:00 -0100\r\n\r\nxxxxxxxxxxxx\r\n",
    ),
    (
        "03-Jan-2026 10:00:00 +0000",
        "From: =?UTF-8?Q?Bea?= <Yves@example.org>\r\nTo: bob@example.org\r\n\
         Subject: Agenda\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
    ),
    (
        "31-Dec-2025 10:00:00 +0000",
        "From: carl@example.org\r\nSubject: FWD: agenda (fwd)\r\n\
         Date: Sun, 4 Jan 2026 23:00:00 +0000\r\n\r\nx\r\n",
    ),
    (
        "04-Jan-2026 10:00:00 +0000",
        "To: Amy <amy@example.org>\r\nCc: alice@x.org\r\nSubject: zebra\r\n\
         Date: broken\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
    ),
    (
        "01-Jan-2026 10:00:00 +0000",
        "From: Zed <ZED@example.org>\r\nSubject: re: RE: lunch\r\n\
         Date: Mon, 5 Jan 2026 09:00:00 +0100\r\n\r\nxxxx\r\n",
    ),
];

async fn mailbox() -> (TestServer, Client) {
    mailbox_on(TestServer::start().await).await
}

/// MESSAGES in INBOX of `server`, selected.
async fn mailbox_on(server: TestServer) -> (TestServer, Client) {
    let mut client = server.logged_in().await;
    for (date, message) in MESSAGES {
        client
            .ok(&format!(
                "APPEND INBOX \"{date}\" {{{}+}}\r\n{message}",
                message.len()
            ))
            .await;
    }
    client.ok("SELECT INBOX").await;
    (server, client)
}

/// The numbers of the one `* SORT` line of a successful command.
async fn sort(client: &mut Client, command: &str) -> Vec<u32> {
    let lines = client.ok(command).await;
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with("* SORT")).collect();
    assert_eq!(found.len(), 1, "{command}: {lines:#?}");
    found[0]["* SORT".len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn every_sort_key() {
    let (_server, mut client) = mailbox().await;
    let caps = client.ok("CAPABILITY").await;
    for cap in [" SORT ", " SORT=DISPLAY ", " ESORT "] {
        assert!(caps[0].contains(cap), "{cap}: {}", caps[0]);
    }
    // Base subjects: lunch, lunch, Agenda, agenda, zebra, lunch.
    // i;ascii-casemap: AGENDA (3, 4), LUNCH (1, 2, 6), ZEBRA (5); ties by
    // sequence number.
    let cases: &[(&str, &[u32])] = &[
        ("(SUBJECT)", &[3, 4, 1, 2, 6, 5]),
        ("(REVERSE SUBJECT)", &[5, 1, 2, 6, 3, 4]),
        // ARRIVAL: 31-Dec (4), 1-Jan (1, 6), 2-Jan (2), 3-Jan (3), 4-Jan (5).
        ("(ARRIVAL)", &[4, 1, 6, 2, 3, 5]),
        // DATE in UTC: 1 and 6 08:00 5-Jan; 2 08:30 5-Jan; 4 23:00 4-Jan;
        // 3 has none and 5 a broken one: their INTERNALDATEs (3-Jan,
        // 4-Jan 10:00).
        ("(DATE)", &[3, 5, 4, 1, 6, 2]),
        ("(REVERSE DATE)", &[2, 1, 6, 4, 5, 3]),
        // SIZE grows with the padding: 4, 1, 6, 2, 3, 5 by body length;
        // headers differ too, so compare against RFC822.SIZE below.
        // FROM addr-mailbox: zed, amy, Yves, carl, "" (none), ZED.
        ("(FROM)", &[5, 2, 4, 3, 1, 6]),
        // TO: amy, zed, bob, "", amy, "".
        ("(TO)", &[4, 6, 1, 5, 3, 2]),
        // CC: bob, "", "", "", alice, "".
        ("(CC)", &[2, 3, 4, 6, 5, 1]),
        // DISPLAYFROM: Zed, amy@example.org, Bea, carl@example.org, "", Zed.
        ("(DISPLAYFROM)", &[5, 2, 3, 4, 1, 6]),
        // DISPLAYTO: amy@example.org, Carl, bob@example.org, "", Amy, "";
        // "AMY" sorts before "AMY@EXAMPLE.ORG".
        ("(DISPLAYTO)", &[4, 6, 5, 1, 3, 2]),
        // Several keys: subject, then newest first within a subject.
        ("(SUBJECT REVERSE DATE)", &[4, 3, 2, 1, 6, 5]),
        ("(REVERSE ARRIVAL SUBJECT)", &[5, 3, 2, 1, 6, 4]),
    ];
    for (keys, expected) in cases {
        assert_eq!(
            sort(&mut client, &format!("SORT {keys} UTF-8 ALL")).await,
            *expected,
            "{keys}"
        );
    }
    // SIZE against what FETCH reports.
    let sizes = client.ok("FETCH 1:6 (RFC822.SIZE)").await;
    let mut by_size: Vec<(u32, u32)> = sizes[..6]
        .iter()
        .map(|l| {
            let seq = l[2..].split(' ').next().unwrap().parse().unwrap();
            let size = l
                .rsplit(' ')
                .next()
                .unwrap()
                .trim_end_matches(')')
                .parse()
                .unwrap();
            (size, seq)
        })
        .collect();
    by_size.sort();
    let expected: Vec<u32> = by_size.iter().map(|&(_, seq)| seq).collect();
    assert_eq!(
        sort(&mut client, "SORT (SIZE) US-ASCII ALL").await,
        expected
    );
}

#[tokio::test]
async fn search_criteria_uid_sort_and_charsets() {
    let (_server, mut client) = mailbox().await;
    client.ok("STORE 2,3 +FLAGS (\\Seen)").await;
    assert_eq!(
        sort(&mut client, "SORT (SUBJECT) UTF-8 UNSEEN").await,
        [4, 1, 6, 5]
    );
    assert_eq!(
        sort(&mut client, "SORT (DATE) UTF-8 OR FROM zed SUBJECT agenda").await,
        [3, 4, 1, 6]
    );
    assert_eq!(sort(&mut client, "SORT (DATE) UTF-8 2:4").await, [3, 4, 2]);
    // UID SORT answers UIDs; expunge 1 so they differ from numbers.
    client.ok("STORE 1 +FLAGS (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    assert_eq!(
        sort(&mut client, "UID SORT (SUBJECT) UTF-8 ALL").await,
        [3, 4, 2, 6, 5]
    );
    assert_eq!(
        sort(&mut client, "SORT (SUBJECT) UTF-8 ALL").await,
        [2, 3, 1, 5, 4]
    );
    assert!(
        sort(&mut client, "SORT (SUBJECT) UTF-8 SUBJECT nothing")
            .await
            .is_empty()
    );
    let reply = client.status("SORT (SUBJECT) KOI8-R ALL").await;
    assert!(reply.starts_with("NO [BADCHARSET"), "{reply}");
    for bad in [
        "SORT () UTF-8 ALL",
        "SORT (SUBJECT) ALL",
        "SORT (NAME) UTF-8 ALL",
        "SORT SUBJECT UTF-8 ALL",
    ] {
        assert!(client.status(bad).await.starts_with("BAD"), "{bad}");
    }
}

/// ESORT (RFC 5267): RETURN answered with ESEARCH, ALL in sort order with
/// ranges only where they ascend, MIN and MAX the first and last sorted.
#[tokio::test]
async fn esort_returns() {
    let (_server, mut client) = mailbox().await;
    client
        .send(b"e1 SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL\r\n")
        .await;
    assert_eq!(
        client.line().await,
        "* ESEARCH (TAG \"e1\") MIN 3 MAX 5 COUNT 6 ALL 3:4,1:2,6,5"
    );
    assert_eq!(client.line().await, "e1 OK SORT completed");
    client
        .send(b"e2 UID SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL\r\n")
        .await;
    assert_eq!(
        client.line().await,
        "* ESEARCH (TAG \"e2\") UID ALL 5,3,2,1,6,4"
    );
    assert_eq!(client.line().await, "e2 OK UID SORT completed");
    client
        .send(b"e3 SORT RETURN (COUNT MIN) (DATE) UTF-8 DELETED\r\n")
        .await;
    assert_eq!(client.line().await, "* ESEARCH (TAG \"e3\") COUNT 0");
    assert_eq!(client.line().await, "e3 OK SORT completed");
}

/// Messages stored before the sort fields were kept (schema 7) are sorted
/// the same, from their octets. (No sort cache: the server would not read
/// the store again.)
#[tokio::test]
async fn messages_without_stored_fields_sort_the_same() {
    let server = TestServer::start_with(|c| c.limits.sort_cache_messages = 0).await;
    let (server, mut client) = mailbox_on(server).await;
    let keys = [
        "(SUBJECT)",
        "(DATE)",
        "(FROM)",
        "(DISPLAYTO)",
        "(REVERSE CC)",
    ];
    let mut before = Vec::new();
    for k in keys {
        before.push(sort(&mut client, &format!("SORT {k} UTF-8 ALL")).await);
    }
    let removed = common::raw_sql(&server.ctx.config(), "DELETE FROM sort_fields");
    assert_eq!(removed, 6);
    for (k, expected) in keys.iter().zip(before) {
        assert_eq!(
            sort(&mut client, &format!("SORT {k} UTF-8 ALL")).await,
            expected,
            "{k}"
        );
    }
    // The first SORT kept what it extracted: the octets are read once.
    assert_eq!(common::count_rows(&server.ctx.config(), "sort_fields"), 6);
}

/// The server keeps sort fields and recent orders in memory: a message
/// that arrives or goes between two SORTs is still placed (or left out)
/// as the RFC says, for this session and another one.
#[tokio::test]
async fn sorting_again_after_changes() {
    let (server, mut client) = mailbox().await;
    let by_subject = "SORT (SUBJECT) UTF-8 ALL";
    assert_eq!(sort(&mut client, by_subject).await, [3, 4, 1, 2, 6, 5]);
    assert_eq!(sort(&mut client, by_subject).await, [3, 4, 1, 2, 6, 5]);
    // Another session appends a message that sorts first.
    let mut other = server.logged_in().await;
    let first = "Subject: Aardvark\r\n\r\nx\r\n";
    other
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{first}", first.len()))
        .await;
    client.ok("NOOP").await;
    assert_eq!(sort(&mut client, by_subject).await, [7, 3, 4, 1, 2, 6, 5]);
    assert_eq!(
        sort(&mut client, "UID SORT (SUBJECT) UTF-8 ALL").await,
        [7, 3, 4, 1, 2, 6, 5]
    );
    // An expunge renumbers; the order follows.
    client.ok("STORE 3 +FLAGS.SILENT (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    assert_eq!(sort(&mut client, by_subject).await, [6, 3, 1, 2, 5, 4]);
    assert_eq!(
        sort(&mut client, "UID SORT (SUBJECT) UTF-8 ALL").await,
        [7, 4, 1, 2, 6, 5]
    );
    // A session that selected earlier sorts with its own numbers.
    other.ok("SELECT INBOX").await;
    assert_eq!(sort(&mut other, by_subject).await, [6, 3, 1, 2, 5, 4]);
    // REVERSE turns the subjects around, not the ties (by number).
    assert_eq!(
        sort(&mut other, "SORT (REVERSE SUBJECT) UTF-8 ALL").await,
        [4, 1, 2, 5, 3, 6]
    );
}

/// A session that has not yet been told of a new message sorts without
/// it; another session that has must still get it (the server keeps
/// orders, and they must be kept for what was really sorted).
#[tokio::test]
async fn a_kept_order_never_hides_a_message_another_session_knows() {
    let (server, mut behind) = mailbox().await;
    let mut other = server.logged_in().await;
    other.ok("SELECT INBOX").await;
    let first = "Subject: Aardvark\r\n\r\nx\r\n";
    other
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{first}", first.len()))
        .await;
    other.ok("NOOP").await;
    let sort_undeleted = "SORT (SUBJECT) UTF-8 UNDELETED";
    // `behind` hears of message 7 only after this command.
    assert_eq!(sort(&mut behind, sort_undeleted).await, [3, 4, 1, 2, 6, 5]);
    assert_eq!(
        sort(&mut other, sort_undeleted).await,
        [7, 3, 4, 1, 2, 6, 5]
    );
    assert_eq!(
        sort(&mut behind, sort_undeleted).await,
        [7, 3, 4, 1, 2, 6, 5]
    );
}
