//! Sieve scripts as users upload them: compiled, and when they compile,
//! run against a small message. Checks: no panic, no hang (libFuzzer's
//! timeout), and a runtime error always leaves the message kept.
#![no_main]

use letterbox::sieve::{self, Action, Envelope, Limits, Message};
use libfuzzer_sys::fuzz_target;

struct NoFolders;

impl sieve::run::Account for NoFolders {
    fn mailbox_exists(&self, name: &str) -> bool {
        name == "INBOX" || name == "Archive"
    }

    fn script(&self, _global: bool, name: &str) -> Option<String> {
        (name == "lists").then(|| "require \"fileinto\";\nfileinto \"Archive\";".to_owned())
    }
}

const MESSAGE: &[u8] = b"From: Ann <ann+list@example.org>\r\nTo: bob@example.com\r\n\
Subject: =?utf-8?q?caf=C3=A9?= [list] 42\r\nDate: Fri, 12 Aug 2005 16:00:00 -0700\r\n\
List-Id: Team <team.example.org>\r\nX-Spam-Score: 7\r\n\r\nHello *world*?\r\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(script) = sieve::compile(text) else {
        return;
    };
    let envelope = Envelope {
        from: "ann@example.org".into(),
        to: "bob+tag@example.com".into(),
        auth: None,
    };
    let outcome = sieve::run(&script, &Message::new(MESSAGE), &envelope, &NoFolders, Limits::default());
    if outcome.error.is_some() {
        assert_eq!(outcome.actions, [Action::Keep { flags: Vec::new() }]);
    }
});
