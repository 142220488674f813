//! BINARY (RFC 3516): FETCH BINARY[], BINARY.PEEK[], BINARY.SIZE[] and
//! APPEND of a literal8, byte for byte over a real socket.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;

/// Every octet value three times: NULs, CR and LF alone, 8-bit.
fn octets() -> Vec<u8> {
    (0..=255u8).cycle().take(768).collect()
}

/// A message whose parts are base64 (the octets), quoted-printable (UTF-8
/// text with soft breaks) and 7bit.
fn message() -> String {
    let wrapped: Vec<String> = STANDARD
        .encode(octets())
        .as_bytes()
        .chunks(76)
        .map(|line| String::from_utf8(line.to_vec()).unwrap())
        .collect();
    [
        "From: ann@example.com\r\n",
        "Subject: binary\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=\"XX\"\r\n",
        "\r\n",
        "--XX\r\n",
        "Content-Type: application/octet-stream\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        &wrapped.join("\r\n"),
        "\r\n--XX\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: Quoted-Printable\r\n",
        "\r\n",
        "Caf=C3=A9 cr=\r\n",
        "=C3=A8me 100=3D  \r\n",
        "fin\r\n",
        "--XX\r\n",
        "Content-Type: text/plain\r\n",
        "Content-Transfer-Encoding: x-uuencode\r\n",
        "\r\n",
        "begin 644 x\r\n",
        "--XX--\r\n",
    ]
    .concat()
}

const QP_DECODED: &str = "Café crème 100=\r\nfin";

async fn with_message(server: &TestServer) -> Client {
    let mut client = server.logged_in().await;
    let message = message();
    client
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
        .await;
    client.ok("SELECT INBOX").await;
    client
}

/// Sends a command and returns its first response line as raw octets
/// (literals included) after checking that the command succeeded.
async fn raw_fetch(client: &mut Client, command: &str) -> Vec<u8> {
    client.send(format!("b1 {command}\r\n").as_bytes()).await;
    let first = client.raw_line().await;
    let tagged = client.line().await;
    assert!(tagged.starts_with("b1 OK"), "{command} -> {tagged}");
    first
}

fn framed(prefix: &str, literal_open: &str, data: &[u8]) -> Vec<u8> {
    let mut expected = format!("{prefix}{literal_open}{}}}\r\n", data.len()).into_bytes();
    expected.extend_from_slice(data);
    expected.push(b')');
    expected
}

#[tokio::test]
async fn base64_part_decodes_byte_exact_as_literal8() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let line = raw_fetch(&mut client, "FETCH 1 BINARY.PEEK[1]").await;
    // NULs inside: only a literal8 can carry them.
    assert_eq!(line, framed("* 1 FETCH (BINARY[1] ", "~{", &octets()));
    let size = client.ok("FETCH 1 BINARY.SIZE[1]").await;
    assert_eq!(size[0], "* 1 FETCH (BINARY.SIZE[1] 768)");
    // <origin.count> counts decoded octets.
    let line = raw_fetch(&mut client, "FETCH 1 BINARY.PEEK[1]<250.10>").await;
    let window: Vec<u8> = (250..=255).chain(0..4).collect();
    assert_eq!(line, framed("* 1 FETCH (BINARY[1]<250> ", "~{", &window));
    let line = raw_fetch(&mut client, "FETCH 1 BINARY.PEEK[1]<1.5>").await;
    assert_eq!(
        line,
        framed("* 1 FETCH (BINARY[1]<1> ", "{", &[1, 2, 3, 4, 5])
    );
}

#[tokio::test]
async fn quoted_printable_part_decodes_byte_exact() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let line = raw_fetch(&mut client, "FETCH 1 BINARY.PEEK[2]").await;
    // No NUL: a plain literal (RFC 3516 §4.3).
    assert_eq!(
        line,
        framed("* 1 FETCH (BINARY[2] ", "{", QP_DECODED.as_bytes())
    );
    let size = client.ok("UID FETCH 1 (BINARY.SIZE[2])").await;
    assert_eq!(
        size[0],
        format!("* 1 FETCH (UID 1 BINARY.SIZE[2] {})", QP_DECODED.len())
    );
}

#[tokio::test]
async fn whole_message_keeps_its_structure() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    // The undecodable third part fails the whole message...
    let status = client.status("FETCH 1 BINARY.PEEK[]").await;
    assert!(status.starts_with("NO [UNKNOWN-CTE]"), "{status}");
    // ... and only that part when asked alone; the session goes on.
    let status = client.status("FETCH 1 BINARY.SIZE[3]").await;
    assert!(status.starts_with("NO [UNKNOWN-CTE]"), "{status}");
    // The embedded rfc822 case and the rest are covered by unit tests; a
    // message without the broken part decodes as a whole.
    let plain = "Subject: s\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n";
    client
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{plain}", plain.len()))
        .await;
    client.ok("NOOP").await;
    let line = raw_fetch(&mut client, "FETCH 2 BINARY.PEEK[]").await;
    let expected = b"Subject: s\r\nContent-Transfer-Encoding: binary\r\n\r\nhello";
    assert_eq!(line, framed("* 2 FETCH (BINARY[] ", "{", expected));
    let size = client.ok("FETCH 2 BINARY.SIZE[]").await;
    assert_eq!(
        size[0],
        format!("* 2 FETCH (BINARY.SIZE[] {})", expected.len())
    );
}

#[tokio::test]
async fn missing_parts_are_empty_and_bad_sections_are_bad() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    let lines = client.ok("FETCH 1 (BINARY.PEEK[9] BINARY.SIZE[9])").await;
    assert_eq!(lines[0], "* 1 FETCH (BINARY[9] {0}\r\n BINARY.SIZE[9] 0)");
    for bad in [
        "FETCH 1 BINARY[HEADER]",
        "FETCH 1 BINARY[1.MIME]",
        "FETCH 1 BINARY.SIZE[1]<0.5>",
        "FETCH 1 BINARY[1]<0.0>",
    ] {
        let status = client.status(bad).await;
        assert!(status.starts_with("BAD"), "{bad} -> {status}");
    }
    client.ok("NOOP").await;
}

#[tokio::test]
async fn binary_sets_seen_and_peek_does_not() {
    let server = TestServer::start().await;
    let mut client = with_message(&server).await;
    raw_fetch(&mut client, "FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[1])").await;
    let flags = client.ok("FETCH 1 FLAGS").await;
    assert_eq!(flags[0], "* 1 FETCH (FLAGS (\\Recent))");
    let line = raw_fetch(&mut client, "FETCH 1 BINARY[2]").await;
    let mut expected = framed("* 1 FETCH (BINARY[2] ", "{", QP_DECODED.as_bytes());
    expected.pop();
    expected.extend_from_slice(b" FLAGS (\\Seen \\Recent))");
    assert_eq!(line, expected);
}

#[tokio::test]
async fn append_of_a_literal8_keeps_every_octet() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(caps[0].split(' ').any(|c| c == "BINARY"), "{caps:?}");
    let mut message = b"Subject: nul\r\nContent-Transfer-Encoding: binary\r\n\r\n".to_vec();
    message.extend_from_slice(&octets());
    let mut command = format!("a1 APPEND INBOX ~{{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(&message);
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let tagged = client.line().await;
    assert!(tagged.starts_with("a1 OK [APPENDUID "), "{tagged}");
    // Synchronising form: the server asks for the octets first.
    let mut command = format!("a2 APPEND INBOX ~{{{}}}\r\n", message.len()).into_bytes();
    client.send(&command).await;
    let go_ahead = client.line().await;
    assert!(go_ahead.starts_with("+ "), "{go_ahead}");
    command.clear();
    command.extend_from_slice(&message);
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let tagged = client.line().await;
    assert!(tagged.starts_with("a2 OK [APPENDUID "), "{tagged}");

    client.ok("SELECT INBOX").await;
    for seq in [1, 2] {
        // BINARY[] gives the stored octets back, NULs and all.
        let line = raw_fetch(&mut client, &format!("FETCH {seq} BINARY.PEEK[]")).await;
        assert_eq!(
            line,
            framed(&format!("* {seq} FETCH (BINARY[] "), "~{", &message)
        );
        let line = raw_fetch(&mut client, &format!("FETCH {seq} BINARY.PEEK[1]")).await;
        assert_eq!(
            line,
            framed(&format!("* {seq} FETCH (BINARY[1] "), "~{", &octets())
        );
        let size = client.ok(&format!("FETCH {seq} RFC822.SIZE")).await;
        assert_eq!(
            size[0],
            format!("* {seq} FETCH (RFC822.SIZE {})", message.len())
        );
    }
}
