//! Response-side encoding of strings, mailbox names and dates.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

use crate::proto::mutf7;
use crate::proto::types::is_astring_char;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Longest string (exclusive) sent as a quoted string.
const MAX_QUOTED: usize = 1024;

/// Writes `s` as an atom when it is non-empty and all `ASTRING-CHAR`,
/// otherwise as a string. `NIL` is quoted: as an atom a client reading an
/// nstring position (or a lax parser anywhere) would take it for NIL. So
/// is `]`: valid in an astring, but a reader that treats `]` as the end of
/// a response code (found by fuzzing our own reader) would stop there.
pub fn astring(out: &mut Vec<u8>, s: &[u8]) {
    let atom = !s.is_empty() && s.iter().all(|&b| is_astring_char(b) && b != b']');
    if atom && !s.eq_ignore_ascii_case(b"NIL") {
        out.extend_from_slice(s);
    } else {
        string(out, s);
    }
}

/// Writes `s` as a `string`: quoted when possible, else a literal.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    quoted_or_literal(out, s);
}

/// Writes `s` quoted (escaping `"` and `\`) when it is shorter than 1024
/// octets and has no CR, LF, NUL or 8-bit byte; otherwise as `{n}\r\n` + bytes.
pub fn quoted_or_literal(out: &mut Vec<u8>, s: &[u8]) {
    let quotable = s.len() < MAX_QUOTED
        && s.iter()
            .all(|&b| b != 0 && b != b'\r' && b != b'\n' && b < 0x80);
    if quotable {
        quoted(out, s);
    } else {
        literal(out, s);
    }
}

/// Writes `s` as `{n}\r\n` followed by its octets. IMAP4rev1 literals
/// cannot carry NUL (RFC 3501 §9, CHAR8), so NUL goes out as 0x80, as
/// Dovecot does for message octets; the length is unchanged. Header text
/// with a NUL reaches ENVELOPE this way too (found by fuzzing).
pub fn literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    if s.contains(&0) {
        out.extend(s.iter().map(|&b| if b == 0 { 0x80 } else { b }));
    } else {
        out.extend_from_slice(s);
    }
}

/// Writes decoded BINARY data (RFC 3516 §4.3): as a `literal8`
/// (`~{n}`) when it holds a NUL, which only that form can carry, else as a
/// plain literal, so a client sees at once whether NULs are inside.
pub fn binary_literal(out: &mut Vec<u8>, s: &[u8]) {
    if s.contains(&0) {
        out.extend_from_slice(format!("~{{{}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    } else {
        literal(out, s);
    }
}

/// Writes `s` between double quotes, escaping `"` and `\`. The caller makes
/// sure `s` has no CR, LF or NUL.
fn quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Writes `NIL` for `None`, else a string.
pub fn nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Writes a UTF-8 mailbox name: modified UTF-7 unless `utf8`
/// (UTF8=ACCEPT), then as an astring; `INBOX` (any case) as the atom `INBOX`.
/// With `utf8`, names with non-ASCII characters are quoted (RFC 6855).
pub fn mailbox(out: &mut Vec<u8>, name: &str, utf8: bool) {
    if name.eq_ignore_ascii_case("INBOX") {
        out.extend_from_slice(b"INBOX");
    } else if !utf8 {
        astring(out, mutf7::encode(name).as_bytes());
    } else if name.is_ascii() || name.len() >= MAX_QUOTED || name.chars().any(char::is_control) {
        astring(out, name.as_bytes());
    } else {
        quoted(out, name.as_bytes());
    }
}

/// Ascending UIDs (or sequence numbers) as a compact set, e.g. `1:3,7`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end.wrapping_add(1))) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
    }
    parts.join(",")
}

/// Writes `"dd-Mon-yyyy hh:mm:ss +zzzz"` with a zero-padded day: both
/// paddings are valid (date-day-fixed), and clients that split on spaces
/// cope only with this one, which is also what Dovecot sends.
pub fn date_time(out: &mut Vec<u8>, dt: DateTime<FixedOffset>) {
    let month = MONTHS.get(dt.month0() as usize).copied().unwrap_or("Jan");
    let offset = dt.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    let text = format!(
        "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}\"",
        dt.day(),
        month,
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        sign,
        minutes / 60,
        minutes % 60
    );
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn run(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn astrings() {
        assert_eq!(run(|o| astring(o, b"abc")), b"abc");
        assert_eq!(run(|o| astring(o, b"a]b")), b"\"a]b\"");
        assert_eq!(run(|o| astring(o, b"")), b"\"\"");
        assert_eq!(run(|o| astring(o, b"a b")), b"\"a b\"");
        assert_eq!(run(|o| astring(o, b"a*")), b"\"a*\"");
        assert_eq!(run(|o| astring(o, b"{5}")), b"\"{5}\"");
        // Quoted so that no reader mistakes the name for NIL.
        assert_eq!(run(|o| astring(o, b"NIL")), b"\"NIL\"");
        assert_eq!(run(|o| astring(o, b"nil")), b"\"nil\"");
        assert_eq!(run(|o| astring(o, b"NILS")), b"NILS");
    }

    #[test]
    fn strings() {
        assert_eq!(run(|o| string(o, b"a\"b\\c")), b"\"a\\\"b\\\\c\"");
        assert_eq!(run(|o| string(o, b"a\r\nb")), b"{4}\r\na\r\nb");
        // NUL is not CHAR8: sent as 0x80 (found by fuzzing ENVELOPE).
        assert_eq!(run(|o| string(o, b"a\0")), b"{2}\r\na\x80");
        assert_eq!(run(|o| string(o, "é".as_bytes())), b"{2}\r\n\xc3\xa9");
        let long = vec![b'x'; 1024];
        let out = run(|o| string(o, &long));
        assert!(out.starts_with(b"{1024}\r\nxx"));
        let short = vec![b'x'; 1023];
        assert_eq!(run(|o| string(o, &short)).len(), 1025);
        assert_eq!(run(|o| nstring(o, None)), b"NIL");
        assert_eq!(run(|o| nstring(o, Some(b"NIL"))), b"\"NIL\"");
    }

    #[test]
    fn mailboxes() {
        assert_eq!(run(|o| mailbox(o, "inbox", false)), b"INBOX");
        assert_eq!(run(|o| mailbox(o, "Sent", false)), b"Sent");
        assert_eq!(run(|o| mailbox(o, "Entwürfe", false)), b"Entw&APw-rfe");
        assert_eq!(run(|o| mailbox(o, "A&B", false)), b"A&-B");
        assert_eq!(run(|o| mailbox(o, "My Box", false)), b"\"My Box\"");
        assert_eq!(
            run(|o| mailbox(o, "Entwürfe", true)),
            "\"Entwürfe\"".as_bytes()
        );
        assert_eq!(run(|o| mailbox(o, "a\"b", true)), b"\"a\\\"b\"");
        assert_eq!(run(|o| mailbox(o, "", false)), b"\"\"");
    }

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }

    #[test]
    fn date_times() {
        let tz = FixedOffset::west_opt(7 * 3600 + 30 * 60).expect("offset");
        let dt = tz
            .with_ymd_and_hms(1996, 7, 1, 2, 44, 25)
            .single()
            .expect("date");
        assert_eq!(run(|o| date_time(o, dt)), b"\"01-Jul-1996 02:44:25 -0730\"");
        let utc = FixedOffset::east_opt(0).expect("offset");
        let dt = utc
            .with_ymd_and_hms(2024, 12, 31, 23, 59, 59)
            .single()
            .expect("date");
        assert_eq!(run(|o| date_time(o, dt)), b"\"31-Dec-2024 23:59:59 +0000\"");
    }
}
