//! STORE and UID STORE (RFC 3501 §6.4.6), with UNCHANGEDSINCE (RFC 7162).

use super::flags::{self, wire_flags};
use super::select::selected;
use super::updates::{announce_keywords, see_new_uids};
use super::{access, private_seen, resolve};
use crate::proto::encode::uid_set;
use crate::proto::response::{Code, CommandResult, Done, FetchFlags, Untagged};
use crate::proto::{Flag, StoreCommand, StoreMode};
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::{Access, FlagChange};

pub async fn store(s: &mut Session, command: StoreCommand) -> CommandResult {
    see_new_uids(s, &command.messages, command.uid).await?;
    let selection = selected(s)?;
    if selection.read_only {
        return Err(Done::no("Mailbox is read-only").with_code(Code::Cannot));
    }
    // Each flag needs its right (RFC 4314 §4). Flags the user may not
    // change are left out, and the STORE fails only when none is left
    // ("SHOULD NOT fail if the user has rights to modify at least one
    // flag": clients handle a NO to STORE badly). Replacing the flags may
    // clear any, so it needs every flag right.
    let rights = selection.rights;
    let allowed: Vec<Flag> = match command.mode {
        StoreMode::Replace => {
            let all = [Rights::SEEN, Rights::DELETE_MESSAGES, Rights::WRITE];
            if !all.iter().all(|&needed| rights.contains(needed)) {
                return Err(access::no_permission());
            }
            command.flags.clone()
        }
        _ => {
            let allowed: Vec<Flag> = command
                .flags
                .iter()
                .filter(|flag| rights.contains(flags::right_for(flag)))
                .cloned()
                .collect();
            if allowed.is_empty() && !command.flags.is_empty() {
                return Err(access::no_permission());
            }
            allowed
        }
    };
    let targets = resolve(selection, &command.messages, command.uid)?;
    let (mailbox, viewer) = (selection.mailbox, selection.viewer);
    let flags = flags::from_command(&allowed, false)?;
    let change = match command.mode {
        StoreMode::Replace => FlagChange::Replace,
        StoreMode::Add => FlagChange::Add,
        StoreMode::Remove => FlagChange::Remove,
    };
    let uids: Vec<u32> = targets.iter().map(|(_, uid)| *uid).collect();
    let unchanged_since = command.unchanged_since;
    let keywords = flags.keywords.clone();
    let outcome = s
        .store(Access::Write, move |store| {
            private_seen::store_flags(
                store,
                mailbox,
                viewer,
                &uids,
                change,
                &flags,
                unchanged_since,
            )
        })
        .await?;
    if change != FlagChange::Remove {
        announce_keywords(s, &keywords);
    }
    let modseq_on = s.extensions.condstore;
    let mut responses = Vec::new();
    let mut modified = Vec::new();
    if let Some(selection) = s.state.selection_mut() {
        selection.note_own_changes(&outcome);
        for message in &outcome.messages {
            let Some(seq) = selection.seq_of(message.uid) else {
                continue;
            };
            // .SILENT suppresses our own echo (RFC 3501 §6.4.6), except
            // that a conditional STORE must still report the new MODSEQ of
            // what it changed (RFC 7162 §3.1.3).
            let conditional = unchanged_since.is_some() && message.changed;
            if command.silent && !conditional {
                continue;
            }
            let recent = selection.recent.contains(&message.uid);
            responses.push(Untagged::Fetch(FetchFlags {
                seq,
                uid: command.uid.then_some(message.uid),
                flags: (!command.silent).then(|| wire_flags(&message.flags, recent)),
                modseq: modseq_on.then_some(message.modseq),
            }));
        }
        // MODIFIED lists UIDs for UID STORE, sequence numbers for STORE.
        for uid in &outcome.modified {
            if command.uid {
                modified.push(*uid);
            } else if let Some(seq) = selection.seq_of(*uid) {
                modified.push(seq);
            }
        }
    }
    for response in responses {
        s.send(response);
    }
    let verb = if command.uid { "UID STORE" } else { "STORE" };
    let done = Done::ok(format!("{verb} completed"));
    if modified.is_empty() {
        Ok(done)
    } else {
        modified.sort_unstable();
        Ok(done.with_code(Code::Modified(uid_set(&modified))))
    }
}
