//! The TOML configuration file: serde structs, defaults and validation.
//!
//! Every table denies unknown keys, so a typo is an error at start-up rather
//! than a setting that silently does nothing.

/// The `[store] synchronous` values (defined by the store they tune).
pub use crate::store::Synchronous;
pub use crate::store::open::{StoreBackend, StoreConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where the daemon looks for its config when neither `--config` nor
/// `LETTERBOX_CONFIG` says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/letterbox/letterbox.toml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory holding the SQLite database (and, in dev mode, the certificate).
    pub data_dir: PathBuf,
    #[serde(default)]
    pub imap: ListenConfig,
    #[serde(default)]
    pub imaps: ListenConfig,
    /// POP3 (RFC 1939) with STLS, INBOX only: for devices that know no IMAP.
    #[serde(default)]
    pub pop3: ListenConfig,
    /// POP3 over implicit TLS (995).
    #[serde(default)]
    pub pop3s: ListenConfig,
    /// ManageSieve (RFC 5804, 4190) with STARTTLS: users' Sieve scripts.
    #[serde(default)]
    pub managesieve: ListenConfig,
    /// Required as soon as any listener is configured.
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub lmtp: LmtpConfig,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// Extra addresses: `"sales@example.com" = "alice"` or `"postmaster" = "alice"`
    /// (a local part alone matches it in every accepted domain).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub quota: QuotaConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub control: ControlConfig,
    #[serde(default)]
    pub autoconfig: AutoconfigConfig,
    #[serde(default)]
    pub sharing: SharingConfig,
    #[serde(default)]
    pub sieve: SieveConfig,
    #[serde(default)]
    pub junk: JunkConfig,
}

/// Spam filter training: what a user's MOVE or COPY into Junk (spam) or
/// out of it to anywhere but Trash (not spam) hands each message to,
/// on standard input, in the background (e.g. `rspamc learn_spam`).
/// Run with `sh -c`, with `LETTERBOX_USER` set to the user's name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JunkConfig {
    pub learn_spam: Option<String>,
    pub learn_ham: Option<String>,
}

/// Shared mailboxes (ACL, RFC 4314).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SharingConfig {
    /// A user newly allowed to look up a mailbox of another account (a
    /// team mailbox, a colleague's folder) is subscribed to it, so that
    /// clients showing subscribed folders show it at once.
    pub subscribe_on_grant: bool,
}

impl Default for SharingConfig {
    fn default() -> SharingConfig {
        SharingConfig {
            subscribe_on_grant: true,
        }
    }
}

/// Sieve filters at delivery: what one user's scripts may use.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SieveConfig {
    /// Octets of one script.
    pub max_script_size: u64,
    /// Actions (keep, fileinto, redirect, vacation) one message may get.
    pub max_actions: usize,
    /// Redirects one message may get.
    pub max_redirects: usize,
    /// Scripts one user may keep (ManageSieve PUTSCRIPT).
    pub max_scripts: usize,
    /// Octets all of one user's scripts may take.
    pub max_storage: u64,
    /// `host:port` of the SMTP relay that `redirect` and vacation replies
    /// leave through (plain SMTP, no login: the local Postfix, say);
    /// without one, a redirect keeps the message and no reply goes out.
    pub smtp_relay: Option<String>,
    /// A script of the sysadmin's run before every user's (e.g. filing
    /// `X-Spam-Flag: YES` into Junk) and one run after it.
    pub before: Option<PathBuf>,
    pub after: Option<PathBuf>,
    /// Where `include :global "NAME"` finds `NAME.sieve`.
    pub global_dir: Option<PathBuf>,
}

impl Default for SieveConfig {
    fn default() -> SieveConfig {
        SieveConfig {
            max_script_size: 64 * 1024,
            max_actions: 32,
            max_redirects: 4,
            max_scripts: 20,
            max_storage: 1024 * 1024,
            smtp_relay: None,
            before: None,
            after: None,
            global_dir: None,
        }
    }
}

impl SieveConfig {
    pub fn limits(&self) -> crate::sieve::Limits {
        crate::sieve::Limits {
            actions: self.max_actions,
            redirects: self.max_redirects,
            ..crate::sieve::Limits::default()
        }
    }
}

/// Client autoconfiguration over HTTP: Thunderbird's autoconfig, Outlook's
/// autodiscover and an Apple configuration profile, from the host names
/// and ports here; off unless `listen` is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AutoconfigConfig {
    pub listen: Vec<SocketAddr>,
    /// HTTPS with the IMAP certificate; plain HTTP (behind the sysadmin's
    /// proxy) otherwise.
    pub tls: bool,
    /// The host name mail clients connect to (the certificate's name).
    pub imap_host: String,
    /// The provider's name as clients show it; default: the domain.
    pub display_name: String,
    /// The office's outgoing (submission) server, which letterbox is not;
    /// empty announces none.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `STARTTLS` (port 587) or `SSL` (port 465).
    pub smtp_security: SmtpSecurity,
}

impl Default for AutoconfigConfig {
    fn default() -> Self {
        AutoconfigConfig {
            listen: Vec::new(),
            tls: false,
            imap_host: String::new(),
            display_name: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum SmtpSecurity {
    #[serde(rename = "STARTTLS")]
    Starttls,
    #[serde(rename = "SSL")]
    Ssl,
}

/// The control socket `letterbox auth status|unblock` talk to (mode 0600).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// Default: `control.sock` in `data_dir`.
    pub socket: Option<PathBuf>,
}

/// The Prometheus endpoint (`GET /metrics`); off unless an address is set.
/// Keep it on loopback or a management network: it is not authenticated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub listen: Option<SocketAddr>,
}

/// Default per-user quota (RFC 9208); `letterbox quota set` overrides it
/// per user. 0 means unlimited. And the warnings put in a user's INBOX as
/// their usage crosses a share of a limit (`quota_warning`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaConfig {
    /// Storage per user, in MiB.
    pub storage_mb: u64,
    /// Messages per user.
    pub messages: u64,
    /// Shares of a limit, in percent, whose crossing gets a warning; empty
    /// for none.
    pub warn_at_percent: Vec<u8>,
    /// The warning's From, Subject and text; `{user}`, `{resource}`
    /// (storage or message count), `{percent}`, `{used}` and `{limit}` are
    /// filled in.
    pub warning_from: String,
    pub warning_subject: String,
    pub warning_body: String,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            storage_mb: 0,
            messages: 0,
            warn_at_percent: vec![80, 95],
            warning_from: "Mail server <postmaster>".into(),
            warning_subject: "Your mailbox is {percent}% full".into(),
            warning_body: "Your mailbox has reached {percent}% of its {resource} limit: \
                           {used} of {limit}.\n\nPlease delete or archive messages you no \
                           longer need (and empty the Trash) before new mail is refused.\n"
                .into(),
        }
    }
}

impl QuotaConfig {
    pub fn limits(&self) -> crate::store::QuotaLimits {
        crate::store::QuotaLimits {
            bytes: (self.storage_mb > 0).then(|| self.storage_mb.saturating_mul(1024 * 1024)),
            messages: (self.messages > 0).then_some(self.messages),
        }
    }
}

/// Messages in special-use mailboxes are purged this many days after they
/// entered them ("retrieve deleted mail from the past 30 days").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// The off switch.
    pub enabled: bool,
    /// Seconds between purges.
    pub check_interval_secs: u64,
    /// Days to keep, by special use (`Trash`, `Junk`, `Archive`, ...).
    pub days: BTreeMap<String, u32>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            enabled: true,
            check_interval_secs: 3600,
            days: BTreeMap::from([("Junk".to_string(), 30), ("Trash".to_string(), 30)]),
        }
    }
}

/// Where LMTP (RFC 2033) listens: `"127.0.0.1:24"` or `"unix:/run/letterbox/lmtp.sock"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LmtpConfig {
    #[serde(default)]
    pub listen: Vec<LmtpListen>,
    /// As for IMAP; applies to TCP listeners (a unix socket has no
    /// remote address).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<ipnet::IpNet>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<ipnet::IpNet>,
}

impl LmtpConfig {
    pub fn access(&self) -> AccessList<'_> {
        AccessList {
            allow: &self.allow,
            deny: &self.deny,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LmtpListen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl TryFrom<String> for LmtpListen {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("lmtp.listen: empty unix socket path".into());
            }
            return Ok(LmtpListen::Unix(PathBuf::from(path)));
        }
        text.parse()
            .map(LmtpListen::Tcp)
            .map_err(|_| format!("lmtp.listen: {text:?} is neither host:port nor unix:/path"))
    }
}

impl From<LmtpListen> for String {
    fn from(listen: LmtpListen) -> String {
        match listen {
            LmtpListen::Tcp(addr) => addr.to_string(),
            LmtpListen::Unix(path) => format!("unix:{}", path.display()),
        }
    }
}

/// How recipient addresses map to users.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Domains accepted for delivery (`user@domain`); empty accepts any.
    pub domains: Vec<String>,
    /// Deliver `user+tag@domain` into the user's mailbox `tag` when it exists.
    pub plus_to_mailbox: bool,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            domains: Vec::new(),
            plus_to_mailbox: true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// Socket addresses such as `"0.0.0.0:143"` or `"[::]:993"`.
    #[serde(default)]
    pub listen: Vec<SocketAddr>,
    /// Networks served (CIDR); empty serves every address not denied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<ipnet::IpNet>,
    /// Networks never served (CIDR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<ipnet::IpNet>,
    /// TCP balancers (CIDR) whose connections start with a PROXY protocol
    /// header (version 1 or 2) naming the client: the client's address is
    /// then the one `allow`/`deny`, the limits and login penalties see.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxy_from: Vec<ipnet::IpNet>,
}

impl ListenConfig {
    pub fn access(&self) -> AccessList<'_> {
        AccessList {
            allow: &self.allow,
            deny: &self.deny,
        }
    }
}

/// Which remote addresses a listener serves: networks in `deny` never,
/// and when `allow` is not empty only those in it.
#[derive(Debug, Clone, Copy)]
pub struct AccessList<'a> {
    pub allow: &'a [ipnet::IpNet],
    pub deny: &'a [ipnet::IpNet],
}

impl AccessList<'_> {
    pub fn permits(&self, ip: std::net::IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        !self.deny.iter().any(|net| net.contains(&ip))
            && (self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&ip)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the certificate, followed by its chain.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Allow LOGIN/AUTHENTICATE on a connection that is not encrypted.
    #[serde(default)]
    pub allow_plaintext: bool,
    /// Delay before answering a failed login, doubled with each further
    /// failure from the same address or for the same user (max 8 s).
    #[serde(default = "default_failure_delay_ms")]
    pub failure_delay_ms: u64,
    /// Failures after which the address is locked out (a user name never
    /// is: that would let anyone lock its owner out).
    #[serde(default = "default_max_failures")]
    pub max_failures: u32,
    /// How long a lockout lasts; 0 never locks out.
    #[serde(default = "default_lockout_secs")]
    pub lockout_secs: u64,
    /// Failures are counted per network of this prefix length: 32 counts
    /// each IPv4 address alone.
    #[serde(default = "default_ipv4_prefix")]
    pub ipv4_prefix: u8,
    /// As `ipv4_prefix` for IPv6: 64 by default, since one host usually
    /// has a whole /64 to try from.
    #[serde(default = "default_ipv6_prefix")]
    pub ipv6_prefix: u8,
    /// Once a user has this many recent failed logins (from any address),
    /// only addresses that logged in as the user before are let in; 0 (the
    /// default) turns this off.
    #[serde(default)]
    pub known_addresses_only_after: u32,
}

fn default_failure_delay_ms() -> u64 {
    500
}

fn default_max_failures() -> u32 {
    10
}

fn default_lockout_secs() -> u64 {
    900
}

fn default_ipv4_prefix() -> u8 {
    32
}

fn default_ipv6_prefix() -> u8 {
    64
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            allow_plaintext: false,
            failure_delay_ms: default_failure_delay_ms(),
            max_failures: default_max_failures(),
            lockout_secs: default_lockout_secs(),
            ipv4_prefix: default_ipv4_prefix(),
            ipv6_prefix: default_ipv6_prefix(),
            known_addresses_only_after: 0,
        }
    }
}

impl AuthConfig {
    pub fn guard_settings(&self) -> crate::auth::guard::GuardSettings {
        crate::auth::guard::GuardSettings {
            base_delay: Duration::from_millis(self.failure_delay_ms),
            max_failures: self.max_failures.max(1),
            lockout: Duration::from_secs(self.lockout_secs),
            ipv4_prefix: self.ipv4_prefix,
            ipv6_prefix: self.ipv6_prefix,
            known_addresses_only_after: self.known_addresses_only_after,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Longest command line (excluding literals), in octets.
    pub max_command_line: usize,
    /// Largest literal accepted outside APPEND, in octets.
    pub max_literal: u64,
    /// Largest message accepted by APPEND, in octets.
    pub max_message_size: u64,
    /// Connections served at once, over all listeners.
    pub max_connections: usize,
    /// Connections served at once from one remote IP address, logged in or
    /// not: a ceiling so one address cannot take every slot. High, because
    /// a whole office can sit behind one NAT address.
    pub max_connections_per_ip: usize,
    /// Connections from one IP address that have not logged in yet: what
    /// stops a connection flood without refusing an office behind NAT.
    pub max_unauthenticated_per_ip: usize,
    /// Logged-in sessions at once for one user (Thunderbird alone opens up
    /// to five per account and device).
    pub max_connections_per_user: usize,
    /// Logged-in sessions at once for one user from one IP address (as
    /// Dovecot's mail_max_userip_connections).
    pub max_connections_per_user_ip: usize,
    /// Seconds a client may stay idle before logging in.
    pub preauth_timeout_secs: u64,
    /// Seconds a logged-in client may stay idle (RFC 3501 asks for at least 30 minutes).
    pub auth_timeout_secs: u64,
    /// Seconds allowed for a TLS handshake.
    pub tls_handshake_timeout_secs: u64,
    /// Messages whose sort fields the server keeps in memory for SORT and
    /// THREAD, over all mailboxes (a few hundred octets each); 0 keeps
    /// none, and every SORT reads them from the store.
    pub sort_cache_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_command_line: 64 * 1024,
            max_literal: 64 * 1024,
            max_message_size: 64 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_ip: 1000,
            max_unauthenticated_per_ip: 50,
            max_connections_per_user: 50,
            max_connections_per_user_ip: 20,
            preauth_timeout_secs: 60,
            auth_timeout_secs: 30 * 60,
            tls_handshake_timeout_secs: 10,
            sort_cache_messages: 250_000,
        }
    }
}

impl Limits {
    pub fn preauth_timeout(&self) -> Duration {
        Duration::from_secs(self.preauth_timeout_secs)
    }
    pub fn auth_timeout(&self) -> Duration {
        Duration::from_secs(self.auth_timeout_secs)
    }
    pub fn tls_handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.tls_handshake_timeout_secs)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `letterbox=debug,info`;
    /// `RUST_LOG` overrides it.
    pub level: String,
    /// `text` for people, `json` (one object per line) for log collectors.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates config text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_with_overrides(text, std::env::vars())
    }

    /// Parses config text, then applies `LETTERBOX__SECTION__KEY=value`
    /// overrides (containers set settings this way): the value is read as
    /// a TOML value (`100`, `true`, `["0.0.0.0:993"]`), else as a string.
    /// Unknown keys are errors here too.
    pub fn parse_with_overrides(
        text: &str,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let parse_error = |message: String| ConfigError::Parse {
            path: PathBuf::new(),
            message,
        };
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        for (name, value) in vars {
            let Some(path) = name.strip_prefix("LETTERBOX__") else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
            let value = toml::from_str::<toml::Table>(&format!("v = {value}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            set_path(&mut table, &keys, value).map_err(|e| parse_error(format!("{name}: {e}")))?;
        }
        let config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The zero-configuration setup of `letterbox serve --dev`.
    pub fn dev() -> Config {
        let data_dir = PathBuf::from("letterbox-data");
        Config {
            imap: ListenConfig {
                listen: vec![SocketAddr::from(([127, 0, 0, 1], 1143))],
                ..ListenConfig::default()
            },
            imaps: ListenConfig {
                listen: vec![SocketAddr::from(([127, 0, 0, 1], 1993))],
                ..ListenConfig::default()
            },
            pop3: ListenConfig {
                listen: vec![SocketAddr::from(([127, 0, 0, 1], 1110))],
                ..ListenConfig::default()
            },
            pop3s: ListenConfig {
                listen: vec![SocketAddr::from(([127, 0, 0, 1], 1995))],
                ..ListenConfig::default()
            },
            managesieve: ListenConfig {
                listen: vec![SocketAddr::from(([127, 0, 0, 1], 5190))],
                ..ListenConfig::default()
            },
            tls: Some(TlsConfig {
                cert: data_dir.join("dev-cert.pem"),
                key: data_dir.join("dev-key.pem"),
            }),
            data_dir,
            auth: AuthConfig::default(),
            limits: Limits::default(),
            store: StoreConfig::default(),
            log: LogConfig::default(),
            lmtp: LmtpConfig::default(),
            delivery: DeliveryConfig::default(),
            aliases: BTreeMap::new(),
            retention: RetentionConfig::default(),
            quota: QuotaConfig::default(),
            metrics: MetricsConfig::default(),
            control: ControlConfig::default(),
            sharing: SharingConfig::default(),
            sieve: SieveConfig::default(),
            junk: JunkConfig::default(),
            autoconfig: AutoconfigConfig::default(),
        }
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("letterbox.db")
    }

    /// Opens (and migrates) the store `[store]` names, with the `[quota]`
    /// defaults; the error names what could not be opened.
    pub fn open_store(&self) -> Result<crate::store::open::OpenStore, String> {
        self.store.open(&self.database_path(), self.quota.limits())
    }

    /// What `check-config` and `healthcheck` say of the store, without
    /// creating or migrating anything.
    pub fn describe_store(&self) -> Result<String, String> {
        self.store.describe(&self.database_path())
    }

    pub fn control_socket_path(&self) -> PathBuf {
        self.control
            .socket
            .clone()
            .unwrap_or_else(|| self.data_dir.join("control.sock"))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.data_dir.as_os_str().is_empty() {
            return invalid("data_dir must not be empty");
        }
        let listens = [
            &self.imap,
            &self.imaps,
            &self.pop3,
            &self.pop3s,
            &self.managesieve,
        ]
        .iter()
        .any(|l| !l.listen.is_empty());
        if listens && self.tls.is_none() {
            return invalid("[tls] cert and key are required when a listener is configured");
        }
        let autoconfig = &self.autoconfig;
        if !autoconfig.listen.is_empty() && autoconfig.imap_host.trim().is_empty() {
            return invalid("autoconfig.imap_host is required when autoconfig.listen is set");
        }
        if autoconfig.tls && !autoconfig.listen.is_empty() && self.tls.is_none() {
            return invalid("autoconfig.tls needs [tls] cert and key");
        }
        let l = &self.limits;
        if l.max_command_line < 1024 {
            return invalid("limits.max_command_line must be at least 1024");
        }
        if l.max_literal < 1024 || l.max_message_size < 1024 {
            return invalid("limits.max_literal and limits.max_message_size must be at least 1024");
        }
        if l.max_connections == 0
            || l.max_connections_per_ip == 0
            || l.max_unauthenticated_per_ip == 0
            || l.max_connections_per_user == 0
            || l.max_connections_per_user_ip == 0
        {
            return invalid(
                "limits.max_connections, max_connections_per_ip, max_unauthenticated_per_ip, \
                 max_connections_per_user and max_connections_per_user_ip must be positive",
            );
        }
        if l.preauth_timeout_secs == 0 || l.tls_handshake_timeout_secs == 0 {
            return invalid("timeouts must be positive");
        }
        for name in self.retention.days.keys() {
            if crate::store::SpecialUse::from_attribute(&format!("\\{name}")).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "retention.days: {name} is not a special use (Trash, Junk, Archive, Sent, Drafts, All, Flagged)"
                )));
            }
        }
        let auth = &self.auth;
        if !(1..=32).contains(&auth.ipv4_prefix) || !(1..=128).contains(&auth.ipv6_prefix) {
            return invalid("auth.ipv4_prefix must be 1 to 32, auth.ipv6_prefix 1 to 128");
        }
        let store = &self.store;
        if store.backend == StoreBackend::Postgres {
            if store.url.is_none() {
                return invalid("store.url is required with backend = \"postgres\"");
            }
            if store.pool_size == 0 || store.statement_timeout_secs == 0 {
                return invalid(
                    "store.pool_size and store.statement_timeout_secs must be positive",
                );
            }
        }
        if self.retention.check_interval_secs == 0 {
            return invalid("retention.check_interval_secs must be positive");
        }
        if l.auth_timeout_secs < 30 * 60 {
            return invalid(
                "limits.auth_timeout_secs must be at least 1800 (RFC 3501 §5.4 autologout)",
            );
        }
        Ok(())
    }

    /// The effective config as TOML, for `check-config`.
    pub fn to_toml(&self) -> String {
        // A password in the store URL is not printed.
        let mut shown = self.clone();
        if let Some(url) = &mut shown.store.url {
            *url = crate::store::postgres::without_password(url);
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

/// Sets `keys` (section path, then key) in `table`, creating sections.
fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    let (last, sections) = keys.split_last().ok_or("empty key")?;
    let mut current = table;
    for section in sections {
        let entry = current
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("{section} is not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        data_dir = "/var/lib/letterbox"
        [imaps]
        listen = ["0.0.0.0:993"]
        [tls]
        cert = "/etc/letterbox/cert.pem"
        key = "/etc/letterbox/key.pem"
    "#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert!(!c.auth.allow_plaintext);
        assert_eq!(c.imaps.listen[0].port(), 993);
        assert_eq!(
            c.database_path(),
            Path::new("/var/lib/letterbox/letterbox.db")
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = format!("{MINIMAL}\n[limits]\nmax_comand_line = 5\n");
        let err = Config::parse(&text).unwrap_err().to_string();
        assert!(err.contains("max_comand_line"), "{err}");
        let err = Config::parse("data_dir = \"x\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn listener_without_tls_is_rejected() {
        let err = Config::parse("data_dir = \"x\"\n[imap]\nlisten = [\"127.0.0.1:143\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[tls]"), "{err}");
    }

    #[test]
    fn short_autologout_is_rejected() {
        let text = format!("{MINIMAL}\n[limits]\nauth_timeout_secs = 60\n");
        assert!(Config::parse(&text).is_err());
    }

    #[test]
    fn effective_config_round_trips() {
        let c = Config::dev();
        assert_eq!(Config::parse(&c.to_toml()).unwrap(), c);
    }

    #[test]
    fn lmtp_listeners_and_aliases() {
        let text = format!(
            "{MINIMAL}\n[lmtp]\nlisten = [\"127.0.0.1:24\", \"unix:/run/l.sock\"]\n\
             [delivery]\ndomains = [\"example.com\"]\n[aliases]\n\"sales@example.com\" = \"alice\"\n"
        );
        let c = Config::parse(&text).unwrap();
        assert_eq!(c.lmtp.listen[1], LmtpListen::Unix("/run/l.sock".into()));
        assert_eq!(c.aliases["sales@example.com"], "alice");
        assert!(c.delivery.plus_to_mailbox);
        assert_eq!(Config::parse(&c.to_toml()).unwrap(), c);
        let bad = format!("{MINIMAL}\n[lmtp]\nlisten = [\"nowhere\"]\n");
        assert!(
            Config::parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("nowhere")
        );
    }

    #[test]
    fn environment_overrides() {
        let vars = [
            (
                "LETTERBOX__LIMITS__MAX_CONNECTIONS".to_string(),
                "77".to_string(),
            ),
            (
                "LETTERBOX__IMAP__LISTEN".to_string(),
                "[\"127.0.0.1:143\"]".to_string(),
            ),
            ("LETTERBOX__DATA_DIR".to_string(), "/srv/mail".to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let c = Config::parse_with_overrides(MINIMAL, vars.into_iter()).unwrap();
        assert_eq!(c.limits.max_connections, 77);
        assert_eq!(c.imap.listen[0].port(), 143);
        assert_eq!(c.data_dir, Path::new("/srv/mail"));
        let typo = [(
            "LETTERBOX__LIMITS__MAX_CONECTIONS".to_string(),
            "1".to_string(),
        )];
        assert!(Config::parse_with_overrides(MINIMAL, typo.into_iter()).is_err());
    }

    #[test]
    fn access_lists() {
        let text = MINIMAL.replace(
            "listen = [\"0.0.0.0:993\"]",
            "listen = [\"0.0.0.0:993\"]\nallow = [\"10.0.0.0/8\", \"::1/128\"]\ndeny = [\"10.9.0.0/16\"]",
        );
        let c = Config::parse(&text).unwrap();
        let access = c.imaps.access();
        assert!(access.permits("10.1.2.3".parse().unwrap()));
        assert!(!access.permits("10.9.1.1".parse().unwrap()), "deny wins");
        assert!(!access.permits("192.0.2.1".parse().unwrap()), "not allowed");
        assert!(
            access.permits("::ffff:10.1.2.3".parse().unwrap()),
            "v4-mapped"
        );
        assert!(
            ListenConfig::default()
                .access()
                .permits("192.0.2.1".parse().unwrap())
        );
        let unknown = MINIMAL.replace("listen = [\"0.0.0.0:993\"]", "listen = []\nalow = []");
        assert!(Config::parse(&unknown).is_err(), "still strict");
        let bad = MINIMAL.replace(
            "listen = [\"0.0.0.0:993\"]",
            "listen = [\"0.0.0.0:993\"]\nallow = [\"10.0.0.0/33\"]",
        );
        assert!(Config::parse(&bad).is_err());
    }

    #[test]
    fn auth_prefixes_and_known_addresses() {
        let c = Config::parse(MINIMAL).unwrap();
        let guard = c.auth.guard_settings();
        assert_eq!((guard.ipv4_prefix, guard.ipv6_prefix), (32, 64));
        assert_eq!(guard.known_addresses_only_after, 0);
        let text = format!(
            "{MINIMAL}\n[auth]\nipv4_prefix = 24\nipv6_prefix = 48\nknown_addresses_only_after = 20\n"
        );
        let guard = Config::parse(&text).unwrap().auth.guard_settings();
        assert_eq!((guard.ipv4_prefix, guard.ipv6_prefix), (24, 48));
        assert_eq!(guard.known_addresses_only_after, 20);
        for bad in ["ipv4_prefix = 0", "ipv4_prefix = 33", "ipv6_prefix = 129"] {
            let text = format!("{MINIMAL}\n[auth]\n{bad}\n");
            assert!(Config::parse(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn autoconfig_needs_a_host_name_and_tls_files() {
        let with = |extra: &str| Config::parse(&format!("{MINIMAL}\n[autoconfig]\n{extra}\n"));
        assert!(
            with("listen = [\"127.0.0.1:8080\"]").is_err(),
            "no imap_host"
        );
        let config =
            with("listen = [\"127.0.0.1:8080\"]\nimap_host = \"mail.example.org\"").unwrap();
        assert_eq!(config.autoconfig.smtp_port, 587);
        assert_eq!(config.autoconfig.smtp_security, SmtpSecurity::Starttls);
        assert!(with("smtp_security = \"SSL\"").is_ok());
        assert!(with("smtp_security = \"TLS\"").is_err());
    }

    #[test]
    fn example_config_is_valid() {
        let text = include_str!("../config/letterbox.toml");
        Config::parse(text).unwrap();
    }
}
