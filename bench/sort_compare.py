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

import glob
import imaplib
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "..", "shared", "corpus")
PASSWORD = "sort compare"

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


def corpus():
    files = sorted(glob.glob(os.path.join(CORPUS, "**", "*.eml"), recursive=True))
    return [open(f, "rb").read() for f in files]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def start_dovecot(work, port):
    try:
        pwd.getpwnam("sortcmp")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "sortcmp"], check=True)
    mail = os.path.join(work, "dovecot-mail")
    os.makedirs(mail)
    shutil.chown(mail, "sortcmp", "sortcmp")
    with open(os.path.join(work, "users"), "w") as f:
        f.write(f"alice:{{PLAIN}}{PASSWORD}::::::\n")
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {work}/dovecot-run
state_dir = {work}/dovecot-state
log_path = {work}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {work}/users
}}
userdb {{
  driver = static
  args = uid=sortcmp gid=sortcmp home={mail}/%u
}}
mail_location = maildir:{mail}/%u
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    subprocess.run(["dovecot", "-c", conf], check=True)
    return conf


def start_letterbox(binary, work, port):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = os.path.join(work, "letterbox.toml")
    with open(conf, "w") as f:
        f.write(f"""data_dir = "{work}/letterbox-data"
[imap]
listen = ["127.0.0.1:{port}"]
[imaps]
listen = []
[tls]
cert = "{cert}"
key = "{key}"
[auth]
allow_plaintext = true
[log]
level = "warn"
""")
    subprocess.run([binary, "--config", conf, "user", "add", "alice"],
                   input=PASSWORD.encode(), check=True, stdout=subprocess.DEVNULL)
    return subprocess.Popen([binary, "--config", conf, "serve"], stdout=subprocess.DEVNULL)


def fill(port, messages):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", PASSWORD)
    for n, raw in enumerate(messages):
        # INTERNALDATEs one hour apart, some equal, so ARRIVAL has ties.
        stamp = time.gmtime(1_767_225_600 + 3600 * (n // 2))
        date = imaplib.Time2Internaldate(time.mktime(stamp) - time.timezone)
        typ, _ = imap.append("INBOX", None, date, raw)
        assert typ == "OK", typ
    imap.select("INBOX")
    return imap


def answer(imap, verb, command):
    typ, data = imap.uid(verb, *command.split(" ", 2))
    return typ, (data[0] or b"").decode()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "target", "debug", "letterbox")
    messages = corpus() + generated(300)
    work = tempfile.mkdtemp(prefix="sort-compare-")
    os.chmod(work, 0o755)
    ours_port, peer_port = free_port(), free_port()
    conf = start_dovecot(work, peer_port)
    server = None
    differences = 0
    try:
        server = start_letterbox(binary, work, ours_port)
        wait_for(ours_port)
        wait_for(peer_port)
        ours, peer = fill(ours_port, messages), fill(peer_port, messages)
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
    finally:
        if server:
            server.terminate()
        subprocess.run(["dovecot", "-c", conf, "stop"], check=False)
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
