//! `letterbox sieve`: a user's Sieve scripts for the sysadmin (users
//! manage their own over ManageSieve), and `sieve test`, a dry run that
//! prints what a script would do with a message and which rules matched.

use std::io::Read;

use clap::Subcommand;

use crate::config::Config;
use crate::delivery::filter::Mailboxes;
use crate::sieve::{self, Message};
use crate::store::{MailStore, UserRecord};

#[derive(Debug, Subcommand)]
pub enum SieveCommand {
    /// The user's scripts (the active one marked).
    List { user: String },
    /// Print a script.
    Get { user: String, name: String },
    /// Store a script from FILE (standard input without one or with -);
    /// refused, with its line, unless it compiles.
    Put {
        user: String,
        name: String,
        file: Option<String>,
        /// Make it the active script too.
        #[arg(long)]
        activate: bool,
    },
    /// Make NAME the script that runs at delivery.
    Activate { user: String, name: String },
    /// Run no script at delivery.
    Deactivate { user: String },
    /// Delete a script (not the active one).
    Delete { user: String, name: String },
    Rename {
        user: String,
        from: String,
        to: String,
    },
    /// Dry run: what the user's active script (or --script FILE) would do
    /// with the message on standard input (or MESSAGE), rule by rule.
    Test {
        user: String,
        message: Option<String>,
        #[arg(long)]
        script: Option<String>,
        /// The envelope sender.
        #[arg(long, default_value = "sender@example.org")]
        from: String,
        /// The envelope recipient (default: the user).
        #[arg(long)]
        to: Option<String>,
    },
}

pub fn run(store: &dyn MailStore, config: &Config, command: SieveCommand) -> Result<(), String> {
    let failed = |e: crate::store::StoreError| e.to_string();
    match command {
        SieveCommand::List { user } => {
            let user = find(store, &user)?;
            for script in store.sieve_scripts(user.id).map_err(failed)? {
                let active = if script.active { "\tactive" } else { "" };
                println!("{}\t{} octets{active}", script.name, script.size);
            }
        }
        SieveCommand::Get { user, name } => {
            let user = find(store, &user)?;
            let text = store.sieve_script(user.id, &name).map_err(failed)?;
            print!("{}", text.ok_or_else(|| format!("{name}: no such script"))?);
        }
        SieveCommand::Put {
            user,
            name,
            file,
            activate,
        } => {
            let user = find(store, &user)?;
            let text = check(config, &name, read_bytes(file.as_deref())?)?;
            store
                .put_sieve_script(user.id, &name, &text)
                .map_err(failed)?;
            if activate {
                store
                    .activate_sieve_script(user.id, Some(&name))
                    .map_err(failed)?;
            }
            println!(
                "{name}: stored{}",
                if activate { " and active" } else { "" }
            );
        }
        SieveCommand::Activate { user, name } => {
            let user = find(store, &user)?;
            store
                .activate_sieve_script(user.id, Some(&name))
                .map_err(|e| format!("{name}: {e}"))?;
            println!("{name}: active");
        }
        SieveCommand::Deactivate { user } => {
            let user = find(store, &user)?;
            store.activate_sieve_script(user.id, None).map_err(failed)?;
            println!("{}: no active script", user.name);
        }
        SieveCommand::Delete { user, name } => {
            let user = find(store, &user)?;
            store
                .delete_sieve_script(user.id, &name)
                .map_err(|e| format!("{name}: {e}"))?;
            println!("{name}: deleted");
        }
        SieveCommand::Rename { user, from, to } => {
            let user = find(store, &user)?;
            check_name(&to)?;
            store
                .rename_sieve_script(user.id, &from, &to)
                .map_err(|e| format!("{from}: {e}"))?;
            println!("{from}: renamed {to}");
        }
        SieveCommand::Test {
            user,
            message,
            script,
            from,
            to,
        } => {
            let user = find(store, &user)?;
            let text = match script {
                Some(file) => read_input(Some(&file))?,
                None => store
                    .active_sieve_script(user.id)
                    .map_err(failed)?
                    .map(|(_, text)| text)
                    .ok_or_else(|| {
                        format!("{}: no active script (give --script FILE)", user.name)
                    })?,
            };
            let compiled =
                sieve::compile(&text).map_err(|e| format!("the script does not compile: {e}"))?;
            let raw = crate::mail::to_crlf(&read_bytes(message.as_deref())?).into_owned();
            let envelope = sieve::Envelope {
                from,
                to: to.unwrap_or_else(|| user.name.clone()),
                auth: None,
            };
            let account = Mailboxes {
                store,
                user: &user,
                global_dir: config.sieve.global_dir.as_deref(),
            };
            let outcome = sieve::run(
                &compiled,
                &Message::new(&raw),
                &envelope,
                &account,
                config.sieve.limits(),
            );
            for line in &outcome.trace {
                println!("{line}");
            }
            println!("actions:");
            if outcome.actions.is_empty() {
                println!("  discard");
            }
            for action in &outcome.actions {
                println!("  {action}");
            }
        }
    }
    Ok(())
}

/// Refuses a script that would not run: too large or not compiling.
fn check(config: &Config, name: &str, script: Vec<u8>) -> Result<String, String> {
    check_name(name)?;
    sieve::accept_upload(script, config.sieve.max_script_size).map_err(|refusal| match refusal {
        sieve::Refusal::TooLarge { limit } => {
            format!("{name}: larger than [sieve] max_script_size ({limit} octets)")
        }
        sieve::Refusal::NotUtf8 => "a script must be UTF-8".to_owned(),
        sieve::Refusal::DoesNotCompile(e) => format!("{name}: {e}"),
    })
}

fn check_name(name: &str) -> Result<(), String> {
    match sieve::valid_script_name(name) {
        true => Ok(()),
        false => Err(format!("{name:?}: not a valid script name")),
    }
}

fn find(store: &dyn MailStore, name: &str) -> Result<UserRecord, String> {
    store
        .find_user(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{name}: no such user"))
}

fn read_bytes(file: Option<&str>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match file {
        None | Some("-") => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
        Some(path) => std::fs::read(path).map(|b| bytes = b),
    }
    .map_err(|e| format!("{}: {e}", file.unwrap_or("standard input")))?;
    Ok(bytes)
}

fn read_input(file: Option<&str>) -> Result<String, String> {
    String::from_utf8(read_bytes(file)?).map_err(|_| "a script must be UTF-8".to_owned())
}
