//! COPY and UID COPY (RFC 3501 §6.4.7) with COPYUID (RFC 4315), and MOVE
//! and UID MOVE (RFC 6851).

use super::select::selected;
use super::updates::{report_expunges, see_new_uids};
use super::{access, resolve};
use crate::junk::{self, Verdict};
use crate::proto::CopyCommand;
use crate::proto::encode::uid_set;
use crate::proto::response::{Code, CommandResult, Done, Untagged};
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::{Access, CopyOutcome, KeptFlags};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    Copy,
    Move,
}

pub async fn transfer(s: &mut Session, kind: Transfer, command: CopyCommand) -> CommandResult {
    let (uid, set) = (command.uid, &command.messages);
    // The target needs `i`; one the user cannot see is missing, and
    // missing targets are TRYCREATE.
    let target = access::target(s, &command.mailbox)
        .await
        .map_err(|done| match done.code {
            Some(Code::NonExistent) => super::try_create(crate::store::StoreError::NoSuchMailbox),
            _ => done,
        })?;
    target.require(Rights::INSERT)?;
    see_new_uids(s, set, uid).await?;
    let selection = selected(s)?;
    if kind == Transfer::Move && selection.read_only {
        return Err(Done::no("Mailbox is read-only").with_code(Code::Cannot));
    }
    // MOVE expunges its sources.
    if kind == Transfer::Move && !selection.rights.contains(Rights::EXPUNGE) {
        return Err(access::no_permission());
    }
    let targets = resolve(selection, set, uid)?;
    let mailbox = selection.mailbox;
    // Spam filter training looks at transfers between the user's own.
    let own_source =
        (selection.shared.is_none() && target.personal).then(|| selection.name.clone());
    let (owner, name) = (target.owner, target.name);
    let target_name = name.to_string();
    // As APPEND: the copies keep only the flags the user may set there.
    let kept = KeptFlags::for_rights(target.rights).by(super::user(s)?.id);
    let uids: Vec<u32> = targets.iter().map(|(_, uid)| *uid).collect();
    let outcome = s
        .store(Access::Write, move |store| match kind {
            Transfer::Copy => store.copy(mailbox, &uids, owner, &name, kept),
            Transfer::Move => store.move_messages(mailbox, &uids, owner, &name, kept),
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
    if let Some(source) = own_source {
        train_junk(s, &source, &target_name, &outcome).await;
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
    s.send(Untagged::Condition(Done::ok("Moved").with_code(code)));
    report_expunges(s, &sources);
    Ok(done)
}

/// Spam filter training (`[junk]`): copies into Junk are spam, copies out
/// of it (but to Trash) are not. Handed over in the background.
async fn train_junk(s: &mut Session, from: &str, to: &str, outcome: &CopyOutcome) {
    let junk = &s.ctx.config().junk;
    if junk.learn_spam.is_none() && junk.learn_ham.is_none() {
        return;
    }
    let Ok(user) = super::user(s) else { return };
    let id = user.id;
    let Ok(mailboxes) = s
        .store(Access::Read, move |store| store.list_mailboxes(id))
        .await
    else {
        return;
    };
    let special = |name: &str| {
        mailboxes
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.special_use)
    };
    if let Some(verdict) = Verdict::of_transfer(special(from), special(to)) {
        let copies = outcome.uids.iter().map(|(_, copy)| *copy).collect();
        junk::train(&s.ctx, &user.name, verdict, outcome.mailbox, copies);
    }
}
