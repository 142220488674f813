//! Password verification on a few dedicated threads.
//!
//! An argon2id check allocates its whole memory cost (19 MiB by default).
//! Run on tokio's blocking pool, a burst of logins spreads that over
//! hundreds of threads whose allocator arenas each keep the 19 MiB after
//! the check: measured, 200 concurrent TLS logins left the server at
//! 3.9 GB RSS. A small fixed pool bounds that to workers x 19 MiB and
//! queues login bursts fairly.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{Receiver, Sender, channel};
use tokio::sync::oneshot;

use super::cache::{self, CredentialCache};
use super::verify_password;

struct Job {
    hash: Option<String>,
    password: Vec<u8>,
    reply: oneshot::Sender<bool>,
}

pub struct PasswordChecker {
    jobs: Sender<Job>,
    recent: CredentialCache,
}

impl PasswordChecker {
    /// Starts `workers` threads; they end when the checker is dropped.
    pub fn new(workers: usize) -> PasswordChecker {
        let (jobs, queue) = channel::<Job>(1024);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..workers.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("letterbox-argon2-{index}"))
                .spawn(move || work(&queue))
                .expect("cannot start a password-check thread");
        }
        PasswordChecker {
            jobs,
            recent: CredentialCache::new(cache::TTL),
        }
    }

    /// One worker per core (at most four): checks are CPU-bound.
    pub fn for_this_machine() -> PasswordChecker {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordChecker::new(cores.min(4))
    }

    /// Verifies `password` against `hash` (or, for an unknown user, against
    /// a dummy hash, so both take the same time). A pair verified in the
    /// last few minutes is answered from the credential cache.
    pub async fn verify(&self, hash: Option<String>, password: Vec<u8>) -> bool {
        if let Some(hash) = &hash
            && self.recent.knows(hash, &password)
        {
            return true;
        }
        let matches = self.verify_on_pool(hash.clone(), password.clone()).await;
        if matches && let Some(hash) = &hash {
            self.recent.remember(hash, &password);
        }
        matches
    }

    async fn verify_on_pool(&self, hash: Option<String>, password: Vec<u8>) -> bool {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            hash,
            password,
            reply,
        };
        // The queue is bounded: a burst of logins waits for room as tasks.
        let queued = self.jobs.send(job).await.is_ok();
        queued && answer.await.unwrap_or(false)
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
            match queue.blocking_recv() {
                Some(job) => job,
                None => return,
            }
        };
        let matches = verify_password(job.hash.as_deref(), &job.password);
        let _ = job.reply.send(matches);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_on_the_pool() {
        let checker = PasswordChecker::new(2);
        let hash = crate::auth::hash_password("pw");
        let (good, bad, unknown) = tokio::join!(
            checker.verify(Some(hash.clone()), b"pw".to_vec()),
            checker.verify(Some(hash), b"nope".to_vec()),
            checker.verify(None, b"pw".to_vec()),
        );
        assert!(good && !bad && !unknown);
    }

    #[tokio::test]
    async fn successes_are_remembered_failures_are_not() {
        let checker = PasswordChecker::new(1);
        let hash = crate::auth::hash_password("pw");
        assert!(!checker.verify(Some(hash.clone()), b"nope".to_vec()).await);
        assert!(!checker.recent.knows(&hash, b"nope"));
        assert!(checker.verify(Some(hash.clone()), b"pw".to_vec()).await);
        assert!(checker.recent.knows(&hash, b"pw"));
        // A new hash for the same password (a password change) is checked.
        let new_hash = crate::auth::hash_password("pw");
        assert!(!checker.recent.knows(&new_hash, b"pw"));
    }
}
