//! SEARCH and UID SEARCH (RFC 3501 §6.4.4).
//!
//! The session resolves what only it knows (sequence numbers, `\Recent`)
//! into UIDs; the store evaluates the rest; results are limited to the
//! messages this session has been told about.

use std::ops::RangeInclusive;

use super::private_seen;
use super::select::selected;
use crate::proto::response::{Code, CommandResult, Done, Esearch, Untagged};
use crate::proto::{SearchCommand, SearchKey, SequenceSet};
use crate::session::Session;
use crate::session::state::Selection;
use crate::store::{Access, DateCmp, SearchQuery, SystemFlags};

pub async fn search(s: &mut Session, command: SearchCommand) -> CommandResult {
    let options = command.return_options.clone();
    let outcome = search_and_answer(s, command).await;
    settle_saved(s, options.as_deref(), outcome)
}

async fn search_and_answer(s: &mut Session, command: SearchCommand) -> CommandResult {
    let (uid, criteria) = (command.uid, &command.criteria);
    let returns = ReturnOptions::parse_optional(command.return_options.as_deref())?;
    if let Some(charset) = &command.charset {
        check_charset(charset)?;
    }
    let found = find(s, criteria).await?;
    let selection = selected(s)?;
    // Only messages this session has been told about, as (UID, number)
    // with their MODSEQs.
    let known: Vec<(u32, u32, u64)> = found
        .into_iter()
        .filter_map(|(found_uid, modseq)| {
            let seq = selection.seq_of(found_uid)?;
            Some((found_uid, if uid { found_uid } else { seq }, modseq))
        })
        .collect();
    let matched: Vec<(u32, u64)> = known.iter().map(|&(_, n, m)| (n, m)).collect();
    if let Some(returns) = &returns {
        let uids: Vec<u32> = known.iter().map(|&(uid, _, _)| uid).collect();
        save(s, returns, &uids);
    }
    let with_modseq = criteria.uses_modseq();
    let response = match returns {
        // RFC 5182 §2.1: SAVE alone answers with the tagged OK only.
        Some(returns) if returns.only_saves() => None,
        None => Some({
            // RFC 7162 §3.1.5: a MODSEQ criterion adds the highest MODSEQ.
            let highest = matched.iter().map(|&(_, modseq)| modseq).max();
            Untagged::Search {
                numbers: matched.iter().map(|&(n, _)| n).collect(),
                modseq: highest.filter(|_| with_modseq),
            }
        }),
        Some(returns) => Some(Untagged::Esearch(esearch(
            s,
            uid,
            &returns,
            &matched,
            with_modseq,
        ))),
    };
    if let Some(response) = response {
        s.send(response);
    }
    let verb = if uid { "UID SEARCH" } else { "SEARCH" };
    Ok(Done::ok(format!("{verb} completed")))
}

/// SEARCH's CHARSET (and SORT's): the ones whose text is UTF-8.
pub(super) fn check_charset(charset: &str) -> Result<(), Done> {
    if ["UTF-8", "US-ASCII"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(charset))
    {
        Ok(())
    } else {
        Err(Done::no(format!("Unsupported charset {charset}")).with_code(Code::BadCharset))
    }
}

/// The UIDs (with MODSEQs, ascending) of the selected mailbox's messages
/// that match `criteria`; the caller keeps those the session knows.
pub(super) async fn find(s: &mut Session, criteria: &SearchKey) -> Result<Vec<(u32, u64)>, Done> {
    let selection = selected(s)?;
    let query = to_query(criteria, selection)?;
    let (mailbox, viewer) = (selection.mailbox, selection.viewer);
    Ok(s.store(Access::Read, move |store| {
        let seen = private_seen::load(store, mailbox, viewer)?;
        store.search(mailbox, &private_seen::rewrite(query, seen.as_deref()))
    })
    .await?)
}

/// RFC 5182 §2.1: a SEARCH (or SORT) whose RETURN asks for SAVE and that
/// fails leaves `$` empty, so a pipelined `FETCH $` after it touches
/// nothing. Returns `outcome`.
pub(super) fn settle_saved(
    s: &mut Session,
    options: Option<&[String]>,
    outcome: CommandResult,
) -> CommandResult {
    let saving = options.is_some_and(|o| o.iter().any(|o| o.eq_ignore_ascii_case("SAVE")));
    if saving
        && outcome.is_err()
        && let Some(selection) = s.state.selection_mut()
    {
        selection.saved.clear();
    }
    outcome
}

/// Keeps what SAVE asked for as `$` (RFC 5182 §2.4): the MIN and/or MAX
/// message alone when RETURN asks for no more than those, else every
/// message matched. `uids` are in the order reported (sorted, for SORT),
/// so MIN and MAX are the first and the last.
pub(super) fn save(s: &mut Session, returns: &ReturnOptions, uids: &[u32]) {
    if !returns.save {
        return;
    }
    let mut saved: Vec<u32> = if returns.all || returns.count || !(returns.min || returns.max) {
        uids.to_vec()
    } else {
        [
            uids.first().filter(|_| returns.min),
            uids.last().filter(|_| returns.max),
        ]
        .into_iter()
        .flatten()
        .copied()
        .collect()
    };
    saved.sort_unstable();
    saved.dedup();
    if let Some(selection) = s.state.selection_mut() {
        selection.saved = saved;
    }
}

/// RFC 4731 `SEARCH RETURN (...)` options (and RFC 5267's for SORT), with
/// RFC 5182's SAVE.
pub(super) struct ReturnOptions {
    min: bool,
    max: bool,
    count: bool,
    all: bool,
    save: bool,
}

impl ReturnOptions {
    /// `None` without RETURN.
    pub(super) fn parse_optional(options: Option<&[String]>) -> Result<Option<Self>, Done> {
        options.map(ReturnOptions::parse).transpose()
    }

    /// True when nothing but SAVE was asked for: no ESEARCH response.
    pub(super) fn only_saves(&self) -> bool {
        self.save && !(self.min || self.max || self.count || self.all)
    }

    /// `RETURN ()` means `RETURN (ALL)`.
    fn parse(options: &[String]) -> Result<ReturnOptions, Done> {
        let mut returns = ReturnOptions {
            min: false,
            max: false,
            count: false,
            all: options.is_empty(),
            save: false,
        };
        for option in options {
            match option.to_ascii_uppercase().as_str() {
                "MIN" => returns.min = true,
                "MAX" => returns.max = true,
                "COUNT" => returns.count = true,
                "ALL" => returns.all = true,
                "SAVE" => returns.save = true,
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
/// matched (RFC 4731 §3.1). `matched` holds numbers (or UIDs) with their
/// MODSEQs, in the order to report: ascending for SEARCH, sorted for SORT
/// (whose MIN and MAX are its first and last, RFC 5267 §3.1).
pub(super) fn esearch(
    s: &Session,
    uid: bool,
    returns: &ReturnOptions,
    matched: &[(u32, u64)],
    with_modseq: bool,
) -> Esearch {
    let (first, last) = (matched.first(), matched.last());
    // RFC 4731 §3.2: the MODSEQ of what is returned: of the MIN or MAX
    // message alone, of both, or of every message matched.
    let returned: Vec<&(u32, u64)> = if returns.all || returns.count {
        matched.iter().collect()
    } else {
        [first.filter(|_| returns.min), last.filter(|_| returns.max)]
            .into_iter()
            .flatten()
            .collect()
    };
    let modseq = returned.iter().map(|&&(_, modseq)| modseq).max();
    Esearch {
        tag: s.current_tag.clone(),
        uid,
        min: first.map(|&(n, _)| n).filter(|_| returns.min),
        max: last.map(|&(n, _)| n).filter(|_| returns.max),
        count: returns.count.then_some(matched.len()),
        all: if returns.all {
            matched.iter().map(|&(n, _)| n).collect()
        } else {
            Vec::new()
        },
        modseq: modseq.filter(|_| with_modseq),
    }
}

fn seconds_ago(seconds: u32) -> i64 {
    chrono::Utc::now().timestamp() - i64::from(seconds)
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
        K::SavedBefore(d) => SearchQuery::SavedDate(DateCmp::Before, *d),
        K::SavedOn(d) => SearchQuery::SavedDate(DateCmp::On, *d),
        K::SavedSince(d) => SearchQuery::SavedDate(DateCmp::Since, *d),
        // Every mailbox keeps the date its messages entered it.
        K::SaveDateSupported => SearchQuery::All,
        K::SentBefore(d) => SearchQuery::SentDate(DateCmp::Before, *d),
        K::SentOn(d) => SearchQuery::SentDate(DateCmp::On, *d),
        K::SentSince(d) => SearchQuery::SentDate(DateCmp::Since, *d),
        K::Larger(n) => SearchQuery::Larger(*n),
        K::Smaller(n) => SearchQuery::Smaller(*n),
        // RFC 5032: OLDER n is INTERNALDATE <= now - n, YOUNGER n the rest.
        K::Older(n) => SearchQuery::ArrivedBy(seconds_ago(*n)),
        K::Younger(n) => not(SearchQuery::ArrivedBy(seconds_ago(*n))),
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
        K::Saved => SearchQuery::Uids(selection.saved_ranges()),
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
