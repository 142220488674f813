//! Deterministic, realistic test mail: threads, multipart/alternative,
//! attachments, RFC 2047 encoded names and subjects, quoted-printable.
//! The same seed gives the same octets, so both servers get identical data.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Words of the bodies and subjects. SEARCH scenarios look for
/// [`RARE_WORD`] (about 1 message in 1,000) and [`COMMON_WORD`] (about 1 in 20).
const WORDS: &[&str] = &[
    "the",
    "meeting",
    "project",
    "report",
    "budget",
    "please",
    "review",
    "attached",
    "draft",
    "team",
    "schedule",
    "update",
    "client",
    "invoice",
    "contract",
    "deadline",
    "release",
    "server",
    "backup",
    "holiday",
    "office",
    "lunch",
    "agenda",
    "notes",
    "proposal",
    "design",
    "feedback",
    "question",
    "answer",
    "thanks",
    "regards",
    "monday",
    "friday",
    "morning",
    "evening",
    "travel",
    "flight",
    "hotel",
    "booking",
    "payment",
    "account",
    "password",
    "security",
    "network",
    "printer",
    "coffee",
    "kitchen",
    "parking",
    "weekend",
    "summer",
    "winter",
    "customer",
    "support",
    "ticket",
    "issue",
    "fix",
    "version",
    "install",
    "upgrade",
    "database",
    "migration",
    "training",
    "workshop",
    "conference",
    "slides",
    "video",
    "call",
];
pub const COMMON_WORD: &str = "quarterly";
pub const RARE_WORD: &str = "zanzibarite";
pub const SUBJECT_WORD: &str = "budget";
pub const FROM_NAME: &str = "Müller";

const PEOPLE: &[(&str, &str)] = &[
    ("Alice Example", "alice@example.com"),
    ("Bob Builder", "bob@builder.example"),
    ("Jürgen Müller", "juergen@example.de"),
    ("山田太郎", "yamada@example.jp"),
    ("Chloé Durand", "chloe@example.fr"),
    ("Dmitri Ivanov", "dmitri@example.ru"),
    ("Support Desk", "support@helpdesk.example"),
    ("Newsletter", "news@lists.example.org"),
];

pub struct Generator {
    rng: StdRng,
    count: usize,
    /// (Message-ID, subject) of earlier messages, for replies.
    threads: Vec<(String, String)>,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            count: 0,
            threads: Vec::new(),
        }
    }

    /// The next message, CRLF line endings.
    pub fn message(&mut self) -> Vec<u8> {
        self.count += 1;
        let rng = &mut self.rng;
        let (from_name, from_addr) = PEOPLE[rng.gen_range(0..PEOPLE.len())];
        let (to_name, to_addr) = PEOPLE[rng.gen_range(0..PEOPLE.len())];
        let id = format!("<{}.{}@bench.example>", self.count, rng.r#gen::<u32>());
        let reply_to = (!self.threads.is_empty() && rng.gen_bool(0.3))
            .then(|| self.threads[rng.gen_range(0..self.threads.len())].clone());
        let subject = match &reply_to {
            Some((_, subject)) => format!("Re: {}", subject.trim_start_matches("Re: ")),
            None => sentence(rng, 3, 8),
        };
        if self.threads.len() < 5000 {
            self.threads.push((id.clone(), subject.clone()));
        }
        let day = rng.gen_range(1..=28);
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
        ][rng.gen_range(0..11)];
        let mut m = String::new();
        m += &format!("Return-Path: <{from_addr}>\r\n");
        m += &format!(
            "Received: from mx.example.net (mx.example.net [192.0.2.{}])\r\n\tby mail.example.com with ESMTPS id {:x}\r\n\tfor <{to_addr}>; {day} {month} 2026 {:02}:{:02}:{:02} +0000\r\n",
            rng.gen_range(1..255),
            rng.r#gen::<u64>(),
            rng.gen_range(0..24),
            rng.gen_range(0..60),
            rng.gen_range(0..60)
        );
        m += &format!("From: {} <{from_addr}>\r\n", header_text(from_name));
        m += &format!("To: {} <{to_addr}>\r\n", header_text(to_name));
        if rng.gen_bool(0.2) {
            m += "Cc: Team <team@example.com>, Bob Builder <bob@builder.example>\r\n";
        }
        m += &format!("Subject: {}\r\n", header_text(&subject));
        m += &format!(
            "Date: {} {day} {month} 2026 {:02}:{:02}:00 +0100\r\n",
            ["Mon", "Tue", "Wed", "Thu", "Fri"][rng.gen_range(0..5)],
            rng.gen_range(0..24),
            rng.gen_range(0..60)
        );
        m += &format!("Message-ID: {id}\r\n");
        if let Some((parent, _)) = &reply_to {
            m += &format!("In-Reply-To: {parent}\r\nReferences: {parent}\r\n");
        }
        m += "MIME-Version: 1.0\r\n";
        let text = body_text(rng);
        let kind = rng.gen_range(0..100);
        if kind < 60 {
            m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
            m += &text;
        } else if kind < 94 {
            let boundary = format!("alt-{}", rng.r#gen::<u32>());
            m += &format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>{}</p></body></html>\r\n--{boundary}--\r\n",
                quoted_printable(&text),
                text.replace("\r\n", "<br>\r\n")
            );
        } else {
            let boundary = format!("mix-{}", rng.r#gen::<u32>());
            let size = rng.gen_range(2_000..30_000);
            let data: Vec<u8> = (0..size).map(|_| rng.r#gen()).collect();
            let encoded = base64::engine::general_purpose::STANDARD.encode(data);
            let mut attachment = String::new();
            for chunk in encoded.as_bytes().chunks(76) {
                attachment += std::str::from_utf8(chunk).unwrap();
                attachment += "\r\n";
            }
            m += &format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--{boundary}\r\nContent-Type: application/pdf; name=\"report-{}.pdf\"\r\nContent-Disposition: attachment; filename=\"report-{}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attachment}--{boundary}--\r\n",
                self.count, self.count
            );
        }
        m.into_bytes()
    }
}

fn sentence(rng: &mut StdRng, min: usize, max: usize) -> String {
    let n = rng.gen_range(min..=max);
    let mut words: Vec<&str> = (0..n)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect();
    if rng.gen_ratio(1, 20) {
        words.push(COMMON_WORD);
    }
    if rng.gen_ratio(1, 1000) {
        words.push(RARE_WORD);
    }
    let mut s = words.join(" ");
    s[..1].make_ascii_uppercase();
    s
}

fn body_text(rng: &mut StdRng) -> String {
    let paragraphs = rng.gen_range(1..6);
    let mut text = String::new();
    for _ in 0..paragraphs {
        for _ in 0..rng.gen_range(1..6) {
            text += &sentence(rng, 6, 16);
            text += ".\r\n";
        }
        text += "\r\n";
    }
    text += "-- \r\nSent from a benchmark\r\n";
    text
}

/// RFC 2047 base64 encoded word for non-ASCII text, as mail clients write.
fn header_text(text: &str) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        format!("=?UTF-8?B?{encoded}?=")
    }
}

/// Quoted-printable (RFC 2045): 8-bit octets and `=` escaped, CRLF kept.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        match b {
            b'\r' | b'\n' => out.push(b as char),
            b'=' | 0x80..=0xff => out += &format!("={b:02X}"),
            _ => out.push(b as char),
        }
    }
    out
}

/// Writes `count` messages as a Maildir (cur/ with flags in the names),
/// the format both `letterbox import` and Dovecot read.
pub fn write_maildir(dir: &Path, seed: u64, count: usize) -> std::io::Result<u64> {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let mut generator = Generator::new(seed);
    let mut flags_rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut bytes = 0;
    for n in 0..count {
        let message = generator.message();
        bytes += message.len() as u64;
        let mut flags = String::new();
        if flags_rng.gen_bool(0.05) {
            flags.push('F');
        }
        if flags_rng.gen_bool(0.7) {
            flags.push('S');
        }
        // Maildir names sort by delivery time; the zero padding keeps
        // readdir-order importers and sorting ones in the same order.
        let name = format!("{:010}.M{n}P1.bench:2,{flags}", 1_700_000_000 + n);
        let mut file = std::fs::File::create(dir.join("cur").join(name))?;
        file.write_all(&message)?;
    }
    Ok(bytes)
}
