"""The watch state when its disk or its values go bad (issue 13, items 9 and 10)."""

from __future__ import annotations

import sqlite3

import pytest

from ddaudit_tui.alerts.state import StateCorrupt, StateError, WatchState
from ddaudit_tui.alerts.wiring import WatchOptions, open_tui_watch
from ddaudit_tui.config import Settings
from ddaudit_tui.sources.base import FetchResult


def test_a_transaction_sqlite_rolled_back_itself_reports_the_full_disk(tmp_path) -> None:
    with WatchState(tmp_path, "s") as ws, pytest.raises(StateError) as info, ws._tx() as db:
        db.execute("INSERT INTO meta VALUES ('s', 'k', 'v')")
        db.execute("ROLLBACK")  # what SQLite does by itself on SQLITE_FULL
        raise sqlite3.OperationalError("database or disk is full")
    assert str(info.value) == (
        f"No space left on device: {tmp_path / 'watch.sqlite3'} (cannot write the watch state: database or disk "
        "is full)"
    )


@pytest.mark.parametrize(("field", "value"), [("watermark", "12abc"), ("last_polled", "x" * 80)])
def test_a_corrupt_value_names_the_file_and_the_field_and_reset_forgets_it(tmp_path, field, value) -> None:
    with WatchState(tmp_path, "s") as ws:
        ws._db.execute("INSERT INTO meta VALUES ('s', ?, ?)", (field, value))
        ws.record_page("ddaudit:k", "trigger", 202)
        with pytest.raises(StateCorrupt, match=f"corrupt watch state: {field} is '"):
            ws.load() if field == "watermark" else ws.last_polled  # noqa: B018
        ws.reset()
        assert ws.load() is None and ws.last_polled is None
        assert ws.was_sent("ddaudit:k")  # pages sent survive a reset: never paged twice


class _Quiet:
    label = "fake-org"

    async def fetch(self, query, window, progress=None):  # noqa: ANN001, ANN201
        return FetchResult(events=[], window=window, query=query)

    def default_window(self):  # noqa: ANN201
        return None

    async def aclose(self) -> None:
        return None


async def test_the_pane_watches_from_memory_when_the_state_is_corrupt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789abcdefABCDEF")
    with WatchState(tmp_path, "api:x") as ws:
        ws._db.execute("INSERT INTO meta VALUES ('api:x', 'last_polled', 'garbage')")
    options = WatchOptions(settings=Settings(state_dir=str(tmp_path)), demo=False, scope="api:x")
    watch = open_tui_watch(_Quiet(), options, app_window=None)
    try:
        assert watch.state is None
        assert any("corrupt watch state: last_polled" in w for w in watch.warnings)
    finally:
        await watch.aclose()
