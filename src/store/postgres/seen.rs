//! Per-user `\Seen` in team mailboxes with `private_seen` (as on SQLite).

use super::statements::Tx;

use super::error;
use crate::store::*;

pub fn is_private(tx: &mut Tx, mailbox: MailboxId) -> StoreResult<bool> {
    let row = tx
        .query_opt(
            "SELECT u.private_seen FROM mailboxes b JOIN users u ON u.id = b.user_id WHERE b.id = $1",
            &[&mailbox],
        )
        .map_err(error)?;
    Ok(row.is_some_and(|r| r.get(0)))
}

pub fn set_private(tx: &mut Tx, team: &str, on: bool) -> StoreResult<()> {
    let changed = tx
        .execute(
            "UPDATE users SET private_seen = $2 WHERE name = $1 AND kind = 'team'",
            &[&team, &on],
        )
        .map_err(error)?;
    match changed {
        0 => Err(StoreError::NoSuchUser),
        _ => Ok(()),
    }
}

pub fn seen_by(tx: &mut Tx, mailbox: MailboxId, user: UserId) -> StoreResult<Vec<u32>> {
    let rows = tx
        .query(
            "SELECT uid FROM seen_by WHERE mailbox_id = $1 AND user_id = $2 ORDER BY uid",
            &[&mailbox, &user],
        )
        .map_err(error)?;
    Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u32).collect())
}

pub fn has_seen(tx: &mut Tx, mailbox: MailboxId, user: UserId, uid: u32) -> StoreResult<bool> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM seen_by WHERE mailbox_id = $1 AND uid = $2 AND user_id = $3",
            &[&mailbox, &i64::from(uid), &user],
        )
        .map_err(error)?;
    Ok(row.is_some())
}

/// Records (or forgets) that `user` has seen the message; true when that
/// changed anything.
pub fn mark(
    tx: &mut Tx,
    mailbox: MailboxId,
    user: UserId,
    uid: u32,
    seen: bool,
) -> StoreResult<bool> {
    let sql = match seen {
        true => {
            "INSERT INTO seen_by (mailbox_id, uid, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        }
        false => "DELETE FROM seen_by WHERE mailbox_id = $1 AND uid = $2 AND user_id = $3",
    };
    let changed = tx
        .execute(sql, &[&mailbox, &i64::from(uid), &user])
        .map_err(error)?;
    Ok(changed > 0)
}
