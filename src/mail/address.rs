//! RFC 5322 address lists as IMAP ENVELOPE address structures
//! (RFC 3501 §7.4.2): `(name adl mailbox host)`, with group syntax as
//! `(NIL NIL "group" NIL) ... (NIL NIL NIL NIL)`.
//!
//! Display names stay raw (encoded-words are not decoded) as RFC 3501
//! requires. For addresses that lack parts we follow Dovecot's markers
//! (`MISSING_MAILBOX`, `MISSING_DOMAIN`), so clients always get a non-NIL
//! host on a real mailbox (a NIL host would mean group syntax).

use crate::mail::lexer::Lexer;
use crate::proto::encode;

/// Host used when an address has no `@domain`.
pub(crate) const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";
/// Mailbox used when an address has no parsable local part.
pub(crate) const MISSING_MAILBOX: &[u8] = b"MISSING_MAILBOX";

/// One item of an ENVELOPE address list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Mailbox {
        name: Option<Vec<u8>>,
        adl: Option<Vec<u8>>,
        mailbox: Vec<u8>,
        host: Vec<u8>,
    },
    GroupStart(Vec<u8>),
    GroupEnd,
}

/// Parses an unfolded or raw address-list field value. Never fails:
/// unparsable pieces are skipped or reported with the missing markers.
pub(crate) fn parse_list(value: &[u8]) -> Vec<Item> {
    let mut lx = Lexer::new(value);
    let mut out = Vec::new();
    let mut in_group = false;
    loop {
        lx.skip_cfws();
        match lx.peek() {
            None => break,
            Some(b',') => {
                lx.bump();
                continue;
            }
            Some(b';') if in_group => {
                lx.bump();
                out.push(Item::GroupEnd);
                in_group = false;
                continue;
            }
            _ => {}
        }
        let start = lx.pos();
        let phrase = phrase(&mut lx);
        match lx.peek() {
            Some(b':') if !in_group => {
                lx.bump();
                out.push(Item::GroupStart(phrase));
                in_group = true;
            }
            Some(b'<') => out.push(angle_addr(&mut lx, phrase)),
            _ => {
                lx.set_pos(start);
                if let Some(item) = bare_mailbox(&mut lx, value, start, phrase, in_group) {
                    out.push(item);
                }
            }
        }
        if lx.pos() == start {
            lx.bump(); // guarantee progress on junk such as a stray '>'
        }
    }
    if in_group {
        out.push(Item::GroupEnd);
    }
    out
}

/// A display-name phrase: words (atoms, which may contain dots as in
/// obs-phrase, or quoted strings) joined with single spaces.
fn phrase(lx: &mut Lexer<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        lx.skip_cfws();
        let word = match lx.peek() {
            Some(b'"') => lx.quoted_string(),
            Some(_) => {
                let mut w = Vec::new();
                loop {
                    let a = lx.atom();
                    w.extend_from_slice(a);
                    if lx.eat(b'.') {
                        w.push(b'.');
                    } else {
                        break;
                    }
                }
                if w.is_empty() {
                    break;
                }
                w
            }
            None => break,
        };
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(&word);
    }
    out
}

/// `local-part [@ domain]`, each side possibly dotted; local-part words
/// keep their quotes so the address can be rebuilt exactly.
fn addr_spec(lx: &mut Lexer<'_>) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut local = Vec::new();
    loop {
        lx.skip_cfws();
        match lx.peek() {
            Some(b'"') => local.extend_from_slice(lx.quoted_string_raw()),
            _ => {
                let a = lx.atom();
                if a.is_empty() {
                    break;
                }
                local.extend_from_slice(a);
            }
        }
        lx.skip_cfws();
        if lx.eat(b'.') {
            local.push(b'.');
        } else {
            break;
        }
    }
    lx.skip_cfws();
    if !lx.eat(b'@') {
        return (local, None);
    }
    let mut domain = Vec::new();
    loop {
        lx.skip_cfws();
        match lx.peek() {
            Some(b'[') => domain.extend_from_slice(lx.domain_literal()),
            _ => {
                let a = lx.atom();
                if a.is_empty() {
                    break;
                }
                domain.extend_from_slice(a);
            }
        }
        lx.skip_cfws();
        if lx.eat(b'.') {
            domain.push(b'.');
        } else {
            break;
        }
    }
    (local, Some(domain))
}

fn mailbox_item(
    name: Option<Vec<u8>>,
    adl: Option<Vec<u8>>,
    local: Vec<u8>,
    domain: Option<Vec<u8>>,
) -> Item {
    Item::Mailbox {
        name: name.filter(|n| !n.is_empty()),
        adl: adl.filter(|a| !a.is_empty()),
        mailbox: if local.is_empty() {
            MISSING_MAILBOX.to_vec()
        } else {
            local
        },
        host: match domain {
            Some(d) if !d.is_empty() => d,
            _ => MISSING_DOMAIN.to_vec(),
        },
    }
}

/// `<[route:]addr-spec>`; the lexer is at `<`.
fn angle_addr(lx: &mut Lexer<'_>, phrase: Vec<u8>) -> Item {
    lx.eat(b'<');
    lx.skip_cfws();
    let mut adl = None;
    if lx.peek() == Some(b'@') {
        let mut route = Vec::new();
        while let Some(b) = lx.peek() {
            if b == b':' || b == b'>' {
                break;
            }
            if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                route.push(b);
            }
            lx.bump();
        }
        if lx.eat(b':') {
            adl = Some(route);
        }
    }
    let (local, domain) = addr_spec(lx);
    lx.skip_to(b">,");
    lx.eat(b'>');
    let comment = lx.skip_cfws();
    let name = if phrase.is_empty() {
        comment
    } else {
        Some(phrase)
    };
    mailbox_item(name, adl, local, domain)
}

/// A mailbox without angle brackets: `addr-spec [(comment)]`, or, when
/// that does not parse, a phrase with no address (Dovecot reports it with
/// `MISSING_MAILBOX`), or junk followed by an angle address.
fn bare_mailbox(
    lx: &mut Lexer<'_>,
    value: &[u8],
    start: usize,
    phrase: Vec<u8>,
    in_group: bool,
) -> Option<Item> {
    lx.take_comment();
    let (local, domain) = addr_spec(lx);
    lx.skip_cfws();
    let comment = lx.take_comment();
    let ended = match lx.peek() {
        None | Some(b',') => true,
        Some(b';') => in_group,
        _ => false,
    };
    if ended && !local.is_empty() {
        return Some(mailbox_item(comment, None, local, domain));
    }
    let stops: &[u8] = if in_group { b",<;" } else { b",<" };
    lx.skip_to(stops);
    if lx.peek() == Some(b'<') {
        let raw = value.get(start..lx.pos()).unwrap_or_default();
        let name = crate::mail::header::trim(raw).to_vec();
        return Some(angle_addr(lx, name));
    }
    if phrase.is_empty() && local.is_empty() {
        return None;
    }
    let name = if phrase.is_empty() {
        None
    } else {
        Some(phrase)
    };
    Some(mailbox_item(name, None, Vec::new(), None))
}

/// Writes an address list as `(addr addr ...)`, or NIL when empty.
pub(crate) fn write_list(out: &mut Vec<u8>, items: &[Item]) {
    if items.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for item in items {
        match item {
            Item::Mailbox {
                name,
                adl,
                mailbox,
                host,
            } => {
                out.push(b'(');
                encode::nstring(out, name.as_deref());
                out.push(b' ');
                encode::nstring(out, adl.as_deref());
                out.push(b' ');
                encode::string(out, mailbox);
                out.push(b' ');
                encode::string(out, host);
                out.push(b')');
            }
            Item::GroupStart(name) => {
                out.extend_from_slice(b"(NIL NIL ");
                encode::string(out, name);
                out.extend_from_slice(b" NIL)");
            }
            Item::GroupEnd => out.extend_from_slice(b"(NIL NIL NIL NIL)"),
        }
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(v: &[u8]) -> String {
        let mut out = Vec::new();
        write_list(&mut out, &parse_list(v));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn common_forms() {
        assert_eq!(
            render(b"\"Doug Sauder\" <doug@example.com>"),
            r#"(("Doug Sauder" NIL "doug" "example.com"))"#
        );
        assert_eq!(
            render(b"Joe Blow <jblow@example.com>, =?utf-8?Q?M=C3=BCller?= <m@example.com>"),
            r#"(("Joe Blow" NIL "jblow" "example.com")("=?utf-8?Q?M=C3=BCller?=" NIL "m" "example.com"))"#
        );
        assert_eq!(
            render(b"user@example.com (Real Name)"),
            r#"(("Real Name" NIL "user" "example.com"))"#
        );
        assert_eq!(render(b"<a@b>"), r#"((NIL NIL "a" "b"))"#);
        assert_eq!(render(b""), "NIL");
        assert_eq!(render(b"  ,, "), "NIL");
    }

    #[test]
    fn missing_parts_use_dovecot_markers() {
        assert_eq!(
            render(b"Whomever"),
            r#"((NIL NIL "Whomever" "MISSING_DOMAIN"))"#
        );
        assert_eq!(
            render(b"Someone Else"),
            r#"(("Someone Else" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"#
        );
        assert_eq!(
            render(b"Moderator-Address <moderator>"),
            r#"(("Moderator-Address" NIL "moderator" "MISSING_DOMAIN"))"#
        );
    }

    #[test]
    fn groups_and_routes() {
        assert_eq!(
            render(b"friends: a@b, \"C D\" <c@d>; e@f"),
            r#"((NIL NIL "friends" NIL)(NIL NIL "a" "b")("C D" NIL "c" "d")(NIL NIL NIL NIL)(NIL NIL "e" "f"))"#
        );
        assert_eq!(
            render(b"undisclosed-recipients:;"),
            r#"((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))"#
        );
        assert_eq!(
            render(b"open: a@b"),
            r#"((NIL NIL "open" NIL)(NIL NIL "a" "b")(NIL NIL NIL NIL))"#
        );
        assert_eq!(
            render(b"<@relay1,@relay2:user@host>"),
            r#"((NIL "@relay1,@relay2" "user" "host"))"#
        );
    }

    #[test]
    fn quoting_and_junk() {
        assert_eq!(
            render(b"\"a \\\"q\\\" b\" <x@y>"),
            r#"(("a \"q\" b" NIL "x" "y"))"#
        );
        assert_eq!(
            render(b"\"john doe\"@example.com"),
            r#"((NIL NIL "\"john doe\"" "example.com"))"#
        );
        assert_eq!(render(b"John@Work <j@w>"), r#"(("John@Work" NIL "j" "w"))"#);
        assert_eq!(
            render(b"Joe Q. Public <p@q>"),
            r#"(("Joe Q. Public" NIL "p" "q"))"#
        );
        // Junk must neither loop nor panic.
        for junk in [
            &b">>>"[..],
            b"<",
            b"@",
            b"(((",
            b"\"",
            b";;:",
            b"a@",
            b"<@",
            b"<@a",
        ] {
            let _ = render(junk);
        }
    }

    #[test]
    fn eight_bit_names_become_literals() {
        let out = render("J\u{fc}rgen <j@x>".as_bytes());
        assert!(out.starts_with("(({7}\r\nJ\u{fc}rgen NIL"), "{out}");
    }
}
