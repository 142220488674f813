//! Top level: `command = tag SP (command-any / command-auth /
//! command-nonauth / command-select) CRLF` (RFC 3501 §9 and extensions).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::take_while1;
use nom::combinator::{map, opt, value};
use nom::sequence::preceded;

use crate::proto::command::{Command, CommandBody};
use crate::proto::parse::core::{
    astring, atom_upper, crlf, eof, nil, nstring, paren_list, sp, string,
};
use crate::proto::parse::error::{PResult, ParseError, expect, failure};
use crate::proto::parse::fetch::fetch_args;
use crate::proto::parse::mailbox::mailbox;
use crate::proto::parse::mailbox_args::{
    append_args, create_args, list_args, lsub_args, select_args, status_args,
};
use crate::proto::parse::search::search_args;
use crate::proto::parse::sequence::sequence_set;
use crate::proto::parse::store::store_args;
use crate::proto::types::{Tag, is_tag_char};

/// Parses one complete framed command: its line(s) including the final CRLF,
/// with every literal's octets inline.
pub fn parse_command(input: &[u8]) -> Result<Command, ParseError> {
    let tag_len = input.iter().take_while(|&&b| is_tag_char(b)).count();
    let tag = match (Tag::from_bytes(&input[..tag_len]), input.get(tag_len)) {
        (Some(tag), Some(b' ')) => tag,
        (Some(_), Some(b'\r' | b'\n') | None) => return Err(untagged("Missing command")),
        (None, _) if input.is_empty() => return Err(untagged("Empty command")),
        _ => return Err(untagged("Invalid tag")),
    };
    let rest = &input[tag_len + 1..];
    let result = command_body(rest).and_then(|(r, body)| {
        let (r, _) = expect("Unexpected characters after command", crlf).parse(r)?;
        let (_, _) = eof(r)?;
        Ok(body)
    });
    match result {
        Ok(body) => Ok(Command { tag, body }),
        Err(e) => {
            let message = match e {
                nom::Err::Error(e) | nom::Err::Failure(e) => match e.message {
                    Some(m) => m.to_owned(),
                    None => format!("Syntax error in {} arguments", command_name(rest)),
                },
                nom::Err::Incomplete(_) => "Incomplete command".to_owned(),
            };
            Err(ParseError {
                tag: Some(tag),
                message,
            })
        }
    }
}

fn untagged(message: &str) -> ParseError {
    ParseError {
        tag: None,
        message: message.to_owned(),
    }
}

/// The upper-cased command name (with a `UID ` prefix) for error messages.
fn command_name(i: &[u8]) -> String {
    let word = |i| -> PResult<'_, String> {
        map(
            take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'-'),
            |w| String::from_utf8_lossy(w).to_ascii_uppercase(),
        )
        .parse(i)
    };
    match word(i) {
        Ok((rest, w)) if w == "UID" => match preceded(sp, word).parse(rest) {
            Ok((_, w2)) => format!("UID {w2}"),
            Err(_) => w,
        },
        Ok((_, w)) => w,
        Err(_) => "command".to_owned(),
    }
}

/// `command-any / command-auth / command-nonauth / command-select`, without
/// the tag and the final CRLF.
fn command_body(i: &[u8]) -> PResult<'_, CommandBody> {
    use CommandBody as C;
    let (rest, name) = expect("Missing command", atom_upper).parse(i)?;
    match name.as_str() {
        "CAPABILITY" => Ok((rest, C::Capability)),
        "NOOP" => Ok((rest, C::Noop)),
        "LOGOUT" => Ok((rest, C::Logout)),
        "STARTTLS" => Ok((rest, C::StartTls)),
        "NAMESPACE" => Ok((rest, C::Namespace)),
        "IDLE" => Ok((rest, C::Idle)),
        "CHECK" => Ok((rest, C::Check)),
        "CLOSE" => Ok((rest, C::Close)),
        "UNSELECT" => Ok((rest, C::Unselect)),
        "EXPUNGE" => Ok((rest, C::Expunge)),
        "ID" => id_args(rest),
        "ENABLE" => enable_args(rest),
        "AUTHENTICATE" => authenticate_args(rest),
        "LOGIN" => login_args(rest),
        "SELECT" => select_args(rest, false),
        "EXAMINE" => select_args(rest, true),
        "CREATE" => create_args(rest),
        "DELETE" => one_mailbox(rest, |mailbox| C::Delete { mailbox }),
        "SUBSCRIBE" => one_mailbox(rest, |mailbox| C::Subscribe { mailbox }),
        "UNSUBSCRIBE" => one_mailbox(rest, |mailbox| C::Unsubscribe { mailbox }),
        "RENAME" => rename_args(rest),
        "LIST" => list_args(rest),
        "LSUB" => map(lsub_args, |(reference, pattern)| C::Lsub {
            reference,
            pattern,
        })
        .parse(rest),
        "XLIST" => map(lsub_args, |(reference, pattern)| C::Xlist {
            reference,
            pattern,
        })
        .parse(rest),
        "STATUS" => status_args(rest),
        "APPEND" => append_args(rest),
        "COMPRESS" => {
            let (r, _) = sp(rest)?;
            let (r, mechanism) = expect("Missing compression mechanism", atom_upper).parse(r)?;
            Ok((r, C::Compress { mechanism }))
        }
        "UID" => {
            let (r, _) = sp(rest)?;
            let (r, sub) = expect("Missing UID command", atom_upper).parse(r)?;
            uid_command(r, &sub, true)
        }
        _ => uid_command(rest, &name, false).or_else(|_| failure(i, "Unknown command")),
    }
}

/// The commands that may follow `UID`: COPY, MOVE, FETCH, SEARCH, STORE and
/// (with `uid`) EXPUNGE.
fn uid_command<'a>(i: &'a [u8], name: &str, uid: bool) -> PResult<'a, CommandBody> {
    use CommandBody as C;
    match name {
        "FETCH" => fetch_args(i, uid),
        "SEARCH" => search_args(i, uid),
        "STORE" => store_args(i, uid),
        "COPY" => copy_args(i).map(|(r, (sequence_set, mailbox))| {
            (
                r,
                C::Copy {
                    uid,
                    sequence_set,
                    mailbox,
                },
            )
        }),
        "MOVE" => copy_args(i).map(|(r, (sequence_set, mailbox))| {
            (
                r,
                C::Move {
                    uid,
                    sequence_set,
                    mailbox,
                },
            )
        }),
        "EXPUNGE" if uid => {
            let (r, _) = sp(i)?;
            let (r, set) = sequence_set(r)?;
            Ok((r, C::UidExpunge(set)))
        }
        _ if uid => failure(i, "Unknown UID command"),
        _ => failure(i, "Unknown command"),
    }
}

/// `copy = "COPY" SP sequence-set SP mailbox` (and MOVE)
fn copy_args(i: &[u8]) -> PResult<'_, (crate::proto::SequenceSet, Vec<u8>)> {
    let (rest, _) = sp(i)?;
    let (rest, set) = sequence_set(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, mailbox) = mailbox(rest)?;
    Ok((rest, (set, mailbox)))
}

/// `SP mailbox` for DELETE, SUBSCRIBE and UNSUBSCRIBE.
fn one_mailbox(i: &[u8], make: fn(Vec<u8>) -> CommandBody) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, name) = mailbox(rest)?;
    Ok((rest, make(name)))
}

/// `rename = "RENAME" SP mailbox SP mailbox`
fn rename_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, from) = mailbox(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, to) = mailbox(rest)?;
    Ok((rest, CommandBody::Rename { from, to }))
}

/// `login = "LOGIN" SP userid SP password` ; both `astring`
fn login_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, username) = expect("Missing user name", astring).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, password) = expect("Missing password", astring).parse(rest)?;
    Ok((rest, CommandBody::Login { username, password }))
}

/// `authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]`
/// (RFC 4959 SASL-IR); the initial response is kept as sent
fn authenticate_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mechanism) = expect("Missing mechanism", atom_upper).parse(rest)?;
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let (rest, ir) = opt(preceded(
        sp,
        expect("Invalid initial response", take_while1(is_b64)),
    ))
    .parse(rest)?;
    Ok((
        rest,
        CommandBody::Authenticate {
            mechanism,
            initial_response: ir.map(<[u8]>::to_vec),
        },
    ))
}

/// `enable = "ENABLE" 1*(SP capability)` (upper-cased)
fn enable_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (mut rest, _) = sp(i)?;
    let mut caps = Vec::new();
    loop {
        let (r, cap) = expect("Missing capability", atom_upper).parse(rest)?;
        caps.push(cap);
        match r.strip_prefix(b" ") {
            Some(after) => rest = after,
            None => return Ok((r, CommandBody::Enable(caps))),
        }
    }
}

/// `id = "ID" SP id-params-list` ; `id-params-list = "(" *(string SP
/// nstring) ")" / nil`
fn id_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let pair = |r| -> PResult<'_, (Vec<u8>, Option<Vec<u8>>)> {
        let (r, k) = expect("Invalid ID field", string).parse(r)?;
        let (r, _) = sp(r)?;
        let (r, v) = expect("Invalid ID value", nstring).parse(r)?;
        Ok((r, (k, v)))
    };
    let (rest, params) = expect(
        "Invalid ID parameters",
        alt((value(None, nil), map(paren_list(true, pair), Some))),
    )
    .parse(rest)?;
    Ok((rest, CommandBody::Id(params)))
}
