//! Oversized and misplaced input in one session: oversized lines and
//! literals are refused without losing stream sync. The table of
//! malformed commands is in `hostile.rs`.

mod common;

use common::*;

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
    // Non-synchronizing, over the literal limit but within the message
    // size: refused, and its octets are skipped (beyond the message size
    // the session closes: literal_beyond_the_message_size_after_login_closes).
    let mut command = b"y2 RENAME {5000+}\r\n".to_vec();
    command.extend(std::iter::repeat_n(b'z', 4_990));
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
    // Before login a refused literal is not read and dropped: the session
    // ends (RFC 7888 §4 allows closing), so a stranger cannot keep it busy.
    assert_eq!(
        client.line().await,
        "* BYE Literal too large; closing the connection"
    );
    assert!(client.closed().await);
}

/// A gigabyte announced as a non-synchronizing literal before login gets
/// BAD [TOOBIG] and BYE at once, not a session that swallows the gigabyte
/// until the pre-login timeout; other sessions go on.
#[tokio::test]
async fn huge_literal_before_login_closes_at_once() {
    let server = TestServer::start().await;
    let mut other = server.tls().await;
    let mut client = server.tls().await;
    client.send(b"c1 LOGIN {1000000000+}\r\n").await;
    let started = std::time::Instant::now();
    assert!(client.line().await.starts_with("c1 BAD [TOOBIG]"));
    assert_eq!(
        client.line().await,
        "* BYE Literal too large; closing the connection"
    );
    assert!(client.closed().await);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    other.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
}

/// After login, a refused literal is skipped up to the message size limit
/// (tested above); one beyond it closes the session the same way.
#[tokio::test]
async fn literal_beyond_the_message_size_after_login_closes() {
    let server = TestServer::start_with(|c| c.limits.max_message_size = 64 * 1024).await;
    let mut client = server.logged_in().await;
    client.send(b"b1 APPEND INBOX {10000000+}\r\n").await;
    assert!(client.line().await.starts_with("b1 BAD [TOOBIG]"));
    assert_eq!(
        client.line().await,
        "* BYE Literal too large; closing the connection"
    );
    assert!(client.closed().await);
    server.logged_in().await.ok("NOOP").await;
}

/// A line refused for its length before login that ends in a huge
/// non-synchronizing literal: the literal is not swallowed either.
#[tokio::test]
async fn huge_literal_after_an_overlong_line_before_login_closes() {
    let server = TestServer::start_with(|c| c.limits.max_command_line = 4096).await;
    let mut client = server.tls().await;
    // Sent in two writes so the server refuses the line before its end.
    client
        .send(format!("c1 LOGIN \"{}", "a".repeat(10_000)).as_bytes())
        .await;
    assert!(client.line().await.starts_with("c1 BAD [TOOBIG]"));
    client.send(b"\" {4000000000+}\r\n").await;
    assert_eq!(
        client.line().await,
        "* BYE Literal too large; closing the connection"
    );
    assert!(client.closed().await);
}
