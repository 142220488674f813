//! Arguments of LIST (RFC 3501 §6.3.8, RFC 5258 LIST-EXTENDED, RFC 5819
//! LIST-STATUS), LSUB and XLIST.

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::tag_no_case;
use nom::combinator::{cut, opt};

use crate::proto::command::{CommandBody, ListCommand, ListReturn, LsubCommand};
use crate::proto::parse::core::{atom_upper, paren_list, sp};
use crate::proto::parse::error::{PResult, expect};
use crate::proto::parse::mailbox::status_atts;
use crate::proto::parse::mailbox_name::{list_mailbox, mailbox};

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

/// `lsub = "LSUB" SP mailbox SP list-mailbox` (and XLIST)
pub fn lsub_args(i: &[u8]) -> PResult<'_, LsubCommand> {
    let (rest, _) = sp(i)?;
    let (rest, reference) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, pattern) = list_mailbox(rest)?;
    Ok((rest, LsubCommand { reference, pattern }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::StatusItem;

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
}
