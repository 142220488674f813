//! Arguments of CREATE (RFC 6154 USE), DELETE, RENAME, SUBSCRIBE,
//! UNSUBSCRIBE and STATUS (RFC 3501 §6.3.3-10).

use nom::Parser;
use nom::bytes::complete::{tag, tag_no_case};

use crate::proto::command::{CommandBody, CreateCommand, RenameCommand, StatusCommand};
use crate::proto::parse::core::{atom_upper, paren_list, sp};
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::mailbox_name::mailbox;
use crate::proto::types::StatusItem;

/// `SP mailbox` for DELETE, SUBSCRIBE and UNSUBSCRIBE.
pub fn one_mailbox(i: &[u8], make: fn(Vec<u8>) -> CommandBody) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, name) = mailbox(rest)?;
    Ok((rest, make(name)))
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
        CommandBody::Create(CreateCommand {
            mailbox,
            special_use,
        }),
    ))
}

/// `rename = "RENAME" SP mailbox SP mailbox`
pub fn rename_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, from) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, to) = mailbox(rest)?;
    Ok((rest, CommandBody::Rename(RenameCommand { from, to })))
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
pub fn status_atts(i: &[u8]) -> PResult<'_, Vec<StatusItem>> {
    paren_list(false, status_att).parse(i)
}

/// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
pub fn status_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, items) = expect("Missing status items", status_atts).parse(rest)?;
    Ok((rest, CommandBody::Status(StatusCommand { mailbox, items })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_and_status() {
        assert_eq!(
            create_args(b" Sent (USE (\\Sent))"),
            Ok((
                &b""[..],
                CommandBody::Create(CreateCommand {
                    mailbox: b"Sent".to_vec(),
                    special_use: vec!["\\Sent".into()]
                })
            ))
        );
        assert!(create_args(b" Sent (FOO (\\Sent))").is_err());
        assert!(status_args(b" INBOX (MESSAGES BOGUS)").is_err());
        assert!(status_args(b" INBOX ()").is_err());
    }
}
