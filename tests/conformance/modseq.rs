//! MODSEQ (RFC 7162): every change raises the mailbox's HIGHESTMODSEQ and
//! stamps what changed with it, so sessions catch up on exactly what came
//! after the MODSEQ they last saw, expunges included.

use letterbox::store::{FetchRequest, FlagChange, KeptFlags, MailStore, SearchQuery, SystemFlags};

use super::{Account, flags, name, numbered};

pub fn every_change_raises_highest_modseq(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let archived = alice.append("Archive", &numbered(4));
    let inbox = alice.id_of("INBOX");
    let seen = flags(SystemFlags::SEEN, &[]);
    let mut last = alice.highest_modseq("INBOX");
    let mut check = |what: &str, raised: bool| {
        let now = alice.highest_modseq("INBOX");
        if raised {
            assert!(now > last, "{what} did not raise {last}");
        } else {
            assert_eq!(now, last, "{what} changed nothing");
        }
        last = now;
    };

    alice.append("INBOX", &numbered(5));
    check("append", true);
    alice.store_flags("INBOX", &uids[..2], FlagChange::Add, &seen);
    check("store", true);
    store
        .copy(
            alice.id_of("Archive"),
            &[archived],
            alice.id,
            &name("INBOX"),
            KeptFlags::ALL,
        )
        .unwrap();
    check("copy into", true);
    alice.expunge("INBOX", &uids[2..]);
    check("flag and expunge", true);
    let moved = store
        .move_messages(inbox, &uids[..1], alice.id, &name("Trash"), KeptFlags::ALL)
        .unwrap();
    check("move out", true);
    store
        .move_messages(
            alice.id_of("Trash"),
            &[moved.uids[0].1],
            alice.id,
            &name("INBOX"),
            KeptFlags::ALL,
        )
        .unwrap();
    check("move in", true);

    alice.store_flags("INBOX", &uids[1..2], FlagChange::Add, &seen);
    check("storing flags already set", false);
    store.expunge(inbox, None).unwrap();
    check("expunging with nothing deleted", false);
    store.fetch(inbox, &uids, FetchRequest::default()).unwrap();
    store.search(inbox, &SearchQuery::All).unwrap();
    store.select(alice.id, &name("INBOX"), true).unwrap();
    check("reading", false);
}

pub fn changed_messages_share_the_new_modseq(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let seen = flags(SystemFlags::SEEN, &[]);
    alice.store_flags("INBOX", &uids[1..2], FlagChange::Add, &seen);
    let untouched = alice.fetch_one("INBOX", uids[1]).modseq;

    let outcome = alice.store_flags("INBOX", &uids, FlagChange::Add, &seen);
    let highest = alice.highest_modseq("INBOX");
    let reported: Vec<(u32, u64, bool)> = outcome
        .messages
        .iter()
        .map(|m| (m.uid, m.modseq, m.changed))
        .collect();
    assert_eq!(
        reported,
        [
            (uids[0], highest, true),
            (uids[1], untouched, false),
            (uids[2], highest, true)
        ]
    );
    let fetched: Vec<u64> = alice
        .fetch("INBOX", &uids)
        .iter()
        .map(|m| m.modseq)
        .collect();
    assert_eq!(fetched, [highest, untouched, highest]);
}

pub fn changes_since_reports_exactly_the_later_changes(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 4);
    let inbox = alice.id_of("INBOX");
    let last_uid = uids[3];
    let start = alice.highest_modseq("INBOX");
    let seen = flags(SystemFlags::SEEN, &[]);
    // The last known message counts as known.
    alice.store_flags("INBOX", &[uids[1], last_uid], FlagChange::Add, &seen);
    let flagged = alice.highest_modseq("INBOX");
    alice.expunge("INBOX", &uids[2..3]);
    let new = alice.append("INBOX", &numbered(5));
    let highest = alice.highest_modseq("INBOX");

    let changes = store.changes_since(inbox, start, last_uid, false).unwrap();
    assert_eq!(changes.highest_modseq, highest);
    assert_eq!(changes.expunged, [uids[2]]);
    let updated: Vec<(u32, u8, u64)> = changes
        .updated
        .iter()
        .map(|m| (m.uid, m.flags.system.0, m.modseq))
        .collect();
    assert_eq!(
        updated,
        [
            (uids[1], SystemFlags::SEEN, flagged),
            (last_uid, SystemFlags::SEEN, flagged)
        ]
    );
    let news: Vec<u32> = changes.new.iter().map(|m| m.uid).collect();
    assert_eq!(news, [new]);

    // From a later point only what followed it.
    let later = store
        .changes_since(inbox, flagged, last_uid, false)
        .unwrap();
    assert_eq!(
        (later.expunged, later.updated.len(), later.new.len()),
        (vec![uids[2]], 0, 1)
    );
    let none = store.changes_since(inbox, highest, new, false).unwrap();
    assert_eq!(none.highest_modseq, highest);
    assert!(none.expunged.is_empty() && none.updated.is_empty() && none.new.is_empty());
}

pub fn vanished_since_lists_tombstones_after_a_modseq(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 6);
    let inbox = alice.id_of("INBOX");
    let start = alice.highest_modseq("INBOX");
    alice.expunge("INBOX", &uids[1..3]);
    let first = alice.highest_modseq("INBOX");
    alice.expunge("INBOX", &uids[4..5]);
    let second = alice.highest_modseq("INBOX");
    let vanished = |modseq, within: Option<&[std::ops::RangeInclusive<u32>]>| {
        store.vanished_since(inbox, modseq, within).unwrap()
    };
    assert_eq!(vanished(start, None), [uids[1], uids[2], uids[4]]);
    assert_eq!(vanished(first, None), [uids[4]]);
    assert!(vanished(second, None).is_empty());
    let (low, high) = (uids[0]..=uids[2], uids[4]..=u32::MAX - 1);
    assert_eq!(vanished(start, Some(&[low])), [uids[1], uids[2]]);
    assert_eq!(vanished(start, Some(&[high])), [uids[4]]);
    // MOVE leaves tombstones as well.
    store
        .move_messages(
            inbox,
            &uids[5..],
            alice.id,
            &name("Archive"),
            KeptFlags::ALL,
        )
        .unwrap();
    assert_eq!(vanished(second, None), [uids[5]]);
    // And nothing vanished that is still there.
    assert_eq!(alice.uids("INBOX"), [uids[0], uids[3]]);
}
