//! THREAD arguments (RFC 5256 §4 `thread`).

use nom::Parser;

use crate::proto::command::{CommandBody, ThreadAlgorithm, ThreadCommand};
use crate::proto::parse::core::{astring_utf8, atom_upper, sp};
use crate::proto::parse::error::{PResult, expect, failure};
use crate::proto::parse::search::search_program;

/// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-charset 1*(SP
/// search-key)` (input starts after the name).
pub fn thread_args(i: &[u8], uid: bool) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (after, name) = expect("Missing threading algorithm", atom_upper).parse(rest)?;
    let algorithm = match name.as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        "REFS" => ThreadAlgorithm::Refs,
        _ => return failure(rest, "Unknown threading algorithm"),
    };
    let (rest, _) = sp(after)?;
    let (rest, charset) = expect("Missing charset", astring_utf8).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, criteria) = search_program(rest)?;
    Ok((
        rest,
        CommandBody::Thread(ThreadCommand {
            uid,
            algorithm,
            charset,
            criteria,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::SearchKey;

    #[test]
    fn thread_commands() {
        let parse = |args: &str| match thread_args(args.as_bytes(), true) {
            Ok((b"", CommandBody::Thread(c))) => Ok(c),
            other => Err(format!("{other:?}")),
        };
        let c = parse(" references UTF-8 ALL UNSEEN").unwrap();
        assert_eq!(c.algorithm, ThreadAlgorithm::References);
        assert!(c.uid);
        assert!(matches!(c.criteria, SearchKey::And(ref k) if k.len() == 2));
        assert_eq!(
            parse(" REFS US-ASCII ALL").unwrap().algorithm,
            ThreadAlgorithm::Refs
        );
        let c = parse(" ORDEREDSUBJECT UTF-8 1:5").unwrap();
        assert_eq!(c.algorithm, ThreadAlgorithm::OrderedSubject);
        for bad in [
            " UTF-8 ALL",
            " THREADS UTF-8 ALL",
            " REFS ALL",
            " REFS UTF-8",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
