//! Users: creation with default mailboxes, passwords, deletion, listing.

use rusqlite::{Connection, OptionalExtension, params};

use super::mailboxes;
use crate::store::*;

pub fn create(tx: &Connection, name: &str, password_hash: &str) -> StoreResult<UserId> {
    create_account(
        tx,
        name,
        password_hash,
        AccountKind::Person,
        &DEFAULT_MAILBOXES,
    )
}

/// A team account: no password can match its empty hash, and it has an
/// INBOX only (deliveries to the team land there).
pub fn create_team(tx: &Connection, name: &str) -> StoreResult<UserId> {
    create_account(tx, name, "", AccountKind::Team, &[("INBOX", None)])
}

fn create_account(
    tx: &Connection,
    name: &str,
    password_hash: &str,
    kind: AccountKind,
    mailboxes: &[(&str, Option<SpecialUse>)],
) -> StoreResult<UserId> {
    if find(tx, name)?.is_some() {
        return Err(StoreError::UserExists);
    }
    tx.execute(
        "INSERT INTO users (id, name, password_hash, created_at, kind)
         VALUES ((SELECT value + 1 FROM meta WHERE key = 'last_user_id'), ?1, ?2, unixepoch(), ?3)",
        params![name, password_hash, kind.as_str()],
    )?;
    let user = tx.last_insert_rowid();
    for &(mailbox, special_use) in mailboxes {
        let mailbox = MailboxName::new(mailbox).expect("default names are valid");
        mailboxes::create(tx, user, &mailbox, special_use)?;
        mailboxes::set_subscribed(tx, user, &mailbox, true)?;
    }
    Ok(user)
}

pub fn set_password_hash(tx: &Connection, name: &str, password_hash: &str) -> StoreResult<()> {
    let changed = tx.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        params![name, password_hash],
    )?;
    if changed == 0 {
        return Err(StoreError::NoSuchUser);
    }
    Ok(())
}

pub fn delete(tx: &Connection, name: &str) -> StoreResult<()> {
    let user = find(tx, name)?.ok_or(StoreError::NoSuchUser)?;
    tx.execute("DELETE FROM users WHERE id = ?1", [user.id])?;
    super::messages::delete_orphan_bodies(tx)?;
    Ok(())
}

pub fn find(tx: &Connection, name: &str) -> StoreResult<Option<UserRecord>> {
    Ok(tx
        .query_row(
            "SELECT id, name, password_hash, kind, private_seen FROM users WHERE name = ?1",
            [name],
            |r| {
                Ok(UserRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    password_hash: r.get(2)?,
                    kind: AccountKind::parse(&r.get::<_, String>(3)?),
                    private_seen: r.get(4)?,
                })
            },
        )
        .optional()?)
}

pub fn list(tx: &Connection, defaults: QuotaLimits) -> StoreResult<Vec<UserSummary>> {
    let mut stmt = tx.prepare(
        "SELECT u.name, (SELECT count(*) FROM mailboxes b WHERE b.user_id = u.id),
                u.used_messages, u.used_bytes, u.quota_bytes, u.quota_messages, u.kind,
                u.private_seen
           FROM users u ORDER BY u.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(UserSummary {
            name: r.get(0)?,
            kind: AccountKind::parse(&r.get::<_, String>(6)?),
            private_seen: r.get(7)?,
            mailboxes: r.get(1)?,
            messages: r.get(2)?,
            bytes: r.get(3)?,
            limits: effective(defaults, r.get(4)?, r.get(5)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A user's override (NULL: default; 0: unlimited) over the defaults.
fn effective(defaults: QuotaLimits, bytes: Option<u64>, messages: Option<u64>) -> QuotaLimits {
    let pick = |over: Option<u64>, default: Option<u64>| match over {
        Some(0) => None,
        Some(limit) => Some(limit),
        None => default,
    };
    QuotaLimits {
        bytes: pick(bytes, defaults.bytes),
        messages: pick(messages, defaults.messages),
    }
}

pub fn quota(tx: &Connection, user: UserId, defaults: QuotaLimits) -> StoreResult<Quota> {
    Ok(tx.query_row(
        "SELECT used_bytes, used_messages, quota_bytes, quota_messages FROM users WHERE id = ?1",
        [user],
        |r| {
            Ok(Quota {
                used_bytes: r.get(0)?,
                used_messages: r.get(1)?,
                limits: effective(defaults, r.get(2)?, r.get(3)?),
            })
        },
    )?)
}

/// The quota and the lowest usage since the last look, which starts again
/// from today's usage.
pub fn look_at_quota(
    tx: &Connection,
    user: UserId,
    defaults: QuotaLimits,
) -> StoreResult<QuotaSinceLastLook> {
    let now = quota(tx, user, defaults)?;
    let (lowest_bytes, lowest_messages): (u64, u64) = tx.query_row(
        "SELECT lowest_bytes, lowest_messages FROM users WHERE id = ?1",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    tx.execute(
        "UPDATE users SET lowest_bytes = used_bytes, lowest_messages = used_messages
          WHERE id = ?1",
        [user],
    )?;
    Ok(QuotaSinceLastLook {
        now,
        lowest_bytes: lowest_bytes.min(now.used_bytes),
        lowest_messages: lowest_messages.min(now.used_messages),
    })
}

/// Refuses with `OverQuota` when adding `bytes` in `messages` messages
/// would exceed the user's limits (RFC 9208 §5).
pub fn check_quota(
    tx: &Connection,
    user: UserId,
    bytes: u64,
    messages: u64,
    defaults: QuotaLimits,
) -> StoreResult<()> {
    let quota = quota(tx, user, defaults)?;
    let over = |used: u64, added: u64, limit: Option<u64>| {
        limit.is_some_and(|limit| used.saturating_add(added) > limit)
    };
    if over(quota.used_bytes, bytes, quota.limits.bytes)
        || over(quota.used_messages, messages, quota.limits.messages)
    {
        return Err(StoreError::OverQuota);
    }
    Ok(())
}

pub fn set_quota(tx: &Connection, name: &str, change: QuotaOverride) -> StoreResult<()> {
    let changed = tx.execute(
        "UPDATE users SET quota_bytes = coalesce(?2, quota_bytes),
                          quota_messages = coalesce(?3, quota_messages)
          WHERE name = ?1",
        params![name, change.bytes, change.messages],
    )?;
    if changed == 0 {
        return Err(StoreError::NoSuchUser);
    }
    Ok(())
}

pub fn add_app_password(tx: &Connection, name: &str, label: &str, hash: &str) -> StoreResult<()> {
    let user = find(tx, name)?.ok_or(StoreError::NoSuchUser)?;
    let added = tx.execute(
        "INSERT OR IGNORE INTO app_passwords (user_id, label, password_hash, created_at)
         VALUES (?1, ?2, ?3, unixepoch())",
        params![user.id, label, hash],
    )?;
    if added == 0 {
        return Err(StoreError::Refused(format!(
            "{name} already has an app password {label:?}"
        )));
    }
    Ok(())
}

pub fn app_passwords(tx: &Connection, user: UserId) -> StoreResult<Vec<AppPassword>> {
    let mut stmt = tx.prepare_cached(
        "SELECT label, password_hash, created_at, last_used FROM app_passwords
          WHERE user_id = ?1 ORDER BY label",
    )?;
    let rows = stmt.query_map([user], |r| {
        Ok(AppPassword {
            label: r.get(0)?,
            password_hash: r.get(1)?,
            created_at: r.get(2)?,
            last_used: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn touch_app_password(tx: &Connection, user: UserId, label: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE app_passwords SET last_used = unixepoch() WHERE user_id = ?1 AND label = ?2",
        params![user, label],
    )?;
    Ok(())
}

pub fn revoke_app_password(tx: &Connection, name: &str, label: &str) -> StoreResult<()> {
    let user = find(tx, name)?.ok_or(StoreError::NoSuchUser)?;
    let removed = tx.execute(
        "DELETE FROM app_passwords WHERE user_id = ?1 AND label = ?2",
        params![user.id, label],
    )?;
    if removed == 0 {
        return Err(StoreError::Refused(format!(
            "{name} has no app password {label:?}"
        )));
    }
    Ok(())
}
