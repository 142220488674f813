//! SELECT and EXAMINE arguments, with the CONDSTORE and QRESYNC
//! parameters (RFC 3501 §6.3.1-2, RFC 7162 §3.2.5).

use nom::Parser;
use nom::bytes::complete::tag;
use nom::combinator::{cut, opt};
use nom::sequence::preceded;

use crate::proto::command::{CommandBody, QresyncParams, SelectCommand};
use crate::proto::parse::core::{atom_upper, number64, nz_number, sp};
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::mailbox_name::mailbox;
use crate::proto::parse::sequence::sequence_set;

/// Parsed `select-params`: (CONDSTORE given, QRESYNC parameters).
type SelectParams = (bool, Option<QresyncParams>);

/// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`
fn seq_match_data(i: &[u8]) -> PResult<'_, (crate::proto::SequenceSet, crate::proto::SequenceSet)> {
    let (rest, _) = tag(&b"("[..])(i)?;
    let (rest, seqs) = sequence_set(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, uids) = sequence_set(rest)?;
    let (rest, _) = expect("Expected ')'", tag(&b")"[..])).parse(rest)?;
    Ok((rest, (seqs, uids)))
}

/// `qresync-params = "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
/// [SP known-uids] [SP seq-match-data] ")"` (after the `QRESYNC` word)
fn qresync_params(i: &[u8]) -> PResult<'_, QresyncParams> {
    let (rest, _) = sp(i)?;
    let (rest, _) = expect("Expected '('", tag(&b"("[..])).parse(rest)?;
    let (rest, uidvalidity) = expect("Invalid UIDVALIDITY", nz_number).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, modseq) = expect("Invalid mod-sequence", number64).parse(rest)?;
    let (rest, known_uids) = opt(preceded(tag(&b" "[..]), sequence_set)).parse(rest)?;
    let (rest, seq_match) = opt(preceded(tag(&b" "[..]), seq_match_data)).parse(rest)?;
    let (rest, _) = expect("Expected ')'", tag(&b")"[..])).parse(rest)?;
    Ok((
        rest,
        QresyncParams {
            uidvalidity,
            modseq,
            known_uids,
            seq_match,
        },
    ))
}

/// `select-params = SP "(" select-param *(SP select-param) ")"`
/// `select-param = "CONDSTORE" / qresync-params`
fn select_params(i: &[u8]) -> PResult<'_, SelectParams> {
    let (mut rest, _) = tag(&b" ("[..])(i)?;
    let mut condstore = false;
    let mut qresync = None;
    loop {
        let (r, name) = expect("Invalid SELECT parameter", atom_upper).parse(rest)?;
        rest = match name.as_str() {
            "CONDSTORE" => {
                condstore = true;
                r
            }
            "QRESYNC" => {
                let (r, q) = cut(qresync_params).parse(r)?;
                qresync = Some(q);
                r
            }
            _ => return failure(rest, "Unknown SELECT parameter"),
        };
        match rest.first() {
            Some(b' ') => rest = &rest[1..],
            Some(b')') => return Ok((&rest[1..], (condstore, qresync))),
            _ => return failure(rest, "Expected ')'"),
        }
    }
}

/// `select = "SELECT" SP mailbox [select-params]` (and EXAMINE)
pub fn select_args(i: &[u8], examine: bool) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mailbox) = mailbox(rest)?;
    let (rest, params) = opt(select_params).parse(rest)?;
    let (condstore, qresync) = params.unwrap_or((false, None));
    let body = if examine {
        CommandBody::Examine(SelectCommand {
            mailbox,
            condstore,
            qresync,
        })
    } else {
        CommandBody::Select(SelectCommand {
            mailbox,
            condstore,
            qresync,
        })
    };
    Ok((rest, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::parse::sequence::parse_sequence_set;

    #[test]
    fn select_forms() {
        assert_eq!(
            select_args(b" inbox (CONDSTORE)", false),
            Ok((
                &b""[..],
                CommandBody::Select(SelectCommand {
                    mailbox: b"INBOX".to_vec(),
                    condstore: true,
                    qresync: None
                })
            ))
        );
        let set = |s: &[u8]| parse_sequence_set(s).expect("set");
        assert_eq!(
            select_args(
                b" A (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:5 1:10)))",
                true
            ),
            Ok((
                &b""[..],
                CommandBody::Examine(SelectCommand {
                    mailbox: b"A".to_vec(),
                    condstore: false,
                    qresync: Some(QresyncParams {
                        uidvalidity: 67890007,
                        modseq: 20050715194045000,
                        known_uids: Some(set(b"41,43:211,214:541")),
                        seq_match: Some((set(b"1:5"), set(b"1:10"))),
                    })
                })
            ))
        );
        assert!(select_args(b" A (FOO)", false).is_err());
        assert!(select_args(b" A (QRESYNC (1))", false).is_err());
    }
}
