//! ManageSieve commands (RFC 5804 §2, §4): a command is atoms, quoted
//! strings, numbers and literals (`{n+}` or `{n}` ending a line, the
//! command going on after the literal's octets). [`Reader`] gathers the
//! tokens as the lines and literals arrive; [`parse`] makes a command.

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Atom(String),
    Number(u64),
    /// A quoted string or a literal's octets.
    String(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Authenticate {
        mechanism: String,
        initial_response: Option<Vec<u8>>,
    },
    StartTls,
    Logout,
    Capability,
    HaveSpace {
        name: String,
        size: u64,
    },
    PutScript {
        name: String,
        script: Vec<u8>,
    },
    ListScripts,
    SetActive {
        name: String,
    },
    GetScript {
        name: String,
    },
    DeleteScript {
        name: String,
    },
    RenameScript {
        from: String,
        to: String,
    },
    CheckScript {
        script: Vec<u8>,
    },
    Noop {
        tag: Option<Vec<u8>>,
    },
    Unauthenticate,
}

/// What a line adds to the command being read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The command is complete.
    Done,
    /// A literal of this many octets follows, then the rest of the command.
    Literal(usize),
}

/// The tokens of one command, line by line.
#[derive(Debug, Default)]
pub struct Reader {
    pub tokens: Vec<Token>,
}

impl Reader {
    /// Reads one line's tokens (without its CRLF).
    pub fn line(&mut self, line: &[u8]) -> Result<Line, String> {
        let mut rest = line;
        loop {
            rest = trim_start(rest);
            let Some(&first) = rest.first() else {
                return Ok(Line::Done);
            };
            match first {
                b'"' => {
                    let (value, after) = quoted(&rest[1..])?;
                    self.tokens.push(Token::String(value));
                    rest = after;
                }
                b'{' => {
                    let close = rest
                        .iter()
                        .position(|&b| b == b'}')
                        .ok_or("Unterminated literal")?;
                    if !trim_start(&rest[close + 1..]).is_empty() {
                        return Err("A literal must end its line".into());
                    }
                    let inner = &rest[1..close];
                    let digits = inner.strip_suffix(b"+").unwrap_or(inner);
                    let length = std::str::from_utf8(digits)
                        .ok()
                        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|d| d.parse().ok())
                        .ok_or("Invalid literal length")?;
                    return Ok(Line::Literal(length));
                }
                b'0'..=b'9' => {
                    let end = rest
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .unwrap_or(rest.len());
                    let number = std::str::from_utf8(&rest[..end])
                        .ok()
                        .and_then(|n| n.parse().ok())
                        .ok_or("Number too large")?;
                    self.tokens.push(Token::Number(number));
                    rest = &rest[end..];
                }
                b if b.is_ascii_alphabetic() => {
                    let end = rest
                        .iter()
                        .position(|b| !b.is_ascii_alphanumeric())
                        .unwrap_or(rest.len());
                    let atom = String::from_utf8_lossy(&rest[..end]).to_ascii_uppercase();
                    self.tokens.push(Token::Atom(atom));
                    rest = &rest[end..];
                }
                _ => return Err("Syntax error".into()),
            }
            if let Some(&next) = rest.first()
                && next != b' '
            {
                return Err("Arguments must be separated by spaces".into());
            }
        }
    }

    /// A literal's octets, as the next token.
    pub fn literal(&mut self, octets: Vec<u8>) {
        self.tokens.push(Token::String(octets));
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

/// A quoted string's value (after its opening quote) and what follows.
fn quoted(bytes: &[u8]) -> Result<(Vec<u8>, &[u8]), String> {
    let mut value = Vec::new();
    let mut iter = bytes.iter().enumerate();
    while let Some((at, &b)) = iter.next() {
        match b {
            b'"' => return Ok((value, &bytes[at + 1..])),
            b'\\' => match iter.next() {
                Some((_, &escaped @ (b'"' | b'\\'))) => value.push(escaped),
                _ => return Err("Invalid escape in a quoted string".into()),
            },
            _ => value.push(b),
        }
    }
    Err("Unterminated quoted string".into())
}

/// Makes a command of the tokens read.
pub fn parse(tokens: Vec<Token>) -> Result<Command, String> {
    let mut tokens = tokens.into_iter();
    let Some(Token::Atom(name)) = tokens.next() else {
        return Err("Expected a command".into());
    };
    let mut args: Vec<Token> = tokens.collect();
    let count = args.len();
    let string = |token: Token| match token {
        Token::String(value) => Ok(value),
        _ => Err(format!("{name}: expected a string")),
    };
    let text =
        |token: Token| String::from_utf8(string(token)?).map_err(|_| format!("{name}: not UTF-8"));
    let arity = |wanted: &[usize]| match wanted.contains(&count) {
        true => Ok(()),
        false => Err(format!("{name}: wrong number of arguments")),
    };
    let mut next = || args.remove(0);
    Ok(match name.as_str() {
        "AUTHENTICATE" => {
            arity(&[1, 2])?;
            let mechanism = text(next())?.to_ascii_uppercase();
            let initial_response = match count {
                2 => Some(string(next())?),
                _ => None,
            };
            Command::Authenticate {
                mechanism,
                initial_response,
            }
        }
        "STARTTLS" => arity(&[0]).map(|_| Command::StartTls)?,
        "LOGOUT" => arity(&[0]).map(|_| Command::Logout)?,
        "CAPABILITY" => arity(&[0]).map(|_| Command::Capability)?,
        "LISTSCRIPTS" => arity(&[0]).map(|_| Command::ListScripts)?,
        "UNAUTHENTICATE" => arity(&[0]).map(|_| Command::Unauthenticate)?,
        "HAVESPACE" => {
            arity(&[2])?;
            let name = text(next())?;
            let Token::Number(size) = next() else {
                return Err("HAVESPACE: expected a number".into());
            };
            Command::HaveSpace { name, size }
        }
        "PUTSCRIPT" => {
            arity(&[2])?;
            Command::PutScript {
                name: text(next())?,
                script: string(next())?,
            }
        }
        "CHECKSCRIPT" => {
            arity(&[1])?;
            Command::CheckScript {
                script: string(next())?,
            }
        }
        "SETACTIVE" => arity(&[1]).and_then(|_| {
            Ok(Command::SetActive {
                name: text(next())?,
            })
        })?,
        "GETSCRIPT" => arity(&[1]).and_then(|_| {
            Ok(Command::GetScript {
                name: text(next())?,
            })
        })?,
        "DELETESCRIPT" => arity(&[1]).and_then(|_| {
            Ok(Command::DeleteScript {
                name: text(next())?,
            })
        })?,
        "RENAMESCRIPT" => {
            arity(&[2])?;
            Command::RenameScript {
                from: text(next())?,
                to: text(next())?,
            }
        }
        "NOOP" => {
            arity(&[0, 1])?;
            let tag = match count {
                1 => Some(string(next())?),
                _ => None,
            };
            Command::Noop { tag }
        }
        _ => return Err(format!("Unknown command {name}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&[u8]], literals: &[&[u8]]) -> Result<Command, String> {
        let mut reader = Reader::default();
        let mut literals = literals.iter();
        for line in lines {
            if let Line::Literal(_) = reader.line(line)? {
                reader.literal(literals.next().unwrap().to_vec());
            }
        }
        parse(reader.tokens)
    }

    #[test]
    fn commands_with_strings_numbers_and_literals() {
        assert_eq!(
            read(&[b"putscript \"main\" {10+}", b""], &[b"keep;\r\nstop"]).unwrap(),
            Command::PutScript {
                name: "main".into(),
                script: b"keep;\r\nstop".to_vec()
            }
        );
        assert_eq!(
            read(&[b"HAVESPACE \"a \\\"b\\\"\" 1024"], &[]).unwrap(),
            Command::HaveSpace {
                name: "a \"b\"".into(),
                size: 1024
            }
        );
        assert_eq!(
            read(&[b"Authenticate \"PLAIN\" {4}", b""], &[b"AGEA"]).unwrap(),
            Command::Authenticate {
                mechanism: "PLAIN".into(),
                initial_response: Some(b"AGEA".to_vec())
            }
        );
        assert_eq!(read(&[b"NOOP"], &[]).unwrap(), Command::Noop { tag: None });
        assert_eq!(
            read(&[b"RENAMESCRIPT {1+}", b" \"b\""], &[b"a"]).unwrap(),
            Command::RenameScript {
                from: "a".into(),
                to: "b".into()
            }
        );
    }

    #[test]
    fn malformed_commands_are_errors() {
        assert!(read(&[b"PUTSCRIPT \"x\""], &[]).is_err());
        assert!(read(&[b"GETSCRIPT x"], &[]).is_err());
        assert!(read(&[b"FROB"], &[]).is_err());
        assert!(read(&[b"\"x\""], &[]).is_err());
        assert!(read(&[b"GETSCRIPT \"x"], &[]).is_err());
        assert!(read(&[b"GETSCRIPT {x+}"], &[]).is_err());
        assert!(read(&[b"GETSCRIPT {1+} \"more\""], &[]).is_err());
        assert!(read(&[b"LOGOUT now"], &[]).is_err());
        assert!(read(&[b"GETSCRIPT \"a\"\"b\""], &[]).is_err());
    }
}
