//! Mailbox names and LIST patterns (RFC 3501 §9 `mailbox`, `list-mailbox`).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::take_while1;
use nom::combinator::map;

use crate::proto::parse::core::{astring, string};
use crate::proto::parse::error::{PResult, expect};
use crate::proto::types::is_atom_char;

/// `mailbox = "INBOX" / astring` ; `INBOX` in any case becomes `b"INBOX"`
pub fn mailbox(i: &[u8]) -> PResult<'_, Vec<u8>> {
    let (rest, name) = expect("Missing mailbox name", astring).parse(i)?;
    if name.eq_ignore_ascii_case(b"INBOX") {
        return Ok((rest, b"INBOX".to_vec()));
    }
    Ok((rest, name))
}

/// `list-char = ATOM-CHAR / list-wildcards / resp-specials`
fn is_list_char(b: u8) -> bool {
    is_atom_char(b) || matches!(b, b'%' | b'*' | b']')
}

/// `list-mailbox = 1*list-char / string` ; kept as sent
pub fn list_mailbox(i: &[u8]) -> PResult<'_, Vec<u8>> {
    expect(
        "Missing mailbox pattern",
        alt((map(take_while1(is_list_char), <[u8]>::to_vec), string)),
    )
    .parse(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes() {
        assert_eq!(mailbox(b"inbox "), Ok((&b" "[..], b"INBOX".to_vec())));
        assert_eq!(mailbox(b"\"InBox\""), Ok((&b""[..], b"INBOX".to_vec())));
        assert_eq!(mailbox(b"INBOX.foo"), Ok((&b""[..], b"INBOX.foo".to_vec())));
        assert_eq!(mailbox(b"{4}\r\na b\""), Ok((&b""[..], b"a b\"".to_vec())));
        assert_eq!(mailbox(b"&U,BTFw-"), Ok((&b""[..], b"&U,BTFw-".to_vec())));
        assert!(mailbox(b"%").is_err());
        assert!(mailbox(b"").is_err());
    }

    #[test]
    fn patterns() {
        assert_eq!(list_mailbox(b"*"), Ok((&b""[..], b"*".to_vec())));
        assert_eq!(
            list_mailbox(b"foo/%/bar] x"),
            Ok((&b" x"[..], b"foo/%/bar]".to_vec()))
        );
        assert_eq!(list_mailbox(b"\"\""), Ok((&b""[..], vec![])));
        assert!(list_mailbox(b"(").is_err());
    }
}
