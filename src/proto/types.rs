//! Small value types shared by commands and responses: tags, sequence sets,
//! flags and STATUS items.

use std::fmt;
use std::ops::RangeInclusive;

/// Whether `b` is an RFC 3501 `ATOM-CHAR` (any CHAR except atom-specials).
pub fn is_atom_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// Whether `b` is an RFC 3501 `ASTRING-CHAR` (`ATOM-CHAR` or `]`).
pub fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// Whether `b` may appear in a command tag (`ASTRING-CHAR` except `+`).
pub fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

/// A command tag: one or more `ASTRING-CHAR` except `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// Validates `s` as a tag.
    pub fn new(s: &str) -> Option<Tag> {
        Tag::from_bytes(s.as_bytes())
    }

    /// Validates raw bytes as a tag.
    pub fn from_bytes(b: &[u8]) -> Option<Tag> {
        if b.is_empty() || !b.iter().all(|&c| is_tag_char(c)) {
            return None;
        }
        // All tag chars are ASCII, so this cannot fail.
        std::str::from_utf8(b).ok().map(|s| Tag(s.to_owned()))
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One end of a sequence range: a number or `*` (the largest in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNum {
    Value(u32),
    Star,
}

impl SeqNum {
    /// The number, with `*` standing for `largest`.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNum::Value(v) => v,
            SeqNum::Star => largest,
        }
    }
}

/// `n`, `*` or `n:m` (a single number has `start == end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    pub start: SeqNum,
    pub end: SeqNum,
}

impl SeqRange {
    /// The inclusive range, with `*` resolved and the ends ordered.
    pub fn resolve(&self, largest: u32) -> RangeInclusive<u32> {
        let a = self.start.resolve(largest);
        let b = self.end.resolve(largest);
        a.min(b)..=a.max(b)
    }
}

/// The messages a command names: a sequence set, or `$`, what the last
/// `SEARCH RETURN (SAVE)` kept (RFC 5182).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSet {
    Numbers(SequenceSet),
    Saved,
}

/// A sequence set as sent by the client (never expanded into elements).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceSet(pub Vec<SeqRange>);

impl SequenceSet {
    /// Every range with `*` resolved to `largest` and `n:m` ordered, in the
    /// order the client sent them (not merged).
    pub fn ranges(&self, largest: u32) -> Vec<RangeInclusive<u32>> {
        self.0.iter().map(|r| r.resolve(largest)).collect()
    }

    /// The largest number written out in the set (`*` does not count).
    pub fn highest_explicit(&self) -> Option<u32> {
        self.0
            .iter()
            .flat_map(|r| [r.start, r.end])
            .filter_map(|n| match n {
                SeqNum::Value(v) => Some(v),
                SeqNum::Star => None,
            })
            .max()
    }

    /// Whether `n` is in the set, with `*` standing for `largest`.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.0.iter().any(|r| r.resolve(largest).contains(&n))
    }

    /// Whether the set is exactly `*`.
    pub fn is_star_only(&self) -> bool {
        matches!(
            self.0.as_slice(),
            [SeqRange {
                start: SeqNum::Star,
                end: SeqNum::Star
            }]
        )
    }
}

/// A message flag. `Keyword` and `Extension` keep the text as sent
/// (`Extension` includes its leading backslash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    Answered,
    Flagged,
    Deleted,
    Seen,
    Draft,
    Recent,
    Keyword(String),
    Extension(String),
}

impl Flag {
    /// The wire form: `\Seen`, or the keyword/extension text as-is.
    pub fn name(&self) -> &str {
        match self {
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Deleted => "\\Deleted",
            Flag::Seen => "\\Seen",
            Flag::Draft => "\\Draft",
            Flag::Recent => "\\Recent",
            Flag::Keyword(k) | Flag::Extension(k) => k,
        }
    }

    /// [`Flag::name`], owned.
    pub fn as_imap(&self) -> String {
        self.name().to_owned()
    }

    /// Parses `\System` (case-insensitive), `\Extension` or `keyword`
    /// (both atoms). `None` when the text is not a valid flag.
    pub fn parse_str(s: &str) -> Option<Flag> {
        let (system, name) = match s.strip_prefix('\\') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if name.is_empty() || !name.bytes().all(is_atom_char) {
            return None;
        }
        if !system {
            return Some(Flag::Keyword(s.to_owned()));
        }
        let flag = match name.to_ascii_uppercase().as_str() {
            "ANSWERED" => Flag::Answered,
            "FLAGGED" => Flag::Flagged,
            "DELETED" => Flag::Deleted,
            "SEEN" => Flag::Seen,
            "DRAFT" => Flag::Draft,
            "RECENT" => Flag::Recent,
            _ => Flag::Extension(s.to_owned()),
        };
        Some(flag)
    }
}

/// A STATUS data item (RFC 3501, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE,
/// RFC 9051 DELETED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    HighestModSeq,
    Size,
    Deleted,
}

impl StatusItem {
    /// The item name as written on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::Size => "SIZE",
            StatusItem::Deleted => "DELETED",
        }
    }

    /// Looks an item up by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<StatusItem> {
        const ALL: [StatusItem; 8] = [
            StatusItem::Messages,
            StatusItem::Recent,
            StatusItem::UidNext,
            StatusItem::UidValidity,
            StatusItem::Unseen,
            StatusItem::HighestModSeq,
            StatusItem::Size,
            StatusItem::Deleted,
        ];
        ALL.into_iter()
            .find(|i| i.name().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(a: SeqNum, b: SeqNum) -> SeqRange {
        SeqRange { start: a, end: b }
    }

    #[test]
    fn tags() {
        assert_eq!(Tag::new("a001").map(|t| t.to_string()), Some("a001".into()));
        assert!(Tag::new("a]").is_some());
        assert!(Tag::new("").is_none());
        assert!(Tag::new("a+").is_none());
        assert!(Tag::new("a b").is_none());
        assert!(Tag::new("a*").is_none());
        assert!(Tag::from_bytes(b"\xc3\xa9").is_none());
    }

    #[test]
    fn sequence_set_ranges_and_contains() {
        use SeqNum::*;
        let set = SequenceSet(vec![range(Value(5), Value(2)), range(Value(9), Star)]);
        assert_eq!(set.ranges(7), vec![2..=5, 7..=9]);
        assert!(set.contains(3, 7));
        assert!(set.contains(8, 7));
        assert!(!set.contains(6, 7));
        let huge = SequenceSet(vec![range(Value(1), Value(u32::MAX))]);
        assert!(huge.contains(u32::MAX, 0));
        assert_eq!(huge.ranges(3), vec![1..=u32::MAX]);
        assert!(SequenceSet(vec![range(Star, Star)]).is_star_only());
        assert!(!huge.is_star_only());
    }

    #[test]
    fn flags() {
        assert_eq!(Flag::parse_str("\\SEEN"), Some(Flag::Seen));
        assert_eq!(Flag::parse_str("\\recent"), Some(Flag::Recent));
        assert_eq!(
            Flag::parse_str("$Junk"),
            Some(Flag::Keyword("$Junk".into()))
        );
        assert_eq!(
            Flag::parse_str("\\Foo"),
            Some(Flag::Extension("\\Foo".into()))
        );
        assert_eq!(Flag::parse_str("\\"), None);
        assert_eq!(Flag::parse_str("a b"), None);
        assert_eq!(Flag::parse_str("\\*"), None);
        assert_eq!(Flag::Seen.as_imap(), "\\Seen");
        assert_eq!(Flag::Keyword("$Junk".into()).as_imap(), "$Junk");
    }

    #[test]
    fn status_items() {
        assert_eq!(StatusItem::from_name("uidNext"), Some(StatusItem::UidNext));
        assert_eq!(StatusItem::HighestModSeq.name(), "HIGHESTMODSEQ");
        assert_eq!(StatusItem::from_name("BOGUS"), None);
    }
}
