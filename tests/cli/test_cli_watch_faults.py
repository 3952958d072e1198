"""`ddaudit watch --once` when things go wrong (issue 13, items 3, 5, 6, 8, 9, 10): PagerDuty refusing
pages, a full disk under the state, corrupt state values, a gateway password in the URL, and an API
that pages forever or trickles its answers. Nothing is lost, nothing is sent twice, every exit has its
code, and the state's lock is always released."""

from __future__ import annotations

import argparse
import functools
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from watch_helpers import KEY, FakeClock, api_item, planted_items, write_items  # noqa: E402

from ddaudit_tui.alerts.pagerduty import PagerDutyClient  # noqa: E402
from ddaudit_tui.alerts.state import StateError, WatchState  # noqa: E402
from ddaudit_tui.alerts.wiring import legacy_state_scope, state_scope  # noqa: E402
from ddaudit_tui.cli import classify_error  # noqa: E402
from ddaudit_tui.cliutil import EXIT_ERROR, EXIT_OK  # noqa: E402
from ddaudit_tui.commands import watch  # noqa: E402
from ddaudit_tui.config import load_settings  # noqa: E402
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan  # noqa: E402
from ddaudit_tui.demo.fake_pagerduty import FakePagerDuty  # noqa: E402
from ddaudit_tui.demo.loopback import loopback  # noqa: E402

EXIT_FIRED, EXIT_UNDELIVERED = 5, 6
BAD_KEY = "W0NGKEY0123456789abcdefABCDEF999"
PASSWORD = "gwP4ssW0rdXqJv7"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    for name in (
        "DDAUDIT_RULES", "DDAUDIT_STATE_DIR", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY",
        "DDAUDIT_PAGERDUTY_URL", "DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DD_SITE", "DDAUDIT_API_URL",
        "DDAUDIT_PROXY", "DDAUDIT_DEADLINE", "DDAUDIT_TIMEOUT", "DDAUDIT_DD_AUTH", "DDAUDIT_PROFILE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(watch, "PagerDutyClient", functools.partial(PagerDutyClient, sleep=FakeClock().sleep))


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="ddaudit watch")
    watch.add_arguments(parser)
    try:
        code = watch.run(parser.parse_args(list(argv)))
    except Exception as exc:  # the CLI's own mapping of expected failures
        code, message = classify_error(exc)
        if code is None:
            raise
        sys.stderr.write(f"ddaudit: {message}\n")
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def burst_at_end(tmp_path: Path) -> Path:
    items = planted_items()
    items += [
        api_item(m, "eve@example.com", "Access Management", "role", "modified") for m in (200, 204, 209)
    ]
    return write_items(tmp_path / "recent.json", items)


def lock_is_free(
    state_dir: Path, scope_args: argparse.Namespace | None = None, scope: str | None = None
) -> bool:
    for lock in state_dir.glob("watch-*.lock"):
        import fcntl

        with lock.open("a") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
    return True


# -- PagerDuty refusing pages (item 8) ------------------------------------------------------------------


def test_a_refused_page_is_an_error_stays_queued_and_goes_out_once_the_key_is_fixed(
    capsys, tmp_path, monkeypatch
):
    path = burst_at_end(tmp_path)
    state = str(tmp_path / "state")
    with FakePagerDuty() as pd:
        pd.refused_routing_keys.add(BAD_KEY)
        args = ("--input", str(path), "--once", "--state-dir", state, "--pagerduty-url", pd.url)
        monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", BAD_KEY)
        code, out, err = invoke(capsys, *args)
        assert code == EXIT_UNDELIVERED, err  # not "alerts fired": nobody was paged
        assert "page refused" in out
        assert "PagerDuty: ddaudit:role_changes:eve@example.com:" in err and "400" in err
        assert len(pd.requests) == 1 and pd.triggers == 0

        # The same configuration would be refused again: not resent, still an error, still queued.
        code, out, err = invoke(capsys, *args)
        assert code == EXIT_UNDELIVERED, err
        assert "queued until the PagerDuty routing key or URL changes" in err
        assert len(pd.requests) == 1

        # The routing key fixed: the queued page goes out, once.
        monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", KEY)
        code, out, err = invoke(capsys, *args)
        assert code == EXIT_FIRED, err
        assert "paged" in out and pd.triggers == 1
        code, out, err = invoke(capsys, *args)
        assert (code, out) == (EXIT_OK, ""), err
        assert pd.triggers == 1 and len(pd.requests) == 2
    for text in (out, err, (tmp_path / "state" / "watch.sqlite3").read_bytes().decode("latin-1")):
        assert BAD_KEY not in text and KEY not in text


# -- a full disk under the state (item 9) ----------------------------------------------------------------


class _FullDisk:
    """A connection on a disk with a few free blocks: the small `pages` rows are written, the bigger
    writes of the engine state fail the way SQLite fails on a full disk — it rolls the transaction back
    itself, then reports SQLITE_FULL (a second ROLLBACK would fail: "no transaction is active")."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def _check(self, sql: str) -> None:
        writes = ("INSERT OR REPLACE INTO", "DELETE FROM")
        if any(f"{verb} {table}" in sql for verb in writes for table in ("entries", "alerts")):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        self._check(sql)
        return self._db.execute(sql, *args)

    def executemany(self, sql: str, *args: object) -> sqlite3.Cursor:
        self._check(sql)
        return self._db.executemany(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


@pytest.fixture
def full_disk(monkeypatch):
    real_init = WatchState.__init__

    def on_full_disk(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self._db = _FullDisk(self._db)

    monkeypatch.setattr(WatchState, "__init__", on_full_disk)


def test_a_full_disk_is_named_and_an_accepted_page_is_never_sent_again(
    capsys, tmp_path, monkeypatch, full_disk
):
    path = burst_at_end(tmp_path)
    state = tmp_path / "state"
    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", KEY)
    with FakePagerDuty() as pd:
        args = ("--input", str(path), "--once", "--state-dir", str(state), "--pagerduty-url", pd.url)
        for _ in range(3):
            code, out, err = invoke(capsys, *args)
            assert code == EXIT_ERROR, err
            assert f"watch state: No space left on device: {state / 'watch.sqlite3'}" in err
            assert "cannot rollback" not in err and "eve@example.com" in out
            assert pd.triggers == 1  # recorded before it was sent: never twice
            assert lock_is_free(state)
        monkeypatch.undo()  # space again
        monkeypatch.setattr(
            watch, "PagerDutyClient", functools.partial(PagerDutyClient, sleep=FakeClock().sleep)
        )
        monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", KEY)
        code, out, err = invoke(capsys, *args)
        assert code == EXIT_FIRED, err  # the alert (its state was never saved) is reported, not re-paged
        assert pd.triggers == 1 and len(pd.requests) == 1
        code, out, err = invoke(capsys, *args)
        assert (code, out) == (EXIT_OK, ""), err


def test_a_page_that_cannot_be_recorded_first_is_not_sent(capsys, tmp_path, monkeypatch):
    path = burst_at_end(tmp_path)
    state = tmp_path / "state"
    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", KEY)

    def full(self, *args, **kwargs):
        raise StateError(f"No space left on device: {self.path} (cannot write the watch state)")

    with FakePagerDuty() as pd:
        args = ("--input", str(path), "--once", "--state-dir", str(state), "--pagerduty-url", pd.url)
        with monkeypatch.context() as m:
            m.setattr(WatchState, "record_page", full)
            code, out, err = invoke(capsys, *args)
        assert code == EXIT_ERROR and pd.requests == []
        assert "not sent: the page could not be recorded first (No space left on device:" in err
        code, out, err = invoke(capsys, *args)  # space again: sent now, once
        assert code == EXIT_FIRED and pd.triggers == 1, err


# -- corrupt state values (item 10) ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["watermark", "last_polled"])
def test_a_corrupt_state_value_is_one_line_and_reset_state_continues(capsys, tmp_path, monkeypatch, field):
    path = burst_at_end(tmp_path)
    state = tmp_path / "state"
    db = state / "watch.sqlite3"
    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", KEY)
    with FakePagerDuty() as pd:
        args = ("--input", str(path), "--once", "--state-dir", str(state), "--pagerduty-url", pd.url)
        assert invoke(capsys, *args)[0] == EXIT_FIRED
        with sqlite3.connect(db) as con:
            con.execute("UPDATE meta SET value = 'not-a-number' WHERE key = ?", (field,))
        code, out, err = invoke(capsys, *args)
        assert (code, out) == (EXIT_ERROR, "")
        assert err == (
            f"ddaudit: {db}: corrupt watch state: {field} is 'not-a-number', not a number; run 'ddaudit watch "
            "--reset-state' to start again from the last --window (pages already sent are kept)\n"
        )
        assert lock_is_free(state)
        code, out, err = invoke(capsys, *args, "--reset-state")
        assert code == EXIT_FIRED, err  # the burst is seen again…
        assert "watch state reset" in err and pd.triggers == 1  # …and not paged twice
        assert invoke(capsys, *args)[0] == EXIT_OK


# -- a gateway password in the API URL (item 3) ------------------------------------------------------------


def test_state_scopes_never_hold_the_url_password(capsys, tmp_path, monkeypatch):
    settings = load_settings(
        {"api_url": f"https://gw:{PASSWORD}@gateway.example/dd/"}, env={}, path=tmp_path / "x"
    )
    other = load_settings({"api_url": "https://gw:another@gateway.example/dd"}, env={}, path=tmp_path / "x")
    ns = argparse.Namespace()
    scope = state_scope(ns, settings)
    assert PASSWORD not in scope and scope.startswith("api:")
    assert scope == state_scope(ns, other)  # the same gateway, whatever its password
    elsewhere = load_settings({"api_url": "https://gateway.example/eu"}, env={}, path=tmp_path / "x")
    assert state_scope(ns, elsewhere) != scope

    # A state written by an older version under the old name is carried over, and the old name removed.
    state = tmp_path / "state"
    old = legacy_state_scope(ns, settings)
    assert PASSWORD in old
    with WatchState(state, old) as ws:
        ws._db.execute("INSERT INTO meta VALUES (?, 'last_polled', '1785000000000')", (old,))
    assert any(PASSWORD in p.name for p in state.iterdir())
    with WatchState(state, scope, legacy_scopes=(old,)) as ws:
        assert ws.last_polled == 1_785_000_000_000
    assert not any(PASSWORD in p.name for p in state.iterdir())
    assert PASSWORD.encode() not in (state / "watch.sqlite3").read_bytes()


def test_watch_with_a_password_in_the_api_url_keeps_it_out_of_the_state(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DD_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", DEMO_APP_KEY)
    state = tmp_path / "state"
    fake = FakeDatadog([])
    with loopback(fake) as base_url:
        url = base_url.replace("http://", f"http://gw:{PASSWORD}@")
        code, _, err = invoke(capsys, "--api-url", url, "--once", "--state-dir", str(state))
    assert code == EXIT_OK, err
    assert fake.requests  # it really polled
    names = [p.name for p in state.iterdir()]
    assert any(n.startswith("watch-api_") for n in names)
    assert not any(PASSWORD in n for n in names)
    assert PASSWORD.encode() not in (state / "watch.sqlite3").read_bytes()


# -- an API that pages forever or trickles (items 5 and 6) -------------------------------------------------


def _api_env(monkeypatch):
    monkeypatch.setenv("DD_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", DEMO_APP_KEY)
    monkeypatch.setenv("DDAUDIT_TIMEOUT", "0.5")


def test_watch_once_against_endless_paging_stops_says_so_and_releases_the_lock(capsys, tmp_path, monkeypatch):
    _api_env(monkeypatch)
    import time

    now = int(time.time() * 1000)
    items = [api_item(0, "eve@example.com", "Access Management", "role", "modified") for _ in range(3)]
    for i, it in enumerate(items):
        it["id"] = f"ev-{i}"
        it["attributes"]["timestamp"] = now - 60_000 * (i + 1)
    state = tmp_path / "state"
    fake = FakeDatadog(items, faults=FaultPlan(rates={"stuck": 1.0}))
    with loopback(fake) as base_url:
        code, _, err = invoke(capsys, "--api-url", base_url, "--once", "--state-dir", str(state))
    assert code in (EXIT_OK, EXIT_FIRED), err
    assert "(no progress); stopped paging this slice: results may be incomplete" in err
    assert fake.audit_request_count == 2
    assert lock_is_free(state)
    with WatchState(state, "whatever"):
        pass


def test_watch_once_against_a_trickling_api_ends_inside_its_interval(capsys, tmp_path, monkeypatch):
    _api_env(monkeypatch)
    state = tmp_path / "state"
    fake = FakeDatadog([], faults=FaultPlan(rates={"trickle": 1.0}))
    with loopback(fake) as base_url:
        host = base_url.removeprefix("http://")
        code, out, err = invoke(
            capsys, "--api-url", base_url, "--once", "--interval", "4s", "--state-dir", str(state)
        )
    # Inside its interval by construction: the poll's deadline is half the interval (the message says it).
    assert (code, out) == (EXIT_ERROR, "")
    assert f"poll failed: no complete answer from {host} within the deadline of 2 s" in err
    assert lock_is_free(state)


# -- SIGTERM while the first poll is still running (item 27) ------------------------------------------------


@pytest.mark.parametrize("mode", [["--once"], []])
def test_sigterm_during_the_first_poll_exits_in_order_and_releases_the_lock(tmp_path, mode):
    """`systemctl stop` while the first poll hangs on a trickling API: watch used to ignore SIGTERM until
    that poll finished. Bounds below are liveness limits, not timings."""
    import os
    import signal
    import subprocess
    import time

    state = tmp_path / "state"
    fake = FakeDatadog([], faults=FaultPlan(rates={"trickle": 1.0}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DDAUDIT_", "PAGERDUTY"))}
    env.update(DD_API_KEY=DEMO_API_KEY, DD_APP_KEY=DEMO_APP_KEY, DDAUDIT_TIMEOUT="600", NO_PROXY="127.0.0.1")
    env.update(DDAUDIT_CONFIG=str(tmp_path / "none.toml"), HOME=str(tmp_path))
    with loopback(fake) as base_url:
        argv = ["watch", "--api-url", base_url, "--interval", "30m", "--state-dir", str(state), *mode]
        proc = subprocess.Popen([sys.executable, "-m", "ddaudit_tui", *argv], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while fake.audit_request_count == 0:  # the first poll is under way
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode() if proc.stderr else ""
    assert code == (143 if mode else EXIT_OK), err
    assert "Traceback" not in err
    assert lock_is_free(state)
