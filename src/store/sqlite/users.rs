//! Users: creation with default mailboxes, passwords, deletion, listing.

use rusqlite::{OptionalExtension, Transaction, params};

use super::mailboxes;
use crate::store::*;

pub fn create(tx: &Transaction, name: &str, password_hash: &str) -> StoreResult<UserId> {
    if find(tx, name)?.is_some() {
        return Err(StoreError::UserExists);
    }
    tx.execute(
        "INSERT INTO users (name, password_hash, created_at) VALUES (?1, ?2, unixepoch())",
        params![name, password_hash],
    )?;
    let user = tx.last_insert_rowid();
    for (mailbox, special_use) in DEFAULT_MAILBOXES {
        let mailbox = MailboxName::new(mailbox).expect("default names are valid");
        mailboxes::create(tx, user, &mailbox, special_use)?;
        mailboxes::set_subscribed(tx, user, &mailbox, true)?;
    }
    Ok(user)
}

pub fn set_password_hash(tx: &Transaction, name: &str, password_hash: &str) -> StoreResult<()> {
    let changed = tx.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        params![name, password_hash],
    )?;
    if changed == 0 {
        return Err(StoreError::NoSuchUser);
    }
    Ok(())
}

pub fn delete(tx: &Transaction, name: &str) -> StoreResult<()> {
    let user = find(tx, name)?.ok_or(StoreError::NoSuchUser)?;
    tx.execute("DELETE FROM users WHERE id = ?1", [user.id])?;
    super::messages::delete_orphan_bodies(tx)?;
    Ok(())
}

pub fn find(tx: &Transaction, name: &str) -> StoreResult<Option<UserRecord>> {
    Ok(tx
        .query_row(
            "SELECT id, name, password_hash FROM users WHERE name = ?1",
            [name],
            |r| {
                Ok(UserRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    password_hash: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn list(tx: &Transaction) -> StoreResult<Vec<UserSummary>> {
    let mut stmt = tx.prepare(
        "SELECT u.name,
                (SELECT count(*) FROM mailboxes b WHERE b.user_id = u.id),
                (SELECT count(*) FROM messages m JOIN mailboxes b ON m.mailbox_id = b.id
                  WHERE b.user_id = u.id),
                (SELECT coalesce(sum(m.size), 0) FROM messages m JOIN mailboxes b
                  ON m.mailbox_id = b.id WHERE b.user_id = u.id)
           FROM users u ORDER BY u.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(UserSummary {
            name: r.get(0)?,
            mailboxes: r.get(1)?,
            messages: r.get(2)?,
            bytes: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
