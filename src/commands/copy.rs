//! COPY and UID COPY (RFC 3501 §6.4.7), with COPYUID (RFC 4315).

use super::select::selected;
use super::{mailbox_name, resolve, uid_set, user};
use crate::proto::SequenceSet;
use crate::session::Session;
use crate::session::reply::{Code, CommandResult, Done};
use crate::store::StoreError;

pub async fn copy(s: &mut Session, uid: bool, set: &SequenceSet, raw_name: &[u8]) -> CommandResult {
    let target = mailbox_name(raw_name)?;
    let selection = selected(s)?;
    let targets = resolve(selection, set, uid)?;
    let mailbox = selection.mailbox;
    let user = user(s)?;
    let uids: Vec<u32> = targets.iter().map(|(_, uid)| *uid).collect();
    let outcome = s
        .store(move |store| store.copy(mailbox, &uids, user.id, &target))
        .await
        .map_err(|e| match e {
            StoreError::NoSuchMailbox => {
                Done::no("Mailbox does not exist").with_code(Code::TryCreate)
            }
            other => Done::from(other),
        })?;
    let verb = if uid { "UID COPY" } else { "COPY" };
    let done = Done::ok(format!("{verb} completed"));
    if outcome.uids.is_empty() {
        return Ok(done);
    }
    let (sources, copies): (Vec<u32>, Vec<u32>) = outcome.uids.into_iter().unzip();
    Ok(done.with_code(Code::CopyUid {
        uidvalidity: outcome.uidvalidity,
        sources: uid_set(&sources),
        copies: uid_set(&copies),
    }))
}
