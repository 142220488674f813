//! Writers at once: no UID given twice, no message or flag change lost.

use std::collections::HashSet;

use letterbox::store::{FlagChange, MailStore};

use super::{Account, flags};

const THREADS: usize = 8;
const EACH: usize = 25;

pub fn concurrent_appends_get_distinct_ascending_uids(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let text = |thread: usize, n: usize| {
        format!("Subject: {thread}/{n}\r\n\r\nthread {thread} message {n}\r\n")
    };
    // (UID, text) of every append, per thread.
    let appended: Vec<Vec<(u32, String)>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                let alice = &alice;
                scope.spawn(move || {
                    (0..EACH)
                        .map(|n| {
                            let text = text(thread, n);
                            (alice.append("INBOX", &text), text)
                        })
                        .collect()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });

    for (thread, appends) in appended.iter().enumerate() {
        let uids: Vec<u32> = appends.iter().map(|(uid, _)| *uid).collect();
        assert!(uids.is_sorted_by(|a, b| a < b), "thread {thread}: {uids:?}");
    }
    let mut all: Vec<(u32, String)> = appended.into_iter().flatten().collect();
    all.sort();
    let uids: Vec<u32> = all.iter().map(|(uid, _)| *uid).collect();
    assert_eq!(
        uids.iter().collect::<HashSet<_>>().len(),
        THREADS * EACH,
        "a UID given twice"
    );
    // None lost: the mailbox holds exactly these, each under its own UID.
    assert_eq!(alice.uids("INBOX"), uids);
    for (message, (uid, text)) in alice.fetch("INBOX", &uids).iter().zip(&all) {
        assert_eq!(message.raw.as_deref(), Some(text.as_bytes()), "UID {uid}");
    }
    assert!(alice.status("INBOX").uidnext > *uids.last().unwrap());
}

/// Each thread adds its own keywords to one message: every one must be
/// there at the end, and every change must have had a MODSEQ of its own.
pub fn concurrent_flag_changes_are_all_kept(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uid = alice.append("INBOX", "x\r\n");
    let inbox = alice.id_of("INBOX");
    let keyword = |thread: usize, n: usize| format!("k{thread}_{n}");
    let modseqs: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                scope.spawn(move || {
                    (0..EACH)
                        .map(|n| {
                            let added = flags(0, &[&keyword(thread, n)]);
                            let outcome = store
                                .store_flags(inbox, &[uid], FlagChange::Add, &added, None)
                                .unwrap();
                            assert!(outcome.messages[0].changed);
                            outcome.messages[0].modseq
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });

    let kept: HashSet<String> = alice
        .fetch_one("INBOX", uid)
        .flags
        .keywords
        .into_iter()
        .collect();
    let added: HashSet<String> = (0..THREADS)
        .flat_map(|thread| (0..EACH).map(move |n| keyword(thread, n)))
        .collect();
    assert_eq!(kept, added);
    assert_eq!(modseqs.iter().collect::<HashSet<_>>().len(), modseqs.len());
    assert_eq!(modseqs.iter().max(), Some(&alice.highest_modseq("INBOX")));
}
