//! The Sieve case table (`tests/sieve_cases.json`): scripts from the RFC
//! examples and their edges, each with a message, an envelope and the
//! actions the RFCs ask for. `bench/sieve_compare.py` checks the same
//! table against Pigeonhole's `sieve-test` (where Pigeonhole departs from
//! an RFC, the case says so); this test holds the interpreter to it.

use letterbox::sieve::{self, Envelope, Limits, Message};

/// A new user's mailboxes; no other scripts to include.
struct NewUser;

impl sieve::run::Account for NewUser {
    fn mailbox_exists(&self, name: &str) -> bool {
        ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"].contains(&name)
    }

    fn script(&self, _global: bool, _name: &str) -> Option<String> {
        None
    }
}

#[test]
fn every_case_gets_the_actions_the_rfcs_ask_for() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sieve_cases.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.len() >= 100, "the table has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let text = |key: &str| case[key].as_str().unwrap_or_default().to_owned();
        let name = text("name");
        let expected: Vec<String> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let actions = match sieve::compile(&text("script")) {
            Err(error) => vec![format!("compile error: {error}")],
            Ok(script) => {
                let raw = text("message");
                let envelope = Envelope {
                    from: text("from"),
                    to: text("to"),
                    auth: None,
                };
                let outcome = sieve::run(
                    &script,
                    &Message::new(raw.as_bytes()),
                    &envelope,
                    &NewUser,
                    Limits::default(),
                );
                outcome.actions.iter().map(ToString::to_string).collect()
            }
        };
        if actions != expected {
            failures.push(format!("{name}: got {actions:?}, expected {expected:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
