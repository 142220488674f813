//! From the generic tree to a [`Script`]: `require` checked, every
//! command, test and tag known and with the arguments it takes, the
//! extensions in use required, encoded characters decoded.

use std::collections::{BTreeSet, VecDeque};

use super::encoded;
use super::program::*;
use super::syntax::{self, Argument};

/// The extensions this interpreter runs (RFC 5228 §3.2 `require` names).
pub const EXTENSIONS: &[&str] = &[
    "fileinto",
    "envelope",
    "encoded-character",
    "imap4flags",
    "body",
    "variables",
    "vacation",
    "vacation-seconds",
    "copy",
    "mailbox",
    "subaddress",
    "relational",
    "date",
    "index",
    "reject",
    "ereject",
    "comparator-i;ascii-numeric",
    "include",
];

/// A script ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub commands: Vec<Node>,
    pub extensions: BTreeSet<String>,
}

/// Why a script cannot run, and where.
pub type CompileError = super::ScriptError;

type Result<T> = std::result::Result<T, CompileError>;

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T> {
    Err(CompileError {
        line,
        message: message.into(),
    })
}

/// Compiles a script's text.
pub fn compile(text: &str) -> Result<Script> {
    let commands = syntax::parse(text).map_err(|e| CompileError {
        line: e.line,
        message: e.message,
    })?;
    let mut compiler = Compiler::default();
    let mut body = commands.as_slice();
    while let Some((first, rest)) = body.split_first() {
        if first.name != "require" {
            break;
        }
        compiler.require(first)?;
        body = rest;
    }
    let commands = compiler.block(body)?;
    Ok(Script {
        commands,
        extensions: compiler.required,
    })
}

#[derive(Default)]
struct Compiler {
    required: BTreeSet<String>,
}

/// How many values a tag takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Param {
    None,
    String,
    List,
    Number,
}

/// The arguments of one command or test: its tags (with their values)
/// and the positional arguments after them.
struct Args {
    line: usize,
    tags: Vec<(String, Option<Argument>)>,
    positional: VecDeque<Argument>,
}

/// The tags every match-type test takes.
const MATCH_TAGS: &[(&str, Param)] = &[
    ("comparator", Param::String),
    ("is", Param::None),
    ("contains", Param::None),
    ("matches", Param::None),
    ("value", Param::String),
    ("count", Param::String),
];
const ADDRESS_PART_TAGS: &[(&str, Param)] = &[
    ("all", Param::None),
    ("localpart", Param::None),
    ("domain", Param::None),
    ("user", Param::None),
    ("detail", Param::None),
];
const INDEX_TAGS: &[(&str, Param)] = &[("index", Param::Number), ("last", Param::None)];

impl Compiler {
    fn require(&mut self, command: &syntax::Command) -> Result<()> {
        let line = command.line;
        let names = match command.arguments.as_slice() {
            [Argument::String(name)] => vec![name.clone()],
            [Argument::List(names)] => names.clone(),
            _ => return fail(line, "require takes a string list"),
        };
        for name in names {
            if !EXTENSIONS.contains(&name.as_str()) {
                return fail(line, format!("unsupported extension \"{name}\""));
            }
            // RFC 6131 §2: vacation-seconds implies vacation.
            if name == "vacation-seconds" {
                self.required.insert("vacation".to_owned());
            }
            self.required.insert(name);
        }
        Ok(())
    }

    fn has(&self, extension: &str) -> bool {
        self.required.contains(extension)
    }

    fn need(&self, extension: &str, line: usize, what: &str) -> Result<()> {
        match self.has(extension) {
            true => Ok(()),
            false => fail(line, format!("{what} needs require \"{extension}\"")),
        }
    }

    /// A string as the script means it: encoded characters decoded.
    fn text(&self, text: String) -> String {
        match self.has("encoded-character") {
            true => encoded::decode(&text),
            false => text,
        }
    }

    fn args(
        &self,
        arguments: &[Argument],
        spec: &[&[(&str, Param)]],
        line: usize,
        what: &str,
    ) -> Result<Args> {
        let mut args = Args {
            line,
            tags: Vec::new(),
            positional: VecDeque::new(),
        };
        let mut iter = arguments.iter().cloned().peekable();
        while let Some(argument) = iter.next() {
            let Argument::Tag(tag) = argument else {
                args.positional.push_back(argument);
                continue;
            };
            let Some(&(_, param)) = spec
                .iter()
                .flat_map(|s| s.iter())
                .find(|(name, _)| *name == tag)
            else {
                return fail(line, format!("{what} has no :{tag} argument"));
            };
            if args.tags.iter().any(|(t, _)| *t == tag) {
                return fail(line, format!(":{tag} given twice"));
            }
            let value = match param {
                Param::None => None,
                _ => {
                    let value = iter.next();
                    let fits = matches!(
                        (&value, param),
                        (Some(Argument::String(_)), Param::String)
                            | (Some(Argument::String(_) | Argument::List(_)), Param::List)
                            | (Some(Argument::Number(_)), Param::Number)
                    );
                    if !fits {
                        return fail(line, format!(":{tag} needs a value"));
                    }
                    value
                }
            };
            args.tags.push((tag, value));
        }
        Ok(args)
    }

    fn block(&self, commands: &[syntax::Command]) -> Result<Vec<Node>> {
        let mut nodes = Vec::new();
        let mut index = 0;
        while index < commands.len() {
            let command = &commands[index];
            index += 1;
            let line = command.line;
            if command.name == "if" {
                let mut branches = vec![self.branch(command)?];
                let mut otherwise = None;
                while let Some(next) = commands.get(index) {
                    match next.name.as_str() {
                        "elsif" => branches.push(self.branch(next)?),
                        "else" => {
                            otherwise = Some(self.bare_block(next)?);
                            index += 1;
                            break;
                        }
                        _ => break,
                    }
                    index += 1;
                }
                nodes.push(Node {
                    line,
                    command: Command::If {
                        branches,
                        otherwise,
                    },
                });
                continue;
            }
            let compiled = self.command(command)?;
            nodes.push(Node {
                line,
                command: compiled,
            });
        }
        Ok(nodes)
    }

    fn branch(&self, command: &syntax::Command) -> Result<(Test, Vec<Node>)> {
        let line = command.line;
        let ([test], Some(block)) = (command.tests.as_slice(), &command.block) else {
            return fail(line, format!("{} needs one test and a block", command.name));
        };
        if !command.arguments.is_empty() {
            return fail(
                line,
                format!("{} takes no arguments before its test", command.name),
            );
        }
        Ok((self.test(test)?, self.block(block)?))
    }

    fn bare_block(&self, command: &syntax::Command) -> Result<Vec<Node>> {
        match (
            &command.block,
            command.arguments.is_empty() && command.tests.is_empty(),
        ) {
            (Some(block), true) => self.block(block),
            _ => fail(command.line, format!("{} takes only a block", command.name)),
        }
    }

    fn command(&self, command: &syntax::Command) -> Result<Command> {
        let line = command.line;
        let name = command.name.as_str();
        match name {
            "require" => return fail(line, "require must come before other commands"),
            "elsif" | "else" => return fail(line, format!("{name} without if")),
            _ if command.block.is_some() || !command.tests.is_empty() => {
                return fail(line, format!("{name} takes no test or block"));
            }
            _ => {}
        }
        let args = |spec: &[&[(&str, Param)]]| self.args(&command.arguments, spec, line, name);
        let compiled = match name {
            "stop" => {
                args(&[])?.done()?;
                Command::Stop
            }
            "discard" => {
                args(&[])?.done()?;
                Command::Discard
            }
            "keep" => {
                let mut a = args(&[&[("flags", Param::List)]])?;
                let flags = self.flags_tag(&mut a)?;
                a.done()?;
                Command::Keep { flags }
            }
            "fileinto" => {
                self.need("fileinto", line, "fileinto")?;
                let mut a = args(&[&[
                    ("flags", Param::List),
                    ("copy", Param::None),
                    ("create", Param::None),
                ]])?;
                let flags = self.flags_tag(&mut a)?;
                let copy = self.flag_tag(&mut a, "copy", "copy")?;
                let create = self.flag_tag(&mut a, "create", "mailbox")?;
                let mailbox = self.text(a.string("a mailbox name")?);
                a.done()?;
                Command::FileInto {
                    mailbox,
                    flags,
                    copy,
                    create,
                }
            }
            "redirect" => {
                let mut a = args(&[&[("copy", Param::None)]])?;
                let copy = self.flag_tag(&mut a, "copy", "copy")?;
                let address = self.text(a.string("an address")?);
                a.done()?;
                Command::Redirect { address, copy }
            }
            "setflag" | "addflag" | "removeflag" => {
                self.need("imap4flags", line, name)?;
                let mut a = args(&[])?;
                let first = a.list("flags")?;
                let (variable, flags) = match a.positional.is_empty() {
                    true => (None, first),
                    false => {
                        let [variable] = first.as_slice() else {
                            return fail(line, "the variable name must be one string");
                        };
                        self.need("variables", line, "a flag variable")?;
                        (Some(variable_name(variable, line)?), a.list("flags")?)
                    }
                };
                a.done()?;
                let change = match name {
                    "setflag" => FlagChange::Set,
                    "addflag" => FlagChange::Add,
                    _ => FlagChange::Remove,
                };
                Command::Flags {
                    change,
                    variable,
                    flags: flags.into_iter().map(|f| self.text(f)).collect(),
                }
            }
            "set" => {
                self.need("variables", line, "set")?;
                let spec: &[(&str, Param)] = &[
                    ("lower", Param::None),
                    ("upper", Param::None),
                    ("lowerfirst", Param::None),
                    ("upperfirst", Param::None),
                    ("quotewildcard", Param::None),
                    ("length", Param::None),
                ];
                let mut a = args(&[spec])?;
                let mut modifiers: Vec<Modifier> = Vec::new();
                for (tag, _) in std::mem::take(&mut a.tags) {
                    let modifier = match tag.as_str() {
                        "lower" => Modifier::Lower,
                        "upper" => Modifier::Upper,
                        "lowerfirst" => Modifier::LowerFirst,
                        "upperfirst" => Modifier::UpperFirst,
                        "quotewildcard" => Modifier::QuoteWildcard,
                        _ => Modifier::Length,
                    };
                    if modifiers
                        .iter()
                        .any(|m| m.precedence() == modifier.precedence())
                    {
                        return fail(line, "two set modifiers of the same precedence");
                    }
                    modifiers.push(modifier);
                }
                modifiers.sort_by_key(|m| std::cmp::Reverse(m.precedence()));
                let name = variable_name(&a.string("a variable name")?, line)?;
                let value = self.text(a.string("a value")?);
                a.done()?;
                Command::Set {
                    name,
                    value,
                    modifiers,
                }
            }
            "vacation" => {
                self.need("vacation", line, "vacation")?;
                let mut a = args(&[&[
                    ("days", Param::Number),
                    ("seconds", Param::Number),
                    ("subject", Param::String),
                    ("from", Param::String),
                    ("addresses", Param::List),
                    ("mime", Param::None),
                    ("handle", Param::String),
                ]])?;
                let days = a.take("days").map(|v| number(&v));
                let seconds = a.take("seconds").map(|v| number(&v));
                if seconds.is_some() {
                    self.need("vacation-seconds", line, ":seconds")?;
                }
                if days.is_some() && seconds.is_some() {
                    return fail(line, ":days and :seconds together");
                }
                let period = days.map(|d| d.saturating_mul(86_400)).or(seconds);
                let text = |a: &mut Args, tag| a.take(tag).map(|v| self.text(string(v)));
                let vacation = Vacation {
                    period,
                    subject: text(&mut a, "subject"),
                    from: text(&mut a, "from"),
                    addresses: a
                        .take("addresses")
                        .map(list)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| self.text(t))
                        .collect(),
                    mime: a.take("mime").is_some(),
                    handle: text(&mut a, "handle"),
                    reason: self.text(a.string("a reason")?),
                };
                a.done()?;
                Command::Vacation(Box::new(vacation))
            }
            "reject" | "ereject" => {
                self.need(name, line, name)?;
                let mut a = args(&[])?;
                let reason = self.text(a.string("a reason")?);
                a.done()?;
                Command::Reject {
                    reason,
                    in_protocol: name == "ereject",
                }
            }
            "include" => {
                self.need("include", line, "include")?;
                let mut a = args(&[&[
                    ("personal", Param::None),
                    ("global", Param::None),
                    ("once", Param::None),
                    ("optional", Param::None),
                ]])?;
                let personal = a.take("personal").is_some();
                let global = a.take("global").is_some();
                if personal && global {
                    return fail(line, ":personal and :global together");
                }
                let once = a.take("once").is_some();
                let optional = a.take("optional").is_some();
                let name = self.text(a.string("a script name")?);
                a.done()?;
                // RFC 6609 §3.2: a constant name; never a path.
                let path_like = name.contains(['/', '\\']) || name.starts_with('.');
                if name.contains("${") || !super::valid_script_name(&name) || path_like {
                    return fail(line, format!("invalid script name \"{name}\""));
                }
                Command::Include {
                    name,
                    global,
                    once,
                    optional,
                }
            }
            "return" => {
                self.need("include", line, "return")?;
                args(&[])?.done()?;
                Command::Return
            }
            "global" => {
                self.need("include", line, "global")?;
                self.need("variables", line, "global")?;
                let mut a = args(&[])?;
                let names = a.list("variable names")?;
                a.done()?;
                let names = names
                    .iter()
                    .map(|n| variable_name(n, line))
                    .collect::<Result<Vec<_>>>()?;
                Command::Global(names)
            }
            other => return fail(line, format!("unknown command \"{other}\"")),
        };
        Ok(compiled)
    }

    fn flags_tag(&self, a: &mut Args) -> Result<Option<Vec<String>>> {
        let Some(value) = a.take("flags") else {
            return Ok(None);
        };
        self.need("imap4flags", a.line, ":flags")?;
        Ok(Some(
            list(value).into_iter().map(|f| self.text(f)).collect(),
        ))
    }

    fn flag_tag(&self, a: &mut Args, tag: &str, extension: &str) -> Result<bool> {
        match a.take(tag) {
            Some(_) => self
                .need(extension, a.line, &format!(":{tag}"))
                .map(|_| true),
            None => Ok(false),
        }
    }

    fn test(&self, test: &syntax::Test) -> Result<Test> {
        let line = test.line;
        let name = test.name.as_str();
        if !matches!(name, "not" | "allof" | "anyof") && !test.tests.is_empty() {
            return fail(line, format!("{name} takes no tests"));
        }
        let args = |spec: &[&[(&str, Param)]]| self.args(&test.arguments, spec, line, name);
        let compiled = match name {
            "true" | "false" => {
                args(&[])?.done()?;
                if name == "true" {
                    Test::True
                } else {
                    Test::False
                }
            }
            "not" => {
                args(&[])?.done()?;
                let [inner] = test.tests.as_slice() else {
                    return fail(line, "not takes one test");
                };
                Test::Not(Box::new(self.test(inner)?))
            }
            "allof" | "anyof" => {
                args(&[])?.done()?;
                if test.tests.is_empty() {
                    return fail(line, format!("{name} needs a test list"));
                }
                let tests = test
                    .tests
                    .iter()
                    .map(|t| self.test(t))
                    .collect::<Result<Vec<_>>>()?;
                if name == "allof" {
                    Test::AllOf(tests)
                } else {
                    Test::AnyOf(tests)
                }
            }
            "header" => {
                let mut a = args(&[MATCH_TAGS, INDEX_TAGS])?;
                let matcher = self.matcher(&mut a)?;
                let index = self.index(&mut a)?;
                let names = self.texts(a.list("header names")?);
                let keys = self.texts(a.list("keys")?);
                a.done()?;
                Test::Header {
                    names,
                    keys,
                    matcher,
                    index,
                }
            }
            "address" => {
                let mut a = args(&[MATCH_TAGS, ADDRESS_PART_TAGS, INDEX_TAGS])?;
                let matcher = self.matcher(&mut a)?;
                let part = self.address_part(&mut a)?;
                let index = self.index(&mut a)?;
                let names = self.texts(a.list("header names")?);
                let keys = self.texts(a.list("keys")?);
                a.done()?;
                Test::Address {
                    names,
                    keys,
                    part,
                    matcher,
                    index,
                }
            }
            "envelope" => {
                self.need("envelope", line, "envelope")?;
                let mut a = args(&[MATCH_TAGS, ADDRESS_PART_TAGS])?;
                let matcher = self.matcher(&mut a)?;
                let part = self.address_part(&mut a)?;
                let parts = self.texts(a.list("envelope parts")?);
                for part in &parts {
                    if !part.contains("${")
                        && !["from", "to", "auth"].contains(&part.to_ascii_lowercase().as_str())
                    {
                        return fail(line, format!("unknown envelope part \"{part}\""));
                    }
                }
                let keys = self.texts(a.list("keys")?);
                a.done()?;
                Test::Envelope {
                    parts,
                    keys,
                    part,
                    matcher,
                }
            }
            "exists" => {
                let mut a = args(&[])?;
                let names = self.texts(a.list("header names")?);
                a.done()?;
                Test::Exists(names)
            }
            "size" => {
                let mut a = args(&[&[("over", Param::None), ("under", Param::None)]])?;
                let over = a.take("over").is_some();
                let under = a.take("under").is_some();
                if over == under {
                    return fail(line, "size needs one of :over and :under");
                }
                let Some(Argument::Number(limit)) = a.positional.pop_front() else {
                    return fail(line, "size needs a number");
                };
                a.done()?;
                Test::Size { over, limit }
            }
            "body" => {
                self.need("body", line, "body")?;
                let mut a = args(&[
                    MATCH_TAGS,
                    &[
                        ("raw", Param::None),
                        ("content", Param::List),
                        ("text", Param::None),
                    ],
                ])?;
                let matcher = self.matcher(&mut a)?;
                let raw = a.take("raw").is_some();
                let content = a.take("content").map(list);
                let text = a.take("text").is_some();
                let transform = match (raw, content, text) {
                    (true, None, false) => BodyTransform::Raw,
                    (false, Some(types), false) => BodyTransform::Content(self.texts(types)),
                    (false, None, _) => BodyTransform::Text,
                    _ => return fail(line, "one body transform at most"),
                };
                if matches!(matcher.kind, MatchKind::Count(_)) {
                    return fail(line, "body takes no :count");
                }
                let keys = self.texts(a.list("keys")?);
                a.done()?;
                Test::Body {
                    transform,
                    keys,
                    matcher,
                }
            }
            "hasflag" => {
                self.need("imap4flags", line, "hasflag")?;
                let mut a = args(&[MATCH_TAGS])?;
                let matcher = self.matcher(&mut a)?;
                let first = a.list("flags")?;
                let (variables, keys) = match a.positional.is_empty() {
                    true => (Vec::new(), first),
                    false => {
                        self.need("variables", line, "a flag variable")?;
                        let variables = first
                            .iter()
                            .map(|v| variable_name(v, line))
                            .collect::<Result<_>>()?;
                        (variables, a.list("flags")?)
                    }
                };
                a.done()?;
                Test::HasFlag {
                    variables,
                    keys: self.texts(keys),
                    matcher,
                }
            }
            "mailboxexists" => {
                self.need("mailbox", line, "mailboxexists")?;
                let mut a = args(&[])?;
                let names = self.texts(a.list("mailbox names")?);
                a.done()?;
                Test::MailboxExists(names)
            }
            "string" => {
                self.need("variables", line, "string")?;
                let mut a = args(&[MATCH_TAGS])?;
                let matcher = self.matcher(&mut a)?;
                let sources = self.texts(a.list("sources")?);
                let keys = self.texts(a.list("keys")?);
                a.done()?;
                Test::String {
                    sources,
                    keys,
                    matcher,
                }
            }
            "date" | "currentdate" => {
                self.need("date", line, name)?;
                let zone_tags: &[(&str, Param)] =
                    &[("zone", Param::String), ("originalzone", Param::None)];
                let mut a = match name {
                    "date" => args(&[MATCH_TAGS, zone_tags, INDEX_TAGS])?,
                    _ => args(&[MATCH_TAGS, &[("zone", Param::String)]])?,
                };
                let matcher = self.matcher(&mut a)?;
                let index = self.index(&mut a)?;
                let zone = match (a.take("zone"), a.take("originalzone")) {
                    (Some(zone), None) => Zone::Fixed(self.text(string(zone))),
                    (None, Some(_)) => Zone::Original,
                    (None, None) => Zone::Local,
                    _ => return fail(line, ":zone and :originalzone together"),
                };
                let header = match name {
                    "date" => Some(self.text(a.string("a header name")?)),
                    _ => None,
                };
                let part = self.text(a.string("a date part")?).to_ascii_lowercase();
                const PARTS: &[&str] = &[
                    "year", "month", "day", "date", "julian", "hour", "minute", "second", "time",
                    "iso8601", "std11", "zone", "weekday",
                ];
                if !part.contains("${") && !PARTS.contains(&part.as_str()) {
                    return fail(line, format!("unknown date part \"{part}\""));
                }
                let keys = self.texts(a.list("keys")?);
                a.done()?;
                Test::Date {
                    header,
                    zone,
                    part,
                    keys,
                    matcher,
                    index,
                }
            }
            other => return fail(line, format!("unknown test \"{other}\"")),
        };
        Ok(compiled)
    }

    fn texts(&self, texts: Vec<String>) -> Vec<String> {
        texts.into_iter().map(|t| self.text(t)).collect()
    }

    fn matcher(&self, a: &mut Args) -> Result<Matcher> {
        let line = a.line;
        let comparator = match a.take("comparator").map(string) {
            None => Comparator::AsciiCasemap,
            Some(name) => match name.to_ascii_lowercase().as_str() {
                "i;octet" => Comparator::Octet,
                "i;ascii-casemap" => Comparator::AsciiCasemap,
                "i;ascii-numeric" => {
                    self.need("comparator-i;ascii-numeric", line, "i;ascii-numeric")?;
                    Comparator::AsciiNumeric
                }
                _ => return fail(line, format!("unknown comparator \"{name}\"")),
            },
        };
        let mut kinds = Vec::new();
        for tag in ["is", "contains", "matches"] {
            if a.take(tag).is_some() {
                kinds.push(match tag {
                    "is" => MatchKind::Is,
                    "contains" => MatchKind::Contains,
                    _ => MatchKind::Matches,
                });
            }
        }
        for tag in ["value", "count"] {
            if let Some(relation) = a.take(tag) {
                self.need("relational", line, &format!(":{tag}"))?;
                let relation = match string(relation).to_ascii_lowercase().as_str() {
                    "gt" => Relation::Gt,
                    "ge" => Relation::Ge,
                    "lt" => Relation::Lt,
                    "le" => Relation::Le,
                    "eq" => Relation::Eq,
                    "ne" => Relation::Ne,
                    other => return fail(line, format!("unknown relation \"{other}\"")),
                };
                kinds.push(match tag {
                    "value" => MatchKind::Value(relation),
                    _ => MatchKind::Count(relation),
                });
            }
        }
        let kind = match kinds.as_slice() {
            [] => MatchKind::Is,
            [one] => *one,
            _ => return fail(line, "one match type at most"),
        };
        // RFC 4790 §9.1: i;ascii-numeric compares whole values only.
        if comparator == Comparator::AsciiNumeric
            && matches!(kind, MatchKind::Contains | MatchKind::Matches)
        {
            return fail(line, "i;ascii-numeric cannot do :contains or :matches");
        }
        Ok(Matcher { kind, comparator })
    }

    fn address_part(&self, a: &mut Args) -> Result<AddressPart> {
        let mut parts = Vec::new();
        for (tag, part) in [
            ("all", AddressPart::All),
            ("localpart", AddressPart::LocalPart),
            ("domain", AddressPart::Domain),
            ("user", AddressPart::User),
            ("detail", AddressPart::Detail),
        ] {
            if a.take(tag).is_some() {
                if matches!(part, AddressPart::User | AddressPart::Detail) {
                    self.need("subaddress", a.line, &format!(":{tag}"))?;
                }
                parts.push(part);
            }
        }
        match parts.as_slice() {
            [] => Ok(AddressPart::All),
            [one] => Ok(*one),
            _ => fail(a.line, "one address part at most"),
        }
    }

    fn index(&self, a: &mut Args) -> Result<Option<Index>> {
        let position = a.take("index").map(|v| number(&v));
        let last = a.take("last").is_some();
        if position.is_none() && !last {
            return Ok(None);
        }
        self.need("index", a.line, ":index")?;
        match position {
            Some(0) => fail(a.line, ":index counts from 1"),
            Some(position) => Ok(Some(Index { position, last })),
            None => fail(a.line, ":last needs :index"),
        }
    }
}

impl Args {
    fn take(&mut self, tag: &str) -> Option<Argument> {
        let at = self.tags.iter().position(|(t, _)| t == tag)?;
        let (_, value) = self.tags.remove(at);
        Some(value.unwrap_or(Argument::Number(0)))
    }

    fn string(&mut self, what: &str) -> Result<String> {
        match self.positional.pop_front() {
            Some(Argument::String(s)) => Ok(s),
            Some(Argument::List(mut list)) if list.len() == 1 => Ok(list.remove(0)),
            _ => fail(self.line, format!("expected {what}")),
        }
    }

    fn list(&mut self, what: &str) -> Result<Vec<String>> {
        match self.positional.pop_front() {
            Some(Argument::String(s)) => Ok(vec![s]),
            Some(Argument::List(list)) => Ok(list),
            _ => fail(self.line, format!("expected {what}")),
        }
    }

    /// Nothing may be left over.
    fn done(self) -> Result<()> {
        if let Some((tag, _)) = self.tags.first() {
            return fail(self.line, format!(":{tag} is not allowed here"));
        }
        match self.positional.is_empty() {
            true => Ok(()),
            false => fail(self.line, "too many arguments"),
        }
    }
}

fn string(argument: Argument) -> String {
    match argument {
        Argument::String(s) => s,
        Argument::List(mut l) if !l.is_empty() => l.remove(0),
        _ => String::new(),
    }
}

fn list(argument: Argument) -> Vec<String> {
    match argument {
        Argument::String(s) => vec![s],
        Argument::List(l) => l,
        _ => Vec::new(),
    }
}

fn number(argument: &Argument) -> u64 {
    match argument {
        Argument::Number(n) => *n,
        _ => 0,
    }
}

/// A variable name (RFC 5229 §3): identifier characters, lower-cased
/// (names are case-insensitive).
fn variable_name(name: &str, line: usize) -> Result<String> {
    // include's shared variables may be written `global.NAME` (RFC 6609 §3.5).
    let bare = name.strip_prefix("global.").unwrap_or(name);
    let valid = bare
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match valid {
        true => Ok(name.to_ascii_lowercase()),
        false => fail(line, format!("invalid variable name \"{name}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(script: &str) -> String {
        compile(script).unwrap_err().to_string()
    }

    #[test]
    fn a_filing_script() {
        let script = compile(
            "require [\"fileinto\", \"imap4flags\", \"copy\"];\n\
             if address :domain :is \"from\" \"example.org\" {\n\
               fileinto :copy :flags \"\\\\Flagged\" \"Work\";\n\
             } elsif header :contains \"subject\" \"sale\" { discard; } else { keep; }\n",
        )
        .unwrap();
        let Command::If {
            branches,
            otherwise,
        } = &script.commands[0].command
        else {
            panic!("{script:?}")
        };
        assert_eq!(branches.len(), 2);
        assert_eq!(
            branches[0].0,
            Test::Address {
                names: vec!["from".into()],
                keys: vec!["example.org".into()],
                part: AddressPart::Domain,
                matcher: Matcher::default(),
                index: None,
            }
        );
        assert_eq!(
            branches[0].1[0],
            Node {
                line: 3,
                command: Command::FileInto {
                    mailbox: "Work".into(),
                    flags: Some(vec!["\\Flagged".into()]),
                    copy: true,
                    create: false,
                }
            }
        );
        assert_eq!(
            otherwise.as_ref().unwrap()[0].command,
            Command::Keep { flags: None }
        );
    }

    #[test]
    fn extensions_must_be_required() {
        assert_eq!(
            error("fileinto \"x\";"),
            "line 1: fileinto needs require \"fileinto\""
        );
        assert!(error("require \"fileinto\";\nfileinto :copy \"x\";").contains("\"copy\""));
        assert!(error("require \"nope\";").contains("unsupported extension"));
        assert!(error("keep;\nrequire \"fileinto\";").contains("before other commands"));
        assert!(error("if header :value \"gt\" \"x\" \"1\" { keep; }").contains("relational"));
    }

    #[test]
    fn arguments_are_checked() {
        assert!(error("keep \"x\";").contains("too many arguments"));
        assert!(error("if header :is :contains \"a\" \"b\" { keep; }").contains("one match type"));
        assert!(error("if size 100 { keep; }").contains(":over"));
        assert!(error("if true keep;").contains("line 1"));
        assert!(error("elsif true { keep; }").contains("without if"));
        assert!(
            error("if header :comparator \"i;foo\" \"a\" \"b\" { stop; }").contains("comparator")
        );
        assert!(error("if frobnicate { stop; }").contains("unknown test"));
        assert!(error("if not { stop; }").contains("line 1"));
        assert!(compile("if anyof(true, false) { stop; }").is_ok());
    }

    #[test]
    fn encoded_characters_are_decoded_when_required() {
        let script = compile("require [\"encoded-character\", \"fileinto\"];\nfileinto \"${hex:4a 6f}${unicode:00e9}\";").unwrap();
        assert_eq!(
            script.commands[0].command,
            Command::FileInto {
                mailbox: "Joé".into(),
                flags: None,
                copy: false,
                create: false
            }
        );
        let script = compile("require \"fileinto\";\nfileinto \"${hex:4a}\";").unwrap();
        assert!(
            matches!(&script.commands[0].command, Command::FileInto { mailbox, .. } if mailbox == "${hex:4a}")
        );
    }
}
