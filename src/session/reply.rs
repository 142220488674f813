//! Status responses: the tagged result of a command and untagged lines.

use std::fmt;

use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
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
    pub fn with_code(mut self, code: Code) -> Done {
        self.code = Some(code);
        self
    }
}

impl From<StoreError> for Done {
    fn from(e: StoreError) -> Done {
        match e {
            StoreError::NoSuchMailbox => {
                Done::no("Mailbox does not exist").with_code(Code::NonExistent)
            }
            StoreError::MailboxExists => {
                Done::no("Mailbox already exists").with_code(Code::AlreadyExists)
            }
            StoreError::NotSelectable => {
                Done::no("Mailbox is not selectable (\\Noselect)").with_code(Code::Cannot)
            }
            StoreError::Refused(text) => Done::no(text).with_code(Code::Cannot),
            StoreError::OverQuota => Done::no("Quota exceeded").with_code(Code::OverQuota),
            StoreError::NoSuchUser | StoreError::UserExists => Done::no(e.to_string()),
            StoreError::Internal(detail) => {
                tracing::error!(%detail, "store error");
                Done::no("Internal error, see the server log").with_code(Code::ServerBug)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
