//! SEARCH on SQLite: text criteria are answered by the FTS5 trigram index
//! for needles of three or more characters when it is selective, by a
//! scan of the mailbox's stored text otherwise; the shared evaluator
//! (`store::search::evaluate`) does the rest over the message rows.

use std::collections::HashSet;

use rusqlite::{Connection, params};

use crate::store::search::{MessageRow, TextColumn, TextSource, evaluate};
use crate::store::*;

pub fn search(
    tx: &Connection,
    mailbox: MailboxId,
    query: &SearchQuery,
) -> StoreResult<Vec<(u32, u64)>> {
    search_with(tx, mailbox, query, text_search(tx, mailbox, query)?)
}

fn search_with(
    tx: &Connection,
    mailbox: MailboxId,
    query: &SearchQuery,
    mut text: TextSearch<'_>,
) -> StoreResult<Vec<(u32, u64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, m.internal_tz,
                m.sent_date, m.added_at, m.size
           FROM messages m
          WHERE m.mailbox_id = ?1 ORDER BY m.uid",
    )?;
    let rows = stmt.query_map([mailbox], |r| {
        Ok(MessageRow::new(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            (r.get(4)?, r.get(5)?),
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ))
    })?;
    evaluate(query, &mut text, rows.map(|r| r.map_err(StoreError::from)))
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

impl TextSource for TextSearch<'_> {
    fn containing(&mut self, column: TextColumn, needle: &str) -> StoreResult<HashSet<u32>> {
        text_matches(*self, column, needle)
    }

    fn headers_containing(&mut self, needle: &str) -> StoreResult<Vec<(u32, String)>> {
        texts(*self, TextColumn::Headers, needle)
    }
}

fn text_search<'a>(
    tx: &'a Connection,
    mailbox: MailboxId,
    query: &SearchQuery,
) -> StoreResult<TextSearch<'a>> {
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
    Ok(TextSearch {
        tx,
        mailbox,
        index_budget,
    })
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

/// The FTS5 column filter and the stored columns to scan.
fn parts(column: TextColumn) -> (&'static str, &'static str) {
    match column {
        TextColumn::Body => ("body : ", "s.body"),
        TextColumn::Headers => ("headers : ", "s.headers"),
        TextColumn::Both => ("", "s.headers || char(10) || s.body"),
    }
}

/// The quoted FTS5 phrase for a needle (quotes doubled), with a column
/// filter. With the trigram tokenizer a phrase matches any text containing
/// the needle, case-insensitively.
fn phrase(column: TextColumn, needle: &str) -> String {
    format!("{}\"{}\"", parts(column).0, needle.replace('"', "\"\""))
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
    let text = parts(column).1;
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
    let text = parts(column).1;
    let mut stmt = search.tx.prepare_cached(&format!(
        "SELECT m.uid, {text} FROM search_pending s JOIN messages m ON m.body_id = s.id
          WHERE m.mailbox_id = ?1"
    ))?;
    let rows = stmt.query_map([search.mailbox], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// UIDs whose text contains `needle` (lower-case).
fn text_matches(
    search: TextSearch<'_>,
    column: TextColumn,
    needle: &str,
) -> StoreResult<HashSet<u32>> {
    let containing = |texts: Vec<(u32, String)>| {
        texts
            .into_iter()
            .filter(|(_, text)| text.to_lowercase().contains(needle))
            .map(|(uid, _)| uid)
    };
    if let Some(ids) = search.indexed(column, needle)? {
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
    Ok(containing(texts(search, column, needle)?).collect())
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
                        let found = search_with(tx, mailbox, query, text).unwrap();
                        found.into_iter().map(|(uid, _)| uid).collect::<Vec<u32>>()
                    };
                    assert_eq!(run(u64::MAX), run(0), "{query:?}");
                }
                let text = TextSearch {
                    tx,
                    mailbox,
                    index_budget: u64::MAX,
                };
                assert_eq!(
                    search_with(tx, mailbox, &queries[0], text)?.len(),
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
