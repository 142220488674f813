//! The SQLite backend of [`MailStore`].
//!
//! One database file, WAL mode, foreign keys on. Writes go through a single
//! connection inside `BEGIN IMMEDIATE` transactions (SQLite has one writer
//! anyway, and taking the lock up front avoids upgrade deadlocks); reads use
//! a small pool of further connections so they run beside a write.

mod mailboxes;
mod messages;
mod schema;
mod search;
mod users;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::*;
use crate::config::Synchronous;

const READERS: usize = 4;

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Internal(e.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database and migrates its schema.
    pub fn open(path: &Path, synchronous: Synchronous) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Internal(format!("{}: {e}", dir.display())))?;
        }
        let mut writer = open_connection(path, synchronous)?;
        schema::migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, synchronous).map(Mutex::new))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Runs `f` in an immediate transaction and commits it.
    fn write<T>(&self, f: impl FnOnce(&Transaction) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` on a reader connection inside a read transaction, so it sees
    /// one consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&Transaction) -> StoreResult<T>) -> StoreResult<T> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let mut conn = (0..READERS)
            .find_map(|i| self.readers[(start + i) % READERS].try_lock().ok())
            .unwrap_or_else(|| {
                self.readers[start % READERS]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
            });
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
}

fn open_connection(path: &Path, synchronous: Synchronous) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let sync = match synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Looks up a user's mailbox id, selectable or not.
fn mailbox_id(
    tx: &Transaction,
    user: UserId,
    name: &str,
) -> StoreResult<Option<(MailboxId, bool)>> {
    use rusqlite::OptionalExtension;
    Ok(tx
        .query_row(
            "SELECT id, selectable FROM mailboxes WHERE user_id = ?1 AND name = ?2",
            rusqlite::params![user, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The id of a selectable mailbox, or the error IMAP reports for it.
fn selectable_mailbox(tx: &Transaction, user: UserId, name: &str) -> StoreResult<MailboxId> {
    match mailbox_id(tx, user, name)? {
        Some((id, true)) => Ok(id),
        Some((_, false)) => Err(StoreError::NotSelectable),
        None => Err(StoreError::NoSuchMailbox),
    }
}

impl MailStore for SqliteStore {
    fn create_user(&self, name: &str, password_hash: &str) -> StoreResult<UserId> {
        self.write(|tx| users::create(tx, name, password_hash))
    }

    fn set_password_hash(&self, name: &str, password_hash: &str) -> StoreResult<()> {
        self.write(|tx| users::set_password_hash(tx, name, password_hash))
    }

    fn delete_user(&self, name: &str) -> StoreResult<()> {
        self.write(|tx| users::delete(tx, name))
    }

    fn find_user(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        self.read(|tx| users::find(tx, name))
    }

    fn list_users(&self) -> StoreResult<Vec<UserSummary>> {
        self.read(users::list)
    }

    fn list_mailboxes(&self, user: UserId) -> StoreResult<Vec<MailboxInfo>> {
        self.read(|tx| mailboxes::list(tx, user))
    }

    fn list_subscriptions(&self, user: UserId) -> StoreResult<Vec<String>> {
        self.read(|tx| mailboxes::subscriptions(tx, user))
    }

    fn create_mailbox(
        &self,
        user: UserId,
        name: &MailboxName,
        special_use: Option<SpecialUse>,
    ) -> StoreResult<()> {
        self.write(|tx| mailboxes::create(tx, user, name, special_use))
    }

    fn delete_mailbox(&self, user: UserId, name: &MailboxName) -> StoreResult<()> {
        self.write(|tx| mailboxes::delete(tx, user, name))
    }

    fn rename_mailbox(
        &self,
        user: UserId,
        from: &MailboxName,
        to: &MailboxName,
    ) -> StoreResult<()> {
        self.write(|tx| mailboxes::rename(tx, user, from, to))
    }

    fn set_subscribed(
        &self,
        user: UserId,
        name: &MailboxName,
        subscribed: bool,
    ) -> StoreResult<()> {
        self.write(|tx| mailboxes::set_subscribed(tx, user, name, subscribed))
    }

    fn status(&self, user: UserId, name: &MailboxName) -> StoreResult<MailboxStatus> {
        self.read(|tx| messages::status(tx, selectable_mailbox(tx, user, name.as_str())?))
    }

    fn select(
        &self,
        user: UserId,
        name: &MailboxName,
        claim_recent: bool,
    ) -> StoreResult<SelectedMailbox> {
        let select = |tx: &Transaction| {
            let id = selectable_mailbox(tx, user, name.as_str())?;
            messages::select(tx, id, name.as_str(), claim_recent)
        };
        if claim_recent {
            self.write(select)
        } else {
            self.read(select)
        }
    }

    fn append(
        &self,
        user: UserId,
        name: &MailboxName,
        message: NewMessage,
    ) -> StoreResult<AppendOutcome> {
        self.write(|tx| {
            let id = selectable_mailbox(tx, user, name.as_str())?;
            messages::append(tx, id, &message)
        })
    }

    fn changes_since(
        &self,
        mailbox: MailboxId,
        modseq: u64,
        last_uid: u32,
        claim_recent: bool,
    ) -> StoreResult<Changes> {
        // Cheap read first: most catch-ups find nothing new, and only new
        // \Recent messages need the write lock.
        let changes =
            self.read(|tx| messages::changes_since(tx, mailbox, modseq, last_uid, false))?;
        if !claim_recent || !changes.new.iter().any(|m| m.recent) {
            return Ok(changes);
        }
        self.write(|tx| messages::changes_since(tx, mailbox, modseq, last_uid, true))
    }

    fn fetch(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        request: FetchRequest,
    ) -> StoreResult<Vec<FetchedMessage>> {
        self.read(|tx| messages::fetch(tx, mailbox, uids, request))
    }

    fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> StoreResult<StoreOutcome> {
        self.write(|tx| messages::store_flags(tx, mailbox, uids, change, flags, unchanged_since))
    }

    fn copy(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
    ) -> StoreResult<CopyOutcome> {
        self.write(|tx| {
            let target = selectable_mailbox(tx, user, target.as_str())?;
            messages::copy(tx, mailbox, uids, target)
        })
    }

    fn expunge(&self, mailbox: MailboxId, uids: Option<&[u32]>) -> StoreResult<Vec<u32>> {
        self.write(|tx| messages::expunge(tx, mailbox, uids))
    }

    fn search(&self, mailbox: MailboxId, query: &SearchQuery) -> StoreResult<Vec<u32>> {
        self.read(|tx| search::search(tx, mailbox, query))
    }
}

#[cfg(test)]
mod tests;
