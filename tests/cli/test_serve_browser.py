"""`ddaudit serve` in a real browser (issue 17 item 3): headless Chromium opens the printed URL, is refused
without the token, sees the Spike watch's open alert with it, and finds no Revoke on Key lookup (read-only).

Debian's `chromium` + `chromium-driver`, driven by selenium through the system chromedriver: nothing is
downloaded at test time (Selenium Manager is never asked: the driver's path is given and SE_OFFLINE is
set). Without them the test skips, saying so; `.ci/run` installs them.

Reading the screen: textual-serve draws the terminal with xterm.js on a canvas (WebGL), so the page's DOM
has no screen text. A script injected before the page's own (CDP `Page.addScriptToEvaluateOnNewDocument`)
catches the xterm `Terminal` the page creates — textual.js assigns `this.fitAddon` on the object that
already holds `this.terminal`, and a setter on Object.prototype sees that assignment — and the test reads
the rows through xterm's public buffer API: exactly the cells the browser draws, not a re-parse of the
ANSI stream. Keys are typed into xterm's input textarea, as a person's keyboard would.

One server and one browser for the whole walk (one test: with xdist, tests of a module may land on
different workers, each starting its own Chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddaudit_tui.timeutil import iso

START_LIMIT_S = 60  # liveness bounds on a loaded machine, not timings
SCREEN_LIMIT_S = 60
M = 60_000

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium and its driver are not installed (apt-get install chromium chromium-driver; "
    ".ci/run installs them)",
)

MALLORY = "mallory@example.com"
KEY = "5b1e0c9a-7d24-4f3e-9a61-2c8d4b7e1f05"

# Catch the page's xterm Terminal (see the module docstring); the property is given back as a plain own
# property at once, so textual.js sees no difference.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'fitAddon', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'fitAddon', {value, writable: true, configurable: true, enumerable: true});
    if (this.terminal) { window.__ddaudit_terminal = this.terminal; }
  },
});
"""
# The visible rows, as text (null until the terminal exists).
READ_SCREEN = """
const term = window.__ddaudit_terminal;
if (!term) { return null; }
const buffer = term.buffer.active;
const rows = [];
for (let y = 0; y < term.rows; y++) {
  const line = buffer.getLine(buffer.viewportY + y);
  rows.push(line ? line.translateToString(true) : '');
}
return rows;
"""


def audit_item(ms: int, n: int) -> dict[str, Any]:
    """Mallory mints an API key (authenticated with KEY): an Audit Logs API item in the real shape."""
    inner = {
        "evt": {"name": "Authentication", "actor": {"type": "USER"}},
        "usr": {"id": MALLORY, "email": MALLORY, "name": "mallory"},
        "action": "created",
        "asset": {"type": "api_key", "id": f"00000000-0000-4000-8000-00000000000{n}", "name": f"key {n}"},
        "metadata": {"api_key": {"id": KEY}},
        "status": "info",
    }
    return {
        "id": f"AQAA-browser-{n}",
        "type": "audit",
        "attributes": {
            "attributes": inner,
            "message": f"{MALLORY} created an API key",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ms),
        },
    }


def minting_burst(path: Path) -> Path:
    """Four keys minted in the last five minutes: `api_key_creation` (HIGH) is open on the first poll.

    The demo's planted bursts are hours old when the app starts (closed), and its live bursts take a
    minute to come: a file stamped just now gives an open alert at once."""
    now = int(time.time() * 1000)
    items = [audit_item(now - (5 - n) * M, n) for n in range(4)]
    path.write_text(json.dumps({"data": items[::-1]}), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`ddaudit serve --input FILE --pane watch` on a free loopback port, read-only (the default)."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DDAUDIT_", "PAGERDUTY"))}
        env.update(HOME=str(tmp), XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "cfg"))
        events = minting_burst(tmp / "events.json")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ddaudit_tui", "serve", "--input", str(events), "--pane", "watch"]
            + ["--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "(read-only): open http://127.0.0.1:" in line, line
        self.url = line.split("open ", 1)[1].strip()
        deadline = time.monotonic() + START_LIMIT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    served = Server(tmp_path_factory.mktemp("serve-browser"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the page is our own.
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")  # never let Selenium Manager reach the network
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})
        yield driver
    finally:
        driver.quit()


def screen(driver: Any) -> list[str]:
    return list(driver.execute_script(READ_SCREEN) or [])


def wait_for(driver: Any, check: Any, what: str) -> list[str]:
    """The screen once `check(rows)` holds (polled; the bound is liveness on a loaded machine)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    rows: list[str] = []

    def ready(d: Any) -> bool:
        nonlocal rows
        rows = screen(d)
        return bool(rows) and bool(check(rows))

    try:
        WebDriverWait(driver, SCREEN_LIMIT_S, poll_frequency=0.2).until(ready)
    except TimeoutException:  # say what was on the screen instead
        pytest.fail(f"never saw {what}; the browser shows:\n" + "\n".join(rows))
    return rows


def press(driver: Any, keys: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "textarea.xterm-helper-textarea").send_keys(keys)


def footer(rows: list[str]) -> str:
    return next(r for r in reversed(rows) if r.strip())


def test_a_browser_needs_the_token_sees_the_open_alert_and_no_revoke(server: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # Without the token: refused, no terminal on the page.
    browser.get(server.url.split("?", 1)[0])
    assert "needs the token" in browser.find_element(By.TAG_NAME, "body").text
    status = "return performance.getEntriesByType('navigation')[0].responseStatus"
    assert browser.execute_script(status) == 403
    assert not browser.find_elements(By.CSS_SELECTOR, ".xterm")
    assert screen(browser) == []

    # With it: the Spike watch, its open alert most severe first.
    browser.get(server.url)
    assert browser.execute_script(status) == 200
    rows = wait_for(
        browser, lambda rows: any(MALLORY in r and "api_key_creation" in r for r in rows), "the alert"
    )
    text = "\n".join(rows)
    assert "Spike watch" in text and "1 open alert" in text
    # The alerts table's row: open (●), its severity, the rule, the actor, the count.
    (alert,) = [r.split() for r in rows if r.lstrip().startswith("● ! HIGH")]
    assert alert[:6] == ["●", "!", "HIGH", "api_key_creation", MALLORY, "4"], alert

    # Key lookup of the key: the report is there, the footer offers no Revoke (read-only).
    press(browser, "1")
    wait_for(browser, lambda rows: any(KEY in r for r in rows), "the keys seen")
    press(browser, Keys.ENTER)
    # Looked up: the footer's Enter no longer looks one up (it opens the evidence).
    rows = wait_for(
        browser, lambda rows: "Export" in footer(rows) and "Look up" not in footer(rows), "a report"
    )
    assert any(KEY in r for r in rows)
    assert "Revoke" not in footer(rows), footer(rows)
