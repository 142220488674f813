//! A strict reader of IMAP response values (RFC 3501 §9: NIL, numbers,
//! quoted strings, literals, parenthesised lists) and of FETCH responses.
//! The server never parses responses; tests and fuzz targets use this to
//! check that what we emit is valid syntax and to compare it with a
//! reference semantically (a string may be quoted or a literal), and
//! `migrate imap` reads the old server's answers with it.

use super::types::is_atom_char;

/// One IMAP value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Nil,
    Number(u64),
    Str(Vec<u8>),
    List(Vec<Value>),
    /// An atom such as a flag (`\Seen`, `$Work`).
    Atom(String),
}

/// Parses exactly one value filling all of `s`.
pub fn parse(s: &[u8]) -> Result<Value, String> {
    let mut p = Reader {
        s,
        pos: 0,
        depth: 0,
    };
    let v = p.value()?;
    if p.pos != s.len() {
        return Err(format!(
            "trailing data at {}: {:?}",
            p.pos,
            show(&s[p.pos..])
        ));
    }
    Ok(v)
}

fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(&s[..s.len().min(60)]).into_owned()
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Reader<'_> {
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "{what} at {}: {:?}",
            self.pos,
            show(&self.s[self.pos.min(self.s.len())..])
        ))
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.s.get(self.pos) {
            Some(b'(') => self.list(),
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            // Digits followed by other atom characters are an atom (a
            // mailbox named `9Sent`), not a number (found by fuzzing).
            Some(b'0'..=b'9') if !self.digits_then_atom_char() => {
                let start = self.pos;
                while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                let text =
                    std::str::from_utf8(&self.s[start..self.pos]).map_err(|e| e.to_string())?;
                // Too long for a number: an atom of digits (a mailbox name).
                Ok(text
                    .parse()
                    .map_or_else(|_| Value::Atom(text.to_owned()), Value::Number))
            }
            _ if self.s[self.pos..].starts_with(b"NIL")
                && !self.s.get(self.pos + 3).is_some_and(|&b| is_atom_char(b)) =>
            {
                self.pos += 3;
                Ok(Value::Nil)
            }
            Some(&b) if b == b'\\' || is_atom_char(b) => {
                let start = self.pos;
                self.pos += 1;
                while self.s.get(self.pos).is_some_and(|&b| is_atom_char(b)) {
                    self.pos += 1;
                }
                Ok(Value::Atom(
                    String::from_utf8_lossy(&self.s[start..self.pos]).into_owned(),
                ))
            }
            _ => self.err("expected a value"),
        }
    }

    fn digits_then_atom_char(&self) -> bool {
        let digits = self.s[self.pos..].iter().take_while(|b| b.is_ascii_digit());
        let end = self.pos + digits.count();
        self.s.get(end).is_some_and(|&b| is_atom_char(b))
    }

    fn list(&mut self) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > 200 {
            return self.err("nesting too deep");
        }
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            match self.s.get(self.pos) {
                Some(b')') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::List(items));
                }
                None => return self.err("unbalanced parenthesis"),
                Some(_) => {
                    if !items.is_empty() {
                        // Items are separated by one space, except that a
                        // list may directly follow a list (body-type-mpart).
                        if self.s.get(self.pos) == Some(&b' ') {
                            self.pos += 1;
                        } else if !(self.s.get(self.pos) == Some(&b'(')
                            && self.s.get(self.pos - 1) == Some(&b')'))
                        {
                            return self.err("missing space");
                        }
                    }
                    items.push(self.value()?);
                }
            }
        }
    }

    fn quoted(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return self.err("unterminated quoted string");
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(Value::Str(out)),
                b'\\' => match self.s.get(self.pos) {
                    Some(&e @ (b'"' | b'\\')) => {
                        out.push(e);
                        self.pos += 1;
                    }
                    _ => return self.err("bad escape in quoted string"),
                },
                b'\r' | b'\n' | 0 => return self.err("CR/LF/NUL in quoted string"),
                b if b >= 0x80 => return self.err("8-bit byte in quoted string"),
                b => out.push(b),
            }
        }
    }

    fn literal(&mut self) -> Result<Value, String> {
        let close = self.s[self.pos..]
            .iter()
            .position(|&b| b == b'}')
            .ok_or("unterminated literal length")?;
        let digits = &self.s[self.pos + 1..self.pos + close];
        let len: usize = std::str::from_utf8(digits)
            .map_err(|e| e.to_string())?
            .parse()
            .map_err(|e: std::num::ParseIntError| e.to_string())?;
        self.pos += close + 1;
        if !self.s[self.pos..].starts_with(b"\r\n") {
            return self.err("literal length not followed by CRLF");
        }
        self.pos += 2;
        let end = self.pos.saturating_add(len);
        let Some(data) = self.s.get(self.pos..end) else {
            return self.err("literal shorter than announced");
        };
        if data.contains(&0) {
            return self.err("NUL in literal (CHAR8 excludes it)");
        }
        self.pos = end;
        Ok(Value::Str(data.to_vec()))
    }
}

/// Parses one `* n FETCH (name value ...)` response (CRLF optional) into
/// its sequence number and (attribute name, value) pairs. Attribute names
/// keep their section and origin, e.g. `BODY[HEADER.FIELDS (TO)]<0>`.
pub fn parse_fetch(line: &[u8]) -> Result<(u32, Vec<(String, Value)>), String> {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    let rest = line.strip_prefix(b"* ").ok_or("not untagged")?;
    let space = rest
        .iter()
        .position(|&b| b == b' ')
        .ok_or("no sequence number")?;
    let seq: u32 = std::str::from_utf8(&rest[..space])
        .map_err(|e| e.to_string())?
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())?;
    let body = rest[space..]
        .strip_prefix(b" FETCH (")
        .and_then(|b| b.strip_suffix(b")"))
        .ok_or("not a FETCH response")?;
    let mut reader = Reader {
        s: body,
        pos: 0,
        depth: 0,
    };
    let mut items = Vec::new();
    while reader.pos < body.len() {
        if !items.is_empty() {
            if body.get(reader.pos) != Some(&b' ') {
                return reader.err("missing space between items");
            }
            reader.pos += 1;
        }
        let name = reader.attribute_name()?;
        if body.get(reader.pos) != Some(&b' ') {
            return reader.err("missing space after attribute name");
        }
        reader.pos += 1;
        items.push((name, reader.value()?));
    }
    Ok((seq, items))
}

impl Reader<'_> {
    /// An attribute name: atom characters, with a `[...]` section (which
    /// may hold spaces and parentheses) and a `<n>` origin.
    fn attribute_name(&mut self) -> Result<String, String> {
        let start = self.pos;
        let mut in_section = false;
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b'[' => in_section = true,
                b']' => in_section = false,
                b' ' if !in_section => break,
                b'\r' | b'\n' | 0 => return self.err("control character in attribute name"),
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos == start || in_section {
            return self.err("bad attribute name");
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse(b"9Sent"), Ok(Value::Atom("9Sent".into())));
        let digits = "1".repeat(30);
        assert_eq!(parse(digits.as_bytes()), Ok(Value::Atom(digits.clone())));
        assert_eq!(
            parse(b"(12 9x)"),
            Ok(Value::List(vec![
                Value::Number(12),
                Value::Atom("9x".into())
            ]))
        );
        assert_eq!(
            parse(b"(\"a\\\"b\" NIL 12 {3}\r\nx\"y ()(NIL))"),
            Ok(Value::List(vec![
                Value::Str(b"a\"b".to_vec()),
                Value::Nil,
                Value::Number(12),
                Value::Str(b"x\"y".to_vec()),
                Value::List(vec![]),
                Value::List(vec![Value::Nil]),
            ]))
        );
        assert!(parse(b"(\"a\"").is_err());
        assert!(parse(b"(\"a\")x").is_err());
        assert!(parse(b"\"\xc3\xa4\"").is_err());
        assert!(parse(b"{5}\r\nab").is_err());
        assert!(parse(b"(NIL  NIL)").is_err());
        assert_eq!(parse(b"foo"), Ok(Value::Atom("foo".into())));
        assert!(parse(b"(foo]").is_err());
        assert!(parse(b"{1}\r\n\0").is_err());
    }

    #[test]
    fn fetch_responses() {
        let (seq, items) = parse_fetch(
            b"* 7 FETCH (UID 9 BODY[HEADER.FIELDS (TO CC)]<0> {2}\r\nab FLAGS (\\Seen))\r\n",
        )
        .unwrap();
        assert_eq!(seq, 7);
        let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["UID", "BODY[HEADER.FIELDS (TO CC)]<0>", "FLAGS"]);
        assert_eq!(items[1].1, Value::Str(b"ab".to_vec()));
        assert!(parse_fetch(b"* 1 FETCH (UID)").is_err());
        assert!(parse_fetch(b"* 1 FETCH (UID 1 ").is_err());
    }
}
