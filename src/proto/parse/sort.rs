//! SORT arguments (RFC 5256 §4 `sort`, RFC 5957 DISPLAYFROM/DISPLAYTO,
//! RFC 5267 `RETURN`).

use nom::Parser;
use nom::combinator::opt;

use crate::proto::command::{CommandBody, SortCommand, SortCriterion, SortKey};
use crate::proto::parse::core::{astring_utf8, atom_upper, paren_list, sp};
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::search::{return_opts, search_program};

/// `sort = ["UID" SP] "SORT" [SP "RETURN" SP (...)] SP sort-criteria SP
/// search-charset 1*(SP search-key)` (input starts after the name).
pub fn sort_args(i: &[u8], uid: bool) -> PResult<'_, CommandBody> {
    let (rest, return_options) = opt(return_opts).parse(i)?;
    let (rest, _) = sp(rest)?;
    let (rest, keys) = expect("Invalid sort criteria", paren_list(false, sort_key)).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, charset) = expect("Missing charset", astring_utf8).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, criteria) = search_program(rest)?;
    Ok((
        rest,
        CommandBody::Sort(SortCommand {
            uid,
            keys,
            charset,
            criteria,
            return_options,
        }),
    ))
}

/// `sort-criterion = ["REVERSE" SP] sort-key`
fn sort_key(i: &[u8]) -> PResult<'_, SortKey> {
    use SortCriterion as S;
    let (rest, word) = expect("Missing sort key", atom_upper).parse(i)?;
    if word == "REVERSE" {
        let (rest, _) = sp(rest)?;
        let (rest, key) = sort_key(rest)?;
        if key.reverse {
            return failure(i, "REVERSE REVERSE");
        }
        return Ok((
            rest,
            SortKey {
                reverse: true,
                ..key
            },
        ));
    }
    let criterion = match word.as_str() {
        "ARRIVAL" => S::Arrival,
        "CC" => S::Cc,
        "DATE" => S::Date,
        "FROM" => S::From,
        "SIZE" => S::Size,
        "SUBJECT" => S::Subject,
        "TO" => S::To,
        "DISPLAYFROM" => S::DisplayFrom,
        "DISPLAYTO" => S::DisplayTo,
        _ => return failure(i, "Unknown sort key"),
    };
    Ok((
        rest,
        SortKey {
            reverse: false,
            criterion,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::SearchKey;

    fn parse(args: &str) -> Result<SortCommand, String> {
        match sort_args(args.as_bytes(), false) {
            Ok((b"", CommandBody::Sort(c))) => Ok(c),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn sort_commands() {
        let c = parse(" (REVERSE date subject displayFROM) UTF-8 ALL").unwrap();
        assert_eq!(
            c.keys,
            [
                SortKey {
                    reverse: true,
                    criterion: SortCriterion::Date
                },
                SortKey {
                    reverse: false,
                    criterion: SortCriterion::Subject
                },
                SortKey {
                    reverse: false,
                    criterion: SortCriterion::DisplayFrom
                },
            ]
        );
        assert_eq!(c.charset, "UTF-8");
        assert_eq!(c.criteria, SearchKey::And(vec![SearchKey::All]));
        assert_eq!(c.return_options, None);
        let c = parse(" RETURN (MIN COUNT) (ARRIVAL) US-ASCII UNSEEN 1:3").unwrap();
        assert_eq!(c.return_options, Some(vec!["MIN".into(), "COUNT".into()]));
        assert!(matches!(c.criteria, SearchKey::And(ref keys) if keys.len() == 2));
        for bad in [
            " () UTF-8 ALL",
            " (DATE) ALL",
            " (DATE)",
            " (REVERSE) UTF-8 ALL",
            " (REVERSE REVERSE DATE) UTF-8 ALL",
            " (COLOUR) UTF-8 ALL",
            " DATE UTF-8 ALL",
            " (DATE) UTF-8",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
