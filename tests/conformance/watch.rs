//! `watch()`: the wake-up IDLE waits on. A receiver must change once the
//! mailbox's MODSEQ rises, whatever changed it and whoever did.

use std::time::Duration;

use letterbox::store::{
    FlagChange, KeptFlags, MailStore, MailboxId, SpecialUse, StoreError, SystemFlags,
};
use tokio::sync::watch::Receiver;

use super::{Account, Backend, flags, name, numbered};

/// How long a wake-up may take: a change made through another instance is
/// only seen when the backend next polls for such changes.
const PATIENCE: Duration = Duration::from_secs(5);

/// Waits for `receiver` to change and returns what it then holds.
fn next_value(receiver: &mut Receiver<u64>) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime
        .block_on(async { tokio::time::timeout(PATIENCE, receiver.changed()).await })
        .expect("no wake-up")
        .expect("the store dropped the channel");
    *receiver.borrow_and_update()
}

/// alice's INBOX with `count` messages, and a receiver watching it from
/// its current MODSEQ on.
fn watched_inbox<'s>(
    store: &'s dyn MailStore,
    count: usize,
) -> (Account<'s>, MailboxId, Receiver<u64>) {
    let alice = Account::create(store, "alice");
    alice.append_numbered("INBOX", count);
    let selected = store.select(alice.id, &name("INBOX"), true).unwrap();
    let receiver = store.watch(selected.id, selected.highest_modseq);
    (alice, selected.id, receiver)
}

pub fn watchers_see_the_modseq_of_an_append(store: &dyn MailStore) {
    let (alice, _, mut receiver) = watched_inbox(store, 0);
    let before = alice.highest_modseq("INBOX");
    assert!(!receiver.has_changed().unwrap(), "nothing happened yet");
    alice.append("INBOX", &numbered(1));
    let seen = next_value(&mut receiver);
    assert!(seen > before);
    assert_eq!(seen, alice.highest_modseq("INBOX"));
}

pub fn watchers_wake_for_every_kind_of_change(store: &dyn MailStore) {
    let (alice, inbox, mut receiver) = watched_inbox(store, 3);
    let archived = alice.append("Archive", &numbered(4));
    let uids = alice.uids("INBOX");
    let changes: [(&str, &dyn Fn()); 5] = [
        ("flags", &|| {
            alice.store_flags(
                "INBOX",
                &uids[..1],
                FlagChange::Add,
                &flags(SystemFlags::DELETED, &[]),
            );
        }),
        ("expunge", &|| {
            store.expunge(inbox, None).unwrap();
        }),
        ("copy in", &|| {
            store
                .copy(
                    alice.id_of("Archive"),
                    &[archived],
                    alice.id,
                    &name("INBOX"),
                    KeptFlags::ALL,
                )
                .unwrap();
        }),
        ("move out", &|| {
            store
                .move_messages(inbox, &uids[1..2], alice.id, &name("Trash"), KeptFlags::ALL)
                .unwrap();
        }),
        ("move in", &|| {
            store
                .move_messages(
                    alice.id_of("Archive"),
                    &[archived],
                    alice.id,
                    &name("INBOX"),
                    KeptFlags::ALL,
                )
                .unwrap();
        }),
    ];
    for (what, change) in changes {
        change();
        assert_eq!(
            next_value(&mut receiver),
            alice.highest_modseq("INBOX"),
            "{what}"
        );
    }
}

pub fn watchers_of_other_mailboxes_sleep(store: &dyn MailStore) {
    let (alice, _, mut inbox) = watched_inbox(store, 1);
    let archive_id = alice.id_of("Archive");
    let mut archive = store.watch(archive_id, alice.highest_modseq("Archive"));
    alice.append("Archive", &numbered(2));
    assert_eq!(next_value(&mut archive), alice.highest_modseq("Archive"));
    assert!(!inbox.has_changed().unwrap(), "INBOX did not change");
    alice.append("INBOX", &numbered(3));
    assert_eq!(next_value(&mut inbox), alice.highest_modseq("INBOX"));
}

pub fn deleting_a_watched_mailbox_wakes_its_watchers(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("Doomed");
    alice.append("Doomed", &numbered(1));
    let selected = store.select(alice.id, &name("Doomed"), true).unwrap();
    let mut receiver = store.watch(selected.id, selected.highest_modseq);
    alice.delete_mailbox("Doomed");
    assert!(next_value(&mut receiver) > selected.highest_modseq);
    // Woken, the session learns that its mailbox is gone.
    let changes = store.changes_since(selected.id, selected.highest_modseq, 1, true);
    assert_eq!(changes, Err(StoreError::NoSuchMailbox));
}

/// RENAME INBOX empties INBOX: its sessions must hear of it.
pub fn renaming_inbox_wakes_its_watchers(store: &dyn MailStore) {
    let (alice, _, mut receiver) = watched_inbox(store, 2);
    store
        .rename_mailbox(alice.id, &name("INBOX"), &name("Old"))
        .unwrap();
    assert_eq!(next_value(&mut receiver), alice.highest_modseq("INBOX"));
}

pub fn purging_wakes_watchers_of_the_purged_mailbox(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.append("Trash", &numbered(1));
    let selected = store.select(alice.id, &name("Trash"), true).unwrap();
    let mut receiver = store.watch(selected.id, selected.highest_modseq);
    let cutoff = chrono::Utc::now().timestamp() + 1;
    assert_eq!(store.purge_older_than(SpecialUse::Trash, cutoff), Ok(1));
    assert_eq!(next_value(&mut receiver), alice.highest_modseq("Trash"));
}

/// Another process (`letterbox deliver`, a second server) writing to the
/// same data wakes this instance's watchers too.
pub fn watchers_hear_of_changes_made_by_another_instance(backend: &Backend) {
    let (alice, _, mut receiver) = watched_inbox(backend.store(), 1);
    let other = backend.open_again();
    other
        .append(alice.id, &name("INBOX"), super::message(&numbered(2)))
        .unwrap();
    assert_eq!(next_value(&mut receiver), alice.highest_modseq("INBOX"));
}
