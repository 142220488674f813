//! Behind a TCP balancer (`proxy_from`): the PROXY protocol header names
//! the client, and allow/deny, limits and failed-login penalties count
//! that client, never the balancer all clients come through.

mod common;

use common::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A balancer on 127.0.0.1 in front of the plain IMAP port.
async fn behind_balancer() -> TestServer {
    TestServer::start_with(|c| {
        c.auth.allow_plaintext = true;
        c.imap.proxy_from = vec!["127.0.0.1/32".parse().unwrap()];
        c.imap.deny = vec!["203.0.113.0/24".parse().unwrap()];
    })
    .await
}

/// A connection through the balancer: `header`, then IMAP.
async fn through(server: &TestServer, header: &[u8]) -> Client {
    let mut tcp = TcpStream::connect(server.imap).await.unwrap();
    tcp.write_all(header).await.unwrap();
    Client::over(Box::new(tcp))
}

fn v1(client: &str) -> Vec<u8> {
    format!("PROXY TCP4 {client} 192.0.2.1 40000 143\r\n").into_bytes()
}

#[tokio::test]
async fn the_address_in_the_header_is_the_one_checked() {
    let server = behind_balancer().await;
    let mut allowed = through(&server, &v1("198.51.100.9")).await;
    assert!(allowed.line().await.starts_with("* OK [CAPABILITY"));
    allowed.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;

    let mut denied = through(&server, &v1("203.0.113.7")).await;
    assert!(
        denied.line().await.starts_with("* BYE"),
        "denied by its own address"
    );
    assert!(denied.closed().await);

    // Version 2, as HAProxy's send-proxy-v2 writes it.
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.extend([
        0x21, 0x11, 0, 12, 203, 0, 113, 8, 192, 0, 2, 1, 0x9c, 0x40, 0, 143,
    ]);
    let mut denied = through(&server, &header).await;
    assert!(denied.line().await.starts_with("* BYE"));
}

#[tokio::test]
async fn failed_logins_lock_out_the_client_not_the_balancer() {
    let server = behind_balancer().await;
    let mut attacker = through(&server, &v1("198.51.100.66")).await;
    attacker.line().await;
    for _ in 0..12 {
        let reply = attacker.status(&format!("LOGIN {USER} wrong")).await;
        assert_eq!(reply, "NO [AUTHENTICATIONFAILED] Authentication failed");
    }
    let mut again = through(&server, &v1("198.51.100.66")).await;
    again.line().await;
    let reply = again.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert_eq!(
        reply, "NO [AUTHENTICATIONFAILED] Authentication failed",
        "locked"
    );
    // Everyone else comes through the same balancer, and gets in.
    for client in ["198.51.100.67", "198.51.100.68"] {
        let mut alice = through(&server, &v1(client)).await;
        alice.line().await;
        alice.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    }
}

#[tokio::test]
async fn a_balancer_connection_without_a_header_is_closed() {
    let server = behind_balancer().await;
    let mut bare = through(&server, b"a1 LOGIN alice secret\r\n").await;
    assert!(bare.closed().await, "no greeting, no session");
    // A health check (version 1 UNKNOWN) is the balancer's own connection.
    let mut check = through(&server, b"PROXY UNKNOWN\r\n").await;
    assert!(check.line().await.starts_with("* OK"));
}
