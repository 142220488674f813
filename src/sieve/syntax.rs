//! The Sieve grammar (RFC 5228 §8): commands, tests and arguments as a
//! generic tree, before anything is known about what they mean.
//! [`super::compile`] checks names and arguments against the extensions.

use nom::branch::alt;
use nom::bytes::complete::{is_not, tag, take_until, take_while, take_while1};
use nom::character::complete::{char, digit1, one_of, satisfy};
use nom::combinator::{map, opt, recognize, value};
use nom::multi::{many0, separated_list1};
use nom::sequence::{delimited, pair, preceded, terminated};
use nom::{IResult, Parser};

/// A command (`if`, `fileinto`, ...) with its arguments, tests and block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Lower-cased: Sieve identifiers are case-insensitive.
    pub name: String,
    pub arguments: Vec<Argument>,
    pub tests: Vec<Test>,
    pub block: Option<Vec<Command>>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub name: String,
    pub arguments: Vec<Argument>,
    pub tests: Vec<Test>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argument {
    /// A tag (`:contains`), lower-cased, without the colon.
    Tag(String),
    /// A number with its K/M/G multiplier applied.
    Number(u64),
    /// One string (`"a"`, `text:`).
    String(String),
    /// A bracketed list (`["a", "b"]`).
    List(Vec<String>),
}

/// Where and why a script does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

type Res<'a, T> = IResult<&'a str, T>;

/// Parses a whole script into its commands.
pub fn parse(script: &str) -> Result<Vec<Command>, SyntaxError> {
    let line_of = |rest: &str| script[..script.len() - rest.len()].matches('\n').count() + 1;
    let mut commands = Vec::new();
    let mut rest = match ws(script) {
        Ok((rest, ())) => rest,
        Err(_) => return Err(error_at(script, line_of(script))),
    };
    while !rest.is_empty() {
        match command(script, 0)(rest) {
            Ok((next, parsed)) => {
                commands.push(parsed);
                rest = next;
            }
            Err(nom::Err::Failure(e)) if e.code == NESTED_TOO_DEEPLY => {
                return Err(SyntaxError {
                    line: line_of(e.input),
                    message: format!("blocks and tests nested more than {MAX_NESTING} deep"),
                });
            }
            Err(_) => return Err(error_at(rest, line_of(rest))),
        }
    }
    Ok(commands)
}

/// The message for the first thing the parser could not read at `rest`.
fn error_at(rest: &str, line: usize) -> SyntaxError {
    let near: String = rest.chars().take(24).take_while(|c| *c != '\n').collect();
    let message = if rest.starts_with("/*") {
        "unterminated comment".to_owned()
    } else if rest.starts_with('"') {
        "unterminated string".to_owned()
    } else if near.is_empty() {
        "unexpected end of script (missing ';' or '}'?)".to_owned()
    } else {
        format!("syntax error near \"{near}\"")
    };
    SyntaxError { line, message }
}

/// White space and comments (`# ...` to the line's end, `/* ... */`).
fn ws(i: &str) -> Res<'_, ()> {
    value(
        (),
        many0(alt((
            value(
                (),
                take_while1(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n')),
            ),
            value((), pair(char('#'), opt(is_not("\n")))),
            value((), (tag("/*"), take_until("*/"), tag("*/"))),
        ))),
    )
    .parse(i)
}

fn token<'a, O>(
    inner: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
) -> impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>> {
    terminated(inner, ws)
}

fn identifier(i: &str) -> Res<'_, String> {
    map(
        recognize(pair(
            satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
            take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
        )),
        str::to_ascii_lowercase,
    )
    .parse(i)
}

fn number(i: &str) -> Res<'_, u64> {
    let (rest, (digits, unit)) = pair(digit1, opt(one_of("kKmMgG"))).parse(i)?;
    let shift = match unit.map(|u| u.to_ascii_uppercase()) {
        Some('K') => 10,
        Some('M') => 20,
        Some('G') => 30,
        _ => 0,
    };
    let fail = || nom::Err::Failure(nom::error::Error::new(i, nom::error::ErrorKind::Digit));
    let base: u64 = digits.parse().map_err(|_| fail())?;
    let value = base.checked_mul(1 << shift).ok_or_else(fail)?;
    Ok((rest, value))
}

/// `"..."` with `\"` and `\\`; any other backslash is dropped (§2.4.2).
fn quoted(i: &str) -> Res<'_, String> {
    let (mut rest, _) = char('"').parse(i)?;
    let mut out = String::new();
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None => {
                return Err(nom::Err::Failure(nom::error::Error::new(
                    i,
                    nom::error::ErrorKind::Char,
                )));
            }
            Some('"') => return Ok((chars.as_str(), out)),
            Some('\\') => match chars.next() {
                Some(c) => out.push(c),
                None => {
                    return Err(nom::Err::Failure(nom::error::Error::new(
                        i,
                        nom::error::ErrorKind::Char,
                    )));
                }
            },
            Some(c) => out.push(c),
        }
        rest = chars.as_str();
    }
}

/// `text:` then lines up to a lone `.`; a leading `..` stands for `.`
/// (§2.4.2). Line ends in the value are CRLF whatever the script used.
fn multiline(i: &str) -> Res<'_, String> {
    let (mut rest, _) = (
        tag("text:"),
        take_while(|c| c == ' ' || c == '\t'),
        alt((
            value((), pair(char('#'), opt(is_not("\n")))),
            value((), opt(char('\r'))),
        )),
        char('\n'),
    )
        .parse(i)?;
    let mut out = String::new();
    loop {
        let Some(end) = rest.find('\n') else {
            return Err(nom::Err::Failure(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Tag,
            )));
        };
        let line = rest[..end].strip_suffix('\r').unwrap_or(&rest[..end]);
        rest = &rest[end + 1..];
        if line == "." {
            return Ok((rest, out));
        }
        out.push_str(
            line.strip_prefix('.')
                .filter(|l| l.starts_with('.'))
                .unwrap_or(line),
        );
        out.push_str("\r\n");
    }
}

fn string(i: &str) -> Res<'_, String> {
    alt((quoted, multiline)).parse(i)
}

fn argument(i: &str) -> Res<'_, Argument> {
    alt((
        map(token(preceded(char(':'), identifier)), Argument::Tag),
        map(token(number), Argument::Number),
        map(token(string), Argument::String),
        map(
            delimited(
                token(char('[')),
                separated_list1(token(char(',')), token(string)),
                token(char(']')),
            ),
            Argument::List,
        ),
    ))
    .parse(i)
}

/// How deep blocks and tests may nest: parsing, compiling and running
/// recurse, and a hostile script must not run a thread out of stack.
pub const MAX_NESTING: usize = 32;
const NESTED_TOO_DEEPLY: nom::error::ErrorKind = nom::error::ErrorKind::TooLarge;

fn too_deep(i: &str, depth: usize) -> Result<(), nom::Err<nom::error::Error<&str>>> {
    match depth > MAX_NESTING {
        true => Err(nom::Err::Failure(nom::error::Error::new(
            i,
            NESTED_TOO_DEEPLY,
        ))),
        false => Ok(()),
    }
}

/// Tests nest (`allof(not exists "x", ...)`): one parser per level, each
/// knowing the whole script to number lines.
fn test(script: &str, depth: usize) -> impl Fn(&str) -> Res<'_, Test> + '_ {
    move |i| {
        too_deep(i, depth)?;
        let line = script[..script.len() - i.len()].matches('\n').count() + 1;
        let (rest, name) = token(identifier).parse(i)?;
        let (rest, arguments) = many0(argument).parse(rest)?;
        let (rest, tests) = opt(test_list(script, depth + 1)).parse(rest)?;
        let (rest, single) = match tests {
            Some(_) => (rest, None),
            None => opt(test(script, depth + 1)).parse(rest)?,
        };
        let tests = tests
            .or_else(|| single.map(|t| vec![t]))
            .unwrap_or_default();
        Ok((
            rest,
            Test {
                name,
                arguments,
                tests,
                line,
            },
        ))
    }
}

fn test_list(script: &str, depth: usize) -> impl Fn(&str) -> Res<'_, Vec<Test>> + '_ {
    move |i| {
        delimited(
            token(char('(')),
            separated_list1(token(char(',')), test(script, depth)),
            token(char(')')),
        )
        .parse(i)
    }
}

fn command(script: &str, depth: usize) -> impl Fn(&str) -> Res<'_, Command> + '_ {
    move |i| {
        too_deep(i, depth)?;
        let line = script[..script.len() - i.len()].matches('\n').count() + 1;
        let (rest, name) = token(identifier).parse(i)?;
        let (rest, arguments) = many0(argument).parse(rest)?;
        let (rest, tests) = match test_list(script, depth + 1)(rest) {
            Ok((rest, tests)) => (rest, tests),
            Err(failure @ nom::Err::Failure(_)) => return Err(failure),
            Err(_) => match test(script, depth + 1)(rest) {
                Ok((rest, single)) => (rest, vec![single]),
                Err(failure @ nom::Err::Failure(_)) => return Err(failure),
                Err(_) => (rest, Vec::new()),
            },
        };
        let (rest, block) = alt((
            value(None, token(char(';'))),
            map(
                delimited(
                    token(char('{')),
                    many0(command(script, depth + 1)),
                    token(char('}')),
                ),
                Some,
            ),
        ))
        .parse(rest)?;
        Ok((
            rest,
            Command {
                name,
                arguments,
                tests,
                block,
                line,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_tests_and_arguments() {
        let script = "require [\"fileinto\", \"copy\"];\r\n# comment\r\nif header :contains \"Subject\" \"[list]\" {\r\n  fileinto :copy \"Lists\"; /* note */ stop;\r\n} elsif allof (not exists \"X-A\", size :over 100K) { discard; }\r\n";
        let commands = parse(script).unwrap();
        assert_eq!(commands.len(), 3);
        assert_eq!(
            commands[0].arguments,
            [Argument::List(vec!["fileinto".into(), "copy".into()])]
        );
        let check = &commands[1];
        assert_eq!((check.name.as_str(), check.line), ("if", 3));
        assert_eq!(check.tests[0].name, "header");
        assert_eq!(
            check.tests[0].arguments,
            [
                Argument::Tag("contains".into()),
                Argument::String("Subject".into()),
                Argument::String("[list]".into())
            ]
        );
        let block = check.block.as_ref().unwrap();
        assert_eq!(block[0].arguments[0], Argument::Tag("copy".into()));
        assert_eq!((block[1].name.as_str(), block[1].line), ("stop", 4));
        let elsif = &commands[2];
        assert_eq!(elsif.tests[0].name, "allof");
        assert_eq!(elsif.tests[0].tests[0].tests[0].name, "exists");
        assert_eq!(
            elsif.tests[0].tests[1].arguments[1],
            Argument::Number(100 * 1024)
        );
    }

    #[test]
    fn strings() {
        let commands = parse("x \"a\\\"b\\\\c\\d\" text: # c\n.. dot\nline\n.\n;").unwrap();
        assert_eq!(
            commands[0].arguments,
            [
                Argument::String("a\"b\\cd".into()),
                Argument::String(". dot\r\nline\r\n".into())
            ]
        );
        assert_eq!(
            parse("IF TRUE { KEEP; }").unwrap()[0]
                .block
                .as_ref()
                .unwrap()[0]
                .name,
            "keep"
        );
    }

    #[test]
    fn errors_name_their_line() {
        let error = parse("keep;\nfileinto \"x\"\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(
            parse("keep;\n/* open")
                .unwrap_err()
                .message
                .contains("comment")
        );
        assert!(parse("x \"open").is_err());
        assert!(parse("if true { keep;").is_err());
        assert!(parse("x 99999999999999999999;").is_err());
        assert!(parse("x 20000000000G;").is_err());
        assert!(parse("").unwrap().is_empty());
        let nested = format!("if {}true {{ keep; }}", "not ".repeat(5000));
        assert!(
            parse(&nested).unwrap_err().message.contains("nested"),
            "nesting is bounded"
        );
        let blocks = format!("{}keep;{}", "if true { ".repeat(100), "}".repeat(100));
        assert!(parse(&blocks).is_err());
        let fine = format!("{}keep;{}", "if true { ".repeat(20), "}".repeat(20));
        assert!(parse(&fine).is_ok());
    }
}
