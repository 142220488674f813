//! SEARCH and UID SEARCH (RFC 3501 §6.4.4).
//!
//! The session resolves what only it knows (sequence numbers, `\Recent`)
//! into UIDs; the store evaluates the rest; results are limited to the
//! messages this session has been told about.

use std::ops::RangeInclusive;

use super::select::selected;
use crate::proto::response::{Code, CommandResult, Done, Esearch, Untagged};
use crate::proto::{SearchCommand, SearchKey, SequenceSet};
use crate::session::Session;
use crate::session::state::Selection;
use crate::store::{Access, DateCmp, SearchQuery, SystemFlags};

pub async fn search(s: &mut Session, command: SearchCommand) -> CommandResult {
    let (uid, criteria) = (command.uid, &command.criteria);
    let returns = command
        .return_options
        .as_deref()
        .map(ReturnOptions::parse)
        .transpose()?;
    if let Some(charset) = &command.charset
        && !["UTF-8", "US-ASCII"]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(charset))
    {
        return Err(Done::no(format!("Unsupported charset {charset}")).with_code(Code::BadCharset));
    }
    let selection = selected(s)?;
    let query = to_query(criteria, selection)?;
    let mailbox = selection.mailbox;
    let found = s
        .store(Access::Read, move |store| store.search(mailbox, &query))
        .await?;
    let selection = selected(s)?;
    // Only messages this session has been told about, as UIDs or numbers.
    let mut results = Vec::with_capacity(found.len());
    let mut highest_modseq = 0;
    for (found_uid, modseq) in found {
        if let Some(seq) = selection.seq_of(found_uid) {
            results.push(if uid { found_uid } else { seq });
            highest_modseq = highest_modseq.max(modseq);
        }
    }
    // RFC 7162 §3.1.5: a MODSEQ criterion adds the highest MODSEQ found.
    let modseq = (criteria.uses_modseq() && !results.is_empty()).then_some(highest_modseq);
    let response = match returns {
        None => Untagged::Search {
            numbers: results,
            modseq,
        },
        Some(returns) => Untagged::Esearch(esearch(s, uid, &returns, results, modseq)),
    };
    s.send(response);
    let verb = if uid { "UID SEARCH" } else { "SEARCH" };
    Ok(Done::ok(format!("{verb} completed")))
}

/// RFC 4731 `SEARCH RETURN (...)` options.
struct ReturnOptions {
    min: bool,
    max: bool,
    count: bool,
    all: bool,
}

impl ReturnOptions {
    /// `RETURN ()` means `RETURN (ALL)`; SAVE (RFC 5182) is not offered.
    fn parse(options: &[String]) -> Result<ReturnOptions, Done> {
        let mut returns = ReturnOptions {
            min: false,
            max: false,
            count: false,
            all: options.is_empty(),
        };
        for option in options {
            match option.to_ascii_uppercase().as_str() {
                "MIN" => returns.min = true,
                "MAX" => returns.max = true,
                "COUNT" => returns.count = true,
                "ALL" => returns.all = true,
                other => {
                    return Err(Done::bad(format!(
                        "Unsupported SEARCH RETURN option {other}"
                    )));
                }
            }
        }
        Ok(returns)
    }
}

/// `* ESEARCH (TAG "t") [UID] MIN a MAX b COUNT n ALL set [MODSEQ m]`:
/// what RETURN asked for; MIN, MAX and ALL are left out when nothing
/// matched (RFC 4731 §3.1).
fn esearch(
    s: &Session,
    uid: bool,
    returns: &ReturnOptions,
    results: Vec<u32>,
    modseq: Option<u64>,
) -> Esearch {
    Esearch {
        tag: s.current_tag.clone(),
        uid,
        min: results.first().copied().filter(|_| returns.min),
        max: results.last().copied().filter(|_| returns.max),
        count: returns.count.then_some(results.len()),
        all: if returns.all { results } else { Vec::new() },
        modseq,
    }
}

fn text(bytes: &[u8]) -> Result<String, Done> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Done::bad("Search string is not valid UTF-8"))
}

fn flag(bit: u8) -> SearchQuery {
    SearchQuery::Flag(bit)
}

fn not(query: SearchQuery) -> SearchQuery {
    SearchQuery::Not(Box::new(query))
}

fn header(field: &str, value: &[u8]) -> Result<SearchQuery, Done> {
    Ok(SearchQuery::Header(field.to_owned(), text(value)?))
}

/// The session's `\Recent` messages as UID ranges.
fn recent(selection: &Selection) -> SearchQuery {
    SearchQuery::Uids(selection.recent.iter().map(|&uid| uid..=uid).collect())
}

/// Sequence-number ranges as UID ranges of this session's view; numbers
/// past the end match nothing.
fn sequence_ranges(set: &SequenceSet, selection: &Selection) -> Vec<RangeInclusive<u32>> {
    let count = selection.uids.len() as u32;
    set.ranges(count)
        .into_iter()
        .filter(|r| *r.start() >= 1 && *r.start() <= count)
        .map(|r| {
            let end = (*r.end()).min(count);
            selection.uids[*r.start() as usize - 1]..=selection.uids[end as usize - 1]
        })
        .collect()
}

fn to_query(key: &SearchKey, selection: &Selection) -> Result<SearchQuery, Done> {
    use SearchKey as K;
    use SystemFlags as F;
    Ok(match key {
        K::All => SearchQuery::All,
        K::Answered => flag(F::ANSWERED),
        K::Unanswered => not(flag(F::ANSWERED)),
        K::Deleted => flag(F::DELETED),
        K::Undeleted => not(flag(F::DELETED)),
        K::Draft => flag(F::DRAFT),
        K::Undraft => not(flag(F::DRAFT)),
        K::Flagged => flag(F::FLAGGED),
        K::Unflagged => not(flag(F::FLAGGED)),
        K::Seen => flag(F::SEEN),
        K::Unseen => not(flag(F::SEEN)),
        K::Recent => recent(selection),
        K::New => SearchQuery::And(vec![recent(selection), not(flag(F::SEEN))]),
        K::Old => not(recent(selection)),
        K::Keyword(k) => SearchQuery::Keyword(k.clone()),
        K::Unkeyword(k) => not(SearchQuery::Keyword(k.clone())),
        K::Before(d) => SearchQuery::InternalDate(DateCmp::Before, *d),
        K::On(d) => SearchQuery::InternalDate(DateCmp::On, *d),
        K::Since(d) => SearchQuery::InternalDate(DateCmp::Since, *d),
        K::SentBefore(d) => SearchQuery::SentDate(DateCmp::Before, *d),
        K::SentOn(d) => SearchQuery::SentDate(DateCmp::On, *d),
        K::SentSince(d) => SearchQuery::SentDate(DateCmp::Since, *d),
        K::Larger(n) => SearchQuery::Larger(*n),
        K::Smaller(n) => SearchQuery::Smaller(*n),
        K::From(v) => header("from", v)?,
        K::To(v) => header("to", v)?,
        K::Cc(v) => header("cc", v)?,
        K::Bcc(v) => header("bcc", v)?,
        K::Subject(v) => header("subject", v)?,
        K::Header(field, v) => header(&field.to_lowercase(), v)?,
        K::Body(v) => SearchQuery::Body(text(v)?),
        K::Text(v) => SearchQuery::Text(text(v)?),
        K::Uid(set) => SearchQuery::Uids(set.ranges(selection.last_uid())),
        K::SequenceSet(set) => SearchQuery::Uids(sequence_ranges(set, selection)),
        K::ModSeq(n) => SearchQuery::ModSeq(*n),
        K::Not(inner) => not(to_query(inner, selection)?),
        K::Or(a, b) => SearchQuery::Or(
            Box::new(to_query(a, selection)?),
            Box::new(to_query(b, selection)?),
        ),
        K::And(all) => SearchQuery::And(
            all.iter()
                .map(|k| to_query(k, selection))
                .collect::<Result<_, _>>()?,
        ),
    })
}
