//! COPY and UID COPY (RFC 3501 §6.4.7) with COPYUID (RFC 4315), and MOVE
//! and UID MOVE (RFC 6851).

use super::select::{report_expunges, selected};
use super::{mailbox_name, resolve, see_new_uids, uid_set, user};
use crate::proto::SequenceSet;
use crate::session::Session;
use crate::session::reply::{Code, CommandResult, Done, write_status};
use crate::store::Access;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    Copy,
    Move,
}

pub async fn transfer(
    s: &mut Session,
    kind: Transfer,
    uid: bool,
    set: &SequenceSet,
    raw_name: &[u8],
) -> CommandResult {
    let target = mailbox_name(s, raw_name)?;
    see_new_uids(s, set, uid).await?;
    let selection = selected(s)?;
    if kind == Transfer::Move && selection.read_only {
        return Err(Done::no("Mailbox is read-only").with_code(Code::Cannot));
    }
    let targets = resolve(selection, set, uid)?;
    let mailbox = selection.mailbox;
    let user = user(s)?;
    let uids: Vec<u32> = targets.iter().map(|(_, uid)| *uid).collect();
    let outcome = s
        .store(Access::Write, move |store| match kind {
            Transfer::Copy => store.copy(mailbox, &uids, user.id, &target),
            Transfer::Move => store.move_messages(mailbox, &uids, user.id, &target),
        })
        .await
        .map_err(super::try_create)?;
    let verb = match (kind, uid) {
        (Transfer::Copy, false) => "COPY",
        (Transfer::Copy, true) => "UID COPY",
        (Transfer::Move, false) => "MOVE",
        (Transfer::Move, true) => "UID MOVE",
    };
    let done = Done::ok(format!("{verb} completed"));
    if outcome.uids.is_empty() {
        return Ok(done);
    }
    let (sources, copies): (Vec<u32>, Vec<u32>) = outcome.uids.into_iter().unzip();
    let code = Code::CopyUid {
        uidvalidity: outcome.uidvalidity,
        sources: uid_set(&sources),
        copies: uid_set(&copies),
    };
    if kind == Transfer::Copy {
        return Ok(done.with_code(code));
    }
    // RFC 6851 §4.3: COPYUID in an untagged OK before the expunges.
    write_status(&mut s.out, None, &Done::ok("Moved").with_code(code));
    report_expunges(s, &sources);
    Ok(done)
}
