#!/usr/bin/env python3
"""Roundcube's ACL client against letterbox: what the webmail's `acl`
plugin (Debian roundcube-plugins) sends and parses, through Roundcube's
own IMAP library (rcube_imap_generic, which the plugin calls via
rcube_imap::get_acl/set_acl/delete_acl/list_rights/my_rights).

Starts letterbox (bench/peers.py) with alice and bob; as bob, Roundcube's
library creates a folder, grants alice rights the way the plugin does
(lower-case letters, with the RFC 2086 "c"/"d" the plugin's simple mode
uses), reads them back with GETACL, LISTRIGHTS and MYRIGHTS, and takes
some away; as alice, it sees her rights on the shared folder under
"Other Users/bob/" and is refused GETACL there. Exit status 0 when every
answer is what the plugin expects. Not part of `cargo test` (it needs
php-cli and roundcube-core):

    apt-get install roundcube-core roundcube-plugins php-cli php-mbstring
    cargo build -q && python3 bench/roundcube_acl_check.py [path/to/letterbox]

It does not drive the plugin's pages in a browser: bench/roundcube_check.py
shows how, for sorting and threads.
"""

import json
import os
import subprocess
import sys
import tempfile

from peers import PASSWORD, free_port, letterbox_binary, start_letterbox, wait_for

LIBRARY = "/usr/share/roundcube/program/lib/Roundcube"

PHP = r"""<?php
// Just what rcube_imap_generic needs, without the whole application.
spl_autoload_register(function ($class) {
    $file = '%(library)s/' . $class . '.php';
    if (is_file($file)) { require $file; }
});
require '%(library)s/rcube_charset.php';

function session($user, $port) {
    $imap = new rcube_imap_generic();
    $ok = $imap->connect('127.0.0.1', $user, '%(password)s',
        ['port' => $port, 'auth_type' => 'PLAIN', 'ssl_mode' => null]);
    if (!$ok) { fwrite(STDERR, "login $user: " . $imap->error . "\n"); exit(1); }
    return $imap;
}

$port = (int) $argv[1];
$out = [];
$bob = session('bob', $port);
$out['capability_acl'] = $bob->getCapability('ACL');
$out['capability_rights'] = $bob->getCapability('RIGHTS');
$out['create'] = $bob->createFolder('Team');
// The plugin's "simple" mode grants read as lrs, write as wi, delete as
// "te" plus the old "d" (and "x"), other as "a"; it sends lower case.
$out['set'] = $bob->setACL('Team', 'alice', 'lrswid');
$out['getacl'] = $bob->getACL('Team');
$out['listrights'] = $bob->listRights('Team', 'alice');
$out['myrights_owner'] = $bob->myRights('Team');
$out['take_away'] = $bob->setACL('Team', 'alice', 'lrs');
$out['getacl_after'] = $bob->getACL('Team');
$alice = session('alice', $port);
$out['alice_folders'] = $alice->listMailboxes('', '*');
$out['alice_myrights'] = $alice->myRights('Other Users/bob/Team');
$out['alice_getacl'] = $alice->getACL('Other Users/bob/Team');
$out['delete'] = $bob->deleteACL('Team', 'alice');
$out['alice_after_delete'] = $alice->myRights('Other Users/bob/Team');
echo json_encode($out);
"""


def main():
    binary = letterbox_binary(sys.argv)
    work = tempfile.mkdtemp(prefix="rc-acl-")
    port = free_port()
    server = start_letterbox(binary, work, port)
    try:
        wait_for(port)
        conf = os.path.join(work, "letterbox.toml")
        subprocess.run([binary, "--config", conf, "user", "add", "bob"],
                       input=PASSWORD.encode(), check=True, stdout=subprocess.DEVNULL)
        script = os.path.join(work, "acl.php")
        with open(script, "w") as f:
            f.write(PHP % {"library": LIBRARY, "password": PASSWORD})
        done = subprocess.run(["php", script, str(port)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"php failed:\n{done.stdout}\n{done.stderr}")
        got = json.loads(done.stdout)
    finally:
        server.terminate()
        server.wait()
    checks = [
        ("ACL capability", got["capability_acl"] is True),
        # Roundcube upper-cases capability values.
        ("RIGHTS=texk", got["capability_rights"] == ["TEXK"]),
        ("folder created", got["create"] is True),
        ("SETACL accepted", got["set"] is True),
        ("GETACL parsed", got["getacl"] == {
            "bob": list("lrswipkxteacd"), "alice": list("lrswixted")}),
        ("LISTRIGHTS parsed", got["listrights"] == {
            "granted": [], "optional": list("lrswipkxteacd")}),
        ("MYRIGHTS of the owner", got["myrights_owner"] == list("lrswipkxteacd")),
        ("rights taken away", got["take_away"] is True
         and got["getacl_after"]["alice"] == list("lrs")),
        ("alice lists the shared folder", "Other Users/bob/Team" in got["alice_folders"]),
        ("alice's MYRIGHTS", got["alice_myrights"] == list("lrs")),
        ("alice may not read the ACL", got["alice_getacl"] is None),
        ("DELETEACL", got["delete"] is True and got["alice_after_delete"] is None),
    ]
    failed = 0
    for name, ok in checks:
        print(("ok   " if ok else "FAIL ") + name)
        failed += not ok
    if failed:
        print(json.dumps(got, indent=1))
    print(f"{len(checks) - failed} of {len(checks)} checks pass")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
