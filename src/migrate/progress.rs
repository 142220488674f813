//! Progress of a copy: on a terminal one line redrawn in place (messages
//! and bytes of the folder, rate, time left); otherwise plain log lines,
//! one every few seconds, for a log file or journald.

use std::io::Write;
use std::time::{Duration, Instant};

pub struct Progress {
    terminal: bool,
    folder: String,
    total_messages: usize,
    total_bytes: u64,
    messages: usize,
    bytes: u64,
    started: Instant,
    last_drawn: Option<Instant>,
}

/// A terminal line is redrawn at most this often...
const REDRAW: Duration = Duration::from_millis(200);
/// ...and a log line written at most this often.
const LOG_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub fn new(terminal: bool) -> Progress {
        Progress {
            terminal,
            folder: String::new(),
            total_messages: 0,
            total_bytes: 0,
            messages: 0,
            bytes: 0,
            started: Instant::now(),
            last_drawn: None,
        }
    }

    /// A folder starts: `messages` of `bytes` to copy.
    pub fn folder(&mut self, name: &str, messages: usize, bytes: u64) {
        *self = Progress {
            folder: name.to_owned(),
            total_messages: messages,
            total_bytes: bytes,
            ..Progress::new(self.terminal)
        };
        self.draw(true);
    }

    /// `messages` more of `bytes` were copied.
    pub fn advance(&mut self, messages: usize, bytes: u64) {
        self.messages += messages;
        self.bytes += bytes;
        self.draw(false);
    }

    /// The folder is done (or failed): its final line.
    pub fn finish(&mut self, outcome: &str) {
        let line = format!("{}: {outcome}", self.folder);
        match self.terminal {
            true => eprintln!("\r\x1b[K{line}"),
            false => println!("{line}"),
        }
    }

    fn draw(&mut self, force: bool) {
        let now = Instant::now();
        let every = if self.terminal { REDRAW } else { LOG_EVERY };
        if !force && self.last_drawn.is_some_and(|t| now - t < every) {
            return;
        }
        self.last_drawn = Some(now);
        let line = self.line(now - self.started);
        if self.terminal {
            eprint!("\r\x1b[K{line}");
            let _ = std::io::stderr().flush();
        } else {
            println!("{line}");
        }
    }

    fn line(&self, elapsed: Duration) -> String {
        let rate = self.bytes as f64 / elapsed.as_secs_f64().max(0.001);
        let left = self.total_bytes.saturating_sub(self.bytes) as f64;
        let eta = match rate > 0.0 && self.messages > 0 {
            true => format_duration(Duration::from_secs_f64(left / rate)),
            false => "?".to_owned(),
        };
        format!(
            "{}: {}/{} messages, {}/{}, {}/s, {} left",
            self.folder,
            self.messages,
            self.total_messages,
            size(self.bytes),
            size(self.total_bytes),
            size(rate as u64),
            eta
        )
    }
}

fn size(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / MIB),
    }
}

fn format_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_counts_rate_and_time_left() {
        let mut progress = Progress::new(false);
        progress.folder = "INBOX".into();
        progress.total_messages = 10;
        progress.total_bytes = 4 * 1024 * 1024;
        progress.messages = 5;
        progress.bytes = 1024 * 1024;
        assert_eq!(
            progress.line(Duration::from_secs(2)),
            "INBOX: 5/10 messages, 1.0 MiB/4.0 MiB, 512.0 KiB/s, 6s left"
        );
        progress.messages = 0;
        progress.bytes = 0;
        assert!(
            progress
                .line(Duration::from_secs(1))
                .ends_with("0 B/s, ? left")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_secs(59)), "59s");
        assert_eq!(format_duration(Duration::from_secs(61)), "1m01s");
        assert_eq!(format_duration(Duration::from_secs(7322)), "2h02m");
    }
}
