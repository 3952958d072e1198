"""The TUI's sources do their heavy work only after the first frame (issue 12: first paint ≤ 0.5 s).

Building the demo org or decoding a file holds the GIL for seconds; started by the first pane's first
request, it would slow the first frame down. Held sources wait for `after_first_paint()`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ddaudit_tui.demo import fake_datadog as fake_api
from ddaudit_tui.demo.org import write_demo_data
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window

NOW_MS = 1_760_000_000_000
WINDOW = Window(NOW_MS - 7 * 86_400_000, NOW_MS)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each build of the demo org, counted."""
    made: list[int] = []
    real = fake_api.FakeDatadog.from_demo.__func__  # type: ignore[attr-defined]

    def counting(cls: type, *args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(fake_api.FakeDatadog, "from_demo", classmethod(counting))
    return made


async def test_a_held_demo_builds_nothing_before_it_is_released(builds: list[int]) -> None:
    source = open_demo(events=400, end_ms=NOW_MS, held=True)
    fetch = asyncio.create_task(source.fetch("*", WINDOW))
    await asyncio.sleep(0.2)
    assert not fetch.done() and builds == []
    source.after_first_paint()  # type: ignore[attr-defined]
    result = await asyncio.wait_for(fetch, timeout=60)
    assert len(result.events) == 400 and builds == [1]
    source.after_first_paint()  # type: ignore[attr-defined]  # twice: harmless
    assert len((await source.fetch("*", WINDOW)).events) == 400 and builds == [1]
    await source.aclose()


async def test_the_headless_demo_is_not_held(builds: list[int]) -> None:
    source = open_demo(events=50, end_ms=NOW_MS)
    assert not hasattr(source, "after_first_paint")
    assert len((await asyncio.wait_for(source.fetch("*", WINDOW), timeout=60)).events) == 50
    await source.aclose()


async def test_a_held_file_is_not_read_before_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    with path.open("wb") as out:
        write_demo_data(out, events=300, seed=7)
    source = FileSource.open_streaming([str(path)], held=True)
    source.start()  # what the panes' first requests do (wait_loaded, stream): nothing yet
    loaded = asyncio.create_task(source.wait_loaded())
    await asyncio.sleep(0.2)
    assert source.loading and not loaded.done() and source.progress.bytes_read == 0
    source.after_first_paint()
    await asyncio.wait_for(loaded, timeout=60)
    assert not source.loading and len(source.store) == 300
    source.after_first_paint()  # twice: harmless


async def test_a_file_opened_for_streaming_is_not_held_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    with path.open("wb") as out:
        write_demo_data(out, events=30, seed=7)
    source = FileSource.open_streaming([str(path)])
    await asyncio.wait_for(source.wait_loaded(), timeout=60)
    assert len(source.store) == 30
