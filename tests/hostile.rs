//! Hostile input against the real binary: a table of malformed and
//! adversarial inputs (broken and huge literals, NUL bytes, overlong
//! lines, deep SEARCH nesting, giant sequence sets, invalid modified UTF-7,
//! commands in the wrong state, binary and TLS garbage, half-closed
//! sockets). Each gets the expected answer or a clean disconnect, the
//! session goes on where it should, the server stays up, and its peak
//! memory stays bounded.

mod common;

use std::time::Duration;

use common::Client;
use common::binary::{add_user, free_port, serve, write_config};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "hostile";
/// Peak RSS the whole table may add to the server (it holds 3 messages).
/// One argon2id check (19 MiB) is live during each login.
const MAX_RSS_GROWTH_KIB: u64 = 32 * 1024;

/// The state a case's connection is brought into before its input.
#[derive(Debug, Clone, Copy)]
enum At {
    Greeting,
    LoggedIn,
    Selected,
}

/// The expected answer, to tag `h1` unless untagged.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reply {
    Ok,
    No,
    Bad,
    /// `* BAD`: no tag could be read.
    UntaggedBad,
    /// `h1 BAD` or `* BAD`: both are right (e.g. a tag made of garbage).
    AnyBad,
    /// The server ends the connection (a BYE first is fine).
    Closed,
}

struct Case {
    at: At,
    input: Vec<u8>,
    reply: Reply,
}

/// A case whose input is followed by CRLF.
fn case(at: At, input: impl Into<Vec<u8>>, reply: Reply) -> Case {
    let mut input = input.into();
    input.extend_from_slice(b"\r\n");
    Case { at, input, reply }
}

/// Every case: category tables, each a few lines of generation.
fn table() -> Vec<Case> {
    use At::*;
    use Reply::*;
    let mut t = Vec::new();

    // Malformed syntax, selected state (the lines read as typed).
    for line in [
        "h1 FOO",
        "h1 NOOP extra",
        "h1 SELECT",
        "h1 SELECT INBOX INBOX",
        "h1 SELECT \"INBOX",
        "h1 EXAMINE (INBOX)",
        "h1 CREATE",
        "h1 CREATE a b",
        "h1 RENAME onlyone",
        "h1 RENAME a b c",
        "h1 LIST",
        "h1 LIST \"\"",
        "h1 LSUB \"\"",
        "h1 STATUS INBOX",
        "h1 STATUS INBOX ()",
        "h1 STATUS INBOX (MESSAGES",
        "h1 STATUS INBOX (BOGUS)",
        "h1 APPEND",
        "h1 APPEND INBOX",
        "h1 APPEND INBOX (\\Seen",
        "h1 APPEND INBOX hello",
        "h1 APPEND INBOX \"not a date\" {1+}\r\nx",
        "h1 APPEND INBOX \"31-Foo-2020 00:00:00 +0000\" {1+}\r\nx",
        "h1 LOGIN",
        "h1 AUTHENTICATE",
        "h1 FETCH",
        "h1 FETCH 1",
        "h1 FETCH 0 FLAGS",
        "h1 FETCH 1: FLAGS",
        "h1 FETCH *: FLAGS",
        "h1 FETCH 1,,2 FLAGS",
        "h1 FETCH 1 (FLAGS",
        "h1 FETCH 1 BOGUS",
        "h1 FETCH 1 BODY[1.MIME",
        "h1 FETCH 1 BODY[MIME]",
        "h1 FETCH 1 BODY[HEADER.FIELDS]",
        "h1 FETCH 1 BODY[HEADER.FIELDS ()]",
        "h1 FETCH 1 BODY[0]",
        "h1 FETCH 1 BODY[1.0]",
        "h1 FETCH 1 BODY[]<1>",
        "h1 FETCH 1 BODY[]<1.0>",
        "h1 FETCH 1 BODY[]<4294967296.1>",
        "h1 FETCH 1 (ALL FLAGS)",
        "h1 STORE 1 FLAGS",
        "h1 STORE 1 +FLAGZ (\\Seen)",
        "h1 STORE 1 FLAGS (\\Seen",
        "h1 STORE 1 FLAGS (\\Bogus\\)",
        "h1 STORE 1 (UNCHANGEDSINCE x) FLAGS ()",
        "h1 COPY 1",
        "h1 COPY INBOX",
        "h1 MOVE 1",
        "h1 SEARCH",
        "h1 SEARCH BOGUS",
        "h1 SEARCH (SEEN",
        "h1 SEARCH SEEN)",
        "h1 SEARCH OR SEEN",
        "h1 SEARCH NOT",
        "h1 SEARCH SINCE 32-Jan-2020",
        "h1 SEARCH SINCE 1-Jan-99999",
        "h1 SEARCH LARGER x",
        "h1 SEARCH LARGER 99999999999999999999",
        "h1 SEARCH HEADER Subject",
        "h1 SEARCH CHARSET",
        "h1 SEARCH RETURN (MIN",
        "h1 UID",
        "h1 UID NOOP",
        "h1 UID FETCH",
        "h1 UID EXPUNGE",
        "h1 ID",
        "h1 ID (\"name\")",
        "h1 ENABLE",
        "h1 NAMESPACE x",
        "h1 NOOP ",
        "h1 CREATE \"bad\\q\"",
        "h1 SELECT {3x}",
        "h1 IDLE now",
        "h1 CLOSE 1",
        "h1 EXPUNGE 1",
        "h1 UNSELECT x",
        "h1 SELECT INBOX (CONDSTORE",
        "h1 SELECT INBOX (QRESYNC (0 0))",
        "h1 COMPRESS",
        "h1 GETQUOTAROOT",
        "h1 SETQUOTA \"\" (STORAGE x)",
        "h1 \"NOOP\"",
        "h1 (NOOP)",
        "h1 noop\t",
    ] {
        t.push(case(Selected, line, Bad));
    }
    // No usable tag.
    for line in ["", " ", "h1", "+ NOOP", "h(1 NOOP", "h{1 NOOP", "*"] {
        t.push(case(Selected, line, UntaggedBad));
    }
    // A tag but no command.
    t.push(case(Selected, "h1 ", Bad));
    t.push(case(Selected, "h1  NOOP", Bad));

    // NUL bytes anywhere but inside a literal are refused.
    for line in [
        &b"h1 \0NOOP"[..],
        b"h1 NOOP\0",
        b"h1 CHECK\0",
        b"h1 SELECT \"in\0box\"",
        b"h1 SELECT in\0box",
        b"h1 FETCH 1 (FLAGS\0)",
        b"h1 SEARCH SUBJECT \"a\0b\"",
        b"h1 LIST \"\" \"\0*\"",
        b"h1 STORE 1 +FLAGS (\\Seen\0)",
        b"h1 SEARCH \0",
    ] {
        t.push(case(Selected, line, Bad));
    }
    t.push(case(Selected, &b"\0\0\0\0"[..], AnyBad));
    t.push(case(Selected, &b"h\x001 NOOP"[..], AnyBad));
    t.push(case(Greeting, &b"h1 LOGIN alice\0 x"[..], Bad));
    // Found by fuzzing: a NUL inside a LOGIN literal could not be echoed.
    t.push(case(
        Greeting,
        &b"h1 LOGIN {4}\r\nfred {6+}\r\nse\0\r\n\xff"[..],
        Bad,
    ));
    t.push(case(Selected, &b"h1 SELECT {3+}\r\na\0b"[..], Bad));

    // Broken and huge literal announcements: refused before any octet is
    // buffered, without a continuation request.
    for size in [
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999",
        "1000000000",
        "65537",
    ] {
        t.push(case(Selected, format!("h1 RENAME {{{size}}}"), Bad));
        t.push(case(Selected, format!("h1 SEARCH SUBJECT {{{size}}}"), Bad));
        t.push(case(Greeting, format!("h1 LOGIN {{{size}}}"), Bad));
    }
    for size in ["4294967296", "18446744073709551615", "67108865"] {
        t.push(case(Selected, format!("h1 APPEND INBOX {{{size}}}"), Bad));
    }
    for broken in [
        "{}", "{-1}", "{ 5}", "{5 }", "{5++}", "{+}", "{0x10}", "{5}x", "{5",
    ] {
        t.push(case(Selected, format!("h1 SELECT {broken}"), Bad));
    }
    // A non-synchronizing literal followed by fewer or more octets than it
    // announced: the extra octets are the next (bad) command. Here the 10
    // octets take in "INBOX\r\nzz\r": a name with line breaks, which is
    // no mailbox (NO, like any name that is not modified UTF-7).
    t.push(case(Selected, "h1 SELECT {10+}\r\nINBOX\r\nzz", No));
    t.push(case(Selected, "h1 LOGIN {2+}\r\nabc d", Bad));
    t.push(case(Selected, "h1 SELECT {0+}\r\n", No));
    t.push(case(Selected, "h1 SELECT 5}", No)); // `}` is an atom char
    t.push(case(Greeting, "h1 LOGIN {5+}\r\nalice {7+}\r\nhostile", Ok));
    t.push(case(Greeting, "h1 LOGIN {5+}\r\nalice {3+}\r\nbad", No));
    // APPEND with literal octets that include NUL and 8-bit bytes is mail.
    t.push(case(Selected, &b"h1 APPEND INBOX {4+}\r\na\0b\xff"[..], Ok));
    // An empty message is refused, as Dovecot does.
    t.push(case(Selected, &b"h1 APPEND INBOX {0+}\r\n"[..], No));

    // Overlong lines and many small items.
    for len in [65_537, 100_000, 1 << 20, 8 << 20] {
        t.push(case(
            Selected,
            format!("h1 LIST \"\" \"{}\"", "a".repeat(len)),
            Bad,
        ));
    }
    t.push(case(
        Selected,
        format!("h1 NOOP{}", " ".repeat(200_000)),
        Bad,
    ));
    t.push(case(Selected, format!("h1 {}", "X".repeat(70_000)), Bad));
    t.push(case(Selected, "h".repeat(100_000), UntaggedBad));
    t.push(case(
        Selected,
        format!("h1 FETCH 1 ({})", "FLAGS ".repeat(10_000).trim_end()),
        Ok,
    ));
    let commas: Vec<String> = (1..=9_000).map(|n| n.to_string()).collect();
    t.push(case(
        Selected,
        format!("h1 UID FETCH {} FLAGS", commas.join(",")),
        Ok,
    ));
    t.push(case(
        Selected,
        format!("h1 FETCH {} FLAGS", commas.join(",")),
        Bad,
    ));

    // Deep nesting and long chains in SEARCH.
    for depth in [64, 65, 1_000, 30_000] {
        let reply = if depth <= 64 { Ok } else { Bad };
        let line = format!("h1 SEARCH {}ALL{}", "(".repeat(depth), ")".repeat(depth));
        t.push(case(Selected, line, reply));
        t.push(case(
            Selected,
            format!("h1 SEARCH {}ALL", "NOT ".repeat(depth)),
            reply,
        ));
        t.push(case(
            Selected,
            format!("h1 SEARCH {}ALL ALL", "OR ALL ".repeat(depth)),
            reply,
        ));
    }
    t.push(case(
        Selected,
        format!("h1 SEARCH {}", "(".repeat(50_000)),
        Bad,
    ));
    t.push(case(
        Selected,
        format!("h1 SEARCH {}", ")".repeat(50_000)),
        Bad,
    ));
    t.push(case(
        Selected,
        format!("h1 SEARCH {}", "ALL ".repeat(15_000).trim_end()),
        Ok,
    ));

    // Giant sequence sets: answered, never expanded in memory.
    for line in [
        "h1 UID FETCH 1:4294967295 FLAGS",
        "h1 UID FETCH 4294967295:1 FLAGS",
        "h1 UID FETCH 4294967295 FLAGS",
        "h1 UID STORE 1:4294967295 +FLAGS.SILENT (x)",
        "h1 UID SEARCH UID 1:4294967295",
        "h1 SEARCH 1:4294967295",
        "h1 UID FETCH 1:*,1:*,1:*,1:*,2:4294967295 UID",
        "h1 UID COPY 10:4294967295 INBOX",
        "h1 FETCH *:* FLAGS",
        "h1 UID EXPUNGE 100:4294967295",
    ] {
        t.push(case(Selected, line, Ok));
    }
    // Message numbers past the mailbox are invalid (Dovecot: BAD too).
    for line in [
        "h1 FETCH 1:4294967295 FLAGS",
        "h1 FETCH 4294967296 FLAGS",
        "h1 UID FETCH 1:4294967296 FLAGS",
        "h1 UID FETCH 99999999999999999999 FLAGS",
        "h1 FETCH 0:5 FLAGS",
        "h1 UID FETCH -1 FLAGS",
        "h1 FETCH 1:2:3 FLAGS",
        "h1 SEARCH UID 0",
    ] {
        t.push(case(Selected, line, Bad));
    }

    // Invalid modified UTF-7 (RFC 3501 §5.1.3) in names: no such mailbox
    // (NO, as Dovecot; clients take BAD for a protocol failure), and a
    // pattern that matches nothing.
    for name in [
        "&",
        "&Jjo",
        "&Jjo!",
        "&AGE-",
        "&2D0-",
        "&3AA-",
        "&ZeVnLIqe",
        "a&-&",
        "&-&",
        "&U,BTF2XlZyyKng",
        "&////-",
        "&ANw",
        "x&A-",
    ] {
        t.push(case(LoggedIn, format!("h1 CREATE \"{name}\""), No));
        t.push(case(LoggedIn, format!("h1 SELECT \"{name}\""), No));
        t.push(case(
            LoggedIn,
            format!("h1 STATUS \"{name}\" (MESSAGES)"),
            No,
        ));
        t.push(case(LoggedIn, format!("h1 LIST \"\" \"{name}\""), Ok));
        t.push(case(LoggedIn, format!("h1 LSUB \"{name}\" \"*\""), Ok));
    }
    t.push(case(LoggedIn, "h1 CREATE \"caf\u{e9}\"", No));
    // Valid modified UTF-7 for a control character: a name nobody may use.
    t.push(case(LoggedIn, "h1 CREATE \"&AAA-\"", No));
    t.push(case(LoggedIn, "h1 CREATE \"a&AAo-b\"", No));

    // Commands in the wrong state.
    for line in [
        "h1 SELECT INBOX",
        "h1 EXAMINE INBOX",
        "h1 LIST \"\" *",
        "h1 STATUS INBOX (MESSAGES)",
        "h1 APPEND INBOX {1+}\r\nx",
        "h1 IDLE",
        "h1 FETCH 1 FLAGS",
        "h1 UID FETCH 1 FLAGS",
        "h1 STORE 1 +FLAGS (\\Seen)",
        "h1 EXPUNGE",
        "h1 CLOSE",
        "h1 NAMESPACE",
        "h1 CREATE x",
        "h1 GETQUOTAROOT INBOX",
        "h1 COMPRESS DEFLATE",
    ] {
        t.push(case(Greeting, line, Bad));
    }
    for line in [
        "h1 FETCH 1 FLAGS",
        "h1 UID FETCH 1:* FLAGS",
        "h1 STORE 1 +FLAGS (\\Seen)",
        "h1 SEARCH ALL",
        "h1 COPY 1 INBOX",
        "h1 MOVE 1 INBOX",
        "h1 EXPUNGE",
        "h1 UID EXPUNGE 1",
        "h1 CLOSE",
        "h1 UNSELECT",
        "h1 CHECK",
        "h1 LOGIN alice hostile",
        "h1 AUTHENTICATE PLAIN",
        "h1 STARTTLS",
    ] {
        t.push(case(LoggedIn, line, Bad));
    }

    // Binary garbage lines, seeded, with and without a plausible tag.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6c62);
    for n in 0..20 {
        let len = rng.gen_range(1..4_000);
        let mut line: Vec<u8> = (0..len).map(|_| rng.r#gen::<u8>()).collect();
        line.retain(|&b| b != b'\n' && b != b'{' && b != b'}');
        if n % 2 == 0 {
            line.splice(0..0, b"h1 ".iter().copied());
        }
        t.push(case(Selected, line, if n % 2 == 0 { Bad } else { AnyBad }));
    }

    // Ends of the connection: TLS on the STARTTLS port, half-closed sockets.
    t.push(Case {
        at: Greeting,
        input: tls_client_hello(),
        reply: Closed,
    });
    t.push(case(
        Greeting,
        "h1 STARTTLS\r\nGET / HTTP/1.1\r\n\r\n",
        Closed,
    ));
    t.push(case(Selected, "h1 LOGOUT", Closed));
    t
}

/// The start of a TLS 1.2 ClientHello, as a client that skipped STARTTLS
/// sends: no line end within it.
fn tls_client_hello() -> Vec<u8> {
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    hello.extend(
        (0..600)
            .map(|i| (i * 7 % 251) as u8)
            .filter(|&b| b != b'\n'),
    );
    hello
}

struct Server {
    child: std::process::Child,
    imap: std::net::SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(dir: &std::path::Path) -> Server {
        let imap = free_port();
        let extra = format!(
            "[imap]\nlisten = [\"127.0.0.1:{imap}\"]\n[auth]\nallow_plaintext = true\n\
             failure_delay_ms = 0\nmax_failures = 100000\n"
        );
        let config = write_config(dir, "letterbox.toml", &extra);
        add_user(&config, "alice", PASSWORD);
        let child = serve(&config, imap).await;
        Server {
            child,
            imap: format!("127.0.0.1:{imap}").parse().unwrap(),
        }
    }

    /// A `VmRSS`/`VmHWM` line of the server's /proc status, in KiB.
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with(field))
            .unwrap_or_else(|| panic!("{field} in {status}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    async fn client(&self, at: At) -> Client {
        let mut client = Client::plain(self.imap).await;
        if !matches!(at, At::Greeting) {
            client.ok(&format!("LOGIN alice {PASSWORD}")).await;
        }
        if matches!(at, At::Selected) {
            client.ok("SELECT INBOX").await;
        }
        client
    }
}

#[tokio::test]
async fn hostile_inputs_get_the_right_answer_and_memory_stays_bounded() {
    let table = table();
    assert!(table.len() >= 200, "{} cases", table.len());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let mut setup = server.client(At::LoggedIn).await;
    for n in 0..3 {
        let message = format!("Subject: {n}\r\n\r\nbody {n}\r\n");
        setup
            .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
            .await;
    }
    let baseline = server.memory_kib("VmRSS:");

    let mut failures = Vec::new();
    for (i, case) in table.iter().enumerate() {
        let shown = String::from_utf8_lossy(&case.input[..case.input.len().min(60)]).into_owned();
        let mut client = server.client(case.at).await;
        client.send(&case.input).await;
        if case.reply == Reply::Closed {
            if !client.closed().await {
                failures.push(format!("#{i} {shown:?}: connection not closed"));
            }
            continue;
        }
        let Ok(reply) = tokio::time::timeout(Duration::from_secs(5), reply_line(&mut client)).await
        else {
            failures.push(format!("#{i} {shown:?}: no answer"));
            continue;
        };
        let wanted = match case.reply {
            Reply::Ok => reply.starts_with("h1 OK"),
            Reply::No => reply.starts_with("h1 NO"),
            Reply::Bad => reply.starts_with("h1 BAD"),
            Reply::UntaggedBad => reply.starts_with("* BAD"),
            Reply::AnyBad => reply.starts_with("h1 BAD") || reply.starts_with("* BAD"),
            Reply::Closed => unreachable!(),
        };
        if !wanted {
            failures.push(format!(
                "#{i} {shown:?}: wanted {:?}, got {reply:?}",
                case.reply
            ));
        }
        // The session is still in sync: the next command is answered.
        let Ok(probe) = tokio::time::timeout(Duration::from_secs(5), client.command("NOOP")).await
        else {
            failures.push(format!("#{i} {shown:?}: NOOP after it not answered"));
            continue;
        };
        if !probe.last().unwrap().ends_with("OK NOOP completed") {
            failures.push(format!("#{i} {shown:?}: then {probe:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    half_closed_sockets(server.imap).await;

    // Still serving, and the table did not make it hold on to memory.
    server
        .client(At::Selected)
        .await
        .ok("FETCH 1:* FLAGS")
        .await;
    let peak = server.memory_kib("VmHWM:");
    let now = server.memory_kib("VmRSS:");
    println!(
        "{} cases: RSS {baseline} KiB before, {now} KiB after, peak {peak} KiB",
        table.len()
    );
    assert!(
        peak.saturating_sub(baseline) < MAX_RSS_GROWTH_KIB,
        "peak RSS grew from {baseline} to {peak} KiB"
    );
}

/// The first line answering the case: its tagged reply or an untagged BAD
/// (continuation requests and data lines before it are skipped).
async fn reply_line(client: &mut Client) -> String {
    loop {
        let line = client.line().await;
        if line.starts_with("h1 ") || line.starts_with("* BAD") {
            return line;
        }
    }
}

/// A client that stops sending mid-command, or right after a command,
/// gets its answer (if the command was whole) and a closed connection.
async fn half_closed_sockets(addr: std::net::SocketAddr) {
    for (input, answered) in [
        (&b"h1 NOOP\r\n"[..], true),
        (b"h1 NOO", false),
        (b"h1 LOGIN {5}\r\n", false),
        (b"h1 LOGIN {5+}\r\nal", false),
        (b"", false),
    ] {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(input).await.unwrap();
        tcp.shutdown().await.unwrap();
        let mut received = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut received))
            .await
            .expect("server closes a half-closed connection")
            .unwrap();
        let text = String::from_utf8_lossy(&received);
        assert!(text.starts_with("* OK"), "{text}");
        assert_eq!(text.contains("h1 OK"), answered, "{input:?}: {text}");
    }
}
