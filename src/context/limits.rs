//! Connection limits: in total and per key (the remote address as the
//! login guard counts it, an IPv6 /64 by default, for connections; the
//! user name, alone or with that address, for logged-in sessions).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

pub struct ConnectionLimiter<K: Hash + Eq + Clone> {
    counts: Mutex<Counts<K>>,
}

struct Counts<K> {
    max_total: usize,
    max_per_key: usize,
    total: usize,
    per_key: HashMap<K, usize>,
}

/// Holds one slot; dropping it gives the slot back.
pub struct ConnectionGuard<K: Hash + Eq + Clone> {
    limiter: Arc<ConnectionLimiter<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> ConnectionLimiter<K> {
    pub fn new(max_total: usize, max_per_key: usize) -> Arc<ConnectionLimiter<K>> {
        Arc::new(ConnectionLimiter {
            counts: Mutex::new(Counts {
                max_total,
                max_per_key,
                total: 0,
                per_key: HashMap::new(),
            }),
        })
    }

    /// New limits for new connections (existing ones keep their slots).
    pub fn set_limits(&self, max_total: usize, max_per_key: usize) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.max_total = max_total;
        counts.max_per_key = max_per_key;
    }

    /// Takes a slot for `key`, or `None` past a limit.
    pub fn try_acquire(self: &Arc<Self>, key: K) -> Option<ConnectionGuard<K>> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let for_key = counts.per_key.get(&key).copied().unwrap_or(0);
        if counts.total >= counts.max_total || for_key >= counts.max_per_key {
            return None;
        }
        counts.total += 1;
        counts.per_key.insert(key.clone(), for_key + 1);
        Some(ConnectionGuard {
            limiter: Arc::clone(self),
            key,
        })
    }

    pub fn active(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl<K: Hash + Eq + Clone> Drop for ConnectionGuard<K> {
    fn drop(&mut self) {
        let mut counts = self
            .limiter
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        counts.total -= 1;
        if let Some(n) = counts.per_key.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.per_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_total_and_per_key() {
        let limiter = ConnectionLimiter::<&str>::new(3, 2);
        let (a, b) = ("10.0.0.1", "10.0.0.2");
        let a1 = limiter.try_acquire(a).unwrap();
        let _a2 = limiter.try_acquire(a).unwrap();
        assert!(limiter.try_acquire(a).is_none());
        let _b1 = limiter.try_acquire(b).unwrap();
        assert!(limiter.try_acquire(b).is_none(), "total reached");
        drop(a1);
        assert_eq!(limiter.active(), 2);
        assert!(limiter.try_acquire(b).is_some());
    }
}
