//! Moving mail in and out: `letterbox import` (Maildir with Maildir++
//! folders, mbox files or directories of them), `letterbox export`
//! (Maildir or mbox) and `letterbox migrate imap` (from another IMAP
//! server, see [`imap`]). Import is idempotent: a message already imported
//! into a mailbox (same SHA-256 of its octets) is skipped on a re-run.

pub mod imap;
mod maildir;
mod mbox;
pub mod progress;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use crate::mail::{new_message, to_crlf};
use crate::store::{FetchRequest, Flags, MailStore, MailboxName, StoreError, UserRecord};

/// One message read from a source.
pub struct Mail {
    /// UTF-8 mailbox name with `/` as the delimiter.
    pub mailbox: String,
    pub raw: Vec<u8>,
    pub flags: Flags,
    pub internal_date: DateTime<FixedOffset>,
}

/// Writes one exported message.
type MailWriter<'a> = dyn FnMut(&Mail) -> Result<(), String> + 'a;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub stored: usize,
    pub skipped: usize,
    pub mailboxes: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Maildir,
    Mbox,
}

/// Imports a Maildir, an mbox file (into `mailbox`, INBOX by default) or a
/// directory of mbox files.
pub fn import(
    store: &dyn MailStore,
    user: &UserRecord,
    path: &Path,
    mailbox: Option<&str>,
) -> Result<Report, String> {
    let mut report = Report::default();
    // Identical messages in one source mailbox are all kept: the n-th copy
    // gets its own key, which a re-run in the same order finds again.
    let mut copies: HashMap<(String, String), usize> = HashMap::new();
    let mut store_one = |mail: Mail| -> Result<(), String> {
        let name = MailboxName::new(&mail.mailbox).map_err(|e| format!("{}: {e}", mail.mailbox))?;
        let raw = to_crlf(&mail.raw).into_owned();
        let sha = hex(ring::digest::digest(&ring::digest::SHA256, &raw).as_ref());
        let seen = copies.entry((name.to_string(), sha.clone())).or_default();
        *seen += 1;
        let digest = format!("{sha}-{seen}");
        let message = new_message(&raw, mail.flags, mail.internal_date);
        let stored = store
            .import(user.id, &name, message, &digest)
            .map_err(|e| format!("{}: {e}", name))?;
        report.mailboxes.insert(name.to_string());
        if stored {
            report.stored += 1;
        } else {
            report.skipped += 1;
        }
        Ok(())
    };
    if maildir::is_maildir(path) {
        // Folders are created even when empty: the structure moves too.
        let mut folder = |name: &str| -> Result<(), String> {
            let name = MailboxName::new(name).map_err(|e| format!("{name}: {e}"))?;
            match store.create_mailbox(user.id, &name, None) {
                Ok(()) => store
                    .set_subscribed(user.id, &name, true)
                    .map_err(|e| format!("{name}: {e}")),
                Err(StoreError::MailboxExists) => Ok(()),
                Err(e) => Err(format!("{name}: {e}")),
            }
        };
        maildir::read(path, &mut folder, &mut store_one)?;
    } else if path.is_dir() {
        mbox::read_dir(path, &mut store_one)?;
    } else {
        mbox::read_file(path, mailbox.unwrap_or("INBOX"), &mut store_one)?;
    }
    Ok(report)
}

/// Writes every mailbox of `user` below `dir`.
pub fn export(
    store: &dyn MailStore,
    user: &UserRecord,
    format: Format,
    dir: &Path,
) -> Result<Report, String> {
    let mut report = Report::default();
    let mailboxes = store.list_mailboxes(user.id).map_err(|e| e.to_string())?;
    for info in mailboxes.iter().filter(|m| m.selectable) {
        let name = MailboxName::new(&info.name).map_err(|e| e.to_string())?;
        let selected = store
            .select(user.id, &name, false)
            .map_err(|e| e.to_string())?;
        let uids: Vec<u32> = selected.messages.iter().map(|m| m.uid).collect();
        let mut writer: Box<MailWriter<'_>> = match format {
            Format::Maildir => Box::new(maildir::writer(dir, &info.name)?),
            Format::Mbox => Box::new(mbox::writer(dir, &info.name)?),
        };
        let request = FetchRequest {
            index: false,
            raw: true,
        };
        for batch in uids.chunks(64) {
            let messages = store
                .fetch(selected.id, batch, request)
                .map_err(|e| e.to_string())?;
            for message in messages {
                writer(&Mail {
                    mailbox: info.name.clone(),
                    raw: message.raw.unwrap_or_default(),
                    flags: message.flags,
                    internal_date: message.internal_date,
                })?;
                report.stored += 1;
            }
        }
        report.mailboxes.insert(info.name.clone());
    }
    Ok(report)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
