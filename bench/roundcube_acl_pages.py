#!/usr/bin/env python3
"""Roundcube's `acl` plugin pages against letterbox: can a webmail user
share a folder, change the rights and take them back, in the browser?

Starts letterbox (bench/peers.py) with alice and bob, bob owning "Projects"
with one message, Roundcube with the `acl` plugin (Debian
roundcube-plugins) under `php -S`, and headless Chromium driven by
Selenium (helpers from bench/roundcube_check.py). As bob, in Settings >
Folders > Projects, it finds the Sharing section (drawn only with the ACL
capability and "a" in MYRIGHTS), adds alice with the simple mode's Read and
Write, switches to advanced mode, edits her entry (w off, t on) and at
last deletes it. After each change, GETACL through imaplib must show it
(with RFC 4314's virtual "c"/"d") and the reopened page must draw it. As
alice, it opens Other Users/bob/Projects from the folder list and the
folder's properties (MYRIGHTS in words, no Sharing section).

Exit status 0 when all holds. Not part of `cargo test` (it needs
roundcube, chromium and selenium, which CI does not install):

    apt-get install roundcube-core roundcube-plugins roundcube-sqlite3 php-cli \\
        php-sqlite3 php-mbstring php-intl php-xml chromium chromium-driver
    pip install selenium
    cargo build -q && python3 bench/roundcube_acl_pages.py [path/to/letterbox]
"""

import base64
import imaplib
import os
import re
import subprocess
import sys
import tempfile

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from peers import PASSWORD, free_port, letterbox_binary, start_letterbox, wait_for
from roundcube_check import browser, check, start_roundcube

FOLDER = "Projects"
SHARED = f"Other Users/bob/{FOLDER}"
SHARED_ARG = f'"{SHARED}"'  # imaplib sends arguments as they are
# The simple mode's Read and Write (acl.php templ_rights).
READ, WRITE = "lrs", "wi"
LABELS = "/usr/share/roundcube/plugins/acl/localization/en_US.inc"

IDLE = "window.rcmail && rcmail.env.task && !rcmail.busy"


def folder_id(name):
    """Roundcube's element id for a folder (rcube_utils::html_identifier)."""
    return "rcmli" + base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def plugin_rights(imap):
    """The rights the plugin offers, from the RIGHTS= capability (acl.php
    rights_supported), in its order."""
    typ, data = imap.capability()  # imaplib keeps the ones from before LOGIN
    extra = [c[len("RIGHTS="):] for c in data[0].decode().split() if c.upper().startswith("RIGHTS=")]
    return "lrswi" + (extra[0].lower() if extra else "cd") + "pa"


def right_labels(rights):
    """The plugin's English names of `rights` (what its pages show)."""
    labels = dict(re.findall(r"\$labels\['acl(\w)'\] = '([^']*)';", open(LABELS).read()))
    return [labels[r] for r in rights]


def with_virtual(rights):
    """`rights` with the RFC 2086 rights RFC 4314 §2.1.1 has GETACL show."""
    rights = set(rights)
    if rights & set("kx"):
        rights.add("c")
    if rights & set("xte"):
        rights.add("d")
    return rights


def getacl(imap, mailbox):
    """{identifier: set of rights} from GETACL."""
    typ, data = imap.getacl(mailbox)
    assert typ == "OK", (typ, data)
    words = data[0].decode().split()[1:]
    return {who: set(rights) for who, rights in zip(words[::2], words[1::2])}


def wait(driver, condition, *args):
    """Until the JavaScript `condition` holds in the driver's current frame."""
    script = f"return !!({condition});"
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(script, *args))


def login(driver, web, user):
    driver.get(f"http://127.0.0.1:{web}/")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "rcmloginuser"))
    driver.find_element(By.ID, "rcmloginuser").send_keys(user)
    driver.find_element(By.ID, "rcmloginpwd").send_keys(PASSWORD)
    driver.find_element(By.ID, "rcmloginsubmit").click()
    wait(driver, IDLE + "&& rcmail.env.task == 'mail'")


def open_folder_form(driver, web, name):
    """Settings > Folders > `name`: leaves the driver in the properties frame."""
    driver.switch_to.default_content()
    driver.get(f"http://127.0.0.1:{web}/?_task=settings&_action=folders")
    wait(driver, IDLE)
    driver.find_element(By.CSS_SELECTOR, f"#{folder_id(name)} > a").click()
    frame = driver.find_element(By.ID, "preferences-frame")
    # The form's hidden _mbox names the folder once the frame has loaded it.
    wait(driver, "arguments[0].contentWindow.rcmail"
                 "&& arguments[0].contentWindow.document.readyState == 'complete'"
                 "&& $('input[name=_mbox]', arguments[0].contentWindow.document).val() == arguments[1]",
         frame, name)
    driver.switch_to.frame(frame)
    wait(driver, IDLE)


def sharing_shown(driver):
    return any(legend.get_attribute("textContent") == "Sharing"
               for legend in driver.find_elements(By.CSS_SELECTOR, "fieldset > legend"))


TABLE = """
var out = {};  // identifier -> {column: enabled/partial/disabled}
$('#acltable tbody tr').each(function () {
    var cells = {};
    $('td', this).not('.user').each(function () {
        var m = this.className.match(/\\bacl(\\w+) (enabled|partial|disabled)\\b/);
        if (m) cells[m[1]] = m[2];
    });
    out[$(this).data('userid')] = cells;
});
return out;
"""


def table(driver):
    return driver.execute_script(TABLE)


def acl_menu(driver, item):
    """Actions > `item` under the ACL table (the popup opens in the frame)."""
    driver.find_element(By.CSS_SELECTOR, "#acllist-footer a.actions").click()
    entry = driver.find_element(By.CSS_SELECTOR, f"#acl-menu a.{item}")
    WebDriverWait(driver, 10).until(lambda d: entry.is_displayed())
    entry.click()


def select_row(driver, user):
    driver.find_element(By.CSS_SELECTOR, f"#acltable tr[data-userid='{user}'] td.user").click()


def dialog_button(driver):
    """The main button of the dialog the frame opened in the top window."""
    driver.switch_to.default_content()
    buttons = WebDriverWait(driver, 10).until(lambda d: [
        b for b in d.find_elements(By.CSS_SELECTOR, ".ui-dialog-buttonpane button.mainaction")
        if b.is_displayed()])
    return buttons[0]


def fill_rights_dialog(driver, user, tick, untick):
    """In the add/edit dialog: the identifier, then switches clicked by their labels."""
    save = dialog_button(driver)
    form = driver.find_element(By.ID, "aclform")
    if user is not None:
        field = form.find_element(By.ID, "acluser")
        field.clear()
        field.send_keys(user)
    for key, on in [(k, True) for k in tick] + [(k, False) for k in untick]:
        box = form.find_element(By.ID, f"acl{key}")
        if box.is_selected() != on:
            form.find_element(By.XPATH, f".//label[@for='acl{key}' and normalize-space()]").click()
    save.click()
    # The plugin closes the dialog once the server said OK to SETACL.
    wait(driver, IDLE + "&& !$('.ui-dialog:visible').length")


def shows(cells, columns, on):
    """The row's cells for `columns` are all enabled (on) or all disabled."""
    return all(cells.get(c) == ("enabled" if on else "disabled") for c in columns)


def as_bob(driver, web, bob, supported, results, log):
    open_folder_form(driver, web, FOLDER)
    results.append(check("bob: Projects' properties have the Sharing section", sharing_shown(driver)))
    drawn = table(driver)
    results.append(check("bob: the ACL table lists no one else", set(drawn) <= {"bob"}, str(drawn)))

    # Add alice in simple mode: Read is ticked for a new entry, tick Write.
    driver.find_element(By.CSS_SELECTOR, "#acllist-footer a.create").click()
    fill_rights_dialog(driver, "alice", tick=["read", "write"], untick=["delete", "other"])
    want = set(READ + WRITE)
    acl = getacl(bob, FOLDER)
    results.append(check("add alice with Read and Write: GETACL gives alice lrswi",
                         acl.get("alice") == with_virtual(want), f"GETACL {acl}\n{log()}"))
    open_folder_form(driver, web, FOLDER)
    cells = table(driver).get("alice", {})
    results.append(check("add alice: the reopened table shows her with Read and Write only",
                         shows(cells, ["read", "write"], True) and shows(cells, ["delete", "other"], False),
                         str(cells)))

    # Advanced mode (a column per right), then edit alice: w off, t on.
    acl_menu(driver, "check")  # "Advanced mode"
    wait(driver, IDLE + "&& rcmail.env.acl_advanced && $('#acltable th.aclw').length")
    cells = table(driver).get("alice", {})
    results.append(check("advanced mode: alice's row has her rights one by one",
                         shows(cells, want, True) and shows(cells, set(supported) - want, False), str(cells)))
    select_row(driver, "alice")
    acl_menu(driver, "edit")
    fill_rights_dialog(driver, None, tick=["t"], untick=["w"])
    want = (want - {"w"}) | {"t"}
    acl = getacl(bob, FOLDER)
    results.append(check("edit alice (-w +t): GETACL gives alice lrsit and the virtual d",
                         acl.get("alice") == with_virtual(want), f"GETACL {acl}\n{log()}"))
    open_folder_form(driver, web, FOLDER)
    cells = table(driver).get("alice", {})
    results.append(check("edit alice: the reopened table shows exactly her new rights",
                         shows(cells, want, True) and shows(cells, set(supported) - want, False), str(cells)))


def as_alice(driver, web, alice, supported, results):
    login(driver, web, "alice")
    # The folder list: Other Users > bob > Projects, opened as the user would.
    nodes = driver.find_elements(By.ID, folder_id(SHARED))
    while nodes and not nodes[0].is_displayed():
        # Collapsed parents ("Other Users", "bob"): open them.
        toggles = [t for t in driver.find_elements(By.CSS_SELECTOR, "#mailboxlist div.treetoggle.collapsed")
                   if t.is_displayed()]
        if not toggles:
            break
        toggles[0].click()
    shown = bool(nodes) and nodes[0].is_displayed()
    link = nodes[0].find_element(By.TAG_NAME, "a") if shown else None
    # The link reads "Projects" (then the unread count) and names the folder in rel.
    results.append(check("alice: the folder list shows Other Users/bob/Projects",
                         shown and link.text.split("\n")[0] == FOLDER and link.get_attribute("rel") == SHARED,
                         driver.execute_script("return JSON.stringify(rcmail.env.mailboxes)")))
    if not shown:
        return
    link.click()
    wait(driver, IDLE + "&& rcmail.env.mailbox == arguments[0] && rcmail.message_list", SHARED)
    subjects = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messagelist tbody tr span.subject a")]
    results.append(check("alice: its message list opens with bob's message", subjects == ["plan"],
                         str(subjects)))

    # Without "a" the plugin shows MYRIGHTS in words, and no Sharing section.
    typ, data = alice.myrights(SHARED_ARG)
    mine = data[0].split()[-1].decode() if typ == "OK" else ""
    open_folder_form(driver, web, SHARED)
    listed = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ul[name=rcmyrights] li")]
    print(f"      alice's Access Rights: {listed} (MYRIGHTS {mine})")
    expected = right_labels([r for r in supported if r in mine])
    results.append(check("alice: the folder's properties name her MYRIGHTS",
                         typ == "OK" and listed == expected, f"{typ} {data}, shown {listed}"))
    results.append(check("alice: no Sharing section without the a right", not sharing_shown(driver)))


def bob_deletes_alice(driver, web, bob, alice, results, log):
    open_folder_form(driver, web, FOLDER)
    select_row(driver, "alice")
    acl_menu(driver, "delete")
    dialog_button(driver).click()  # "Delete" in the confirmation
    driver.switch_to.frame(driver.find_element(By.ID, "preferences-frame"))
    wait(driver, IDLE + "&& !$('#acltable tr[data-userid=alice]').length")
    acl = getacl(bob, FOLDER)
    results.append(check("delete alice: GETACL no longer lists her", "alice" not in acl,
                         f"GETACL {acl}\n{log()}"))
    open_folder_form(driver, web, FOLDER)
    results.append(check("delete alice: the reopened table has no alice", "alice" not in table(driver)))
    results.append(check("delete alice: her MYRIGHTS on the folder is refused",
                         alice.myrights(SHARED_ARG)[0] != "OK"))


def setup(binary, work, imap_port):
    """bob, and bob's Projects with one message: bob's imaplib session."""
    wait_for(imap_port)
    subprocess.run([binary, "--config", os.path.join(work, "letterbox.toml"), "user", "add", "bob"],
                   input=PASSWORD.encode(), check=True, stdout=subprocess.DEVNULL)
    bob = imaplib.IMAP4("127.0.0.1", imap_port)
    bob.login("bob", PASSWORD)
    created = bob.create(FOLDER)[0] == "OK" and bob.subscribe(FOLDER)[0] == "OK"
    appended = bob.append(FOLDER, None, None,
                          b"From: bob@example.org\r\nSubject: plan\r\n\r\nThe plan.\r\n")[0] == "OK"
    return bob, created and appended


def main():
    binary = letterbox_binary(sys.argv)
    work = tempfile.mkdtemp(prefix="roundcube-acl-")
    os.chmod(work, 0o755)
    imap_port = free_port()
    server = start_letterbox(binary, work, imap_port)
    php = bob_browser = alice_browser = None
    results = []

    def log(tail=1500):
        """The end of Roundcube's IMAP log, for a failure's detail."""
        path = os.path.join(work, "logs", "imap.log")
        return open(path).read()[-tail:] if os.path.exists(path) else ""

    try:
        bob, ok = setup(binary, work, imap_port)
        results.append(check("bob creates Projects with a message", ok))
        supported = plugin_rights(bob)
        php, web = start_roundcube(work, imap_port, plugins=["acl"],
                                   extra_config="$config['acl_advanced_mode'] = false;")
        bob_browser = browser()
        login(bob_browser, web, "bob")
        as_bob(bob_browser, web, bob, supported, results, log)

        alice = imaplib.IMAP4("127.0.0.1", imap_port)
        alice.login("alice", PASSWORD)
        alice_browser = browser()
        as_alice(alice_browser, web, alice, supported, results)

        bob_deletes_alice(bob_browser, web, bob, alice, results, log)
    except WebDriverException as e:
        # A page that never got where it should (a dialog left open, a frame not loaded).
        results.append(check("the pages answered", False, f"{type(e).__name__}: {e.msg}\n{log()}"))
    finally:
        for driver in (bob_browser, alice_browser):
            if driver:
                driver.quit()
        if php:
            php.terminate()
        server.terminate()
    print(f"{sum(results)} of {len(results)} checks passed (logs in {work})")
    sys.exit(0 if results and all(results) else 1)


if __name__ == "__main__":
    main()
