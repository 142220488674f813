//! The mail store, in IMAP terms.
//!
//! [`MailStore`] is the only way the rest of the server touches persistent
//! state. It speaks users, mailboxes (UTF-8 names with `/` as the hierarchy
//! delimiter), UIDs and flags; no SQL type crosses it, so a second backend can
//! be added by implementing the trait. Its methods block: async callers run
//! them on tokio's blocking pool (see `session::Session::store`).

pub mod names;
pub mod sqlite;

use chrono::{DateTime, FixedOffset};

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
    #[error("internal store error: {0}")]
    Internal(String),
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

/// System flags as a bit set, plus keywords.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: SystemFlags,
    pub keywords: Vec<String>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub mailboxes: u32,
    pub messages: u64,
    pub bytes: u64,
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
    /// This session is the one that reports the message as `\Recent`.
    pub recent: bool,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub uidvalidity: u32,
    pub uid: u32,
}

/// Persistent state, in IMAP terms. Every method blocks; every mutation is
/// durable (committed) when it returns `Ok`.
pub trait MailStore: Send + Sync + 'static {
    /// Creates a user with the default mailboxes.
    fn create_user(&self, name: &str, password_hash: &str) -> StoreResult<UserId>;
    fn set_password_hash(&self, name: &str, password_hash: &str) -> StoreResult<()>;
    /// Deletes a user with all their mailboxes and messages.
    fn delete_user(&self, name: &str) -> StoreResult<()>;
    fn find_user(&self, name: &str) -> StoreResult<Option<UserRecord>>;
    fn list_users(&self) -> StoreResult<Vec<UserSummary>>;

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
    /// Messages with a UID above `after_uid`, for catching a session up.
    fn messages_after(
        &self,
        mailbox: MailboxId,
        after_uid: u32,
        claim_recent: bool,
    ) -> StoreResult<Vec<MessageMeta>>;
    /// Removes every `\Deleted` message of the mailbox; returns their UIDs.
    fn expunge_deleted(&self, mailbox: MailboxId) -> StoreResult<Vec<u32>>;
}
