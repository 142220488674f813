//! Recently verified credentials, so a client that opens several
//! connections (or reconnects often) does not pay argon2id each time.
//!
//! An entry says "this password matched this stored hash" and is keyed by
//! an HMAC, under a random per-process key, of the hash and the password:
//! the cache holds neither in the clear, and changing a password (a new
//! hash) or revoking an app password (its hash is no longer offered)
//! makes the old entry unreachable at once. Only successes are kept;
//! failures always take the full check.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::hmac;
use ring::rand::SystemRandom;

/// How long a verified credential is trusted without a new check.
pub const TTL: Duration = Duration::from_secs(300);
/// Entries kept at most; beyond it expired entries go, then all.
const CAPACITY: usize = 100_000;

pub struct CredentialCache {
    key: hmac::Key,
    ttl: Duration,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
}

impl CredentialCache {
    pub fn new(ttl: Duration) -> CredentialCache {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .expect("the system random source works");
        CredentialCache {
            key,
            ttl,
            verified: Mutex::new(HashMap::new()),
        }
    }

    fn entry_key(&self, hash: &str, password: &[u8]) -> [u8; 32] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(hash.as_bytes());
        context.update(&[0]);
        context.update(password);
        let mut out = [0; 32];
        out.copy_from_slice(context.sign().as_ref());
        out
    }

    /// Whether `password` was verified against `hash` within the TTL.
    pub fn knows(&self, hash: &str, password: &[u8]) -> bool {
        let key = self.entry_key(hash, password);
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        verified
            .get(&key)
            .is_some_and(|until| Instant::now() < *until)
    }

    /// Records that `password` matched `hash`.
    pub fn remember(&self, hash: &str, password: &[u8]) {
        let key = self.entry_key(hash, password);
        let now = Instant::now();
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= CAPACITY {
            verified.retain(|_, until| now < *until);
            if verified.len() >= CAPACITY {
                verified.clear();
            }
        }
        verified.insert(key, now + self.ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_pair_only_until_the_ttl() {
        let cache = CredentialCache::new(Duration::from_millis(50));
        assert!(!cache.knows("$hash1", b"pw"));
        cache.remember("$hash1", b"pw");
        assert!(cache.knows("$hash1", b"pw"));
        assert!(!cache.knows("$hash1", b"pw2"), "another password");
        assert!(!cache.knows("$hash2", b"pw"), "a changed hash");
        assert!(!cache.knows("$hash", b"1pw"), "no ambiguity at the seam");
        std::thread::sleep(Duration::from_millis(60));
        assert!(!cache.knows("$hash1", b"pw"), "expired");
    }
}
