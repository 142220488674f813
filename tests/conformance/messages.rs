//! Messages: FETCH, COPY, MOVE, EXPUNGE, migration imports and retention.

use chrono::Utc;
use letterbox::store::{
    Expunged, FetchRequest, FetchedMessage, FlagChange, Flags, KeptFlags, MailStore, SpecialUse,
    StoreError, SystemFlags,
};

use super::{
    Account, content, contents, date, flags, message, message_with, name, numbered,
    unusable_mailboxes,
};

const SEEN: u8 = SystemFlags::SEEN;
const DELETED: u8 = SystemFlags::DELETED;

/// Three INBOX messages, each with its own flags and INTERNALDATE.
fn three_varied_messages(alice: &Account) -> Vec<u32> {
    [
        (flags(SEEN, &["$Work"]), "2020-02-29T08:00:00-08:00"),
        (flags(0, &[]), "2021-06-01T12:00:00+00:00"),
        (
            flags(SystemFlags::FLAGGED, &["Later"]),
            "2022-12-31T23:59:59+05:30",
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (flags, when))| {
        alice.append_message("INBOX", message_with(&numbered(i + 1), flags, date(when)))
    })
    .collect()
}

pub fn fetch_returns_what_was_appended(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bare_lf = "From: a@example.org\nSubject: hello\n\nfirst line\nsecond line\n";
    let crlf = bare_lf.replace('\n', "\r\n");
    let when = date("2024-03-10T23:30:15+02:00");
    let appended = message_with(bare_lf, flags(SEEN, &["$Work"]), when);
    let index = appended.index.clone();
    let uid = alice.append_message("INBOX", appended);

    let fetched = alice.fetch_one("INBOX", uid);
    // The save date is the time of the APPEND, not the INTERNALDATE.
    let now = chrono::Utc::now().timestamp();
    assert!((fetched.saved_at - now).abs() < 120, "{}", fetched.saved_at);
    let expected = FetchedMessage {
        uid,
        flags: flags(SEEN, &["$Work"]),
        modseq: alice.highest_modseq("INBOX"),
        internal_date: when,
        saved_at: fetched.saved_at,
        size: crlf.len() as u32,
        index: Some(index.clone()),
        raw: Some(crlf.clone().into_bytes()),
    };
    assert_eq!(fetched, expected);
    // INTERNALDATE keeps its zone, not only the instant.
    assert_eq!(fetched.internal_date.offset(), when.offset());

    // Only what is asked for is loaded.
    let inbox = alice.id_of("INBOX");
    let loaded = |index, raw| {
        let found = store
            .fetch(inbox, &[uid], FetchRequest { index, raw })
            .unwrap();
        (found[0].index.clone(), found[0].raw.clone())
    };
    assert_eq!(loaded(false, false), (None, None));
    assert_eq!(loaded(true, false), (Some(index), None));
    assert_eq!(loaded(false, true), (None, Some(crlf.into_bytes())));
}

pub fn fetch_skips_missing_uids(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 4);
    alice.expunge("INBOX", &uids[1..2]);
    let fetched: Vec<u32> = alice
        .fetch("INBOX", &[uids[0], uids[1], uids[2], uids[3], 99])
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(fetched, [uids[0], uids[2], uids[3]]);
    assert!(alice.fetch("INBOX", &[]).is_empty());
}

pub fn copy_keeps_flags_and_dates_under_new_uids(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = three_varied_messages(&alice);
    let already = alice.append("Archive", "already there\r\n");
    let target = alice.status("Archive");
    let inbox = alice.id_of("INBOX");

    let outcome = store
        .copy(
            inbox,
            &[uids[0], uids[2], 99],
            alice.id,
            &name("Archive"),
            KeptFlags::ALL,
        )
        .unwrap();
    assert_eq!(outcome.uidvalidity, target.uidvalidity);
    let (sources, copies): (Vec<u32>, Vec<u32>) = outcome.uids.iter().copied().unzip();
    assert_eq!(sources, [uids[0], uids[2]]);
    assert!(copies[0] >= target.uidnext && copies[0] > already && copies[1] > copies[0]);
    assert_eq!(
        contents(&alice.fetch("Archive", &copies)),
        contents(&alice.fetch("INBOX", &sources))
    );
    assert_eq!(alice.uids("INBOX"), uids, "the originals stay");
    // Copies are new to the target's sessions (RFC 3501 §6.4.7).
    let selected = store.select(alice.id, &name("Archive"), false).unwrap();
    let recent: Vec<u32> = selected
        .messages
        .iter()
        .filter(|m| m.recent && m.uid != already)
        .map(|m| m.uid)
        .collect();
    assert_eq!(recent, copies);

    // Copying only missing UIDs copies nothing.
    let nothing = store
        .copy(inbox, &[99], alice.id, &name("Archive"), KeptFlags::ALL)
        .unwrap();
    assert!(nothing.uids.is_empty());
    assert_eq!(alice.status("Archive").messages, 3);
}

/// COPY and MOVE into a shared mailbox keep only the flags the user may
/// set there (`KeptFlags`); the message itself is copied whole.
pub fn copy_and_move_keep_only_the_flags_allowed(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let all = SEEN | DELETED | SystemFlags::FLAGGED | SystemFlags::ANSWERED;
    let uids: Vec<u32> = (0..2)
        .map(|i| {
            alice.append_message(
                "INBOX",
                message_with(
                    &numbered(i + 1),
                    flags(all, &["$Work"]),
                    date("2021-06-01T12:00:00+00:00"),
                ),
            )
        })
        .collect();
    let inbox = alice.id_of("INBOX");
    let seen_and_deleted = KeptFlags {
        system: SEEN | DELETED,
        keywords: false,
        viewer: None,
    };
    let copied = store
        .copy(
            inbox,
            &uids[..1],
            alice.id,
            &name("Archive"),
            seen_and_deleted,
        )
        .unwrap();
    let others = KeptFlags {
        system: SystemFlags::FLAGGED,
        keywords: true,
        viewer: None,
    };
    let moved = store
        .move_messages(inbox, &uids[1..], alice.id, &name("Archive"), others)
        .unwrap();
    let copy = alice.fetch_one("Archive", copied.uids[0].1);
    assert_eq!(copy.flags, flags(SEEN | DELETED, &[]));
    let moved = alice.fetch_one("Archive", moved.uids[0].1);
    assert_eq!(moved.flags, flags(SystemFlags::FLAGGED, &["$Work"]));
    let original = alice.fetch_one("INBOX", uids[0]);
    assert_eq!(copy.raw, original.raw, "the message is copied whole");
    assert_eq!(copy.internal_date, original.internal_date);
}

pub fn copy_to_missing_or_placeholder_mailboxes_fails(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 2);
    let inbox = alice.id_of("INBOX");
    for (target, error) in unusable_mailboxes(&alice) {
        let error = Some(&error);
        let copied = store.copy(inbox, &uids, alice.id, &target, KeptFlags::ALL);
        assert_eq!(copied.err().as_ref(), error);
        let moved = store.move_messages(inbox, &uids, alice.id, &target, KeptFlags::ALL);
        assert_eq!(moved.err().as_ref(), error);
    }
    assert_eq!(alice.uids("INBOX"), uids);
    assert_eq!(alice.usage().0, 2);
}

pub fn move_removes_the_sources_with_tombstones(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = three_varied_messages(&alice);
    let inbox = alice.id_of("INBOX");
    let start = alice.highest_modseq("INBOX");
    let originals = alice.fetch("INBOX", &uids[..2]);

    let outcome = store
        .move_messages(
            inbox,
            &uids[..2],
            alice.id,
            &name("Archive"),
            KeptFlags::ALL,
        )
        .unwrap();
    assert_eq!(outcome.uidvalidity, alice.status("Archive").uidvalidity);
    let (sources, moved): (Vec<u32>, Vec<u32>) = outcome.uids.iter().copied().unzip();
    assert_eq!(sources, uids[..2]);
    assert_eq!(alice.uids("Archive"), moved);
    assert_eq!(
        contents(&alice.fetch("Archive", &moved)),
        contents(&originals)
    );
    assert_eq!(alice.uids("INBOX"), uids[2..]);
    let changes = store.changes_since(inbox, start, uids[2], false).unwrap();
    assert_eq!(changes.expunged, uids[..2]);
    assert_eq!(alice.usage().0, 3, "moved, not copied");
}

/// RFC 6851 does not forbid it; like Dovecot, the message gets a new UID.
pub fn move_into_the_same_mailbox_renumbers(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 2);
    let inbox = alice.id_of("INBOX");
    let start = alice.highest_modseq("INBOX");
    let original = alice.fetch_one("INBOX", uids[0]);
    let outcome = store
        .move_messages(inbox, &uids[..1], alice.id, &name("INBOX"), KeptFlags::ALL)
        .unwrap();
    let renumbered = outcome.uids[0].1;
    assert_eq!(outcome.uids, [(uids[0], renumbered)]);
    assert!(renumbered > uids[1]);
    assert_eq!(alice.uids("INBOX"), [uids[1], renumbered]);
    assert_eq!(
        content(&alice.fetch_one("INBOX", renumbered)),
        content(&original)
    );
    assert_eq!(store.vanished_since(inbox, start, None), Ok(vec![uids[0]]));
}

/// INBOX with four messages, the middle two `\Deleted`.
fn two_deleted_of_four(alice: &Account) -> Vec<u32> {
    let uids = alice.append_numbered("INBOX", 4);
    alice.store_flags("INBOX", &uids[1..3], FlagChange::Add, &flags(DELETED, &[]));
    alice.store_flags("INBOX", &uids[3..], FlagChange::Add, &flags(SEEN, &[]));
    uids
}

pub fn expunge_removes_only_deleted_messages(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = two_deleted_of_four(&alice);
    let expunged = store.expunge(alice.id_of("INBOX"), None).unwrap();
    let expected = Expunged {
        uids: uids[1..3].to_vec(),
        highest_modseq: alice.highest_modseq("INBOX"),
    };
    assert_eq!(expunged, expected);
    assert_eq!(alice.uids("INBOX"), [uids[0], uids[3]]);
    assert_eq!(alice.usage().0, 2);
}

pub fn uid_expunge_removes_only_the_given_deleted_messages(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = two_deleted_of_four(&alice);
    let expunged = store
        .expunge(alice.id_of("INBOX"), Some(&uids[2..]))
        .unwrap();
    assert_eq!(expunged.uids, [uids[2]]);
    assert_eq!(alice.uids("INBOX"), [uids[0], uids[1], uids[3]]);
}

/// POP3's QUIT: `\Seen` on what was read, removal of what was deleted
/// whatever its flags, tombstones for the sessions that watch.
pub fn mark_seen_and_remove_updates_in_one_step(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 4);
    let inbox = alice.id_of("INBOX");
    let start = alice.highest_modseq("INBOX");
    let gone = uids[3] + 100;
    let expunged = store
        .mark_seen_and_remove(inbox, &[uids[0], uids[1]], &[uids[1], uids[2], gone])
        .unwrap();
    assert_eq!(expunged.uids, uids[1..3]);
    assert_eq!(expunged.highest_modseq, alice.highest_modseq("INBOX"));
    assert_eq!(alice.uids("INBOX"), [uids[0], uids[3]]);
    assert_eq!(alice.fetch_one("INBOX", uids[0]).flags, flags(SEEN, &[]));
    assert_eq!(alice.fetch_one("INBOX", uids[3]).flags, flags(0, &[]));
    let changes = store.changes_since(inbox, start, uids[3], false).unwrap();
    assert_eq!(changes.expunged, uids[1..3]);
    assert_eq!(alice.usage().0, 2);
    // Nothing to do changes nothing.
    let before = alice.highest_modseq("INBOX");
    let nothing = store.mark_seen_and_remove(inbox, &[], &[]).unwrap();
    assert_eq!(nothing.uids, Vec::<u32>::new());
    assert_eq!(alice.highest_modseq("INBOX"), before);
}

pub fn expunge_without_deleted_messages_changes_nothing(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 2);
    let before = alice.highest_modseq("INBOX");
    let expunged = store.expunge(alice.id_of("INBOX"), None).unwrap();
    let expected = Expunged {
        uids: vec![],
        highest_modseq: before,
    };
    assert_eq!(expunged, expected);
    assert_eq!(alice.uids("INBOX"), uids);
}

pub fn import_stores_each_digest_once_per_mailbox(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    let import = |user: &Account, mailbox: &str, text: &str, digest: &str| {
        store.import(user.id, &name(mailbox), message(text), digest)
    };
    assert_eq!(import(&alice, "Old/2019", "one\r\n", "d1"), Ok(true));
    // The mailbox was created, superior included, and subscribed.
    let created: Vec<_> = alice
        .mailboxes()
        .into_iter()
        .filter(|(n, _)| n.starts_with("Old"))
        .collect();
    assert_eq!(created, [("Old".into(), true), ("Old/2019".into(), true)]);
    assert!(alice.subscriptions().contains(&"Old/2019".to_owned()));

    assert_eq!(import(&alice, "Old/2019", "one\r\n", "d1"), Ok(false));
    assert_eq!(import(&alice, "Old/2019", "two\r\n", "d2"), Ok(true));
    assert_eq!(alice.status("Old/2019").messages, 2);
    // Digests count per mailbox and per user.
    assert_eq!(import(&alice, "INBOX", "one\r\n", "d1"), Ok(true));
    assert_eq!(import(&bob, "Old/2019", "one\r\n", "d1"), Ok(true));
    assert_eq!(alice.usage().0, 3);

    // A missing mailbox is created, but a placeholder is not selectable.
    let [_, (placeholder, error)] = unusable_mailboxes(&alice);
    let imported = store.import(alice.id, &placeholder, message("three\r\n"), "d3");
    assert_eq!(imported, Err(error));
}

pub fn imported_digests_are_listed_by_prefix(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    for (account, mailbox, digest) in [
        (&alice, "INBOX", "imap a 1"),
        (&alice, "INBOX", "imap a 2"),
        (&alice, "INBOX", "imap b 1"),
        (&alice, "Archive", "imap a 3"),
        (&bob, "INBOX", "imap a 4"),
    ] {
        let stored = store
            .import(account.id, &name(mailbox), message("x\r\n"), digest)
            .unwrap();
        assert!(stored);
    }
    let listed = |account: &Account, mailbox: &str, prefix: &str| {
        store
            .imported_digests(account.id, &name(mailbox), prefix)
            .unwrap()
    };
    assert_eq!(listed(&alice, "INBOX", "imap a "), ["imap a 1", "imap a 2"]);
    assert_eq!(
        listed(&alice, "INBOX", ""),
        ["imap a 1", "imap a 2", "imap b 1"]
    );
    assert_eq!(listed(&alice, "Archive", "imap a "), ["imap a 3"]);
    assert_eq!(listed(&bob, "INBOX", "imap a "), ["imap a 4"]);
    assert_eq!(listed(&alice, "Nowhere", "imap"), Vec::<String>::new());
    // Wildcard characters in the prefix are plain text.
    assert_eq!(listed(&alice, "INBOX", "imap _ "), Vec::<String>::new());
}

pub fn import_ignores_the_quota(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let one_message = letterbox::store::QuotaOverride {
        bytes: None,
        messages: Some(1),
    };
    store.set_quota("alice", one_message).unwrap();
    alice.append("INBOX", "one\r\n");
    let refused = store.append(alice.id, &name("INBOX"), message("two\r\n"));
    assert_eq!(refused, Err(StoreError::OverQuota));
    let imported = store.import(alice.id, &name("INBOX"), message("two\r\n"), "d2");
    assert_eq!(imported, Ok(true));
    assert_eq!(alice.usage().0, 2);
}

pub fn purge_removes_what_entered_mailboxes_of_a_special_use_before_the_cutoff(
    store: &dyn MailStore,
) {
    let alice = Account::create(store, "alice");
    let bob = Account::create(store, "bob");
    store
        .create_mailbox(alice.id, &name("Bin"), Some(SpecialUse::Trash))
        .unwrap();
    // An old INTERNALDATE does not count: the message entered Trash now.
    let old = message_with(&numbered(1), Flags::default(), date("2001-01-01T00:00:00Z"));
    let trashed = [
        alice.append_message("Trash", old),
        alice.append("Trash", &numbered(2)),
    ];
    alice.append("Bin", &numbered(3));
    bob.append("Trash", &numbered(4));
    alice.append("INBOX", &numbered(5));
    bob.append("Junk", &numbered(6));
    let start = alice.highest_modseq("Trash");
    let now = Utc::now().timestamp();

    assert_eq!(store.purge_older_than(SpecialUse::Trash, now - 3600), Ok(0));
    assert_eq!(alice.uids("Trash"), trashed);
    assert_eq!(store.purge_older_than(SpecialUse::Trash, now + 1), Ok(4));
    for (user, mailbox, left) in [
        (&alice, "Trash", 0),
        (&alice, "Bin", 0),
        (&bob, "Trash", 0),
        (&alice, "INBOX", 1),
        (&bob, "Junk", 1),
    ] {
        assert_eq!(
            user.status(mailbox).messages,
            left,
            "{} {mailbox}",
            user.name
        );
    }
    // Sessions are told, as of an expunge.
    let vanished = store.vanished_since(alice.id_of("Trash"), start, None);
    assert_eq!(vanished, Ok(trashed.to_vec()));
}
