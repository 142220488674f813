//! Users cannot reach each other's mail: every mailbox name is resolved
//! within the logged-in user's own namespace.

mod common;

use common::*;

#[tokio::test]
async fn one_user_cannot_see_or_touch_another_users_mailboxes() {
    let server = TestServer::start().await;
    blocking(|| {
        server
            .store
            .create_user("bob", &letterbox::auth::hash_password("bob pass"))
            .unwrap()
    });
    let mut bob = server.tls().await;
    bob.ok("LOGIN bob \"bob pass\"").await;
    bob.ok("CREATE BobSecret").await;
    bob.ok("APPEND BobSecret {22+}\r\nSubject: bob private\r\n")
        .await;
    bob.ok("APPEND INBOX {22+}\r\nSubject: bob private\r\n")
        .await;

    let mut alice = server.logged_in().await;
    alice.ok("APPEND INBOX {15+}\r\nSubject: alice\r\n").await;
    // Names that would be another user's, spelled every way a client could.
    for name in [
        "BobSecret",
        "bob/BobSecret",
        "../bob/BobSecret",
        "/BobSecret",
        "~bob/INBOX",
        "#users/bob",
        // The shared namespaces, without any grant from bob.
        "Other Users/bob/BobSecret",
        "Other Users/bob/INBOX",
        "Other Users/bob/inbox",
        "Other Users/Bob/INBOX",
        "Other Users/bob//INBOX",
        "Other Users/bob/../bob/INBOX",
        "Other Users/bob",
        "Other Users",
        "Shared/bob",
        "Shared/bob/BobSecret",
    ] {
        let quoted = format!("\"{name}\"");
        for command in [
            format!("SELECT {quoted}"),
            format!("EXAMINE {quoted}"),
            format!("STATUS {quoted} (MESSAGES)"),
            format!("APPEND {quoted} {{5+}}\r\nhello"),
            format!("DELETE {quoted}"),
            format!("RENAME {quoted} Mine"),
        ] {
            let status = alice.status(&command).await;
            assert!(!status.starts_with("OK"), "{command}: {status}");
        }
    }
    for name in [
        "Other Users/bob/Evil",
        "Other Users/bob/BobSecret/Evil",
        "Shared/bob/Evil",
    ] {
        let status = alice.status(&format!("CREATE \"{name}\"")).await;
        assert!(status.starts_with("NO"), "{name}: {status}");
    }
    let list = alice.ok("LIST \"\" \"*\"").await;
    assert!(!list.iter().any(|l| l.contains("BobSecret")), "{list:#?}");
    assert!(!list.iter().any(|l| l.contains("Other Users")), "{list:#?}");
    let lsub = alice.ok("LSUB \"\" \"*\"").await;
    assert!(!lsub.iter().any(|l| l.contains("BobSecret")), "{lsub:#?}");
    alice.ok("SELECT INBOX").await;
    assert!(
        alice
            .status("COPY 1 \"BobSecret\"")
            .await
            .starts_with("NO [TRYCREATE]")
    );
    assert!(
        alice
            .status("MOVE 1 \"BobSecret\"")
            .await
            .starts_with("NO [TRYCREATE]")
    );
    let search = alice.ok("SEARCH SUBJECT \"bob private\"").await;
    assert_eq!(
        search[0], "* SEARCH",
        "alice's INBOX holds only her own mail"
    );
    let fetch = alice
        .ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        .await;
    assert_eq!(fetch.len(), 2, "{fetch:#?}");

    // Bob's mail is untouched.
    let status = bob.ok("STATUS BobSecret (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS BobSecret (MESSAGES 1)");
    let inbox = bob.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(inbox[0], "* STATUS INBOX (MESSAGES 1)");
}
