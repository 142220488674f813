//! parse -> encode -> parse: a command the parser accepts is written back
//! with the server's own response encoders (astring, string, mailbox,
//! date-time, flags) and parsed again; both parses must agree. The encoded
//! strings must also read back through the strict response-value reader,
//! which is how clients see them.
#![no_main]

use letterbox::proto::command::{
    AppendCommand, Command, CommandBody, LoginCommand, LsubCommand, RenameCommand,
};
use letterbox::proto::encode;
use letterbox::proto::mutf7;
use letterbox::proto::parse::parse_command;
use letterbox::proto::value::{self, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(command) = parse_command(data) else {
        return;
    };
    let Some(wire) = reencode(&command) else {
        return;
    };
    let again = parse_command(&wire).unwrap_or_else(|e| {
        panic!(
            "re-encoded command does not parse: {e:?}\n{}",
            String::from_utf8_lossy(&wire)
        )
    });
    assert_eq!(command, again, "{}", String::from_utf8_lossy(&wire));
});

/// The command written with the response encoders, for the commands whose
/// arguments are all strings, mailboxes, flags and dates.
fn reencode(command: &Command) -> Option<Vec<u8>> {
    let mut out = command.tag.as_str().as_bytes().to_vec();
    out.push(b' ');
    match &command.body {
        CommandBody::Login(LoginCommand { username, password }) => {
            out.extend_from_slice(b"LOGIN ");
            checked_astring(&mut out, username);
            out.push(b' ');
            checked_astring(&mut out, password);
        }
        CommandBody::Delete { mailbox } => word_and_mailbox(&mut out, "DELETE", mailbox)?,
        CommandBody::Subscribe { mailbox } => word_and_mailbox(&mut out, "SUBSCRIBE", mailbox)?,
        CommandBody::Unsubscribe { mailbox } => {
            word_and_mailbox(&mut out, "UNSUBSCRIBE", mailbox)?
        }
        CommandBody::GetQuotaRoot { mailbox } => {
            word_and_mailbox(&mut out, "GETQUOTAROOT", mailbox)?
        }
        CommandBody::Rename(RenameCommand { from, to }) => {
            word_and_mailbox(&mut out, "RENAME", from)?;
            out.push(b' ');
            checked_mailbox(&mut out, to)?;
        }
        CommandBody::Lsub(LsubCommand { reference, pattern }) => {
            out.extend_from_slice(b"LSUB ");
            checked_string(&mut out, reference);
            out.push(b' ');
            checked_string(&mut out, pattern);
        }
        CommandBody::Append(AppendCommand {
            mailbox,
            flags,
            internal_date,
            message,
        }) => {
            word_and_mailbox(&mut out, "APPEND", mailbox)?;
            out.extend_from_slice(b" (");
            let names: Vec<String> = flags.iter().map(|f| f.as_imap()).collect();
            out.extend_from_slice(names.join(" ").as_bytes());
            out.push(b')');
            if let Some(date) = internal_date {
                out.push(b' ');
                let start = out.len();
                encode::date_time(&mut out, *date);
                let read = value::parse(&out[start..]).expect("date-time reads back");
                assert!(matches!(read, Value::Str(_)), "date-time is a string");
            }
            // The message is client data, sent raw (NUL and all).
            out.extend_from_slice(format!(" {{{}}}\r\n", message.len()).as_bytes());
            out.extend_from_slice(message);
        }
        _ => return None,
    }
    out.extend_from_slice(b"\r\n");
    Some(out)
}

fn word_and_mailbox(out: &mut Vec<u8>, word: &str, mailbox: &[u8]) -> Option<()> {
    out.extend_from_slice(word.as_bytes());
    out.push(b' ');
    checked_mailbox(out, mailbox)
}

/// Writes a mailbox given in wire form (modified UTF-7) the way responses
/// do: decoded, then encoded again. Names that are not valid modified
/// UTF-7 cannot be answered with, so the round trip stops there.
fn checked_mailbox(out: &mut Vec<u8>, wire: &[u8]) -> Option<()> {
    let name = mutf7::decode(wire).ok()?;
    let start = out.len();
    encode::mailbox(out, &name, false);
    let written = value_of(&out[start..]);
    let decoded = mutf7::decode(&written).expect("encoded mailbox is modified UTF-7");
    assert_eq!(decoded, name, "mailbox name changed in the round trip");
    Some(())
}

fn checked_astring(out: &mut Vec<u8>, s: &[u8]) {
    let start = out.len();
    encode::astring(out, s);
    assert_eq!(value_of(&out[start..]), s, "astring changed");
}

fn checked_string(out: &mut Vec<u8>, s: &[u8]) {
    let start = out.len();
    encode::string(out, s);
    assert_eq!(value_of(&out[start..]), s, "string changed");
}

/// Reads one encoded string (or atom) back as a client would.
fn value_of(encoded: &[u8]) -> Vec<u8> {
    match value::parse(encoded) {
        Ok(Value::Str(s)) => s,
        Ok(Value::Atom(a)) => a.into_bytes(),
        Ok(Value::Number(_)) => encoded.to_vec(),
        other => panic!(
            "encoder wrote {:?}, read back as {other:?}",
            String::from_utf8_lossy(encoded)
        ),
    }
}
