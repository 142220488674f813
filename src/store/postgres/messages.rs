//! Messages: APPEND (UIDs and MODSEQs allocated under the mailbox row's
//! lock, so they increase in commit order whichever node writes), SELECT,
//! FETCH, STATUS and catching up by MODSEQ.

use ::postgres::{Row, Transaction};
use chrono::NaiveDate;

use super::error;
use crate::store::*;

/// Locks the mailbox row for this transaction and takes `count` UIDs and
/// one MODSEQ: (uidvalidity, first uid, modseq). A concurrent writer of
/// the same mailbox waits here until this transaction ends.
pub fn allocate(
    tx: &mut Transaction,
    mailbox: MailboxId,
    count: u32,
) -> StoreResult<(u32, u32, u64)> {
    let row = tx
        .query_opt(
            "UPDATE mailboxes SET uidnext = uidnext + $2, highest_modseq = highest_modseq + 1
              WHERE id = $1 RETURNING uidvalidity, uidnext - $2, highest_modseq",
            &[&mailbox, &i64::from(count)],
        )
        .map_err(error)?
        .ok_or(StoreError::NoSuchMailbox)?;
    let (uidvalidity, first, modseq): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    if first + i64::from(count) >= i64::from(u32::MAX) {
        return Err(StoreError::Refused("Mailbox has run out of UIDs".into()));
    }
    Ok((uidvalidity as u32, first as u32, modseq as u64))
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    date.signed_duration_since(NaiveDate::default()).num_days() as i32
}

pub fn append(
    tx: &mut Transaction,
    mailbox: MailboxId,
    message: &NewMessage,
) -> StoreResult<AppendOutcome> {
    let (uidvalidity, uid, modseq) = allocate(tx, mailbox, 1)?;
    let body: i64 = tx
        .query_one(
            "INSERT INTO bodies (raw, meta) VALUES ($1, $2) RETURNING id",
            &[&message.raw, &message.index],
        )
        .map_err(error)?
        .get(0);
    // SEARCH matches lower-cased text with a case-sensitive LIKE, folded
    // here as Rust folds it; PostgreSQL text holds no NUL.
    let fold = |text: &str| text.to_lowercase().replace('\0', "");
    tx.execute(
        "INSERT INTO search_text (id, headers, body) VALUES ($1, $2, $3)",
        &[
            &body,
            &fold(&message.search.headers),
            &fold(&message.search.body),
        ],
    )
    .map_err(error)?;
    let sort = &message.sort;
    tx.execute(
        "INSERT INTO sort_fields (id, base_subject, subject_is_reply, sent_at, from_mailbox,
                                  to_mailbox, cc_mailbox, display_from, display_to, message_id, refs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &body,
            &sort.base_subject.replace('\0', ""),
            &sort.subject_is_reply,
            &sort.sent_at,
            &sort.from.replace('\0', ""),
            &sort.to.replace('\0', ""),
            &sort.cc.replace('\0', ""),
            &sort.display_from.replace('\0', ""),
            &sort.display_to.replace('\0', ""),
            &sort.message_id.as_ref().map(|m| m.replace('\0', "")),
            &sort.references.join(" ").replace('\0', ""),
        ],
    )
    .map_err(error)?;
    let date = &message.internal_date;
    tx.execute(
        "INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size,
                               flags, keywords, body_id, sent_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &mailbox,
            &i64::from(uid),
            &(modseq as i64),
            &date.timestamp(),
            &(date.offset().local_minus_utc() / 60),
            &(message.raw.len() as i64),
            &i16::from(message.flags.system.0),
            &message.flags.keywords.join(" "),
            &body,
            &message.search.sent_date.map(days_since_epoch),
        ],
    )
    .map_err(error)?;
    Ok(AppendOutcome {
        mailbox,
        uidvalidity,
        uid,
    })
}

/// Reads `flags, keywords` columns starting at `index`.
fn flags_from(r: &Row, index: usize) -> Flags {
    let keywords: &str = r.get(index + 1);
    Flags {
        system: SystemFlags(r.get::<_, i16>(index) as u8),
        keywords: keywords.split_whitespace().map(str::to_owned).collect(),
    }
}

/// Message metadata with `modseq > after`, in UID order.
fn metas(tx: &mut Transaction, mailbox: MailboxId, after: u64) -> StoreResult<Vec<MessageMeta>> {
    let rows = tx
        .query(
            "SELECT uid, flags, keywords, modseq, recent FROM messages
              WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
            &[&mailbox, &(after as i64)],
        )
        .map_err(error)?;
    let messages: Vec<MessageMeta> = rows
        .iter()
        .map(|r| MessageMeta {
            uid: r.get::<_, i64>(0) as u32,
            flags: flags_from(r, 1),
            modseq: r.get::<_, i64>(3) as u64,
            recent: r.get(4),
        })
        .collect();
    Ok(messages)
}

pub fn select(
    tx: &mut Transaction,
    mailbox: MailboxId,
    name: &str,
    claim_recent: bool,
) -> StoreResult<SelectedMailbox> {
    let row = tx
        .query_one(
            "SELECT uidvalidity, uidnext, highest_modseq FROM mailboxes WHERE id = $1",
            &[&mailbox],
        )
        .map_err(error)?;
    let messages = metas(tx, mailbox, 0)?;
    if claim_recent && messages.iter().any(|m| m.recent) {
        tx.execute(
            "UPDATE messages SET recent = false WHERE mailbox_id = $1 AND recent",
            &[&mailbox],
        )
        .map_err(error)?;
    }
    let mut keywords: Vec<String> = messages
        .iter()
        .flat_map(|m| m.flags.keywords.iter().cloned())
        .collect();
    keywords.sort();
    keywords.dedup();
    Ok(SelectedMailbox {
        id: mailbox,
        name: name.to_owned(),
        uidvalidity: row.get::<_, i64>(0) as u32,
        uidnext: row.get::<_, i64>(1) as u32,
        highest_modseq: row.get::<_, i64>(2) as u64,
        messages,
        keywords,
    })
}

pub fn fetch(
    tx: &mut Transaction,
    mailbox: MailboxId,
    uids: &[u32],
    request: FetchRequest,
) -> StoreResult<Vec<FetchedMessage>> {
    let uids: Vec<i64> = uids.iter().map(|&u| i64::from(u)).collect();
    let rows = tx
        .query(
            "SELECT m.uid, m.flags, m.keywords, m.modseq, m.internal_date, m.internal_tz, m.size,
                    CASE WHEN $3 THEN b.meta END, CASE WHEN $4 THEN b.raw END, m.added_at
               FROM messages m JOIN bodies b ON b.id = m.body_id
              WHERE m.mailbox_id = $1 AND m.uid = ANY($2) ORDER BY m.uid",
            &[&mailbox, &uids, &request.index, &request.raw],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(|r| FetchedMessage {
            uid: r.get::<_, i64>(0) as u32,
            flags: flags_from(r, 1),
            modseq: r.get::<_, i64>(3) as u64,
            internal_date: internal_date(r.get(4), r.get(5)),
            saved_at: r.get(9),
            size: r.get::<_, i64>(6) as u32,
            index: r.get(7),
            raw: r.get(8),
        })
        .collect())
}

pub fn status(tx: &mut Transaction, mailbox: MailboxId) -> StoreResult<MailboxStatus> {
    let row = tx
        .query_one(
            "SELECT b.uidvalidity, b.uidnext, b.highest_modseq,
                    count(m.id),
                    count(m.id) FILTER (WHERE m.recent),
                    count(m.id) FILTER (WHERE m.flags & 1 = 0),
                    count(m.id) FILTER (WHERE m.flags & 8 != 0),
                    coalesce(sum(m.size), 0)::bigint
               FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id
              WHERE b.id = $1 GROUP BY b.id",
            &[&mailbox],
        )
        .map_err(error)?;
    Ok(MailboxStatus {
        id: mailbox,
        uidvalidity: row.get::<_, i64>(0) as u32,
        uidnext: row.get::<_, i64>(1) as u32,
        highest_modseq: row.get::<_, i64>(2) as u64,
        messages: row.get::<_, i64>(3) as u32,
        recent: row.get::<_, i64>(4) as u32,
        unseen: row.get::<_, i64>(5) as u32,
        deleted: row.get::<_, i64>(6) as u32,
        size: row.get::<_, i64>(7) as u64,
    })
}
