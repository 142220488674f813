//! The real-world corpus over the wire: every message in
//! `../shared/corpus/` is APPENDed and fetched back with the attributes
//! clients use at first sync; every response must parse as valid IMAP, and
//! where Dovecot's answers exist (`golden/`) ours must match them
//! semantically. Skips cleanly when `../shared/` is absent.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use letterbox::proto::value::{self, Value};

const ATTRIBUTES: &str = "(ENVELOPE BODYSTRUCTURE RFC822.SIZE BODY.PEEK[HEADER] BODY.PEEK[1.MIME] BODY.PEEK[TEXT]<0.100>)";

/// Known, documented differences from Dovecot (see docs/fetch.md).
const ALLOWED: &[(&str, &str)] = &[
    // The file ends in a bare CR that Dovecot's storage dropped; we keep it.
    ("legacy/049.eml", "RFC822.SIZE"),
    ("legacy/049.eml", "BODYSTRUCTURE"),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail-parser")
}

fn messages() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for group in ["legacy", "malformed", "rfc", "thirdparty"] {
        let Ok(entries) = std::fs::read_dir(corpus_dir().join(group)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                let name = format!("{group}/{}", path.file_name().unwrap().to_string_lossy());
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// As the golden README says: every `\r?\n` becomes `\r\n`.
fn normalise(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn golden() -> Option<serde_json::Map<String, serde_json::Value>> {
    let path = corpus_dir().join("../golden/mail-parser.dovecot-2.3.19.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json.as_object().cloned()
}

fn golden_value(text: &str) -> Value {
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    value::parse(&bytes).unwrap()
}

#[tokio::test]
async fn every_corpus_message_fetches_as_valid_imap_matching_dovecot() {
    let messages = messages();
    if messages.is_empty() {
        eprintln!("skipping: no corpus at {}", corpus_dir().display());
        return;
    }
    let golden = golden().unwrap_or_default();
    let server = TestServer::start_with(|c| c.limits.max_message_size = 128 * 1024 * 1024).await;
    let mut client = server.logged_in().await;
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (i, (name, raw)) in messages.iter().enumerate() {
        let raw = normalise(raw);
        let mut command = format!("a{i} APPEND INBOX {{{}+}}\r\n", raw.len()).into_bytes();
        command.extend_from_slice(&raw);
        command.extend_from_slice(b"\r\n");
        client.send(&command).await;
        let appended = client.until_tagged(&format!("a{i}")).await;
        assert!(
            appended.last().unwrap().starts_with(&format!("a{i} OK")),
            "{name}: {appended:?}"
        );
    }
    client.ok("SELECT INBOX").await;
    for (i, (name, _)) in messages.iter().enumerate() {
        let tag = format!("f{i}");
        client
            .send(format!("{tag} FETCH {} {ATTRIBUTES}\r\n", i + 1).as_bytes())
            .await;
        let response = client.raw_line().await;
        let tagged = client.line().await;
        assert!(tagged.starts_with(&format!("{tag} OK")), "{name}: {tagged}");
        let (seq, items) = value::parse_fetch(&response)
            .unwrap_or_else(|e| panic!("{name}: invalid FETCH response: {e}"));
        assert_eq!(seq as usize, i + 1);
        let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "ENVELOPE",
                "BODYSTRUCTURE",
                "RFC822.SIZE",
                "BODY[HEADER]",
                "BODY[1.MIME]",
                "BODY[TEXT]<0>"
            ],
            "{name}"
        );
        let Some(reference) = golden.get(name).and_then(|g| g.as_object()) else {
            continue;
        };
        for (ours_name, golden_name) in [
            ("ENVELOPE", "ENVELOPE"),
            ("BODYSTRUCTURE", "BODYSTRUCTURE"),
            ("RFC822.SIZE", "RFC822.SIZE"),
            ("BODY[HEADER]", "BODY.PEEK[HEADER]"),
            ("BODY[1.MIME]", "BODY.PEEK[1.MIME]"),
            ("BODY[TEXT]<0>", "BODY.PEEK[TEXT]<0.100>"),
        ] {
            let Some(want) = reference.get(golden_name).and_then(|v| v.as_str()) else {
                continue;
            };
            let got = &items.iter().find(|(n, _)| n == ours_name).unwrap().1;
            compared += 1;
            let allowed = ALLOWED.contains(&(name.as_str(), golden_name));
            if (*got == golden_value(want)) == allowed {
                mismatches.push(format!(
                    "{name} {golden_name}: ours {got:?}, Dovecot {want:?}"
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} differences:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    eprintln!(
        "{} messages, {compared} attributes compared with Dovecot",
        messages.len()
    );
}
