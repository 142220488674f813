//! `date` (SEARCH) and `date-time` (APPEND) from RFC 3501 §9.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use nom::Parser;
use nom::bytes::complete::{tag, take, take_while_m_n};

use crate::proto::parse::error::{PResult, error, failure};

const MONTHS: [&[u8]; 12] = [
    b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC",
];

fn digits(i: &[u8], min: usize, max: usize) -> PResult<'_, u32> {
    let (rest, d) = take_while_m_n(min, max, |b: u8| b.is_ascii_digit())(i)?;
    let n = d
        .iter()
        .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'));
    Ok((rest, n))
}

/// `date-month = "Jan" / "Feb" / ... / "Dec"` (case-insensitive), as 1..=12
pub fn date_month(i: &[u8]) -> PResult<'_, u32> {
    let (rest, m) = take(3usize)(i)?;
    match MONTHS.iter().position(|name| name.eq_ignore_ascii_case(m)) {
        Some(p) => Ok((rest, p as u32 + 1)),
        None => error(i, "Invalid month"),
    }
}

/// `date-text = date-day "-" date-month "-" date-year`
/// `date-day = 1*2DIGIT`, `date-year = 4DIGIT`
pub fn date_text(i: &[u8]) -> PResult<'_, NaiveDate> {
    let (rest, day) = digits(i, 1, 2)?;
    let (rest, _) = tag(&b"-"[..])(rest)?;
    let (rest, month) = date_month(rest)?;
    let (rest, _) = tag(&b"-"[..])(rest)?;
    let (rest, year) = digits(rest, 4, 4)?;
    if rest.first().is_some_and(u8::is_ascii_digit) {
        return error(rest, "Invalid date");
    }
    match NaiveDate::from_ymd_opt(year as i32, month, day) {
        Some(d) => Ok((rest, d)),
        None => failure(i, "Invalid date"),
    }
}

/// `date = date-text / DQUOTE date-text DQUOTE`
pub fn date(i: &[u8]) -> PResult<'_, NaiveDate> {
    let result = if let Some(inner) = i.strip_prefix(b"\"") {
        date_text(inner).and_then(|(rest, d)| {
            let (rest, _) = tag(&b"\""[..])(rest)?;
            Ok((rest, d))
        })
    } else {
        date_text(i)
    };
    result.or_else(|e| match e {
        nom::Err::Failure(_) => Err(e),
        _ => failure(i, "Invalid date"),
    })
}

/// `time = 2DIGIT ":" 2DIGIT ":" 2DIGIT`
fn time(i: &[u8]) -> PResult<'_, NaiveTime> {
    let (rest, h) = digits(i, 2, 2)?;
    let (rest, _) = tag(&b":"[..])(rest)?;
    let (rest, m) = digits(rest, 2, 2)?;
    let (rest, _) = tag(&b":"[..])(rest)?;
    let (rest, s) = digits(rest, 2, 2)?;
    match NaiveTime::from_hms_opt(h, m, s) {
        Some(t) => Ok((rest, t)),
        None => failure(i, "Invalid time"),
    }
}

/// `zone = ("+" / "-") 4DIGIT`
fn zone(i: &[u8]) -> PResult<'_, FixedOffset> {
    let (rest, sign) = take(1usize)(i)?;
    let sign = match sign {
        b"+" => 1,
        b"-" => -1,
        _ => return error(i, "Invalid time zone"),
    };
    let (rest, hh) = digits(rest, 2, 2)?;
    let (rest, mm) = digits(rest, 2, 2)?;
    if mm >= 60 {
        return failure(i, "Invalid time zone");
    }
    let secs = sign * (hh as i32 * 3600 + mm as i32 * 60);
    match FixedOffset::east_opt(secs) {
        Some(z) => Ok((rest, z)),
        None => failure(i, "Invalid time zone"),
    }
}

/// `date-day-fixed = (SP DIGIT) / 2DIGIT` (one unpadded digit is tolerated)
fn date_day_fixed(i: &[u8]) -> PResult<'_, u32> {
    match i.strip_prefix(b" ") {
        Some(rest) => digits(rest, 1, 1),
        None => digits(i, 1, 2),
    }
}

/// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
/// SP zone DQUOTE`
pub fn date_time(i: &[u8]) -> PResult<'_, DateTime<FixedOffset>> {
    let mut inner = |i| -> PResult<'_, DateTime<FixedOffset>> {
        let (rest, _) = tag(&b"\""[..])(i)?;
        let (rest, day) = date_day_fixed(rest)?;
        let (rest, _) = tag(&b"-"[..])(rest)?;
        let (rest, month) = date_month(rest)?;
        let (rest, _) = tag(&b"-"[..])(rest)?;
        let (rest, year) = digits(rest, 4, 4)?;
        let (rest, _) = tag(&b" "[..])(rest)?;
        let (rest, t) = time(rest)?;
        let (rest, _) = tag(&b" "[..])(rest)?;
        let (rest, z) = zone(rest)?;
        let (rest, _) = tag(&b"\""[..])(rest)?;
        let Some(d) = NaiveDate::from_ymd_opt(year as i32, month, day) else {
            return failure(i, "Invalid date");
        };
        match z.from_local_datetime(&d.and_time(t)).single() {
            Some(dt) => Ok((rest, dt)),
            None => failure(i, "Invalid date-time"),
        }
    };
    inner.parse(i).or_else(|e| match e {
        nom::Err::Failure(_) => Err(e),
        _ => failure(i, "Invalid date-time"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn dates() {
        assert_eq!(date(b"1-Feb-1994 x"), Ok((&b" x"[..], ymd(1994, 2, 1))));
        assert_eq!(date(b"01-feb-1994"), Ok((&b""[..], ymd(1994, 2, 1))));
        assert_eq!(date(b"\"31-DEC-2000\""), Ok((&b""[..], ymd(2000, 12, 31))));
        for bad in [
            &b"32-Jan-2000"[..],
            b"1-Foo-2000",
            b"1-Jan-20",
            b"1-Jan-20000",
            b"123-Jan-2000",
            b"29-Feb-2001",
            b"\"1-Jan-2000",
            b"1 Jan 2000",
            b"0-Jan-2000",
        ] {
            assert!(date(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn date_times() {
        let (rest, dt) = date_time(b"\" 7-Jul-1996 02:44:25 -0730\" x").expect("valid");
        assert_eq!(rest, b" x");
        assert_eq!(dt.to_rfc3339(), "1996-07-07T02:44:25-07:30");
        assert!(date_time(b"\"17-jul-1996 23:59:60 +0000\"").is_err());
        assert!(date_time(b"\"17-Jul-1996 02:44:25 +0000\"").is_ok());
        assert!(date_time(b"\"7-Jul-1996 02:44:25 +0000\"").is_ok());
        for bad in [
            &b"17-Jul-1996 02:44:25 +0000"[..],
            b"\"17-Jul-1996 24:00:00 +0000\"",
            b"\"17-Jul-1996 02:44:25 0000\"",
            b"\"17-Jul-1996 02:44:25 +0060\"",
            b"\"17-Jul-1996 02:44 +0000\"",
            b"\"30-Feb-1996 02:44:25 +0000\"",
        ] {
            assert!(
                date_time(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
