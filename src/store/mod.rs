//! The mail store, in IMAP terms.
//!
//! [`MailStore`] is the only way the rest of the server touches persistent
//! state. It speaks users, mailboxes (UTF-8 names with `/` as the hierarchy
//! delimiter), UIDs and flags; no SQL type crosses it, so a second backend can
//! be added by implementing the trait. Its methods block: async callers run
//! them through [`calls::StoreCalls`].

pub mod acl;
pub mod calls;
pub mod copy;
pub mod grant;
pub mod names;
pub mod notify;
pub mod open;
pub mod pattern;
pub mod postgres;
pub mod search;
pub mod sort;
pub mod sqlite;

use std::ops::RangeInclusive;

use chrono::{DateTime, FixedOffset, TimeZone};
use serde::{Deserialize, Serialize};

pub use calls::Access;
pub use search::{DateCmp, SearchQuery};
pub use sort::{SortFields, SortRow};

pub use names::{DELIMITER, MailboxName};

pub type UserId = i64;
pub type MailboxId = i64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("No such mailbox")]
    NoSuchMailbox,
    #[error("Mailbox already exists")]
    MailboxExists,
    #[error("Mailbox is not selectable")]
    NotSelectable,
    #[error("{0}")]
    Refused(String),
    #[error("No such user")]
    NoSuchUser,
    #[error("User already exists")]
    UserExists,
    #[error("No such script")]
    NoSuchScript,
    #[error("Script already exists")]
    ScriptExists,
    #[error("Quota exceeded")]
    OverQuota,
    #[error("internal store error: {0}")]
    Internal(String),
    /// The database cannot be reached (PostgreSQL down, no connection
    /// free): try again later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A race with another writer was lost (a serialization failure or a
    /// deadlock); a backend tries such a transaction again, so this is
    /// seen only when that keeps failing.
    #[error("conflicting writes")]
    Conflict,
}

/// A change to a user's quota override. For each resource: `None` leaves
/// it, `Some(0)` makes it unlimited, `Some(n)` sets the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaOverride {
    pub bytes: Option<u64>,
    pub messages: Option<u64>,
}

/// Storage and message-count limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    pub bytes: Option<u64>,
    pub messages: Option<u64>,
}

/// A user's quota: what is used and what is allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    pub used_bytes: u64,
    pub used_messages: u64,
    pub limits: QuotaLimits,
}

/// A user's quota now, and the lowest usage since the last look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSinceLastLook {
    pub now: Quota,
    pub lowest_bytes: u64,
    pub lowest_messages: u64,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The RFC 6154 special-use attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    pub const ALL: [SpecialUse; 7] = [
        SpecialUse::All,
        SpecialUse::Archive,
        SpecialUse::Drafts,
        SpecialUse::Flagged,
        SpecialUse::Junk,
        SpecialUse::Sent,
        SpecialUse::Trash,
    ];

    /// The attribute as written in LIST, e.g. `\Sent`.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }

    /// Parses `\Sent` (case-insensitive).
    pub fn from_attribute(text: &str) -> Option<SpecialUse> {
        SpecialUse::ALL
            .into_iter()
            .find(|u| u.attribute().eq_ignore_ascii_case(text))
    }
}

/// The mailboxes every new user starts with.
pub const DEFAULT_MAILBOXES: [(&str, Option<SpecialUse>); 6] = [
    ("INBOX", None),
    ("Sent", Some(SpecialUse::Sent)),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

/// Rebuilds a stored INTERNALDATE; an impossible offset falls back to UTC.
pub fn internal_date(seconds: i64, offset_minutes: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    offset
        .timestamp_opt(seconds, 0)
        .single()
        .unwrap_or_else(|| offset.timestamp_opt(0, 0).unwrap())
}

/// Applies a STORE change to one message's flags.
pub fn changed_flags(old: &Flags, change: FlagChange, flags: &Flags) -> Flags {
    let has = |list: &[String], k: &str| list.iter().any(|x| x.eq_ignore_ascii_case(k));
    match change {
        FlagChange::Replace => flags.clone(),
        FlagChange::Add => {
            let mut new = old.clone();
            new.system.0 |= flags.system.0;
            for keyword in &flags.keywords {
                if !has(&new.keywords, keyword) {
                    new.keywords.push(keyword.clone());
                }
            }
            new
        }
        FlagChange::Remove => Flags {
            system: SystemFlags(old.system.0 & !flags.system.0),
            keywords: old
                .keywords
                .iter()
                .filter(|k| !has(&flags.keywords, k))
                .cloned()
                .collect(),
        },
    }
}

/// The same flags, keywords compared case-insensitively in any order.
pub fn same_flags(a: &Flags, b: &Flags) -> bool {
    a.system == b.system
        && a.keywords.len() == b.keywords.len()
        && a.keywords
            .iter()
            .all(|k| b.keywords.iter().any(|o| o.eq_ignore_ascii_case(k)))
}

/// System flags as a bit set, plus keywords.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: SystemFlags,
    pub keywords: Vec<String>,
}

impl Flags {
    /// These flags with `\Seen` set or cleared: a user's own read state
    /// over the shared flags.
    pub fn with_seen(mut self, seen: bool) -> Flags {
        self.system = SystemFlags(match seen {
            true => self.system.0 | SystemFlags::SEEN,
            false => self.system.0 & !SystemFlags::SEEN,
        });
        self
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemFlags(pub u8);

impl SystemFlags {
    pub const SEEN: u8 = 1;
    pub const ANSWERED: u8 = 2;
    pub const FLAGGED: u8 = 4;
    pub const DELETED: u8 = 8;
    pub const DRAFT: u8 = 16;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The flags a COPY or MOVE carries into its target: in a shared
/// mailbox only those the user may set there (RFC 4314 §4: `s` for
/// `\Seen`, `t` for `\Deleted`, `w` for the others and keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptFlags {
    /// The system flag bits kept.
    pub system: u8,
    pub keywords: bool,
    /// Who copies: in a team mailbox with per-user `\Seen`, their `\Seen`
    /// is the one read from the source and given in the target.
    pub viewer: Option<UserId>,
}

impl KeptFlags {
    pub const ALL: KeptFlags = KeptFlags {
        system: u8::MAX,
        keywords: true,
        viewer: None,
    };

    /// What a user holding `rights` on the target may set.
    pub fn for_rights(rights: acl::Rights) -> KeptFlags {
        use acl::Rights;
        let mut system = 0;
        if rights.contains(Rights::SEEN) {
            system |= SystemFlags::SEEN;
        }
        if rights.contains(Rights::DELETE_MESSAGES) {
            system |= SystemFlags::DELETED;
        }
        let write = rights.contains(Rights::WRITE);
        if write {
            system |= SystemFlags::ANSWERED | SystemFlags::FLAGGED | SystemFlags::DRAFT;
        }
        KeptFlags {
            system,
            keywords: write,
            viewer: None,
        }
    }

    /// The same, copied by `user` (see `viewer`).
    pub fn by(self, user: UserId) -> KeptFlags {
        KeptFlags {
            viewer: Some(user),
            ..self
        }
    }

    /// `flags` less what is not kept.
    pub fn apply(self, flags: Flags) -> Flags {
        Flags {
            system: SystemFlags(flags.system.0 & self.system),
            keywords: if self.keywords {
                flags.keywords
            } else {
                Vec::new()
            },
        }
    }
}

/// One of a user's Sieve scripts, as LISTSCRIPTS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveScriptInfo {
    pub name: String,
    pub active: bool,
    /// Octets of its text.
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub password_hash: String,
    pub kind: AccountKind,
    /// A team whose members each keep their own `\Seen` (see
    /// [`MailStore::seen_by`]); always false for a person.
    pub private_seen: bool,
}

/// A person logs in; a team account (`support`) holds mailboxes that
/// belong to no person, reached through their ACLs, and never logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Person,
    Team,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Person => "person",
            AccountKind::Team => "team",
        }
    }

    pub fn parse(text: &str) -> AccountKind {
        match text {
            "team" => AccountKind::Team,
            _ => AccountKind::Person,
        }
    }
}

/// A mailbox of another account that an ACL entry opens to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMailbox {
    pub owner: UserId,
    pub owner_name: String,
    pub owner_kind: AccountKind,
    pub mailbox: MailboxInfo,
    /// All of the mailbox's entries (negative ones included), for the
    /// rights of the user asking.
    pub entries: Vec<acl::Entry>,
}

/// A per-device password (the hash is for verification only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPassword {
    pub label: String,
    pub password_hash: String,
    pub created_at: i64,
    pub last_used: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub kind: AccountKind,
    pub private_seen: bool,
    pub mailboxes: u32,
    pub messages: u64,
    pub bytes: u64,
    pub limits: QuotaLimits,
}

/// One mailbox as LIST sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    pub name: String,
    /// False for a `\Noselect` placeholder left by deleting a parent.
    pub selectable: bool,
    pub special_use: Option<SpecialUse>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub id: MailboxId,
    pub messages: u32,
    pub recent: u32,
    pub uidnext: u32,
    pub uidvalidity: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub size: u64,
    pub highest_modseq: u64,
}

/// What a session learns about one message it can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: u32,
    pub flags: Flags,
    pub modseq: u64,
    /// This session is the one that reports the message as `\Recent`.
    pub recent: bool,
}

/// What changed in a mailbox since a session last looked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub highest_modseq: u64,
    /// UIDs expunged since, in ascending order.
    pub expunged: Vec<u32>,
    /// Known messages (UID at most the caller's last UID) whose flags changed.
    pub updated: Vec<MessageMeta>,
    /// Messages above the caller's last UID, ascending.
    pub new: Vec<MessageMeta>,
}

/// Which parts of a message FETCH needs loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchRequest {
    /// The parsed index (ENVELOPE, BODYSTRUCTURE, part offsets).
    pub index: bool,
    /// The raw octets.
    pub raw: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMessage {
    pub uid: u32,
    pub flags: Flags,
    pub modseq: u64,
    pub internal_date: DateTime<FixedOffset>,
    /// When the message entered this mailbox (APPEND, COPY, MOVE,
    /// delivery), seconds since the epoch: RFC 8514 SAVEDATE.
    pub saved_at: i64,
    pub size: u32,
    pub index: Option<Vec<u8>>,
    pub raw: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    Replace,
    Add,
    Remove,
}

/// The result of STORE for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFlags {
    pub uid: u32,
    pub flags: Flags,
    pub modseq: u64,
    /// False when the flags already were as asked (no new MODSEQ).
    pub changed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOutcome {
    /// Every existing message of the request, changed or not.
    pub messages: Vec<StoredFlags>,
    /// UIDs left alone because their MODSEQ was above UNCHANGEDSINCE.
    pub modified: Vec<u32>,
}

/// What EXPUNGE removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expunged {
    /// Removed UIDs, ascending.
    pub uids: Vec<u32>,
    /// The mailbox's HIGHESTMODSEQ afterwards.
    pub highest_modseq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The target mailbox.
    pub mailbox: MailboxId,
    pub uidvalidity: u32,
    /// (source UID, new UID in the target), in source UID order.
    pub uids: Vec<(u32, u32)>,
}

/// The state of a mailbox when a session selects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedMailbox {
    pub id: MailboxId,
    pub name: String,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highest_modseq: u64,
    /// In UID order: index + 1 is the sequence number.
    pub messages: Vec<MessageMeta>,
    /// Keywords in use in the mailbox, for the FLAGS response.
    pub keywords: Vec<String>,
}

/// A message to add to a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub flags: Flags,
    pub internal_date: DateTime<FixedOffset>,
    /// The raw RFC 5322 octets, CRLF line endings.
    pub raw: Vec<u8>,
    /// `mail::MessageIndex` bytes: what FETCH needs without re-parsing.
    pub index: Vec<u8>,
    /// Decoded text for SEARCH.
    pub search: search::SearchText,
    /// What SORT and THREAD read.
    pub sort: sort::SortFields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The mailbox it went into.
    pub mailbox: MailboxId,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// How durable a commit is (`[store] synchronous`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync on every commit: an acknowledged APPEND survives power loss.
    #[default]
    Full,
    /// Faster; a power loss may lose the last commits (never corrupts).
    Normal,
}

/// Persistent state, in IMAP terms. Every method blocks; every mutation is
/// durable (committed) when it returns `Ok`.
pub trait MailStore: Send + Sync + 'static {
    /// Creates a user with the default mailboxes.
    fn create_user(&self, name: &str, password_hash: &str) -> StoreResult<UserId>;
    /// Creates a team account (with an INBOX only), which never logs in.
    /// Team and user names share one namespace.
    fn create_team(&self, name: &str) -> StoreResult<UserId>;
    fn set_password_hash(&self, name: &str, password_hash: &str) -> StoreResult<()>;
    /// Deletes a user with all their mailboxes and messages.
    fn delete_user(&self, name: &str) -> StoreResult<()>;
    fn find_user(&self, name: &str) -> StoreResult<Option<UserRecord>>;
    /// Adds a per-device password under a label unique for the user.
    fn add_app_password(&self, name: &str, label: &str, password_hash: &str) -> StoreResult<()>;
    fn app_passwords(&self, user: UserId) -> StoreResult<Vec<AppPassword>>;
    /// Records that the app password `label` was just used to log in.
    fn touch_app_password(&self, user: UserId, label: &str) -> StoreResult<()>;
    fn revoke_app_password(&self, name: &str, label: &str) -> StoreResult<()>;
    /// The limits of users without an override (the config's `[quota]`).
    fn set_default_quota(&self, limits: QuotaLimits);
    /// Usage and effective limits (the user's override, else the default).
    fn quota(&self, user: UserId) -> StoreResult<Quota>;
    /// Changes a user's quota override (see [`QuotaOverride`]).
    /// The user's quota and the lowest usage since the previous call
    /// (expunges lower it, appends do not), which then starts again from
    /// today's usage: what the quota warnings need to see a threshold
    /// crossed upward exactly once.
    fn look_at_quota(&self, user: UserId) -> StoreResult<QuotaSinceLastLook>;
    fn set_quota(&self, name: &str, change: QuotaOverride) -> StoreResult<()>;
    fn list_users(&self) -> StoreResult<Vec<UserSummary>>;

    /// The ACL entries of `owner`'s mailbox `name` (RFC 4314).
    fn acl(&self, owner: UserId, name: &MailboxName) -> StoreResult<Vec<acl::Entry>>;
    /// Sets the entry for its identifier (replacing any), or removes it
    /// when its rights are empty.
    fn set_acl(&self, owner: UserId, name: &MailboxName, entry: &acl::Entry) -> StoreResult<()>;
    /// The mailboxes of other accounts whose ACL names `user`,
    /// `authenticated` or `anyone` (whatever the rights: the caller
    /// computes them from the entries).
    fn shared_with(&self, user: &str) -> StoreResult<Vec<SharedMailbox>>;
    /// Turns per-user `\Seen` on or off for a team's mailboxes. While on,
    /// each member has their own read state (which starts empty) and the
    /// shared `\Seen` is left as it was, for when it is turned off.
    fn set_private_seen(&self, team: &str, on: bool) -> StoreResult<()>;
    /// The UIDs `user` has seen, ascending, in a mailbox whose account
    /// keeps `\Seen` per user; `None` where `\Seen` is shared.
    fn seen_by(&self, mailbox: MailboxId, user: UserId) -> StoreResult<Option<Vec<u32>>>;
    /// STORE of `\Seen` by `user` in a mailbox with per-user `\Seen`. As
    /// `store_flags`: every existing message of `uids` is in the outcome
    /// (its flags as `user` sees them) and each that changed gets the new
    /// MODSEQ, so the user's other sessions and CONDSTORE see it.
    fn store_seen_by(
        &self,
        mailbox: MailboxId,
        user: UserId,
        uids: &[u32],
        seen: bool,
        unchanged_since: Option<u64>,
    ) -> StoreResult<StoreOutcome>;

    /// Every mailbox of the user, `\Noselect` placeholders included.
    fn list_mailboxes(&self, user: UserId) -> StoreResult<Vec<MailboxInfo>>;
    /// Subscribed names; they need not exist (RFC 3501 §6.3.6).
    fn list_subscriptions(&self, user: UserId) -> StoreResult<Vec<String>>;
    /// Creates a mailbox and any missing superiors.
    fn create_mailbox(
        &self,
        user: UserId,
        name: &MailboxName,
        special_use: Option<SpecialUse>,
    ) -> StoreResult<()>;
    /// RFC 3501 §6.3.4: a mailbox with inferiors becomes `\Noselect`.
    fn delete_mailbox(&self, user: UserId, name: &MailboxName) -> StoreResult<()>;
    /// RFC 3501 §6.3.5, including inferiors and the INBOX special case.
    fn rename_mailbox(&self, user: UserId, from: &MailboxName, to: &MailboxName)
    -> StoreResult<()>;
    fn set_subscribed(&self, user: UserId, name: &MailboxName, subscribed: bool)
    -> StoreResult<()>;
    fn status(&self, user: UserId, name: &MailboxName) -> StoreResult<MailboxStatus>;
    /// Opens a mailbox. With `claim_recent`, this session takes over the
    /// `\Recent` messages (read-write SELECT); otherwise it only sees them.
    fn select(
        &self,
        user: UserId,
        name: &MailboxName,
        claim_recent: bool,
    ) -> StoreResult<SelectedMailbox>;
    fn append(
        &self,
        user: UserId,
        name: &MailboxName,
        message: NewMessage,
    ) -> StoreResult<AppendOutcome>;
    /// What changed since `modseq`, for catching a session up. With
    /// `claim_recent`, the caller becomes the session that reports the new
    /// messages as `\Recent`.
    fn changes_since(
        &self,
        mailbox: MailboxId,
        modseq: u64,
        last_uid: u32,
        claim_recent: bool,
    ) -> StoreResult<Changes>;
    /// Loads the requested messages (ascending `uids`); missing ones are skipped.
    fn fetch(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        request: FetchRequest,
    ) -> StoreResult<Vec<FetchedMessage>>;
    /// STORE: changes flags of the given messages, all under one new MODSEQ.
    fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> StoreResult<StoreOutcome>;
    /// COPY: the messages keep flags and INTERNALDATE and get new UIDs.
    fn copy(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
        kept: KeptFlags,
    ) -> StoreResult<CopyOutcome>;
    /// Migration: stores `message` in `name` (created if missing) unless a
    /// message with this `digest` was imported there before. Returns
    /// whether it was stored. Quota is not applied: the data moves in as it is.
    fn import(
        &self,
        user: UserId,
        name: &MailboxName,
        message: NewMessage,
        digest: &str,
    ) -> StoreResult<bool>;
    /// The user's Sieve scripts, by name.
    fn sieve_scripts(&self, user: UserId) -> StoreResult<Vec<SieveScriptInfo>>;
    /// A script's text (`None` when there is no such script).
    fn sieve_script(&self, user: UserId, name: &str) -> StoreResult<Option<String>>;
    /// Stores a script under `name`, replacing one of that name (and
    /// staying active if it was). The caller has compiled it.
    fn put_sieve_script(&self, user: UserId, name: &str, text: &str) -> StoreResult<()>;
    /// Makes `name` the one active script, or none with `None`.
    fn activate_sieve_script(&self, user: UserId, name: Option<&str>) -> StoreResult<()>;
    /// Deletes a script; the active one cannot be (RFC 5804 §2.10).
    fn delete_sieve_script(&self, user: UserId, name: &str) -> StoreResult<()>;
    fn rename_sieve_script(&self, user: UserId, from: &str, to: &str) -> StoreResult<()>;
    /// The active script's name and text, if any.
    fn active_sieve_script(&self, user: UserId) -> StoreResult<Option<(String, String)>>;
    /// Vacation: true when `user` has not answered `sender` (for this
    /// `handle`) within the period that began at an earlier reply, and
    /// then records this reply as holding for `period` seconds from `now`
    /// (one atomic step, so two deliveries at once send one reply).
    /// Senders compare case-insensitively.
    fn vacation_reply_due(
        &self,
        user: UserId,
        sender: &str,
        handle: &str,
        now: i64,
        period: u64,
    ) -> StoreResult<bool>;
    /// Migration: the digests `import` recorded for `name` that start
    /// with `prefix`, so that a resumed migration skips what it copied
    /// without fetching it again.
    fn imported_digests(
        &self,
        user: UserId,
        name: &MailboxName,
        prefix: &str,
    ) -> StoreResult<Vec<String>>;
    /// MOVE (RFC 6851): COPY and removal of the sources in one transaction.
    fn move_messages(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        user: UserId,
        target: &MailboxName,
        kept: KeptFlags,
    ) -> StoreResult<CopyOutcome>;
    /// Removes `\Deleted` messages (only those in `uids` when given).
    fn expunge(&self, mailbox: MailboxId, uids: Option<&[u32]>) -> StoreResult<Expunged>;
    /// POP3's UPDATE state (RFC 1939 §6): adds `\Seen` to the messages
    /// `seen` and removes the messages `removed` whatever their flags, in
    /// one transaction, so a QUIT cut short leaves the mailbox as it was.
    /// UIDs that are gone are skipped.
    fn mark_seen_and_remove(
        &self,
        mailbox: MailboxId,
        seen: &[u32],
        removed: &[u32],
    ) -> StoreResult<Expunged>;
    /// (UID, MODSEQ) of the messages matching `query`, ascending by UID.
    fn search(&self, mailbox: MailboxId, query: &SearchQuery) -> StoreResult<Vec<(u32, u64)>>;
    /// What SORT and THREAD need of the messages `uids` (ascending) that
    /// still exist, in UID order.
    fn sort_rows(&self, mailbox: MailboxId, uids: &[u32]) -> StoreResult<Vec<SortRow>>;
    /// Keeps the fields of messages stored before they were kept (rows
    /// `sort_rows` gave without fields), extracted by the caller from
    /// their octets, so that SORT reads them only once. Fields already
    /// stored stay; UIDs that are gone are skipped.
    fn keep_sort_fields(&self, mailbox: MailboxId, fields: &[(u32, SortFields)])
    -> StoreResult<()>;
    /// UIDs expunged after `modseq` (QRESYNC's VANISHED (EARLIER)), within
    /// `within` when given, ascending.
    fn vanished_since(
        &self,
        mailbox: MailboxId,
        modseq: u64,
        within: Option<&[RangeInclusive<u32>]>,
    ) -> StoreResult<Vec<u32>>;
    /// Retention: expunges (with tombstones, so sessions are told) every
    /// message that entered a mailbox with this special use before
    /// `cutoff` (unix seconds), for all users. Returns how many went.
    fn purge_older_than(&self, special_use: SpecialUse, cutoff: i64) -> StoreResult<usize>;
    /// A wake-up for changes to `mailbox`: the receiver changes whenever
    /// its MODSEQ rises above `modseq`, whichever session or process made
    /// the change (other processes' changes within a poll interval).
    fn watch(&self, mailbox: MailboxId, modseq: u64) -> tokio::sync::watch::Receiver<u64>;
    /// Heap memory the backend's own accounting says it holds (page
    /// caches, prepared statements), for the metrics; `None` when it does
    /// not know.
    fn memory_used(&self) -> Option<u64> {
        None
    }
}
