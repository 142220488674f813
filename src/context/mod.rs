//! What every session, LMTP connection and background task shares: the
//! configuration (swapped on SIGHUP), the store, TLS, password checking,
//! login protection, connection slots and metrics.
//!
//! It sits below the listeners and the sessions, so both can use it and
//! a test can build one without binding a socket.

pub mod limits;
pub mod login;
pub mod metrics;
pub mod sort_cache;

use std::sync::{Arc, RwLock};

use tokio_rustls::TlsAcceptor;

use crate::auth::checker::PasswordChecker;
use crate::auth::guard::{AddressKey, LoginGuard};
use crate::config::Config;
use crate::store::MailStore;
use crate::store::calls::StoreCalls;
use crate::tls::ReloadableTls;
use limits::ConnectionLimiter;
use metrics::Metrics;
use sort_cache::SortCache;

pub struct ServerContext {
    /// The configuration; SIGHUP swaps in a re-read one (see `reload`).
    config: RwLock<Arc<Config>>,
    /// The mail store, called from async code.
    pub store: StoreCalls,
    /// Present when TLS is configured: used for 993 and for STARTTLS;
    /// replaced on SIGHUP.
    pub tls: ReloadableTls,
    /// Where LOGIN and AUTHENTICATE check passwords.
    pub passwords: PasswordChecker,
    /// Failed-login delays and lockouts.
    pub guard: LoginGuard,
    pub metrics: Metrics,
    /// Logged-in sessions per user name.
    pub user_slots: Arc<ConnectionLimiter<String>>,
    /// Logged-in sessions per user name and address.
    pub user_address_slots: Arc<ConnectionLimiter<(String, AddressKey)>>,
    /// Connections, in total and per address (keyed as the guard counts
    /// addresses, so one IPv6 host cannot rotate through its /64).
    pub connection_slots: Arc<ConnectionLimiter<AddressKey>>,
    /// Connections not logged in yet, per address.
    pub unauthenticated_slots: Arc<ConnectionLimiter<AddressKey>>,
    /// What SORT and THREAD read of each message, for every session.
    pub sort_cache: SortCache,
}

impl ServerContext {
    /// Everything shared, from the configuration, the opened store and
    /// the TLS acceptor (when TLS is configured).
    pub fn new(
        config: Config,
        store: Arc<dyn MailStore>,
        tls: Option<TlsAcceptor>,
    ) -> Arc<ServerContext> {
        let limits = &config.limits;
        let files = config.tls.as_ref().map(|t| (t.cert.clone(), t.key.clone()));
        Arc::new(ServerContext {
            store: StoreCalls::new(store),
            tls: ReloadableTls::new(tls, files),
            passwords: PasswordChecker::for_this_machine(),
            guard: LoginGuard::new(config.auth.guard_settings()),
            metrics: Metrics::default(),
            user_slots: ConnectionLimiter::new(usize::MAX, limits.max_connections_per_user),
            user_address_slots: ConnectionLimiter::new(
                usize::MAX,
                limits.max_connections_per_user_ip,
            ),
            connection_slots: ConnectionLimiter::new(
                limits.max_connections,
                limits.max_connections_per_ip,
            ),
            unauthenticated_slots: ConnectionLimiter::new(
                usize::MAX,
                limits.max_unauthenticated_per_ip,
            ),
            sort_cache: SortCache::new(limits.sort_cache_messages),
            config: RwLock::new(Arc::new(config)),
        })
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// SIGHUP: puts `new` in force for what can change while running
    /// (limits, authentication and lockout settings, delivery and aliases,
    /// retention, quota defaults) and reloads the TLS certificate. Returns
    /// the sections that differ but only take effect after a restart.
    pub fn reload(&self, new: Config) -> Vec<&'static str> {
        let old = self.config();
        let mut restart = Vec::new();
        let fixed = [
            ("data_dir", old.data_dir == new.data_dir),
            ("imap.listen", old.imap.listen == new.imap.listen),
            ("imaps.listen", old.imaps.listen == new.imaps.listen),
            ("pop3.listen", old.pop3.listen == new.pop3.listen),
            ("pop3s.listen", old.pop3s.listen == new.pop3s.listen),
            ("lmtp.listen", old.lmtp.listen == new.lmtp.listen),
            ("tls", old.tls == new.tls),
            ("store", old.store == new.store),
            ("log", old.log == new.log),
            ("metrics", old.metrics == new.metrics),
            ("control", old.control == new.control),
        ];
        for (section, same) in fixed {
            if !same {
                restart.push(section);
            }
        }
        let limits = &new.limits;
        self.connection_slots
            .set_limits(limits.max_connections, limits.max_connections_per_ip);
        self.user_slots
            .set_limits(usize::MAX, limits.max_connections_per_user);
        self.user_address_slots
            .set_limits(usize::MAX, limits.max_connections_per_user_ip);
        self.unauthenticated_slots
            .set_limits(usize::MAX, limits.max_unauthenticated_per_ip);
        self.guard.set_settings(new.auth.guard_settings());
        self.store.direct().set_default_quota(new.quota.limits());
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
        restart
    }

    /// The metrics text, with the gauges read now.
    pub fn render_metrics(&self) -> String {
        self.metrics.render(metrics::Gauges {
            active: self.connection_slots.active(),
            logged_in: self.user_slots.active(),
            penalised_addresses: self.guard.penalised_addresses(),
            store_memory: self.store.direct().memory_used(),
            sort_cache_messages: self.sort_cache.len(),
        })
    }
}
