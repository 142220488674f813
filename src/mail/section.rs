//! BODY[section] (RFC 3501 §6.4.5) as slices of the stored message, using
//! the part offsets recorded at APPEND time.
//!
//! Part numbering: the parts of a message are the children of its body
//! when that is a multipart, else just part 1 = the body itself. A part
//! that is message/rfc822 is numbered through its embedded message, so
//! `n.m` is part m of that message and `n.HEADER` / `n.TEXT` are its
//! header and body.

use std::borrow::Cow;

use crate::mail::header;
use crate::mail::parser::{Kind, Part};
use crate::proto::{Section, SectionText};

/// The offsets of one MIME entity (what the index stores per part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub header: usize,
    pub body: usize,
    pub end: usize,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Leaf,
    Multipart(Vec<Node>),
    Message(Box<Node>),
}

impl From<&Part> for Node {
    fn from(p: &Part) -> Node {
        Node {
            header: p.header,
            body: p.body,
            end: p.end,
            kind: match &p.kind {
                Kind::Leaf => NodeKind::Leaf,
                Kind::Multipart(c) => NodeKind::Multipart(c.iter().map(Node::from).collect()),
                Kind::Message(m) => NodeKind::Message(Box::new(Node::from(m.as_ref()))),
            },
        }
    }
}

/// The octets of `section` of the message `raw` whose tree is `root`;
/// `None` when the section does not exist (or `raw` does not fit the
/// index).
pub(crate) fn extract<'a>(root: &Node, raw: &'a [u8], section: &Section) -> Option<Cow<'a, [u8]>> {
    let slice = |a: usize, b: usize| raw.get(a..b).map(Cow::Borrowed);
    if section.part.is_empty() {
        return match &section.text {
            None => Some(Cow::Borrowed(raw)),
            Some(text) => message_text(root, raw, text),
        };
    }
    let part = resolve(root, &section.part)?;
    match &section.text {
        None => slice(part.body, part.end),
        // Part 1 of a non-multipart message is that message's body; the
        // header describing it (Content-Type and friends) is the message
        // header, which is what clients asking for 1.MIME want and what
        // Dovecot returns.
        Some(SectionText::Mime) => slice(part.header, part.body),
        Some(text) => match &part.kind {
            NodeKind::Message(inner) => message_text(inner, raw, text),
            _ => None,
        },
    }
}

/// HEADER / HEADER.FIELDS[.NOT] / TEXT of the message `msg`.
fn message_text<'a>(msg: &Node, raw: &'a [u8], text: &SectionText) -> Option<Cow<'a, [u8]>> {
    let header = raw.get(msg.header..msg.body)?;
    match text {
        SectionText::Header => Some(Cow::Borrowed(header)),
        SectionText::Text => raw.get(msg.body..msg.end).map(Cow::Borrowed),
        SectionText::HeaderFields(names) => Some(Cow::Owned(header::filter(header, names, true))),
        SectionText::HeaderFieldsNot(names) => {
            Some(Cow::Owned(header::filter(header, names, false)))
        }
        SectionText::Mime => None,
    }
}

/// Follows a part path as Dovecot does: a multipart's numbers name its
/// children; any other part answers only to 1, and only as the last
/// number unless it is a message/rfc822, whose message the rest of the
/// path then numbers. So part 1 of a single-part message is its body and
/// `n.1` names part n again, but `1.1` of a single-part message and
/// `n.1.1` name nothing (RFC 3501 §6.4.5 gives a non-multipart entity a
/// part 1 only).
pub(crate) fn resolve<'n>(root: &'n Node, path: &[u32]) -> Option<&'n Node> {
    let mut part = root;
    for (i, &n) in path.iter().enumerate() {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        let more = i + 1 < path.len();
        part = match &part.kind {
            NodeKind::Multipart(children) => children.get(index)?,
            NodeKind::Message(_) if index == 0 => part,
            _ if index == 0 && !more => part,
            _ => return None,
        };
        if let (true, NodeKind::Message(inner)) = (more, &part.kind) {
            part = inner;
        }
    }
    Some(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parser::parse;

    const NESTED: &[u8] = b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@y\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nin1\r\n--c\r\nContent-Type: text/html\r\n\r\nin2\r\n--c--\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: flat\r\n\r\nflat body\r\n--b--\r\n";

    fn get(raw: &[u8], part: &[u32], text: Option<SectionText>) -> Option<String> {
        let root = Node::from(&parse(raw));
        let section = Section {
            part: part.to_vec(),
            text,
        };
        extract(&root, raw, &section).map(|c| String::from_utf8_lossy(&c).into_owned())
    }

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn whole_message_sections() {
        let raw = b"From: a@b\r\nSubject: s\r\n\r\nbody\r\n";
        assert_eq!(
            get(raw, &[], None).as_deref(),
            Some("From: a@b\r\nSubject: s\r\n\r\nbody\r\n")
        );
        assert_eq!(
            get(raw, &[], Some(SectionText::Header)).as_deref(),
            Some("From: a@b\r\nSubject: s\r\n\r\n")
        );
        assert_eq!(
            get(raw, &[], Some(SectionText::Text)).as_deref(),
            Some("body\r\n")
        );
        assert_eq!(
            get(
                raw,
                &[],
                Some(SectionText::HeaderFields(fields(&["subject"])))
            )
            .as_deref(),
            Some("Subject: s\r\n\r\n")
        );
        assert_eq!(
            get(
                raw,
                &[],
                Some(SectionText::HeaderFieldsNot(fields(&["SUBJECT"])))
            )
            .as_deref(),
            Some("From: a@b\r\n\r\n")
        );
        assert_eq!(get(raw, &[], Some(SectionText::Mime)), None);
        assert_eq!(get(raw, &[1], None).as_deref(), Some("body\r\n"));
        assert_eq!(
            get(raw, &[1], Some(SectionText::Mime)),
            get(raw, &[], Some(SectionText::Header)),
            "1.MIME of a non-multipart message is its header"
        );
        assert_eq!(get(raw, &[1], Some(SectionText::Header)), None);
        assert_eq!(get(raw, &[1], Some(SectionText::Text)), None);
        assert_eq!(get(raw, &[2], None), None);
        // Part 1 has no parts of its own (Dovecot agrees).
        assert_eq!(get(raw, &[1, 1], None), None);
        assert_eq!(get(raw, &[1, 2], None), None);
        assert_eq!(get(raw, &[0], None), None);
    }

    #[test]
    fn nested_parts() {
        let g = |p: &[u32], t| get(NESTED, p, t);
        assert_eq!(g(&[1], None).as_deref(), Some("one"));
        assert_eq!(
            g(&[1], Some(SectionText::Mime)).as_deref(),
            Some("Content-Type: text/plain\r\n\r\n")
        );
        assert_eq!(g(&[1], Some(SectionText::Header)), None);
        assert_eq!(
            g(&[1], Some(SectionText::HeaderFields(fields(&["x"])))),
            None
        );
        let two = g(&[2], None).unwrap_or_default();
        assert!(
            two.starts_with("Subject: inner\r\n") && two.ends_with("in2\r\n--c--\r\n"),
            "{two}"
        );
        assert_eq!(
            g(&[2], Some(SectionText::Mime)).as_deref(),
            Some("Content-Type: message/rfc822\r\n\r\n")
        );
        assert_eq!(
            g(
                &[2],
                Some(SectionText::HeaderFields(fields(&["FROM", "Subject"])))
            )
            .as_deref(),
            Some("Subject: inner\r\nFrom: x@y\r\n\r\n")
        );
        assert_eq!(
            g(
                &[2],
                Some(SectionText::HeaderFieldsNot(fields(&["from", "subject"])))
            )
            .as_deref(),
            Some("Content-Type: multipart/alternative; boundary=c\r\n\r\n")
        );
        assert!(
            g(&[2], Some(SectionText::Text))
                .unwrap_or_default()
                .starts_with("--c\r\n")
        );
        assert_eq!(g(&[2, 1], None).as_deref(), Some("in1"));
        assert_eq!(g(&[2, 2], None).as_deref(), Some("in2"));
        assert_eq!(
            g(&[2, 2], Some(SectionText::Mime)).as_deref(),
            Some("Content-Type: text/html\r\n\r\n")
        );
        assert_eq!(g(&[2, 3], None), None);
        // A single part's part 1 is itself, one level down only, as in
        // Dovecot (compared by bench/binary_compare.py's probe of BODY).
        assert_eq!(g(&[1, 1], None).as_deref(), Some("one"));
        assert_eq!(g(&[2, 1, 1], None).as_deref(), Some("in1"));
        assert_eq!(g(&[1, 1, 1], None), None);
        assert_eq!(g(&[2, 1, 1, 1], None), None);
        assert_eq!(g(&[2, 1, 2], None), None);
        // A message/rfc822 whose message is not multipart: n.1 is its body.
        assert_eq!(
            g(&[3], Some(SectionText::Header)).as_deref(),
            Some("Subject: flat\r\n\r\n")
        );
        assert_eq!(
            g(&[3], Some(SectionText::Text)).as_deref(),
            Some("flat body")
        );
        assert_eq!(g(&[3, 1], None).as_deref(), Some("flat body"));
        assert_eq!(
            g(&[3, 1], Some(SectionText::Mime)).as_deref(),
            Some("Subject: flat\r\n\r\n")
        );
        assert_eq!(g(&[4], None), None);
    }

    #[test]
    fn multipart_part_of_multipart() {
        let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--a--\r\n";
        assert_eq!(
            get(raw, &[1], None).as_deref(),
            Some("--b\r\n\r\nx\r\n--b--\r\n")
        );
        assert_eq!(get(raw, &[1, 1], None).as_deref(), Some("x"));
        assert_eq!(
            get(raw, &[1, 1], Some(SectionText::Mime)).as_deref(),
            Some("\r\n")
        );
        assert_eq!(get(raw, &[1], Some(SectionText::Text)), None);
    }

    #[test]
    fn top_level_message_rfc822() {
        let raw = b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody";
        assert_eq!(
            get(raw, &[1], None).as_deref(),
            Some("Subject: in\r\n\r\nbody")
        );
        assert_eq!(
            get(raw, &[1], Some(SectionText::Header)).as_deref(),
            Some("Subject: in\r\n\r\n")
        );
        assert_eq!(get(raw, &[1, 1], None).as_deref(), Some("body"));
    }

    #[test]
    fn header_only_and_no_separator() {
        let raw = b"Subject: only\r\n";
        assert_eq!(
            get(raw, &[], Some(SectionText::Header)).as_deref(),
            Some("Subject: only\r\n")
        );
        assert_eq!(get(raw, &[], Some(SectionText::Text)).as_deref(), Some(""));
        assert_eq!(get(raw, &[1], None).as_deref(), Some(""));
        assert_eq!(
            get(raw, &[], Some(SectionText::HeaderFieldsNot(fields(&["x"])))).as_deref(),
            Some("Subject: only\r\n")
        );
        let raw = b"Subject: no newline";
        assert_eq!(
            get(raw, &[], Some(SectionText::Header)).as_deref(),
            Some("Subject: no newline")
        );
        assert_eq!(
            get(
                raw,
                &[],
                Some(SectionText::HeaderFields(fields(&["subject"])))
            )
            .as_deref(),
            Some("Subject: no newline\r\n"),
            "RFC 3501 §6.4.5: no blank line when the message has none"
        );
    }

    #[test]
    fn index_raw_mismatch_is_none() {
        let root = Node::from(&parse(b"Subject: x\r\n\r\nlong body here"));
        let section = Section {
            part: vec![1],
            text: None,
        };
        assert_eq!(extract(&root, b"short", &section), None);
    }
}
