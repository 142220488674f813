//! SEARCH criteria in store terms: sequence numbers and `\Recent` already
//! resolved to UIDs by the session, everything else evaluated by the store.

use std::ops::RangeInclusive;

use chrono::NaiveDate;

/// The decoded text of a message that SEARCH reads (`mail::search_text`
/// extracts it at APPEND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchText {
    /// One `name: decoded value` line per top-level header field, names
    /// lower-cased, in message order.
    pub headers: String,
    pub body: String,
    /// The date part of the Date: header, in the header's own time zone
    /// (SENTBEFORE/SENTON/SENTSINCE ignore time and zone).
    pub sent_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCmp {
    Before,
    On,
    Since,
}

impl DateCmp {
    pub fn matches(self, date: NaiveDate, against: NaiveDate) -> bool {
        match self {
            DateCmp::Before => date < against,
            DateCmp::On => date == against,
            DateCmp::Since => date >= against,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    All,
    And(Vec<SearchQuery>),
    Or(Box<SearchQuery>, Box<SearchQuery>),
    Not(Box<SearchQuery>),
    Uids(Vec<RangeInclusive<u32>>),
    /// A system flag bit (`SystemFlags::*`) is set.
    Flag(u8),
    /// Keyword set, compared case-insensitively.
    Keyword(String),
    /// INTERNALDATE's date, in its own time zone.
    InternalDate(DateCmp, NaiveDate),
    /// The Date: header's date (INTERNALDATE's when there is none).
    SentDate(DateCmp, NaiveDate),
    /// The date (UTC) the message entered its mailbox (RFC 8514).
    SavedDate(DateCmp, NaiveDate),
    Larger(u32),
    Smaller(u32),
    /// INTERNALDATE at or before this many seconds since the epoch (RFC
    /// 5032 OLDER; YOUNGER is its negation).
    ArrivedBy(i64),
    /// Case-insensitive substring of a header field's decoded value; the
    /// field name is lower-case. An empty needle matches any message that
    /// has the field.
    Header(String, String),
    /// Case-insensitive substring of the decoded body text.
    Body(String),
    /// Header or body.
    Text(String),
    ModSeq(u64),
}

mod evaluate;

pub use evaluate::{MessageRow, TextColumn, TextSource, evaluate, header_lines_match};
