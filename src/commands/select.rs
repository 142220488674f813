//! SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE and UID EXPUNGE.

use std::collections::BTreeSet;

use super::flags::{send_flags, wire_flags};
use super::updates::report_expunges;
use super::{access, private_seen, resolve, user};
use crate::proto::response::{Code, CommandResult, Done, FetchFlags, Untagged};
use crate::proto::{MessageSet, QresyncParams, SelectCommand};
use crate::session::Session;
use crate::session::state::{Selection, State};
use crate::store::acl::Rights;
use crate::store::{Access, Expunged, SelectedMailbox, SystemFlags};

/// SELECT, or EXAMINE with `read_only`.
pub async fn select(s: &mut Session, command: SelectCommand, read_only: bool) -> CommandResult {
    let qresync = command.qresync;
    let user = user(s)?;
    if qresync.is_some() && !s.extensions.qresync {
        return Err(Done::bad("QRESYNC parameters need ENABLE QRESYNC first"));
    }
    // RFC 3501 §6.3.1: the old mailbox is closed (without expunge) even if
    // this SELECT fails; RFC 7162 §3.2.11 marks the boundary with CLOSED.
    if s.state.selection().is_some() {
        s.state.deselect();
        let closed = Done::ok("Previous mailbox closed").with_code(Code::Closed);
        s.send(Untagged::Condition(closed));
    }
    let target = access::target(s, &command.mailbox).await?;
    target.require(Rights::READ)?;
    // READ-ONLY when nothing could change (RFC 4314 §5.2).
    let read_only = read_only || !target.rights.can_change_messages();
    let (owner, name) = (target.owner, target.name.clone());
    let viewer = (!target.personal).then_some(user.id);
    let mailbox = s
        .store(Access::Read, move |store| {
            let mut mailbox = store.select(owner, &name, !read_only)?;
            let seen = private_seen::load(store, mailbox.id, viewer)?;
            let messages = mailbox.messages.iter_mut();
            private_seen::overlay(seen.as_deref(), messages.map(|m| (m.uid, &mut m.flags)));
            Ok(mailbox)
        })
        .await?;
    let watcher = s
        .ctx
        .store
        .direct()
        .watch(mailbox.id, mailbox.highest_modseq);

    send_flags(s, &mailbox.keywords, read_only, target.rights);
    let recent: BTreeSet<u32> = mailbox
        .messages
        .iter()
        .filter(|m| m.recent)
        .map(|m| m.uid)
        .collect();
    s.send(Untagged::Exists(mailbox.messages.len() as u32));
    s.send(Untagged::Recent(recent.len() as u32));
    let first_unseen = mailbox
        .messages
        .iter()
        .position(|m| !m.flags.system.has(SystemFlags::SEEN));
    let mut untagged_ok = Vec::new();
    if let Some(index) = first_unseen {
        let seq = index as u32 + 1;
        untagged_ok
            .push(Done::ok(format!("Message {seq} is first unseen")).with_code(Code::Unseen(seq)));
    }
    untagged_ok.push(Done::ok("UIDs valid").with_code(Code::UidValidity(mailbox.uidvalidity)));
    untagged_ok.push(Done::ok("Predicted next UID").with_code(Code::UidNext(mailbox.uidnext)));
    if s.extensions.condstore {
        untagged_ok
            .push(Done::ok("Highest").with_code(Code::HighestModSeq(mailbox.highest_modseq)));
    }
    for done in untagged_ok {
        s.send(Untagged::Condition(done));
    }
    if let Some(params) = qresync.filter(|p| p.uidvalidity == mailbox.uidvalidity) {
        resynchronize(s, &mailbox, &recent, &params).await?;
    }
    s.state = State::Selected(
        user,
        Box::new(Selection {
            mailbox: mailbox.id,
            name: target.shown,
            read_only,
            rights: target.rights,
            shared: (!target.personal).then_some((target.owner, target.name)),
            uidvalidity: mailbox.uidvalidity,
            uids: mailbox.messages.iter().map(|m| m.uid).collect(),
            recent,
            keywords: mailbox.keywords,
            modseq: mailbox.highest_modseq,
            own_modseqs: Vec::new(),
            pending_expunges: Vec::new(),
            watcher,
            saved: Vec::new(),
            viewer,
        }),
    );
    let (code, verb) = if read_only {
        (Code::ReadOnly, "EXAMINE")
    } else {
        (Code::ReadWrite, "SELECT")
    };
    Ok(Done::ok(format!("{verb} completed")).with_code(code))
}

/// RFC 7162 §3.2.5: tells a reconnecting client what it missed since the
/// MODSEQ it remembers: VANISHED (EARLIER) for expunged UIDs it may know,
/// then FETCH for every message changed since.
async fn resynchronize(
    s: &mut Session,
    mailbox: &SelectedMailbox,
    recent: &BTreeSet<u32>,
    params: &QresyncParams,
) -> Result<(), Done> {
    let largest = mailbox.uidnext.saturating_sub(1);
    let known = params.known_uids.as_ref().map(|set| set.ranges(largest));
    let (id, since) = (mailbox.id, params.modseq);
    let vanished = s
        .store(Access::Read, move |store| {
            store.vanished_since(id, since, known.as_deref())
        })
        .await?;
    if !vanished.is_empty() {
        s.send(Untagged::Vanished {
            earlier: true,
            uids: vanished,
        });
    }
    for (index, message) in mailbox.messages.iter().enumerate() {
        if message.modseq > since {
            s.send(Untagged::Fetch(FetchFlags {
                seq: index as u32 + 1,
                uid: Some(message.uid),
                flags: Some(wire_flags(&message.flags, recent.contains(&message.uid))),
                modseq: Some(message.modseq),
            }));
        }
    }
    Ok(())
}

/// CLOSE: expunge silently (unless read-only, or without the `e`
/// right), then leave the mailbox.
pub async fn close(s: &mut Session) -> CommandResult {
    let selection = selected(s)?;
    let mut done = Done::ok("CLOSE completed");
    if !selection.read_only && selection.rights.contains(Rights::EXPUNGE) {
        let mailbox = selection.mailbox;
        let expunged = s
            .store(Access::Write, move |store| store.expunge(mailbox, None))
            .await?;
        done = with_highest_modseq(s, done, &expunged);
    }
    s.state.deselect();
    Ok(done)
}

pub fn unselect(s: &mut Session) -> CommandResult {
    s.state.deselect();
    Ok(Done::ok("UNSELECT completed"))
}

/// EXPUNGE, or UID EXPUNGE (RFC 4315) when `uids` restricts it: removes
/// `\Deleted` messages and reports each removal with the sequence number
/// it has at the moment the response is sent.
pub async fn expunge(s: &mut Session, uids: Option<&MessageSet>) -> CommandResult {
    let selection = selected(s)?;
    if selection.read_only {
        return Err(Done::no("Mailbox is read-only").with_code(Code::Cannot));
    }
    if !selection.rights.contains(Rights::EXPUNGE) {
        return Err(access::no_permission());
    }
    let mailbox = selection.mailbox;
    let only: Option<Vec<u32>> = match uids {
        Some(set) => Some(
            resolve(selection, set, true)?
                .into_iter()
                .map(|(_, uid)| uid)
                .collect(),
        ),
        None => None,
    };
    let expunged = s
        .store(Access::Write, move |store| {
            store.expunge(mailbox, only.as_deref())
        })
        .await?;
    report_expunges(s, &expunged.uids);
    let verb = if uids.is_some() {
        "UID EXPUNGE"
    } else {
        "EXPUNGE"
    };
    Ok(with_highest_modseq(
        s,
        Done::ok(format!("{verb} completed")),
        &expunged,
    ))
}

/// RFC 7162 §3.2.7-9: once a message is gone, the tagged OK of EXPUNGE,
/// UID EXPUNGE and CLOSE carries the new HIGHESTMODSEQ (with CONDSTORE).
fn with_highest_modseq(s: &Session, done: Done, expunged: &Expunged) -> Done {
    if s.extensions.condstore && !expunged.uids.is_empty() {
        done.with_code(Code::HighestModSeq(expunged.highest_modseq))
    } else {
        done
    }
}

/// The selected mailbox (dispatch guarantees there is one).
pub fn selected(s: &Session) -> Result<&Selection, Done> {
    s.state
        .selection()
        .ok_or_else(|| Done::bad("No mailbox selected"))
}
