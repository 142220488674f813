//! SORT and UID SORT (RFC 5256 §3), with DISPLAYFROM/DISPLAYTO (RFC 5957)
//! and RETURN (ESORT, RFC 5267).
//!
//! The messages are found as SEARCH finds them, then ordered by the keys
//! stored with each message at APPEND (`store::SortFields`); messages
//! stored before those were kept get them from their octets here.

use std::cmp::Ordering;

use super::search::{ReturnOptions, check_charset, esearch, find, forget_saved, save, saves};
use super::select::selected;
use crate::mail::sort_fields;
use crate::proto::response::{CommandResult, Done, Untagged};
use crate::proto::{SearchKey, SortCommand, SortCriterion, SortKey};
use crate::session::Session;
use crate::store::{Access, FetchRequest, SortFields, SortRow};

pub async fn sort(s: &mut Session, command: SortCommand) -> CommandResult {
    let saving = saves(command.return_options.as_deref());
    let outcome = sort_and_answer(s, command).await;
    if saving && outcome.is_err() {
        forget_saved(s);
    }
    outcome
}

async fn sort_and_answer(s: &mut Session, command: SortCommand) -> CommandResult {
    let returns = ReturnOptions::parse_optional(command.return_options.as_deref())?;
    check_charset(&command.charset)?;
    let mut messages = gather(s, &command.criteria).await?;
    messages.sort_by(|a, b| compare(a, b, &command.keys));
    let uid = command.uid;
    let sorted: Vec<(u32, u64)> = messages
        .iter()
        .map(|m| (if uid { m.row.uid } else { m.seq }, m.modseq))
        .collect();
    if let Some(returns) = &returns {
        let uids: Vec<u32> = messages.iter().map(|m| m.row.uid).collect();
        save(s, returns, &uids);
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
    let found = find(s, criteria).await?;
    let mailbox = selected(s)?.mailbox;
    let uids: Vec<u32> = found.iter().map(|&(uid, _)| uid).collect();
    let rows = s
        .store(Access::Read, move |store| store.sort_rows(mailbox, &uids))
        .await?;
    let rows = with_fields(s, rows).await?;
    let selection = selected(s)?;
    Ok(rows
        .into_iter()
        .filter_map(|(row, fields)| {
            let seq = selection.seq_of(row.uid)?;
            let modseq = found
                .binary_search_by_key(&row.uid, |&(uid, _)| uid)
                .map_or(0, |i| found[i].1);
            Some(Message {
                seq,
                row,
                fields,
                modseq,
            })
        })
        .collect())
}

/// One message being sorted or threaded.
pub(super) struct Message {
    pub seq: u32,
    pub row: SortRow,
    pub fields: SortFields,
    pub modseq: u64,
}

impl Message {
    /// RFC 5256 DATE (and THREAD's sent date): the sent date, else
    /// INTERNALDATE, both in UTC.
    pub fn date(&self) -> i64 {
        self.fields.sent_at.unwrap_or(self.row.arrival)
    }
}

/// The rows with their fields, extracting them from the octets of the
/// messages stored before the fields were kept.
async fn with_fields(
    s: &mut Session,
    rows: Vec<SortRow>,
) -> Result<Vec<(SortRow, SortFields)>, Done> {
    let missing: Vec<u32> = rows
        .iter()
        .filter(|r| r.fields.is_none())
        .map(|r| r.uid)
        .collect();
    let mut extracted = Vec::new();
    if !missing.is_empty() {
        let mailbox = selected(s)?.mailbox;
        let request = FetchRequest {
            index: false,
            raw: true,
        };
        let fetched = s
            .store(Access::Read, move |store| {
                store.fetch(mailbox, &missing, request)
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
    }
    Ok(rows
        .into_iter()
        .filter_map(|mut row| {
            let fields = match row.fields.take() {
                Some(fields) => fields,
                // Gone between the two reads: not sorted.
                None => {
                    let i = extracted
                        .binary_search_by_key(&row.uid, |(uid, _)| *uid)
                        .ok()?;
                    std::mem::take(&mut extracted[i].1)
                }
            };
            Some((row, fields))
        })
        .collect())
}

/// RFC 5256: by each key in turn (REVERSE turning one around), then by
/// sequence number.
fn compare(a: &Message, b: &Message, keys: &[SortKey]) -> Ordering {
    keys.iter()
        .map(|key| {
            let order = compare_by(a, b, key.criterion);
            if key.reverse { order.reverse() } else { order }
        })
        .find(|order| order.is_ne())
        .unwrap_or_else(|| a.seq.cmp(&b.seq))
}

fn compare_by(a: &Message, b: &Message, criterion: SortCriterion) -> Ordering {
    use SortCriterion as S;
    let (x, y) = (&a.fields, &b.fields);
    match criterion {
        S::Arrival => a.row.arrival.cmp(&b.row.arrival),
        S::Date => a.date().cmp(&b.date()),
        S::Size => a.row.size.cmp(&b.row.size),
        S::Subject => ascii_casemap(&x.base_subject, &y.base_subject),
        S::From => ascii_casemap(&x.from, &y.from),
        S::To => ascii_casemap(&x.to, &y.to),
        S::Cc => ascii_casemap(&x.cc, &y.cc),
        S::DisplayFrom => ascii_casemap(&x.display_from, &y.display_from),
        S::DisplayTo => ascii_casemap(&x.display_to, &y.display_to),
    }
}

/// The i;ascii-casemap collation (RFC 4790 §9.2): octets compared with
/// ASCII letters upper-cased, everything else as it is.
fn ascii_casemap(a: &str, b: &str) -> Ordering {
    let folded = |s: &str| {
        s.bytes()
            .map(|b| b.to_ascii_uppercase())
            .collect::<Vec<u8>>()
    };
    folded(a).cmp(&folded(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_casemap_folds_only_ascii_letters() {
        assert_eq!(ascii_casemap("abc", "ABC"), Ordering::Equal);
        assert_eq!(ascii_casemap("a", "B"), Ordering::Less);
        assert_eq!(ascii_casemap("Z", "a"), Ordering::Greater);
        assert_eq!(ascii_casemap("_", "a"), Ordering::Greater, "'_' > 'A'");
        assert_eq!(ascii_casemap("é", "É"), Ordering::Greater, "not folded");
        assert_eq!(ascii_casemap("", "a"), Ordering::Less);
    }
}
