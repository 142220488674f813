//! Access control lists (RFC 4314): rights, identifiers, and what a user
//! may do with a mailbox given its entries. Pure: the store keeps the
//! entries, the commands check the rights.

use std::fmt;

/// A set of RFC 4314 §2.1 rights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Rights(u16);

/// The rights in the order RFC 4314 lists them (and responses show them).
const LETTERS: [(char, u16); 11] = [
    ('l', 1),       // lookup: LIST shows it
    ('r', 1 << 1),  // read: SELECT, EXAMINE, STATUS, FETCH, SEARCH, COPY from
    ('s', 1 << 2),  // keep \Seen
    ('w', 1 << 3),  // write flags other than \Seen and \Deleted
    ('i', 1 << 4),  // insert: APPEND, COPY/MOVE into
    ('p', 1 << 5),  // post (no IMAP command needs it)
    ('k', 1 << 6),  // create child mailboxes, RENAME into
    ('x', 1 << 7),  // delete the mailbox, RENAME it
    ('t', 1 << 8),  // set or clear \Deleted
    ('e', 1 << 9),  // EXPUNGE
    ('a', 1 << 10), // administer: SETACL, DELETEACL, GETACL, LISTRIGHTS
];

impl Rights {
    pub const NONE: Rights = Rights(0);
    pub const ALL: Rights = Rights((1 << 11) - 1);
    pub const LOOKUP: Rights = Rights(1);
    pub const READ: Rights = Rights(1 << 1);
    pub const SEEN: Rights = Rights(1 << 2);
    pub const WRITE: Rights = Rights(1 << 3);
    pub const INSERT: Rights = Rights(1 << 4);
    pub const POST: Rights = Rights(1 << 5);
    pub const CREATE: Rights = Rights(1 << 6);
    pub const DELETE_MAILBOX: Rights = Rights(1 << 7);
    pub const DELETE_MESSAGES: Rights = Rights(1 << 8);
    pub const EXPUNGE: Rights = Rights(1 << 9);
    pub const ADMIN: Rights = Rights(1 << 10);
    /// RFC 4314 §2.1.1's obsolete "c" (create), as servers that use "x"
    /// for DELETE define it: the same as "k".
    const OBSOLETE_CREATE: Rights = Rights::CREATE;
    /// ... and its obsolete "d" (delete): "x", "t" and "e".
    const OBSOLETE_DELETE: Rights =
        Rights(Rights::DELETE_MAILBOX.0 | Rights::DELETE_MESSAGES.0 | Rights::EXPUNGE.0);

    /// Parses a rights string (`lrswi`), the obsolete `c` and `d`
    /// included; digits are refused like any letter we do not know
    /// (RFC 4314 §3.1: unknown rights are a BAD... we answer NO).
    pub fn parse(text: &str) -> Result<Rights, char> {
        let mut rights = Rights::NONE;
        for c in text.chars() {
            rights = rights
                | match c {
                    'c' => Rights::OBSOLETE_CREATE,
                    'd' => Rights::OBSOLETE_DELETE,
                    _ => LETTERS
                        .iter()
                        .find(|(letter, _)| *letter == c)
                        .map(|(_, bit)| Rights(*bit))
                        .ok_or(c)?,
                };
        }
        Ok(rights)
    }

    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn without(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }

    /// May the user do anything that changes the mailbox's messages? If
    /// not, SELECT answers READ-ONLY (RFC 4314 §5.2).
    pub fn can_change_messages(self) -> bool {
        let changes = Rights::SEEN
            | Rights::WRITE
            | Rights::INSERT
            | Rights::DELETE_MESSAGES
            | Rights::EXPUNGE;
        self.0 & changes.0 != 0
    }
}

impl std::ops::BitOr for Rights {
    type Output = Rights;
    fn bitor(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}

/// The letters, in RFC order (how entries are stored).
impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (letter, bit) in LETTERS {
            if self.0 & bit != 0 {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

impl Rights {
    /// As MYRIGHTS and ACL responses show them: the letters, then the
    /// obsolete "c" and "d" when any of what they stand for is there, for
    /// RFC 2086 clients (RFC 4314 §2.1.1).
    pub fn with_obsolete(self) -> String {
        let mut text = self.to_string();
        if self.0 & Rights::OBSOLETE_CREATE.0 != 0 {
            text.push('c');
        }
        if self.0 & Rights::OBSOLETE_DELETE.0 != 0 {
            text.push('d');
        }
        text
    }

    /// Each right on its own, as LISTRIGHTS offers them (with "c" and
    /// "d", which RFC 4314 §2.1.1 wants listed by themselves).
    pub fn each(self) -> Vec<String> {
        let mut each: Vec<String> = LETTERS
            .iter()
            .filter(|(_, bit)| self.0 & bit != 0)
            .map(|(letter, _)| letter.to_string())
            .collect();
        if self.0 & Rights::OBSOLETE_CREATE.0 != 0 {
            each.push("c".into());
        }
        if self.0 & Rights::OBSOLETE_DELETE.0 != 0 {
            each.push("d".into());
        }
        each
    }
}

/// A SETACL rights argument: `+lr` adds, `-w` takes away, `lrs`
/// replaces (RFC 4314 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add(Rights),
    Remove(Rights),
    Replace(Rights),
}

impl Change {
    /// Reads the argument; an unknown right is the error (never ignored).
    pub fn parse(text: &str) -> Result<Change, char> {
        Ok(match text.as_bytes().first() {
            Some(b'+') => Change::Add(Rights::parse(&text[1..])?),
            Some(b'-') => Change::Remove(Rights::parse(&text[1..])?),
            _ => Change::Replace(Rights::parse(text)?),
        })
    }

    /// The rights an entry holding `current` has after the change.
    pub fn apply(self, current: Rights) -> Rights {
        match self {
            Change::Add(rights) => current | rights,
            Change::Remove(rights) => current.without(rights),
            Change::Replace(rights) => rights,
        }
    }
}

/// The rights `entries` give exactly this identifier (none without an
/// entry of its own).
pub fn entry_rights(entries: &[Entry], identifier: &Identifier, negative: bool) -> Rights {
    entries
        .iter()
        .find(|e| &e.identifier == identifier && e.negative == negative)
        .map_or(Rights::NONE, |e| e.rights)
}

/// Whether `text` can name an ACL entry: a name after the optional `-`,
/// without control characters.
pub fn valid_identifier(text: &str) -> bool {
    let name = text.strip_prefix('-').unwrap_or(text);
    !name.is_empty() && !name.chars().any(char::is_control)
}

/// Whether the identifier names `owner` (with or without `-`): the owner
/// of a personal mailbox always holds every right, so it takes no entry.
pub fn names_owner(text: &str, owner: &str) -> bool {
    text.strip_prefix('-').unwrap_or(text) == owner
}

/// Who an entry is about (RFC 4314 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// Everybody, logged in or not (for a server with only logged-in
    /// users, the same as `authenticated`).
    Anyone,
    Authenticated,
    User(String),
}

/// One ACL entry: an identifier, whether it takes rights away (a
/// `-name` identifier), and the rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub identifier: Identifier,
    pub negative: bool,
    pub rights: Rights,
}

impl Entry {
    /// The identifier as GETACL shows it (`-bob` for a negative entry).
    pub fn name(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        let name = match &self.identifier {
            Identifier::Anyone => "anyone",
            Identifier::Authenticated => "authenticated",
            Identifier::User(name) => name.as_str(),
        };
        format!("{sign}{name}")
    }
}

/// Reads `-name`, `anyone`, `authenticated` or a user name.
pub fn parse_identifier(text: &str) -> (Identifier, bool) {
    let (negative, name) = match text.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, text),
    };
    let identifier = match name {
        "anyone" => Identifier::Anyone,
        "authenticated" => Identifier::Authenticated,
        user => Identifier::User(user.to_owned()),
    };
    (identifier, negative)
}

/// What `user` may do given a mailbox's entries: every right of the
/// entries that name them, `authenticated` or `anyone`, less every right
/// of the negative entries that do (RFC 4314 §2).
pub fn rights_of(user: &str, entries: &[Entry]) -> Rights {
    let applies = |e: &Entry| match &e.identifier {
        Identifier::Anyone | Identifier::Authenticated => true,
        Identifier::User(name) => name == user,
    };
    let (mut granted, mut denied) = (Rights::NONE, Rights::NONE);
    for entry in entries.iter().filter(|e| applies(e)) {
        match entry.negative {
            false => granted = granted | entry.rights,
            true => denied = denied | entry.rights,
        }
    }
    granted.without(denied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(identifier: &str, rights: &str) -> Entry {
        let (identifier, negative) = parse_identifier(identifier);
        Entry {
            identifier,
            negative,
            rights: Rights::parse(rights).unwrap(),
        }
    }

    #[test]
    fn rights_parse_and_show_in_rfc_order() {
        let rights = Rights::parse("alr").unwrap();
        assert_eq!(rights.to_string(), "lra");
        assert_eq!(Rights::ALL.to_string(), "lrswipkxtea");
        assert_eq!(Rights::ALL.with_obsolete(), "lrswipkxteacd");
        assert_eq!(Rights::parse("").unwrap(), Rights::NONE);
        assert_eq!(Rights::parse("lrz"), Err('z'));
        assert_eq!(Rights::parse("L"), Err('L'));
    }

    #[test]
    fn obsolete_rights_stand_for_their_modern_ones() {
        assert_eq!(Rights::parse("c").unwrap(), Rights::parse("k").unwrap());
        assert_eq!(Rights::parse("d").unwrap(), Rights::parse("xte").unwrap());
        assert_eq!(Rights::parse("lrk").unwrap().with_obsolete(), "lrkc");
        assert_eq!(Rights::parse("lrxt").unwrap().with_obsolete(), "lrxtd");
        assert_eq!(Rights::parse("lr").unwrap().with_obsolete(), "lr");
        assert_eq!(Rights::parse("le").unwrap().each(), ["l", "e", "d"]);
    }

    #[test]
    fn rights_of_users_from_entries() {
        let entries = [
            entry("anyone", "l"),
            entry("authenticated", "r"),
            entry("alice", "lrsw"),
            entry("-alice", "w"),
            entry("-carol", "r"),
        ];
        assert_eq!(rights_of("alice", &entries).to_string(), "lrs");
        assert_eq!(rights_of("bob", &entries).to_string(), "lr");
        assert_eq!(rights_of("carol", &entries).to_string(), "l");
        assert_eq!(rights_of("dave", &[]), Rights::NONE);
    }

    #[test]
    fn changes_add_remove_or_replace() {
        let lr = Rights::parse("lr").unwrap();
        let apply = |text: &str| Change::parse(text).unwrap().apply(lr).to_string();
        assert_eq!(apply("+sw"), "lrsw");
        assert_eq!(apply("-r"), "l");
        assert_eq!(apply("ie"), "ie");
        assert_eq!(apply(""), "");
        assert_eq!(apply("-c"), "lr");
        assert_eq!(Change::parse("+lz"), Err('z'));
    }

    #[test]
    fn identifiers() {
        assert!(valid_identifier("-bob") && valid_identifier("anyone"));
        assert!(!valid_identifier("-") && !valid_identifier("") && !valid_identifier("a\nb"));
        assert!(names_owner("-boss", "boss") && !names_owner("bossy", "boss"));
        assert_eq!(entry("-anyone", "l").name(), "-anyone");
        assert_eq!(entry("bob", "l").name(), "bob");
        assert_eq!(
            parse_identifier("authenticated"),
            (Identifier::Authenticated, false)
        );
    }

    #[test]
    fn read_only_unless_something_can_change() {
        assert!(!Rights::parse("lrp").unwrap().can_change_messages());
        assert!(Rights::parse("lrs").unwrap().can_change_messages());
        assert!(Rights::parse("lri").unwrap().can_change_messages());
    }
}
