//! The PostgreSQL backend of [`MailStore`]: several letterbox nodes on one
//! database. Each call is one transaction on a pooled connection, retried
//! when it lost a serialization or deadlock race; UIDs and MODSEQs are
//! taken under the mailbox row's lock, so they increase in commit order
//! whichever node writes; changes reach the other nodes' sessions by
//! `LISTEN`/`NOTIFY` ([`listen`]). Design: `docs/design/postgres-plan.md`.

mod acl;
mod catch_up;
mod listen;
mod mailbox_ids;
mod mailboxes;
mod messages;
mod pool;
mod schema;
mod search;
mod seen;
mod sieve;
mod sort;
mod statements;
mod tls;
mod users;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::postgres::error::SqlState;

use super::notify::ChangeNotifier;
use super::sort::{SortFields, SortRow};
use super::*;
use pool::Pool;
use statements::Tx;

/// How many times a transaction that lost a serialization or deadlock
/// race is tried again.
const RETRIES: usize = 5;

pub struct PgStore {
    pool: Pool,
    notifier: Arc<ChangeNotifier>,
    catch_ups: catch_up::CatchUps,
    /// The limits of users without an override (the config's `[quota]`).
    default_quota: Mutex<QuotaLimits>,
}

/// Connection settings beside the URL.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Used when the URL carries none (`[store] password_file`).
    pub password: Option<String>,
    /// Certificates the database's must chain to (`[store] ca_file`);
    /// the system's trusted ones without it.
    pub ca_file: Option<std::path::PathBuf>,
    pub pool_size: usize,
    /// How long one statement may run before the database cancels it.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            password: None,
            ca_file: None,
            pool_size: 16,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl PgStore {
    /// Connects to `url` (`postgresql://user:pass@host:port/db`, or the
    /// `key=value` form), brings the schema up to date, and keeps a pool.
    pub fn open(url: &str, options: PgOptions) -> StoreResult<PgStore> {
        let pool_size = options.pool_size;
        let tls = tls::connector(options.ca_file.as_deref())?;
        let config = connection_config(url, options)?;
        let pool = Pool::new(
            config.clone(),
            tls.clone(),
            pool_size,
            Duration::from_secs(30),
        );
        schema::migrate(&mut pool.get()?.client)?;
        let notifier = Arc::new(ChangeNotifier::default());
        listen::start(config, tls, Arc::downgrade(&notifier))
            .map_err(|e| StoreError::Internal(format!("cannot start the change listener: {e}")))?;
        Ok(PgStore {
            pool,
            notifier,
            catch_ups: Default::default(),
            default_quota: Default::default(),
        })
    }

    fn default_quota(&self) -> QuotaLimits {
        *self.default_quota.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in a transaction, again when it lost a serialization or
    /// deadlock race; never again after a lost connection, whose COMMIT
    /// may or may not have happened.
    fn write<T>(&self, mut f: impl FnMut(&mut Tx) -> StoreResult<T>) -> StoreResult<T> {
        let mut tries = 0;
        loop {
            match self.transaction(&mut f) {
                Err(StoreError::Conflict) if tries < RETRIES => tries += 1,
                Err(StoreError::Conflict) => {
                    return Err(StoreError::Unavailable("too much contention".into()));
                }
                other => return other,
            }
        }
    }

    fn read<T>(&self, f: impl FnOnce(&mut Tx) -> StoreResult<T>) -> StoreResult<T> {
        let mut f = Some(f);
        self.transaction(&mut |tx| (f.take().expect("run once"))(tx))
    }

    /// One transaction running `f`. A pooled connection that died while
    /// idle (the database restarted) fails at BEGIN, before anything was
    /// done on it: then the next one is tried, so only commands in flight
    /// at the moment of a restart fail.
    fn transaction<T>(&self, f: &mut impl FnMut(&mut Tx) -> StoreResult<T>) -> StoreResult<T> {
        for _ in 0..=self.pool.size() {
            let mut connection = self.pool.get()?;
            let connection = &mut *connection;
            let began = connection.client.transaction().map_err(error);
            let mut tx = match began {
                Ok(tx) => Tx::new(tx, &mut connection.statements),
                Err(StoreError::Unavailable(_)) => continue,
                Err(other) => return Err(other),
            };
            let value = f(&mut tx)?;
            tx.commit().map_err(error)?;
            return Ok(value);
        }
        Err(StoreError::Unavailable(
            "the database keeps closing connections".into(),
        ))
    }

    /// Like [`Self::write`] for changes to mailboxes: `f` returns the
    /// mailboxes it changed, whose MODSEQs are announced to every node
    /// (on commit) and to this node's watchers (after it).
    fn write_mailboxes<T>(
        &self,
        mut f: impl FnMut(&mut Tx) -> StoreResult<(T, Vec<MailboxId>)>,
    ) -> StoreResult<T> {
        let (value, changed) = self.write(|tx| {
            let (value, mailboxes) = f(tx)?;
            let mut changed = Vec::with_capacity(mailboxes.len());
            for mailbox in mailboxes {
                let modseq = messages::highest_modseq(tx, mailbox)?;
                announce(tx, mailbox, modseq)?;
                changed.push((mailbox, modseq));
            }
            Ok((value, changed))
        })?;
        for (mailbox, modseq) in changed {
            self.notifier.notify(mailbox, modseq);
        }
        Ok(value)
    }
}

/// The server's version and the schema version the database is at (0:
/// none yet), read without changing anything: for `check-config`.
pub fn inspect(url: &str, options: PgOptions) -> StoreResult<(String, i64)> {
    let mut client = connect(url, options)?;
    let server = client
        .query_one("SHOW server_version", &[])
        .map_err(error)?
        .get(0);
    Ok((server, schema::version(&mut client)?))
}

/// One connection of its own (`check-config`, `store copy`).
pub fn connect(url: &str, options: PgOptions) -> StoreResult<::postgres::Client> {
    let tls = tls::connector(options.ca_file.as_deref())?;
    connection_config(url, options)?
        .connect(tls)
        .map_err(|e| StoreError::Unavailable(describe(&e)))
}

/// The schema version this letterbox brings databases to.
pub fn schema_latest() -> i64 {
    schema::latest()
}

fn connection_config(url: &str, options: PgOptions) -> StoreResult<::postgres::Config> {
    let mut config: ::postgres::Config = url.parse().map_err(|e: ::postgres::Error| {
        StoreError::Refused(format!("store.url {}: {e}", without_password(url)))
    })?;
    if let Some(password) = options.password.filter(|_| config.get_password().is_none()) {
        config.password(password);
    }
    let timeout = options.statement_timeout.as_millis();
    config.options(&format!("-c statement_timeout={timeout} -c jit=off"));
    config.connect_timeout(Duration::from_secs(10));
    // A peer gone without a word (a cut network) is noticed in minutes,
    // not hours.
    config.keepalives_idle(Duration::from_secs(60));
    Ok(config)
}

/// `url` with its password (URL or `key=value` form) replaced by `***`,
/// for messages and `check-config`.
pub fn without_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if let Some((userinfo, host)) = authority.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            return format!("{scheme}://{user}:***@{host}{tail}");
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***".to_owned(),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A database error as the store reports it: a lost race is retried, a
/// lost connection is `Unavailable`, the rest internal.
pub(crate) fn error(e: ::postgres::Error) -> StoreError {
    match e.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Conflict
        }
        // Cancelled (statement_timeout), the connection lost, the server
        // shutting down or not up yet: try again later.
        Some(code)
            if *code == SqlState::QUERY_CANCELED
                || code.code().starts_with("08")
                || code.code().starts_with("57P") =>
        {
            StoreError::Unavailable(describe(&e))
        }
        // "db error" alone says nothing: the server's message does.
        Some(_) => StoreError::Internal(match e.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => e.to_string(),
        }),
        None if e.is_closed() || io_failure(&e) => StoreError::Unavailable(describe(&e)),
        None => StoreError::Internal(describe(&e)),
    }
}

/// The error with its causes ("error performing TLS handshake" alone
/// does not say that the certificate was refused).
pub(crate) fn describe(e: &::postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Whether the error came from the socket (the server went away).
fn io_failure(e: &::postgres::Error) -> bool {
    std::error::Error::source(e).is_some_and(|source| source.is::<std::io::Error>())
}

/// Tells every node's listener, when `tx` commits, that `mailbox` is at
/// `modseq`.
fn announce(tx: &mut Tx, mailbox: MailboxId, modseq: u64) -> StoreResult<()> {
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&listen::CHANNEL, &listen::payload(mailbox, modseq)],
    )
    .map_err(error)?;
    Ok(())
}

/// What an expunge of `uids` from `mailbox` reports, and the mailbox
/// whose sessions are woken.
fn expunged(
    tx: &mut Tx,
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

impl MailStore for PgStore {
    fn create_user(&self, name: &str, password_hash: &str) -> StoreResult<UserId> {
        self.write(|tx| users::create(tx, name, password_hash))
    }

    fn create_team(&self, name: &str) -> StoreResult<UserId> {
        self.write(|tx| users::create_team(tx, name))
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
        self.write(|tx| users::look_at_quota(tx, user, self.default_quota()))
    }

    fn set_quota(&self, name: &str, change: QuotaOverride) -> StoreResult<()> {
        self.write(|tx| users::set_quota(tx, name, change))
    }

    fn list_users(&self) -> StoreResult<Vec<UserSummary>> {
        self.read(|tx| users::list(tx, self.default_quota()))
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
        self.write_mailboxes(|tx| {
            let outcome = messages::store_seen_by(tx, mailbox, user, uids, seen, unchanged_since)?;
            Ok((outcome, vec![mailbox]))
        })
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
        // Its watchers wake to find the mailbox gone or emptied.
        let id = self.write(|tx| {
            let id = mailboxes::delete(tx, user, name)?;
            announce(tx, id, u64::MAX)?;
            Ok(id)
        })?;
        self.notifier.notify(id, u64::MAX);
        Ok(())
    }

    fn rename_mailbox(
        &self,
        user: UserId,
        from: &MailboxName,
        to: &MailboxName,
    ) -> StoreResult<()> {
        // RENAME INBOX empties INBOX: its watchers must hear of it.
        self.write_mailboxes(|tx| {
            let emptied = mailboxes::rename(tx, user, from, to)?;
            Ok(((), emptied.into_iter().collect()))
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
        self.read(|tx| {
            let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
            messages::status(tx, mailbox)
        })
    }

    fn select(
        &self,
        user: UserId,
        name: &MailboxName,
        claim_recent: bool,
    ) -> StoreResult<SelectedMailbox> {
        let select = |claim: bool| {
            move |tx: &mut Tx| {
                let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
                messages::select(tx, mailbox, name.as_str(), claim)
            }
        };
        // Read first: most SELECTs find no \Recent message to claim, and
        // only a claim needs to write.
        let seen = self.read(select(false))?;
        if !claim_recent || !seen.messages.iter().any(|m| m.recent) {
            return Ok(seen);
        }
        self.write(select(true))
    }

    fn append(
        &self,
        user: UserId,
        name: &MailboxName,
        message: NewMessage,
    ) -> StoreResult<AppendOutcome> {
        self.write_mailboxes(|tx| {
            let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
            let outcome = messages::append(tx, mailbox, &message)?;
            // The message is in (the trigger counted it): the quota must
            // still hold, or the transaction rolls back.
            users::check_quota(tx, user, self.default_quota())?;
            Ok((outcome, vec![mailbox]))
        })
    }

    fn changes_since(
        &self,
        mailbox: MailboxId,
        modseq: u64,
        last_uid: u32,
        claim_recent: bool,
    ) -> StoreResult<Changes> {
        // A read first (or the answer another session just got): most
        // catch-ups find nothing new, and only new \Recent messages need
        // a write.
        let question = (mailbox, modseq, last_uid);
        let changes = match self.catch_ups.answer(question, &self.notifier) {
            Some(changes) => changes,
            None => {
                let changes =
                    self.read(|tx| messages::changes_since(tx, mailbox, modseq, last_uid, false))?;
                self.catch_ups.keep(question, &changes);
                changes
            }
        };
        if !claim_recent || !changes.new.iter().any(|m| m.recent) {
            return Ok(changes);
        }
        let claimed =
            self.write(|tx| messages::changes_since(tx, mailbox, modseq, last_uid, true))?;
        self.catch_ups.keep(question, &claimed);
        Ok(claimed)
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
        self.write_mailboxes(|tx| {
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
        self.write_mailboxes(|tx| {
            let target = mailboxes::selectable(tx, user, target.as_str())?;
            let outcome = messages::copy(tx, mailbox, uids, target, kept)?;
            users::check_quota(tx, user, self.default_quota())?;
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
        self.write_mailboxes(|tx| {
            if mailboxes::mailbox_id(tx, user, name.as_str())?.is_none() {
                mailboxes::create(tx, user, name, None)?;
                mailboxes::set_subscribed(tx, user, name, true)?;
            }
            let mailbox = mailboxes::selectable(tx, user, name.as_str())?;
            let new = tx
                .execute(
                    "INSERT INTO imports (user_id, mailbox, digest) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&user, &name.as_str(), &digest],
                )
                .map_err(error)?
                == 1;
            if new {
                messages::append(tx, mailbox, &message)?;
            }
            Ok((new, vec![mailbox]))
        })
    }

    fn imported_digests(
        &self,
        user: UserId,
        name: &MailboxName,
        prefix: &str,
    ) -> StoreResult<Vec<String>> {
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT digest FROM imports WHERE user_id = $1 AND mailbox = $2
                       AND left(digest, length($3)) = $3 ORDER BY digest",
                    &[&user, &name.as_str(), &prefix],
                )
                .map_err(error)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
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
        self.write_mailboxes(|tx| {
            let target = mailboxes::selectable(tx, user, target.as_str())?;
            // Both rows locked in id order, so two moves in opposite
            // directions cannot deadlock.
            messages::lock(tx, mailbox.min(target))?;
            messages::lock(tx, mailbox.max(target))?;
            // Into its own mailbox too (as Dovecot does): the copies get
            // new UIDs and only the originals go.
            let outcome = messages::copy(tx, mailbox, uids, target, kept)?;
            let moved: Vec<u32> = outcome.uids.iter().map(|(source, _)| *source).collect();
            messages::remove(tx, mailbox, Some(&moved), 0)?;
            Ok((outcome, vec![mailbox, target]))
        })
    }

    fn expunge(&self, mailbox: MailboxId, uids: Option<&[u32]>) -> StoreResult<Expunged> {
        self.write_mailboxes(|tx| {
            let uids = messages::remove(tx, mailbox, uids, SystemFlags::DELETED)?;
            expunged(tx, mailbox, uids)
        })
    }

    fn mark_seen_and_remove(
        &self,
        mailbox: MailboxId,
        seen: &[u32],
        removed: &[u32],
    ) -> StoreResult<Expunged> {
        self.write_mailboxes(|tx| {
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
        self.write(|tx| sort::keep(tx, mailbox, fields))
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
        let mailboxes = self.read(|tx| mailboxes::with_special_use(tx, special_use))?;
        let mut purged = 0;
        // One transaction per mailbox keeps locks short.
        for mailbox in mailboxes {
            purged += self.write_mailboxes(|tx| {
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
}
