"""A file that arrives slowly (a pipe on stdin, `--input -`): the frame is there at once, the events come
in as they are decoded, with the bytes read and the events decoded; the other panes open once it is read."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import frozen_clock
from tui_helpers import screen_text, settle
from tui_synthetic import make_items

from ddaudit_tui.sources import files
from ddaudit_tui.sources.files import FileSource, ProvisionalWindow
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader

BROKEN = Path(__file__).parent.parent / "fixtures" / "broken"
WAIT_STEPS = 400  # pauses of 25 ms: a bound on waiting for the other thread, not a timing assertion


class SlowPipe:
    """A pipe whose writer thread sends `first` lines, then waits for `release()` to send the rest."""

    def __init__(self, lines: list[bytes], first: int) -> None:
        r, w = os.pipe()
        self.reader = os.fdopen(r, "rb")
        self._w = w
        self._lines = lines
        self._first = first
        self._release = threading.Event()
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        with os.fdopen(self._w, "wb") as out:
            out.writelines(self._lines[: self._first])
            out.flush()
            self._release.wait(30)
            out.writelines(self._lines[self._first :])
        self.finished.set()

    def release(self) -> None:
        self._release.set()


@pytest.fixture
def ndjson_lines() -> list[bytes]:
    return [json.dumps(item).encode() + b"\n" for item in make_items(60)]


@pytest.fixture
def pipe(ndjson_lines: list[bytes]) -> Iterator[SlowPipe]:
    p = SlowPipe(ndjson_lines, first=20)
    p.thread.start()
    yield p
    p.release()
    p.thread.join(10)


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "POLL_S", 0.005)


def make_app(source: FileSource) -> DdauditApp:
    return DdauditApp(source, source.current_window(), clock=frozen_clock)


async def wait_until(pilot, condition) -> None:  # type: ignore[no-untyped-def]
    for _ in range(WAIT_STEPS):
        if condition():
            return
        await pilot.pause(0.025)
    raise AssertionError("the condition never held")


async def test_a_slow_pipe_shows_its_first_events_and_progress_before_it_ends(pipe: SlowPipe):
    source = FileSource.open_streaming(["-"], stdin=pipe.reader)
    app = make_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(EventTable)
        await wait_until(pilot, lambda: table.row_count == 20)
        # The writer still holds 40 lines back: what is shown is partial, and says so.
        assert not pipe.finished.is_set()
        assert source.loading
        text = screen_text(app)
        assert "20 events decoded" in text
        assert "read " in text and "KB" not in text  # bytes read, in MB
        header = app.screen.query_one(PaneHeader)
        assert header.status.kind == "fetching" and "20 events" in header.status.text
        assert isinstance(app.window, ProvisionalWindow)

        pipe.release()
        await wait_until(pilot, lambda: not source.loading)
        await settle(pilot)
        assert pipe.finished.is_set()
        assert table.row_count == 60
        text = screen_text(app)
        assert "showing 60 events" in text
        assert header.status.kind == "complete" and "60 events" in header.status.text
        # The window is now the span of the whole input.
        assert not isinstance(app.window, ProvisionalWindow)
        assert app.window == source.store.span()


async def test_a_file_streams_into_the_table_page_by_page(tmp_path: Path, monkeypatch, ndjson_lines):
    monkeypatch.setattr(files, "PAGE_EVENTS", 10)
    monkeypatch.setattr(files, "READ_CHUNK", 2048)
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"".join(ndjson_lines))
    source = FileSource.open_streaming([str(path)])
    app = make_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: not source.loading)
        await settle(pilot)
        assert app.screen.query_one(EventTable).row_count == 60
        assert len(source._pages) > 3  # read in several pages, not at once
        assert "showing 60 events" in screen_text(app)


async def test_other_panes_open_once_the_input_is_read(pipe: SlowPipe):
    source = FileSource.open_streaming(["-"], stdin=pipe.reader)
    app = make_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(EventTable)
        await wait_until(pilot, lambda: table.row_count == 20)
        await pilot.press("1")  # Key lookup: it analyses the whole input, over the whole window
        await pilot.pause()
        assert app.current_mode == "explore"
        assert "this pane opens when the input is read" in " ".join(
            str(n.message) for n in app._notifications
        )
        pipe.release()
        await wait_until(pilot, lambda: app.current_mode == "lookup")
        await settle(pilot)
        assert not source.loading
        assert app.screen.query_one(PaneHeader).pane_title == "Key lookup"


async def test_explore_asked_for_meanwhile_cancels_the_pending_switch(pipe: SlowPipe):
    source = FileSource.open_streaming(["-"], stdin=pipe.reader)
    app = make_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(EventTable)
        await wait_until(pilot, lambda: table.row_count == 20)
        await pilot.press("2")
        await pilot.press("4")
        pipe.release()
        await wait_until(pilot, lambda: not source.loading)
        await settle(pilot)
        assert app.current_mode == "explore"


async def test_input_that_breaks_while_read_ends_the_app_with_its_error(tmp_path: Path):
    lines = [json.dumps(item).encode() for item in make_items(300)]
    assert sum(map(len, lines)) > files.HEAD_CHECK  # too big to be checked before the app starts
    bad = tmp_path / "bad_end.ndjson"
    bad.write_bytes(b"\n".join([*lines, b"{not json"]) + b"\n")
    source = FileSource.open_streaming([str(bad)])
    app = make_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: not source.loading)
        await settle(pilot)
    assert app.return_code == 4
    assert str(source.load_error).startswith(f"{bad}:301:")


async def test_the_histogram_worker_is_not_described_by_its_events(make_app):
    """Textual describes a worker without a description by the repr of its arguments: for 200k events
    that repr took ~5 s on the UI thread, after the last page and before the table showed it."""
    from ddaudit_tui.tui.widgets.sparkline import _SYNC_LIMIT, EventSparkline

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        spark = app.screen.query_one(EventSparkline)
        events = app.screen.result.events
        described: list[str] = []
        run_worker = spark.run_worker

        def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
            worker = run_worker(*args, **kwargs)
            described.append(worker.description)
            return worker

        spark.run_worker = recording  # type: ignore[method-assign]
        spark.set_data(events * (1 + _SYNC_LIMIT // len(events)), app.window)  # big: in a worker
        assert described and all(len(d) < 200 for d in described)
        await settle(pilot)


async def test_a_watch_started_on_a_loading_file_watches_it_as_of_its_last_event(pipe: SlowPipe):
    # `ddaudit --input FILE --pane watch`: the file's window is known only once it is read; a watch set
    # up before that would poll the file "live" against the wall clock and find nothing in old events.
    from watch_pane_helpers import watch_screen

    source = FileSource.open_streaming(["-"], stdin=pipe.reader)
    app = DdauditApp(source, source.current_window(), clock=frozen_clock, start_pane="watch")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        pipe.release()
        await wait_until(pilot, lambda: not source.loading)
        screen = watch_screen(app)
        await wait_until(pilot, lambda: screen.watch_setup is not None)
        span = source.default_window()
        assert span is not None
        assert screen.watch_setup.fixed_now_ms == span.end
