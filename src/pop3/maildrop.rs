//! A POP3 session's maildrop: the INBOX as it was at login, numbered 1..n
//! for the whole session (RFC 1939 §5), with the deletion marks and the
//! messages retrieved that QUIT turns into an expunge and `\Seen`.
//! Messages that arrive later are for the next session.
//!
//! Also the multi-line encoding of RETR and TOP: CRLF line ends, a `.`
//! doubled at the start of a line, a lone `.` to end.

use crate::store::MailboxId;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    uid: u32,
    size: u64,
    deleted: bool,
    retrieved: bool,
}

#[derive(Debug)]
pub struct Maildrop {
    pub mailbox: MailboxId,
    uidvalidity: u32,
    entries: Vec<Entry>,
}

/// Why a message number cannot be used; the text goes after `-ERR `.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoMessage {
    #[error("No such message")]
    Missing,
    #[error("Message is deleted")]
    Deleted,
}

/// What QUIT writes: UIDs to mark `\Seen`, UIDs to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Update {
    pub seen: Vec<u32>,
    pub removed: Vec<u32>,
}

impl Maildrop {
    /// `messages` are (UID, size) in UID order.
    pub fn new(mailbox: MailboxId, uidvalidity: u32, messages: Vec<(u32, u64)>) -> Maildrop {
        let entries = messages
            .into_iter()
            .map(|(uid, size)| Entry {
                uid,
                size,
                deleted: false,
                retrieved: false,
            })
            .collect();
        Maildrop {
            mailbox,
            uidvalidity,
            entries,
        }
    }

    fn entry(&self, number: u32) -> Result<&Entry, NoMessage> {
        let entry = (number as usize)
            .checked_sub(1)
            .and_then(|index| self.entries.get(index))
            .ok_or(NoMessage::Missing)?;
        match entry.deleted {
            true => Err(NoMessage::Deleted),
            false => Ok(entry),
        }
    }

    fn entry_mut(&mut self, number: u32) -> Result<&mut Entry, NoMessage> {
        self.entry(number)?;
        Ok(&mut self.entries[number as usize - 1])
    }

    /// UID and size of a message not deleted.
    pub fn message(&self, number: u32) -> Result<(u32, u64), NoMessage> {
        self.entry(number).map(|e| (e.uid, e.size))
    }

    /// Numbers and sizes of the messages not deleted, for LIST.
    pub fn listing(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.live().map(|(number, e)| (number, e.size))
    }

    /// Numbers and unique-ids of the messages not deleted, for UIDL.
    pub fn unique_ids(&self) -> impl Iterator<Item = (u32, String)> + '_ {
        self.live()
            .map(|(number, e)| (number, self.unique_id_of(e.uid)))
    }

    fn live(&self) -> impl Iterator<Item = (u32, &Entry)> {
        (1..).zip(&self.entries).filter(|(_, entry)| !entry.deleted)
    }

    /// A message's unique-id (RFC 1939 §7): the UID, then the UIDVALIDITY,
    /// eight lower-case hex digits each, exactly as Dovecot's default
    /// `%08Xu%08Xv` writes them (its `%X` prints lower case).
    /// Never reused, since a UID never is within a UIDVALIDITY. Mail
    /// moved in by `migrate` or `import` gets new UIDs, so a client that
    /// leaves mail on the old server's POP3 fetches it once more.
    pub fn unique_id(&self, number: u32) -> Result<String, NoMessage> {
        self.entry(number).map(|e| self.unique_id_of(e.uid))
    }

    fn unique_id_of(&self, uid: u32) -> String {
        format!("{uid:08x}{:08x}", self.uidvalidity)
    }

    /// Messages not deleted and their total size, for STAT.
    pub fn totals(&self) -> (usize, u64) {
        self.live().fold((0, 0), |(count, octets), (_, e)| {
            (count + 1, octets + e.size)
        })
    }

    pub fn delete(&mut self, number: u32) -> Result<(), NoMessage> {
        self.entry_mut(number)?.deleted = true;
        Ok(())
    }

    /// RETR read it: `\Seen` at QUIT.
    pub fn retrieved(&mut self, number: u32) -> Result<(), NoMessage> {
        self.entry_mut(number)?.retrieved = true;
        Ok(())
    }

    /// RSET: no message is deleted any more (retrieved ones stay read).
    pub fn undelete_all(&mut self) {
        self.entries.iter_mut().for_each(|e| e.deleted = false);
    }

    /// What QUIT writes to the store.
    pub fn update(&self) -> Update {
        let mut update = Update::default();
        for entry in &self.entries {
            if entry.deleted {
                update.removed.push(entry.uid);
            } else if entry.retrieved {
                update.seen.push(entry.uid);
            }
        }
        update
    }
}

/// Appends `data` as a multi-line response body and its terminating
/// `.` line: every line ends in CRLF (a bare LF becomes one, and so does
/// a missing last line end) and a line starting with `.` gets a second.
pub fn write_multiline(data: &[u8], out: &mut Vec<u8>) {
    write_lines(data, out);
    out.extend_from_slice(b".\r\n");
}

/// [`write_multiline`] without the terminating line, for a body written
/// in parts: each part but the last must end at a line end.
pub fn write_lines(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len() + data.len() / 64 + 2);
    for line in data.split_inclusive(|&b| b == b'\n') {
        // A CR is part of the line end only before an LF.
        let text = match line.strip_suffix(b"\n") {
            Some(text) => text.strip_suffix(b"\r").unwrap_or(text),
            None => line,
        };
        if text.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    }
}

/// `data` cut after a line end every `size` octets or so, for sending a
/// large message without a second copy of all of it.
pub fn line_parts(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = match rest
            .get(size..)
            .and_then(|tail| tail.iter().position(|&b| b == b'\n'))
        {
            Some(newline) => size + newline + 1,
            None => rest.len(),
        };
        let (part, tail) = rest.split_at(cut);
        rest = tail;
        Some(part)
    })
}

/// How much of a message TOP sends: the header, the empty line after it,
/// and the first `lines` lines of the body (RFC 1939 §7).
pub fn top(message: &[u8], lines: u32) -> &[u8] {
    let Some(body_start) = body_offset(message) else {
        return message;
    };
    let mut end = body_start;
    for _ in 0..lines {
        match message[end..].iter().position(|&b| b == b'\n') {
            Some(newline) => end += newline + 1,
            None => return message,
        }
    }
    &message[..end]
}

/// Where the body starts: after the first empty line.
fn body_offset(message: &[u8]) -> Option<usize> {
    let mut start = 0;
    for line in message.split_inclusive(|&b| b == b'\n') {
        start += line.len();
        if line == b"\r\n" || line == b"\n" {
            return Some(start);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multiline(data: &[u8]) -> String {
        let mut out = Vec::new();
        write_multiline(data, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_starting_with_a_dot_are_stuffed() {
        assert_eq!(
            multiline(b"a\r\n.\r\n..b\r\nc.\r\n"),
            "a\r\n..\r\n...b\r\nc.\r\n.\r\n"
        );
    }

    #[test]
    fn line_ends_become_crlf_and_the_last_line_is_ended() {
        assert_eq!(multiline(b"a\nb\r\n.c"), "a\r\nb\r\n..c\r\n.\r\n");
        assert_eq!(multiline(b""), ".\r\n");
        assert_eq!(multiline(b"\r\n"), "\r\n.\r\n");
        // A CR alone is not a line end.
        assert_eq!(multiline(b"a\rb\r\n"), "a\rb\r\n.\r\n");
        assert_eq!(multiline(b"a\r\n\r"), "a\r\n\r\r\n.\r\n");
    }

    #[test]
    fn parts_end_at_line_ends_and_make_the_whole() {
        let data = b"aaaa\nbbbbbb\ncc\ndddddddd";
        let parts: Vec<&[u8]> = line_parts(data, 3).collect();
        // At least `size` octets each, up to the next line end.
        assert_eq!(parts, [&b"aaaa\n"[..], b"bbbbbb\n", b"cc\ndddddddd"]);
        let mut whole = Vec::new();
        for part in line_parts(data, 3) {
            write_lines(part, &mut whole);
        }
        let mut at_once = Vec::new();
        write_lines(data, &mut at_once);
        assert_eq!(whole, at_once);
        assert_eq!(line_parts(b"", 3).count(), 0);
    }

    #[test]
    fn top_cuts_after_the_header_and_n_body_lines() {
        let message = b"Subject: x\r\nFrom: y\r\n\r\none\r\ntwo\r\nthree";
        assert_eq!(top(message, 0), b"Subject: x\r\nFrom: y\r\n\r\n");
        assert_eq!(
            top(message, 2),
            b"Subject: x\r\nFrom: y\r\n\r\none\r\ntwo\r\n"
        );
        assert_eq!(top(message, 3), &message[..]);
        assert_eq!(top(message, 99), &message[..]);
        assert_eq!(top(b"Subject: no body\r\n", 5), b"Subject: no body\r\n");
        assert_eq!(top(b"A: b\n\nbody\nmore\n", 1), b"A: b\n\nbody\n");
    }

    fn three() -> Maildrop {
        Maildrop::new(1, 0x5F00_0001, vec![(3, 10), (7, 20), (9, 30)])
    }

    #[test]
    fn numbers_sizes_and_unique_ids() {
        let drop = three();
        assert_eq!(drop.totals(), (3, 60));
        assert_eq!(drop.message(2), Ok((7, 20)));
        assert_eq!(drop.message(0), Err(NoMessage::Missing));
        assert_eq!(drop.message(4), Err(NoMessage::Missing));
        assert_eq!(drop.unique_id(1).unwrap(), "000000035f000001");
        assert_eq!(
            drop.listing().collect::<Vec<_>>(),
            [(1, 10), (2, 20), (3, 30)]
        );
    }

    #[test]
    fn deleted_messages_keep_their_numbers_until_rset() {
        let mut drop = three();
        drop.delete(2).unwrap();
        assert_eq!(drop.delete(2), Err(NoMessage::Deleted));
        assert_eq!(drop.message(2), Err(NoMessage::Deleted));
        assert_eq!(drop.unique_id(2), Err(NoMessage::Deleted));
        assert_eq!(drop.retrieved(2), Err(NoMessage::Deleted));
        assert_eq!(drop.totals(), (2, 40));
        assert_eq!(drop.listing().collect::<Vec<_>>(), [(1, 10), (3, 30)]);
        let ids: Vec<u32> = drop.unique_ids().map(|(n, _)| n).collect();
        assert_eq!(ids, [1, 3]);
        drop.undelete_all();
        assert_eq!(drop.totals(), (3, 60));
    }

    #[test]
    fn the_update_marks_read_messages_and_removes_deleted_ones() {
        let mut drop = three();
        drop.retrieved(1).unwrap();
        drop.retrieved(2).unwrap();
        drop.delete(2).unwrap();
        drop.delete(3).unwrap();
        let expected = Update {
            seen: vec![3],
            removed: vec![7, 9],
        };
        assert_eq!(drop.update(), expected);
        drop.undelete_all();
        assert_eq!(drop.update().seen, [3, 7]);
    }
}
