//! SEARCH in store terms (`SearchQuery`): text criteria are case-insensitive
//! substrings of the decoded text, not words; every other key as RFC 3501
//! §6.4.4 and RFC 7162 §3.1.5 define it. Each query runs twice: right
//! after the appends, and once the store's deferred work is done (SQLite
//! indexes search text in the background), as both must answer alike.

use chrono::NaiveDate;
use letterbox::store::{DateCmp, KeptFlags, MailboxId, SearchQuery, SystemFlags};

use super::{Account, Backend, date, flags, message_with, name};

use SearchQuery::{And, Body, Flag, Header, InternalDate, Keyword, Not, Or, SentDate, Text};

const SEEN: u8 = SystemFlags::SEEN;
const DELETED: u8 = SystemFlags::DELETED;
const ANSWERED: u8 = SystemFlags::ANSWERED;

/// Four messages in alice's INBOX, known to the checks by number (1-4):
/// (raw, flags, keywords, INTERNALDATE).
const CORPUS: [(&str, u8, &[&str], &str); 4] = [
    (
        "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@example.de>\r\n\
         To: bob@example.org\r\n\
         Cc: carol@example.org\r\n\
         Subject: Quarterly budget review\r\n\
         Date: Sun, 10 Mar 2024 23:30:00 -0500\r\n\
         \r\n\
         The quarterly numbers are in.\r\n",
        SEEN | SystemFlags::FLAGGED,
        &["$Work"],
        "2024-03-15T23:30:00-05:00",
    ),
    (
        "From: bob@example.org\r\n\
         To: alice@example.org\r\n\
         Reply-To: carol@example.org\r\n\
         Subject: lunch\r\n\
         \r\n\
         The BUDGET is fine. Say \"hi\" to \u{41f}\u{420}\u{418}\u{412}\u{415}\u{422} \u{43c}\u{438}\u{440}.\r\n",
        0,
        &[],
        "2024-03-20T10:00:00+00:00",
    ),
    (
        "From: =?iso-8859-1?q?Fran=E7ois?= <f@example.fr>\r\n\
         To: alice@example.org\r\n\
         Subject: =?utf-8?b?w6ljb2xl?= news\r\n\
         Date: Wed, 20 Mar 2024 08:00:00 +0100\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=iso-8859-1\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Viele Gr=FC=DFe aus der =E9cole\r\n",
        DELETED,
        &["Later"],
        "2024-03-25T12:00:00+00:00",
    ),
    (
        "From: d@example.org\r\n\
         Subject: a subject folded\r\n across two lines\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         R3LDvMOfZSBhdXMgWsO8cmljaA0K\r\n",
        ANSWERED,
        &[],
        "2024-04-01T00:00:00+00:00",
    ),
];

struct Corpus {
    inbox: MailboxId,
    /// The UIDs of messages 1-4.
    uids: Vec<u32>,
}

fn corpus(backend: &Backend) -> Corpus {
    let alice = Account::create(backend.store(), "alice");
    let uids = CORPUS
        .iter()
        .map(|&(raw, system, keywords, when)| {
            let message = message_with(raw, flags(system, keywords), date(when));
            alice.append_message("INBOX", message)
        })
        .collect();
    Corpus {
        inbox: alice.id_of("INBOX"),
        uids,
    }
}

impl Corpus {
    /// Asserts which messages (by number) each query finds, before and
    /// after the backend settles.
    fn expect(&self, backend: &Backend, cases: &[(SearchQuery, &[usize])]) {
        expect_uids(
            backend,
            self.inbox,
            &cases
                .iter()
                .map(|(query, numbers)| {
                    let uids = numbers.iter().map(|n| self.uids[n - 1]).collect();
                    (query.clone(), uids)
                })
                .collect::<Vec<_>>(),
        );
    }
}

fn expect_uids(backend: &Backend, mailbox: MailboxId, cases: &[(SearchQuery, Vec<u32>)]) {
    for settled in [false, true] {
        if settled {
            backend.settle();
        }
        for (query, expected) in cases {
            let found = backend.store().search(mailbox, query).unwrap();
            let uids: Vec<u32> = found.into_iter().map(|(uid, _)| uid).collect();
            assert_eq!(&uids, expected, "{query:?} (settled: {settled})");
        }
    }
}

fn body(needle: &str) -> SearchQuery {
    Body(needle.into())
}

fn text(needle: &str) -> SearchQuery {
    Text(needle.into())
}

fn header(field: &str, needle: &str) -> SearchQuery {
    Header(field.into(), needle.into())
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub fn text_matches_substrings_not_words(backend: &Backend) {
    corpus(backend).expect(
        backend,
        &[
            (body("arterl"), &[1]),
            (text("ly num"), &[1]),
            (body("umbers are i"), &[1]),
            // Message 1 has "budget" in its subject only.
            (body("budget"), &[2]),
            (text("budget"), &[1, 2]),
            (body("quarterly budget"), &[]),
            (text("quarterly budget"), &[1]),
            // Shorter than any index n-gram.
            (body("hi"), &[2]),
            (body("ü"), &[3, 4]),
            (body(""), &[1, 2, 3, 4]),
            (text("not in any message"), &[]),
        ],
    );
}

pub fn text_matching_ignores_case_in_any_script(backend: &Backend) {
    corpus(backend).expect(
        backend,
        &[
            (body("QUARTERLY"), &[1]),
            (text("bUdGeT"), &[1, 2]),
            (
                body("\u{43f}\u{440}\u{438}\u{432}\u{435}\u{442} \u{41c}\u{418}\u{420}"),
                &[2],
            ),
            (header("from", "j\u{dc}RGEN m\u{fc}LLER"), &[1]),
            (body("Z\u{dc}RICH"), &[4]),
        ],
    );
}

pub fn text_is_matched_after_decoding_charsets(backend: &Backend) {
    corpus(backend).expect(
        backend,
        &[
            // Quoted-printable ISO-8859-1 and base64 UTF-8 bodies.
            (body("gr\u{fc}\u{df}e aus der \u{e9}cole"), &[3]),
            (body("gr\u{fc}\u{df}e aus"), &[3, 4]),
            // RFC 2047 words in two charsets and encodings.
            (header("from", "fran\u{e7}ois"), &[3]),
            (header("subject", "\u{e9}cole news"), &[3]),
            // The transfer encodings themselves are not text.
            (body("=FC"), &[]),
            (text("=e7ois"), &[]),
            (body("R3LDvMOf"), &[]),
            // Exact text: no folding of accents.
            (text("ecole"), &[]),
        ],
    );
}

/// Characters that mean something to a full-text query language are
/// plain text in a SEARCH needle.
pub fn needles_are_literal_text(backend: &Backend) {
    corpus(backend).expect(
        backend,
        &[
            (body("say \"hi\""), &[2]),
            (body("\""), &[2]),
            (body("quarter*"), &[]),
            (text("budget OR lunch"), &[]),
            (body("NEAR"), &[]),
            (body("are in."), &[1]),
            (header("subject", "budget:"), &[]),
        ],
    );
}

pub fn header_criteria_match_one_field(backend: &Backend) {
    corpus(backend).expect(
        backend,
        &[
            // carol is in a Cc: and a Reply-To:, never in a To:.
            (header("to", "carol"), &[]),
            (header("cc", "carol"), &[1]),
            (header("reply-to", "CAROL"), &[2]),
            (header("from", "example.org"), &[2, 4]),
            // An empty needle matches every message with the field.
            (header("cc", ""), &[1]),
            (header("date", ""), &[1, 3]),
            (header("subject", ""), &[1, 2, 3, 4]),
            (header("x-missing", ""), &[]),
            // Folded values are matched unfolded.
            (header("subject", "folded across"), &[4]),
            // Header criteria do not look into the body.
            (header("subject", "numbers"), &[]),
        ],
    );
}

pub fn flag_and_keyword_criteria(backend: &Backend) {
    corpus(backend).expect(
        backend,
        &[
            (Flag(SEEN), &[1]),
            (Flag(DELETED), &[3]),
            (Flag(ANSWERED), &[4]),
            (Flag(SystemFlags::DRAFT), &[]),
            (Not(Box::new(Flag(SEEN))), &[2, 3, 4]),
            (Keyword("$work".into()), &[1]),
            (Keyword("LATER".into()), &[3]),
            // A keyword is matched whole.
            (Keyword("Lat".into()), &[]),
        ],
    );
}

/// INTERNALDATE and the Date: header are each compared in their own zone:
/// message 1 was received on March 15 (-05:00), March 16 in UTC, and sent
/// on March 10 (-05:00), March 11 in UTC. Without a Date: header the
/// INTERNALDATE stands in for it.
pub fn dates_are_compared_in_their_own_time_zone(backend: &Backend) {
    let internal = |cmp, date| InternalDate(cmp, day(date));
    let sent = |cmp, date| SentDate(cmp, day(date));
    corpus(backend).expect(
        backend,
        &[
            (internal(DateCmp::On, "2024-03-15"), &[1]),
            (internal(DateCmp::On, "2024-03-16"), &[]),
            (internal(DateCmp::Before, "2024-03-20"), &[1]),
            (internal(DateCmp::Before, "2024-03-15"), &[]),
            (internal(DateCmp::Since, "2024-03-20"), &[2, 3, 4]),
            (sent(DateCmp::On, "2024-03-10"), &[1]),
            (sent(DateCmp::On, "2024-03-11"), &[]),
            (sent(DateCmp::On, "2024-03-20"), &[2, 3]),
            (sent(DateCmp::Before, "2024-03-20"), &[1]),
            (sent(DateCmp::Since, "2024-03-21"), &[4]),
        ],
    );
}

/// LARGER and SMALLER compare RFC822.SIZE strictly.
pub fn size_criteria_are_strict(backend: &Backend) {
    let corpus = corpus(backend);
    let sizes: Vec<u32> = CORPUS.iter().map(|(raw, ..)| raw.len() as u32).collect();
    let numbers = |keep: &dyn Fn(u32) -> bool| -> Vec<usize> {
        (1..=4).filter(|&n| keep(sizes[n - 1])).collect()
    };
    let size = sizes[0];
    let larger = numbers(&|s| s > size);
    let smaller = numbers(&|s| s < size);
    assert!(
        !larger.is_empty() && !smaller.is_empty(),
        "a corpus to compare"
    );
    // Message 1 is neither larger nor smaller than itself.
    corpus.expect(
        backend,
        &[
            (SearchQuery::Larger(size), &larger),
            (SearchQuery::Smaller(size), &smaller),
            (SearchQuery::Larger(size - 1), &numbers(&|s| s >= size)),
            (SearchQuery::Smaller(size + 1), &numbers(&|s| s <= size)),
        ],
    );
}

pub fn uid_modseq_and_boolean_criteria(backend: &Backend) {
    let corpus = corpus(backend);
    let u = &corpus.uids;
    let third = backend
        .store()
        .fetch(corpus.inbox, &u[2..3], Default::default());
    let modseq = third.unwrap()[0].modseq;
    let deleted_or_answered = || Or(Box::new(Flag(DELETED)), Box::new(Flag(ANSWERED)));
    corpus.expect(
        backend,
        &[
            (SearchQuery::All, &[1, 2, 3, 4]),
            (And(vec![]), &[1, 2, 3, 4]),
            (
                SearchQuery::Uids(vec![u[0]..=u[1], u[3]..=u[3]]),
                &[1, 2, 4],
            ),
            (SearchQuery::Uids(vec![u[2]..=u32::MAX]), &[3, 4]),
            // MODSEQ n finds n and above (RFC 7162 §3.1.5).
            (SearchQuery::ModSeq(modseq), &[3, 4]),
            (And(vec![Flag(SEEN), Keyword("$work".into())]), &[1]),
            (And(vec![Flag(SEEN), Keyword("later".into())]), &[]),
            (deleted_or_answered(), &[3, 4]),
            (Not(Box::new(deleted_or_answered())), &[1, 2]),
            (
                Or(Box::new(body("budget")), Box::new(header("cc", ""))),
                &[1, 2],
            ),
            (Not(Box::new(text("budget"))), &[3, 4]),
        ],
    );
    // Each match comes with the message's MODSEQ.
    let found = backend
        .store()
        .search(corpus.inbox, &SearchQuery::All)
        .unwrap();
    let fetched = backend
        .store()
        .fetch(corpus.inbox, u, Default::default())
        .unwrap();
    let expected: Vec<(u32, u64)> = fetched.iter().map(|m| (m.uid, m.modseq)).collect();
    assert_eq!(found, expected);
}

/// The same text in other users' and other mailboxes' messages (which an
/// index shared by all may hold) is not found in this mailbox.
pub fn search_sees_only_the_searched_mailbox(backend: &Backend) {
    let store = backend.store();
    let bob = Account::create(store, "bob");
    for _ in 0..12 {
        bob.append("INBOX", "Subject: zebra\r\n\r\nzebra crossing\r\n");
    }
    let alice = Account::create(store, "alice");
    alice.append_numbered("INBOX", 3);
    let archived = alice.append("Archive", "Subject: zebra\r\n\r\nzebra crossing\r\n");
    let (inbox, archive) = (alice.id_of("INBOX"), alice.id_of("Archive"));
    let zebra = || text("zebra crossing");
    expect_uids(
        backend,
        inbox,
        &[(zebra(), vec![]), (SearchQuery::All, alice.uids("INBOX"))],
    );
    expect_uids(backend, archive, &[(zebra(), vec![archived])]);
    expect_uids(backend, alice.id_of("Trash"), &[(SearchQuery::All, vec![])]);

    // A copy is found under its new UID, and no more once expunged.
    let copied = store
        .copy(
            archive,
            &[archived],
            alice.id,
            &name("INBOX"),
            KeptFlags::ALL,
        )
        .unwrap()
        .uids[0]
        .1;
    expect_uids(backend, inbox, &[(zebra(), vec![copied])]);
    alice.expunge("INBOX", &[copied]);
    expect_uids(backend, inbox, &[(zebra(), vec![])]);
    expect_uids(backend, archive, &[(zebra(), vec![archived])]);
}
