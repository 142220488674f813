//! Mailboxes: the hierarchy, CREATE/DELETE/RENAME rules, subscriptions.

use rusqlite::{Connection, OptionalExtension, params};

use super::{mailbox_id, messages};
use crate::store::*;

/// SQL matching a mailbox `?2` and its inferiors for user `?1`. Comparing
/// with the delimiter's successor ('0' follows '/') finds inferiors by index
/// range, with no LIKE escaping to get wrong.
const SELF_AND_INFERIORS: &str =
    "user_id = ?1 AND (name = ?2 OR (name > ?2 || '/' AND name < ?2 || '0'))";

pub fn list(tx: &Connection, user: UserId) -> StoreResult<Vec<MailboxInfo>> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, selectable, special_use FROM mailboxes WHERE user_id = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([user], |r| {
        let special_use: Option<String> = r.get(2)?;
        Ok(MailboxInfo {
            name: r.get(0)?,
            selectable: r.get(1)?,
            special_use: special_use.as_deref().and_then(SpecialUse::from_attribute),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn subscriptions(tx: &Connection, user: UserId) -> StoreResult<Vec<String>> {
    let mut stmt =
        tx.prepare_cached("SELECT name FROM subscriptions WHERE user_id = ?1 ORDER BY name")?;
    let rows = stmt.query_map([user], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn create(
    tx: &Connection,
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
        // Re-creating a \Noselect placeholder makes a new mailbox with a new
        // row (and id), so a session still watching the old one sees it gone.
        Some((id, false)) => {
            tx.execute("DELETE FROM mailboxes WHERE id = ?1", [id])?;
            insert(tx, user, name.as_str(), special_use)
        }
        None => insert(tx, user, name.as_str(), special_use),
    }
}

fn insert(
    tx: &Connection,
    user: UserId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO mailboxes (id, user_id, name, uidvalidity, special_use)
         VALUES ((SELECT value + 1 FROM meta WHERE key = 'last_mailbox_id'), ?1, ?2, ?3, ?4)",
        params![
            user,
            name,
            next_uidvalidity(tx)?,
            special_use.map(SpecialUse::attribute)
        ],
    )?;
    super::acl::inherit(tx, user, name)
}

/// UIDVALIDITY values are unique across the whole store and increase, so a
/// mailbox re-created under an old name never reuses one (RFC 3501 §2.3.1.1).
fn next_uidvalidity(tx: &Connection) -> StoreResult<u32> {
    let stored: Option<u32> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'next_uidvalidity'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let now = u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(u32::MAX - 1);
    let value = stored.unwrap_or(0).max(now).max(1);
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('next_uidvalidity', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [value.wrapping_add(1).max(1)],
    )?;
    Ok(value)
}

fn has_inferiors(tx: &Connection, user: UserId, name: &str) -> StoreResult<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM mailboxes
          WHERE user_id = ?1 AND name > ?2 || '/' AND name < ?2 || '0')",
        params![user, name],
        |r| r.get(0),
    )?)
}

/// Returns the id of the mailbox that was deleted (or emptied into a
/// `\Noselect` placeholder), whose watchers must be told.
pub fn delete(tx: &Connection, user: UserId, name: &MailboxName) -> StoreResult<MailboxId> {
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
        messages::remove(tx, id, None, 0)?;
        tx.execute(
            "UPDATE mailboxes SET selectable = 0, special_use = NULL WHERE id = ?1",
            [id],
        )?;
    } else {
        // The messages first: the usage trigger finds their owner through
        // the mailbox row, which the cascade would already have removed.
        tx.execute("DELETE FROM messages WHERE mailbox_id = ?1", [id])?;
        tx.execute("DELETE FROM mailboxes WHERE id = ?1", [id])?;
    }
    messages::delete_orphan_bodies(tx)?;
    Ok(id)
}

pub fn rename(
    tx: &Connection,
    user: UserId,
    from: &MailboxName,
    to: &MailboxName,
) -> StoreResult<()> {
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
        // RFC 3501 §6.3.5: move INBOX's messages to a new mailbox, leave INBOX
        // empty, and leave INBOX's inferiors where they are.
        create(tx, user, to, None)?;
        let (to_id, _) = mailbox_id(tx, user, to.as_str())?.ok_or(StoreError::NoSuchMailbox)?;
        return messages::move_all(tx, from_id, to_id);
    }
    for superior in to.superiors() {
        if mailbox_id(tx, user, superior)?.is_none() {
            insert(tx, user, superior, None)?;
        }
    }
    let prefix_len = from.as_str().chars().count() as i64;
    for table in ["mailboxes", "subscriptions"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET name = ?3 || substr(name, ?4 + 1) WHERE {SELF_AND_INFERIORS}"
            ),
            params![user, from.as_str(), to.as_str(), prefix_len],
        )?;
    }
    Ok(())
}

pub fn set_subscribed(
    tx: &Connection,
    user: UserId,
    name: &MailboxName,
    subscribed: bool,
) -> StoreResult<()> {
    if subscribed {
        tx.execute(
            "INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?1, ?2)",
            params![user, name.as_str()],
        )?;
    } else {
        tx.execute(
            "DELETE FROM subscriptions WHERE user_id = ?1 AND name = ?2",
            params![user, name.as_str()],
        )?;
    }
    Ok(())
}
