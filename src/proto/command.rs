//! The parsed form of every client command the server understands.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::proto::types::{Flag, SequenceSet, StatusItem, Tag};

/// RFC 2971 ID field/value pairs (`NIL` values are `None`).
pub type IdParams = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// One tagged client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

/// A command without its tag. Mailbox names are raw wire bytes (modified
/// UTF-7 unless UTF8=ACCEPT), except that `INBOX` in any case is `b"INBOX"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    // Any state.
    Capability,
    Noop,
    Logout,
    /// RFC 2971: `None` for `ID NIL`, else the field/value pairs.
    Id(Option<IdParams>),
    /// RFC 5161: capability names, upper-cased.
    Enable(Vec<String>),
    // Not authenticated.
    StartTls,
    Authenticate {
        /// Upper-cased.
        mechanism: String,
        /// SASL-IR initial response as sent (base64 text, or `=`).
        initial_response: Option<Vec<u8>>,
    },
    Login {
        username: Vec<u8>,
        password: Vec<u8>,
    },
    // Authenticated.
    Select {
        mailbox: Vec<u8>,
        condstore: bool,
        qresync: Option<QresyncParams>,
    },
    Examine {
        mailbox: Vec<u8>,
        condstore: bool,
        qresync: Option<QresyncParams>,
    },
    Create {
        mailbox: Vec<u8>,
        /// RFC 6154 `CREATE name (USE (\Sent))`: the attributes as sent.
        special_use: Vec<String>,
    },
    Delete {
        mailbox: Vec<u8>,
    },
    Rename {
        from: Vec<u8>,
        to: Vec<u8>,
    },
    Subscribe {
        mailbox: Vec<u8>,
    },
    Unsubscribe {
        mailbox: Vec<u8>,
    },
    List(ListCommand),
    Lsub {
        reference: Vec<u8>,
        pattern: Vec<u8>,
    },
    Xlist {
        reference: Vec<u8>,
        pattern: Vec<u8>,
    },
    Namespace,
    /// RFC 9208.
    GetQuota {
        root: Vec<u8>,
    },
    GetQuotaRoot {
        mailbox: Vec<u8>,
    },
    SetQuota {
        root: Vec<u8>,
        /// (resource name upper-cased, limit)
        limits: Vec<(String, u64)>,
    },
    Status {
        mailbox: Vec<u8>,
        items: Vec<StatusItem>,
    },
    Append {
        mailbox: Vec<u8>,
        flags: Vec<Flag>,
        internal_date: Option<DateTime<FixedOffset>>,
        message: Vec<u8>,
    },
    Idle,
    /// RFC 4978: mechanism upper-cased.
    Compress {
        mechanism: String,
    },
    // Selected.
    Check,
    Close,
    Unselect,
    Expunge,
    UidExpunge(SequenceSet),
    Search {
        uid: bool,
        charset: Option<String>,
        /// The top-level key list is always a `SearchKey::And`.
        criteria: SearchKey,
        /// ESEARCH `RETURN (...)`, upper-cased; `Some(vec![])` for `RETURN ()`.
        return_options: Option<Vec<String>>,
    },
    Fetch {
        uid: bool,
        sequence_set: SequenceSet,
        /// Macros ALL/FAST/FULL are expanded.
        attributes: Vec<FetchAttribute>,
        changed_since: Option<u64>,
        vanished: bool,
    },
    Store {
        uid: bool,
        sequence_set: SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<Flag>,
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        sequence_set: SequenceSet,
        mailbox: Vec<u8>,
    },
    Move {
        uid: bool,
        sequence_set: SequenceSet,
        mailbox: Vec<u8>,
    },
}

impl CommandBody {
    /// The command name as a client writes it, e.g. `"UID FETCH"`.
    pub fn name(&self) -> &'static str {
        use CommandBody::*;
        let pick = |uid: bool, with: &'static str, without: &'static str| {
            if uid { with } else { without }
        };
        match self {
            Capability => "CAPABILITY",
            Noop => "NOOP",
            Logout => "LOGOUT",
            Id(_) => "ID",
            Enable(_) => "ENABLE",
            StartTls => "STARTTLS",
            Authenticate { .. } => "AUTHENTICATE",
            Login { .. } => "LOGIN",
            Select { .. } => "SELECT",
            Examine { .. } => "EXAMINE",
            Create { .. } => "CREATE",
            Delete { .. } => "DELETE",
            Rename { .. } => "RENAME",
            Subscribe { .. } => "SUBSCRIBE",
            Unsubscribe { .. } => "UNSUBSCRIBE",
            List(_) => "LIST",
            Lsub { .. } => "LSUB",
            Xlist { .. } => "XLIST",
            Namespace => "NAMESPACE",
            GetQuota { .. } => "GETQUOTA",
            GetQuotaRoot { .. } => "GETQUOTAROOT",
            SetQuota { .. } => "SETQUOTA",
            Status { .. } => "STATUS",
            Append { .. } => "APPEND",
            Idle => "IDLE",
            Compress { .. } => "COMPRESS",
            Check => "CHECK",
            Close => "CLOSE",
            Unselect => "UNSELECT",
            Expunge => "EXPUNGE",
            UidExpunge(_) => "UID EXPUNGE",
            Search { uid, .. } => pick(*uid, "UID SEARCH", "SEARCH"),
            Fetch { uid, .. } => pick(*uid, "UID FETCH", "FETCH"),
            Store { uid, .. } => pick(*uid, "UID STORE", "STORE"),
            Copy { uid, .. } => pick(*uid, "UID COPY", "COPY"),
            Move { uid, .. } => pick(*uid, "UID MOVE", "MOVE"),
        }
    }
}

/// SELECT/EXAMINE `QRESYNC (...)` parameters (RFC 7162).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QresyncParams {
    pub uidvalidity: u32,
    pub modseq: u64,
    pub known_uids: Option<SequenceSet>,
    /// (known sequence numbers, their UIDs).
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// LIST, including RFC 5258 extended forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCommand {
    /// Upper-cased selection options.
    pub selection_options: Vec<String>,
    pub reference: Vec<u8>,
    /// One pattern, or several from a parenthesised list.
    pub patterns: Vec<Vec<u8>>,
    pub return_options: Vec<ListReturn>,
}

/// A LIST `RETURN (...)` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    Subscribed,
    Children,
    SpecialUse,
    Status(Vec<StatusItem>),
    /// Any other option, upper-cased.
    Other(String),
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

/// One FETCH data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttribute {
    Envelope,
    Flags,
    InternalDate,
    Rfc822,
    Rfc822Header,
    Rfc822Size,
    Rfc822Text,
    Body,
    BodyStructure,
    Uid,
    ModSeq,
    BodySection {
        peek: bool,
        section: Section,
        /// `<origin.count>`.
        partial: Option<(u32, u32)>,
    },
}

/// A body section specifier: `[1.2.HEADER]` etc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Part path; empty for the whole message.
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

/// The text part of a section specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    Header,
    /// Field names as sent (match them case-insensitively).
    HeaderFields(Vec<String>),
    HeaderFieldsNot(Vec<String>),
    Text,
    Mime,
}

/// A SEARCH key. Parenthesised groups and the top-level list are `And`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    Answered,
    Bcc(Vec<u8>),
    Before(NaiveDate),
    Body(Vec<u8>),
    Cc(Vec<u8>),
    Deleted,
    Draft,
    Flagged,
    From(Vec<u8>),
    Header(String, Vec<u8>),
    Keyword(String),
    Larger(u32),
    New,
    Not(Box<SearchKey>),
    Old,
    On(NaiveDate),
    Or(Box<SearchKey>, Box<SearchKey>),
    Recent,
    Seen,
    SentBefore(NaiveDate),
    SentOn(NaiveDate),
    SentSince(NaiveDate),
    Since(NaiveDate),
    Smaller(u32),
    Subject(Vec<u8>),
    Text(Vec<u8>),
    To(Vec<u8>),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(String),
    Unseen,
    SequenceSet(SequenceSet),
    And(Vec<SearchKey>),
    ModSeq(u64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::{SeqNum, SeqRange};

    #[test]
    fn names() {
        let set = SequenceSet(vec![SeqRange {
            start: SeqNum::Value(1),
            end: SeqNum::Star,
        }]);
        let fetch = CommandBody::Fetch {
            uid: true,
            sequence_set: set.clone(),
            attributes: vec![FetchAttribute::Flags],
            changed_since: None,
            vanished: false,
        };
        assert_eq!(fetch.name(), "UID FETCH");
        assert_eq!(CommandBody::UidExpunge(set).name(), "UID EXPUNGE");
        assert_eq!(CommandBody::Noop.name(), "NOOP");
        assert_eq!(CommandBody::StartTls.name(), "STARTTLS");
    }
}
