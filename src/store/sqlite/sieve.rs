//! Sieve scripts, at most one active per user.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::*;

pub fn list(tx: &Connection, user: UserId) -> StoreResult<Vec<SieveScriptInfo>> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, active, length(CAST(script AS BLOB)) FROM sieve_scripts
          WHERE user_id = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([user], |r| {
        Ok(SieveScriptInfo {
            name: r.get(0)?,
            active: r.get(1)?,
            size: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(tx: &Connection, user: UserId, name: &str) -> StoreResult<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT script FROM sieve_scripts WHERE user_id = ?1 AND name = ?2")?
        .query_row(params![user, name], |r| r.get(0))
        .optional()?)
}

pub fn put(tx: &Connection, user: UserId, name: &str, text: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sieve_scripts (user_id, name, script) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, name) DO UPDATE SET script = excluded.script",
        params![user, name, text],
    )?;
    Ok(())
}

pub fn activate(tx: &Connection, user: UserId, name: Option<&str>) -> StoreResult<()> {
    if let Some(name) = name
        && get(tx, user, name)?.is_none()
    {
        return Err(StoreError::NoSuchScript);
    }
    tx.execute(
        "UPDATE sieve_scripts SET active = 0 WHERE user_id = ?1 AND active",
        [user],
    )?;
    if let Some(name) = name {
        tx.execute(
            "UPDATE sieve_scripts SET active = 1 WHERE user_id = ?1 AND name = ?2",
            params![user, name],
        )?;
    }
    Ok(())
}

pub fn delete(tx: &Connection, user: UserId, name: &str) -> StoreResult<()> {
    let active: Option<bool> = tx
        .query_row(
            "SELECT active FROM sieve_scripts WHERE user_id = ?1 AND name = ?2",
            params![user, name],
            |r| r.get(0),
        )
        .optional()?;
    match active {
        None => Err(StoreError::NoSuchScript),
        Some(true) => Err(StoreError::Refused(
            "The active script cannot be deleted".into(),
        )),
        Some(false) => {
            tx.execute(
                "DELETE FROM sieve_scripts WHERE user_id = ?1 AND name = ?2",
                params![user, name],
            )?;
            Ok(())
        }
    }
}

pub fn rename(tx: &Connection, user: UserId, from: &str, to: &str) -> StoreResult<()> {
    if get(tx, user, from)?.is_none() {
        return Err(StoreError::NoSuchScript);
    }
    if from != to && get(tx, user, to)?.is_some() {
        return Err(StoreError::ScriptExists);
    }
    tx.execute(
        "UPDATE sieve_scripts SET name = ?3 WHERE user_id = ?1 AND name = ?2",
        params![user, from, to],
    )?;
    Ok(())
}

pub fn active(tx: &Connection, user: UserId) -> StoreResult<Option<(String, String)>> {
    Ok(tx
        .prepare_cached("SELECT name, script FROM sieve_scripts WHERE user_id = ?1 AND active")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// See [`MailStore::vacation_reply_due`]; expired records of the user go.
pub fn vacation_reply_due(
    tx: &Connection,
    user: UserId,
    sender: &str,
    handle: &str,
    now: i64,
    period: u64,
) -> StoreResult<bool> {
    tx.execute(
        "DELETE FROM vacation_replies WHERE user_id = ?1 AND until <= ?2",
        params![user, now],
    )?;
    let sender = sender.to_lowercase();
    let until = now.saturating_add(i64::try_from(period).unwrap_or(i64::MAX));
    let recorded = tx.execute(
        "INSERT OR IGNORE INTO vacation_replies (user_id, sender, handle, until)
         VALUES (?1, ?2, ?3, ?4)",
        params![user, sender, handle, until],
    )?;
    Ok(recorded > 0)
}
