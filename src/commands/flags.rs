//! Flags between the wire and the store: parsing command flag lists and
//! writing FLAGS lists.

use crate::proto::Flag;
use crate::session::reply::Done;
use crate::store::{Flags, SystemFlags};

const SYSTEM: [(u8, &str); 5] = [
    (SystemFlags::ANSWERED, "\\Answered"),
    (SystemFlags::FLAGGED, "\\Flagged"),
    (SystemFlags::DELETED, "\\Deleted"),
    (SystemFlags::SEEN, "\\Seen"),
    (SystemFlags::DRAFT, "\\Draft"),
];

/// The system flags, as the FLAGS and PERMANENTFLAGS responses list them.
pub fn system_flag_names() -> impl Iterator<Item = &'static str> {
    SYSTEM.iter().map(|(_, name)| *name)
}

/// `(\Seen $Keyword ...)`, with `\Recent` when this session owns it.
pub fn flag_list(flags: &Flags, recent: bool) -> String {
    let mut names: Vec<&str> = SYSTEM
        .iter()
        .filter(|(bit, _)| flags.system.has(*bit))
        .map(|(_, name)| *name)
        .collect();
    if recent {
        names.push("\\Recent");
    }
    names.extend(flags.keywords.iter().map(String::as_str));
    format!("({})", names.join(" "))
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
        assert_eq!(flag_list(&flags, true), "(\\Seen \\Draft \\Recent $Label1)");
        assert_eq!(flag_list(&Flags::default(), false), "()");
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
