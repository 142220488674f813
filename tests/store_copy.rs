//! `letterbox store copy`: SQLite to PostgreSQL and back, with clients
//! seeing the same mailboxes, UIDs, UIDVALIDITYs, MODSEQs, flags and
//! expunges from the copy as from the original. Needs the test cluster
//! (`LETTERBOX_TEST_POSTGRES`); runs in the SQLite pass only, since it
//! uses both backends itself.

mod common;

use std::path::Path;

use common::binary::{add_user, free_port, letterbox, run_with_stdin, serve, write_config};
use common::test_database::TestDatabase;
use common::{Client, PASSWORD, USER};

/// What a client sees of everything, as exact response lines.
async fn snapshot(port: u16) -> Vec<String> {
    let mut client = Client::plain(format!("127.0.0.1:{port}").parse().unwrap()).await;
    let mut seen = client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    seen.pop(); // the tagged OK names the capabilities only
    seen.extend(client.ok("ENABLE QRESYNC").await);
    seen.extend(client.ok("LIST \"\" *").await);
    seen.extend(client.ok("LSUB \"\" *").await);
    for mailbox in ["INBOX", "Work", "Shared/support"] {
        seen.extend(
            client
                .ok(&format!(
                    "STATUS {mailbox} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)"
                ))
                .await,
        );
        let examined = client.ok(&format!("EXAMINE {mailbox}")).await;
        let uidvalidity = examined
            .iter()
            .find_map(|l| l.strip_prefix("* OK [UIDVALIDITY "))
            .and_then(|rest| rest.split(']').next())
            .unwrap()
            .to_owned();
        seen.extend(examined);
        seen.extend(
            client
                .ok("UID FETCH 1:* (FLAGS MODSEQ INTERNALDATE BODY.PEEK[])")
                .await,
        );
        seen.extend(client.ok("SEARCH TEXT \"budget\"").await);
        seen.extend(client.ok(&format!("GETACL {mailbox}")).await);
        // What a client that last synchronised at MODSEQ 1 is told.
        seen.extend(
            client
                .ok(&format!("EXAMINE {mailbox} (QRESYNC ({uidvalidity} 1))"))
                .await,
        );
    }
    seen.extend(client.ok("GETQUOTAROOT INBOX").await);
    seen
}

/// Fills alice's account through IMAP and the CLI.
async fn fill(config: &Path, port: u16) {
    let run = |args: &[&str], stdin: &str| {
        let mut command = letterbox(config);
        command.args(args);
        let output = run_with_stdin(command, stdin);
        assert!(output.status.success(), "{args:?}: {output:?}");
    };
    run(&["shared", "create", "support", "--private-seen"], "");
    run(&["acl", "set", "Shared/support", USER, "lrswipkxtea"], "");
    run(&["quota", "set", USER, "--storage-mb", "100"], "");
    run(&["user", "app-password", "add", USER, "phone"], "");
    run(&["sieve", "put", USER, "main", "--activate"], "keep;\n");
    let mut client = Client::plain(format!("127.0.0.1:{port}").parse().unwrap()).await;
    client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    client.ok("CREATE Work").await;
    client.ok("SUBSCRIBE Work").await;
    for (n, mailbox) in ["INBOX", "INBOX", "Work", "Shared/support", "INBOX"]
        .iter()
        .enumerate()
    {
        let raw = format!(
            "Subject: budget {n}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nbody {n}\r\n"
        );
        client
            .send(
                format!(
                    "a{n} APPEND {mailbox} (\\Seen $Work) {{{}+}}\r\n{raw}\r\n",
                    raw.len()
                )
                .as_bytes(),
            )
            .await;
        client.until_tagged(&format!("a{n}")).await;
    }
    client.ok("SELECT INBOX").await;
    client.ok("STORE 1 +FLAGS (\\Flagged)").await;
    client.ok("STORE 2 +FLAGS (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    client.ok("SELECT Shared/support").await;
    client.ok("STORE 1 -FLAGS (\\Seen)").await;
}

fn copy_store(config: &Path, to: &str) -> std::process::Output {
    letterbox(config)
        .args(["store", "copy", "--to", to])
        .output()
        .unwrap()
}

fn config_for(dir: &Path, port: u16, store: &str) -> std::path::PathBuf {
    let extra = format!(
        "[imap]\nlisten = [\"127.0.0.1:{port}\"]\n[auth]\nallow_plaintext = true\n\
         failure_delay_ms = 0\n{store}"
    );
    write_config(dir, "letterbox.toml", &extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgresql_and_back_keeps_what_clients_see() {
    if common::on_postgres() {
        return;
    }
    let Some(database) = TestDatabase::create() else {
        return;
    };
    // The original, on SQLite.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let original = config_for(dir.path(), port, "");
    add_user(&original, USER, PASSWORD);
    let mut server = serve(&original, port).await;
    fill(&original, port).await;
    let before = snapshot(port).await;
    // What the copies must reproduce is there to be compared.
    for wanted in [
        "* VANISHED (EARLIER) 2",
        "\\Flagged",
        "$Work",
        "* SEARCH 1 2",
        "* ACL Shared/support",
    ] {
        assert!(
            before.iter().any(|l| l.contains(wanted)),
            "{wanted}: {before:#?}"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // To PostgreSQL, then the same again into the now full database.
    let copied = copy_store(&original, &database.url);
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(said.contains("messages: 4 rows copied"), "{said}");
    assert!(said.contains("counts verified"), "{said}");
    let again = copy_store(&original, &database.url);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let pg_dir = tempfile::tempdir().unwrap();
    let pg_port = free_port();
    let store = format!(
        "[store]\nbackend = \"postgres\"\nurl = {:?}\n",
        database.url
    );
    let on_postgres = config_for(pg_dir.path(), pg_port, &store);
    let mut server = serve(&on_postgres, pg_port).await;
    assert_eq!(snapshot(pg_port).await, before, "PostgreSQL copy");
    server.kill().unwrap();
    server.wait().unwrap();

    // And back to a new SQLite file.
    let back_dir = tempfile::tempdir().unwrap();
    let back_port = free_port();
    let back = config_for(back_dir.path(), back_port, "");
    let file = back_dir.path().join("data/letterbox.db");
    let copied = copy_store(&on_postgres, file.to_str().unwrap());
    assert!(copied.status.success(), "{copied:?}");
    let _server = KillOnDrop(serve(&back, back_port).await);
    assert_eq!(snapshot(back_port).await, before, "SQLite copy of the copy");
    // New rows do not reuse what the original gave out.
    let mut client = Client::plain(format!("127.0.0.1:{back_port}").parse().unwrap()).await;
    client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    client.ok("CREATE Fresh").await;
    let status = client.ok("STATUS Fresh (UIDVALIDITY)").await;
    let uidvalidities: Vec<&str> = before
        .iter()
        .filter_map(|l| l.split("UIDVALIDITY ").nth(1))
        .collect();
    let fresh = status[0].split("UIDVALIDITY ").nth(1).unwrap();
    assert!(!uidvalidities.contains(&fresh), "{fresh} reused");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
