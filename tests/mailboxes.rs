//! Mailbox commands end to end: CREATE, DELETE, RENAME, SUBSCRIBE, LIST,
//! LSUB, STATUS, SELECT, EXAMINE, APPEND, CHECK, CLOSE, UNSELECT, EXPUNGE.

mod common;

use common::*;

/// LIST lines as (attributes, name) pairs, for order-free assertions.
fn listed(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| {
            l.strip_prefix("* LIST (")
                .or_else(|| l.strip_prefix("* LSUB ("))
        })
        .map(|rest| {
            let (attributes, rest) = rest.split_once(") ").unwrap();
            let name = rest.strip_prefix("\"/\" ").unwrap();
            (attributes.to_owned(), name.trim_matches('"').to_owned())
        })
        .collect()
}

fn attributes_of(lines: &[String], name: &str) -> Option<String> {
    listed(lines)
        .into_iter()
        .find(|(_, n)| n == name)
        .map(|(a, _)| a)
}

#[tokio::test]
async fn default_folders_are_listed_with_special_use() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let lines = client.ok("LIST \"\" \"*\"").await;
    let all = listed(&lines);
    assert_eq!(all.len(), 6, "{lines:#?}");
    assert_eq!(attributes_of(&lines, "INBOX").unwrap(), "\\HasNoChildren");
    for (name, attribute) in [
        ("Sent", "\\Sent"),
        ("Drafts", "\\Drafts"),
        ("Trash", "\\Trash"),
        ("Junk", "\\Junk"),
        ("Archive", "\\Archive"),
    ] {
        assert_eq!(
            attributes_of(&lines, name).unwrap(),
            format!("\\HasNoChildren {attribute}")
        );
    }
    let root = client.ok("LIST \"\" \"\"").await;
    assert_eq!(root[0], "* LIST (\\Noselect) \"/\" \"\"");
    let root = client.ok("LIST \"Archive/2020\" \"\"").await;
    assert_eq!(root[0], "* LIST (\\Noselect) \"/\" Archive/");
    let inbox = client.ok("LIST \"\" inbox").await;
    assert_eq!(listed(&inbox), [("\\HasNoChildren".into(), "INBOX".into())]);
    let with_return = client
        .ok("LIST \"\" \"%\" RETURN (SPECIAL-USE SUBSCRIBED)")
        .await;
    assert_eq!(
        attributes_of(&with_return, "Sent").unwrap(),
        "\\HasNoChildren \\Sent \\Subscribed"
    );
}

#[tokio::test]
async fn create_hierarchy_and_wildcards() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE projects/2026/q4").await;
    client.ok("CREATE \"with space\"").await;
    client.ok("CREATE Trailing/").await;
    let status = client.status("CREATE projects/2026").await;
    assert!(status.starts_with("NO [ALREADYEXISTS]"), "{status}");
    assert!(client.status("CREATE INBOX").await.starts_with("NO"));
    assert!(client.status("CREATE \"a*b\"").await.starts_with("NO"));
    assert!(client.status("CREATE \"a//b\"").await.starts_with("NO"));

    let top = client.ok("LIST \"\" %").await;
    assert_eq!(attributes_of(&top, "projects").unwrap(), "\\HasChildren");
    assert!(attributes_of(&top, "projects/2026").is_none());
    assert!(attributes_of(&top, "with space").is_some());
    assert!(attributes_of(&top, "Trailing").is_some());
    let below = client.ok("LIST projects/ %").await;
    assert_eq!(
        listed(&below),
        [("\\HasChildren".into(), "projects/2026".into())]
    );
    let deep = client.ok("LIST \"\" projects/*").await;
    assert_eq!(listed(&deep).len(), 2);
    let star = client.ok("LIST \"\" *q4").await;
    assert_eq!(
        listed(&star),
        [("\\HasNoChildren".into(), "projects/2026/q4".into())]
    );
}

#[tokio::test]
async fn international_names_use_modified_utf7() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE \"&ZeVnLIqe-\"").await; // 日本語
    client.ok("CREATE \"Caf&AOk-/Men&APw-\"").await;
    let lines = client.ok("LIST \"\" *").await;
    assert!(attributes_of(&lines, "&ZeVnLIqe-").is_some(), "{lines:#?}");
    assert!(
        attributes_of(&lines, "Caf&AOk-/Men&APw-").is_some(),
        "{lines:#?}"
    );
    let status = client.ok("STATUS \"&ZeVnLIqe-\" (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS &ZeVnLIqe- (MESSAGES 0)");
    // Not modified UTF-7: no such name, a NO (issue 18; BAD made clients
    // think the protocol broke).
    let invalid = client.status("CREATE \"&Jjo!\"").await;
    assert!(invalid.starts_with("NO"), "{invalid}");
    let names = blocking(|| server.store.list_mailboxes(1).unwrap());
    assert!(names.iter().any(|m| m.name == "日本語"));
}

#[tokio::test]
async fn delete_rules() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE parent/child").await;
    assert!(client.status("DELETE INBOX").await.starts_with("NO"));
    assert!(
        client
            .status("DELETE nonexistent")
            .await
            .starts_with("NO [NONEXISTENT]")
    );
    client.ok("DELETE parent").await;
    let lines = client.ok("LIST \"\" parent*").await;
    assert_eq!(
        attributes_of(&lines, "parent").unwrap(),
        "\\Noselect \\HasChildren"
    );
    assert!(client.status("SELECT parent").await.starts_with("NO"));
    assert!(client.status("DELETE parent").await.starts_with("NO"));
    client.ok("DELETE parent/child").await;
    client.ok("CREATE parent").await;
    client.ok("SELECT parent").await;
}

#[tokio::test]
async fn rename_rules() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE a/b").await;
    client.ok("RENAME a x/y").await;
    let lines = client.ok("LIST \"\" *").await;
    for name in ["x", "x/y", "x/y/b"] {
        assert!(attributes_of(&lines, name).is_some(), "{name}: {lines:#?}");
    }
    assert!(attributes_of(&lines, "a").is_none());
    assert!(client.status("RENAME nope q").await.starts_with("NO"));
    assert!(client.status("RENAME x Sent").await.starts_with("NO"));
    assert!(client.status("RENAME x x/z").await.starts_with("NO"));

    // RENAME INBOX moves the messages and leaves INBOX empty.
    client.ok("APPEND INBOX {10+}\r\nSubject:\r\n").await;
    client.ok("RENAME INBOX \"Old Inbox\"").await;
    let status = client.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 0)");
    let status = client.ok("STATUS \"Old Inbox\" (MESSAGES UIDNEXT)").await;
    assert_eq!(status[0], "* STATUS \"Old Inbox\" (MESSAGES 1 UIDNEXT 2)");
}

#[tokio::test]
async fn subscriptions_and_lsub() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE lists/rust/announce").await;
    client.ok("SUBSCRIBE lists/rust/announce").await;
    client.ok("UNSUBSCRIBE Junk").await;
    let all = client.ok("LSUB \"\" *").await;
    assert!(
        attributes_of(&all, "lists/rust/announce").is_some(),
        "{all:#?}"
    );
    assert!(attributes_of(&all, "Junk").is_none());
    assert!(attributes_of(&all, "INBOX").is_some());
    // `%` reaches an unsubscribed level above a subscribed mailbox: \Noselect.
    let top = client.ok("LSUB \"\" lists/%").await;
    assert_eq!(listed(&top), [("\\Noselect".into(), "lists/rust".into())]);
    let root = client.ok("LSUB \"\" \"\"").await;
    assert_eq!(root[0], "* LSUB (\\Noselect) \"/\" \"\"");
    // Subscriptions follow a renamed mailbox.
    client.ok("RENAME lists feeds").await;
    let renamed = client.ok("LSUB \"\" feeds/*").await;
    assert!(
        attributes_of(&renamed, "feeds/rust/announce").is_some(),
        "{renamed:#?}"
    );
}

#[tokio::test]
async fn status_counts() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client
        .ok("APPEND Drafts (\\Seen) {10+}\r\nSubject:\r\n")
        .await;
    client.ok("APPEND Drafts {10+}\r\nSubject:\r\n").await;
    let lines = client
        .ok("STATUS Drafts (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
        .await;
    let uidvalidity = blocking(|| {
        server
            .store
            .status(1, &letterbox::store::MailboxName::new("Drafts").unwrap())
            .unwrap()
            .uidvalidity
    });
    assert_eq!(
        lines[0],
        format!(
            "* STATUS Drafts (MESSAGES 2 RECENT 2 UIDNEXT 3 UIDVALIDITY {uidvalidity} UNSEEN 1)"
        )
    );
    assert!(
        client
            .status("STATUS nope (MESSAGES)")
            .await
            .starts_with("NO")
    );
}

#[tokio::test]
async fn select_and_examine_report_everything() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client
        .ok("APPEND INBOX (\\Seen $Important) {10+}\r\nSubject:\r\n")
        .await;
    client
        .ok("APPEND INBOX () \" 5-Nov-2026 09:03:01 +0100\" {10+}\r\nSubject:\r\n")
        .await;
    let lines = client.ok("SELECT INBOX").await;
    let expect_prefixes = [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)",
        "* 2 EXISTS",
        "* 2 RECENT",
        "* OK [UNSEEN 2]",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important \\*)]",
        "* OK [UIDVALIDITY ",
        "* OK [UIDNEXT 3]",
    ];
    for prefix in expect_prefixes {
        assert!(
            lines.iter().any(|l| l.starts_with(prefix)),
            "{prefix}: {lines:#?}"
        );
    }
    assert!(lines.last().unwrap().contains("OK [READ-WRITE]"));
    // \Recent went to the first session; a second one sees none.
    let mut other = server.logged_in().await;
    let again = other.ok("EXAMINE INBOX").await;
    assert!(again.contains(&"* 0 RECENT".to_string()), "{again:#?}");
    assert!(
        again
            .iter()
            .any(|l| l.starts_with("* OK [PERMANENTFLAGS ()]")),
        "{again:#?}"
    );
    assert!(again.last().unwrap().contains("OK [READ-ONLY]"));
    // A failed SELECT leaves the session unselected.
    assert!(other.status("SELECT nope").await.starts_with("NO"));
    assert!(other.status("CHECK").await.starts_with("BAD"));
}

#[tokio::test]
async fn append_reports_exists_to_the_selecting_session_and_trycreate() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("SELECT INBOX").await;
    let message = "From: a@example.com\nSubject: hi\n\nbody\n";
    client
        .send(format!("a1 APPEND INBOX (\\Flagged) {{{}}}\r\n", message.len()).as_bytes())
        .await;
    assert_eq!(client.line().await, "+ Ready for literal data");
    client.send(format!("{message}\r\n").as_bytes()).await;
    let lines = client.until_tagged("a1").await;
    assert_eq!(lines[0], "* 1 EXISTS");
    assert_eq!(lines[1], "* 1 RECENT");
    let uidvalidity = blocking(|| {
        server
            .store
            .status(1, &letterbox::store::MailboxName::new("INBOX").unwrap())
            .unwrap()
            .uidvalidity
    });
    assert_eq!(
        lines[2],
        format!("a1 OK [APPENDUID {uidvalidity} 1] APPEND completed")
    );
    // Bare LF was stored as CRLF: the size counts the added CRs.
    let status = client.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 1)");
    let size = blocking(|| server.store.list_users().unwrap()[0].bytes);
    assert_eq!(size as usize, message.len() + 4);

    let missing = client.status("APPEND nowhere {5+}\r\nhello").await;
    assert!(missing.starts_with("NO [TRYCREATE]"), "{missing}");
    let empty = client.status("APPEND INBOX {0+}\r\n").await;
    assert!(empty.starts_with("NO"), "{empty}");
    let flag = client.status("APPEND INBOX (\\Bogus) {5+}\r\nhello").await;
    assert!(flag.starts_with("BAD"), "{flag}");
    // Another session's APPEND shows up at this session's next command.
    let mut other = server.logged_in().await;
    other.ok("APPEND INBOX {5+}\r\nhello").await;
    let noop = client.ok("NOOP").await;
    assert_eq!(&noop[..2], ["* 2 EXISTS", "* 2 RECENT"]);
}

#[tokio::test]
async fn append_binary_literal8_and_8bit_content() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let mut command = b"b1 APPEND INBOX ~{12+}\r\n".to_vec();
    command.extend_from_slice(b"Subject: \xff\x00\r\n\r\n");
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let lines = client.until_tagged("b1").await;
    assert!(lines.last().unwrap().starts_with("b1 OK"), "{lines:?}");
}

#[tokio::test]
async fn close_expunges_silently_unselect_does_not() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for flags in ["(\\Deleted)", "()", "(\\Deleted)"] {
        client
            .ok(&format!("APPEND Trash {flags} {{5+}}\r\nhello"))
            .await;
    }
    client.ok("SELECT Trash").await;
    client.ok("UNSELECT").await;
    let status = client.ok("STATUS Trash (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS Trash (MESSAGES 3)");
    client.ok("EXAMINE Trash").await;
    assert!(client.status("EXPUNGE").await.starts_with("NO"));
    client.ok("CLOSE").await;
    assert_eq!(
        client.ok("STATUS Trash (MESSAGES)").await[0],
        "* STATUS Trash (MESSAGES 3)"
    );
    client.ok("SELECT Trash").await;
    client.ok("CHECK").await;
    let close = client.ok("CLOSE").await;
    assert_eq!(close.len(), 1, "CLOSE sends no EXPUNGE: {close:?}");
    assert_eq!(
        client.ok("STATUS Trash (MESSAGES)").await[0],
        "* STATUS Trash (MESSAGES 1)"
    );
}

#[tokio::test]
async fn expunge_reports_shifting_sequence_numbers() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for flags in ["()", "(\\Deleted)", "(\\Deleted)", "()", "(\\Deleted)"] {
        client
            .ok(&format!("APPEND Archive {flags} {{5+}}\r\nhello"))
            .await;
    }
    client.ok("SELECT Archive").await;
    let lines = client.ok("EXPUNGE").await;
    assert_eq!(&lines[..3], ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"]);
}

#[tokio::test]
async fn pipelined_commands_answer_in_order() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client
        .send(b"p1 CREATE pipe\r\np2 APPEND pipe {5+}\r\nhello\r\np3 STATUS pipe (MESSAGES)\r\np4 DELETE pipe\r\np5 NOOP\r\n")
        .await;
    let lines = client.until_tagged("p5").await;
    let tags: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(tags, ["p1", "p2", "*", "p3", "p4", "p5"], "{lines:#?}");
    assert_eq!(lines[2], "* STATUS pipe (MESSAGES 1)");
}

/// Names that are not modified UTF-7 name no mailbox: NO for a mailbox
/// argument, nothing for a LIST pattern (clients take BAD for a protocol
/// failure). Printable ASCII other than `&` stands for itself.
#[tokio::test]
async fn names_outside_modified_utf7_find_nothing() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for command in [
        "SELECT \"&Jjo\"",
        "STATUS \"a&\" (MESSAGES)",
        "CREATE \"&AGE-\"",
    ] {
        let reply = client.status(command).await;
        assert!(reply.starts_with("NO "), "{command}: {reply}");
    }
    for command in ["LIST \"\" \"&Jjo*\"", "LSUB \"\" \"&\"", "LIST \"&\" \"*\""] {
        let lines = client.ok(command).await;
        assert_eq!(lines.len(), 1, "{command}: {lines:?}");
    }
    let name = "a~!#$[}]^_`{|";
    client.ok(&format!("CREATE \"{name}\"")).await;
    client.ok(&format!("SELECT \"{name}\"")).await;
    let lines = client.ok("LIST \"\" \"a~*\"").await;
    assert_eq!(
        lines[0],
        format!("* LIST (\\HasNoChildren) \"/\" \"{name}\"")
    );
}
