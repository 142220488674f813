//! Brute-force protection: failed logins are counted per remote address
//! and per user name. Each failure is answered after a delay that doubles
//! with the count; past `max_failures` the address or user is locked out
//! for `lockout`, and every attempt (even with the right password) gets
//! the same answer as a wrong password, without checking it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters forget a failure streak after this long without failures.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Never wait longer than this before answering.
const MAX_DELAY: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy)]
pub struct GuardSettings {
    pub base_delay: Duration,
    pub max_failures: u32,
    pub lockout: Duration,
}

#[derive(Clone, Copy)]
struct Streak {
    failures: u32,
    last: Instant,
}

pub struct LoginGuard {
    settings: Mutex<GuardSettings>,
    by_address: Mutex<HashMap<IpAddr, Streak>>,
    by_user: Mutex<HashMap<String, Streak>>,
}

impl LoginGuard {
    pub fn new(settings: GuardSettings) -> LoginGuard {
        LoginGuard {
            settings: Mutex::new(settings),
            by_address: Mutex::new(HashMap::new()),
            by_user: Mutex::new(HashMap::new()),
        }
    }

    /// New settings (a config reload); streaks are kept.
    pub fn set_settings(&self, settings: GuardSettings) {
        *lock(&self.settings) = settings;
    }

    /// True while `address` or `user` is locked out.
    pub fn locked(&self, address: IpAddr, user: &str) -> bool {
        let settings = *lock(&self.settings);
        let now = Instant::now();
        let locked = |streak: Option<&Streak>| {
            streak.is_some_and(|s| {
                s.failures >= settings.max_failures && now.duration_since(s.last) < settings.lockout
            })
        };
        locked(lock(&self.by_address).get(&address)) || locked(lock(&self.by_user).get(user))
    }

    /// Records a failure and returns how long to wait before answering.
    pub fn failed(&self, address: IpAddr, user: &str) -> Duration {
        let now = Instant::now();
        let bump = |streak: &mut Streak| {
            if now.duration_since(streak.last) > FORGET_AFTER {
                streak.failures = 0;
            }
            streak.failures = streak.failures.saturating_add(1);
            streak.last = now;
            streak.failures
        };
        let fresh = Streak {
            failures: 0,
            last: now,
        };
        let mut addresses = lock(&self.by_address);
        prune(&mut addresses, now);
        let by_address = bump(addresses.entry(address).or_insert(fresh));
        drop(addresses);
        let mut users = lock(&self.by_user);
        prune(&mut users, now);
        let by_user = bump(users.entry(user.to_owned()).or_insert(fresh));
        let failures = by_address.max(by_user);
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        let base = lock(&self.settings).base_delay;
        base.saturating_mul(factor).min(MAX_DELAY)
    }

    /// A successful login clears the user's streak (not the address's:
    /// one good password must not reset an attack from that address).
    pub fn succeeded(&self, user: &str) {
        lock(&self.by_user).remove(user);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Drops forgotten streaks once the map grows, so it stays bounded by
/// the addresses and names seen in the last hour.
fn prune<K>(map: &mut HashMap<K, Streak>, now: Instant) {
    if map.len() > 10_000 {
        map.retain(|_, s| now.duration_since(s.last) <= FORGET_AFTER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> LoginGuard {
        LoginGuard::new(GuardSettings {
            base_delay: Duration::from_millis(100),
            max_failures: 3,
            lockout: Duration::from_secs(60),
        })
    }

    #[test]
    fn delays_grow_and_lock_out() {
        let guard = guard();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(!guard.locked(ip, "alice"));
        assert_eq!(guard.failed(ip, "alice"), Duration::from_millis(100));
        assert_eq!(guard.failed(ip, "alice"), Duration::from_millis(200));
        assert!(!guard.locked(ip, "alice"));
        assert_eq!(
            guard.failed(ip, "bob"),
            Duration::from_millis(400),
            "the address counts too"
        );
        assert!(guard.locked(ip, "carol"), "address locked for everyone");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(!guard.locked(other, "alice"), "alice had only two failures");
        guard.failed(other, "alice");
        assert!(guard.locked(other, "alice"), "user locked from anywhere");
        guard.succeeded("alice");
        assert!(!guard.locked(other, "alice"));
        assert!(guard.locked(ip, "alice"), "the address stays locked");
    }
}
