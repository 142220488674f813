//! Messages: APPEND (UIDs and MODSEQs allocated under the mailbox row's
//! lock, so they increase in commit order whichever node writes), SELECT,
//! FETCH, STATUS and catching up by MODSEQ.

use ::postgres::Row;

use super::statements::Tx;
use chrono::NaiveDate;

use super::error;
use crate::store::*;
use crate::store::{changed_flags, same_flags};

/// Locks the mailbox row for this transaction and takes `count` UIDs and
/// one MODSEQ: (uidvalidity, first uid, modseq). A concurrent writer of
/// the same mailbox waits here until this transaction ends.
pub fn allocate(tx: &mut Tx, mailbox: MailboxId, count: u32) -> StoreResult<(u32, u32, u64)> {
    let row = tx
        .query_opt(
            "UPDATE mailboxes SET uidnext = uidnext + $2, highest_modseq = highest_modseq + 1
              WHERE id = $1 RETURNING uidvalidity, uidnext - $2, highest_modseq",
            &[&mailbox, &i64::from(count)],
        )
        .map_err(error)?
        .ok_or(StoreError::NoSuchMailbox)?;
    let (uidvalidity, first, modseq): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    if first + i64::from(count) >= i64::from(u32::MAX) {
        return Err(StoreError::Refused("Mailbox has run out of UIDs".into()));
    }
    Ok((uidvalidity as u32, first as u32, modseq as u64))
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    date.signed_duration_since(NaiveDate::default()).num_days() as i32
}

pub fn append(tx: &mut Tx, mailbox: MailboxId, message: &NewMessage) -> StoreResult<AppendOutcome> {
    let (uidvalidity, uid, modseq) = allocate(tx, mailbox, 1)?;
    let body: i64 = tx
        .query_one(
            "INSERT INTO bodies (raw, meta) VALUES ($1, $2) RETURNING id",
            &[&message.raw, &message.index],
        )
        .map_err(error)?
        .get(0);
    // SEARCH matches lower-cased text with a case-sensitive LIKE, folded
    // here as Rust folds it; PostgreSQL text holds no NUL.
    let fold = |text: &str| text.to_lowercase().replace('\0', "");
    tx.execute(
        "INSERT INTO search_text (id, headers, body) VALUES ($1, $2, $3)",
        &[
            &body,
            &fold(&message.search.headers),
            &fold(&message.search.body),
        ],
    )
    .map_err(error)?;
    super::sort::insert(tx, body, &message.sort)?;
    let date = &message.internal_date;
    tx.execute(
        "INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size,
                               flags, keywords, body_id, sent_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &mailbox,
            &i64::from(uid),
            &(modseq as i64),
            &date.timestamp(),
            &(date.offset().local_minus_utc() / 60),
            &(message.raw.len() as i64),
            &i16::from(message.flags.system.0),
            &message.flags.keywords.join(" "),
            &body,
            &message.search.sent_date.map(days_since_epoch),
        ],
    )
    .map_err(error)?;
    Ok(AppendOutcome {
        mailbox,
        uidvalidity,
        uid,
    })
}

/// Reads `flags, keywords` columns starting at `index`.
fn flags_from(r: &Row, index: usize) -> Flags {
    let keywords: &str = r.get(index + 1);
    Flags {
        system: SystemFlags(r.get::<_, i16>(index) as u8),
        keywords: keywords.split_whitespace().map(str::to_owned).collect(),
    }
}

/// Message metadata with `modseq > after`, in UID order.
fn metas(tx: &mut Tx, mailbox: MailboxId, after: u64) -> StoreResult<Vec<MessageMeta>> {
    let rows = tx
        .query(
            "SELECT uid, flags, keywords, modseq, recent FROM messages
              WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
            &[&mailbox, &(after as i64)],
        )
        .map_err(error)?;
    let messages: Vec<MessageMeta> = rows
        .iter()
        .map(|r| MessageMeta {
            uid: r.get::<_, i64>(0) as u32,
            flags: flags_from(r, 1),
            modseq: r.get::<_, i64>(3) as u64,
            recent: r.get(4),
        })
        .collect();
    Ok(messages)
}

pub fn select(
    tx: &mut Tx,
    mailbox: MailboxId,
    name: &str,
    claim_recent: bool,
) -> StoreResult<SelectedMailbox> {
    let row = tx
        .query_one(
            "SELECT uidvalidity, uidnext, highest_modseq FROM mailboxes WHERE id = $1",
            &[&mailbox],
        )
        .map_err(error)?;
    let messages = metas(tx, mailbox, 0)?;
    if claim_recent && messages.iter().any(|m| m.recent) {
        tx.execute(
            "UPDATE messages SET recent = false WHERE mailbox_id = $1 AND recent",
            &[&mailbox],
        )
        .map_err(error)?;
    }
    let mut keywords: Vec<String> = messages
        .iter()
        .flat_map(|m| m.flags.keywords.iter().cloned())
        .collect();
    keywords.sort();
    keywords.dedup();
    Ok(SelectedMailbox {
        id: mailbox,
        name: name.to_owned(),
        uidvalidity: row.get::<_, i64>(0) as u32,
        uidnext: row.get::<_, i64>(1) as u32,
        highest_modseq: row.get::<_, i64>(2) as u64,
        messages,
        keywords,
    })
}

pub fn fetch(
    tx: &mut Tx,
    mailbox: MailboxId,
    uids: &[u32],
    request: FetchRequest,
) -> StoreResult<Vec<FetchedMessage>> {
    let uids: Vec<i64> = uids.iter().map(|&u| i64::from(u)).collect();
    let rows = tx
        .query(
            "SELECT m.uid, m.flags, m.keywords, m.modseq, m.internal_date, m.internal_tz, m.size,
                    CASE WHEN $3 THEN b.meta END, CASE WHEN $4 THEN b.raw END, m.added_at
               FROM messages m JOIN bodies b ON b.id = m.body_id
              WHERE m.mailbox_id = $1 AND m.uid = ANY($2) ORDER BY m.uid",
            &[&mailbox, &uids, &request.index, &request.raw],
        )
        .map_err(error)?;
    Ok(rows
        .iter()
        .map(|r| FetchedMessage {
            uid: r.get::<_, i64>(0) as u32,
            flags: flags_from(r, 1),
            modseq: r.get::<_, i64>(3) as u64,
            internal_date: internal_date(r.get(4), r.get(5)),
            saved_at: r.get(9),
            size: r.get::<_, i64>(6) as u32,
            index: r.get(7),
            raw: r.get(8),
        })
        .collect())
}

pub fn status(tx: &mut Tx, mailbox: MailboxId) -> StoreResult<MailboxStatus> {
    let row = tx
        .query_one(
            "SELECT b.uidvalidity, b.uidnext, b.highest_modseq,
                    count(m.id),
                    count(m.id) FILTER (WHERE m.recent),
                    count(m.id) FILTER (WHERE m.flags & 1 = 0),
                    count(m.id) FILTER (WHERE m.flags & 8 != 0),
                    coalesce(sum(m.size), 0)::bigint
               FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id
              WHERE b.id = $1 GROUP BY b.id",
            &[&mailbox],
        )
        .map_err(error)?;
    Ok(MailboxStatus {
        id: mailbox,
        uidvalidity: row.get::<_, i64>(0) as u32,
        uidnext: row.get::<_, i64>(1) as u32,
        highest_modseq: row.get::<_, i64>(2) as u64,
        messages: row.get::<_, i64>(3) as u32,
        recent: row.get::<_, i64>(4) as u32,
        unseen: row.get::<_, i64>(5) as u32,
        deleted: row.get::<_, i64>(6) as u32,
        size: row.get::<_, i64>(7) as u64,
    })
}

/// Bumps the mailbox's HIGHEST_MODSEQ (the row stays locked until the
/// transaction ends) and returns the new value.
pub fn next_modseq(tx: &mut Tx, mailbox: MailboxId) -> StoreResult<u64> {
    let row = tx
        .query_opt(
            "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = $1
             RETURNING highest_modseq",
            &[&mailbox],
        )
        .map_err(error)?
        .ok_or(StoreError::NoSuchMailbox)?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Locks the mailbox row before reading what will be changed: another
/// node's STORE to the same messages waits rather than being lost.
pub fn lock(tx: &mut Tx, mailbox: MailboxId) -> StoreResult<()> {
    tx.query_opt(
        "SELECT 1 FROM mailboxes WHERE id = $1 FOR NO KEY UPDATE",
        &[&mailbox],
    )
    .map_err(error)?
    .ok_or(StoreError::NoSuchMailbox)?;
    Ok(())
}

pub fn highest_modseq(tx: &mut Tx, mailbox: MailboxId) -> StoreResult<u64> {
    let row = tx
        .query_opt(
            "SELECT highest_modseq FROM mailboxes WHERE id = $1",
            &[&mailbox],
        )
        .map_err(error)?
        .ok_or(StoreError::NoSuchMailbox)?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// The MODSEQ a STORE gives the messages it changes: one new MODSEQ for
/// them all, taken when the first change asks for it.
struct NewModseq {
    mailbox: MailboxId,
    value: Option<u64>,
}

impl NewModseq {
    fn take(&mut self, tx: &mut Tx) -> StoreResult<u64> {
        match self.value {
            Some(value) => Ok(value),
            None => Ok(*self.value.insert(next_modseq(tx, self.mailbox)?)),
        }
    }
}

/// STORE's shape, for flags and for per-user `\Seen`: the mailbox locked
/// first (another node's STORE to the same messages waits rather than
/// being lost), then each message of `uids` not changed after
/// `unchanged_since` handed to `apply`, which returns its flags afterwards
/// and, when it changed them, the MODSEQ it gave the message.
fn store_each(
    tx: &mut Tx,
    mailbox: MailboxId,
    uids: &[u32],
    unchanged_since: Option<u64>,
    mut apply: impl FnMut(&mut Tx, &FetchedMessage, &mut NewModseq) -> StoreResult<(Flags, Option<u64>)>,
) -> StoreResult<StoreOutcome> {
    lock(tx, mailbox)?;
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
        let (flags, changed) = apply(tx, &message, &mut modseq)?;
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
    tx: &mut Tx,
    mailbox: MailboxId,
    uids: &[u32],
    change: FlagChange,
    flags: &Flags,
    unchanged_since: Option<u64>,
) -> StoreResult<StoreOutcome> {
    store_each(tx, mailbox, uids, unchanged_since, |tx, message, modseq| {
        let new = changed_flags(&message.flags, change, flags);
        if same_flags(&new, &message.flags) {
            return Ok((new, None));
        }
        let value = modseq.take(tx)?;
        tx.execute(
            "UPDATE messages SET flags = $3, keywords = $4, modseq = $5
              WHERE mailbox_id = $1 AND uid = $2",
            &[
                &mailbox,
                &i64::from(message.uid),
                &i16::from(new.system.0),
                &new.keywords.join(" "),
                &(value as i64),
            ],
        )
        .map_err(error)?;
        Ok((new, Some(value)))
    })
}

/// STORE of `\Seen` by `user` in a mailbox with per-user `\Seen`.
pub fn store_seen_by(
    tx: &mut Tx,
    mailbox: MailboxId,
    user: UserId,
    uids: &[u32],
    seen: bool,
    unchanged_since: Option<u64>,
) -> StoreResult<StoreOutcome> {
    store_each(tx, mailbox, uids, unchanged_since, |tx, message, modseq| {
        let flags = message.flags.clone().with_seen(seen);
        if !super::seen::mark(tx, mailbox, user, message.uid, seen)? {
            return Ok((flags, None));
        }
        let value = modseq.take(tx)?;
        tx.execute(
            "UPDATE messages SET modseq = $3 WHERE mailbox_id = $1 AND uid = $2",
            &[&mailbox, &i64::from(message.uid), &(value as i64)],
        )
        .map_err(error)?;
        Ok((flags, Some(value)))
    })
}

pub fn changes_since(
    tx: &mut Tx,
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
    changes.expunged = vanished_since(tx, mailbox, modseq, None)?;
    let changed = metas(tx, mailbox, modseq)?;
    (changes.updated, changes.new) = changed.into_iter().partition(|m| m.uid <= last_uid);
    if claim_recent && changes.new.iter().any(|m| m.recent) {
        tx.execute(
            "UPDATE messages SET recent = false WHERE mailbox_id = $1 AND uid > $2 AND recent",
            &[&mailbox, &i64::from(last_uid)],
        )
        .map_err(error)?;
    }
    Ok(changes)
}

/// Tombstones above `modseq`, optionally within UID ranges, ascending.
pub fn vanished_since(
    tx: &mut Tx,
    mailbox: MailboxId,
    modseq: u64,
    within: Option<&[std::ops::RangeInclusive<u32>]>,
) -> StoreResult<Vec<u32>> {
    let rows = tx
        .query(
            "SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
            &[&mailbox, &(modseq as i64)],
        )
        .map_err(error)?;
    let uids = rows.iter().map(|r| r.get::<_, i64>(0) as u32);
    Ok(match within {
        Some(ranges) => uids
            .filter(|uid| ranges.iter().any(|r| r.contains(uid)))
            .collect(),
        None => uids.collect(),
    })
}

/// Removes the messages (within `uids` when given) whose flags include
/// all of `required` (0: any), with tombstones under one new MODSEQ;
/// bodies no longer used go. Returns the UIDs removed, ascending.
pub fn remove(
    tx: &mut Tx,
    mailbox: MailboxId,
    uids: Option<&[u32]>,
    required: u8,
) -> StoreResult<Vec<u32>> {
    lock(tx, mailbox)?;
    let all: Vec<i64>;
    let rows = match uids {
        Some(uids) => {
            all = uids.iter().map(|&u| i64::from(u)).collect();
            tx.query(
                "DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2)
                   AND flags & $3 = $3 RETURNING uid, body_id",
                &[&mailbox, &all, &i16::from(required)],
            )
        }
        None => tx.query(
            "DELETE FROM messages WHERE mailbox_id = $1 AND flags & $2 = $2 RETURNING uid, body_id",
            &[&mailbox, &i16::from(required)],
        ),
    }
    .map_err(error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let modseq = next_modseq(tx, mailbox)? as i64;
    let mut removed: Vec<u32> = rows.iter().map(|r| r.get::<_, i64>(0) as u32).collect();
    let removed_i64: Vec<i64> = removed.iter().map(|&u| i64::from(u)).collect();
    let bodies: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
    tx.execute(
        "INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, u, $3 FROM unnest($2::bigint[]) u
         ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq",
        &[&mailbox, &removed_i64, &modseq],
    )
    .map_err(error)?;
    tx.execute(
        "DELETE FROM bodies b WHERE b.id = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.body_id = b.id)",
        &[&bodies],
    )
    .map_err(error)?;
    removed.sort_unstable();
    Ok(removed)
}

/// COPY (and MOVE's first half): the messages `uids` of `source` into
/// `target` under new UIDs, keeping what `kept` keeps.
pub fn copy(
    tx: &mut Tx,
    source: MailboxId,
    uids: &[u32],
    target: MailboxId,
    kept: KeptFlags,
) -> StoreResult<CopyOutcome> {
    let wanted: Vec<i64> = uids.iter().map(|&u| i64::from(u)).collect();
    let rows: Vec<(u32, i64, u8)> = tx
        .query(
            "SELECT uid, id, flags FROM messages WHERE mailbox_id = $1 AND uid = ANY($2) ORDER BY uid",
            &[&source, &wanted],
        )
        .map_err(error)?
        .iter()
        .map(|r| (r.get::<_, i64>(0) as u32, r.get(1), r.get::<_, i16>(2) as u8))
        .collect();
    let count =
        u32::try_from(rows.len()).map_err(|_| StoreError::Refused("Too many messages".into()))?;
    let (uidvalidity, first_uid, modseq) = if count == 0 {
        let row = tx
            .query_opt(
                "SELECT uidvalidity FROM mailboxes WHERE id = $1",
                &[&target],
            )
            .map_err(error)?
            .ok_or(StoreError::NoSuchMailbox)?;
        (row.get::<_, i64>(0) as u32, 0, 0)
    } else {
        allocate(tx, target, count)?
    };
    // Where a side keeps \Seen per user, the copier's is read or given.
    let mut private = |mailbox| -> StoreResult<Option<UserId>> {
        match kept.viewer {
            Some(user) if super::seen::is_private(tx, mailbox)? => Ok(Some(user)),
            _ => Ok(None),
        }
    };
    let (read_seen_of, give_seen_to) = (private(source)?, private(target)?);
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
        tx.execute(
            "INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size,
                                   flags, keywords, body_id, sent_date)
             SELECT $1, $2, $3, internal_date, internal_tz, size, $5,
                    CASE WHEN $6 THEN keywords ELSE '' END, body_id, sent_date
               FROM messages WHERE id = $4",
            &[
                &target,
                &i64::from(new_uid),
                &(modseq as i64),
                &row_id,
                &i16::from(system),
                &kept.keywords,
            ],
        )
        .map_err(error)?;
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

/// RENAME INBOX's half: every message of `from` moves to the new mailbox
/// `to` under new UIDs, tombstones left behind. Per-user `\Seen` moves
/// with its message (`seen_by`'s key cascades on update).
pub fn move_all(tx: &mut Tx, from: MailboxId, to: MailboxId) -> StoreResult<()> {
    lock(tx, from)?;
    let uids: Vec<i64> = tx
        .query(
            "SELECT uid FROM messages WHERE mailbox_id = $1 ORDER BY uid",
            &[&from],
        )
        .map_err(error)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if uids.is_empty() {
        return Ok(());
    }
    let count = u32::try_from(uids.len()).map_err(|_| StoreError::Refused("Too many".into()))?;
    let (_, first_uid, modseq) = allocate(tx, to, count)?;
    let from_modseq = next_modseq(tx, from)? as i64;
    tx.execute(
        "UPDATE messages m SET mailbox_id = $2, uid = $3 + n.ordinality - 1, modseq = $4,
                added_at = floor(extract(epoch FROM now()))::bigint
           FROM unnest($5::bigint[]) WITH ORDINALITY n (uid, ordinality)
          WHERE m.mailbox_id = $1 AND m.uid = n.uid",
        &[&from, &to, &i64::from(first_uid), &(modseq as i64), &uids],
    )
    .map_err(error)?;
    tx.execute(
        "INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, u, $3 FROM unnest($2::bigint[]) u
         ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq",
        &[&from, &uids, &from_modseq],
    )
    .map_err(error)?;
    Ok(())
}

/// UIDs of the messages that entered `mailbox` before `cutoff` (seconds).
pub fn added_before(tx: &mut Tx, mailbox: MailboxId, cutoff: i64) -> StoreResult<Vec<u32>> {
    let rows = tx
        .query(
            "SELECT uid FROM messages WHERE mailbox_id = $1 AND added_at < $2 ORDER BY uid",
            &[&mailbox, &cutoff],
        )
        .map_err(error)?;
    Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u32).collect())
}
