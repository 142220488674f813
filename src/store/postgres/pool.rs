//! A small pool of PostgreSQL connections: the store's calls run on
//! blocking threads, each borrowing one client for one transaction.
//! Connections open lazily, up to `size`; a broken one is dropped when it
//! comes back; a caller waits at most `wait` for a free one.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::{StoreError, StoreResult};

pub struct Pool {
    config: postgres::Config,
    tls: MakeRustlsConnect,
    size: usize,
    wait: Duration,
    state: Mutex<State>,
    returned: Condvar,
}

/// A connection with the statements prepared on it.
pub struct Connection {
    pub client: Client,
    pub statements: super::statements::Statements,
}

impl Connection {
    fn new(client: Client) -> Connection {
        Connection {
            client,
            statements: Default::default(),
        }
    }
}

struct State {
    idle: Vec<Connection>,
    /// Connections out of the pool or idle in it.
    open: usize,
}

impl Pool {
    pub fn new(
        config: postgres::Config,
        tls: MakeRustlsConnect,
        size: usize,
        wait: Duration,
    ) -> Pool {
        Pool {
            config,
            tls,
            size: size.max(1),
            wait,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// The most connections it opens.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A client for one call; it goes back to the pool when dropped.
    pub fn get(&self) -> StoreResult<Pooled<'_>> {
        let mut state = self.lock();
        loop {
            while let Some(connection) = state.idle.pop() {
                if !connection.client.is_closed() {
                    return Ok(Pooled {
                        pool: self,
                        connection: Some(connection),
                    });
                }
                state.open -= 1;
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match self.config.connect(self.tls.clone()) {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        connection: Some(Connection::new(client)),
                    }),
                    Err(error) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(StoreError::Unavailable(super::describe(&error)))
                    }
                };
            }
            let (next, timeout) = self
                .returned
                .wait_timeout(state, self.wait)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.size {
                return Err(StoreError::Unavailable(
                    "no database connection free".into(),
                ));
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Pool {
    /// A client closes its connection with a blocking call, which cannot
    /// run on an async thread, where the last handle to the store may go
    /// (the server shutting down): they close on a thread of their own.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

/// A borrowed connection.
pub struct Pooled<'a> {
    pool: &'a Pool,
    connection: Option<Connection>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.connection.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.connection.take() {
            Some(connection) if !connection.client.is_closed() => state.idle.push(connection),
            _ => state.open -= 1,
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}
