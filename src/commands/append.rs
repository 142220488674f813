//! APPEND (RFC 3501 §6.3.11), with APPENDUID (RFC 4315).

use chrono::Utc;

use super::{access, flags};
use crate::mail::{new_message, new_message_exact};
use crate::proto::AppendCommand;
use crate::proto::response::{Code, CommandResult, Done};
use crate::quota_warning;
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::{Access, KeptFlags, StoreError, SystemFlags};

pub async fn append(s: &mut Session, command: AppendCommand) -> CommandResult {
    let target = access::target(s, &command.mailbox)
        .await
        .map_err(|done| match done.code {
            Some(Code::NonExistent) => super::try_create(StoreError::NoSuchMailbox),
            _ => done,
        })?;
    target.require(Rights::INSERT)?;
    let (message, binary) = (command.message, command.binary);
    if message.is_empty() {
        return Err(Done::no("Refusing to store an empty message"));
    }
    // RFC 4314 §4: only the flags the user may set are stored; the
    // APPEND itself does not fail for the others.
    let flags =
        KeptFlags::for_rights(target.rights).apply(flags::from_command(&command.flags, true)?);
    let internal_date = command
        .internal_date
        .unwrap_or_else(|| Utc::now().fixed_offset());
    let config = s.ctx.config();
    let limit = config.limits.max_message_size;
    let (owner, owner_name, name) = (target.owner, target.owner_name, target.name);
    let viewer = target.private_seen.then_some(super::user(s)?.id);
    let outcome = s
        .store(Access::Write, move |store| {
            let mut message = if binary {
                new_message_exact(message, flags, internal_date)
            } else {
                new_message(&message, flags, internal_date)
            };
            // CRLF conversion can grow a message past the limit.
            if message.raw.len() as u64 > limit {
                return Err(StoreError::Refused(format!(
                    "Message is larger than {limit} octets"
                )));
            }
            // Where the mailbox keeps \Seen per user, it is the appender's.
            let own_seen = viewer.filter(|_| message.flags.system.has(SystemFlags::SEEN));
            if own_seen.is_some() {
                message.flags = message.flags.with_seen(false);
            }
            let outcome = store.append(owner, &name, message)?;
            if let Some(user) = own_seen {
                store.store_seen_by(outcome.mailbox, user, &[outcome.uid], true, None)?;
            }
            // A shared mailbox's mail counts against its account.
            quota_warning::after_new_mail(store, &config.quota, owner, &owner_name);
            Ok(outcome)
        })
        .await
        .map_err(super::try_create)?;
    Ok(Done::ok("APPEND completed").with_code(Code::AppendUid {
        uidvalidity: outcome.uidvalidity,
        uid: outcome.uid,
    }))
}
