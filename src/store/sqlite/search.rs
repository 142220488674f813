//! SEARCH evaluation. Text criteria are answered first, each by one query
//! (the FTS5 trigram index for needles of three or more characters, a scan
//! of the stored text for shorter ones); then one pass over the mailbox's
//! message rows evaluates the whole criteria tree.

use std::collections::HashSet;

use chrono::NaiveDate;
use rusqlite::{Connection, params};

use super::messages::internal_date;
use crate::store::*;

/// One message row, as the evaluator sees it.
struct Row {
    uid: u32,
    flags: u8,
    keywords: String,
    internal_date: NaiveDate,
    sent_date: NaiveDate,
    size: u32,
    modseq: u64,
}

/// The criteria with every text criterion replaced by its matching UIDs.
enum Compiled {
    All,
    And(Vec<Compiled>),
    Or(Box<Compiled>, Box<Compiled>),
    Not(Box<Compiled>),
    Uids(Vec<std::ops::RangeInclusive<u32>>),
    Flag(u8),
    Keyword(String),
    InternalDate(DateCmp, NaiveDate),
    SentDate(DateCmp, NaiveDate),
    Larger(u32),
    Smaller(u32),
    Matches(HashSet<u32>),
    ModSeq(u64),
}

pub fn search(
    tx: &Connection,
    mailbox: MailboxId,
    query: &SearchQuery,
) -> StoreResult<Vec<(u32, u64)>> {
    let compiled = compile(tx, mailbox, query)?;
    let mut stmt = tx.prepare_cached(
        "SELECT m.uid, m.flags, m.keywords, m.internal_date, m.internal_tz, m.sent_date, m.size,
                m.modseq
           FROM messages m
          WHERE m.mailbox_id = ?1 ORDER BY m.uid",
    )?;
    let epoch = NaiveDate::default();
    let rows = stmt.query_map([mailbox], |r| {
        let internal = internal_date(r.get(3)?, r.get(4)?).date_naive();
        let sent: Option<i64> = r.get(5)?;
        Ok(Row {
            uid: r.get(0)?,
            flags: r.get(1)?,
            keywords: r.get(2)?,
            internal_date: internal,
            // Without a Date: header, INTERNALDATE stands in (as Dovecot does).
            sent_date: sent
                .and_then(|days| epoch.checked_add_signed(chrono::Duration::days(days)))
                .unwrap_or(internal),
            size: r.get(6)?,
            modseq: r.get(7)?,
        })
    })?;
    let mut found = Vec::new();
    for row in rows {
        let row = row?;
        if matches(&compiled, &row) {
            found.push((row.uid, row.modseq));
        }
    }
    Ok(found)
}

fn compile(tx: &Connection, mailbox: MailboxId, query: &SearchQuery) -> StoreResult<Compiled> {
    let compile_all = |queries: &[SearchQuery]| {
        queries
            .iter()
            .map(|q| compile(tx, mailbox, q))
            .collect::<StoreResult<Vec<_>>>()
    };
    Ok(match query {
        SearchQuery::All => Compiled::All,
        SearchQuery::And(all) => Compiled::And(compile_all(all)?),
        SearchQuery::Or(a, b) => Compiled::Or(
            Box::new(compile(tx, mailbox, a)?),
            Box::new(compile(tx, mailbox, b)?),
        ),
        SearchQuery::Not(q) => Compiled::Not(Box::new(compile(tx, mailbox, q)?)),
        SearchQuery::Uids(ranges) => Compiled::Uids(ranges.clone()),
        SearchQuery::Flag(bit) => Compiled::Flag(*bit),
        SearchQuery::Keyword(k) => Compiled::Keyword(k.to_lowercase()),
        SearchQuery::InternalDate(cmp, date) => Compiled::InternalDate(*cmp, *date),
        SearchQuery::SentDate(cmp, date) => Compiled::SentDate(*cmp, *date),
        SearchQuery::Larger(n) => Compiled::Larger(*n),
        SearchQuery::Smaller(n) => Compiled::Smaller(*n),
        SearchQuery::ModSeq(n) => Compiled::ModSeq(*n),
        SearchQuery::Body(needle) => {
            Compiled::Matches(text_matches(tx, mailbox, TextColumn::Body, needle)?)
        }
        SearchQuery::Text(needle) => {
            Compiled::Matches(text_matches(tx, mailbox, TextColumn::Both, needle)?)
        }
        SearchQuery::Header(field, needle) => {
            Compiled::Matches(header_matches(tx, mailbox, field, needle)?)
        }
    })
}

fn matches(query: &Compiled, row: &Row) -> bool {
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
        Compiled::Larger(n) => row.size > *n,
        Compiled::Smaller(n) => row.size < *n,
        Compiled::Matches(uids) => uids.contains(&row.uid),
        Compiled::ModSeq(n) => row.modseq >= *n,
    }
}

#[derive(Clone, Copy)]
enum TextColumn {
    Body,
    Headers,
    Both,
}

impl TextColumn {
    /// The FTS5 column filter and the stored columns to scan.
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            TextColumn::Body => ("body : ", "s.body"),
            TextColumn::Headers => ("headers : ", "s.headers"),
            TextColumn::Both => ("", "s.headers || char(10) || s.body"),
        }
    }
}

/// The quoted FTS5 phrase for a needle (quotes doubled), with a column
/// filter. With the trigram tokenizer a phrase matches any text containing
/// the needle, case-insensitively.
fn phrase(column: TextColumn, needle: &str) -> String {
    format!("{}\"{}\"", column.parts().0, needle.replace('"', "\"\""))
}

/// The trigram index needs at least three characters.
fn indexable(needle: &str) -> bool {
    needle.chars().count() >= 3
}

/// (UID, text) of this mailbox's messages, narrowed by the index when the
/// needle allows it; the caller checks the text itself.
fn texts(
    tx: &Connection,
    mailbox: MailboxId,
    column: TextColumn,
    needle: &str,
) -> StoreResult<Vec<(u32, String)>> {
    let text = column.parts().1;
    let sql = if indexable(needle) {
        format!(
            "SELECT m.uid, {text} FROM search_text s JOIN messages m ON m.body_id = s.rowid
              WHERE search_text MATCH ?2 AND m.mailbox_id = ?1"
        )
    } else {
        format!(
            "SELECT m.uid, {text} FROM messages m JOIN search_text s ON s.rowid = m.body_id
              WHERE m.mailbox_id = ?1 AND ?2 IS NOT NULL"
        )
    };
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![mailbox, phrase(column, needle)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn text_matches(
    tx: &Connection,
    mailbox: MailboxId,
    column: TextColumn,
    needle: &str,
) -> StoreResult<HashSet<u32>> {
    let needle = needle.to_lowercase();
    if indexable(&needle) {
        // The index answers exactly: no text needs to be read.
        let mut stmt = tx.prepare_cached(
            "SELECT m.uid FROM search_text s JOIN messages m ON m.body_id = s.rowid
              WHERE search_text MATCH ?2 AND m.mailbox_id = ?1",
        )?;
        let rows = stmt.query_map(params![mailbox, phrase(column, &needle)], |r| r.get(0))?;
        return Ok(rows.collect::<Result<_, _>>()?);
    }
    Ok(texts(tx, mailbox, column, &needle)?
        .into_iter()
        .filter(|(_, text)| text.to_lowercase().contains(&needle))
        .map(|(uid, _)| uid)
        .collect())
}

/// Messages with a header `field` whose decoded value contains `needle`.
fn header_matches(
    tx: &Connection,
    mailbox: MailboxId,
    field: &str,
    needle: &str,
) -> StoreResult<HashSet<u32>> {
    let needle = needle.to_lowercase();
    let prefix = format!("{}: ", field.to_lowercase());
    Ok(texts(tx, mailbox, TextColumn::Headers, &needle)?
        .into_iter()
        .filter(|(_, headers)| {
            headers.lines().any(|line| {
                line.len() >= prefix.len()
                    && line.is_char_boundary(prefix.len())
                    && line[..prefix.len()].eq_ignore_ascii_case(&prefix)
                    && line[prefix.len()..].to_lowercase().contains(&needle)
            })
        })
        .map(|(uid, _)| uid)
        .collect())
}
