//! SELECT snapshots and the `\Recent` claim: one session, the first that
//! selects read-write or catches up claiming, reports a message as recent.

use letterbox::store::{FlagChange, MailStore, SystemFlags};

use super::{Account, flags, name, numbered};

pub fn select_lists_the_messages_in_uid_order(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let seen = flags(SystemFlags::SEEN, &[]);
    alice.store_flags("INBOX", &uids[1..2], FlagChange::Add, &seen);
    let status = alice.status("INBOX");

    let selected = store.select(alice.id, &name("inbox"), false).unwrap();
    assert_eq!(selected.name, "INBOX");
    assert_eq!(
        (
            selected.uidvalidity,
            selected.uidnext,
            selected.highest_modseq
        ),
        (status.uidvalidity, status.uidnext, status.highest_modseq)
    );
    let listed: Vec<(u32, bool)> = selected
        .messages
        .iter()
        .map(|m| (m.uid, m.flags.system.has(SystemFlags::SEEN)))
        .collect();
    assert_eq!(
        listed,
        [(uids[0], false), (uids[1], true), (uids[2], false)]
    );
    let fetched = alice.fetch("INBOX", &uids);
    for (meta, message) in selected.messages.iter().zip(&fetched) {
        assert_eq!(meta.modseq, message.modseq, "UID {}", meta.uid);
    }
}

pub fn select_lists_the_keywords_in_use(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let keywords = |uid: u32, list: &[&str]| {
        alice.store_flags("INBOX", &[uid], FlagChange::Add, &flags(0, list));
    };
    keywords(uids[0], &["Later", "$Work"]);
    keywords(uids[1], &["$Work"]);
    let selected = store.select(alice.id, &name("INBOX"), false).unwrap();
    assert_eq!(super::sorted(selected.keywords), ["$Work", "Later"]);
}

pub fn only_the_first_claiming_session_sees_recent(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.append_numbered("INBOX", 2);
    let inbox = name("INBOX");
    let all_recent = |recent: bool, selected: &letterbox::store::SelectedMailbox| {
        selected.messages.iter().all(|m| m.recent == recent)
    };
    // EXAMINE sees \Recent without taking it.
    let examine = store.select(alice.id, &inbox, false).unwrap();
    assert!(all_recent(true, &examine));
    assert_eq!(alice.status("INBOX").recent, 2);
    let first = store.select(alice.id, &inbox, true).unwrap();
    assert!(all_recent(true, &first));
    let second = store.select(alice.id, &inbox, true).unwrap();
    assert!(all_recent(false, &second));
    assert_eq!(alice.status("INBOX").recent, 0);

    // A new message goes to the first session that catches up claiming.
    let new = alice.append("INBOX", &numbered(3));
    let catch_up = |claim| {
        let changes = store
            .changes_since(first.id, first.highest_modseq, 2, claim)
            .unwrap();
        let new: Vec<(u32, bool)> = changes.new.iter().map(|m| (m.uid, m.recent)).collect();
        new
    };
    assert_eq!(catch_up(false), [(new, true)], "a peek claims nothing");
    assert_eq!(catch_up(true), [(new, true)]);
    assert_eq!(catch_up(true), [(new, false)]);
    assert_eq!(alice.status("INBOX").recent, 0);
}
