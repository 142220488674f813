//! Sieve at delivery over real LMTP (Python's smtplib.LMTP): scripts
//! that file (creating folders), flag, discard and reject; scripts that
//! fail at run time or no longer compile never lose the message; the
//! `letterbox sieve` CLI refuses what does not compile and dry-runs.

mod common;

use std::process::Command;

use common::*;
use letterbox::config::LmtpListen;

async fn lmtp_server() -> TestServer {
    TestServer::start_with(|c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.delivery.domains = vec!["example.com".into()];
    })
    .await
}

/// Makes `script` the user's active one, as `letterbox sieve put
/// --activate` does (compiled first).
fn activate(server: &TestServer, user: &str, script: &str) {
    letterbox::sieve::compile(script).unwrap();
    let id = blocking(|| server.store.find_user(user).unwrap().unwrap().id);
    blocking(|| server.store.put_sieve_script(id, "main", script).unwrap());
    blocking(|| {
        server
            .store
            .activate_sieve_script(id, Some("main"))
            .unwrap()
    });
}

/// Sends `message` over LMTP with smtplib; returns each refused
/// recipient's "code text".
async fn lmtp_send(server: &TestServer, recipients: &[&str], message: &str) -> Vec<String> {
    lmtp_send_from(server, "sender@example.net", recipients, message).await
}

async fn lmtp_send_from(
    server: &TestServer,
    sender: &str,
    recipients: &[&str],
    message: &str,
) -> Vec<String> {
    let port = server.lmtp.unwrap().port();
    let script = format!(
        r#"
import smtplib, sys
lmtp = smtplib.LMTP("127.0.0.1", {port})
try:
    refused = lmtp.sendmail({sender:?}, {recipients:?}, {message:?}.encode())
except smtplib.SMTPRecipientsRefused as e:
    refused = e.recipients
except smtplib.SMTPDataError as e:
    # smtplib reads one reply after DATA: enough for one recipient.
    refused = {{{recipients:?}[0]: (e.smtp_code, e.smtp_error)}}
for rcpt, (code, text) in sorted(refused.items()):
    print(rcpt, code, text.decode())
lmtp.quit()
"#
    );
    let mut python = Command::new("python3");
    python.args(["-c", &script]);
    run_client(python)
        .await
        .lines()
        .map(str::to_owned)
        .collect()
}

/// One LMTP transaction by hand; returns the replies after the message.
async fn raw_lmtp(server: &TestServer, recipients: &[&str], message: &str) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(server.lmtp.unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async || loop {
        let line = lines.next_line().await.unwrap().unwrap();
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    };
    assert!(reply().await.starts_with("220"));
    let mut commands = vec![
        "LHLO test".to_owned(),
        "MAIL FROM:<sender@example.net>".to_owned(),
    ];
    commands.extend(recipients.iter().map(|r| format!("RCPT TO:<{r}>")));
    commands.push("DATA".to_owned());
    for command in commands {
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        let got = reply().await;
        assert!(
            got.starts_with('2') || got.starts_with('3'),
            "{command}: {got}"
        );
    }
    write
        .write_all(format!("{message}.\r\n").as_bytes())
        .await
        .unwrap();
    let mut replies = Vec::new();
    for _ in recipients {
        replies.push(reply().await);
    }
    replies
}

/// (mailbox, FETCH FLAGS line) of every message, for checking where
/// mail went.
async fn where_mail_is(client: &mut Client, mailboxes: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for mailbox in mailboxes {
        client.ok(&format!("EXAMINE \"{mailbox}\"")).await;
        for line in client
            .ok("FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            .await
        {
            if let Some(subject) = line.split("Subject: ").nth(1) {
                let flags = line
                    .split("FLAGS (")
                    .nth(1)
                    .unwrap()
                    .split(')')
                    .next()
                    .unwrap();
                // Whose \Recent it is does not matter here.
                let flags: Vec<&str> = flags
                    .split(' ')
                    .filter(|f| !f.is_empty() && *f != "\\Recent")
                    .collect();
                let flags = flags.join(" ");
                let subject = subject.split("\r\n").next().unwrap();
                found.push((format!("{mailbox}: {subject}"), flags));
            }
        }
    }
    found
}

#[tokio::test]
async fn scripts_file_flag_discard_and_reject_over_lmtp() {
    let server = lmtp_server().await;
    blocking(|| server.store.create_user("bob", "x").unwrap());
    activate(
        &server,
        USER,
        r#"require ["fileinto", "imap4flags", "variables", "mailbox", "subaddress", "envelope", "reject", "relational", "comparator-i;ascii-numeric"];
if header :matches "List-Id" "*<*.*>" {
    fileinto :create "Lists/${2}";
    stop;
}
if envelope :detail "to" "shop" {
    fileinto :flags ["\\Seen", "$Shop"] "Archive";
    stop;
}
if header :contains "subject" "lottery" { discard; stop; }
if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "10" {
    reject "No spam, thanks.";
}
if address :domain "from" "boss.example" { addflag "\\Flagged"; }
"#,
    );
    let sent = [
        (
            "alice@example.com",
            "From: l@x.org\r\nList-Id: Team <team.lists.example>\r\nSubject: list\r\n\r\nx\r\n",
        ),
        (
            "alice+shop@example.com",
            "From: s@x.org\r\nSubject: order\r\n\r\nx\r\n",
        ),
        (
            "alice@example.com",
            "From: w@x.org\r\nSubject: You won the lottery\r\n\r\nx\r\n",
        ),
        (
            "alice@example.com",
            "From: Boss <b@boss.example>\r\nSubject: now\r\n\r\nx\r\n",
        ),
    ];
    for (to, message) in sent {
        assert!(lmtp_send(&server, &[to], message).await.is_empty(), "{to}");
    }
    let spam = "From: s@spam.example\r\nX-Spam-Score: 12\r\nSubject: spam\r\n\r\nx\r\n";
    let refused = lmtp_send(&server, &["alice@example.com"], spam).await;
    assert_eq!(refused, ["alice@example.com 550 5.7.1 No spam, thanks."]);
    // With two recipients, one rejects and the other (no script) takes
    // it: one reply each after DATA (smtplib cannot read those).
    let replies = raw_lmtp(&server, &["alice@example.com", "bob@example.com"], spam).await;
    assert_eq!(
        replies,
        [
            "550 5.7.1 No spam, thanks.",
            "250 2.0.0 <bob@example.com> delivered"
        ]
    );
    let mut alice = server.logged_in().await;
    let list = alice.ok("LIST \"\" \"Lists/*\"").await;
    assert_eq!(list[0], "* LIST (\\HasNoChildren) \"/\" Lists/team");
    assert_eq!(
        where_mail_is(&mut alice, &["INBOX", "Lists/team", "Archive"]).await,
        [
            ("INBOX: now".to_owned(), "\\Flagged".to_owned()),
            ("Lists/team: list".to_owned(), "".to_owned()),
            ("Archive: order".to_owned(), "\\Seen $Shop".to_owned()),
        ]
    );
    let subscribed = alice.ok("LSUB \"\" \"Lists/*\"").await;
    assert_eq!(subscribed[0], "* LSUB () \"/\" Lists/team");
    let bob = blocking(|| server.store.find_user("bob").unwrap().unwrap());
    assert_eq!(
        blocking(|| server
            .store
            .status(
                bob.id,
                &letterbox::store::MailboxName::new("INBOX").unwrap()
            )
            .unwrap()
            .messages),
        1
    );
}

/// Whatever goes wrong in a script, the message lands in INBOX.
#[tokio::test]
async fn a_failing_or_broken_script_never_loses_the_message() {
    let server = lmtp_server().await;
    let mut alice = server.logged_in().await;
    let cases = [
        // A folder that does not exist, without :create.
        (
            "require \"fileinto\";\nfileinto \"Nowhere\";",
            "missing folder",
        ),
        // More actions than [sieve] max_actions (32).
        (
            "require [\"fileinto\", \"copy\", \"mailbox\"];\n\
             fileinto :copy :create \"A1\"; fileinto :copy :create \"A2\"; fileinto :copy :create \"A3\";\
             fileinto :copy :create \"A4\"; fileinto :copy :create \"A5\"; fileinto :copy :create \"A6\";\
             fileinto :copy :create \"A7\"; fileinto :copy :create \"A8\"; fileinto :copy :create \"A9\";\
             fileinto :copy :create \"A10\"; fileinto :copy :create \"A11\"; fileinto :copy :create \"A12\";\
             fileinto :copy :create \"A13\"; fileinto :copy :create \"A14\"; fileinto :copy :create \"A15\";\
             fileinto :copy :create \"A16\"; fileinto :copy :create \"A17\"; fileinto :copy :create \"A18\";\
             fileinto :copy :create \"A19\"; fileinto :copy :create \"A20\"; fileinto :copy :create \"A21\";\
             fileinto :copy :create \"A22\"; fileinto :copy :create \"A23\"; fileinto :copy :create \"A24\";\
             fileinto :copy :create \"A25\"; fileinto :copy :create \"A26\"; fileinto :copy :create \"A27\";\
             fileinto :copy :create \"A28\"; fileinto :copy :create \"A29\"; fileinto :copy :create \"A30\";\
             fileinto :copy :create \"A31\"; fileinto :copy :create \"A32\"; fileinto :copy :create \"A33\";",
            "too many actions",
        ),
        // reject together with fileinto (RFC 5429 §2.1).
        (
            "require [\"fileinto\", \"reject\"];\nfileinto \"INBOX\";\nreject \"no\";",
            "reject with fileinto",
        ),
        // A redirect, which needs the SMTP relay this server lacks yet.
        ("redirect \"elsewhere@example.net\";", "redirect"),
    ];
    for (n, (script, why)) in cases.iter().enumerate() {
        activate(&server, USER, script);
        let subject = format!("case {n}");
        let message = format!("From: a@x.org\r\nSubject: {subject}\r\n\r\nx\r\n");
        assert!(
            lmtp_send(&server, &["alice@example.com"], &message)
                .await
                .is_empty(),
            "{why}"
        );
        let found = where_mail_is(&mut alice, &["INBOX"]).await;
        assert!(
            found.iter().any(|(m, _)| *m == format!("INBOX: {subject}")),
            "{why}: {found:?}"
        );
    }
    // No folder A1.. was made by the script that failed.
    let list = alice.ok("LIST \"\" \"A*\"").await;
    assert!(!list.iter().any(|l| l.contains("\"/\" A1")), "{list:?}");
    // A script stored before it stopped compiling (written behind the
    // CLI's back here) does not block delivery either.
    let id = blocking(|| server.store.find_user(USER).unwrap().unwrap().id);
    blocking(|| {
        server
            .store
            .put_sieve_script(id, "main", "if broken {")
            .unwrap()
    });
    let message = "From: a@x.org\r\nSubject: after\r\n\r\nx\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], message)
            .await
            .is_empty()
    );
    let found = where_mail_is(&mut alice, &["INBOX"]).await;
    assert!(found.iter().any(|(m, _)| m == "INBOX: after"), "{found:?}");
}

#[test]
fn the_cli_refuses_what_does_not_compile_and_dry_runs() {
    use common::binary::{add_user, letterbox, run_with_stdin, write_config};
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "letterbox.toml", "");
    add_user(&config, "alice", "pw");
    let script = dir.path().join("main.sieve");
    std::fs::write(&script, "require \"fileinto\";\nif header :contains \"subject\" \"invoice\" {\n  fileinto \"Archive\";\n}\n").unwrap();
    let bad = dir.path().join("bad.sieve");
    std::fs::write(&bad, "keep;\nfileinto \"x\";\n").unwrap();
    let refused = letterbox(&config)
        .args(["sieve", "put", "alice", "bad", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(
        error.contains("line 2: fileinto needs require \"fileinto\""),
        "{error}"
    );
    let put = letterbox(&config)
        .args([
            "sieve",
            "put",
            "alice",
            "main",
            script.to_str().unwrap(),
            "--activate",
        ])
        .output()
        .unwrap();
    assert!(put.status.success(), "{put:?}");
    let list = letterbox(&config)
        .args(["sieve", "list", "alice"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "main\t86 octets\tactive\n"
    );
    let mut test = letterbox(&config);
    test.args(["sieve", "test", "alice"]);
    let dry = run_with_stdin(test, "Subject: Your invoice\r\n\r\nx\r\n");
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        "line 2: test matched\nline 3: fileinto \"Archive\"\nactions:\n  fileinto \"Archive\"\n"
    );
    // A dry run stores nothing; deliver carries it out.
    let mut deliver = letterbox(&config);
    deliver.args(["deliver", "--to", "alice"]);
    let delivered = run_with_stdin(deliver, "Subject: Your invoice\r\n\r\nx\r\n");
    assert!(delivered.status.success(), "{delivered:?}");
    let deactivate = letterbox(&config)
        .args(["sieve", "delete", "alice", "main"])
        .output()
        .unwrap();
    assert!(!deactivate.status.success(), "the active script stays");
    for args in [
        &["sieve", "deactivate", "alice"][..],
        &["sieve", "delete", "alice", "main"],
    ] {
        assert!(
            letterbox(&config)
                .args(args)
                .output()
                .unwrap()
                .status
                .success(),
            "{args:?}"
        );
    }
    let list = letterbox(&config)
        .args(["sieve", "list", "alice"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout), "");
}

/// What the SMTP sink received in one transaction.
#[derive(Debug, Clone)]
struct Relayed {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A loopback SMTP server standing in for the relay: accepts everything
/// and keeps what it got (before answering the end of DATA, so a
/// delivery that returned has been relayed).
async fn smtp_sink() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<Relayed>>>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ready\r\n").await.unwrap();
                let mut current = Relayed {
                    from: String::new(),
                    to: Vec::new(),
                    data: String::new(),
                };
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if let Some(from) = upper.strip_prefix("MAIL FROM:") {
                        current.from = line[line.len() - from.len()..]
                            .trim_matches(['<', '>'])
                            .to_owned();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        current
                            .to
                            .push(line[8..].trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            current.data.push_str(
                                data.strip_prefix('.')
                                    .filter(|_| data.starts_with(".."))
                                    .unwrap_or(&data),
                            );
                            current.data.push_str("\r\n");
                        }
                        kept.lock().unwrap().push(std::mem::replace(
                            &mut current,
                            Relayed {
                                from: String::new(),
                                to: Vec::new(),
                                data: String::new(),
                            },
                        ));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"500 what?\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (addr, received)
}

async fn relaying_server(relay: std::net::SocketAddr) -> TestServer {
    TestServer::start_with(move |c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.delivery.domains = vec!["example.com".into()];
        c.sieve.smtp_relay = Some(relay.to_string());
    })
    .await
}

/// redirect and vacation leave through the relay, with the envelopes and
/// headers the RFCs ask for; a vacation reply goes once per period and
/// never to lists or bounces; a redirect loop and a relay that is down
/// keep the message in INBOX.
#[tokio::test]
async fn redirect_and_vacation_leave_through_the_relay() {
    let (relay, relayed) = smtp_sink().await;
    let server = relaying_server(relay).await;
    activate(
        &server,
        USER,
        r#"require ["vacation", "copy"];
if header :contains "subject" "forward" { redirect :copy "boss@example.net"; }
vacation :days 1 :subject "Away" :addresses "alice@old.example" "I am away until Monday.";
"#,
    );
    let first = "From: Bob <bob@example.net>\r\nTo: alice@example.com\r\nSubject: forward this\r\n\
                 Message-ID: <m1@example.net>\r\n\r\n.dotted line\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], first)
            .await
            .is_empty()
    );
    let sent = relayed.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let redirect = &sent[0];
    assert_eq!(
        (redirect.from.as_str(), redirect.to.as_slice()),
        ("sender@example.net", &["boss@example.net".to_owned()][..])
    );
    assert!(
        redirect
            .data
            .starts_with("Delivered-To: alice@example.com\r\nFrom: Bob"),
        "{redirect:?}"
    );
    assert!(
        redirect.data.ends_with("\r\n\r\n.dotted line\r\n"),
        "dot-stuffing undone by the sink: {redirect:?}"
    );
    let vacation = &sent[1];
    assert_eq!(
        (vacation.from.as_str(), vacation.to.as_slice()),
        ("", &["sender@example.net".to_owned()][..])
    );
    for header in [
        "From: alice@example.com\r\n",
        "To: <sender@example.net>\r\n",
        "Subject: Away\r\n",
        "Auto-Submitted: auto-replied (vacation)\r\n",
        "In-Reply-To: <m1@example.net>\r\n",
    ] {
        assert!(vacation.data.contains(header), "{header}: {vacation:?}");
    }
    assert!(
        vacation
            .data
            .ends_with("\r\n\r\nI am away until Monday.\r\n"),
        "{vacation:?}"
    );

    // The same sender within the day: no second reply. A list, a bounce
    // and mail not addressed to alice get none either.
    let later = "From: bob@example.net\r\nTo: alice@example.com\r\nSubject: again\r\n\r\nx\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], later)
            .await
            .is_empty()
    );
    let list = "From: l@lists.example\r\nTo: alice@example.com\r\nList-Id: <team.lists.example>\r\nSubject: digest\r\n\r\nx\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], list)
            .await
            .is_empty()
    );
    let bcc = "From: c@x.example\r\nTo: all@x.example\r\nSubject: news\r\n\r\nx\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], bcc)
            .await
            .is_empty()
    );
    assert_eq!(relayed.lock().unwrap().len(), 2, "no new reply");
    // :addresses counts as the user's: mail to the old address is answered.
    let old = "From: carol@example.net\r\nTo: alice@old.example\r\nSubject: hi\r\n\r\nx\r\n";
    assert!(
        lmtp_send_from(&server, "carol@example.net", &["alice@example.com"], old)
            .await
            .is_empty()
    );
    let sent = relayed.lock().unwrap().clone();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2].to, ["carol@example.net"]);
    let id = blocking(|| server.store.find_user(USER).unwrap().unwrap().id);
    let redirect_only = "require \"copy\";\nredirect \"boss@example.net\";";
    blocking(|| {
        server
            .store
            .put_sieve_script(id, "main", redirect_only)
            .unwrap()
    });
    // A message that came through boss@example.net before: a loop.
    let looped =
        "Delivered-To: boss@example.net\r\nFrom: bob@example.net\r\nSubject: loop\r\n\r\nx\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], looped)
            .await
            .is_empty()
    );
    assert_eq!(relayed.lock().unwrap().len(), 3, "the loop was not relayed");
    let mut alice = server.logged_in().await;
    let found = where_mail_is(&mut alice, &["INBOX"]).await;
    let subjects: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "INBOX: forward this",
            "INBOX: again",
            "INBOX: digest",
            "INBOX: news",
            "INBOX: hi",
            "INBOX: loop"
        ]
    );
}

#[tokio::test]
async fn a_relay_that_is_down_keeps_the_message() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = relaying_server(closed).await;
    activate(&server, USER, "redirect \"boss@example.net\";");
    let message = "From: bob@example.net\r\nSubject: kept\r\n\r\nx\r\n";
    assert!(
        lmtp_send(&server, &["alice@example.com"], message)
            .await
            .is_empty()
    );
    let mut alice = server.logged_in().await;
    let found = where_mail_is(&mut alice, &["INBOX"]).await;
    assert_eq!(found, [("INBOX: kept".to_owned(), String::new())]);
}

/// `[sieve] before` and `after` run around the user's script;
/// `include :global` finds scripts in `global_dir`; a before script that
/// does not compile is skipped, not fatal.
#[tokio::test]
async fn sysadmin_scripts_run_around_the_users() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after, global) = (
        dir.path().join("before.sieve"),
        dir.path().join("after.sieve"),
        dir.path().join("global"),
    );
    std::fs::create_dir(&global).unwrap();
    std::fs::write(&before, "require \"fileinto\";\nif header :is \"X-Spam-Flag\" \"YES\" { fileinto \"Junk\"; stop; }\n").unwrap();
    std::fs::write(&after, "require \"imap4flags\";\naddflag \"$filtered\";\n").unwrap();
    std::fs::write(global.join("lists.sieve"), "require [\"fileinto\", \"mailbox\"];\nif exists \"list-id\" { fileinto :create \"Lists\"; }\n").unwrap();
    let paths = (before.clone(), after.clone(), global.clone());
    let server = TestServer::start_with(move |c| {
        c.lmtp.listen = vec![LmtpListen::Tcp("127.0.0.1:0".parse().unwrap())];
        c.delivery.domains = vec!["example.com".into()];
        c.sieve.before = Some(paths.0);
        c.sieve.after = Some(paths.1);
        c.sieve.global_dir = Some(paths.2);
    })
    .await;
    activate(
        &server,
        USER,
        "require \"include\";\ninclude :global \"lists\";\n",
    );
    for message in [
        "X-Spam-Flag: YES\r\nSubject: pills\r\n\r\nx\r\n",
        "List-Id: <team.example>\r\nSubject: digest\r\n\r\nx\r\n",
        "Subject: hello\r\n\r\nx\r\n",
    ] {
        assert!(
            lmtp_send(&server, &["alice@example.com"], message)
                .await
                .is_empty()
        );
    }
    let mut alice = server.logged_in().await;
    assert_eq!(
        where_mail_is(&mut alice, &["INBOX", "Junk", "Lists"]).await,
        [
            ("INBOX: hello".to_owned(), "$filtered".to_owned()),
            ("Junk: pills".to_owned(), String::new()),
            ("Lists: digest".to_owned(), String::new()),
        ]
    );
    // A broken sysadmin script is skipped: mail still arrives.
    std::fs::write(&before, "if {").unwrap();
    assert!(
        lmtp_send(
            &server,
            &["alice@example.com"],
            "Subject: still\r\n\r\nx\r\n"
        )
        .await
        .is_empty()
    );
    let found = where_mail_is(&mut alice, &["INBOX"]).await;
    assert!(
        found.contains(&("INBOX: still".to_owned(), "$filtered".to_owned())),
        "{found:?}"
    );
}
