//! Splits the client byte stream into whole commands (lines plus inline
//! literal octets) before parsing, enforcing size limits and keeping the
//! stream in sync when something is refused.

use thiserror::Error;

use crate::proto::types::{Tag, is_tag_char};

/// Size limits applied while framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingLimits {
    /// Longest line, and longest total of the non-literal parts of a command.
    pub max_line: usize,
    /// Largest literal in a command other than APPEND.
    pub max_literal: u64,
    /// Largest literal in APPEND.
    pub max_append_literal: u64,
}

impl Default for FramingLimits {
    fn default() -> Self {
        FramingLimits {
            max_line: 65536,
            max_literal: 65536,
            max_append_literal: 64 * 1024 * 1024,
        }
    }
}

/// What [`Framer::next_command`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    /// One complete command, for `parse_command`.
    Command(Vec<u8>),
    /// A synchronizing literal within limits was announced: send
    /// `+ Ready for literal data` now. Emitted once per literal.
    NeedContinuation { size: u64 },
    /// Answer BAD; the framer itself discards the rest of the command.
    Rejected {
        tag: Option<Tag>,
        reason: FrameError,
    },
    /// A refused non-synchronizing literal is larger than the framer may
    /// skip (see [`Framer::set_max_skip`]): the stream cannot be followed
    /// any further, so end the session. Every later call says the same.
    LiteralTooLargeToSkip,
    /// More bytes are needed.
    Incomplete,
}

/// Why a command was refused while framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("Command line too long")]
    LineTooLong,
    #[error("Literal too large ({size} octets, limit {limit})")]
    LiteralTooLarge { size: u64, limit: u64 },
    #[error("Invalid literal")]
    BadLiteral,
}

/// What [`Framer::next_line`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// One line, without its CRLF.
    Line(Vec<u8>),
    /// The line was over `max_line`; it is discarded up to its end.
    TooLong,
    /// More bytes are needed.
    Incomplete,
}

/// A literal announcement at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suffix {
    None,
    Bad,
    Literal { size: u64, sync: bool },
}

/// Bytes being thrown away after a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Discard {
    Off,
    /// Dropping up to the next LF. `tail` keeps the last dropped bytes so a
    /// trailing `{n+}` can be seen; raw lines do not follow literals.
    Line {
        tail: Vec<u8>,
        follow_literals: bool,
    },
    /// Dropping the octets of a refused non-synchronizing literal, then the
    /// rest of its command.
    Literal {
        left: u64,
    },
    /// A refused literal was over `max_skip`: everything is dropped and
    /// the session is told to close.
    GivenUp,
}

impl Discard {
    /// How to get past a refused non-synchronizing literal of `size`
    /// octets, which the client sends without waiting.
    fn literal(size: u64, max_skip: u64) -> Discard {
        if size <= max_skip {
            Discard::Literal { left: size }
        } else {
            Discard::GivenUp
        }
    }
}

/// Bytes of a discarded line kept to recognise a literal at its end.
const TAIL_KEEP: usize = 40;
/// Consumed bytes kept at the front of the buffer before compacting.
const COMPACT_AT: usize = 64 * 1024;
/// Buffer capacity kept once everything is consumed: an APPEND of a large
/// message must not leave its size allocated for the rest of the session.
const KEEP_CAPACITY: usize = 16 * 1024;

/// Incremental splitter of the client byte stream. All offsets index `buf`;
/// everything before `start` has been consumed.
#[derive(Debug)]
pub struct Framer {
    limits: FramingLimits,
    buf: Vec<u8>,
    /// Start of the current command (or raw line).
    start: usize,
    /// Start of the current line part (after the last literal).
    line_start: usize,
    /// Line mode: no LF in `line_start..scan`. Literal mode: next literal
    /// octet.
    scan: usize,
    /// Octets still expected for the current literal.
    literal_left: Option<u64>,
    /// Non-literal bytes of the current command before `line_start`.
    line_bytes: usize,
    /// Literal octets of the current command.
    literal_bytes: u64,
    /// Whether the current command is APPEND (known after its first line).
    append: bool,
    /// Whether APPEND may use the large literal limit: only once the
    /// client has logged in, so nobody can make the server buffer 64 MiB
    /// before authenticating.
    append_allowed: bool,
    discard: Discard,
    /// Largest refused non-synchronizing literal read and dropped to stay
    /// in sync (RFC 7888 §4 allows closing instead); 0 until login, so a
    /// stranger cannot keep the session busy discarding a gigabyte.
    max_skip: u64,
    /// A too-long line found by `push`, not yet reported.
    pending_too_long: Option<Option<Tag>>,
}

impl Framer {
    /// A framer with no buffered bytes.
    pub fn new(limits: FramingLimits) -> Self {
        Framer {
            limits,
            buf: Vec::new(),
            start: 0,
            line_start: 0,
            scan: 0,
            literal_left: None,
            line_bytes: 0,
            literal_bytes: 0,
            append: false,
            append_allowed: false,
            discard: Discard::Off,
            max_skip: 0,
            pending_too_long: None,
        }
    }

    /// Sets the largest refused literal to skip rather than give up on.
    pub fn set_max_skip(&mut self, octets: u64) {
        self.max_skip = octets;
    }

    /// Lets APPEND use `max_append_literal` (after login) or not.
    pub fn allow_append(&mut self, allowed: bool) {
        self.append_allowed = allowed;
    }

    /// Adds bytes just read from the socket. Bytes being discarded are
    /// dropped at once, and an over-long partial line is refused here so
    /// that it is never buffered.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.run_discard();
        if self.discard == Discard::Off
            && self.literal_left.is_none()
            && self.pending_too_long.is_none()
            && self.find_lf().is_none()
            && self.partial_line_too_long()
        {
            let tag = self.reject_partial_line(true);
            self.pending_too_long = Some(tag);
        }
    }

    /// The next complete command, continuation request or refusal.
    pub fn next_command(&mut self) -> FrameEvent {
        if let Some(tag) = self.pending_too_long.take() {
            return rejected(tag, FrameError::LineTooLong);
        }
        self.run_discard();
        match self.discard {
            Discard::Off => {}
            Discard::GivenUp => return FrameEvent::LiteralTooLargeToSkip,
            _ => return FrameEvent::Incomplete,
        }
        loop {
            if let Some(left) = self.literal_left {
                let take = left.min((self.buf.len() - self.scan) as u64);
                // `take` is at most the buffered length, so it fits in usize.
                self.scan += take as usize;
                if take < left {
                    self.literal_left = Some(left - take);
                    return FrameEvent::Incomplete;
                }
                self.literal_left = None;
                self.line_start = self.scan;
                continue;
            }
            let Some(lf) = self.find_lf() else {
                if self.partial_line_too_long() {
                    let tag = self.reject_partial_line(true);
                    return rejected(tag, FrameError::LineTooLong);
                }
                return FrameEvent::Incomplete;
            };
            if let Some(event) = self.end_of_line(lf) {
                return event;
            }
        }
    }

    /// Handles a line part ending with the LF at `lf`: completes the
    /// command, enters a literal, or refuses. `None` means go on scanning.
    fn end_of_line(&mut self, lf: usize) -> Option<FrameEvent> {
        let content_end = strip_cr(&self.buf, self.line_start, lf);
        let part_len = content_end - self.line_start;
        let suffix = literal_suffix(&self.buf[self.line_start..content_end]);
        let tag = tag_of(&self.buf[self.start..]);
        if self.line_bytes + part_len > self.limits.max_line {
            self.consume(lf + 1);
            if let Suffix::Literal { size, sync: false } = suffix {
                self.start_discard(Discard::literal(size, self.max_skip));
            }
            return Some(rejected(tag, FrameError::LineTooLong));
        }
        if self.line_start == self.start {
            self.append = self.append_allowed && is_append(&self.buf[self.start..content_end]);
        }
        match suffix {
            Suffix::None => {
                let command = self.buf[self.start..=lf].to_vec();
                self.consume(lf + 1);
                Some(FrameEvent::Command(command))
            }
            Suffix::Bad => {
                self.consume(lf + 1);
                Some(rejected(tag, FrameError::BadLiteral))
            }
            Suffix::Literal { size, sync } => {
                let (limit, total) = if self.append {
                    let l = self.limits.max_append_literal;
                    (l, l.saturating_add(self.limits.max_literal))
                } else {
                    let l = self.limits.max_literal;
                    (l, l.saturating_mul(4))
                };
                let room = total.saturating_sub(self.literal_bytes);
                if size > limit || size > room {
                    self.consume(lf + 1);
                    if !sync {
                        self.start_discard(Discard::literal(size, self.max_skip));
                    }
                    let limit = limit.min(room);
                    return Some(rejected(tag, FrameError::LiteralTooLarge { size, limit }));
                }
                self.line_bytes += part_len;
                self.literal_bytes += size;
                self.scan = lf + 1;
                self.literal_left = Some(size);
                sync.then_some(FrameEvent::NeedContinuation { size })
            }
        }
    }

    /// One raw CRLF-terminated line (AUTHENTICATE responses, IDLE's DONE).
    /// Call it between commands; a partly framed command is re-read as lines.
    pub fn next_line(&mut self) -> LineEvent {
        if self.pending_too_long.take().is_some() {
            if let Discard::Line {
                follow_literals, ..
            } = &mut self.discard
            {
                *follow_literals = false;
            }
            return LineEvent::TooLong;
        }
        self.run_discard();
        if self.discard != Discard::Off {
            return LineEvent::Incomplete;
        }
        if self.literal_left.is_some() || self.line_start != self.start {
            self.reset_command();
        }
        let Some(lf) = self.find_lf() else {
            if self.partial_line_too_long() {
                self.reject_partial_line(false);
                return LineEvent::TooLong;
            }
            return LineEvent::Incomplete;
        };
        let content_end = strip_cr(&self.buf, self.start, lf);
        let line = (content_end - self.start <= self.limits.max_line)
            .then(|| self.buf[self.start..content_end].to_vec());
        self.consume(lf + 1);
        line.map_or(LineEvent::TooLong, LineEvent::Line)
    }

    /// Forgets every buffered byte and any refusal in progress.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.discard = Discard::Off;
        self.pending_too_long = None;
        self.reset_command();
    }

    /// Bytes currently held (consumed bytes not yet compacted away count
    /// too).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Finds the next LF of the current line part, remembering how far the
    /// search went so no byte is scanned twice.
    fn find_lf(&mut self) -> Option<usize> {
        match self.buf[self.scan..].iter().position(|&b| b == b'\n') {
            Some(p) => {
                self.scan += p;
                Some(self.scan)
            }
            None => {
                self.scan = self.buf.len();
                None
            }
        }
    }

    /// Whether the unterminated current line part is already over the
    /// limit (one byte of slack for a CR whose LF has not arrived).
    fn partial_line_too_long(&self) -> bool {
        self.line_bytes + (self.buf.len() - self.line_start) > self.limits.max_line + 1
    }

    /// Refuses the current command because of an over-long unterminated
    /// line: drops it and discards up to the end of that line.
    fn reject_partial_line(&mut self, follow_literals: bool) -> Option<Tag> {
        let tag = tag_of(&self.buf[self.start..]);
        let mut tail = Vec::new();
        push_tail(&mut tail, &self.buf[self.line_start..]);
        let end = self.buf.len();
        self.consume(end);
        self.start_discard(Discard::Line {
            tail,
            follow_literals,
        });
        tag
    }

    fn start_discard(&mut self, discard: Discard) {
        self.discard = discard;
        self.run_discard();
    }

    /// Drops buffered bytes that belong to a refused command.
    fn run_discard(&mut self) {
        let max_skip = self.max_skip;
        loop {
            let data = &self.buf[self.start..];
            match &mut self.discard {
                Discard::Off => return,
                Discard::GivenUp => {
                    let end = self.buf.len();
                    self.consume(end);
                    return;
                }
                Discard::Literal { left } => {
                    let take = (*left).min(data.len() as u64);
                    *left -= take;
                    let done = *left == 0;
                    // `take` is at most the buffered length.
                    self.consume(self.start + take as usize);
                    if !done {
                        return;
                    }
                    self.discard = Discard::Line {
                        tail: Vec::new(),
                        follow_literals: true,
                    };
                }
                Discard::Line {
                    tail,
                    follow_literals,
                } => match data.iter().position(|&b| b == b'\n') {
                    None => {
                        push_tail(tail, data);
                        let end = self.buf.len();
                        self.consume(end);
                        return;
                    }
                    Some(p) => {
                        push_tail(tail, &data[..p]);
                        if tail.last() == Some(&b'\r') {
                            tail.pop();
                        }
                        let next = match literal_suffix(tail) {
                            Suffix::Literal { size, sync: false } if *follow_literals => {
                                Discard::literal(size, max_skip)
                            }
                            _ => Discard::Off,
                        };
                        self.discard = next;
                        self.consume(self.start + p + 1);
                    }
                },
            }
        }
    }

    /// Marks everything before `end` as consumed and starts a new command.
    fn consume(&mut self, end: usize) {
        self.start = end;
        self.reset_command();
        if self.start == self.buf.len() {
            self.buf.clear();
            self.buf.shrink_to(KEEP_CAPACITY);
            self.start = 0;
            self.reset_command();
        } else if self.start >= COMPACT_AT && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
            self.reset_command();
        }
    }

    fn reset_command(&mut self) {
        self.line_start = self.start;
        self.scan = self.start;
        self.literal_left = None;
        self.line_bytes = 0;
        self.literal_bytes = 0;
        self.append = false;
    }
}

fn rejected(tag: Option<Tag>, reason: FrameError) -> FrameEvent {
    FrameEvent::Rejected { tag, reason }
}

/// The end of a line's content: `lf`, or one before it for CRLF.
fn strip_cr(buf: &[u8], line_start: usize, lf: usize) -> usize {
    if lf > line_start && buf.get(lf - 1) == Some(&b'\r') {
        lf - 1
    } else {
        lf
    }
}

/// Appends `data` to `tail`, keeping only the last `TAIL_KEEP` bytes.
fn push_tail(tail: &mut Vec<u8>, data: &[u8]) {
    let keep = &data[data.len().saturating_sub(TAIL_KEEP)..];
    tail.extend_from_slice(keep);
    let excess = tail.len().saturating_sub(TAIL_KEEP);
    tail.drain(..excess);
}

/// The tag at the start of a command, when it is valid and followed by SP.
fn tag_of(line: &[u8]) -> Option<Tag> {
    let len = line.iter().take_while(|&&b| is_tag_char(b)).count();
    if line.get(len) == Some(&b' ') {
        Tag::from_bytes(&line[..len])
    } else {
        None
    }
}

/// Whether the word after the tag is APPEND (case-insensitive).
fn is_append(first_line: &[u8]) -> bool {
    let Some(sp) = first_line.iter().position(|&b| b == b' ') else {
        return false;
    };
    let rest = &first_line[sp + 1..];
    let word_len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    rest[..word_len].eq_ignore_ascii_case(b"APPEND") && rest.get(word_len) == Some(&b' ')
}

/// `literal` / `literal8` announcement at the end of a line's content:
/// `["~"] "{" number ["+"] "}"`.
fn literal_suffix(line: &[u8]) -> Suffix {
    let Some(inner_end) = line.len().checked_sub(1).filter(|&e| line[e] == b'}') else {
        return Suffix::None;
    };
    let Some(open) = line[..inner_end].iter().rposition(|&b| b == b'{') else {
        return Suffix::None;
    };
    let inner = &line[open + 1..inner_end];
    let (digits, sync) = match inner.strip_suffix(b"+") {
        Some(d) => (d, false),
        None => (inner, true),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Suffix::None;
    }
    let size = digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    match size {
        Some(size) if !digits.is_empty() => Suffix::Literal { size, sync },
        _ => Suffix::Bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_line: usize, max_literal: u64, max_append_literal: u64) -> FramingLimits {
        FramingLimits {
            max_line,
            max_literal,
            max_append_literal,
        }
    }

    /// Every event up to (not including) the next `Incomplete`, or up to
    /// `LiteralTooLargeToSkip`, which repeats forever.
    fn drain(f: &mut Framer) -> Vec<FrameEvent> {
        let mut out = Vec::new();
        loop {
            match f.next_command() {
                FrameEvent::Incomplete => return out,
                FrameEvent::LiteralTooLargeToSkip => {
                    out.push(FrameEvent::LiteralTooLargeToSkip);
                    return out;
                }
                e => out.push(e),
            }
        }
    }

    fn cmd(s: &[u8]) -> FrameEvent {
        FrameEvent::Command(s.to_vec())
    }

    fn tag(s: &str) -> Option<Tag> {
        Tag::new(s)
    }

    #[test]
    fn suffixes() {
        assert_eq!(
            literal_suffix(b"a LOGIN {5}"),
            Suffix::Literal {
                size: 5,
                sync: true
            }
        );
        assert_eq!(
            literal_suffix(b"x ~{7+}"),
            Suffix::Literal {
                size: 7,
                sync: false
            }
        );
        assert_eq!(literal_suffix(b"a LOGIN foo}"), Suffix::None);
        assert_eq!(literal_suffix(b"a LOGIN {x}"), Suffix::None);
        assert_eq!(literal_suffix(b"a {}"), Suffix::Bad);
        assert_eq!(literal_suffix(b"a {+}"), Suffix::Bad);
        assert_eq!(literal_suffix(b"a {99999999999999999999999}"), Suffix::Bad);
        assert_eq!(literal_suffix(b"}"), Suffix::None);
        assert_eq!(literal_suffix(b""), Suffix::None);
    }

    #[test]
    fn a_large_literal_does_not_stay_allocated() {
        let mut f = Framer::new(limits(1024, 1 << 20, 4 << 20));
        f.allow_append(true);
        let message = vec![b'x'; 2 << 20];
        f.push(format!("a APPEND INBOX {{{}+}}\r\n", message.len()).as_bytes());
        f.push(&message);
        f.push(b"\r\n");
        assert_eq!(drain(&mut f).len(), 1);
        assert_eq!(f.buffered(), 0);
        assert!(f.buf.capacity() <= KEEP_CAPACITY, "{}", f.buf.capacity());
    }

    #[test]
    fn two_literals_split_at_every_position() {
        let data = b"a1 LOGIN {5}\r\nh\r\n\0o {7+}\r\nse{3}\r\n\r\nb2 NOOP\r\n";
        let first = b"a1 LOGIN {5}\r\nh\r\n\0o {7+}\r\nse{3}\r\n\r\n";
        for split in 0..=data.len() {
            let mut f = Framer::new(FramingLimits::default());
            f.push(&data[..split]);
            let mut events = drain(&mut f);
            f.push(&data[split..]);
            events.extend(drain(&mut f));
            assert_eq!(
                events,
                vec![
                    FrameEvent::NeedContinuation { size: 5 },
                    cmd(first),
                    cmd(b"b2 NOOP\r\n")
                ],
                "split at {split}"
            );
            assert_eq!(f.buffered(), 0);
        }
        let mut f = Framer::new(FramingLimits::default());
        let mut events = Vec::new();
        for b in data {
            f.push(&[*b]);
            events.extend(drain(&mut f));
        }
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn pipelined_commands_and_bare_lf() {
        let mut f = Framer::new(FramingLimits::default());
        f.push(b"a NOOP\r\nb LOGIN {1+}\r\nx y\nc CAPABILITY\r\nd SEL");
        assert_eq!(
            drain(&mut f),
            vec![
                cmd(b"a NOOP\r\n"),
                cmd(b"b LOGIN {1+}\r\nx y\n"),
                cmd(b"c CAPABILITY\r\n")
            ]
        );
        f.push(b"ECT INBOX\r\n");
        assert_eq!(drain(&mut f), vec![cmd(b"d SELECT INBOX\r\n")]);
    }

    #[test]
    fn oversize_sync_literal_is_refused() {
        let mut f = Framer::new(limits(1000, 10, 100));
        f.push(b"a LOGIN {11}\r\nb NOOP\r\n");
        assert_eq!(
            drain(&mut f),
            vec![
                FrameEvent::Rejected {
                    tag: tag("a"),
                    reason: FrameError::LiteralTooLarge {
                        size: 11,
                        limit: 10
                    }
                },
                cmd(b"b NOOP\r\n")
            ]
        );
        // Before login APPEND has no larger limit.
        f.push(b"c append {50}\r\n");
        assert!(matches!(drain(&mut f)[..], [FrameEvent::Rejected { .. }]));
        // After it, APPEND uses the larger limit, also when the literal is the mailbox.
        f.allow_append(true);
        f.push(b"c append {50}\r\n");
        assert_eq!(
            drain(&mut f),
            vec![FrameEvent::NeedContinuation { size: 50 }]
        );
        f.clear();
        f.push(b"c APPEND x {101}\r\n");
        assert!(matches!(
            drain(&mut f).as_slice(),
            [FrameEvent::Rejected {
                reason: FrameError::LiteralTooLarge {
                    size: 101,
                    limit: 100
                },
                ..
            }]
        ));
    }

    /// A framer that skips refused literals of up to `max_skip` octets.
    fn skipping(limits: FramingLimits, max_skip: u64) -> Framer {
        let mut f = Framer::new(limits);
        f.set_max_skip(max_skip);
        f
    }

    /// The events of `data` pushed in two parts split at `split`, up to
    /// the first `LiteralTooLargeToSkip` (which repeats).
    fn split_events(mut f: Framer, data: &[u8], split: usize) -> Vec<FrameEvent> {
        f.push(&data[..split]);
        let mut events = drain(&mut f);
        if events.last() != Some(&FrameEvent::LiteralTooLargeToSkip) {
            f.push(&data[split..]);
            events.extend(drain(&mut f));
        }
        events
    }

    #[test]
    fn total_literal_size_is_capped() {
        let mut f = skipping(limits(1000, 10, 100), 10);
        f.push(b"a SEARCH TEXT {10+}\r\n0123456789 TEXT {10+}\r\n0123456789 TEXT {10+}\r\n");
        f.push(b"0123456789 TEXT {10+}\r\n0123456789 TEXT {10+}\r\n0123456789\r\nb NOOP\r\n");
        assert_eq!(
            drain(&mut f),
            vec![
                FrameEvent::Rejected {
                    tag: tag("a"),
                    reason: FrameError::LiteralTooLarge { size: 10, limit: 0 }
                },
                cmd(b"b NOOP\r\n")
            ]
        );
    }

    #[test]
    fn oversize_nonsync_literal_is_skipped_at_every_split() {
        let mut data = b"a LOGIN {20+}\r\n".to_vec();
        data.extend_from_slice(b"\r\nb NOOP\r\n{3+}\r\nxyz\n");
        data.extend_from_slice(b" {3+}\r\na\nb TEXT {2+}\r\n\r\n\r\nb NOOP\r\n");
        let refused = FrameEvent::Rejected {
            tag: tag("a"),
            reason: FrameError::LiteralTooLarge {
                size: 20,
                limit: 10,
            },
        };
        for split in 0..=data.len() {
            let f = skipping(limits(1000, 10, 100), 20);
            let skipped = vec![refused.clone(), cmd(b"b NOOP\r\n")];
            assert_eq!(split_events(f, &data, split), skipped, "split at {split}");
            // One octet more than may be skipped: the framer gives up.
            let f = skipping(limits(1000, 10, 100), 19);
            let given_up = vec![refused.clone(), FrameEvent::LiteralTooLargeToSkip];
            assert_eq!(split_events(f, &data, split), given_up, "split at {split}");
        }
    }

    #[test]
    fn overlong_line_is_refused_and_skipped() {
        let mut data = b"t1 FETCH ".to_vec();
        data.extend(std::iter::repeat_n(b'1', 200));
        data.extend_from_slice(b" {5+}\r\n\r\n\r\n\r\nb NOOP\r\n");
        let refused = FrameEvent::Rejected {
            tag: tag("t1"),
            reason: FrameError::LineTooLong,
        };
        for split in 0..=data.len() {
            let f = skipping(limits(100, 10, 100), 5);
            let skipped = vec![refused.clone(), cmd(b"b NOOP\r\n")];
            assert_eq!(split_events(f, &data, split), skipped, "split at {split}");
            // The literal announced at the end of a line refused for its
            // length is held to the same bound as any other.
            let f = skipping(limits(100, 10, 100), 4);
            let given_up = vec![refused.clone(), FrameEvent::LiteralTooLargeToSkip];
            assert_eq!(split_events(f, &data, split), given_up, "split at {split}");
        }
    }

    #[test]
    fn line_parts_are_capped_together() {
        let mut f = Framer::new(limits(30, 10, 100));
        f.push(b"a LOGIN {1+}\r\nx {1+}\r\ny aaaaaaaaaaaaaaaaaaaaaa\r\nb NOOP\r\n");
        assert_eq!(
            drain(&mut f),
            vec![
                FrameEvent::Rejected {
                    tag: tag("a"),
                    reason: FrameError::LineTooLong
                },
                cmd(b"b NOOP\r\n")
            ]
        );
    }

    #[test]
    fn garbage_without_crlf_stays_bounded() {
        let max_line = 65536;
        let mut f = Framer::new(limits(max_line, 65536, 1 << 26));
        let chunk = vec![b'x'; 64 * 1024];
        let mut rejections = 0;
        for _ in 0..160 {
            f.push(&chunk);
            for e in drain(&mut f) {
                assert!(matches!(
                    e,
                    FrameEvent::Rejected {
                        tag: None,
                        reason: FrameError::LineTooLong
                    }
                ));
                rejections += 1;
            }
            assert!(
                f.buffered() <= max_line + chunk.len() + 2,
                "{}",
                f.buffered()
            );
        }
        // Even without calling next_command between pushes.
        let mut g = Framer::new(limits(max_line, 65536, 1 << 26));
        for _ in 0..160 {
            g.push(&chunk);
            assert!(g.buffered() <= max_line + chunk.len() + 2);
        }
        assert_eq!(rejections, 1);
        f.push(b"\r\nb NOOP\r\n");
        assert_eq!(drain(&mut f), vec![cmd(b"b NOOP\r\n")]);
        g.push(b"\r\nb NOOP\r\n");
        assert_eq!(drain(&mut g).len(), 2);
    }

    #[test]
    fn bad_literal() {
        let mut f = Framer::new(FramingLimits::default());
        f.push(b"a LOGIN {99999999999999999999999}\r\nb NOOP\r\n");
        assert_eq!(
            drain(&mut f),
            vec![
                FrameEvent::Rejected {
                    tag: tag("a"),
                    reason: FrameError::BadLiteral
                },
                cmd(b"b NOOP\r\n")
            ]
        );
    }

    #[test]
    fn raw_lines_and_clear() {
        let mut f = Framer::new(limits(10, 10, 10));
        f.push(b"a IDLE\r\nDONE\r\nb NOOP\r\nx");
        assert_eq!(f.next_command(), cmd(b"a IDLE\r\n"));
        assert_eq!(f.next_line(), LineEvent::Line(b"DONE".to_vec()));
        assert_eq!(f.next_command(), cmd(b"b NOOP\r\n"));
        assert_eq!(f.next_line(), LineEvent::Incomplete);
        f.push(b"0123456789012 {3+}\r\nc NOOP\r\n");
        assert_eq!(f.next_line(), LineEvent::TooLong);
        assert_eq!(f.next_line(), LineEvent::Line(b"c NOOP".to_vec()));
        f.push(b"d STARTTLS\r\ne LOGIN x y\r\n");
        assert_eq!(f.next_command(), cmd(b"d STARTTLS\r\n"));
        f.clear();
        assert_eq!(f.buffered(), 0);
        assert_eq!(f.next_command(), FrameEvent::Incomplete);
        f.push(b"=\r\n");
        assert_eq!(f.next_line(), LineEvent::Line(b"=".to_vec()));
    }

    #[test]
    fn long_lines_in_small_pieces_are_linear() {
        let mut line = b"a UID FETCH 1".to_vec();
        let mut n = 2u32;
        while line.len() < 64 * 1024 - 20 {
            line.extend_from_slice(format!(",{n}").as_bytes());
            n += 1;
        }
        line.extend_from_slice(b" (FLAGS)\r\n");
        let mut f = Framer::new(FramingLimits::default());
        let started = std::time::Instant::now();
        let mut events = Vec::new();
        for _ in 0..20 {
            for piece in line.chunks(1024) {
                f.push(piece);
                events.extend(drain(&mut f));
            }
        }
        assert_eq!(events.len(), 20);
        assert!(
            events
                .iter()
                .all(|e| *e == FrameEvent::Command(line.clone()))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn random_streams_never_panic_and_stay_bounded() {
        let alphabet: &[&[u8]] = &[
            b"{",
            b"}",
            b"+",
            b"~",
            b"\r\n",
            b"\n",
            b"\r",
            b"1",
            b"9",
            b"0",
            b" ",
            b"a",
            b"APPEND ",
            b"{3+}\r\n",
            b"{2}\r\n",
            b"{999+}\r\n",
            b"x NOOP\r\n",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let mut f = Framer::new(limits(64, 32, 128));
            for _ in 0..200 {
                let mut chunk = Vec::new();
                for _ in 0..(next() % 12) {
                    chunk.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
                f.push(&chunk);
                if next() % 5 == 0 {
                    let _ = f.next_line();
                } else {
                    let _ = drain(&mut f);
                }
                assert!(
                    f.buffered() <= 64 + 128 + 32 + chunk.len() + 64,
                    "{}",
                    f.buffered()
                );
            }
        }
    }
}
