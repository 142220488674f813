//! `letterbox shared` (team mailboxes) and `letterbox acl` (the rights on
//! any mailbox), for the sysadmin; users change rights over IMAP (SETACL)
//! where they hold `a`.
//!
//! A mailbox is named as users see it in IMAP for team mailboxes
//! (`Shared/support`, `Shared/support/Done`), and `user:NAME/MAILBOX` for a
//! person's (`user:alice/INBOX`).

use clap::Subcommand;

use crate::store::acl::{
    Change, Entry, Rights, entry_rights, names_owner, parse_identifier, valid_identifier,
};
use crate::store::names::SHARED;
use crate::store::{AccountKind, MailStore, MailboxName, QuotaOverride, UserRecord, grant};

#[derive(Debug, Subcommand)]
pub enum SharedCommand {
    /// Create a team mailbox (Shared/NAME), reached by users through its ACL.
    Create {
        name: String,
        /// Its storage limit (default: the [quota] default).
        #[arg(long)]
        quota_mb: Option<u64>,
        /// Each member keeps their own read state (\Seen); without it
        /// what one member reads is read for all.
        #[arg(long)]
        private_seen: bool,
    },
    /// Change a team mailbox's options.
    Set {
        name: String,
        /// Per-member read state (on) or one shared by all (off).
        #[arg(long, value_parser = ["on", "off"])]
        private_seen: String,
    },
    /// Delete a team mailbox with all its mail.
    Delete { name: String },
    /// Team mailboxes with their usage and who may use them.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Give IDENTIFIER (a user, anyone, authenticated; -NAME takes rights
    /// away) RIGHTS on MAILBOX (+RIGHTS adds, -RIGHTS removes, "" clears).
    Set {
        mailbox: String,
        #[arg(allow_hyphen_values = true)]
        identifier: String,
        #[arg(allow_hyphen_values = true)]
        rights: String,
    },
    /// The rights on MAILBOX.
    Get { mailbox: String },
    /// Remove IDENTIFIER's entry from MAILBOX.
    Delete {
        mailbox: String,
        #[arg(allow_hyphen_values = true)]
        identifier: String,
    },
}

pub fn shared(store: &dyn MailStore, command: SharedCommand) -> Result<(), String> {
    match command {
        SharedCommand::Create {
            name,
            quota_mb,
            private_seen,
        } => {
            super::validate_user_name(&name)?;
            store
                .create_team(&name)
                .map_err(|e| format!("{name}: {e}"))?;
            if private_seen {
                store
                    .set_private_seen(&name, true)
                    .map_err(|e| format!("{name}: {e}"))?;
            }
            if let Some(mb) = quota_mb {
                let change = QuotaOverride {
                    bytes: Some(mb.saturating_mul(1024 * 1024)),
                    messages: None,
                };
                store.set_quota(&name, change).map_err(|e| e.to_string())?;
            }
            println!(
                "created team mailbox {SHARED}/{name}; grant users with `letterbox acl set {SHARED}/{name} USER lrswite`"
            );
        }
        SharedCommand::Set { name, private_seen } => {
            team(store, &name)?;
            let on = private_seen == "on";
            store
                .set_private_seen(&name, on)
                .map_err(|e| format!("{name}: {e}"))?;
            let state = match on {
                true => "each member's own",
                false => "shared by all members",
            };
            println!("{SHARED}/{name}: \\Seen is {state}");
        }
        SharedCommand::Delete { name } => {
            team(store, &name)?;
            store
                .delete_user(&name)
                .map_err(|e| format!("{name}: {e}"))?;
            println!("deleted team mailbox {SHARED}/{name}");
        }
        SharedCommand::List => {
            let teams = store.list_users().map_err(|e| e.to_string())?;
            for summary in teams.iter().filter(|u| u.kind == AccountKind::Team) {
                let record = team(store, &summary.name)?;
                let inbox = MailboxName::new("INBOX").expect("valid");
                let entries = store.acl(record.id, &inbox).map_err(|e| e.to_string())?;
                let acl: Vec<String> = entries
                    .iter()
                    .map(|e| format!("{}={}", e.name(), e.rights))
                    .collect();
                let seen = match summary.private_seen {
                    true => "private \\Seen",
                    false => "shared \\Seen",
                };
                println!(
                    "{SHARED}/{}\t{} messages\t{} bytes\t{seen}\t{}",
                    summary.name,
                    summary.messages,
                    summary.bytes,
                    acl.join(" ")
                );
            }
        }
    }
    Ok(())
}

pub fn acl(store: &dyn MailStore, command: AclCommand) -> Result<(), String> {
    match command {
        AclCommand::Set {
            mailbox,
            identifier,
            rights,
        } => {
            let (owner, name) = mailbox_of(store, &mailbox)?;
            let change = Change::parse(&rights).map_err(|c| format!("unknown right {c:?}"))?;
            let (parsed, negative) = parse_identifier(&identifier);
            let entries = store
                .acl(owner.id, &name)
                .map_err(|e| format!("{mailbox}: {e}"))?;
            let rights = change.apply(entry_rights(&entries, &parsed, negative));
            set(store, &owner, &name, &identifier, rights)?;
            println!("{mailbox}: {identifier} {rights}");
        }
        AclCommand::Get { mailbox } => {
            let (owner, name) = mailbox_of(store, &mailbox)?;
            let entries = store
                .acl(owner.id, &name)
                .map_err(|e| format!("{mailbox}: {e}"))?;
            if owner.kind == AccountKind::Person {
                println!("{}\t{} (owner)", owner.name, Rights::ALL);
            }
            for entry in entries {
                println!("{}\t{}", entry.name(), entry.rights);
            }
        }
        AclCommand::Delete {
            mailbox,
            identifier,
        } => {
            let (owner, name) = mailbox_of(store, &mailbox)?;
            set(store, &owner, &name, &identifier, Rights::NONE)?;
            println!("{mailbox}: {identifier} removed");
        }
    }
    Ok(())
}

/// Stores the entry (subscribing a newly granted user, as over IMAP) and
/// writes the change to the audit log.
fn set(
    store: &dyn MailStore,
    owner: &UserRecord,
    name: &MailboxName,
    identifier: &str,
    rights: Rights,
) -> Result<(), String> {
    let (parsed, negative) = parse_identifier(identifier);
    if !valid_identifier(identifier)
        || (owner.kind == AccountKind::Person && names_owner(identifier, &owner.name))
    {
        return Err(format!(
            "{identifier}: not an identifier whose rights can change"
        ));
    }
    let entry = Entry {
        identifier: parsed,
        negative,
        rights,
    };
    // The CLI runs without the server's config loaded as a context; the
    // default (subscribe on grant) is what users expect from the CLI too.
    let subscribe = crate::config::SharingConfig::default().subscribe_on_grant;
    grant::set_entry(store, owner, name, &entry, subscribe).map_err(|e| e.to_string())?;
    tracing::info!(target: "audit", by = "letterbox acl", account = %owner.name, mailbox = %name, identifier, rights = %rights, "ACL changed");
    Ok(())
}

fn team(store: &dyn MailStore, name: &str) -> Result<UserRecord, String> {
    store
        .find_user(name)
        .map_err(|e| e.to_string())?
        .filter(|record| record.kind == AccountKind::Team)
        .ok_or_else(|| format!("{name}: no such team mailbox"))
}

/// `Shared/TEAM[/NAME]` or `user:NAME/MAILBOX`.
fn mailbox_of(store: &dyn MailStore, text: &str) -> Result<(UserRecord, MailboxName), String> {
    let bad = || format!("{text}: name a mailbox as Shared/TEAM[/NAME] or user:NAME/MAILBOX");
    let (account, mailbox) = if let Some(rest) = text.strip_prefix(&format!("{SHARED}/")) {
        let (team_name, inner) = rest.split_once('/').unwrap_or((rest, "INBOX"));
        (team(store, team_name)?, inner.to_owned())
    } else if let Some(rest) = text.strip_prefix("user:") {
        let (user, inner) = rest.split_once('/').ok_or_else(bad)?;
        let record = store
            .find_user(user)
            .map_err(|e| e.to_string())?
            .filter(|r| r.kind == AccountKind::Person)
            .ok_or_else(|| format!("{user}: no such user"))?;
        (record, inner.to_owned())
    } else {
        return Err(bad());
    };
    let name = MailboxName::new(&mailbox).map_err(|e| format!("{text}: {e}"))?;
    Ok((account, name))
}
