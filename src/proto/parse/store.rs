//! Flags and the STORE command arguments (RFC 3501 §9, RFC 7162
//! UNCHANGEDSINCE).

use nom::Parser;
use nom::bytes::complete::{tag, tag_no_case};
use nom::combinator::{cut, opt};

use crate::proto::command::{CommandBody, StoreCommand, StoreMode};
use crate::proto::parse::core::{atom, number64, paren_list, sp};
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::sequence::message_set;
use crate::proto::types::Flag;

/// `flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" /
/// flag-keyword / flag-extension` ; `flag-keyword = atom`,
/// `flag-extension = "\" atom` (`\Recent` is parsed so it can be refused)
pub fn flag(i: &[u8]) -> PResult<'_, Flag> {
    let (rest, backslash) = opt(tag(&b"\\"[..])).parse(i)?;
    let (rest, name) = expect("Invalid flag", atom).parse(rest)?;
    let len = i.len() - rest.len();
    let text = String::from_utf8_lossy(&i[..len]);
    match Flag::parse_str(&text) {
        Some(f) if backslash.is_some() == text.starts_with('\\') => Ok((rest, f)),
        _ => failure(name, "Invalid flag"),
    }
}

/// `flag-list = "(" [flag *(SP flag)] ")"`
pub fn flag_list(i: &[u8]) -> PResult<'_, Vec<Flag>> {
    paren_list(true, flag).parse(i)
}

/// `flag-list / (flag *(SP flag))`
fn store_flags(i: &[u8]) -> PResult<'_, Vec<Flag>> {
    if i.first() == Some(&b'(') {
        return flag_list(i);
    }
    let (mut rest, first) = expect("Missing flags", flag).parse(i)?;
    let mut flags = vec![first];
    while let Some(after) = rest.strip_prefix(b" ") {
        let (r, f) = flag(after)?;
        flags.push(f);
        rest = r;
    }
    Ok((rest, flags))
}

/// `store-modifiers = SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"`
fn unchanged_since(i: &[u8]) -> PResult<'_, u64> {
    let (rest, _) = tag(&b" ("[..])(i)?;
    cut(unchanged_since_body).parse(rest)
}

/// `"UNCHANGEDSINCE" SP mod-sequence-valzer ")"`
fn unchanged_since_body(rest: &[u8]) -> PResult<'_, u64> {
    let (rest, _) = expect(
        "Unknown STORE modifier",
        tag_no_case(&b"UNCHANGEDSINCE "[..]),
    )
    .parse(rest)?;
    let (rest, n) = expect("Invalid UNCHANGEDSINCE value", number64).parse(rest)?;
    let (rest, _) = expect("Expected ')'", tag(&b")"[..])).parse(rest)?;
    Ok((rest, n))
}

/// `store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list /
/// (flag *(SP flag)))`
fn store_att_flags(i: &[u8]) -> PResult<'_, (StoreMode, bool, Vec<Flag>)> {
    let (rest, mode) = match i.first() {
        Some(b'+') => (&i[1..], StoreMode::Add),
        Some(b'-') => (&i[1..], StoreMode::Remove),
        _ => (i, StoreMode::Replace),
    };
    let (rest, _) = expect("Expected FLAGS", tag_no_case(&b"FLAGS"[..])).parse(rest)?;
    let (rest, silent) = opt(tag_no_case(&b".SILENT"[..])).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, flags) = store_flags(rest)?;
    Ok((rest, (mode, silent.is_some(), flags)))
}

/// `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`
/// (input starts at the SP after the command name)
pub fn store_args(i: &[u8], uid: bool) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, messages) = message_set(rest)?;
    let (rest, unchanged_since) = opt(unchanged_since).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, (mode, silent, flags)) = store_att_flags(rest)?;
    Ok((
        rest,
        CommandBody::Store(StoreCommand {
            uid,
            messages,
            mode,
            silent,
            flags,
            unchanged_since,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::parse::sequence::parse_sequence_set;
    use crate::proto::types::MessageSet;

    #[test]
    fn flags() {
        assert_eq!(flag(b"\\seen"), Ok((&b""[..], Flag::Seen)));
        assert_eq!(
            flag(b"$Label1)"),
            Ok((&b")"[..], Flag::Keyword("$Label1".into())))
        );
        assert_eq!(
            flag(b"\\X-Ext"),
            Ok((&b""[..], Flag::Extension("\\X-Ext".into())))
        );
        assert!(flag(b"\\*").is_err());
        assert!(flag(b"\\").is_err());
        assert_eq!(
            flag_list(b"(\\Seen \\Deleted foo)"),
            Ok((
                &b""[..],
                vec![Flag::Seen, Flag::Deleted, Flag::Keyword("foo".into())]
            ))
        );
        assert_eq!(flag_list(b"()"), Ok((&b""[..], vec![])));
    }

    #[test]
    fn store_forms() {
        let set = MessageSet::Numbers(parse_sequence_set(b"1:3").expect("set"));
        assert_eq!(
            store_args(b" 1:3 +FLAGS.SILENT \\Seen \\Flagged", false),
            Ok((
                &b""[..],
                CommandBody::Store(StoreCommand {
                    uid: false,
                    messages: set.clone(),
                    mode: StoreMode::Add,
                    silent: true,
                    flags: vec![Flag::Seen, Flag::Flagged],
                    unchanged_since: None,
                })
            ))
        );
        assert_eq!(
            store_args(b" 1:3 (UNCHANGEDSINCE 12) -flags ()", true),
            Ok((
                &b""[..],
                CommandBody::Store(StoreCommand {
                    uid: true,
                    messages: set,
                    mode: StoreMode::Remove,
                    silent: false,
                    flags: vec![],
                    unchanged_since: Some(12),
                })
            ))
        );
        assert!(store_args(b" 1 FLAGS", false).is_err());
        assert!(store_args(b" 1 *FLAGS (\\Seen)", false).is_err());
        assert!(store_args(b" 1 (FOO 1) FLAGS (\\Seen)", false).is_err());
    }
}
