//! APPEND (RFC 3501 §6.3.11), with APPENDUID (RFC 4315).

use chrono::{DateTime, FixedOffset, Utc};

use super::{mailbox_name, user};
use crate::mail::to_crlf;
use crate::proto::Flag;
use crate::session::Session;
use crate::session::reply::{Code, CommandResult, Done};
use crate::store::{Flags, NewMessage, StoreError, SystemFlags};

pub async fn append(
    s: &mut Session,
    raw_name: &[u8],
    flags: &[Flag],
    internal_date: Option<DateTime<FixedOffset>>,
    message: Vec<u8>,
) -> CommandResult {
    let name = mailbox_name(raw_name)?;
    if message.is_empty() {
        return Err(Done::no("Refusing to store an empty message"));
    }
    let raw = to_crlf(&message).into_owned();
    let limit = s.ctx.config.limits.max_message_size;
    if raw.len() as u64 > limit {
        return Err(
            Done::no(format!("Message is larger than {limit} octets")).with_code(Code::TooBig)
        );
    }
    let message = NewMessage {
        flags: store_flags(flags)?,
        internal_date: internal_date.unwrap_or_else(|| Utc::now().fixed_offset()),
        raw,
    };
    let user = user(s)?;
    let outcome = s
        .store(move |store| store.append(user.id, &name, message))
        .await
        .map_err(|e| match e {
            StoreError::NoSuchMailbox => {
                Done::no("Mailbox does not exist").with_code(Code::TryCreate)
            }
            other => Done::from(other),
        })?;
    Ok(Done::ok("APPEND completed").with_code(Code::AppendUid {
        uidvalidity: outcome.uidvalidity,
        uid: outcome.uid,
    }))
}

/// Converts protocol flags to stored ones. `\Recent` is the server's to
/// set, so it is ignored; an unknown system flag is an error.
pub fn store_flags(flags: &[Flag]) -> Result<Flags, Done> {
    let mut out = Flags::default();
    for flag in flags {
        let bit = match flag {
            Flag::Seen => SystemFlags::SEEN,
            Flag::Answered => SystemFlags::ANSWERED,
            Flag::Flagged => SystemFlags::FLAGGED,
            Flag::Deleted => SystemFlags::DELETED,
            Flag::Draft => SystemFlags::DRAFT,
            Flag::Recent => continue,
            Flag::Extension(name) => {
                return Err(Done::bad(format!("Unknown system flag {name}")));
            }
            Flag::Keyword(keyword) => {
                if !out.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword)) {
                    out.keywords.push(keyword.clone());
                }
                continue;
            }
        };
        out.system.0 |= bit;
    }
    Ok(out)
}
