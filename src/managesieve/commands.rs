//! One function per ManageSieve command (RFC 5804 §2).

use super::command::{Command, Line, Reader};
use super::response::{self, Status};
use super::{LoggedIn, ManageSieve, Step};
use crate::auth::sasl;
use crate::context::login::{Attempt, LoginError, log_in};
use crate::line_conn::{Connection, Input};
use crate::sieve;
use crate::store::{Access, StoreError};

impl ManageSieve {
    pub(super) async fn execute(&mut self, command: Command, conn: &mut Connection) -> Step {
        let logged_in = self.user.is_some();
        match command {
            Command::Capability => {
                self.capabilities(conn);
                ok(conn, "Capability completed");
                Step::Continue
            }
            Command::Noop { tag } => {
                let code = tag.map(|tag| {
                    let mut code = b"TAG ".to_vec();
                    response::string(&mut code, &tag);
                    String::from_utf8_lossy(&code).into_owned()
                });
                response::status(conn, Status::Ok, code.as_deref(), "Done");
                Step::Continue
            }
            Command::Logout => {
                ok(conn, "Logout completed");
                Step::Logout
            }
            Command::StartTls => self.start_tls(conn),
            Command::Authenticate {
                mechanism,
                initial_response,
            } if !logged_in => self.authenticate(&mechanism, initial_response, conn).await,
            Command::Authenticate { .. } => no(conn, "Already authenticated"),
            _ if !logged_in => no(conn, "Log in first (AUTHENTICATE)"),
            Command::Unauthenticate => {
                self.user = None;
                ok(conn, "Logged out, log in again")
            }
            Command::ListScripts => self.list_scripts(conn).await,
            Command::HaveSpace { name, size } => self.have_space(&name, size, conn).await,
            Command::PutScript { name, script } => self.put_script(name, script, conn).await,
            Command::CheckScript { script } => {
                match checked(&self.ctx.config().sieve, "script", script) {
                    Ok(_) => ok(conn, "Script is valid"),
                    Err(refusal) => refuse(conn, refusal),
                }
            }
            Command::SetActive { name } => {
                let active = (!name.is_empty()).then_some(name);
                let user = self.user_id();
                let result = self
                    .ctx
                    .store
                    .run(Access::Write, move |store| {
                        store.activate_sieve_script(user, active.as_deref())
                    })
                    .await;
                self.answer(result, "Active script set", conn)
            }
            Command::GetScript { name } => {
                let user = self.user_id();
                let found = self
                    .ctx
                    .store
                    .run(Access::Read, move |store| store.sieve_script(user, &name))
                    .await;
                match found {
                    Ok(Some(text)) => {
                        response::string(conn.out(), text.as_bytes());
                        conn.out().extend_from_slice(b"\r\n");
                        ok(conn, "Getscript completed")
                    }
                    Ok(None) => self.answer(Err(StoreError::NoSuchScript), "", conn),
                    Err(error) => self.answer(Err(error), "", conn),
                }
            }
            Command::DeleteScript { name } => {
                let user = self.user_id();
                let result = self
                    .ctx
                    .store
                    .run(Access::Write, move |store| {
                        store.delete_sieve_script(user, &name)
                    })
                    .await;
                self.answer(result, "Script deleted", conn)
            }
            Command::RenameScript { from, to } => {
                if let Err(refusal) = valid_name(&to) {
                    return refuse(conn, refusal);
                }
                let user = self.user_id();
                let result = self
                    .ctx
                    .store
                    .run(Access::Write, move |store| {
                        store.rename_sieve_script(user, &from, &to)
                    })
                    .await;
                self.answer(result, "Script renamed", conn)
            }
        }
    }

    fn user_id(&self) -> crate::store::UserId {
        self.user.as_ref().map_or(0, |u| u.id)
    }

    /// The capability lines (RFC 5804 §1.7); the caller adds the OK.
    pub(super) fn capabilities(&self, conn: &mut Connection) {
        let config = self.ctx.config();
        let sasl = if self.login_allowed() { "PLAIN" } else { "" };
        let mut lines: Vec<(&str, String)> = vec![
            ("IMPLEMENTATION", "letterbox".into()),
            ("SASL", sasl.into()),
            ("SIEVE", sieve::EXTENSIONS.join(" ")),
            ("MAXREDIRECTS", config.sieve.max_redirects.to_string()),
        ];
        if !self.secure && self.ctx.tls.acceptor().is_some() && self.user.is_none() {
            lines.push(("STARTTLS", String::new()));
        }
        lines.push(("UNAUTHENTICATE", String::new()));
        lines.push(("VERSION", "1.0".into()));
        for (name, value) in lines {
            let out = conn.out();
            response::string(out, name.as_bytes());
            if !value.is_empty() || name == "SASL" {
                out.push(b' ');
                response::string(out, value.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }

    /// PLAIN only over TLS, unless `[auth] allow_plaintext`.
    fn login_allowed(&self) -> bool {
        self.secure || self.ctx.config().auth.allow_plaintext
    }

    fn start_tls(&mut self, conn: &mut Connection) -> Step {
        if self.secure {
            return no(conn, "TLS is already active");
        }
        // RFC 5804 §2.2: only before logging in.
        if self.user.is_some() {
            return no(conn, "STARTTLS only before AUTHENTICATE");
        }
        if self.ctx.tls.acceptor().is_none() {
            return no(conn, "TLS is not configured");
        }
        ok(conn, "Begin TLS negotiation now");
        Step::StartTls
    }

    /// AUTHENTICATE "PLAIN" (RFC 5804 §2.1), with or without an initial
    /// response.
    async fn authenticate(
        &mut self,
        mechanism: &str,
        initial_response: Option<Vec<u8>>,
        conn: &mut Connection,
    ) -> Step {
        if mechanism != "PLAIN" {
            return no(conn, "Unsupported mechanism (PLAIN is offered)");
        }
        if !self.login_allowed() {
            return refuse(
                conn,
                (
                    Status::NoCode("ENCRYPT-NEEDED"),
                    "Use STARTTLS first".into(),
                ),
            );
        }
        let response = match initial_response {
            Some(response) => response,
            None => {
                conn.out().extend_from_slice(b"\"\"\r\n");
                if conn.flush().await.is_err() {
                    return Step::Logout;
                }
                match self.client_response(conn).await {
                    Some(response) => response,
                    None => return Step::Logout,
                }
            }
        };
        if response == b"*" {
            return no(conn, "Authentication cancelled");
        }
        let credentials = match sasl::decode_response(&response).and_then(|m| sasl::parse_plain(&m))
        {
            Ok(credentials) => credentials,
            Err(error) => return no(conn, &error.to_string()),
        };
        if !credentials.authzid.is_empty() && credentials.authzid != credentials.authcid {
            return no(conn, "Acting as another user is not permitted");
        }
        let attempt = Attempt {
            peer: self.peer,
            secure: self.secure,
            protocol: "managesieve",
            mechanism: "PLAIN",
        };
        match log_in(
            &self.ctx,
            attempt,
            credentials.authcid,
            credentials.password,
        )
        .await
        {
            Ok(logged_in) => {
                self.unauthenticated_slot = None;
                self.user = Some(LoggedIn {
                    id: logged_in.record.id,
                    name: logged_in.record.name,
                    _slots: logged_in.slots,
                });
                ok(conn, "Logged in")
            }
            Err(LoginError::Failed) => no(conn, "Authentication failed"),
            Err(LoginError::TooManySessions | LoginError::TooManySessionsFromAddress) => refuse(
                conn,
                (
                    Status::NoCode("TRYLATER"),
                    "Too many sessions for this user".into(),
                ),
            ),
            Err(LoginError::Store(error)) => self.answer(Err(error), "", conn),
        }
    }

    /// The client's answer to a SASL challenge: one string (quoted or a
    /// literal) on its line; `None` when the client is gone.
    async fn client_response(&self, conn: &mut Connection) -> Option<Vec<u8>> {
        let idle = self.idle_timeout();
        let mut reader = Reader::default();
        loop {
            let Ok(Input::Line(line)) = conn.read_line(idle).await else {
                return None;
            };
            match reader.line(&line) {
                Ok(Line::Done) => break,
                // One string: one literal at most, of a SASL answer's size.
                Ok(Line::Literal(length)) if length <= 8192 && reader.tokens.is_empty() => {
                    reader.literal(conn.read_literal(length, idle).await.ok()?);
                }
                // Read past, so its octets are not taken for commands.
                Ok(Line::Literal(length)) => {
                    conn.skip_literal(length, idle).await.ok()?;
                    return Some(Vec::new());
                }
                _ => return Some(Vec::new()),
            }
        }
        match reader.tokens.as_slice() {
            [super::command::Token::String(value)] => Some(value.clone()),
            _ => Some(Vec::new()),
        }
    }

    async fn list_scripts(&mut self, conn: &mut Connection) -> Step {
        let user = self.user_id();
        let listed = self
            .ctx
            .store
            .run(Access::Read, move |store| store.sieve_scripts(user))
            .await;
        match listed {
            Ok(scripts) => {
                for script in scripts {
                    response::string(conn.out(), script.name.as_bytes());
                    if script.active {
                        conn.out().extend_from_slice(b" ACTIVE");
                    }
                    conn.out().extend_from_slice(b"\r\n");
                }
                ok(conn, "Listscripts completed")
            }
            Err(error) => self.answer(Err(error), "", conn),
        }
    }

    /// HAVESPACE: whether a script of this size could be stored.
    async fn have_space(&mut self, name: &str, size: u64, conn: &mut Connection) -> Step {
        if let Err(refusal) = valid_name(name) {
            return refuse(conn, refusal);
        }
        match self.room_for(name, size).await {
            Ok(()) => ok(conn, "Putscript would succeed"),
            Err(refusal) => refuse(conn, refusal),
        }
    }

    async fn put_script(&mut self, name: String, script: Vec<u8>, conn: &mut Connection) -> Step {
        if let Err(refusal) = valid_name(&name) {
            return refuse(conn, refusal);
        }
        let text = match checked(&self.ctx.config().sieve, &name, script) {
            Ok(text) => text,
            Err(refusal) => return refuse(conn, refusal),
        };
        if let Err(refusal) = self.room_for(&name, text.len() as u64).await {
            return refuse(conn, refusal);
        }
        let user = self.user_id();
        let stored = name.clone();
        let result = self
            .ctx
            .store
            .run(Access::Write, move |store| {
                store.put_sieve_script(user, &stored, &text)
            })
            .await;
        if result.is_ok() {
            let who = self
                .user
                .as_ref()
                .map(|u| u.name.clone())
                .unwrap_or_default();
            tracing::info!(user = %who, script = %name, "sieve script stored over ManageSieve");
        }
        self.answer(result, "Putscript completed", conn)
    }

    /// The per-user limits on the number and total size of scripts.
    async fn room_for(&self, name: &str, size: u64) -> Result<(), (Status, String)> {
        let limits = self.ctx.config().sieve.clone();
        if size > limits.max_script_size {
            return Err((
                Status::NoCode("QUOTA/MAXSIZE"),
                format!("Scripts may have at most {} octets", limits.max_script_size),
            ));
        }
        let user = self.user_id();
        let scripts = self
            .ctx
            .store
            .run(Access::Read, move |store| store.sieve_scripts(user))
            .await
            .map_err(|e| (Status::NoCode("TRYLATER"), e.to_string()))?;
        let others: Vec<_> = scripts.iter().filter(|s| s.name != name).collect();
        if others.len() >= limits.max_scripts {
            return Err((
                Status::NoCode("QUOTA/MAXSCRIPTS"),
                format!("At most {} scripts", limits.max_scripts),
            ));
        }
        let total: u64 = others.iter().map(|s| s.size).sum::<u64>() + size;
        if total > limits.max_storage {
            return Err((
                Status::NoCode("QUOTA/MAXSIZE"),
                format!(
                    "Scripts may take at most {} octets in all",
                    limits.max_storage
                ),
            ));
        }
        Ok(())
    }

    /// OK, or the NO a store error becomes (RFC 5804 response codes).
    fn answer(&self, result: Result<(), StoreError>, done: &str, conn: &mut Connection) -> Step {
        match result {
            Ok(()) => ok(conn, done),
            Err(StoreError::NoSuchScript) => refuse(
                conn,
                (
                    Status::NoCode("NONEXISTENT"),
                    "There is no script by that name".into(),
                ),
            ),
            Err(StoreError::ScriptExists) => refuse(
                conn,
                (
                    Status::NoCode("ALREADYEXISTS"),
                    "A script by that name exists".into(),
                ),
            ),
            Err(StoreError::Refused(text)) if text.contains("active") => refuse(
                conn,
                (
                    Status::NoCode("ACTIVE"),
                    "You may not delete the active script".into(),
                ),
            ),
            Err(StoreError::Internal(detail)) => {
                tracing::error!(%detail, "store error");
                refuse(
                    conn,
                    (
                        Status::NoCode("TRYLATER"),
                        "Internal error, see the server log".into(),
                    ),
                )
            }
            Err(other) => no(conn, &other.to_string()),
        }
    }
}

/// The script's text when it may be stored: UTF-8, within the size
/// limit, compiling (the error names its line).
fn checked(
    limits: &crate::config::SieveConfig,
    name: &str,
    script: Vec<u8>,
) -> Result<String, (Status, String)> {
    sieve::accept_upload(script, limits.max_script_size).map_err(|refusal| match refusal {
        sieve::Refusal::TooLarge { limit } => (
            Status::NoCode("QUOTA/MAXSIZE"),
            format!("Scripts may have at most {limit} octets"),
        ),
        sieve::Refusal::NotUtf8 => (Status::No, "A script must be UTF-8".to_owned()),
        sieve::Refusal::DoesNotCompile(e) => (Status::No, format!("{name}: {e}")),
    })
}

/// RFC 5804 §1.6: a name is UTF-8 without control characters.
fn valid_name(name: &str) -> Result<(), (Status, String)> {
    match sieve::valid_script_name(name) {
        true => Ok(()),
        false => Err((Status::No, "Invalid script name".into())),
    }
}

fn ok(conn: &mut Connection, text: &str) -> Step {
    response::status(conn, Status::Ok, None, text);
    Step::Continue
}

fn no(conn: &mut Connection, text: &str) -> Step {
    response::status(conn, Status::No, None, text);
    Step::Continue
}

fn refuse(conn: &mut Connection, (status, text): (Status, String)) -> Step {
    response::status(conn, status, None, &text);
    Step::Continue
}
