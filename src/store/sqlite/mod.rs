//! The SQLite backend of [`MailStore`].
//!
//! One database file, WAL mode, foreign keys on. Writes go through a single
//! connection inside `BEGIN IMMEDIATE` transactions (SQLite has one writer
//! anyway, and taking the lock up front avoids upgrade deadlocks), with
//! concurrent writes sharing a commit ([`writer`]); reads use a small pool
//! of further connections so they run beside a write.

mod acl;
mod indexer;
mod mailboxes;
mod messages;
mod schema;
mod search;
mod seen;
mod sieve;
mod sort;
mod users;
mod wal;
mod writer;

use writer::Durability;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::notify::ChangeNotifier;
use super::*;
use crate::store::Synchronous;

const READERS: usize = 4;

pub struct SqliteStore {
    writer: Arc<writer::BatchWriter>,
    indexer: Arc<indexer::SearchIndexer>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    notifier: Arc<ChangeNotifier>,
    /// Limits for users without an override.
    default_quota: Mutex<QuotaLimits>,
}

/// How often the poller looks for commits made by other processes (the
/// `deliver` command, a second server on the same file).
const FOREIGN_POLL: Duration = Duration::from_millis(200);

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
        wal::limit_wal_file(&writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, synchronous).map(Mutex::new))
            .collect::<StoreResult<Vec<_>>>()?;
        let notifier = Arc::new(ChangeNotifier::default());
        let poller = open_connection(path, synchronous)?;
        let weak = Arc::downgrade(&notifier);
        std::thread::Builder::new()
            .name("letterbox-change-poller".into())
            .spawn(move || poll_foreign_changes(poller, weak))
            .map_err(|e| StoreError::Internal(format!("cannot start the change poller: {e}")))?;
        let indexer = Arc::new(indexer::SearchIndexer::default());
        let writer = Arc::new(writer::BatchWriter::new(
            writer,
            synchronous == Synchronous::Full,
            indexer.before_commit(),
        ));
        indexer::start(
            open_connection(path, synchronous)?,
            Arc::clone(&indexer),
            Arc::downgrade(&writer),
        )
        .map_err(|e| StoreError::Internal(format!("cannot start the search indexer: {e}")))?;
        Ok(SqliteStore {
            writer,
            indexer,
            readers,
            next_reader: AtomicUsize::new(0),
            notifier,
            default_quota: Mutex::new(QuotaLimits::default()),
        })
    }

    /// Sets the limits of users without an override (the config's).
    pub fn with_default_quota(self, limits: QuotaLimits) -> SqliteStore {
        self.set_default_quota(limits);
        self
    }

    fn default_quota(&self) -> QuotaLimits {
        *self.default_quota.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Like [`Self::write`] for changes to mailboxes: `f` returns the
    /// mailboxes it changed, whose watchers are woken after the commit.
    fn write_mailboxes<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&Connection) -> StoreResult<(T, Vec<MailboxId>)>,
    ) -> StoreResult<T> {
        let (value, changed) = self.writer.write(durability, |tx| {
            let (value, mailboxes) = f(tx)?;
            let changed = mailboxes
                .into_iter()
                .map(|id| Ok((id, messages::highest_modseq(tx, id)?)))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok((value, changed))
        })?;
        for (mailbox, modseq) in changed {
            self.notifier.notify(mailbox, modseq);
        }
        Ok(value)
    }

    /// Writes a consistent copy of the whole database to `target` (which
    /// must not exist) while the server keeps running: `VACUUM INTO` reads
    /// one snapshot, so concurrent writes are either wholly in or out.
    pub fn backup_to(&self, target: &Path) -> StoreResult<()> {
        if target.exists() {
            return Err(StoreError::Refused(format!(
                "{} already exists",
                target.display()
            )));
        }
        let path = target
            .to_str()
            .ok_or_else(|| StoreError::Refused("backup path is not UTF-8".into()))?;
        // VACUUM cannot run inside a transaction; it takes its own snapshot.
        self.reader().execute("VACUUM INTO ?1", [path])?;
        Ok(())
    }

    /// Puts all search text still waiting into the FTS index now (it is
    /// searched either way; see [`indexer`]).
    pub fn index_search_text(&self) -> StoreResult<()> {
        self.indexer.index_now(&self.writer)
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> StoreResult<String> {
        self.read(|tx| Ok(tx.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }

    /// Runs `f` as one atomic write; returns once it is committed with an
    /// fsync (under `synchronous = full`).
    fn write<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        self.writer.write(Durability::Fsync, f)
    }

    /// Like [`Self::write`] for changes whose loss to a power cut costs no
    /// mail (flags, \Recent claims, expunges): committed, but fsynced only
    /// with the next durable write.
    fn write_relaxed<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        self.writer.write(Durability::Relaxed, f)
    }

    /// Runs `f` on a reader connection inside a read transaction, so it sees
    /// one consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.reader();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }

    /// A free reader connection (or the next one, waiting for it).
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        (0..READERS)
            .find_map(|i| self.readers[(start + i) % READERS].try_lock().ok())
            .unwrap_or_else(|| {
                self.readers[start % READERS]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
            })
    }
}

/// Wakes watchers of mailboxes that another process changed. SQLite's
/// `data_version` tells cheaply whether anyone else committed; only then
/// are the watched mailboxes' MODSEQs read. Ends with the store.
fn poll_foreign_changes(conn: Connection, notifier: Weak<ChangeNotifier>) {
    let mut last_version: Option<i64> = None;
    loop {
        std::thread::sleep(FOREIGN_POLL);
        let Some(notifier) = notifier.upgrade() else {
            return;
        };
        let watched = notifier.watched();
        if watched.is_empty() {
            continue;
        }
        let Ok(version) = conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)) else {
            continue;
        };
        if last_version == Some(version) {
            continue;
        }
        last_version = Some(version);
        for (mailbox, _) in watched {
            let modseq = conn.query_row(
                "SELECT highest_modseq FROM mailboxes WHERE id = ?1",
                [mailbox],
                |r| r.get::<_, u64>(0),
            );
            if let Ok(modseq) = modseq {
                notifier.notify(mailbox, modseq);
            }
        }
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
    // 16 MiB of page cache per connection (SQLite's default is 2 MiB):
    // message lists and the search index of a large mailbox stay in it
    // instead of being copied from the OS page cache again each time.
    conn.pragma_update(None, "cache_size", -16 * 1024)?;
    // Plans that do not depend on bound values: otherwise SQLite re-prepares
    // a cached statement whenever a rebind might change its plan, which
    // profiling showed at 16% of the server's CPU (fetches in UID runs).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

/// Looks up a user's mailbox id, selectable or not.
fn mailbox_id(tx: &Connection, user: UserId, name: &str) -> StoreResult<Option<(MailboxId, bool)>> {
    use rusqlite::OptionalExtension;
    Ok(tx
        .query_row(
            "SELECT id, selectable FROM mailboxes WHERE user_id = ?1 AND name = ?2",
            rusqlite::params![user, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// What an expunge of `uids` from `mailbox` reports, and the mailbox
/// whose sessions are woken.
fn expunged(
    tx: &Connection,
    mailbox: MailboxId,
    uids: Vec<u32>,
) -> StoreResult<(Expunged, Vec<MailboxId>)> {
    let highest_modseq = messages::highest_modseq(tx, mailbox)?;
    Ok((
        Expunged {
            uids,
            highest_modseq,
        },
        vec![mailbox],
    ))
}

/// The id of a mailbox, selectable or a `\Noselect` placeholder.
fn selectable_or_placeholder(tx: &Connection, user: UserId, name: &str) -> StoreResult<MailboxId> {
    match mailbox_id(tx, user, name)? {
        Some((id, _)) => Ok(id),
        None => Err(StoreError::NoSuchMailbox),
    }
}

/// The id of a selectable mailbox, or the error IMAP reports for it.
fn selectable_mailbox(tx: &Connection, user: UserId, name: &str) -> StoreResult<MailboxId> {
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

    fn create_team(&self, name: &str) -> StoreResult<UserId> {
        self.write(|tx| users::create_team(tx, name))
    }

    fn acl(&self, owner: UserId, name: &MailboxName) -> StoreResult<Vec<crate::store::acl::Entry>> {
        self.read(|tx| acl::acl(tx, owner, name))
    }

    fn set_acl(
        &self,
        owner: UserId,
        name: &MailboxName,
        entry: &crate::store::acl::Entry,
    ) -> StoreResult<()> {
        self.write(|tx| acl::set(tx, owner, name, entry))
    }

    fn shared_with(&self, user: &str) -> StoreResult<Vec<SharedMailbox>> {
        self.read(|tx| acl::shared_with(tx, user))
    }

    fn sieve_scripts(&self, user: UserId) -> StoreResult<Vec<SieveScriptInfo>> {
        self.read(|tx| sieve::list(tx, user))
    }

    fn sieve_script(&self, user: UserId, name: &str) -> StoreResult<Option<String>> {
        self.read(|tx| sieve::get(tx, user, name))
    }

    fn put_sieve_script(&self, user: UserId, name: &str, text: &str) -> StoreResult<()> {
        self.write(|tx| sieve::put(tx, user, name, text))
    }

    fn activate_sieve_script(&self, user: UserId, name: Option<&str>) -> StoreResult<()> {
        self.write(|tx| sieve::activate(tx, user, name))
    }

    fn delete_sieve_script(&self, user: UserId, name: &str) -> StoreResult<()> {
        self.write(|tx| sieve::delete(tx, user, name))
    }

    fn rename_sieve_script(&self, user: UserId, from: &str, to: &str) -> StoreResult<()> {
        self.write(|tx| sieve::rename(tx, user, from, to))
    }

    fn active_sieve_script(&self, user: UserId) -> StoreResult<Option<(String, String)>> {
        self.read(|tx| sieve::active(tx, user))
    }

    fn vacation_reply_due(
        &self,
        user: UserId,
        sender: &str,
        handle: &str,
        now: i64,
        period: u64,
    ) -> StoreResult<bool> {
        self.write(|tx| sieve::vacation_reply_due(tx, user, sender, handle, now, period))
    }

    fn set_private_seen(&self, team: &str, on: bool) -> StoreResult<()> {
        self.write(|tx| seen::set_private(tx, team, on))
    }

    fn seen_by(&self, mailbox: MailboxId, user: UserId) -> StoreResult<Option<Vec<u32>>> {
        self.read(|tx| match seen::is_private(tx, mailbox)? {
            true => seen::seen_by(tx, mailbox, user).map(Some),
            false => Ok(None),
        })
    }

    fn store_seen_by(
        &self,
        mailbox: MailboxId,
        user: UserId,
        uids: &[u32],
        seen: bool,
        unchanged_since: Option<u64>,
    ) -> StoreResult<StoreOutcome> {
        self.write_mailboxes(Durability::Relaxed, |tx| {
            let outcome = messages::store_seen_by(tx, mailbox, user, uids, seen, unchanged_since)?;
            Ok((outcome, vec![mailbox]))
        })
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
        self.read(|tx| users::list(tx, self.default_quota()))
    }

    fn add_app_password(&self, name: &str, label: &str, password_hash: &str) -> StoreResult<()> {
        self.write(|tx| users::add_app_password(tx, name, label, password_hash))
    }

    fn app_passwords(&self, user: UserId) -> StoreResult<Vec<AppPassword>> {
        self.read(|tx| users::app_passwords(tx, user))
    }

    fn touch_app_password(&self, user: UserId, label: &str) -> StoreResult<()> {
        self.write(|tx| users::touch_app_password(tx, user, label))
    }

    fn revoke_app_password(&self, name: &str, label: &str) -> StoreResult<()> {
        self.write(|tx| users::revoke_app_password(tx, name, label))
    }

    fn set_default_quota(&self, limits: QuotaLimits) {
        *self.default_quota.lock().unwrap_or_else(|p| p.into_inner()) = limits;
    }

    fn quota(&self, user: UserId) -> StoreResult<Quota> {
        self.read(|tx| users::quota(tx, user, self.default_quota()))
    }

    fn look_at_quota(&self, user: UserId) -> StoreResult<QuotaSinceLastLook> {
        // A write: two looks at once must not both see the same crossing.
        self.write_relaxed(|tx| users::look_at_quota(tx, user, self.default_quota()))
    }

    fn set_quota(&self, name: &str, change: QuotaOverride) -> StoreResult<()> {
        self.write(|tx| users::set_quota(tx, name, change))
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
        let id = self.write(|tx| mailboxes::delete(tx, user, name))?;
        // Wake its watchers: they find the mailbox gone or emptied.
        self.notifier.notify(id, u64::MAX);
        Ok(())
    }

    fn rename_mailbox(
        &self,
        user: UserId,
        from: &MailboxName,
        to: &MailboxName,
    ) -> StoreResult<()> {
        self.write_mailboxes(Durability::Fsync, |tx| {
            let inbox = mailbox_id(tx, user, "INBOX")?.map(|(id, _)| id);
            mailboxes::rename(tx, user, from, to)?;
            // RENAME INBOX empties INBOX: its watchers must hear of it.
            Ok(((), inbox.filter(|_| from.is_inbox()).into_iter().collect()))
        })
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
        let select = |claim: bool| {
            move |tx: &Connection| {
                let id = selectable_mailbox(tx, user, name.as_str())?;
                messages::select(tx, id, name.as_str(), claim)
            }
        };
        // Read first: most SELECTs find no \Recent message to claim, and
        // only a claim needs the write lock (the write reads again).
        let seen = self.read(select(false))?;
        if !claim_recent || !seen.messages.iter().any(|m| m.recent) {
            return Ok(seen);
        }
        self.write_relaxed(select(true))
    }

    fn append(
        &self,
        user: UserId,
        name: &MailboxName,
        message: NewMessage,
    ) -> StoreResult<AppendOutcome> {
        self.write_mailboxes(Durability::Fsync, |tx| {
            let id = selectable_mailbox(tx, user, name.as_str())?;
            users::check_quota(tx, user, message.raw.len() as u64, 1, self.default_quota())?;
            Ok((messages::append(tx, id, &message)?, vec![id]))
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
        self.write_relaxed(|tx| messages::changes_since(tx, mailbox, modseq, last_uid, true))
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
        self.write_mailboxes(Durability::Relaxed, |tx| {
            let outcome = messages::store_flags(tx, mailbox, uids, change, flags, unchanged_since)?;
            Ok((outcome, vec![mailbox]))
        })
    }

    fn copy(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
        kept: KeptFlags,
    ) -> StoreResult<CopyOutcome> {
        self.write_mailboxes(Durability::Fsync, |tx| {
            let target = selectable_mailbox(tx, user, target.as_str())?;
            let outcome = messages::copy(tx, mailbox, uids, target, kept)?;
            // The copies are in (the triggers counted them): the quota
            // must still hold, or the whole COPY is rolled back.
            users::check_quota(tx, user, 0, 0, self.default_quota())?;
            Ok((outcome, vec![target]))
        })
    }

    fn import(
        &self,
        user: UserId,
        name: &MailboxName,
        message: NewMessage,
        digest: &str,
    ) -> StoreResult<bool> {
        self.write_mailboxes(Durability::Fsync, |tx| {
            if mailbox_id(tx, user, name.as_str())?.is_none() {
                mailboxes::create(tx, user, name, None)?;
                mailboxes::set_subscribed(tx, user, name, true)?;
            }
            let id = selectable_mailbox(tx, user, name.as_str())?;
            let new = tx.execute(
                "INSERT OR IGNORE INTO imports (user_id, mailbox, digest) VALUES (?1, ?2, ?3)",
                rusqlite::params![user, name.as_str(), digest],
            )? == 1;
            if new {
                messages::append(tx, id, &message)?;
            }
            Ok((new, vec![id]))
        })
    }

    fn imported_digests(
        &self,
        user: UserId,
        name: &MailboxName,
        prefix: &str,
    ) -> StoreResult<Vec<String>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT digest FROM imports WHERE user_id = ?1 AND mailbox = ?2
                   AND substr(digest, 1, length(?3)) = ?3 ORDER BY digest",
            )?;
            let rows =
                stmt.query_map(rusqlite::params![user, name.as_str(), prefix], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }

    fn move_messages(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
        kept: KeptFlags,
    ) -> StoreResult<CopyOutcome> {
        self.write_mailboxes(Durability::Fsync, |tx| {
            let target = selectable_mailbox(tx, user, target.as_str())?;
            // Into its own mailbox too (as Dovecot does): the copies get
            // new UIDs and only the originals go.
            let outcome = messages::copy(tx, mailbox, uids, target, kept)?;
            let moved: Vec<u32> = outcome.uids.iter().map(|(source, _)| *source).collect();
            messages::remove(tx, mailbox, Some(&moved), 0)?;
            Ok((outcome, vec![mailbox, target]))
        })
    }

    fn expunge(&self, mailbox: MailboxId, uids: Option<&[u32]>) -> StoreResult<Expunged> {
        self.write_mailboxes(Durability::Relaxed, |tx| {
            let uids = messages::expunge(tx, mailbox, uids)?;
            expunged(tx, mailbox, uids)
        })
    }

    fn mark_seen_and_remove(
        &self,
        mailbox: MailboxId,
        seen: &[u32],
        removed: &[u32],
    ) -> StoreResult<Expunged> {
        self.write_mailboxes(Durability::Relaxed, |tx| {
            if !seen.is_empty() {
                let flags = Flags {
                    system: SystemFlags(SystemFlags::SEEN),
                    keywords: Vec::new(),
                };
                messages::store_flags(tx, mailbox, seen, FlagChange::Add, &flags, None)?;
            }
            let uids = messages::remove(tx, mailbox, Some(removed), 0)?;
            expunged(tx, mailbox, uids)
        })
    }

    fn search(&self, mailbox: MailboxId, query: &SearchQuery) -> StoreResult<Vec<(u32, u64)>> {
        self.read(|tx| search::search(tx, mailbox, query))
    }

    fn sort_rows(&self, mailbox: MailboxId, uids: &[u32]) -> StoreResult<Vec<SortRow>> {
        self.read(|tx| sort::rows(tx, mailbox, uids))
    }

    fn keep_sort_fields(
        &self,
        mailbox: MailboxId,
        fields: &[(u32, SortFields)],
    ) -> StoreResult<()> {
        // Lost to a power cut, they are extracted again: no fsync needed.
        self.write_relaxed(|tx| sort::keep(tx, mailbox, fields))
    }

    fn vanished_since(
        &self,
        mailbox: MailboxId,
        modseq: u64,
        within: Option<&[std::ops::RangeInclusive<u32>]>,
    ) -> StoreResult<Vec<u32>> {
        self.read(|tx| messages::vanished_since(tx, mailbox, modseq, within))
    }

    fn purge_older_than(&self, special_use: SpecialUse, cutoff: i64) -> StoreResult<usize> {
        let mailboxes: Vec<MailboxId> = self.read(|tx| {
            let mut stmt = tx.prepare("SELECT id FROM mailboxes WHERE special_use = ?1")?;
            let ids = stmt.query_map([special_use.attribute()], |r| r.get(0))?;
            Ok(ids.collect::<Result<_, _>>()?)
        })?;
        let mut purged = 0;
        // One transaction per mailbox keeps write locks short.
        for mailbox in mailboxes {
            purged += self.write_mailboxes(Durability::Fsync, |tx| {
                let old = messages::added_before(tx, mailbox, cutoff)?;
                let removed = messages::remove(tx, mailbox, Some(&old), 0)?;
                Ok((removed.len(), vec![mailbox]))
            })?;
        }
        Ok(purged)
    }

    fn watch(&self, mailbox: MailboxId, modseq: u64) -> tokio::sync::watch::Receiver<u64> {
        self.notifier.subscribe(mailbox, modseq)
    }

    /// SQLite counts its allocations for the whole process: with one
    /// store per process (the daemon) that is this store's connections.
    fn memory_used(&self) -> Option<u64> {
        // SAFETY: reads a counter; SQLite is compiled thread-safe.
        let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
        u64::try_from(used).ok()
    }
}

#[cfg(test)]
mod tests;
