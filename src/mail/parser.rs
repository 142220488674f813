//! Splits a message into its MIME tree, recording byte offsets so that
//! BODY[section] is later a slice of the stored octets.
//!
//! Boundary rules follow RFC 2046 §5.1 with the leniency real mail needs
//! and that Dovecot (our reference) shows:
//! - a line is a delimiter when it starts with `--` + an active boundary;
//!   trailing text after the boundary is ignored, and `--` right after it
//!   makes it a close delimiter;
//! - when several active boundaries match a line, the longest wins, and
//!   among equal ones the innermost (the same boundary reused by a nested
//!   multipart must not end the outer one);
//! - an outer boundary also ends every multipart nested inside it;
//! - boundaries are compared on their first 70 octets (the RFC 2046
//!   maximum length);
//! - the CRLF before a delimiter belongs to the delimiter, so it is not
//!   part of the preceding body, except that the line break ending a close
//!   delimiter stays in its multipart when an outer delimiter follows
//!   directly (Dovecot counts it there);
//! - a part whose header runs into a delimiter (no blank line, or a blank
//!   line whose CRLF is the delimiter's) is all header with an empty body;
//!   for the message inside a message/rfc822 part, Dovecot keeps the line
//!   break before the delimiter in that header, and so do we;
//! - a multipart with no parts at all gets one empty text/plain part, so
//!   BODYSTRUCTURE stays valid (RFC 3501 requires at least one).
//!
//! Nesting is capped at [`MAX_DEPTH`] and the number of parts at
//! [`MAX_PARTS`]; past those limits content is treated as opaque.

use crate::mail::header::{self, line_at};
use crate::mail::mime::{self, ContentType};

/// Deepest multipart / message nesting that is parsed; deeper containers
/// are opaque leaves. Guards the recursion (and stack) on hostile input.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most parts parsed in one message; later delimiters are ignored. Guards
/// index size and BODYSTRUCTURE length.
pub(crate) const MAX_PARTS: usize = 10_000;
/// RFC 2046 §5.1.1: boundaries are at most 70 characters.
const MAX_BOUNDARY: usize = 70;

/// One MIME entity: a message, a body part, or an embedded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// Offset of the header block.
    pub header: usize,
    /// Offset of the body (= end of the header, blank line included).
    pub body: usize,
    /// End of the body (exclusive).
    pub end: usize,
    /// The parsed Content-Type, `None` when absent or invalid.
    pub content_type: Option<ContentType>,
    /// True when the parent is multipart/digest (default message/rfc822).
    pub in_digest: bool,
    /// True when this part is a multipart or message/rfc822 left opaque
    /// because of [`MAX_DEPTH`] / [`MAX_PARTS`].
    pub capped: bool,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Leaf,
    Multipart(Vec<Part>),
    /// message/rfc822: the embedded message (its header starts at `body`).
    Message(Box<Part>),
}

/// What ended a scan.
#[derive(Debug, Clone, Copy)]
enum Term {
    Eof,
    Boundary {
        /// Index into the boundary stack.
        level: usize,
        close: bool,
        /// Offset of the delimiter line.
        line: usize,
        /// Offset just after the delimiter line.
        next: usize,
    },
}

struct Parser<'a> {
    raw: &'a [u8],
    bounds: Vec<Vec<u8>>,
    parts: usize,
}

/// Parses `raw` (a whole message) into its MIME tree. Never panics.
pub(crate) fn parse(raw: &[u8]) -> Part {
    let mut p = Parser {
        raw,
        bounds: Vec::new(),
        parts: 1,
    };
    p.entity(0, false, false, 0).0
}

impl<'a> Parser<'a> {
    /// Is the line `[start, content_end)` a delimiter of an active
    /// boundary? Returns (stack level, is close delimiter).
    fn delimiter(&self, start: usize, content_end: usize) -> Option<(usize, bool)> {
        if self.parts >= MAX_PARTS {
            return None;
        }
        let rest = self.raw.get(start..content_end)?.strip_prefix(b"--")?;
        let mut best: Option<(usize, usize)> = None;
        for (level, b) in self.bounds.iter().enumerate().rev() {
            if rest.starts_with(b) && best.is_none_or(|(_, len)| b.len() > len) {
                best = Some((level, b.len()));
            }
        }
        let (level, len) = best?;
        Some((level, rest[len..].starts_with(b"--")))
    }

    /// Finds the next delimiter line at or after `pos` (a line start).
    fn scan(&self, mut pos: usize) -> Term {
        if self.bounds.is_empty() || self.parts >= MAX_PARTS {
            return Term::Eof;
        }
        while pos < self.raw.len() {
            let (content_end, next) = line_at(self.raw, pos);
            if let Some((level, close)) = self.delimiter(pos, content_end) {
                return Term::Boundary {
                    level,
                    close,
                    line: pos,
                    next,
                };
            }
            pos = next;
        }
        Term::Eof
    }

    /// End of a body that a scan stopped at: the delimiter line's start,
    /// minus the line break that belongs to the delimiter.
    fn body_end(&self, term: Term, body: usize) -> usize {
        match term {
            Term::Eof => self.raw.len(),
            Term::Boundary { line, .. } => {
                if line >= body + 2 && self.raw.get(line - 2..line) == Some(b"\r\n") {
                    line - 2
                } else if line > body && self.raw.get(line - 1) == Some(&b'\n') {
                    line - 1
                } else {
                    line
                }
            }
        }
    }

    /// Parses the entity starting at `start`; returns it and what ended it.
    /// `embedded` is true for the message inside a message/rfc822 part.
    fn entity(
        &mut self,
        start: usize,
        in_digest: bool,
        embedded: bool,
        depth: usize,
    ) -> (Part, Term) {
        // Header: up to a blank line, a delimiter or the end.
        let mut pos = start;
        let mut header_term = Some(Term::Eof);
        while pos < self.raw.len() {
            let (content_end, next) = line_at(self.raw, pos);
            if content_end == pos {
                pos = next;
                header_term = None;
                break;
            }
            if let Some((level, close)) = self.delimiter(pos, content_end) {
                header_term = Some(Term::Boundary {
                    level,
                    close,
                    line: pos,
                    next,
                });
                break;
            }
            pos = next;
        }
        let body = pos.min(self.raw.len());
        let fields = header::fields(&self.raw[start..body]);
        let content_type =
            header::first(&fields, "Content-Type").and_then(|f| mime::content_type(f.value));
        let mut part = Part {
            header: start,
            body,
            end: body,
            content_type,
            in_digest,
            capped: false,
            kind: Kind::Leaf,
        };
        let ct = part.content_type.as_ref();
        let boundary = ct
            .filter(|c| c.is_type("multipart"))
            .and_then(|c| c.param("boundary"))
            .filter(|b| !b.is_empty())
            .map(|b| b[..b.len().min(MAX_BOUNDARY)].to_vec());
        let is_message = match ct {
            Some(c) => c.is("message", "rfc822"),
            None => in_digest,
        };
        let container = boundary.is_some() || is_message;
        if container && depth >= MAX_DEPTH {
            part.capped = true;
        }
        let digest = ct.is_some_and(|c| c.is("multipart", "digest"));

        // A header that runs into a delimiter (or the end) leaves an entity
        // with no body; the delimiter's line break is not part of it.
        if let Some(t) = header_term {
            let end = match t {
                // Dovecot counts that line break into an embedded message
                // cut off this way; we follow it so sizes agree.
                Term::Boundary { line, .. } if embedded => line,
                _ => self.body_end(t, start),
            };
            part.body = end;
            part.end = end;
            if !part.capped {
                if boundary.is_some() {
                    part.kind = Kind::Multipart(vec![self.empty_part(end)]);
                } else if is_message {
                    part.kind = Kind::Message(Box::new(self.empty_part(end)));
                }
            }
            return (part, t);
        }
        match (boundary, is_message) {
            (Some(b), _) if !part.capped => {
                let term = self.multipart(&mut part, b, digest, depth);
                (part, term)
            }
            (None, true) if !part.capped => {
                self.parts += 1;
                let (inner, term) = self.entity(body, false, true, depth + 1);
                // An empty embedded message right before a delimiter: the
                // blank line ending our header is the delimiter's CRLF.
                let cut = self.body_end(term, start);
                if cut < body {
                    part.body = cut;
                    part.end = cut;
                    part.kind = Kind::Message(Box::new(self.empty_part(cut)));
                } else {
                    part.end = inner.end.max(body);
                    part.kind = Kind::Message(Box::new(inner));
                }
                (part, term)
            }
            _ => {
                let term = self.scan(body);
                let end = self.body_end(term, start);
                part.body = body.min(end);
                part.end = end;
                (part, term)
            }
        }
    }

    /// Parses a multipart body; fills `part.kind` and `part.end`.
    fn multipart(
        &mut self,
        part: &mut Part,
        boundary: Vec<u8>,
        digest: bool,
        depth: usize,
    ) -> Term {
        let body = part.body;
        self.bounds.push(boundary);
        let level = self.bounds.len() - 1;
        let mut children: Vec<Part> = Vec::new();
        let mut term = self.scan(body);
        let (end, outer) = loop {
            match term {
                Term::Eof => break (self.raw.len(), Term::Eof),
                Term::Boundary {
                    level: l,
                    close,
                    next,
                    ..
                } if l == level => {
                    if close {
                        // The epilogue runs to the next outer delimiter.
                        self.bounds.truncate(level);
                        let t = self.scan(next);
                        // The close delimiter's own line break cannot also
                        // be the one before the next delimiter.
                        break (self.body_end(t, next), t);
                    }
                    self.parts += 1;
                    let (child, t) = self.entity(next, digest, false, depth + 1);
                    children.push(child);
                    term = t;
                }
                Term::Boundary { .. } => break (self.body_end(term, part.header), term),
            }
        };
        self.bounds.truncate(level);
        // Header directly followed by an outer delimiter: its blank line
        // is that delimiter's CRLF.
        part.body = part.body.min(end);
        if children.is_empty() {
            children.push(self.empty_part(part.body));
        }
        let last_end = children.last().map_or(part.body, |c| c.end);
        part.end = end.max(last_end).max(part.body);
        part.kind = Kind::Multipart(children);
        outer
    }

    /// An empty text/plain entity at `pos` (for multiparts without parts
    /// and bodies cut off by a delimiter).
    fn empty_part(&self, pos: usize) -> Part {
        Part {
            header: pos,
            body: pos,
            end: pos,
            content_type: None,
            in_digest: false,
            capped: false,
            kind: Kind::Leaf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice<'a>(raw: &'a [u8], p: &Part) -> (&'a [u8], &'a [u8]) {
        (&raw[p.header..p.body], &raw[p.body..p.end])
    }

    fn children(p: &Part) -> &[Part] {
        match &p.kind {
            Kind::Multipart(c) => c,
            _ => panic!("not multipart: {p:?}"),
        }
    }

    #[test]
    fn simple_message() {
        let raw = b"Subject: x\r\n\r\nhello\r\n";
        let p = parse(raw);
        assert_eq!(
            slice(raw, &p),
            (&b"Subject: x\r\n\r\n"[..], &b"hello\r\n"[..])
        );
        assert_eq!(p.kind, Kind::Leaf);
    }

    #[test]
    fn header_only_and_empty() {
        let raw = b"Subject: x\r\n";
        let p = parse(raw);
        assert_eq!((p.body, p.end), (raw.len(), raw.len()));
        let p = parse(b"");
        assert_eq!((p.header, p.body, p.end), (0, 0, 0));
        let raw = b"\r\nbody only";
        let p = parse(raw);
        assert_eq!(slice(raw, &p), (&b"\r\n"[..], &b"body only"[..]));
    }

    #[test]
    fn nested_multipart_offsets() {
        let raw = b"Content-Type: multipart/mixed; boundary=out\r\n\r\npre\r\n--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--in--\r\nepi\r\n--out\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--out--\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert_eq!(c.len(), 2);
        let alt = children(&c[0]);
        assert_eq!(slice(raw, &alt[0]), (&b"\r\n"[..], &b"plain"[..]));
        assert_eq!(slice(raw, &alt[1]).1, b"<b>x</b>");
        assert_eq!(slice(raw, &c[0]).1, b"--in\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--in--\r\nepi");
        let Kind::Message(inner) = &c[1].kind else {
            panic!("message expected")
        };
        assert_eq!(
            slice(raw, inner),
            (&b"Subject: inner\r\n\r\n"[..], &b"inner body"[..])
        );
        assert_eq!(slice(raw, &c[1]).1, b"Subject: inner\r\n\r\ninner body");
        assert_eq!(p.end, raw.len());
    }

    #[test]
    fn longest_boundary_wins_and_equal_ones_nest() {
        // Outer "ab", inner "a": the line "--ab" belongs to the outer one.
        let raw = b"Content-Type: multipart/mixed; boundary=\"ab\"\r\n\r\n--ab\r\nContent-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--ab\r\nContent-Type: text/plain\r\n\r\n--a\r\n\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert_eq!(c.len(), 2);
        assert_eq!(children(&c[0]).len(), 1);
        assert_eq!(slice(raw, &c[1]).1, b"--a\r\n\r\n");
        // Same boundary nested: the inner one takes the line.
        let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\nbody\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert_eq!(c.len(), 1);
        assert_eq!(slice(raw, &children(&c[0])[0]).1, b"body\r\n");
    }

    #[test]
    fn header_running_into_delimiter_keeps_line_break() {
        let raw = b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nnot a header\r\n--B--\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert_eq!(slice(raw, &c[0]).1, b"not a header\r\n");
        let Kind::Message(inner) = &c[0].kind else {
            panic!("message expected")
        };
        assert_eq!(slice(raw, inner), (&b"not a header\r\n"[..], &b""[..]));
    }

    #[test]
    fn delimiter_line_break_is_not_part_of_a_part_header() {
        // No blank line: the header stops before the delimiter's CRLF.
        let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nX-A: 1\r\nX-B: 2\r\n--a\r\n\r\nz\r\n--a--\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert_eq!(slice(raw, &c[0]), (&b"X-A: 1\r\nX-B: 2"[..], &b""[..]));
        assert_eq!(slice(raw, &c[1]), (&b"\r\n"[..], &b"z"[..]));
        // Blank line directly followed by a delimiter: its CRLF is the
        // delimiter's, so the header ends with the last field.
        let raw =
            b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nX-A: 1\r\n\r\n--a--\r\n";
        let p = parse(raw);
        assert_eq!(slice(raw, &children(&p)[0]), (&b"X-A: 1\r\n"[..], &b""[..]));
    }

    #[test]
    fn multipart_without_parts_gets_an_empty_one() {
        let raw = b"Content-Type: multipart/mixed; boundary=\"ab\"\r\n\r\nbody\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].body, c[0].end), (c[0].header, c[0].header));
    }

    #[test]
    fn digest_defaults_to_message() {
        let raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n\r\nA\r\n--d--\r\n";
        let p = parse(raw);
        let c = children(&p);
        assert!(c[0].in_digest);
        assert!(matches!(c[0].kind, Kind::Message(_)));
    }

    #[test]
    fn deep_nesting_is_capped() {
        let mut raw = Vec::new();
        for i in 0..100 {
            raw.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        raw.extend_from_slice(b"\r\nleaf\r\n");
        let p = parse(&raw);
        let mut depth = 0;
        let mut cur = &p;
        while let Kind::Multipart(c) = &cur.kind {
            cur = &c[0];
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);
        assert!(cur.capped);
        // Deep message/rfc822 nesting too.
        let raw = b"Content-Type: message/rfc822\r\n\r\n".repeat(200);
        let p = parse(&raw);
        assert!(p.end <= raw.len());
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b"--"[..],
            b"\n\n\n",
            b"\r",
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x",
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--",
            b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\n--x\n",
            b"Content-Type: multipart/mixed; boundary=x\r\n--x\r\n",
        ] {
            let p = parse(raw);
            assert!(p.header <= p.body && p.body <= p.end && p.end <= raw.len());
        }
    }
}
