//! Connection-level behaviour over real sockets: greeting, capabilities,
//! STARTTLS, LOGIN, AUTHENTICATE PLAIN, states, LOGOUT, timeouts, shutdown.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use tokio::io::AsyncWriteExt;

fn plain_response(authzid: &str, user: &str, password: &str) -> String {
    STANDARD.encode(format!("{authzid}\0{user}\0{password}"))
}

#[tokio::test]
async fn plaintext_port_offers_starttls_and_refuses_login() {
    let server = TestServer::start().await;
    let mut client = server.plain().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(caps[0].contains(" STARTTLS"), "{caps:?}");
    assert!(caps[0].contains(" LOGINDISABLED"), "{caps:?}");
    assert!(!caps[0].contains("AUTH=PLAIN"), "{caps:?}");
    let refused = client.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(refused.starts_with("NO [PRIVACYREQUIRED]"), "{refused}");
    let refused = client
        .status(&format!(
            "AUTHENTICATE PLAIN {}",
            plain_response("", USER, PASSWORD)
        ))
        .await;
    assert!(refused.starts_with("NO [PRIVACYREQUIRED]"), "{refused}");
    // The session is still usable.
    client.ok("NOOP").await;
}

#[tokio::test]
async fn starttls_upgrades_and_discards_injected_commands() {
    let server = TestServer::start().await;
    let mut client = server.plain().await;
    // A man in the middle appends a command after STARTTLS in the same packet.
    client
        .send(b"s1 STARTTLS\r\ninjected LOGIN alice \"secret pass\"\r\n")
        .await;
    assert_eq!(client.line().await, "s1 OK Begin TLS negotiation now");
    let mut client = client.start_tls(&server.cert_path).await;
    // The first thing we read over TLS is the answer to our own command:
    // nothing was executed for the injected line.
    let caps = client.ok("CAPABILITY").await;
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert!(caps[0].contains("AUTH=PLAIN"), "{caps:?}");
    assert!(!caps[0].contains("STARTTLS") && !caps[0].contains("LOGINDISABLED"));
    let again = client.status("STARTTLS").await;
    assert!(again.starts_with("BAD"), "{again}");
    let login = client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(login[0].contains("OK [CAPABILITY IMAP4rev1"), "{login:?}");
}

#[tokio::test]
async fn implicit_tls_login_carries_capabilities() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    let caps = client.ok("CAPABILITY").await;
    assert!(
        caps[0].contains("AUTH=PLAIN") && !caps[0].contains("STARTTLS"),
        "{caps:?}"
    );
    let login = client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    let tagged = login.last().unwrap();
    assert!(tagged.contains("[CAPABILITY IMAP4rev1"), "{tagged}");
    assert!(
        !tagged.contains("AUTH=PLAIN"),
        "post-login capabilities: {tagged}"
    );
    let again = client.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(again.starts_with("BAD"), "{again}");
}

#[tokio::test]
async fn login_with_literals_and_wrong_passwords() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    let wrong = client.status(&format!("LOGIN {USER} wrong")).await;
    assert_eq!(wrong, "NO [AUTHENTICATIONFAILED] Authentication failed");
    let unknown = client.status("LOGIN nobody wrong").await;
    assert_eq!(unknown, wrong, "same answer whether or not the user exists");
    client
        .send(format!("l1 LOGIN {{{}}}\r\n", USER.len()).as_bytes())
        .await;
    assert!(client.line().await.starts_with("+ "));
    client
        .send(format!("{USER} {{{}+}}\r\n{PASSWORD}\r\n", PASSWORD.len()).as_bytes())
        .await;
    let lines = client.until_tagged("l1").await;
    assert!(lines.last().unwrap().starts_with("l1 OK"), "{lines:?}");
}

#[tokio::test]
async fn authenticate_plain_all_forms() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    // SASL-IR with a wrong password, then cancelled, then malformed base64.
    let failed = client
        .status(&format!(
            "AUTHENTICATE PLAIN {}",
            plain_response("", USER, "nope")
        ))
        .await;
    assert!(failed.starts_with("NO [AUTHENTICATIONFAILED]"), "{failed}");
    client.send(b"a1 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(client.line().await, "+ ");
    client.send(b"*\r\n").await;
    assert!(client.line().await.starts_with("a1 BAD"));
    client.send(b"a2 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(client.line().await, "+ ");
    client.send(b"!!!\r\n").await;
    assert!(client.line().await.starts_with("a2 BAD"));
    let other = client
        .status(&format!(
            "AUTHENTICATE PLAIN {}",
            plain_response("bob", USER, PASSWORD)
        ))
        .await;
    assert!(other.starts_with("NO [AUTHORIZATIONFAILED]"), "{other}");
    let mech = client.status("AUTHENTICATE CRAM-MD5").await;
    assert!(mech.starts_with("NO"), "{mech}");
    // Continuation form succeeds.
    client.send(b"a3 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(client.line().await, "+ ");
    client
        .send(format!("{}\r\n", plain_response(USER, USER, PASSWORD)).as_bytes())
        .await;
    let ok = client.line().await;
    assert!(ok.starts_with("a3 OK [CAPABILITY IMAP4rev1"), "{ok}");
    client.ok("SELECT INBOX").await;
}

#[tokio::test]
async fn authenticate_plain_with_initial_response() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    client
        .ok(&format!(
            "AUTHENTICATE PLAIN {}",
            plain_response("", USER, PASSWORD)
        ))
        .await;
    client.ok("LIST \"\" INBOX").await;
}

#[tokio::test]
async fn commands_in_the_wrong_state_get_bad_and_the_session_continues() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    for command in [
        "SELECT INBOX",
        "LIST \"\" *",
        "CLOSE",
        "EXPUNGE",
        "CREATE x",
        "APPEND INBOX {0+}\r\n",
    ] {
        let status = client.status(command).await;
        assert!(status.starts_with("BAD"), "{command}: {status}");
    }
    client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    for command in ["CLOSE", "EXPUNGE", "UNSELECT", "CHECK", "FETCH 1 FLAGS"] {
        let status = client.status(command).await;
        assert!(status.starts_with("BAD"), "{command}: {status}");
    }
    for command in ["STARTTLS", "AUTHENTICATE PLAIN"] {
        let status = client.status(command).await;
        assert!(status.starts_with("BAD"), "{command}: {status}");
    }
    client.ok("NOOP").await;
}

#[tokio::test]
async fn any_state_commands() {
    let server = TestServer::start().await;
    let mut client = server.tls().await;
    let id = client.ok("ID (\"name\" \"test\")").await;
    assert!(id[0].starts_with("* ID (\"name\" \"letterbox\""), "{id:?}");
    client.ok("ID NIL").await;
    client.ok("NOOP").await;
    let logout = client.ok("LOGOUT").await;
    assert_eq!(logout[0], "* BYE Logging out");
    assert!(client.closed().await);

    let mut client = server.logged_in().await;
    let namespace = client.ok("NAMESPACE").await;
    // Other users' and team mailboxes have their namespaces (RFC 2342).
    assert_eq!(
        namespace[0],
        "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared/\" \"/\"))"
    );
    let enable = client.ok("ENABLE CONDSTORE X-NONE").await;
    assert_eq!(enable[0], "* ENABLED CONDSTORE");
}

#[tokio::test]
async fn preauth_autologout_says_bye() {
    let server = TestServer::start_with(|c| c.limits.preauth_timeout_secs = 1).await;
    let mut client = server.plain().await;
    // A byte at a time does not keep an unauthenticated client alive.
    client.send(b"a").await;
    assert_eq!(client.line().await, "* BYE Autologout; idle for too long");
    assert!(client.closed().await);
}

/// RFC 3501 §5.4: a logged-in client gets at least 30 minutes. Tokio's
/// paused clock makes the half hour instant and exact.
#[tokio::test]
async fn logged_in_autologout_comes_after_the_auth_timeout_not_before() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(29 * 60)).await;
    client.ok("NOOP").await;
    tokio::time::advance(Duration::from_secs(29 * 60)).await;
    client.ok("NOOP").await;
    tokio::time::advance(Duration::from_secs(30 * 60 + 1)).await;
    assert_eq!(client.line().await, "* BYE Autologout; idle for too long");
    assert!(client.closed().await);
}

#[tokio::test]
async fn shutdown_says_bye_to_every_session() {
    let mut server = TestServer::start().await;
    let mut first = server.plain().await;
    let mut second = server.logged_in().await;
    server.shutdown().await;
    assert_eq!(first.line().await, "* BYE Server shutting down");
    assert_eq!(second.line().await, "* BYE Server shutting down");
}

#[tokio::test]
async fn tls_garbage_on_the_implicit_port_does_not_hurt_others() {
    let server = TestServer::start().await;
    let mut garbage = tokio::net::TcpStream::connect(server.imaps).await.unwrap();
    garbage.write_all(b"A001 LOGIN not tls\r\n").await.unwrap();
    let mut client = server.logged_in().await;
    client.ok("NOOP").await;
}

#[tokio::test]
async fn connection_limit_per_ip_says_bye() {
    let server = TestServer::start_with(|c| c.limits.max_connections_per_ip = 1).await;
    let _first = server.plain().await;
    let mut second =
        tokio::io::BufReader::new(tokio::net::TcpStream::connect(server.imap).await.unwrap());
    let mut line = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut second, &mut line)
        .await
        .unwrap();
    assert_eq!(line, "* BYE Too many connections\r\n");
}

#[tokio::test]
async fn failed_logins_are_delayed_and_locked_out() {
    let server = TestServer::start_with(|c| {
        c.auth.failure_delay_ms = 50;
        c.auth.max_failures = 3;
    })
    .await;
    let mut client = server.tls().await;
    let started = std::time::Instant::now();
    let wrong = client.status(&format!("LOGIN {USER} wrong")).await;
    assert_eq!(wrong, "NO [AUTHENTICATIONFAILED] Authentication failed");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
    client.status(&format!("LOGIN {USER} wrong")).await;
    client.status("LOGIN nobody wrong").await;
    // Locked out now: the right password gets the very same answer.
    let locked = client.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert_eq!(locked, wrong);
    let other = server.tls().await;
    drop(other);
    assert_eq!(
        client
            .status(&format!(
                "AUTHENTICATE PLAIN {}",
                plain_response("", USER, PASSWORD)
            ))
            .await,
        wrong
    );
}

#[tokio::test]
async fn sessions_per_user_are_limited() {
    let server = TestServer::start_with(|c| c.limits.max_connections_per_user = 2).await;
    let mut first = server.logged_in().await;
    let _second = server.logged_in().await;
    let mut third = server.tls().await;
    let refused = third.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(refused.starts_with("NO [LIMIT]"), "{refused}");
    first.ok("LOGOUT").await;
    assert!(first.closed().await);
    // The slot comes back when the session ends.
    let mut retry = None;
    for _ in 0..50 {
        let status = third.status(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        if status.starts_with("OK") {
            retry = Some(status);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(retry.is_some(), "a slot is free again after LOGOUT");
}

#[tokio::test]
async fn listener_access_lists() {
    let server = TestServer::start_with(|c| {
        c.imap.deny = vec!["127.0.0.0/8".parse().unwrap()];
        c.imaps.allow = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let mut denied =
        tokio::io::BufReader::new(tokio::net::TcpStream::connect(server.imap).await.unwrap());
    let mut line = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut denied, &mut line)
        .await
        .unwrap();
    assert_eq!(line, "* BYE Access denied\r\n");
    let mut allowed = server.logged_in().await;
    allowed.ok("NOOP").await;
}

/// A wrong password for an existing user and any password for a user that
/// does not exist cost the same (the server checks a dummy hash), so the
/// answer time does not reveal which accounts exist.
#[tokio::test]
async fn unknown_users_take_as_long_as_wrong_passwords() {
    let server = TestServer::start_with(|c| c.auth.max_failures = 1000).await;
    let mut client = server.tls().await;
    // The two kinds of attempt alternate, so that load from the tests
    // running beside this one falls on both alike.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..7 {
        let order = match round % 2 {
            0 => [USER, "nobody-here"],
            _ => ["nobody-here", USER],
        };
        for user in order {
            let started = std::time::Instant::now();
            let status = client.status(&format!("LOGIN {user} wrong")).await;
            assert!(status.starts_with("NO [AUTHENTICATIONFAILED]"));
            let samples = if user == USER {
                &mut known
            } else {
                &mut unknown
            };
            samples.push(started.elapsed());
        }
    }
    let median = |mut samples: Vec<std::time::Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (known, unknown) = (median(known), median(unknown));
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    eprintln!("median failed login: existing user {known:?}, unknown user {unknown:?}");
    assert!((0.5..2.0).contains(&ratio), "{known:?} vs {unknown:?}");
}

/// Issue: a 40-person office behind one NAT address needs hundreds of
/// connections from it. With the default limits, 60 users with 5 logged-in
/// connections each, all from 127.0.0.1, are all served.
#[tokio::test]
async fn an_office_behind_one_address_is_served_with_the_default_limits() {
    let server = TestServer::start_with(|c| c.auth.allow_plaintext = true).await;
    // One hash for every user: the check is what is measured, not argon2.
    let hash = letterbox::auth::hash_password("office pass");
    let mut sessions = Vec::new();
    for user in 0..60 {
        let name = format!("staff{user}");
        blocking(|| server.store.create_user(&name, &hash).unwrap());
        for _ in 0..5 {
            let mut client = server.plain().await;
            client.ok(&format!("LOGIN {name} \"office pass\"")).await;
            sessions.push(client);
        }
    }
    for client in &mut sessions {
        client.ok("NOOP").await;
    }
    assert_eq!(sessions.len(), 300);
}

/// A flood of connections that never log in is cut at the per-address
/// limit of strangers (default 50) with `* BYE`; sessions already logged
/// in from that address go on, and once the flood is gone a new login
/// works.
#[tokio::test]
async fn a_flood_of_strangers_from_one_address_is_cut_and_logged_in_users_go_on() {
    let server = TestServer::start_with(|c| c.auth.allow_plaintext = true).await;
    let mut member = server.plain().await;
    member.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    let mut flood = Vec::new();
    let (mut greeted, mut refused) = (0, 0);
    for _ in 0..200 {
        let mut stranger = Client::over(Box::new(
            tokio::net::TcpStream::connect(server.imap).await.unwrap(),
        ));
        let first = stranger.line().await;
        if first.starts_with("* OK") {
            greeted += 1;
        } else {
            assert_eq!(first, "* BYE Too many connections");
            assert!(stranger.closed().await);
            refused += 1;
        }
        flood.push(stranger);
    }
    assert_eq!((greeted, refused), (50, 150));
    member.ok("NOOP").await;
    member.ok("SELECT INBOX").await;
    drop(flood);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut client = Client::over(Box::new(
            tokio::net::TcpStream::connect(server.imap).await.unwrap(),
        ));
        if client.line().await.starts_with("* OK") {
            client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slots come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Per user and address (default 20, as Dovecot's order of magnitude):
/// the 21st login of one user from one address is refused with
/// `NO [LIMIT]`, the same user from another address is not.
#[tokio::test]
async fn sessions_per_user_and_address_are_limited() {
    let server = TestServer::start_with(|c| c.auth.allow_plaintext = true).await;
    let mut sessions = Vec::new();
    for _ in 0..20 {
        let mut client = server.plain().await;
        client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        sessions.push(client);
    }
    let mut one_more = server.plain().await;
    let reply = one_more
        .status(&format!("LOGIN {USER} \"{PASSWORD}\""))
        .await;
    assert!(reply.starts_with("NO [LIMIT]"), "{reply}");
    let mut other_address = client_from(&server, "127.0.0.2").await;
    other_address
        .ok(&format!("LOGIN {USER} \"{PASSWORD}\""))
        .await;
}

async fn client_from(server: &TestServer, source: &str) -> Client {
    Client::plain_from(server.imap, source).await
}

/// Issue 17's measured defect: 12 wrong passwords for alice from one
/// address locked alice out everywhere. Now only that address is locked;
/// alice's right password from any other address works at once.
#[tokio::test]
async fn wrong_passwords_lock_the_address_never_the_user() {
    // No delays (the harness default), so the test measures who is let in.
    let server = TestServer::start_with(|c| c.auth.allow_plaintext = true).await;
    let mut attacker = client_from(&server, "127.0.0.3").await;
    for _ in 0..12 {
        let reply = attacker.status(&format!("LOGIN {USER} wrong")).await;
        assert_eq!(reply, "NO [AUTHENTICATIONFAILED] Authentication failed");
    }
    for source in ["127.0.0.4", "127.0.0.5"] {
        let mut alice = client_from(&server, source).await;
        let started = std::time::Instant::now();
        alice.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        assert!(started.elapsed() < Duration::from_secs(2), "at once");
    }
    let mut attacker = client_from(&server, "127.0.0.3").await;
    let reply = attacker
        .status(&format!("LOGIN {USER} \"{PASSWORD}\""))
        .await;
    assert_eq!(
        reply, "NO [AUTHENTICATIONFAILED] Authentication failed",
        "the attacking address stays locked, right password or not"
    );
    let metrics = server.ctx.render_metrics();
    assert!(
        metrics.contains("\nletterbox_auth_locked_addresses 1\n"),
        "{metrics}"
    );
}

/// A distributed attack, 10 addresses x 5 failures against one user,
/// leaves the user able to log in from an eleventh address.
#[tokio::test]
async fn a_distributed_attack_does_not_lock_the_user_out() {
    // No delays (the harness default), so the test measures who is let in.
    let server = TestServer::start_with(|c| c.auth.allow_plaintext = true).await;
    for host in 10..20 {
        let mut attacker = client_from(&server, &format!("127.0.0.{host}")).await;
        for _ in 0..5 {
            let reply = attacker.status(&format!("LOGIN {USER} wrong")).await;
            assert!(reply.starts_with("NO [AUTHENTICATIONFAILED]"), "{reply}");
        }
    }
    let mut alice = client_from(&server, "127.0.0.30").await;
    alice.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
}
