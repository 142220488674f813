//! ACL entries (RFC 4314) per mailbox, and the mailboxes they open to a
//! user; stored as on SQLite (rights as letters, `-name` negative).

use super::statements::Tx;

use super::error;
use super::mailbox_ids::existing;
use crate::store::acl::{Entry, Rights, parse_identifier};
use crate::store::*;

pub fn entries(tx: &mut Tx, mailbox: MailboxId) -> StoreResult<Vec<Entry>> {
    let rows = tx
        .query(
            "SELECT identifier, rights FROM acl WHERE mailbox_id = $1 ORDER BY identifier",
            &[&mailbox],
        )
        .map_err(error)?;
    rows.iter()
        .map(|r| {
            let (identifier, negative) = parse_identifier(r.get(0));
            let rights = Rights::parse(r.get(1))
                .map_err(|c| StoreError::Internal(format!("stored right {c:?}")))?;
            Ok(Entry {
                identifier,
                negative,
                rights,
            })
        })
        .collect()
}

pub fn acl(tx: &mut Tx, owner: UserId, name: &MailboxName) -> StoreResult<Vec<Entry>> {
    let mailbox = existing(tx, owner, name.as_str())?;
    entries(tx, mailbox)
}

pub fn set(tx: &mut Tx, owner: UserId, name: &MailboxName, entry: &Entry) -> StoreResult<()> {
    let mailbox = existing(tx, owner, name.as_str())?;
    if entry.rights.is_empty() {
        tx.execute(
            "DELETE FROM acl WHERE mailbox_id = $1 AND identifier = $2",
            &[&mailbox, &entry.name()],
        )
        .map_err(error)?;
    } else {
        tx.execute(
            "INSERT INTO acl (mailbox_id, identifier, rights) VALUES ($1, $2, $3)
             ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = excluded.rights",
            &[&mailbox, &entry.name(), &entry.rights.to_string()],
        )
        .map_err(error)?;
    }
    Ok(())
}

/// A new mailbox starts with its parent's entries (as on SQLite).
pub fn inherit(tx: &mut Tx, owner: UserId, name: &str) -> StoreResult<()> {
    let Some((parent, _)) = name.rsplit_once(DELIMITER) else {
        return Ok(());
    };
    tx.execute(
        "INSERT INTO acl (mailbox_id, identifier, rights)
         SELECT c.id, a.identifier, a.rights
           FROM acl a
           JOIN mailboxes p ON p.id = a.mailbox_id AND p.user_id = $1 AND p.name = $2
           JOIN mailboxes c ON c.user_id = $1 AND c.name = $3
         ON CONFLICT DO NOTHING",
        &[&owner, &parent, &name],
    )
    .map_err(error)?;
    Ok(())
}

pub fn shared_with(tx: &mut Tx, user: &str) -> StoreResult<Vec<SharedMailbox>> {
    let rows = tx
        .query(
            "SELECT m.id, u.id, u.name, u.kind, m.name, m.selectable, m.special_use
               FROM mailboxes m JOIN users u ON u.id = m.user_id
              WHERE u.name != $1
                AND m.id IN (SELECT mailbox_id FROM acl
                              WHERE identifier IN ($1, 'anyone', 'authenticated'))
              ORDER BY u.name, m.name",
            &[&user],
        )
        .map_err(error)?;
    let mut shared = Vec::new();
    for r in rows {
        let special_use: Option<&str> = r.get(6);
        let id: MailboxId = r.get(0);
        shared.push(SharedMailbox {
            owner: r.get(1),
            owner_name: r.get(2),
            owner_kind: AccountKind::parse(r.get(3)),
            mailbox: MailboxInfo {
                name: r.get(4),
                selectable: r.get(5),
                special_use: special_use.and_then(SpecialUse::from_attribute),
            },
            entries: entries(tx, id)?,
        });
    }
    Ok(shared)
}
