//! The Prometheus endpoint counts connections, commands by result, command
//! latency and authentication failures.

mod common;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(server: &TestServer, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.metrics.unwrap())
        .await
        .unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn metrics_count_what_happened() {
    let server =
        TestServer::start_with(|c| c.metrics.listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let mut failing = server.tls().await;
    failing.status(&format!("LOGIN {USER} wrong")).await;
    let mut client = server.logged_in_tls().await;
    client.ok("NOOP").await;
    client.ok("NOOP").await;
    let response = get(&server, "/metrics").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    for line in [
        "letterbox_connections_total{listener=\"imaps\"} 2",
        "letterbox_connections_active 2",
        "letterbox_sessions{state=\"authenticated\"} 1",
        "letterbox_commands_total{command=\"LOGIN\",result=\"NO\"} 1",
        "letterbox_commands_total{command=\"LOGIN\",result=\"OK\"} 1",
        "letterbox_commands_total{command=\"NOOP\",result=\"OK\"} 2",
        "letterbox_command_duration_seconds_count 4",
        "letterbox_auth_failures_total 1",
    ] {
        assert!(response.lines().any(|l| l == line), "{line} in {response}");
    }
    // The store's page caches and statements: SQLite counts them, and a
    // logged-in session has read the user's record through them.
    // PostgreSQL's memory is the database server's: no figure.
    let store_memory = response
        .lines()
        .find_map(|l| l.strip_prefix("letterbox_store_memory_bytes "))
        .map(|bytes| bytes.parse::<u64>().unwrap());
    match common::on_postgres() {
        true => assert_eq!(store_memory, None, "{response}"),
        false => assert!(store_memory.is_some_and(|b| b > 0), "{response}"),
    }
    assert!(
        response
            .lines()
            .any(|l| l == "letterbox_sort_cache_messages 0"),
        "{response}"
    );
    assert!(get(&server, "/other").await.starts_with("HTTP/1.1 404"));
    // A SORT fills the sort cache with the mailbox's messages.
    for subject in ["b", "a"] {
        let message = format!("Subject: {subject}\r\n\r\nx\r\n");
        client
            .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
            .await;
    }
    client.ok("SELECT INBOX").await;
    client.ok("SORT (SUBJECT) UTF-8 ALL").await;
    let response = get(&server, "/metrics").await;
    assert!(
        response
            .lines()
            .any(|l| l == "letterbox_sort_cache_messages 2"),
        "{response}"
    );
}
