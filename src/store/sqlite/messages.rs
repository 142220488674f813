//! Messages: APPEND, the SELECT snapshot, catching up, FETCH, STORE, COPY,
//! EXPUNGE and STATUS counters.
//!
//! Every change bumps the mailbox's HIGHEST_MODSEQ and stamps the changed
//! rows (or, for expunges, tombstones) with it; sessions catch up by asking
//! for everything above the MODSEQ they last saw.

use chrono::NaiveDate;
use rusqlite::{Connection, Row, params};

use crate::store::*;

const SEEN: u8 = SystemFlags::SEEN;
const DELETED: u8 = SystemFlags::DELETED;

/// Allocates `count` UIDs and one new MODSEQ in a mailbox; returns
/// (uidvalidity, first UID, modseq).
fn allocate(tx: &Connection, mailbox: MailboxId, count: u32) -> StoreResult<(u32, u32, u64)> {
    let (uidvalidity, first, modseq): (u32, u32, u64) = tx.query_row(
        "UPDATE mailboxes SET uidnext = uidnext + ?2, highest_modseq = highest_modseq + 1
          WHERE id = ?1 RETURNING uidvalidity, uidnext - ?2, highest_modseq",
        params![mailbox, count],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if u64::from(first) + u64::from(count) >= u64::from(u32::MAX) {
        return Err(StoreError::Refused("Mailbox has run out of UIDs".into()));
    }
    Ok((uidvalidity, first, modseq))
}

/// Bumps the mailbox's HIGHEST_MODSEQ and returns the new value.
pub fn next_modseq(tx: &Connection, mailbox: MailboxId) -> StoreResult<u64> {
    Ok(tx.query_row(
        "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?1
         RETURNING highest_modseq",
        [mailbox],
        |r| r.get(0),
    )?)
}

fn days_since_epoch(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}

pub fn append(
    tx: &Connection,
    mailbox: MailboxId,
    message: &NewMessage,
) -> StoreResult<AppendOutcome> {
    let (uidvalidity, uid, modseq) = allocate(tx, mailbox, 1)?;
    tx.prepare_cached("INSERT INTO bodies (raw) VALUES (?1)")?
        .execute([&message.raw])?;
    let body = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO body_meta (id, meta) VALUES (?1, ?2)")?
        .execute(params![body, &message.index])?;
    tx.prepare_cached("INSERT INTO search_pending (id, headers, body) VALUES (?1, ?2, ?3)")?
        .execute(params![body, &message.search.headers, &message.search.body])?;
    super::sort::insert(tx, body, &message.sort)?;
    let date = &message.internal_date;
    tx.prepare_cached(
        "INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size,
                               flags, keywords, body_id, sent_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        mailbox,
        uid,
        modseq,
        date.timestamp(),
        date.offset().local_minus_utc() / 60,
        message.raw.len() as i64,
        message.flags.system.0,
        message.flags.keywords.join(" "),
        body,
        message.search.sent_date.map(days_since_epoch),
    ])?;
    Ok(AppendOutcome {
        mailbox,
        uidvalidity,
        uid,
    })
}

/// The mailbox as a newly selecting session sees it.
pub fn select(
    tx: &Connection,
    mailbox: MailboxId,
    name: &str,
    claim_recent: bool,
) -> StoreResult<SelectedMailbox> {
    let (uidvalidity, uidnext, highest_modseq) = tx.query_row(
        "SELECT uidvalidity, uidnext, highest_modseq FROM mailboxes WHERE id = ?1",
        [mailbox],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let messages = metas(tx, mailbox, "uid > ?2", 0, claim_recent)?;
    let mut keywords: Vec<String> = messages
        .iter()
        .flat_map(|m| m.flags.keywords.iter().cloned())
        .collect();
    keywords.sort();
    keywords.dedup();
    Ok(SelectedMailbox {
        id: mailbox,
        name: name.to_owned(),
        uidvalidity,
        uidnext,
        highest_modseq,
        messages,
        keywords,
    })
}

/// Message metadata matching `condition` (on `?2`), in UID order; with
/// `claim_recent`, takes over the `\Recent` ones.
fn metas(
    tx: &Connection,
    mailbox: MailboxId,
    condition: &str,
    value: u64,
    claim_recent: bool,
) -> StoreResult<Vec<MessageMeta>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT uid, flags, keywords, modseq, recent FROM messages
          WHERE mailbox_id = ?1 AND {condition} ORDER BY uid"
    ))?;
    let messages = stmt
        .query_map(params![mailbox, value], |r| {
            Ok(MessageMeta {
                uid: r.get(0)?,
                flags: flags_from(r, 1)?,
                modseq: r.get(3)?,
                recent: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if claim_recent && messages.iter().any(|m| m.recent) {
        let first = messages.iter().map(|m| m.uid).min().unwrap_or(0);
        tx.execute(
            "UPDATE messages SET recent = 0 WHERE mailbox_id = ?1 AND uid >= ?2 AND recent = 1",
            params![mailbox, first],
        )?;
    }
    Ok(messages)
}

/// Reads `flags, keywords` columns starting at `index`.
fn flags_from(r: &Row, index: usize) -> rusqlite::Result<Flags> {
    let keywords: String = r.get(index + 1)?;
    Ok(Flags {
        system: SystemFlags(r.get(index)?),
        keywords: keywords.split_whitespace().map(str::to_owned).collect(),
    })
}

pub fn highest_modseq(tx: &Connection, mailbox: MailboxId) -> StoreResult<u64> {
    use rusqlite::OptionalExtension;
    tx.query_row(
        "SELECT highest_modseq FROM mailboxes WHERE id = ?1",
        [mailbox],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::NoSuchMailbox)
}

pub fn changes_since(
    tx: &Connection,
    mailbox: MailboxId,
    modseq: u64,
    last_uid: u32,
    claim_recent: bool,
) -> StoreResult<Changes> {
    let highest_modseq = highest_modseq(tx, mailbox)?;
    let mut changes = Changes {
        highest_modseq,
        ..Changes::default()
    };
    if highest_modseq <= modseq {
        return Ok(changes);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
    )?;
    changes.expunged = stmt
        .query_map(params![mailbox, modseq], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let changed = metas(tx, mailbox, "modseq > ?2", modseq, false)?;
    (changes.updated, changes.new) = changed.into_iter().partition(|m| m.uid <= last_uid);
    if claim_recent && changes.new.iter().any(|m| m.recent) {
        tx.execute(
            "UPDATE messages SET recent = 0 WHERE mailbox_id = ?1 AND uid > ?2 AND recent = 1",
            params![mailbox, last_uid],
        )?;
    }
    Ok(changes)
}

/// Groups ascending UIDs into runs of consecutive values, so range queries
/// return exactly the requested rows.
fn runs(uids: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &uid in uids {
        match runs.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(uid) => *end = uid,
            _ => runs.push((uid, uid)),
        }
    }
    runs
}

pub fn fetch(
    tx: &Connection,
    mailbox: MailboxId,
    uids: &[u32],
    request: FetchRequest,
) -> StoreResult<Vec<FetchedMessage>> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.uid, m.flags, m.keywords, m.modseq, m.internal_date, m.internal_tz, m.size,
                CASE WHEN ?4 THEN (SELECT meta FROM body_meta WHERE id = m.body_id) END,
                CASE WHEN ?5 THEN (SELECT raw FROM bodies WHERE id = m.body_id) END,
                m.added_at
           FROM messages m
          WHERE m.mailbox_id = ?1 AND m.uid BETWEEN ?2 AND ?3 ORDER BY m.uid",
    )?;
    let mut out = Vec::with_capacity(uids.len());
    for (first, last) in runs(uids) {
        let rows = stmt.query_map(
            params![mailbox, first, last, request.index, request.raw],
            |r| {
                let seconds: i64 = r.get(4)?;
                let offset_minutes: i32 = r.get(5)?;
                Ok(FetchedMessage {
                    uid: r.get(0)?,
                    flags: flags_from(r, 1)?,
                    modseq: r.get(3)?,
                    internal_date: internal_date(seconds, offset_minutes),
                    saved_at: r.get(9)?,
                    size: r.get(6)?,
                    index: r.get(7)?,
                    raw: r.get(8)?,
                })
            },
        )?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// The MODSEQ a STORE gives the messages it changes: one new MODSEQ for
/// them all, taken when the first change asks for it.
struct NewModseq {
    mailbox: MailboxId,
    value: Option<u64>,
}

impl NewModseq {
    fn take(&mut self, tx: &Connection) -> StoreResult<u64> {
        match self.value {
            Some(value) => Ok(value),
            None => Ok(*self.value.insert(next_modseq(tx, self.mailbox)?)),
        }
    }
}

/// STORE's shape, for flags and for per-user `\Seen`: each message of
/// `uids` not changed after `unchanged_since` is handed to `apply`, which
/// returns its flags afterwards and, when it changed them, the MODSEQ it
/// gave the message.
fn store_each(
    tx: &Connection,
    mailbox: MailboxId,
    uids: &[u32],
    unchanged_since: Option<u64>,
    mut apply: impl FnMut(&FetchedMessage, &mut NewModseq) -> StoreResult<(Flags, Option<u64>)>,
) -> StoreResult<StoreOutcome> {
    let current = fetch(tx, mailbox, uids, FetchRequest::default())?;
    let mut outcome = StoreOutcome::default();
    let mut modseq = NewModseq {
        mailbox,
        value: None,
    };
    for message in current {
        if unchanged_since.is_some_and(|limit| message.modseq > limit) {
            outcome.modified.push(message.uid);
            continue;
        }
        let (flags, changed) = apply(&message, &mut modseq)?;
        outcome.messages.push(StoredFlags {
            uid: message.uid,
            flags,
            modseq: changed.unwrap_or(message.modseq),
            changed: changed.is_some(),
        });
    }
    Ok(outcome)
}

pub fn store_flags(
    tx: &Connection,
    mailbox: MailboxId,
    uids: &[u32],
    change: FlagChange,
    flags: &Flags,
    unchanged_since: Option<u64>,
) -> StoreResult<StoreOutcome> {
    let mut update = tx.prepare_cached(
        "UPDATE messages SET flags = ?3, keywords = ?4, modseq = ?5
          WHERE mailbox_id = ?1 AND uid = ?2",
    )?;
    store_each(tx, mailbox, uids, unchanged_since, |message, modseq| {
        let new = changed_flags(&message.flags, change, flags);
        if same_flags(&new, &message.flags) {
            return Ok((new, None));
        }
        let value = modseq.take(tx)?;
        update.execute(params![
            mailbox,
            message.uid,
            new.system.0,
            new.keywords.join(" "),
            value
        ])?;
        Ok((new, Some(value)))
    })
}

/// STORE of `\Seen` by `user` in a mailbox with per-user `\Seen`.
pub fn store_seen_by(
    tx: &Connection,
    mailbox: MailboxId,
    user: UserId,
    uids: &[u32],
    seen: bool,
    unchanged_since: Option<u64>,
) -> StoreResult<StoreOutcome> {
    let mut bump =
        tx.prepare_cached("UPDATE messages SET modseq = ?3 WHERE mailbox_id = ?1 AND uid = ?2")?;
    store_each(tx, mailbox, uids, unchanged_since, |message, modseq| {
        let flags = message.flags.clone().with_seen(seen);
        if !super::seen::mark(tx, mailbox, user, message.uid, seen)? {
            return Ok((flags, None));
        }
        let value = modseq.take(tx)?;
        bump.execute(params![mailbox, message.uid, value])?;
        Ok((flags, Some(value)))
    })
}

pub fn copy(
    tx: &Connection,
    source: MailboxId,
    uids: &[u32],
    target: MailboxId,
    kept: KeptFlags,
) -> StoreResult<CopyOutcome> {
    let mut rows: Vec<(u32, i64, u8)> = Vec::with_capacity(uids.len());
    {
        let mut stmt = tx.prepare_cached(
            "SELECT uid, id, flags FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3
              ORDER BY uid",
        )?;
        for (first, last) in runs(uids) {
            for row in stmt.query_map(params![source, first, last], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })? {
                rows.push(row?);
            }
        }
    }
    let count =
        u32::try_from(rows.len()).map_err(|_| StoreError::Refused("Too many messages".into()))?;
    let (uidvalidity, first_uid, modseq) = if count == 0 {
        let uidvalidity = tx.query_row(
            "SELECT uidvalidity FROM mailboxes WHERE id = ?1",
            [target],
            |r| r.get(0),
        )?;
        (uidvalidity, 0, 0)
    } else {
        allocate(tx, target, count)?
    };
    // Where a side keeps \Seen per user, the copier's is read or given.
    let private = |mailbox| -> StoreResult<Option<UserId>> {
        match kept.viewer {
            Some(user) if super::seen::is_private(tx, mailbox)? => Ok(Some(user)),
            _ => Ok(None),
        }
    };
    let (read_seen_of, give_seen_to) = (private(source)?, private(target)?);
    let mut insert = tx.prepare_cached(
        "INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size,
                               flags, keywords, body_id, sent_date)
         SELECT ?1, ?2, ?3, internal_date, internal_tz, size, ?5,
                CASE WHEN ?6 THEN keywords ELSE '' END, body_id, sent_date
           FROM messages WHERE id = ?4",
    )?;
    let mut pairs = Vec::with_capacity(rows.len());
    for (i, (uid, row_id, flags)) in rows.into_iter().enumerate() {
        let new_uid = first_uid + i as u32;
        let mut flags = Flags {
            system: SystemFlags(flags),
            keywords: Vec::new(),
        };
        if let Some(user) = read_seen_of {
            flags = flags.with_seen(super::seen::has_seen(tx, source, user, uid)?);
        }
        let mut system = flags.system.0 & kept.system;
        let seen = system & SystemFlags::SEEN != 0;
        if give_seen_to.is_some() {
            system &= !SystemFlags::SEEN;
        }
        insert.execute(params![
            target,
            new_uid,
            modseq,
            row_id,
            system,
            kept.keywords
        ])?;
        if let Some(user) = give_seen_to {
            super::seen::mark(tx, target, user, new_uid, seen)?;
        }
        pairs.push((uid, new_uid));
    }
    Ok(CopyOutcome {
        mailbox: target,
        uidvalidity,
        uids: pairs,
    })
}

/// Removes `\Deleted` messages (within `uids` when given), leaves
/// tombstones and drops bodies no longer used.
pub fn expunge(tx: &Connection, mailbox: MailboxId, uids: Option<&[u32]>) -> StoreResult<Vec<u32>> {
    remove(tx, mailbox, uids, DELETED)
}

/// Removes the messages (within `uids` when given) whose flags include
/// all of `required` (0: any message), as EXPUNGE and MOVE do.
pub fn remove(
    tx: &Connection,
    mailbox: MailboxId,
    uids: Option<&[u32]>,
    required: u8,
) -> StoreResult<Vec<u32>> {
    let ranges = match uids {
        Some(uids) => runs(uids),
        None => vec![(0, u32::MAX)],
    };
    let mut removed: Vec<(u32, i64)> = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "DELETE FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3
               AND flags & ?4 = ?4 RETURNING uid, body_id",
        )?;
        for (first, last) in ranges {
            for row in stmt.query_map(params![mailbox, first, last, required], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })? {
                removed.push(row?);
            }
        }
    }
    if removed.is_empty() {
        return Ok(Vec::new());
    }
    let modseq = next_modseq(tx, mailbox)?;
    let mut tombstone = tx.prepare_cached(
        "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
    )?;
    let mut drop_body = tx.prepare_cached(
        "DELETE FROM bodies WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE body_id = ?1)",
    )?;
    for (uid, body) in &removed {
        tombstone.execute(params![mailbox, uid, modseq])?;
        drop_body.execute([body])?;
    }
    let mut uids: Vec<u32> = removed.into_iter().map(|(uid, _)| uid).collect();
    uids.sort_unstable();
    Ok(uids)
}

/// Tombstones above `modseq`, optionally limited to UID ranges.
pub fn vanished_since(
    tx: &Connection,
    mailbox: MailboxId,
    modseq: u64,
    within: Option<&[std::ops::RangeInclusive<u32>]>,
) -> StoreResult<Vec<u32>> {
    let mut stmt = tx.prepare_cached(
        "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
    )?;
    let uids = stmt
        .query_map(params![mailbox, modseq], |r| r.get::<_, u32>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match within {
        Some(ranges) => uids
            .into_iter()
            .filter(|uid| ranges.iter().any(|r| r.contains(uid)))
            .collect(),
        None => uids,
    })
}

pub fn status(tx: &Connection, mailbox: MailboxId) -> StoreResult<MailboxStatus> {
    Ok(tx.query_row(
        "SELECT b.uidvalidity, b.uidnext, b.highest_modseq,
                count(m.id),
                coalesce(sum(m.recent), 0),
                coalesce(sum(m.flags & ?2 = 0), 0),
                coalesce(sum(m.flags & ?3 != 0), 0),
                coalesce(sum(m.size), 0)
           FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id
          WHERE b.id = ?1",
        params![mailbox, SEEN, DELETED],
        |r| {
            Ok(MailboxStatus {
                id: mailbox,
                uidvalidity: r.get(0)?,
                uidnext: r.get(1)?,
                highest_modseq: r.get(2)?,
                messages: r.get(3)?,
                recent: r.get(4)?,
                unseen: r.get(5)?,
                deleted: r.get(6)?,
                size: r.get(7)?,
            })
        },
    )?)
}

/// Moves every message of `from` into `to` with new UIDs in `to`, keeping
/// their order (the RENAME INBOX case). `from` records the expunges.
pub fn move_all(tx: &Connection, from: MailboxId, to: MailboxId) -> StoreResult<()> {
    let uids: Vec<u32> = {
        let mut stmt = tx.prepare("SELECT uid FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
        stmt.query_map([from], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    if uids.is_empty() {
        return Ok(());
    }
    let (_, first_uid, modseq) = allocate(tx, to, uids.len() as u32)?;
    let from_modseq = next_modseq(tx, from)?;
    for (i, uid) in uids.iter().enumerate() {
        tx.execute(
            "UPDATE messages SET mailbox_id = ?3, uid = ?4, modseq = ?5, added_at = unixepoch()
              WHERE mailbox_id = ?1 AND uid = ?2",
            params![from, uid, to, first_uid + i as u32, modseq],
        )?;
        // Per-user \Seen moves with its message (an UPDATE fires no
        // delete trigger).
        tx.execute(
            "UPDATE seen_by SET mailbox_id = ?3, uid = ?4 WHERE mailbox_id = ?1 AND uid = ?2",
            params![from, uid, to, first_uid + i as u32],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
            params![from, uid, from_modseq],
        )?;
    }
    Ok(())
}

/// UIDs in `mailbox` that entered it before `cutoff` (unix seconds).
pub fn added_before(tx: &Connection, mailbox: MailboxId, cutoff: i64) -> StoreResult<Vec<u32>> {
    let mut stmt = tx.prepare_cached(
        "SELECT uid FROM messages WHERE mailbox_id = ?1 AND added_at < ?2 ORDER BY uid",
    )?;
    let uids = stmt.query_map(params![mailbox, cutoff], |r| r.get(0))?;
    Ok(uids.collect::<Result<_, _>>()?)
}

/// Drops bodies no message refers to any more.
pub fn delete_orphan_bodies(tx: &Connection) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM bodies WHERE NOT EXISTS (SELECT 1 FROM messages WHERE body_id = bodies.id)",
        [],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_consecutive_uids() {
        assert_eq!(
            runs(&[1, 2, 3, 5, 7, 8, u32::MAX]),
            [(1, 3), (5, 5), (7, 8), (u32::MAX, u32::MAX)]
        );
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn flag_changes() {
        let old = Flags {
            system: SystemFlags(SEEN),
            keywords: vec!["$Work".into()],
        };
        let asked = Flags {
            system: SystemFlags(DELETED),
            keywords: vec!["$work".into(), "Later".into()],
        };
        let added = changed_flags(&old, FlagChange::Add, &asked);
        assert_eq!(added.system.0, SEEN | DELETED);
        assert_eq!(added.keywords, ["$Work", "Later"]);
        let removed = changed_flags(&added, FlagChange::Remove, &asked);
        assert_eq!(removed.system.0, SEEN);
        assert!(removed.keywords.is_empty());
        assert_eq!(changed_flags(&old, FlagChange::Replace, &asked), asked);
        assert!(same_flags(
            &old,
            &Flags {
                system: SystemFlags(SEEN),
                keywords: vec!["$WORK".into()]
            }
        ));
    }
}
