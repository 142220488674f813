#!/usr/bin/env python3
"""Roundcube against letterbox: does the webmail sort and thread through
the server?

Starts letterbox (bench/peers.py) with a user holding a dozen messages in
reply chains, Debian's Roundcube under `php -S` on loopback with a config
of its own (nothing in /etc is changed), and headless Chromium driven by
Selenium. Logs in as a user would, switches the message list to "sort by
subject", "sort by date" and the thread view, and checks each time that

- Roundcube asked the server (its IMAP log shows UID SORT / UID THREAD),
- the list it draws is in the server's order (the same UID SORT asked with
  imaplib), and for threads that every message sits in the thread the
  server's THREAD REFS put it in.

Exit status 0 when all holds. Not part of `cargo test` (it needs
roundcube, chromium and selenium, which CI does not install):

    apt-get install roundcube-core roundcube-sqlite3 php-cli php-sqlite3 \\
        php-mbstring php-intl php-xml chromium chromium-driver
    pip install selenium
    cargo build -q && python3 bench/roundcube_check.py [path/to/letterbox]
"""

import imaplib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from peers import PASSWORD, free_port, letterbox_binary, start_letterbox, wait_for

ROUNDCUBE = "/var/lib/roundcube"
DEBIAN_CONFIG = "/etc/roundcube"

# (Message-ID, parent Message-IDs as References, subject, Date): two reply
# chains with Re:/RE:/Fwd: prefixes the server must see through, one
# message whose parent is missing, and single messages.
MESSAGES = [
    ("a", [], "Lunch on Friday", "Mon, 2 Nov 2026 09:00:00 +0000"),
    ("b", [], "agenda for the board", "Mon, 2 Nov 2026 09:30:00 +0000"),
    ("c", ["a"], "Re: Lunch on Friday", "Mon, 2 Nov 2026 10:00:00 +0000"),
    ("d", [], "Zebra crossing", "Mon, 2 Nov 2026 11:00:00 +0000"),
    ("e", ["a", "c"], "RE: Re: Lunch on Friday", "Mon, 2 Nov 2026 12:00:00 +0000"),
    ("f", ["b"], "Fwd: Agenda for the board", "Tue, 3 Nov 2026 08:00:00 +0000"),
    ("g", ["gone"], "Re: an older thread", "Tue, 3 Nov 2026 09:00:00 +0000"),
    ("h", ["a"], "Re: Lunch on Friday", "Tue, 3 Nov 2026 10:00:00 +0000"),
    ("i", [], "budget 2027", "Tue, 3 Nov 2026 11:00:00 +0000"),
    ("j", ["i"], "[team] Re: budget 2027", "Wed, 4 Nov 2026 08:00:00 +0000"),
    ("k", [], "Coffee machine", "Wed, 4 Nov 2026 09:00:00 +0000"),
    ("l", ["b", "f"], "Re: Fwd: Agenda for the board", "Wed, 4 Nov 2026 10:00:00 +0000"),
]


def message(mid, refs, subject, date):
    head = [f"From: Ann <ann@example.org>", "To: alice@example.org",
            f"Subject: {subject}", f"Date: {date}", f"Message-ID: <{mid}@example.org>"]
    if refs:
        head.append("References: " + " ".join(f"<{r}@example.org>" for r in refs))
        head.append(f"In-Reply-To: <{refs[-1]}@example.org>")
    return ("\r\n".join(head) + "\r\n\r\nHello.\r\n").encode()


def fill(port):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", PASSWORD)
    # INTERNALDATEs in the opposite order of the Date headers, so a list
    # sorted by arrival would show up as wrong.
    for n, m in enumerate(MESSAGES):
        stamp = imaplib.Time2Internaldate(1_800_000_000 - 3600 * n)
        typ, _ = imap.append("INBOX", None, stamp, message(*m))
        assert typ == "OK", typ
    imap.select("INBOX")
    return imap


def server_order(imap, command):
    typ, data = imap.uid(*command.split(" ", 1))
    assert typ == "OK", (command, typ, data)
    return (data[0] or b"").decode()


def thread_groups(answer):
    """The UIDs of each top-level thread in a THREAD answer."""
    groups, depth, current = [], 0, []
    for token in answer.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth == 0:
                groups.append(frozenset(current))
                current = []
        else:
            current.append(token)
    return set(groups)


def start_roundcube(work, imap_port, plugins=(), extra_config=""):
    """Roundcube under `php -S`, its config, logs and database in `work`;
    `plugins` are names under /usr/share/roundcube/plugins, `extra_config`
    more PHP lines for config.inc.php."""
    config = os.path.join(work, "roundcube-config")
    os.makedirs(config)
    for name in ["defaults.inc.php", "mimetypes.php"]:
        shutil.copy(os.path.join(DEBIAN_CONFIG, name), config)
    for sub in ["logs", "temp"]:
        os.makedirs(os.path.join(work, sub))
    db = os.path.join(work, "roundcube.db")
    with sqlite3.connect(db) as conn:
        conn.executescript(open(f"{ROUNDCUBE}/SQL/sqlite.initial.sql").read())
    php_plugins = ", ".join(f"'{name}'" for name in plugins)
    with open(os.path.join(config, "config.inc.php"), "w") as f:
        f.write(f"""<?php
$config = [];
$config['db_dsnw'] = 'sqlite:///{db}?mode=0646';
$config['imap_host'] = '127.0.0.1:{imap_port}';
$config['imap_debug'] = true;
$config['imap_cache'] = null;
$config['messages_cache'] = false;
$config['log_dir'] = '{work}/logs/';
$config['temp_dir'] = '{work}/temp/';
$config['des_key'] = 'roundcube-check-key-0123';
$config['plugins'] = [{php_plugins}];
$config['skin'] = 'elastic';
$config['autoexpand_threads'] = 1;
$config['mail_pagesize'] = 200;
{extra_config}
""")
    port = free_port()
    env = dict(os.environ, ROUNDCUBE_CONFIG_DIR=config)
    php = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", f"{ROUNDCUBE}/public_html"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return php, port


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"]:
        options.add_argument(arg)
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


LIST_READY = """
return !!(window.rcmail && rcmail.message_list && !rcmail.busy
          && rcmail.message_list.rowcount > 0);
"""

LIST_SHOWN = """
return !!(window.rcmail && rcmail.message_list && !rcmail.busy
          && rcmail.message_list.rowcount > 0
          && rcmail.env.sort_col == arguments[0]
          && !!rcmail.env.threading == !!arguments[1]);
"""

LIST_ROWS = """
var list = rcmail.message_list;
return Array.from(list.tbody.rows)
    .map(function (tr) { return list.get_row_uid(tr); })
    .filter(function (uid) { return uid; })
    .map(function (uid) {
        var row = list.rows[uid];
        return [String(uid), row.depth || 0, row.parent_uid ? String(row.parent_uid) : null];
    });
"""


def show(driver, sort_col, order, threads):
    driver.execute_script("rcmail.set_list_options(null, arguments[0], arguments[1], arguments[2]);",
                          sort_col, order, threads)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(LIST_SHOWN, sort_col, threads))
    return driver.execute_script(LIST_ROWS)


def imap_log(work):
    path = os.path.join(work, "logs", "imap.log")
    return open(path).read() if os.path.exists(path) else ""


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'}  {name}" + (f"\n      {detail}" if detail and not ok else ""))
    return ok


def main():
    work = tempfile.mkdtemp(prefix="roundcube-check-")
    os.chmod(work, 0o755)
    imap_port = free_port()
    server = start_letterbox(letterbox_binary(sys.argv), work, imap_port)
    php = driver = None
    results = []
    try:
        wait_for(imap_port)
        imap = fill(imap_port)
        php, web_port = start_roundcube(work, imap_port)
        driver = browser()
        driver.get(f"http://127.0.0.1:{web_port}/")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "rcmloginuser"))
        driver.find_element(By.ID, "rcmloginuser").send_keys("alice")
        driver.find_element(By.ID, "rcmloginpwd").send_keys(PASSWORD)
        driver.find_element(By.ID, "rcmloginsubmit").click()
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(LIST_READY))
        results.append(check("logged in, INBOX listed", True))

        for col, order, sort in [("subject", "ASC", "(SUBJECT)"), ("date", "DESC", "(REVERSE DATE)"),
                                 ("date", "ASC", "(DATE)")]:
            before = len(imap_log(work))
            rows = show(driver, col, order, 0)
            asked = imap_log(work)[before:]
            drawn = [uid for uid, _, _ in rows]
            expected = server_order(imap, f"SORT {sort} UTF-8 ALL").split()
            results.append(check(f"sort by {col} {order}: Roundcube sent UID SORT",
                                 "UID SORT (" in asked, asked[-600:]))
            results.append(check(f"sort by {col} {order}: list drawn in the server's order",
                                 drawn == expected, f"drawn {drawn}, server {expected}"))

        before = len(imap_log(work))
        rows = show(driver, "date", "ASC", 1)
        asked = imap_log(work)[before:]
        results.append(check("thread view: Roundcube sent UID THREAD", "UID THREAD " in asked,
                             asked[-600:]))
        algorithm = "REFS" if "UID THREAD REFS" in asked else "REFERENCES"
        parents = {uid: parent for uid, _, parent in rows}

        def root(uid):
            while parents.get(uid):
                uid = parents[uid]
            return uid

        drawn_groups = {}
        for uid in parents:
            drawn_groups.setdefault(root(uid), set()).add(uid)
        drawn = {frozenset(g) for g in drawn_groups.values()}
        expected = thread_groups(server_order(imap, f"THREAD {algorithm} UTF-8 ALL"))
        results.append(check(f"thread view: the threads of THREAD {algorithm}", drawn == expected,
                             f"drawn {sorted(map(sorted, drawn))}, server {sorted(map(sorted, expected))}"))
        results.append(check("thread view: replies drawn under their originals",
                             any(depth > 0 for _, depth, _ in rows), str(rows)))
    finally:
        if driver:
            driver.quit()
        if php:
            php.terminate()
        server.terminate()
    print(f"{sum(results)} of {len(results)} checks passed (logs in {work})")
    sys.exit(0 if results and all(results) else 1)


if __name__ == "__main__":
    main()
