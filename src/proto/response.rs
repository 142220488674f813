//! Server responses (RFC 3501 §7): the status line that ends a command
//! (`Done`, tagged or untagged) and the untagged data responses
//! (`Untagged`). Each shape is written in one place, here; handlers build
//! values, and tests can compare values instead of strings.

use std::fmt;

use crate::proto::encode;
use crate::proto::types::{Flag, StatusItem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    /// Only untagged: the server is closing the connection (§7.1.5).
    Bye,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Bye => "BYE",
        }
    }
}

/// Response codes (RFC 3501 §7.1, RFC 5530, RFC 4315) that handlers use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Alert,
    Capability(String),
    TryCreate,
    ReadOnly,
    ReadWrite,
    AppendUid {
        uidvalidity: u32,
        uid: u32,
    },
    AuthenticationFailed,
    PrivacyRequired,
    Cannot,
    NonExistent,
    AlreadyExists,
    ServerBug,
    /// RFC 5530: a subsystem (the mail store) is down for now.
    Unavailable,
    TooBig,
    Limit,
    ClientBug,
    AuthorizationFailed,
    UidValidity(u32),
    UidNext(u32),
    Unseen(u32),
    PermanentFlags(String),
    CopyUid {
        uidvalidity: u32,
        sources: String,
        copies: String,
    },
    Modified(String),
    BadCharset,
    /// RFC 6154 §3: CREATE asked for a special use the server cannot give.
    UseAttr,
    HighestModSeq(u64),
    Closed,
    CompressionActive,
    OverQuota,
    NoPerm,
    ExpungeIssued,
    /// RFC 3516: BINARY of a part whose encoding we cannot undo.
    UnknownCte,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Alert => f.write_str("ALERT"),
            Code::Capability(list) => write!(f, "CAPABILITY {list}"),
            Code::TryCreate => f.write_str("TRYCREATE"),
            Code::ReadOnly => f.write_str("READ-ONLY"),
            Code::ReadWrite => f.write_str("READ-WRITE"),
            Code::AppendUid { uidvalidity, uid } => write!(f, "APPENDUID {uidvalidity} {uid}"),
            Code::AuthenticationFailed => f.write_str("AUTHENTICATIONFAILED"),
            Code::PrivacyRequired => f.write_str("PRIVACYREQUIRED"),
            Code::Cannot => f.write_str("CANNOT"),
            Code::NonExistent => f.write_str("NONEXISTENT"),
            Code::AlreadyExists => f.write_str("ALREADYEXISTS"),
            Code::ServerBug => f.write_str("SERVERBUG"),
            Code::Unavailable => f.write_str("UNAVAILABLE"),
            Code::UnknownCte => f.write_str("UNKNOWN-CTE"),
            Code::TooBig => f.write_str("TOOBIG"),
            Code::Limit => f.write_str("LIMIT"),
            Code::ClientBug => f.write_str("CLIENTBUG"),
            Code::AuthorizationFailed => f.write_str("AUTHORIZATIONFAILED"),
            Code::UidValidity(n) => write!(f, "UIDVALIDITY {n}"),
            Code::UidNext(n) => write!(f, "UIDNEXT {n}"),
            Code::Unseen(n) => write!(f, "UNSEEN {n}"),
            Code::PermanentFlags(list) => write!(f, "PERMANENTFLAGS ({list})"),
            Code::CopyUid {
                uidvalidity,
                sources,
                copies,
            } => write!(f, "COPYUID {uidvalidity} {sources} {copies}"),
            Code::Modified(set) => write!(f, "MODIFIED {set}"),
            Code::BadCharset => f.write_str("BADCHARSET (UTF-8 US-ASCII)"),
            Code::UseAttr => f.write_str("USEATTR"),
            Code::HighestModSeq(n) => write!(f, "HIGHESTMODSEQ {n}"),
            Code::Closed => f.write_str("CLOSED"),
            Code::CompressionActive => f.write_str("COMPRESSIONACTIVE"),
            Code::OverQuota => f.write_str("OVERQUOTA"),
            Code::NoPerm => f.write_str("NOPERM"),
            Code::ExpungeIssued => f.write_str("EXPUNGEISSUED"),
        }
    }
}

/// How a command ended: the tagged status line to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub status: Status,
    pub code: Option<Code>,
    pub text: String,
}

/// Handlers return `Ok` for success and `Err` for NO/BAD, so `?` can carry
/// a failure straight to the tagged response.
pub type CommandResult = Result<Done, Done>;

impl Done {
    fn new(status: Status, text: impl Into<String>) -> Done {
        Done {
            status,
            code: None,
            text: text.into(),
        }
    }
    pub fn ok(text: impl Into<String>) -> Done {
        Done::new(Status::Ok, text)
    }
    pub fn no(text: impl Into<String>) -> Done {
        Done::new(Status::No, text)
    }
    pub fn bad(text: impl Into<String>) -> Done {
        Done::new(Status::Bad, text)
    }
    pub fn bye(text: impl Into<String>) -> Done {
        Done::new(Status::Bye, text)
    }
    pub fn with_code(mut self, code: Code) -> Done {
        self.code = Some(code);
        self
    }
}

/// Appends `tag STATUS [CODE] text\r\n` (or `* ...` without a tag).
pub fn write_status(out: &mut Vec<u8>, tag: Option<&str>, done: &Done) {
    out.extend_from_slice(tag.unwrap_or("*").as_bytes());
    out.push(b' ');
    out.extend_from_slice(done.status.as_str().as_bytes());
    out.push(b' ');
    if let Some(code) = &done.code {
        out.extend_from_slice(format!("[{code}] ").as_bytes());
    }
    // Text must not break the line: control characters become spaces.
    out.extend(
        done.text
            .bytes()
            .map(|b| if b.is_ascii_control() { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// An untagged data response, or an untagged status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untagged {
    /// `* OK|NO|BAD|BYE [code] text` (RFC 3501 §7.1).
    Condition(Done),
    /// `* CAPABILITY ...`, the names space-separated.
    Capability(String),
    /// `* ENABLED ...` (RFC 5161).
    Enabled(Vec<&'static str>),
    /// `* ID ("field" "value" ...)` (RFC 2971).
    Id(Vec<(&'static str, &'static str)>),
    /// `* FLAGS (...)`: the flags a mailbox knows.
    Flags(Vec<Flag>),
    Exists(u32),
    Recent(u32),
    Expunge(u32),
    /// `* VANISHED [(EARLIER)] uid-set` (RFC 7162 §3.2.10); UIDs ascending.
    Vanished {
        earlier: bool,
        uids: Vec<u32>,
    },
    /// `* n FETCH (UID u FLAGS (...) MODSEQ (m))`: the flag-change form
    /// (body items are streamed by FETCH itself).
    Fetch(FetchFlags),
    /// `* SEARCH n... [(MODSEQ m)]`.
    Search {
        numbers: Vec<u32>,
        modseq: Option<u64>,
    },
    /// `* SORT n... [(MODSEQ m)]` (RFC 5256; MODSEQ as for SEARCH, RFC
    /// 7162 §3.1.5), numbers in sort order.
    Sort {
        numbers: Vec<u32>,
        modseq: Option<u64>,
    },
    /// `* ESEARCH (TAG "t") [UID] ...` (RFC 4731).
    Esearch(Esearch),
    /// `* STATUS name (ITEM value ...)`.
    Status {
        mailbox: String,
        items: Vec<(StatusItem, u64)>,
    },
    /// `* LIST (attributes) "/" name [("CHILDINFO" ("SUBSCRIBED"))]`, and
    /// the LSUB and XLIST forms.
    List(ListEntry),
    /// `* NAMESPACE personal other shared` (RFC 2342): (prefix, delimiter)
    /// pairs, `NIL` when a class is empty.
    Namespace {
        personal: Vec<(String, char)>,
        other_users: Vec<(String, char)>,
        shared: Vec<(String, char)>,
    },
    /// `* QUOTA root (RESOURCE usage limit ...)` (RFC 9208).
    Quota {
        root: String,
        resources: Vec<(&'static str, u64, u64)>,
    },
    /// `* QUOTAROOT mailbox root...`.
    QuotaRoot {
        mailbox: String,
        roots: Vec<String>,
    },
    /// `* THREAD (1 2)(3 (4)(5))...` (RFC 5256).
    Thread(Vec<Thread>),
    /// `* ACL mailbox identifier rights ...` (RFC 4314 §3.6).
    Acl {
        mailbox: String,
        entries: Vec<(String, String)>,
    },
    /// `* LISTRIGHTS mailbox identifier required optional...` (§3.7).
    ListRights {
        mailbox: String,
        identifier: String,
        required: String,
        optional: Vec<String>,
    },
    /// `* MYRIGHTS mailbox rights` (§3.8).
    MyRights {
        mailbox: String,
        rights: String,
    },
}

/// A thread of a THREAD response: a message (or, at the top, a dummy for a
/// missing parent: `id` None) and its replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: Option<u32>,
    pub children: Vec<Thread>,
}

impl Thread {
    /// `"(" thread-members / thread-nested ")"`.
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'(');
        self.encode_members(out);
        out.push(b')');
    }

    /// A message followed by its one reply as `1 2`, by several as
    /// `1 (2)(3)`; a dummy is only its replies `(2)(3)`.
    fn encode_members(&self, out: &mut Vec<u8>) {
        let Some(id) = self.id else {
            self.children.iter().for_each(|c| c.encode(out));
            return;
        };
        out.extend_from_slice(id.to_string().as_bytes());
        match self.children.as_slice() {
            [] => {}
            [only] => {
                out.push(b' ');
                only.encode_members(out);
            }
            several => {
                out.push(b' ');
                several.iter().for_each(|c| c.encode(out));
            }
        }
    }
}

/// The items of a flag-change FETCH response; absent ones are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchFlags {
    pub seq: u32,
    pub uid: Option<u32>,
    pub flags: Option<Vec<Flag>>,
    pub modseq: Option<u64>,
}

/// An ESEARCH response (RFC 4731 §3.1); absent results are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Esearch {
    pub tag: String,
    pub uid: bool,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub count: Option<usize>,
    /// Ascending; written as a compact set, and left out when empty.
    pub all: Vec<u32>,
    pub modseq: Option<u64>,
}

/// One LIST, LSUB or XLIST line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// `LIST`, `LSUB` or `XLIST`.
    pub verb: &'static str,
    pub attributes: Vec<&'static str>,
    pub delimiter: char,
    pub name: String,
    /// The RFC 5258 §3.5 CHILDINFO extended data item; it can only name
    /// SUBSCRIBED, the one selection option RECURSIVEMATCH combines with.
    pub childinfo: bool,
}

impl Untagged {
    /// Appends `* ...\r\n`. `utf8`: mailbox names go out as UTF-8
    /// (UTF8=ACCEPT) instead of modified UTF-7.
    pub fn encode(&self, out: &mut Vec<u8>, utf8: bool) {
        if let Untagged::Condition(done) = self {
            write_status(out, None, done);
            return;
        }
        out.extend_from_slice(b"* ");
        let mut text = |s: &str| out.extend_from_slice(s.as_bytes());
        match self {
            Untagged::Condition(_) => unreachable!("written above"),
            Untagged::Capability(names) => text(&format!("CAPABILITY {names}")),
            Untagged::Enabled(names) => {
                text("ENABLED");
                for name in names {
                    text(&format!(" {name}"));
                }
            }
            Untagged::Id(fields) => {
                let pairs: Vec<String> = fields
                    .iter()
                    .map(|(field, value)| format!("\"{field}\" \"{value}\""))
                    .collect();
                text(&format!("ID ({})", pairs.join(" ")));
            }
            Untagged::Flags(flags) => {
                text("FLAGS ");
                flag_list(out, flags);
            }
            Untagged::Exists(n) => text(&format!("{n} EXISTS")),
            Untagged::Recent(n) => text(&format!("{n} RECENT")),
            Untagged::Expunge(n) => text(&format!("{n} EXPUNGE")),
            Untagged::Vanished { earlier, uids } => {
                text(if *earlier {
                    "VANISHED (EARLIER) "
                } else {
                    "VANISHED "
                });
                text(&encode::uid_set(uids));
            }
            Untagged::Fetch(fetch) => fetch.encode(out),
            Untagged::Search { numbers, modseq } | Untagged::Sort { numbers, modseq } => {
                text(if matches!(self, Untagged::Sort { .. }) {
                    "SORT"
                } else {
                    "SEARCH"
                });
                for n in numbers {
                    text(&format!(" {n}"));
                }
                if let Some(modseq) = modseq {
                    text(&format!(" (MODSEQ {modseq})"));
                }
            }
            Untagged::Esearch(esearch) => esearch.encode(out),
            Untagged::Status { mailbox, items } => {
                text("STATUS ");
                encode::mailbox(out, mailbox, utf8);
                let values: Vec<String> = items
                    .iter()
                    .map(|(item, value)| format!("{} {value}", item.name()))
                    .collect();
                out.extend_from_slice(format!(" ({})", values.join(" ")).as_bytes());
            }
            Untagged::List(entry) => entry.encode(out, utf8),
            Untagged::Namespace {
                personal,
                other_users,
                shared,
            } => {
                text("NAMESPACE");
                for class in [personal, other_users, shared] {
                    out.push(b' ');
                    namespace_class(out, class, utf8);
                }
            }
            Untagged::Quota { root, resources } => {
                text("QUOTA ");
                encode::astring(out, root.as_bytes());
                let list: Vec<String> = resources
                    .iter()
                    .map(|(name, usage, limit)| format!("{name} {usage} {limit}"))
                    .collect();
                out.extend_from_slice(format!(" ({})", list.join(" ")).as_bytes());
            }
            Untagged::QuotaRoot { mailbox, roots } => {
                text("QUOTAROOT ");
                encode::mailbox(out, mailbox, utf8);
                for root in roots {
                    out.push(b' ');
                    encode::astring(out, root.as_bytes());
                }
            }
            Untagged::Acl { mailbox, entries } => {
                text("ACL ");
                encode::mailbox(out, mailbox, utf8);
                for (identifier, rights) in entries {
                    out.push(b' ');
                    encode::astring(out, identifier.as_bytes());
                    out.push(b' ');
                    encode::astring(out, rights.as_bytes());
                }
            }
            Untagged::ListRights {
                mailbox,
                identifier,
                required,
                optional,
            } => {
                text("LISTRIGHTS ");
                encode::mailbox(out, mailbox, utf8);
                out.push(b' ');
                encode::astring(out, identifier.as_bytes());
                out.push(b' ');
                encode::astring(out, required.as_bytes());
                for rights in optional {
                    out.push(b' ');
                    encode::astring(out, rights.as_bytes());
                }
            }
            Untagged::MyRights { mailbox, rights } => {
                text("MYRIGHTS ");
                encode::mailbox(out, mailbox, utf8);
                out.push(b' ');
                encode::astring(out, rights.as_bytes());
            }
            Untagged::Thread(threads) => {
                text("THREAD");
                if !threads.is_empty() {
                    out.push(b' ');
                }
                threads.iter().for_each(|t| t.encode(out));
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

impl FetchFlags {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{} FETCH (", self.seq).as_bytes());
        let mut items: Vec<Vec<u8>> = Vec::new();
        if let Some(uid) = self.uid {
            items.push(format!("UID {uid}").into_bytes());
        }
        if let Some(flags) = &self.flags {
            let mut item = b"FLAGS ".to_vec();
            flag_list(&mut item, flags);
            items.push(item);
        }
        if let Some(modseq) = self.modseq {
            items.push(format!("MODSEQ ({modseq})").into_bytes());
        }
        out.extend_from_slice(&items.join(&b' '));
        out.push(b')');
    }
}

impl Esearch {
    fn encode(&self, out: &mut Vec<u8>) {
        // The tag is a valid IMAP tag: no quote or backslash to escape.
        let mut line = format!("ESEARCH (TAG \"{}\")", self.tag);
        if self.uid {
            line.push_str(" UID");
        }
        if let Some(min) = self.min {
            line.push_str(&format!(" MIN {min}"));
        }
        if let Some(max) = self.max {
            line.push_str(&format!(" MAX {max}"));
        }
        if let Some(count) = self.count {
            line.push_str(&format!(" COUNT {count}"));
        }
        if !self.all.is_empty() {
            line.push_str(&format!(" ALL {}", encode::uid_set(&self.all)));
        }
        if let Some(modseq) = self.modseq {
            line.push_str(&format!(" MODSEQ {modseq}"));
        }
        out.extend_from_slice(line.as_bytes());
    }
}

impl ListEntry {
    fn encode(&self, out: &mut Vec<u8>, utf8: bool) {
        out.extend_from_slice(
            format!(
                "{} ({}) \"{}\" ",
                self.verb,
                self.attributes.join(" "),
                self.delimiter
            )
            .as_bytes(),
        );
        encode::mailbox(out, &self.name, utf8);
        if self.childinfo {
            out.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
    }
}

/// `(\Seen $Keyword ...)`.
pub fn flag_list(out: &mut Vec<u8>, flags: &[Flag]) {
    out.push(b'(');
    for (i, flag) in flags.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(flag.name().as_bytes());
    }
    out.push(b')');
}

/// One NAMESPACE class: `NIL`, or `(("prefix" "/") ...)`.
fn namespace_class(out: &mut Vec<u8>, class: &[(String, char)], utf8: bool) {
    if class.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (prefix, delimiter) in class {
        out.push(b'(');
        encode::string(out, prefix_text(prefix, utf8).as_bytes());
        out.extend_from_slice(format!(" \"{delimiter}\")").as_bytes());
    }
    out.push(b')');
}

/// A namespace prefix as the client reads mailbox names.
fn prefix_text(prefix: &str, utf8: bool) -> String {
    if utf8 {
        prefix.to_owned()
    } else {
        crate::proto::mutf7::encode(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::Flag;

    fn leaf(id: u32) -> Thread {
        leaf_with(id, Vec::new())
    }

    fn leaf_with(id: u32, children: Vec<Thread>) -> Thread {
        Thread {
            id: Some(id),
            children,
        }
    }

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        write_status(
            &mut out,
            Some("a1"),
            &Done::no("x\r\ny").with_code(Code::TryCreate),
        );
        write_status(&mut out, None, &Done::bad("Empty command"));
        assert_eq!(out, b"a1 NO [TRYCREATE] x  y\r\n* BAD Empty command\r\n");
    }

    fn encoded(response: Untagged, utf8: bool) -> String {
        let mut out = Vec::new();
        response.encode(&mut out, utf8);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_shape_is_written_as_the_rfc_spells_it() {
        let cases = [
            (Untagged::Exists(3), "* 3 EXISTS\r\n"),
            (Untagged::Recent(0), "* 0 RECENT\r\n"),
            (Untagged::Expunge(7), "* 7 EXPUNGE\r\n"),
            (
                Untagged::Vanished {
                    earlier: true,
                    uids: vec![1, 2, 3, 9],
                },
                "* VANISHED (EARLIER) 1:3,9\r\n",
            ),
            (
                Untagged::Vanished {
                    earlier: false,
                    uids: vec![4],
                },
                "* VANISHED 4\r\n",
            ),
            (
                Untagged::Fetch(FetchFlags {
                    seq: 2,
                    uid: Some(12),
                    flags: Some(vec![
                        Flag::Seen,
                        Flag::Recent,
                        Flag::Keyword("$Work".into()),
                    ]),
                    modseq: Some(44),
                }),
                "* 2 FETCH (UID 12 FLAGS (\\Seen \\Recent $Work) MODSEQ (44))\r\n",
            ),
            (
                Untagged::Fetch(FetchFlags {
                    seq: 1,
                    modseq: Some(5),
                    ..FetchFlags::default()
                }),
                "* 1 FETCH (MODSEQ (5))\r\n",
            ),
            (
                Untagged::Flags(vec![Flag::Answered, Flag::Keyword("x".into())]),
                "* FLAGS (\\Answered x)\r\n",
            ),
            (
                Untagged::Search {
                    numbers: vec![2, 5],
                    modseq: Some(9),
                },
                "* SEARCH 2 5 (MODSEQ 9)\r\n",
            ),
            (
                Untagged::Sort {
                    numbers: vec![5, 2, 3],
                    modseq: None,
                },
                "* SORT 5 2 3\r\n",
            ),
            (
                Untagged::Sort {
                    numbers: vec![],
                    modseq: None,
                },
                "* SORT\r\n",
            ),
            (Untagged::Thread(vec![]), "* THREAD\r\n"),
            (
                // RFC 5256 §4's example shape.
                Untagged::Thread(vec![
                    leaf_with(
                        2,
                        vec![leaf_with(
                            3,
                            vec![
                                leaf(6),
                                leaf_with(4, vec![leaf(23)]),
                                leaf_with(44, vec![leaf(7), leaf(96)]),
                            ],
                        )],
                    ),
                    Thread {
                        id: None,
                        children: vec![leaf(8), leaf(9)],
                    },
                    leaf(10),
                ]),
                "* THREAD (2 3 (6)(4 23)(44 (7)(96)))((8)(9))(10)\r\n",
            ),
            (
                Untagged::Search {
                    numbers: vec![],
                    modseq: None,
                },
                "* SEARCH\r\n",
            ),
            (
                Untagged::Esearch(Esearch {
                    tag: "a1".into(),
                    uid: true,
                    min: Some(3),
                    count: Some(3),
                    all: vec![3, 4, 8],
                    ..Esearch::default()
                }),
                "* ESEARCH (TAG \"a1\") UID MIN 3 COUNT 3 ALL 3:4,8\r\n",
            ),
            (
                Untagged::Status {
                    mailbox: "Sent Items".into(),
                    items: vec![(StatusItem::Messages, 4), (StatusItem::UidNext, 10)],
                },
                "* STATUS \"Sent Items\" (MESSAGES 4 UIDNEXT 10)\r\n",
            ),
            (
                Untagged::List(ListEntry {
                    verb: "LIST",
                    attributes: vec!["\\HasNoChildren", "\\Sent"],
                    delimiter: '/',
                    name: "Sent".into(),
                    childinfo: false,
                }),
                "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n",
            ),
            (
                Untagged::List(ListEntry {
                    verb: "LIST",
                    attributes: vec![],
                    delimiter: '/',
                    name: "a".into(),
                    childinfo: true,
                }),
                "* LIST () \"/\" a (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
            ),
            (
                Untagged::Namespace {
                    personal: vec![(String::new(), '/')],
                    other_users: vec![],
                    shared: vec![],
                },
                "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
            ),
            (
                Untagged::QuotaRoot {
                    mailbox: "INBOX".into(),
                    roots: vec![String::new()],
                },
                "* QUOTAROOT INBOX \"\"\r\n",
            ),
            (
                Untagged::Enabled(vec!["CONDSTORE", "QRESYNC"]),
                "* ENABLED CONDSTORE QRESYNC\r\n",
            ),
            (Untagged::Enabled(vec![]), "* ENABLED\r\n"),
            (
                Untagged::Id(vec![("name", "letterbox")]),
                "* ID (\"name\" \"letterbox\")\r\n",
            ),
            (
                Untagged::Condition(Done::bye("Logging out")),
                "* BYE Logging out\r\n",
            ),
        ];
        for (response, expected) in cases {
            assert_eq!(encoded(response, false), expected);
        }
    }

    #[test]
    fn mailbox_names_follow_utf8_accept() {
        let status = || Untagged::Status {
            mailbox: "Entwürfe".into(),
            items: vec![(StatusItem::Messages, 1)],
        };
        assert_eq!(
            encoded(status(), false),
            "* STATUS Entw&APw-rfe (MESSAGES 1)\r\n"
        );
        assert_eq!(
            encoded(status(), true),
            "* STATUS \"Entwürfe\" (MESSAGES 1)\r\n"
        );
    }
}
