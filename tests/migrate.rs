//! `letterbox import` and `export`: Maildir (Maildir++ folders, flags in
//! file names, dovecot-keywords) and mbox (From_ lines, >From quoting,
//! Status headers), idempotent re-runs, and byte-identical round trips.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use letterbox::store::{FetchRequest, MailboxName, SystemFlags};

fn run(server: &TestServer, args: &[&str]) -> String {
    let config = server.config_file("migrate.toml", "");
    let output = Command::new(env!("CARGO_BIN_EXE_letterbox"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// (raw, flags bits, keywords, internal date) of one message.
type Stored = (Vec<u8>, u8, Vec<String>, i64);

/// Every message, by mailbox.
fn contents(server: &TestServer, user: &str) -> Vec<(String, Vec<Stored>)> {
    let store = &server.store;
    let user = blocking(|| store.find_user(user).unwrap().unwrap());
    let mut out = Vec::new();
    for info in blocking(|| store.list_mailboxes(user.id).unwrap()) {
        let name = MailboxName::new(&info.name).unwrap();
        let selected = blocking(|| store.select(user.id, &name, false).unwrap());
        let uids: Vec<u32> = selected.messages.iter().map(|m| m.uid).collect();
        let request = FetchRequest {
            index: false,
            raw: true,
        };
        let messages = blocking(|| store.fetch(selected.id, &uids, request).unwrap());
        let items = messages
            .into_iter()
            .map(|m| {
                (
                    m.raw.unwrap(),
                    m.flags.system.0,
                    m.flags.keywords,
                    m.internal_date.timestamp(),
                )
            })
            .collect();
        out.push((info.name, items));
    }
    out
}

fn write_with_mtime(path: &Path, data: &[u8], unix: i64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix as u64))
        .unwrap();
}

#[tokio::test]
async fn maildir_import_with_folders_flags_keywords_and_reruns() {
    let server = TestServer::start().await;
    let root = server.dir.path().join("Maildir");
    write_with_mtime(
        &root.join("cur/1700000000.M1.host:2,S"),
        b"Subject: read\n\nold\n",
        1_700_000_000,
    );
    write_with_mtime(
        &root.join("new/1700000100.M2.host"),
        b"Subject: unread\n\nnew\n",
        1_700_000_100,
    );
    let work = root.join(".Work.Projects");
    write_with_mtime(
        &work.join("cur/1700000200.M3.host:2,FRa"),
        b"Subject: deal\n\nsigned\n",
        1_700_000_200,
    );
    std::fs::create_dir_all(work.join("new")).unwrap();
    std::fs::write(work.join("dovecot-keywords"), "0 $Work\n").unwrap();
    std::fs::create_dir_all(root.join(".Caf&AOk-/cur")).unwrap();

    let out = run(&server, &["import", "--user", USER, root.to_str().unwrap()]);
    assert!(
        out.contains("imported 3 messages (0 already there)"),
        "{out}"
    );
    let again = run(&server, &["import", "--user", USER, root.to_str().unwrap()]);
    assert!(
        again.contains("imported 0 messages (3 already there)"),
        "{again}"
    );

    let all = contents(&server, USER);
    let inbox = &all.iter().find(|(n, _)| n == "INBOX").unwrap().1;
    assert_eq!(inbox.len(), 2);
    assert_eq!(
        inbox[0],
        (
            b"Subject: read\r\n\r\nold\r\n".to_vec(),
            SystemFlags::SEEN,
            vec![],
            1_700_000_000
        )
    );
    assert_eq!(inbox[1].1, 0, "new/ messages are unseen");
    let projects = &all.iter().find(|(n, _)| n == "Work/Projects").unwrap().1;
    assert_eq!(projects[0].1, SystemFlags::FLAGGED | SystemFlags::ANSWERED);
    assert_eq!(projects[0].2, ["$Work"]);
    assert!(
        all.iter().any(|(n, _)| n == "Café"),
        "modified UTF-7 folder names are decoded"
    );
}

#[tokio::test]
async fn mbox_import_unquotes_and_reads_status() {
    let server = TestServer::start().await;
    let mbox = server.dir.path().join("old.mbox");
    std::fs::write(
        &mbox,
        "From alice@example.com Mon Jan  5 09:30:00 2026\nSubject: one\nStatus: RO\n\nFrom here on, no date\n>From quoted\n>>From twice\n\n\
         From bob@example.com Tue Jan  6 10:00:00 2026\nSubject: two\nX-Status: F\n\nsecond\n",
    )
    .unwrap();
    let out = run(
        &server,
        &[
            "import",
            "--user",
            USER,
            "--mailbox",
            "Old",
            mbox.to_str().unwrap(),
        ],
    );
    assert!(out.contains("imported 2 messages"), "{out}");
    let all = contents(&server, USER);
    let old = &all.iter().find(|(n, _)| n == "Old").unwrap().1;
    // An unquoted "From " line without a date is body text, not a separator.
    assert_eq!(
        String::from_utf8(old[0].0.clone()).unwrap(),
        "Subject: one\r\nStatus: RO\r\n\r\nFrom here on, no date\r\nFrom quoted\r\n>From twice\r\n"
    );
    assert_eq!(old[0].1, SystemFlags::SEEN);
    assert_eq!(old[0].3, 1_767_605_400);
    assert_eq!(old[1].1, SystemFlags::FLAGGED);
}

#[tokio::test]
async fn export_then_import_is_byte_identical() {
    let server = TestServer::start().await;
    let mut client = server.logged_in().await;
    let mut messages: Vec<String> = vec![
        "Subject: plain\r\n\r\nFrom the beginning\r\n>From quoted\r\n".into(),
        "Subject: keywords\r\n\r\nbody\r\n".into(),
    ];
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail-parser/rfc");
    if let Ok(entries) = std::fs::read_dir(&corpus) {
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths.into_iter().take(5) {
            messages.push(String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned());
        }
    }
    for (i, message) in messages.iter().enumerate() {
        let flags = if i % 2 == 0 {
            "(\\Seen $Label1)"
        } else {
            "(\\Flagged)"
        };
        let mailbox = if i < 3 { "INBOX" } else { "Archive/2026" };
        if mailbox != "INBOX" {
            client.status(&format!("CREATE {mailbox}")).await;
        }
        client
            .ok(&format!(
                "APPEND {mailbox} {flags} \"0{}-Mar-2026 10:00:00 +0000\" {{{}+}}\r\n{message}",
                i % 9 + 1,
                message.len()
            ))
            .await;
    }
    for (format, other) in [("maildir", "bob"), ("mbox", "carol")] {
        let dir = server.dir.path().join(format!("export-{format}"));
        let out = run(
            &server,
            &[
                "export",
                "--user",
                USER,
                "--format",
                format,
                dir.to_str().unwrap(),
            ],
        );
        assert!(
            out.contains(&format!("exported {} messages", messages.len())),
            "{out}"
        );
        blocking(|| server.store.create_user(other, "x").unwrap());
        run(&server, &["import", "--user", other, dir.to_str().unwrap()]);
        let original = contents(&server, USER);
        let copied = contents(&server, other);
        for (name, items) in &original {
            let copy = &copied.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(copy.len(), items.len(), "{format} {name}");
            for (a, b) in items.iter().zip(copy) {
                assert_eq!(a.0, b.0, "{format} {name}: octets");
                assert_eq!(a.3, b.3, "{format} {name}: INTERNALDATE");
                if format == "maildir" {
                    assert_eq!((a.1, &a.2), (b.1, &b.2), "{format} {name}: flags");
                }
            }
        }
    }
}

/// A Maildir and an mbox built from the whole shared corpus import with
/// every message intact (skipped cleanly when the corpus is absent).
#[tokio::test]
async fn corpus_as_maildir_and_as_mbox() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail-parser");
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for group in ["legacy", "malformed", "rfc", "thirdparty"] {
        let Ok(entries) = std::fs::read_dir(corpus.join(group)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        messages.extend(
            paths
                .iter()
                .map(|p| std::fs::read(p).unwrap())
                .filter(|m| !m.is_empty()),
        );
    }
    if messages.is_empty() {
        eprintln!("skipping: no corpus at {}", corpus.display());
        return;
    }
    let server = TestServer::start().await;
    let maildir = server.dir.path().join("CorpusMaildir");
    let mut mbox = Vec::new();
    for (i, raw) in messages.iter().enumerate() {
        write_with_mtime(
            &maildir.join(format!(
                ".Corpus/cur/{:06}.M{i}.host:2,S",
                1_600_000_000 + i
            )),
            raw,
            1_600_000_000 + i as i64,
        );
        mbox.extend_from_slice(b"From corpus@example.com Mon Jan  5 09:30:00 2026\n");
        for line in raw.split_inclusive(|&b| b == b'\n') {
            if line
                .iter()
                .skip_while(|&&b| b == b'>')
                .take(5)
                .eq(b"From ".iter())
            {
                mbox.push(b'>');
            }
            mbox.extend_from_slice(line);
        }
        if !raw.ends_with(b"\n") {
            mbox.push(b'\n');
        }
        mbox.push(b'\n');
    }
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    let mbox_path = server.dir.path().join("corpus.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    let out = run(
        &server,
        &["import", "--user", USER, maildir.to_str().unwrap()],
    );
    assert!(
        out.contains(&format!("imported {} messages", messages.len())),
        "{out}"
    );
    let out = run(
        &server,
        &[
            "import",
            "--user",
            USER,
            "--mailbox",
            "FromMbox",
            mbox_path.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains(&format!("imported {} messages", messages.len())),
        "{out}"
    );
    let all = contents(&server, USER);
    let crlf = |raw: &[u8]| letterbox::mail::to_crlf(raw).into_owned();
    let from_maildir = &all.iter().find(|(n, _)| n == "Corpus").unwrap().1;
    for (stored, original) in from_maildir.iter().zip(&messages) {
        assert_eq!(stored.0, crlf(original));
        assert_eq!(stored.1, SystemFlags::SEEN);
    }
    let from_mbox = &all.iter().find(|(n, _)| n == "FromMbox").unwrap().1;
    assert_eq!(from_mbox.len(), messages.len());
    for (stored, original) in from_mbox.iter().zip(&messages) {
        // The mbox line added a final LF where the file had none.
        let mut original = original.clone();
        if !original.ends_with(b"\n") {
            original.push(b'\n');
        }
        let expected = crlf(&original);
        assert_eq!(
            String::from_utf8_lossy(&stored.0),
            String::from_utf8_lossy(&expected)
        );
    }
}
