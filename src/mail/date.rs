//! RFC 5322 §3.3 date-time (with the obsolete forms of §4.3), as SORT
//! (DATE) reads the Date field: a value that is not one, such as
//! "Tue, 7 Apr 2026 10:00:t", counts as no date (RFC 5256: the
//! INTERNALDATE is used), as in Dovecot. mail-parser is more lenient,
//! which suits SEARCH but would sort such messages by a guessed time.

use chrono::{NaiveDate, NaiveTime};

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Seconds since the epoch (UTC) of a Date field value.
pub fn parse(value: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(&without_comments(value)).replace(',', " ");
    let mut tokens = text.split_ascii_whitespace().peekable();
    if tokens
        .peek()
        .is_some_and(|t| DAYS.iter().any(|d| t.eq_ignore_ascii_case(d)))
    {
        tokens.next();
    }
    let day: u32 = digits(tokens.next()?, 1, 2)?.parse().ok()?;
    let month = tokens.next()?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let year_text = digits(tokens.next()?, 2, 4)?;
    let year: i32 = year_text.parse().ok()?;
    // RFC 5322 §4.3: two digits are 1950-2049, three are added to 1900.
    let year = match year_text.len() {
        2 if year < 50 => year + 2000,
        2 | 3 => year + 1900,
        _ => year,
    };
    let time = clock(tokens.next()?)?;
    let offset = zone(tokens.next()?)?;
    if tokens.next().is_some() {
        return None;
    }
    let local = NaiveDate::from_ymd_opt(year, month, day)?.and_time(time);
    Some(local.and_utc().timestamp() - i64::from(offset))
}

/// `hour ":" minute [":" second]`; a leap second counts as :59.
fn clock(token: &str) -> Option<NaiveTime> {
    let mut parts = token.split(':');
    let hour = digits(parts.next()?, 2, 2)?.parse().ok()?;
    let minute = digits(parts.next()?, 2, 2)?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(s) => digits(s, 2, 2)?.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(hour, minute, second.min(59))
}

/// The zone's offset east of UTC in seconds: `+hhmm` / `-hhmm`, or an
/// obsolete name (US zones; UT, GMT, military letters and unknown names
/// mean an unknown offset, -0000).
fn zone(token: &str) -> Option<i32> {
    if let Some(sign) = token
        .strip_prefix('+')
        .map(|r| (1, r))
        .or(token.strip_prefix('-').map(|r| (-1, r)))
    {
        let (sign, number) = sign;
        let number = digits(number, 4, 4)?;
        let hours: i32 = number[..2].parse().ok()?;
        let minutes: i32 = number[2..].parse().ok()?;
        if minutes > 59 {
            return None;
        }
        return Some(sign * (hours * 3600 + minutes * 60));
    }
    if !token.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let hours = match token.to_ascii_uppercase().as_str() {
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => 0,
    };
    Some(hours * 3600)
}

/// `token` when it is `min..=max` ASCII digits.
fn digits(token: &str, min: usize, max: usize) -> Option<&str> {
    (token.len() >= min && token.len() <= max && token.bytes().all(|b| b.is_ascii_digit()))
        .then_some(token)
}

/// The value with its (possibly nested) comments replaced by spaces.
fn without_comments(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for &b in value {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if depth > 0 => escaped = true,
            b'(' => depth += 1,
            b')' if depth > 0 => {
                depth -= 1;
                out.push(b' ');
            }
            _ if depth > 0 => {}
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let utc = |y, m, d, h, min, s| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, s)
                .unwrap()
                .and_utc()
                .timestamp()
        };
        let cases: &[(&str, Option<i64>)] = &[
            (
                "Mon, 5 Jan 2026 09:00:00 +0100",
                Some(utc(2026, 1, 5, 8, 0, 0)),
            ),
            ("5 Jan 2026 08:00 +0000", Some(utc(2026, 1, 5, 8, 0, 0))),
            (
                "Tue, 06 Jan 2026 00:00:00 +1400",
                Some(utc(2026, 1, 5, 10, 0, 0)),
            ),
            (
                "Mon, 5 Jan 2026 07:30:00 -0100",
                Some(utc(2026, 1, 5, 8, 30, 0)),
            ),
            (
                " Fri,  13 Feb 2026 22:38:16 +0100 (CET)",
                Some(utc(2026, 2, 13, 21, 38, 16)),
            ),
            (
                "Thu, 1 Jan 98 12:00:00 EST",
                Some(utc(1998, 1, 1, 17, 0, 0)),
            ),
            ("1 jan 07 12:00:60 GMT", Some(utc(2007, 1, 1, 12, 0, 59))),
            ("Sat, 1 Jan 2000 00:00:00 Z", Some(utc(2000, 1, 1, 0, 0, 0))),
            ("Tue, 7 Apr 2026 10:00:t <rimap-test@example.test>", None),
            ("Tue, 7 Apr 2026 10:00:01", None),
            ("Tue, 7 Apr 2026 10:00:01 +0000 junk", None),
            ("31 Feb 2026 10:00:00 +0000", None),
            ("5 January 2026 10:00:00 +0000", None),
            ("5 Jan 2026 25:00:00 +0000", None),
            ("5 Jan 2026 10:00:00 +0099", None),
            ("broken", None),
            ("", None),
        ];
        for &(value, expected) in cases {
            assert_eq!(parse(value.as_bytes()), expected, "{value}");
        }
    }
}
