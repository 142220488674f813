//! SELECT, EXAMINE, CLOSE, UNSELECT and EXPUNGE.

use super::{mailbox_name, user};
use crate::session::Session;
use crate::session::reply::{Code, CommandResult, Done, write_status};
use crate::session::state::{Selection, State};
use crate::store::SystemFlags;

const SYSTEM_FLAGS: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

pub async fn select(s: &mut Session, raw_name: &[u8], read_only: bool) -> CommandResult {
    let name = mailbox_name(raw_name)?;
    let user = user(s)?;
    // RFC 3501 §6.3.1: the old mailbox is closed (without expunge) even if
    // this SELECT fails.
    s.state.deselect();
    let mailbox = s
        .store(move |store| store.select(user.id, &name, !read_only))
        .await?;

    let mut flags = String::from(SYSTEM_FLAGS);
    for keyword in &mailbox.keywords {
        flags.push(' ');
        flags.push_str(keyword);
    }
    s.untagged(format_args!("FLAGS ({flags})"));
    let permanent = if read_only {
        String::new()
    } else {
        format!("{flags} \\*")
    };
    let exists = mailbox.messages.len();
    let recent: Vec<u32> = mailbox
        .messages
        .iter()
        .filter(|m| m.recent)
        .map(|m| m.uid)
        .collect();
    s.untagged(format_args!("{exists} EXISTS"));
    s.untagged(format_args!("{} RECENT", recent.len()));
    let first_unseen = mailbox
        .messages
        .iter()
        .position(|m| !m.flags.system.has(SystemFlags::SEEN));
    let mut untagged_ok = vec![
        Done::ok("Flags permitted").with_code(Code::PermanentFlags(permanent)),
        Done::ok("UIDs valid").with_code(Code::UidValidity(mailbox.uidvalidity)),
        Done::ok("Predicted next UID").with_code(Code::UidNext(mailbox.uidnext)),
    ];
    if let Some(index) = first_unseen {
        let seq = index as u32 + 1;
        untagged_ok.insert(
            0,
            Done::ok(format!("Message {seq} is first unseen")).with_code(Code::Unseen(seq)),
        );
    }
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
    let Some(selection) = s.state.selection() else {
        return Err(Done::bad("No mailbox selected"));
    };
    if !selection.read_only {
        let mailbox = selection.mailbox;
        s.store(move |store| store.expunge_deleted(mailbox)).await?;
    }
    s.state.deselect();
    Ok(Done::ok("CLOSE completed"))
}

pub fn unselect(s: &mut Session) -> CommandResult {
    s.state.deselect();
    Ok(Done::ok("UNSELECT completed"))
}

/// EXPUNGE: removes `\Deleted` messages and reports each removal with the
/// sequence number it has at the moment the response is sent.
pub async fn expunge(s: &mut Session) -> CommandResult {
    let Some(selection) = s.state.selection() else {
        return Err(Done::bad("No mailbox selected"));
    };
    if selection.read_only {
        return Err(Done::no("Mailbox is read-only").with_code(Code::Cannot));
    }
    let mailbox = selection.mailbox;
    let mut expunged = s.store(move |store| store.expunge_deleted(mailbox)).await?;
    expunged.sort_unstable();
    let Some(selection) = s.state.selection_mut() else {
        return Err(Done::bad("No mailbox selected"));
    };
    let reported = remove_uids(selection, &expunged);
    for seq in reported {
        s.untagged(format_args!("{seq} EXPUNGE"));
    }
    Ok(Done::ok("EXPUNGE completed"))
}

/// Removes the (sorted) UIDs from the view and returns the sequence numbers
/// to report, each valid at the time it is sent (so `3,4,5` gives `3,3,3`).
fn remove_uids(selection: &mut Selection, expunged: &[u32]) -> Vec<u32> {
    let mut reported = Vec::new();
    let mut kept = Vec::with_capacity(selection.uids.len());
    for (index, &uid) in selection.uids.iter().enumerate() {
        if expunged.binary_search(&uid).is_ok() {
            reported.push((index - reported.len()) as u32 + 1);
        } else {
            kept.push(uid);
        }
    }
    selection.uids = kept;
    selection
        .recent
        .retain(|uid| expunged.binary_search(uid).is_err());
    reported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expunge_numbers_shift_as_they_are_sent() {
        let mut selection = Selection {
            mailbox: 1,
            name: "INBOX".into(),
            read_only: false,
            uidvalidity: 1,
            uids: vec![10, 11, 12, 13, 14, 15],
            recent: vec![14],
        };
        assert_eq!(remove_uids(&mut selection, &[12, 13, 14, 99]), [3, 3, 3]);
        assert_eq!(selection.uids, [10, 11, 15]);
        assert!(selection.recent.is_empty());
        assert_eq!(remove_uids(&mut selection, &[10, 15]), [1, 2]);
    }
}
