//! RFC semantics of each command, one module per area. Handlers write
//! untagged data into the session and return the tagged result; the session
//! has already checked that the command is allowed in its state.

mod any;
mod append;
mod auth;
mod copy;
mod fetch;
pub mod flags;
mod idle;
mod list;
mod mailbox;
mod pattern;
mod quota;
pub mod search;
pub mod select;
mod store;

use crate::proto::{CommandBody, SequenceSet, mutf7};
use crate::session::Session;
use crate::session::reply::{CommandResult, Done};
use crate::session::state::{Selection, State, User};
use crate::store::MailboxName;

pub use any::capabilities;
use copy::Transfer;

/// What the session does after a command's tagged response is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Logout,
    StartTls,
    Compress,
}

/// Runs one command.
pub async fn execute(s: &mut Session, body: CommandBody) -> (CommandResult, Flow) {
    use CommandBody::*;
    if enables_condstore(&body) {
        s.extensions.condstore = true;
    }
    let result = match body {
        Capability => any::capability(s),
        Noop | Check => Ok(Done::ok(format!("{} completed", body.name()))),
        Logout => any::logout(s),
        Id(_) => any::id(s),
        Enable(names) => any::enable(s, &names),
        StartTls => {
            let result = auth::starttls(s);
            let flow = if result.is_ok() {
                Flow::StartTls
            } else {
                Flow::Continue
            };
            return (result, flow);
        }
        Login { username, password } => auth::login(s, username, password).await,
        Authenticate {
            mechanism,
            initial_response,
        } => auth::authenticate(s, &mechanism, initial_response).await,
        Select {
            mailbox, qresync, ..
        } => select::select(s, &mailbox, false, qresync).await,
        Examine {
            mailbox, qresync, ..
        } => select::select(s, &mailbox, true, qresync).await,
        Close => select::close(s).await,
        Unselect => select::unselect(s),
        Expunge => select::expunge(s, None).await,
        UidExpunge(set) => select::expunge(s, Some(&set)).await,
        Fetch {
            uid,
            sequence_set,
            attributes,
            changed_since,
            vanished,
        } => {
            let command = fetch::FetchCommand {
                uid,
                sequence_set,
                attributes,
                changed_since,
                vanished,
            };
            fetch::fetch(s, command).await
        }
        Store {
            uid,
            sequence_set,
            mode,
            silent,
            flags,
            unchanged_since,
        } => {
            let command = store::StoreCommand {
                uid,
                sequence_set,
                mode,
                silent,
                flags,
                unchanged_since,
            };
            store::store(s, command).await
        }
        Copy {
            uid,
            sequence_set,
            mailbox,
        } => copy::transfer(s, Transfer::Copy, uid, &sequence_set, &mailbox).await,
        Move {
            uid,
            sequence_set,
            mailbox,
        } => copy::transfer(s, Transfer::Move, uid, &sequence_set, &mailbox).await,
        Search {
            uid,
            charset,
            criteria,
            return_options,
        } => {
            search::search(
                s,
                uid,
                charset.as_deref(),
                &criteria,
                return_options.as_deref(),
            )
            .await
        }
        Create {
            mailbox,
            special_use,
        } => mailbox::create(s, &mailbox, &special_use).await,
        Delete { mailbox } => mailbox::delete(s, &mailbox).await,
        Rename { from, to } => mailbox::rename(s, &from, &to).await,
        Subscribe { mailbox } => mailbox::subscribe(s, &mailbox, true).await,
        Unsubscribe { mailbox } => mailbox::subscribe(s, &mailbox, false).await,
        Status { mailbox, items } => mailbox::status(s, &mailbox, &items).await,
        List(command) => list::list(s, command).await,
        Lsub { reference, pattern } => list::lsub(s, &reference, &pattern).await,
        Namespace => list::namespace(s),
        GetQuota { root } => quota::get_quota(s, &root).await,
        GetQuotaRoot { mailbox } => quota::get_quota_root(s, &mailbox).await,
        SetQuota { .. } => quota::set_quota(s),
        Append {
            mailbox,
            flags,
            internal_date,
            message,
        } => append::append(s, &mailbox, &flags, internal_date, message).await,
        Idle => idle::idle(s).await,
        Xlist { reference, pattern } => list::xlist(s, reference, pattern).await,
        Compress { mechanism } => {
            let result = any::compress(s, &mechanism);
            let flow = if result.is_ok() {
                Flow::Compress
            } else {
                Flow::Continue
            };
            return (result, flow);
        }
    };
    let flow = if matches!(s.state, State::Logout) || s.ended.is_some() {
        Flow::Logout
    } else {
        Flow::Continue
    };
    (result, flow)
}

/// Decodes a mailbox name or LIST pattern from the wire: modified UTF-7,
/// or plain UTF-8 once the client enabled UTF8=ACCEPT (RFC 6855 §3).
fn wire_text(s: &Session, raw: &[u8]) -> Result<String, Done> {
    if s.extensions.utf8 {
        String::from_utf8(raw.to_vec()).map_err(|_| Done::bad("Mailbox name is not valid UTF-8"))
    } else {
        mutf7::decode(raw).map_err(|_| Done::bad("Invalid modified UTF-7 in mailbox name"))
    }
}

/// A missing target mailbox is `NO [TRYCREATE]` for APPEND, COPY and MOVE
/// (RFC 3501 §6.3.11), so clients offer to create it.
fn try_create(e: crate::store::StoreError) -> Done {
    match e {
        crate::store::StoreError::NoSuchMailbox => {
            Done::no("Mailbox does not exist").with_code(crate::session::reply::Code::TryCreate)
        }
        other => Done::from(other),
    }
}

/// Decodes and validates a mailbox argument.
fn mailbox_name(s: &Session, raw: &[u8]) -> Result<MailboxName, Done> {
    MailboxName::new(&wire_text(s, raw)?).map_err(|e| Done::no(e.to_string()))
}

/// The logged-in user (dispatch guarantees there is one).
fn user(s: &Session) -> Result<User, Done> {
    s.state
        .user()
        .cloned()
        .ok_or_else(|| Done::bad("Not logged in"))
}

/// RFC 7162 §3.1: the commands that turn CONDSTORE on by using it.
fn enables_condstore(body: &CommandBody) -> bool {
    use crate::proto::{FetchAttribute, StatusItem};
    match body {
        CommandBody::Select { condstore, .. } | CommandBody::Examine { condstore, .. } => {
            *condstore
        }
        CommandBody::Status { items, .. } => items.contains(&StatusItem::HighestModSeq),
        CommandBody::List(list) => list.return_options.iter().any(|option| {
            matches!(option, crate::proto::ListReturn::Status(items)
                if items.contains(&StatusItem::HighestModSeq))
        }),
        CommandBody::Fetch {
            attributes,
            changed_since,
            ..
        } => changed_since.is_some() || attributes.contains(&FetchAttribute::ModSeq),
        CommandBody::Store {
            unchanged_since, ..
        } => unchanged_since.is_some(),
        CommandBody::Search { criteria, .. } => search::uses_modseq(criteria),
        _ => false,
    }
}

/// Before a UID command names UIDs above the last one this session knows
/// (a client can learn them from another connection's APPENDUID), the new
/// messages are announced so that the command reaches them, as Dovecot
/// does; otherwise they would be skipped as nonexistent. No EXPUNGE is
/// sent here (RFC 3501 §7.4.1).
async fn see_new_uids(s: &mut Session, set: &SequenceSet, uid: bool) -> Result<(), Done> {
    let Some(selection) = s.state.selection() else {
        return Ok(());
    };
    if uid
        && set
            .highest_explicit()
            .is_some_and(|n| n > selection.last_uid())
    {
        s.catch_up(false).await?;
    }
    Ok(())
}

/// Resolves a sequence or UID set against the session's view.
fn resolve(selection: &Selection, set: &SequenceSet, uid: bool) -> Result<Vec<(u32, u32)>, Done> {
    selection.resolve(set, uid).map_err(Done::bad)
}

/// Ascending UIDs as a compact set, e.g. `1:3,7`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end.wrapping_add(1))) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(super::uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(super::uid_set(&[4]), "4");
        assert_eq!(
            super::uid_set(&[u32::MAX - 1, u32::MAX]),
            "4294967294:4294967295"
        );
    }
}
