//! Mailbox-name patterns of LIST/LSUB (RFC 3501 §6.3.8), also what
//! `letterbox migrate imap --exclude` matches: `*` matches anything,
//! `%` anything but the hierarchy delimiter.

use crate::store::DELIMITER;
use crate::store::names::normalize_inbox;

/// A compiled pattern. Matching is dynamic programming over characters, so
/// patterns full of wildcards cannot make it exponential.
pub struct Pattern {
    chars: Vec<char>,
}

/// Longest pattern accepted, in characters; names are at most 1024 octets.
pub const MAX_PATTERN_CHARS: usize = 2048;

impl Pattern {
    /// Joins reference and pattern as RFC 3501 describes (plain
    /// concatenation) and spells a leading `inbox` as `INBOX`.
    pub fn new(reference: &str, pattern: &str) -> Option<Pattern> {
        let joined = normalize_inbox(&format!("{reference}{pattern}"));
        let chars: Vec<char> = joined.chars().collect();
        (chars.len() <= MAX_PATTERN_CHARS).then_some(Pattern { chars })
    }

    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // row[j]: pattern prefix matched so far matches name[..j].
        let mut row = vec![false; name.len() + 1];
        row[0] = true;
        for &p in &self.chars {
            let mut next = vec![false; name.len() + 1];
            match p {
                '*' | '%' => {
                    for j in 0..=name.len() {
                        next[j] = row[j]
                            || (j > 0 && next[j - 1] && (p == '*' || name[j - 1] != DELIMITER));
                    }
                }
                c => {
                    for j in 1..=name.len() {
                        next[j] = row[j - 1] && name[j - 1] == c;
                    }
                }
            }
            row = next;
        }
        row[name.len()]
    }
}

/// The patterns of one LIST command: RFC 5258 §3 lets an extended LIST give
/// several, and a name is selected when it matches at least one of them.
pub struct Patterns(Vec<Pattern>);

impl Patterns {
    pub fn new(patterns: Vec<Pattern>) -> Patterns {
        Patterns(patterns)
    }

    pub fn matches(&self, name: &str) -> bool {
        self.0.iter().any(|p| p.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        Pattern::new("", pattern).unwrap().matches(name)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", "a/b/c"));
        assert!(m("%", "a"));
        assert!(!m("%", "a/b"));
        assert!(m("a/%", "a/b"));
        assert!(!m("a/%", "a/b/c"));
        assert!(m("a/*", "a/b/c"));
        assert!(m("a*c", "abc"));
        assert!(m("a*c", "a/b/c"));
        assert!(!m("a%c", "a/c"));
        assert!(m("%/%", "x/y"));
        assert!(!m("abc", "abcd"));
        assert!(m("", ""));
        assert!(m("inbox", "INBOX"));
        assert!(m("Inbox/%", "INBOX/x"));
        assert!(!m("inbox", "Inbox2"));
    }

    #[test]
    fn reference_is_prepended() {
        assert!(Pattern::new("a/", "%").unwrap().matches("a/b"));
        assert!(!Pattern::new("a/", "%").unwrap().matches("a"));
    }

    #[test]
    fn several_patterns_match_any() {
        let patterns = Patterns::new(vec![
            Pattern::new("", "INBOX").unwrap(),
            Pattern::new("", "Sent/%").unwrap(),
        ]);
        assert!(patterns.matches("INBOX"));
        assert!(patterns.matches("Sent/2026"));
        assert!(!patterns.matches("Sent"));
        assert!(!Patterns::new(vec![]).matches("INBOX"));
    }

    #[test]
    fn pathological_patterns_are_fast_and_bounded() {
        let pattern = "*%".repeat(1000);
        assert!(
            Pattern::new("", &pattern)
                .unwrap()
                .matches(&"a".repeat(1000))
        );
        assert!(Pattern::new("", &"*".repeat(MAX_PATTERN_CHARS + 1)).is_none());
    }
}
