//! SEARCH on PostgreSQL: text criteria are `LIKE '%needle%'` on the
//! search text, stored lower-cased (folded at APPEND as Rust folds it), so
//! `pg_trgm`'s GIN indexes answer them at index speed with the same
//! answers as SQLite's trigram index; the shared evaluator
//! (`store::search::evaluate`) does the rest over the message rows.

use std::collections::HashSet;

use super::statements::Tx;

use super::error;
use crate::store::search::{MessageRow, TextColumn, TextSource, evaluate};
use crate::store::*;

pub fn search(
    tx: &mut Tx,
    mailbox: MailboxId,
    query: &SearchQuery,
) -> StoreResult<Vec<(u32, u64)>> {
    let rows = tx
        .query(
            "SELECT uid, modseq, flags, keywords, internal_date, internal_tz, sent_date,
                    added_at, size
               FROM messages WHERE mailbox_id = $1 ORDER BY uid",
            &[&mailbox],
        )
        .map_err(error)?;
    let rows = rows.iter().map(|r| {
        Ok(MessageRow::new(
            r.get::<_, i64>(0) as u32,
            r.get::<_, i64>(1) as u64,
            r.get::<_, i16>(2) as u8,
            r.get(3),
            (r.get(4), r.get(5)),
            r.get::<_, Option<i32>>(6).map(i64::from),
            r.get(7),
            r.get::<_, i64>(8) as u32,
        ))
    });
    evaluate(query, &mut TextSearch { tx, mailbox }, rows)
}

struct TextSearch<'a, 'b> {
    tx: &'a mut Tx<'b>,
    mailbox: MailboxId,
}

/// `needle` as a LIKE pattern matching any text that contains it.
fn containing_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The stored text is NUL-free (PostgreSQL text holds none): so are the
/// needles compared with it.
fn stored_form(needle: &str) -> String {
    needle.replace('\0', "")
}

impl TextSource for TextSearch<'_, '_> {
    fn containing(&mut self, column: TextColumn, needle: &str) -> StoreResult<HashSet<u32>> {
        let condition = match column {
            TextColumn::Body => "s.body LIKE $2",
            TextColumn::Headers => "s.headers LIKE $2",
            // SQLite searches headers and body joined by a newline; only
            // a needle with a newline can tell, and only it pays for the
            // join (which no index serves).
            TextColumn::Both if needle.contains('\n') => "s.headers || E'\\n' || s.body LIKE $2",
            TextColumn::Both => "(s.headers LIKE $2 OR s.body LIKE $2)",
        };
        let rows = self
            .tx
            .query(
                &format!(
                    "SELECT m.uid FROM messages m JOIN search_text s ON s.id = m.body_id
                      WHERE m.mailbox_id = $1 AND {condition}"
                ),
                &[&self.mailbox, &containing_pattern(&stored_form(needle))],
            )
            .map_err(error)?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u32).collect())
    }

    fn headers_containing(&mut self, needle: &str) -> StoreResult<Vec<(u32, String)>> {
        let rows = self
            .tx
            .query(
                "SELECT m.uid, s.headers FROM messages m JOIN search_text s ON s.id = m.body_id
                  WHERE m.mailbox_id = $1 AND s.headers LIKE $2",
                &[&self.mailbox, &containing_pattern(&stored_form(needle))],
            )
            .map_err(error)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u32, r.get(1)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(containing_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(containing_pattern(""), "%%");
    }
}
