//! Users and team accounts: creation with their default mailboxes,
//! passwords, app passwords, quota, deletion, listing.

use super::statements::Tx;

use super::{error, mailboxes};
use crate::store::*;

pub fn create(tx: &mut Tx, name: &str, password_hash: &str) -> StoreResult<UserId> {
    create_account(
        tx,
        name,
        password_hash,
        AccountKind::Person,
        &DEFAULT_MAILBOXES,
    )
}

/// A team account: no password matches its empty hash; an INBOX only.
pub fn create_team(tx: &mut Tx, name: &str) -> StoreResult<UserId> {
    create_account(tx, name, "", AccountKind::Team, &[("INBOX", None)])
}

fn create_account(
    tx: &mut Tx,
    name: &str,
    password_hash: &str,
    kind: AccountKind,
    defaults: &[(&str, Option<SpecialUse>)],
) -> StoreResult<UserId> {
    // ON CONFLICT: two nodes creating one name at once, one wins.
    let row = tx
        .query_opt(
            "INSERT INTO users (name, password_hash, kind) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[&name, &password_hash, &kind.as_str()],
        )
        .map_err(error)?;
    let user: UserId = row.ok_or(StoreError::UserExists)?.get(0);
    for &(mailbox, special_use) in defaults {
        let mailbox = MailboxName::new(mailbox).expect("default names are valid");
        mailboxes::create(tx, user, &mailbox, special_use)?;
        mailboxes::set_subscribed(tx, user, &mailbox, true)?;
    }
    Ok(user)
}

pub fn find(tx: &mut Tx, name: &str) -> StoreResult<Option<UserRecord>> {
    let row = tx
        .query_opt(
            "SELECT id, name, password_hash, kind, private_seen FROM users WHERE name = $1",
            &[&name],
        )
        .map_err(error)?;
    Ok(row.map(|r| UserRecord {
        id: r.get(0),
        name: r.get(1),
        password_hash: r.get(2),
        kind: AccountKind::parse(r.get(3)),
        private_seen: r.get(4),
    }))
}

pub fn set_password_hash(tx: &mut Tx, name: &str, password_hash: &str) -> StoreResult<()> {
    let changed = tx
        .execute(
            "UPDATE users SET password_hash = $2 WHERE name = $1",
            &[&name, &password_hash],
        )
        .map_err(error)?;
    match changed {
        0 => Err(StoreError::NoSuchUser),
        _ => Ok(()),
    }
}

/// Deletes the user; their mailboxes, messages and the rest cascade,
/// bodies no longer used go.
pub fn delete(tx: &mut Tx, name: &str) -> StoreResult<()> {
    let deleted = tx
        .execute("DELETE FROM users WHERE name = $1", &[&name])
        .map_err(error)?;
    if deleted == 0 {
        return Err(StoreError::NoSuchUser);
    }
    tx.execute(
        "DELETE FROM bodies b WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.body_id = b.id)",
        &[],
    )
    .map_err(error)?;
    Ok(())
}

/// A user's override (NULL: default; 0: unlimited) over the defaults.
fn effective(defaults: QuotaLimits, bytes: Option<i64>, messages: Option<i64>) -> QuotaLimits {
    let pick = |over: Option<i64>, default: Option<u64>| match over {
        Some(0) => None,
        Some(limit) => Some(limit as u64),
        None => default,
    };
    QuotaLimits {
        bytes: pick(bytes, defaults.bytes),
        messages: pick(messages, defaults.messages),
    }
}

pub fn list(tx: &mut Tx, defaults: QuotaLimits) -> StoreResult<Vec<UserSummary>> {
    let rows = tx
        .query(
            "SELECT u.name, (SELECT count(*) FROM mailboxes b WHERE b.user_id = u.id),
                    u.used_messages, u.used_bytes, u.quota_bytes, u.quota_messages, u.kind,
                    u.private_seen
               FROM users u ORDER BY u.name",
            &[],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(|r| UserSummary {
            name: r.get(0),
            mailboxes: r.get::<_, i64>(1) as u32,
            messages: r.get::<_, i64>(2) as u64,
            bytes: r.get::<_, i64>(3) as u64,
            limits: effective(defaults, r.get(4), r.get(5)),
            kind: AccountKind::parse(r.get(6)),
            private_seen: r.get(7),
        })
        .collect())
}

pub fn quota(tx: &mut Tx, user: UserId, defaults: QuotaLimits) -> StoreResult<Quota> {
    let row = tx
        .query_one(
            "SELECT used_bytes, used_messages, quota_bytes, quota_messages FROM users WHERE id = $1",
            &[&user],
        )
        .map_err(error)?;
    Ok(Quota {
        used_bytes: row.get::<_, i64>(0) as u64,
        used_messages: row.get::<_, i64>(1) as u64,
        limits: effective(defaults, row.get(2), row.get(3)),
    })
}

pub fn set_quota(tx: &mut Tx, name: &str, change: QuotaOverride) -> StoreResult<()> {
    let (bytes, messages) = (
        change.bytes.map(|b| b as i64),
        change.messages.map(|m| m as i64),
    );
    let changed = tx
        .execute(
            "UPDATE users SET quota_bytes = coalesce($2, quota_bytes),
                              quota_messages = coalesce($3, quota_messages)
              WHERE name = $1",
            &[&name, &bytes, &messages],
        )
        .map_err(error)?;
    match changed {
        0 => Err(StoreError::NoSuchUser),
        _ => Ok(()),
    }
}

pub fn add_app_password(tx: &mut Tx, name: &str, label: &str, hash: &str) -> StoreResult<()> {
    let user = find(tx, name)?.ok_or(StoreError::NoSuchUser)?;
    let added = tx
        .execute(
            "INSERT INTO app_passwords (user_id, label, password_hash, created_at)
             VALUES ($1, $2, $3, floor(extract(epoch FROM now()))::bigint) ON CONFLICT DO NOTHING",
            &[&user.id, &label, &hash],
        )
        .map_err(error)?;
    match added {
        0 => Err(StoreError::Refused(format!(
            "{name} already has an app password {label:?}"
        ))),
        _ => Ok(()),
    }
}

pub fn app_passwords(tx: &mut Tx, user: UserId) -> StoreResult<Vec<AppPassword>> {
    let rows = tx
        .query(
            "SELECT label, password_hash, created_at, last_used FROM app_passwords
              WHERE user_id = $1 ORDER BY label",
            &[&user],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(|r| AppPassword {
            label: r.get(0),
            password_hash: r.get(1),
            created_at: r.get(2),
            last_used: r.get(3),
        })
        .collect())
}

pub fn revoke_app_password(tx: &mut Tx, name: &str, label: &str) -> StoreResult<()> {
    let user = find(tx, name)?.ok_or(StoreError::NoSuchUser)?;
    let removed = tx
        .execute(
            "DELETE FROM app_passwords WHERE user_id = $1 AND label = $2",
            &[&user.id, &label],
        )
        .map_err(error)?;
    match removed {
        0 => Err(StoreError::Refused(format!(
            "{name} has no app password {label:?}"
        ))),
        _ => Ok(()),
    }
}

/// Refuses with `OverQuota` when the user's usage, with what this
/// transaction added, is over a limit. The user row is locked first, so
/// two appends on two nodes cannot both pass a limit they cross together.
pub fn check_quota(tx: &mut Tx, user: UserId, defaults: QuotaLimits) -> StoreResult<()> {
    tx.execute(
        "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
        &[&user],
    )
    .map_err(error)?;
    let quota = quota(tx, user, defaults)?;
    let over = |used: u64, limit: Option<u64>| limit.is_some_and(|limit| used > limit);
    match over(quota.used_bytes, quota.limits.bytes)
        || over(quota.used_messages, quota.limits.messages)
    {
        true => Err(StoreError::OverQuota),
        false => Ok(()),
    }
}

/// The usage now and its lowest point since the last look, which starts
/// a new period (the user row locked: two looks at once do not both see
/// the same crossing).
pub fn look_at_quota(
    tx: &mut Tx,
    user: UserId,
    defaults: QuotaLimits,
) -> StoreResult<QuotaSinceLastLook> {
    let row = tx
        .query_one(
            "SELECT lowest_bytes, lowest_messages FROM users WHERE id = $1 FOR NO KEY UPDATE",
            &[&user],
        )
        .map_err(error)?;
    let (lowest_bytes, lowest_messages) =
        (row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64);
    let now = quota(tx, user, defaults)?;
    tx.execute(
        "UPDATE users SET lowest_bytes = used_bytes, lowest_messages = used_messages
          WHERE id = $1",
        &[&user],
    )
    .map_err(error)?;
    Ok(QuotaSinceLastLook {
        now,
        lowest_bytes: lowest_bytes.min(now.used_bytes),
        lowest_messages: lowest_messages.min(now.used_messages),
    })
}

pub fn touch_app_password(tx: &mut Tx, user: UserId, label: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE app_passwords SET last_used = floor(extract(epoch FROM now()))::bigint
          WHERE user_id = $1 AND label = $2",
        &[&user, &label],
    )
    .map_err(error)?;
    Ok(())
}
