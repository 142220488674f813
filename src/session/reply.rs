//! How store errors answer a command: the NO (with its response code)
//! that each `StoreError` becomes.

use crate::proto::response::{Code, Done};
use crate::store::StoreError;

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
            StoreError::NoSuchUser
            | StoreError::UserExists
            | StoreError::NoSuchScript
            | StoreError::ScriptExists => Done::no(e.to_string()),
            StoreError::Conflict => {
                Done::no("Too many changes at once, try again").with_code(Code::Unavailable)
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "store unavailable");
                Done::no("The mail store is unavailable, try again later")
                    .with_code(Code::Unavailable)
            }
            StoreError::Internal(detail) => {
                tracing::error!(%detail, "store error");
                Done::no("Internal error, see the server log").with_code(Code::ServerBug)
            }
        }
    }
}
