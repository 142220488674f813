//! Quota (RFC 9208): usage follows every change, limits come from the
//! user's override or the default, and a change that would go beyond a
//! limit is refused whole.

use letterbox::store::{KeptFlags, MailStore, QuotaLimits, QuotaOverride, StoreError};

use super::{Account, name};

pub fn usage_follows_appends_copies_moves_and_expunges(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let (a, b) = ("a\r\n", "bbbbbbbb\r\n");
    let size = |text: &str| text.len() as u64;
    assert_eq!(alice.usage(), (0, 0));
    let first = alice.append("INBOX", a);
    let second = alice.append("Archive", b);
    assert_eq!(alice.usage(), (2, size(a) + size(b)));
    let inbox = alice.id_of("INBOX");
    store
        .copy(inbox, &[first], alice.id, &name("Junk"), KeptFlags::ALL)
        .unwrap();
    assert_eq!(alice.usage(), (3, 2 * size(a) + size(b)));
    store
        .move_messages(inbox, &[first], alice.id, &name("Trash"), KeptFlags::ALL)
        .unwrap();
    assert_eq!(
        alice.usage(),
        (3, 2 * size(a) + size(b)),
        "a move adds nothing"
    );
    alice.expunge("Archive", &[second]);
    assert_eq!(alice.usage(), (2, 2 * size(a)));
    // Other users are counted apart.
    let bob = Account::create(store, "bob");
    bob.append("INBOX", b);
    assert_eq!(
        (alice.usage(), bob.usage()),
        ((2, 2 * size(a)), (1, size(b)))
    );
}

/// The messages of a deleted mailbox no longer count, whether the mailbox
/// goes or stays as a `\Noselect` placeholder for its inferiors.
pub fn deleting_a_mailbox_frees_its_usage(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.create_mailbox("Work/Old");
    let kept = alice.append("INBOX", "kept\r\n");
    alice.append_numbered("Work", 2);
    alice.append_numbered("Work/Old", 1);
    alice.append_numbered("Archive", 1);
    alice.delete_mailbox("Work");
    assert_eq!(alice.usage().0, 3, "Work's messages went");
    alice.delete_mailbox("Work/Old");
    alice.delete_mailbox("Archive");
    let size = alice.fetch_one("INBOX", kept).size;
    assert_eq!(alice.usage(), (1, u64::from(size)));
}

pub fn default_limits_apply_until_overridden(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    Account::create(store, "bob");
    let limits = |user: &str| {
        let id = store.find_user(user).unwrap().unwrap().id;
        let quota = store.quota(id).unwrap().limits;
        let listed = store.list_users().unwrap();
        let summary = listed.iter().find(|u| u.name == user).unwrap();
        assert_eq!(summary.limits, quota, "list_users agrees with quota");
        (quota.bytes, quota.messages)
    };
    assert_eq!(limits("alice"), (None, None), "unlimited by default");
    store.set_default_quota(QuotaLimits {
        bytes: Some(1000),
        messages: Some(10),
    });
    assert_eq!(limits("alice"), (Some(1000), Some(10)));
    let set = |bytes, messages| store.set_quota("alice", QuotaOverride { bytes, messages });
    set(Some(500), None).unwrap();
    assert_eq!(
        limits("alice"),
        (Some(500), Some(10)),
        "None leaves the default"
    );
    set(None, Some(0)).unwrap();
    assert_eq!(limits("alice"), (Some(500), None), "0 is unlimited");
    assert_eq!(limits("bob"), (Some(1000), Some(10)));
    // The default changes for whoever has no override of their own.
    store.set_default_quota(QuotaLimits {
        bytes: Some(2000),
        messages: None,
    });
    assert_eq!(limits("alice"), (Some(500), None));
    assert_eq!(limits("bob"), (Some(2000), None));
    let nobody = store.set_quota("nobody", QuotaOverride::default());
    assert_eq!(nobody, Err(StoreError::NoSuchUser));
    assert_eq!(alice.usage(), (0, 0));
}

/// For a user's byte limit, a user's message limit and the default limit:
/// appends fill the quota up to the limit exactly, the next one is refused
/// and stores nothing, and expunging makes room again.
pub fn appends_are_refused_beyond_any_limit(store: &dyn MailStore) {
    let text = "0123456789\r\n";
    let size = text.len() as u64;
    let set = |user: &str, bytes, messages| {
        store
            .set_quota(user, QuotaOverride { bytes, messages })
            .unwrap()
    };
    // The default comes last: it would limit the users before it too.
    let cases: [(&str, &dyn Fn()); 3] = [
        ("bytes", &|| set("bytes", Some(3 * size), None)),
        ("messages", &|| set("messages", None, Some(3))),
        ("default", &|| {
            store.set_default_quota(QuotaLimits {
                bytes: None,
                messages: Some(3),
            })
        }),
    ];
    for (user, limit) in cases {
        let account = Account::create(store, user);
        limit();
        let uids: Vec<u32> = (0..3).map(|_| account.append("INBOX", text)).collect();
        let refused = store.append(account.id, &name("INBOX"), super::message(text));
        assert_eq!(refused, Err(StoreError::OverQuota), "{user}");
        assert_eq!(account.uids("INBOX"), uids, "{user}");
        assert_eq!(account.usage(), (3, 3 * size), "{user}");
        account.expunge("INBOX", &uids[..1]);
        account.append("INBOX", text);
    }
}

pub fn a_copy_beyond_the_limit_is_refused_whole(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let limit = QuotaOverride {
        bytes: None,
        messages: Some(4),
    };
    store.set_quota("alice", limit).unwrap();
    let inbox = alice.id_of("INBOX");
    let copied = store.copy(
        inbox,
        &uids[..2],
        alice.id,
        &name("Archive"),
        KeptFlags::ALL,
    );
    assert_eq!(copied, Err(StoreError::OverQuota));
    assert_eq!(alice.status("Archive").messages, 0, "not even one copy");
    assert_eq!(alice.usage().0, 3);
    store
        .copy(
            inbox,
            &uids[..1],
            alice.id,
            &name("Archive"),
            KeptFlags::ALL,
        )
        .unwrap();
    assert_eq!(alice.usage().0, 4);
}

/// A move adds nothing to the account, so a full account may still move.
pub fn moving_within_the_account_needs_no_room(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 2);
    let full = QuotaOverride {
        bytes: None,
        messages: Some(2),
    };
    store.set_quota("alice", full).unwrap();
    let moved = store
        .move_messages(
            alice.id_of("INBOX"),
            &uids,
            alice.id,
            &name("Archive"),
            KeptFlags::ALL,
        )
        .unwrap();
    assert_eq!(moved.uids.len(), 2);
    assert_eq!(alice.usage().0, 2);
}

/// What the quota warnings read: the lowest usage since the last look,
/// lowered by whatever removes mail, and started again at each look.
pub fn a_look_at_quota_reports_the_lowest_usage_since_the_last(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let lowest = |store: &dyn MailStore| {
        let look = store.look_at_quota(alice.id).unwrap();
        (
            (look.lowest_messages, look.lowest_bytes),
            (look.now.used_messages, look.now.used_bytes),
        )
    };
    assert_eq!(lowest(store), ((0, 0), (0, 0)));
    let uids = alice.append_numbered("INBOX", 3);
    let size = alice.usage().1 / 3;
    // Appends raise usage, not the lowest mark.
    assert_eq!(lowest(store), ((0, 0), (3, 3 * size)));
    // The look started again from today's usage.
    assert_eq!(lowest(store), ((3, 3 * size), (3, 3 * size)));
    // An expunge, a deleted mailbox: lower; appends after: the mark stays.
    alice.expunge("INBOX", &uids[..2]);
    alice.append_numbered("Archive", 2);
    alice.delete_mailbox("Archive");
    alice.append_numbered("INBOX", 1);
    assert_eq!(lowest(store), ((1, size), (2, 2 * size)));
    // Each user has their own.
    let bob = Account::create(store, "bob");
    bob.append_numbered("INBOX", 1);
    assert_eq!(lowest(store), ((2, 2 * size), (2, 2 * size)));
}
