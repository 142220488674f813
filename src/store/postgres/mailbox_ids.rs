//! A user's mailbox by name: its id, and the errors IMAP reports for
//! names that cannot be used (below both mailboxes.rs and acl.rs).

use super::error;
use super::statements::Tx;
use crate::store::*;

/// The mailbox's id and whether it is selectable.
pub fn mailbox_id(tx: &mut Tx, user: UserId, name: &str) -> StoreResult<Option<(MailboxId, bool)>> {
    let row = tx
        .query_opt(
            "SELECT id, selectable FROM mailboxes WHERE user_id = $1 AND name = $2",
            &[&user, &name],
        )
        .map_err(error)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// The id of a mailbox, selectable or a `\Noselect` placeholder.
pub fn existing(tx: &mut Tx, user: UserId, name: &str) -> StoreResult<MailboxId> {
    mailbox_id(tx, user, name)?
        .map(|(id, _)| id)
        .ok_or(StoreError::NoSuchMailbox)
}

/// The id of a selectable mailbox, or the error IMAP reports for it.
pub fn selectable(tx: &mut Tx, user: UserId, name: &str) -> StoreResult<MailboxId> {
    match mailbox_id(tx, user, name)? {
        Some((id, true)) => Ok(id),
        Some((_, false)) => Err(StoreError::NotSelectable),
        None => Err(StoreError::NoSuchMailbox),
    }
}
