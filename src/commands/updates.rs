//! What a selected session is told about changes it did not make itself
//! (RFC 3501 §5.2, §7.4.1; RFC 7162 §3.2.10): expunges (as EXPUNGE, or
//! VANISHED with QRESYNC), flag changes, new keywords and new messages.
//! The handler catches up after every command; IDLE whenever the mailbox
//! changes.

use super::flags::{send_flags, wire_flags};
use super::private_seen;
use crate::proto::MessageSet;
use crate::proto::response::{Done, FetchFlags, Untagged};
use crate::session::state::Selection;
use crate::session::{End, Session};
use crate::store::{Access, StoreError};

/// Tells a selected session what changed in its mailbox since it last
/// looked: expunges (only when `allow_expunge`; RFC 3501 §7.4.1 forbids
/// them during FETCH, STORE and SEARCH), flag changes made elsewhere,
/// new keywords, and new messages.
pub async fn catch_up(s: &mut Session, allow_expunge: bool) -> Result<(), Done> {
    let Some(selection) = s.state.selection() else {
        return Ok(());
    };
    let (mailbox, viewer, modseq, last_uid, claim) = (
        selection.mailbox,
        selection.viewer,
        selection.modseq,
        selection.last_uid(),
        !selection.read_only,
    );
    let changes = match s
        .store(Access::Read, move |store| {
            let mut changes = store.changes_since(mailbox, modseq, last_uid, claim)?;
            if !changes.updated.is_empty() {
                let seen = private_seen::load(store, mailbox, viewer)?;
                let updated = changes.updated.iter_mut();
                private_seen::overlay(seen.as_deref(), updated.map(|m| (m.uid, &mut m.flags)));
            }
            Ok(changes)
        })
        .await
    {
        Ok(changes) => changes,
        // Deleted by another session (RFC 2180 §3): say BYE, as Dovecot
        // does; no sequence numbers can be right any more.
        Err(StoreError::NoSuchMailbox) => {
            s.ended = Some(End::MailboxGone);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let (qresync, condstore) = (s.extensions.qresync, s.extensions.condstore);
    let Some(selection) = s.state.selection_mut() else {
        return Ok(());
    };
    selection.modseq = selection.modseq.max(changes.highest_modseq);
    let visible: Vec<u32> = changes
        .expunged
        .iter()
        .copied()
        .filter(|uid| selection.seq_of(*uid).is_some())
        .collect();
    selection.pending_expunges.extend(visible);
    let mut responses = Vec::new();
    if allow_expunge && !selection.pending_expunges.is_empty() {
        let mut expunged = std::mem::take(&mut selection.pending_expunges);
        expunged.sort_unstable();
        expunged.dedup();
        responses.extend(expunge_responses(selection, &expunged, qresync));
    }
    let mut keywords: Vec<String> = Vec::new();
    for message in &changes.updated {
        let own = selection.own_modseqs.contains(&message.modseq);
        let pending = selection.pending_expunges.contains(&message.uid);
        keywords.extend(message.flags.keywords.iter().cloned());
        if let (false, false, Some(seq)) = (own, pending, selection.seq_of(message.uid)) {
            let recent = selection.recent.contains(&message.uid);
            responses.push(Untagged::Fetch(FetchFlags {
                seq,
                uid: Some(message.uid),
                flags: Some(wire_flags(&message.flags, recent)),
                modseq: condstore.then_some(message.modseq),
            }));
        }
    }
    selection.own_modseqs.clear();
    for message in &changes.new {
        keywords.extend(message.flags.keywords.iter().cloned());
        selection.uids.push(message.uid);
        if message.recent {
            selection.recent.insert(message.uid);
        }
    }
    if !changes.new.is_empty() {
        responses.push(Untagged::Exists(selection.uids.len() as u32));
        responses.push(Untagged::Recent(selection.recent.len() as u32));
    }
    announce_keywords(s, &keywords);
    for response in responses {
        s.send(response);
    }
    Ok(())
}

/// Sends a new FLAGS list (and PERMANENTFLAGS) when `keywords` holds
/// any the selected mailbox has not announced yet (RFC 3501 §7.2.6).
pub fn announce_keywords(s: &mut Session, keywords: &[String]) {
    let Some(selection) = s.state.selection_mut() else {
        return;
    };
    let mut added = false;
    for keyword in keywords {
        if !selection
            .keywords
            .iter()
            .any(|k| k.eq_ignore_ascii_case(keyword))
        {
            selection.keywords.push(keyword.clone());
            added = true;
        }
    }
    if added {
        let (known, read_only) = (selection.keywords.clone(), selection.read_only);
        let rights = selection.rights;
        send_flags(s, &known, read_only, rights);
    }
}

/// Removes the (ascending) UIDs from the session's view and announces it
/// (EXPUNGE responses, or VANISHED with QRESYNC).
pub fn report_expunges(s: &mut Session, uids: &[u32]) {
    let qresync = s.extensions.qresync;
    let Some(selection) = s.state.selection_mut() else {
        return;
    };
    for response in expunge_responses(selection, uids, qresync) {
        s.send(response);
    }
}

/// Removes the (ascending) UIDs from the view and returns the responses
/// announcing it: one `n EXPUNGE` per message, numbered as each is sent,
/// or with QRESYNC a single `VANISHED uid-set` (RFC 7162 §3.2.10).
fn expunge_responses(selection: &mut Selection, uids: &[u32], qresync: bool) -> Vec<Untagged> {
    let known: Vec<u32> = uids
        .iter()
        .copied()
        .filter(|uid| selection.seq_of(*uid).is_some())
        .collect();
    let seqs = selection.remove_uids(&known);
    if !qresync {
        return seqs.into_iter().map(Untagged::Expunge).collect();
    }
    if known.is_empty() {
        return Vec::new();
    }
    vec![Untagged::Vanished {
        earlier: false,
        uids: known,
    }]
}

/// Before a UID command names UIDs above the last one this session knows
/// (a client can learn them from another connection's APPENDUID), the new
/// messages are announced so that the command reaches them, as Dovecot
/// does; otherwise they would be skipped as nonexistent. No EXPUNGE is
/// sent here (RFC 3501 §7.4.1).
pub async fn see_new_uids(s: &mut Session, messages: &MessageSet, uid: bool) -> Result<(), Done> {
    // `$` names messages this session has seen already.
    let (Some(selection), MessageSet::Numbers(set)) = (s.state.selection(), messages) else {
        return Ok(());
    };
    if uid
        && set
            .highest_explicit()
            .is_some_and(|n| n > selection.last_uid())
    {
        catch_up(s, false).await?;
    }
    Ok(())
}
