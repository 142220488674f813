//! Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric) and
//! match types (`:is`, `:contains`, `:matches`, relational `:value` and
//! `:count`), with the match variables `:matches` captures (RFC 5229).
//!
//! `:matches` runs in O(pattern × value) time whatever the input: each
//! `*` takes as little as it can (as the RFC 5229 examples show) and only
//! the latest `*` is ever extended, so hostile patterns and headers cannot
//! make it backtrack exponentially.

use std::cmp::Ordering;

use super::program::{Comparator, MatchKind, Matcher, Relation};

/// What `:matches` captured: the whole value, then each wildcard's part.
pub type Captures = Vec<String>;

/// Whether any of `values` matches any of `keys`; for `:matches`, the
/// captures of the first match.
pub fn any_match(matcher: Matcher, values: &[String], keys: &[String]) -> (bool, Option<Captures>) {
    if let MatchKind::Count(relation) = matcher.kind {
        let count = values.len().to_string();
        let holds = keys
            .iter()
            .any(|key| relation.holds(compare(matcher.comparator, &count, key)));
        return (holds, None);
    }
    // Case-folded once, not once per key: a body can be megabytes.
    if matcher.kind == MatchKind::Contains && matcher.comparator == Comparator::AsciiCasemap {
        let keys: Vec<String> = keys.iter().map(|k| fold(k)).collect();
        let found = values.iter().any(|v| {
            let value = fold(v);
            keys.iter().any(|k| value.contains(k.as_str()))
        });
        return (found, None);
    }
    for value in values {
        for key in keys {
            match matcher.kind {
                MatchKind::Matches => {
                    if let Some(captures) = wildcard(matcher.comparator, key, value) {
                        return (true, Some(captures));
                    }
                }
                _ if one(matcher, value, key) => return (true, None),
                _ => {}
            }
        }
    }
    (false, None)
}

/// One value against one key, for every match type but `:matches` and
/// `:count`.
fn one(matcher: Matcher, value: &str, key: &str) -> bool {
    let comparator = matcher.comparator;
    match matcher.kind {
        MatchKind::Is => compare(comparator, value, key) == Ordering::Equal,
        MatchKind::Contains => match comparator {
            Comparator::Octet => value.contains(key),
            Comparator::AsciiCasemap => fold(value).contains(&fold(key)),
            // RFC 4790 §9.1: i;ascii-numeric has no substring operation.
            Comparator::AsciiNumeric => false,
        },
        MatchKind::Value(relation) => relation.holds(compare(comparator, value, key)),
        MatchKind::Matches => wildcard(comparator, key, value).is_some(),
        MatchKind::Count(_) => false,
    }
}

fn fold(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// The comparator's ordering of two strings.
pub fn compare(comparator: Comparator, a: &str, b: &str) -> Ordering {
    match comparator {
        Comparator::Octet => a.as_bytes().cmp(b.as_bytes()),
        Comparator::AsciiCasemap => fold(a).as_bytes().cmp(fold(b).as_bytes()),
        Comparator::AsciiNumeric => match (numeric(a), numeric(b)) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    }
}

/// i;ascii-numeric: the value of the leading digits; none (positive
/// infinity) for a string that does not start with one. Digits beyond
/// u128 saturate.
fn numeric(text: &str) -> Option<u128> {
    let digits: &str = &text[..text.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    Some(digits.bytes().fold(0u128, |n, d| {
        n.saturating_mul(10).saturating_add(u128::from(d - b'0'))
    }))
}

/// A `:matches` pattern, octet by octet: with i;octet and
/// i;ascii-casemap, `?` is one octet (RFC 5228 §2.7.1), not one
/// character.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Octet(u8),
    One,
    Any,
}

fn tokens(pattern: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    let literal = |out: &mut Vec<Token>, c: char| {
        let mut buf = [0; 4];
        out.extend(c.encode_utf8(&mut buf).bytes().map(Token::Octet));
    };
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push(Token::Any),
            '?' => out.push(Token::One),
            '\\' => literal(&mut out, chars.next().unwrap_or('\\')),
            c => literal(&mut out, c),
        }
    }
    out
}

/// `:matches`: the captures when `value` matches `pattern` (`*` any run,
/// `?` one octet, `\` escapes).
pub fn wildcard(comparator: Comparator, pattern: &str, value: &str) -> Option<Captures> {
    let pattern = tokens(pattern);
    let text = value.as_bytes();
    let same = |a: u8, b: u8| match comparator {
        Comparator::AsciiCasemap => a.eq_ignore_ascii_case(&b),
        _ => a == b,
    };
    // Each wildcard's span of `text`, in pattern order.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // The latest `*`: the token after it, where its span starts, and its
    // index in `spans`.
    let mut star: Option<(usize, usize)> = None;
    let (mut p, mut t) = (0, 0);
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::Octet(c)) if same(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            Some(Token::One) => {
                spans.push((t, t + 1));
                p += 1;
                t += 1;
            }
            Some(Token::Any) => {
                spans.push((t, t));
                star = Some((p + 1, spans.len() - 1));
                p += 1;
            }
            _ => {
                let (after, index) = star?;
                let (start, end) = spans[index];
                spans.truncate(index + 1);
                spans[index] = (start, end + 1);
                p = after;
                t = end + 1;
            }
        }
    }
    while let Some(Token::Any) = pattern.get(p) {
        spans.push((t, t));
        p += 1;
    }
    if p != pattern.len() {
        return None;
    }
    let piece =
        |(start, end): (usize, usize)| String::from_utf8_lossy(&text[start..end]).into_owned();
    let mut captures = vec![value.to_owned()];
    captures.extend(spans.into_iter().map(piece));
    Some(captures)
}

/// `:value` / `:count` relation names, for traces.
pub fn relation_name(relation: Relation) -> &'static str {
    match relation {
        Relation::Gt => "gt",
        Relation::Ge => "ge",
        Relation::Lt => "lt",
        Relation::Le => "le",
        Relation::Eq => "eq",
        Relation::Ne => "ne",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> Option<Vec<String>> {
        wildcard(Comparator::AsciiCasemap, pattern, value).map(|c| c[1..].to_vec())
    }

    #[test]
    fn wildcards_take_as_little_as_they_can() {
        // RFC 5229 §3.2's examples.
        assert_eq!(
            matches("[*] *", "[acme-users] [fwd] version 1.0 is out").unwrap(),
            ["acme-users", "[fwd] version 1.0 is out"]
        );
        assert_eq!(
            matches("*<*@*", "Acme-users <acme-users@example.org>").unwrap(),
            ["Acme-users ", "acme-users", "example.org>"]
        );
        assert_eq!(matches("a?c", "abc").unwrap(), ["b"]);
        assert!(matches("caf?", "caf\u{e9}").is_none(), "? is one octet");
        assert!(matches("caf??", "caf\u{e9}").is_some());
        assert_eq!(matches("\u{e9}*", "\u{e9}t\u{e9}").unwrap(), ["t\u{e9}"]);
        assert_eq!(matches("*", "").unwrap(), [""]);
        assert!(matches("a*b", "a").is_none());
        assert!(matches("\\*", "x").is_none());
        assert!(matches("\\*", "*").is_some());
        assert!(matches("FOO*", "foo bar").is_some());
        assert!(wildcard(Comparator::Octet, "FOO*", "foo bar").is_none());
    }

    #[test]
    fn hostile_patterns_stay_fast() {
        let value = "a".repeat(20_000);
        let pattern = format!("{}b", "*a".repeat(200));
        let started = std::time::Instant::now();
        assert!(matches(&pattern, &value).is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn comparators_and_relations() {
        let numeric = Matcher {
            kind: MatchKind::Value(Relation::Gt),
            comparator: Comparator::AsciiNumeric,
        };
        assert!(one(numeric, "10", "9"));
        assert!(
            !one(numeric, "abc", "abc")
                || compare(Comparator::AsciiNumeric, "abc", "x") == Ordering::Equal
        );
        assert!(one(numeric, "x", "100"), "non-numbers are infinity");
        let casemap = Matcher {
            kind: MatchKind::Contains,
            comparator: Comparator::AsciiCasemap,
        };
        assert!(one(casemap, "Hello World", "WORLD"));
        let octet = Matcher {
            kind: MatchKind::Is,
            comparator: Comparator::Octet,
        };
        assert!(!one(octet, "A", "a"));
        let count = Matcher {
            kind: MatchKind::Count(Relation::Ge),
            comparator: Comparator::AsciiNumeric,
        };
        let values = vec!["a".to_owned(), "b".to_owned()];
        assert!(any_match(count, &values, &["2".to_owned()]).0);
        assert!(!any_match(count, &values, &["3".to_owned()]).0);
    }
}
