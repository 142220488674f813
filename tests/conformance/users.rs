//! Users: creation with the default mailboxes, lookup, passwords, app
//! passwords, deletion, listing.

use chrono::Utc;
use letterbox::store::{
    AccountKind, AppPassword, DEFAULT_MAILBOXES, MailStore, MailboxInfo, QuotaLimits,
    QuotaOverride, StoreError, UserRecord, UserSummary,
};

use super::{Account, HASH};

pub fn new_users_get_the_default_mailboxes_subscribed(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let mut listed = store.list_mailboxes(alice.id).unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let mut expected: Vec<MailboxInfo> = DEFAULT_MAILBOXES
        .iter()
        .map(|&(name, special_use)| MailboxInfo {
            name: name.to_owned(),
            selectable: true,
            special_use,
        })
        .collect();
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, expected);
    let names: Vec<String> = expected.iter().map(|m| m.name.clone()).collect();
    assert_eq!(alice.subscriptions(), names);
    for mailbox in &names {
        assert_eq!(alice.status(mailbox).messages, 0, "{mailbox}");
    }
}

pub fn a_taken_user_name_is_refused(store: &dyn MailStore) {
    let id = store.create_user("alice", "first").unwrap();
    assert_eq!(
        store.create_user("alice", "second"),
        Err(StoreError::UserExists)
    );
    // The refused attempt changed nothing.
    let expected = UserRecord {
        id,
        name: "alice".into(),
        password_hash: "first".into(),
        kind: AccountKind::Person,
        private_seen: false,
    };
    assert_eq!(store.find_user("alice").unwrap(), Some(expected));
    assert_eq!(store.list_users().unwrap().len(), 1);
}

pub fn find_user_knows_only_existing_users(store: &dyn MailStore) {
    let alice = store.create_user("alice", "hash a").unwrap();
    let bob = store.create_user("bob", "hash b").unwrap();
    assert_ne!(alice, bob);
    let found = store.find_user("bob").unwrap();
    let expected = UserRecord {
        id: bob,
        name: "bob".into(),
        password_hash: "hash b".into(),
        kind: AccountKind::Person,
        private_seen: false,
    };
    assert_eq!(found, Some(expected));
    assert_eq!(store.find_user("carol"), Ok(None));
}

pub fn set_password_hash_replaces_the_hash(store: &dyn MailStore) {
    Account::create(store, "alice");
    Account::create(store, "bob");
    store.set_password_hash("alice", "new hash").unwrap();
    let hash_of = |name| store.find_user(name).unwrap().unwrap().password_hash;
    assert_eq!(hash_of("alice"), "new hash");
    assert_eq!(hash_of("bob"), HASH);
    assert_eq!(
        store.set_password_hash("carol", "x"),
        Err(StoreError::NoSuchUser)
    );
}

pub fn deleting_a_user_removes_them_and_their_mail(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.append_numbered("INBOX", 2);
    store.add_app_password("alice", "phone", "h").unwrap();
    let old_inbox = alice.status("INBOX");
    let bob = Account::create(store, "bob");
    bob.append_numbered("INBOX", 1);
    let bob_usage = bob.usage();

    store.delete_user("alice").unwrap();
    assert_eq!(store.find_user("alice"), Ok(None));
    let names: Vec<String> = store
        .list_users()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["bob"]);
    assert_eq!(store.delete_user("alice"), Err(StoreError::NoSuchUser));
    assert_eq!(bob.uids("INBOX").len(), 1);
    assert_eq!(bob.usage(), bob_usage);

    // The name can be taken again, by an account that starts empty and
    // whose INBOX a client cannot mistake for the old one.
    let again = Account::create(store, "alice");
    assert_eq!(again.status("INBOX").messages, 0);
    assert!(again.status("INBOX").uidvalidity > old_inbox.uidvalidity);
    assert_eq!(again.usage(), (0, 0));
    assert_eq!(store.app_passwords(again.id), Ok(vec![]));
}

/// A logged-in session keeps its user id: if a new account got the id of
/// a deleted one, that session would act on the new account's mail.
pub fn a_deleted_users_id_is_never_given_to_another_user(store: &dyn MailStore) {
    Account::create(store, "alice");
    let bob = store.create_user("bob", HASH).unwrap();
    store.delete_user("bob").unwrap();
    let carol = Account::create(store, "carol");
    assert_ne!(carol.id, bob);
    assert_eq!(store.list_mailboxes(bob), Ok(vec![]));
}

pub fn list_users_reports_mailboxes_usage_and_limits(store: &dyn MailStore) {
    let defaults = QuotaLimits {
        bytes: Some(1_000_000),
        messages: None,
    };
    store.set_default_quota(defaults);
    let alice = Account::create(store, "alice");
    alice.create_mailbox("Work");
    let sizes: u64 = ["one\r\n", "three\r\n"]
        .iter()
        .map(|text| {
            alice.append("Work", text);
            text.len() as u64
        })
        .sum();
    Account::create(store, "bob");
    let bob_limit = QuotaOverride {
        bytes: None,
        messages: Some(50),
    };
    store.set_quota("bob", bob_limit).unwrap();

    let mut users = store.list_users().unwrap();
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let defaults_count = letterbox::store::DEFAULT_MAILBOXES.len() as u32;
    assert_eq!(
        users,
        [
            UserSummary {
                name: "alice".into(),
                kind: AccountKind::Person,
                private_seen: false,
                mailboxes: defaults_count + 1,
                messages: 2,
                bytes: sizes,
                limits: defaults,
            },
            UserSummary {
                name: "bob".into(),
                kind: AccountKind::Person,
                private_seen: false,
                mailboxes: defaults_count,
                messages: 0,
                bytes: 0,
                limits: QuotaLimits {
                    bytes: Some(1_000_000),
                    messages: Some(50),
                },
            },
        ]
    );
}

/// `alice`'s app passwords, by label.
fn app_passwords(alice: &Account) -> Vec<AppPassword> {
    let mut list = alice.store.app_passwords(alice.id).unwrap();
    list.sort_by(|a, b| a.label.cmp(&b.label));
    list
}

fn labels(alice: &Account) -> Vec<String> {
    app_passwords(alice).into_iter().map(|p| p.label).collect()
}

pub fn app_passwords_are_listed_with_their_creation_time(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    assert!(app_passwords(&alice).is_empty());
    let before = Utc::now().timestamp();
    store.add_app_password("alice", "phone", "hash p").unwrap();
    store.add_app_password("alice", "laptop", "hash l").unwrap();
    let after = Utc::now().timestamp();
    let list = app_passwords(&alice);
    let summary: Vec<(&str, &str, Option<i64>)> = list
        .iter()
        .map(|p| (p.label.as_str(), p.password_hash.as_str(), p.last_used))
        .collect();
    assert_eq!(
        summary,
        [("laptop", "hash l", None), ("phone", "hash p", None)]
    );
    for password in &list {
        assert!(
            (before..=after).contains(&password.created_at),
            "{password:?}"
        );
    }
}

pub fn app_password_labels_are_unique_per_user(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    store.add_app_password("alice", "phone", "first").unwrap();
    assert!(matches!(
        store.add_app_password("alice", "phone", "second"),
        Err(StoreError::Refused(_))
    ));
    assert_eq!(app_passwords(&alice)[0].password_hash, "first");
    // Another user may use the same label.
    store.add_app_password("bob", "phone", "bob's").unwrap();
    assert_eq!(labels(&bob), ["phone"]);
    assert_eq!(
        store.add_app_password("carol", "phone", "h"),
        Err(StoreError::NoSuchUser)
    );
}

pub fn touching_an_app_password_records_its_use(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    store.add_app_password("alice", "laptop", "h").unwrap();
    store.add_app_password("alice", "phone", "h").unwrap();
    let before = Utc::now().timestamp();
    store.touch_app_password(alice.id, "phone").unwrap();
    let after = Utc::now().timestamp();
    let list = app_passwords(&alice);
    assert_eq!(list[0].last_used, None, "laptop was not used");
    let used = list[1].last_used.expect("phone was used");
    assert!((before..=after).contains(&used));
}

pub fn revoked_app_passwords_are_gone(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    for user in ["alice", "bob"] {
        store.add_app_password(user, "phone", "h").unwrap();
    }
    store.add_app_password("alice", "laptop", "h").unwrap();
    store.revoke_app_password("alice", "phone").unwrap();
    assert_eq!(labels(&alice), ["laptop"]);
    assert_eq!(labels(&bob), ["phone"], "only alice's went");
    assert!(matches!(
        store.revoke_app_password("alice", "phone"),
        Err(StoreError::Refused(_))
    ));
    assert_eq!(
        store.revoke_app_password("carol", "phone"),
        Err(StoreError::NoSuchUser)
    );
    // The label is free again.
    store.add_app_password("alice", "phone", "new").unwrap();
    assert_eq!(labels(&alice), ["laptop", "phone"]);
}
