#!/usr/bin/env python3
"""SORT and THREAD answers of letterbox and Dovecot side by side on the
same messages.

Starts Debian's Dovecot (dovecot-imapd) and letterbox on loopback in a
temporary directory, APPENDs the same messages with the same INTERNALDATE
to both (the shared corpus in ../shared/corpus plus generated messages with
tricky subjects, addresses and dates), runs a list of SORT commands on each
and prints every answer that differs. Exit status 1 when any does.

    cargo build -q && python3 bench/sort_compare.py [path/to/letterbox]

Differences are expected where the RFC and Dovecot part: Dovecot compares
non-ASCII text with i;unicode-casemap (titlecase), RFC 5256 asks for
i;ascii-casemap; see docs/benchmarks.md for the ones found and why.
"""

import os
import random
import sys
import tempfile

from peers import Peers, corpus, letterbox_binary

SORTS = [
    "(ARRIVAL)", "(DATE)", "(REVERSE DATE)", "(SIZE)", "(SUBJECT)",
    "(REVERSE SUBJECT)", "(FROM)", "(TO)", "(CC)", "(DISPLAYFROM)",
    "(DISPLAYTO)", "(SUBJECT DATE)", "(FROM REVERSE SIZE)",
    "(REVERSE ARRIVAL SUBJECT)",
]

SUBJECTS = [
    "Lunch", "Re: Lunch", "RE:lunch", "re : LUNCH", "Fwd: Lunch", "FW: lunch",
    "fw[bar]:Lunch", "re [foo]: Lunch", "Re[2]: Lunch", "Re: Re: re: Lunch",
    "Re [2] [3]: Lunch", "Re Lunch", "Reply: Lunch", "[list] Re: Lunch",
    "[a][b] Re: Lunch", "[list] Lunch", "Re: [list] Lunch", "[x]",
    "[a] [b]", "Re: [x]", "[foo x", "[] x", "Lunch (fwd)",
    "Lunch (FWD) (fwd)", "(fwd)", "[fwd: Lunch]", "[Fwd: Re: Lunch]",
    "Re: [fwd: Lunch] (fwd)", "[fwd: Lunch", "[fwd:]", "AW: Lunch",
    "SV: Re: Lunch", "=?UTF-8?Q?Re=3A_Gr=C3=BC=C3=9Fe?=", "  spaced\t out  ",
    "", "Agenda", "agenda", "zebra", "_under", "123",
]

ADDRESSES = [
    "Zed <zed@example.org>", "amy@example.org", "\"Carl\" <zed@example.org>",
    "=?UTF-8?Q?Bea?= <Yves@example.org>", "<user (comment)@ (c) example.org>",
    "undisclosed-recipients:;", "Amy <AMY@example.org>", "nobody",
    "\"\" <empty@example.org>", "Group: a@x.org, b@x.org;",
]

THREADS = ["ORDEREDSUBJECT", "REFERENCES", "REFS"]

DATES = [
    "Mon, 5 Jan 2026 09:00:00 +0100", "Mon, 5 Jan 2026 07:30:00 -0100",
    "Sun, 4 Jan 2026 23:00:00 +0000", "broken", None,
    "5 Jan 2026 08:00 +0000", "Tue, 06 Jan 2026 00:00:00 +1400",
]


def generated(count, seed=7):
    rng = random.Random(seed)
    out = []
    for n in range(count):
        headers = []
        if rng.random() < 0.9:
            headers.append("From: " + rng.choice(ADDRESSES))
        if rng.random() < 0.8:
            headers.append("To: " + rng.choice(ADDRESSES))
        if rng.random() < 0.4:
            headers.append("Cc: " + rng.choice(ADDRESSES))
        if rng.random() < 0.95:
            headers.append("Subject: " + rng.choice(SUBJECTS))
        date = rng.choice(DATES)
        if date:
            headers.append("Date: " + date)
        headers.extend(thread_headers(rng, n))
        body = "x" * rng.randrange(1, 400)
        out.append(("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode())
    return out


def thread_headers(rng, n):
    """Message-ID, References and In-Reply-To of generated message `n`:
    chains to earlier messages, missing parents, duplicate and absent ids,
    loops and references in the wrong order."""
    headers = []
    roll = rng.random()
    if roll < 0.05 and n > 0:
        headers.append(f"Message-ID: <m{rng.randrange(n)}@x>")  # duplicate
    elif roll < 0.92:
        headers.append(f"Message-ID: <m{n}@x>")
    earlier = lambda: f"<m{rng.randrange(max(n, 1))}@x>"
    kind = rng.random()
    if kind < 0.35 and n > 0:
        chain = sorted({rng.randrange(n) for _ in range(rng.randrange(1, 4))})
        refs = [f"<m{k}@x>" for k in chain]
        if rng.random() < 0.2:
            refs.insert(0, f"<gone{rng.randrange(20)}@x>")
        if rng.random() < 0.1:
            refs.reverse()
        if rng.random() < 0.05:
            refs.append(f"<m{n}@x>")  # a loop through itself
        headers.append("References: " + " ".join(refs))
    elif kind < 0.5 and n > 0:
        headers.append(f"In-Reply-To: {earlier()} (sent by someone)")
    elif kind < 0.55:
        headers.append(f"In-Reply-To: <gone{rng.randrange(20)}@x>")
    return headers


def answer(imap, verb, command):
    typ, data = imap.uid(verb, *command.split(" ", 2))
    return typ, (data[0] or b"").decode()


def main():
    messages = corpus() + generated(300)
    work = tempfile.mkdtemp(prefix="sort-compare-")
    os.chmod(work, 0o755)
    differences = 0
    with Peers(letterbox_binary(sys.argv), work) as peers:
        ours, peer = peers.fill(messages)
        commands = [("SORT", keys) for keys in SORTS] + [("THREAD", a) for a in THREADS]
        for verb, first in commands:
            for criteria in ["ALL", "UNSEEN SUBJECT lunch"]:
                command = f"{first} UTF-8 {criteria}"
                a, b = answer(ours, verb, command), answer(peer, verb, command)
                same = a == b
                differences += not same
                print(f"{'same' if same else 'DIFFERENT'}  UID {verb} {command}")
                if not same:
                    show(a, b, messages)
    print(f"{len(messages)} messages, {len(commands) * 2} commands, {differences} different")
    sys.exit(1 if differences else 0)


def top_level(text):
    """The top-level threads of a THREAD answer, as strings."""
    threads, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            start = i if depth == 0 else start
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                threads.append(text[start:i + 1])
    return threads


def show(ours, peer, messages):
    """The first place the two answers part, with both messages' headers."""
    if ours[1].startswith("(") and sorted(top_level(ours[1])) == sorted(top_level(peer[1])):
        print("    the same threads, in another order")
    tokens = lambda text: text.replace("(", " ( ").replace(")", " ) ").split()
    a, b = tokens(ours[1]), tokens(peer[1])
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            print(f"    at token {i}: letterbox {x}, Dovecot {y}")
            print(f"      letterbox ...{' '.join(a[max(0, i - 12):i + 12])}...")
            print(f"      Dovecot   ...{' '.join(b[max(0, i - 12):i + 12])}...")
            for uid in (x, y):
                if uid.isdigit():
                    head = messages[int(uid) - 1].split(b"\r\n\r\n")[0][:300]
                    print(f"      {uid}: {head!r}")
            return
    print(f"    letterbox {ours[0]} {len(a)} results, Dovecot {peer[0]} {len(b)}")


if __name__ == "__main__":
    main()
