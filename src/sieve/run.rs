//! Running a compiled script against one message: tests evaluated,
//! actions collected (RFC 5228 §2.10: nothing happens until the script
//! has run to its end), the implicit keep applied. A runtime error drops
//! every action and keeps the message in INBOX: a script never loses mail.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, FixedOffset, Local, Offset, Timelike, Utc};

use super::Script;
use super::matching::{self, Captures};
use super::message::{Envelope, Message, split_address};
use super::program::*;

/// What limits a script's run (resources a hostile script could use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Actions (keep, fileinto, redirect, vacation, reject) per message.
    pub actions: usize,
    pub redirects: usize,
    /// Commands and tests evaluated, so that no script runs for long.
    pub steps: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            actions: 32,
            redirects: 4,
            steps: 100_000,
        }
    }
}

/// One thing the message's delivery must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Into the user's INBOX (explicit or implicit keep).
    Keep {
        flags: Vec<String>,
    },
    FileInto {
        mailbox: String,
        flags: Vec<String>,
        create: bool,
    },
    Redirect {
        address: String,
    },
    Vacation(VacationReply),
    /// Refuse the message: in the LMTP/SMTP dialogue (`ereject`), or with
    /// a refusal sent to its sender (`reject`).
    Reject {
        reason: String,
        in_protocol: bool,
    },
}

/// One line per action, as `letterbox sieve test` prints them.
impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Keep { flags } => write!(f, "keep{}", shown_flags(flags)),
            Action::FileInto {
                mailbox,
                flags,
                create,
            } => {
                let create = if *create { " (created if missing)" } else { "" };
                write!(f, "fileinto \"{mailbox}\"{}{create}", shown_flags(flags))
            }
            Action::Redirect { address } => write!(f, "redirect to {address}"),
            Action::Vacation(reply) => write!(
                f,
                "vacation reply: {}",
                reply.reason.lines().next().unwrap_or("")
            ),
            Action::Reject { reason, .. } => write!(f, "reject \"{reason}\""),
        }
    }
}

/// A vacation action with its strings expanded; whether a reply goes out
/// (the sender not answered lately, not a list, ...) is the deliverer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacationReply {
    pub period: Option<u64>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub addresses: Vec<String>,
    pub mime: bool,
    /// What identifies this reply for the one-per-period memory: the
    /// `:handle`, else the reason and the other arguments.
    pub handle: String,
    pub reason: String,
}

/// A failure while running: the script's actions are dropped and the
/// message kept, as without a script.
pub type RuntimeError = super::ScriptError;

/// The result of a run: the actions to carry out (never empty unless the
/// message is meant to be discarded), the per-rule trace, and the error
/// that made the message fall back to INBOX, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub actions: Vec<Action>,
    pub trace: Vec<String>,
    pub error: Option<RuntimeError>,
}

/// What the script may ask about the user's account.
pub trait Account {
    fn mailbox_exists(&self, name: &str) -> bool;
    /// The text of a script `include` names: one of the user's
    /// (`global` false) or of the sysadmin's.
    fn script(&self, global: bool, name: &str) -> Option<String>;
}

/// Runs `script` for `message` sent with `envelope`.
pub fn run(
    script: &Script,
    message: &Message,
    envelope: &Envelope,
    account: &dyn Account,
    limits: Limits,
) -> Outcome {
    run_all(&[script], message, envelope, account, limits)
}

/// Runs scripts one after the other (the sysadmin's `before`, the
/// user's, the sysadmin's `after`), as one run: their actions add up, a
/// `stop` ends them all, the implicit keep is decided at the end.
pub fn run_all(
    scripts: &[&Script],
    message: &Message,
    envelope: &Envelope,
    account: &dyn Account,
    limits: Limits,
) -> Outcome {
    let mut run = Run {
        extensions: Default::default(),
        message,
        envelope,
        account,
        limits,
        variables: HashMap::new(),
        globals: HashMap::new(),
        global_names: Vec::new(),
        captures: Vec::new(),
        flags: Vec::new(),
        actions: Vec::new(),
        keep_cancelled: false,
        steps: 0,
        trace: Vec::new(),
        included: Vec::new(),
        depth: 0,
    };
    let mut result = Ok(());
    for script in scripts {
        match run.script(script) {
            Ok(Flow::Stop) => break,
            Ok(_) => {}
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    let mut trace = std::mem::take(&mut run.trace);
    match result.and_then(|_| run.finish()) {
        Ok(actions) => Outcome {
            actions,
            trace,
            error: None,
        },
        Err(error) => {
            trace.push(format!(
                "line {}: error: {}; the message is kept",
                error.line, error.message
            ));
            Outcome {
                actions: vec![Action::Keep { flags: Vec::new() }],
                trace,
                error: Some(error),
            }
        }
    }
}

/// How a block ended.
enum Flow {
    Next,
    Stop,
    /// include's `return`: the current script ends.
    Return,
}

/// Octets a variable holds at most (about Pigeonhole's default).
const MAX_VARIABLE: usize = 4096;

/// Nested includes at most (RFC 6609 §3.2 leaves the limit to us).
const MAX_INCLUDE_DEPTH: usize = 8;
/// Includes run per message at most.
const MAX_INCLUDES: usize = 32;

struct Run<'a, 'm> {
    /// The running script's `require`s.
    extensions: std::collections::BTreeSet<String>,
    message: &'a Message<'m>,
    envelope: &'a Envelope,
    account: &'a dyn Account,
    limits: Limits,
    /// The running script's own variables.
    variables: HashMap<String, String>,
    /// Variables shared between scripts (include's `global`).
    globals: HashMap<String, String>,
    /// The names the running script declared `global`.
    global_names: Vec<String>,
    captures: Captures,
    /// imap4flags' internal variable.
    flags: Vec<String>,
    actions: Vec<Action>,
    keep_cancelled: bool,
    steps: usize,
    trace: Vec<String>,
    /// (global, name) of the scripts included so far, for `:once`.
    included: Vec<(bool, String)>,
    depth: usize,
}

type Step<T> = Result<T, RuntimeError>;

impl Run<'_, '_> {
    fn uses(&self, extension: &str) -> bool {
        self.extensions.contains(extension)
    }

    /// Runs one script with its own variables and `require`s; `return`
    /// ends only it, `stop` everything.
    fn script(&mut self, script: &Script) -> Step<Flow> {
        let saved = (
            std::mem::replace(&mut self.extensions, script.extensions.clone()),
            std::mem::take(&mut self.variables),
            std::mem::take(&mut self.global_names),
            std::mem::take(&mut self.captures),
        );
        let flow = self.block(&script.commands);
        (
            self.extensions,
            self.variables,
            self.global_names,
            self.captures,
        ) = saved;
        match flow? {
            Flow::Stop => Ok(Flow::Stop),
            Flow::Next | Flow::Return => Ok(Flow::Next),
        }
    }

    /// include (RFC 6609 §3.2).
    fn include(
        &mut self,
        line: usize,
        name: &str,
        global: bool,
        once: bool,
        optional: bool,
    ) -> Step<Flow> {
        let fail = |message: String| RuntimeError { line, message };
        // A constant name (checked at compile time): no variable can
        // point include outside the user's scripts or global_dir.
        let name = name.to_owned();
        let key = (global, name.clone());
        if once && self.included.contains(&key) {
            return Ok(Flow::Next);
        }
        if self.depth >= MAX_INCLUDE_DEPTH || self.included.len() >= MAX_INCLUDES {
            return Err(fail("includes nested or repeated too often".into()));
        }
        let where_ = if global { "global" } else { "personal" };
        let Some(text) = self.account.script(global, &name) else {
            return match optional {
                true => Ok(Flow::Next),
                false => Err(fail(format!("no {where_} script \"{name}\""))),
            };
        };
        let script = super::cache::compiled(&text)
            .map_err(|e| fail(format!("{where_} script \"{name}\": {e}")))?;
        self.trace
            .push(format!("line {line}: include {where_} \"{name}\""));
        self.included.push(key);
        self.depth += 1;
        let flow = self.script(&script);
        self.depth -= 1;
        flow
    }

    fn step(&mut self, line: usize) -> Step<()> {
        self.steps += 1;
        match self.steps > self.limits.steps {
            true => Err(RuntimeError {
                line,
                message: "the script ran too long".into(),
            }),
            false => Ok(()),
        }
    }

    fn block(&mut self, nodes: &[Node]) -> Step<Flow> {
        for node in nodes {
            self.step(node.line)?;
            match self.command(node)? {
                Flow::Next => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Next)
    }

    fn command(&mut self, node: &Node) -> Step<Flow> {
        let line = node.line;
        match &node.command {
            Command::If {
                branches,
                otherwise,
            } => {
                for (test, block) in branches {
                    let matched = self.test(test, line)?;
                    self.trace.push(format!(
                        "line {line}: test {}",
                        if matched { "matched" } else { "not matched" }
                    ));
                    if matched {
                        return self.block(block);
                    }
                }
                match otherwise {
                    Some(block) => self.block(block),
                    None => Ok(Flow::Next),
                }
            }
            Command::Stop => {
                self.trace.push(format!("line {line}: stop"));
                Ok(Flow::Stop)
            }
            Command::Keep { flags } => {
                let flags = self.action_flags(flags.as_deref());
                self.trace
                    .push(format!("line {line}: keep{}", shown_flags(&flags)));
                self.add(line, Action::Keep { flags })?;
                Ok(Flow::Next)
            }
            Command::Discard => {
                self.trace.push(format!("line {line}: discard"));
                self.keep_cancelled = true;
                Ok(Flow::Next)
            }
            Command::FileInto {
                mailbox,
                flags,
                copy,
                create,
            } => {
                let mailbox = self.expand(mailbox);
                let flags = self.action_flags(flags.as_deref());
                self.trace.push(format!(
                    "line {line}: fileinto \"{mailbox}\"{}",
                    shown_flags(&flags)
                ));
                if !*create && !self.account.mailbox_exists(&mailbox) {
                    return Err(RuntimeError {
                        line,
                        message: format!("mailbox \"{mailbox}\" does not exist (no :create)"),
                    });
                }
                self.add(
                    line,
                    Action::FileInto {
                        mailbox,
                        flags,
                        create: *create,
                    },
                )?;
                self.keep_cancelled |= !copy;
                Ok(Flow::Next)
            }
            Command::Redirect { address, copy } => {
                let written = self.expand(address);
                // RFC 5228 §2.4.2.3: `Bart <bart@example.com>` is fine.
                let Some(address) = single_address(&written) else {
                    return Err(RuntimeError {
                        line,
                        message: format!("\"{written}\" is not an address"),
                    });
                };
                self.trace
                    .push(format!("line {line}: redirect to {address}"));
                let redirects = self
                    .actions
                    .iter()
                    .filter(|a| matches!(a, Action::Redirect { .. }))
                    .count();
                if redirects >= self.limits.redirects {
                    return Err(RuntimeError {
                        line,
                        message: "too many redirects".into(),
                    });
                }
                self.add(line, Action::Redirect { address })?;
                self.keep_cancelled |= !copy;
                Ok(Flow::Next)
            }
            Command::Flags {
                change,
                variable,
                flags,
            } => {
                let given: Vec<String> = flags.iter().map(|f| self.expand(f)).collect();
                let current = match variable {
                    Some(name) => split_flags(&self.var(name)),
                    None => self.flags.clone(),
                };
                let updated = change_flags(current, *change, &split_flags(&given.join(" ")));
                match variable {
                    Some(name) => {
                        self.set_var(name, updated.join(" "));
                    }
                    None => self.flags = updated,
                }
                Ok(Flow::Next)
            }
            Command::Set {
                name,
                value,
                modifiers,
            } => {
                let mut value = self.expand(value);
                for modifier in modifiers {
                    value = apply_modifier(*modifier, &value);
                }
                self.set_var(name, value);
                Ok(Flow::Next)
            }
            Command::Vacation(vacation) => {
                let reason = self.expand(&vacation.reason);
                let subject = vacation.subject.as_ref().map(|s| self.expand(s));
                let from = vacation.from.as_ref().map(|s| self.expand(s));
                let addresses: Vec<String> =
                    vacation.addresses.iter().map(|a| self.expand(a)).collect();
                let handle = match &vacation.handle {
                    Some(handle) => self.expand(handle),
                    None => format!(
                        "{reason}\u{0}{}\u{0}{}",
                        subject.clone().unwrap_or_default(),
                        from.clone().unwrap_or_default()
                    ),
                };
                if self
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Vacation(_)))
                {
                    return Err(RuntimeError {
                        line,
                        message: "vacation more than once".into(),
                    });
                }
                self.trace.push(format!("line {line}: vacation"));
                let reply = VacationReply {
                    period: vacation.period,
                    subject,
                    from,
                    addresses,
                    mime: vacation.mime,
                    handle,
                    reason,
                };
                self.add(line, Action::Vacation(reply))?;
                Ok(Flow::Next)
            }
            Command::Include {
                name,
                global,
                once,
                optional,
            } => self.include(line, name, *global, *once, *optional),
            Command::Return => {
                self.trace.push(format!("line {line}: return"));
                Ok(Flow::Return)
            }
            Command::Global(names) => {
                for name in names {
                    if !self.global_names.contains(name) {
                        self.global_names.push(name.clone());
                    }
                }
                Ok(Flow::Next)
            }
            Command::Reject {
                reason,
                in_protocol,
            } => {
                let reason = self.expand(reason);
                self.trace.push(format!(
                    "line {line}: {}reject \"{reason}\"",
                    if *in_protocol { "e" } else { "" }
                ));
                self.add(
                    line,
                    Action::Reject {
                        reason,
                        in_protocol: *in_protocol,
                    },
                )?;
                self.keep_cancelled = true;
                Ok(Flow::Next)
            }
        }
    }

    /// Queues an action; a second copy into the same place is the same
    /// delivery (RFC 5228 §2.10.3), its flags added to the first's.
    fn add(&mut self, line: usize, action: Action) -> Step<()> {
        // keep is `fileinto "INBOX"` (RFC 5228 §4.3): one place.
        let place = |a: &Action| match a {
            Action::Keep { .. } => Some("INBOX".to_owned()),
            Action::FileInto { mailbox, .. } if mailbox.eq_ignore_ascii_case("INBOX") => {
                Some("INBOX".to_owned())
            }
            Action::FileInto { mailbox, .. } => Some(mailbox.clone()),
            Action::Redirect { address } => Some(format!("@{}", address.to_ascii_lowercase())),
            _ => None,
        };
        let wanted = place(&action);
        let existing = self
            .actions
            .iter_mut()
            .find(|a| wanted.is_some() && place(a) == wanted);
        if let Some(existing) = existing {
            // RFC 5232 §3: of two stores into one mailbox, the last one's
            // flags count.
            match (&mut *existing, action) {
                // keep and fileinto "INBOX" together are the keep.
                (Action::FileInto { .. }, Action::Keep { flags })
                | (Action::Keep { .. }, Action::FileInto { flags, .. }) => {
                    *existing = Action::Keep { flags };
                }
                (
                    Action::Keep { flags: old } | Action::FileInto { flags: old, .. },
                    Action::Keep { flags } | Action::FileInto { flags, .. },
                ) => *old = flags,
                _ => {}
            }
            return Ok(());
        }
        // RFC 5429 §2.4: one reject at most.
        let rejects = |a: &Action| matches!(a, Action::Reject { .. });
        if rejects(&action) && self.actions.iter().any(rejects) {
            return Err(RuntimeError {
                line,
                message: "a second reject".into(),
            });
        }
        if self.actions.len() >= self.limits.actions {
            return Err(RuntimeError {
                line,
                message: "too many actions".into(),
            });
        }
        self.actions.push(action);
        Ok(())
    }

    /// The flags an action stores: its `:flags`, else the internal
    /// variable (imap4flags; empty unless a script set it).
    fn action_flags(&self, flags: Option<&[String]>) -> Vec<String> {
        match flags {
            Some(flags) => {
                let expanded: Vec<String> = flags.iter().map(|f| self.expand(f)).collect();
                split_flags(&expanded.join(" "))
            }
            None => self.flags.clone(),
        }
    }

    /// The actions to carry out, the implicit keep added unless cancelled.
    fn finish(&mut self) -> Step<Vec<Action>> {
        let mut actions = std::mem::take(&mut self.actions);
        let rejects = actions.iter().any(|a| matches!(a, Action::Reject { .. }));
        let delivers = actions.iter().any(|a| {
            matches!(
                a,
                Action::Keep { .. }
                    | Action::FileInto { .. }
                    | Action::Redirect { .. }
                    | Action::Vacation(_)
            )
        });
        // RFC 5429 §2.1: reject cannot go with keep, fileinto, redirect
        // or vacation.
        if rejects && delivers {
            return Err(RuntimeError {
                line: 0,
                message: "reject together with delivering actions".into(),
            });
        }
        // A store into INBOX already is the keep (RFC 5228 §2.10.3).
        let inbox = |a: &Action| match a {
            Action::Keep { .. } => true,
            Action::FileInto { mailbox, .. } => mailbox.eq_ignore_ascii_case("INBOX"),
            _ => false,
        };
        let kept = actions.iter().position(inbox);
        if let (false, Some(at)) = (self.keep_cancelled, kept)
            && let Action::FileInto { flags, .. } = &actions[at]
        {
            actions[at] = Action::Keep {
                flags: flags.clone(),
            };
        }
        if !self.keep_cancelled && kept.is_none() {
            let flags = self.flags.clone();
            self.trace
                .push(format!("implicit keep{}", shown_flags(&flags)));
            actions.push(Action::Keep { flags });
        }
        Ok(actions)
    }

    /// A variable's value: the shared one for a name declared `global`
    /// or written `global.NAME` (RFC 6609 §3.4, §3.5); empty when unset.
    fn var(&self, name: &str) -> String {
        let name = name.to_ascii_lowercase();
        let table = match self.shared_name(&name) {
            Some(shared) => self.globals.get(shared),
            None => self.variables.get(&name),
        };
        table.cloned().unwrap_or_default()
    }

    fn set_var(&mut self, name: &str, mut value: String) {
        // RFC 5229 §6 lets us bound a variable; `set "a" "${a}${a}"` over
        // a run of rules must not take the memory of the whole server.
        if value.len() > MAX_VARIABLE {
            let mut end = MAX_VARIABLE;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
        }
        let name = name.to_ascii_lowercase();
        match self.shared_name(&name) {
            Some(shared) => {
                let shared = shared.to_owned();
                self.globals.insert(shared, value);
            }
            None => {
                self.variables.insert(name, value);
            }
        }
    }

    /// The name in the shared table, for a shared variable.
    fn shared_name<'n>(&self, name: &'n str) -> Option<&'n str> {
        if let Some(rest) = name.strip_prefix("global.") {
            return Some(rest);
        }
        self.global_names.iter().any(|g| g == name).then_some(name)
    }

    /// A string with `${...}` references replaced (variables extension).
    fn expand(&self, text: &str) -> String {
        match self.uses("variables") {
            true => expand(text, &|name| self.var(name), &self.captures),
            false => text.to_owned(),
        }
    }

    fn expand_all(&self, texts: &[String]) -> Vec<String> {
        texts.iter().map(|t| self.expand(t)).collect()
    }

    fn test(&mut self, test: &Test, line: usize) -> Step<bool> {
        self.step(line)?;
        Ok(match test {
            Test::True => true,
            Test::False => false,
            Test::Not(inner) => !self.test(inner, line)?,
            Test::AllOf(tests) => {
                for test in tests {
                    if !self.test(test, line)? {
                        return Ok(false);
                    }
                }
                true
            }
            Test::AnyOf(tests) => {
                for test in tests {
                    if self.test(test, line)? {
                        return Ok(true);
                    }
                }
                false
            }
            Test::Header {
                names,
                keys,
                matcher,
                index,
            } => {
                // :index counts the fields of all the names, in message
                // order (RFC 5260 §6).
                let values = pick(self.message.headers(&self.expand_all(names)), *index);
                self.matches(*matcher, &values, keys)
            }
            Test::Address {
                names,
                keys,
                part,
                matcher,
                index,
            } => {
                let fields = pick(self.message.address_lists(&self.expand_all(names)), *index);
                let values: Vec<String> = fields
                    .iter()
                    .flatten()
                    .filter_map(|a| address_part(a, *part))
                    .collect();
                self.matches(*matcher, &values, keys)
            }
            Test::Envelope {
                parts,
                keys,
                part,
                matcher,
            } => {
                let mut values = Vec::new();
                for name in self.expand_all(parts) {
                    let address = match name.to_ascii_lowercase().as_str() {
                        "from" => Some(self.envelope.from.clone()),
                        "to" => Some(self.envelope.to.clone()),
                        "auth" => self.envelope.auth.clone(),
                        _ => None,
                    };
                    let Some(address) = address else { continue };
                    let address = address
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned();
                    // The null sender is "" whatever the part (RFC 5228
                    // §5.4), but no address for :count (RFC 5231 §4.2).
                    if address.is_empty() {
                        if !matches!(matcher.kind, MatchKind::Count(_)) {
                            values.push(String::new());
                        }
                    } else if let Some(value) = address_part(&address, *part) {
                        values.push(value);
                    }
                }
                self.matches(*matcher, &values, keys)
            }
            Test::Exists(names) => self
                .expand_all(names)
                .iter()
                .all(|n| self.message.has_header(n)),
            Test::Size { over, limit } => match over {
                true => self.message.size() > *limit,
                false => self.message.size() < *limit,
            },
            Test::Body {
                transform,
                keys,
                matcher,
            } => {
                let values = match transform {
                    BodyTransform::Raw => self.message.raw_body().into_iter().collect(),
                    BodyTransform::Text => self.message.body_parts(None),
                    BodyTransform::Content(types) => {
                        self.message.body_parts(Some(&self.expand_all(types)))
                    }
                };
                // RFC 5173 §6: body's :matches sets no match variables.
                let keys = self.expand_all(keys);
                matching::any_match(*matcher, &values, &keys).0
            }
            Test::HasFlag {
                variables,
                keys,
                matcher,
            } => {
                let values = match variables.is_empty() {
                    true => self.flags.clone(),
                    false => variables
                        .iter()
                        .flat_map(|v| split_flags(&self.var(v)))
                        .collect(),
                };
                // A key such as "b A" is a list of flags (RFC 5232 §4).
                let keys: Vec<String> = split_flags(&self.expand_all(keys).join(" "));
                let (matched, captures) = matching::any_match(*matcher, &values, &keys);
                if let Some(captures) = captures.filter(|_| self.uses("variables")) {
                    self.captures = captures;
                }
                matched
            }
            Test::MailboxExists(names) => self
                .expand_all(names)
                .iter()
                .all(|n| self.account.mailbox_exists(n)),
            Test::String {
                sources,
                keys,
                matcher,
            } => {
                let values: Vec<String> = self.expand_all(sources);
                // RFC 5229 §5: for :count, empty strings are not counted.
                let values = match matcher.kind {
                    MatchKind::Count(_) => values.into_iter().filter(|v| !v.is_empty()).collect(),
                    _ => values,
                };
                self.matches(*matcher, &values, keys)
            }
            Test::Date {
                header,
                zone,
                part,
                keys,
                matcher,
                index,
            } => {
                let part = self.expand(part).to_ascii_lowercase();
                let zone = match zone {
                    Zone::Fixed(text) => match parse_zone(&self.expand(text)) {
                        Some(zone) => ZoneChoice::Fixed(zone),
                        None => return Ok(false),
                    },
                    Zone::Original => ZoneChoice::Original,
                    Zone::Local => ZoneChoice::Local,
                };
                let dates: Vec<DateTime<FixedOffset>> = match header {
                    None => vec![Utc::now().fixed_offset()],
                    // Without :index only the first field counts (RFC 5260 §4).
                    Some(name) => {
                        let fields = self.message.raw_header(&self.expand(name));
                        let chosen = match index {
                            Some(_) => pick(fields, *index),
                            None => fields.into_iter().take(1).collect(),
                        };
                        chosen
                            .iter()
                            .filter_map(|value| parse_date(value))
                            .collect()
                    }
                };
                let values: Vec<String> = dates
                    .into_iter()
                    .filter_map(|date| date_part(zone.apply(date), &part))
                    .collect();
                self.matches(*matcher, &values, keys)
            }
        })
    }

    /// Matches `values` against the expanded `keys`, keeping `:matches`
    /// captures for `${1}`... when the test succeeds.
    fn matches(&mut self, matcher: Matcher, values: &[String], keys: &[String]) -> bool {
        let keys = self.expand_all(keys);
        let (matched, captures) = matching::any_match(matcher, values, &keys);
        if let Some(captures) = captures.filter(|_| self.uses("variables")) {
            self.captures = captures;
        }
        matched
    }
}

/// The one address (`local@domain`) in `text`, as RFC 5322 writes it;
/// none with characters that have no place in an SMTP path (a quoted
/// local part may hold CR LF or `>`: they would end the RCPT command).
fn single_address(text: &str) -> Option<String> {
    let items = crate::mail::address::parse_list(text.as_bytes());
    let [crate::mail::address::Item::Mailbox { mailbox, host, .. }] = items.as_slice() else {
        return None;
    };
    let address = format!(
        "{}@{}",
        String::from_utf8_lossy(mailbox),
        String::from_utf8_lossy(host)
    );
    let unsafe_char = |c: char| c.is_control() || c.is_whitespace() || "<>\"".contains(c);
    (!host.is_empty() && !address.contains(unsafe_char)).then_some(address)
}

/// The `:index` occurrence (1-based, from the end with `:last`), or all.
fn pick<T>(mut values: Vec<T>, index: Option<Index>) -> Vec<T> {
    let Some(Index { position, last }) = index else {
        return values;
    };
    let position = position as usize;
    if position == 0 || position > values.len() {
        return Vec::new();
    }
    let at = if last {
        values.len() - position
    } else {
        position - 1
    };
    vec![values.swap_remove(at)]
}

/// One part of an address (RFC 5228 §2.7.4, RFC 5233 with `+` as the
/// separator); `None` when the address has no such part.
fn address_part(address: &str, part: AddressPart) -> Option<String> {
    let (local, domain) = split_address(address);
    Some(match part {
        AddressPart::All => address.to_owned(),
        AddressPart::LocalPart => local.to_owned(),
        AddressPart::Domain => domain.to_owned(),
        AddressPart::User => local
            .split_once('+')
            .map_or(local, |(user, _)| user)
            .to_owned(),
        AddressPart::Detail => local.split_once('+')?.1.to_owned(),
    })
}

/// imap4flags: a list of flags, each item possibly holding several
/// separated by spaces; duplicates (case-insensitive) removed.
fn split_flags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for flag in text.split_whitespace() {
        // \Recent is the server's, never a script's (RFC 5232 §2).
        if flag.eq_ignore_ascii_case("\\Recent") {
            continue;
        }
        if !out.iter().any(|f| f.eq_ignore_ascii_case(flag)) {
            out.push(flag.to_owned());
        }
    }
    out
}

fn change_flags(current: Vec<String>, change: FlagChange, given: &[String]) -> Vec<String> {
    match change {
        FlagChange::Set => split_flags(&given.join(" ")),
        FlagChange::Add => split_flags(&[current.join(" "), given.join(" ")].join(" ")),
        FlagChange::Remove => current
            .into_iter()
            .filter(|f| !given.iter().any(|g| g.eq_ignore_ascii_case(f)))
            .collect(),
    }
}

fn shown_flags(flags: &[String]) -> String {
    match flags.is_empty() {
        true => String::new(),
        false => format!(" with flags {}", flags.join(" ")),
    }
}

/// RFC 5229 §3: `${name}` and `${N}` replaced; anything else that is not
/// a valid reference stays as written. Unknown names are empty.
pub fn expand(text: &str, variable: &dyn Fn(&str) -> String, captures: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let reference = after.find('}').map(|end| (&after[..end], end));
        match reference {
            Some((name, end)) if is_reference(name) => {
                let value = match name.parse::<usize>() {
                    Ok(n) => captures.get(n).cloned().unwrap_or_default(),
                    Err(_) => variable(name),
                };
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `${3}`, `${name}` or, with a namespace, `${global.name}`.
fn is_reference(name: &str) -> bool {
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return !name.is_empty();
    }
    name.split('.').all(|part| {
        let mut chars = part.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// RFC 5229 §4.1: the case modifiers change ASCII letters only.
fn apply_modifier(modifier: Modifier, value: &str) -> String {
    match modifier {
        Modifier::Lower => value.to_ascii_lowercase(),
        Modifier::Upper => value.to_ascii_uppercase(),
        Modifier::LowerFirst | Modifier::UpperFirst => {
            let mut chars = value.chars();
            match chars.next() {
                None => String::new(),
                Some(first) => {
                    let first = match modifier {
                        Modifier::LowerFirst => first.to_ascii_lowercase(),
                        _ => first.to_ascii_uppercase(),
                    };
                    first.to_string() + chars.as_str()
                }
            }
        }
        Modifier::QuoteWildcard => value.chars().fold(String::new(), |mut out, c| {
            if matches!(c, '*' | '?' | '\\') {
                out.push('\\');
            }
            out.push(c);
            out
        }),
        Modifier::Length => value.chars().count().to_string(),
    }
}

enum ZoneChoice {
    Fixed(FixedOffset),
    Original,
    Local,
}

impl ZoneChoice {
    fn apply(&self, date: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        match self {
            ZoneChoice::Fixed(zone) => date.with_timezone(zone),
            ZoneChoice::Original => date,
            ZoneChoice::Local => date.with_timezone(&Local).fixed_offset(),
        }
    }
}

/// `+0100` / `-0730`.
fn parse_zone(text: &str) -> Option<FixedOffset> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// A field's date: after its last `;` when it has one (a Received
/// field, RFC 5260 §4), comments dropped.
fn parse_date(value: &str) -> Option<DateTime<FixedOffset>> {
    let value = value.rsplit_once(';').map_or(value, |(_, date)| date);
    let cleaned: String = value.split('(').next().unwrap_or(value).trim().to_owned();
    DateTime::parse_from_rfc2822(&cleaned).ok().or_else(|| {
        let stamp = crate::mail::date::parse(value.as_bytes())?;
        Some(DateTime::from_timestamp(stamp, 0)?.fixed_offset())
    })
}

/// RFC 5260 §4.2's date parts.
fn date_part(date: DateTime<FixedOffset>, part: &str) -> Option<String> {
    let zone = {
        let seconds = date.offset().fix().local_minus_utc();
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.abs() / 60;
        format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
    };
    Some(match part {
        "year" => format!("{:04}", date.year()),
        "month" => format!("{:02}", date.month()),
        "day" => format!("{:02}", date.day()),
        "date" => date.format("%Y-%m-%d").to_string(),
        "julian" => {
            // Modified Julian Day: days since 1858-11-17.
            let epoch = chrono::NaiveDate::from_ymd_opt(1858, 11, 17)?;
            (date.date_naive() - epoch).num_days().to_string()
        }
        "hour" => format!("{:02}", date.hour()),
        "minute" => format!("{:02}", date.minute()),
        "second" => format!("{:02}", date.second()),
        "time" => date.format("%H:%M:%S").to_string(),
        // RFC 5260 §4.2: a zero offset is written Z.
        "iso8601" => date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "std11" => date.format("%a, %d %b %Y %H:%M:%S ").to_string() + &zone,
        "zone" => zone,
        "weekday" => date.weekday().num_days_from_sunday().to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_expand() {
        let lookup = |name: &str| match name.to_ascii_lowercase().as_str() {
            "company" => "ACME".to_owned(),
            _ => String::new(),
        };
        let variables: &dyn Fn(&str) -> String = &lookup;
        let captures = vec!["all".to_owned(), "one".to_owned()];
        assert_eq!(
            expand("${company} ${1} ${Company}", variables, &captures),
            "ACME one ACME"
        );
        assert_eq!(
            expand("${unknown}|${2}|${ bad}|${", variables, &captures),
            "||${ bad}|${"
        );
        assert_eq!(
            apply_modifier(Modifier::QuoteWildcard, "a*b?c\\"),
            "a\\*b\\?c\\\\"
        );
        assert_eq!(apply_modifier(Modifier::UpperFirst, "juMP"), "JuMP");
        assert_eq!(apply_modifier(Modifier::Length, "été"), "3");
    }

    struct Scripts;

    impl Account for Scripts {
        fn mailbox_exists(&self, name: &str) -> bool {
            name == "INBOX"
        }

        fn script(&self, global: bool, name: &str) -> Option<String> {
            let text = match (global, name) {
                (true, "spam") => {
                    "require [\"include\", \"variables\", \"fileinto\", \"mailbox\"];\n\
                    global \"junk\";\nif header :is \"x-spam\" \"yes\" { fileinto :create \"${junk}\"; stop; }\n\
                    set \"global.seen\" \"yes\";"
                }
                (false, "lists") => {
                    "require [\"include\", \"fileinto\", \"mailbox\"];\n\
                    if not exists \"list-id\" { return; }\nfileinto :create \"Lists\";"
                }
                (false, "loop") => "require \"include\";\ninclude :personal \"loop\";",
                _ => return None,
            };
            Some(text.to_owned())
        }
    }

    fn outcome(script: &str, headers: &str) -> Outcome {
        let script = super::super::compile(script).unwrap();
        let raw = format!("{headers}\r\n\r\nbody\r\n");
        let message = Message::new(raw.as_bytes());
        run(
            &script,
            &message,
            &Envelope::default(),
            &Scripts,
            Limits::default(),
        )
    }

    fn shown(outcome: &Outcome) -> Vec<String> {
        outcome.actions.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn include_return_and_global_variables() {
        let main = "require [\"include\", \"variables\", \"imap4flags\"];\nglobal \"junk\";\nset \"junk\" \"Spam\";\n\
                    include :global \"spam\";\ninclude :personal \"lists\";\ninclude :once :personal \"lists\";\n\
                    if string :is \"${global.seen}\" \"yes\" { addflag \"$checked\"; }";
        let spam = outcome(main, "X-Spam: yes");
        assert_eq!(
            shown(&spam),
            ["fileinto \"Spam\" (created if missing)"],
            "{:?}",
            spam.trace
        );
        let list = outcome(main, "List-Id: <l.example>");
        assert_eq!(
            shown(&list),
            // fileinto cancelled the implicit keep; the flag came after it.
            ["fileinto \"Lists\" (created if missing)"],
            "{:?}",
            list.trace
        );
        let neither = outcome(main, "Subject: x");
        assert_eq!(
            shown(&neither),
            ["keep with flags $checked"],
            "return came back to the includer"
        );
        let missing = outcome("require \"include\";\ninclude \"nope\";", "Subject: x");
        assert!(
            missing
                .error
                .unwrap()
                .message
                .contains("no personal script")
        );
        let optional = outcome(
            "require \"include\";\ninclude :optional \"nope\";",
            "Subject: x",
        );
        assert!(optional.error.is_none());
        let looped = outcome("require \"include\";\ninclude \"loop\";", "Subject: x");
        assert!(looped.error.unwrap().message.contains("too often"));
    }

    #[test]
    fn hostile_scripts_stay_bounded() {
        // A quoted local part carrying CR LF would end the RCPT command.
        let injected = outcome(
            "require \"encoded-character\";\nredirect \"\\\"x${hex:0d 0a}RSET\\\"@a.b\";",
            "Subject: x",
        );
        assert!(injected.error.is_some(), "{:?}", injected.actions);
        assert_eq!(shown(&injected), ["keep"]);
        // Doubling a variable 40 times stops at the bound.
        let doubling = format!(
            "require [\"variables\", \"relational\", \"comparator-i;ascii-numeric\"];\n\
             set \"a\" \"abcdefgh\";\n{}set :length \"n\" \"${{a}}\";\n\
             if string :value \"gt\" :comparator \"i;ascii-numeric\" \"${{n}}\" \"{MAX_VARIABLE}\" {{ discard; }}",
            "set \"a\" \"${a}${a}\";\n".repeat(40)
        );
        assert_eq!(shown(&outcome(&doubling, "Subject: x")), ["keep"]);
        for name in ["${x}", "../x", "/etc/x", ".hidden"] {
            let script =
                format!("require [\"include\", \"variables\"];\ninclude :global \"{name}\";");
            assert!(super::super::compile(&script).is_err(), "{name}");
        }
    }

    #[test]
    fn flags_and_dates() {
        let flags = change_flags(
            vec!["\\Seen".into()],
            FlagChange::Add,
            &["\\flagged \\seen".into()],
        );
        assert_eq!(flags, ["\\Seen", "\\flagged"]);
        assert_eq!(
            change_flags(flags, FlagChange::Remove, &["\\SEEN".into()]),
            ["\\flagged"]
        );
        let date = parse_date("Fri, 12 Aug 2005 16:00:00 -0700 (PDT)").unwrap();
        assert_eq!(
            date_part(date, "std11").unwrap(),
            "Fri, 12 Aug 2005 16:00:00 -0700"
        );
        assert_eq!(
            date_part(date, "iso8601").unwrap(),
            "2005-08-12T16:00:00-07:00"
        );
        assert_eq!(date_part(date, "julian").unwrap(), "53594");
        assert_eq!(date_part(date, "weekday").unwrap(), "5");
        let utc = date.with_timezone(&parse_zone("+0000").unwrap());
        assert_eq!(date_part(utc, "hour").unwrap(), "23");
    }
}
