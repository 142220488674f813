//! SEARCH evaluation shared by the backends: text criteria are answered
//! first, each by one question to the backend's [`TextSource`] (an index
//! where it has one); then one pass over the mailbox's message rows
//! evaluates the whole criteria tree.

use std::collections::HashSet;
use std::ops::RangeInclusive;

use chrono::NaiveDate;

use super::{DateCmp, SearchQuery};
use crate::store::{StoreResult, internal_date};

/// One message row, as the evaluator sees it.
pub struct MessageRow {
    pub uid: u32,
    pub modseq: u64,
    flags: u8,
    keywords: String,
    internal_date: NaiveDate,
    sent_date: NaiveDate,
    /// The UTC date the message entered the mailbox.
    saved_date: NaiveDate,
    /// INTERNALDATE, seconds since the epoch.
    arrival: i64,
    size: u32,
}

impl MessageRow {
    /// A row from the stored columns: INTERNALDATE as seconds and zone
    /// offset in minutes, the Date: header's date as days since the epoch,
    /// the time the message entered the mailbox in seconds.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        uid: u32,
        modseq: u64,
        flags: u8,
        keywords: String,
        (arrival, offset_minutes): (i64, i32),
        sent_days: Option<i64>,
        added_at: i64,
        size: u32,
    ) -> MessageRow {
        let internal = internal_date(arrival, offset_minutes).date_naive();
        let epoch = NaiveDate::default();
        MessageRow {
            uid,
            modseq,
            flags,
            keywords,
            internal_date: internal,
            // Without a Date: header, INTERNALDATE stands in (as Dovecot does).
            sent_date: sent_days
                .and_then(|days| epoch.checked_add_signed(chrono::Duration::days(days)))
                .unwrap_or(internal),
            saved_date: chrono::DateTime::from_timestamp(added_at, 0)
                .unwrap_or_default()
                .date_naive(),
            arrival,
            size,
        }
    }
}

/// Which stored search text a criterion reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextColumn {
    Body,
    Headers,
    Both,
}

/// How a backend answers text criteria in one mailbox. Needles come
/// lower-cased; matching is by substring of the lower-cased text.
pub trait TextSource {
    /// UIDs whose `column` text contains `needle`.
    fn containing(&mut self, column: TextColumn, needle: &str) -> StoreResult<HashSet<u32>>;

    /// (UID, header text) of at least every message whose headers contain
    /// `needle`; [`header_lines_match`] then checks the one field.
    fn headers_containing(&mut self, needle: &str) -> StoreResult<Vec<(u32, String)>>;
}

/// The criteria with every text criterion replaced by its matching UIDs.
enum Compiled {
    All,
    And(Vec<Compiled>),
    Or(Box<Compiled>, Box<Compiled>),
    Not(Box<Compiled>),
    Uids(Vec<RangeInclusive<u32>>),
    Flag(u8),
    Keyword(String),
    InternalDate(DateCmp, NaiveDate),
    SentDate(DateCmp, NaiveDate),
    SavedDate(DateCmp, NaiveDate),
    Larger(u32),
    Smaller(u32),
    ArrivedBy(i64),
    Matches(HashSet<u32>),
    ModSeq(u64),
}

/// (UID, MODSEQ) of the `rows` matching `query`, in the rows' order.
pub fn evaluate(
    query: &SearchQuery,
    text: &mut impl TextSource,
    rows: impl IntoIterator<Item = StoreResult<MessageRow>>,
) -> StoreResult<Vec<(u32, u64)>> {
    let compiled = compile(text, query)?;
    let mut found = Vec::new();
    for row in rows {
        let row = row?;
        if matches(&compiled, &row) {
            found.push((row.uid, row.modseq));
        }
    }
    Ok(found)
}

fn compile(text: &mut impl TextSource, query: &SearchQuery) -> StoreResult<Compiled> {
    Ok(match query {
        SearchQuery::All => Compiled::All,
        SearchQuery::And(all) => Compiled::And(
            all.iter()
                .map(|q| compile(text, q))
                .collect::<StoreResult<Vec<_>>>()?,
        ),
        SearchQuery::Or(a, b) => {
            Compiled::Or(Box::new(compile(text, a)?), Box::new(compile(text, b)?))
        }
        SearchQuery::Not(q) => Compiled::Not(Box::new(compile(text, q)?)),
        SearchQuery::Uids(ranges) => Compiled::Uids(ranges.clone()),
        SearchQuery::Flag(bit) => Compiled::Flag(*bit),
        SearchQuery::Keyword(k) => Compiled::Keyword(k.to_lowercase()),
        SearchQuery::InternalDate(cmp, date) => Compiled::InternalDate(*cmp, *date),
        SearchQuery::SentDate(cmp, date) => Compiled::SentDate(*cmp, *date),
        SearchQuery::SavedDate(cmp, date) => Compiled::SavedDate(*cmp, *date),
        SearchQuery::Larger(n) => Compiled::Larger(*n),
        SearchQuery::Smaller(n) => Compiled::Smaller(*n),
        SearchQuery::ArrivedBy(at) => Compiled::ArrivedBy(*at),
        SearchQuery::ModSeq(n) => Compiled::ModSeq(*n),
        SearchQuery::Body(needle) => {
            Compiled::Matches(text.containing(TextColumn::Body, &needle.to_lowercase())?)
        }
        SearchQuery::Text(needle) => {
            Compiled::Matches(text.containing(TextColumn::Both, &needle.to_lowercase())?)
        }
        SearchQuery::Header(field, needle) => {
            let needle = needle.to_lowercase();
            let texts = text.headers_containing(&needle)?;
            Compiled::Matches(
                texts
                    .into_iter()
                    .filter(|(_, headers)| header_lines_match(headers, field, &needle))
                    .map(|(uid, _)| uid)
                    .collect(),
            )
        }
    })
}

/// Whether the stored header text (one `name: value` line per field) has
/// a `field` whose value contains `needle` (lower-case), ignoring case.
pub fn header_lines_match(headers: &str, field: &str, needle: &str) -> bool {
    let prefix = format!("{}: ", field.to_lowercase());
    headers.lines().any(|line| {
        line.len() >= prefix.len()
            && line.is_char_boundary(prefix.len())
            && line[..prefix.len()].eq_ignore_ascii_case(&prefix)
            && line[prefix.len()..].to_lowercase().contains(needle)
    })
}

fn matches(query: &Compiled, row: &MessageRow) -> bool {
    match query {
        Compiled::All => true,
        Compiled::And(all) => all.iter().all(|q| matches(q, row)),
        Compiled::Or(a, b) => matches(a, row) || matches(b, row),
        Compiled::Not(q) => !matches(q, row),
        Compiled::Uids(ranges) => ranges.iter().any(|r| r.contains(&row.uid)),
        Compiled::Flag(bit) => row.flags & bit != 0,
        Compiled::Keyword(k) => row
            .keywords
            .split_whitespace()
            .any(|have| have.to_lowercase() == *k),
        Compiled::InternalDate(cmp, date) => cmp.matches(row.internal_date, *date),
        Compiled::SentDate(cmp, date) => cmp.matches(row.sent_date, *date),
        Compiled::SavedDate(cmp, date) => cmp.matches(row.saved_date, *date),
        Compiled::Larger(n) => row.size > *n,
        Compiled::Smaller(n) => row.size < *n,
        Compiled::ArrivedBy(at) => row.arrival <= *at,
        Compiled::Matches(uids) => uids.contains(&row.uid),
        Compiled::ModSeq(n) => row.modseq >= *n,
    }
}
