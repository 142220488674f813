//! SEARCH evaluation. Text criteria are answered first, each by one query
//! (the FTS5 trigram index for needles of three or more characters when it
//! is selective, a scan of the mailbox's stored text otherwise); then one
//! pass over the mailbox's message rows evaluates the whole criteria tree.

use std::collections::HashSet;

use chrono::NaiveDate;
use rusqlite::{Connection, params};

use crate::store::internal_date;
use crate::store::*;

/// One message row, as the evaluator sees it.
struct Row {
    uid: u32,
    flags: u8,
    keywords: String,
    internal_date: NaiveDate,
    sent_date: NaiveDate,
    /// The UTC date the message entered the mailbox.
    saved_date: NaiveDate,
    /// INTERNALDATE, seconds since the epoch.
    arrival: i64,
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
    SavedDate(DateCmp, NaiveDate),
    Larger(u32),
    Smaller(u32),
    ArrivedBy(i64),
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
                m.modseq, m.added_at
           FROM messages m
          WHERE m.mailbox_id = ?1 ORDER BY m.uid",
    )?;
    let epoch = NaiveDate::default();
    let rows = stmt.query_map([mailbox], |r| {
        let arrival: i64 = r.get(3)?;
        let internal = internal_date(arrival, r.get(4)?).date_naive();
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
            arrival,
            saved_date: chrono::DateTime::from_timestamp(r.get(8)?, 0)
                .unwrap_or_default()
                .date_naive(),
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

/// The FTS index covers every mailbox of every user, so a common word can
/// match far more rows in it than the searched mailbox holds. The index is
/// used while it matches at most this many rows per message of the
/// mailbox: walking an index row costs a fraction of reading and checking
/// a message's text, so past that a scan of the mailbox is cheaper.
const INDEX_ROWS_PER_MESSAGE: u64 = 8;

/// How text criteria are answered in one mailbox.
#[derive(Clone, Copy)]
struct TextSearch<'a> {
    tx: &'a Connection,
    mailbox: MailboxId,
    /// The most index rows worth walking before scanning instead.
    index_budget: u64,
}

impl TextSearch<'_> {
    /// The ids of the message texts the index matches for `needle` (a JSON
    /// array, for `json_each`), or `None` when the needle is too short for
    /// the index or matches more than the budget: then scan the mailbox.
    fn indexed(&self, column: TextColumn, needle: &str) -> StoreResult<Option<String>> {
        if !indexable(needle) {
            return Ok(None);
        }
        let mut stmt = self
            .tx
            .prepare_cached("SELECT rowid FROM search_text WHERE search_text MATCH ?1 LIMIT ?2")?;
        let limit = i64::try_from(self.index_budget.saturating_add(1)).unwrap_or(i64::MAX);
        let ids = stmt
            .query_map(params![phrase(column, needle), limit], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        if ids.len() as u64 > self.index_budget {
            return Ok(None);
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        Ok(Some(format!("[{}]", list.join(","))))
    }
}

fn compile(tx: &Connection, mailbox: MailboxId, query: &SearchQuery) -> StoreResult<Compiled> {
    // The mailbox's size only matters to text criteria.
    let index_budget = if has_text_criterion(query) {
        let size: u64 = tx.query_row(
            "SELECT count(*) FROM messages WHERE mailbox_id = ?1",
            [mailbox],
            |r| r.get(0),
        )?;
        size * INDEX_ROWS_PER_MESSAGE
    } else {
        0
    };
    compile_with(
        TextSearch {
            tx,
            mailbox,
            index_budget,
        },
        query,
    )
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
        SearchQuery::SavedDate(cmp, date) => Compiled::SavedDate(*cmp, *date),
        SearchQuery::Larger(n) => Compiled::Larger(*n),
        SearchQuery::Smaller(n) => Compiled::Smaller(*n),
        SearchQuery::ArrivedBy(at) => Compiled::ArrivedBy(*at),
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
        Compiled::SavedDate(cmp, date) => cmp.matches(row.saved_date, *date),
        Compiled::Larger(n) => row.size > *n,
        Compiled::Smaller(n) => row.size < *n,
        Compiled::ArrivedBy(at) => row.arrival <= *at,
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
/// is selective; the caller checks the text itself.
fn texts(
    search: TextSearch<'_>,
    column: TextColumn,
    needle: &str,
) -> StoreResult<Vec<(u32, String)>> {
    let text = column.parts().1;
    let indexed = search.indexed(column, needle)?;
    let narrowed = match indexed {
        Some(_) => "m.body_id IN (SELECT value FROM json_each(?2))",
        None => "?2 IS NULL",
    };
    let mut stmt = search.tx.prepare_cached(&format!(
        "SELECT m.uid, {text} FROM messages m JOIN search_text s ON s.rowid = m.body_id
          WHERE m.mailbox_id = ?1 AND {narrowed}"
    ))?;
    let rows = stmt.query_map(params![search.mailbox, indexed], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    let mut texts = rows.collect::<Result<Vec<_>, _>>()?;
    texts.extend(waiting_texts(search, column)?);
    Ok(texts)
}

/// (UID, text) of this mailbox's messages whose text is not in the index
/// yet (`indexer.rs`): at most a few seconds' worth of new mail.
fn waiting_texts(search: TextSearch<'_>, column: TextColumn) -> StoreResult<Vec<(u32, String)>> {
    let text = column.parts().1;
    let mut stmt = search.tx.prepare_cached(&format!(
        "SELECT m.uid, {text} FROM search_pending s JOIN messages m ON m.body_id = s.id
          WHERE m.mailbox_id = ?1"
    ))?;
    let rows = stmt.query_map([search.mailbox], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn text_matches(
    search: TextSearch<'_>,
    column: TextColumn,
    needle: &str,
) -> StoreResult<HashSet<u32>> {
    let needle = needle.to_lowercase();
    let containing = |texts: Vec<(u32, String)>| {
        texts
            .into_iter()
            .filter(|(_, text)| text.to_lowercase().contains(&needle))
            .map(|(uid, _)| uid)
    };
    if let Some(ids) = search.indexed(column, &needle)? {
        // The index answers exactly for the text it holds.
        let mut stmt = search.tx.prepare_cached(
            "SELECT uid FROM messages
              WHERE mailbox_id = ?1 AND body_id IN (SELECT value FROM json_each(?2))",
        )?;
        let rows = stmt.query_map(params![search.mailbox, ids], |r| r.get(0))?;
        let mut uids = rows.collect::<Result<HashSet<u32>, _>>()?;
        uids.extend(containing(waiting_texts(search, column)?));
        return Ok(uids);
    }
    Ok(containing(texts(search, column, &needle)?).collect())
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
    use crate::store::Synchronous;
    use crate::store::sqlite::SqliteStore;

    /// A word common in other users' mail is not worth the index for a
    /// small mailbox; a rare one is.
    #[test]
    fn the_index_is_used_only_when_selective() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db"), Synchronous::Normal).unwrap();
        let inbox = MailboxName::new("INBOX").unwrap();
        let append = |user, text: &str| {
            let message = crate::mail::new_message(
                text.as_bytes(),
                Flags::default(),
                chrono::Utc::now().fixed_offset(),
            );
            store.append(user, &inbox, message).unwrap();
        };
        let user = store.create_user("u", "h").unwrap();
        append(user, "Subject: invoice\r\n\r\nzebra crossing\r\n");
        let other = store.create_user("v", "h").unwrap();
        for _ in 0..INDEX_ROWS_PER_MESSAGE + 1 {
            append(other, "Subject: invoice\r\n\r\nnothing rare\r\n");
        }
        store.index_search_text().unwrap();
        let mailbox = store.select(user, &inbox, false).unwrap().id;
        store
            .read(|tx| {
                let search = TextSearch {
                    tx,
                    mailbox,
                    index_budget: INDEX_ROWS_PER_MESSAGE,
                };
                assert_eq!(search.indexed(TextColumn::Both, "invoice")?, None);
                assert!(search.indexed(TextColumn::Body, "zebra")?.is_some());
                assert_eq!(search.indexed(TextColumn::Body, "ze")?, None);
                // Either way the answer is this mailbox's message only.
                for needle in ["invoice", "zebra"] {
                    let uids = text_matches(search, TextColumn::Both, needle)?;
                    assert_eq!(uids.len(), 1, "{needle}");
                }
                Ok(())
            })
            .unwrap();
    }

    /// The index path and the scan path find the same messages, whatever
    /// the needle, with some text indexed and some still waiting for the
    /// indexer, and again with everything indexed.
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
            if owner == other {
                store.index_search_text().unwrap();
            }
        }
        let late = "Subject: late budget\r\n\r\nnot indexed yet\r\n";
        let message = crate::mail::new_message(
            late.as_bytes(),
            Flags::default(),
            chrono::Utc::now().fixed_offset(),
        );
        store.append(user, &inbox, message).unwrap();
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
        let check = || {
            store.read(|tx| {
                for query in &queries {
                    let run = |index_budget| {
                        let text = TextSearch {
                            tx,
                            mailbox,
                            index_budget,
                        };
                        let compiled = compile_with(text, query).unwrap();
                        let Compiled::Matches(mut uids) = compiled else {
                            panic!("text query")
                        };
                        let mut uids: Vec<u32> = uids.drain().collect();
                        uids.sort_unstable();
                        uids
                    };
                    assert_eq!(run(u64::MAX), run(0), "{query:?}");
                }
                assert_eq!(
                    {
                        let text = TextSearch {
                            tx,
                            mailbox,
                            index_budget: u64::MAX,
                        };
                        match compile_with(text, &queries[0]).unwrap() {
                            Compiled::Matches(uids) => uids.len(),
                            _ => 0,
                        }
                    },
                    3,
                    "this mailbox's messages, the waiting one included"
                );
                Ok(())
            })
        };
        check().unwrap();
        store.index_search_text().unwrap();
        check().unwrap();
    }
}
