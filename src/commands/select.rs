//! SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE and UID EXPUNGE.

use std::collections::BTreeSet;

use super::{flags, mailbox_name, resolve, user};
use crate::proto::SequenceSet;
use crate::session::Session;
use crate::session::reply::{Code, CommandResult, Done, write_status};
use crate::session::state::{Selection, State};
use crate::store::SystemFlags;

/// The FLAGS list and PERMANENTFLAGS code for a mailbox's keywords.
pub fn write_flags(s: &mut Session, keywords: &[String], read_only: bool) {
    let mut names: Vec<&str> = flags::system_flag_names().collect();
    names.extend(keywords.iter().map(String::as_str));
    let list = names.join(" ");
    s.untagged(format_args!("FLAGS ({list})"));
    let permanent = if read_only {
        String::new()
    } else {
        format!("{list} \\*")
    };
    let done = Done::ok("Flags permitted").with_code(Code::PermanentFlags(permanent));
    write_status(&mut s.out, None, &done);
}

pub async fn select(s: &mut Session, raw_name: &[u8], read_only: bool) -> CommandResult {
    let name = mailbox_name(raw_name)?;
    let user = user(s)?;
    // RFC 3501 §6.3.1: the old mailbox is closed (without expunge) even if
    // this SELECT fails.
    s.state.deselect();
    let mailbox = s
        .store(move |store| store.select(user.id, &name, !read_only))
        .await?;
    let watcher = s.ctx.store.watch(mailbox.id, mailbox.highest_modseq);

    write_flags(s, &mailbox.keywords, read_only);
    let recent: BTreeSet<u32> = mailbox
        .messages
        .iter()
        .filter(|m| m.recent)
        .map(|m| m.uid)
        .collect();
    s.untagged(format_args!("{} EXISTS", mailbox.messages.len()));
    s.untagged(format_args!("{} RECENT", recent.len()));
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
    for done in &untagged_ok {
        write_status(&mut s.out, None, done);
    }
    s.state = State::Selected(
        user,
        Selection {
            mailbox: mailbox.id,
            name: mailbox.name,
            read_only,
            uidvalidity: mailbox.uidvalidity,
            uids: mailbox.messages.iter().map(|m| m.uid).collect(),
            recent,
            keywords: mailbox.keywords,
            modseq: mailbox.highest_modseq,
            own_modseqs: Vec::new(),
            pending_expunges: Vec::new(),
            watcher,
        },
    );
    let (code, verb) = if read_only {
        (Code::ReadOnly, "EXAMINE")
    } else {
        (Code::ReadWrite, "SELECT")
    };
    Ok(Done::ok(format!("{verb} completed")).with_code(code))
}

/// CLOSE: expunge silently (unless read-only), then leave the mailbox.
pub async fn close(s: &mut Session) -> CommandResult {
    let selection = selected(s)?;
    if !selection.read_only {
        let mailbox = selection.mailbox;
        s.store(move |store| store.expunge(mailbox, None)).await?;
    }
    s.state.deselect();
    Ok(Done::ok("CLOSE completed"))
}

pub fn unselect(s: &mut Session) -> CommandResult {
    s.state.deselect();
    Ok(Done::ok("UNSELECT completed"))
}

/// EXPUNGE, or UID EXPUNGE (RFC 4315) when `uids` restricts it: removes
/// `\Deleted` messages and reports each removal with the sequence number
/// it has at the moment the response is sent.
pub async fn expunge(s: &mut Session, uids: Option<&SequenceSet>) -> CommandResult {
    let selection = selected(s)?;
    if selection.read_only {
        return Err(Done::no("Mailbox is read-only").with_code(Code::Cannot));
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
        .store(move |store| store.expunge(mailbox, only.as_deref()))
        .await?;
    report_expunges(s, &expunged);
    let verb = if uids.is_some() {
        "UID EXPUNGE"
    } else {
        "EXPUNGE"
    };
    Ok(Done::ok(format!("{verb} completed")))
}

/// Removes the (ascending) UIDs from the session's view and sends an
/// EXPUNGE for each, numbered as it is sent.
pub fn report_expunges(s: &mut Session, uids: &[u32]) {
    let Some(selection) = s.state.selection_mut() else {
        return;
    };
    for seq in selection.remove_uids(uids) {
        s.untagged(format_args!("{seq} EXPUNGE"));
    }
}

/// The selected mailbox (dispatch guarantees there is one).
pub fn selected(s: &Session) -> Result<&Selection, Done> {
    s.state
        .selection()
        .ok_or_else(|| Done::bad("No mailbox selected"))
}
