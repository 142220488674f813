//! Flags between the wire and the store: command flag lists to stored
//! flags, stored flags to the flags a response lists, and the FLAGS and
//! PERMANENTFLAGS responses of a mailbox.

use crate::proto::Flag;
use crate::proto::response::{Code, Done, Untagged};
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::{Flags, SystemFlags};

/// The system flags in the order responses list them.
const SYSTEM: [(u8, Flag); 5] = [
    (SystemFlags::ANSWERED, Flag::Answered),
    (SystemFlags::FLAGGED, Flag::Flagged),
    (SystemFlags::DELETED, Flag::Deleted),
    (SystemFlags::SEEN, Flag::Seen),
    (SystemFlags::DRAFT, Flag::Draft),
];

/// A message's flags as a response lists them: system flags, `\Recent`
/// when this session owns it, then keywords.
pub fn wire_flags(flags: &Flags, recent: bool) -> Vec<Flag> {
    let mut wire: Vec<Flag> = SYSTEM
        .iter()
        .filter(|(bit, _)| flags.system.has(*bit))
        .map(|(_, flag)| flag.clone())
        .collect();
    if recent {
        wire.push(Flag::Recent);
    }
    wire.extend(flags.keywords.iter().cloned().map(Flag::Keyword));
    wire
}

/// The FLAGS response and PERMANENTFLAGS code for a mailbox's keywords
/// (SELECT, and when a STORE or another session adds a keyword).
/// PERMANENTFLAGS lists only the flags the user's rights let them set
/// (RFC 4314 §4: `s` for \Seen, `t` for \Deleted, `w` for the others).
pub fn send_flags(s: &mut Session, keywords: &[String], read_only: bool, rights: Rights) {
    let mut known: Vec<Flag> = SYSTEM.iter().map(|(_, flag)| flag.clone()).collect();
    known.extend(keywords.iter().cloned().map(Flag::Keyword));
    let settable: Vec<&str> = known
        .iter()
        .filter(|flag| rights.contains(right_for(flag)))
        .map(Flag::name)
        .chain(rights.contains(Rights::WRITE).then_some("\\*"))
        .collect();
    let permanent = if read_only {
        String::new()
    } else {
        settable.join(" ")
    };
    s.send(Untagged::Flags(known));
    let done = Done::ok("Flags permitted").with_code(Code::PermanentFlags(permanent));
    s.send(Untagged::Condition(done));
}

/// The right that setting or clearing `flag` needs (RFC 4314 §4).
pub fn right_for(flag: &Flag) -> Rights {
    match flag {
        Flag::Seen => Rights::SEEN,
        Flag::Deleted => Rights::DELETE_MESSAGES,
        _ => Rights::WRITE,
    }
}

/// Converts flags from a command into stored flags. `\Recent` is the
/// server's to set: APPEND ignores it (`allow_recent`), STORE refuses it.
/// An unknown system flag is an error.
pub fn from_command(flags: &[Flag], allow_recent: bool) -> Result<Flags, Done> {
    let mut out = Flags::default();
    for flag in flags {
        let bit = match flag {
            Flag::Seen => SystemFlags::SEEN,
            Flag::Answered => SystemFlags::ANSWERED,
            Flag::Flagged => SystemFlags::FLAGGED,
            Flag::Deleted => SystemFlags::DELETED,
            Flag::Draft => SystemFlags::DRAFT,
            Flag::Recent if allow_recent => continue,
            Flag::Recent => return Err(Done::bad("\\Recent cannot be changed")),
            Flag::Extension(name) => {
                return Err(Done::bad(format!("Unknown system flag {name}")));
            }
            Flag::Keyword(keyword) => {
                if !out.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword)) {
                    out.keywords.push(keyword.clone());
                }
                continue;
            }
        };
        out.system.0 |= bit;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_lists() {
        let flags = Flags {
            system: SystemFlags(SystemFlags::SEEN | SystemFlags::DRAFT),
            keywords: vec!["$Label1".into()],
        };
        let listed = |flags: &Flags, recent| {
            let mut out = Vec::new();
            crate::proto::response::flag_list(&mut out, &wire_flags(flags, recent));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(listed(&flags, true), "(\\Seen \\Draft \\Recent $Label1)");
        assert_eq!(listed(&Flags::default(), false), "()");
    }

    #[test]
    fn command_flags() {
        let flags = [
            Flag::Seen,
            Flag::Keyword("a".into()),
            Flag::Keyword("A".into()),
            Flag::Recent,
        ];
        let parsed = from_command(&flags, true).unwrap();
        assert_eq!(parsed.system.0, SystemFlags::SEEN);
        assert_eq!(parsed.keywords, ["a"]);
        assert!(from_command(&flags, false).is_err());
        assert!(from_command(&[Flag::Extension("\\Bogus".into())], true).is_err());
    }
}
