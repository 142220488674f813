//! Test helper: a strict reader of IMAP response values (RFC 3501 §9:
//! NIL, numbers, quoted strings, literals, parenthesised lists), used to
//! compare our output with the reference semantically (a string may be
//! quoted or a literal) and to check that what we emit is valid syntax.

/// One IMAP value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Nil,
    Number(u64),
    Str(Vec<u8>),
    List(Vec<Value>),
}

/// Parses exactly one value filling all of `s`.
pub(crate) fn parse(s: &[u8]) -> Result<Value, String> {
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
            Some(b'0'..=b'9') => {
                let start = self.pos;
                while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                let text =
                    std::str::from_utf8(&self.s[start..self.pos]).map_err(|e| e.to_string())?;
                text.parse().map(Value::Number).map_err(|e| e.to_string())
            }
            _ if self.s[self.pos..].starts_with(b"NIL") => {
                self.pos += 3;
                Ok(Value::Nil)
            }
            _ => self.err("expected a value"),
        }
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
        let end = self.pos + len;
        let Some(data) = self.s.get(self.pos..end) else {
            return self.err("literal shorter than announced");
        };
        self.pos = end;
        Ok(Value::Str(data.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
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
        assert!(parse(b"foo").is_err());
    }
}
