//! MIME header fields used by BODYSTRUCTURE (RFC 2045, RFC 2183, RFC 3066,
//! RFC 2231): Content-Type, Content-Disposition, Content-Transfer-Encoding
//! and Content-Language.
//!
//! Values keep the sender's spelling and casing and are not decoded:
//! RFC 3501 hands them to the client as sent, and so does Dovecot (our
//! reference). The one transformation is joining RFC 2231 continuations
//! (`name*0`, `name*1*`, ...) into one parameter, so a client sees a
//! single value.

use crate::mail::lexer::{Lexer, is_token_char};

/// A parameter list: (attribute, value) pairs in the order sent.
pub(crate) type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// A parsed Content-Type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentType {
    pub ty: Vec<u8>,
    pub subtype: Vec<u8>,
    pub params: Params,
}

impl ContentType {
    pub(crate) fn is(&self, ty: &str, subtype: &str) -> bool {
        self.ty.eq_ignore_ascii_case(ty.as_bytes())
            && self.subtype.eq_ignore_ascii_case(subtype.as_bytes())
    }

    pub(crate) fn is_type(&self, ty: &str) -> bool {
        self.ty.eq_ignore_ascii_case(ty.as_bytes())
    }

    /// The first parameter named `name` (case-insensitive).
    pub(crate) fn param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// Parses a Content-Type value. `None` when there is no `type/subtype`;
/// RFC 2045 §5.2 says to treat such a field as absent.
pub(crate) fn content_type(value: &[u8]) -> Option<ContentType> {
    let mut lx = Lexer::new(value);
    lx.skip_cfws();
    let ty = lx.token();
    if ty.is_empty() {
        return None;
    }
    lx.skip_cfws();
    if !lx.eat(b'/') {
        return None;
    }
    lx.skip_cfws();
    let subtype = lx.token();
    if subtype.is_empty() {
        return None;
    }
    Some(ContentType {
        ty: ty.to_vec(),
        subtype: subtype.to_vec(),
        params: params(&mut lx),
    })
}

/// A parsed Content-Disposition (RFC 2183).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Disposition {
    pub kind: Vec<u8>,
    pub params: Params,
}

/// Parses a Content-Disposition value; `None` when it has no type token.
pub(crate) fn disposition(value: &[u8]) -> Option<Disposition> {
    let mut lx = Lexer::new(value);
    lx.skip_cfws();
    let kind = lx.token();
    if kind.is_empty() {
        return None;
    }
    Some(Disposition {
        kind: kind.to_vec(),
        params: params(&mut lx),
    })
}

/// Parses Content-Transfer-Encoding: a single token, kept as sent.
/// Anything else (empty, several words) counts as absent, so the caller
/// reports the RFC 2045 default `7bit`.
pub(crate) fn transfer_encoding(value: &[u8]) -> Option<Vec<u8>> {
    let mut lx = Lexer::new(value);
    lx.skip_cfws();
    let tok = lx.token();
    lx.skip_cfws();
    (!tok.is_empty() && lx.at_end()).then(|| tok.to_vec())
}

/// Parses Content-Language: a comma-separated list of language tags.
pub(crate) fn languages(value: &[u8]) -> Vec<Vec<u8>> {
    let mut lx = Lexer::new(value);
    let mut out = Vec::new();
    loop {
        lx.skip_cfws();
        if lx.at_end() {
            break;
        }
        let tag = lx.token();
        if !tag.is_empty() {
            out.push(tag.to_vec());
        }
        lx.skip_cfws();
        if !lx.eat(b',') {
            lx.skip_to(b",");
            if !lx.eat(b',') {
                break;
            }
        }
    }
    out
}

/// Parses `*(";" attribute "=" value)`. A malformed parameter is skipped
/// up to the next `;` and parsing goes on, which keeps the good ones (as
/// Dovecot does for e.g. a missing `;` between two parameters).
fn params(lx: &mut Lexer<'_>) -> Params {
    let mut raw: Params = Vec::new();
    loop {
        lx.skip_cfws();
        if lx.at_end() {
            break;
        }
        if !lx.eat(b';') {
            lx.skip_to(b";");
            continue;
        }
        lx.skip_cfws();
        let key = lx.token();
        if key.is_empty() {
            continue;
        }
        lx.skip_cfws();
        if !lx.eat(b'=') {
            lx.skip_to(b";");
            continue;
        }
        lx.skip_cfws();
        let value = if lx.peek() == Some(b'"') {
            lx.quoted_string()
        } else {
            // Be lenient: unquoted values with tspecials such as
            // `boundary=----=_Part_1` are common and must still work.
            lx.take_while(|b| !matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'('))
                .to_vec()
        };
        raw.push((key.to_vec(), value));
    }
    join_continuations(raw)
}

/// One RFC 2231 continuation segment: (section number, extended, value).
type Segment = (u32, bool, Vec<u8>);

/// Joins RFC 2231 continuations (`a*0`, `a*1*`, ...) into one parameter,
/// named `a*` when any segment is extended (charset'lang'%XX form; plain
/// segments are then %-escaped so the joined value stays well-formed) and
/// `a` otherwise. Parameters without a section number, including a lone
/// `a*`, pass through unchanged. Joined parameters follow the plain ones.
fn join_continuations(raw: Params) -> Params {
    let mut plain = Vec::new();
    let mut groups: Vec<(Vec<u8>, Vec<Segment>)> = Vec::new();
    for (key, value) in raw {
        match split_section(&key) {
            Some((base, n, ext)) => {
                let base = base.to_vec();
                match groups
                    .iter_mut()
                    .find(|(b, _)| b.eq_ignore_ascii_case(&base))
                {
                    Some((_, segs)) => segs.push((n, ext, value)),
                    None => groups.push((base, vec![(n, ext, value)])),
                }
            }
            None => plain.push((key, value)),
        }
    }
    for (base, mut segs) in groups {
        segs.sort_by_key(|s| s.0);
        let extended = segs.iter().any(|s| s.1);
        let mut value = Vec::new();
        for (_, ext, v) in &segs {
            if extended && !ext {
                percent_escape(&mut value, v);
            } else {
                value.extend_from_slice(v);
            }
        }
        let mut key = base;
        if extended {
            key.push(b'*');
        }
        plain.push((key, value));
    }
    plain
}

/// Splits `name*N` / `name*N*` into (name, N, extended).
fn split_section(key: &[u8]) -> Option<(&[u8], u32, bool)> {
    let (key, extended) = match key.strip_suffix(b"*") {
        Some(k) => (k, true),
        None => (key, false),
    };
    let star = key.iter().rposition(|&b| b == b'*')?;
    let digits = &key[star + 1..];
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
    Some((&key[..star], n, extended))
}

fn percent_escape(out: &mut Vec<u8>, v: &[u8]) {
    for &b in v {
        if is_token_char(b) && b.is_ascii() && b != b'*' && b != b'\'' && b != b'%' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[(&str, &str)]) -> Params {
        list.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn content_types() {
        let ct =
            content_type(b" Text/Plain ; charset=\"us-ascii\" (c); Format=flowed").expect("ct");
        assert_eq!(ct.ty, b"Text");
        assert_eq!(ct.subtype, b"Plain");
        assert!(ct.is("text", "plain"));
        assert_eq!(
            ct.params,
            p(&[("charset", "us-ascii"), ("Format", "flowed")])
        );
        assert_eq!(ct.param("FORMAT"), Some(&b"flowed"[..]));
        assert_eq!(content_type(b"text"), None);
        assert_eq!(content_type(b""), None);
        assert_eq!(content_type(b"text/"), None);
        let ct = content_type(b"multipart/mixed; boundary=----=_Part_1.2").expect("ct");
        assert_eq!(ct.param("boundary"), Some(&b"----=_Part_1.2"[..]));
        let ct = content_type(b"image/png; name=\"C:\\TEMP\\x.png\"").expect("ct");
        assert_eq!(ct.param("name"), Some(&b"C:TEMPx.png"[..]));
    }

    #[test]
    fn broken_parameters_are_skipped() {
        let ct = content_type(
            b"message/external-body;\r\n access-type=mail-server\r\n server=\"x@y\";\r\n expiration=\"soon\"",
        )
        .expect("ct");
        assert_eq!(
            ct.params,
            p(&[("access-type", "mail-server"), ("expiration", "soon")])
        );
        let ct = content_type(b"multipart/mixed; boundary=1; comment=\"\"\r\n  comment=\"x\"")
            .expect("ct");
        assert_eq!(ct.params, p(&[("boundary", "1"), ("comment", "")]));
        let ct = content_type(b"text/plain; ; =x; novalue; a=b").expect("ct");
        assert_eq!(ct.params, p(&[("a", "b")]));
    }

    #[test]
    fn rfc2231() {
        let ct = content_type(b"text/plain; name*=\"iso-8859-1''Fr%F6sche.txt\"").expect("ct");
        assert_eq!(ct.params, p(&[("name*", "iso-8859-1''Fr%F6sche.txt")]));
        let ct = content_type(b"text/plain; name*1=\"b c\"; x=y; name*0=\"a\"").expect("ct");
        assert_eq!(ct.params, p(&[("x", "y"), ("name", "ab c")]));
        let ct = content_type(b"text/plain; name*0*=utf-8''%C3%A4; name*1=\" b\"").expect("ct");
        assert_eq!(ct.params, p(&[("name*", "utf-8''%C3%A4%20b")]));
    }

    #[test]
    fn other_fields() {
        let d = disposition(b"attachment;\r\n\tfilename=\"a b.txt\"").expect("disp");
        assert_eq!(d.kind, b"attachment");
        assert_eq!(d.params, p(&[("filename", "a b.txt")]));
        assert_eq!(disposition(b";\r\n  filename=x"), None);
        assert_eq!(
            transfer_encoding(b" Quoted-Printable   "),
            Some(b"Quoted-Printable".to_vec())
        );
        assert_eq!(transfer_encoding(b"8 bit"), None);
        assert_eq!(transfer_encoding(b""), None);
        assert_eq!(
            languages(b" en-GB, (c) fr ,"),
            vec![b"en-GB".to_vec(), b"fr".to_vec()]
        );
        assert!(languages(b"").is_empty());
    }
}
