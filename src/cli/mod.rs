//! The command line: `serve`, `user ...`, `check-config` and the other
//! administration commands; `sharing.rs` holds `shared` and `acl`.

mod sharing;
mod sieve;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::auth::{hash_password, random_password};
use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::control;
use crate::server::{Server, Service};
use crate::store::open::OpenStore;
use crate::store::{MailStore, StoreError, calls};
use crate::tls;

#[derive(Debug, Parser)]
#[command(
    name = "letterbox",
    version,
    about = "An IMAP4rev1 mail server backed by SQLite"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "LETTERBOX_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Development mode: no config file; data in ./letterbox-data, a
    /// self-signed certificate, 127.0.0.1:1143 (STARTTLS) and :1993 (TLS).
    #[arg(long, global = true)]
    pub dev: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the IMAP server.
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage per-user quotas.
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// Team mailboxes (Shared/NAME) that belong to no person.
    #[command(subcommand)]
    Shared(sharing::SharedCommand),
    /// Who may do what with a mailbox (RFC 4314 rights).
    #[command(subcommand)]
    Acl(sharing::AclCommand),
    /// Users' Sieve filters, and a dry run of one against a message.
    #[command(subcommand)]
    Sieve(sieve::SieveCommand),
    /// Failed-login penalties of the running server (via its control socket).
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Validate the configuration and print the effective settings.
    CheckConfig,
    /// Import a Maildir (with Maildir++ folders), an mbox file or a
    /// directory of mbox files; re-running skips what was imported.
    Import {
        #[arg(long)]
        user: String,
        path: PathBuf,
        /// For a single mbox file: the mailbox to fill (default INBOX).
        #[arg(long)]
        mailbox: Option<String>,
    },
    /// Copy mail from another server into letterbox users.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Export all of a user's mailboxes as Maildir or mbox files.
    Export {
        #[arg(long)]
        user: String,
        #[arg(long, value_enum)]
        format: crate::migrate::Format,
        dir: PathBuf,
    },
    /// Exit 0 when the server answers: reads the greeting on the first
    /// plain IMAP listener (or only connects to the first IMAPS one).
    /// Used by the Docker HEALTHCHECK.
    Healthcheck,
    /// Move everything to another store (see README, "Scaling out").
    #[command(subcommand)]
    Store(StoreCommand),
    /// Copy the database consistently while the server runs (see README, "Backup").
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Deliver one message from stdin (an LDA for Postfix `mailbox_command`).
    /// Exit codes follow sysexits: 67 unknown user, 75 temporary failure,
    /// 73 message refused (too big), 74 read error, 65 empty message.
    Deliver {
        /// The recipient: a user name or an address (aliases, `+tag` apply).
        #[arg(long)]
        to: String,
        /// Store into this mailbox when it exists (INBOX otherwise).
        #[arg(long)]
        mailbox: Option<String>,
        /// The envelope sender, for Return-Path (default: $SENDER).
        #[arg(long, env = "SENDER", default_value = "")]
        from: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every user, mailbox, message, flag, MODSEQ, UIDVALIDITY, quota,
    /// subscription, app password, ACL and Sieve script of the configured
    /// store into an empty one: a PostgreSQL URL or a new SQLite file.
    /// Clients keep their caches. Stop the servers first.
    Copy {
        /// `postgresql://user@host/db`, or the path of an SQLite file.
        #[arg(long)]
        to: String,
        /// A file whose first line is the target's password.
        #[arg(long)]
        to_password_file: Option<PathBuf>,
        /// The certificates (PEM) the target database's TLS certificate
        /// must chain to; the system's trusted ones without it.
        #[arg(long)]
        to_ca_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Set a user's limits (0 = unlimited); unset ones keep their value.
    Set {
        name: String,
        #[arg(long)]
        storage_mb: Option<u64>,
        #[arg(long)]
        messages: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Penalised addresses (failures, lockout, user names tried) and users
    /// under attack, optionally of one address or network and one user.
    Status {
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        user: Option<String>,
    },
    /// Lift the lockouts and failure counts of an address (the key it is
    /// counted under, such as its IPv6 /64) or of every key in a network,
    /// and/or forget the failures against a user.
    #[command(arg_required_else_help = true)]
    Unblock {
        address: Option<String>,
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Copy every folder of an account on another IMAP server (messages
    /// byte for byte, flags, dates); a re-run copies only what is new.
    Imap {
        /// The old account: imaps://user@host[:port] (implicit TLS) or
        /// imap://user@host[:port] (STARTTLS); %40 for an @ in the user.
        #[arg(long, required_unless_present = "csv")]
        from: Option<String>,
        /// The letterbox user to fill.
        #[arg(long, required_unless_present = "csv")]
        user: Option<String>,
        /// The old account's password (else prompted, or a line of stdin).
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Accounts to copy one after the other, one per line:
        /// SOURCE_URL,LETTERBOX_USER,PASSWORD_FILE (# starts a comment).
        #[arg(long, conflicts_with_all = ["from", "user", "password_file"])]
        csv: Option<PathBuf>,
        /// OLD=NEW: fill mailbox NEW from remote folder OLD (and OLD's
        /// children below NEW); OLD as the old server shows it, with /.
        #[arg(long = "folder-map", value_name = "OLD=NEW")]
        folder_map: Vec<String>,
        /// Leave out remote folders matching PATTERN (* any text, % any
        /// text within one level), e.g. "Archive/*".
        #[arg(long, value_name = "PATTERN")]
        exclude: Vec<String>,
        /// Trust only the CA certificates in this PEM file instead of the
        /// system's.
        #[arg(long, conflicts_with = "tls_fingerprint")]
        ca_file: Option<PathBuf>,
        /// Trust exactly the certificate with this SHA-256 fingerprint
        /// (AB:CD:... as `openssl x509 -fingerprint -sha256` prints it):
        /// for an old server with a self-signed certificate.
        #[arg(long)]
        tls_fingerprint: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (password from --password-file, a prompt, or stdin).
    Add {
        name: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Change a user's password.
    Passwd {
        name: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Delete a user and all their mail.
    Del { name: String },
    /// List users with their mailbox and message counts.
    List,
    /// Per-device passwords, usable instead of the main one.
    #[command(subcommand)]
    AppPassword(AppPasswordCommand),
}

#[derive(Debug, Subcommand)]
pub enum AppPasswordCommand {
    /// Create a random password for one device; it is shown only once.
    Add { name: String, label: String },
    /// The user's app passwords with their creation and last use.
    List { name: String },
    /// Revoke one app password.
    Revoke { name: String, label: String },
}

/// Runs the parsed command line; the exit code is 1 on any error.
pub fn run(cli: Cli) -> ExitCode {
    if let Command::Deliver { .. } = cli.command {
        return deliver_command(cli);
    }
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // With JSON logs the failure is a log event like any other, so
            // the log holds only JSON; otherwise a plain line for people.
            if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
                tracing::error!(error = %message, "letterbox stopped");
            } else {
                eprintln!("letterbox: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

/// sysexits(3) codes for `deliver`.
mod sysexits {
    pub const DATAERR: u8 = 65;
    pub const NOUSER: u8 = 67;
    pub const CANTCREAT: u8 = 73;
    pub const IOERR: u8 = 74;
    pub const TEMPFAIL: u8 = 75;
    pub const NOPERM: u8 = 77;
}

fn dispatch(cli: Cli) -> Result<(), String> {
    let config = if cli.dev {
        Config::dev()
    } else {
        Config::load(&cli.config).map_err(|e| e.to_string())?
    };
    init_logging(&config.log);
    match cli.command {
        Command::CheckConfig => {
            if let Some(tls) = &config.tls {
                tls::load_server_config(&tls.cert, &tls.key).map_err(|e| e.to_string())?;
            }
            print!("{}", config.to_toml());
            println!("# store: {}", config.describe_store()?);
            Ok(())
        }
        Command::User(command) => {
            let store = open_store(&config)?;
            user_command(&*store, command)
        }
        Command::Shared(command) => sharing::shared(&*open_store(&config)?, command),
        Command::Acl(command) => sharing::acl(&*open_store(&config)?, command),
        Command::Sieve(command) => sieve::run(&*open_store(&config)?, &config, command),
        Command::Quota(QuotaCommand::Set {
            name,
            storage_mb,
            messages,
        }) => {
            let store = open_store(&config)?;
            let change = crate::store::QuotaOverride {
                bytes: storage_mb.map(|mb| mb.saturating_mul(1024 * 1024)),
                messages,
            };
            store
                .set_quota(&name, change)
                .map_err(|e| format!("{name}: {e}"))?;
            println!("quota changed for {name}");
            Ok(())
        }
        Command::Serve => serve(config, (!cli.dev).then(|| cli.config.clone())),
        Command::Import {
            user,
            path,
            mailbox,
        } => {
            let store = open_store(&config)?;
            let user = find_user(&*store, &user)?;
            let report = crate::migrate::import(&*store, &user, &path, mailbox.as_deref())?;
            println!(
                "imported {} messages ({} already there) into {} mailboxes",
                report.stored,
                report.skipped,
                report.mailboxes.len()
            );
            Ok(())
        }
        Command::Migrate(MigrateCommand::Imap {
            from,
            user,
            password_file,
            csv,
            folder_map,
            exclude,
            ca_file,
            tls_fingerprint,
        }) => {
            let rules = migrate_rules(&folder_map, &exclude)?;
            let trust = match (ca_file, tls_fingerprint) {
                (Some(file), _) => crate::migrate::imap::Trust::CaFile(file),
                (None, Some(fingerprint)) => {
                    crate::migrate::imap::Trust::fingerprint(&fingerprint)?
                }
                (None, None) => crate::migrate::imap::Trust::System,
            };
            let store = open_store(&config)?;
            let accounts = match csv {
                Some(csv) => read_migration_csv(&csv, &trust)?,
                None => {
                    let (from, user) = from.zip(user).ok_or("--from and --user are needed")?;
                    let source = crate::migrate::imap::Source::parse(&from)?;
                    let password = read_password(password_file.as_deref(), false)?;
                    let account = crate::migrate::imap::Account {
                        source,
                        password,
                        trust,
                    };
                    vec![(user, account)]
                }
            };
            migrate_accounts(&*store, &accounts, &rules)
        }
        Command::Export { user, format, dir } => {
            let store = open_store(&config)?;
            let user = find_user(&*store, &user)?;
            let report = crate::migrate::export(&*store, &user, format, &dir)?;
            println!(
                "exported {} messages from {} mailboxes to {}",
                report.stored,
                report.mailboxes.len(),
                dir.display()
            );
            Ok(())
        }
        Command::Healthcheck => healthcheck(&config),
        Command::Auth(command) => {
            let request = match command {
                AuthCommand::Status { address, user } => control::Request::Status {
                    network: address.as_deref().map(control::parse_network).transpose()?,
                    user,
                },
                AuthCommand::Unblock { address, user } => control::Request::Unblock {
                    network: address.as_deref().map(control::parse_network).transpose()?,
                    user,
                },
            };
            print!("{}", control::ask(&config.control_socket_path(), &request)?);
            Ok(())
        }
        Command::Store(StoreCommand::Copy {
            to,
            to_password_file,
            to_ca_file,
        }) => store_copy(&config, &to, to_password_file.as_deref(), to_ca_file),
        Command::Backup { file } => {
            let OpenStore::Sqlite(store) = config.open_store()? else {
                return Err("backup copies the SQLite file; back PostgreSQL up with \
                            pg_dump or pg_basebackup (README, Scaling out)"
                    .into());
            };
            store.backup_to(&file).map_err(|e| e.to_string())?;
            let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!("backup written to {} ({bytes} bytes)", file.display());
            Ok(())
        }
        Command::Deliver { .. } => unreachable!("handled by deliver_command"),
    }
}

/// `letterbox deliver`: stores stdin for one recipient; the exit code tells
/// the MTA whether to bounce (67, 73, 65) or retry (75, 74).
fn deliver_command(cli: Cli) -> ExitCode {
    let Command::Deliver { to, mailbox, from } = &cli.command else {
        return ExitCode::FAILURE;
    };
    let fail = |code: u8, message: String| {
        eprintln!("letterbox deliver: {message}");
        ExitCode::from(code)
    };
    let config = if cli.dev {
        Config::dev()
    } else {
        match Config::load(&cli.config) {
            Ok(config) => config,
            Err(e) => return fail(sysexits::TEMPFAIL, e.to_string()),
        }
    };
    let limit = config.limits.max_message_size;
    let mut raw = Vec::new();
    let read = std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin().lock(), limit + 1),
        &mut raw,
    );
    if let Err(e) = read {
        return fail(sysexits::IOERR, format!("reading the message: {e}"));
    }
    let Some(target) = crate::delivery::resolve(&config, to) else {
        return fail(sysexits::NOUSER, format!("{to}: not a local address"));
    };
    let store = match open_store(&config) {
        Ok(store) => store,
        Err(e) => return fail(sysexits::TEMPFAIL, e),
    };
    let envelope = crate::delivery::Envelope {
        sender: from,
        recipient: to,
    };
    use crate::delivery::DeliveryError;
    match crate::delivery::deliver_and_send(
        &*store,
        &config,
        &target,
        mailbox.as_deref(),
        &envelope,
        &raw,
    ) {
        Ok(_) => ExitCode::SUCCESS,
        Err(DeliveryError::UnknownUser) => fail(sysexits::NOUSER, format!("{to}: no such user")),
        Err(e @ (DeliveryError::TooBig(_) | DeliveryError::OverQuota)) => {
            fail(sysexits::CANTCREAT, e.to_string())
        }
        Err(e @ DeliveryError::Empty) => fail(sysexits::DATAERR, e.to_string()),
        Err(e @ DeliveryError::Temporary(_)) => fail(sysexits::TEMPFAIL, e.to_string()),
        // A Sieve reject: the MTA bounces it with the script's reason.
        Err(DeliveryError::Rejected(reason)) => fail(sysexits::NOPERM, reason),
    }
}

fn find_user(store: &dyn MailStore, name: &str) -> Result<crate::store::UserRecord, String> {
    store
        .find_user(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{name}: {}", StoreError::NoSuchUser))
}

fn open_store(config: &Config) -> Result<Arc<dyn MailStore>, String> {
    config.open_store().map(|store| store.mail())
}

/// `letterbox store copy`: the configured store into `to`, with progress
/// on stdout and the counts compared at the end.
fn store_copy(
    config: &Config,
    to: &str,
    password_file: Option<&Path>,
    ca_file: Option<PathBuf>,
) -> Result<(), String> {
    use crate::store::copy::{Location, copy};
    let from = match config.store.backend {
        crate::config::StoreBackend::Sqlite => Location::Sqlite(config.database_path()),
        crate::config::StoreBackend::Postgres => Location::Postgres {
            url: config.store.url.clone().ok_or("store.url is not set")?,
            options: config.store.pg_options()?,
        },
    };
    let mut to = Location::parse(to);
    if let Location::Postgres { options, .. } = &mut to {
        if let Some(file) = password_file {
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            options.password = Some(text.lines().next().unwrap_or_default().to_owned());
        }
        options.ca_file = ca_file;
    }
    println!("copying {from} to {to}");
    let copied = copy(&from, &to, &mut |line| println!("{line}")).map_err(|e| e.to_string())?;
    let rows: u64 = copied.tables.iter().map(|(_, n)| n).sum();
    println!(
        "done: {rows} rows in {} tables, counts verified",
        copied.tables.len()
    );
    Ok(())
}

fn user_command(store: &dyn MailStore, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            name,
            password_file,
        } => {
            validate_user_name(&name)?;
            let password = read_password(password_file.as_deref(), true)?;
            store
                .create_user(&name, &hash_password(&password))
                .map_err(|e| format!("{name}: {e}"))?;
            println!("created user {name}");
        }
        UserCommand::Passwd {
            name,
            password_file,
        } => {
            if store.find_user(&name).map_err(|e| e.to_string())?.is_none() {
                return Err(format!("{name}: {}", StoreError::NoSuchUser));
            }
            let password = read_password(password_file.as_deref(), true)?;
            store
                .set_password_hash(&name, &hash_password(&password))
                .map_err(|e| format!("{name}: {e}"))?;
            println!("password changed for {name}");
        }
        UserCommand::Del { name } => {
            store
                .delete_user(&name)
                .map_err(|e| format!("{name}: {e}"))?;
            println!("deleted user {name}");
        }
        UserCommand::AppPassword(command) => app_password_command(store, command)?,
        UserCommand::List => {
            println!(
                "{:<32} {:>9} {:>9} {:>12} {:>9} {:>9}",
                "USER", "MAILBOXES", "MESSAGES", "BYTES", "STORAGE%", "MESSAGE%"
            );
            let users = store.list_users().map_err(|e| e.to_string())?;
            // Team mailboxes have `letterbox shared list`.
            let people = users
                .into_iter()
                .filter(|u| u.kind == crate::store::AccountKind::Person);
            for user in people {
                println!(
                    "{:<32} {:>9} {:>9} {:>12} {:>9} {:>9}",
                    user.name,
                    user.mailboxes,
                    user.messages,
                    user.bytes,
                    percent_of(user.bytes, user.limits.bytes),
                    percent_of(user.messages, user.limits.messages),
                );
            }
        }
    }
    Ok(())
}

/// Usage as a share of its limit, `-` without one.
fn percent_of(used: u64, limit: Option<u64>) -> String {
    match limit.filter(|&l| l > 0) {
        Some(limit) => format!("{:.0}%", used as f64 * 100.0 / limit as f64),
        None => "-".into(),
    }
}

fn app_password_command(store: &dyn MailStore, command: AppPasswordCommand) -> Result<(), String> {
    match command {
        AppPasswordCommand::Add { name, label } => {
            let password = random_password();
            store
                .add_app_password(&name, &label, &hash_password(&password))
                .map_err(|e| format!("{name}: {e}"))?;
            println!("app password {label:?} for {name}: {password} (shown only this once)");
        }
        AppPasswordCommand::List { name } => {
            let user = find_user(store, &name)?;
            let when = |t: Option<i64>| {
                t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map_or("never".to_string(), |t| {
                        t.format("%Y-%m-%d %H:%M").to_string()
                    })
            };
            println!("{:<24} {:<17} {:<17}", "LABEL", "CREATED", "LAST USED");
            for app in store.app_passwords(user.id).map_err(|e| e.to_string())? {
                println!(
                    "{:<24} {:<17} {:<17}",
                    app.label,
                    when(Some(app.created_at)),
                    when(app.last_used)
                );
            }
        }
        AppPasswordCommand::Revoke { name, label } => {
            store
                .revoke_app_password(&name, &label)
                .map_err(|e| format!("{name}: {e}"))?;
            println!("revoked app password {label:?} of {name}");
        }
    }
    Ok(())
}

/// User names travel in LOGIN as astrings: keep them printable and short.
fn validate_user_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| !c.is_control() && !c.is_whitespace());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid user name {name:?}: use 1-255 printable characters without spaces"
        ))
    }
}

/// From a file, an interactive prompt (asked twice when `confirm`, for a
/// new password) or a line of stdin.
fn read_password(file: Option<&Path>, confirm: bool) -> Result<String, String> {
    let password = if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let second = match confirm {
            true => rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?,
            false => first.clone(),
        };
        if first != second {
            return Err("passwords do not match".into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return Err("empty password".into());
    }
    Ok(password)
}

/// `--folder-map OLD=NEW` and `--exclude PATTERN` of `migrate imap`.
fn migrate_rules(
    folder_map: &[String],
    exclude: &[String],
) -> Result<crate::migrate::imap::Rules, String> {
    let folder_map = folder_map
        .iter()
        .map(|pair| {
            let (old, new) = pair
                .split_once('=')
                .ok_or_else(|| format!("--folder-map {pair}: expected OLD=NEW"))?;
            crate::store::MailboxName::new(new).map_err(|e| format!("--folder-map {pair}: {e}"))?;
            Ok((old.to_owned(), new.to_owned()))
        })
        .collect::<Result<_, String>>()?;
    let exclude = exclude
        .iter()
        .map(|p| {
            crate::store::pattern::Pattern::new("", p)
                .ok_or_else(|| format!("--exclude {p}: too long"))
        })
        .collect::<Result<_, String>>()?;
    Ok(crate::migrate::imap::Rules {
        folder_map,
        exclude,
    })
}

/// The accounts of `migrate imap --csv`: SOURCE_URL,USER,PASSWORD_FILE
/// per line, blank lines and `#` comments ignored.
fn read_migration_csv(
    path: &Path,
    trust: &crate::migrate::imap::Trust,
) -> Result<Vec<(String, crate::migrate::imap::Account)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut accounts = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), number + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [from, user, password_file] = fields[..] else {
            return Err(format!("{}: expected SOURCE_URL,USER,PASSWORD_FILE", at()));
        };
        let source =
            crate::migrate::imap::Source::parse(from).map_err(|e| format!("{}: {e}", at()))?;
        let password = read_password(Some(Path::new(password_file)), false)
            .map_err(|e| format!("{}: {e}", at()))?;
        let account = crate::migrate::imap::Account {
            source,
            password,
            trust: trust.clone(),
        };
        accounts.push((user.to_owned(), account));
    }
    Ok(accounts)
}

/// Copies each account in turn and sums up; fails when any folder or
/// account did, after trying all of them (a re-run resumes).
fn migrate_accounts(
    store: &dyn MailStore,
    accounts: &[(String, crate::migrate::imap::Account)],
    rules: &crate::migrate::imap::Rules,
) -> Result<(), String> {
    use crate::migrate::imap::{FolderOutcome, migrate};
    let mut progress = crate::migrate::progress::Progress::new(std::io::stderr().is_terminal());
    let mut failures = Vec::new();
    for (user, account) in accounts {
        let record = match find_user(store, user) {
            Ok(record) => record,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        println!("{} -> {user}", account.source);
        let reports = match migrate(store, &record, account, rules, &mut progress) {
            Ok(reports) => reports,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let (mut copied, mut there, mut bytes) = (0, 0, 0);
        for report in reports {
            match report.outcome {
                FolderOutcome::Copied {
                    copied: c,
                    already_there: t,
                    bytes: b,
                    ..
                } => (copied, there, bytes) = (copied + c, there + t, bytes + b),
                FolderOutcome::Skipped(_) => {}
                FolderOutcome::Failed { local, error } => failures.push(format!(
                    "{} folder {} (into {local}): {error}",
                    account.source, report.remote
                )),
            }
        }
        println!(
            "{} -> {user}: {copied} messages copied ({bytes} octets), {there} already there",
            account.source
        );
    }
    match failures.as_slice() {
        [] => Ok(()),
        failures => Err(format!(
            "{} failed (run again to resume):\n  {}",
            failures.len(),
            failures.join("\n  ")
        )),
    }
}

/// Runs the daemon; `config_path` is what SIGHUP re-reads (none in --dev).
fn serve(config: Config, config_path: Option<PathBuf>) -> Result<(), String> {
    let dev = config_path.is_none();
    let json_logs = config.log.format == crate::config::LogFormat::Json;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(calls::BLOCKING_THREADS)
        .build()
        .map_err(|e| e.to_string())?;
    crate::memory::start_returning_free_memory();
    let tls_files = config.tls.clone();
    if let Some(files) = tls_files.as_ref().filter(|_| dev)
        && tls::ensure_dev_certificate(&files.cert, &files.key).map_err(|e| e.to_string())?
    {
        println!(
            "created a self-signed certificate for localhost: {}",
            files.cert.display()
        );
    }
    let acceptor = match &tls_files {
        Some(files) => Some(tokio_rustls::TlsAcceptor::from(
            tls::load_server_config(&files.cert, &files.key).map_err(|e| e.to_string())?,
        )),
        None => None,
    };
    let store = open_store(&config)?;
    if dev {
        ensure_demo_user(&*store)?;
    }
    runtime.block_on(async move {
        let server = Server::bind(config, store, acceptor)
            .await
            .map_err(|e| e.to_string())?;
        for service in Service::ALL {
            for addr in server.addrs(service) {
                announce(json_logs, service, addr);
            }
        }
        tokio::spawn(reload_on_sighup(server.context(), config_path));
        // systemd Type=notify: ready once listeners are bound and the store
        // is open; a no-op when not started by systemd.
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
        server
            .run(async {
                shutdown_signal().await;
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
            })
            .await;
        Ok(())
    })
}

/// Tells whoever started the server where it listens: a line on stdout
/// for people, or with JSON logs an event on the log stream (stderr), so
/// that a collector reading both streams sees one JSON object per line.
fn announce(json_logs: bool, service: Service, addr: std::net::SocketAddr) {
    let what = match service {
        Service::Imap => "IMAP (STARTTLS)",
        Service::Imaps => "IMAPS (implicit TLS)",
        Service::Pop3 => "POP3 (STLS)",
        Service::Pop3s => "POP3S (implicit TLS)",
        Service::ManageSieve => "ManageSieve (STARTTLS)",
    };
    if json_logs {
        tracing::info!(listener = service.name(), address = %addr, "serving {what}");
    } else {
        // Not println!: a closed stdout (a supervisor that stopped reading)
        // must not take the server down with a panic.
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{what} on {addr}");
    }
}

fn ensure_demo_user(store: &dyn MailStore) -> Result<(), String> {
    if store
        .find_user("demo")
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(());
    }
    let password = random_password();
    store
        .create_user("demo", &hash_password(&password))
        .map_err(|e| e.to_string())?;
    println!("created user demo with password {password} (shown only this once)");
    Ok(())
}

/// Set once JSON logging is in place.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Logs to stderr as text or JSON; `RUST_LOG` overrides the level.
fn init_logging(log: &crate::config::LogConfig) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = log.format == crate::config::LogFormat::Json;
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    JSON_LOGS.store(
        json && installed.is_ok(),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Connects to the server like a client would; an unspecified listen
/// address (0.0.0.0, ::) is reached on loopback.
fn healthcheck(config: &Config) -> Result<(), String> {
    use std::io::BufRead;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpStream};
    let local = |mut addr: std::net::SocketAddr| {
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        addr
    };
    let timeout = std::time::Duration::from_secs(5);
    // A node whose database is gone is not healthy, however it answers.
    if config.store.backend == crate::config::StoreBackend::Postgres {
        println!("ok: {}", config.describe_store()?);
    }
    if let Some(&addr) = config.imap.listen.first() {
        let stream = TcpStream::connect_timeout(&local(addr), timeout)
            .map_err(|e| format!("{addr}: {e}"))?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        let mut greeting = String::new();
        std::io::BufReader::new(stream)
            .read_line(&mut greeting)
            .map_err(|e| format!("{addr}: {e}"))?;
        if !greeting.starts_with("* OK") {
            return Err(format!("{addr}: unexpected greeting {greeting:?}"));
        }
        println!("ok: {}", greeting.trim_end());
        return Ok(());
    }
    let addr = config
        .imaps
        .listen
        .first()
        .ok_or("no listener configured")?;
    TcpStream::connect_timeout(&local(*addr), timeout).map_err(|e| format!("{addr}: {e}"))?;
    println!("ok: {addr} accepts connections");
    Ok(())
}

/// On SIGHUP, re-reads the config file (what can change while running
/// takes effect for new connections and commands) and the TLS certificate
/// (certbot renewals), without dropping sessions. A broken file keeps
/// everything as it was.
async fn reload_on_sighup(ctx: Arc<crate::context::ServerContext>, config_path: Option<PathBuf>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            if let Some(path) = &config_path {
                match Config::load(path) {
                    Ok(config) => {
                        let restart = ctx.reload(config);
                        tracing::info!(?restart, "SIGHUP: configuration reloaded");
                        if !restart.is_empty() {
                            tracing::warn!(?restart, "SIGHUP: these changes need a restart");
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "SIGHUP: keeping the old configuration");
                        continue;
                    }
                }
            }
            match ctx.tls.reload() {
                Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                Err(e) => tracing::error!(error = %e, "SIGHUP: keeping the old TLS certificate"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (ctx, config_path);
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
