//! Replays what Thunderbird sends at connect and when a message arrives
//! (docs: `../shared/docs/imap-pitfalls.md`, "Thunderbird 153 ESR"), over
//! STARTTLS, and checks that every reply line parses.

mod common;

use common::*;
use letterbox::proto::value;

const HEADER_FETCH: &str = "(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To Received)])";

/// Checks the syntax of one response line; panics with the line if bad.
fn check(line: &str, raw: &[u8]) {
    if line.starts_with("+ ") {
        return;
    }
    if let Some(rest) = line.strip_prefix("* ") {
        let mut words = rest.splitn(3, ' ');
        let (first, second) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if second == "FETCH" {
            value::parse_fetch(raw).unwrap_or_else(|e| panic!("{e}: {line}"));
        } else if first == "STATUS" {
            let list = &line[line.rfind(" (").unwrap() + 1..];
            value::parse(list.as_bytes()).unwrap_or_else(|e| panic!("{e}: {line}"));
        } else if first == "LIST" || first == "LSUB" {
            let attributes = &rest[first.len() + 1..rest.find(')').unwrap() + 1];
            value::parse(attributes.as_bytes()).unwrap_or_else(|e| panic!("{e}: {line}"));
        } else {
            assert!(
                first.chars().all(|c| c.is_ascii_digit())
                    || [
                        "OK",
                        "NO",
                        "BAD",
                        "BYE",
                        "CAPABILITY",
                        "FLAGS",
                        "ID",
                        "ENABLED",
                        "NAMESPACE",
                        "SEARCH",
                        "ESEARCH",
                        "VANISHED",
                        "MYRIGHTS",
                        "ACL",
                    ]
                    .contains(&first),
                "unexpected untagged response: {line}"
            );
        }
        return;
    }
    let status = line.split(' ').nth(1).unwrap_or("");
    assert!(
        ["OK", "NO", "BAD"].contains(&status),
        "bad status line: {line}"
    );
}

/// Sends a command and returns its lines, all checked; the command must
/// succeed.
async fn run(client: &mut Client, tag: &str, command: &str) -> Vec<String> {
    client.send(format!("{tag} {command}\r\n").as_bytes()).await;
    let mut lines = Vec::new();
    loop {
        let raw = client.raw_line().await;
        let line = String::from_utf8_lossy(&raw).into_owned();
        check(&line, &raw);
        let done = line.starts_with(&format!("{tag} "));
        lines.push(line);
        if done {
            let status = lines.last().unwrap();
            assert!(
                status.starts_with(&format!("{tag} OK")),
                "{command}: {lines:#?}"
            );
            return lines;
        }
    }
}

fn plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

async fn deliver(server: &TestServer, subject: &str) {
    let mut other = server.logged_in().await;
    let message = format!(
        "From: Ann <ann@example.com>\r\nTo: alice@example.com\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.com>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\nHello\r\n"
    );
    other
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
        .await;
}

#[tokio::test]
async fn connect_sync_idle_and_read_a_new_message() {
    let server = TestServer::start().await;
    for i in 0..3 {
        deliver(&server, &format!("old{i}")).await;
    }
    let mut client = server.plain().await;
    run(&mut client, "1", "CAPABILITY").await;
    run(&mut client, "2", "STARTTLS").await;
    let mut client = client.start_tls(&server.cert_path).await;
    let caps = run(&mut client, "3", "CAPABILITY").await;
    assert!(caps[0].contains("AUTH=PLAIN"));
    let login = run(
        &mut client,
        "4",
        &format!("AUTHENTICATE PLAIN {}", plain(USER, PASSWORD)),
    )
    .await;
    for cap in [
        "CONDSTORE",
        "QRESYNC",
        "IDLE",
        "MOVE",
        "UIDPLUS",
        "SPECIAL-USE",
        "LIST-EXTENDED",
        "COMPRESS=DEFLATE",
    ] {
        assert!(login[0].contains(cap), "{cap} in {login:?}");
    }
    run(
        &mut client,
        "5",
        "ID (\"name\" \"Thunderbird\" \"version\" \"153.0\")",
    )
    .await;
    run(&mut client, "6", "ENABLE CONDSTORE QRESYNC").await;
    run(&mut client, "7", "NAMESPACE").await;
    let folders = run(
        &mut client,
        "8",
        "LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE)",
    )
    .await;
    assert!(
        folders
            .iter()
            .any(|l| l.contains("\\Sent") && l.ends_with(" Sent")),
        "{folders:#?}"
    );
    run(&mut client, "9", "LIST \"\" \"INBOX\"").await;
    for (i, folder) in ["Sent", "Drafts", "Trash", "Junk", "Archive"]
        .iter()
        .enumerate()
    {
        run(
            &mut client,
            &format!("10{i}"),
            &format!("STATUS \"{folder}\" (UIDNEXT MESSAGES UNSEEN RECENT)"),
        )
        .await;
    }
    let select = run(&mut client, "11", "SELECT \"INBOX\" (CONDSTORE)").await;
    assert!(
        select.iter().any(|l| l.starts_with("* OK [HIGHESTMODSEQ ")),
        "{select:#?}"
    );
    let flags = run(&mut client, "12", "UID FETCH 1:* (FLAGS)").await;
    assert_eq!(flags.len(), 4);
    let headers = run(&mut client, "13", &format!("UID FETCH 1:3 {HEADER_FETCH}")).await;
    assert!(headers[0].contains("Subject: old0"), "{headers:?}");
    run(
        &mut client,
        "14",
        "UID FETCH 1:3 (UID RFC822.SIZE BODY.PEEK[])",
    )
    .await;
    run(&mut client, "15", "NOOP").await;
    run(&mut client, "16", "UID FETCH 4:* (FLAGS)").await;

    client.send(b"17 IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    deliver(&server, "new").await;
    assert_eq!(client.line().await, "* 4 EXISTS");
    assert_eq!(client.line().await, "* 4 RECENT");
    client.send(b"DONE\r\n").await;
    assert_eq!(client.line().await, "17 OK IDLE terminated");
    run(&mut client, "18", "NOOP").await;
    let new_flags = run(&mut client, "19", "UID FETCH 4:* (FLAGS)").await;
    // A plain FLAGS fetch carries no MODSEQ, as with Dovecot (RFC 7162
    // §3.1 asks for it in responses to STORE and to changes).
    assert_eq!(new_flags[0], "* 4 FETCH (UID 4 FLAGS (\\Recent))");
    run(&mut client, "20", &format!("UID FETCH 4 {HEADER_FETCH}")).await;
    // Opening the message without an offline copy: BODY[] sets \Seen and
    // says so in the same response.
    let opened = run(&mut client, "21", "UID FETCH 4 (UID RFC822.SIZE BODY[])").await;
    assert!(opened[0].contains("FLAGS (\\Seen \\Recent)"), "{opened:?}");
    let stored = run(&mut client, "22", "UID STORE 4 +FLAGS (\\Seen)").await;
    assert!(
        stored[0].starts_with("* 4 FETCH (UID 4 FLAGS (\\Seen \\Recent) MODSEQ ("),
        "{stored:?}"
    );
    client.send(b"23 IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    // Thunderbird never logs out: it just closes the socket.
    drop(client);
    let mut check = server.logged_in().await;
    check.ok("NOOP").await;
}

/// Folders shared with alice as Thunderbird meets them: NAMESPACE, the
/// subscribed LIST (a grant subscribes her), MYRIGHTS for the folder
/// properties, GETACL where she administers, STATUS, SELECT and the flag
/// sync. Every reply line parses.
#[tokio::test]
async fn shared_folders_as_thunderbird_sees_them() {
    let server = TestServer::start().await;
    blocking(|| {
        server
            .store
            .create_user("bob", &letterbox::auth::hash_password("bob pass"))
            .unwrap()
    });
    let mut bob = server.in_process().await;
    bob.ok("LOGIN bob \"bob pass\"").await;
    bob.ok("CREATE Projects").await;
    let message = "Subject: plan\r\n\r\nbody\r\n";
    bob.ok(&format!(
        "APPEND Projects {{{}+}}\r\n{message}",
        message.len()
    ))
    .await;
    bob.ok("SETACL Projects alice lrs").await;
    bob.ok("SETACL INBOX alice lra").await;
    let mut client = server.tls().await;
    run(
        &mut client,
        "1",
        &format!("AUTHENTICATE PLAIN {}", plain(USER, PASSWORD)),
    )
    .await;
    let namespace = run(&mut client, "2", "NAMESPACE").await;
    assert!(namespace[0].contains("\"Other Users/\""), "{namespace:?}");
    let folders = run(
        &mut client,
        "3",
        "LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE)",
    )
    .await;
    for shared in ["Other Users/bob/Projects", "Other Users/bob/INBOX"] {
        assert!(
            folders
                .iter()
                .any(|l| l.ends_with(&format!("\"{shared}\"")) && l.contains("\\Subscribed")),
            "{shared}: {folders:#?}"
        );
    }
    let rights = run(&mut client, "4", "MYRIGHTS \"Other Users/bob/Projects\"").await;
    assert_eq!(rights[0], "* MYRIGHTS \"Other Users/bob/Projects\" lrs");
    let rights = run(&mut client, "5", "MYRIGHTS \"Other Users/bob/INBOX\"").await;
    assert_eq!(rights[0], "* MYRIGHTS \"Other Users/bob/INBOX\" lra");
    let acl = run(&mut client, "6", "GETACL \"Other Users/bob/INBOX\"").await;
    assert_eq!(acl[0], "* ACL \"Other Users/bob/INBOX\" alice lra");
    run(
        &mut client,
        "7",
        "STATUS \"Other Users/bob/Projects\" (UIDNEXT MESSAGES UNSEEN RECENT)",
    )
    .await;
    let select = run(
        &mut client,
        "8",
        "SELECT \"Other Users/bob/Projects\" (CONDSTORE)",
    )
    .await;
    assert!(
        select.iter().any(|l| l.starts_with("* OK [HIGHESTMODSEQ ")),
        "{select:#?}"
    );
    let flags = run(&mut client, "9", "UID FETCH 1:* (FLAGS)").await;
    assert_eq!(flags.len(), 2);
    run(&mut client, "10", &format!("UID FETCH 1 {HEADER_FETCH}")).await;
    let opened = run(&mut client, "11", "UID FETCH 1 (UID RFC822.SIZE BODY[])").await;
    assert!(
        opened[0].contains("\\Seen"),
        "the s right keeps \\Seen: {opened:?}"
    );
}
