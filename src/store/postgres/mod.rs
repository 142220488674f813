//! PostgreSQL behind the store (issue 21, being built): for several
//! letterbox nodes on one database. The plan is
//! `docs/design/postgres-plan.md`; what exists so far: the connection
//! pool, the schema with its migrations, users and app passwords.

mod acl;
mod mailboxes;
mod messages;
mod pool;
mod schema;
mod seen;
mod sieve;
mod users;

#[cfg(test)]
mod tests;

use std::time::Duration;

use postgres::Transaction;
use postgres::error::SqlState;

use crate::store::acl::Entry;
use crate::store::{
    MailboxInfo, MailboxName, SharedMailbox, SpecialUse, StoreError, StoreResult, UserId,
};
use pool::Pool;

/// How many times a transaction that lost a serialization or deadlock
/// race is tried again.
const RETRIES: usize = 5;

pub struct PgStore {
    pool: Pool,
    /// The limits of users without an override (the config's `[quota]`).
    default_quota: std::sync::Mutex<crate::store::QuotaLimits>,
}

/// Connection settings beside the URL.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    pub pool_size: usize,
    /// How long one statement may run before the database cancels it.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 16,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl PgStore {
    /// Connects to `url` (`postgresql://user:pass@host:port/db`), brings
    /// the schema up to date, and keeps a pool.
    pub fn open(url: &str, options: PgOptions) -> StoreResult<PgStore> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::Refused(format!("store url: {e}")))?;
        let timeout = options.statement_timeout.as_millis();
        config.options(&format!("-c statement_timeout={timeout} -c jit=off"));
        config.connect_timeout(Duration::from_secs(10));
        let pool = Pool::new(config, options.pool_size, Duration::from_secs(30));
        schema::migrate(&mut *pool.get()?)?;
        Ok(PgStore {
            pool,
            default_quota: Default::default(),
        })
    }

    pub fn set_default_quota(&self, limits: crate::store::QuotaLimits) {
        *self.default_quota.lock().unwrap_or_else(|p| p.into_inner()) = limits;
    }

    fn default_quota(&self) -> crate::store::QuotaLimits {
        *self.default_quota.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server's version, for `check-config`.
    pub fn server_version(&self) -> StoreResult<String> {
        let row = self
            .pool
            .get()?
            .query_one("SHOW server_version", &[])
            .map_err(error)?;
        Ok(row.get(0))
    }

    /// Runs `f` in a transaction, again when it lost a serialization or
    /// deadlock race; never again after a lost connection, whose COMMIT
    /// may or may not have happened.
    fn write<T>(&self, mut f: impl FnMut(&mut Transaction) -> StoreResult<T>) -> StoreResult<T> {
        let mut client = self.pool.get()?;
        let mut tries = 0;
        loop {
            let mut tx = client.transaction().map_err(error)?;
            let outcome = f(&mut tx).and_then(|value| tx.commit().map_err(error).map(|_| value));
            match outcome {
                Err(StoreError::Conflict) if tries < RETRIES => tries += 1,
                Err(StoreError::Conflict) => {
                    return Err(StoreError::Unavailable("too much contention".into()));
                }
                other => return other,
            }
        }
    }

    fn read<T>(&self, f: impl FnOnce(&mut Transaction) -> StoreResult<T>) -> StoreResult<T> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction().map_err(error)?;
        let value = f(&mut tx)?;
        tx.commit().map_err(error)?;
        Ok(value)
    }
}

/// A database error as the store reports it: a lost race is retried, a
/// lost connection is `Unavailable`, the rest internal.
pub(crate) fn error(e: postgres::Error) -> StoreError {
    match e.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Conflict
        }
        Some(code) if *code == SqlState::QUERY_CANCELED => StoreError::Unavailable(e.to_string()),
        Some(_) => StoreError::Internal(e.to_string()),
        None if e.is_closed() => StoreError::Unavailable(e.to_string()),
        None => StoreError::Internal(e.to_string()),
    }
}

/// Users, as the `MailStore` trait will have them once every method is
/// in (each one transaction).
impl PgStore {
    pub fn create_user(
        &self,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<crate::store::UserId> {
        self.write(|tx| users::create(tx, name, password_hash))
    }

    pub fn create_team(&self, name: &str) -> StoreResult<crate::store::UserId> {
        self.write(|tx| users::create_team(tx, name))
    }

    pub fn find_user(&self, name: &str) -> StoreResult<Option<crate::store::UserRecord>> {
        self.read(|tx| users::find(tx, name))
    }

    pub fn delete_user(&self, name: &str) -> StoreResult<()> {
        self.write(|tx| users::delete(tx, name))
    }

    pub fn set_password_hash(&self, name: &str, hash: &str) -> StoreResult<()> {
        self.write(|tx| users::set_password_hash(tx, name, hash))
    }

    pub fn list_users(
        &self,
        defaults: crate::store::QuotaLimits,
    ) -> StoreResult<Vec<crate::store::UserSummary>> {
        self.read(|tx| users::list(tx, defaults))
    }

    pub fn add_app_password(&self, name: &str, label: &str, hash: &str) -> StoreResult<()> {
        self.write(|tx| users::add_app_password(tx, name, label, hash))
    }

    pub fn app_passwords(
        &self,
        user: crate::store::UserId,
    ) -> StoreResult<Vec<crate::store::AppPassword>> {
        self.read(|tx| users::app_passwords(tx, user))
    }

    pub fn revoke_app_password(&self, name: &str, label: &str) -> StoreResult<()> {
        self.write(|tx| users::revoke_app_password(tx, name, label))
    }

    pub fn set_quota(&self, name: &str, change: crate::store::QuotaOverride) -> StoreResult<()> {
        self.write(|tx| users::set_quota(tx, name, change))
    }

    pub fn quota(
        &self,
        user: crate::store::UserId,
        defaults: crate::store::QuotaLimits,
    ) -> StoreResult<crate::store::Quota> {
        self.read(|tx| users::quota(tx, user, defaults))
    }
}

/// Mailboxes and their ACLs.
impl PgStore {
    pub fn list_mailboxes(&self, user: UserId) -> StoreResult<Vec<MailboxInfo>> {
        self.read(|tx| mailboxes::list(tx, user))
    }

    pub fn list_subscriptions(&self, user: UserId) -> StoreResult<Vec<String>> {
        self.read(|tx| mailboxes::subscriptions(tx, user))
    }

    pub fn create_mailbox(
        &self,
        user: UserId,
        name: &MailboxName,
        special_use: Option<SpecialUse>,
    ) -> StoreResult<()> {
        self.write(|tx| mailboxes::create(tx, user, name, special_use))
    }

    pub fn acl(&self, owner: UserId, name: &MailboxName) -> StoreResult<Vec<Entry>> {
        self.read(|tx| acl::acl(tx, owner, name))
    }

    pub fn set_acl(&self, owner: UserId, name: &MailboxName, entry: &Entry) -> StoreResult<()> {
        self.write(|tx| acl::set(tx, owner, name, entry))
    }

    pub fn shared_with(&self, user: &str) -> StoreResult<Vec<SharedMailbox>> {
        self.read(|tx| acl::shared_with(tx, user))
    }
}

/// Sieve scripts and vacation memory.
impl PgStore {
    pub fn sieve_scripts(&self, user: UserId) -> StoreResult<Vec<crate::store::SieveScriptInfo>> {
        self.read(|tx| sieve::list(tx, user))
    }

    pub fn sieve_script(&self, user: UserId, name: &str) -> StoreResult<Option<String>> {
        self.read(|tx| sieve::get(tx, user, name))
    }

    pub fn put_sieve_script(&self, user: UserId, name: &str, text: &str) -> StoreResult<()> {
        self.write(|tx| sieve::put(tx, user, name, text))
    }

    pub fn activate_sieve_script(&self, user: UserId, name: Option<&str>) -> StoreResult<()> {
        self.write(|tx| sieve::activate(tx, user, name))
    }

    pub fn delete_sieve_script(&self, user: UserId, name: &str) -> StoreResult<()> {
        self.write(|tx| sieve::delete(tx, user, name))
    }

    pub fn rename_sieve_script(&self, user: UserId, from: &str, to: &str) -> StoreResult<()> {
        self.write(|tx| sieve::rename(tx, user, from, to))
    }

    pub fn active_sieve_script(&self, user: UserId) -> StoreResult<Option<(String, String)>> {
        self.read(|tx| sieve::active(tx, user))
    }

    pub fn vacation_reply_due(
        &self,
        user: UserId,
        sender: &str,
        handle: &str,
        now: i64,
        period: u64,
    ) -> StoreResult<bool> {
        self.write(|tx| sieve::vacation_reply_due(tx, user, sender, handle, now, period))
    }
}

/// Messages.
impl PgStore {
    /// APPEND into `user`'s selectable mailbox `name`, quota checked with
    /// the message in (the transaction rolls back when it is over).
    pub fn append(
        &self,
        user: UserId,
        name: &MailboxName,
        message: crate::store::NewMessage,
    ) -> StoreResult<crate::store::AppendOutcome> {
        self.write(|tx| {
            let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
            let outcome = messages::append(tx, mailbox, &message)?;
            users::check_quota(tx, user, self.default_quota())?;
            Ok(outcome)
        })
    }

    pub fn select(
        &self,
        user: UserId,
        name: &MailboxName,
        claim_recent: bool,
    ) -> StoreResult<crate::store::SelectedMailbox> {
        self.write(|tx| {
            let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
            messages::select(tx, mailbox, name.as_str(), claim_recent)
        })
    }

    pub fn fetch(
        &self,
        mailbox: crate::store::MailboxId,
        uids: &[u32],
        request: crate::store::FetchRequest,
    ) -> StoreResult<Vec<crate::store::FetchedMessage>> {
        self.read(|tx| messages::fetch(tx, mailbox, uids, request))
    }

    pub fn status(
        &self,
        user: UserId,
        name: &MailboxName,
    ) -> StoreResult<crate::store::MailboxStatus> {
        self.read(|tx| {
            let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
            messages::status(tx, mailbox)
        })
    }
}

/// Flags, expunges, copies and catching up.
impl PgStore {
    pub fn store_flags(
        &self,
        mailbox: crate::store::MailboxId,
        uids: &[u32],
        change: crate::store::FlagChange,
        flags: &crate::store::Flags,
        unchanged_since: Option<u64>,
    ) -> StoreResult<crate::store::StoreOutcome> {
        self.write(|tx| messages::store_flags(tx, mailbox, uids, change, flags, unchanged_since))
    }

    pub fn expunge(
        &self,
        mailbox: crate::store::MailboxId,
        uids: Option<&[u32]>,
    ) -> StoreResult<crate::store::Expunged> {
        self.write(|tx| {
            let uids = messages::remove(tx, mailbox, uids, crate::store::SystemFlags::DELETED)?;
            let highest_modseq = messages::highest_modseq(tx, mailbox)?;
            Ok(crate::store::Expunged {
                uids,
                highest_modseq,
            })
        })
    }

    pub fn copy(
        &self,
        mailbox: crate::store::MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
        kept: crate::store::KeptFlags,
    ) -> StoreResult<crate::store::CopyOutcome> {
        self.write(|tx| {
            let target = mailboxes::selectable(tx, user, target.as_str())?;
            let outcome = messages::copy(tx, mailbox, uids, target, kept)?;
            users::check_quota(tx, user, self.default_quota())?;
            Ok(outcome)
        })
    }

    pub fn move_messages(
        &self,
        mailbox: crate::store::MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
        kept: crate::store::KeptFlags,
    ) -> StoreResult<crate::store::CopyOutcome> {
        self.write(|tx| {
            let target = mailboxes::selectable(tx, user, target.as_str())?;
            // Both rows locked in id order, so two moves in opposite
            // directions cannot deadlock.
            let (first, second) = (mailbox.min(target), mailbox.max(target));
            messages::lock(tx, first)?;
            messages::lock(tx, second)?;
            let outcome = messages::copy(tx, mailbox, uids, target, kept)?;
            let moved: Vec<u32> = outcome.uids.iter().map(|(source, _)| *source).collect();
            messages::remove(tx, mailbox, Some(&moved), 0)?;
            Ok(outcome)
        })
    }

    pub fn changes_since(
        &self,
        mailbox: crate::store::MailboxId,
        modseq: u64,
        last_uid: u32,
        claim_recent: bool,
    ) -> StoreResult<crate::store::Changes> {
        self.write(|tx| messages::changes_since(tx, mailbox, modseq, last_uid, claim_recent))
    }

    pub fn set_private_seen(&self, team: &str, on: bool) -> StoreResult<()> {
        self.write(|tx| seen::set_private(tx, team, on))
    }

    pub fn seen_by(
        &self,
        mailbox: crate::store::MailboxId,
        user: UserId,
    ) -> StoreResult<Option<Vec<u32>>> {
        self.read(|tx| match seen::is_private(tx, mailbox)? {
            true => seen::seen_by(tx, mailbox, user).map(Some),
            false => Ok(None),
        })
    }

    pub fn store_seen_by(
        &self,
        mailbox: crate::store::MailboxId,
        user: UserId,
        uids: &[u32],
        seen: bool,
        unchanged_since: Option<u64>,
    ) -> StoreResult<crate::store::StoreOutcome> {
        self.write(|tx| seen::store(tx, mailbox, user, uids, seen, unchanged_since))
    }
}
