#!/usr/bin/env python3
"""POP3 answers of letterbox and Dovecot side by side.

Starts Debian's Dovecot (dovecot-imapd, dovecot-pop3d) and letterbox on
loopback, fills both INBOXes with the shared corpus over IMAP (the same
octets, in the same order), then asks both the same POP3 questions with
Python's poplib and prints every difference: STAT, LIST, each RETR (after
poplib undid the dot-stuffing), TOP n 0 and TOP n 3, UIDL's shape, CAPA,
and what a deletion at QUIT leaves. Exit 0 even with differences (it is a
comparison), non-zero when setup fails.

    python3 bench/pop3_compare.py [path/to/letterbox]     (root)
"""

import imaplib
import os
import poplib
import shutil
import subprocess
import sys
import tempfile
import time

from peers import (PASSWORD, corpus, dovecot_config, free_port, letterbox_binary, mail_user,
                   start_letterbox, wait_for)

def start_dovecot(work, imap_port, pop3_port):
    mail_user()
    services = {"imap": {"imap": imap_port, "imaps": 0}, "pop3": {"pop3": pop3_port, "pop3s": 0}}
    conf = dovecot_config(work, os.path.join(work, "dovecot-mail"), services)
    subprocess.run(["dovecot", "-c", conf], check=True)
    return conf


def fill(port, messages):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", PASSWORD)
    for raw in messages:
        typ, _ = imap.append("INBOX", None, None, raw)
        assert typ == "OK", typ
    imap.logout()


def seen_count(port):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", PASSWORD)
    imap.select("INBOX", readonly=True)
    typ, data = imap.search(None, "SEEN")
    imap.logout()
    return len(data[0].split())


def session(port):
    pop = poplib.POP3("127.0.0.1", port)
    pop.user("alice")
    pop.pass_(PASSWORD)
    return pop


def answers(port, count):
    """What one POP3 client learns, as comparable values."""
    out = {}
    pop = poplib.POP3("127.0.0.1", port)
    out["CAPA"] = sorted(pop.capa())
    pop.quit()
    pop = session(port)
    out["STAT"] = pop.stat()
    out["LIST"] = pop.list()[1]
    ids = [line.split()[1] for line in pop.uidl()[1]]
    out["UIDL unique"] = len(set(ids)) == len(ids) == count
    out["UIDL shape"] = sorted({(len(i), i.isalnum()) for i in ids})
    for n in range(1, count + 1):
        out[f"RETR {n}"] = b"\r\n".join(pop.retr(n)[1])
        out[f"TOP {n} 0"] = b"\r\n".join(pop.top(n, 0)[1])
        out[f"TOP {n} 3"] = b"\r\n".join(pop.top(n, 3)[1])
    pop.dele(1)
    pop.quit()
    pop = session(port)
    out["after DELE 1 and QUIT"] = pop.stat()
    pop.quit()
    return out


def main():
    binary = letterbox_binary(sys.argv)
    work = tempfile.mkdtemp(prefix="pop3-compare-")
    os.chmod(work, 0o755)
    ours_imap, ours_pop3, peer_imap, peer_pop3 = (free_port() for _ in range(4))
    conf = start_dovecot(work, peer_imap, peer_pop3)
    server = start_letterbox(binary, work, ours_imap)
    try:
        with open(os.path.join(work, "letterbox.toml")) as f:
            config = f.read()
        server.terminate()
        server.wait()
        with open(os.path.join(work, "letterbox.toml"), "w") as f:
            f.write(config.replace("[imaps]", f'[pop3]\nlisten = ["127.0.0.1:{ours_pop3}"]\n[imaps]'))
        server = subprocess.Popen([binary, "--config", os.path.join(work, "letterbox.toml"), "serve"],
                                  stdout=subprocess.DEVNULL)
        for port in (ours_imap, ours_pop3, peer_imap, peer_pop3):
            wait_for(port)
        messages = corpus()
        fill(ours_imap, messages)
        fill(peer_imap, messages)
        count = len(messages)
        ours, theirs = answers(ours_pop3, count), answers(peer_pop3, count)
        # The first session retrieved everything, then deleted one.
        seen = (seen_count(ours_imap), seen_count(peer_imap))
    finally:
        server.terminate()
        subprocess.run(["dovecot", "-c", conf, "stop"], capture_output=True)
    same = [key for key in ours if ours[key] == theirs.get(key)]
    differ = [key for key in ours if ours[key] != theirs.get(key)]
    print(f"{count} messages; {len(same)} answers the same, {len(differ)} differ")
    for key in differ:
        a, b = ours[key], theirs.get(key)
        if isinstance(a, bytes) and isinstance(b, bytes):
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            print(f"- {key}: letterbox {len(a)} octets, Dovecot {len(b)}, first difference at {at}:")
            print(f"    letterbox {a[max(0, at - 40):at + 40]!r}")
            print(f"    Dovecot   {b[max(0, at - 40):at + 40]!r}")
        else:
            print(f"- {key}:\n    letterbox {a}\n    Dovecot   {b}")
    print(f"messages \\Seen after the sessions (IMAP SEARCH SEEN): letterbox {seen[0]}, Dovecot {seen[1]}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
