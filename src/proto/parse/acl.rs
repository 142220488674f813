//! SETACL, DELETEACL and LISTRIGHTS arguments (RFC 4314 §7); GETACL and
//! MYRIGHTS take one mailbox name, read in `command.rs`.

use nom::Parser;

use crate::proto::command::CommandBody;
use crate::proto::parse::core::{astring, sp};
use crate::proto::parse::error::{PResult, expect};
use crate::proto::parse::mailbox_name::mailbox;

/// `setacl = "SETACL" SP mailbox SP identifier SP mod-rights`
/// `identifier = astring`, `mod-rights = astring`
pub fn setacl_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, identifier) = expect("Missing identifier", astring).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, rights) = expect("Missing rights", astring).parse(rest)?;
    Ok((
        rest,
        CommandBody::SetAcl {
            mailbox,
            identifier,
            rights,
        },
    ))
}

/// `deleteacl = "DELETEACL" SP mailbox SP identifier`,
/// `listrights = "LISTRIGHTS" SP mailbox SP identifier`
pub fn mailbox_identifier(
    i: &[u8],
    make: fn(Vec<u8>, Vec<u8>) -> CommandBody,
) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, identifier) = expect("Missing identifier", astring).parse(rest)?;
    Ok((rest, make(mailbox, identifier)))
}

#[cfg(test)]
mod tests {
    use crate::proto::command::CommandBody;
    use crate::proto::parse::parse_command;

    fn body(line: &[u8]) -> CommandBody {
        parse_command(&[line, b"\r\n"].concat()).unwrap().body
    }

    #[test]
    fn acl_commands() {
        assert_eq!(
            body(b"a SETACL \"Shared/support\" alice +lrs"),
            CommandBody::SetAcl {
                mailbox: b"Shared/support".to_vec(),
                identifier: b"alice".to_vec(),
                rights: b"+lrs".to_vec(),
            }
        );
        assert_eq!(
            body(b"a SETACL INBOX -bob \"\""),
            CommandBody::SetAcl {
                mailbox: b"INBOX".to_vec(),
                identifier: b"-bob".to_vec(),
                rights: Vec::new(),
            }
        );
        assert_eq!(
            body(b"a deleteacl INBOX anyone"),
            CommandBody::DeleteAcl {
                mailbox: b"INBOX".to_vec(),
                identifier: b"anyone".to_vec(),
            }
        );
        assert_eq!(
            body(b"a GETACL INBOX"),
            CommandBody::GetAcl {
                mailbox: b"INBOX".to_vec()
            }
        );
        assert_eq!(
            body(b"a MYRIGHTS {5}\r\nINBOX"),
            CommandBody::MyRights {
                mailbox: b"INBOX".to_vec()
            }
        );
        for bad in [
            &b"a SETACL INBOX alice"[..],
            b"a DELETEACL INBOX",
            b"a LISTRIGHTS",
            b"a GETACL",
        ] {
            assert!(
                parse_command(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
