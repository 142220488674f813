//! Message octets as APPEND and delivery store them: the index FETCH
//! serves ENVELOPE, BODY, BODYSTRUCTURE and sections from, and the text
//! SEARCH matches. Checks: no panic, the pre-rendered strings are valid
//! IMAP values, the stored index reads back identical, and every section
//! slice lies within the message.
#![no_main]

use letterbox::mail::{MessageIndex, index_message};
use letterbox::mail::{search_text, to_crlf};
use letterbox::proto::value;
use letterbox::proto::{Section, SectionText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = to_crlf(data);
    let index = index_message(&raw);
    for (what, rendered) in [
        ("ENVELOPE", index.envelope()),
        ("BODY", index.body()),
        ("BODYSTRUCTURE", index.body_structure()),
    ] {
        if let Err(e) = value::parse(rendered) {
            panic!("{what} is not a valid IMAP value: {e}");
        }
    }
    let stored = index.to_bytes();
    assert_eq!(MessageIndex::from_bytes(&stored).as_ref(), Some(&index));

    for part in [vec![], vec![1], vec![2], vec![1, 1], vec![2, 1, 3]] {
        for text in [
            None,
            Some(SectionText::Header),
            Some(SectionText::Text),
            Some(SectionText::Mime),
            Some(SectionText::HeaderFields(vec!["Subject".into(), "from".into()])),
            Some(SectionText::HeaderFieldsNot(vec!["Received".into()])),
        ] {
            let section = Section {
                part: part.clone(),
                text,
            };
            if let Some(octets) = index.section(&raw, &section) {
                // HEADER.FIELDS[.NOT] ends an unterminated last line and
                // adds the blank line: at most 4 octets more.
                assert!(octets.len() <= raw.len() + 4, "section larger than message");
            }
        }
    }
    let _ = search_text::extract(&raw);
});
