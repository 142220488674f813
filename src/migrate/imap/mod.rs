//! `letterbox migrate imap`: copies every folder of an account on another
//! IMAP server (Dovecot, Gmail, Exchange, any RFC 3501 server) into a
//! letterbox user: the folder tree, each message byte for byte with its
//! flags, keywords and INTERNALDATE.
//!
//! Incremental and resumable: each message is imported under a key made
//! of the source account, the remote folder, its UIDVALIDITY and the
//! message's UID ([`MailStore::import`] stores it once per key), and a run
//! first asks the store which keys it already holds, so a second run or a
//! run after an interruption fetches only what is missing. The old server
//! is only read (EXAMINE, BODY.PEEK): it is left exactly as it was.
//!
//! A lost connection is re-opened and the folder resumed (three tries);
//! a folder the server refuses is reported and the others still copied.

mod client;
mod folders;
mod source;
mod trust;

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};

pub use folders::Rules;
pub use source::Source;
pub use trust::Trust;

use super::progress::Progress;
use crate::mail::new_message;
use crate::proto::value::{self, Value};
use crate::store::{
    Flags, MailStore, MailboxName, SpecialUse, StoreError, SystemFlags, UserRecord,
};
use client::{Arg, Client, ImapError};
use folders::{Decision, RemoteFolder};

/// One account to copy.
pub struct Account {
    pub source: Source,
    pub password: String,
    /// Which certificate of the old server to trust.
    pub trust: Trust,
}

/// What happened to one remote folder.
#[derive(Debug)]
pub struct FolderReport {
    pub remote: String,
    /// The local mailbox, or why the folder was left.
    pub outcome: FolderOutcome,
}

#[derive(Debug)]
pub enum FolderOutcome {
    Copied {
        local: String,
        copied: usize,
        already_there: usize,
        bytes: u64,
    },
    Skipped(&'static str),
    Failed {
        local: String,
        error: String,
    },
}

/// Messages fetched with one UID FETCH: at most this many, or this many
/// octets as RFC822.SIZE reports them.
const BATCH_MESSAGES: usize = 200;
const BATCH_OCTETS: u64 = 32 * 1024 * 1024;
/// Connections tried per folder before it is reported failed.
const TRIES: usize = 3;

/// Copies `account` into `user`; the reports say what happened to each
/// folder. An error is returned only when nothing could start (the old
/// server unreachable, the login refused).
pub fn migrate(
    store: &dyn MailStore,
    user: &UserRecord,
    account: &Account,
    rules: &Rules,
    progress: &mut Progress,
) -> Result<Vec<FolderReport>, String> {
    let mut connection = Some(connect(account).map_err(|e| format!("{}: {e}", account.source))?);
    let client = connection.as_mut().expect("just connected");
    let prefix = personal_prefix(client).map_err(|e| format!("{}: {e}", account.source))?;
    let remote = list(client).map_err(|e| format!("{}: LIST: {e}", account.source))?;
    let local = local_special_uses(store, user).map_err(|e| e.to_string())?;
    let plan = folders::plan(&remote, &prefix, rules, |use_| {
        local
            .iter()
            .find(|(u, _)| *u == use_)
            .map(|(_, n)| n.clone())
    });
    let mut reports = Vec::new();
    for (folder, decision) in plan {
        let remote = folder.display();
        let local = match decision {
            Decision::Skip(why) => {
                println!("{remote}: skipped, {why}");
                reports.push(FolderReport {
                    remote,
                    outcome: FolderOutcome::Skipped(why),
                });
                continue;
            }
            Decision::Copy(local) => local,
        };
        let copy = FolderCopy {
            store,
            user,
            account,
            folder: &folder,
            local: &local,
        };
        let outcome = copy.with_retries(&mut connection, progress);
        reports.push(FolderReport { remote, outcome });
    }
    if let Some(client) = connection {
        client.logout();
    }
    Ok(reports)
}

fn connect(account: &Account) -> Result<Client, ImapError> {
    let mut client = Client::connect(&account.source, &account.trust)?;
    client.login(&account.source.user, &account.password)?;
    Ok(client)
}

/// The personal namespace's prefix (RFC 2342), `""` without NAMESPACE.
fn personal_prefix(client: &mut Client) -> Result<String, ImapError> {
    if !client.has("NAMESPACE") {
        return Ok(String::new());
    }
    let responses = client.run(&[Arg::Text("NAMESPACE")])?;
    let prefix = responses
        .iter()
        .filter_map(|r| r.strip_prefix(b"* NAMESPACE "))
        .find_map(|rest| match values(rest).ok()?.first()? {
            // (("INBOX." ".") ...) or NIL
            Value::List(namespaces) => match namespaces.first()? {
                Value::List(first) => match first.first()? {
                    Value::Str(prefix) => crate::proto::mutf7::decode(prefix).ok(),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        });
    Ok(prefix.unwrap_or_default())
}

/// Every folder, with special-use attributes where the server has them
/// (RFC 6154 `RETURN (SPECIAL-USE)`, else Gmail's older XLIST).
fn list(client: &mut Client) -> Result<Vec<RemoteFolder>, ImapError> {
    let (command, prefix): (&str, &[u8]) = if client.has("SPECIAL-USE") {
        ("LIST \"\" \"*\" RETURN (SPECIAL-USE)", b"* LIST ")
    } else if client.has("XLIST") {
        ("XLIST \"\" \"*\"", b"* XLIST ")
    } else {
        ("LIST \"\" \"*\"", b"* LIST ")
    };
    let responses = client.run(&[Arg::Text(command)])?;
    responses
        .iter()
        .filter_map(|r| r.strip_prefix(prefix))
        .map(|rest| list_response(rest).map_err(ImapError::Protocol))
        .collect()
}

/// `(attributes) delimiter name` of a LIST response.
fn list_response(rest: &[u8]) -> Result<RemoteFolder, String> {
    let bad = || format!("LIST response {:?}", String::from_utf8_lossy(rest));
    let parts = values(rest)?;
    let [Value::List(attributes), delimiter, name] = parts.as_slice() else {
        return Err(bad());
    };
    let attributes = attributes
        .iter()
        .filter_map(|a| match a {
            Value::Atom(a) => Some(xlist_attribute(&a.to_ascii_lowercase()).to_owned()),
            _ => None,
        })
        .collect();
    let delimiter = match delimiter {
        Value::Str(d) if d.len() == 1 => Some(d[0] as char),
        Value::Nil => None,
        _ => return Err(bad()),
    };
    let wire = match name {
        Value::Str(name) => name.clone(),
        Value::Atom(name) => name.as_bytes().to_vec(),
        Value::Number(n) => n.to_string().into_bytes(),
        _ => return Err(bad()),
    };
    let name = crate::proto::mutf7::decode(&wire)
        .unwrap_or_else(|_| String::from_utf8_lossy(&wire).into_owned());
    Ok(RemoteFolder {
        wire,
        name,
        delimiter,
        attributes,
    })
}

/// Gmail's XLIST attributes in RFC 6154 terms.
fn xlist_attribute(attribute: &str) -> &str {
    match attribute {
        "\\allmail" => "\\all",
        "\\spam" => "\\junk",
        "\\starred" => "\\flagged",
        other => other,
    }
}

/// Several values separated by spaces, read as the items of one list.
fn values(text: &[u8]) -> Result<Vec<Value>, String> {
    let mut wrapped = Vec::with_capacity(text.len() + 2);
    wrapped.push(b'(');
    wrapped.extend_from_slice(text);
    wrapped.push(b')');
    match value::parse(&wrapped)? {
        Value::List(items) => Ok(items),
        _ => Err("not a list".into()),
    }
}

/// The user's mailboxes that have a special use.
fn local_special_uses(
    store: &dyn MailStore,
    user: &UserRecord,
) -> Result<Vec<(SpecialUse, String)>, StoreError> {
    Ok(store
        .list_mailboxes(user.id)?
        .into_iter()
        .filter_map(|m| Some((m.special_use?, m.name)))
        .collect())
}

/// Copying one remote folder into one local mailbox.
struct FolderCopy<'a> {
    store: &'a dyn MailStore,
    user: &'a UserRecord,
    account: &'a Account,
    folder: &'a RemoteFolder,
    local: &'a MailboxName,
}

/// What one attempt copied.
#[derive(Default)]
struct Tally {
    copied: usize,
    /// Found copied before the first try (later tries find this run's too).
    already_there: Option<usize>,
    bytes: u64,
}

impl FolderCopy<'_> {
    fn with_retries(
        &self,
        connection: &mut Option<Client>,
        progress: &mut Progress,
    ) -> FolderOutcome {
        let mut tally = Tally::default();
        let mut last_error = String::new();
        for attempt in 1..=TRIES {
            if connection.is_none() {
                match connect(self.account) {
                    Ok(client) => *connection = Some(client),
                    Err(error) => {
                        last_error = error.to_string();
                        eprintln!(
                            "{}: reconnecting failed (try {attempt}): {error}",
                            self.folder.display()
                        );
                        std::thread::sleep(std::time::Duration::from_secs(attempt as u64));
                        continue;
                    }
                }
            }
            let client = connection.as_mut().expect("connected above");
            match self.copy(client, &mut tally, progress) {
                Ok(()) => {
                    progress.finish(&format!(
                        "{} copied, {} already there, into {}",
                        tally.copied,
                        tally.already_there.unwrap_or(0),
                        self.local
                    ));
                    return FolderOutcome::Copied {
                        local: self.local.to_string(),
                        copied: tally.copied,
                        already_there: tally.already_there.unwrap_or(0),
                        bytes: tally.bytes,
                    };
                }
                Err(ImapError::Connection(error)) => {
                    // Resumable: the next try skips what this one stored.
                    *connection = None;
                    last_error = format!("connection lost: {error}");
                    progress.finish(&format!("{last_error} (try {attempt} of {TRIES})"));
                }
                Err(error) => {
                    if matches!(error, ImapError::Protocol(_)) {
                        *connection = None;
                    }
                    last_error = error.to_string();
                    break;
                }
            }
        }
        progress.finish(&format!("FAILED: {last_error}"));
        FolderOutcome::Failed {
            local: self.local.to_string(),
            error: last_error,
        }
    }

    /// The key prefix of this folder's messages in the store's import log.
    fn key_prefix(&self, uidvalidity: u32) -> String {
        let source = &self.account.source;
        format!(
            "imap {}@{} {} {uidvalidity} ",
            source.user,
            source.host,
            self.folder.display()
        )
    }

    fn copy(
        &self,
        client: &mut Client,
        tally: &mut Tally,
        progress: &mut Progress,
    ) -> Result<(), ImapError> {
        let responses = client.run(&[Arg::Text("EXAMINE "), Arg::String(&self.folder.wire)])?;
        let uidvalidity = responses
            .iter()
            .find_map(|r| number_after(r, b"[UIDVALIDITY "))
            .ok_or_else(|| ImapError::Protocol("EXAMINE without UIDVALIDITY".into()))?;
        let exists = responses
            .iter()
            .find_map(|r| {
                r.strip_prefix(b"* ")?
                    .strip_suffix(b" EXISTS")
                    .and_then(parse_u32)
            })
            .unwrap_or(0);
        self.create_local()
            .map_err(|e| ImapError::Protocol(format!("{}: {e}", self.local)))?;
        let on_server = if exists == 0 {
            Vec::new()
        } else {
            uids_and_sizes(client)?
        };
        let prefix = self.key_prefix(uidvalidity);
        let copied: HashSet<u32> = self
            .store
            .imported_digests(self.user.id, self.local, &prefix)
            .map_err(|e| ImapError::Protocol(e.to_string()))?
            .iter()
            .filter_map(|key| key.strip_prefix(&prefix)?.parse().ok())
            .collect();
        let (present, missing): (Vec<_>, Vec<_>) = on_server
            .into_iter()
            .partition(|(uid, _)| copied.contains(uid));
        tally.already_there.get_or_insert(present.len());
        let total: u64 = missing.iter().map(|(_, size)| size).sum();
        progress.folder(&self.folder.display(), missing.len(), total);
        for batch in batches(&missing) {
            let uids: Vec<u32> = batch.iter().map(|(uid, _)| *uid).collect();
            let set = crate::proto::encode::uid_set(&uids);
            let command = format!("UID FETCH {set} (UID FLAGS INTERNALDATE BODY.PEEK[])");
            let mut received = HashSet::new();
            client.run_each(&[Arg::Text(&command)], |response| {
                let Some(message) = fetched(&response)? else {
                    return Ok(());
                };
                received.insert(message.uid);
                self.store_one(message, &prefix, tally, progress)
            })?;
            let unsent: Vec<u32> = uids
                .into_iter()
                .filter(|uid| !received.contains(uid))
                .collect();
            check_unsent(client, &unsent)?;
        }
        Ok(())
    }

    fn store_one(
        &self,
        message: Fetched,
        prefix: &str,
        tally: &mut Tally,
        progress: &mut Progress,
    ) -> Result<(), ImapError> {
        let size = message.raw.len() as u64;
        let key = format!("{prefix}{}", message.uid);
        let new = new_message(&message.raw, message.flags, message.internal_date);
        let stored = self
            .store
            .import(self.user.id, self.local, new, &key)
            .map_err(|e| ImapError::Protocol(format!("storing UID {}: {e}", message.uid)))?;
        if stored {
            tally.copied += 1;
            tally.bytes += size;
        }
        progress.advance(1, size);
        Ok(())
    }

    /// The local mailbox, created and subscribed when missing, so that
    /// empty folders move too.
    fn create_local(&self) -> Result<(), StoreError> {
        match self.store.create_mailbox(self.user.id, self.local, None) {
            Ok(()) => self.store.set_subscribed(self.user.id, self.local, true),
            Err(StoreError::MailboxExists) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// UID and RFC822.SIZE of every message of the examined folder.
fn uids_and_sizes(client: &mut Client) -> Result<Vec<(u32, u64)>, ImapError> {
    let responses = client.run(&[Arg::Text("UID FETCH 1:* (UID RFC822.SIZE)")])?;
    let mut found = Vec::new();
    for response in responses.iter().filter(|r| is_fetch(r)) {
        let (_, items) = value::parse_fetch(response).map_err(ImapError::Protocol)?;
        let number = |name: &str| {
            items.iter().find_map(|(n, v)| match v {
                Value::Number(x) if n.eq_ignore_ascii_case(name) => Some(*x),
                _ => None,
            })
        };
        if let (Some(uid), Some(size)) = (number("UID"), number("RFC822.SIZE")) {
            found.push((uid as u32, size));
        }
    }
    found.sort_unstable();
    found.dedup_by_key(|(uid, _)| *uid);
    Ok(found)
}

/// Messages asked for but not sent are fine when they were expunged on
/// the old server meanwhile; if they are still there, the server would
/// not give them (a NIL body, a broken message), and the folder fails
/// rather than finish without them.
fn check_unsent(client: &mut Client, unsent: &[u32]) -> Result<(), ImapError> {
    if unsent.is_empty() {
        return Ok(());
    }
    let set = crate::proto::encode::uid_set(unsent);
    let still_there = client
        .run(&[Arg::Text(&format!("UID FETCH {set} (UID)"))])?
        .iter()
        .filter(|r| is_fetch(r))
        .count();
    match still_there {
        0 => Ok(()),
        n => Err(ImapError::Protocol(format!(
            "the old server did not send {n} of the messages asked for (UIDs {set})"
        ))),
    }
}

/// Groups messages into fetches of bounded count and size.
fn batches(messages: &[(u32, u64)]) -> Vec<&[(u32, u64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut octets = 0;
    for (i, (_, size)) in messages.iter().enumerate() {
        if i > start && (i - start >= BATCH_MESSAGES || octets + size > BATCH_OCTETS) {
            out.push(&messages[start..i]);
            start = i;
            octets = 0;
        }
        octets += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

struct Fetched {
    uid: u32,
    flags: Flags,
    internal_date: DateTime<FixedOffset>,
    raw: Vec<u8>,
}

fn is_fetch(response: &[u8]) -> bool {
    response.starts_with(b"* ") && response.windows(7).take(20).any(|w| w == b" FETCH ")
}

/// A FETCH response with the message (a flags-only FETCH the server
/// sends on its own is None).
fn fetched(response: &[u8]) -> Result<Option<Fetched>, ImapError> {
    if !is_fetch(response) {
        return Ok(None);
    }
    let (_, items) = value::parse_fetch(response).map_err(ImapError::Protocol)?;
    let item = |name: &str| {
        items
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let (Some(Value::Number(uid)), Some(Value::Str(raw))) = (item("UID"), item("BODY[]")) else {
        return Ok(None);
    };
    let flags = match item("FLAGS") {
        Some(Value::List(flags)) => parse_flags(flags),
        _ => Flags::default(),
    };
    let internal_date = match item("INTERNALDATE") {
        Some(Value::Str(date)) => parse_date(date),
        _ => None,
    }
    .unwrap_or_else(|| chrono::Utc::now().fixed_offset());
    Ok(Some(Fetched {
        uid: *uid as u32,
        flags,
        internal_date,
        raw: raw.clone(),
    }))
}

/// System flags and keywords; `\Recent` and unknown system flags are
/// the old server's own and stay behind.
fn parse_flags(values: &[Value]) -> Flags {
    let mut flags = Flags::default();
    for value in values {
        let Value::Atom(flag) = value else {
            continue;
        };
        let bit = match flag.to_ascii_lowercase().as_str() {
            "\\seen" => SystemFlags::SEEN,
            "\\answered" => SystemFlags::ANSWERED,
            "\\flagged" => SystemFlags::FLAGGED,
            "\\deleted" => SystemFlags::DELETED,
            "\\draft" => SystemFlags::DRAFT,
            _ if flag.starts_with('\\') => continue,
            _ => {
                flags.keywords.push(flag.clone());
                continue;
            }
        };
        flags.system.0 |= bit;
    }
    flags
}

/// INTERNALDATE's `dd-Mon-yyyy hh:mm:ss +zzzz`.
fn parse_date(text: &[u8]) -> Option<DateTime<FixedOffset>> {
    let quoted = [&b"\""[..], text, b"\""].concat();
    let (rest, date) = crate::proto::parse::datetime::date_time(&quoted).ok()?;
    rest.is_empty().then_some(date)
}

/// The number after `marker` in `response` (`[UIDVALIDITY 42]`).
fn number_after(response: &[u8], marker: &[u8]) -> Option<u32> {
    let at = response.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let digits = response[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    parse_u32(&response[at..at + digits])
}

fn parse_u32(digits: &[u8]) -> Option<u32> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_responses() {
        let folder = list_response(br#"(\HasNoChildren \Sent) "/" "Sent Items""#).unwrap();
        assert_eq!(folder.name, "Sent Items");
        assert_eq!(folder.delimiter, Some('/'));
        assert_eq!(folder.attributes, ["\\hasnochildren", "\\sent"]);
        let folder = list_response(b"() \".\" INBOX.Entw&APw-rfe").unwrap();
        assert_eq!(folder.name, "INBOX.Entwürfe");
        assert_eq!(folder.wire, b"INBOX.Entw&APw-rfe");
        let folder = list_response(b"(\\Noselect) NIL {3}\r\na\"b").unwrap();
        assert_eq!((folder.name.as_str(), folder.delimiter), ("a\"b", None));
        let folder =
            list_response(b"(\\HasNoChildren \\AllMail) \"/\" \"[Gmail]/All Mail\"").unwrap();
        assert!(folder.attributes.contains(&"\\all".to_string()));
        assert!(list_response(b"\"/\" INBOX").is_err());
    }

    #[test]
    fn fetch_responses() {
        let response = b"* 3 FETCH (UID 17 FLAGS (\\Seen $Work \\Recent \\X-Odd) INTERNALDATE \"05-Mar-2021 09:15:00 +0100\" BODY[] {5}\r\nab\r\nc)";
        let message = fetched(response).unwrap().unwrap();
        assert_eq!(message.uid, 17);
        assert_eq!(message.raw, b"ab\r\nc");
        assert_eq!(message.flags.system.0, SystemFlags::SEEN);
        assert_eq!(message.flags.keywords, ["$Work"]);
        assert_eq!(
            message.internal_date.to_rfc3339(),
            "2021-03-05T09:15:00+01:00"
        );
        assert!(fetched(b"* 3 FETCH (FLAGS (\\Seen))").unwrap().is_none());
        assert!(fetched(b"* 4 EXISTS").unwrap().is_none());
    }

    #[test]
    fn batches_are_bounded_by_count_and_size() {
        let many: Vec<(u32, u64)> = (1..=450).map(|uid| (uid, 10)).collect();
        let sizes: Vec<usize> = batches(&many).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [200, 200, 50]);
        let big = [(1, BATCH_OCTETS), (2, 1), (3, 2), (4, BATCH_OCTETS)];
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1, 2, 1]);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn examine_numbers() {
        assert_eq!(
            number_after(b"* OK [UIDVALIDITY 1234] UIDs valid", b"[UIDVALIDITY "),
            Some(1234)
        );
        assert_eq!(number_after(b"* OK [UIDNEXT 5]", b"[UIDVALIDITY "), None);
    }
}
