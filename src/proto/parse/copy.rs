//! COPY and MOVE arguments (RFC 3501 §6.4.7, RFC 6851).

use crate::proto::command::CopyCommand;
use crate::proto::parse::core::sp;
use crate::proto::parse::error::PResult;
use crate::proto::parse::mailbox_name::mailbox;
use crate::proto::parse::sequence::message_set;

/// `copy = "COPY" SP sequence-set SP mailbox` (and MOVE)
pub fn copy_args(i: &[u8], uid: bool) -> PResult<'_, CopyCommand> {
    let (rest, _) = sp(i)?;
    let (rest, messages) = message_set(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, mailbox) = mailbox(rest)?;
    Ok((
        rest,
        CopyCommand {
            uid,
            messages,
            mailbox,
        },
    ))
}
