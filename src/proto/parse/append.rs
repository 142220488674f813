//! APPEND arguments (RFC 3501 §6.3.11, RFC 3516 literal8, RFC 6855 UTF8).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case};

use crate::proto::command::{AppendCommand, CommandBody};
use crate::proto::parse::core::{literal8, message_literal, sp};
use crate::proto::parse::datetime::date_time;
use crate::proto::parse::error::{PResult, expect};
use crate::proto::parse::mailbox_name::mailbox;
use crate::proto::parse::store::flag_list;

/// `append-data =/ "UTF8" SP "(" literal8 ")"` (RFC 6855 §4): a message
/// with UTF-8 headers; stored like any other.
fn utf8_data(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, _) = tag_no_case(&b"UTF8 ("[..])(i)?;
    let (rest, message) = literal8(rest)?;
    let (rest, _) = tag(&b")"[..])(rest)?;
    Ok((rest, message))
}

/// `append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP
/// (literal / literal8)`
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
    let (rest, (message, binary)) = expect(
        "Missing message literal",
        alt((
            message_literal.map(|m| (m, false)),
            literal8.map(|m| (m, true)),
            // RFC 6855's UTF8 data is text in literal8 clothing.
            utf8_data.map(|m| (m, false)),
        )),
    )
    .parse(rest)?;
    Ok((
        rest,
        CommandBody::Append(AppendCommand {
            mailbox,
            flags,
            internal_date,
            message,
            binary,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::Flag;

    #[test]
    fn append_forms() {
        let Ok((
            _,
            CommandBody::Append(AppendCommand {
                flags,
                internal_date,
                message,
                binary,
                ..
            }),
        )) = append_args(b" x (\\Seen) \" 5-Nov-2020 10:00:00 +0100\" ~{3}\r\na\0b")
        else {
            panic!("should parse");
        };
        assert_eq!(flags, vec![Flag::Seen]);
        assert!(internal_date.is_some());
        assert_eq!(message, b"a\0b");
        assert!(binary, "a literal8 is kept exactly");
        assert!(append_args(b" x \"abc\"").is_err());
    }
}
