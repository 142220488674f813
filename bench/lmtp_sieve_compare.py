#!/usr/bin/env python3
"""LMTP deliveries per second, letterbox against Dovecot 2.3 with
Pigeonhole, side by side on loopback: first with no Sieve script, then
with the same 50-rule script active for the recipient.

Both servers run from temporary directories with their default
durability (letterbox: fsync per commit, commits of concurrent
deliveries grouped; Dovecot: maildir with fsync_mode=optimized). The
load: MESSAGES messages (default 2000; the shared corpus cycled, else a
generated message) over CONNECTIONS concurrent LMTP connections
(default 4, Python smtplib.LMTP), one recipient each. The script has 50
rules, header, address and size tests; about one message in ten
matches one (fileinto :create "Lists" / flag), the rest fall through to
the implicit keep, so most messages run every rule.

    python3 bench/lmtp_sieve_compare.py [MESSAGES] [path/to/letterbox]   (root;
    needs dovecot-lmtpd and dovecot-sieve)
"""

import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

import peers
from peers import corpus, dovecot_config, free_port, mail_user, start_letterbox, wait_for

CONNECTIONS = 4


def script():
    rules = ['require ["fileinto", "mailbox", "imap4flags", "envelope"];']
    for n in range(50):
        kind = n % 5
        if kind == 0:
            rules.append(f'if header :contains "subject" "project-{n}" {{ fileinto :create "Lists"; stop; }}')
        elif kind == 1:
            rules.append(f'if address :domain :is "from" "partner{n}.example" {{ addflag "$Partner"; }}')
        elif kind == 2:
            rules.append(f'if header :matches "list-id" "*<team{n}.*>*" {{ fileinto :create "Lists"; stop; }}')
        elif kind == 3:
            rules.append(f'if allof (size :over {n + 1}M, header :contains "x-mailer" "bulk{n}") {{ discard; stop; }}')
        else:
            rules.append(f'if envelope :localpart :is "from" "robot{n}" {{ fileinto :create "Lists"; stop; }}')
    return "\n".join(rules) + "\n"


def messages(count):
    base = corpus() or [b"From: a@example.org\r\nSubject: generated\r\n\r\n" + b"line\r\n" * 100]
    out = []
    for n in range(count):
        tag = f"project-{n % 50}" if n % 10 == 0 else f"note {n}"
        head = f"Subject: {tag}\r\nMessage-ID: <bench-{n}@example.com>\r\n".encode()
        out.append(head + base[n % len(base)])
    return out


def deliver(port, batch, errors):
    try:
        lmtp = smtplib.LMTP("127.0.0.1", port)
        for raw in batch:
            refused = lmtp.sendmail("sender@example.net", ["alice@example.com"], raw)
            if refused:
                errors.append(refused)
        lmtp.quit()
    except Exception as e:  # noqa: BLE001 - any failure is reported
        errors.append(repr(e))


def run_load(port, msgs):
    errors = []
    chunks = [msgs[i::CONNECTIONS] for i in range(CONNECTIONS)]
    threads = [threading.Thread(target=deliver, args=(port, chunk, errors)) for chunk in chunks]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if errors:
        raise SystemExit(f"deliveries failed: {errors[:3]}")
    return len(msgs) / elapsed


def start_dovecot(work, lmtp_port, imap_port):
    user = mail_user()
    mail = os.path.join(work, "dovecot-mail")
    extra = f"""service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
lmtp_save_to_detail_mailbox = no
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
  postmaster_address = postmaster@example.com
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
"""
    conf = dovecot_config(work, mail, {"imap": {"imap": imap_port, "imaps": 0}},
                          protocols="imap lmtp", extra=extra)
    # userdb names user@domain as alice@example.com: strip the domain.
    with open(conf, "a") as f:
        f.write("auth_username_format = %n\n")
    os.makedirs(os.path.join(mail, "alice"), exist_ok=True)
    shutil.chown(os.path.join(mail, "alice"), user, user)
    subprocess.run(["dovecot", "-c", conf], check=True)
    wait_for(lmtp_port)
    return conf, os.path.join(mail, "alice")


def set_dovecot_script(home, text):
    path = os.path.join(home, ".dovecot.sieve")
    if text is None:
        if os.path.exists(path):
            os.remove(path)
        return
    with open(path, "w") as f:
        f.write(text)
    shutil.chown(path, peers.MAIL_USER, peers.MAIL_USER)
    # Compiled once up front, as a user's script would be after its first use.
    subprocess.run(["sievec", path], check=True)
    svbin = path[:-len("sieve")] + "svbin"
    if os.path.exists(svbin):
        shutil.chown(svbin, peers.MAIL_USER, peers.MAIL_USER)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(peers.REPO, "target/release/letterbox")
    work = tempfile.mkdtemp(prefix="lmtp-sieve-bench-")
    os.chmod(work, 0o755)
    ours_imap, ours_lmtp, peer_imap, peer_lmtp = (free_port() for _ in range(4))
    server = start_letterbox(binary, work, ours_imap,
                             extra=f'[lmtp]\nlisten = ["127.0.0.1:{ours_lmtp}"]\n'
                                   '[delivery]\ndomains = ["example.com"]\n')
    conf, home = start_dovecot(work, peer_lmtp, peer_imap)
    ours_conf = os.path.join(work, "letterbox.toml")
    try:
        wait_for(ours_lmtp)
        msgs = messages(count)
        results = {}
        for label, text in [("no script", None), ("50-rule script", script())]:
            if text is None:
                subprocess.run([binary, "--config", ours_conf, "sieve", "deactivate", "alice"],
                               check=True, capture_output=True)
            else:
                path = os.path.join(work, "rules.sieve")
                with open(path, "w") as f:
                    f.write(text)
                subprocess.run([binary, "--config", ours_conf, "sieve", "put", "alice", "rules", path,
                                "--activate"], check=True, capture_output=True)
            set_dovecot_script(home, text)
            ours = run_load(ours_lmtp, msgs)
            theirs = run_load(peer_lmtp, msgs)
            results[label] = (ours, theirs)
            print(f"{label}: letterbox {ours:.0f} msg/s, Dovecot {theirs:.0f} msg/s, "
                  f"ratio {ours / theirs:.2f}")
        print(f"{count} messages per run, {CONNECTIONS} LMTP connections each (work dir {work})")
    finally:
        server.terminate()
        subprocess.run(["doveadm", "-c", conf, "stop"], capture_output=True)


if __name__ == "__main__":
    main()
