//! UID, UIDNEXT and UIDVALIDITY (RFC 3501 §2.3.1.1): UIDs strictly ascend
//! and are never reused; UIDVALIDITY stays while a mailbox lives and grows
//! when its name comes back; all of it survives reopening the store.

use letterbox::store::{FlagChange, KeptFlags, MailStore, SystemFlags};

use super::{Account, Backend, flags, name, numbered};

pub fn uids_ascend_and_uidnext_stays_above_them(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let mut last = 0;
    for n in 1..=4 {
        let before = alice.status("INBOX");
        let appended = store
            .append(alice.id, &name("INBOX"), super::message(&numbered(n)))
            .unwrap();
        assert_eq!(appended.uidvalidity, before.uidvalidity);
        // UIDNEXT predicts: the new UID is at least what it said.
        assert!(appended.uid > last && appended.uid >= before.uidnext);
        assert!(alice.status("INBOX").uidnext > appended.uid);
        last = appended.uid;
    }
}

pub fn expunged_uids_are_never_reused(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let uidnext = alice.status("INBOX").uidnext;
    alice.expunge("INBOX", &uids[1..]);
    assert_eq!(
        alice.status("INBOX").uidnext,
        uidnext,
        "UIDNEXT never drops"
    );
    let next = alice.append("INBOX", &numbered(4));
    assert!(next > uids[2]);
    // Not even once the mailbox is empty.
    alice.expunge("INBOX", &[uids[0], next]);
    assert!(alice.append("INBOX", &numbered(5)) > next);
}

pub fn uidvalidity_stays_while_the_mailbox_lives(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uidvalidity = alice.status("INBOX").uidvalidity;
    let uids = alice.append_numbered("INBOX", 3);
    let seen = flags(SystemFlags::SEEN, &[]);
    alice.store_flags("INBOX", &uids, FlagChange::Add, &seen);
    alice.expunge("INBOX", &uids[..1]);
    let archive = alice.append("Archive", &numbered(4));
    store
        .copy(
            alice.id_of("Archive"),
            &[archive],
            alice.id,
            &name("INBOX"),
            KeptFlags::ALL,
        )
        .unwrap();
    let moved = store
        .move_messages(
            alice.id_of("INBOX"),
            &uids[1..2],
            alice.id,
            &name("Trash"),
            KeptFlags::ALL,
        )
        .unwrap();
    store
        .move_messages(
            alice.id_of("Trash"),
            &[moved.uids[0].1],
            alice.id,
            &name("INBOX"),
            KeptFlags::ALL,
        )
        .unwrap();
    assert_eq!(alice.status("INBOX").uidvalidity, uidvalidity);
}

pub fn uidvalidity_grows_when_a_name_is_reused(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("x");
    let first = alice.status("x").uidvalidity;
    alice.delete_mailbox("x");
    alice.create_mailbox("x");
    let second = alice.status("x").uidvalidity;
    assert!(second > first);
    // A name freed by RENAME is reused the same way; the renamed mailbox
    // keeps its own.
    store
        .rename_mailbox(alice.id, &name("x"), &name("y"))
        .unwrap();
    alice.create_mailbox("x");
    assert!(alice.status("x").uidvalidity > second);
    assert_eq!(alice.status("y").uidvalidity, second);
}

/// What a client caches (UIDVALIDITY, UIDs, flags, MODSEQs) must still hold
/// after a restart, and the next UID and MODSEQ carry on from there.
pub fn uid_state_survives_reopening(backend: &Backend) {
    let alice = Account::create(backend.store(), "alice");
    alice.create_mailbox("Work");
    let uids = alice.append_numbered("Work", 3);
    alice.expunge("Work", &uids[..1]);
    let seen = flags(SystemFlags::SEEN, &["$Work"]);
    alice.store_flags("Work", &uids[2..], FlagChange::Add, &seen);
    let status = alice.status("Work");
    let selected = backend
        .store()
        .select(alice.id, &name("Work"), false)
        .unwrap();

    let reopened = backend.open_again();
    let again = Account {
        store: reopened.as_ref(),
        id: alice.id,
        name: alice.name.clone(),
    };
    assert_eq!(again.status("Work"), status);
    let reselected = reopened.select(alice.id, &name("Work"), false).unwrap();
    assert_eq!(reselected, selected);
    let next = again.append("Work", &numbered(4));
    assert!(next > uids[2]);
    assert!(again.highest_modseq("Work") > status.highest_modseq);
}
