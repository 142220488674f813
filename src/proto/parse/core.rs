//! Core lexical rules: SP, CRLF, atoms, numbers, quoted strings, literals,
//! astring and nstring (RFC 3501 §9).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take, take_while1};
use nom::combinator::{map, opt, value};

use crate::proto::parse::error::{PResult, error, expect, failure};
use crate::proto::types::{is_astring_char, is_atom_char};

/// `SP = %x20`
pub fn sp(i: &[u8]) -> PResult<'_, ()> {
    match i.first() {
        Some(b' ') => Ok((&i[1..], ())),
        None | Some(b'\r' | b'\n') => error(i, "Missing argument"),
        Some(_) => error(i, "Expected a space"),
    }
}

/// `CRLF = CR LF` (a bare LF is accepted too).
pub fn crlf(i: &[u8]) -> PResult<'_, ()> {
    value((), alt((tag(&b"\r\n"[..]), tag(&b"\n"[..])))).parse(i)
}

/// `atom = 1*ATOM-CHAR`
pub fn atom(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while1(is_atom_char)(i)
}

/// `atom`, as an upper-cased string (for keywords and option names).
pub fn atom_upper(i: &[u8]) -> PResult<'_, String> {
    map(atom, |a| String::from_utf8_lossy(a).to_ascii_uppercase()).parse(i)
}

/// `atom`, as a string kept as sent.
pub fn atom_string(i: &[u8]) -> PResult<'_, String> {
    map(atom, |a| String::from_utf8_lossy(a).into_owned()).parse(i)
}

/// `nil = "NIL"`
pub fn nil(i: &[u8]) -> PResult<'_, ()> {
    value((), tag_no_case(&b"NIL"[..])).parse(i)
}

/// `number = 1*DIGIT` ; unsigned 32-bit integer
pub fn number(i: &[u8]) -> PResult<'_, u32> {
    let (rest, digits) = take_while1(|b: u8| b.is_ascii_digit())(i)?;
    match parse_u64(digits).and_then(|n| u32::try_from(n).ok()) {
        Some(n) => Ok((rest, n)),
        None => failure(i, "Number too large"),
    }
}

/// `nz-number = digit-nz *DIGIT` ; non-zero unsigned 32-bit integer
pub fn nz_number(i: &[u8]) -> PResult<'_, u32> {
    if i.first() == Some(&b'0') {
        return error(i, "Number must not be zero");
    }
    number(i)
}

/// `mod-sequence-valzer = "0" / mod-sequence-value` ; RFC 7162, at most
/// 2^63 - 1
pub fn number64(i: &[u8]) -> PResult<'_, u64> {
    let (rest, digits) = take_while1(|b: u8| b.is_ascii_digit())(i)?;
    match parse_u64(digits).filter(|&n| n <= i64::MAX as u64) {
        Some(n) => Ok((rest, n)),
        None => failure(i, "Number too large"),
    }
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `quoted = DQUOTE *QUOTED-CHAR DQUOTE`
/// `QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials`
/// `uQUOTED-CHAR = QUOTED-CHAR / UTF8-2 / UTF8-3 / UTF8-4` (RFC 6855 §3):
/// well-formed UTF-8 is accepted in every state, as mature servers do;
/// whether a mailbox name may be UTF-8 is decided after parsing.
pub fn quoted(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (mut rest, _) = tag(&b"\""[..])(i)?;
    let mut out = Vec::new();
    loop {
        match rest.first() {
            Some(b'"') => return Ok((&rest[1..], out)),
            Some(b'\\') => match rest.get(1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(c);
                    rest = &rest[2..];
                }
                _ => return failure(rest, "Invalid escape in quoted string"),
            },
            Some(&c) if (0x01..0x80).contains(&c) && c != b'\r' && c != b'\n' => {
                out.push(c);
                rest = &rest[1..];
            }
            Some(&c) if c >= 0x80 => {
                let Some(len) = utf8_sequence_len(rest) else {
                    return failure(rest, "Invalid UTF-8 in quoted string");
                };
                out.extend_from_slice(&rest[..len]);
                rest = &rest[len..];
            }
            Some(_) => return failure(rest, "Invalid character in quoted string"),
            None => return failure(rest, "Unterminated quoted string"),
        }
    }
}

/// The length of the well-formed UTF-8 sequence (2 to 4 octets) starting
/// `bytes`, if it is one.
fn utf8_sequence_len(bytes: &[u8]) -> Option<usize> {
    let len = match bytes.first()? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let sequence = bytes.get(..len)?;
    std::str::from_utf8(sequence).ok().map(|_| len)
}

/// `literal = "{" number64 ["+"] "}" CRLF *CHAR8` (RFC 7888 LITERAL+).
/// CHAR8 excludes NUL: a string holding one could not be sent back in a
/// response (only literal8 carries NUL), so it is refused here.
pub fn literal(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, octets) = message_literal(i)?;
    if octets.contains(&0) {
        return failure(rest, "NUL in a literal (CHAR8 excludes it)");
    }
    Ok((rest, octets))
}

/// A `literal` holding a message for APPEND: its octets as-is, NUL
/// included. Strictly CHAR8, but mail with a stray NUL is kept rather than
/// refused (FETCH sends NUL as 0x80).
pub fn message_literal(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, _) = tag(&b"{"[..])(i)?;
    literal_body(rest)
}

/// `literal8 = "~{" number64 ["+"] "}" CRLF *OCTET` (RFC 3516, RFC 7888).
pub fn literal8(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, _) = tag(&b"~{"[..])(i)?;
    literal_body(rest)
}

/// The part of a literal after its opening brace: `number ["+"] "}" CRLF`
/// followed by the octets.
fn literal_body(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, len) = expect("Invalid literal", number64).parse(i)?;
    let (rest, _) = opt(tag(&b"+"[..])).parse(rest)?;
    let (rest, _) = expect("Invalid literal", tag(&b"}"[..])).parse(rest)?;
    let (rest, _) = expect("Literal must end its line", crlf).parse(rest)?;
    let Ok(len) = usize::try_from(len) else {
        return failure(rest, "Truncated literal");
    };
    if rest.len() < len {
        return failure(rest, "Truncated literal");
    }
    map(take(len), <[u8]>::to_vec).parse(rest)
}

/// `string = quoted / literal`
pub fn string(i: &[u8]) -> PResult<'_, Vec<u8>> {
    alt((quoted, literal)).parse(i)
}

/// `astring = 1*ASTRING-CHAR / string`
pub fn astring(i: &[u8]) -> PResult<'_, Vec<u8>> {
    alt((map(take_while1(is_astring_char), <[u8]>::to_vec), string)).parse(i)
}

/// `astring` that must be valid UTF-8 (charset names, header field names).
pub fn astring_utf8(i: &[u8]) -> PResult<'_, String> {
    let (rest, bytes) = astring(i)?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok((rest, s)),
        Err(_) => failure(i, "Invalid UTF-8"),
    }
}

/// `nstring = string / nil`
pub fn nstring(i: &[u8]) -> PResult<'_, Option<Vec<u8>>> {
    alt((map(string, Some), value(None, nil))).parse(i)
}

/// `"(" [item *(SP item)] ")"` — a parenthesised, space-separated list;
/// `allow_empty` permits `()`.
pub fn paren_list<'a, O, P>(
    allow_empty: bool,
    mut item: P,
) -> impl Parser<&'a [u8], Output = Vec<O>, Error = crate::proto::parse::error::PError<'a>>
where
    P: Parser<&'a [u8], Output = O, Error = crate::proto::parse::error::PError<'a>>,
{
    move |i: &'a [u8]| {
        let (mut rest, _) = expect("Expected '('", tag(&b"("[..])).parse(i)?;
        let mut out = Vec::new();
        if let Ok((r, _)) = tag::<_, _, ()>(&b")"[..])(rest) {
            if allow_empty {
                return Ok((r, out));
            }
            return failure(rest, "Empty list");
        }
        loop {
            let (r, v) = item.parse(rest)?;
            out.push(v);
            match r.first() {
                Some(b' ') => rest = &r[1..],
                Some(b')') => return Ok((&r[1..], out)),
                _ => return failure(r, "Expected ')'"),
            }
        }
    }
}

/// Skips nothing; succeeds only at the end of input (after the final CRLF).
pub fn eof(i: &[u8]) -> PResult<'_, ()> {
    if i.is_empty() {
        Ok((i, ()))
    } else {
        error(i, "Unexpected characters after command")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_and_numbers() {
        assert_eq!(atom(b"abc def"), Ok((&b" def"[..], &b"abc"[..])));
        assert!(atom(b"(x").is_err());
        assert!(atom(b"\x00x").is_err());
        assert_eq!(number(b"4294967295x"), Ok((&b"x"[..], u32::MAX)));
        assert!(number(b"4294967296").is_err());
        assert!(nz_number(b"0").is_err());
        assert!(nz_number(b"01").is_err());
        assert_eq!(
            number64(b"9223372036854775807"),
            Ok((&b""[..], i64::MAX as u64))
        );
        assert!(number64(b"9223372036854775808").is_err());
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(
            quoted(br#""a\"b\\c" "#),
            Ok((&b" "[..], br#"a"b\c"#.to_vec()))
        );
        assert_eq!(quoted(b"\"\""), Ok((&b""[..], vec![])));
        assert!(quoted(b"\"abc").is_err());
        assert!(quoted(b"\"a\\b\"").is_err());
        assert_eq!(
            quoted(b"\"caf\xc3\xa9\""),
            Ok((&b""[..], b"caf\xc3\xa9".to_vec()))
        );
        assert!(quoted(b"\"caf\xc3\"").is_err(), "truncated sequence");
        assert!(quoted(b"\"\xff\"").is_err());
        assert!(quoted(b"\"\xc0\xaf\"").is_err(), "overlong encoding");
        assert!(quoted(b"\"\xed\xa0\x80\"").is_err(), "surrogate");
        assert!(quoted(b"\"a\rb\"").is_err());
        assert!(quoted(b"\"a\0b\"").is_err());
    }

    #[test]
    fn literals() {
        assert!(literal(b"{3}\r\na\0\xff rest").is_err());
        assert_eq!(
            message_literal(b"{3}\r\na\0\xff rest"),
            Ok((&b" rest"[..], b"a\0\xff".to_vec()))
        );
        assert_eq!(literal(b"{2+}\r\n\r\n"), Ok((&b""[..], b"\r\n".to_vec())));
        assert_eq!(literal(b"{0}\n"), Ok((&b""[..], vec![])));
        assert_eq!(literal8(b"~{1}\r\n\0"), Ok((&b""[..], vec![0])));
        assert!(literal(b"{5}\r\nabc").is_err());
        assert!(literal(b"{3} \r\nabc").is_err());
        assert!(literal(b"{99999999999999999999}\r\n").is_err());
        assert!(literal(b"{}\r\n").is_err());
    }

    #[test]
    fn astrings_and_nstrings() {
        assert_eq!(astring(b"a]b c"), Ok((&b" c"[..], b"a]b".to_vec())));
        assert_eq!(astring(b"\"x y\""), Ok((&b""[..], b"x y".to_vec())));
        assert_eq!(astring(b"{1}\r\nz"), Ok((&b""[..], b"z".to_vec())));
        assert!(astring(b"(").is_err());
        assert!(astring(b"").is_err());
        assert_eq!(nstring(b"nil"), Ok((&b""[..], None)));
        assert_eq!(nstring(b"\"NIL\""), Ok((&b""[..], Some(b"NIL".to_vec()))));
        assert!(nstring(b"abc").is_err());
    }

    #[test]
    fn lists() {
        let mut p = paren_list(true, atom_upper);
        assert_eq!(
            p.parse(b"(a b)"),
            Ok((&b""[..], vec!["A".into(), "B".into()]))
        );
        assert_eq!(p.parse(b"()"), Ok((&b""[..], vec![])));
        assert!(p.parse(b"(a  b)").is_err());
        assert!(p.parse(b"(a b").is_err());
        assert!(paren_list(false, atom).parse(b"()").is_err());
    }
}
