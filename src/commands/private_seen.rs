//! Per-user `\Seen` in team mailboxes (`letterbox shared set NAME
//! --private-seen on`): each member's own read state, kept by the store
//! beside the shared flags, laid over them in every answer (FETCH,
//! STORE, SELECT, updates, SEARCH, STATUS). Everything else stays shared.
//!
//! A change of someone's `\Seen` gives the message a new MODSEQ, so the
//! user's other sessions (and CONDSTORE clients) learn of it; the other
//! members' sessions then report the message again with their own,
//! unchanged, flags.

use std::collections::HashSet;

use crate::store::search::SearchQuery;
use crate::store::{
    FlagChange, Flags, MailStore, MailboxId, MailboxStatus, StoreOutcome, StoreResult, SystemFlags,
    UserId,
};

/// The UIDs `viewer` has seen when the mailbox keeps `\Seen` per user
/// (`viewer` is `None` in the user's own mailboxes, which never do).
pub fn load(
    store: &dyn MailStore,
    mailbox: MailboxId,
    viewer: Option<UserId>,
) -> StoreResult<Option<Vec<u32>>> {
    match viewer {
        Some(user) => store.seen_by(mailbox, user),
        None => Ok(None),
    }
}

/// Gives each message the `\Seen` of `seen` (ascending UIDs), if any.
pub fn overlay<'a>(seen: Option<&[u32]>, messages: impl IntoIterator<Item = (u32, &'a mut Flags)>) {
    let Some(seen) = seen else { return };
    for (uid, flags) in messages {
        *flags = std::mem::take(flags).with_seen(seen.binary_search(&uid).is_ok());
    }
}

/// SEARCH's `\Seen` criteria (SEEN, UNSEEN, inside NOT/OR) answered from
/// the user's own `seen` UIDs.
pub fn rewrite(query: SearchQuery, seen: Option<&[u32]>) -> SearchQuery {
    let Some(seen) = seen else { return query };
    match query {
        SearchQuery::Flag(bit) if bit == SystemFlags::SEEN => SearchQuery::Uids(ranges(seen)),
        SearchQuery::And(all) => {
            SearchQuery::And(all.into_iter().map(|q| rewrite(q, Some(seen))).collect())
        }
        SearchQuery::Or(a, b) => SearchQuery::Or(
            Box::new(rewrite(*a, Some(seen))),
            Box::new(rewrite(*b, Some(seen))),
        ),
        SearchQuery::Not(q) => SearchQuery::Not(Box::new(rewrite(*q, Some(seen)))),
        other => other,
    }
}

/// Ascending UIDs as ranges of consecutive ones.
fn ranges(uids: &[u32]) -> Vec<std::ops::RangeInclusive<u32>> {
    let mut out: Vec<std::ops::RangeInclusive<u32>> = Vec::new();
    for &uid in uids {
        match out.last_mut() {
            Some(last) if last.end().checked_add(1) == Some(uid) => {
                *last = *last.start()..=uid;
            }
            _ => out.push(uid..=uid),
        }
    }
    out
}

/// STATUS's UNSEEN for `viewer` (messages are never kept as seen after
/// they are gone, so the count is the difference).
pub fn status(
    store: &dyn MailStore,
    mut status: MailboxStatus,
    viewer: Option<UserId>,
) -> StoreResult<MailboxStatus> {
    if let Some(seen) = load(store, status.id, viewer)? {
        status.unseen = status.messages.saturating_sub(seen.len() as u32);
    }
    Ok(status)
}

/// STORE: `\Seen` to the user's own read state where the mailbox keeps
/// one, the other flags to the shared ones. The outcome is as one STORE's:
/// the flags as the user sees them, each message's newest MODSEQ.
pub fn store_flags(
    store: &dyn MailStore,
    mailbox: MailboxId,
    viewer: Option<UserId>,
    uids: &[u32],
    change: FlagChange,
    flags: &Flags,
    unchanged_since: Option<u64>,
) -> StoreResult<StoreOutcome> {
    let private = match viewer {
        Some(user) => store.seen_by(mailbox, user)?.map(|_| user),
        None => None,
    };
    let Some(user) = private else {
        return store.store_flags(mailbox, uids, change, flags, unchanged_since);
    };
    let asks_seen = flags.system.has(SystemFlags::SEEN);
    let shared = flags.clone().with_seen(false);
    let seen = match change {
        FlagChange::Add => asks_seen.then_some(true),
        FlagChange::Remove => asks_seen.then_some(false),
        FlagChange::Replace => Some(asks_seen),
    };
    let touches_shared = change == FlagChange::Replace || shared != Flags::default();
    let Some(seen) = seen else {
        let mut outcome = store.store_flags(mailbox, uids, change, &shared, unchanged_since)?;
        let own = store.seen_by(mailbox, user)?;
        let messages = outcome.messages.iter_mut();
        overlay(own.as_deref(), messages.map(|m| (m.uid, &mut m.flags)));
        return Ok(outcome);
    };
    if !touches_shared {
        return store.store_seen_by(mailbox, user, uids, seen, unchanged_since);
    }
    // UNCHANGEDSINCE is checked once, by the first step: its own change
    // must not make the second refuse the same messages.
    let first = store.store_flags(mailbox, uids, change, &shared, unchanged_since)?;
    let rest: Vec<u32> = uids
        .iter()
        .copied()
        .filter(|uid| !first.modified.contains(uid))
        .collect();
    let mut outcome = store.store_seen_by(mailbox, user, &rest, seen, None)?;
    let changed_first: HashSet<u32> = first
        .messages
        .iter()
        .filter(|m| m.changed)
        .map(|m| m.uid)
        .collect();
    for message in &mut outcome.messages {
        message.changed |= changed_first.contains(&message.uid);
    }
    outcome.modified = first.modified;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_criteria_become_the_users_own_uids() {
        let seen = [1, 2, 3, 7, 9, 10];
        let query = SearchQuery::And(vec![
            SearchQuery::Not(Box::new(SearchQuery::Flag(SystemFlags::SEEN))),
            SearchQuery::Flag(SystemFlags::FLAGGED),
        ]);
        assert_eq!(
            rewrite(query.clone(), Some(&seen)),
            SearchQuery::And(vec![
                SearchQuery::Not(Box::new(SearchQuery::Uids(vec![1..=3, 7..=7, 9..=10]))),
                SearchQuery::Flag(SystemFlags::FLAGGED),
            ])
        );
        assert_eq!(rewrite(query.clone(), None), query);
        assert_eq!(
            rewrite(SearchQuery::Flag(SystemFlags::SEEN), Some(&[])),
            SearchQuery::Uids(Vec::new())
        );
    }

    #[test]
    fn overlay_sets_and_clears_seen() {
        let mut flags = [(1, Flags::default().with_seen(true)), (2, Flags::default())];
        overlay(Some(&[2]), flags.iter_mut().map(|(uid, f)| (*uid, f)));
        assert!(!flags[0].1.system.has(SystemFlags::SEEN));
        assert!(flags[1].1.system.has(SystemFlags::SEEN));
    }
}
