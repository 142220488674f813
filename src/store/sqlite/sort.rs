//! The stored SORT and THREAD fields of each message body (migration 8).

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::sort::{SortFields, SortRow};
use crate::store::{MailboxId, StoreResult};

/// Stores the fields of a body that has none yet.
pub fn insert(tx: &Connection, body: i64, fields: &SortFields) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO sort_fields (id, base_subject, subject_is_reply, sent_at, from_mailbox,
                                  to_mailbox, cc_mailbox, display_from, display_to,
                                  message_id, refs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        body,
        fields.base_subject,
        fields.subject_is_reply,
        fields.sent_at,
        fields.from,
        fields.to,
        fields.cc,
        fields.display_from,
        fields.display_to,
        fields.message_id,
        fields.references.join(" "),
    ])?;
    Ok(())
}

/// Stores the fields of bodies kept before migration 8, found by the UIDs
/// of `mailbox` they belong to.
pub fn keep(tx: &Connection, mailbox: MailboxId, fields: &[(u32, SortFields)]) -> StoreResult<()> {
    let mut body_of =
        tx.prepare_cached("SELECT body_id FROM messages WHERE mailbox_id = ?1 AND uid = ?2")?;
    for (uid, fields) in fields {
        let body: Option<i64> = body_of
            .query_row(params![mailbox, uid], |r| r.get(0))
            .optional()?;
        if let Some(body) = body {
            insert(tx, body, fields)?;
        }
    }
    Ok(())
}

/// The messages of `mailbox` among `uids`, in UID order, with their
/// fields when they were stored.
pub fn rows(tx: &Connection, mailbox: MailboxId, uids: &[u32]) -> StoreResult<Vec<SortRow>> {
    let (Some(&first), Some(&last)) = (uids.iter().min(), uids.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: HashSet<u32> = uids.iter().copied().collect();
    let mut statement = tx.prepare_cached(
        "SELECT m.uid, m.internal_date, m.size, f.base_subject, f.subject_is_reply, f.sent_at,
                f.from_mailbox, f.to_mailbox, f.cc_mailbox, f.display_from, f.display_to,
                f.message_id, f.refs
           FROM messages m LEFT JOIN sort_fields f ON f.id = m.body_id
          WHERE m.mailbox_id = ?1 AND m.uid BETWEEN ?2 AND ?3
          ORDER BY m.uid",
    )?;
    // The range keeps a SORT that only needs the newest messages (the
    // rest being cached) from reading the whole mailbox.
    let rows = statement.query_map(params![mailbox, first, last], row)?;
    let mut out = Vec::with_capacity(wanted.len());
    for row in rows {
        let row = row?;
        if wanted.contains(&row.uid) {
            out.push(row);
        }
    }
    Ok(out)
}

fn row(r: &Row) -> rusqlite::Result<SortRow> {
    let base_subject: Option<String> = r.get(3)?;
    let fields = match base_subject {
        None => None,
        Some(base_subject) => Some(SortFields {
            base_subject,
            subject_is_reply: r.get(4)?,
            sent_at: r.get(5)?,
            from: r.get(6)?,
            to: r.get(7)?,
            cc: r.get(8)?,
            display_from: r.get(9)?,
            display_to: r.get(10)?,
            message_id: r.get(11)?,
            references: r
                .get::<_, String>(12)?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }),
    };
    Ok(SortRow {
        uid: r.get(0)?,
        arrival: r.get(1)?,
        size: r.get(2)?,
        fields,
    })
}
