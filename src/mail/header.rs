//! Header blocks: splitting into fields, unfolding values, and the
//! HEADER.FIELDS / HEADER.FIELDS.NOT subsets of RFC 3501 §6.4.5.

/// One header field as it appears in the message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    /// Field name with surrounding whitespace trimmed (empty for a stray
    /// continuation line at the very start of a block).
    pub name: &'a [u8],
    /// Everything after the colon, folding line breaks included, without
    /// the field's final line break. Empty when the line has no colon.
    pub value: &'a [u8],
    /// The whole field: all its lines including their line breaks.
    pub raw: &'a [u8],
}

/// Splits a header block into fields. The block may include its blank
/// terminating line; iteration stops there.
pub(crate) fn fields(block: &[u8]) -> Vec<Field<'_>> {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut pos = 0;
    // (start of field, end of its last line content, end incl. line break)
    let mut current: Option<(usize, usize, usize)> = None;
    while pos < block.len() {
        let (content_end, next) = line_at(block, pos);
        if content_end == pos {
            break; // blank line: end of header
        }
        let first = block[pos];
        match current {
            Some((start, _, _)) if first == b' ' || first == b'\t' => {
                current = Some((start, content_end, next));
            }
            _ => {
                if let Some(f) = current.take() {
                    out.push(make_field(block, f));
                }
                current = Some((pos, content_end, next));
            }
        }
        pos = next;
    }
    if let Some(f) = current {
        out.push(make_field(block, f));
    }
    out
}

/// Returns (end of the line's content, start of the next line) for the
/// line starting at `pos`. The content excludes a trailing CRLF or LF.
pub(crate) fn line_at(s: &[u8], pos: usize) -> (usize, usize) {
    match s
        .get(pos..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        Some(i) => {
            let lf = pos + i;
            let end = if lf > pos && s[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            (end, lf + 1)
        }
        None => (s.len(), s.len()),
    }
}

fn make_field(block: &[u8], (start, content_end, end): (usize, usize, usize)) -> Field<'_> {
    let text = &block[start..content_end];
    let raw = &block[start..end];
    match text.iter().position(|&b| b == b':') {
        Some(colon) => Field {
            name: trim(&text[..colon]),
            value: &text[colon + 1..],
            raw,
        },
        None => Field {
            name: trim(text),
            value: &[],
            raw,
        },
    }
}

/// Trims spaces and tabs on both sides.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t');
    match start {
        None => &[],
        Some(start) => {
            let end = s
                .iter()
                .rposition(|&b| b != b' ' && b != b'\t')
                .map_or(start, |e| e + 1);
            &s[start..end]
        }
    }
}

/// Unfolds a raw field value (RFC 5322 §2.2.3: remove the line breaks,
/// keep the whitespace that follows them) and drops leading whitespace.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\r' if value.get(i + 1) == Some(&b'\n') => i += 2,
            b'\n' => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    let lead = out
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(out.len());
    out.drain(..lead);
    out
}

/// The first field named `name` (case-insensitive). Used for the MIME
/// fields, where Dovecot also takes the first of duplicates.
pub(crate) fn first<'a>(fields: &[Field<'a>], name: &str) -> Option<Field<'a>> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .copied()
}

/// The last field named `name` (case-insensitive). RFC 5322 allows most
/// fields once; for duplicates we follow Dovecot, where the last one wins.
pub(crate) fn last<'a>(fields: &[Field<'a>], name: &str) -> Option<Field<'a>> {
    fields
        .iter()
        .rev()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .copied()
}

/// HEADER.FIELDS (`keep` = true) or HEADER.FIELDS.NOT (`keep` = false):
/// the matching fields in their original order and form (folded lines
/// kept), followed by the blank line, which RFC 3501 §6.4.5 includes even
/// when no field matches, "except in the case of a message which has no
/// body and no blank line": a header block that runs to the end of the
/// message without one.
pub(crate) fn filter(block: &[u8], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields(block) {
        let hit = names
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(f.name));
        if hit == keep {
            out.extend_from_slice(f.raw);
            if !f.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    if ends_with_blank_line(block) {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Whether a header block has the blank line that separates it from a
/// body (which may be empty), rather than running to its end.
fn ends_with_blank_line(block: &[u8]) -> bool {
    let mut pos = 0;
    while pos < block.len() {
        let (content_end, next) = line_at(block, pos);
        if content_end == pos {
            return true;
        }
        pos = next;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: &[u8] = b"From: a@b\r\nSubject: one\r\n two\r\nX-Y:z\r\nsubject: again\r\n\r\nbody";

    #[test]
    fn splits_fields_and_stops_at_blank_line() {
        let f = fields(HDR);
        let names: Vec<&[u8]> = f.iter().map(|f| f.name).collect();
        assert_eq!(names, [&b"From"[..], b"Subject", b"X-Y", b"subject"]);
        assert_eq!(f[1].value, b" one\r\n two");
        assert_eq!(f[1].raw, b"Subject: one\r\n two\r\n");
        assert_eq!(unfold(f[1].value), b"one two");
        assert_eq!(last(&f, "SUBJECT").map(|f| f.value), Some(&b" again"[..]));
        assert_eq!(
            first(&f, "SUBJECT").map(|f| f.value),
            Some(&b" one\r\n two"[..])
        );
    }

    #[test]
    fn filter_keeps_order_folding_and_blank_line() {
        let names = vec!["SUBJECT".to_string(), "x-y".to_string()];
        assert_eq!(
            filter(HDR, &names, true),
            b"Subject: one\r\n two\r\nX-Y:z\r\nsubject: again\r\n\r\n"
        );
        assert_eq!(filter(HDR, &names, false), b"From: a@b\r\n\r\n");
        assert_eq!(filter(HDR, &["Nope".to_string()], true), b"\r\n");
    }

    #[test]
    fn odd_lines() {
        let f = fields(b" lead\r\nnocolon\r\nName : v\r\nlast: no newline");
        assert_eq!(f.len(), 4);
        assert_eq!(f[1].name, b"nocolon");
        assert_eq!(f[2].name, b"Name");
        assert_eq!(f[3].raw, b"last: no newline");
        assert_eq!(
            filter(b"last: x", &["LAST".to_string()], true),
            b"last: x\r\n",
            "no body and no blank line: none added"
        );
        assert_eq!(filter(b"a: 1\n\n", &["A".to_string()], true), b"a: 1\n\r\n");
        assert_eq!(filter(b"\r\n", &["A".to_string()], true), b"\r\n");
        assert_eq!(trim(b"  "), b"");
        assert_eq!(unfold(b" \t a\r\n\tb\nc"), b"a\tbc");
    }
}
