//! What SORT and THREAD read of each message (RFC 5256, RFC 5957),
//! extracted once at APPEND (`mail::sort_fields`) and stored beside the
//! message, so that neither re-reads message octets.

/// The sort and thread keys of one message's header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortFields {
    /// The RFC 5256 §2.1 base subject ("" without a Subject field), with
    /// ASCII letters upper-cased (stored before 2026-12-04: as written).
    pub base_subject: String,
    /// Whether extracting the base subject removed a reply or forward
    /// indication (THREAD merges such messages under their original).
    pub subject_is_reply: bool,
    /// The Date: field as seconds since the epoch (UTC); `None` when it is
    /// missing or unparsable, and SORT (DATE) uses the INTERNALDATE.
    pub sent_at: Option<i64>,
    /// The addr-mailbox (local part) of the first From, To and Cc
    /// address; "" when there is none.
    pub from: String,
    pub to: String,
    pub cc: String,
    /// RFC 5957 display values of the first From and To address: the
    /// decoded display name, else `mailbox@host`; "" when there is none.
    pub display_from: String,
    pub display_to: String,
    /// The first valid msg-id of Message-ID, brackets included.
    pub message_id: Option<String>,
    /// The msg-ids of References, oldest first, or, without any, the first
    /// msg-id of In-Reply-To (RFC 5256 §2.2 REFERENCES step 1.A).
    pub references: Vec<String>,
}

/// One message as SORT sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortRow {
    pub uid: u32,
    /// INTERNALDATE, seconds since the epoch.
    pub arrival: i64,
    /// RFC822.SIZE.
    pub size: u32,
    /// `None` for a message stored before its fields were kept (schema
    /// version 7 and older): the caller extracts them from its octets.
    pub fields: Option<SortFields>,
}
