//! Brute-force protection for every login protocol (IMAP today, ManageSieve
//! and POP3 later). Pure bookkeeping: the caller asks [`LoginGuard::check`]
//! before checking a password and gets an [`Attempt`] to report the
//! outcome on ([`Attempt::failed`], [`Attempt::succeeded`]) or a
//! [`Refusal`] to report with [`LoginGuard::refused`]; it waits the delay
//! it is given and logs the [`GuardEvent`]s it takes.
//!
//! Penalties fall on remote addresses, never on user names: locking a name
//! for everyone would let anyone who knows it lock its owner out.
//!
//! - Failures are counted per [`AddressKey`]: the address cut to a prefix,
//!   an IPv6 /64 by default, because one host usually owns a whole /64 and
//!   could otherwise try from each of its addresses in turn. Each failure is
//!   answered after a delay that doubles with the count; at `max_failures`
//!   the key is locked out for `lockout`, and every attempt from it is
//!   refused without checking the password. Attempts whose password is
//!   being checked count too, so parallel connections get no more guesses
//!   than one.
//! - Failures are also counted per user name, only to slow down an attack
//!   spread over many addresses: a failure's delay grows with the larger of
//!   the address's and the user's count. Refused attempts do not count
//!   against the user. The right password from an address that is not
//!   locked out always gets in at once.
//! - Optionally (`known_addresses_only_after`), once a user has that many
//!   recent failures, only keys that logged in as the user before get in.
//!
//! The guard is never told whether a user exists and treats every name
//! alike, so it adds no difference between existing and unknown users.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// A failure streak is forgotten after this long without failures.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Never wait longer than this before answering.
const MAX_DELAY: Duration = Duration::from_secs(8);
/// Longest lockout whatever the settings say, so `now + lockout` cannot
/// overflow.
const MAX_LOCKOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// A known address is forgotten this long after its last successful login.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Address keys tracked at once.
const MAX_ADDRESSES: usize = 10_000;
/// User names tracked at once; more than addresses, since the known
/// addresses of every user active in the last [`KNOWN_FOR`] live here.
const MAX_USERS: usize = 50_000;
/// Distinct user names remembered per address, for the lockout log.
const USERS_PER_ADDRESS: usize = 10;
/// Known address keys remembered per user (a few devices and networks).
const KNOWN_PER_USER: usize = 16;
/// User names are counted by their first this many bytes, so that huge
/// names cannot fill memory.
const MAX_NAME: usize = 256;
/// Events kept until taken; beyond this the oldest are dropped.
const MAX_EVENTS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardSettings {
    /// The delay after a first failure; each further one doubles it (at
    /// most 8 s).
    pub base_delay: Duration,
    /// Failures from one address key that lock it out.
    pub max_failures: u32,
    /// How long a lockout lasts; zero never locks out.
    pub lockout: Duration,
    /// Prefix lengths that make an [`AddressKey`].
    pub ipv4_prefix: u8,
    pub ipv6_prefix: u8,
    /// Recent failures against a user after which only the keys it logged
    /// in from before are let in; 0 never restricts.
    pub known_addresses_only_after: u32,
}

impl GuardSettings {
    pub fn key(&self, address: IpAddr) -> AddressKey {
        AddressKey::new(address, self.ipv4_prefix, self.ipv6_prefix)
    }

    /// The wait before answering a failure that makes `failures` in a row.
    fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.base_delay.saturating_mul(factor).min(MAX_DELAY)
    }
}

/// Where failures are counted and lockouts apply: a remote address cut to
/// the configured prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey(IpNet);

impl AddressKey {
    /// Prefix lengths beyond the address size count as the full address.
    pub fn new(address: IpAddr, ipv4_prefix: u8, ipv6_prefix: u8) -> AddressKey {
        // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d;
        // cut to a /64, every IPv4 client would share one key.
        let address = address.to_canonical();
        let prefix = match address {
            IpAddr::V4(_) => ipv4_prefix.min(32),
            IpAddr::V6(_) => ipv6_prefix.min(128),
        };
        let net = IpNet::new(address, prefix).expect("the prefix length is clamped");
        AddressKey(net.trunc())
    }

    /// Whether the key and `network` share an address.
    fn overlaps(&self, network: IpNet) -> bool {
        network.contains(&self.0) || self.0.contains(&network)
    }
}

/// A single address shows as itself, a wider key as a network
/// (`2001:db8:1:2::/64`).
impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            self.0.addr().fmt(f)
        } else {
            self.0.fmt(f)
        }
    }
}

/// Why a login attempt is refused without checking its password. Answer
/// it exactly as a wrong password, after the delay [`LoginGuard::refused`]
/// gives, so the client cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address key is locked out.
    Locked,
    /// As many attempts from the key are being checked as it has failures
    /// left before its lockout.
    Busy,
    /// The user is under attack and this key never logged in as them.
    UnknownAddress,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Locked => "address locked out",
            Refusal::Busy => "too many attempts at once from this address",
            Refusal::UnknownAddress => "address not known for this user",
        }
    }
}

/// A penalised address, as reported by [`LoginGuard::status`] and in
/// events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressStatus {
    pub key: AddressKey,
    /// Failures in the current streak.
    pub failures: u32,
    /// How much longer the key is locked out, if it is.
    pub locked_for: Option<Duration>,
    /// The last distinct user names tried from it, oldest first.
    pub users: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStatus {
    pub user: String,
    /// Recent failures against this user, from any address.
    pub failures: u32,
    /// Address keys that logged in as this user recently.
    pub known_addresses: usize,
}

/// Current penalties, most failures first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    pub addresses: Vec<AddressStatus>,
    pub users: Vec<UserStatus>,
}

/// A lockout began or ended; see [`LoginGuard::take_events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardEvent {
    Locked(AddressStatus),
    Unlocked(AddressStatus, UnlockReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockReason {
    /// The lockout time passed (noticed at the next call to the guard).
    Expired,
    /// [`LoginGuard::unblock`].
    Unblocked,
    /// Dropped to keep memory bounded, under a flood of addresses.
    Evicted,
}

impl UnlockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnlockReason::Expired => "expired",
            UnlockReason::Unblocked => "unblocked",
            UnlockReason::Evicted => "evicted",
        }
    }
}

impl GuardEvent {
    /// Logs the event with structured fields, so JSON logs carry them.
    pub fn log(&self) {
        match self {
            GuardEvent::Locked(a) => tracing::warn!(
                address = %a.key,
                failures = a.failures,
                users = ?a.users,
                lockout_secs = a.locked_for.unwrap_or_default().as_secs(),
                "address locked out"
            ),
            GuardEvent::Unlocked(a, reason) => tracing::info!(
                address = %a.key,
                failures = a.failures,
                users = ?a.users,
                reason = reason.as_str(),
                "address unlocked"
            ),
        }
    }
}

/// Consecutive failures, forgotten after [`FORGET_AFTER`] without one.
#[derive(Debug, Clone, Copy)]
struct Streak {
    failures: u32,
    last: Instant,
}

impl Streak {
    fn new(now: Instant) -> Streak {
        Streak {
            failures: 0,
            last: now,
        }
    }

    fn current(&self, now: Instant) -> u32 {
        if now.saturating_duration_since(self.last) > FORGET_AFTER {
            0
        } else {
            self.failures
        }
    }

    /// Counts one more failure; returns the new count.
    fn bump(&mut self, now: Instant) -> u32 {
        self.failures = self.current(now).saturating_add(1);
        self.last = now;
        self.failures
    }
}

struct AddressEntry {
    streak: Streak,
    locked_until: Option<Instant>,
    /// Attempts whose password is being checked now.
    in_flight: u32,
    /// The last distinct user names tried, oldest first.
    users: VecDeque<String>,
}

impl AddressEntry {
    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    fn forgotten(&self, now: Instant) -> bool {
        self.locked_until.is_none() && self.streak.current(now) == 0 && self.in_flight == 0
    }

    fn tried(&mut self, user: &str) {
        if let Some(i) = self.users.iter().position(|u| u == user) {
            self.users.remove(i);
        } else if self.users.len() == USERS_PER_ADDRESS {
            self.users.pop_front();
        }
        self.users.push_back(user.to_owned());
    }

    fn status(&self, key: AddressKey, now: Instant) -> AddressStatus {
        AddressStatus {
            key,
            failures: self.streak.failures,
            locked_for: self
                .locked_until
                .map(|until| until.saturating_duration_since(now))
                .filter(|left| !left.is_zero()),
            users: self.users.iter().cloned().collect(),
        }
    }

    /// The event for the end of this entry's lockout.
    fn unlocked(&self, key: AddressKey, now: Instant, reason: UnlockReason) -> GuardEvent {
        let status = AddressStatus {
            locked_for: None,
            ..self.status(key, now)
        };
        GuardEvent::Unlocked(status, reason)
    }
}

struct UserEntry {
    streak: Streak,
    /// Keys that logged in as this user and when they last did, oldest
    /// first.
    logins: Vec<(AddressKey, Instant)>,
}

impl UserEntry {
    /// The keys that logged in within [`KNOWN_FOR`].
    fn known(&self, now: Instant) -> impl Iterator<Item = AddressKey> + '_ {
        self.logins
            .iter()
            .filter(move |&&(_, at)| now.saturating_duration_since(at) < KNOWN_FOR)
            .map(|&(key, _)| key)
    }

    fn forgotten(&self, now: Instant) -> bool {
        self.streak.current(now) == 0 && self.known(now).next().is_none()
    }

    fn logged_in(&mut self, key: AddressKey, now: Instant) {
        self.logins.retain(|&(k, _)| k != key);
        if self.logins.len() == KNOWN_PER_USER {
            self.logins.remove(0);
        }
        self.logins.push((key, now));
    }
}

struct State {
    settings: GuardSettings,
    addresses: HashMap<AddressKey, AddressEntry>,
    users: HashMap<String, UserEntry>,
    events: VecDeque<GuardEvent>,
    /// No lockout ends before this, so [`State::expire`] scans the
    /// addresses only when one may have ended.
    next_unlock: Option<Instant>,
}

impl State {
    fn push(&mut self, event: GuardEvent) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Ends the lockouts that have run out, queueing their events.
    fn expire(&mut self, now: Instant) {
        if self.next_unlock.is_none_or(|next| next > now) {
            return;
        }
        let mut ended = Vec::new();
        let mut next: Option<Instant> = None;
        for (key, entry) in &mut self.addresses {
            match entry.locked_until {
                Some(until) if until <= now => {
                    entry.locked_until = None;
                    ended.push(entry.unlocked(*key, now, UnlockReason::Expired));
                }
                Some(until) => next = Some(next.map_or(until, |n| n.min(until))),
                None => {}
            }
        }
        self.next_unlock = next;
        for event in ended {
            self.push(event);
        }
    }

    fn address(&mut self, key: AddressKey, now: Instant) -> &mut AddressEntry {
        self.addresses.entry(key).or_insert_with(|| AddressEntry {
            streak: Streak::new(now),
            locked_until: None,
            in_flight: 0,
            users: VecDeque::new(),
        })
    }

    fn user(&mut self, name: &str, now: Instant) -> &mut UserEntry {
        self.users
            .entry(user_key(name).to_owned())
            .or_insert_with(|| UserEntry {
                streak: Streak::new(now),
                logins: Vec::new(),
            })
    }

    /// Keeps both maps bounded, least valuable entries first: unlocked
    /// before locked addresses, users without known addresses (such as a
    /// flood of made-up names) before those with.
    fn bound(&mut self, now: Instant) {
        let evicted = bound_map(
            &mut self.addresses,
            MAX_ADDRESSES,
            |a| a.forgotten(now),
            |a| (a.locked(now), a.streak.last),
        );
        for (key, entry) in evicted {
            if entry.locked(now) {
                self.push(entry.unlocked(key, now, UnlockReason::Evicted));
            }
        }
        bound_map(
            &mut self.users,
            MAX_USERS,
            |u| u.forgotten(now),
            |u| {
                let last_login = u.logins.last().map(|&(_, at)| at);
                (last_login.is_some(), last_login.max(Some(u.streak.last)))
            },
        );
    }
}

/// The part of a user name the guard counts by (see [`MAX_NAME`]).
fn user_key(name: &str) -> &str {
    &name[..name.floor_char_boundary(MAX_NAME)]
}

/// Once `map` holds more than `limit` entries, drops the forgotten ones
/// and, if more than three quarters of `limit` remain (a flood of live
/// entries), the least `worth` keeping down to that, so that this full
/// pass runs again only after many insertions. Returns the entries
/// dropped for their worth.
fn bound_map<K: Clone + Eq + Hash, V, W: Ord>(
    map: &mut HashMap<K, V>,
    limit: usize,
    forgotten: impl Fn(&V) -> bool,
    worth: impl Fn(&V) -> W,
) -> Vec<(K, V)> {
    if map.len() <= limit {
        return Vec::new();
    }
    map.retain(|_, v| !forgotten(v));
    let keep = limit * 3 / 4;
    if map.len() <= keep {
        return Vec::new();
    }
    let mut ranked: Vec<(W, K)> = map.iter().map(|(k, v)| (worth(v), k.clone())).collect();
    ranked.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let excess = map.len() - keep;
    ranked
        .into_iter()
        .take(excess)
        .filter_map(|(_, k)| map.remove_entry(&k))
        .collect()
}

/// Shared by every connection; each call takes one short lock.
pub struct LoginGuard {
    state: Mutex<State>,
}

/// A login attempt let through [`LoginGuard::check`], counted against its
/// address until its outcome is reported or it is dropped (a connection
/// closed while its password was being checked).
#[must_use = "report the outcome with failed() or succeeded()"]
pub struct Attempt<'a> {
    guard: &'a LoginGuard,
    key: AddressKey,
    user: String,
}

impl Attempt<'_> {
    /// Records a wrong password and says how long to wait before
    /// answering.
    pub fn failed(self) -> Duration {
        self.failed_at(Instant::now())
    }

    /// Records a successful login: the key becomes known for the user (as
    /// named in the store, which may differ in case from what was typed).
    /// Neither streak is cleared: one good password must not reset an
    /// attack from the address, nor the pressure on the account.
    pub fn succeeded(self, user: &str) {
        self.succeeded_at(user, Instant::now());
    }

    fn failed_at(self, now: Instant) -> Duration {
        let mut state = self.guard.state_at(now);
        state.count_failure(self.key, &self.user, true, now)
    }

    fn succeeded_at(self, user: &str, now: Instant) {
        let mut state = self.guard.state_at(now);
        state.user(user, now).logged_in(self.key, now);
        state.bound(now);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let mut state = self.guard.state();
        // The entry may be gone (unblocked, or evicted under a flood).
        if let Some(entry) = state.addresses.get_mut(&self.key) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
        }
    }
}

/// What [`LoginGuard::unblock`] lifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unblocked {
    pub addresses: Vec<AddressStatus>,
    /// The user and the failures against it that were forgotten.
    pub user: Option<(String, u32)>,
}

impl State {
    /// Counts a failure from `key` as `user` (against the user too unless
    /// `against_user` is false), locks the key out at `max_failures`, and
    /// returns the wait before answering.
    fn count_failure(
        &mut self,
        key: AddressKey,
        user: &str,
        against_user: bool,
        now: Instant,
    ) -> Duration {
        let settings = self.settings;
        let user_failures = if against_user {
            self.user(user, now).streak.bump(now)
        } else {
            self.users
                .get(user_key(user))
                .map_or(0, |u| u.streak.current(now))
        };
        let entry = self.address(key, now);
        let failures = entry.streak.bump(now);
        entry.tried(user_key(user));
        // A locked key keeps counting but its lockout is not extended: after
        // it ends, one more failure locks it again (the streak is still
        // there), so an attacker gets one guess per lockout.
        if failures >= settings.max_failures && !settings.lockout.is_zero() && !entry.locked(now) {
            let until = now + settings.lockout.min(MAX_LOCKOUT);
            entry.locked_until = Some(until);
            let status = entry.status(key, now);
            self.next_unlock = Some(self.next_unlock.map_or(until, |n| n.min(until)));
            self.push(GuardEvent::Locked(status));
        }
        self.bound(now);
        settings.delay(failures.max(user_failures))
    }
}

impl LoginGuard {
    pub fn new(settings: GuardSettings) -> LoginGuard {
        LoginGuard {
            state: Mutex::new(State {
                settings,
                addresses: HashMap::new(),
                users: HashMap::new(),
                events: VecDeque::new(),
                next_unlock: None,
            }),
        }
    }

    /// New settings (a config reload). Streaks and lockouts are kept; keys
    /// made with other prefix lengths are simply forgotten in time.
    pub fn set_settings(&self, settings: GuardSettings) {
        self.state().settings = settings;
    }

    /// The key `address` is counted under, with the current settings.
    pub fn key(&self, address: IpAddr) -> AddressKey {
        self.state().settings.key(address)
    }

    /// Whether to check the password of `user` logging in from `key`.
    pub fn check(&self, key: AddressKey, user: &str) -> Result<Attempt<'_>, Refusal> {
        self.check_at(key, user, Instant::now())
    }

    /// Records a refused attempt (against the address, not the user: a
    /// locked-out attacker must not add to the pressure on an account) and
    /// says how long to wait before answering.
    pub fn refused(&self, key: AddressKey, user: &str, refusal: Refusal) -> Duration {
        self.refused_at(key, user, refusal, Instant::now())
    }

    /// Forgets the failures and lifts the lockouts of the address keys
    /// overlapping `network` (a single address means its key), and the
    /// failures against `user`.
    pub fn unblock(&self, network: Option<IpNet>, user: Option<&str>) -> Unblocked {
        self.unblock_at(network, user, Instant::now())
    }

    /// Current penalties of the keys overlapping `address` (all when
    /// `None`), and of `user` (all when `None`): with a user, only the
    /// addresses that tried it are listed.
    pub fn status(&self, address: Option<IpNet>, user: Option<&str>) -> Status {
        self.status_at(address, user, Instant::now())
    }

    /// Address keys locked out now, for a metric.
    pub fn penalised_addresses(&self) -> usize {
        self.penalised_addresses_at(Instant::now())
    }

    /// Lockouts and unlocks since the last call, oldest first, for the
    /// caller to log ([`GuardEvent::log`]).
    pub fn take_events(&self) -> Vec<GuardEvent> {
        self.state().events.drain(..).collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, with the lockouts that ended by `now` lifted.
    fn state_at(&self, now: Instant) -> MutexGuard<'_, State> {
        let mut state = self.state();
        state.expire(now);
        state
    }

    fn check_at(&self, key: AddressKey, user: &str, now: Instant) -> Result<Attempt<'_>, Refusal> {
        let mut state = self.state_at(now);
        let settings = state.settings;
        let restricted = state.users.get(user_key(user)).is_some_and(|u| {
            settings.known_addresses_only_after > 0
                && u.streak.current(now) >= settings.known_addresses_only_after
                && !u.known(now).any(|k| k == key)
        });
        let entry = state.address(key, now);
        // Guesses left before the lockout; after one ended, the streak is
        // still there and one more failure locks again.
        let left = settings
            .max_failures
            .saturating_sub(entry.streak.current(now))
            .max(1);
        let refusal = if entry.locked(now) {
            Some(Refusal::Locked)
        } else if entry.in_flight >= left && !settings.lockout.is_zero() {
            Some(Refusal::Busy)
        } else if restricted {
            Some(Refusal::UnknownAddress)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        entry.in_flight += 1;
        state.bound(now);
        Ok(Attempt {
            guard: self,
            key,
            user: user_key(user).to_owned(),
        })
    }

    fn refused_at(&self, key: AddressKey, user: &str, refusal: Refusal, now: Instant) -> Duration {
        let mut state = self.state_at(now);
        if refusal == Refusal::Busy {
            // Not a guess: nothing to count, only the usual wait.
            let failures = state.address(key, now).streak.current(now);
            let user_failures = state
                .users
                .get(user_key(user))
                .map_or(0, |u| u.streak.current(now));
            return state.settings.delay(failures.max(user_failures));
        }
        state.count_failure(key, user, false, now)
    }

    fn unblock_at(&self, network: Option<IpNet>, user: Option<&str>, now: Instant) -> Unblocked {
        let mut state = self.state_at(now);
        let network = network.map(|net| match net.prefix_len() == net.max_prefix_len() {
            true => state.settings.key(net.addr()).0,
            false => net,
        });
        let keys: Vec<AddressKey> = match network {
            Some(net) => state
                .addresses
                .keys()
                .filter(|key| key.overlaps(net))
                .copied()
                .collect(),
            None => Vec::new(),
        };
        let mut addresses = Vec::new();
        for key in keys {
            let Some(entry) = state.addresses.remove(&key) else {
                continue;
            };
            if entry.forgotten(now) {
                continue;
            }
            if entry.locked(now) {
                state.push(entry.unlocked(key, now, UnlockReason::Unblocked));
            }
            addresses.push(entry.status(key, now));
        }
        addresses.sort_by_key(|a| a.key);
        let user = user.and_then(|name| {
            let entry = state.users.get_mut(user_key(name))?;
            let failures = entry.streak.current(now);
            entry.streak = Streak::new(now);
            (failures > 0).then(|| (user_key(name).to_owned(), failures))
        });
        Unblocked { addresses, user }
    }

    fn status_at(&self, address: Option<IpNet>, user: Option<&str>, now: Instant) -> Status {
        let state = self.state_at(now);
        let user = user.map(user_key);
        let mut addresses: Vec<AddressStatus> = state
            .addresses
            .iter()
            .filter(|(key, a)| !a.forgotten(now) && address.is_none_or(|net| key.overlaps(net)))
            .filter(|(_, a)| user.is_none_or(|name| a.users.iter().any(|u| u == name)))
            .map(|(key, a)| a.status(*key, now))
            .collect();
        addresses.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.key.cmp(&b.key)));
        // With an address filter: only the users those addresses tried.
        let tried: Option<HashSet<&str>> = address.map(|_| {
            addresses
                .iter()
                .flat_map(|a| a.users.iter().map(String::as_str))
                .collect()
        });
        let mut users: Vec<UserStatus> = state
            .users
            .iter()
            .filter(|(name, _)| user.is_none_or(|wanted| wanted == name.as_str()))
            .filter(|(name, _)| tried.as_ref().is_none_or(|t| t.contains(name.as_str())))
            .filter(|(_, u)| u.streak.current(now) > 0)
            .map(|(name, u)| UserStatus {
                user: name.clone(),
                failures: u.streak.failures,
                known_addresses: u.known(now).count(),
            })
            .collect();
        users.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.user.cmp(&b.user)));
        Status { addresses, users }
    }

    fn penalised_addresses_at(&self, now: Instant) -> usize {
        let state = self.state_at(now);
        state.addresses.values().filter(|a| a.locked(now)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    type Verdict = Result<(), Refusal>;
    const ALLOWED: Verdict = Ok(());
    const LOCKED: Verdict = Err(Refusal::Locked);
    const BUSY: Verdict = Err(Refusal::Busy);
    const UNKNOWN: Verdict = Err(Refusal::UnknownAddress);

    /// The shipped defaults, but a 1 ms base delay so that growth shows
    /// well below the 8 s cap.
    fn settings() -> GuardSettings {
        GuardSettings {
            base_delay: MS,
            max_failures: 10,
            lockout: Duration::from_secs(900),
            ipv4_prefix: 32,
            ipv6_prefix: 64,
            known_addresses_only_after: 0,
        }
    }

    /// A guard on a clock the test moves by hand.
    struct Clocked {
        guard: LoginGuard,
        now: Instant,
    }

    impl Clocked {
        fn new(settings: GuardSettings) -> Clocked {
            Clocked {
                guard: LoginGuard::new(settings),
                now: Instant::now(),
            }
        }

        fn key(&self, address: &str) -> AddressKey {
            self.guard.key(address.parse().unwrap())
        }

        /// What a login would be told, without trying one.
        fn check(&self, address: &str, user: &str) -> Verdict {
            self.guard
                .check_at(self.key(address), user, self.now)
                .map(drop)
        }

        fn attempt(&self, address: &str, user: &str) -> Result<Attempt<'_>, Refusal> {
            self.guard.check_at(self.key(address), user, self.now)
        }

        /// A wrong password, as the login command reports it: checked and
        /// failed, or refused. Returns the delay.
        fn fail(&self, address: &str, user: &str) -> Duration {
            match self.attempt(address, user) {
                Ok(attempt) => attempt.failed_at(self.now),
                Err(refusal) => self
                    .guard
                    .refused_at(self.key(address), user, refusal, self.now),
            }
        }

        fn fail_times(&self, times: u32, address: &str, user: &str) -> Vec<Duration> {
            (0..times).map(|_| self.fail(address, user)).collect()
        }

        fn succeed(&self, address: &str, user: &str) {
            let attempt = self.attempt(address, user).expect("allowed");
            attempt.succeeded_at(user, self.now);
        }

        fn unblock(&self, address: Option<&str>, user: Option<&str>) -> Unblocked {
            let net = address.map(|a| a.parse::<IpAddr>().unwrap().into());
            self.guard.unblock_at(net, user, self.now)
        }

        fn user_failures(&self, user: &str) -> u32 {
            let status = self.status(None, Some(user));
            status.users.first().map_or(0, |u| u.failures)
        }

        fn status(&self, address: Option<&str>, user: Option<&str>) -> Status {
            let net = address.map(|a| a.parse().unwrap());
            self.guard.status_at(net, user, self.now)
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let guard = Clocked::new(GuardSettings {
            base_delay: Duration::from_millis(100),
            ..settings()
        });
        let expected = [100, 200, 400, 800, 1600, 3200, 6400, 8000, 8000];
        for (n, want) in expected.into_iter().enumerate() {
            let delay = guard.fail("192.0.2.1", &format!("user{n}"));
            assert_eq!(delay, want * MS, "failure {}", n + 1);
        }
    }

    /// The reported attack: one address guessing alice's password must not
    /// keep alice out of her account.
    #[test]
    fn one_address_locks_only_itself_out() {
        let guard = Clocked::new(settings());
        guard.fail_times(9, "127.0.0.3", "alice");
        assert_eq!(guard.check("127.0.0.3", "alice"), ALLOWED);
        guard.fail_times(3, "127.0.0.3", "alice");
        assert_eq!(guard.check("127.0.0.4", "alice"), ALLOWED);
        guard.succeed("127.0.0.4", "alice");
        assert_eq!(guard.check("127.0.0.5", "alice"), ALLOWED);
        guard.succeed("127.0.0.5", "alice");
        assert_eq!(guard.check("127.0.0.3", "alice"), LOCKED);
        assert_eq!(guard.check("127.0.0.3", "bob"), LOCKED);
        assert_eq!(
            guard.guard.take_events(),
            [GuardEvent::Locked(AddressStatus {
                key: guard.key("127.0.0.3"),
                failures: 10,
                locked_for: Some(Duration::from_secs(900)),
                users: vec!["alice".into()],
            })]
        );
    }

    #[test]
    fn a_distributed_attack_slows_its_addresses_but_locks_nobody_out() {
        let guard = Clocked::new(settings());
        let mut delays = Vec::new();
        for host in 1..=10 {
            delays.extend(guard.fail_times(5, &format!("198.51.100.{host}"), "alice"));
        }
        assert!(delays.is_sorted(), "{delays:?}");
        assert_eq!(
            delays[5],
            32 * MS,
            "the second address's first failure is alice's sixth"
        );
        assert_eq!(delays[49], MAX_DELAY);
        assert_eq!(guard.check("198.51.100.11", "alice"), ALLOWED);
        assert_eq!(guard.check("198.51.100.1", "alice"), ALLOWED);
        assert_eq!(guard.status(None, Some("alice")).users[0].failures, 50);
        assert_eq!(guard.guard.penalised_addresses_at(guard.now), 0);
    }

    #[test]
    fn addresses_are_counted_per_prefix() {
        struct Case {
            ipv4_prefix: u8,
            ipv6_prefix: u8,
            failing: [&'static str; 3],
            same: &'static [&'static str],
            other: &'static [&'static str],
        }
        let cases = [
            Case {
                ipv4_prefix: 32,
                ipv6_prefix: 64,
                failing: [
                    "2001:db8:1:2::1",
                    "2001:db8:1:2:ffff::9",
                    "2001:db8:1:2::abcd",
                ],
                same: &["2001:db8:1:2::5"],
                other: &["2001:db8:1:3::1", "2001:db8:2:2::1"],
            },
            Case {
                ipv4_prefix: 32,
                ipv6_prefix: 48,
                failing: ["2001:db8:1:2::1", "2001:db8:1:3::1", "2001:db8:1:4::1"],
                same: &["2001:db8:1:ffff::1"],
                other: &["2001:db8:2::1"],
            },
            Case {
                ipv4_prefix: 32,
                ipv6_prefix: 128,
                failing: ["2001:db8::1"; 3],
                same: &[],
                other: &["2001:db8::2"],
            },
            Case {
                ipv4_prefix: 32,
                ipv6_prefix: 64,
                failing: ["192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1"],
                same: &["::ffff:192.0.2.1"],
                other: &["192.0.2.2", "::ffff:192.0.2.2", "::1"],
            },
            Case {
                ipv4_prefix: 24,
                ipv6_prefix: 64,
                failing: ["192.0.2.1", "192.0.2.77", "::ffff:192.0.2.200"],
                same: &["192.0.2.9"],
                other: &["192.0.3.1"],
            },
        ];
        for case in cases {
            let guard = Clocked::new(GuardSettings {
                max_failures: 3,
                ipv4_prefix: case.ipv4_prefix,
                ipv6_prefix: case.ipv6_prefix,
                ..settings()
            });
            for address in case.failing {
                guard.fail(address, "alice");
            }
            for address in case.failing.iter().chain(case.same) {
                assert_eq!(guard.check(address, "alice"), LOCKED, "{address}");
            }
            for address in case.other {
                assert_eq!(guard.check(address, "alice"), ALLOWED, "{address}");
            }
        }
    }

    #[test]
    fn keys_display_as_address_or_network() {
        let wide = GuardSettings {
            ipv4_prefix: 24,
            ipv6_prefix: 200,
            ..settings()
        };
        let cases = [
            (settings(), "192.0.2.1", "192.0.2.1"),
            (settings(), "::ffff:192.0.2.1", "192.0.2.1"),
            (settings(), "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
            (wide, "192.0.2.1", "192.0.2.0/24"),
            (wide, "2001:db8::1", "2001:db8::1"),
        ];
        for (settings, address, shown) in cases {
            let key = settings.key(address.parse().unwrap());
            assert_eq!(key.to_string(), shown, "{address}");
        }
    }

    #[test]
    fn a_lockout_ends_after_its_time() {
        let mut guard = Clocked::new(settings());
        guard.fail_times(10, "192.0.2.1", "alice");
        guard.guard.take_events();
        guard.now += Duration::from_secs(899);
        assert_eq!(guard.check("192.0.2.1", "alice"), LOCKED);
        guard.fail("192.0.2.1", "alice");
        guard.now += Duration::from_secs(1);
        assert_eq!(
            guard.check("192.0.2.1", "alice"),
            ALLOWED,
            "a refused attempt did not extend the lockout"
        );
        assert_eq!(guard.check("192.0.2.1", "alice"), ALLOWED);
        assert_eq!(guard.guard.penalised_addresses_at(guard.now), 0);
        let events = guard.guard.take_events();
        let [GuardEvent::Unlocked(status, UnlockReason::Expired)] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!((status.failures, status.locked_for), (11, None));
        guard.fail("192.0.2.1", "alice");
        assert_eq!(
            guard.check("192.0.2.1", "alice"),
            LOCKED,
            "the streak remains: one more guess, then locked again"
        );
        guard.now += FORGET_AFTER + Duration::from_secs(1);
        guard.fail("192.0.2.1", "alice");
        assert_eq!(guard.check("192.0.2.1", "alice"), ALLOWED, "forgotten");
    }

    #[test]
    fn unblock_lifts_a_lockout_and_forgets_the_streak() {
        let guard = Clocked::new(settings());
        guard.fail_times(10, "2001:db8::1", "alice");
        guard.fail_times(2, "2001:db8:0:1::1", "bob");
        assert_eq!(guard.guard.penalised_addresses_at(guard.now), 1);
        let unblocked = guard.unblock(Some("2001:db8::99"), None);
        let keys: Vec<(String, u32, bool)> = unblocked
            .addresses
            .iter()
            .map(|a| (a.key.to_string(), a.failures, a.locked_for.is_some()))
            .collect();
        assert_eq!(
            keys,
            [("2001:db8::/64".into(), 10, true)],
            "the address's /64"
        );
        assert_eq!(guard.check("2001:db8::1", "alice"), ALLOWED);
        assert_eq!(
            guard.unblock(Some("2001:db8::1"), None),
            Unblocked {
                addresses: vec![],
                user: None
            },
            "nothing left to lift"
        );
        assert_eq!(
            guard.fail("2001:db8::1", "alice"),
            1024 * MS,
            "alice's count (11) is not unblocked"
        );
        assert_eq!(guard.check("2001:db8::1", "alice"), ALLOWED, "afresh");
        let events = guard.guard.take_events();
        assert!(
            matches!(events.as_slice(), [GuardEvent::Locked(_), GuardEvent::Unlocked(s, UnlockReason::Unblocked)] if s.key.to_string() == "2001:db8::/64"),
            "{events:?}"
        );
        // A network lifts every key in it, locked or only penalised.
        let net = guard
            .guard
            .unblock_at(Some("2001:db8::/32".parse().unwrap()), None, guard.now);
        let keys: Vec<(String, u32)> = net
            .addresses
            .iter()
            .map(|a| (a.key.to_string(), a.failures))
            .collect();
        assert_eq!(
            keys,
            [("2001:db8::/64".into(), 1), ("2001:db8:0:1::/64".into(), 2)]
        );
        // A user's count is forgotten on its own.
        assert_eq!(guard.user_failures("alice"), 11);
        let cleared = guard.unblock(None, Some("alice"));
        assert_eq!(cleared.user, Some(("alice".to_owned(), 11)));
        assert_eq!(guard.user_failures("alice"), 0);
        assert_eq!(guard.unblock(None, Some("alice")).user, None);
    }

    /// A locked-out attacker keeps trying: those refused attempts must not
    /// push the user's count (and so the delay of every address trying it,
    /// or the known-addresses restriction) any higher.
    #[test]
    fn refused_attempts_do_not_count_against_the_user() {
        let guard = Clocked::new(GuardSettings {
            known_addresses_only_after: 15,
            ..settings()
        });
        guard.fail_times(10, "203.0.113.1", "alice");
        assert_eq!(guard.check("203.0.113.1", "alice"), LOCKED);
        guard.fail_times(100, "203.0.113.1", "alice");
        assert_eq!(guard.user_failures("alice"), 10);
        assert_eq!(guard.check("192.0.2.9", "alice"), ALLOWED, "not restricted");
        let first = guard.fail("192.0.2.9", "bob");
        assert_eq!(first, MS, "bob's first failure waits the base delay");
        let attacker = guard.status(Some("203.0.113.1/32"), None);
        assert_eq!(
            attacker.addresses[0].failures, 110,
            "the address counts them"
        );
    }

    /// Parallel connections from one address: passwords being checked count
    /// against its lockout before their outcome is known, so it gets no
    /// more guesses than one connection would.
    #[test]
    fn attempts_in_flight_count_toward_the_lockout() {
        let guard = Clocked::new(GuardSettings {
            max_failures: 3,
            ..settings()
        });
        guard.fail("192.0.2.1", "alice");
        let a = guard.attempt("192.0.2.1", "alice").unwrap();
        let b = guard.attempt("192.0.2.1", "alice").unwrap();
        assert_eq!(guard.check("192.0.2.1", "alice"), BUSY);
        assert_eq!(guard.fail("192.0.2.1", "alice"), MS, "busy: only the wait");
        assert_eq!(
            guard.check("192.0.2.2", "alice"),
            ALLOWED,
            "other addresses"
        );
        drop(b); // its connection closed while the password was checked
        let c = guard.attempt("192.0.2.1", "alice").unwrap();
        a.failed_at(guard.now);
        c.failed_at(guard.now);
        assert_eq!(guard.check("192.0.2.1", "alice"), LOCKED);
        assert_eq!(
            guard.status(Some("192.0.2.1/32"), None).addresses[0].failures,
            3
        );
        // A right password in flight is let through and leaves no count.
        let d = guard.attempt("192.0.2.3", "alice").unwrap();
        d.succeeded_at("alice", guard.now);
        assert!(
            guard
                .status(Some("192.0.2.3/32"), None)
                .addresses
                .is_empty()
        );
    }

    #[test]
    fn known_addresses_only_for_a_user_under_attack_when_enabled() {
        for threshold in [0, 5] {
            let guard = Clocked::new(GuardSettings {
                known_addresses_only_after: threshold,
                ..settings()
            });
            guard.succeed("198.51.100.1", "alice");
            for host in 1..=4 {
                guard.fail(&format!("203.0.113.{host}"), "alice");
            }
            assert_eq!(guard.check("192.0.2.9", "alice"), ALLOWED, "4 failures");
            guard.fail("203.0.113.5", "alice");
            let new = if threshold == 0 { ALLOWED } else { UNKNOWN };
            assert_eq!(
                guard.check("192.0.2.9", "alice"),
                new,
                "threshold {threshold}"
            );
            assert_eq!(guard.check("203.0.113.1", "alice"), new);
            assert_eq!(guard.check("198.51.100.1", "alice"), ALLOWED, "known");
            assert_eq!(
                guard.check("192.0.2.9", "bob"),
                ALLOWED,
                "bob is not attacked"
            );
        }
    }

    /// The guard is not told whether a user exists, and an existing user's
    /// history does not change what an attacker sees: the same attempts get
    /// the same verdicts and delays for alice and for a made-up name.
    #[test]
    fn unknown_user_names_are_treated_alike() {
        let guard = Clocked::new(GuardSettings {
            max_failures: 4,
            known_addresses_only_after: 3,
            ..settings()
        });
        guard.succeed("198.51.100.1", "alice");
        let attack = |user: &str, net: u8| -> Vec<(Verdict, Duration)> {
            (0..12)
                .map(|n| {
                    let address = format!("10.{net}.0.{}", n % 3);
                    (guard.check(&address, user), guard.fail(&address, user))
                })
                .collect()
        };
        assert_eq!(attack("alice", 1), attack("nobody-here", 2));
    }

    #[test]
    fn status_lists_current_penalties() {
        let mut guard = Clocked::new(GuardSettings {
            max_failures: 3,
            ..settings()
        });
        guard.fail_times(3, "2001:db8::1", "alice");
        guard.fail("192.0.2.1", "bob");
        guard.fail("192.0.2.1", "alice");
        guard.now += Duration::from_secs(60);
        let all = guard.status(None, None);
        let rows: Vec<(String, u32, Option<Duration>, Vec<String>)> = all
            .addresses
            .iter()
            .map(|a| (a.key.to_string(), a.failures, a.locked_for, a.users.clone()))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "2001:db8::/64".into(),
                    3,
                    Some(Duration::from_secs(840)),
                    vec!["alice".into()]
                ),
                (
                    "192.0.2.1".into(),
                    2,
                    None,
                    vec!["bob".into(), "alice".into()]
                ),
            ]
        );
        let users: Vec<(&str, u32)> = all
            .users
            .iter()
            .map(|u| (u.user.as_str(), u.failures))
            .collect();
        assert_eq!(users, [("alice", 4), ("bob", 1)]);
        assert_eq!(guard.status(Some("192.0.2.0/24"), None).addresses.len(), 1);
        assert_eq!(
            guard.status(Some("2001:db8::5/128"), None).addresses.len(),
            1
        );
        let bob = guard.status(None, Some("bob"));
        assert_eq!((bob.addresses.len(), bob.users.len()), (1, 1));
        guard.now += FORGET_AFTER + Duration::from_secs(1);
        assert_eq!(guard.status(None, None), Status::default());
    }

    #[test]
    fn memory_stays_bounded() {
        let guard = Clocked::new(GuardSettings {
            max_failures: 3,
            ..settings()
        });
        guard.fail_times(3, "2001:db8::1", "alice");
        let long_name = "é".repeat(100_000);
        for user in 0..=12 {
            guard.fail("192.0.2.1", &format!("user{user}"));
        }
        guard.fail("192.0.2.1", &long_name);
        for host in 0..KNOWN_PER_USER as u32 + 5 {
            guard.succeed(
                &std::net::Ipv4Addr::from(0x0a00_0000 + host).to_string(),
                "carol",
            );
        }
        // A flood of fresh addresses and made-up names.
        for n in 0..MAX_USERS as u32 + 1000 {
            let address = std::net::Ipv4Addr::from(0x0b00_0000 + n).to_string();
            guard.fail(&address, &format!("flood{n}"));
        }
        let locked = guard.key("2001:db8::1");
        let state = guard.guard.state();
        assert!(
            state.addresses.len() <= MAX_ADDRESSES,
            "{}",
            state.addresses.len()
        );
        assert!(state.users.len() <= MAX_USERS, "{}", state.users.len());
        assert!(state.users.keys().all(|name| name.len() <= MAX_NAME));
        assert!(
            state.users["carol"].logins.len() == KNOWN_PER_USER,
            "carol kept, bounded"
        );
        assert!(
            state
                .addresses
                .values()
                .all(|a| a.users.len() <= USERS_PER_ADDRESS)
        );
        assert!(
            state.addresses[&locked].locked(guard.now),
            "locked keys go last"
        );
        assert!(state.events.len() <= MAX_EVENTS);
    }
}
