//! SORT and UID SORT (RFC 5256 §3), with DISPLAYFROM/DISPLAYTO (RFC 5957)
//! and RETURN (ESORT, RFC 5267).
//!
//! The messages are found as SEARCH finds them, then ordered by the keys
//! stored with each message at APPEND (`store::SortFields`); messages
//! stored before those were kept get them from their octets here.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use super::search::{ReturnOptions, check_charset, esearch, find, save, settle_saved};
use super::select::selected;
use crate::context::sort_cache::SortEntry;
use crate::mail::{sort_fields, subject};
use crate::proto::response::{CommandResult, Done, Untagged};
use crate::proto::{SearchKey, SortCommand, SortCriterion, SortKey};
use crate::session::Session;
use crate::store::{Access, FetchRequest};

pub async fn sort(s: &mut Session, command: SortCommand) -> CommandResult {
    let options = command.return_options.clone();
    let outcome = sort_and_answer(s, command).await;
    settle_saved(s, options.as_deref(), outcome)
}

async fn sort_and_answer(s: &mut Session, command: SortCommand) -> CommandResult {
    let returns = ReturnOptions::parse_optional(command.return_options.as_deref())?;
    check_charset(&command.charset)?;
    let mut found = matching(s, &command.criteria).await?;
    let selection = selected(s)?;
    // Only what this session knows is sorted, so that is what a kept
    // order is kept for: another session may know more of the same set.
    found.retain(|&(uid, _)| selection.seq_of(uid).is_some());
    let uids: Vec<u32> = found.iter().map(|&(uid, _)| uid).collect();
    let mailbox = (selection.mailbox, selection.uidvalidity);
    let order = match s.ctx.sort_cache.order(mailbox, &command.keys, &uids) {
        Some(order) => order,
        None => {
            let messages = in_order(entries(s, &found).await?, &command.keys);
            let order: Arc<[u32]> = messages.iter().map(|m| m.entry.uid).collect();
            s.ctx
                .sort_cache
                .keep_order(mailbox, &command.keys, &uids, &order);
            order
        }
    };
    let uid = command.uid;
    let selection = selected(s)?;
    let sorted: Vec<(u32, u64)> = order
        .iter()
        .filter_map(|&message_uid| {
            let modseq = found
                .binary_search_by_key(&message_uid, |&(uid, _)| uid)
                .map_or(0, |i| found[i].1);
            let number = if uid {
                message_uid
            } else {
                selection.seq_of(message_uid)?
            };
            Some((number, modseq))
        })
        .collect();
    if let Some(returns) = &returns {
        save(s, returns, &order);
    }
    let with_modseq = command.criteria.uses_modseq();
    let response = match returns {
        // RFC 5182 §2.1: SAVE alone answers with the tagged OK only.
        Some(returns) if returns.only_saves() => None,
        None => Some(Untagged::Sort {
            numbers: sorted.iter().map(|&(n, _)| n).collect(),
            modseq: sorted
                .iter()
                .map(|&(_, modseq)| modseq)
                .max()
                .filter(|_| with_modseq),
        }),
        Some(returns) => Some(Untagged::Esearch(esearch(
            s,
            uid,
            &returns,
            &sorted,
            with_modseq,
        ))),
    };
    if let Some(response) = response {
        s.send(response);
    }
    let verb = if uid { "UID SORT" } else { "SORT" };
    Ok(Done::ok(format!("{verb} completed")))
}

/// The messages matching `criteria` that this session knows, in sequence
/// order, with what SORT and THREAD read of them.
pub(super) async fn gather(s: &mut Session, criteria: &SearchKey) -> Result<Vec<Message>, Done> {
    let found = matching(s, criteria).await?;
    entries(s, &found).await
}

/// (UID, MODSEQ) of the messages matching `criteria`, ascending.
async fn matching(s: &mut Session, criteria: &SearchKey) -> Result<Vec<(u32, u64)>, Done> {
    if criteria.is_all() {
        // Every message the session knows: no store search needed (and
        // no MODSEQ, which only a MODSEQ criterion reports).
        return Ok(selected(s)?.uids.iter().map(|&uid| (uid, 0)).collect());
    }
    find(s, criteria).await
}

/// The messages `found` that this session knows, in sequence order, with
/// their sort fields: from the server's sort cache, and from the store for
/// the messages it does not hold yet.
async fn entries(s: &mut Session, found: &[(u32, u64)]) -> Result<Vec<Message>, Done> {
    let selection = selected(s)?;
    let key = (selection.mailbox, selection.uidvalidity);
    let uids: Vec<u32> = found.iter().map(|&(uid, _)| uid).collect();
    let (mut entries, missing) = s.ctx.sort_cache.lookup(key, &uids);
    if !missing.is_empty() {
        let loaded = load(s, missing).await?;
        let selection = selected(s)?;
        s.ctx.sort_cache.add(key, &loaded, &selection.uids);
        entries.extend(loaded);
        entries.sort_unstable_by_key(|e| e.uid);
    }
    let selection = selected(s)?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let seq = selection.seq_of(entry.uid)?;
            Some(Message { seq, entry })
        })
        .collect())
}

/// One message being sorted or threaded.
pub(super) struct Message {
    pub seq: u32,
    pub entry: Arc<SortEntry>,
}

impl Message {
    /// RFC 5256 DATE (and THREAD's sent date): the sent date, else
    /// INTERNALDATE, both in UTC.
    pub fn date(&self) -> i64 {
        self.entry.fields.sent_at.unwrap_or(self.entry.arrival)
    }
}

/// The entries of `uids` from the store, extracting the fields of the
/// messages stored before the fields were kept from their octets, and
/// keeping them in the store for next time. UIDs gone meanwhile are left
/// out.
async fn load(s: &mut Session, uids: Vec<u32>) -> Result<Vec<Arc<SortEntry>>, Done> {
    let mailbox = selected(s)?.mailbox;
    let rows = s
        .store(Access::Read, move |store| store.sort_rows(mailbox, &uids))
        .await?;
    let without: Vec<u32> = rows
        .iter()
        .filter(|r| r.fields.is_none())
        .map(|r| r.uid)
        .collect();
    let mut extracted = Vec::new();
    if !without.is_empty() {
        let request = FetchRequest {
            index: false,
            raw: true,
        };
        let fetched = s
            .store(Access::Read, move |store| {
                store.fetch(mailbox, &without, request)
            })
            .await?;
        extracted = fetched
            .into_iter()
            .map(|m| {
                (
                    m.uid,
                    sort_fields::extract(m.raw.as_deref().unwrap_or_default()),
                )
            })
            .collect();
        let keep = extracted.clone();
        // The answer does not depend on it: a failure is only logged.
        if let Err(refused) = s
            .store(Access::Write, move |store| {
                store.keep_sort_fields(mailbox, &keep)
            })
            .await
        {
            tracing::warn!(?refused, "could not keep the sort fields of older messages");
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let fields = match row.fields {
                Some(fields) => fields,
                // Gone between the two reads: not sorted.
                None => {
                    let i = extracted
                        .binary_search_by_key(&row.uid, |(uid, _)| *uid)
                        .ok()?;
                    std::mem::take(&mut extracted[i].1)
                }
            };
            Some(Arc::new(SortEntry {
                uid: row.uid,
                arrival: row.arrival,
                size: row.size,
                fields,
            }))
        })
        .collect())
}

/// The messages in the order of `keys` (RFC 5256: by each key in turn,
/// REVERSE turning one around, then by sequence number). Each message's
/// values are worked out once, so the comparisons are cheap.
fn in_order(messages: Vec<Message>, keys: &[SortKey]) -> Vec<Message> {
    let order = match keys {
        [key] => by_one_key(&messages, key),
        _ => by_keys(&messages, keys),
    };
    let mut slots: Vec<Option<Message>> = messages.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn directed(order: Ordering, key: &SortKey) -> Ordering {
    if key.reverse { order.reverse() } else { order }
}

/// The usual single key: sorted as numbers (a text by its rank, its first
/// sixteen folded octets), then the runs of texts of equal rank by their
/// whole text; ties by sequence number.
fn by_one_key(messages: &[Message], key: &SortKey) -> Vec<usize> {
    let values: Vec<Value<'_>> = messages.iter().map(|m| value(m, key.criterion)).collect();
    let mut order: Vec<(u128, u32, usize)> = values
        .iter()
        .zip(messages)
        .enumerate()
        .map(|(index, (value, m))| (value.rank(), m.seq, index))
        .collect();
    order.sort_unstable_by(|a, b| directed(a.0.cmp(&b.0), key).then(a.1.cmp(&b.1)));
    for run in order.chunk_by_mut(|a, b| a.0 == b.0) {
        // A run of one text (replies in a thread) is in order already.
        let one_text = |run: &[(u128, u32, usize)]| {
            run.windows(2)
                .all(|pair| values[pair[0].2] == values[pair[1].2])
        };
        if run.len() > 1 && matches!(values[run[0].2], Value::Text(_)) && !one_text(run) {
            run.sort_unstable_by(|a, b| {
                directed(values[a.2].cmp(&values[b.2]), key).then(a.1.cmp(&b.1))
            });
        }
    }
    order.into_iter().map(|(_, _, index)| index).collect()
}

/// Several keys: each message's values side by side.
fn by_keys(messages: &[Message], keys: &[SortKey]) -> Vec<usize> {
    let mut sortable: Vec<(Vec<Value<'_>>, u32, usize)> = messages
        .iter()
        .enumerate()
        .map(|(index, m)| {
            let values = keys.iter().map(|k| value(m, k.criterion)).collect();
            (values, m.seq, index)
        })
        .collect();
    sortable.sort_unstable_by(|(a, a_seq, _), (b, b_seq, _)| {
        a.iter()
            .zip(b)
            .zip(keys)
            .map(|((x, y), key)| directed(x.cmp(y), key))
            .find(|order| order.is_ne())
            .unwrap_or_else(|| a_seq.cmp(b_seq))
    });
    sortable.into_iter().map(|(_, _, index)| index).collect()
}

/// One message's value for one sort key.
enum Value<'a> {
    Number(i64),
    Text(CaseMapped<'a>),
}

impl Value<'_> {
    /// A number in the value's order: a number itself, a text its prefix
    /// (texts of equal rank still need comparing).
    fn rank(&self) -> u128 {
        match self {
            // Flipping the sign bit keeps the order of signed numbers.
            Value::Number(n) => u128::from((*n as u64) ^ (1 << 63)),
            Value::Text(text) => text.prefix,
        }
    }
}

impl Ord for Value<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            // One key gives one kind of value.
            (Value::Number(_), Value::Text(_)) => Ordering::Less,
            (Value::Text(_), Value::Number(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Value<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Value<'_> {}

fn value(m: &Message, criterion: SortCriterion) -> Value<'_> {
    use SortCriterion as S;
    let fields = &m.entry.fields;
    let text = |s| Value::Text(CaseMapped::new(s));
    match criterion {
        S::Arrival => Value::Number(m.entry.arrival),
        S::Date => Value::Number(m.date()),
        S::Size => Value::Number(i64::from(m.entry.size)),
        S::Subject => text(&fields.base_subject),
        S::From => text(&fields.from),
        S::To => text(&fields.to),
        S::Cc => text(&fields.cc),
        S::DisplayFrom => text(&fields.display_from),
        S::DisplayTo => text(&fields.display_to),
    }
}

/// Text under i;ascii-casemap, folded once so that comparing is
/// comparing octets, and its first sixteen octets as a number, so that
/// most comparisons end with one.
struct CaseMapped<'a> {
    prefix: u128,
    folded: Cow<'a, [u8]>,
}

impl<'a> CaseMapped<'a> {
    fn new(text: &'a str) -> CaseMapped<'a> {
        let folded = match subject::ascii_casemap(text) {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        };
        // Zero padding puts a shorter text first, as comparing them does.
        let mut prefix = [0u8; 16];
        for (slot, b) in prefix.iter_mut().zip(folded.iter()) {
            *slot = *b;
        }
        CaseMapped {
            prefix: u128::from_be_bytes(prefix),
            folded,
        }
    }
}

impl Ord for CaseMapped<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| self.folded.cmp(&other.folded))
    }
}

impl PartialOrd for CaseMapped<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal under i;ascii-casemap, as `cmp` says.
impl PartialEq for CaseMapped<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for CaseMapped<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The i;ascii-casemap collation (RFC 4790 §9.2): octets compared
    /// with ASCII letters upper-cased, everything else as it is.
    fn ascii_casemap(a: &str, b: &str) -> Ordering {
        CaseMapped::new(a).cmp(&CaseMapped::new(b))
    }

    fn message(seq: u32, subject: &str, sent_at: Option<i64>, from: &str) -> Message {
        Message {
            seq,
            entry: Arc::new(SortEntry {
                uid: seq * 10,
                arrival: 1000 - i64::from(seq),
                size: seq % 3,
                fields: crate::store::SortFields {
                    base_subject: subject.into(),
                    sent_at,
                    from: from.into(),
                    ..Default::default()
                },
            }),
        }
    }

    /// The single-key shortcut orders exactly as the general comparison.
    #[test]
    fn one_key_orders_as_several() {
        let subjects = [
            "a long subject that shares sixteen octets",
            "A LONG SUBJECT THAT SHARES SIXTEEN OCTETS",
            "a long subject that shares sixteen more",
            "a long subject th",
            "",
            "zebra",
            "Zebra",
            "_",
            "é",
        ];
        let messages: Vec<Message> = (0..40u32)
            .map(|i| {
                let sent = [
                    Some(-5),
                    None,
                    Some(0),
                    Some(i64::MIN),
                    Some(i64::MAX),
                    Some(7),
                ];
                message(
                    i + 1,
                    subjects[(i as usize * 7) % subjects.len()],
                    sent[(i as usize) % sent.len()],
                    subjects[(i as usize * 3) % subjects.len()],
                )
            })
            .collect();
        use SortCriterion as S;
        for criterion in [S::Arrival, S::Date, S::Size, S::Subject, S::From, S::To] {
            for reverse in [false, true] {
                let key = SortKey { criterion, reverse };
                assert_eq!(
                    by_one_key(&messages, &key),
                    by_keys(&messages, &[key, key]),
                    "{key:?}"
                );
            }
        }
    }

    #[test]
    fn ascii_casemap_folds_only_ascii_letters() {
        assert_eq!(ascii_casemap("abc", "ABC"), Ordering::Equal);
        assert_eq!(ascii_casemap("a", "B"), Ordering::Less);
        assert_eq!(ascii_casemap("Z", "a"), Ordering::Greater);
        assert_eq!(ascii_casemap("_", "a"), Ordering::Greater, "'_' > 'A'");
        assert_eq!(ascii_casemap("é", "É"), Ordering::Greater, "not folded");
        assert_eq!(ascii_casemap("", "a"), Ordering::Less);
        // The sixteen-octet prefix agrees with the whole text.
        let sixteen = "abcdefghijklmnop";
        assert_eq!(ascii_casemap(sixteen, "ABCDEFGHIJKLMNOPQ"), Ordering::Less);
        assert_eq!(
            ascii_casemap("abcdefghijklmnop\0", sixteen),
            Ordering::Greater
        );
        assert_eq!(
            ascii_casemap("abcdefghijklmnoz", "ABCDEFGHIJKLMNOPZZ"),
            Ordering::Greater
        );
        assert_eq!(ascii_casemap("abcdefgh", "ABCDEFGHI"), Ordering::Less);
        assert_eq!(ascii_casemap("Re", "re\u{1}"), Ordering::Less);
    }
}
