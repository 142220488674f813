//! A small RFC 5322 / RFC 2045 tokenizer shared by the address and MIME
//! parameter parsers. It works on raw octets (8-bit bytes are ordinary
//! text, as real mail carries them) and never fails: malformed input just
//! yields fewer or shorter tokens, because FETCH must answer something for
//! every stored message.

/// A cursor over one (possibly folded) header field value.
pub(crate) struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    /// Text of the most recent comment skipped by [`Lexer::skip_cfws`].
    last_comment: Option<Vec<u8>>,
}

/// RFC 5322 `specials` plus the characters that end an atom.
fn is_atext(b: u8) -> bool {
    !(b <= b' '
        || b == 0x7f
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'['
                | b']'
                | b':'
                | b';'
                | b'@'
                | b'\\'
                | b','
                | b'.'
                | b'"'
        ))
}

/// RFC 2045 `token` characters (8-bit bytes allowed, as senders use them).
pub(crate) fn is_token_char(b: u8) -> bool {
    !(b <= b' '
        || b == 0x7f
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'@'
                | b','
                | b';'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'='
        ))
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Lexer {
            s,
            pos: 0,
            last_comment: None,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn bump(&mut self) {
        if self.pos < self.s.len() {
            self.pos += 1;
        }
    }

    /// Skips whitespace (including line breaks left by folding) and
    /// comments. Returns the text of the last comment seen, which the
    /// address parser uses as a display name when there is no phrase.
    pub(crate) fn skip_cfws(&mut self) -> Option<Vec<u8>> {
        let mut last = None;
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'(') => {
                    let c = self.comment();
                    self.last_comment = Some(c.clone());
                    last = Some(c);
                }
                _ => return last,
            }
        }
    }

    /// Returns and forgets the most recent comment skipped so far.
    pub(crate) fn take_comment(&mut self) -> Option<Vec<u8>> {
        self.last_comment.take()
    }

    /// Reads a (nested) comment starting at `(`; returns its text with the
    /// outer parentheses removed and quoted-pairs unescaped. An unterminated
    /// comment runs to the end of the value.
    fn comment(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    if depth > 0 {
                        out.push(b);
                    }
                    depth += 1;
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    if let Some(n) = self.peek() {
                        self.pos += 1;
                        out.push(n);
                    }
                }
                b'\r' | b'\n' => {}
                _ => out.push(b),
            }
        }
        out
    }

    /// Reads a quoted string starting at `"`; returns the unescaped content
    /// (folding line breaks removed). Unterminated strings run to the end.
    pub(crate) fn quoted_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.eat(b'"');
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        self.pos += 1;
                        out.push(n);
                    }
                }
                b'\r' | b'\n' => {}
                _ => out.push(b),
            }
        }
        out
    }

    /// Reads the raw text of a quoted string, quotes included.
    pub(crate) fn quoted_string_raw(&mut self) -> &'a [u8] {
        let start = self.pos;
        self.eat(b'"');
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => self.bump(),
                _ => {}
            }
        }
        &self.s[start..self.pos]
    }

    /// Reads an RFC 5322 atom (possibly empty).
    pub(crate) fn atom(&mut self) -> &'a [u8] {
        self.take_while(is_atext)
    }

    /// Reads an RFC 2045 token (possibly empty).
    pub(crate) fn token(&mut self) -> &'a [u8] {
        self.take_while(is_token_char)
    }

    /// Reads bytes while `f` holds (possibly none).
    pub(crate) fn take_while(&mut self, f: fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(f) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// Reads a domain literal `[...]` verbatim, brackets included.
    pub(crate) fn domain_literal(&mut self) -> &'a [u8] {
        let start = self.pos;
        self.eat(b'[');
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b']' => break,
                b'\\' => self.bump(),
                _ => {}
            }
        }
        &self.s[start..self.pos]
    }

    /// Skips to just before the next `stop` byte that is outside quoted
    /// strings and comments (or to the end).
    pub(crate) fn skip_to(&mut self, stop: &[u8]) {
        while let Some(b) = self.peek() {
            if stop.contains(&b) {
                return;
            }
            match b {
                b'"' => {
                    self.quoted_string();
                }
                b'(' => {
                    self.comment();
                }
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_quotes() {
        let mut l = Lexer::new(b" (a (nested) \\) c) \"x\\\"y\" atom.b");
        assert_eq!(l.skip_cfws(), Some(b"a (nested) ) c".to_vec()));
        assert_eq!(l.quoted_string(), b"x\"y");
        l.skip_cfws();
        assert_eq!(l.atom(), b"atom");
        assert!(l.eat(b'.'));
        assert_eq!(l.atom(), b"b");
        assert!(l.at_end());
    }

    #[test]
    fn unterminated_constructs_end_quietly() {
        let mut l = Lexer::new(b"(open");
        assert_eq!(l.skip_cfws(), Some(b"open".to_vec()));
        let mut l = Lexer::new(b"\"open\\");
        assert_eq!(l.quoted_string(), b"open");
        assert!(l.at_end());
    }

    #[test]
    fn tokens_stop_at_tspecials() {
        let mut l = Lexer::new("text/plain; ch\u{e4}rset=x".as_bytes());
        assert_eq!(l.token(), b"text");
        assert!(l.eat(b'/'));
        assert_eq!(l.token(), b"plain");
        l.skip_to(b";");
        assert!(l.eat(b';'));
        l.skip_cfws();
        assert_eq!(l.token(), "ch\u{e4}rset".as_bytes());
    }
}
