//! Per-user `\Seen` in team mailboxes with `private_seen`: who has seen
//! which message, in `seen_by`, beside the shared flags. (STORE of it is
//! `messages::store_seen_by`, beside the shared flags' STORE.)

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::*;

/// Whether the mailbox's account keeps `\Seen` per user.
pub fn is_private(tx: &Connection, mailbox: MailboxId) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT u.private_seen FROM mailboxes b JOIN users u ON u.id = b.user_id
              WHERE b.id = ?1",
        )?
        .query_row([mailbox], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

pub fn set_private(tx: &Connection, team: &str, on: bool) -> StoreResult<()> {
    let changed = tx.execute(
        "UPDATE users SET private_seen = ?2 WHERE name = ?1 AND kind = 'team'",
        params![team, on],
    )?;
    match changed {
        0 => Err(StoreError::NoSuchUser),
        _ => Ok(()),
    }
}

pub fn seen_by(tx: &Connection, mailbox: MailboxId, user: UserId) -> StoreResult<Vec<u32>> {
    let mut stmt = tx.prepare_cached(
        "SELECT uid FROM seen_by WHERE mailbox_id = ?1 AND user_id = ?2 ORDER BY uid",
    )?;
    let uids = stmt
        .query_map(params![mailbox, user], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(uids)
}

pub fn has_seen(tx: &Connection, mailbox: MailboxId, user: UserId, uid: u32) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM seen_by WHERE mailbox_id = ?1 AND uid = ?2 AND user_id = ?3",
        )?
        .exists(params![mailbox, uid, user])?)
}

/// Records (or forgets) that `user` has seen the message; true when that
/// changed anything.
pub fn mark(
    tx: &Connection,
    mailbox: MailboxId,
    user: UserId,
    uid: u32,
    seen: bool,
) -> StoreResult<bool> {
    let sql = match seen {
        true => "INSERT OR IGNORE INTO seen_by (mailbox_id, uid, user_id) VALUES (?1, ?2, ?3)",
        false => "DELETE FROM seen_by WHERE mailbox_id = ?1 AND uid = ?2 AND user_id = ?3",
    };
    Ok(tx
        .prepare_cached(sql)?
        .execute(params![mailbox, uid, user])?
        > 0)
}
