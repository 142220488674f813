//! SEARCH evaluation. Text criteria are answered first, each by one query
//! (the FTS5 trigram index for needles of three or more characters in a
//! large mailbox, a scan of the mailbox's stored text otherwise); then one
//! pass over the mailbox's message rows evaluates the whole criteria tree.

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

/// Mailboxes with at most this many messages are searched by reading their
/// text: the FTS index covers every mailbox of every user, so a common word
/// matches far more rows in it than a small mailbox holds.
const SCAN_AT_MOST: u32 = 5000;

/// How text criteria are answered in one mailbox.
#[derive(Clone, Copy)]
struct TextSearch<'a> {
    tx: &'a Connection,
    mailbox: MailboxId,
    /// Whether the FTS index is worth asking (a large mailbox).
    large: bool,
}

impl TextSearch<'_> {
    fn uses_index(&self, needle: &str) -> bool {
        self.large && indexable(needle)
    }
}

fn compile(tx: &Connection, mailbox: MailboxId, query: &SearchQuery) -> StoreResult<Compiled> {
    // The mailbox's size only matters to text criteria.
    let large = has_text_criterion(query) && {
        let size: u32 = tx.query_row(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE mailbox_id = ?1 LIMIT ?2)",
            params![mailbox, SCAN_AT_MOST + 1],
            |r| r.get(0),
        )?;
        size > SCAN_AT_MOST
    };
    compile_with(TextSearch { tx, mailbox, large }, query)
}

fn has_text_criterion(query: &SearchQuery) -> bool {
    match query {
        SearchQuery::Body(_) | SearchQuery::Text(_) | SearchQuery::Header(..) => true,
        SearchQuery::And(all) => all.iter().any(has_text_criterion),
        SearchQuery::Or(a, b) => has_text_criterion(a) || has_text_criterion(b),
        SearchQuery::Not(q) => has_text_criterion(q),
        _ => false,
    }
}

fn compile_with(text: TextSearch<'_>, query: &SearchQuery) -> StoreResult<Compiled> {
    let compile_all = |queries: &[SearchQuery]| {
        queries
            .iter()
            .map(|q| compile_with(text, q))
            .collect::<StoreResult<Vec<_>>>()
    };
    Ok(match query {
        SearchQuery::All => Compiled::All,
        SearchQuery::And(all) => Compiled::And(compile_all(all)?),
        SearchQuery::Or(a, b) => Compiled::Or(
            Box::new(compile_with(text, a)?),
            Box::new(compile_with(text, b)?),
        ),
        SearchQuery::Not(q) => Compiled::Not(Box::new(compile_with(text, q)?)),
        SearchQuery::Uids(ranges) => Compiled::Uids(ranges.clone()),
        SearchQuery::Flag(bit) => Compiled::Flag(*bit),
        SearchQuery::Keyword(k) => Compiled::Keyword(k.to_lowercase()),
        SearchQuery::InternalDate(cmp, date) => Compiled::InternalDate(*cmp, *date),
        SearchQuery::SentDate(cmp, date) => Compiled::SentDate(*cmp, *date),
        SearchQuery::Larger(n) => Compiled::Larger(*n),
        SearchQuery::Smaller(n) => Compiled::Smaller(*n),
        SearchQuery::ModSeq(n) => Compiled::ModSeq(*n),
        SearchQuery::Body(needle) => {
            Compiled::Matches(text_matches(text, TextColumn::Body, needle)?)
        }
        SearchQuery::Text(needle) => {
            Compiled::Matches(text_matches(text, TextColumn::Both, needle)?)
        }
        SearchQuery::Header(field, needle) => {
            Compiled::Matches(header_matches(text, field, needle)?)
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

/// (UID, text) of this mailbox's messages, narrowed by the index when it
/// is used; the caller checks the text itself.
fn texts(
    search: TextSearch<'_>,
    column: TextColumn,
    needle: &str,
) -> StoreResult<Vec<(u32, String)>> {
    let text = column.parts().1;
    let sql = if search.uses_index(needle) {
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
    let mut stmt = search.tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![search.mailbox, phrase(column, needle)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn text_matches(
    search: TextSearch<'_>,
    column: TextColumn,
    needle: &str,
) -> StoreResult<HashSet<u32>> {
    let needle = needle.to_lowercase();
    if search.uses_index(&needle) {
        // The index answers exactly: no text needs to be read.
        let mut stmt = search.tx.prepare_cached(
            "SELECT m.uid FROM search_text s JOIN messages m ON m.body_id = s.rowid
              WHERE search_text MATCH ?2 AND m.mailbox_id = ?1",
        )?;
        let rows = stmt.query_map(params![search.mailbox, phrase(column, &needle)], |r| {
            r.get(0)
        })?;
        return Ok(rows.collect::<Result<_, _>>()?);
    }
    Ok(texts(search, column, &needle)?
        .into_iter()
        .filter(|(_, text)| text.to_lowercase().contains(&needle))
        .map(|(uid, _)| uid)
        .collect())
}

/// Messages with a header `field` whose decoded value contains `needle`.
fn header_matches(search: TextSearch<'_>, field: &str, needle: &str) -> StoreResult<HashSet<u32>> {
    let needle = needle.to_lowercase();
    let prefix = format!("{}: ", field.to_lowercase());
    Ok(texts(search, TextColumn::Headers, &needle)?
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Synchronous;
    use crate::store::sqlite::SqliteStore;

    /// The FTS path (large mailboxes) and the scan path (small ones) find
    /// the same messages, whatever the needle.
    #[test]
    fn index_and_scan_agree() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db"), Synchronous::Normal).unwrap();
        let user = store.create_user("u", "h").unwrap();
        let inbox = MailboxName::new("INBOX").unwrap();
        let other = store.create_user("v", "h").unwrap();
        for (owner, text) in [
            (
                user,
                "Subject: Budget review\r\nFrom: Jürgen <j@x.de>\r\n\r\nquarterly numbers\r\n",
            ),
            (user, "Subject: lunch\r\n\r\nthe BUDGET is fine\r\n"),
            (
                user,
                "Subject: =?utf-8?q?Caf=C3=A9?=\r\n\r\nno match here\r\n",
            ),
            (other, "Subject: budget\r\n\r\nbudget budget\r\n"),
        ] {
            let message = crate::mail::new_message(
                text.as_bytes(),
                Flags::default(),
                chrono::Utc::now().fixed_offset(),
            );
            store.append(owner, &inbox, message).unwrap();
        }
        let mailbox = store.select(user, &inbox, false).unwrap().id;
        let queries = [
            SearchQuery::Text("budget".into()),
            SearchQuery::Body("budget".into()),
            SearchQuery::Text("quarterly numbers".into()),
            SearchQuery::Header("subject".into(), "budget".into()),
            SearchQuery::Header("subject".into(), "café".into()),
            SearchQuery::Header("from".into(), "jürgen".into()),
            SearchQuery::Body("bu".into()),
            SearchQuery::Text("nothing like it".into()),
        ];
        store
            .read(|tx| {
                for query in &queries {
                    let run = |large| {
                        let text = TextSearch { tx, mailbox, large };
                        let compiled = compile_with(text, query).unwrap();
                        let Compiled::Matches(mut uids) = compiled else {
                            panic!("text query")
                        };
                        let mut uids: Vec<u32> = uids.drain().collect();
                        uids.sort_unstable();
                        uids
                    };
                    assert_eq!(run(true), run(false), "{query:?}");
                }
                assert_eq!(
                    {
                        let text = TextSearch {
                            tx,
                            mailbox,
                            large: true,
                        };
                        match compile_with(text, &queries[0]).unwrap() {
                            Compiled::Matches(uids) => uids.len(),
                            _ => 0,
                        }
                    },
                    2,
                    "only this mailbox's messages"
                );
                Ok(())
            })
            .unwrap();
    }
}
