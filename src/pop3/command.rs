//! POP3 command lines (RFC 1939 §3, RFC 2449, RFC 2595, RFC 5034) into
//! typed commands. Pure: no I/O, no store.
//!
//! A command is a case-insensitive keyword, then arguments separated by
//! single spaces. USER and PASS take the rest of the line, spaces included
//! (RFC 1939 §7 allows it for PASS; user names may hold spaces too).

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(Vec<u8>),
    /// `AUTH` alone lists the mechanisms; `AUTH PLAIN [initial-response]`.
    Auth {
        mechanism: Option<String>,
        initial_response: Option<Vec<u8>>,
    },
    Capa,
    Stls,
    Quit,
    /// The commands of the TRANSACTION state.
    Transaction(TransactionCommand),
}

/// RFC 1939 §5 and §7: what a logged-in client asks of its maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionCommand {
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Top { message: u32, lines: u32 },
    Uidl(Option<u32>),
}

/// Why a line is not a command; the text goes after `-ERR `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Unknown command")]
    Unknown,
    #[error("Empty command")]
    Empty,
    #[error("Invalid arguments: {0}")]
    Arguments(&'static str),
}

/// Parses one line, without its CRLF. Trailing spaces are dropped, as
/// clients send them (`LIST `), except after PASS (a password may end in
/// one); QUIT ignores any argument, so a sloppy client's QUIT still
/// applies its deletions.
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let is_pass = line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"PASS ");
    let line = if is_pass { line } else { line.trim_ascii_end() };
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    let (keyword, rest) = match line.iter().position(|&b| b == b' ') {
        Some(space) => (&line[..space], Some(&line[space + 1..])),
        None => (line, None),
    };
    // Keywords are 3-4 characters (RFC 1939 §3); anything longer is unknown.
    if keyword.len() > 4 {
        return Err(ParseError::Unknown);
    }
    let keyword = std::str::from_utf8(keyword)
        .map_err(|_| ParseError::Unknown)?
        .to_ascii_uppercase();
    let args = Arguments(rest);
    Ok(match keyword.as_str() {
        "USER" => Command::User(args.text("USER needs a user name")?),
        "PASS" => Command::Pass(args.rest("PASS needs a password")?.to_vec()),
        "AUTH" => auth(args)?,
        "CAPA" => args.none(Command::Capa)?,
        "STLS" => args.none(Command::Stls)?,
        "QUIT" => Command::Quit,
        _ => Command::Transaction(transaction(&keyword, args)?),
    })
}

fn transaction(keyword: &str, args: Arguments) -> Result<TransactionCommand, ParseError> {
    use TransactionCommand::*;
    Ok(match keyword {
        "STAT" => args.none(Stat)?,
        "NOOP" => args.none(Noop)?,
        "RSET" => args.none(Rset)?,
        "LIST" => List(args.optional_number()?),
        "UIDL" => Uidl(args.optional_number()?),
        "RETR" => Retr(args.one_number()?),
        "DELE" => Dele(args.one_number()?),
        "TOP" => {
            let [message, lines] = args.numbers::<2>()?;
            // TOP's second argument counts lines and may be zero.
            let message = nonzero(message)?;
            Top { message, lines }
        }
        _ => return Err(ParseError::Unknown),
    })
}

/// `AUTH [mechanism [initial-response]]` (RFC 5034 §4).
fn auth(args: Arguments) -> Result<Command, ParseError> {
    let Some(rest) = args.0 else {
        return Ok(Command::Auth {
            mechanism: None,
            initial_response: None,
        });
    };
    let mut words = rest.split(|&b| b == b' ');
    let mechanism = words.next().filter(|m| !m.is_empty());
    let initial_response = words.next().map(<[u8]>::to_vec);
    if words.next().is_some() {
        return Err(ParseError::Arguments(
            "AUTH takes a mechanism and a response",
        ));
    }
    let mechanism = mechanism
        .and_then(|m| std::str::from_utf8(m).ok())
        .ok_or(ParseError::Arguments("AUTH needs a mechanism name"))?;
    Ok(Command::Auth {
        mechanism: Some(mechanism.to_ascii_uppercase()),
        initial_response,
    })
}

/// What follows the keyword and its space, if anything.
struct Arguments<'a>(Option<&'a [u8]>);

impl<'a> Arguments<'a> {
    fn none<T>(self, command: T) -> Result<T, ParseError> {
        match self.0 {
            None => Ok(command),
            Some(_) => Err(ParseError::Arguments("this command takes no arguments")),
        }
    }

    fn rest(self, missing: &'static str) -> Result<&'a [u8], ParseError> {
        self.0
            .filter(|rest| !rest.is_empty())
            .ok_or(ParseError::Arguments(missing))
    }

    fn text(self, missing: &'static str) -> Result<String, ParseError> {
        String::from_utf8(self.rest(missing)?.to_vec())
            .map_err(|_| ParseError::Arguments("not UTF-8"))
    }

    fn optional_number(self) -> Result<Option<u32>, ParseError> {
        match self.0 {
            None => Ok(None),
            Some(_) => self.one_number().map(Some),
        }
    }

    fn one_number(self) -> Result<u32, ParseError> {
        let [number] = self.numbers::<1>()?;
        nonzero(number)
    }

    /// Exactly `N` decimal numbers separated by single spaces.
    fn numbers<const N: usize>(self) -> Result<[u32; N], ParseError> {
        let wrong = ParseError::Arguments("expected a number");
        let mut words = self
            .rest("expected a message number")?
            .split(|&b| b == b' ');
        let mut numbers = [0; N];
        for number in &mut numbers {
            *number = words.next().and_then(decimal).ok_or(wrong.clone())?;
        }
        match words.next() {
            None => Ok(numbers),
            Some(_) => Err(ParseError::Arguments("too many arguments")),
        }
    }
}

/// Message numbers start at 1.
fn nonzero(number: u32) -> Result<u32, ParseError> {
    match number {
        0 => Err(ParseError::Arguments("message numbers start at 1")),
        n => Ok(n),
    }
}

/// Digits only: no sign, no spaces, within u32.
fn decimal(word: &[u8]) -> Option<u32> {
    if word.is_empty() || word.len() > 10 || !word.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(word).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::TransactionCommand::*;
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn err(line: &[u8]) -> ParseError {
        parse(line).expect_err(&String::from_utf8_lossy(line))
    }

    #[test]
    fn trailing_spaces_and_quit_arguments_are_ignored() {
        assert_eq!(ok("LIST "), Command::Transaction(List(None)));
        assert_eq!(ok("STAT  "), Command::Transaction(Stat));
        assert_eq!(ok("QUIT now"), Command::Quit);
        assert_eq!(ok("RETR 1 "), Command::Transaction(Retr(1)));
    }

    #[test]
    fn keywords_ignore_case() {
        assert_eq!(ok("stat"), Command::Transaction(Stat));
        assert_eq!(ok("QuIt"), Command::Quit);
        assert_eq!(ok("capa"), Command::Capa);
        assert_eq!(ok("stls"), Command::Stls);
    }

    #[test]
    fn user_and_pass_take_the_rest_of_the_line() {
        assert_eq!(ok("USER alice"), Command::User("alice".into()));
        assert_eq!(ok("PASS two words "), Command::Pass(b"two words ".to_vec()));
        assert_eq!(ok("user Mary Ann"), Command::User("Mary Ann".into()));
        assert!(matches!(err(b"USER"), ParseError::Arguments(_)));
        assert!(matches!(err(b"PASS "), ParseError::Arguments(_)));
    }

    #[test]
    fn message_numbers() {
        assert_eq!(ok("LIST"), Command::Transaction(List(None)));
        assert_eq!(ok("LIST 3"), Command::Transaction(List(Some(3))));
        assert_eq!(
            ok("UIDL 4294967295"),
            Command::Transaction(Uidl(Some(u32::MAX)))
        );
        assert_eq!(ok("RETR 1"), Command::Transaction(Retr(1)));
        assert_eq!(ok("DELE 12"), Command::Transaction(Dele(12)));
        let top = Top {
            message: 2,
            lines: 0,
        };
        assert_eq!(ok("TOP 2 0"), Command::Transaction(top));
        for bad in [
            &b"RETR"[..],
            b"RETR 0",
            b"RETR -1",
            b"RETR +1",
            b"RETR 1x",
            b"RETR 4294967296",
            b"RETR 1 2",
            b"RETR  1",
            b"TOP 1",
            b"TOP 0 1",
            b"TOP 1 2 3",
            b"DELE \x80",
        ] {
            assert!(matches!(err(bad), ParseError::Arguments(_)), "{bad:?}");
        }
    }

    #[test]
    fn commands_without_arguments_refuse_them() {
        for bad in ["STAT 1", "NOOP x", "RSET 1", "CAPA x", "STLS x"] {
            assert!(
                matches!(err(bad.as_bytes()), ParseError::Arguments(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn auth_forms() {
        let auth = |mechanism: Option<&str>, initial: Option<&[u8]>| Command::Auth {
            mechanism: mechanism.map(String::from),
            initial_response: initial.map(<[u8]>::to_vec),
        };
        assert_eq!(ok("AUTH"), auth(None, None));
        assert_eq!(ok("AUTH plain"), auth(Some("PLAIN"), None));
        assert_eq!(
            ok("AUTH PLAIN AGEAYg=="),
            auth(Some("PLAIN"), Some(b"AGEAYg=="))
        );
        assert_eq!(ok("AUTH PLAIN ="), auth(Some("PLAIN"), Some(b"=")));
        assert!(matches!(err(b"AUTH PLAIN a b"), ParseError::Arguments(_)));
        assert_eq!(ok("AUTH "), auth(None, None));
    }

    #[test]
    fn unknown_and_empty() {
        assert_eq!(err(b""), ParseError::Empty);
        assert_eq!(err(b"APOP alice 0123"), ParseError::Unknown);
        assert_eq!(err(b"XYZZY"), ParseError::Unknown);
        assert_eq!(err(b"\xff\xfe"), ParseError::Unknown);
        assert_eq!(err(b" STAT"), ParseError::Unknown);
    }
}
