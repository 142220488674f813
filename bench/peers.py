"""Letterbox and Dovecot side by side on loopback, for the scripts that
compare their answers (sort_compare.py, fetch_compare.py).

Starts Debian's Dovecot (dovecot-imapd) and a letterbox binary in a
temporary directory, each with the user alice, and fills both with the same
messages under the same INTERNALDATEs.
"""

import glob
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "..", "shared", "corpus")
PASSWORD = "peer compare"


def corpus_files():
    """The shared corpus's messages, by path under corpus/."""
    files = sorted(glob.glob(os.path.join(CORPUS, "**", "*.eml"), recursive=True))
    return [(os.path.relpath(f, CORPUS), open(f, "rb").read()) for f in files]


def corpus():
    return [raw for _, raw in corpus_files()]


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


MAIL_USER = "peercmp"


def mail_user(name=MAIL_USER):
    """The system user Dovecot's mail processes run as (created once)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    return name


def dovecot_config(work, mail, services, *, password=PASSWORD, user=MAIL_USER, tls=None,
                   layout="", extra="", protocols=None):
    """Writes a Dovecot configuration of its own under `work` (nothing in
    /etc is read) and returns its path: alice with `password` in a
    passwd-file, maildirs under `mail` (`layout` appended to
    mail_location, e.g. ":LAYOUT=fs") owned by the system `user`.
    `services` maps each login service to its listeners' ports, e.g.
    {"imap": {"imap": 1143, "imaps": 0}} (0: off); the protocols are its
    keys unless `protocols` names them. With `tls` = (cert, key), TLS is
    required; without, plaintext logins are allowed. `extra` is appended
    as it is."""
    os.makedirs(mail, exist_ok=True)
    shutil.chown(mail, user, user)
    with open(os.path.join(work, "users"), "w") as f:
        f.write(f"alice:{{PLAIN}}{password}::::::\n")
    security = ("ssl = no\ndisable_plaintext_auth = no" if tls is None
                else f"ssl = required\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}")
    listeners = "".join(
        f"service {service}-login {{\n"
        + "".join(f"  inet_listener {name} {{\n    port = {port}\n  }}\n"
                  for name, port in ports.items())
        + "}\n"
        for service, ports in services.items())
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {work}/dovecot-run
state_dir = {work}/dovecot-state
log_path = {work}/dovecot.log
protocols = {protocols or " ".join(services)}
listen = 127.0.0.1
{security}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {work}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={mail}/%u
}}
mail_location = maildir:{mail}/%u{layout}
{listeners}{extra}""")
    return conf


def start_dovecot(work, port):
    mail_user()
    conf = dovecot_config(work, os.path.join(work, "dovecot-mail"),
                          {"imap": {"imap": port, "imaps": 0}})
    subprocess.run(["dovecot", "-c", conf], check=True)
    return conf


def start_letterbox(binary, work, port, extra=""):
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
{extra}""")
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


class Peers:
    """Both servers running in `work`, stopped when the block ends."""

    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.ours_port, self.peer_port = free_port(), free_port()
        self.server = None
        self.conf = None

    def __enter__(self):
        self.conf = start_dovecot(self.work, self.peer_port)
        self.server = start_letterbox(self.binary, self.work, self.ours_port)
        wait_for(self.ours_port)
        wait_for(self.peer_port)
        return self

    def fill(self, messages):
        """(letterbox, Dovecot) sessions with INBOX selected."""
        return fill(self.ours_port, messages), fill(self.peer_port, messages)

    def __exit__(self, *_):
        if self.server:
            self.server.terminate()
        if self.conf:
            subprocess.run(["dovecot", "-c", self.conf, "stop"], check=False)


def letterbox_binary(argv):
    return argv[1] if len(argv) > 1 else os.path.join(REPO, "target", "debug", "letterbox")
