//! Mailboxes: creation (with missing superiors), subscriptions.

use super::statements::Tx;

use super::error;
pub use super::mailbox_ids::{existing, mailbox_id, selectable};
use crate::store::*;

/// Every mailbox of the user, by name.
pub fn list(tx: &mut Tx, user: UserId) -> StoreResult<Vec<MailboxInfo>> {
    let rows = tx
        .query(
            "SELECT name, selectable, special_use FROM mailboxes WHERE user_id = $1 ORDER BY name",
            &[&user],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(|r| MailboxInfo {
            name: r.get(0),
            selectable: r.get(1),
            special_use: r
                .get::<_, Option<&str>>(2)
                .and_then(SpecialUse::from_attribute),
        })
        .collect())
}

pub fn subscriptions(tx: &mut Tx, user: UserId) -> StoreResult<Vec<String>> {
    let rows = tx
        .query(
            "SELECT name FROM subscriptions WHERE user_id = $1 ORDER BY name",
            &[&user],
        )
        .map_err(error)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Creates a mailbox and any missing superiors.
pub fn create(
    tx: &mut Tx,
    user: UserId,
    name: &MailboxName,
    special_use: Option<SpecialUse>,
) -> StoreResult<()> {
    for superior in name.superiors() {
        if mailbox_id(tx, user, superior)?.is_none() {
            insert(tx, user, superior, None)?;
        }
    }
    match mailbox_id(tx, user, name.as_str())? {
        Some((_, true)) => Err(StoreError::MailboxExists),
        // Re-creating a \Noselect placeholder makes a new row (and id), so
        // a session still watching the old one sees it gone.
        Some((id, false)) => {
            tx.execute("DELETE FROM mailboxes WHERE id = $1", &[&id])
                .map_err(error)?;
            insert(tx, user, name.as_str(), special_use)
        }
        None => insert(tx, user, name.as_str(), special_use),
    }
}

fn insert(
    tx: &mut Tx,
    user: UserId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> StoreResult<()> {
    let uidvalidity = next_uidvalidity(tx)?;
    tx.execute(
        "INSERT INTO mailboxes (user_id, name, uidvalidity, special_use) VALUES ($1, $2, $3, $4)",
        &[
            &user,
            &name,
            &uidvalidity,
            &special_use.map(SpecialUse::attribute),
        ],
    )
    .map_err(error)?;
    super::acl::inherit(tx, user, name)
}

/// UIDVALIDITY values are unique across the whole store and increase
/// (RFC 3501 §2.3.1.1), whichever node creates the mailbox: one row,
/// updated under its lock.
fn next_uidvalidity(tx: &mut Tx) -> StoreResult<i64> {
    let now = chrono::Utc::now()
        .timestamp()
        .clamp(1, i64::from(u32::MAX) - 1);
    let row = tx
        .query_one(
            "INSERT INTO meta (key, value) VALUES ('next_uidvalidity', $1::bigint + 1)
             ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value, $1::bigint) + 1
             RETURNING value - 1",
            &[&now],
        )
        .map_err(error)?;
    let value: i64 = row.get(0);
    match value < i64::from(u32::MAX) {
        true => Ok(value),
        false => Err(StoreError::Refused("UIDVALIDITY values are used up".into())),
    }
}

pub fn set_subscribed(
    tx: &mut Tx,
    user: UserId,
    name: &MailboxName,
    subscribed: bool,
) -> StoreResult<()> {
    let sql = match subscribed {
        true => "INSERT INTO subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        false => "DELETE FROM subscriptions WHERE user_id = $1 AND name = $2",
    };
    tx.execute(sql, &[&user, &name.as_str()]).map_err(error)?;
    Ok(())
}

/// A mailbox and everything below it in the hierarchy.
const SELF_AND_INFERIORS: &str =
    "user_id = $1 AND (name = $2 OR (name > $2 || '/' AND name < $2 || '0'))";

fn has_inferiors(tx: &mut Tx, user: UserId, name: &str) -> StoreResult<bool> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM mailboxes
              WHERE user_id = $1 AND name > $2 || '/' AND name < $2 || '0')",
            &[&user, &name],
        )
        .map_err(error)?;
    Ok(row.get(0))
}

/// Returns the id of the mailbox that was deleted (or emptied into a
/// `\Noselect` placeholder), whose watchers must be told.
pub fn delete(tx: &mut Tx, user: UserId, name: &MailboxName) -> StoreResult<MailboxId> {
    if name.is_inbox() {
        return Err(StoreError::Refused("INBOX cannot be deleted".into()));
    }
    let (id, selectable) = mailbox_id(tx, user, name.as_str())?.ok_or(StoreError::NoSuchMailbox)?;
    if has_inferiors(tx, user, name.as_str())? {
        if !selectable {
            return Err(StoreError::Refused(
                "Mailbox has inferiors and is already \\Noselect".into(),
            ));
        }
        // RFC 3501 §6.3.4: keep the name as \Noselect so the children stay
        // reachable; the messages go as expunges sessions are told about.
        super::messages::remove(tx, id, None, 0)?;
        tx.execute(
            "UPDATE mailboxes SET selectable = false, special_use = NULL WHERE id = $1",
            &[&id],
        )
        .map_err(error)?;
    } else {
        // The messages first: the usage trigger finds their owner through
        // the mailbox row, which the cascade would already have removed.
        super::messages::remove(tx, id, None, 0)?;
        tx.execute("DELETE FROM mailboxes WHERE id = $1", &[&id])
            .map_err(error)?;
    }
    Ok(id)
}

/// RENAME; for INBOX (RFC 3501 §6.3.5) its messages move to a new
/// mailbox and INBOX stays, empty, with its inferiors: then the id of
/// INBOX, whose watchers must be told.
pub fn rename(
    tx: &mut Tx,
    user: UserId,
    from: &MailboxName,
    to: &MailboxName,
) -> StoreResult<Option<MailboxId>> {
    let (from_id, _) = mailbox_id(tx, user, from.as_str())?.ok_or(StoreError::NoSuchMailbox)?;
    if mailbox_id(tx, user, to.as_str())?.is_some() {
        return Err(StoreError::MailboxExists);
    }
    if from.contains(to.as_str()) {
        return Err(StoreError::Refused(
            "Cannot rename a mailbox to a name inside itself".into(),
        ));
    }
    if from.is_inbox() {
        create(tx, user, to, None)?;
        let to_id = existing(tx, user, to.as_str())?;
        super::messages::move_all(tx, from_id, to_id)?;
        return Ok(Some(from_id));
    }
    for superior in to.superiors() {
        if mailbox_id(tx, user, superior)?.is_none() {
            insert(tx, user, superior, None)?;
        }
    }
    let prefix_len = from.as_str().chars().count() as i32;
    for table in ["mailboxes", "subscriptions"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET name = $3 || substr(name, $4 + 1) WHERE {SELF_AND_INFERIORS}"
            ),
            &[&user, &from.as_str(), &to.as_str(), &prefix_len],
        )
        .map_err(error)?;
    }
    Ok(None)
}

/// The mailboxes, of any user, with this special use.
pub fn with_special_use(tx: &mut Tx, special_use: SpecialUse) -> StoreResult<Vec<MailboxId>> {
    let rows = tx
        .query(
            "SELECT id FROM mailboxes WHERE special_use = $1",
            &[&special_use.attribute()],
        )
        .map_err(error)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
