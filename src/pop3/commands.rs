//! What each POP3 command does, one function per command, named after it.

use std::sync::Arc;

use super::command::{Command, TransactionCommand};
use super::connection::{Connection, Input, Reply};
use super::maildrop::{self, Maildrop, NoMessage, write_multiline};
use super::{Pop3, State, Step, Transaction};
use crate::auth::sasl;
use crate::context::ServerContext;
use crate::context::login::{Attempt, LoggedIn, LoginError, log_in};
use crate::store::{Access, FetchRequest, MailboxName, StoreError, UserId};

/// RETR sends a message in parts of about this many octets.
const SEND_PART: usize = 64 * 1024;

/// RFC 3206 response codes.
const AUTH: &str = "[AUTH]";
const SYS_TEMP: &str = "[SYS/TEMP]";

impl Pop3 {
    /// Runs one command; its answer is queued on `conn`.
    pub(super) async fn execute(&mut self, command: Command, conn: &mut Connection) -> Step {
        match command {
            Command::Capa => self.capa(conn),
            Command::Quit => return self.quit(conn).await,
            Command::Stls => return self.stls(conn),
            Command::User(name) => self.user(name, conn),
            Command::Pass(password) => self.pass(password, conn).await,
            Command::Auth {
                mechanism,
                initial_response,
            } => return self.auth(mechanism, initial_response, conn).await,
            Command::Transaction(command) => match &mut self.state {
                State::Transaction(t) => transaction(&self.ctx, t, command, conn).await,
                State::Authorization { .. } => conn.err("Log in first (USER and PASS, or AUTH)"),
            },
        }
        Step::Continue
    }

    /// USER, PASS and AUTH need TLS unless plaintext logins are allowed.
    fn login_allowed(&self) -> bool {
        self.secure || self.ctx.config().auth.allow_plaintext
    }

    fn require_authorization(&self, conn: &mut Connection) -> bool {
        match self.state {
            State::Authorization { .. } => true,
            State::Transaction(_) => {
                conn.err("Already logged in");
                false
            }
        }
    }

    /// CAPA (RFC 2449 §5): what a client may use in the current state.
    fn capa(&self, conn: &mut Connection) {
        conn.ok("Capability list follows");
        let mut capabilities = vec!["CAPA", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE"];
        capabilities.extend(["PIPELINING", "EXPIRE NEVER"]);
        // RFC 2449 §5: USER and SASL are announced in both states.
        if self.login_allowed() {
            capabilities.extend(["USER", "SASL PLAIN"]);
        }
        let authorization = matches!(self.state, State::Authorization { .. });
        if authorization && !self.secure && self.ctx.tls.configured() {
            capabilities.push("STLS");
        }
        capabilities.push("IMPLEMENTATION letterbox");
        let mut list = capabilities.join("\r\n").into_bytes();
        list.extend_from_slice(b"\r\n");
        write_multiline(&list, conn.out());
    }

    /// STLS (RFC 2595 §4).
    fn stls(&self, conn: &mut Connection) -> Step {
        if !self.require_authorization(conn) {
            return Step::Continue;
        }
        if self.secure {
            conn.err("TLS is already active");
            return Step::Continue;
        }
        if !self.ctx.tls.configured() {
            conn.err("TLS is not configured");
            return Step::Continue;
        }
        conn.ok("Begin TLS negotiation");
        Step::StartTls
    }

    /// USER: remembered for PASS. Every name gets the same answer, so
    /// none is revealed to exist.
    fn user(&mut self, name: String, conn: &mut Connection) {
        if !self.require_authorization(conn) {
            return;
        }
        if !self.login_allowed() {
            conn.err(&format!("{AUTH} Plaintext login needs TLS: use STLS"));
            return;
        }
        self.state = State::Authorization { user: Some(name) };
        conn.ok("Send the password (PASS)");
    }

    async fn pass(&mut self, password: Vec<u8>, conn: &mut Connection) {
        if !self.require_authorization(conn) {
            return;
        }
        let State::Authorization { user } = &mut self.state else {
            return;
        };
        // A failed PASS needs a new USER (RFC 1939 §7).
        let Some(name) = user.take() else {
            conn.err("Send USER first");
            return;
        };
        self.log_in("USER", name.into_bytes(), password, conn).await;
    }

    /// AUTH (RFC 5034): PLAIN, with or without an initial response; bare
    /// AUTH lists the mechanisms, as Outlook expects.
    async fn auth(
        &mut self,
        mechanism: Option<String>,
        initial_response: Option<Vec<u8>>,
        conn: &mut Connection,
    ) -> Step {
        if !self.require_authorization(conn) {
            return Step::Continue;
        }
        let Some(mechanism) = mechanism else {
            conn.ok("Mechanisms follow");
            let mechanisms: &[u8] = if self.login_allowed() {
                b"PLAIN\r\n"
            } else {
                b""
            };
            write_multiline(mechanisms, conn.out());
            return Step::Continue;
        };
        if mechanism != "PLAIN" {
            // Not echoed: it is the client's text, of any length.
            conn.err("Unsupported mechanism (PLAIN is offered)");
            return Step::Continue;
        }
        if !self.login_allowed() {
            conn.err(&format!("{AUTH} Plaintext login needs TLS: use STLS"));
            return Step::Continue;
        }
        let response = match initial_response {
            Some(response) => response,
            None => {
                conn.out().extend_from_slice(b"+ \r\n");
                if conn.flush().await.is_err() {
                    return Step::Continue;
                }
                let limit = self.ctx.config().limits.preauth_timeout();
                match conn.read_line(limit).await {
                    Ok(Input::Line(line)) => line,
                    Ok(Input::TooLong) => {
                        conn.err("Authentication response too long");
                        return Step::Continue;
                    }
                    // Gone, or silent too long: the session is over.
                    Err(_) => return Step::Quit,
                }
            }
        };
        if response == b"*" {
            conn.err("Authentication cancelled");
            return Step::Continue;
        }
        let credentials = match sasl::decode_response(&response)
            .and_then(|message| sasl::parse_plain(&message))
        {
            Ok(credentials) => credentials,
            Err(error) => {
                conn.err(&error.to_string());
                return Step::Continue;
            }
        };
        if !credentials.authzid.is_empty() && credentials.authzid != credentials.authcid {
            conn.err(&format!("{AUTH} Acting as another user is not permitted"));
            return Step::Continue;
        }
        self.log_in("PLAIN", credentials.authcid, credentials.password, conn)
            .await;
        Step::Continue
    }

    /// Checks the credentials and opens the maildrop.
    async fn log_in(
        &mut self,
        mechanism: &str,
        name: Vec<u8>,
        password: Vec<u8>,
        conn: &mut Connection,
    ) {
        let attempt = Attempt {
            peer: self.peer,
            secure: self.secure,
            protocol: "pop3",
            mechanism,
        };
        let LoggedIn { record, slots } = match log_in(&self.ctx, attempt, name, password).await {
            Ok(logged_in) => logged_in,
            Err(LoginError::Failed) => {
                return conn.err(&format!("{AUTH} Authentication failed"));
            }
            Err(LoginError::TooManySessions | LoginError::TooManySessionsFromAddress) => {
                return conn.err(&format!("{SYS_TEMP} Too many sessions for this user"));
            }
            Err(LoginError::Store(error)) => return store_failed(error, conn),
        };
        let maildrop = match open_maildrop(&self.ctx, record.id).await {
            Ok(maildrop) => maildrop,
            Err(error) => return store_failed(error, conn),
        };
        let (count, octets) = maildrop.totals();
        conn.ok(&format!("Logged in, {count} messages ({octets} octets)"));
        // Logged in: no longer counted among this address's strangers.
        self.unauthenticated_slot = None;
        self.state = State::Transaction(Box::new(Transaction {
            user: record.name,
            maildrop,
            _slots: slots,
        }));
    }

    /// QUIT: in TRANSACTION, the UPDATE state (RFC 1939 §6).
    async fn quit(&mut self, conn: &mut Connection) -> Step {
        let State::Transaction(t) = &self.state else {
            conn.ok("Bye");
            return Step::Quit;
        };
        let maildrop::Update { seen, removed } = t.maildrop.update();
        let mailbox = t.maildrop.mailbox;
        let updated = self
            .ctx
            .store
            .run(Access::Write, move |store| {
                store.mark_seen_and_remove(mailbox, &seen, &removed)
            })
            .await;
        match updated {
            Ok(expunged) => {
                tracing::info!(peer = %self.peer, user = %t.user, removed = expunged.uids.len(), "POP3 QUIT");
                let (left, _) = t.maildrop.totals();
                conn.ok(&format!("Bye, {left} messages left"));
            }
            Err(error) => {
                tracing::error!(peer = %self.peer, user = %t.user, %error, "POP3 update failed");
                conn.err(&format!(
                    "{SYS_TEMP} Deleted messages were not removed; try again"
                ));
            }
        }
        Step::Quit
    }
}

/// STAT, LIST, UIDL, RETR, TOP, DELE, NOOP, RSET (RFC 1939 §5, §7).
async fn transaction(
    ctx: &Arc<ServerContext>,
    t: &mut Transaction,
    command: TransactionCommand,
    conn: &mut Connection,
) {
    match command {
        TransactionCommand::Stat => stat(t, conn),
        TransactionCommand::List(number) => list(t, number, conn),
        TransactionCommand::Uidl(number) => uidl(t, number, conn),
        TransactionCommand::Retr(number) => retr(ctx, t, number, None, conn).await,
        TransactionCommand::Top { message, lines } => {
            retr(ctx, t, message, Some(lines), conn).await
        }
        TransactionCommand::Dele(number) => dele(t, number, conn),
        TransactionCommand::Noop => conn.ok(""),
        TransactionCommand::Rset => rset(t, conn),
    }
}

/// The INBOX's messages as they are now: (UID, size) in UID order.
async fn open_maildrop(ctx: &Arc<ServerContext>, user: UserId) -> Result<Maildrop, StoreError> {
    ctx.store
        .run(Access::Read, move |store| {
            let inbox = MailboxName::new("INBOX").expect("INBOX is a valid name");
            let selected = store.select(user, &inbox, false)?;
            let uids: Vec<u32> = selected.messages.iter().map(|m| m.uid).collect();
            let sizes = FetchRequest {
                index: false,
                raw: false,
            };
            let messages = store
                .fetch(selected.id, &uids, sizes)?
                .into_iter()
                .map(|m| (m.uid, u64::from(m.size)))
                .collect();
            Ok(Maildrop::new(selected.id, selected.uidvalidity, messages))
        })
        .await
}

fn store_failed(error: StoreError, conn: &mut Connection) {
    tracing::error!(%error, "POP3 store call failed");
    conn.err(&format!(
        "{SYS_TEMP} Mail store unavailable, try again later"
    ));
}

fn no_message(error: NoMessage, conn: &mut Connection) {
    conn.err(&error.to_string());
}

fn stat(t: &Transaction, conn: &mut Connection) {
    let (count, octets) = t.maildrop.totals();
    conn.ok(&format!("{count} {octets}"));
}

fn list(t: &Transaction, number: Option<u32>, conn: &mut Connection) {
    match number {
        Some(number) => match t.maildrop.message(number) {
            Ok((_, size)) => conn.ok(&format!("{number} {size}")),
            Err(error) => no_message(error, conn),
        },
        None => {
            let (count, octets) = t.maildrop.totals();
            conn.ok(&format!("{count} messages ({octets} octets)"));
            let listing: String = t
                .maildrop
                .listing()
                .map(|(number, size)| format!("{number} {size}\r\n"))
                .collect();
            write_multiline(listing.as_bytes(), conn.out());
        }
    }
}

fn uidl(t: &Transaction, number: Option<u32>, conn: &mut Connection) {
    match number {
        Some(number) => match t.maildrop.unique_id(number) {
            Ok(id) => conn.ok(&format!("{number} {id}")),
            Err(error) => no_message(error, conn),
        },
        None => {
            conn.ok("Unique-id listing follows");
            let listing: String = t
                .maildrop
                .unique_ids()
                .map(|(number, id)| format!("{number} {id}\r\n"))
                .collect();
            write_multiline(listing.as_bytes(), conn.out());
        }
    }
}

/// RETR (`top` None) or TOP: the message, or its header and first lines.
async fn retr(
    ctx: &Arc<ServerContext>,
    t: &mut Transaction,
    number: u32,
    top: Option<u32>,
    conn: &mut Connection,
) {
    let (uid, size) = match t.maildrop.message(number) {
        Ok(message) => message,
        Err(error) => return no_message(error, conn),
    };
    let mailbox = t.maildrop.mailbox;
    let raw = FetchRequest {
        index: false,
        raw: true,
    };
    let fetched = ctx
        .store
        .run(Access::Read, move |store| store.fetch(mailbox, &[uid], raw))
        .await;
    let message = match fetched {
        Ok(mut found) => match found.pop().and_then(|m| m.raw) {
            Some(raw) => raw,
            None => return conn.err("Message was removed by another session"),
        },
        Err(error) => return store_failed(error, conn),
    };
    match top {
        None => {
            conn.ok(&format!("{size} octets"));
            // In parts, each written out before the next is encoded: a
            // large message is not held twice.
            for part in maildrop::line_parts(&message, SEND_PART) {
                maildrop::write_lines(part, conn.out());
                if conn.pending_output() >= SEND_PART && conn.flush().await.is_err() {
                    return;
                }
            }
            conn.out().extend_from_slice(b".\r\n");
            t.maildrop
                .retrieved(number)
                .expect("the message was found above");
        }
        Some(lines) => {
            conn.ok("Top of message follows");
            write_multiline(maildrop::top(&message, lines), conn.out());
        }
    }
}

fn dele(t: &mut Transaction, number: u32, conn: &mut Connection) {
    match t.maildrop.delete(number) {
        Ok(()) => conn.ok(&format!("Message {number} deleted")),
        Err(error) => no_message(error, conn),
    }
}

fn rset(t: &mut Transaction, conn: &mut Connection) {
    t.maildrop.undelete_all();
    let (count, octets) = t.maildrop.totals();
    conn.ok(&format!("{count} messages ({octets} octets)"));
}
