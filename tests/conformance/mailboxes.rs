//! Mailboxes: the hierarchy, the RFC 3501 CREATE, DELETE and RENAME rules
//! (§6.3.3-§6.3.5), subscriptions, STATUS and special use.

use letterbox::store::{FetchRequest, FlagChange, MailStore, SpecialUse, StoreError, SystemFlags};

use super::{Account, contents, flags, name, numbered, unusable_mailboxes};

fn selectable(names: &[&str]) -> Vec<(String, bool)> {
    names.iter().map(|n| (n.to_string(), true)).collect()
}

fn has(alice: &Account, mailbox: &str, selectable: bool) -> bool {
    alice
        .mailboxes()
        .contains(&(mailbox.to_owned(), selectable))
}

fn is_listed(alice: &Account, mailbox: &str) -> bool {
    alice.mailboxes().iter().any(|(n, _)| n == mailbox)
}

pub fn create_makes_missing_superiors(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("a/b/c");
    alice.create_mailbox("a/x");
    let created: Vec<_> = alice
        .mailboxes()
        .into_iter()
        .filter(|(n, _)| n.starts_with('a'))
        .collect();
    assert_eq!(created, selectable(&["a", "a/b", "a/b/c", "a/x"]));
    // The superiors are real mailboxes.
    alice.append("a/b", "x\r\n");
}

pub fn create_refuses_existing_names_and_inbox_in_any_case(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("a/b");
    let before = alice.mailboxes();
    for taken in ["a/b", "a", "INBOX", "inbox", "InBox"] {
        assert_eq!(
            store.create_mailbox(alice.id, &name(taken), None),
            Err(StoreError::MailboxExists),
            "{taken}"
        );
    }
    assert_eq!(alice.mailboxes(), before);
}

pub fn names_other_than_inbox_are_case_sensitive(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    for mailbox in ["Work", "work", "inbox/Sub", "Work/inbox"] {
        alice.create_mailbox(mailbox);
    }
    for mailbox in ["Work", "work", "INBOX/Sub", "Work/inbox"] {
        assert!(has(&alice, mailbox, true), "{mailbox}");
    }
    alice.append("Work", "x\r\n");
    assert_eq!(alice.status("work").messages, 0);
}

pub fn special_use_is_kept_and_reported(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let starred = name("Lists/Starred");
    store
        .create_mailbox(alice.id, &starred, Some(SpecialUse::Flagged))
        .unwrap();
    let listed = store.list_mailboxes(alice.id).unwrap();
    let special_use = |mailbox: &str| {
        let found = listed.iter().find(|m| m.name == mailbox).unwrap();
        found.special_use
    };
    assert_eq!(special_use("Lists/Starred"), Some(SpecialUse::Flagged));
    assert_eq!(special_use("Lists"), None, "a superior made on the way");
}

pub fn deleting_a_leaf_removes_it_but_not_its_subscription(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("Old");
    store.set_subscribed(alice.id, &name("Old"), true).unwrap();
    alice.append_numbered("Old", 2);
    alice.delete_mailbox("Old");
    assert!(!is_listed(&alice, "Old"));
    assert_eq!(
        store.status(alice.id, &name("Old")),
        Err(StoreError::NoSuchMailbox)
    );
    assert_eq!(
        store.delete_mailbox(alice.id, &name("Old")),
        Err(StoreError::NoSuchMailbox)
    );
    // RFC 3501 §6.3.6: the server must not unsubscribe on its own.
    assert!(alice.subscriptions().contains(&"Old".to_owned()));
}

pub fn inbox_cannot_be_deleted(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.append("INBOX", "x\r\n");
    for spelling in ["INBOX", "inbox"] {
        assert!(matches!(
            store.delete_mailbox(alice.id, &name(spelling)),
            Err(StoreError::Refused(_))
        ));
    }
    assert_eq!(alice.status("INBOX").messages, 1);
}

pub fn deleting_a_mailbox_with_inferiors_leaves_a_noselect_placeholder(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let projects = name("Projects");
    store
        .create_mailbox(alice.id, &projects, Some(SpecialUse::Flagged))
        .unwrap();
    alice.create_mailbox("Projects/2024");
    alice.append_numbered("Projects", 2);
    let kept = alice.append("Projects/2024", "kept\r\n");

    alice.delete_mailbox("Projects");
    let listed = store.list_mailboxes(alice.id).unwrap();
    let placeholder = listed.iter().find(|m| m.name == "Projects").unwrap();
    assert!(!placeholder.selectable);
    assert_eq!(placeholder.special_use, None);
    assert_eq!(alice.uids("Projects/2024"), [kept]);
    assert_eq!(alice.usage().0, 1, "the placeholder's messages went");
    // RFC 3501 §6.3.4: deleting a \Noselect name with inferiors is an error.
    assert!(matches!(
        store.delete_mailbox(alice.id, &projects),
        Err(StoreError::Refused(_))
    ));
}

pub fn a_placeholder_without_inferiors_can_be_deleted(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("a/b");
    alice.delete_mailbox("a");
    alice.delete_mailbox("a/b");
    assert!(has(&alice, "a", false));
    alice.delete_mailbox("a");
    assert!(!is_listed(&alice, "a"));
}

pub fn creating_over_a_placeholder_makes_a_new_empty_mailbox(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("a/b");
    alice.append_numbered("a", 2);
    let old = alice.status("a");
    alice.delete_mailbox("a");
    alice.create_mailbox("a");
    assert!(has(&alice, "a", true));
    let new = alice.status("a");
    assert_eq!(new.messages, 0);
    // RFC 3501 §2.3.1.1: the old UIDs are invalid, so UIDVALIDITY grows.
    assert!(new.uidvalidity > old.uidvalidity);
    assert!(has(&alice, "a/b", true));
}

/// A session keeps the id of the mailbox it selected. If that mailbox is
/// deleted and one of the same name created, the session must learn that
/// its mailbox is gone, not see the new one's messages under its old UIDs.
pub fn a_deleted_mailbox_stays_gone_for_sessions_that_selected_it(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("x");
    let old = alice.append("x", "old\r\n");
    let selected = store.select(alice.id, &name("x"), true).unwrap();
    alice.delete_mailbox("x");
    alice.create_mailbox("x");
    alice.append("x", "new\r\n");
    assert_eq!(
        store.changes_since(selected.id, selected.highest_modseq, old, true),
        Err(StoreError::NoSuchMailbox)
    );
    let raw = FetchRequest {
        index: false,
        raw: true,
    };
    assert_eq!(store.fetch(selected.id, &[old], raw), Ok(vec![]));
}

pub fn rename_moves_the_mailbox_with_its_inferiors(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    store
        .create_mailbox(alice.id, &name("Ärger"), Some(SpecialUse::Junk))
        .unwrap();
    alice.create_mailbox("Ärger/Kind");
    // Shares the prefix but is not an inferior.
    alice.create_mailbox("Ärgerlich");
    store
        .set_subscribed(alice.id, &name("Ärger/Kind"), true)
        .unwrap();
    let uids = alice.append_numbered("Ärger", 2);
    alice.append("Ärger/Kind", "child\r\n");
    let before = alice.status("Ärger");
    let messages = alice.fetch("Ärger", &uids);

    store
        .rename_mailbox(alice.id, &name("Ärger"), &name("x/Über"))
        .unwrap();
    let moved: Vec<_> = alice
        .mailboxes()
        .into_iter()
        .filter(|(n, _)| n.starts_with('x') || n.starts_with('Ä'))
        .collect();
    assert_eq!(
        moved,
        selectable(&["x", "x/Über", "x/Über/Kind", "Ärgerlich"])
    );
    // The messages keep their UIDs, under the same UIDVALIDITY.
    let after = alice.status("x/Über");
    assert_eq!(
        (after.uidvalidity, after.uidnext, after.messages),
        (before.uidvalidity, before.uidnext, before.messages)
    );
    assert_eq!(alice.fetch("x/Über", &uids), messages);
    assert_eq!(alice.status("x/Über/Kind").messages, 1);
    let listed = store.list_mailboxes(alice.id).unwrap();
    let renamed = listed.iter().find(|m| m.name == "x/Über").unwrap();
    assert_eq!(renamed.special_use, Some(SpecialUse::Junk));
    let subscriptions = alice.subscriptions();
    assert!(subscriptions.contains(&"x/Über/Kind".to_owned()));
    assert!(!subscriptions.contains(&"Ärger/Kind".to_owned()));
}

pub fn rename_refuses_missing_source_taken_target_and_own_inferior(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("a/b");
    alice.create_mailbox("c");
    let before = alice.mailboxes();
    let rename = |from, to| store.rename_mailbox(alice.id, &name(from), &name(to));
    assert_eq!(rename("nope", "d"), Err(StoreError::NoSuchMailbox));
    assert_eq!(rename("a", "c"), Err(StoreError::MailboxExists));
    assert_eq!(rename("c", "inbox"), Err(StoreError::MailboxExists));
    assert!(matches!(rename("a", "a/b/c"), Err(StoreError::Refused(_))));
    assert_eq!(alice.mailboxes(), before);
}

pub fn renaming_inbox_moves_its_messages_and_leaves_it_empty(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("INBOX/child");
    alice.append("INBOX/child", "child\r\n");
    let old_uids = alice.append_numbered("INBOX", 2);
    let seen = flags(SystemFlags::SEEN, &["$Work"]);
    alice.store_flags("INBOX", &old_uids[..1], FlagChange::Add, &seen);
    let moved = alice.fetch("INBOX", &old_uids);
    let inbox = alice.id_of("INBOX");
    let before = alice.status("INBOX");

    store
        .rename_mailbox(alice.id, &name("INBOX"), &name("Old/Inbox"))
        .unwrap();
    assert_eq!(alice.status("INBOX").messages, 0);
    assert_eq!(alice.id_of("INBOX"), inbox, "INBOX itself stays");
    assert_eq!(alice.status("INBOX/child").messages, 1, "inferiors stay");
    let arrived = alice.fetch("Old/Inbox", &alice.uids("Old/Inbox"));
    assert_eq!(contents(&arrived), contents(&moved));
    // Sessions with INBOX selected learn that its messages left ...
    let changes = store
        .changes_since(
            inbox,
            before.highest_modseq,
            *old_uids.last().unwrap(),
            false,
        )
        .unwrap();
    assert_eq!(changes.expunged, old_uids);
    // ... and INBOX never reuses their UIDs under the same UIDVALIDITY.
    let next = alice.append("INBOX", &numbered(3));
    let after = alice.status("INBOX");
    assert!(after.uidvalidity > before.uidvalidity || next > old_uids[1]);
}

pub fn subscriptions_need_not_name_existing_mailboxes(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let subscribe = |mailbox, on| store.set_subscribed(alice.id, &name(mailbox), on).unwrap();
    subscribe("Nowhere/Special", true);
    subscribe("Nowhere/Special", true);
    subscribe("Sent", false);
    subscribe("Never subscribed", false);
    let subscriptions = alice.subscriptions();
    let count = |n: &str| subscriptions.iter().filter(|s| *s == n).count();
    assert_eq!(count("Nowhere/Special"), 1);
    assert_eq!(count("Sent"), 0);
    assert!(!is_listed(&alice, "Nowhere/Special"), "nothing was created");
    subscribe("Nowhere/Special", false);
    assert_eq!(alice.subscriptions().len(), subscriptions.len() - 1);
}

pub fn status_counts_messages_flags_and_sizes(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let texts = ["a\r\n", "bb\r\n", "ccc\r\n"];
    let uids: Vec<u32> = texts.iter().map(|t| alice.append("INBOX", t)).collect();
    let seen = flags(SystemFlags::SEEN, &[]);
    let deleted = flags(SystemFlags::DELETED, &[]);
    alice.store_flags("INBOX", &uids[..2], FlagChange::Add, &seen);
    alice.store_flags("INBOX", &uids[1..2], FlagChange::Add, &deleted);
    let status = alice.status("INBOX");
    let size: usize = texts.iter().map(|t| t.len()).sum();
    assert_eq!(
        (
            status.messages,
            status.recent,
            status.unseen,
            status.deleted
        ),
        (3, 3, 1, 1)
    );
    assert_eq!(status.size, size as u64);
    assert!(status.uidnext > uids[2]);
    let selected = store.select(alice.id, &name("INBOX"), false).unwrap();
    assert_eq!(
        (status.uidvalidity, status.highest_modseq),
        (selected.uidvalidity, selected.highest_modseq)
    );
}

pub fn status_and_select_of_missing_or_placeholder_mailboxes_fail(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    for (mailbox, error) in unusable_mailboxes(&alice) {
        let error = Some(&error);
        assert_eq!(store.status(alice.id, &mailbox).err().as_ref(), error);
        let selected = store.select(alice.id, &mailbox, true);
        assert_eq!(selected.err().as_ref(), error);
        let appended = store.append(alice.id, &mailbox, super::message("x\r\n"));
        assert_eq!(appended.err().as_ref(), error);
    }
}
