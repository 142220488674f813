//! A compiled script: commands and tests with their arguments checked
//! and typed, each command with its line for logs and traces.

/// A string from the script, `${...}` variable references still in it
/// when the `variables` extension is on (expanded at run time).
pub type Text = String;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub line: usize,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `if`/`elsif` branches in order, then `else`.
    If {
        branches: Vec<(Test, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Stop,
    Keep {
        flags: Option<Vec<Text>>,
    },
    Discard,
    FileInto {
        mailbox: Text,
        flags: Option<Vec<Text>>,
        copy: bool,
        create: bool,
    },
    Redirect {
        address: Text,
        copy: bool,
    },
    /// imap4flags: setflag, addflag, removeflag (on the internal
    /// variable when `variable` is none).
    Flags {
        change: FlagChange,
        variable: Option<String>,
        flags: Vec<Text>,
    },
    /// variables: `set`.
    Set {
        name: String,
        value: Text,
        modifiers: Vec<Modifier>,
    },
    Vacation(Box<Vacation>),
    /// reject (an MDN-style refusal) or ereject (refused in the SMTP/LMTP
    /// dialogue).
    Reject {
        reason: Text,
        in_protocol: bool,
    },
    /// include (RFC 6609): another script of the user's (`:personal`) or
    /// of the sysadmin's (`:global`), run here.
    Include {
        name: Text,
        global: bool,
        once: bool,
        optional: bool,
    },
    /// include: ends the current script, back to the one that included it.
    Return,
    /// include: these variables are shared with the included scripts.
    Global(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    Set,
    Add,
    Remove,
}

/// `set` modifiers (RFC 5229 §4.1), applied in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Modifier {
    Lower,
    Upper,
    LowerFirst,
    UpperFirst,
    QuoteWildcard,
    Length,
}

impl Modifier {
    /// RFC 5229 §4.1: 40 for case, 30 for first-letter case, 20 for
    /// quotewildcard, 10 for length; higher applies first.
    pub fn precedence(self) -> u8 {
        match self {
            Modifier::Lower | Modifier::Upper => 40,
            Modifier::LowerFirst | Modifier::UpperFirst => 30,
            Modifier::QuoteWildcard => 20,
            Modifier::Length => 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacation {
    /// `:days` as seconds, or `:seconds` (vacation-seconds).
    pub period: Option<u64>,
    pub subject: Option<Text>,
    pub from: Option<Text>,
    pub addresses: Vec<Text>,
    pub mime: bool,
    pub handle: Option<Text>,
    pub reason: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    True,
    False,
    Not(Box<Test>),
    AllOf(Vec<Test>),
    AnyOf(Vec<Test>),
    Header {
        names: Vec<Text>,
        keys: Vec<Text>,
        matcher: Matcher,
        index: Option<Index>,
    },
    Address {
        names: Vec<Text>,
        keys: Vec<Text>,
        part: AddressPart,
        matcher: Matcher,
        index: Option<Index>,
    },
    Envelope {
        parts: Vec<Text>,
        keys: Vec<Text>,
        part: AddressPart,
        matcher: Matcher,
    },
    Exists(Vec<Text>),
    Size {
        over: bool,
        limit: u64,
    },
    Body {
        transform: BodyTransform,
        keys: Vec<Text>,
        matcher: Matcher,
    },
    /// imap4flags: hasflag.
    HasFlag {
        variables: Vec<String>,
        keys: Vec<Text>,
        matcher: Matcher,
    },
    /// mailbox: mailboxexists.
    MailboxExists(Vec<Text>),
    /// variables: `string`.
    String {
        sources: Vec<Text>,
        keys: Vec<Text>,
        matcher: Matcher,
    },
    /// date (`header` set) and currentdate.
    Date {
        header: Option<Text>,
        zone: Zone,
        part: Text,
        keys: Vec<Text>,
        matcher: Matcher,
        index: Option<Index>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matcher {
    pub kind: MatchKind,
    pub comparator: Comparator,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            kind: MatchKind::Is,
            comparator: Comparator::AsciiCasemap,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Is,
    Contains,
    Matches,
    /// relational `:value`.
    Value(Relation),
    /// relational `:count`.
    Count(Relation),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Relation {
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Relation::Gt => ordering == Greater,
            Relation::Ge => ordering != Less,
            Relation::Lt => ordering == Less,
            Relation::Le => ordering != Greater,
            Relation::Eq => ordering == Equal,
            Relation::Ne => ordering != Equal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Octet,
    AsciiCasemap,
    AsciiNumeric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPart {
    All,
    LocalPart,
    Domain,
    /// subaddress: the part before the `+`.
    User,
    /// subaddress: the part after it.
    Detail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyTransform {
    Raw,
    /// Text parts of these content types (`:content`).
    Content(Vec<Text>),
    Text,
}

/// index (RFC 5260 §6): which occurrence of a header, counted from the
/// end with `:last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub position: u64,
    pub last: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// The date's own zone (`:originalzone`).
    Original,
    /// `:zone "+0100"`.
    Fixed(Text),
    /// Neither: the server's local zone (UTC here).
    Local,
}
