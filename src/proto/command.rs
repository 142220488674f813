//! The parsed form of every client command the server understands.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::proto::types::{Flag, MessageSet, SequenceSet, StatusItem, Tag};

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
/// A command with more than one argument carries its own struct, handed to
/// its handler as it is; commands that share a grammar share the struct
/// (SELECT/EXAMINE, COPY/MOVE, LSUB/XLIST).
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
    Authenticate(AuthenticateCommand),
    Login(LoginCommand),
    // Authenticated.
    Select(SelectCommand),
    Examine(SelectCommand),
    Create(CreateCommand),
    Delete {
        mailbox: Vec<u8>,
    },
    Rename(RenameCommand),
    Subscribe {
        mailbox: Vec<u8>,
    },
    Unsubscribe {
        mailbox: Vec<u8>,
    },
    List(ListCommand),
    Lsub(LsubCommand),
    Xlist(LsubCommand),
    Namespace,
    /// RFC 9208.
    GetQuota {
        root: Vec<u8>,
    },
    GetQuotaRoot {
        mailbox: Vec<u8>,
    },
    SetQuota(SetQuotaCommand),
    /// RFC 4314: `rights` as sent (with a leading `+` or `-` to add or
    /// take away).
    SetAcl {
        mailbox: Vec<u8>,
        identifier: Vec<u8>,
        rights: Vec<u8>,
    },
    DeleteAcl {
        mailbox: Vec<u8>,
        identifier: Vec<u8>,
    },
    GetAcl {
        mailbox: Vec<u8>,
    },
    ListRights {
        mailbox: Vec<u8>,
        identifier: Vec<u8>,
    },
    MyRights {
        mailbox: Vec<u8>,
    },
    Status(StatusCommand),
    Append(AppendCommand),
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
    UidExpunge(MessageSet),
    Search(SearchCommand),
    Sort(SortCommand),
    Thread(ThreadCommand),
    Fetch(FetchCommand),
    Store(StoreCommand),
    Copy(CopyCommand),
    Move(CopyCommand),
}

/// AUTHENTICATE (RFC 3501 §6.2.2, RFC 4959 SASL-IR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateCommand {
    /// Upper-cased.
    pub mechanism: String,
    /// SASL-IR initial response as sent (base64 text, or `=`).
    pub initial_response: Option<Vec<u8>>,
}

/// LOGIN (RFC 3501 §6.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCommand {
    pub username: Vec<u8>,
    pub password: Vec<u8>,
}

/// SELECT and EXAMINE (RFC 3501 §6.3.1-2, RFC 7162 parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectCommand {
    pub mailbox: Vec<u8>,
    pub condstore: bool,
    pub qresync: Option<QresyncParams>,
}

/// CREATE (RFC 3501 §6.3.3, RFC 6154 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCommand {
    pub mailbox: Vec<u8>,
    /// RFC 6154 `CREATE name (USE (\Sent))`: the attributes as sent.
    pub special_use: Vec<String>,
}

/// RENAME (RFC 3501 §6.3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameCommand {
    pub from: Vec<u8>,
    pub to: Vec<u8>,
}

/// LSUB (RFC 3501 §6.3.9) and XLIST: one reference, one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsubCommand {
    pub reference: Vec<u8>,
    pub pattern: Vec<u8>,
}

/// SETQUOTA (RFC 9208 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetQuotaCommand {
    pub root: Vec<u8>,
    /// (resource name upper-cased, limit)
    pub limits: Vec<(String, u64)>,
}

/// STATUS (RFC 3501 §6.3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCommand {
    pub mailbox: Vec<u8>,
    pub items: Vec<StatusItem>,
}

/// APPEND (RFC 3501 §6.3.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendCommand {
    pub mailbox: Vec<u8>,
    pub flags: Vec<Flag>,
    pub internal_date: Option<DateTime<FixedOffset>>,
    pub message: Vec<u8>,
    /// Sent as a literal8 (RFC 3516): binary octets, stored exactly.
    pub binary: bool,
}

/// SEARCH and UID SEARCH (RFC 3501 §6.4.4, RFC 4731 ESEARCH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCommand {
    pub uid: bool,
    pub charset: Option<String>,
    /// The top-level key list is always a `SearchKey::And`.
    pub criteria: SearchKey,
    /// ESEARCH `RETURN (...)`, upper-cased; `Some(vec![])` for `RETURN ()`.
    pub return_options: Option<Vec<String>>,
}

/// SORT and UID SORT (RFC 5256, with RFC 5957's DISPLAYFROM/DISPLAYTO and
/// RFC 5267's RETURN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortCommand {
    pub uid: bool,
    /// At least one.
    pub keys: Vec<SortKey>,
    pub charset: String,
    /// The top-level key list is always a `SearchKey::And`.
    pub criteria: SearchKey,
    /// ESORT `RETURN (...)`, upper-cased; `Some(vec![])` for `RETURN ()`.
    pub return_options: Option<Vec<String>>,
}

/// THREAD and UID THREAD (RFC 5256 §3; REFS as Dovecot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCommand {
    pub uid: bool,
    pub algorithm: ThreadAlgorithm,
    pub charset: String,
    /// The top-level key list is always a `SearchKey::And`.
    pub criteria: SearchKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
    Refs,
}

/// One sort criterion; `reverse` turns its order around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub reverse: bool,
    pub criterion: SortCriterion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortCriterion {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// FETCH and UID FETCH (RFC 3501 §6.4.5, RFC 7162 modifiers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchCommand {
    pub uid: bool,
    pub messages: MessageSet,
    /// Macros ALL/FAST/FULL are expanded.
    pub attributes: Vec<FetchAttribute>,
    pub changed_since: Option<u64>,
    /// QRESYNC's VANISHED modifier (UID FETCH with CHANGEDSINCE only).
    pub vanished: bool,
}

/// STORE and UID STORE (RFC 3501 §6.4.6, RFC 7162 UNCHANGEDSINCE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCommand {
    pub uid: bool,
    pub messages: MessageSet,
    pub mode: StoreMode,
    pub silent: bool,
    pub flags: Vec<Flag>,
    pub unchanged_since: Option<u64>,
}

/// COPY and MOVE, with or without UID (RFC 3501 §6.4.7, RFC 6851).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyCommand {
    pub uid: bool,
    pub messages: MessageSet,
    pub mailbox: Vec<u8>,
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
            Authenticate(_) => "AUTHENTICATE",
            Login(_) => "LOGIN",
            Select(_) => "SELECT",
            Examine(_) => "EXAMINE",
            Create(_) => "CREATE",
            Delete { .. } => "DELETE",
            Rename(_) => "RENAME",
            Subscribe { .. } => "SUBSCRIBE",
            Unsubscribe { .. } => "UNSUBSCRIBE",
            List(_) => "LIST",
            Lsub(_) => "LSUB",
            Xlist(_) => "XLIST",
            Namespace => "NAMESPACE",
            GetQuota { .. } => "GETQUOTA",
            GetQuotaRoot { .. } => "GETQUOTAROOT",
            SetQuota(_) => "SETQUOTA",
            SetAcl { .. } => "SETACL",
            DeleteAcl { .. } => "DELETEACL",
            GetAcl { .. } => "GETACL",
            ListRights { .. } => "LISTRIGHTS",
            MyRights { .. } => "MYRIGHTS",
            Status(_) => "STATUS",
            Append(_) => "APPEND",
            Idle => "IDLE",
            Compress { .. } => "COMPRESS",
            Check => "CHECK",
            Close => "CLOSE",
            Unselect => "UNSELECT",
            Expunge => "EXPUNGE",
            UidExpunge(_) => "UID EXPUNGE",
            Search(c) => pick(c.uid, "UID SEARCH", "SEARCH"),
            Sort(c) => pick(c.uid, "UID SORT", "SORT"),
            Thread(c) => pick(c.uid, "UID THREAD", "THREAD"),
            Fetch(c) => pick(c.uid, "UID FETCH", "FETCH"),
            Store(c) => pick(c.uid, "UID STORE", "STORE"),
            Copy(c) => pick(c.uid, "UID COPY", "COPY"),
            Move(c) => pick(c.uid, "UID MOVE", "MOVE"),
        }
    }

    /// RFC 3501 §7.4.1: no EXPUNGE response while answering FETCH, STORE
    /// or SEARCH (or SORT and THREAD, which answer in sequence numbers
    /// too). Their
    /// UID forms are fine, except one whose criteria use sequence numbers
    /// (RFC 7162 §3.2.10).
    pub fn allows_expunge(&self) -> bool {
        match self {
            CommandBody::Fetch(c) => c.uid,
            CommandBody::Store(c) => c.uid,
            CommandBody::Search(c) => c.uid && !c.criteria.uses_sequence_numbers(),
            CommandBody::Sort(c) => c.uid && !c.criteria.uses_sequence_numbers(),
            CommandBody::Thread(c) => c.uid && !c.criteria.uses_sequence_numbers(),
            _ => true,
        }
    }

    /// RFC 7162 §3.1: the commands that turn CONDSTORE on by using it.
    pub fn enables_condstore(&self) -> bool {
        let wants_modseq = |items: &[StatusItem]| items.contains(&StatusItem::HighestModSeq);
        match self {
            CommandBody::Select(c) | CommandBody::Examine(c) => c.condstore,
            CommandBody::Status(c) => wants_modseq(&c.items),
            CommandBody::List(list) => list
                .return_options
                .iter()
                .any(|option| matches!(option, ListReturn::Status(items) if wants_modseq(items))),
            CommandBody::Fetch(c) => {
                c.changed_since.is_some() || c.attributes.contains(&FetchAttribute::ModSeq)
            }
            CommandBody::Store(c) => c.unchanged_since.is_some(),
            CommandBody::Search(c) => c.criteria.uses_modseq(),
            CommandBody::Sort(c) => c.criteria.uses_modseq(),
            CommandBody::Thread(c) => c.criteria.uses_modseq(),
            _ => false,
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
    /// RFC 8514.
    SaveDate,
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
    /// RFC 3516 `BINARY[part]<partial>`: the part decoded.
    Binary {
        peek: bool,
        /// Part path; empty for the whole message.
        part: Vec<u32>,
        partial: Option<(u32, u32)>,
    },
    /// RFC 3516 `BINARY.SIZE[part]`.
    BinarySize {
        part: Vec<u32>,
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
    /// RFC 8514: the date the message entered its mailbox.
    SavedBefore(NaiveDate),
    SavedOn(NaiveDate),
    SavedSince(NaiveDate),
    /// RFC 8514: every message, when the mailbox keeps save dates.
    SaveDateSupported,
    /// RFC 5032 WITHIN: INTERNALDATE at least this many seconds ago.
    Older(u32),
    /// RFC 5032 WITHIN: INTERNALDATE less than this many seconds ago.
    Younger(u32),
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
    /// `$` (RFC 5182), alone or as `UID $`: the saved result.
    Saved,
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

impl SearchKey {
    /// True when any key in the tree satisfies `test`.
    fn any(&self, test: &impl Fn(&SearchKey) -> bool) -> bool {
        test(self)
            || match self {
                SearchKey::Not(inner) => inner.any(test),
                SearchKey::Or(a, b) => a.any(test) || b.any(test),
                SearchKey::And(all) => all.iter().any(|key| key.any(test)),
                _ => false,
            }
    }

    /// True for criteria that are just `ALL`.
    pub fn is_all(&self) -> bool {
        match self {
            SearchKey::All => true,
            SearchKey::And(keys) => keys.len() == 1 && keys[0].is_all(),
            _ => false,
        }
    }

    /// True when the criteria contain a MODSEQ key (RFC 7162 §3.1.5).
    pub fn uses_modseq(&self) -> bool {
        self.any(&|key| matches!(key, SearchKey::ModSeq(_)))
    }

    /// True when the criteria use message sequence numbers: then even UID
    /// SEARCH must not be interleaved with expunges (RFC 7162 §3.2.10).
    pub fn uses_sequence_numbers(&self) -> bool {
        self.any(&|key| matches!(key, SearchKey::SequenceSet(_)))
    }
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
        let fetch = CommandBody::Fetch(FetchCommand {
            uid: true,
            messages: MessageSet::Numbers(set),
            attributes: vec![FetchAttribute::Flags],
            changed_since: None,
            vanished: false,
        });
        assert_eq!(fetch.name(), "UID FETCH");
        assert_eq!(
            CommandBody::UidExpunge(MessageSet::Saved).name(),
            "UID EXPUNGE"
        );
        assert_eq!(CommandBody::Noop.name(), "NOOP");
        assert_eq!(CommandBody::StartTls.name(), "STARTTLS");
    }
}
