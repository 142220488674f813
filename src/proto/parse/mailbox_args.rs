//! Arguments of the mailbox commands: SELECT/EXAMINE parameters (RFC 7162),
//! CREATE (RFC 6154 USE), LIST (RFC 5258), LSUB/XLIST, STATUS and APPEND.

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case};
use nom::combinator::{cut, opt};
use nom::sequence::preceded;

use crate::proto::command::{CommandBody, ListCommand, ListReturn, QresyncParams};
use crate::proto::parse::core::{
    atom_upper, literal8, message_literal, number64, nz_number, paren_list, sp,
};
use crate::proto::parse::datetime::date_time;
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::mailbox::{list_mailbox, mailbox};
use crate::proto::parse::sequence::sequence_set;
use crate::proto::parse::store::flag_list;
use crate::proto::types::StatusItem;

/// Parsed `select-params`: (CONDSTORE given, QRESYNC parameters).
type SelectParams = (bool, Option<QresyncParams>);

/// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`
fn seq_match_data(i: &[u8]) -> PResult<'_, (crate::proto::SequenceSet, crate::proto::SequenceSet)> {
    let (rest, _) = tag(&b"("[..])(i)?;
    let (rest, seqs) = sequence_set(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, uids) = sequence_set(rest)?;
    let (rest, _) = expect("Expected ')'", tag(&b")"[..])).parse(rest)?;
    Ok((rest, (seqs, uids)))
}

/// `qresync-params = "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
/// [SP known-uids] [SP seq-match-data] ")"` (after the `QRESYNC` word)
fn qresync_params(i: &[u8]) -> PResult<'_, QresyncParams> {
    let (rest, _) = sp(i)?;
    let (rest, _) = expect("Expected '('", tag(&b"("[..])).parse(rest)?;
    let (rest, uidvalidity) = expect("Invalid UIDVALIDITY", nz_number).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, modseq) = expect("Invalid mod-sequence", number64).parse(rest)?;
    let (rest, known_uids) = opt(preceded(tag(&b" "[..]), sequence_set)).parse(rest)?;
    let (rest, seq_match) = opt(preceded(tag(&b" "[..]), seq_match_data)).parse(rest)?;
    let (rest, _) = expect("Expected ')'", tag(&b")"[..])).parse(rest)?;
    Ok((
        rest,
        QresyncParams {
            uidvalidity,
            modseq,
            known_uids,
            seq_match,
        },
    ))
}

/// `select-params = SP "(" select-param *(SP select-param) ")"`
/// `select-param = "CONDSTORE" / qresync-params`
fn select_params(i: &[u8]) -> PResult<'_, SelectParams> {
    let (mut rest, _) = tag(&b" ("[..])(i)?;
    let mut condstore = false;
    let mut qresync = None;
    loop {
        let (r, name) = expect("Invalid SELECT parameter", atom_upper).parse(rest)?;
        rest = match name.as_str() {
            "CONDSTORE" => {
                condstore = true;
                r
            }
            "QRESYNC" => {
                let (r, q) = cut(qresync_params).parse(r)?;
                qresync = Some(q);
                r
            }
            _ => return failure(rest, "Unknown SELECT parameter"),
        };
        match rest.first() {
            Some(b' ') => rest = &rest[1..],
            Some(b')') => return Ok((&rest[1..], (condstore, qresync))),
            _ => return failure(rest, "Expected ')'"),
        }
    }
}

/// `select = "SELECT" SP mailbox [select-params]` (and EXAMINE)
pub fn select_args(i: &[u8], examine: bool) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, params) = opt(select_params).parse(rest)?;
    let (condstore, qresync) = params.unwrap_or((false, None));
    let body = if examine {
        CommandBody::Examine {
            mailbox,
            condstore,
            qresync,
        }
    } else {
        CommandBody::Select {
            mailbox,
            condstore,
            qresync,
        }
    };
    Ok((rest, body))
}

/// `use-attr = "\All" / "\Archive" / ... / "\" atom` (kept as sent)
fn use_attr(i: &[u8]) -> PResult<'_, String> {
    let (rest, _) = expect("Invalid special-use attribute", tag(&b"\\"[..])).parse(i)?;
    let (rest, name) = expect(
        "Invalid special-use attribute",
        crate::proto::parse::core::atom_string,
    )
    .parse(rest)?;
    Ok((rest, format!("\\{name}")))
}

/// `create = "CREATE" SP mailbox [SP "(" "USE" SP "(" [use-attr *(SP
/// use-attr)] ")" ")"]` (RFC 6154)
pub fn create_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, special_use) = match tag::<_, _, ()>(&b" ("[..])(rest) {
        Ok((r, _)) => {
            let (r, _) = expect("Unknown CREATE parameter", tag_no_case(&b"USE "[..])).parse(r)?;
            let (r, attrs) = paren_list(true, use_attr).parse(r)?;
            let (r, _) = expect("Expected ')'", tag(&b")"[..])).parse(r)?;
            (r, attrs)
        }
        Err(_) => (rest, vec![]),
    };
    Ok((
        rest,
        CommandBody::Create {
            mailbox,
            special_use,
        },
    ))
}

/// `status-att = "MESSAGES" / "RECENT" / "UIDNEXT" / "UIDVALIDITY" /
/// "UNSEEN" / "HIGHESTMODSEQ" / "SIZE" / "DELETED"`
fn status_att(i: &[u8]) -> PResult<'_, StatusItem> {
    let (rest, name) = expect("Invalid status item", atom_upper).parse(i)?;
    match StatusItem::from_name(&name) {
        Some(item) => Ok((rest, item)),
        None => failure(i, "Unknown status item"),
    }
}

/// `"(" status-att *(SP status-att) ")"`
fn status_atts(i: &[u8]) -> PResult<'_, Vec<StatusItem>> {
    paren_list(false, status_att).parse(i)
}

/// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
pub fn status_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, items) = expect("Missing status items", status_atts).parse(rest)?;
    Ok((rest, CommandBody::Status { mailbox, items }))
}

/// `return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP
/// "(" status-att *(SP status-att) ")" / option-extension`
fn list_return_option(i: &[u8]) -> PResult<'_, ListReturn> {
    let (rest, name) = expect("Invalid LIST return option", atom_upper).parse(i)?;
    match name.as_str() {
        "SUBSCRIBED" => Ok((rest, ListReturn::Subscribed)),
        "CHILDREN" => Ok((rest, ListReturn::Children)),
        "SPECIAL-USE" => Ok((rest, ListReturn::SpecialUse)),
        "STATUS" => {
            let (rest, _) = sp(rest)?;
            let (rest, items) = status_atts(rest)?;
            Ok((rest, ListReturn::Status(items)))
        }
        _ => Ok((rest, ListReturn::Other(name))),
    }
}

/// `list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)]
/// ")"` (preceded by SP)
fn list_return_opts(i: &[u8]) -> PResult<'_, Vec<ListReturn>> {
    let (rest, _) = tag_no_case(&b" RETURN "[..])(i)?;
    cut(paren_list(true, list_return_option)).parse(rest)
}

/// `mbox-or-pat = list-mailbox / patterns` ; `patterns = "(" list-mailbox
/// *(SP list-mailbox) ")"`
fn mbox_or_pat(i: &[u8]) -> PResult<'_, Vec<Vec<u8>>> {
    alt((paren_list(false, list_mailbox), |r| {
        list_mailbox(r).map(|(r, p)| (r, vec![p]))
    }))
    .parse(i)
}

/// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP
/// list-return-opts]` ; `list-select-opts = "(" [list-select-option *(SP
/// list-select-option)] ")"` (options upper-cased)
pub fn list_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, selection_options) = if rest.first() == Some(&b'(') {
        let (r, opts) = paren_list(true, atom_upper).parse(rest)?;
        let (r, _) = sp(r)?;
        (r, opts)
    } else {
        (rest, vec![])
    };
    let (rest, reference) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, patterns) = mbox_or_pat(rest)?;
    let (rest, return_options) = opt(list_return_opts).parse(rest)?;
    Ok((
        rest,
        CommandBody::List(ListCommand {
            selection_options,
            reference,
            patterns,
            return_options: return_options.unwrap_or_default(),
        }),
    ))
}

/// `lsub = "LSUB" SP mailbox SP list-mailbox` (and XLIST); returns
/// (reference, pattern)
pub fn lsub_args(i: &[u8]) -> PResult<'_, (Vec<u8>, Vec<u8>)> {
    let (rest, _) = sp(i)?;
    let (rest, reference) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, pattern) = list_mailbox(rest)?;
    Ok((rest, (reference, pattern)))
}

/// `append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP
/// (literal / literal8)`
/// `append-data =/ "UTF8" SP "(" literal8 ")"` (RFC 6855 §4): a message
/// with UTF-8 headers; stored like any other.
fn utf8_data(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, _) = tag_no_case(&b"UTF8 ("[..])(i)?;
    let (rest, message) = literal8(rest)?;
    let (rest, _) = tag(&b")"[..])(rest)?;
    Ok((rest, message))
}

pub fn append_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, flags) = match rest.first() {
        Some(b'(') => {
            let (r, flags) = flag_list(rest)?;
            let (r, _) = sp(r)?;
            (r, flags)
        }
        _ => (rest, vec![]),
    };
    let (rest, internal_date) = match rest.first() {
        Some(b'"') => {
            let (r, dt) = date_time(rest)?;
            let (r, _) = sp(r)?;
            (r, Some(dt))
        }
        _ => (rest, None),
    };
    let (rest, message) = expect(
        "Missing message literal",
        alt((message_literal, literal8, utf8_data)),
    )
    .parse(rest)?;
    Ok((
        rest,
        CommandBody::Append {
            mailbox,
            flags,
            internal_date,
            message,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::parse::sequence::parse_sequence_set;
    use crate::proto::types::Flag;

    #[test]
    fn select_forms() {
        assert_eq!(
            select_args(b" inbox (CONDSTORE)", false),
            Ok((
                &b""[..],
                CommandBody::Select {
                    mailbox: b"INBOX".to_vec(),
                    condstore: true,
                    qresync: None
                }
            ))
        );
        let set = |s: &[u8]| parse_sequence_set(s).expect("set");
        assert_eq!(
            select_args(
                b" A (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:5 1:10)))",
                true
            ),
            Ok((
                &b""[..],
                CommandBody::Examine {
                    mailbox: b"A".to_vec(),
                    condstore: false,
                    qresync: Some(QresyncParams {
                        uidvalidity: 67890007,
                        modseq: 20050715194045000,
                        known_uids: Some(set(b"41,43:211,214:541")),
                        seq_match: Some((set(b"1:5"), set(b"1:10"))),
                    })
                }
            ))
        );
        assert!(select_args(b" A (FOO)", false).is_err());
        assert!(select_args(b" A (QRESYNC (1))", false).is_err());
    }

    #[test]
    fn list_forms() {
        let Ok((rest, CommandBody::List(l))) = list_args(
            b" (SUBSCRIBED remote) \"\" (\"*\" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN) X-Y)",
        ) else {
            panic!("should parse");
        };
        assert_eq!(rest, b"");
        assert_eq!(
            l.selection_options,
            vec!["SUBSCRIBED".to_string(), "REMOTE".to_string()]
        );
        assert_eq!(l.patterns, vec![b"*".to_vec(), b"%".to_vec()]);
        assert_eq!(
            l.return_options,
            vec![
                ListReturn::Children,
                ListReturn::Status(vec![StatusItem::Messages, StatusItem::Unseen]),
                ListReturn::Other("X-Y".into())
            ]
        );
        assert!(list_args(b" \"\" ()").is_err());
        assert!(list_args(b" \"\" * RETURN (STATUS ())").is_err());
    }

    #[test]
    fn create_status_append() {
        assert_eq!(
            create_args(b" Sent (USE (\\Sent))"),
            Ok((
                &b""[..],
                CommandBody::Create {
                    mailbox: b"Sent".to_vec(),
                    special_use: vec!["\\Sent".into()]
                }
            ))
        );
        assert!(create_args(b" Sent (FOO (\\Sent))").is_err());
        assert!(status_args(b" INBOX (MESSAGES BOGUS)").is_err());
        assert!(status_args(b" INBOX ()").is_err());
        let Ok((
            _,
            CommandBody::Append {
                flags,
                internal_date,
                message,
                ..
            },
        )) = append_args(b" x (\\Seen) \" 5-Nov-2020 10:00:00 +0100\" ~{3}\r\na\0b")
        else {
            panic!("should parse");
        };
        assert_eq!(flags, vec![Flag::Seen]);
        assert!(internal_date.is_some());
        assert_eq!(message, b"a\0b");
        assert!(append_args(b" x \"abc\"").is_err());
    }
}
