"""Files read page by page (`FileSource.open_streaming`): what the TUI shows while a big file is read."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from pathlib import Path

import pytest

from ddaudit_tui.demo.org import write_demo_data
from ddaudit_tui.events.decode import DecodeError, iter_decode
from ddaudit_tui.sources import files
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.sources.files import (
    FileSource,
    InputError,
    ProvisionalWindow,
    iter_input_pages,
    load_files,
    read_input,
)
from ddaudit_tui.timeutil import Window

BROKEN = Path(__file__).parent.parent / "fixtures" / "broken"
REFERENCE = Path(__file__).parent.parent / "fixtures" / "reference"


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.json"
    write_demo_data(path, events=1200, seed=3)
    return path


def collect(source: FileSource) -> list[tuple[int, int, int]]:
    """(new events, events decoded, bytes read) for every step `stream` reports, until the end."""

    async def go() -> list[tuple[int, int, int]]:
        return [(len(page), p.events, p.bytes_read) async for page, p in source.stream("*")]

    return asyncio.run(go())


def test_file_source_yields_several_pages_with_increasing_progress(monkeypatch, demo_file: Path):
    monkeypatch.setattr(files, "PAGE_EVENTS", 250)
    monkeypatch.setattr(files, "READ_CHUNK", 64 << 10)
    monkeypatch.setattr(files, "POLL_S", 0.001)
    source = FileSource.open_streaming([str(demo_file)])
    assert source.loading
    assert source.progress.bytes_total == demo_file.stat().st_size
    steps = collect(source)
    assert not source.loading and source.load_error is None
    # 1200 events in pages of 250 (the consumer may see several pages at once), events and bytes
    # growing, the bytes read to the end.
    assert [len(page) for page in source._pages] == [250, 250, 250, 250, 200]
    assert sum(n for n, _, _ in steps) == 1200
    assert [s[1] for s in steps] == sorted(s[1] for s in steps)
    assert [s[2] for s in steps] == sorted(s[2] for s in steps)
    assert steps[-1][1:] == (1200, demo_file.stat().st_size)
    # A whole JSON document: once read and split, the number of events to decode is known.
    assert source.progress.events_total == 1200
    assert len(source.store) == 1200
    assert source.store.events == load_files([str(demo_file)]).events


def test_pages_and_bytes_from_iter_input_pages(demo_file: Path, monkeypatch):
    monkeypatch.setattr(files, "READ_CHUNK", 32 << 10)
    with demo_file.open("rb") as fh:
        steps = list(iter_input_pages(fh, str(demo_file), page_events=100))
    read = [r for _, r in steps]
    assert read == sorted(read) and read[-1] == demo_file.stat().st_size
    counts: list[int] = []
    with demo_file.open("rb") as fh:
        assert sum(len(p) for p, _ in iter_input_pages(fh, "x", 100, on_count=counts.append)) == 1200
    assert counts == [1200]
    # A single JSON document: bytes first (empty pages), then the events in pages of 100.
    assert [len(p) for p, _ in steps if p] == [100] * 12
    assert len([p for p, _ in steps if not p]) > 1


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_every_shape_and_every_broken_file_reads_as_the_whole_file_decoder_reads_it(monkeypatch, chunk: int):
    """Read in pieces of any size, every input gives the events, or the one-line error, of `iter_decode`."""
    monkeypatch.setattr(files, "READ_CHUNK", chunk)
    paths = [p for p in sorted(BROKEN.iterdir()) + sorted(REFERENCE.rglob("*")) if p.is_file()]
    paths = [p for p in paths if p.suffix != ".md"]
    assert len(paths) > 20
    for path in paths:
        try:
            name, data = read_input(str(path))
            expected: object = [e.id for e in iter_decode(data, name)]
        except (DecodeError, InputError) as exc:
            expected = str(exc)
        try:
            with path.open("rb") as fh:
                got: object = [e.id for page, _ in iter_input_pages(fh, str(path), 3) for e in page]
        except (DecodeError, InputError) as exc:
            got = str(exc)
        assert got == expected, path.name


def test_ndjson_on_a_slow_pipe_is_decoded_before_the_pipe_ends(monkeypatch, demo_file: Path):
    monkeypatch.setattr(files, "POLL_S", 0.001)
    lines = [json.dumps(item).encode() + b"\n" for item in json.loads(demo_file.read_bytes())["data"][:30]]
    r, w = os.pipe()
    first_page_in = threading.Event()
    source = FileSource.open_streaming(["-"], stdin=os.fdopen(r, "rb"))

    def writer() -> None:
        with os.fdopen(w, "wb") as out:
            out.writelines(lines[:10])
            out.flush()
            assert first_page_in.wait(10), "the first lines were never decoded"
            out.writelines(lines[10:])

    thread = threading.Thread(target=writer)
    thread.start()

    async def go() -> list[int]:
        counts = []
        async for _page, progress in source.stream("*"):
            counts.append(progress.events)
            if progress.events == 10:
                first_page_in.set()
        return counts

    counts = asyncio.run(go())
    thread.join(10)
    assert 10 in counts  # seen while the writer was still holding the rest back
    assert counts[-1] == 30
    assert source.progress.bytes_total == sum(len(x) for x in lines)  # known at the end of a pipe
    assert source.label == "stdin"


def test_fetch_waits_for_the_end_and_widens_a_provisional_window(demo_file: Path):
    source = FileSource.open_streaming([str(demo_file)])
    provisional = source.current_window()
    assert isinstance(provisional, ProvisionalWindow)

    async def go() -> FetchResult:
        return await source.fetch("*", provisional)

    result = asyncio.run(go())
    assert len(result.events) == 1200
    whole = load_files([str(demo_file)]).span()
    assert result.window == whole == source.current_window() == source.default_window()
    assert not isinstance(source.current_window(), ProvisionalWindow)
    # A window of the caller's own is kept as it is.
    half = Window(whole.start, (whole.start + whole.end) // 2)
    narrow = asyncio.run(source.fetch("*", half))
    assert narrow.window == half and 0 < len(narrow.events) < 1200


def test_user_bounds_hold_while_reading(demo_file: Path):
    whole = load_files([str(demo_file)]).span()
    assert whole is not None
    mid = (whole.start + whole.end) // 2
    source = FileSource.open_streaming([str(demo_file)], start_ms=mid)
    events = [e for _ in [0] for e in asyncio.run(_all(source))]
    assert events and all(e.ts >= mid for e in events)
    assert source.current_window() == Window(mid, whole.end)


async def _all(source: FileSource) -> list:  # type: ignore[type-arg]
    return [e async for page, _ in source.stream("*") for e in page]


def test_a_missing_file_fails_at_once_and_a_broken_one_when_read(tmp_path: Path, demo_file: Path):
    with pytest.raises(InputError, match="no such file"):
        FileSource.open_streaming([str(tmp_path / "nope.json")])
    with pytest.raises(InputError, match="is a directory"):
        FileSource.open_streaming([str(tmp_path)])
    # A big NDJSON file, broken on its last line: found when that line is read.
    items = json.loads(demo_file.read_bytes())["data"]
    lines = [json.dumps(item).encode() for item in items[:200]]
    assert sum(map(len, lines)) > files.HEAD_CHECK
    bad = tmp_path / "bad_end.ndjson"
    bad.write_bytes(b"\n".join([*lines, b'{"id": "x", "attributes": {']) + b"\n")
    source = FileSource.open_streaming([str(bad)])
    with pytest.raises(InputError) as err:
        asyncio.run(_all(source))
    assert str(err.value).startswith(f"{bad}:201:")
    assert str(source.load_error) == str(err.value)
    assert "\n" not in str(err.value)


def test_a_fetch_result_repr_does_not_hold_its_events():
    """`asyncio.run` (3.11) formats its task, result included: 200k events must not become 300 MB of text."""
    events = list(iter_decode(io.BytesIO((REFERENCE / "api_page_0.json").read_bytes()).read()))
    result = FetchResult(events=events * 1000, window=Window(0, 1))
    assert len(repr(result)) < 500


@pytest.mark.parametrize(
    "name",
    [
        "binary_garbage.bin",
        "utf16_bom.json",
        "error_page.html",
        "empty.json",
        "null.json",
        "events.csv",
        "events.yaml",
        "bad_middle.ndjson",
        "truncated.json",
        "not_audit.json",
    ],
)
def test_plainly_broken_files_fail_before_the_tui_starts_with_the_same_line(name: str):
    path = BROKEN / name
    with pytest.raises(InputError) as early:
        FileSource.open_streaming([str(path)])
    with pytest.raises(InputError) as eager:
        FileSource.open([str(path)])
    assert str(early.value) == str(eager.value)


def test_a_big_file_that_starts_like_json_is_checked_as_it_is_read(tmp_path: Path):
    path = tmp_path / "big.json"
    path.write_bytes(b"[" + b" " * (files.HEAD_CHECK + 10) + b"1]")
    source = FileSource.open_streaming([str(path)])  # no error yet: the head is plausible
    with pytest.raises(InputError, match=r"\[0\]: expected an audit event object, found a number"):
        asyncio.run(_all(source))
