//! The client byte stream as the session sees it: arbitrary bytes pushed
//! into the framer in arbitrary chunks, every framed command parsed.
//! Checks: no panic, the framer never holds more than its limits allow,
//! and raw-line reads (AUTHENTICATE, IDLE) interleave safely.
#![no_main]

use letterbox::proto::framing::{FrameEvent, Framer, FramingLimits, LineEvent};
use letterbox::proto::parse::parse_command;
use libfuzzer_sys::fuzz_target;

/// Small limits so the fuzzer reaches the refusal paths quickly.
const LIMITS: FramingLimits = FramingLimits {
    max_line: 256,
    max_literal: 512,
    max_append_literal: 4096,
};

/// Whatever one push can leave behind: a line and the literals of one
/// command within limits, plus the chunk itself.
const MAX_HELD: usize = 256 + 4096 + 512 + 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut framer = Framer::new(LIMITS);
    // As after login (APPEND's limit, refused literals skipped) or before.
    let logged_in = control & 1 == 1;
    framer.allow_append(logged_in);
    framer.set_max_skip(if logged_in { LIMITS.max_append_literal } else { 0 });
    // Chunk size from the first byte: 1..=64, so boundaries land everywhere.
    let chunk = usize::from(control >> 2) + 1;
    for (n, piece) in rest.chunks(chunk).enumerate() {
        framer.push(piece);
        // Now and then read raw lines instead, as AUTHENTICATE and IDLE do.
        let raw_lines = control & 2 == 2 && n % 3 == 0;
        loop {
            if raw_lines {
                match framer.next_line() {
                    LineEvent::Line(line) => assert!(line.len() <= LIMITS.max_line),
                    LineEvent::TooLong => {}
                    LineEvent::Incomplete => break,
                }
                continue;
            }
            match framer.next_command() {
                FrameEvent::Command(command) => {
                    let _ = parse_command(&command);
                }
                FrameEvent::NeedContinuation { size } => {
                    assert!(size <= LIMITS.max_append_literal);
                }
                FrameEvent::Rejected { .. } => {}
                // The session would close here.
                FrameEvent::LiteralTooLargeToSkip => return,
                FrameEvent::Incomplete => break,
            }
        }
        assert!(
            framer.buffered() <= MAX_HELD,
            "framer holds {} bytes",
            framer.buffered()
        );
    }
});
