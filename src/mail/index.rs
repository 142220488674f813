//! [`MessageIndex`]: everything FETCH needs that requires parsing,
//! computed once at APPEND time and stored beside the message, so FETCH
//! only copies stored strings and slices the stored octets.

use std::borrow::Cow;

use crate::mail::binary::{self, UnknownCte};
use crate::mail::section::{self, Node};
use crate::mail::{bodystructure, envelope, parser, serial};
use crate::proto::Section;

/// Pre-rendered ENVELOPE, BODY and BODYSTRUCTURE of one message, plus the
/// byte offsets of its MIME parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageIndex {
    envelope: Vec<u8>,
    body: Vec<u8>,
    body_structure: Vec<u8>,
    root: Node,
}

/// Indexes a message. `raw` is the stored octets (CRLF line endings, see
/// [`to_crlf`](crate::mail::to_crlf)). Never panics, whatever the input:
/// garbage yields a plain text/plain structure, nesting deeper than 64
/// levels is left opaque.
pub fn index_message(raw: &[u8]) -> MessageIndex {
    let tree = parser::parse(raw);
    let mut env = Vec::new();
    envelope::write(
        &mut env,
        raw.get(tree.header..tree.body).unwrap_or_default(),
    );
    let mut body = Vec::new();
    bodystructure::write(&mut body, raw, &tree, false);
    let mut body_structure = Vec::new();
    bodystructure::write(&mut body_structure, raw, &tree, true);
    MessageIndex {
        envelope: env,
        body,
        body_structure,
        root: Node::from(&tree),
    }
}

impl MessageIndex {
    /// The encoded IMAP `envelope`, parentheses included.
    pub fn envelope(&self) -> &[u8] {
        &self.envelope
    }

    /// BODY: the body structure without extension data.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// BODYSTRUCTURE: the body structure with extension data.
    pub fn body_structure(&self) -> &[u8] {
        &self.body_structure
    }

    /// The octets of BODY[section] before any `<partial>`, sliced from
    /// `raw` (the same octets that were indexed); `None` when the part does
    /// not exist or `raw` is not the indexed message.
    pub fn section<'a>(&self, raw: &'a [u8], section: &Section) -> Option<Cow<'a, [u8]>> {
        section::extract(&self.root, raw, section)
    }

    /// BINARY[part] (RFC 3516): the part with its transfer encoding
    /// undone; `Ok(None)` when there is no such part.
    pub fn binary(&self, raw: &[u8], part: &[u32]) -> Result<Option<Vec<u8>>, UnknownCte> {
        binary::extract(&self.root, raw, part)
    }

    /// Compact serialisation for a SQLite BLOB.
    pub fn to_bytes(&self) -> Vec<u8> {
        serial::encode(&self.envelope, &self.body, &self.body_structure, &self.root)
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote; `None` on any
    /// corruption (never panics).
    pub fn from_bytes(bytes: &[u8]) -> Option<MessageIndex> {
        let d = serial::decode(bytes)?;
        Some(MessageIndex {
            envelope: d.envelope,
            body: d.body,
            body_structure: d.body_structure,
            root: d.root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::to_crlf;
    use crate::proto::SectionText;

    const MSG: &[u8] = b"From: A <a@example.com>\nTo: friends: b@example.com, c@example.com;\nSubject: =?utf-8?B?w6Q=?=\n folded\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nhello\n--x\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/alternative; boundary=y\n\n--y\n\ninner text\n--y--\n--x--\n";

    /// Found by fuzzing: a NUL in a header made ENVELOPE an invalid literal.
    #[test]
    fn nul_in_a_header_still_gives_valid_envelope() {
        let index = index_message(b"Subject: \xff\0\r\n\r\n");
        let envelope = crate::proto::value::parse(index.envelope());
        assert!(envelope.is_ok(), "{envelope:?}");
        assert!(index.envelope().windows(2).any(|w| w == b"\xff\x80"));
    }

    fn sec(part: &[u32], text: Option<SectionText>) -> Section {
        Section {
            part: part.to_vec(),
            text,
        }
    }

    #[test]
    fn lf_only_message_after_to_crlf() {
        let raw = to_crlf(MSG);
        let idx = index_message(&raw);
        assert_eq!(
            idx.envelope(),
            &br#"(NIL "=?utf-8?B?w6Q=?= folded" (("A" NIL "a" "example.com")) (("A" NIL "a" "example.com")) (("A" NIL "a" "example.com")) ((NIL NIL "friends" NIL)(NIL NIL "b" "example.com")(NIL NIL "c" "example.com")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"#[..]
        );
        assert!(idx.body_structure().starts_with(b"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)(\"message\" \"rfc822\""));
        assert!(idx.body().ends_with(b" \"mixed\")"));
        assert_eq!(
            idx.section(&raw, &sec(&[1], None)).as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(
            idx.section(&raw, &sec(&[2, 1], None)).as_deref(),
            Some(&b"inner text"[..])
        );
        assert_eq!(
            idx.section(&raw, &sec(&[2], Some(SectionText::Header)))
                .as_deref(),
            Some(&b"Subject: inner\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n"[..])
        );
    }

    #[test]
    fn round_trip() {
        let raw = to_crlf(MSG);
        let idx = index_message(&raw);
        let bytes = idx.to_bytes();
        let back = MessageIndex::from_bytes(&bytes).expect("decodes");
        assert_eq!(back, idx);
        for s in [
            sec(&[], None),
            sec(&[2, 1], None),
            sec(&[1], Some(SectionText::Mime)),
        ] {
            assert_eq!(back.section(&raw, &s), idx.section(&raw, &s));
        }
    }

    #[test]
    fn corrupt_bytes_are_rejected() {
        let bytes = index_message(&to_crlf(MSG)).to_bytes();
        for len in 0..bytes.len() {
            assert!(
                MessageIndex::from_bytes(&bytes[..len]).is_none(),
                "truncated at {len}"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            assert!(MessageIndex::from_bytes(&b).is_none(), "flipped byte {i}");
        }
        assert!(MessageIndex::from_bytes(b"garbage garbage garbage").is_none());
        assert!(MessageIndex::from_bytes(&[0xff; 64]).is_none());
    }

    #[test]
    fn truncated_and_mutated_messages_do_not_panic() {
        let raw = to_crlf(MSG).into_owned();
        let paths: [&[u32]; 5] = [&[], &[1], &[2], &[2, 1], &[2, 1, 1]];
        let check = |m: &[u8]| {
            let idx = index_message(m);
            assert_eq!(
                MessageIndex::from_bytes(&idx.to_bytes()).as_ref(),
                Some(&idx)
            );
            for path in paths {
                for text in [
                    None,
                    Some(SectionText::Header),
                    Some(SectionText::Text),
                    Some(SectionText::Mime),
                ] {
                    let _ = idx.section(m, &sec(path, text));
                }
            }
        };
        for cut in 0..raw.len() {
            check(&raw[..cut]);
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut m = raw.clone();
            let pos = (seed % m.len() as u64) as usize;
            m[pos] = [b'-', b'\r', b'\n', b':', b';', b'"', b'(', b'<', 0, 0xff]
                [(seed >> 40) as usize % 10];
            check(&m);
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let mut deep = Vec::new();
        for i in 0..100 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"{i}\"\r\n\r\n--{i}\r\n")
                    .as_bytes(),
            );
        }
        let inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\r\n".to_vec(),
            b"garbage without any structure".to_vec(),
            b"\xff\xfe\x00\r\n\r\n\x00".to_vec(),
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n".to_vec(),
            deep,
            b"Content-Type: message/rfc822\r\n\r\n".repeat(150),
        ];
        for raw in inputs {
            let idx = index_message(&raw);
            let back = MessageIndex::from_bytes(&idx.to_bytes());
            assert_eq!(back.as_ref(), Some(&idx));
            for path in [&[][..], &[1], &[1, 1], &[2], &[1, 1, 1, 1]] {
                for text in [
                    None,
                    Some(SectionText::Header),
                    Some(SectionText::Text),
                    Some(SectionText::Mime),
                ] {
                    let _ = idx.section(&raw, &sec(path, text));
                }
            }
        }
    }
}
