//! Compares our FETCH answers with what Dovecot 2.3.19 returned for the
//! mail-parser corpus (`shared/corpus/golden/`), value by value after
//! parsing both sides as IMAP data. Skips (and passes) when the corpus is
//! not present, e.g. outside the project's workspace.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::mail::{MessageIndex, index_message};
use crate::proto::{Section, SectionText};
use crate::proto::{encode, value};

/// Dovecot's storage dropped the message's final bare CR; we keep every
/// stored octet, so the size (and the body size) is one more.
const TRAILING_CR: &str =
    "Dovecot dropped the trailing bare CR when storing; we keep the octets as appended";
/// (message, attribute, why we deliberately answer differently).
const ALLOWED: &[(&str, &str, &str)] = &[
    ("legacy/049.eml", "RFC822.SIZE", TRAILING_CR),
    ("legacy/049.eml", "BODY", TRAILING_CR),
    ("legacy/049.eml", "BODYSTRUCTURE", TRAILING_CR),
];

fn golden_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/golden/mail-parser.dovecot-2.3.19.json")
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail-parser")
}

/// The README's normalisation: every `\r?\n` becomes `\r\n`.
fn normalise(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 16);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// JSON strings hold the response octets decoded as ISO-8859-1.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

fn section(part: &[u32], text: Option<SectionText>) -> Section {
    Section {
        part: part.to_vec(),
        text,
    }
}

/// Our answer for one attribute, as IMAP value text.
fn ours(idx: &MessageIndex, raw: &[u8], attr: &str) -> Option<Vec<u8>> {
    // As FETCH sends it: a missing part is empty, NUL goes out as 0x80.
    let fetch = |s: Section, limit: usize| -> Vec<u8> {
        let data = idx.section(raw, &s).unwrap_or_default();
        let mut out = Vec::new();
        encode::literal(&mut out, &data[..data.len().min(limit)]);
        out
    };
    let fields = ["FROM", "TO", "SUBJECT", "DATE"].map(String::from).to_vec();
    Some(match attr {
        "RFC822.SIZE" => raw.len().to_string().into_bytes(),
        "ENVELOPE" => idx.envelope().to_vec(),
        "BODY" => idx.body().to_vec(),
        "BODYSTRUCTURE" => idx.body_structure().to_vec(),
        "BODY.PEEK[HEADER]" => fetch(section(&[], Some(SectionText::Header)), usize::MAX),
        "BODY.PEEK[TEXT]<0.100>" => fetch(section(&[], Some(SectionText::Text)), 100),
        "BODY.PEEK[1.MIME]" => fetch(section(&[1], Some(SectionText::Mime)), usize::MAX),
        "BODY.PEEK[1]<0.64>" => fetch(section(&[1], None), 64),
        "BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)]" => fetch(
            section(&[], Some(SectionText::HeaderFields(fields))),
            usize::MAX,
        ),
        _ => return None,
    })
}

#[test]
fn matches_dovecot_except_allow_list() {
    let path = golden_file();
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping golden test: {} not found", path.display());
        return;
    };
    let json: serde_json::Value = serde_json::from_str(&text).expect("golden JSON parses");
    let messages = json.as_object().expect("golden JSON is an object");
    let mut compared = 0;
    let mut matched = 0;
    let mut failures = Vec::new();
    let mut differing = BTreeSet::new();
    for (name, attrs) in messages {
        let raw = std::fs::read(corpus_dir().join(name)).expect("corpus message exists");
        let raw = normalise(&raw);
        let idx = index_message(&raw);
        for (attr, golden) in attrs.as_object().expect("attributes object") {
            let Some(ours) = ours(&idx, &raw, attr) else {
                continue; // e.g. the APPEND reply
            };
            let golden = latin1(golden.as_str().expect("string value")).expect("latin-1 text");
            let want =
                value::parse(&golden).unwrap_or_else(|e| panic!("{name} {attr}: golden: {e}"));
            let got = value::parse(&ours).unwrap_or_else(|e| panic!("{name} {attr}: ours: {e}"));
            compared += 1;
            let allowed = ALLOWED.iter().any(|(m, a, _)| m == name && a == attr);
            if want == got {
                matched += 1;
                if allowed {
                    failures.push(format!("{name} {attr}: allow-listed but now matches"));
                }
            } else {
                differing.insert((name.clone(), attr.clone()));
                if !allowed {
                    failures.push(format!(
                        "{name} {attr}:\n  dovecot: {}\n  ours:    {}",
                        String::from_utf8_lossy(&golden),
                        String::from_utf8_lossy(&ours)
                    ));
                }
            }
        }
    }
    eprintln!(
        "golden: {} messages, {matched}/{compared} attributes match, {} allow-listed differences",
        messages.len(),
        differing.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            eml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_message_indexes_to_valid_syntax() {
    let mut files = Vec::new();
    eml_files(&corpus_dir(), &mut files);
    if files.is_empty() {
        eprintln!(
            "skipping corpus syntax test: {} not found",
            corpus_dir().display()
        );
        return;
    }
    for f in &files {
        let original = std::fs::read(f).expect("readable");
        // Both as stored (CRLF) and as given, which may have bare LFs.
        for raw in [normalise(&original), original.clone()] {
            let idx = index_message(&raw);
            for (what, v) in [
                ("ENVELOPE", idx.envelope()),
                ("BODY", idx.body()),
                ("BODYSTRUCTURE", idx.body_structure()),
            ] {
                if let Err(e) = value::parse(v) {
                    panic!("{} {what}: {e}", f.display());
                }
            }
            assert_eq!(
                MessageIndex::from_bytes(&idx.to_bytes()).as_ref(),
                Some(&idx)
            );
        }
    }
}
