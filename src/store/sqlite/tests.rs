//! Store tests against a real SQLite file in a temp dir.

use super::*;
use chrono::Utc;

fn store() -> (tempfile::TempDir, SqliteStore, UserId) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db"), Synchronous::Normal).unwrap();
    let user = store.create_user("alice", "hash").unwrap();
    (dir, store, user)
}

fn name(s: &str) -> MailboxName {
    MailboxName::new(s).unwrap()
}

fn names(store: &SqliteStore, user: UserId) -> Vec<(String, bool)> {
    let list = store.list_mailboxes(user).unwrap();
    list.into_iter().map(|m| (m.name, m.selectable)).collect()
}

fn message(text: &str) -> NewMessage {
    crate::mail::new_message(text.as_bytes(), Flags::default(), Utc::now().fixed_offset())
}

#[test]
fn new_users_get_the_default_mailboxes() {
    let (_dir, store, user) = store();
    let list = store.list_mailboxes(user).unwrap();
    for (mailbox, special_use) in DEFAULT_MAILBOXES {
        let found = list.iter().find(|m| m.name == mailbox).unwrap();
        assert_eq!(found.special_use, special_use);
    }
    assert_eq!(store.list_subscriptions(user).unwrap().len(), 6);
    assert_eq!(store.create_user("alice", "h"), Err(StoreError::UserExists));
}

#[test]
fn create_makes_superiors_and_refuses_duplicates() {
    let (_dir, store, user) = store();
    store.create_mailbox(user, &name("a/b/c"), None).unwrap();
    let all = names(&store, user);
    for n in ["a", "a/b", "a/b/c"] {
        assert!(all.contains(&(n.into(), true)), "{n}");
    }
    assert_eq!(
        store.create_mailbox(user, &name("a/b"), None),
        Err(StoreError::MailboxExists)
    );
    assert_eq!(
        store.create_mailbox(user, &name("inbox"), None),
        Err(StoreError::MailboxExists)
    );
}

#[test]
fn delete_follows_rfc_3501() {
    let (_dir, store, user) = store();
    store.create_mailbox(user, &name("a/b"), None).unwrap();
    store.append(user, &name("a"), message("x\r\n")).unwrap();
    assert!(matches!(
        store.delete_mailbox(user, &name("INBOX")),
        Err(StoreError::Refused(_))
    ));
    // A parent becomes \Noselect and loses its messages.
    store.delete_mailbox(user, &name("a")).unwrap();
    assert!(names(&store, user).contains(&("a".into(), false)));
    assert_eq!(
        store.status(user, &name("a")),
        Err(StoreError::NotSelectable)
    );
    assert!(matches!(
        store.delete_mailbox(user, &name("a")),
        Err(StoreError::Refused(_))
    ));
    store.delete_mailbox(user, &name("a/b")).unwrap();
    assert_eq!(
        store.delete_mailbox(user, &name("a/b")),
        Err(StoreError::NoSuchMailbox)
    );
    let bodies: i64 = store
        .read(|tx| Ok(tx.query_row("SELECT count(*) FROM bodies", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(bodies, 0);
}

#[test]
fn recreated_mailbox_gets_a_new_uidvalidity() {
    let (_dir, store, user) = store();
    store.create_mailbox(user, &name("x"), None).unwrap();
    let before = store.status(user, &name("x")).unwrap().uidvalidity;
    store.delete_mailbox(user, &name("x")).unwrap();
    store.create_mailbox(user, &name("x"), None).unwrap();
    assert!(store.status(user, &name("x")).unwrap().uidvalidity > before);
}

#[test]
fn rename_moves_inferiors_and_subscriptions() {
    let (_dir, store, user) = store();
    store.create_mailbox(user, &name("a/b"), None).unwrap();
    store.set_subscribed(user, &name("a/b"), true).unwrap();
    store.create_mailbox(user, &name("ab"), None).unwrap();
    store
        .rename_mailbox(user, &name("a"), &name("x/y"))
        .unwrap();
    let all = names(&store, user);
    for n in ["x", "x/y", "x/y/b", "ab"] {
        assert!(all.iter().any(|(m, _)| m == n), "{n} in {all:?}");
    }
    assert!(!all.iter().any(|(m, _)| m == "a" || m == "a/b"));
    assert!(
        store
            .list_subscriptions(user)
            .unwrap()
            .contains(&"x/y/b".into())
    );
    assert_eq!(
        store.rename_mailbox(user, &name("x"), &name("x/y/z")),
        Err(StoreError::Refused(
            "Cannot rename a mailbox to a name inside itself".into()
        ))
    );
    assert_eq!(
        store.rename_mailbox(user, &name("x"), &name("ab")),
        Err(StoreError::MailboxExists)
    );
    assert_eq!(
        store.rename_mailbox(user, &name("nope"), &name("q")),
        Err(StoreError::NoSuchMailbox)
    );
}

#[test]
fn rename_inbox_moves_messages_and_keeps_inbox() {
    let (_dir, store, user) = store();
    store
        .create_mailbox(user, &name("INBOX/child"), None)
        .unwrap();
    for text in ["one\r\n", "two\r\n"] {
        store.append(user, &name("INBOX"), message(text)).unwrap();
    }
    store
        .rename_mailbox(user, &name("INBOX"), &name("Old"))
        .unwrap();
    assert_eq!(store.status(user, &name("INBOX")).unwrap().messages, 0);
    let old = store.select(user, &name("Old"), false).unwrap();
    assert_eq!(
        old.messages.iter().map(|m| m.uid).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(names(&store, user).contains(&("INBOX/child".into(), true)));
    // UIDs in INBOX keep ascending after the move.
    let next = store
        .append(user, &name("INBOX"), message("three\r\n"))
        .unwrap();
    assert_eq!(next.uid, 3);
}

#[test]
fn append_status_and_recent_belong_to_one_session() {
    let (_dir, store, user) = store();
    let a = store
        .append(user, &name("INBOX"), message("a\r\n"))
        .unwrap();
    let b = store
        .append(user, &name("INBOX"), message("b\r\n"))
        .unwrap();
    assert_eq!((a.uid, b.uid), (1, 2));
    let status = store.status(user, &name("INBOX")).unwrap();
    assert_eq!(
        (
            status.messages,
            status.recent,
            status.unseen,
            status.uidnext
        ),
        (2, 2, 2, 3)
    );
    let examine = store.select(user, &name("INBOX"), false).unwrap();
    assert!(examine.messages.iter().all(|m| m.recent));
    let first = store.select(user, &name("INBOX"), true).unwrap();
    assert!(first.messages.iter().all(|m| m.recent));
    let second = store.select(user, &name("INBOX"), true).unwrap();
    assert!(second.messages.iter().all(|m| !m.recent));
    assert_eq!(store.status(user, &name("INBOX")).unwrap().recent, 0);
    let c = store
        .append(user, &name("INBOX"), message("c\r\n"))
        .unwrap();
    let caught_up = store
        .changes_since(first.id, first.highest_modseq, 2, true)
        .unwrap();
    assert_eq!(caught_up.new.len(), 1);
    assert_eq!(caught_up.new[0].uid, c.uid);
    assert!(caught_up.new[0].recent);
    let again = store
        .changes_since(first.id, first.highest_modseq, 2, true)
        .unwrap();
    assert!(!again.new[0].recent);
}

#[test]
fn append_to_missing_mailbox_fails() {
    let (_dir, store, user) = store();
    assert_eq!(
        store.append(user, &name("nope"), message("x\r\n")),
        Err(StoreError::NoSuchMailbox)
    );
}

#[test]
fn users_can_be_listed_updated_and_deleted() {
    let (_dir, store, _user) = store();
    store
        .append(_user, &name("INBOX"), message("abc\r\n"))
        .unwrap();
    store.set_password_hash("alice", "new").unwrap();
    assert_eq!(
        store.find_user("alice").unwrap().unwrap().password_hash,
        "new"
    );
    let list = store.list_users().unwrap();
    assert_eq!(
        (list[0].messages, list[0].bytes, list[0].mailboxes),
        (1, 5, 6)
    );
    store.delete_user("alice").unwrap();
    assert_eq!(store.find_user("alice").unwrap(), None);
    assert_eq!(store.delete_user("alice"), Err(StoreError::NoSuchUser));
    assert_eq!(
        store.set_password_hash("alice", "x"),
        Err(StoreError::NoSuchUser)
    );
}
