"""How fast `letterbox migrate imap` copies an account, against Dovecot's
own tool for the same job (`doveadm backup -R` from an imapc: source),
side by side from one Dovecot source on loopback over TLS.

Usage (root: Dovecot switches to a mail user; installs dovecot-imapd):
    python3 bench/migrate_compare.py [MESSAGES] [LETTERBOX_BINARY]

MESSAGES (default 5000) are the shared corpus's messages, cycled, each
with its own Message-ID, spread over INBOX and four folders. Each tool
copies the whole account into an empty target (letterbox: a new data dir
with its default, fsync-per-commit settings; Dovecot: a new maildir with
its default fsync settings); the copy is then counted and checked by
message count per folder. Prints seconds and messages per second.
"""

import imaplib
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

import peers
from peers import corpus as shared_corpus
from peers import dovecot_config, free_port, mail_user, wait_for

PASSWORD = "migrate bench"
MAIL_USER = "lbmigrate"
FOLDERS = ["INBOX", "Sent Items", "Archive/2023", "Projekte/Entw&APw-rfe", "Lists"]


def setup_dovecot(work, port):
    if not os.path.exists("/usr/sbin/dovecot"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "dovecot-imapd"], check=True)
    mail_user(MAIL_USER)
    for sub in ["source", "target"]:
        os.makedirs(f"{work}/{sub}")
        shutil.chown(f"{work}/{sub}", MAIL_USER, MAIL_USER)
    os.chmod(work, 0o755)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"],
                   check=True, capture_output=True)
    namespace = """namespace inbox {
  inbox = yes
  separator = /
  mailbox "Sent Items" {
    special_use = \\Sent
  }
}
"""
    conf = dovecot_config(work, f"{work}/source", {"imap": {"imap": 0, "imaps": port}},
                          password=PASSWORD, user=MAIL_USER,
                          tls=(f"{work}/cert.pem", f"{work}/key.pem"), layout=":LAYOUT=fs",
                          extra=namespace)
    subprocess.run(["/usr/sbin/dovecot", "-c", conf], check=True)
    wait_for(port)
    return conf


def fill(work, port, count):
    corpus = shared_corpus()
    if not corpus:
        corpus = [b"Subject: generated\r\n\r\n" + b"line\r\n" * 200]
    context = ssl.create_default_context(cafile=f"{work}/cert.pem")
    imap = imaplib.IMAP4_SSL("localhost", port, ssl_context=context)
    imap.login("alice", PASSWORD)
    for folder in FOLDERS[1:]:
        imap.create(f'"{folder}"')
    per_folder = {}
    for n in range(count):
        folder = FOLDERS[n % len(FOLDERS)]
        raw = f"Message-ID: <bench-{n}@example.com>\r\n".encode() + corpus[n % len(corpus)]
        flags = "(\\Seen)" if n % 3 else "()"
        typ, _ = imap.append(f'"{folder}"', flags, '"01-Jan-2024 10:00:00 +0000"', raw)
        assert typ == "OK", typ
        per_folder[folder] = per_folder.get(folder, 0) + 1
    imap.logout()
    return per_folder


def run_letterbox(binary, work, port):
    data = f"{work}/letterbox"
    os.makedirs(data)
    conf = f"{work}/letterbox.toml"
    with open(conf, "w") as f:
        f.write(f'data_dir = "{data}"\n[log]\nlevel = "warn"\n')
    subprocess.run([binary, "--config", conf, "user", "add", "alice"],
                   input=b"new password\n", check=True, capture_output=True)
    with open(f"{work}/pw", "w") as f:
        f.write(PASSWORD + "\n")
    started = time.monotonic()
    done = subprocess.run([binary, "--config", conf, "migrate", "imap",
                           "--from", f"imaps://alice@localhost:{port}", "--user", "alice",
                           "--password-file", f"{work}/pw", "--ca-file", f"{work}/cert.pem"],
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"letterbox migrate failed:\n{done.stdout}\n{done.stderr}")
    summary = [line for line in done.stdout.splitlines() if "messages copied" in line]
    return elapsed, summary[-1]


def run_doveadm(conf, work, port):
    started = time.monotonic()
    done = subprocess.run(["doveadm", "-c", conf,
                           "-o", f"mail_location=maildir:{work}/target/%u:LAYOUT=fs",
                           "-o", "imapc_host=localhost", "-o", f"imapc_port={port}",
                           "-o", "imapc_user=alice", "-o", f"imapc_password={PASSWORD}",
                           "-o", "imapc_ssl=imaps", "-o", f"ssl_client_ca_file={work}/cert.pem",
                           "backup", "-R", "-u", "alice", "imapc:"],
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"doveadm backup failed:\n{done.stdout}\n{done.stderr}")
    copied = sum(len(files) for root, _, files in os.walk(f"{work}/target")
                 if os.path.basename(root) in ("cur", "new"))
    return elapsed, copied


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(peers.REPO, "target/release/letterbox")
    work = tempfile.mkdtemp(prefix="migrate-bench-")
    port = free_port()
    conf = setup_dovecot(work, port)
    try:
        per_folder = fill(work, port, count)
        print(f"source: {count} messages in {len(per_folder)} folders")
        ours, summary = run_letterbox(binary, work, port)
        print(f"letterbox migrate imap: {ours:.1f} s, {count / ours:.0f} messages/s ({summary})")
        theirs, copied = run_doveadm(conf, work, port)
        print(f"doveadm backup -R imapc: {theirs:.1f} s, {count / theirs:.0f} messages/s "
              f"({copied} message files)")
        print(f"ratio (Dovecot time / letterbox time): {theirs / ours:.2f}")
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", conf, "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
