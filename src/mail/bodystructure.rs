//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from a parsed MIME tree.
//!
//! Type, subtype, parameter names and values keep the sender's casing,
//! like Dovecot; RFC 3501 allows either and clients compare them
//! case-insensitively. Sizes and line counts are of the encoded body as
//! stored (CRLF line endings). When a MIME field occurs twice the first
//! one counts, as in Dovecot.

use crate::mail::envelope;
use crate::mail::header::{self, Field};
use crate::mail::mime::{self, Params};
use crate::mail::parser::{Kind, Part};
use crate::proto::encode;

/// Writes BODYSTRUCTURE (`extended`) or BODY (not `extended`) of `part`.
pub(crate) fn write(out: &mut Vec<u8>, raw: &[u8], part: &Part, extended: bool) {
    let header_block = raw.get(part.header..part.body).unwrap_or_default();
    let fields = header::fields(header_block);
    out.push(b'(');
    match &part.kind {
        Kind::Multipart(children) => {
            for child in children {
                write(out, raw, child, extended);
            }
            out.push(b' ');
            let ct = part.content_type.as_ref();
            encode::string(out, ct.map_or(&b"mixed"[..], |c| &c.subtype));
            if extended {
                out.push(b' ');
                write_params(out, ct.map_or(&[][..], |c| &c.params));
                write_extension(out, &fields);
            }
        }
        kind => {
            let (ty, subtype, params) = media_type(part);
            let is_text = ty.eq_ignore_ascii_case(b"text");
            encode::string(out, ty);
            out.push(b' ');
            encode::string(out, subtype);
            out.push(b' ');
            write_params(out, &params);
            out.push(b' ');
            encode::nstring(out, value(&fields, "Content-ID").as_deref());
            out.push(b' ');
            encode::nstring(out, value(&fields, "Content-Description").as_deref());
            out.push(b' ');
            let encoding = header::first(&fields, "Content-Transfer-Encoding")
                .and_then(|f| mime::transfer_encoding(f.value));
            encode::string(out, encoding.as_deref().unwrap_or(b"7bit"));
            let body = raw.get(part.body..part.end).unwrap_or_default();
            out.extend_from_slice(format!(" {}", body.len()).as_bytes());
            if let Kind::Message(inner) = kind {
                out.push(b' ');
                envelope::write(out, raw.get(inner.header..inner.body).unwrap_or_default());
                out.push(b' ');
                write(out, raw, inner, extended);
                out.extend_from_slice(format!(" {}", count_lines(body)).as_bytes());
            } else if is_text {
                out.extend_from_slice(format!(" {}", count_lines(body)).as_bytes());
            }
            if extended {
                out.push(b' ');
                encode::nstring(out, value(&fields, "Content-MD5").as_deref());
                write_extension(out, &fields);
            }
        }
    }
    out.push(b')');
}

/// Type, subtype and parameters of a non-multipart part, with the RFC 2045
/// defaults (text/plain; charset=us-ascii, or message/rfc822 inside
/// multipart/digest). A text part without a charset gets the default one,
/// as Dovecot reports it.
fn media_type(part: &Part) -> (&[u8], &[u8], Params) {
    let Some(ct) = part.content_type.as_ref() else {
        return if part.in_digest && matches!(part.kind, Kind::Message(_)) {
            (b"message", b"rfc822", Vec::new())
        } else if part.in_digest && part.capped {
            (b"application", b"octet-stream", Vec::new())
        } else {
            (
                b"text",
                b"plain",
                vec![(b"charset".to_vec(), b"us-ascii".to_vec())],
            )
        };
    };
    if part.capped {
        // Too deep to parse: present it as opaque data rather than as a
        // container whose contents we cannot describe.
        return (b"application", b"octet-stream", Vec::new());
    }
    if ct.is_type("multipart") {
        // Multipart without a usable boundary: it cannot be split, so it is
        // reported as a single part of unknown type, as Dovecot does.
        return (b"", b"", Vec::new());
    }
    let mut params = ct.params.clone();
    if ct.is_type("text") && ct.param("charset").is_none() {
        params.push((b"charset".to_vec(), b"us-ascii".to_vec()));
    }
    (&ct.ty, &ct.subtype, params)
}

/// Unfolded, trimmed value of the first `name` field.
fn value(fields: &[Field<'_>], name: &str) -> Option<Vec<u8>> {
    header::first(fields, name).map(|f| header::trim(&header::unfold(f.value)).to_vec())
}

/// `body-fld-param`: `("name" "value" ...)` or NIL.
fn write_params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        encode::string(out, k);
        out.push(b' ');
        encode::string(out, v);
    }
    out.push(b')');
}

/// ` disposition language location` (leading space included).
fn write_extension(out: &mut Vec<u8>, fields: &[Field<'_>]) {
    out.push(b' ');
    match header::first(fields, "Content-Disposition").and_then(|f| mime::disposition(f.value)) {
        Some(d) => {
            out.push(b'(');
            encode::string(out, &d.kind);
            out.push(b' ');
            write_params(out, &d.params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    let langs = header::first(fields, "Content-Language")
        .map(|f| mime::languages(f.value))
        .unwrap_or_default();
    if langs.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        for (i, l) in langs.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            encode::string(out, l);
        }
        out.push(b')');
    }
    out.push(b' ');
    encode::nstring(out, value(fields, "Content-Location").as_deref());
}

/// Number of lines: line feeds in the encoded body (a last line without a
/// line break is not counted, matching Dovecot).
fn count_lines(body: &[u8]) -> usize {
    body.iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parser::parse;

    fn bs(raw: &[u8], extended: bool) -> String {
        let mut out = Vec::new();
        write(&mut out, raw, &parse(raw), extended);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn missing_content_type_defaults_to_text_plain() {
        let raw = b"Subject: x\r\n\r\nline1\r\nline2";
        assert_eq!(
            bs(raw, true),
            r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)"#
        );
        assert_eq!(
            bs(raw, false),
            r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1)"#
        );
    }

    #[test]
    fn empty_body_and_header_only() {
        assert_eq!(
            bs(b"Subject: x\r\n\r\n", false),
            r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)"#
        );
        assert_eq!(
            bs(b"Subject: x\r\n", false),
            r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)"#
        );
    }

    #[test]
    fn single_part_with_extension_data() {
        let raw = b"Content-Type: IMAGE/png; name=\"a.png\"\r\nContent-ID: <id@x>\r\nContent-Description: a ball\r\nContent-Transfer-Encoding: BASE64\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\nContent-Disposition: attachment; filename=a.png\r\nContent-Language: en, de\r\nContent-Location: http://x/a.png\r\n\r\nAAAA\r\n";
        assert_eq!(
            bs(raw, true),
            r#"("IMAGE" "png" ("name" "a.png") "<id@x>" "a ball" "BASE64" 6 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "a.png")) ("en" "de") "http://x/a.png")"#
        );
        assert_eq!(
            bs(raw, false),
            r#"("IMAGE" "png" ("name" "a.png") "<id@x>" "a ball" "BASE64" 6)"#
        );
    }

    #[test]
    fn multipart_with_message_inside() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\nContent-Disposition: inline\r\n\r\n<p>\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n";
        assert_eq!(
            bs(raw, true),
            concat!(
                r#"(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 3 0 NIL ("inline" NIL) NIL NIL)"#,
                r#"("message" "rfc822" NIL NIL NIL "7bit" 81 (NIL "in" NIL NIL NIL NIL NIL NIL NIL NIL) "#,
                r#"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL) "alternative" ("boundary" "c") NIL NIL NIL) 7 NIL NIL NIL NIL)"#,
                r#" "mixed" ("boundary" "b") NIL NIL NIL)"#
            )
        );
        assert_eq!(
            bs(raw, false),
            concat!(
                r#"(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 3 0)"#,
                r#"("message" "rfc822" NIL NIL NIL "7bit" 81 (NIL "in" NIL NIL NIL NIL NIL NIL NIL NIL) "#,
                r#"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0) "alternative") 7) "mixed")"#
            )
        );
    }

    #[test]
    fn digest_children_default_to_message_rfc822() {
        let raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n\r\nA\r\n--d\r\nContent-Type: text/plain\r\n\r\nB\r\n--d--\r\n";
        assert_eq!(
            bs(raw, false),
            concat!(
                r#"(("message" "rfc822" NIL NIL NIL "7bit" 15 (NIL "a" NIL NIL NIL NIL NIL NIL NIL NIL) "#,
                r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0) 2)"#,
                r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0) "digest")"#
            )
        );
    }

    #[test]
    fn multipart_without_boundary_is_opaque() {
        let raw =
            b"Content-Type: multipart/mixed\r\n\tboundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(bs(raw, false), r#"("" "" NIL NIL NIL "7bit" 17)"#);
    }
}
