//! FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2).
//!
//! Messages are loaded in chunks and each chunk's responses are written
//! before the next is loaded, so `FETCH 1:* BODY[]` on a large mailbox
//! never holds the whole mailbox in memory.

use std::borrow::Cow;

use super::flags::wire_flags;
use super::select::selected;
use super::updates::see_new_uids;
use super::{private_seen, resolve};
use crate::mail::{MessageIndex, UnknownCte};
use crate::proto::response::{Code, CommandResult, Done, Untagged, flag_list};
use crate::proto::{FetchAttribute, FetchCommand, MessageSet, Section, SectionText, encode};
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::{Access, FetchRequest, FetchedMessage, FlagChange, Flags, SystemFlags};

/// Messages per store round trip.
const CHUNK: usize = 256;
/// Octets of raw messages loaded at once (at least one message).
const RAW_BATCH_BYTES: u64 = 16 * 1024 * 1024;
/// Responses are written out once this much is queued, so one FETCH of
/// many large sections never holds them all.
const FLUSH_AT: usize = 1024 * 1024;

pub async fn fetch(s: &mut Session, command: FetchCommand) -> CommandResult {
    see_new_uids(s, &command.messages, command.uid).await?;
    let selection = selected(s)?;
    let targets = resolve(selection, &command.messages, command.uid)?;
    // Without the `s` right a FETCH of a body sets no \Seen (RFC 4314 §4).
    let (mailbox, viewer, read_only) = (
        selection.mailbox,
        selection.viewer,
        selection.read_only || !selection.rights.contains(Rights::SEEN),
    );
    // A repeated item adds nothing but memory: keep the first of each.
    let mut attributes: Vec<FetchAttribute> = Vec::with_capacity(command.attributes.len());
    for attribute in command.attributes {
        if !attributes.contains(&attribute) {
            attributes.push(attribute);
        }
    }
    // UID FETCH always reports the UID, first as clients expect.
    if command.uid && !attributes.contains(&FetchAttribute::Uid) {
        attributes.insert(0, FetchAttribute::Uid);
    }
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
    if command.changed_since.is_some() && !attributes.contains(&FetchAttribute::ModSeq) {
        attributes.push(FetchAttribute::ModSeq);
    }
    if let Some(since) = command.changed_since.filter(|_| command.vanished) {
        if !command.uid || !s.extensions.qresync {
            return Err(Done::bad("VANISHED needs UID FETCH and ENABLE QRESYNC"));
        }
        // `*` reaches past the last UID still present, so `1:*` covers
        // every UID that was ever expunged (what the client means).
        let ranges = match &command.messages {
            MessageSet::Numbers(set) => set.ranges(u32::MAX),
            MessageSet::Saved => selected(s)?.saved_ranges(),
        };
        let vanished = s
            .store(Access::Read, move |store| {
                store.vanished_since(mailbox, since, Some(&ranges))
            })
            .await?;
        if !vanished.is_empty() {
            s.send(Untagged::Vanished {
                earlier: true,
                uids: vanished,
            });
        }
    }
    let request = FetchRequest {
        index: attributes.iter().any(needs_index),
        raw: attributes.iter().any(needs_raw),
    };
    let marks_seen = !read_only && attributes.iter().any(sets_seen);

    let mut vanished = false;
    for chunk in targets.chunks(CHUNK) {
        let uids: Vec<u32> = chunk.iter().map(|(_, uid)| *uid).collect();
        let batches = if request.raw {
            let sizes = s
                .store(Access::Read, move |store| {
                    store.fetch(mailbox, &uids, FetchRequest::default())
                })
                .await?;
            size_batches(&sizes)
        } else {
            vec![uids]
        };
        let mut found = 0;
        for batch in batches {
            let mut messages = s
                .store(Access::Read, move |store| {
                    let mut messages = store.fetch(mailbox, &batch, request)?;
                    let seen = private_seen::load(store, mailbox, viewer)?;
                    let flags = messages.iter_mut().map(|m| (m.uid, &mut m.flags));
                    private_seen::overlay(seen.as_deref(), flags);
                    Ok(messages)
                })
                .await?;
            found += messages.len();
            let seen_now = if marks_seen {
                mark_seen(s, &mut messages).await?
            } else {
                Vec::new()
            };
            for message in &messages {
                if command
                    .changed_since
                    .is_some_and(|since| message.modseq <= since)
                {
                    continue;
                }
                // Another session may have expunged it after we resolved the set.
                let Some(seq) = s.state.selection().and_then(|v| v.seq_of(message.uid)) else {
                    continue;
                };
                let flags_changed = seen_now.contains(&message.uid);
                write_response(s, seq, message, &attributes, flags_changed).await?;
            }
        }
        vanished |= found < chunk.len();
        s.flush().await.map_err(|_| Done::bad("Connection lost"))?;
    }
    let verb = if command.uid { "UID FETCH" } else { "FETCH" };
    if vanished && !command.uid {
        // RFC 2180 §4.1.2: messages another session expunged, which this
        // session has not been told about yet, get no data and a NO. UID
        // FETCH just skips UIDs that are gone (RFC 3501 §6.4.8).
        return Err(Done::no(format!(
            "{verb}: some messages were expunged by another session"
        ))
        .with_code(Code::ExpungeIssued));
    }
    Ok(Done::ok(format!("{verb} completed")))
}

fn needs_index(attribute: &FetchAttribute) -> bool {
    matches!(
        attribute,
        FetchAttribute::Envelope
            | FetchAttribute::Body
            | FetchAttribute::BodyStructure
            | FetchAttribute::BodySection { .. }
            | FetchAttribute::Binary { .. }
            | FetchAttribute::BinarySize { .. }
            | FetchAttribute::Rfc822Header
            | FetchAttribute::Rfc822Text
    )
}

fn needs_raw(attribute: &FetchAttribute) -> bool {
    matches!(
        attribute,
        FetchAttribute::Rfc822
            | FetchAttribute::Rfc822Header
            | FetchAttribute::Rfc822Text
            | FetchAttribute::BodySection { .. }
            | FetchAttribute::Binary { .. }
            | FetchAttribute::BinarySize { .. }
    )
}

/// Non-PEEK body fetches set `\Seen` (RFC 3501 §6.4.5).
fn sets_seen(attribute: &FetchAttribute) -> bool {
    matches!(
        attribute,
        FetchAttribute::Rfc822
            | FetchAttribute::Rfc822Text
            | FetchAttribute::BodySection { peek: false, .. }
            | FetchAttribute::Binary { peek: false, .. }
    )
}

/// Sets `\Seen` on the messages that lack it; returns their UIDs.
async fn mark_seen(s: &mut Session, messages: &mut [FetchedMessage]) -> Result<Vec<u32>, Done> {
    let unseen: Vec<u32> = messages
        .iter()
        .filter(|m| !m.flags.system.has(SystemFlags::SEEN))
        .map(|m| m.uid)
        .collect();
    if unseen.is_empty() {
        return Ok(unseen);
    }
    let selection = selected(s)?;
    let (mailbox, viewer) = (selection.mailbox, selection.viewer);
    let uids = unseen.clone();
    let seen = Flags {
        system: SystemFlags(SystemFlags::SEEN),
        keywords: Vec::new(),
    };
    // As STORE +FLAGS (\Seen): the user's own \Seen where it is kept apart.
    let outcome = s
        .store(Access::Write, move |store| {
            private_seen::store_flags(store, mailbox, viewer, &uids, FlagChange::Add, &seen, None)
        })
        .await?;
    if let Some(selection) = s.state.selection_mut() {
        selection.note_own_changes(&outcome);
    }
    for stored in outcome.messages {
        if let Some(message) = messages.iter_mut().find(|m| m.uid == stored.uid) {
            message.flags = stored.flags;
            message.modseq = stored.modseq;
        }
    }
    Ok(unseen)
}

/// Groups UIDs so that each group's raw messages total at most
/// `RAW_BATCH_BYTES` (a larger message goes alone).
fn size_batches(sizes: &[FetchedMessage]) -> Vec<Vec<u32>> {
    let mut batches: Vec<Vec<u32>> = Vec::new();
    let mut batch_bytes = 0;
    for message in sizes {
        let size = u64::from(message.size);
        match batches.last_mut() {
            Some(batch) if batch_bytes + size <= RAW_BATCH_BYTES => {
                batch.push(message.uid);
                batch_bytes += size;
            }
            _ => {
                batches.push(vec![message.uid]);
                batch_bytes = size;
            }
        }
    }
    batches
}

/// Writes one `* seq FETCH (...)` response into the session's output,
/// flushing as it grows.
async fn write_response(
    s: &mut Session,
    seq: u32,
    message: &FetchedMessage,
    attributes: &[FetchAttribute],
    flags_changed: bool,
) -> Result<(), Done> {
    let recent = s
        .state
        .selection()
        .is_some_and(|v| v.recent.contains(&message.uid));
    let index = match (&message.index, attributes.iter().any(needs_index)) {
        (Some(bytes), true) => Some(MessageIndex::from_bytes(bytes).ok_or_else(|| {
            tracing::error!(uid = message.uid, "stored message index is unreadable");
            Done::no("Stored message data is damaged").with_code(Code::ServerBug)
        })?),
        _ => None,
    };
    let raw = message.raw.as_deref().unwrap_or_default();
    let decoded = decode_binaries(attributes, index.as_ref(), raw, message.uid)?;
    s.out
        .extend_from_slice(format!("* {seq} FETCH (").as_bytes());
    for (i, (attribute, decoded)) in attributes.iter().zip(&decoded).enumerate() {
        if i > 0 {
            s.out.push(b' ');
        }
        let item = Item {
            message,
            index: index.as_ref(),
            raw,
            decoded: decoded.as_deref(),
            recent,
        };
        write_item(&mut s.out, attribute, &item);
        if s.out.len() > FLUSH_AT {
            s.flush().await.map_err(|_| Done::bad("Connection lost"))?;
        }
    }
    // A \Seen set by this FETCH is reported in the same response (with
    // its new MODSEQ once CONDSTORE is on).
    if flags_changed && !attributes.contains(&FetchAttribute::Flags) {
        s.out.extend_from_slice(b" FLAGS ");
        flag_list(&mut s.out, &wire_flags(&message.flags, recent));
    }
    if flags_changed && s.extensions.condstore && !attributes.contains(&FetchAttribute::ModSeq) {
        s.out
            .extend_from_slice(format!(" MODSEQ ({})", message.modseq).as_bytes());
    }
    s.out.extend_from_slice(b")\r\n");
    Ok(())
}

/// The decoded part behind each BINARY and BINARY.SIZE item (`None` for
/// other items), worked out before the response starts so that a part we
/// cannot decode fails the FETCH instead of leaving half a response.
fn decode_binaries(
    attributes: &[FetchAttribute],
    index: Option<&MessageIndex>,
    raw: &[u8],
    uid: u32,
) -> Result<Vec<Option<Vec<u8>>>, Done> {
    attributes
        .iter()
        .map(|attribute| {
            let (FetchAttribute::Binary { part, .. } | FetchAttribute::BinarySize { part }) =
                attribute
            else {
                return Ok(None);
            };
            let Some(index) = index else {
                return Ok(Some(Vec::new()));
            };
            match index.binary(raw, part) {
                // No such part: empty, as for BODY[part].
                Ok(data) => Ok(Some(data.unwrap_or_default())),
                Err(UnknownCte) => Err(Done::no(format!(
                    "UID {uid}: cannot decode the Content-Transfer-Encoding of that part"
                ))
                .with_code(Code::UnknownCte)),
            }
        })
        .collect()
}

/// What one message offers to the items of its FETCH response.
struct Item<'a> {
    message: &'a FetchedMessage,
    index: Option<&'a MessageIndex>,
    raw: &'a [u8],
    /// The decoded part, for BINARY and BINARY.SIZE.
    decoded: Option<&'a [u8]>,
    recent: bool,
}

fn write_item(out: &mut Vec<u8>, attribute: &FetchAttribute, item: &Item<'_>) {
    let Item {
        message,
        index,
        raw,
        decoded,
        recent,
    } = *item;
    let whole = |text| Section {
        part: Vec::new(),
        text,
    };
    match attribute {
        FetchAttribute::Uid => out.extend_from_slice(format!("UID {}", message.uid).as_bytes()),
        FetchAttribute::Flags => {
            out.extend_from_slice(b"FLAGS ");
            flag_list(out, &wire_flags(&message.flags, recent));
        }
        FetchAttribute::InternalDate => {
            out.extend_from_slice(b"INTERNALDATE ");
            encode::date_time(out, message.internal_date);
        }
        FetchAttribute::SaveDate => {
            out.extend_from_slice(b"SAVEDATE ");
            let saved = chrono::DateTime::from_timestamp(message.saved_at, 0).unwrap_or_default();
            encode::date_time(out, saved.fixed_offset());
        }
        FetchAttribute::Rfc822Size => {
            out.extend_from_slice(format!("RFC822.SIZE {}", message.size).as_bytes())
        }
        FetchAttribute::ModSeq => {
            out.extend_from_slice(format!("MODSEQ ({})", message.modseq).as_bytes())
        }
        FetchAttribute::Envelope => {
            out.extend_from_slice(b"ENVELOPE ");
            out.extend_from_slice(index.map_or(&b"NIL"[..], |i| i.envelope()));
        }
        FetchAttribute::Body => {
            out.extend_from_slice(b"BODY ");
            out.extend_from_slice(index.map_or(&b"NIL"[..], |i| i.body()));
        }
        FetchAttribute::BodyStructure => {
            out.extend_from_slice(b"BODYSTRUCTURE ");
            out.extend_from_slice(index.map_or(&b"NIL"[..], |i| i.body_structure()));
        }
        FetchAttribute::Rfc822 => {
            out.extend_from_slice(b"RFC822 ");
            encode::literal(out, raw);
        }
        FetchAttribute::Rfc822Header => {
            out.extend_from_slice(b"RFC822.HEADER ");
            write_section_data(out, index, raw, &whole(Some(SectionText::Header)), None);
        }
        FetchAttribute::Rfc822Text => {
            out.extend_from_slice(b"RFC822.TEXT ");
            write_section_data(out, index, raw, &whole(Some(SectionText::Text)), None);
        }
        FetchAttribute::BodySection {
            section, partial, ..
        } => {
            out.extend_from_slice(b"BODY[");
            write_section_spec(out, section);
            out.push(b']');
            if let Some((origin, _)) = partial {
                out.extend_from_slice(format!("<{origin}>").as_bytes());
            }
            out.push(b' ');
            write_section_data(out, index, raw, section, *partial);
        }
        FetchAttribute::Binary { part, partial, .. } => {
            out.extend_from_slice(format!("BINARY[{}]", part_path(part)).as_bytes());
            if let Some((origin, _)) = partial {
                out.extend_from_slice(format!("<{origin}>").as_bytes());
            }
            out.push(b' ');
            encode::binary_literal(out, cut(decoded.unwrap_or_default(), *partial));
        }
        FetchAttribute::BinarySize { part } => {
            let size = decoded.map_or(0, <[u8]>::len);
            out.extend_from_slice(format!("BINARY.SIZE[{}] {size}", part_path(part)).as_bytes());
        }
    }
}

/// `1.2.3`.
fn part_path(part: &[u32]) -> String {
    let parts: Vec<String> = part.iter().map(u32::to_string).collect();
    parts.join(".")
}

/// The `<origin.count>` window of `data` (RFC 3501 §6.4.5: an origin past
/// the end gives nothing).
fn cut(data: &[u8], partial: Option<(u32, u32)>) -> &[u8] {
    match partial {
        Some((origin, count)) => {
            let start = (origin as usize).min(data.len());
            let end = start.saturating_add(count as usize).min(data.len());
            &data[start..end]
        }
        None => data,
    }
}

/// Echoes the section as requested, e.g. `1.2.HEADER.FIELDS (From To)`.
fn write_section_spec(out: &mut Vec<u8>, section: &Section) {
    out.extend_from_slice(part_path(&section.part).as_bytes());
    let Some(text) = &section.text else {
        return;
    };
    if !section.part.is_empty() {
        out.push(b'.');
    }
    let (name, fields) = match text {
        SectionText::Header => ("HEADER", None),
        SectionText::Text => ("TEXT", None),
        SectionText::Mime => ("MIME", None),
        SectionText::HeaderFields(fields) => ("HEADER.FIELDS", Some(fields)),
        SectionText::HeaderFieldsNot(fields) => ("HEADER.FIELDS.NOT", Some(fields)),
    };
    out.extend_from_slice(name.as_bytes());
    if let Some(fields) = fields {
        out.extend_from_slice(b" (");
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            encode::astring(out, field.as_bytes());
        }
        out.push(b')');
    }
}

/// The section's octets as a literal, cut to `<origin.count>`. A part that
/// does not exist is empty (RFC 3501 leaves it open; Dovecot answers so).
fn write_section_data(
    out: &mut Vec<u8>,
    index: Option<&MessageIndex>,
    raw: &[u8],
    section: &Section,
    partial: Option<(u32, u32)>,
) {
    let data = index
        .and_then(|i| i.section(raw, section))
        .unwrap_or(Cow::Borrowed(&[]));
    encode::literal(out, cut(&data, partial));
}
