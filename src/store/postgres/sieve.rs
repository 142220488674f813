//! Sieve scripts (at most one active per user) and the vacation replies
//! sent, as on SQLite.

use super::statements::Tx;

use super::error;
use crate::store::*;

pub fn list(tx: &mut Tx, user: UserId) -> StoreResult<Vec<SieveScriptInfo>> {
    let rows = tx
        .query(
            "SELECT name, active, octet_length(script) FROM sieve_scripts
              WHERE user_id = $1 ORDER BY name",
            &[&user],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(|r| SieveScriptInfo {
            name: r.get(0),
            active: r.get(1),
            size: r.get::<_, i32>(2) as u64,
        })
        .collect())
}

pub fn get(tx: &mut Tx, user: UserId, name: &str) -> StoreResult<Option<String>> {
    let row = tx
        .query_opt(
            "SELECT script FROM sieve_scripts WHERE user_id = $1 AND name = $2",
            &[&user, &name],
        )
        .map_err(error)?;
    Ok(row.map(|r| r.get(0)))
}

pub fn put(tx: &mut Tx, user: UserId, name: &str, text: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sieve_scripts (user_id, name, script) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, name) DO UPDATE SET script = excluded.script",
        &[&user, &name, &text],
    )
    .map_err(error)?;
    Ok(())
}

pub fn activate(tx: &mut Tx, user: UserId, name: Option<&str>) -> StoreResult<()> {
    if let Some(name) = name
        && get(tx, user, name)?.is_none()
    {
        return Err(StoreError::NoSuchScript);
    }
    tx.execute(
        "UPDATE sieve_scripts SET active = false WHERE user_id = $1 AND active",
        &[&user],
    )
    .map_err(error)?;
    if let Some(name) = name {
        tx.execute(
            "UPDATE sieve_scripts SET active = true WHERE user_id = $1 AND name = $2",
            &[&user, &name],
        )
        .map_err(error)?;
    }
    Ok(())
}

pub fn delete(tx: &mut Tx, user: UserId, name: &str) -> StoreResult<()> {
    let row = tx
        .query_opt(
            "SELECT active FROM sieve_scripts WHERE user_id = $1 AND name = $2",
            &[&user, &name],
        )
        .map_err(error)?;
    match row.map(|r| r.get::<_, bool>(0)) {
        None => Err(StoreError::NoSuchScript),
        Some(true) => Err(StoreError::Refused(
            "The active script cannot be deleted".into(),
        )),
        Some(false) => {
            tx.execute(
                "DELETE FROM sieve_scripts WHERE user_id = $1 AND name = $2",
                &[&user, &name],
            )
            .map_err(error)?;
            Ok(())
        }
    }
}

pub fn rename(tx: &mut Tx, user: UserId, from: &str, to: &str) -> StoreResult<()> {
    if get(tx, user, from)?.is_none() {
        return Err(StoreError::NoSuchScript);
    }
    if from != to && get(tx, user, to)?.is_some() {
        return Err(StoreError::ScriptExists);
    }
    tx.execute(
        "UPDATE sieve_scripts SET name = $3 WHERE user_id = $1 AND name = $2",
        &[&user, &from, &to],
    )
    .map_err(error)?;
    Ok(())
}

pub fn active(tx: &mut Tx, user: UserId) -> StoreResult<Option<(String, String)>> {
    let row = tx
        .query_opt(
            "SELECT name, script FROM sieve_scripts WHERE user_id = $1 AND active",
            &[&user],
        )
        .map_err(error)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// See `MailStore::vacation_reply_due`: the insert is the check, so two
/// nodes answering one sender at once send one reply.
pub fn vacation_reply_due(
    tx: &mut Tx,
    user: UserId,
    sender: &str,
    handle: &str,
    now: i64,
    period: u64,
) -> StoreResult<bool> {
    // The default handle joins the vacation's arguments with NULs, which
    // PostgreSQL text cannot hold: any other fixed mapping keeps handles
    // apart as well.
    let handle = handle.replace('\0', "\u{FFFD}");
    let sender = sender.to_lowercase().replace('\0', "\u{FFFD}");
    tx.execute(
        "DELETE FROM vacation_replies WHERE user_id = $1 AND until <= $2",
        &[&user, &now],
    )
    .map_err(error)?;
    let until = now.saturating_add(i64::try_from(period).unwrap_or(i64::MAX));
    let recorded = tx
        .execute(
            "INSERT INTO vacation_replies (user_id, sender, handle, until) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&user, &sender, &handle, &until],
        )
        .map_err(error)?;
    Ok(recorded > 0)
}
