//! Messages: APPEND, the SELECT snapshot, catching up, STATUS counters.

use rusqlite::{Row, Transaction, params};

use crate::store::*;

const SEEN: u8 = SystemFlags::SEEN;
const DELETED: u8 = SystemFlags::DELETED;

pub fn append(
    tx: &Transaction,
    mailbox: MailboxId,
    message: &NewMessage,
) -> StoreResult<AppendOutcome> {
    let (uidvalidity, uid, modseq): (u32, u32, u64) = tx.query_row(
        "UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = highest_modseq + 1
          WHERE id = ?1 RETURNING uidvalidity, uidnext - 1, highest_modseq",
        [mailbox],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if uid == u32::MAX {
        return Err(StoreError::Refused("Mailbox has run out of UIDs".into()));
    }
    tx.execute("INSERT INTO bodies (raw) VALUES (?1)", [&message.raw])?;
    let body = tx.last_insert_rowid();
    let date = &message.internal_date;
    tx.execute(
        "INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size,
                               flags, keywords, body_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            mailbox,
            uid,
            modseq,
            date.timestamp(),
            date.offset().local_minus_utc() / 60,
            message.raw.len() as i64,
            message.flags.system.0,
            message.flags.keywords.join(" "),
            body,
        ],
    )?;
    Ok(AppendOutcome { uidvalidity, uid })
}

/// The mailbox as a newly selecting session sees it.
pub fn select(
    tx: &Transaction,
    mailbox: MailboxId,
    name: &str,
    claim_recent: bool,
) -> StoreResult<SelectedMailbox> {
    let (uidvalidity, uidnext, highest_modseq) = tx.query_row(
        "SELECT uidvalidity, uidnext, highest_modseq FROM mailboxes WHERE id = ?1",
        [mailbox],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let messages = after(tx, mailbox, 0, claim_recent)?;
    let mut keywords: Vec<String> = messages
        .iter()
        .flat_map(|m| m.flags.keywords.iter().cloned())
        .collect();
    keywords.sort();
    keywords.dedup();
    Ok(SelectedMailbox {
        id: mailbox,
        name: name.to_owned(),
        uidvalidity,
        uidnext,
        highest_modseq,
        messages,
        keywords,
    })
}

/// Messages above `after_uid` in UID order. With `claim_recent` the caller
/// becomes the one session that reports them as `\Recent`.
pub fn after(
    tx: &Transaction,
    mailbox: MailboxId,
    after_uid: u32,
    claim_recent: bool,
) -> StoreResult<Vec<MessageMeta>> {
    let mut stmt = tx.prepare_cached(
        "SELECT uid, flags, keywords, recent FROM messages
          WHERE mailbox_id = ?1 AND uid > ?2 ORDER BY uid",
    )?;
    let messages = stmt
        .query_map(params![mailbox, after_uid], meta_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    if claim_recent && messages.iter().any(|m| m.recent) {
        tx.execute(
            "UPDATE messages SET recent = 0 WHERE mailbox_id = ?1 AND uid > ?2 AND recent = 1",
            params![mailbox, after_uid],
        )?;
    }
    Ok(messages)
}

fn meta_from_row(r: &Row) -> rusqlite::Result<MessageMeta> {
    let keywords: String = r.get(2)?;
    Ok(MessageMeta {
        uid: r.get(0)?,
        flags: Flags {
            system: SystemFlags(r.get(1)?),
            keywords: keywords.split_whitespace().map(str::to_owned).collect(),
        },
        recent: r.get(3)?,
    })
}

pub fn status(tx: &Transaction, mailbox: MailboxId) -> StoreResult<MailboxStatus> {
    Ok(tx.query_row(
        "SELECT b.uidvalidity, b.uidnext, b.highest_modseq,
                count(m.id),
                coalesce(sum(m.recent), 0),
                coalesce(sum(m.flags & ?2 = 0), 0),
                coalesce(sum(m.flags & ?3 != 0), 0),
                coalesce(sum(m.size), 0)
           FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id
          WHERE b.id = ?1",
        params![mailbox, SEEN, DELETED],
        |r| {
            Ok(MailboxStatus {
                uidvalidity: r.get(0)?,
                uidnext: r.get(1)?,
                highest_modseq: r.get(2)?,
                messages: r.get(3)?,
                recent: r.get(4)?,
                unseen: r.get(5)?,
                deleted: r.get(6)?,
                size: r.get(7)?,
            })
        },
    )?)
}

/// Moves every message of `from` into `to` with new UIDs in `to`, keeping
/// their order (the RENAME INBOX case).
pub fn move_all(tx: &Transaction, from: MailboxId, to: MailboxId) -> StoreResult<()> {
    let uids: Vec<u32> = {
        let mut stmt = tx.prepare("SELECT uid FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
        stmt.query_map([from], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for uid in uids {
        let (new_uid, modseq): (u32, u64) = tx.query_row(
            "UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = highest_modseq + 1
              WHERE id = ?1 RETURNING uidnext - 1, highest_modseq",
            [to],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "UPDATE messages SET mailbox_id = ?3, uid = ?4, modseq = ?5
              WHERE mailbox_id = ?1 AND uid = ?2",
            params![from, uid, to, new_uid, modseq],
        )?;
    }
    tx.execute(
        "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?1",
        [from],
    )?;
    Ok(())
}

/// Drops bodies no message refers to any more.
pub fn delete_orphan_bodies(tx: &Transaction) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM bodies WHERE NOT EXISTS (SELECT 1 FROM messages WHERE body_id = bodies.id)",
        [],
    )?;
    Ok(())
}

/// Removes the mailbox's `\Deleted` messages; returns their UIDs.
pub fn expunge_deleted(tx: &Transaction, mailbox: MailboxId) -> StoreResult<Vec<u32>> {
    let removed: Vec<(u32, i64)> = {
        let mut stmt = tx.prepare_cached(
            "DELETE FROM messages WHERE mailbox_id = ?1 AND flags & ?2 != 0 RETURNING uid, body_id",
        )?;
        stmt.query_map(params![mailbox, DELETED], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    if removed.is_empty() {
        return Ok(Vec::new());
    }
    tx.execute(
        "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?1",
        [mailbox],
    )?;
    let mut drop_body = tx.prepare_cached(
        "DELETE FROM bodies WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE body_id = ?1)",
    )?;
    for (_, body) in &removed {
        drop_body.execute([body])?;
    }
    Ok(removed.into_iter().map(|(uid, _)| uid).collect())
}
