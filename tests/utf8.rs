//! UTF8=ACCEPT (RFC 6855): UTF-8 mailbox names once enabled, modified
//! UTF-7 for everyone else, and APPEND's UTF8 data extension.

mod common;

use common::*;

#[tokio::test]
async fn utf8_names_after_enable_and_mutf7_otherwise() {
    let server = TestServer::start().await;
    let mut plain = server.logged_in().await;
    // Without UTF8=ACCEPT a UTF-8 name is not modified UTF-7: refused.
    assert!(plain.status("CREATE \"Café\"").await.starts_with("NO"));

    let mut client = server.logged_in().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(caps[0].contains("UTF8=ACCEPT"), "{caps:?}");
    assert_eq!(
        client.ok("ENABLE UTF8=ACCEPT").await[0],
        "* ENABLED UTF8=ACCEPT"
    );
    client.ok("CREATE \"Café/Menü\"").await;
    // `&` is just a character now.
    client.ok("CREATE \"R&D\"").await;
    let list = client.ok("LIST \"\" \"Caf*\"").await;
    assert_eq!(
        &list[..2],
        [
            "* LIST (\\HasChildren) \"/\" \"Café\"",
            "* LIST (\\HasNoChildren) \"/\" \"Café/Menü\""
        ]
    );
    let status = client.ok("STATUS \"Café/Menü\" (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS \"Café/Menü\" (MESSAGES 0)");
    client.ok("SELECT \"Café\"").await;

    // The same mailboxes, seen by a client that did not enable it.
    let list = plain.ok("LIST \"\" \"*\"").await;
    for name in ["Caf&AOk-", "Caf&AOk-/Men&APw-", "R&-D"] {
        assert!(
            list.iter().any(|l| l.ends_with(&format!(" {name}"))),
            "{name}: {list:#?}"
        );
    }
    plain.ok("SELECT Caf&AOk-/Men&APw-").await;
}

#[tokio::test]
async fn append_utf8_data_extension() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("ENABLE UTF8=ACCEPT").await;
    let message = "From: Jürgen <jürgen@exämple.de>\r\nSubject: Grüße\r\n\r\nHallo\r\n";
    let lines = client
        .ok(&format!(
            "APPEND INBOX UTF8 (~{{{}+}}\r\n{message})",
            message.len()
        ))
        .await;
    assert!(lines[0].contains("[APPENDUID "), "{lines:?}");
    client.ok("SELECT INBOX").await;
    let search = client.ok("SEARCH SUBJECT \"grüße\"").await;
    assert_eq!(search[0], "* SEARCH 1");
    let body = client.ok("FETCH 1 BODY.PEEK[]").await;
    assert_eq!(
        body[0],
        format!("* 1 FETCH (BODY[] {{{}}}\r\n{message})", message.len())
    );
}
