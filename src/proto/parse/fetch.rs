//! FETCH arguments: attributes, macros, body sections, partial ranges and
//! RFC 7162 modifiers.

use nom::Parser;
use nom::bytes::complete::{tag, take_while1};
use nom::combinator::{cut, opt};

use crate::proto::command::{CommandBody, FetchAttribute, FetchCommand, Section, SectionText};
use crate::proto::parse::core::{astring_utf8, number, number64, nz_number, paren_list, sp};
use crate::proto::parse::error::{PResult, error, expect, failure};
use crate::proto::parse::sequence::message_set;

/// Letters, digits and dots: the name part of a fetch attribute or of a
/// section text (`BODY.PEEK`, `RFC822.SIZE`, `HEADER.FIELDS.NOT`).
fn word(i: &[u8]) -> PResult<'_, String> {
    let (rest, w) = take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'.')(i)?;
    Ok((rest, String::from_utf8_lossy(w).to_ascii_uppercase()))
}

/// `header-list = "(" header-fld-name *(SP header-fld-name) ")"`
/// `header-fld-name = astring`
fn header_list(i: &[u8]) -> PResult<'_, Vec<String>> {
    paren_list(false, expect("Invalid header field name", astring_utf8)).parse(i)
}

/// `section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list /
/// "TEXT"`, and with `allow_mime` also `section-text = section-msgtext /
/// "MIME"`
fn section_text(i: &[u8], allow_mime: bool) -> PResult<'_, SectionText> {
    let (rest, w) = expect("Invalid section", word).parse(i)?;
    match w.as_str() {
        "HEADER" => Ok((rest, SectionText::Header)),
        "TEXT" => Ok((rest, SectionText::Text)),
        "MIME" if allow_mime => Ok((rest, SectionText::Mime)),
        "MIME" => failure(i, "MIME requires a part number"),
        "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
            let (rest, _) = sp(rest)?;
            let (rest, fields) = header_list(rest)?;
            if w == "HEADER.FIELDS" {
                Ok((rest, SectionText::HeaderFields(fields)))
            } else {
                Ok((rest, SectionText::HeaderFieldsNot(fields)))
            }
        }
        _ => failure(i, "Invalid section"),
    }
}

/// `section-spec = section-msgtext / (section-part ["." section-text])`
/// `section-part = nz-number *("." nz-number)`
fn section_spec(i: &[u8]) -> PResult<'_, Section> {
    if !i.first().is_some_and(u8::is_ascii_digit) {
        let (rest, text) = section_text(i, false)?;
        return Ok((
            rest,
            Section {
                part: vec![],
                text: Some(text),
            },
        ));
    }
    let (mut rest, first) = expect("Invalid section part", nz_number).parse(i)?;
    let mut part = vec![first];
    while let Some(after) = rest.strip_prefix(b".") {
        if after.first().is_some_and(u8::is_ascii_digit) {
            let (r, n) = expect("Invalid section part", nz_number).parse(after)?;
            part.push(n);
            rest = r;
        } else {
            let (r, text) = section_text(after, true)?;
            return Ok((
                r,
                Section {
                    part,
                    text: Some(text),
                },
            ));
        }
    }
    Ok((rest, Section { part, text: None }))
}

/// `section = "[" [section-spec] "]"`
pub fn section(i: &[u8]) -> PResult<'_, Section> {
    let (rest, _) = tag(&b"["[..])(i)?;
    let (rest, spec) = if rest.first() == Some(&b']') {
        (
            rest,
            Section {
                part: vec![],
                text: None,
            },
        )
    } else {
        section_spec(rest)?
    };
    let (rest, _) = expect("Expected ']'", tag(&b"]"[..])).parse(rest)?;
    Ok((rest, spec))
}

/// `section-binary = "[" [section-part] "]"` (RFC 3516)
fn section_binary(i: &[u8]) -> PResult<'_, Vec<u32>> {
    let (mut rest, _) = tag(&b"["[..])(i)?;
    let mut part = Vec::new();
    if rest.first() != Some(&b']') {
        loop {
            let (r, n) = expect("Invalid section part", nz_number).parse(rest)?;
            part.push(n);
            match r.strip_prefix(b".") {
                Some(after) => rest = after,
                None => {
                    rest = r;
                    break;
                }
            }
        }
    }
    let (rest, _) = expect("Expected ']'", tag(&b"]"[..])).parse(rest)?;
    Ok((rest, part))
}

/// `partial = "<" number "." nz-number ">"`
fn partial(i: &[u8]) -> PResult<'_, (u32, u32)> {
    let (rest, _) = tag(&b"<"[..])(i)?;
    let inner = |r| -> PResult<'_, (u32, u32)> {
        let (r, origin) = number(r)?;
        let (r, _) = tag(&b"."[..])(r)?;
        let (r, count) = nz_number(r)?;
        let (r, _) = tag(&b">"[..])(r)?;
        Ok((r, (origin, count)))
    };
    cut(expect("Invalid partial range", inner)).parse(rest)
}

/// `fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER"
/// / ".SIZE" / ".TEXT"] / "BODY" ["STRUCTURE"] / "UID" / "MODSEQ" /
/// "BODY" section [partial] / "BODY.PEEK" section [partial]`, and RFC
/// 3516's `"BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE"
/// section-binary`
pub fn fetch_att(i: &[u8]) -> PResult<'_, FetchAttribute> {
    let (rest, w) = expect("Invalid fetch attribute", word).parse(i)?;
    let simple = match w.as_str() {
        "ENVELOPE" => Some(FetchAttribute::Envelope),
        "FLAGS" => Some(FetchAttribute::Flags),
        "INTERNALDATE" => Some(FetchAttribute::InternalDate),
        "SAVEDATE" => Some(FetchAttribute::SaveDate),
        "RFC822" => Some(FetchAttribute::Rfc822),
        "RFC822.HEADER" => Some(FetchAttribute::Rfc822Header),
        "RFC822.SIZE" => Some(FetchAttribute::Rfc822Size),
        "RFC822.TEXT" => Some(FetchAttribute::Rfc822Text),
        "BODYSTRUCTURE" => Some(FetchAttribute::BodyStructure),
        "UID" => Some(FetchAttribute::Uid),
        "MODSEQ" => Some(FetchAttribute::ModSeq),
        "BODY" if rest.first() != Some(&b'[') => Some(FetchAttribute::Body),
        _ => None,
    };
    if let Some(att) = simple {
        return Ok((rest, att));
    }
    let peek = match w.as_str() {
        "BINARY.SIZE" => {
            let (rest, part) = expect("Invalid section", section_binary).parse(rest)?;
            return Ok((rest, FetchAttribute::BinarySize { part }));
        }
        "BINARY" | "BINARY.PEEK" => {
            let (rest, part) = expect("Invalid section", section_binary).parse(rest)?;
            let (rest, partial) = opt(partial).parse(rest)?;
            let peek = w == "BINARY.PEEK";
            return Ok((
                rest,
                FetchAttribute::Binary {
                    peek,
                    part,
                    partial,
                },
            ));
        }
        "BODY" => false,
        "BODY.PEEK" => true,
        _ => return failure(i, "Unknown fetch attribute"),
    };
    let (rest, section) = expect("Invalid section", section).parse(rest)?;
    let (rest, partial) = opt(partial).parse(rest)?;
    Ok((
        rest,
        FetchAttribute::BodySection {
            peek,
            section,
            partial,
        },
    ))
}

/// `"ALL" / "FULL" / "FAST"` expanded into their attributes.
fn fetch_macro(i: &[u8]) -> PResult<'_, Vec<FetchAttribute>> {
    use FetchAttribute::*;
    let (rest, w) = word(i)?;
    let fast = vec![Flags, InternalDate, Rfc822Size];
    let all = vec![Flags, InternalDate, Rfc822Size, Envelope];
    let atts = match w.as_str() {
        "FAST" => fast,
        "ALL" => all,
        "FULL" => vec![Flags, InternalDate, Rfc822Size, Envelope, Body],
        _ => return error(i, "Not a macro"),
    };
    Ok((rest, atts))
}

/// `"ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")"`
fn fetch_atts(i: &[u8]) -> PResult<'_, Vec<FetchAttribute>> {
    if i.first() == Some(&b'(') {
        return paren_list(false, fetch_att).parse(i);
    }
    if let Ok(ok) = fetch_macro(i) {
        return Ok(ok);
    }
    let (rest, att) = fetch_att(i)?;
    Ok((rest, vec![att]))
}

/// `fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"`
/// `fetch-modifier = "CHANGEDSINCE" SP mod-sequence-valzer / "VANISHED"`
fn fetch_modifiers(i: &[u8]) -> PResult<'_, (Option<u64>, bool)> {
    let (rest, _) = tag(&b" ("[..])(i)?;
    cut(fetch_modifier_list).parse(rest)
}

/// `fetch-modifier *(SP fetch-modifier) ")"`
fn fetch_modifier_list(i: &[u8]) -> PResult<'_, (Option<u64>, bool)> {
    let mut changed_since = None;
    let mut vanished = false;
    let mut rest = i;
    loop {
        let (r, name) = expect("Invalid FETCH modifier", word).parse(rest)?;
        rest = match name.as_str() {
            "CHANGEDSINCE" => {
                let (r, _) = sp(r)?;
                let (r, n) = expect("Invalid CHANGEDSINCE value", number64).parse(r)?;
                changed_since = Some(n);
                r
            }
            "VANISHED" => {
                vanished = true;
                r
            }
            _ => return failure(rest, "Unknown FETCH modifier"),
        };
        match rest.first() {
            Some(b' ') => rest = &rest[1..],
            Some(b')') => break,
            _ => return failure(rest, "Expected ')'"),
        }
    }
    if vanished && changed_since.is_none() {
        return failure(i, "VANISHED requires CHANGEDSINCE");
    }
    Ok((&rest[1..], (changed_since, vanished)))
}

/// `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att
/// / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]`
/// (input starts at the SP after the command name)
pub fn fetch_args(i: &[u8], uid: bool) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, messages) = message_set(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, attributes) = expect("Missing fetch attributes", fetch_atts).parse(rest)?;
    let (rest, modifiers) = opt(fetch_modifiers).parse(rest)?;
    let (changed_since, vanished) = modifiers.unwrap_or((None, false));
    Ok((
        rest,
        CommandBody::Fetch(FetchCommand {
            uid,
            messages,
            attributes,
            changed_since,
            vanished,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use FetchAttribute::*;

    fn sec(part: Vec<u32>, text: Option<SectionText>) -> Section {
        Section { part, text }
    }

    #[test]
    fn sections() {
        assert_eq!(section(b"[]"), Ok((&b""[..], sec(vec![], None))));
        assert_eq!(
            section(b"[1.2.3]"),
            Ok((&b""[..], sec(vec![1, 2, 3], None)))
        );
        assert_eq!(
            section(b"[1.MIME]"),
            Ok((&b""[..], sec(vec![1], Some(SectionText::Mime))))
        );
        assert_eq!(
            section(b"[2.header]"),
            Ok((&b""[..], sec(vec![2], Some(SectionText::Header))))
        );
        assert_eq!(
            section(b"[HEADER.FIELDS.NOT (Subject \"X-a\")]"),
            Ok((
                &b""[..],
                sec(
                    vec![],
                    Some(SectionText::HeaderFieldsNot(vec![
                        "Subject".into(),
                        "X-a".into()
                    ]))
                )
            ))
        );
        for bad in [
            &b"[MIME]"[..],
            b"[1.MIME",
            b"[0]",
            b"[1.0]",
            b"[1.]",
            b"[FOO]",
            b"[HEADER.FIELDS]",
            b"[HEADER.FIELDS ()]",
            b"[1..2]",
            b"[TEXT.MIME]",
        ] {
            assert!(section(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn attributes() {
        assert_eq!(fetch_att(b"body"), Ok((&b""[..], Body)));
        assert_eq!(fetch_att(b"BODYSTRUCTURE"), Ok((&b""[..], BodyStructure)));
        assert_eq!(
            fetch_att(b"BODY.PEEK[1]<0.100>"),
            Ok((
                &b""[..],
                BodySection {
                    peek: true,
                    section: sec(vec![1], None),
                    partial: Some((0, 100)),
                }
            ))
        );
        assert!(fetch_att(b"BODY.PEEK").is_err());
        assert!(fetch_att(b"BODY[]<0.0>").is_err());
        assert!(fetch_att(b"BODY[]<1>").is_err());
        assert!(fetch_att(b"FOO").is_err());
    }

    #[test]
    fn binary_attributes() {
        assert_eq!(
            fetch_att(b"BINARY[]"),
            Ok((
                &b""[..],
                Binary {
                    peek: false,
                    part: vec![],
                    partial: None
                }
            ))
        );
        assert_eq!(
            fetch_att(b"binary.peek[1.2]<5.10>"),
            Ok((
                &b""[..],
                Binary {
                    peek: true,
                    part: vec![1, 2],
                    partial: Some((5, 10))
                }
            ))
        );
        assert_eq!(
            fetch_att(b"BINARY.SIZE[3]"),
            Ok((&b""[..], BinarySize { part: vec![3] }))
        );
        // section-binary holds part numbers only.
        for bad in [
            &b"BINARY"[..],
            b"BINARY[HEADER]",
            b"BINARY[1.MIME]",
            b"BINARY[1.]",
            b"BINARY[0]",
            b"BINARY.SIZE",
            b"BINARY.SIZE[1.TEXT]",
        ] {
            assert!(fetch_att(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn fetch_forms() {
        let Ok((
            rest,
            CommandBody::Fetch(FetchCommand {
                attributes,
                changed_since,
                vanished,
                ..
            }),
        )) = fetch_args(b" 1:* FULL (CHANGEDSINCE 5 VANISHED)", true)
        else {
            panic!("should parse");
        };
        assert_eq!(rest, b"");
        assert_eq!(
            attributes,
            vec![Flags, InternalDate, Rfc822Size, Envelope, Body]
        );
        assert_eq!((changed_since, vanished), (Some(5), true));
        assert!(fetch_args(b" 1 (ALL)", false).is_err());
        assert!(fetch_args(b" 1 (FLAGS) (VANISHED)", true).is_err());
        assert!(fetch_args(b" 1 (FLAGS) (FOO 1)", true).is_err());
        assert!(fetch_args(b" 1 ()", false).is_err());
    }
}
