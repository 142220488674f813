//! ACL (RFC 4314) and the shared namespaces (RFC 2342) over real
//! sessions: three users, bob sharing folders with alice right by right,
//! `anyone` and negative rights, a team mailbox read by two users at
//! once, and what a user without rights can learn (nothing).

mod common;

use common::*;
use letterbox::auth::hash_password;
use letterbox::config::LmtpListen;

const BOB_PASSWORD: &str = "bob pass";

/// alice (from the harness), bob and carol.
async fn three_users() -> TestServer {
    three_users_with(|_| {}).await
}

async fn three_users_with(adjust: impl FnOnce(&mut letterbox::config::Config)) -> TestServer {
    let server = TestServer::start_with(adjust).await;
    for name in ["bob", "carol"] {
        blocking(|| {
            server
                .store
                .create_user(name, &hash_password(BOB_PASSWORD))
                .unwrap()
        });
    }
    server
}

async fn login(server: &TestServer, user: &str) -> Client {
    let mut client = server.in_process().await;
    let password = if user == USER { PASSWORD } else { BOB_PASSWORD };
    client.ok(&format!("LOGIN {user} \"{password}\"")).await;
    client
}

/// bob's "Projects" with one unread message, shared with alice with
/// `rights`; returns bob's session.
async fn bob_shares(server: &TestServer, rights: &str) -> Client {
    let mut bob = login(server, "bob").await;
    bob.ok("CREATE Projects").await;
    bob.ok(&append("Projects", "Subject: plan\r\n\r\nbody\r\n"))
        .await;
    bob.ok(&format!("SETACL Projects alice {rights}")).await;
    bob
}

const SHARED: &str = "\"Other Users/bob/Projects\"";

/// `APPEND mailbox` with `message` as a LITERAL+ literal.
fn append(mailbox: &str, message: &str) -> String {
    format!("APPEND {mailbox} {{{}+}}\r\n{message}", message.len())
}

fn tagged(lines: &[String]) -> String {
    lines.last().unwrap().split_once(' ').unwrap().1.to_owned()
}

#[tokio::test]
async fn namespace_names_the_other_users_and_shared_prefixes() {
    let server = three_users().await;
    let mut alice = login(&server, USER).await;
    let lines = alice.ok("NAMESPACE").await;
    assert_eq!(
        lines[0],
        "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared/\" \"/\"))"
    );
    let capabilities = alice.ok("CAPABILITY").await;
    assert!(capabilities[0].contains(" ACL "), "{capabilities:?}");
    assert!(capabilities[0].contains(" RIGHTS=texk"), "{capabilities:?}");
}

#[tokio::test]
async fn lookup_alone_lists_but_does_not_open() {
    let server = three_users().await;
    let _bob = bob_shares(&server, "l").await;
    let mut alice = login(&server, USER).await;
    let list = alice.ok("LIST \"\" \"Other Users*\"").await;
    assert_eq!(
        list[..3],
        [
            "* LIST (\\Noselect \\HasChildren) \"/\" \"Other Users\"",
            "* LIST (\\Noselect \\HasChildren) \"/\" \"Other Users/bob\"",
            "* LIST (\\HasNoChildren) \"/\" \"Other Users/bob/Projects\"",
        ]
    );
    assert_eq!(list.len(), 4, "{list:?}");
    for command in ["SELECT", "EXAMINE", "STATUS"] {
        let args = if command == "STATUS" {
            " (MESSAGES)"
        } else {
            ""
        };
        let status = alice.status(&format!("{command} {SHARED}{args}")).await;
        assert!(status.starts_with("NO [NOPERM]"), "{command}: {status}");
    }
    let rights = alice.ok(&format!("MYRIGHTS {SHARED}")).await;
    assert_eq!(rights[0], format!("* MYRIGHTS {SHARED} l"));
    // Not an administrator: GETACL is refused.
    assert!(
        alice
            .status(&format!("GETACL {SHARED}"))
            .await
            .starts_with("NO [NOPERM]")
    );
}

#[tokio::test]
async fn read_opens_read_only_and_leaves_seen_alone() {
    let server = three_users().await;
    let _bob = bob_shares(&server, "lr").await;
    let mut alice = login(&server, USER).await;
    let select = alice.ok(&format!("SELECT {SHARED}")).await;
    assert!(tagged(&select).starts_with("OK [READ-ONLY]"), "{select:?}");
    assert!(select.iter().any(|l| l == "* 1 EXISTS"), "{select:?}");
    let fetch = alice.ok("FETCH 1 (BODY[] FLAGS)").await;
    assert!(!fetch.iter().any(|l| l.contains("\\Seen")), "{fetch:?}");
    let flags = alice.ok("FETCH 1 FLAGS").await;
    assert!(!flags[0].contains("\\Seen"), "{flags:?}");
    assert!(
        alice
            .status("STORE 1 +FLAGS (\\Seen)")
            .await
            .starts_with("NO")
    );
    // Nothing goes in without `i`.
    let appended = alice.status(&append(SHARED, "Subject: x\r\n\r\n")).await;
    assert!(appended.starts_with("NO [NOPERM]"), "{appended}");
    alice.ok("SELECT INBOX").await;
    alice.ok(&append("INBOX", "Subject: mine\r\n\r\n")).await;
    alice.ok("NOOP").await;
    let copy = alice.status(&format!("COPY 1 {SHARED}")).await;
    assert!(copy.starts_with("NO [NOPERM]"), "{copy}");
}

/// APPEND, COPY and MOVE into a shared folder store only the flags the
/// user may set there and do not fail for the others (RFC 4314 §4).
#[tokio::test]
async fn flags_come_in_only_with_their_rights() {
    let server = three_users().await;
    let flagged = "(\\Seen \\Flagged \\Deleted $Urgent)";
    for (rights, kept) in [
        ("lri", "FLAGS ()"),
        ("lrit", "FLAGS (\\Deleted)"),
        ("lris", "FLAGS (\\Seen)"),
        ("lriw", "FLAGS (\\Flagged $Urgent)"),
    ] {
        let mut bob = login(&server, "bob").await;
        bob.ok("CREATE Inbound").await;
        bob.ok(&format!("SETACL Inbound alice {rights}")).await;
        let mut alice = login(&server, USER).await;
        let shared = "\"Other Users/bob/Inbound\"";
        let message = "Subject: in\r\n\r\nbody\r\n";
        let appended = alice
            .status(&format!(
                "APPEND {shared} {flagged} {{{}+}}\r\n{message}",
                message.len()
            ))
            .await;
        assert!(
            appended.starts_with("OK [APPENDUID"),
            "{rights}: {appended}"
        );
        alice.ok("SELECT INBOX").await;
        alice
            .ok(&format!(
                "APPEND INBOX {flagged} {{{}+}}\r\n{message}",
                message.len()
            ))
            .await;
        alice.ok("NOOP").await;
        let last = alice.ok("FETCH * UID").await;
        let last = last[0].split_whitespace().nth(1).unwrap().to_owned();
        alice.ok(&format!("COPY {last} {shared}")).await;
        alice.ok(&format!("MOVE {last} {shared}")).await;
        let fetch = bob.ok("SELECT Inbound").await;
        assert!(
            fetch.iter().any(|l| l == "* 3 EXISTS"),
            "{rights}: {fetch:?}"
        );
        let fetch = bob.ok("FETCH 1:3 FLAGS").await;
        for (n, line) in fetch[..3].iter().enumerate() {
            // bob's is the first session to see them: \Recent is his.
            let line = line.replace("\\Recent", "").replace("  ", " ");
            let line = line.replace(" )", ")").replace("( ", "(");
            let expected = format!("* {} FETCH ({kept})", n + 1);
            assert_eq!(line, expected, "{rights}");
        }
        bob.ok("CLOSE").await;
        bob.ok("DELETE Inbound").await;
    }
}

/// Each flag right alone: `s` for \Seen, `w` for other flags, `t` for
/// \Deleted, `e` for EXPUNGE; PERMANENTFLAGS says which.
#[tokio::test]
async fn each_flag_right_allows_exactly_its_flags() {
    for (rights, allowed, refused, permanent) in [
        ("lrs", "\\Seen", "\\Flagged", "\\Seen"),
        (
            "lrw",
            "\\Flagged",
            "\\Seen",
            "\\Answered \\Flagged \\Draft \\*",
        ),
        ("lrt", "\\Deleted", "$Work", "\\Deleted"),
    ] {
        let server = three_users().await;
        let _bob = bob_shares(&server, rights).await;
        let mut alice = login(&server, USER).await;
        let select = alice.ok(&format!("SELECT {SHARED}")).await;
        assert!(
            tagged(&select).starts_with("OK [READ-WRITE]"),
            "{rights}: {select:?}"
        );
        let flags = select
            .iter()
            .find(|l| l.contains("PERMANENTFLAGS"))
            .unwrap();
        assert!(
            flags.contains(&format!("[PERMANENTFLAGS ({permanent})]")),
            "{rights}: {flags}"
        );
        alice.ok(&format!("STORE 1 +FLAGS ({allowed})")).await;
        let status = alice.status(&format!("STORE 1 +FLAGS ({refused})")).await;
        assert!(
            status.starts_with("NO [NOPERM]"),
            "{rights} {refused}: {status}"
        );
        // With a flag it may set beside, the STORE sets that one only.
        let mixed = alice
            .ok(&format!("STORE 1 +FLAGS ({allowed} {refused})"))
            .await;
        assert!(!mixed[0].contains(refused), "{rights}: {mixed:?}");
        // Replacing all flags could clear any: it needs every flag right.
        assert!(
            alice
                .status("STORE 1 FLAGS ()")
                .await
                .starts_with("NO [NOPERM]")
        );
        assert!(
            alice.status("EXPUNGE").await.starts_with("NO [NOPERM]"),
            "{rights}"
        );
    }
}

#[tokio::test]
async fn insert_expunge_create_and_delete_rights() {
    let server = three_users().await;
    let mut bob = bob_shares(&server, "lrie").await;
    let mut alice = login(&server, USER).await;
    let appended = alice.ok(&append(SHARED, "Subject: alice\r\n\r\nx")).await;
    assert!(
        tagged(&appended).starts_with("OK [APPENDUID"),
        "{appended:?}"
    );
    alice.ok("SELECT INBOX").await;
    alice.ok(&append("INBOX", "Subject: mine\r\n\r\n")).await;
    alice.ok("NOOP").await;
    alice.ok(&format!("COPY 1 {SHARED}")).await;
    // k and x are missing.
    let create = alice
        .status("CREATE \"Other Users/bob/Projects/sub\"")
        .await;
    assert!(create.starts_with("NO [NOPERM]"), "{create}");
    let delete = alice.status(&format!("DELETE {SHARED}")).await;
    assert!(delete.starts_with("NO [NOPERM]"), "{delete}");
    // e without t: MOVE out needs e only (it expunges what it moved).
    alice.ok(&format!("SELECT {SHARED}")).await;
    alice.ok("MOVE 1 INBOX").await;
    bob.ok("SETACL Projects alice +kx").await;
    alice.ok("CREATE \"Other Users/bob/Projects/sub\"").await;
    // The child inherits the parent's ACL, so alice sees it.
    let list = alice.ok("LIST \"Other Users/bob/\" \"*\"").await;
    assert!(
        list.iter()
            .any(|l| l.ends_with("\"Other Users/bob/Projects/sub\"")),
        "{list:?}"
    );
    alice.ok("DELETE \"Other Users/bob/Projects/sub\"").await;
    let owned = bob.ok("LIST \"\" \"Projects*\"").await;
    assert_eq!(owned.len(), 2, "{owned:?}");
    // Nobody creates at the top of another's account.
    let top = alice.status("CREATE \"Other Users/bob/New\"").await;
    assert!(top.starts_with("NO [NOPERM]"), "{top}");
}

#[tokio::test]
async fn administrators_read_and_change_the_acl() {
    let server = three_users().await;
    let mut bob = bob_shares(&server, "lra").await;
    let acl = bob.ok("GETACL Projects").await;
    assert_eq!(acl[0], "* ACL Projects bob lrswipkxteacd alice lra");
    let rights = bob.ok("LISTRIGHTS Projects alice").await;
    assert_eq!(
        rights[0],
        "* LISTRIGHTS Projects alice \"\" l r s w i p k x t e a c d"
    );
    let owner = bob.ok("LISTRIGHTS Projects bob").await;
    assert_eq!(owner[0], "* LISTRIGHTS Projects bob lrswipkxteacd");
    assert!(
        bob.status("SETACL Projects bob lr")
            .await
            .starts_with("NO [CANNOT]")
    );
    let bad = bob.status("SETACL Projects carol lrq").await;
    assert!(bad.starts_with("BAD"), "{bad}");
    let mut alice = login(&server, USER).await;
    alice.ok(&format!("SETACL {SHARED} carol +lr")).await;
    alice.ok(&format!("SETACL {SHARED} carol +d")).await;
    let acl = alice.ok(&format!("GETACL {SHARED}")).await;
    assert_eq!(acl[0], format!("* ACL {SHARED} alice lra carol lrxted"));
    alice.ok(&format!("SETACL {SHARED} carol -xte")).await;
    alice.ok(&format!("DELETEACL {SHARED} carol")).await;
    let acl = bob.ok("GETACL Projects").await;
    assert_eq!(acl[0], "* ACL Projects bob lrswipkxteacd alice lra");
}

#[tokio::test]
async fn anyone_and_negative_rights() {
    let server = three_users().await;
    let mut bob = bob_shares(&server, "lr").await;
    bob.ok("SETACL Projects anyone lrs").await;
    bob.ok("SETACL Projects -carol rs").await;
    let mut carol = login(&server, "carol").await;
    let rights = carol.ok(&format!("MYRIGHTS {SHARED}")).await;
    assert_eq!(rights[0], format!("* MYRIGHTS {SHARED} l"));
    let mut alice = login(&server, USER).await;
    let rights = alice.ok(&format!("MYRIGHTS {SHARED}")).await;
    assert_eq!(rights[0], format!("* MYRIGHTS {SHARED} lrs"));
}

/// Without `l` or `r`, every answer is the one for a mailbox that does
/// not exist, whatever the spelling.
#[tokio::test]
async fn without_rights_nothing_reveals_a_mailbox() {
    let server = three_users().await;
    let mut bob = bob_shares(&server, "p").await;
    bob.ok("SETACL Projects carol lr").await;
    let mut alice = login(&server, USER).await;
    for command in [
        "SELECT", "EXAMINE", "STATUS", "DELETE", "GETACL", "MYRIGHTS", "APPEND",
    ] {
        let suffix = match command {
            "STATUS" => " (MESSAGES)",
            "APPEND" => " {1+}\r\nx",
            // (the literal: one octet)
            _ => "",
        };
        let real = alice.status(&format!("{command} {SHARED}{suffix}")).await;
        for other in [
            "\"Other Users/bob/Nothing\"",
            "\"Other Users/nobody/INBOX\"",
            "\"Other Users/bob/INBOX\"",
        ] {
            let missing = alice.status(&format!("{command} {other}{suffix}")).await;
            assert_eq!(real, missing, "{command} {other}");
        }
        assert!(real.starts_with("NO"), "{command}: {real}");
    }
    let list = alice.ok("LIST \"\" \"*\"").await;
    assert!(!list.iter().any(|l| l.contains("Other Users")), "{list:?}");
    // Her own name under the prefix is not a way into her own account.
    let own = alice.status("SELECT \"Other Users/alice/INBOX\"").await;
    assert!(own.starts_with("NO [NONEXISTENT]"), "{own}");
}

#[tokio::test]
async fn rights_changed_while_selected_apply_from_the_next_command() {
    let server = three_users().await;
    let mut bob = bob_shares(&server, "lrw").await;
    let mut alice = login(&server, USER).await;
    alice.ok(&format!("SELECT {SHARED}")).await;
    alice.ok("STORE 1 +FLAGS (\\Flagged)").await;
    bob.ok("SETACL Projects alice lr").await;
    assert!(
        alice
            .status("STORE 1 -FLAGS (\\Flagged)")
            .await
            .starts_with("NO [NOPERM]")
    );
    bob.ok("DELETEACL Projects alice").await;
    assert!(
        alice
            .status("FETCH 1 FLAGS")
            .await
            .starts_with("NO [NOPERM]")
    );
}

/// The team account support, its INBOX granted `lrswite` to `members`.
fn support_team(server: &TestServer, members: &[&str]) {
    use letterbox::store::acl::{Entry, Rights, parse_identifier};
    let team = blocking(|| server.store.create_team("support").unwrap());
    let inbox = letterbox::store::MailboxName::new("INBOX").unwrap();
    for user in members {
        let (identifier, negative) = parse_identifier(user);
        let entry = Entry {
            identifier,
            negative,
            rights: Rights::parse("lrswite").unwrap(),
        };
        blocking(|| server.store.set_acl(team, &inbox, &entry).unwrap());
    }
}

/// Delivers `message` to `recipient` over the server's LMTP listener,
/// one command at a time, and checks every reply.
async fn lmtp_deliver(server: &TestServer, recipient: &str, message: &str) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut expect = async |code: &str| loop {
        let line = lines.next_line().await.unwrap().unwrap();
        assert!(line.starts_with(code), "expected {code}: {line}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    expect("220").await;
    let steps = [
        ("LHLO test\r\n".to_owned(), "250"),
        ("MAIL FROM:<someone@example.net>\r\n".to_owned(), "250"),
        (format!("RCPT TO:<{recipient}>\r\n"), "250"),
        ("DATA\r\n".to_owned(), "354"),
        (format!("{message}.\r\n"), "250"),
    ];
    for (command, code) in steps {
        write.write_all(command.as_bytes()).await.unwrap();
        expect(code).await;
    }
}

/// The FLAGS of message `seq` as this session sees them.
async fn flags_of(client: &mut Client, seq: u32) -> String {
    let lines = client.ok(&format!("FETCH {seq} FLAGS")).await;
    let line = lines
        .iter()
        .find(|l| l.starts_with(&format!("* {seq} FETCH")))
        .unwrap_or_else(|| panic!("{lines:?}"));
    line.replace("\\Recent", "")
        .replace("( ", "(")
        .replace(" )", ")")
}

/// With `private_seen`, each member reads on their own: FETCH, STORE,
/// SELECT's UNSEEN, SEARCH, STATUS, LIST-STATUS, COPY out and IDLE in
/// the user's other session all show the user's own \Seen, while every
/// other flag stays shared. Turned off, the shared \Seen is back.
#[tokio::test]
async fn each_member_keeps_their_own_seen_when_private() {
    let server = three_users().await;
    support_team(&server, &[USER, "bob"]);
    blocking(|| server.store.set_private_seen("support", true).unwrap());
    let mut bob = login(&server, "bob").await;
    let message = "Subject: help\r\n\r\nbody\r\n";
    bob.ok(&format!(
        "APPEND Shared/support (\\Seen) {{{}+}}\r\n{message}",
        message.len()
    ))
    .await;
    for _ in 0..2 {
        bob.ok(&append("Shared/support", message)).await;
    }
    let mut alice = login(&server, USER).await;
    let select = alice.ok("SELECT Shared/support").await;
    assert!(
        select.iter().any(|l| l.starts_with("* OK [UNSEEN 1]")),
        "{select:?}"
    );
    let select = bob.ok("SELECT Shared/support").await;
    assert!(
        select.iter().any(|l| l.starts_with("* OK [UNSEEN 2]")),
        "{select:?}"
    );

    // alice's second session, in IDLE, hears of her own reading.
    let mut alice_phone = login(&server, USER).await;
    alice_phone.ok("SELECT Shared/support").await;
    alice_phone.send(b"i IDLE\r\n").await;
    assert!(alice_phone.line().await.starts_with("+ "));
    let fetch = alice.ok("FETCH 2 BODY[]").await;
    assert!(fetch[0].contains("FLAGS (\\Seen"), "{fetch:?}");
    let pushed = alice_phone.line().await;
    assert!(
        pushed.starts_with("* 2 FETCH (UID 2 FLAGS (\\Seen)"),
        "{pushed}"
    );
    alice_phone.send(b"DONE\r\n").await;
    alice_phone.until_tagged("i").await;

    // bob's read state is his own; the others' reading tells him nothing new.
    let noop = bob.ok("NOOP").await;
    assert!(!noop.iter().any(|l| l.contains("\\Seen")), "{noop:?}");
    assert_eq!(flags_of(&mut bob, 1).await, "* 1 FETCH (FLAGS (\\Seen))");
    assert_eq!(flags_of(&mut bob, 2).await, "* 2 FETCH (FLAGS ())");
    assert_eq!(flags_of(&mut alice, 1).await, "* 1 FETCH (FLAGS ())");
    assert_eq!(alice.ok("SEARCH UNSEEN").await[0], "* SEARCH 1 3");
    assert_eq!(bob.ok("SEARCH SEEN").await[0], "* SEARCH 1");
    assert_eq!(bob.ok("SEARCH NOT UNSEEN").await[0], "* SEARCH 1");

    // Other flags are the team's: bob answers, alice sees it.
    bob.ok("STORE 3 +FLAGS (\\Answered \\Seen)").await;
    alice.ok("NOOP").await;
    assert_eq!(
        flags_of(&mut alice, 3).await,
        "* 3 FETCH (FLAGS (\\Answered))"
    );
    assert_eq!(
        flags_of(&mut bob, 3).await,
        "* 3 FETCH (FLAGS (\\Answered \\Seen))"
    );
    bob.ok("STORE 3 FLAGS (\\Flagged)").await;
    assert_eq!(flags_of(&mut bob, 3).await, "* 3 FETCH (FLAGS (\\Flagged))");
    assert_eq!(
        flags_of(&mut alice, 3).await,
        "* 3 FETCH (FLAGS (\\Flagged))"
    );

    // Counted per user.
    let status = alice_phone
        .ok("STATUS Shared/support (MESSAGES UNSEEN)")
        .await;
    assert_eq!(status[0], "* STATUS Shared/support (MESSAGES 3 UNSEEN 2)");
    let status = bob.ok("STATUS Shared/support (UNSEEN)").await;
    assert_eq!(status[0], "* STATUS Shared/support (UNSEEN 2)");
    let listed = alice_phone
        .ok("LIST \"\" Shared/support RETURN (STATUS (UNSEEN))")
        .await;
    assert_eq!(
        listed[1], "* STATUS Shared/support (UNSEEN 2)",
        "{listed:?}"
    );

    // A copy out takes the copier's \Seen.
    alice.ok("COPY 2 INBOX").await;
    bob.ok("COPY 2 INBOX").await;
    let status = alice.ok("STATUS INBOX (MESSAGES UNSEEN)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 1 UNSEEN 0)");
    let status = bob.ok("STATUS INBOX (MESSAGES UNSEEN)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 1 UNSEEN 1)");

    // Off again: one \Seen for all, as before it was turned on.
    blocking(|| server.store.set_private_seen("support", false).unwrap());
    alice.ok("STORE 2 +FLAGS (\\Seen)").await;
    bob.ok("NOOP").await;
    assert_eq!(flags_of(&mut bob, 2).await, "* 2 FETCH (FLAGS (\\Seen))");
    assert_eq!(flags_of(&mut bob, 1).await, "* 1 FETCH (FLAGS ())");
}

#[tokio::test]
async fn a_team_mailbox_is_shared_live_between_its_members() {
    let server = three_users_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.delivery.domains = vec!["example.org".into()];
        c.aliases
            .insert("help@example.org".into(), "support".into());
    })
    .await;
    support_team(&server, &[USER, "bob"]);
    // The team account cannot log in.
    let mut nobody = server.in_process().await;
    let refused = nobody.status("LOGIN support \"\"").await;
    assert!(
        refused.starts_with("NO [AUTHENTICATIONFAILED]"),
        "{refused}"
    );
    let mut alice = login(&server, USER).await;
    let list = alice.ok("LIST \"\" \"Shared*\"").await;
    assert_eq!(list[0], "* LIST (\\Noselect \\HasChildren) \"/\" Shared");
    assert_eq!(list[1], "* LIST (\\HasNoChildren) \"/\" Shared/support");
    let mut bob = login(&server, "bob").await;
    bob.ok(&append("Shared/support", "Subject: help\r\n\r\n"))
        .await;
    alice.ok("SELECT Shared/support").await;
    bob.ok("SELECT Shared/support").await;
    alice.send(b"i IDLE\r\n").await;
    assert!(alice.line().await.starts_with("+ "));
    bob.ok("STORE 1 +FLAGS (\\Seen)").await;
    let pushed = alice.line().await;
    assert!(
        pushed.starts_with("* 1 FETCH (") && pushed.contains("\\Seen"),
        "{pushed}"
    );
    // Mail to the team's address arrives over LMTP: both sessions hear of it.
    bob.send(b"j IDLE\r\n").await;
    assert!(bob.line().await.starts_with("+ "));
    lmtp_deliver(
        &server,
        "help@example.org",
        "Subject: printer\r\n\r\nbroken\r\n",
    )
    .await;
    assert_eq!(alice.line().await, "* 2 EXISTS");
    assert_eq!(bob.line().await, "* 2 EXISTS");
    bob.send(b"DONE\r\n").await;
    bob.until_tagged("j").await;
    alice.send(b"DONE\r\n").await;
    alice.until_tagged("i").await;
    // The team's quota is its own, under the team's root.
    let quota = letterbox::store::QuotaOverride {
        bytes: Some(1024 * 1024),
        messages: None,
    };
    blocking(|| server.store.set_quota("support", quota).unwrap());
    let root = alice.ok("GETQUOTAROOT Shared/support").await;
    assert_eq!(root[0], "* QUOTAROOT Shared/support Shared/support");
    assert!(
        root[1].starts_with("* QUOTA Shared/support (STORAGE 1 1024"),
        "{root:?}"
    );
    let quota = alice.ok("GETQUOTA Shared/support").await;
    assert_eq!(quota[0], root[1]);
    // carol has no grant: the team is invisible to her.
    let mut carol = login(&server, "carol").await;
    let list = carol.ok("LIST \"\" \"*\"").await;
    assert!(!list.iter().any(|l| l.contains("Shared")), "{list:?}");
    let status = carol.status("SELECT Shared/support").await;
    assert!(status.starts_with("NO [NONEXISTENT]"), "{status}");
    let quota = carol.status("GETQUOTA Shared/support").await;
    assert!(quota.starts_with("NO [NONEXISTENT]"), "{quota}");
}

/// The sysadmin's side: a team mailbox made, granted, delivered to
/// through an alias, listed and deleted with the binary.
#[test]
fn the_cli_makes_grants_and_deletes_team_mailboxes() {
    use common::binary::{add_user, letterbox, run_with_stdin, write_config};
    let dir = tempfile::tempdir().unwrap();
    let extra =
        "[delivery]\ndomains = [\"example.org\"]\n[aliases]\n\"help@example.org\" = \"support\"\n";
    let config = write_config(dir.path(), "letterbox.toml", extra);
    add_user(&config, "alice", "pw");
    let run = |args: &[&str]| {
        let output = letterbox(&config).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        text
    };
    run(&["shared", "create", "support", "--quota-mb", "5"]);
    run(&["acl", "set", "Shared/support", "alice", "lrswite"]);
    run(&["acl", "set", "Shared/support", "anyone", "l"]);
    run(&["acl", "set", "Shared/support", "anyone", "-l"]);
    let acl = run(&["acl", "get", "Shared/support"]);
    assert_eq!(acl, "alice\tlrswite\n");
    let personal = run(&["acl", "get", "user:alice/INBOX"]);
    assert_eq!(personal, "alice\tlrswipkxtea (owner)\n");
    let mut deliver = letterbox(&config);
    deliver.args(["deliver", "--to", "help@example.org"]);
    let delivered = run_with_stdin(deliver, "Subject: printer\r\n\r\nbroken\r\n");
    assert!(delivered.status.success(), "{delivered:?}");
    let list = run(&["shared", "list"]);
    assert!(list.starts_with("Shared/support\t1 messages\t"), "{list}");
    assert!(list.contains("alice=lrswite"), "{list}");
    assert!(list.contains("\tshared \\Seen\t"), "{list}");
    run(&["shared", "set", "support", "--private-seen", "on"]);
    assert!(run(&["shared", "list"]).contains("\tprivate \\Seen\t"));
    run(&["shared", "create", "info", "--private-seen"]);
    let list = run(&["shared", "list"]);
    assert!(
        list.starts_with("Shared/info\t0 messages\t0 bytes\tprivate \\Seen"),
        "{list}"
    );
    run(&["shared", "set", "support", "--private-seen", "off"]);
    assert!(run(&["shared", "list"]).contains("Shared/support\t1 messages\t"));
    {
        let store = common::binary::open_store(&config);
        let alice = blocking(|| store.find_user("alice").unwrap().unwrap());
        let subscribed = blocking(|| store.list_subscriptions(alice.id).unwrap());
        assert!(
            subscribed.contains(&"Shared/support".to_string()),
            "{subscribed:?}"
        );
        let team = blocking(|| store.find_user("support").unwrap().unwrap());
        assert_eq!(
            blocking(|| store.quota(team.id).unwrap().limits.bytes),
            Some(5 * 1024 * 1024)
        );
    }
    let refused = letterbox(&config)
        .args(["acl", "set", "user:alice/INBOX", "alice", "l"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let refused = letterbox(&config)
        .args(["shared", "delete", "alice"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a person is not a team");
    run(&["shared", "delete", "support"]);
    run(&["shared", "delete", "info"]);
    assert_eq!(run(&["shared", "list"]), "");
}

/// Real clients reach a shared mailbox by its full name: curl fetches a
/// message by URL, imaplib selects and reads it.
#[tokio::test]
async fn curl_and_imaplib_open_a_shared_mailbox_by_its_full_name() {
    let server = three_users().await;
    let _bob = bob_shares(&server, "lr").await;
    let url = format!(
        "imaps://localhost:{}/Other%20Users%2Fbob%2FProjects;UID=1",
        server.imaps.port()
    );
    let mut curl = std::process::Command::new("curl");
    curl.args(["--silent", "--show-error", "--cacert"])
        .arg(&server.cert_path)
        .args(["--user", &format!("{USER}:{PASSWORD}")])
        .arg(url);
    let output = tokio::task::spawn_blocking(move || curl.output().expect("curl is installed"))
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(body, "Subject: plan\r\n\r\nbody\r\n");

    let script = r#"
import imaplib, ssl, sys
port, cafile, user, password = sys.argv[1:5]
imap = imaplib.IMAP4_SSL("localhost", int(port), ssl_context=ssl.create_default_context(cafile=cafile))
imap.login(user, password)
typ, data = imap.select('"Other Users/bob/Projects"', readonly=True)
assert typ == "OK" and data == [b"1"], (typ, data)
typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert typ == "OK" and b"Subject: plan" in data[0][1], data
typ, data = imap.list('"Other Users/"', "*")
assert typ == "OK" and any(b'"Other Users/bob/Projects"' in line for line in data), data
print("imaplib shared ok")
"#;
    let mut python = std::process::Command::new("python3");
    python
        .args(["-c", script, &server.imaps.port().to_string()])
        .arg(&server.cert_path)
        .args([USER, PASSWORD]);
    let stdout = run_client(python).await;
    assert!(stdout.contains("imaplib shared ok"), "{stdout}");
}

/// LSUB and LIST-STATUS see shared mailboxes like the user's own.
#[tokio::test]
async fn lsub_and_list_status_cover_shared_mailboxes() {
    let server = three_users().await;
    let _bob = bob_shares(&server, "lr").await;
    let mut alice = login(&server, USER).await;
    alice.ok(&format!("SUBSCRIBE {SHARED}")).await;
    let lsub = alice.ok("LSUB \"\" \"Other Users/*\"").await;
    assert_eq!(lsub[0], format!("* LSUB () \"/\" {SHARED}"));
    let list = alice
        .ok("LIST \"\" \"Other Users/bob/*\" RETURN (STATUS (MESSAGES UNSEEN))")
        .await;
    assert_eq!(list[0], format!("* LIST (\\HasNoChildren) \"/\" {SHARED}"));
    assert_eq!(list[1], format!("* STATUS {SHARED} (MESSAGES 1 UNSEEN 1)"));
}
