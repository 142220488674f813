//! Validated mailbox names.
//!
//! Names are stored as UTF-8 with `/` as the hierarchy delimiter. `INBOX` is
//! case-insensitive (RFC 3501 §5.1), so a first component spelled `inbox` in
//! any case is normalised to `INBOX`; every other name is case-sensitive.

use std::fmt;

/// The hierarchy delimiter reported by LIST and NAMESPACE.
pub const DELIMITER: char = '/';

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidName(&'static str);

impl MailboxName {
    /// Validates and normalises a decoded (UTF-8) name. A single trailing
    /// delimiter is dropped, as CREATE allows it to announce a parent.
    pub fn new(name: &str) -> Result<MailboxName, InvalidName> {
        let name = name.strip_suffix(DELIMITER).unwrap_or(name);
        if name.is_empty() {
            return Err(InvalidName("Empty mailbox name"));
        }
        if name.len() > 1024 {
            return Err(InvalidName("Mailbox name too long"));
        }
        if name.chars().any(char::is_control) {
            return Err(InvalidName("Control characters in mailbox name"));
        }
        if name.split(DELIMITER).any(str::is_empty) {
            return Err(InvalidName("Empty hierarchy level in mailbox name"));
        }
        if name.split(DELIMITER).count() > 32 {
            return Err(InvalidName("Mailbox hierarchy too deep"));
        }
        Ok(MailboxName(normalize_inbox(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// Every proper superior, outermost first: `a/b/c` gives `a`, `a/b`.
    pub fn superiors(&self) -> impl Iterator<Item = &str> {
        self.0
            .match_indices(DELIMITER)
            .map(|(index, _)| &self.0[..index])
    }

    /// True when `other` is this name or one of its inferiors.
    pub fn contains(&self, other: &str) -> bool {
        other == self.0 || is_inferior(&self.0, other)
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `name` lies below `parent` in the hierarchy.
pub fn is_inferior(parent: &str, name: &str) -> bool {
    name.len() > parent.len()
        && name.starts_with(parent)
        && name[parent.len()..].starts_with(DELIMITER)
}

/// The namespace prefixes of other users' mailboxes and of team mailboxes
/// (RFC 2342), as every user sees them.
pub const OTHER_USERS: &str = "Other Users";
pub const SHARED: &str = "Shared";

/// The full name of `owner`'s mailbox `name` as other users see it:
/// `Other Users/bob/Projects`; a team's INBOX is the team itself,
/// `Shared/support`, and its other mailboxes are below it.
pub fn full_name(owner: &str, kind: crate::store::AccountKind, name: &str) -> String {
    use crate::store::AccountKind;
    match kind {
        AccountKind::Person => format!("{OTHER_USERS}/{owner}/{name}"),
        AccountKind::Team if name == "INBOX" => format!("{SHARED}/{owner}"),
        AccountKind::Team => format!("{SHARED}/{owner}/{name}"),
    }
}

/// Spells a first hierarchy level of `inbox` (any case) as `INBOX`.
pub fn normalize_inbox(name: &str) -> String {
    let first_len = name.find(DELIMITER).unwrap_or(name.len());
    if name[..first_len].eq_ignore_ascii_case("INBOX") {
        format!("INBOX{}", &name[first_len..])
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_case_insensitive_only_at_the_top() {
        assert_eq!(MailboxName::new("inBox").unwrap().as_str(), "INBOX");
        assert_eq!(MailboxName::new("inbox/Foo").unwrap().as_str(), "INBOX/Foo");
        assert_eq!(MailboxName::new("Foo/inbox").unwrap().as_str(), "Foo/inbox");
        assert_eq!(MailboxName::new("INBOXES").unwrap().as_str(), "INBOXES");
    }

    #[test]
    fn invalid_names_are_refused() {
        for bad in ["", "/", "a//b", "/a", "a\u{7}b", "a\nb"] {
            assert!(MailboxName::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(MailboxName::new("a/b/").unwrap().as_str(), "a/b");
    }

    #[test]
    fn hierarchy_helpers() {
        let name = MailboxName::new("a/b/c").unwrap();
        assert_eq!(name.superiors().collect::<Vec<_>>(), ["a", "a/b"]);
        assert!(is_inferior("a", "a/b"));
        assert!(!is_inferior("a", "ab"));
        assert!(!is_inferior("a", "a"));
        assert!(MailboxName::new("a").unwrap().contains("a/b/c"));
    }
}
