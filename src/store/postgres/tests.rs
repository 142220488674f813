//! Against a real PostgreSQL (`LETTERBOX_TEST_POSTGRES`, the URL of a
//! cluster the tests may create databases in); skipped without it.
//! Each test gets a database of its own.

use super::*;
use crate::store::{AccountKind, QuotaLimits, QuotaOverride};

/// A fresh database on the test cluster, opened; `None` without one
/// (CI always gives one: there, its absence fails the test).
fn fresh() -> Option<PgStore> {
    let Ok(url) = std::env::var("LETTERBOX_TEST_POSTGRES") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set LETTERBOX_TEST_POSTGRES"
        );
        return None;
    };
    let mut admin =
        postgres::Client::connect(&url, postgres::NoTls).expect("the test cluster answers");
    let name = format!("lbtest_{}_{}", std::process::id(), rand::random::<u32>());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    Some(PgStore::open(&format!("{base}/{name}"), PgOptions::default()).unwrap())
}

#[test]
fn users_are_created_found_listed_and_deleted() {
    let Some(store) = fresh() else {
        eprintln!("skipped: no LETTERBOX_TEST_POSTGRES");
        return;
    };
    let alice = store.create_user("alice", "hash a").unwrap();
    assert_eq!(store.create_user("alice", "x"), Err(StoreError::UserExists));
    let team = store.create_team("support").unwrap();
    assert_ne!(alice, team);
    let found = store.find_user("alice").unwrap().unwrap();
    assert_eq!(
        (found.id, found.password_hash.as_str(), found.kind),
        (alice, "hash a", AccountKind::Person)
    );
    store.set_password_hash("alice", "hash b").unwrap();
    assert_eq!(
        store.find_user("alice").unwrap().unwrap().password_hash,
        "hash b"
    );
    let listed = store.list_users(QuotaLimits::default()).unwrap();
    let shown: Vec<(&str, u32)> = listed
        .iter()
        .map(|u| (u.name.as_str(), u.mailboxes))
        .collect();
    assert_eq!(shown, [("alice", 6), ("support", 1)]);
    store.add_app_password("alice", "phone", "h").unwrap();
    assert!(store.add_app_password("alice", "phone", "h").is_err());
    assert_eq!(store.app_passwords(alice).unwrap()[0].label, "phone");
    store.revoke_app_password("alice", "phone").unwrap();
    store
        .set_quota(
            "alice",
            QuotaOverride {
                bytes: Some(1000),
                messages: None,
            },
        )
        .unwrap();
    assert_eq!(
        store
            .quota(alice, QuotaLimits::default())
            .unwrap()
            .limits
            .bytes,
        Some(1000)
    );
    store.delete_user("alice").unwrap();
    assert_eq!(store.find_user("alice").unwrap(), None);
    assert_eq!(store.delete_user("alice"), Err(StoreError::NoSuchUser));
    // Ids are never reused.
    assert!(store.create_user("alice", "x").unwrap() > team);
}

#[test]
fn the_schema_migrates_once_and_refuses_a_newer_one() {
    let Some(store) = fresh() else { return };
    let mut client = store.pool.get().unwrap();
    assert_eq!(
        schema::migrate(&mut client).unwrap(),
        schema::latest(),
        "a second run changes nothing"
    );
    client
        .execute("UPDATE schema_version SET version = version + 1", &[])
        .unwrap();
    assert!(matches!(
        schema::migrate(&mut client),
        Err(StoreError::Refused(_))
    ));
}

#[test]
fn mailboxes_and_acl_entries() {
    use crate::store::MailboxName;
    use crate::store::acl::{Entry, Rights, parse_identifier};
    let Some(store) = fresh() else { return };
    let bob = store.create_user("bob", "x").unwrap();
    store.create_user("alice", "x").unwrap();
    let name = |n: &str| MailboxName::new(n).unwrap();
    store
        .create_mailbox(bob, &name("Projects/2026/Q1"), None)
        .unwrap();
    assert_eq!(
        store.create_mailbox(bob, &name("Projects"), None),
        Err(StoreError::MailboxExists)
    );
    let names: Vec<String> = store
        .list_mailboxes(bob)
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        names,
        [
            "Archive",
            "Drafts",
            "INBOX",
            "Junk",
            "Projects",
            "Projects/2026",
            "Projects/2026/Q1",
            "Sent",
            "Trash"
        ]
    );
    assert_eq!(store.list_subscriptions(bob).unwrap().len(), 6);
    let (identifier, negative) = parse_identifier("alice");
    let entry = Entry {
        identifier,
        negative,
        rights: Rights::parse("lr").unwrap(),
    };
    store.set_acl(bob, &name("Projects"), &entry).unwrap();
    // A new child starts with its parent's entries.
    store
        .create_mailbox(bob, &name("Projects/New"), None)
        .unwrap();
    assert_eq!(
        store.acl(bob, &name("Projects/New")).unwrap(),
        std::slice::from_ref(&entry)
    );
    let shared = store.shared_with("alice").unwrap();
    let shared: Vec<&str> = shared.iter().map(|s| s.mailbox.name.as_str()).collect();
    assert_eq!(shared, ["Projects", "Projects/New"]);
    // Empty rights remove the entry; a deleted user's entries go.
    store
        .set_acl(
            bob,
            &name("Projects/New"),
            &Entry {
                rights: Rights::NONE,
                ..entry
            },
        )
        .unwrap();
    assert!(store.acl(bob, &name("Projects/New")).unwrap().is_empty());
    store.delete_user("alice").unwrap();
    assert!(store.acl(bob, &name("Projects")).unwrap().is_empty());
}

#[test]
fn sieve_scripts_and_vacation_memory() {
    let Some(store) = fresh() else { return };
    let alice = store.create_user("alice", "x").unwrap();
    store.put_sieve_script(alice, "work", "keep;").unwrap();
    store
        .put_sieve_script(alice, "away", "discard; # é")
        .unwrap();
    let listed: Vec<(String, bool, u64)> = store
        .sieve_scripts(alice)
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.active, s.size))
        .collect();
    assert_eq!(
        listed,
        [("away".into(), false, 13), ("work".into(), false, 5)]
    );
    store.activate_sieve_script(alice, Some("away")).unwrap();
    assert_eq!(
        store.activate_sieve_script(alice, Some("nope")),
        Err(StoreError::NoSuchScript)
    );
    assert!(matches!(
        store.delete_sieve_script(alice, "away"),
        Err(StoreError::Refused(_))
    ));
    assert_eq!(
        store.rename_sieve_script(alice, "away", "work"),
        Err(StoreError::ScriptExists)
    );
    store.rename_sieve_script(alice, "away", "holiday").unwrap();
    assert_eq!(
        store.active_sieve_script(alice).unwrap().unwrap().0,
        "holiday"
    );
    store.activate_sieve_script(alice, None).unwrap();
    store.delete_sieve_script(alice, "holiday").unwrap();
    assert!(
        store
            .vacation_reply_due(alice, "X@Example.org", "h", 1000, 100)
            .unwrap()
    );
    assert!(
        !store
            .vacation_reply_due(alice, "x@example.org", "h", 1050, 100)
            .unwrap()
    );
    assert!(
        store
            .vacation_reply_due(alice, "x@example.org", "h", 1100, 100)
            .unwrap()
    );
}

#[test]
fn appends_from_many_threads_get_distinct_ascending_uids() {
    use crate::mail::new_message;
    use crate::store::{FetchRequest, Flags, MailboxName};
    let Some(store) = fresh() else { return };
    let store = std::sync::Arc::new(store);
    let alice = store.create_user("alice", "x").unwrap();
    let inbox = MailboxName::new("INBOX").unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (store, inbox) = (store.clone(), inbox.clone());
            std::thread::spawn(move || {
                (0..10)
                    .map(|n| {
                        let raw = format!("Subject: {t}-{n}\r\n\r\nbody\r\n");
                        let message = new_message(
                            raw.as_bytes(),
                            Flags::default(),
                            chrono::Utc::now().fixed_offset(),
                        );
                        store.append(alice, &inbox, message).unwrap().uid
                    })
                    .collect::<Vec<u32>>()
            })
        })
        .collect();
    let mut uids: Vec<u32> = Vec::new();
    for thread in threads {
        let mine = thread.join().unwrap();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "each thread's UIDs ascend: {mine:?}"
        );
        uids.extend(mine);
    }
    uids.sort_unstable();
    assert_eq!(
        uids,
        (1..=80).collect::<Vec<u32>>(),
        "distinct, none skipped"
    );
    let status = store.status(alice, &inbox).unwrap();
    assert_eq!(
        (status.messages, status.unseen, status.uidnext),
        (80, 80, 81)
    );
    let selected = store.select(alice, &inbox, true).unwrap();
    assert_eq!(selected.messages.len(), 80);
    let fetched = store
        .fetch(
            selected.id,
            &[1, 80, 99],
            FetchRequest {
                index: false,
                raw: true,
            },
        )
        .unwrap();
    assert_eq!(fetched.len(), 2);
    assert!(fetched[0].raw.as_ref().unwrap().starts_with(b"Subject: "));
    // Usage was counted by the trigger; the quota holds.
    store
        .set_quota(
            "alice",
            QuotaOverride {
                bytes: None,
                messages: Some(80),
            },
        )
        .unwrap();
    let message = new_message(
        b"Subject: one too many\r\n\r\nx\r\n",
        Flags::default(),
        chrono::Utc::now().fixed_offset(),
    );
    assert_eq!(
        store.append(alice, &inbox, message),
        Err(StoreError::OverQuota)
    );
    assert_eq!(
        store.status(alice, &inbox).unwrap().messages,
        80,
        "rolled back"
    );
}

#[test]
fn flags_expunges_copies_moves_and_catching_up() {
    use crate::mail::new_message;
    use crate::store::{FlagChange, Flags, KeptFlags, MailboxName, SystemFlags};
    let Some(store) = fresh() else { return };
    let alice = store.create_user("alice", "x").unwrap();
    let name = |n: &str| MailboxName::new(n).unwrap();
    for n in 0..4 {
        let raw = format!("Subject: {n}\r\n\r\nx\r\n");
        let message = new_message(
            raw.as_bytes(),
            Flags::default(),
            chrono::Utc::now().fixed_offset(),
        );
        store.append(alice, &name("INBOX"), message).unwrap();
    }
    let inbox = store.select(alice, &name("INBOX"), true).unwrap();
    let before = inbox.highest_modseq;
    let deleted = Flags {
        system: SystemFlags(SystemFlags::DELETED),
        keywords: vec!["$Done".into()],
    };
    let stored = store
        .store_flags(inbox.id, &[1, 2], FlagChange::Add, &deleted, None)
        .unwrap();
    assert!(
        stored
            .messages
            .iter()
            .all(|m| m.changed && m.modseq > before)
    );
    let refused = store
        .store_flags(inbox.id, &[1, 3], FlagChange::Add, &deleted, Some(before))
        .unwrap();
    assert_eq!(refused.modified, [1]);
    let copied = store
        .copy(inbox.id, &[2, 4], alice, &name("Archive"), KeptFlags::ALL)
        .unwrap();
    assert_eq!(copied.uids, [(2, 1), (4, 2)]);
    let moved = store
        .move_messages(inbox.id, &[4], alice, &name("Trash"), KeptFlags::ALL)
        .unwrap();
    assert_eq!(moved.uids, [(4, 1)]);
    let expunged = store.expunge(inbox.id, None).unwrap();
    assert_eq!(expunged.uids, [1, 2, 3]);
    let changes = store.changes_since(inbox.id, before, 4, false).unwrap();
    assert_eq!(changes.expunged, [1, 2, 3, 4]);
    assert_eq!(changes.highest_modseq, expunged.highest_modseq);
    assert_eq!(store.status(alice, &name("INBOX")).unwrap().messages, 0);
    let archive = store.status(alice, &name("Archive")).unwrap();
    assert_eq!(archive.messages, 2);
    let usage = store.quota(alice, QuotaLimits::default()).unwrap();
    assert_eq!(usage.used_messages, 3, "Archive's two and Trash's one");
}
