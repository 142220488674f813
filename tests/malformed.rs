//! Malformed and oversized input: every bad command gets a BAD (tagged
//! when a tag can be read) and the session stays usable; oversized lines
//! and literals are refused without losing stream sync.

mod common;

use common::*;

/// Commands sent in the selected state; each must get a BAD.
const MALFORMED: &[&str] = &[
    "",
    " ",
    "a1",
    "a1 ",
    "+ NOOP",
    "a(1 NOOP",
    "a{1 NOOP",
    "a1 FOO",
    "a1 NOOP extra",
    "a1 CAPABILITY now",
    "a1 LOGOUT please",
    "a1 SELECT",
    "a1 SELECT INBOX INBOX",
    "a1 SELECT \"INBOX",
    "a1 EXAMINE (INBOX)",
    "a1 CREATE",
    "a1 CREATE a b",
    "a1 DELETE",
    "a1 RENAME onlyone",
    "a1 RENAME a b c",
    "a1 SUBSCRIBE",
    "a1 UNSUBSCRIBE",
    "a1 LIST",
    "a1 LIST \"\"",
    "a1 LSUB \"\"",
    "a1 STATUS INBOX",
    "a1 STATUS INBOX ()",
    "a1 STATUS INBOX (MESSAGES",
    "a1 STATUS INBOX (BOGUS)",
    "a1 APPEND",
    "a1 APPEND INBOX",
    "a1 APPEND INBOX (\\Seen",
    "a1 APPEND INBOX \"not a date\" {1+}\r\nx",
    "a1 APPEND INBOX \"31-Foo-2020 00:00:00 +0000\" {1+}\r\nx",
    "a1 APPEND INBOX hello",
    "a1 FETCH",
    "a1 FETCH 1",
    "a1 FETCH 0 FLAGS",
    "a1 FETCH 1: FLAGS",
    "a1 FETCH *: FLAGS",
    "a1 FETCH 1,,2 FLAGS",
    "a1 FETCH 1 (FLAGS",
    "a1 FETCH 1 BOGUS",
    "a1 FETCH 1 BODY[1.MIME",
    "a1 FETCH 1 BODY[MIME]",
    "a1 FETCH 1 BODY[HEADER.FIELDS]",
    "a1 FETCH 1 FLAGS<0.10>",
    "a1 FETCH 1 BODY[]<1>",
    "a1 FETCH 1 (ALL FLAGS)",
    "a1 STORE 1 FLAGS",
    "a1 STORE 1 +FLAGZ (\\Seen)",
    "a1 STORE 1 FLAGS (\\Seen",
    "a1 COPY 1",
    "a1 COPY INBOX",
    "a1 SEARCH",
    "a1 SEARCH BOGUS",
    "a1 SEARCH (SEEN",
    "a1 SEARCH SEEN)",
    "a1 SEARCH OR SEEN",
    "a1 SEARCH NOT",
    "a1 SEARCH SINCE 32-Jan-2020",
    "a1 SEARCH LARGER x",
    "a1 SEARCH HEADER Subject",
    "a1 UID",
    "a1 UID NOOP",
    "a1 UID FETCH",
    "a1 UID EXPUNGE",
    "a1 LOGIN",
    "a1 AUTHENTICATE",
    "a1 ID",
    "a1 ID (\"name\")",
    "a1 ENABLE",
    "a1 NAMESPACE x",
    "a1  NOOP",
    "a1 NOOP ",
    "a1 \u{0}NOOP",
    "a1 CHECK\u{0}",
    "a1 SELECT \"in\u{0}box\"",
    "a1 CREATE \"bad\\q\"",
    "a1 SELECT {3x}",
    "a1 IDLE now",
    "a1 CLOSE 1",
    "a1 EXPUNGE 1",
    "a1 UNSELECT x",
];

#[tokio::test]
async fn malformed_commands_get_bad_and_the_session_goes_on() {
    assert!(MALFORMED.len() >= 80);
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    client.ok("SELECT INBOX").await;
    for (i, command) in MALFORMED.iter().enumerate() {
        client.send(format!("{command}\r\n").as_bytes()).await;
        let reply = client.line().await;
        let expected_tag = if command.starts_with("a1 ") && !command.starts_with("a1  ") {
            "a1 BAD "
        } else {
            "BAD "
        };
        assert!(
            reply.starts_with("a1 BAD ") || reply.starts_with("* BAD "),
            "#{i} {command:?} -> {reply:?}"
        );
        if expected_tag == "a1 BAD " {
            assert!(
                reply.starts_with("a1 BAD "),
                "#{i} {command:?} lost its tag: {reply:?}"
            );
        }
        // Still in sync and in the selected state.
        let probe = client.ok("CHECK").await;
        assert_eq!(probe.len(), 1, "#{i} {command:?}: {probe:?}");
    }
}

#[tokio::test]
async fn literal_in_a_wrong_place_keeps_sync() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    // A synchronizing literal inside a bad command: the server asks for it,
    // reads it, then rejects the whole command.
    client.send(b"b1 FROB {5}\r\n").await;
    assert!(client.line().await.starts_with("+ "));
    client.send(b"hello\r\n").await;
    assert!(client.line().await.starts_with("b1 BAD"));
    client.ok("NOOP").await;
}

#[tokio::test]
async fn overlong_line_is_refused_and_the_stream_stays_in_sync() {
    let server = TestServer::start_with(|c| c.limits.max_command_line = 4096).await;
    let mut client = server.logged_in().await;
    let long = format!("x1 LIST \"\" \"{}\"\r\n", "a".repeat(100_000));
    client.send(long.as_bytes()).await;
    let reply = client.line().await;
    assert!(reply.starts_with("x1 BAD"), "{reply}");
    client.ok("NOOP").await;
    // An overlong line ending in a non-synchronizing literal: the literal is
    // skipped too, so its content is not run as a command.
    let long = format!(
        "x2 APPEND INBOX \"{}\" {{14+}}\r\nx3 DELETE Sent\r\n",
        "a".repeat(10_000)
    );
    client.send(long.as_bytes()).await;
    let reply = client.line().await;
    assert!(reply.starts_with("x2 BAD"), "{reply}");
    let lines = client.ok("LIST \"\" Sent").await;
    assert_eq!(lines.len(), 2, "Sent still exists: {lines:?}");
}

#[tokio::test]
async fn oversized_literals_are_refused_without_buffering() {
    let server = TestServer::start_with(|c| {
        c.limits.max_literal = 1024;
        c.limits.max_message_size = 64 * 1024;
    })
    .await;
    let mut client = server.logged_in().await;
    // Synchronizing: refused before the client sends anything.
    let reply = client.status("RENAME {999999}").await;
    assert!(reply.starts_with("BAD [TOOBIG]"), "{reply}");
    let reply = client.status("APPEND INBOX {70000}").await;
    assert!(reply.starts_with("BAD [TOOBIG]"), "{reply}");
    // Non-synchronizing: refused, and its octets are skipped.
    let mut command = b"y2 APPEND INBOX {70000+}\r\n".to_vec();
    command.extend(std::iter::repeat_n(b'z', 69_990));
    command.extend_from_slice(b"y3 NOOP\r\n");
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let reply = client.line().await;
    assert!(reply.starts_with("y2 BAD"), "{reply}");
    client.ok("NOOP").await;
    let status = client.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS INBOX (MESSAGES 0)");
    // A literal of exactly the limit is fine for APPEND.
    let mut command = b"y4 APPEND INBOX {65536+}\r\n".to_vec();
    command.extend(std::iter::repeat_n(b'm', 65_536));
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let lines = client.until_tagged("y4").await;
    assert!(lines.last().unwrap().starts_with("y4 OK"), "{lines:?}");
}

#[tokio::test]
async fn garbage_without_line_ends_is_not_buffered_forever() {
    let server = TestServer::start_with(|c| c.limits.max_command_line = 4096).await;
    let mut client = server.logged_in().await;
    let garbage = vec![b'g'; 2 * 1024 * 1024];
    client.send(&garbage).await;
    client.send(b"\r\n").await;
    let reply = client.line().await;
    assert!(
        reply.starts_with("* BAD") || reply.contains("BAD"),
        "{reply}"
    );
    client.ok("NOOP").await;
}

#[tokio::test]
async fn append_before_login_gets_no_large_literal() {
    let server = TestServer::start_with(|c| c.limits.max_literal = 1024).await;
    let mut client = server.tls().await;
    // Refused at framing time: no continuation, nothing buffered.
    client.send(b"a1 APPEND INBOX {67108864}\r\n").await;
    assert!(client.line().await.starts_with("a1 BAD [TOOBIG]"));
    let mut command = b"a2 APPEND INBOX {5000+}\r\n".to_vec();
    command.extend(std::iter::repeat_n(b'x', 5000));
    command.extend_from_slice(b"\r\na3 NOOP\r\n");
    client.send(&command).await;
    assert!(client.line().await.starts_with("a2 BAD [TOOBIG]"));
    assert_eq!(client.line().await, "a3 OK NOOP completed");
}
