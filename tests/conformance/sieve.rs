//! Sieve scripts: stored, listed, replaced, one active at a time, the
//! active one kept from deletion, renamed, gone with their user.

use letterbox::store::{MailStore, SieveScriptInfo, StoreError};

use super::Account;

fn listed(store: &dyn MailStore, user: i64) -> Vec<(String, bool, u64)> {
    store
        .sieve_scripts(user)
        .unwrap()
        .into_iter()
        .map(|SieveScriptInfo { name, active, size }| (name, active, size))
        .collect()
}

pub fn sieve_scripts_are_kept_with_one_active(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    assert!(store.sieve_scripts(alice.id).unwrap().is_empty());
    assert_eq!(store.active_sieve_script(alice.id).unwrap(), None);
    store.put_sieve_script(alice.id, "work", "keep;").unwrap();
    store
        .put_sieve_script(alice.id, "vacation", "discard; # é")
        .unwrap();
    assert_eq!(
        listed(store, alice.id),
        [("vacation".into(), false, 13), ("work".into(), false, 5)]
    );
    assert_eq!(
        store.sieve_script(alice.id, "work").unwrap().as_deref(),
        Some("keep;")
    );
    assert_eq!(
        store.sieve_script(bob.id, "work").unwrap(),
        None,
        "scripts are per user"
    );

    store.activate_sieve_script(alice.id, Some("work")).unwrap();
    store
        .activate_sieve_script(alice.id, Some("vacation"))
        .unwrap();
    assert_eq!(
        store.active_sieve_script(alice.id).unwrap(),
        Some(("vacation".into(), "discard; # é".into()))
    );
    assert_eq!(
        store.activate_sieve_script(alice.id, Some("nope")),
        Err(StoreError::NoSuchScript)
    );
    assert_eq!(
        store.active_sieve_script(alice.id).unwrap().unwrap().0,
        "vacation"
    );
    // Replacing keeps it active.
    store
        .put_sieve_script(alice.id, "vacation", "keep;")
        .unwrap();
    assert_eq!(
        store.active_sieve_script(alice.id).unwrap(),
        Some(("vacation".into(), "keep;".into()))
    );
    assert!(matches!(
        store.delete_sieve_script(alice.id, "vacation"),
        Err(StoreError::Refused(_))
    ));
    assert_eq!(
        store.delete_sieve_script(alice.id, "nope"),
        Err(StoreError::NoSuchScript)
    );
    assert_eq!(
        store.rename_sieve_script(alice.id, "vacation", "work"),
        Err(StoreError::ScriptExists)
    );
    store
        .rename_sieve_script(alice.id, "vacation", "away")
        .unwrap();
    assert_eq!(
        store.active_sieve_script(alice.id).unwrap().unwrap().0,
        "away"
    );
    store.activate_sieve_script(alice.id, None).unwrap();
    assert_eq!(store.active_sieve_script(alice.id).unwrap(), None);
    store.delete_sieve_script(alice.id, "away").unwrap();
    assert_eq!(listed(store, alice.id), [("work".into(), false, 5)]);
    store.delete_user("alice").unwrap();
    let again = Account::create(store, "alice");
    assert!(store.sieve_scripts(again.id).unwrap().is_empty());
}

/// One vacation reply per sender and handle per period; the period runs
/// from the reply; expired records free the sender again.
pub fn vacation_replies_are_remembered_per_period(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    let due = |user: i64, sender: &str, handle: &str, now: i64| {
        store
            .vacation_reply_due(user, sender, handle, now, 100)
            .unwrap()
    };
    assert!(due(alice.id, "x@example.org", "away", 1000));
    assert!(
        !due(alice.id, "X@Example.org", "away", 1050),
        "same sender, any case"
    );
    assert!(
        due(alice.id, "x@example.org", "other reason", 1050),
        "another handle"
    );
    assert!(due(bob.id, "x@example.org", "away", 1050), "another user");
    assert!(!due(alice.id, "x@example.org", "away", 1099));
    assert!(
        due(alice.id, "x@example.org", "away", 1100),
        "the period is over"
    );
    assert!(!due(alice.id, "x@example.org", "away", 1150));
}
