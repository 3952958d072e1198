"""Audit events from files (and stdin): API pages, `pup -o json`, NDJSON, archive lines.

Two ways in. `FileSource.open` reads and decodes everything before returning (the headless commands).
`FileSource.open_streaming` returns at once and reads in a thread, page by page, once started: the TUI
paints its frame first and shows the events as they are decoded, with the bytes read and the events
decoded so far (`Progress`). NDJSON is decoded line block by line block as it arrives (a slow pipe shows
its first events before it ends); a single JSON document (an API page, `pup -o json`) is decoded item by
item once it is complete, in pages of `PAGE_EVENTS`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import msgspec

from ddaudit_tui.events.decode import _UTF8_BOM, DecodeError, _page_list_decoder, iter_decode, iter_ndjson
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback
from ddaudit_tui.sources.completeness import ENGINE_FILE, Completeness
from ddaudit_tui.timeutil import Window

PAGE_EVENTS = 5_000  # events per page handed to the UI (a page is decoded in ~60 ms)
READ_CHUNK = 1 << 20  # bytes per read: progress moves smoothly, a pipe's data is used as soon as it is there
MAX_ITEM_LINE = 16 << 20  # a first line longer than this is not one audit event: not NDJSON
HEAD_CHECK = 64 << 10  # bytes of each file checked before the TUI starts
POLL_S = 0.05  # how often async consumers look for new pages (the loader is a thread)


class InputError(Exception):
    """A file that cannot be read or is not audit data; one line, naming the file."""


# An exported case folder (`ddaudit case export`) is read as its evidence file.
CASE_EVIDENCE = "evidence.ndjson.gz"


def case_evidence(path: str) -> str:
    """`path`, or the evidence file inside it when it is a folder that has one."""
    if path != "-" and (Path(path) / CASE_EVIDENCE).is_file():
        return str(Path(path) / CASE_EVIDENCE)
    return path


def read_input(path: str) -> tuple[str, bytes]:
    """(display name, bytes) for a path or '-' (stdin); gzip input is decompressed."""
    if path == "-":
        return "<stdin>", _gunzip("<stdin>", sys.stdin.buffer.read())
    p = Path(case_evidence(path))
    try:
        return str(p), _gunzip(str(p), p.read_bytes())
    except OSError as exc:
        raise _open_error(p, exc) from None


def _open_error(p: Path, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{p}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{p}: is a directory, expected a file of audit events")
    if isinstance(exc, PermissionError):
        return InputError(f"{p}: permission denied")
    return InputError(f"{p}: cannot read ({exc.strerror or exc})")


# A gzip archive of JSON expands ~10-20×. Far beyond that it is a decompression bomb (3 MB → 6 GB): stop
# before memory goes, whatever the input claims to be.
GZIP_MAX_RATIO = 100
GZIP_MIN_LIMIT = 256 << 20  # small archives may expand further (repetitive events); bytes
_GZIP_STEP = 8 << 20


def _gunzip(name: str, data: bytes) -> bytes:
    # Datadog log archives are gzip-compressed NDJSON (`archive_*.json.gz`): read them as they come,
    # member after member (`cat a.gz b.gz` is valid gzip), in bounded steps.
    if data[:2] != b"\x1f\x8b":
        return data
    limit = max(GZIP_MIN_LIMIT, GZIP_MAX_RATIO * len(data))
    out = bytearray()
    rest = data
    try:
        while rest[:2] == b"\x1f\x8b":
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = rest
            while chunk:
                out += inflate.decompress(chunk, _GZIP_STEP)
                if len(out) > limit:
                    raise InputError(
                        f"{name}: gzip data expands beyond {limit >> 20} MiB ({GZIP_MAX_RATIO}× its "
                        "compressed size): not an audit archive (a decompression bomb?); refused"
                    )
                chunk = inflate.unconsumed_tail
            if not inflate.eof:
                raise EOFError
            rest = inflate.unused_data.lstrip(b"\0")  # some tools pad between members
    except EOFError:
        raise InputError(f"{name}: truncated gzip file (it ends before the compressed data does)") from None
    except zlib.error as exc:
        raise InputError(f"{name}: gzip-compressed but cannot be decompressed ({exc})") from None
    if rest:
        raise InputError(f"{name}: gzip-compressed but cannot be decompressed (trailing garbage)")
    return bytes(out)


def load_files(paths: list[str], notes: list[str] | None = None) -> EventStore:
    """Decode every file into one store (duplicates across files collapse by event id). `notes`: what
    was repaired on the way (e.g. lone surrogates), one line each."""
    store = EventStore()
    for path in paths:
        name, data = read_input(path)
        try:
            store.extend(iter_decode(data, name, notes=notes))
        except DecodeError as exc:
            raise InputError(str(exc)) from None
        finally:
            del data
    return store


# -- reading page by page -----------------------------------------------------------------------


def _is_ndjson(buf: bytes | bytearray, eof: bool, scanned: int = 0) -> bool | None:
    """Whether the input is NDJSON (one item per line), from its first line; None: not known yet.

    A first line that is a whole JSON object without `data`, followed by more, is NDJSON: its lines can be
    decoded as they arrive. Anything else (a pretty-printed document, an API page) waits for the end and
    goes through `iter_decode`, which also words every error. `scanned`: bytes already searched for the
    first newline (the search goes on from there, not from the start, as the buffer grows).
    """
    start = len(_UTF8_BOM) if buf.startswith(_UTF8_BOM) else 0
    while start < len(buf) and buf[start] in b" \t\r\n":
        start += 1
    if start == len(buf):
        return False if eof else None
    if buf[start : start + 1] != b"{":
        return False
    nl = buf.find(b"\n", max(start, scanned), start + MAX_ITEM_LINE)
    if nl < 0:
        # No item is that long: one big document (e.g. an API page on one line), read to the end.
        return False if eof or len(buf) - start >= MAX_ITEM_LINE else None
    if not bytes(buf[nl:]).strip():
        return False if eof else None
    try:
        first = _page_list_decoder.decode(bytes(buf[start:nl]))
    except (msgspec.DecodeError, RecursionError):
        return False
    return first.data is msgspec.UNSET


def _pages(events: Iterator[Event], size: int) -> Iterator[list[Event]]:
    page: list[Event] = []
    for ev in events:
        page.append(ev)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def iter_input_pages(
    stream: BinaryIO,
    name: str,
    page_events: int = PAGE_EVENTS,
    on_count: Callable[[int], None] | None = None,
    notes: list[str] | None = None,
) -> Iterator[tuple[list[Event], int]]:
    """(events, bytes read so far) as the input is read: pages of events, and empty pages while bytes
    arrive that cannot be decoded yet. Raises DecodeError / InputError as `iter_decode` would.
    `on_count`: told how many items a single JSON document holds, once it is read (see `iter_decode`)."""
    buf = bytearray()
    read = 0
    ndjson: bool | None = None
    line = 1  # the line number of buf[0], in NDJSON mode
    gz = False
    scanned = 0  # how far the first line's end was looked for
    while True:
        chunk = stream.read1(READ_CHUNK) if hasattr(stream, "read1") else stream.read(READ_CHUNK)
        eof = not chunk
        if chunk:
            read += len(chunk)
            buf += chunk
        if ndjson is None and not gz and (len(buf) >= 2 or eof):
            if buf[:2] == b"\x1f\x8b":
                gz = True  # an archive: decompressed whole at the end (`_gunzip` words its errors)
            else:
                ndjson = _is_ndjson(buf, eof, scanned)
                scanned = max(0, len(buf) - 1)
            if ndjson and buf.startswith(_UTF8_BOM):
                del buf[: len(_UTF8_BOM)]
        if ndjson:
            # Decode the complete lines now; a partial last line waits for the rest of it.
            cut = len(buf) if eof else buf.rfind(b"\n") + 1
            block = bytes(buf[:cut])
            del buf[:cut]
            first = line
            line += block.count(b"\n")
            sent = False
            for page in _pages(iter_ndjson(block, name, first_line=first), page_events):
                sent = True
                yield page, read
            if chunk and not sent:
                yield [], read
        elif chunk:
            yield [], read
        if eof:
            break
    if ndjson:
        return
    data = bytes(buf)
    del buf
    if gz:
        data = _gunzip(name, data)
    for page in _pages(iter_decode(data, name, on_count=on_count, notes=notes), page_events):
        yield page, read


class _Input:
    """One input opened for streaming: its display name, its size when known, the open file."""

    def __init__(self, path: str, stdin: BinaryIO | None) -> None:
        if path == "-":
            self.name = "<stdin>"
            self.file: BinaryIO = stdin if stdin is not None else sys.stdin.buffer
            self.size: int | None = None
            return
        p = Path(case_evidence(path))
        self.name = str(p)
        try:
            # Opened now, so that a missing or unreadable file fails before the TUI starts.
            self.file = open(p, "rb")  # noqa: SIM115  # closed by the loader
            st = os.fstat(self.file.fileno())
        except OSError as exc:
            raise _open_error(p, exc) from None
        regular = p.is_file()
        self.size = st.st_size if regular else None
        if regular:
            self._check_head()

    def _check_head(self) -> None:
        """Fail now, before the TUI starts, on what is plainly not audit data: a small file that does not
        decode, or a big one that does not even start like JSON (same one-line errors as `iter_decode`)."""
        head = self.file.read(HEAD_CHECK)
        self.file.seek(0)
        if head[:2] == b"\x1f\x8b":
            return  # an archive: checked as it is decompressed
        whole = self.size is not None and len(head) >= self.size
        text = head[len(_UTF8_BOM) :] if head.startswith(_UTF8_BOM) else head
        if not whole and text.lstrip()[:1] in (b"{", b"["):
            return
        try:
            for _ in iter_decode(head, self.name):
                pass
        except DecodeError as exc:
            self.file.close()
            raise InputError(str(exc)) from None


class ProvisionalWindow(Window):
    """The span of the events read so far, while a file is still being read. `fetch` and `exists`,
    given one, wait for the end of the file and use the whole span instead."""


# -- the source ---------------------------------------------------------------------------------


class FileSource:
    """A Source over events from files; queries are evaluated locally.

    Made by `open` (everything decoded already) or `open_streaming` (decoded in a thread once `start`ed;
    `fetch` and `exists` wait for the end, `stream` yields the events as they come).
    """

    def __init__(self, store: EventStore, label: str, notes: list[str] | None = None) -> None:
        self.store = store
        self.label = label
        # What decoding repaired (lone surrogates…): a warning on every answer, said once by the CLI.
        self.notes: list[str] = notes if notes is not None else []
        self.streaming = False  # made by `open_streaming`: read by a thread of its own
        self._inputs: list[_Input] = []
        self._bounds: tuple[int | None, int | None] = (None, None)
        self._done = threading.Event()
        self._done.set()
        self._thread: threading.Thread | None = None
        self._held = False  # `open_streaming(held=True)`: no reading before `after_first_paint()`
        self._pages: list[list[Event]] = []  # new events of each page, in reading order
        self._progress = Progress(events=len(store), pages=1 if len(store) else 0)
        self._error: InputError | None = None
        self._min_ts: int | None = None
        self._max_ts: int | None = None

    @staticmethod
    def _label(paths: list[str]) -> str:
        names = ["stdin" if p == "-" else Path(p).name for p in paths]
        return names[0] if len(names) == 1 else f"{len(names)} files"

    @classmethod
    def open(cls, paths: list[str]) -> FileSource:
        notes: list[str] = []
        return cls(load_files(paths, notes), cls._label(paths), notes)

    @classmethod
    def open_streaming(
        cls,
        paths: list[str],
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        stdin: BinaryIO | None = None,
        held: bool = False,
    ) -> FileSource:
        """A source that reads `paths` when started. Missing or unreadable files fail here, at once.
        `start_ms`/`end_ms`: the user's --from/--to, which bound the provisional windows too. `held` (the
        TUI): `start()` does nothing before `after_first_paint()` — the decoding thread holds the GIL, and
        started by the first pane's first request it would slow down the first frame (issue 12)."""
        src = cls(EventStore(), cls._label(paths))
        inputs: list[_Input] = []
        try:
            for path in paths:
                inputs.append(_Input(path, stdin))
        except InputError:
            for inp in inputs:
                inp.file.close()
            raise
        src._inputs = inputs
        src.streaming = True
        src._held = held
        src._bounds = (start_ms, end_ms)
        src._done.clear()
        sizes = [inp.size for inp in inputs]
        total = sum(s for s in sizes if s is not None) if None not in sizes else None
        src._progress = Progress(bytes_total=total, message="reading")
        return src

    # -- loading -------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        """True until every input is read (or failed)."""
        return not self._done.is_set()

    @property
    def load_error(self) -> InputError | None:
        return self._error

    @property
    def progress(self) -> Progress:
        return self._progress

    def start(self) -> None:
        """Start reading (in a thread); calling it again does nothing, nor does a held source."""
        if self._held or self._done.is_set() or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._load, name="ddaudit-file-load", daemon=True)
        self._thread.start()

    def after_first_paint(self) -> None:
        """The TUI has painted its first frame: a held source starts reading."""
        self._held = False
        self.start()

    def _load(self) -> None:
        store, by_id = self.store, self.store._by_id
        read_before = 0
        pages = 0
        expected: list[int | None] = [None]  # the events of a whole-document input, once split

        def counted(n: int) -> None:
            expected[0] = len(by_id) + n

        try:
            for inp in self._inputs:
                expected[0] = None
                with inp.file:
                    read = 0
                    pages_of = iter_input_pages(
                        inp.file, inp.name, PAGE_EVENTS, on_count=counted, notes=self.notes
                    )
                    for page, read in pages_of:  # noqa: B007
                        new: list[Event] = []
                        for ev in page:
                            if ev.id not in by_id:
                                by_id[ev.id] = ev
                                new.append(ev)
                        if new:
                            store._sorted = None
                            lo = min(e.ts for e in new)
                            hi = max(e.ts for e in new)
                            self._min_ts = lo if self._min_ts is None else min(self._min_ts, lo)
                            self._max_ts = hi if self._max_ts is None else max(self._max_ts, hi)
                        if page:
                            pages += 1
                            self._pages.append(new)
                        self._progress = Progress(
                            events=len(by_id),
                            pages=pages,
                            bytes_read=read_before + read,
                            bytes_total=self._progress.bytes_total,
                            events_total=expected[0],
                            message=f"reading {inp.name}",
                        )
                    read_before += read
            total = self._progress.bytes_total
            self._progress = Progress(
                events=len(by_id),
                pages=pages,
                bytes_read=read_before,
                bytes_total=total or read_before,
                events_total=len(by_id),
            )
        except DecodeError as exc:
            self._error = InputError(str(exc))
        except InputError as exc:
            self._error = exc
        except OSError as exc:
            self._error = InputError(f"{self.label}: cannot read ({exc.strerror or exc})")
        finally:
            for inp in self._inputs:
                if not inp.file.closed and inp.file is not getattr(sys.stdin, "buffer", None):
                    inp.file.close()
            self._done.set()

    async def wait_loaded(self, progress: ProgressCallback | None = None) -> None:
        """Wait for the end of the inputs (reporting progress); raise the load's error if it failed."""
        self.start()
        seen = -1
        while not self._done.is_set():
            if progress is not None and self._progress.bytes_read != seen:
                seen = self._progress.bytes_read
                progress(self._progress)
            await asyncio.sleep(POLL_S)
        if self._error is not None:
            raise self._error
        if progress is not None:
            progress(self._progress)

    async def stream(
        self, query: str, window: Window | None = None, *, start: bool = True
    ) -> AsyncIterator[tuple[list[Event], Progress]]:
        """The events matching `query` as they are decoded: (new events, progress) per step, the last
        one once the inputs are read. A `ProvisionalWindow` (or None) filters by --from/--to only.
        `start=False`: wait for someone else to `start` the reading (the TUI: after its first frame)."""
        if start:
            self.start()
        q = parse_query(query)
        if window is None or isinstance(window, ProvisionalWindow):
            lo, hi = self._bounds
        else:
            lo, hi = window.start, window.end
        sent = 0
        while True:
            done = self._done.is_set()  # read before the pages: a page added after is seen next time
            pages = self._pages[sent:]
            sent += len(pages)
            events = [e for page in pages for e in page]
            if lo is not None or hi is not None:
                events = [e for e in events if (lo is None or e.ts >= lo) and (hi is None or e.ts < hi)]
            if events and not q.is_match_all:
                events = q.filter(events)
            if done and self._error is not None:
                raise self._error
            yield events, self._progress
            if done:
                return
            await asyncio.sleep(POLL_S)

    def current_window(self) -> Window:
        """The whole span once read; while reading, a `ProvisionalWindow` over what is read so far (both
        bounded by --from/--to)."""
        lo, hi = self._bounds
        if self._min_ts is None or self._max_ts is None:
            now = int(time.time() * 1000)
            start, end = (lo if lo is not None else now), (hi if hi is not None else now)
        else:
            start = lo if lo is not None else self._min_ts
            end = hi if hi is not None else self._max_ts + 1
        end = max(start, end)
        return Window(start, end) if self._done.is_set() else ProvisionalWindow(start, end)

    # -- the Source interface --------------------------------------------------------------------

    def default_window(self) -> Window | None:
        if self.loading:
            return None
        return self.store.span()

    async def _resolved(self, window: Window, progress: ProgressCallback | None = None) -> Window:
        if self.loading:
            await self.wait_loaded(progress)
        elif self._error is not None:
            raise self._error
        return self.current_window() if isinstance(window, ProvisionalWindow) else window

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        q = parse_query(query)
        window = await self._resolved(window, progress)
        events = [e for e in self.store.events if window.start <= e.ts < window.end]
        if not q.is_match_all:
            events = q.filter(events)
        if progress is not None:
            progress(Progress(events=len(events), pages=1, slices_done=1, slices_total=1))
        completeness = Completeness(engine=ENGINE_FILE, events_fetched=len(events))
        return FetchResult(
            events=events,
            window=window,
            query=query,
            pages=1,
            warnings=list(self.notes),
            completeness=completeness,
        )

    async def exists(self, query: str, window: Window) -> bool:
        q = parse_query(query)
        window = await self._resolved(window)
        return any(window.start <= e.ts < window.end and q.matches(e) for e in self.store.events)

    async def aclose(self) -> None:
        return None
