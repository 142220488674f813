//! Sequence sets (RFC 3501 §9 `sequence-set`).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::combinator::{map, opt, value};
use nom::sequence::preceded;

use crate::proto::parse::core::nz_number;
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::types::{MessageSet, SeqNum, SeqRange, SequenceSet};

/// `seq-number = nz-number / "*"`
pub fn seq_number(i: &[u8]) -> PResult<'_, SeqNum> {
    alt((
        map(nz_number, SeqNum::Value),
        value(SeqNum::Star, tag(&b"*"[..])),
    ))
    .parse(i)
}

/// `seq-range = seq-number ":" seq-number` (a lone `seq-number` is a range
/// of one)
pub fn seq_range(i: &[u8]) -> PResult<'_, SeqRange> {
    let (rest, start) = seq_number(i)?;
    let (rest, end) = opt(preceded(tag(&b":"[..]), seq_number)).parse(rest)?;
    if end.is_none() && rest.first() == Some(&b':') {
        return failure(rest, "Invalid sequence set");
    }
    Ok((
        rest,
        SeqRange {
            start,
            end: end.unwrap_or(start),
        },
    ))
}

/// `sequence-set = (seq-number / seq-range) ["," sequence-set]`
pub fn sequence_set(i: &[u8]) -> PResult<'_, SequenceSet> {
    let (mut rest, first) = expect("Invalid sequence set", seq_range).parse(i)?;
    let mut ranges = vec![first];
    while let Some(after_comma) = rest.strip_prefix(b",") {
        let (r, range) = match seq_range(after_comma) {
            Ok(ok) => ok,
            Err(_) => return failure(after_comma, "Invalid sequence set"),
        };
        ranges.push(range);
        rest = r;
    }
    if rest
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'*' || *b == b':')
    {
        return failure(rest, "Invalid sequence set");
    }
    Ok((rest, SequenceSet(ranges)))
}

/// `sequence-set =/ seq-last-command`, `seq-last-command = "$"` (RFC
/// 5182): `$` stands alone, as in Dovecot; `1,$` is not a set.
pub fn message_set(i: &[u8]) -> PResult<'_, MessageSet> {
    if let Some(rest) = i.strip_prefix(b"$") {
        if rest
            .first()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'*' | b':' | b','))
        {
            return failure(rest, "Invalid sequence set");
        }
        return Ok((rest, MessageSet::Saved));
    }
    let (rest, set) = sequence_set(i)?;
    Ok((rest, MessageSet::Numbers(set)))
}

/// Parses a whole byte string as a `sequence-set`.
pub fn parse_sequence_set(input: &[u8]) -> Option<SequenceSet> {
    match sequence_set(input) {
        Ok(([], set)) => Some(set),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SeqNum::{Star, Value};

    fn r(start: SeqNum, end: SeqNum) -> SeqRange {
        SeqRange { start, end }
    }

    #[test]
    fn saved_result_marker() {
        assert_eq!(
            message_set(b"$ rest"),
            Ok((&b" rest"[..], MessageSet::Saved))
        );
        assert_eq!(message_set(b"$"), Ok((&b""[..], MessageSet::Saved)));
        assert_eq!(
            message_set(b"2:3"),
            Ok((
                &b""[..],
                MessageSet::Numbers(SequenceSet(vec![r(Value(2), Value(3))]))
            ))
        );
        // `$` stands alone.
        for bad in [&b"$,1"[..], b"$:4", b"$1", b"1,$", b"$*"] {
            assert!(
                message_set(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn valid_sets() {
        assert_eq!(
            parse_sequence_set(b"1"),
            Some(SequenceSet(vec![r(Value(1), Value(1))]))
        );
        assert_eq!(
            parse_sequence_set(b"*"),
            Some(SequenceSet(vec![r(Star, Star)]))
        );
        assert_eq!(
            parse_sequence_set(b"5:2,7,9:*,*:3"),
            Some(SequenceSet(vec![
                r(Value(5), Value(2)),
                r(Value(7), Value(7)),
                r(Value(9), Star),
                r(Star, Value(3)),
            ]))
        );
        assert_eq!(
            parse_sequence_set(b"1:4294967295"),
            Some(SequenceSet(vec![r(Value(1), Value(u32::MAX))]))
        );
    }

    #[test]
    fn invalid_sets() {
        for bad in [
            &b"0"[..],
            b"1:",
            b"*:",
            b":1",
            b"1,,2",
            b"1,",
            b",1",
            b"1:0",
            b"01",
            b"1::2",
            b"4294967296",
            b"1:2:3",
            b"a",
            b"",
            b"1 2",
        ] {
            assert_eq!(
                parse_sequence_set(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn long_set_is_linear() {
        let mut s = String::from("1");
        for n in 2..20000 {
            s.push_str(&format!(",{n}"));
        }
        assert_eq!(
            parse_sequence_set(s.as_bytes()).map(|x| x.0.len()),
            Some(19999)
        );
    }
}
