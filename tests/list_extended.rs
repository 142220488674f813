//! LIST extensions end to end: LIST-EXTENDED (RFC 5258) selection and
//! return options, CHILDREN (RFC 3348), SPECIAL-USE and CREATE-SPECIAL-USE
//! (RFC 6154), LIST-STATUS (RFC 5819) and Apple's XLIST.
//!
//! The RFC 5258 §5 examples are replayed over this server's `/` delimiter
//! and default folders. Two differences from the RFC's example server are
//! deliberate and visible in every expectation: existing mailboxes always
//! carry \HasChildren or \HasNoChildren (RFC 5258 §4 allows it; plain LIST
//! always did), and responses come in name order (uppercase first).

mod common;

use common::*;
use letterbox::store::MailboxName;

/// The folders every new user has, all subscribed.
const DEFAULTS: [&str; 6] = ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"];

/// Runs a command that must succeed and returns its untagged lines.
async fn untagged(client: &mut Client, command: &str) -> Vec<String> {
    let mut lines = client.ok(command).await;
    lines.pop();
    lines
}

/// A logged-in client on a fresh server, with `create`d mailboxes and the
/// subscriptions set to exactly `subscribed` (names need not exist).
async fn with_hierarchy(server: &TestServer, create: &[&str], subscribed: &[&str]) -> Client {
    let mut client = server.logged_in().await;
    for name in create {
        client.ok(&format!("CREATE \"{name}\"")).await;
    }
    for name in DEFAULTS {
        client.ok(&format!("UNSUBSCRIBE {name}")).await;
    }
    for name in subscribed {
        client.ok(&format!("SUBSCRIBE \"{name}\"")).await;
    }
    client
}

/// The top level of a fresh account as RETURN (CHILDREN) shows it, with
/// `extra` (already formatted) merged in name order.
fn default_top_level(verb: &str, extra: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = [
        r#"(\HasNoChildren \Archive) "/" Archive"#,
        r#"(\HasNoChildren \Drafts) "/" Drafts"#,
        r#"(\HasNoChildren) "/" INBOX"#,
        r#"(\HasNoChildren \Junk) "/" Junk"#,
        r#"(\HasNoChildren \Sent) "/" Sent"#,
        r#"(\HasNoChildren \Trash) "/" Trash"#,
    ]
    .iter()
    .chain(extra)
    .map(|rest| format!("* {verb} {rest}"))
    .collect();
    lines.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    lines
}

fn name_of(line: &str) -> &str {
    line.split("\"/\" ").nth(1).unwrap().trim_matches('"')
}

#[tokio::test]
async fn plain_list_keeps_children_and_special_use() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let lines = client.ok("LIST \"\" \"*\"").await;
    let mut expected = default_top_level("LIST", &[]);
    expected.push("t2 OK LIST completed".into());
    assert_eq!(lines, expected);
    // The empty pattern keeps its RFC 3501 meaning in a plain LIST only.
    assert_eq!(
        untagged(&mut client, "LIST \"\" \"\"").await,
        [r#"* LIST (\Noselect) "/" """#]
    );
}

/// RFC 5258 §5 examples 1 to 6 on this hierarchy: Fruit/Apple,
/// Fruit/Banana, Tofu, Vegetable/Broccoli, Vegetable/Corn; subscribed are
/// INBOX, Fruit/Banana, Fruit/Peach (which does not exist), Vegetable and
/// Vegetable/Broccoli.
#[tokio::test]
async fn rfc5258_examples_1_to_6() {
    let server = TestServer::start().await;
    let mut client = with_hierarchy(
        &server,
        &[
            "Fruit/Apple",
            "Fruit/Banana",
            "Tofu",
            "Vegetable/Broccoli",
            "Vegetable/Corn",
        ],
        &[
            "INBOX",
            "Fruit/Banana",
            "Fruit/Peach",
            "Vegetable",
            "Vegetable/Broccoli",
        ],
    )
    .await;

    // Example 2: LIST (SUBSCRIBED), and example 5: REMOTE adds nothing.
    let subscribed = [
        r#"* LIST (\HasNoChildren \Subscribed) "/" Fruit/Banana"#,
        r#"* LIST (\NonExistent \Subscribed) "/" Fruit/Peach"#,
        r#"* LIST (\HasNoChildren \Subscribed) "/" INBOX"#,
        r#"* LIST (\HasChildren \Subscribed) "/" Vegetable"#,
        r#"* LIST (\HasNoChildren \Subscribed) "/" Vegetable/Broccoli"#,
    ];
    for command in [
        "LIST (SUBSCRIBED) \"\" \"*\"",
        "LIST (REMOTE SUBSCRIBED) \"\" \"*\"",
    ] {
        assert_eq!(
            untagged(&mut client, command).await,
            subscribed,
            "{command}"
        );
    }

    // Examples 3 and 4: RETURN (CHILDREN), with and without REMOTE.
    let top = default_top_level(
        "LIST",
        &[
            r#"(\HasChildren) "/" Fruit"#,
            r#"(\HasNoChildren) "/" Tofu"#,
            r#"(\HasChildren) "/" Vegetable"#,
        ],
    );
    for command in [
        "LIST () \"\" \"%\" RETURN (CHILDREN)",
        "LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)",
    ] {
        assert_eq!(untagged(&mut client, command).await, top, "{command}");
    }

    // Example 6: RETURN (SUBSCRIBED) marks mailboxes but adds no
    // non-existent name.
    let all = untagged(&mut client, "LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)").await;
    let expected = [
        r#"* LIST (\HasNoChildren \Archive) "/" Archive"#,
        r#"* LIST (\HasNoChildren \Drafts) "/" Drafts"#,
        r#"* LIST (\HasChildren) "/" Fruit"#,
        r#"* LIST (\HasNoChildren) "/" Fruit/Apple"#,
        r#"* LIST (\HasNoChildren \Subscribed) "/" Fruit/Banana"#,
        r#"* LIST (\HasNoChildren \Subscribed) "/" INBOX"#,
        r#"* LIST (\HasNoChildren \Junk) "/" Junk"#,
        r#"* LIST (\HasNoChildren \Sent) "/" Sent"#,
        r#"* LIST (\HasNoChildren) "/" Tofu"#,
        r#"* LIST (\HasNoChildren \Trash) "/" Trash"#,
        r#"* LIST (\HasChildren \Subscribed) "/" Vegetable"#,
        r#"* LIST (\HasNoChildren \Subscribed) "/" Vegetable/Broccoli"#,
        r#"* LIST (\HasNoChildren) "/" Vegetable/Corn"#,
    ];
    assert_eq!(all, expected);

    // The reference is prepended in the extended form too.
    assert_eq!(
        untagged(&mut client, "LIST (SUBSCRIBED) \"Fruit/\" \"%\"").await,
        subscribed[..2]
    );
    // Non-existent names get children attributes only when asked for.
    assert_eq!(
        untagged(
            &mut client,
            "LIST (SUBSCRIBED) \"\" \"Fruit/Peach\" RETURN (CHILDREN)"
        )
        .await,
        [r#"* LIST (\NonExistent \HasNoChildren \Subscribed) "/" Fruit/Peach"#]
    );
}

/// RFC 5258 §5 example 7: several patterns, one response per name.
#[tokio::test]
async fn rfc5258_example_7_multiple_patterns() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for name in ["Sent/March2004", "Sent/December2003", "Sent/August2004"] {
        client.ok(&format!("CREATE {name}")).await;
    }
    let lines = untagged(&mut client, "LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")").await;
    assert_eq!(
        lines,
        [
            r#"* LIST (\HasNoChildren \Drafts) "/" Drafts"#,
            r#"* LIST (\HasNoChildren) "/" INBOX"#,
            r#"* LIST (\HasNoChildren) "/" Sent/August2004"#,
            r#"* LIST (\HasNoChildren) "/" Sent/December2003"#,
            r#"* LIST (\HasNoChildren) "/" Sent/March2004"#,
        ]
    );
    // A name matching several patterns is listed once.
    let twice = untagged(&mut client, "LIST \"\" (INBOX \"*\" inbox \"%\")").await;
    assert_eq!(twice.iter().filter(|l| l.ends_with(" INBOX")).count(), 1);
    assert_eq!(twice.len(), 9, "{twice:#?}");
}

/// RFC 5258 §3: an extended LIST has no empty-pattern special case, and
/// empty patterns among others are ignored.
#[tokio::test]
async fn extended_list_ignores_empty_patterns() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    assert_eq!(
        untagged(&mut client, "LIST \"\" (\"\" INBOX)").await,
        [r#"* LIST (\HasNoChildren) "/" INBOX"#]
    );
    assert!(
        untagged(&mut client, "LIST \"\" \"\" RETURN (CHILDREN)")
            .await
            .is_empty()
    );
    assert!(
        untagged(&mut client, "LIST (SUBSCRIBED) \"\" \"\"")
            .await
            .is_empty()
    );
}

/// RFC 5258 §5 example 8 (Foo, Foo/Bar, Foo/Baz, Moo) in all its variants.
#[tokio::test]
async fn rfc5258_example_8_childinfo_versus_children() {
    let server = TestServer::start().await;
    let mut client = with_hierarchy(&server, &["Foo/Bar", "Foo/Baz", "Moo"], &["Foo/Baz"]).await;
    assert_eq!(
        untagged(&mut client, "LIST \"\" \"%\" RETURN (CHILDREN)").await,
        default_top_level(
            "LIST",
            &[r#"(\HasChildren) "/" Foo"#, r#"(\HasNoChildren) "/" Moo"#]
        )
    );

    // A) Only Foo/Baz is subscribed.
    assert_eq!(
        untagged(&mut client, "LIST (SUBSCRIBED) \"\" \"*\"").await,
        [r#"* LIST (\HasNoChildren \Subscribed) "/" Foo/Baz"#]
    );
    assert!(
        untagged(&mut client, "LIST (SUBSCRIBED) \"\" \"%\"")
            .await
            .is_empty()
    );
    assert_eq!(
        untagged(&mut client, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await,
        [r#"* LIST (\HasChildren) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))"#]
    );

    // A1) Foo is subscribed too.
    client.ok("SUBSCRIBE Foo").await;
    assert_eq!(
        untagged(&mut client, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await,
        [r#"* LIST (\HasChildren \Subscribed) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))"#]
    );

    // C) Only Foo and Moo are subscribed: no CHILDINFO.
    client.ok("UNSUBSCRIBE Foo/Baz").await;
    client.ok("SUBSCRIBE Moo").await;
    assert_eq!(
        untagged(
            &mut client,
            "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)"
        )
        .await,
        [
            r#"* LIST (\HasChildren \Subscribed) "/" Foo"#,
            r#"* LIST (\HasNoChildren \Subscribed) "/" Moo"#,
        ]
    );

    // B) Nothing is subscribed: nothing is listed, though Foo has children.
    client.ok("UNSUBSCRIBE Foo").await;
    client.ok("UNSUBSCRIBE Moo").await;
    assert!(
        untagged(&mut client, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"")
            .await
            .is_empty()
    );

    // A2) The parent does not exist and is not subscribed: \NonExistent.
    client.ok("SUBSCRIBE Nope/Baz").await;
    assert_eq!(
        untagged(&mut client, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await,
        [r#"* LIST (\NonExistent) "/" Nope ("CHILDINFO" ("SUBSCRIBED"))"#]
    );
}

/// RFC 5258 §5 example 9. This server creates missing superiors, so
/// `qux2` exists here (unlike in the RFC), which changes nothing listed.
#[tokio::test]
async fn rfc5258_example_9_childinfo_regardless_of_pattern() {
    let server = TestServer::start().await;
    let subscribed = [
        "foo2/bar1",
        "foo2/bar2",
        "baz2/bar2",
        "baz2/bar22",
        "baz2/bar222",
        "eps2",
        "eps2/mamba",
        "qux2/bar2",
    ];
    let mut client = with_hierarchy(
        &server,
        &[
            "foo2/bar1",
            "foo2/bar2",
            "baz2/bar2",
            "baz2/bar22",
            "baz2/bar222",
            "eps2/mamba",
            "qux2/bar2",
        ],
        &subscribed,
    )
    .await;
    let sub = r#"(\HasNoChildren \Subscribed) "/""#;
    let eps2 = r#"* LIST (\HasChildren \Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))"#;
    // baz2 and qux2 are left out: every subscribed child of theirs is
    // listed anyway (the SHOULD NOT of §3.5).
    assert_eq!(
        untagged(&mut client, "LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"").await,
        [
            format!("* LIST {sub} baz2/bar2"),
            format!("* LIST {sub} baz2/bar22"),
            format!("* LIST {sub} baz2/bar222"),
            eps2.to_string(),
            r#"* LIST (\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))"#.to_string(),
            format!("* LIST {sub} foo2/bar2"),
            format!("* LIST {sub} qux2/bar2"),
        ]
    );
    // With "*" every subscribed name matches, so no unsubscribed parent is
    // needed (§3.3 rule 2, §3.5); eps2 keeps its CHILDINFO as it is
    // listed on its own merit.
    let mut expected: Vec<String> = subscribed
        .iter()
        .filter(|name| **name != "eps2")
        .map(|name| format!("* LIST {sub} {name}"))
        .collect();
    expected.push(eps2.to_string());
    expected.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    assert_eq!(
        untagged(&mut client, "LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*\"").await,
        expected
    );
}

/// RFC 5258 §5 example 10: CHILDINFO does not imply \HasChildren.
#[tokio::test]
async fn rfc5258_example_10_childinfo_without_children() {
    let server = TestServer::start().await;
    let mut client = with_hierarchy(&server, &["foo"], &["foo/bar"]).await;
    assert_eq!(
        untagged(&mut client, "LIST \"\" (\"foo\" \"foo/*\")").await,
        [r#"* LIST (\HasNoChildren) "/" foo"#]
    );
    assert_eq!(
        untagged(&mut client, "LIST (SUBSCRIBED) \"\" \"foo/*\"").await,
        [r#"* LIST (\NonExistent \Subscribed) "/" foo/bar"#]
    );
    assert_eq!(
        untagged(
            &mut client,
            "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)"
        )
        .await,
        [r#"* LIST (\HasNoChildren) "/" foo ("CHILDINFO" ("SUBSCRIBED"))"#]
    );
}

/// RFC 6154 §2: the SPECIAL-USE selection option lists only mailboxes with
/// a special use; combined with SUBSCRIBED both must hold.
#[tokio::test]
async fn special_use_selection_and_return_options() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE Important (USE (\\Flagged))").await;
    client.ok("CREATE Projects/Work").await;
    client.ok("UNSUBSCRIBE Junk").await;
    let special = [
        r#"* LIST (\HasNoChildren \Archive) "/" Archive"#,
        r#"* LIST (\HasNoChildren \Drafts) "/" Drafts"#,
        r#"* LIST (\HasNoChildren \Flagged) "/" Important"#,
        r#"* LIST (\HasNoChildren \Junk) "/" Junk"#,
        r#"* LIST (\HasNoChildren \Sent) "/" Sent"#,
        r#"* LIST (\HasNoChildren \Trash) "/" Trash"#,
    ];
    for command in [
        "LIST (SPECIAL-USE) \"\" \"*\"",
        "LIST (SPECIAL-USE) \"\" \"*\" RETURN (SPECIAL-USE)",
    ] {
        assert_eq!(untagged(&mut client, command).await, special, "{command}");
    }
    assert_eq!(
        untagged(&mut client, "LIST (SPECIAL-USE SUBSCRIBED) \"\" \"*\"").await,
        [
            r#"* LIST (\HasNoChildren \Archive \Subscribed) "/" Archive"#,
            r#"* LIST (\HasNoChildren \Drafts \Subscribed) "/" Drafts"#,
            r#"* LIST (\HasNoChildren \Sent \Subscribed) "/" Sent"#,
            r#"* LIST (\HasNoChildren \Trash \Subscribed) "/" Trash"#,
        ]
    );
    // RETURN (SPECIAL-USE) alone selects everything (RFC 6154 §5.1).
    assert_eq!(
        untagged(&mut client, "LIST \"\" \"%\" RETURN (SPECIAL-USE)").await,
        default_top_level(
            "LIST",
            &[
                r#"(\HasNoChildren \Flagged) "/" Important"#,
                r#"(\HasChildren) "/" Projects"#,
            ]
        )
    );
    // Thunderbird's start-up LIST: subscribed folders with their uses.
    let thunderbird = untagged(
        &mut client,
        "LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE)",
    )
    .await;
    assert_eq!(thunderbird.len(), 5, "{thunderbird:#?}");
    assert!(thunderbird.contains(&r#"* LIST (\HasNoChildren \Sent \Subscribed) "/" Sent"#.into()));
}

/// A \Noselect placeholder (a deleted parent) stays \Noselect in the
/// extended forms and gets no LIST-STATUS line.
#[tokio::test]
async fn noselect_placeholders() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE parent/child").await;
    client.ok("DELETE parent").await;
    client.ok("SUBSCRIBE parent").await;
    assert_eq!(
        untagged(
            &mut client,
            "LIST (SUBSCRIBED) \"\" \"parent*\" RETURN (CHILDREN STATUS (MESSAGES))"
        )
        .await,
        [r#"* LIST (\Noselect \HasChildren \Subscribed) "/" parent"#]
    );
    assert_eq!(
        untagged(
            &mut client,
            "LIST \"\" \"parent*\" RETURN (STATUS (MESSAGES UIDNEXT))"
        )
        .await,
        [
            r#"* LIST (\Noselect \HasChildren) "/" parent"#,
            r#"* LIST (\HasNoChildren) "/" parent/child"#,
            "* STATUS parent/child (MESSAGES 0 UIDNEXT 1)",
        ]
    );
}

/// RFC 5819 §3 example 1: each selectable mailbox's STATUS right after its
/// LIST line, none for a \Noselect one.
#[tokio::test]
async fn rfc5819_list_status_follows_each_list_line() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("APPEND INBOX (\\Seen) {5+}\r\nhello").await;
    client.ok("APPEND INBOX {5+}\r\nhello").await;
    client.ok("APPEND INBOX {5+}\r\nhello").await;
    client.ok("CREATE foo").await;
    client.ok("APPEND foo {5+}\r\nhello").await;
    client.ok("CREATE bar/baz").await;
    client.ok("DELETE bar").await;
    let lines = untagged(&mut client, "LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))").await;
    let mut expected = Vec::new();
    for line in default_top_level("LIST", &[r#"(\HasNoChildren) "/" foo"#]) {
        let name = name_of(&line).to_owned();
        expected.push(line);
        let counts = match name.as_str() {
            "INBOX" => "MESSAGES 3 UNSEEN 2",
            "foo" => "MESSAGES 1 UNSEEN 1",
            _ => "MESSAGES 0 UNSEEN 0",
        };
        expected.push(format!("* STATUS {name} ({counts})"));
    }
    // "bar" sorts after "Trash" and before "foo".
    let bar = expected.len() - 2;
    expected.insert(bar, r#"* LIST (\Noselect \HasChildren) "/" bar"#.into());
    assert_eq!(lines, expected);

    // Every STATUS item is spelled as the STATUS command spells it.
    let uidvalidity = blocking(|| {
        server
            .store
            .status(1, &MailboxName::new("INBOX").unwrap())
            .unwrap()
            .uidvalidity
    });
    let all_items = "MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN";
    let via_list = untagged(
        &mut client,
        &format!("LIST \"\" INBOX RETURN (STATUS ({all_items}))"),
    )
    .await;
    let via_status = untagged(&mut client, &format!("STATUS INBOX ({all_items})")).await;
    assert_eq!(via_list[1], via_status[0]);
    assert_eq!(
        via_status[0],
        format!(
            "* STATUS INBOX (MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY {uidvalidity} UNSEEN 2)"
        )
    );
}

/// RFC 5819 §3 example 2: a parent listed only for CHILDINFO gets no
/// STATUS, nor does a subscribed name that does not exist.
#[tokio::test]
async fn rfc5819_list_status_with_recursivematch() {
    let server = TestServer::start().await;
    let mut client = with_hierarchy(&server, &["foo/bar"], &["INBOX", "foo/bar", "gone"]).await;
    client.ok("APPEND INBOX {5+}\r\nhello").await;
    assert_eq!(
        untagged(
            &mut client,
            "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))"
        )
        .await,
        [
            r#"* LIST (\HasNoChildren \Subscribed) "/" INBOX"#,
            "* STATUS INBOX (MESSAGES 1)",
            r#"* LIST (\HasChildren) "/" foo ("CHILDINFO" ("SUBSCRIBED"))"#,
            r#"* LIST (\NonExistent \Subscribed) "/" gone"#,
        ]
    );
}

/// XLIST: LIST's answer under the XLIST name, with \Inbox and Gmail's
/// \AllMail, \Spam and \Starred.
#[tokio::test]
async fn xlist_uses_apple_and_gmail_attributes() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE \"All Mail\" (USE (\\All))").await;
    client.ok("CREATE Starred (USE (\\Flagged))").await;
    client.ok("CREATE Sent/2026").await;
    let lines = client.ok("XLIST \"\" \"%\"").await;
    let mut expected = default_top_level(
        "XLIST",
        &[
            r#"(\HasNoChildren \AllMail) "/" "All Mail""#,
            r#"(\HasNoChildren \Starred) "/" Starred"#,
        ],
    );
    for line in &mut expected {
        *line = line
            .replace(
                r#"(\HasNoChildren) "/" INBOX"#,
                r#"(\HasNoChildren \Inbox) "/" INBOX"#,
            )
            .replace(r"\Junk", r"\Spam")
            .replace(r#"(\HasNoChildren \Sent)"#, r#"(\HasChildren \Sent)"#);
    }
    expected.push("t5 OK XLIST completed".into());
    assert_eq!(lines, expected);
    assert_eq!(
        untagged(&mut client, "XLIST \"\" \"\"").await,
        [r#"* XLIST (\Noselect) "/" """#]
    );
    assert_eq!(
        untagged(&mut client, "XLIST Sent/ *").await,
        [r#"* XLIST (\HasNoChildren) "/" Sent/2026"#]
    );
    // Plain LIST keeps the RFC 6154 names.
    assert_eq!(
        untagged(&mut client, "LIST \"\" (Junk Starred)").await,
        [
            r#"* LIST (\HasNoChildren \Junk) "/" Junk"#,
            r#"* LIST (\HasNoChildren \Flagged) "/" Starred"#,
        ]
    );
}

/// RFC 6154 §3 and §5.3: CREATE with a use the server cannot give fails
/// with NO [USEATTR] and creates nothing.
#[tokio::test]
async fn create_special_use_and_useattr() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("CREATE Outbox (USE (\\Sent))").await;
    client.ok("CREATE Plain (USE ())").await;
    assert_eq!(
        untagged(&mut client, "LIST \"\" (Outbox Plain)").await,
        [
            r#"* LIST (\HasNoChildren \Sent) "/" Outbox"#,
            r#"* LIST (\HasNoChildren) "/" Plain"#,
        ]
    );
    for command in [
        "CREATE Everything (USE (\\Important))",
        "CREATE MySpecial (USE (\\Drafts \\Sent))",
    ] {
        let status = client.status(command).await;
        assert!(status.starts_with("NO [USEATTR] "), "{command} -> {status}");
    }
    assert!(
        untagged(&mut client, "LIST \"\" (Everything MySpecial)")
            .await
            .is_empty()
    );
}

/// RFC 5258 §3: unknown options get BAD, and RECURSIVEMATCH alone (or
/// only with REMOTE or the independent SPECIAL-USE) is BAD too (§3.1, §6).
#[tokio::test]
async fn unknown_or_invalid_options_are_bad() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    for command in [
        "LIST (BOGUS) \"\" \"*\"",
        "LIST (SUBSCRIBED X-VENDOR) \"\" \"*\"",
        "LIST (RECURSIVEMATCH) \"\" \"*\"",
        "LIST (REMOTE RECURSIVEMATCH) \"\" \"*\"",
        "LIST (SPECIAL-USE RECURSIVEMATCH) \"\" \"*\"",
        "LIST \"\" \"*\" RETURN (BOGUS)",
        "LIST \"\" \"*\" RETURN (CHILDREN X-VENDOR)",
        "LIST \"\" \"*\" RETURN (STATUS (BOGUS))",
    ] {
        let lines = client.command(command).await;
        assert_eq!(lines.len(), 1, "{command} -> {lines:#?}");
        assert_eq!(lines[0].split(' ').nth(1), Some("BAD"), "{command}");
    }
}

/// Options are case-insensitive, and a repeated one counts once (§3).
#[tokio::test]
async fn options_are_case_insensitive_and_idempotent() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let expected = [
        r#"* LIST (\HasNoChildren \Subscribed) "/" INBOX"#,
        "* STATUS INBOX (MESSAGES 0)",
    ];
    for command in [
        "list (subscribed) \"\" inbox return (children status (messages))",
        "LIST (SUBSCRIBED SUBSCRIBED REMOTE) \"\" INBOX RETURN (SUBSCRIBED CHILDREN \
         CHILDREN STATUS (MESSAGES) STATUS (MESSAGES))",
    ] {
        assert_eq!(untagged(&mut client, command).await, expected, "{command}");
    }
}
