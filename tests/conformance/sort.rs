//! What SORT and THREAD read: the fields stored with each message.

use letterbox::mail::sort_fields;
use letterbox::store::{MailStore, SortFields};

use super::{Account, date, flags, message_with};

const MESSAGES: [(&str, &str); 3] = [
    (
        "From: Zed <zed@example.org>\r\nTo: amy@example.org\r\nSubject: Re: [list] Lunch\r\nDate: Mon, 5 Jan 2026 09:00:00 +0100\r\nMessage-ID: <a@x>\r\n\r\nx\r\n",
        "2026-01-05T10:00:00+00:00",
    ),
    (
        "Subject: agenda\r\nReferences: <a@x> <b@x>\r\n\r\nlonger body\r\n",
        "2026-01-04T10:00:00-05:00",
    ),
    (
        "From: =?UTF-8?Q?B=C3=A9a?= <bea@example.org>\r\nIn-Reply-To: <a@x>\r\nDate: broken\r\n\r\ny\r\n",
        "2026-01-06T00:00:00+00:00",
    ),
];

/// Appends MESSAGES to INBOX; returns their UIDs.
fn append_all(alice: &Account) -> Vec<u32> {
    MESSAGES
        .iter()
        .map(|(raw, when)| {
            alice.append_message("INBOX", message_with(raw, flags(0, &[]), date(when)))
        })
        .collect()
}

pub fn sort_rows_report_the_stored_fields_in_uid_order(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = append_all(&alice);
    alice.append("Archive", "Subject: elsewhere\r\n\r\nz\r\n");
    let inbox = alice.id_of("INBOX");
    // Asked out of order, with a UID that does not exist.
    let asked = [uids[2], uids[0], 999, uids[1]];
    let mut asked_sorted = asked.to_vec();
    asked_sorted.sort();
    let rows = store.sort_rows(inbox, &asked_sorted).unwrap();
    assert_eq!(rows.iter().map(|r| r.uid).collect::<Vec<_>>(), uids);
    for (row, (raw, when)) in rows.iter().zip(MESSAGES) {
        assert_eq!(row.arrival, date(when).timestamp(), "UID {}", row.uid);
        assert_eq!(row.size as usize, raw.len(), "UID {}", row.uid);
        assert_eq!(
            row.fields.as_ref(),
            Some(&sort_fields::extract(raw.as_bytes())),
            "UID {}",
            row.uid
        );
    }
    let only_first = store.sort_rows(inbox, &uids[..1]).unwrap();
    assert_eq!(only_first.len(), 1);
    assert_eq!(only_first[0].uid, uids[0]);
    assert!(store.sort_rows(inbox, &[]).unwrap().is_empty());
}

pub fn kept_sort_fields_never_replace_stored_ones(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    let uids = append_all(&alice);
    let inbox = alice.id_of("INBOX");
    let before = store.sort_rows(inbox, &uids).unwrap();
    let bogus = SortFields {
        base_subject: "bogus".into(),
        ..SortFields::default()
    };
    store
        .keep_sort_fields(inbox, &[(uids[0], bogus.clone()), (999, bogus)])
        .unwrap();
    assert_eq!(store.sort_rows(inbox, &uids).unwrap(), before);
}
