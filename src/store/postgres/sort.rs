//! The stored SORT and THREAD fields of each message body.

use std::collections::HashSet;

use ::postgres::Row;

use super::statements::Tx;

use super::error;
use crate::store::sort::{SortFields, SortRow};
use crate::store::{MailboxId, StoreResult};

/// Stores the fields of a body that has none yet. PostgreSQL text holds
/// no NUL, which a header can carry: it is dropped.
pub fn insert(tx: &mut Tx, body: i64, fields: &SortFields) -> StoreResult<()> {
    let text = |s: &str| s.replace('\0', "");
    tx.execute(
        "INSERT INTO sort_fields (id, base_subject, subject_is_reply, sent_at, from_mailbox,
                                  to_mailbox, cc_mailbox, display_from, display_to, message_id, refs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
        &[
            &body,
            &text(&fields.base_subject),
            &fields.subject_is_reply,
            &fields.sent_at,
            &text(&fields.from),
            &text(&fields.to),
            &text(&fields.cc),
            &text(&fields.display_from),
            &text(&fields.display_to),
            &fields.message_id.as_deref().map(text),
            &text(&fields.references.join(" ")),
        ],
    )
    .map_err(error)?;
    Ok(())
}

/// Stores fields extracted for messages that have none, by UID.
pub fn keep(tx: &mut Tx, mailbox: MailboxId, fields: &[(u32, SortFields)]) -> StoreResult<()> {
    for (uid, fields) in fields {
        let body = tx
            .query_opt(
                "SELECT body_id FROM messages WHERE mailbox_id = $1 AND uid = $2",
                &[&mailbox, &i64::from(*uid)],
            )
            .map_err(error)?;
        if let Some(body) = body {
            insert(tx, body.get(0), fields)?;
        }
    }
    Ok(())
}

/// The messages of `mailbox` among `uids`, in UID order, with their
/// fields when they were stored.
pub fn rows(tx: &mut Tx, mailbox: MailboxId, uids: &[u32]) -> StoreResult<Vec<SortRow>> {
    let (Some(&first), Some(&last)) = (uids.iter().min(), uids.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: HashSet<u32> = uids.iter().copied().collect();
    let rows = tx
        .query(
            "SELECT m.uid, m.internal_date, m.size, f.base_subject, f.subject_is_reply, f.sent_at,
                    f.from_mailbox, f.to_mailbox, f.cc_mailbox, f.display_from, f.display_to,
                    f.message_id, f.refs
               FROM messages m LEFT JOIN sort_fields f ON f.id = m.body_id
              WHERE m.mailbox_id = $1 AND m.uid BETWEEN $2 AND $3
              ORDER BY m.uid",
            &[&mailbox, &i64::from(first), &i64::from(last)],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(row)
        .filter(|row| wanted.contains(&row.uid))
        .collect())
}

fn row(r: &Row) -> SortRow {
    let fields = r
        .get::<_, Option<String>>(3)
        .map(|base_subject| SortFields {
            base_subject,
            subject_is_reply: r.get(4),
            sent_at: r.get(5),
            from: r.get(6),
            to: r.get(7),
            cc: r.get(8),
            display_from: r.get(9),
            display_to: r.get(10),
            message_id: r.get(11),
            references: r
                .get::<_, &str>(12)
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        });
    SortRow {
        uid: r.get::<_, i64>(0) as u32,
        arrival: r.get(1),
        size: r.get::<_, i64>(2) as u32,
        fields,
    }
}
