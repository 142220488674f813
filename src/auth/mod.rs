//! Authentication: argon2id password hashes and SASL PLAIN.
//!
//! Hashing and verification are deliberately slow; the server verifies on
//! the dedicated threads of [`checker::PasswordChecker`], never on an async
//! worker thread.

pub mod cache;
pub mod checker;
pub mod guard;
pub mod sasl;

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes a password into an argon2id PHC string (`$argon2id$v=19$...`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored hash. With no hash (unknown user) it
/// still verifies against a dummy hash, so the answer takes the same time
/// whether or not the user exists.
pub fn verify_password(stored_hash: Option<&str>, password: &[u8]) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("letterbox dummy password"));
    let (hash, user_exists) = match stored_hash {
        Some(hash) => (hash, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matches = Argon2::default().verify_password(password, &parsed).is_ok();
    matches && user_exists
}

/// A random password for new accounts (the `--dev` demo user).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("secret");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(Some(&hash), b"secret"));
        assert!(!verify_password(Some(&hash), b"Secret"));
        assert!(!verify_password(None, b"letterbox dummy password"));
        assert!(!verify_password(Some("not a hash"), b"secret"));
    }

    #[test]
    fn random_passwords_differ() {
        assert_ne!(random_password(), random_password());
        assert_eq!(random_password().len(), 20);
    }
}
