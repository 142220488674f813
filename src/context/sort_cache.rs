//! What SORT and THREAD read of each message, held in memory for every
//! session of the server.
//!
//! A message's sort fields never change (its octets do not), and a UID is
//! never reused within a UIDVALIDITY, so an entry is never stale: the only
//! question is which UIDs a mailbox holds now, and that comes from the
//! store with every command. A SORT of a mailbox seen before therefore
//! reads only the messages that arrived since. The cache holds at most
//! `[limits] sort_cache_messages` entries; the mailboxes used least
//! recently go first.
//!
//! It also keeps the last few orders SORT worked out per mailbox: the same
//! keys over the same messages give the same order (ties go by sequence
//! number, which follows the UIDs), so a webmail that asks for the same
//! sorted list at every page view gets it without sorting again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::proto::SortKey;
use crate::store::{MailboxId, SortFields};

/// Orders kept per mailbox.
const ORDERS_PER_MAILBOX: usize = 4;

/// One message as SORT and THREAD see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortEntry {
    pub uid: u32,
    /// INTERNALDATE, seconds since the epoch.
    pub arrival: i64,
    /// RFC822.SIZE.
    pub size: u32,
    pub fields: SortFields,
}

/// A mailbox instance: its id and UIDVALIDITY. The store never gives an
/// id or a UIDVALIDITY twice, so no other mailbox, of this user or another,
/// can ever meet these entries (a backend must keep that true).
pub type MailboxKey = (MailboxId, u32);

pub struct SortCache {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    mailboxes: HashMap<MailboxKey, Held>,
    /// Entries held over all mailboxes.
    entries: usize,
    /// Ticks of use, for evicting the least recently used mailbox.
    clock: u64,
}

/// One SORT result.
struct KeptOrder {
    keys: Vec<SortKey>,
    /// The messages sorted, ascending by UID.
    uids: Arc<[u32]>,
    /// The same UIDs in the keys' order.
    order: Arc<[u32]>,
}

struct Held {
    /// The UIDs of `entries`, ascending: searched without touching the
    /// entries themselves.
    uids: Vec<u32>,
    entries: Vec<Arc<SortEntry>>,
    /// Recent SORT results, newest first.
    orders: Vec<KeptOrder>,
    used: u64,
}

impl SortCache {
    /// A cache of at most `capacity` entries (0: none kept).
    pub fn new(capacity: usize) -> SortCache {
        SortCache {
            capacity,
            state: Mutex::new(State::default()),
        }
    }

    /// The held entries of `uids` (ascending), in UID order, and the UIDs
    /// it does not hold.
    pub fn lookup(&self, mailbox: MailboxKey, uids: &[u32]) -> (Vec<Arc<SortEntry>>, Vec<u32>) {
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        let Some(held) = state.mailboxes.get_mut(&mailbox) else {
            return (Vec::new(), uids.to_vec());
        };
        held.used = now;
        let mut found = Vec::with_capacity(uids.len());
        let mut missing = Vec::new();
        let mut at = 0;
        for &uid in uids {
            // Both ascending: a walk, mostly one step at a time.
            while held.uids.get(at).is_some_and(|&held| held < uid) {
                at += 1;
            }
            if held.uids.get(at) == Some(&uid) {
                found.push(Arc::clone(&held.entries[at]));
            } else {
                missing.push(uid);
            }
        }
        (found, missing)
    }

    /// Adds `entries` to what is held for `mailbox`, dropping held entries
    /// whose UIDs are not in `present` (ascending: the mailbox's messages
    /// now), then evicts other mailboxes until within capacity.
    pub fn add(&self, mailbox: MailboxKey, entries: &[Arc<SortEntry>], present: &[u32]) {
        if entries.len() > self.capacity {
            return;
        }
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        let held = state.mailboxes.entry(mailbox).or_insert(Held {
            uids: Vec::new(),
            entries: Vec::new(),
            orders: Vec::new(),
            used: now,
        });
        let before = held.entries.len();
        held.used = now;
        let mut kept: Vec<Arc<SortEntry>> = std::mem::take(&mut held.entries)
            .into_iter()
            .zip(&held.uids)
            .filter(|(_, uid)| present.binary_search(uid).is_ok())
            .map(|(entry, _)| entry)
            .chain(entries.iter().cloned())
            .collect();
        kept.sort_unstable_by_key(|e| e.uid);
        kept.dedup_by_key(|e| e.uid);
        held.uids = kept.iter().map(|e| e.uid).collect();
        held.entries = kept;
        let after = held.entries.len();
        state.entries = state.entries + after - before;
        while state.entries > self.capacity {
            let Some(oldest) = state
                .mailboxes
                .iter()
                .min_by_key(|(_, held)| held.used)
                .map(|(key, _)| *key)
            else {
                break;
            };
            if let Some(gone) = state.mailboxes.remove(&oldest) {
                state.entries -= gone.entries.len();
            }
        }
    }

    /// The order SORT gave `keys` over exactly the messages `uids`
    /// (ascending), when it is kept.
    pub fn order(&self, mailbox: MailboxKey, keys: &[SortKey], uids: &[u32]) -> Option<Arc<[u32]>> {
        let mut state = self.lock();
        let held = state.mailboxes.get_mut(&mailbox)?;
        let at = held
            .orders
            .iter()
            .position(|kept| kept.keys == keys && *kept.uids == *uids)?;
        let kept = held.orders.remove(at);
        let order = Arc::clone(&kept.order);
        held.orders.insert(0, kept);
        Some(order)
    }

    /// Keeps `order`, what SORT gave `keys` over the messages `uids`
    /// (ascending), for a mailbox whose entries are held.
    pub fn keep_order(&self, mailbox: MailboxKey, keys: &[SortKey], uids: &[u32], order: &[u32]) {
        let mut state = self.lock();
        let Some(held) = state.mailboxes.get_mut(&mailbox) else {
            return;
        };
        held.orders.retain(|kept| kept.keys != keys);
        let kept = KeptOrder {
            keys: keys.to_vec(),
            uids: Arc::from(uids),
            order: Arc::from(order),
        };
        held.orders.insert(0, kept);
        held.orders.truncate(ORDERS_PER_MAILBOX);
    }

    /// Entries held over all mailboxes.
    pub fn len(&self) -> usize {
        self.lock().entries
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(uid: u32) -> Arc<SortEntry> {
        Arc::new(SortEntry {
            uid,
            arrival: i64::from(uid),
            size: uid,
            fields: SortFields::default(),
        })
    }

    fn uids(entries: &[Arc<SortEntry>]) -> Vec<u32> {
        entries.iter().map(|e| e.uid).collect()
    }

    #[test]
    fn lookup_finds_what_was_added_and_names_the_rest() {
        let cache = SortCache::new(100);
        let (found, missing) = cache.lookup((1, 7), &[1, 2, 3]);
        assert!(found.is_empty());
        assert_eq!(missing, [1, 2, 3]);
        cache.add((1, 7), &[entry(3), entry(1)], &[1, 2, 3]);
        let (found, missing) = cache.lookup((1, 7), &[1, 2, 3, 4]);
        assert_eq!(uids(&found), [1, 3]);
        assert_eq!(missing, [2, 4]);
        // Another UIDVALIDITY is another mailbox.
        assert_eq!(cache.lookup((1, 8), &[1]).1, [1]);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn expunged_messages_leave_when_entries_are_added() {
        let cache = SortCache::new(100);
        cache.add((1, 1), &[entry(1), entry(2), entry(3)], &[1, 2, 3]);
        cache.add((1, 1), &[entry(4)], &[1, 3, 4]);
        let (found, missing) = cache.lookup((1, 1), &[1, 2, 3, 4]);
        assert_eq!(uids(&found), [1, 3, 4]);
        assert_eq!(missing, [2]);
        assert_eq!(cache.len(), 3);
        // The same entry twice is held once.
        cache.add((1, 1), &[entry(4)], &[1, 3, 4]);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn orders_are_kept_for_the_same_keys_and_messages() {
        use crate::proto::SortCriterion;
        let cache = SortCache::new(100);
        let by = |criterion, reverse| vec![SortKey { criterion, reverse }];
        let subject = by(SortCriterion::Subject, false);
        let date = by(SortCriterion::Date, true);
        // Only for a mailbox whose entries are held.
        cache.keep_order((1, 1), &subject, &[1, 2, 3], &[3, 1, 2]);
        assert!(cache.order((1, 1), &subject, &[1, 2, 3]).is_none());
        cache.add((1, 1), &[entry(1), entry(2), entry(3)], &[1, 2, 3]);
        cache.keep_order((1, 1), &subject, &[1, 2, 3], &[3, 1, 2]);
        cache.keep_order((1, 1), &date, &[1, 2], &[2, 1]);
        assert_eq!(
            cache.order((1, 1), &subject, &[1, 2, 3]).as_deref(),
            Some(&[3, 1, 2][..])
        );
        assert_eq!(
            cache.order((1, 1), &date, &[1, 2]).as_deref(),
            Some(&[2, 1][..])
        );
        // Other messages, other keys, another mailbox: not kept.
        assert!(cache.order((1, 1), &subject, &[1, 2]).is_none());
        assert!(cache.order((1, 1), &subject, &[1, 2, 3, 4]).is_none());
        assert!(
            cache
                .order((1, 1), &by(SortCriterion::Subject, true), &[1, 2, 3])
                .is_none()
        );
        assert!(cache.order((2, 1), &subject, &[1, 2, 3]).is_none());
        // A newer order for the same keys replaces the older; at most
        // ORDERS_PER_MAILBOX are kept.
        cache.keep_order((1, 1), &subject, &[1, 2], &[2, 1]);
        assert!(cache.order((1, 1), &subject, &[1, 2, 3]).is_none());
        for criterion in [
            SortCriterion::From,
            SortCriterion::To,
            SortCriterion::Cc,
            SortCriterion::Size,
        ] {
            cache.keep_order((1, 1), &by(criterion, false), &[1], &[1]);
        }
        assert!(
            cache.order((1, 1), &subject, &[1, 2]).is_none(),
            "pushed out"
        );
    }

    #[test]
    fn the_least_recently_used_mailbox_goes_first() {
        let cache = SortCache::new(5);
        cache.add((1, 1), &[entry(1), entry(2)], &[1, 2]);
        cache.add((2, 1), &[entry(1), entry(2)], &[1, 2]);
        cache.lookup((1, 1), &[1]);
        cache.add((3, 1), &[entry(1), entry(2)], &[1, 2]);
        assert_eq!(cache.lookup((2, 1), &[1]).1, [1], "evicted");
        assert!(cache.lookup((1, 1), &[1]).1.is_empty(), "kept");
        assert!(cache.lookup((3, 1), &[1]).1.is_empty(), "kept");
        assert_eq!(cache.len(), 4);
        // More than the whole capacity is not kept at all.
        cache.add((4, 1), &(1..=6).map(entry).collect::<Vec<_>>(), &[]);
        assert_eq!(cache.lookup((4, 1), &[1]).1, [1]);
        let none = SortCache::new(0);
        none.add((1, 1), &[entry(1)], &[1]);
        assert!(none.is_empty());
    }
}
