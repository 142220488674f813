//! Micro-benchmarks of the protocol layer: framing + parsing the commands
//! clients send most, and encoding the strings responses are made of.
//! `cargo bench --bench protocol`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use letterbox::proto::encode;
use letterbox::proto::framing::{FrameEvent, Framer, FramingLimits};
use letterbox::proto::parse::parse_command;
use std::hint::black_box;

/// What Thunderbird and friends send during a sync, in order.
const COMMANDS: &[&[u8]] = &[
    b"a1 UID FETCH 1:* (FLAGS)\r\n",
    b"a2 UID FETCH 1200:1300 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])\r\n",
    b"a3 UID STORE 1201,1203:1207 +FLAGS.SILENT (\\Seen)\r\n",
    b"a4 UID SEARCH CHARSET UTF-8 OR (SUBJECT \"budget\") (FROM \"alice\") UNDELETED SINCE 1-Jan-2026\r\n",
    b"a5 SELECT \"INBOX\" (CONDSTORE)\r\n",
    b"a6 APPEND \"Sent\" (\\Seen) \"22-Nov-2026 10:00:00 +0100\" {44+}\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n\r\n",
];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let total: usize = COMMANDS.iter().map(|c| c.len()).sum();
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("frame+parse sync commands", |b| {
        b.iter(|| {
            let mut framer = Framer::new(FramingLimits::default());
            framer.allow_append(true);
            for command in COMMANDS {
                framer.push(command);
                while let FrameEvent::Command(bytes) = framer.next_command() {
                    black_box(parse_command(&bytes).unwrap());
                }
            }
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let names: Vec<String> = (0..100)
        .map(|n| format!("Projects/Kunde Müller {n}/Angebote & Rechnungen"))
        .collect();
    let subjects: Vec<Vec<u8>> = (0..100)
        .map(|n| format!("Re: quarterly \"budget\" review #{n} \\ draft").into_bytes())
        .collect();
    let mut group = c.benchmark_group("encode");
    group.bench_function("100 mailbox names (modified UTF-7)", |b| {
        let mut out = Vec::with_capacity(8192);
        b.iter(|| {
            out.clear();
            for name in &names {
                encode::mailbox(&mut out, name, false);
            }
            black_box(&out);
        })
    });
    group.bench_function("100 quoted strings", |b| {
        let mut out = Vec::with_capacity(8192);
        b.iter(|| {
            out.clear();
            for subject in &subjects {
                encode::string(&mut out, subject);
            }
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
