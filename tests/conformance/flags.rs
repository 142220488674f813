//! STORE: the three modes, keywords, and CONDSTORE's UNCHANGEDSINCE
//! (RFC 7162 §3.1.3).

use letterbox::store::{FlagChange, Flags, MailStore, SystemFlags};

use super::{Account, flags, sorted};

const SEEN: u8 = SystemFlags::SEEN;
const ANSWERED: u8 = SystemFlags::ANSWERED;
const FLAGGED: u8 = SystemFlags::FLAGGED;
const DELETED: u8 = SystemFlags::DELETED;
const DRAFT: u8 = SystemFlags::DRAFT;

/// Flags with keywords sorted, as compared here: their order is not part
/// of the contract.
fn normal(mut flags: Flags) -> Flags {
    flags.keywords = sorted(flags.keywords);
    flags
}

/// Applies one STORE to INBOX's `uid` and checks that what the store
/// reports is what it then holds, and is `expected`.
fn store_and_expect(alice: &Account, uid: u32, change: FlagChange, asked: Flags, expected: Flags) {
    let outcome = alice.store_flags("INBOX", &[uid], change, &asked);
    assert_eq!(outcome.messages.len(), 1);
    assert_eq!(
        normal(outcome.messages[0].flags.clone()),
        expected,
        "{change:?} {asked:?}"
    );
    assert_eq!(normal(alice.fetch_one("INBOX", uid).flags), expected);
}

pub fn system_flags_are_added_removed_and_replaced(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let appended =
        super::message_with("x\r\n", flags(SEEN, &[]), chrono::Utc::now().fixed_offset());
    let uid = alice.append_message("INBOX", appended);
    let expect = |change, asked, expected| {
        store_and_expect(&alice, uid, change, flags(asked, &[]), flags(expected, &[]))
    };
    expect(
        FlagChange::Add,
        FLAGGED | ANSWERED,
        SEEN | FLAGGED | ANSWERED,
    );
    // Removing a flag that is not set is no error.
    expect(FlagChange::Remove, SEEN | DRAFT, FLAGGED | ANSWERED);
    expect(FlagChange::Replace, DELETED, DELETED);
    expect(FlagChange::Replace, 0, 0);
}

pub fn keywords_match_case_insensitively(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uid = alice.append("INBOX", "x\r\n");
    let expect = |change, asked: &[&str], expected: &[&str]| {
        store_and_expect(&alice, uid, change, flags(0, asked), flags(0, expected))
    };
    expect(FlagChange::Add, &["$Work", "Later"], &["$Work", "Later"]);
    // Adding one already there in another case adds nothing, and so is
    // not a change.
    let again = alice.store_flags("INBOX", &[uid], FlagChange::Add, &flags(0, &["$WORK"]));
    assert!(!again.messages[0].changed);
    expect(FlagChange::Add, &["$WORK"], &["$Work", "Later"]);
    expect(FlagChange::Remove, &["later"], &["$Work"]);
    expect(FlagChange::Replace, &["Todo", "Done"], &["Done", "Todo"]);
    // Keywords and system flags are independent.
    let both = flags(SEEN, &["Todo"]);
    store_and_expect(
        &alice,
        uid,
        FlagChange::Remove,
        flags(SEEN, &[]),
        flags(0, &["Done", "Todo"]),
    );
    store_and_expect(&alice, uid, FlagChange::Replace, both.clone(), both);
}

pub fn unchanged_since_leaves_messages_modified_later(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 3);
    let inbox = alice.id_of("INBOX");
    let before = alice.highest_modseq("INBOX");
    alice.store_flags("INBOX", &uids[1..2], FlagChange::Add, &flags(SEEN, &[]));
    let modified_at = alice.fetch_one("INBOX", uids[1]).modseq;
    let flagged = flags(FLAGGED, &[]);
    let conditional = |uids: &[u32], since| {
        store
            .store_flags(inbox, uids, FlagChange::Add, &flagged, Some(since))
            .unwrap()
    };

    let outcome = conditional(&uids, before);
    assert_eq!(outcome.modified, [uids[1]]);
    let stored: Vec<u32> = outcome.messages.iter().map(|m| m.uid).collect();
    assert_eq!(stored, [uids[0], uids[2]]);
    let system: Vec<u8> = alice
        .fetch("INBOX", &uids)
        .iter()
        .map(|m| m.flags.system.0)
        .collect();
    assert_eq!(
        system,
        [FLAGGED, SEEN, FLAGGED],
        "the modified one was left alone"
    );

    // A MODSEQ equal to UNCHANGEDSINCE is not "modified since".
    let outcome = conditional(&uids[1..2], modified_at);
    assert!(outcome.modified.is_empty());
    assert_eq!(
        alice.fetch_one("INBOX", uids[1]).flags.system.0,
        SEEN | FLAGGED
    );
    // UNCHANGEDSINCE 0 always fails (RFC 7162 §3.1.3).
    let outcome = conditional(&uids, 0);
    assert_eq!(outcome.modified, uids);
    assert!(outcome.messages.is_empty());
}

pub fn store_flags_skips_uids_that_do_not_exist(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = alice.append_numbered("INBOX", 2);
    alice.expunge("INBOX", &uids[..1]);
    let seen = flags(SEEN, &[]);
    let outcome = alice.store_flags("INBOX", &[uids[0], uids[1], 99], FlagChange::Add, &seen);
    let stored: Vec<u32> = outcome.messages.iter().map(|m| m.uid).collect();
    assert_eq!(stored, [uids[1]]);
    assert!(outcome.modified.is_empty());
    // With no message to change, nothing changes.
    let highest = alice.highest_modseq("INBOX");
    let outcome = alice.store_flags("INBOX", &[uids[0], 99], FlagChange::Add, &seen);
    assert_eq!(outcome, Default::default());
    assert_eq!(alice.highest_modseq("INBOX"), highest);
}
