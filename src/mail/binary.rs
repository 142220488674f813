//! BINARY[section] (RFC 3516): a section with its Content-Transfer-Encoding
//! undone.
//!
//! A leaf is decoded as its own header says (base64, quoted-printable, or
//! nothing for 7bit/8bit/binary). A multipart or message part keeps its
//! structure and its children are converted one by one; a header whose
//! body was decoded says `Content-Transfer-Encoding: binary` instead of the
//! original encoding, so the result is still a well-formed message (what
//! Dovecot sends too). Textual parts leave with CRLF line ends (RFC 3516
//! §6). An encoding we cannot undo fails the whole section, which the
//! FETCH answers with `NO [UNKNOWN-CTE]`.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::mail::header;
use crate::mail::mime;
use crate::mail::section::{Node, NodeKind, resolve};

/// The section's Content-Transfer-Encoding is not one RFC 2045 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCte;

/// The decoded octets of part `path` (the whole message when empty), or
/// `None` when there is no such part.
pub(crate) fn extract(
    root: &Node,
    raw: &[u8],
    path: &[u32],
) -> Result<Option<Vec<u8>>, UnknownCte> {
    let mut out = Vec::new();
    if path.is_empty() {
        entity(root, raw, &mut out)?;
        return Ok(Some(out));
    }
    let Some(part) = resolve(root, path) else {
        return Ok(None);
    };
    body(part, raw, &mut out)?;
    Ok(Some(out))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cte {
    /// 7bit, 8bit: text, sent with CRLF line ends.
    Text,
    /// binary: octets as they are.
    Identity,
    Base64,
    QuotedPrintable,
}

impl Cte {
    fn decodes(self) -> bool {
        matches!(self, Cte::Base64 | Cte::QuotedPrintable)
    }
}

/// The encoding named by the entity's header (RFC 2045 §6: 7bit when
/// there is none).
fn cte_of(header_block: &[u8]) -> Result<Cte, UnknownCte> {
    let fields = header::fields(header_block);
    let Some(field) = header::last(&fields, "Content-Transfer-Encoding") else {
        return Ok(Cte::Text);
    };
    let Some(name) = mime::transfer_encoding(&header::unfold(field.value)) else {
        return Ok(Cte::Text);
    };
    match name.to_ascii_lowercase().as_slice() {
        b"7bit" | b"8bit" => Ok(Cte::Text),
        b"binary" => Ok(Cte::Identity),
        b"base64" => Ok(Cte::Base64),
        b"quoted-printable" => Ok(Cte::QuotedPrintable),
        _ => Err(UnknownCte),
    }
}

/// Header and body of `node`, converted.
fn entity(node: &Node, raw: &[u8], out: &mut Vec<u8>) -> Result<(), UnknownCte> {
    let header_block = raw.get(node.header..node.body).unwrap_or_default();
    // Dovecot leaves the header of an empty body alone: nothing was decoded.
    let decoded = is_leaf(node) && node.end > node.body && cte_of(header_block)?.decodes();
    if decoded {
        rewrite_cte(header_block, out);
    } else {
        out.extend_from_slice(header_block);
    }
    body(node, raw, out)
}

fn is_leaf(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Leaf)
}

/// The body of `node`: a leaf decoded, a container with each child
/// converted and everything between them (boundaries, preamble) as is.
fn body(node: &Node, raw: &[u8], out: &mut Vec<u8>) -> Result<(), UnknownCte> {
    let header_block = raw.get(node.header..node.body).unwrap_or_default();
    let cte = cte_of(header_block)?;
    let children: Vec<&Node> = match &node.kind {
        NodeKind::Leaf => {
            let encoded = raw.get(node.body..node.end).unwrap_or_default();
            decode(cte, encoded, out);
            return Ok(());
        }
        NodeKind::Multipart(children) => children.iter().collect(),
        NodeKind::Message(inner) => vec![inner.as_ref()],
    };
    let mut at = node.body;
    for child in children {
        out.extend_from_slice(raw.get(at..child.header).unwrap_or_default());
        entity(child, raw, out)?;
        at = child.end;
    }
    out.extend_from_slice(raw.get(at..node.end).unwrap_or_default());
    Ok(())
}

/// The header without its Content-Transfer-Encoding fields, saying
/// `binary` instead, before the blank line that ends it.
fn rewrite_cte(header_block: &[u8], out: &mut Vec<u8>) {
    for field in header::fields(header_block) {
        if !field
            .name
            .eq_ignore_ascii_case(b"Content-Transfer-Encoding")
        {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"Content-Transfer-Encoding: binary\r\n");
    if header_block.ends_with(b"\n") && ends_with_blank_line(header_block) {
        out.extend_from_slice(b"\r\n");
    }
}

fn ends_with_blank_line(block: &[u8]) -> bool {
    block == b"\n" || block == b"\r\n" || block.ends_with(b"\n\n") || block.ends_with(b"\n\r\n")
}

fn decode(cte: Cte, encoded: &[u8], out: &mut Vec<u8>) {
    match cte {
        Cte::Identity => out.extend_from_slice(encoded),
        Cte::Text => crlf(encoded, out),
        Cte::Base64 => base64(encoded, out),
        Cte::QuotedPrintable => quoted_printable(encoded, out),
    }
}

/// Bare LF line ends become CRLF.
fn crlf(text: &[u8], out: &mut Vec<u8>) {
    let mut previous = 0;
    for &b in text {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
}

/// Lenient base64, as mail clients decode: characters outside the
/// alphabet (line breaks, stray junk) are skipped, decoding stops at the
/// first `=`, and a final incomplete quantum keeps its whole octets.
fn base64(encoded: &[u8], out: &mut Vec<u8>) {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let mut digits: Vec<u8> = encoded
        .iter()
        .copied()
        .take_while(|&b| b != b'=')
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    // A lone sixth-of-a-quantum carries no whole octet.
    if digits.len() % 4 == 1 {
        digits.pop();
    }
    if let Ok(decoded) = LENIENT.decode(&digits) {
        out.extend_from_slice(&decoded);
    }
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` is an octet, `=` at the end of
/// a line joins it to the next, whitespace at the end of a line was added
/// in transport and goes; an `=` that starts neither stays as it is.
fn quoted_printable(encoded: &[u8], out: &mut Vec<u8>) {
    let mut pos = 0;
    while pos < encoded.len() {
        let (content_end, next) = header::line_at(encoded, pos);
        let has_break = next > content_end;
        let line = trim_end_whitespace(&encoded[pos..content_end]);
        let soft_break = line.ends_with(b"=");
        let line = if soft_break {
            &line[..line.len() - 1]
        } else {
            line
        };
        let mut i = 0;
        while i < line.len() {
            let hex = line.get(i + 1..i + 3).and_then(hex_octet);
            match (line[i], hex) {
                (b'=', Some(octet)) => {
                    out.push(octet);
                    i += 3;
                }
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        if has_break && !soft_break {
            out.extend_from_slice(b"\r\n");
        }
        pos = next;
    }
}

fn trim_end_whitespace(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &line[..end]
}

fn hex_octet(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parser::parse;

    fn binary(raw: &[u8], path: &[u32]) -> Result<Option<Vec<u8>>, UnknownCte> {
        let root = Node::from(&parse(raw));
        extract(&root, raw, path)
    }

    fn text(raw: &[u8], path: &[u32]) -> String {
        String::from_utf8_lossy(&binary(raw, path).unwrap().unwrap()).into_owned()
    }

    const MIXED: &[u8] = b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 cr=\r\n=C3=A8me  \r\nend=3D\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\nlf\r\n--b--\r\n";

    #[test]
    fn leaves_are_decoded() {
        assert_eq!(text(MIXED, &[1]), "Café crème\r\nend=");
        assert_eq!(binary(MIXED, &[2]).unwrap().unwrap(), vec![0, 1, 2, 0xff]);
        assert_eq!(text(MIXED, &[3]), "plain\r\nlf");
    }

    #[test]
    fn whole_message_keeps_structure_and_says_binary() {
        let whole = binary(MIXED, &[]).unwrap().unwrap();
        let expected: &[u8] = b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: binary\r\n\r\nCaf\xc3\xa9 cr\xc3\xa8me\r\nend=\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\xff\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\nlf\r\n--b--\r\n";
        assert_eq!(
            String::from_utf8_lossy(&whole),
            String::from_utf8_lossy(expected)
        );
        assert_eq!(whole, expected);
    }

    #[test]
    fn single_part_message_is_part_one() {
        let raw = b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n";
        assert_eq!(text(raw, &[1]), "hello world");
        assert_eq!(
            text(raw, &[]),
            "Content-Transfer-Encoding: binary\r\n\r\nhello world"
        );
    }

    #[test]
    fn embedded_message_is_converted_inside() {
        let raw = b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\na=20b=\r\nc\r\n";
        assert_eq!(
            text(raw, &[1]),
            "Subject: in\r\nContent-Transfer-Encoding: binary\r\n\r\na bc\r\n"
        );
    }

    #[test]
    fn unknown_encoding_fails_and_missing_part_is_none() {
        let raw = b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n";
        assert_eq!(binary(raw, &[1]), Err(UnknownCte));
        assert_eq!(binary(raw, &[]), Err(UnknownCte));
        assert_eq!(binary(MIXED, &[9]), Ok(None));
    }

    #[test]
    fn empty_encoded_body_keeps_its_header() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--b--\r\n";
        assert_eq!(binary(raw, &[]).unwrap().unwrap(), raw.to_vec());
    }

    #[test]
    fn base64_is_lenient() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"aGVsbG8=", b"hello"),
            (b"aGVs\r\nbG8", b"hello"),
            (b"aG Vs*bG8=\r\nignored", b"hello"),
            (b"aGVsbG8gd", b"hello "),
            (b"", b""),
        ];
        for (encoded, decoded) in cases {
            let mut out = Vec::new();
            base64(encoded, &mut out);
            assert_eq!(out, *decoded, "{}", String::from_utf8_lossy(encoded));
        }
    }

    #[test]
    fn quoted_printable_edge_cases() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"a=3db", b"a=b"),
            (b"soft=\r\nbreak", b"softbreak"),
            (b"soft= \t\r\nbreak", b"softbreak"),
            (b"trail \t\r\nx", b"trail\r\nx"),
            (b"bad=ZZ and =", b"bad=ZZ and "),
            (b"lf\nonly", b"lf\r\nonly"),
            (b"=E9t=E9\r\n", b"\xe9t\xe9\r\n"),
        ];
        for (encoded, decoded) in cases {
            let mut out = Vec::new();
            quoted_printable(encoded, &mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(decoded),
                "{}",
                String::from_utf8_lossy(encoded)
            );
        }
    }
}
