//! SEARCH arguments (RFC 3501 §9 `search`, RFC 4466/4731 `RETURN`, RFC 7162
//! `MODSEQ`). Nesting of parentheses, NOT and OR is capped.

use nom::Parser;
use nom::bytes::complete::tag_no_case;
use nom::combinator::opt;

use crate::proto::command::{CommandBody, SearchCommand, SearchKey};
use crate::proto::parse::core::{
    astring, astring_utf8, atom_string, atom_upper, number, number64, paren_list, quoted, sp,
};
use crate::proto::parse::datetime::date;
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::sequence::{message_set, sequence_set};
use crate::proto::types::MessageSet;

/// Deepest nesting of `(`, `NOT` and `OR` accepted in one search program.
pub const MAX_SEARCH_DEPTH: usize = 64;

/// `search-key` at nesting level 0.
pub fn search_key(i: &[u8]) -> PResult<'_, SearchKey> {
    search_key_at(i, 0)
}

/// `search-key = "ALL" / "ANSWERED" / "BCC" SP astring / ... /
/// sequence-set / "(" search-key *(SP search-key) ")"`, `depth` levels deep
fn search_key_at(i: &[u8], depth: usize) -> PResult<'_, SearchKey> {
    if depth > MAX_SEARCH_DEPTH {
        return failure(i, "Search nesting too deep");
    }
    match i.first() {
        Some(b'(') => {
            let (rest, keys) = paren_list(false, |r| search_key_at(r, depth + 1)).parse(i)?;
            Ok((rest, SearchKey::And(keys)))
        }
        Some(b) if b.is_ascii_digit() || *b == b'*' => {
            let (rest, set) = sequence_set(i)?;
            Ok((rest, SearchKey::SequenceSet(set)))
        }
        Some(b'$') => saved(i),
        _ => keyword_key(i, depth),
    }
}

/// `$` (RFC 5182) as a search key, alone or after `UID`: the saved
/// result is a set of messages either way.
fn saved(i: &[u8]) -> PResult<'_, SearchKey> {
    match message_set(i)? {
        (rest, MessageSet::Saved) => Ok((rest, SearchKey::Saved)),
        _ => failure(i, "Invalid sequence set"),
    }
}

/// The keyword forms of `search-key`.
fn keyword_key(i: &[u8], depth: usize) -> PResult<'_, SearchKey> {
    use SearchKey as K;
    let (rest, name) = expect("Missing search key", atom_upper).parse(i)?;
    let string_arg = |r, f: fn(Vec<u8>) -> SearchKey| -> PResult<'_, SearchKey> {
        let (r, _) = sp(r)?;
        let (r, s) = expect("Missing search string", astring).parse(r)?;
        Ok((r, f(s)))
    };
    let date_arg = |r, f: fn(chrono::NaiveDate) -> SearchKey| -> PResult<'_, SearchKey> {
        let (r, _) = sp(r)?;
        let (r, d) = date(r)?;
        Ok((r, f(d)))
    };
    let number_arg = |r, f: fn(u32) -> SearchKey| -> PResult<'_, SearchKey> {
        let (r, _) = sp(r)?;
        let (r, n) = expect("Invalid number", number).parse(r)?;
        Ok((r, f(n)))
    };
    let keyword_arg = |r, f: fn(String) -> SearchKey| -> PResult<'_, SearchKey> {
        let (r, _) = sp(r)?;
        let (r, k) = expect("Invalid keyword", atom_string).parse(r)?;
        Ok((r, f(k)))
    };
    let simple = match name.as_str() {
        "ALL" => Some(K::All),
        "SAVEDATESUPPORTED" => Some(K::SaveDateSupported),
        "ANSWERED" => Some(K::Answered),
        "DELETED" => Some(K::Deleted),
        "DRAFT" => Some(K::Draft),
        "FLAGGED" => Some(K::Flagged),
        "NEW" => Some(K::New),
        "OLD" => Some(K::Old),
        "RECENT" => Some(K::Recent),
        "SEEN" => Some(K::Seen),
        "UNANSWERED" => Some(K::Unanswered),
        "UNDELETED" => Some(K::Undeleted),
        "UNDRAFT" => Some(K::Undraft),
        "UNFLAGGED" => Some(K::Unflagged),
        "UNSEEN" => Some(K::Unseen),
        _ => None,
    };
    if let Some(key) = simple {
        return Ok((rest, key));
    }
    match name.as_str() {
        "BCC" => string_arg(rest, K::Bcc),
        "BODY" => string_arg(rest, K::Body),
        "CC" => string_arg(rest, K::Cc),
        "FROM" => string_arg(rest, K::From),
        "SUBJECT" => string_arg(rest, K::Subject),
        "TEXT" => string_arg(rest, K::Text),
        "TO" => string_arg(rest, K::To),
        "BEFORE" => date_arg(rest, K::Before),
        "ON" => date_arg(rest, K::On),
        "SINCE" => date_arg(rest, K::Since),
        "SENTBEFORE" => date_arg(rest, K::SentBefore),
        "SENTON" => date_arg(rest, K::SentOn),
        "SAVEDBEFORE" => date_arg(rest, K::SavedBefore),
        "SAVEDON" => date_arg(rest, K::SavedOn),
        "SAVEDSINCE" => date_arg(rest, K::SavedSince),
        "SENTSINCE" => date_arg(rest, K::SentSince),
        "LARGER" => number_arg(rest, K::Larger),
        "SMALLER" => number_arg(rest, K::Smaller),
        "OLDER" => number_arg(rest, K::Older),
        "YOUNGER" => number_arg(rest, K::Younger),
        "KEYWORD" => keyword_arg(rest, K::Keyword),
        "UNKEYWORD" => keyword_arg(rest, K::Unkeyword),
        "HEADER" => {
            let (r, _) = sp(rest)?;
            let (r, field) = expect("Missing header field name", astring_utf8).parse(r)?;
            let (r, _) = sp(r)?;
            let (r, value) = expect("Missing search string", astring).parse(r)?;
            Ok((r, K::Header(field, value)))
        }
        "UID" => {
            let (r, _) = sp(rest)?;
            if r.first() == Some(&b'$') {
                return saved(r);
            }
            let (r, set) = sequence_set(r)?;
            Ok((r, K::Uid(set)))
        }
        "NOT" => {
            let (r, _) = sp(rest)?;
            let (r, key) = search_key_at(r, depth + 1)?;
            Ok((r, K::Not(Box::new(key))))
        }
        "OR" => {
            let (r, _) = sp(rest)?;
            let (r, a) = search_key_at(r, depth + 1)?;
            let (r, _) = sp(r)?;
            let (r, b) = search_key_at(r, depth + 1)?;
            Ok((r, K::Or(Box::new(a), Box::new(b))))
        }
        "MODSEQ" => modseq(rest),
        _ => failure(i, "Unknown search key"),
    }
}

/// `search-modsequence = "MODSEQ" [search-modseq-ext] SP
/// mod-sequence-valzer` ; `search-modseq-ext = SP entry-name SP
/// entry-type-req` (the entry is accepted and ignored)
fn modseq(i: &[u8]) -> PResult<'_, SearchKey> {
    let (rest, _) = sp(i)?;
    let rest = if rest.first() == Some(&b'"') {
        let (r, _) = quoted(rest)?;
        let (r, _) = sp(r)?;
        let (r, kind) = expect("Invalid MODSEQ entry type", atom_upper).parse(r)?;
        if !matches!(kind.as_str(), "PRIV" | "SHARED" | "ALL") {
            return failure(r, "Invalid MODSEQ entry type");
        }
        let (r, _) = sp(r)?;
        r
    } else {
        rest
    };
    let (rest, n) = expect("Invalid MODSEQ value", number64).parse(rest)?;
    Ok((rest, SearchKey::ModSeq(n)))
}

/// `search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP
/// search-return-opt)] ")"` (options upper-cased)
/// ` RETURN (...)` of SEARCH (RFC 4731) and SORT (RFC 5267).
pub fn return_opts(i: &[u8]) -> PResult<'_, Vec<String>> {
    let (rest, _) = tag_no_case(&b" RETURN "[..])(i)?;
    expect("Invalid RETURN options", paren_list(true, atom_upper)).parse(rest)
}

/// `search = "SEARCH" [search-return-opts] SP ["CHARSET" SP astring SP]
/// search-key *(SP search-key)` (input starts after the command name)
pub fn search_args(i: &[u8], uid: bool) -> PResult<'_, CommandBody> {
    let (rest, return_options) = opt(return_opts).parse(i)?;
    let (rest, _) = sp(rest)?;
    let (rest, charset) = match tag_no_case::<_, _, ()>(&b"CHARSET "[..])(rest) {
        Ok((r, _)) => {
            let (r, cs) = expect("Missing charset", astring_utf8).parse(r)?;
            let (r, _) = sp(r)?;
            (r, Some(cs))
        }
        Err(_) => (rest, None),
    };
    let (rest, criteria) = search_program(rest)?;
    Ok((
        rest,
        CommandBody::Search(SearchCommand {
            uid,
            charset,
            criteria,
            return_options,
        }),
    ))
}

/// `search-key *(SP search-key)`, as one `SearchKey::And` (SEARCH, SORT
/// and THREAD end with it).
pub fn search_program(i: &[u8]) -> PResult<'_, SearchKey> {
    let (mut rest, first) = search_key(i)?;
    let mut keys = vec![first];
    while let Some(after) = rest.strip_prefix(b" ") {
        let (r, key) = search_key(after)?;
        keys.push(key);
        rest = r;
    }
    Ok((rest, SearchKey::And(keys)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::parse::sequence::parse_sequence_set;
    use SearchKey as K;
    use chrono::NaiveDate;

    fn key(s: &[u8]) -> SearchKey {
        match search_key(s) {
            Ok(([], k)) => k,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys() {
        assert_eq!(key(b"all"), K::All);
        assert_eq!(key(b"FROM \"a b\""), K::From(b"a b".to_vec()));
        assert_eq!(key(b"SUBJECT {3}\r\nfoo"), K::Subject(b"foo".to_vec()));
        assert_eq!(
            key(b"HEADER Message-ID <x@y>"),
            K::Header("Message-ID".into(), b"<x@y>".to_vec())
        );
        assert_eq!(key(b"HEADER X-Foo \"\""), K::Header("X-Foo".into(), vec![]));
        assert_eq!(
            key(b"since \"1-Feb-1994\""),
            K::Since(NaiveDate::from_ymd_opt(1994, 2, 1).expect("date"))
        );
        assert_eq!(key(b"LARGER 1000"), K::Larger(1000));
        assert_eq!(key(b"older 60"), K::Older(60));
        assert_eq!(key(b"YOUNGER 3600"), K::Younger(3600));
        assert_eq!(key(b"KEYWORD $Junk"), K::Keyword("$Junk".into()));
        let set = parse_sequence_set(b"1:5,*").expect("set");
        assert_eq!(key(b"1:5,*"), K::SequenceSet(set.clone()));
        assert_eq!(key(b"UID 1:5,*"), K::Uid(set));
        // RFC 5182: `$` alone or after UID is the saved result.
        assert_eq!(key(b"$"), K::Saved);
        assert_eq!(key(b"UID $"), K::Saved);
        assert_eq!(key(b"NOT $"), K::Not(Box::new(K::Saved)));
        assert_eq!(key(b"MODSEQ 7"), K::ModSeq(7));
        assert_eq!(
            key(b"MODSEQ \"/flags/\\\\draft\" all 620162338"),
            K::ModSeq(620162338)
        );
        assert_eq!(
            key(b"OR (SEEN) NOT DELETED"),
            K::Or(
                Box::new(K::And(vec![K::Seen])),
                Box::new(K::Not(Box::new(K::Deleted)))
            )
        );
    }

    #[test]
    fn bad_keys() {
        for bad in [
            &b"FOO"[..],
            b"FROM",
            b"LARGER x",
            b"SINCE 1-Foo-2000",
            b"OR SEEN",
            b"()",
            b"(SEEN",
            b"NOT",
            b"UID",
            b"MODSEQ \"x\" bogus 1",
            b"HEADER Subject",
            b"$1",
            b"$,2",
            b"UID $:3",
        ] {
            assert!(
                search_key(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn nesting_is_capped() {
        let ok = format!(
            "{}ALL{}",
            "(".repeat(MAX_SEARCH_DEPTH),
            ")".repeat(MAX_SEARCH_DEPTH)
        );
        assert!(search_key(ok.as_bytes()).is_ok());
        for deep in [
            format!("{}ALL{}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("{}ALL", "NOT ".repeat(10_000)),
            format!("{}ALL{}", "OR ALL ".repeat(10_000), ""),
        ] {
            assert!(search_key(deep.as_bytes()).is_err());
        }
    }

    #[test]
    fn program() {
        let Ok((rest, body)) = search_args(b" RETURN (min Count) CHARSET UTF-8 ALL SEEN", true)
        else {
            panic!("should parse");
        };
        assert_eq!(rest, b"");
        assert_eq!(
            body,
            CommandBody::Search(SearchCommand {
                uid: true,
                charset: Some("UTF-8".into()),
                criteria: K::And(vec![K::All, K::Seen]),
                return_options: Some(vec!["MIN".into(), "COUNT".into()]),
            })
        );
        assert!(search_args(b" RETURN () ALL", false).is_ok());
        assert!(search_args(b" CHARSET UTF-8", false).is_err());
        assert!(search_args(b"", false).is_err());
    }
}
