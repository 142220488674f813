//! ACL entries (RFC 4314) per mailbox, and the mailboxes they open to a
//! user. Rights are stored as their letters, the identifier with a
//! leading `-` for a negative entry.

use rusqlite::{Connection, params};

use super::selectable_or_placeholder;
use crate::store::acl::{Entry, Rights, parse_identifier};
use crate::store::*;

pub fn entries(tx: &Connection, mailbox: MailboxId) -> StoreResult<Vec<Entry>> {
    let mut stmt = tx.prepare_cached(
        "SELECT identifier, rights FROM acl WHERE mailbox_id = ?1 ORDER BY identifier",
    )?;
    let rows = stmt.query_map([mailbox], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (identifier, rights) = row?;
        let (identifier, negative) = parse_identifier(&identifier);
        let rights = Rights::parse(&rights)
            .map_err(|c| StoreError::Internal(format!("stored right {c:?}")))?;
        entries.push(Entry {
            identifier,
            negative,
            rights,
        });
    }
    Ok(entries)
}

pub fn acl(tx: &Connection, owner: UserId, name: &MailboxName) -> StoreResult<Vec<Entry>> {
    entries(tx, selectable_or_placeholder(tx, owner, name.as_str())?)
}

pub fn set(tx: &Connection, owner: UserId, name: &MailboxName, entry: &Entry) -> StoreResult<()> {
    let mailbox = selectable_or_placeholder(tx, owner, name.as_str())?;
    if entry.rights.is_empty() {
        tx.execute(
            "DELETE FROM acl WHERE mailbox_id = ?1 AND identifier = ?2",
            params![mailbox, entry.name()],
        )?;
    } else {
        tx.execute(
            "INSERT OR REPLACE INTO acl (mailbox_id, identifier, rights) VALUES (?1, ?2, ?3)",
            params![mailbox, entry.name(), entry.rights.to_string()],
        )?;
    }
    Ok(())
}

/// A new mailbox starts with its parent's entries, as Dovecot does: what
/// is shared stays shared further down.
pub fn inherit(tx: &Connection, owner: UserId, name: &str) -> StoreResult<()> {
    let Some((parent, _)) = name.rsplit_once(DELIMITER) else {
        return Ok(());
    };
    tx.execute(
        "INSERT OR IGNORE INTO acl (mailbox_id, identifier, rights)
         SELECT c.id, a.identifier, a.rights
           FROM acl a
           JOIN mailboxes p ON p.id = a.mailbox_id AND p.user_id = ?1 AND p.name = ?2
           JOIN mailboxes c ON c.user_id = ?1 AND c.name = ?3",
        params![owner, parent, name],
    )?;
    Ok(())
}

pub fn shared_with(tx: &Connection, user: &str) -> StoreResult<Vec<SharedMailbox>> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.id, u.id, u.name, u.kind, m.name, m.selectable, m.special_use
           FROM mailboxes m JOIN users u ON u.id = m.user_id
          WHERE u.name != ?1
            AND m.id IN (SELECT mailbox_id FROM acl
                          WHERE identifier IN (?1, 'anyone', 'authenticated'))
          ORDER BY u.name, m.name",
    )?;
    let rows = stmt.query_map([user], |r| {
        let special_use: Option<String> = r.get(6)?;
        Ok((
            r.get::<_, MailboxId>(0)?,
            r.get::<_, UserId>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            MailboxInfo {
                name: r.get(4)?,
                selectable: r.get(5)?,
                special_use: special_use.as_deref().and_then(SpecialUse::from_attribute),
            },
        ))
    })?;
    let mut shared = Vec::new();
    for row in rows {
        let (id, owner, owner_name, kind, mailbox) = row?;
        shared.push(SharedMailbox {
            owner,
            owner_name,
            owner_kind: AccountKind::parse(&kind),
            mailbox,
            entries: entries(tx, id)?,
        });
    }
    Ok(shared)
}
