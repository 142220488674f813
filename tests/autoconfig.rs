//! Client autoconfiguration over HTTP: each document fetched over a real
//! socket (curl where a client posts), parsed with an XML parser, the
//! Apple profile with Python's plistlib, and its fields checked.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.autoconfig.listen = vec!["127.0.0.1:0".parse().unwrap()];
        c.autoconfig.imap_host = "mail.example.org".into();
        c.autoconfig.smtp_host = "smtp.example.org".into();
        c.autoconfig.display_name = "Example & Co".into();
        c.delivery.domains = vec!["example.org".into()];
    })
    .await
}

/// (status line, body) of one raw HTTP request.
async fn http(addr: SocketAddr, request: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

async fn get(addr: SocketAddr, target: &str) -> (String, String) {
    http(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: autoconfig.example.org\r\n\r\n"),
    )
    .await
}

/// What `curl -sS --fail ARGS` printed; the transfer must succeed.
async fn curl(args: Vec<String>) -> String {
    let output = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sS", "--fail"])
            .args(args)
            .output()
            .expect("curl is installed")
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The text of every element named `name`, in document order.
fn texts(doc: &roxmltree::Document, name: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == name)
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn thunderbird_autoconfig() {
    let server = server().await;
    let addr = server.autoconfig.unwrap();
    for target in [
        "/mail/config-v1.1.xml?emailaddress=ann%40Example.org",
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann@example.org",
        // Thunderbird for Android asks without the address.
        "/.well-known/autoconfig/mail/config-v1.1.xml",
    ] {
        let (status, body) = get(addr, target).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{target}");
        let doc = roxmltree::Document::parse(&body).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "clientConfig");
        assert_eq!(texts(&doc, "domain"), ["example.org"]);
        assert_eq!(texts(&doc, "displayName"), ["Example & Co"]);
        assert_eq!(
            texts(&doc, "hostname"),
            ["mail.example.org", "mail.example.org", "smtp.example.org"]
        );
        assert_eq!(texts(&doc, "port"), ["993", "143", "587"]);
        assert_eq!(texts(&doc, "socketType"), ["SSL", "STARTTLS", "STARTTLS"]);
        assert!(
            texts(&doc, "username")
                .iter()
                .all(|u| u == "%EMAILLOCALPART%")
        );
    }
    let (status, _) = get(addr, "/mail/config-v1.1.xml?emailaddress=<script>").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    let (status, _) = get(addr, "/nothing").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

#[tokio::test]
async fn outlook_autodiscover_with_curl() {
    let server = server().await;
    let addr = server.autoconfig.unwrap();
    let request = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>bob@example.org</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;
    let url = format!("http://{addr}/Autodiscover/Autodiscover.xml");
    let body = curl(vec![
        "-H".into(),
        "Content-Type: text/xml".into(),
        "--data-binary".into(),
        request.into(),
        url,
    ])
    .await;
    let doc = roxmltree::Document::parse(&body).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "Autodiscover");
    assert_eq!(texts(&doc, "Type"), ["IMAP", "IMAP", "SMTP"]);
    assert_eq!(texts(&doc, "Port"), ["993", "143", "587"]);
    assert_eq!(texts(&doc, "LoginName"), ["bob", "bob", "bob"]);
    assert_eq!(texts(&doc, "Encryption"), ["TLS", "TLS"]);
    // No address: refused, not guessed.
    let (status, _) = http(
        addr,
        "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nContent-Length: 9\r\n\r\n<Request>",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
}

#[tokio::test]
async fn apple_profile_is_a_valid_plist() {
    let server = server().await;
    let addr = server.autoconfig.unwrap();
    let (status, body) = get(
        addr,
        "/apple/mail.mobileconfig?emailaddress=ann@example.org",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    // The same address gives the same profile (UUIDs included), so a new
    // download replaces the installed one.
    assert_eq!(
        get(
            addr,
            "/apple/mail.mobileconfig?emailaddress=ann@example.org"
        )
        .await
        .1,
        body
    );
    let check = r#"
import plistlib, sys
p = plistlib.loads(sys.stdin.buffer.read())
mail = p["PayloadContent"][0]
assert p["PayloadType"] == "Configuration", p
assert mail["PayloadType"] == "com.apple.mail.managed", mail
assert mail["EmailAddress"] == "ann@example.org"
assert mail["IncomingMailServerHostName"] == "mail.example.org"
assert mail["IncomingMailServerPortNumber"] == 993
assert mail["IncomingMailServerUseSSL"] is True
assert mail["IncomingMailServerUsername"] == "ann"
assert mail["OutgoingMailServerHostName"] == "smtp.example.org"
assert mail["PayloadUUID"] != p["PayloadUUID"]
print("ok")
"#;
    let output = tokio::task::spawn_blocking(move || {
        run_with_stdin(Command::new("python3").args(["-c", check]), body.as_bytes())
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let (status, _) = get(addr, "/apple/mail.mobileconfig").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
}

#[tokio::test]
async fn autoconfig_over_tls_with_the_imap_certificate() {
    let server = TestServer::start_with(|c| {
        c.autoconfig.listen = vec!["127.0.0.1:0".parse().unwrap()];
        c.autoconfig.tls = true;
        c.autoconfig.imap_host = "localhost".into();
    })
    .await;
    let url = format!(
        "https://localhost:{}/mail/config-v1.1.xml?emailaddress=a@localhost",
        server.autoconfig.unwrap().port()
    );
    let cert = server.cert_path.display().to_string();
    let body = curl(vec!["--cacert".into(), cert, url]).await;
    assert!(body.contains("<hostname>localhost</hostname>"), "{body}");
}

/// A flood of idle connections takes at most 256 slots; past that a
/// connection is closed unanswered, and the listener serves again once
/// the flood goes.
#[tokio::test]
async fn idle_connections_cannot_pile_up() {
    let server = server().await;
    let addr = server.autoconfig.unwrap();
    let mut idle = Vec::new();
    for _ in 0..256 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut extra = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /mail/config-v1.1.xml HTTP/1.1\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = extra.read_to_end(&mut answer).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    drop(idle);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, _) = get(addr, "/mail/config-v1.1.xml").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
}
