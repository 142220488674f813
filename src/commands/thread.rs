//! THREAD and UID THREAD (RFC 5256 §3): ORDEREDSUBJECT, REFERENCES, and
//! REFS as Dovecot has it (REFERENCES without subject merging, threads
//! ordered by their newest message; Roundcube prefers it). The messages
//! are found as SEARCH finds them; the algorithms are in `mail::threads`.

use super::search::check_charset;
use super::sort::gather;
use crate::mail::threads::{self, Algorithm};
use crate::proto::response::{CommandResult, Done, Untagged};
use crate::proto::{ThreadAlgorithm, ThreadCommand};
use crate::session::Session;

pub async fn thread(s: &mut Session, command: ThreadCommand) -> CommandResult {
    check_charset(&command.charset)?;
    let found = gather(s, &command.criteria).await?;
    let messages: Vec<threads::Message> = found
        .iter()
        .map(|m| threads::Message {
            id: if command.uid { m.entry.uid } else { m.seq },
            seq: m.seq,
            date: m.date(),
            fields: &m.entry.fields,
        })
        .collect();
    let algorithm = match command.algorithm {
        ThreadAlgorithm::OrderedSubject => Algorithm::OrderedSubject,
        ThreadAlgorithm::References => Algorithm::References,
        ThreadAlgorithm::Refs => Algorithm::Refs,
    };
    let response = Untagged::Thread(threads::threads(&messages, algorithm));
    s.send(response);
    let verb = if command.uid { "UID THREAD" } else { "THREAD" };
    Ok(Done::ok(format!("{verb} completed")))
}
