//! Access control lists (RFC 4314) and team accounts: entries kept per
//! mailbox, inherited by new children, gone with their user, and the
//! mailboxes they open to a user.

use letterbox::store::acl::{Entry, Identifier, Rights, parse_identifier};
use letterbox::store::{AccountKind, MailStore, StoreError, SystemFlags};

use super::{Account, name};

fn entry(identifier: &str, rights: &str) -> Entry {
    let (identifier, negative) = parse_identifier(identifier);
    Entry {
        identifier,
        negative,
        rights: Rights::parse(rights).unwrap(),
    }
}

fn shown(entries: &[Entry]) -> Vec<(String, String)> {
    let mut shown: Vec<_> = entries
        .iter()
        .map(|e| (e.name(), e.rights.to_string()))
        .collect();
    shown.sort();
    shown
}

pub fn acl_entries_are_set_replaced_and_removed(store: &dyn MailStore) {
    let bob = Account::create(store, "bob");
    let inbox = name("INBOX");
    assert_eq!(store.acl(bob.id, &inbox).unwrap(), []);
    store
        .set_acl(bob.id, &inbox, &entry("alice", "lr"))
        .unwrap();
    store
        .set_acl(bob.id, &inbox, &entry("-anyone", "w"))
        .unwrap();
    store
        .set_acl(bob.id, &inbox, &entry("alice", "lrswi"))
        .unwrap();
    let expected =
        [("-anyone", "w"), ("alice", "lrswi")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(shown(&store.acl(bob.id, &inbox).unwrap()), expected);
    // Empty rights remove the entry.
    store.set_acl(bob.id, &inbox, &entry("alice", "")).unwrap();
    assert_eq!(
        shown(&store.acl(bob.id, &inbox).unwrap()),
        [expected[0].clone()]
    );
    // Another mailbox's list is its own.
    assert_eq!(store.acl(bob.id, &name("Sent")).unwrap(), []);
    assert_eq!(
        store.acl(bob.id, &name("Nowhere")),
        Err(StoreError::NoSuchMailbox)
    );
    assert_eq!(
        store.set_acl(bob.id, &name("Nowhere"), &entry("alice", "l")),
        Err(StoreError::NoSuchMailbox)
    );
}

pub fn new_children_inherit_their_parents_entries(store: &dyn MailStore) {
    let bob = Account::create(store, "bob");
    bob.create_mailbox("Projects");
    store
        .set_acl(bob.id, &name("Projects"), &entry("alice", "lrs"))
        .unwrap();
    bob.create_mailbox("Projects/2026/Q1");
    for child in ["Projects/2026", "Projects/2026/Q1"] {
        let expected = [("alice".to_string(), "lrs".to_string())];
        assert_eq!(
            shown(&store.acl(bob.id, &name(child)).unwrap()),
            expected,
            "{child}"
        );
    }
    // Only at creation: a later change of the parent is its own.
    store
        .set_acl(bob.id, &name("Projects"), &entry("carol", "l"))
        .unwrap();
    assert_eq!(store.acl(bob.id, &name("Projects/2026")).unwrap().len(), 1);
}

pub fn shared_with_finds_what_names_the_user_anyone_or_authenticated(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    let carol = Account::create(store, "carol");
    store
        .set_acl(bob.id, &name("INBOX"), &entry("alice", "lr"))
        .unwrap();
    store
        .set_acl(bob.id, &name("Sent"), &entry("-alice", "r"))
        .unwrap();
    store
        .set_acl(carol.id, &name("Archive"), &entry("anyone", "l"))
        .unwrap();
    store
        .set_acl(carol.id, &name("Drafts"), &entry("authenticated", "lr"))
        .unwrap();
    store
        .set_acl(carol.id, &name("Junk"), &entry("dave", "lr"))
        .unwrap();
    // Her own mailboxes are not "shared with" her.
    store
        .set_acl(alice.id, &name("INBOX"), &entry("anyone", "l"))
        .unwrap();
    let shared = store.shared_with("alice").unwrap();
    let found: Vec<(String, String)> = shared
        .iter()
        .map(|s| (s.owner_name.clone(), s.mailbox.name.clone()))
        .collect();
    let expected = [("bob", "INBOX"), ("carol", "Archive"), ("carol", "Drafts")]
        .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(found, expected);
    let bobs = &shared[0];
    assert_eq!(bobs.owner, bob.id);
    assert_eq!(bobs.owner_kind, AccountKind::Person);
    assert_eq!(
        shown(&bobs.entries),
        [("alice".to_string(), "lr".to_string())]
    );
    assert!(bobs.mailbox.selectable);
}

pub fn a_deleted_users_entries_go_with_them(store: &dyn MailStore) {
    let bob = Account::create(store, "bob");
    Account::create(store, "alice");
    store
        .set_acl(bob.id, &name("INBOX"), &entry("alice", "lr"))
        .unwrap();
    store
        .set_acl(bob.id, &name("INBOX"), &entry("-alice", "w"))
        .unwrap();
    store
        .set_acl(bob.id, &name("INBOX"), &entry("anyone", "l"))
        .unwrap();
    store.delete_user("alice").unwrap();
    assert_eq!(
        shown(&store.acl(bob.id, &name("INBOX")).unwrap()),
        [("anyone".to_string(), "l".to_string())]
    );
    // A new alice does not inherit the old one's rights.
    Account::create(store, "alice");
    let shared = store.shared_with("alice").unwrap();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].entries[0].identifier, Identifier::Anyone);
}

pub fn teams_have_an_inbox_and_share_the_user_namespace(store: &dyn MailStore) {
    let team = store.create_team("support").unwrap();
    let record = store.find_user("support").unwrap().unwrap();
    assert_eq!((record.id, record.kind), (team, AccountKind::Team));
    let names: Vec<String> = store
        .list_mailboxes(team)
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["INBOX"]);
    assert_eq!(
        store.create_user("support", "x"),
        Err(StoreError::UserExists)
    );
    Account::create(store, "alice");
    assert_eq!(store.create_team("alice"), Err(StoreError::UserExists));
    let listed = store.list_users().unwrap();
    let kinds: Vec<_> = listed.iter().map(|u| (u.name.as_str(), u.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("alice", AccountKind::Person),
            ("support", AccountKind::Team)
        ]
    );
}

/// A team with `private_seen` keeps each user's `\Seen` apart from the
/// shared flags: set and cleared with a new MODSEQ, refused above
/// UNCHANGEDSINCE, read and given by COPY for the copier, gone with the
/// message, back to the shared `\Seen` when turned off.
pub fn private_seen_is_kept_per_user(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    let team = Account {
        store,
        id: store.create_team("support").unwrap(),
        name: "support".into(),
    };
    let uids = team.append_numbered("INBOX", 3);
    let inbox = team.id_of("INBOX");
    assert_eq!(store.seen_by(inbox, alice.id).unwrap(), None);
    assert_eq!(
        store.set_private_seen("alice", true),
        Err(StoreError::NoSuchUser),
        "only teams"
    );
    store.set_private_seen("support", true).unwrap();
    assert!(store.find_user("support").unwrap().unwrap().private_seen);
    let listed = store.list_users().unwrap();
    assert!(listed.iter().any(|u| u.name == "support" && u.private_seen));
    assert_eq!(store.seen_by(inbox, alice.id).unwrap(), Some(vec![]));

    let before = team.highest_modseq("INBOX");
    let outcome = store
        .store_seen_by(inbox, alice.id, &[uids[0], uids[2], 99], true, None)
        .unwrap();
    let changed: Vec<(u32, bool, bool)> = outcome
        .messages
        .iter()
        .map(|m| (m.uid, m.changed, m.flags.system.has(SystemFlags::SEEN)))
        .collect();
    assert_eq!(changed, [(uids[0], true, true), (uids[2], true, true)]);
    let modseq = outcome.messages[0].modseq;
    assert!(modseq > before && outcome.messages[1].modseq == modseq);
    assert_eq!(team.highest_modseq("INBOX"), modseq);
    assert_eq!(
        store.seen_by(inbox, alice.id).unwrap(),
        Some(vec![uids[0], uids[2]])
    );
    assert_eq!(store.seen_by(inbox, bob.id).unwrap(), Some(vec![]));
    let shared = team.fetch_one("INBOX", uids[0]);
    assert!(
        !shared.flags.system.has(SystemFlags::SEEN),
        "shared flags untouched"
    );
    assert_eq!(shared.modseq, modseq);

    // Already so: nothing changes, no new MODSEQ.
    let again = store
        .store_seen_by(inbox, alice.id, &[uids[0]], true, None)
        .unwrap();
    assert!(!again.messages[0].changed && again.messages[0].modseq == modseq);
    // UNCHANGEDSINCE below the message's MODSEQ: refused.
    let refused = store
        .store_seen_by(inbox, bob.id, &[uids[0], uids[1]], true, Some(before))
        .unwrap();
    assert_eq!(refused.modified, [uids[0]]);
    assert_eq!(store.seen_by(inbox, bob.id).unwrap(), Some(vec![uids[1]]));
    store
        .store_seen_by(inbox, alice.id, &[uids[0]], false, None)
        .unwrap();
    assert_eq!(store.seen_by(inbox, alice.id).unwrap(), Some(vec![uids[2]]));

    // COPY out takes the copier's \Seen; COPY in gives it to them.
    let keep_all = letterbox::store::KeptFlags::ALL;
    let copied = store
        .copy(
            inbox,
            &[uids[1], uids[2]],
            alice.id,
            &name("Archive"),
            keep_all.by(alice.id),
        )
        .unwrap();
    let seen: Vec<bool> = copied
        .uids
        .iter()
        .map(|(_, new)| {
            alice
                .fetch_one("Archive", *new)
                .flags
                .system
                .has(SystemFlags::SEEN)
        })
        .collect();
    assert_eq!(seen, [false, true]);
    let back = store
        .copy(
            alice.id_of("Archive"),
            &[copied.uids[1].1],
            team.id,
            &name("INBOX"),
            keep_all.by(alice.id),
        )
        .unwrap();
    let new_uid = back.uids[0].1;
    assert!(
        !team
            .fetch_one("INBOX", new_uid)
            .flags
            .system
            .has(SystemFlags::SEEN)
    );
    assert_eq!(
        store.seen_by(inbox, alice.id).unwrap(),
        Some(vec![uids[2], new_uid])
    );

    // Gone with the message.
    team.expunge("INBOX", &[uids[2]]);
    assert_eq!(store.seen_by(inbox, alice.id).unwrap(), Some(vec![new_uid]));
    // RENAME INBOX moves the messages, and their per-user \Seen with them.
    store
        .rename_mailbox(team.id, &name("INBOX"), &name("Done"))
        .unwrap();
    let done = team.id_of("Done");
    let moved = store.seen_by(done, alice.id).unwrap().unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        store.seen_by(team.id_of("INBOX"), alice.id).unwrap(),
        Some(vec![])
    );
    // Off: one shared \Seen again.
    store.set_private_seen("support", false).unwrap();
    assert_eq!(store.seen_by(inbox, alice.id).unwrap(), None);
}
