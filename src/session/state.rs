//! The RFC 3501 §3 connection states and what each carries.

use std::collections::BTreeSet;

use crate::proto::SequenceSet;
use crate::store::acl::Rights;
use crate::store::{MailboxId, MailboxName, StoreOutcome, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
}

/// This session's view of its selected mailbox. Sequence numbers are
/// indexes into `uids` plus one; they change only when this session is told.
#[derive(Debug, Clone)]
pub struct Selection {
    pub mailbox: MailboxId,
    /// The name the client selected.
    pub name: String,
    pub read_only: bool,
    /// What the user may do here (RFC 4314): all rights in their own
    /// mailboxes; in another account's, re-read before every command.
    pub rights: Rights,
    /// The account and its name for a mailbox in another account.
    pub shared: Option<(UserId, MailboxName)>,
    /// The user, in another account's mailbox, whose `\Seen` the answers
    /// show where that account keeps it per user (`private_seen`).
    pub viewer: Option<UserId>,
    pub uidvalidity: u32,
    /// Ascending UIDs of the messages this session knows about.
    pub uids: Vec<u32>,
    /// UIDs this session reports as `\Recent`.
    pub recent: BTreeSet<u32>,
    /// Keywords announced in the last FLAGS response.
    pub keywords: Vec<String>,
    /// The mailbox MODSEQ this session has caught up to.
    pub modseq: u64,
    /// MODSEQs of changes this session made and already reported itself,
    /// so catching up does not report them twice.
    pub own_modseqs: Vec<u64>,
    /// UIDs expunged elsewhere that this session may not announce yet
    /// (RFC 3501 §7.4.1: not during FETCH, STORE or SEARCH).
    pub pending_expunges: Vec<u32>,
    /// Wakes the session (in IDLE) when the mailbox changes.
    pub watcher: tokio::sync::watch::Receiver<u64>,
    /// Ascending UIDs kept by `SEARCH RETURN (SAVE)`, named by `$` (RFC
    /// 5182); empty at SELECT, expunged messages leave it.
    pub saved: Vec<u32>,
}

impl Selection {
    /// Remembers the MODSEQs of flag changes this session made and reports
    /// itself, so catching up does not report them again.
    pub fn note_own_changes(&mut self, outcome: &StoreOutcome) {
        let changed = outcome.messages.iter().filter(|m| m.changed);
        self.own_modseqs.extend(changed.map(|m| m.modseq));
    }

    pub fn last_uid(&self) -> u32 {
        self.uids.last().copied().unwrap_or(0)
    }

    /// The sequence number of a UID in this session's view.
    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    /// The saved result as UID ranges, for the store.
    pub fn saved_ranges(&self) -> Vec<std::ops::RangeInclusive<u32>> {
        self.saved.iter().map(|&uid| uid..=uid).collect()
    }

    /// The saved result's messages still in the view, as ascending
    /// (sequence number, UID) pairs.
    pub fn saved_messages(&self) -> Vec<(u32, u32)> {
        self.saved
            .iter()
            .filter_map(|&uid| Some((self.seq_of(uid)?, uid)))
            .collect()
    }

    /// Resolves a sequence set (or, with `uid`, a UID set) into ascending
    /// (sequence number, UID) pairs. Sequence numbers outside the view are
    /// an error; UIDs that do not exist are skipped (RFC 3501 §6.4.8).
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<(u32, u32)>, &'static str> {
        // Index ranges into `uids`, merged before expanding, so that
        // `1:*,1:*,...` costs one pass over the view, not one per range.
        let mut spans: Vec<(usize, usize)> = Vec::new();
        if uid {
            for range in set.ranges(self.last_uid()) {
                let start = self.uids.partition_point(|&u| u < *range.start());
                let end = self.uids.partition_point(|&u| u <= *range.end());
                spans.push((start, end));
            }
        } else {
            let count = self.uids.len() as u32;
            for range in set.ranges(count) {
                if *range.start() == 0 || *range.end() > count {
                    return Err("Invalid message sequence number");
                }
                spans.push((*range.start() as usize - 1, *range.end() as usize));
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Ok(merged
            .into_iter()
            .flat_map(|(start, end)| start..end)
            .map(|index| (index as u32 + 1, self.uids[index]))
            .collect())
    }

    /// Removes the (ascending) UIDs from the view and returns the sequence
    /// numbers to report, each valid at the time it is sent (so expunging
    /// 3, 4 and 5 gives 3, 3, 3).
    pub fn remove_uids(&mut self, expunged: &[u32]) -> Vec<u32> {
        let mut reported = Vec::new();
        let mut kept = Vec::with_capacity(self.uids.len());
        for (index, &uid) in self.uids.iter().enumerate() {
            if expunged.binary_search(&uid).is_ok() {
                reported.push((index - reported.len()) as u32 + 1);
            } else {
                kept.push(uid);
            }
        }
        self.uids = kept;
        for uid in expunged {
            self.recent.remove(uid);
        }
        self.saved
            .retain(|uid| expunged.binary_search(uid).is_err());
        reported
    }
}

#[derive(Debug, Clone)]
pub enum State {
    NotAuthenticated,
    Authenticated(User),
    /// Boxed, so that a session without a mailbox selected stays small.
    Selected(User, Box<Selection>),
    Logout,
}

impl State {
    pub fn user(&self) -> Option<&User> {
        match self {
            State::Authenticated(user) | State::Selected(user, _) => Some(user),
            State::NotAuthenticated | State::Logout => None,
        }
    }

    pub fn selection(&self) -> Option<&Selection> {
        match self {
            State::Selected(_, selection) => Some(selection),
            _ => None,
        }
    }

    pub fn selection_mut(&mut self) -> Option<&mut Selection> {
        match self {
            State::Selected(_, selection) => Some(selection),
            _ => None,
        }
    }

    /// Leaves the selected state (CLOSE, UNSELECT, a failed SELECT).
    pub fn deselect(&mut self) {
        if let State::Selected(user, _) = self {
            *self = State::Authenticated(user.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::parse::parse_sequence_set;

    fn selection(uids: &[u32]) -> Selection {
        Selection {
            mailbox: 1,
            name: "INBOX".into(),
            read_only: false,
            rights: Rights::ALL,
            shared: None,
            uidvalidity: 1,
            uids: uids.to_vec(),
            recent: BTreeSet::new(),
            keywords: Vec::new(),
            modseq: 1,
            own_modseqs: Vec::new(),
            pending_expunges: Vec::new(),
            watcher: tokio::sync::watch::channel(1).1,
            saved: Vec::new(),
            viewer: None,
        }
    }

    fn set(text: &str) -> SequenceSet {
        parse_sequence_set(text.as_bytes()).unwrap()
    }

    #[test]
    fn expunge_numbers_shift_as_they_are_sent() {
        let mut view = selection(&[10, 11, 12, 13, 14, 15]);
        view.recent.insert(14);
        assert_eq!(view.remove_uids(&[12, 13, 14, 99]), [3, 3, 3]);
        assert_eq!(view.uids, [10, 11, 15]);
        assert!(view.recent.is_empty());
        assert_eq!(view.remove_uids(&[10, 15]), [1, 2]);
    }

    #[test]
    fn sequence_sets_resolve_against_the_view() {
        let view = selection(&[3, 7, 9, 20]);
        assert_eq!(view.resolve(&set("2:3"), false).unwrap(), [(2, 7), (3, 9)]);
        assert_eq!(view.resolve(&set("*:3"), false).unwrap(), [(3, 9), (4, 20)]);
        assert_eq!(
            view.resolve(&set("4,1,4"), false).unwrap(),
            [(1, 3), (4, 20)]
        );
        assert!(view.resolve(&set("5"), false).is_err());
        assert!(view.resolve(&set("1:4294967295"), false).is_err());
        assert_eq!(view.resolve(&set("7:10"), true).unwrap(), [(2, 7), (3, 9)]);
        assert_eq!(
            view.resolve(&set("100:*"), true).unwrap(),
            [(4, 20)],
            "n:* includes the last UID"
        );
        assert_eq!(view.resolve(&set("1:4294967295"), true).unwrap().len(), 4);
        assert!(view.resolve(&set("4:6"), true).unwrap().is_empty());
        let empty = selection(&[]);
        assert!(empty.resolve(&set("1:*"), true).unwrap().is_empty());
        assert!(empty.resolve(&set("*"), false).is_err());
        let many = vec!["1:*"; 10_000].join(",");
        assert_eq!(view.resolve(&set(&many), true).unwrap().len(), 4);
        assert_eq!(view.resolve(&set("2:3,1:2,4"), false).unwrap().len(), 4);
    }
}
