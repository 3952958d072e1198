"""Audit events from files (and stdin): API pages, `pup -o json`, NDJSON, archive lines."""

from __future__ import annotations

import gzip
import sys
import zlib
from pathlib import Path

from ddaudit_tui.events.decode import DecodeError, iter_decode
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback
from ddaudit_tui.timeutil import Window


class InputError(Exception):
    """A file that cannot be read or is not audit data; one line, naming the file."""


def read_input(path: str) -> tuple[str, bytes]:
    """(display name, bytes) for a path or '-' (stdin); gzip input is decompressed."""
    if path == "-":
        return "<stdin>", _gunzip("<stdin>", sys.stdin.buffer.read())
    p = Path(path)
    try:
        return str(p), _gunzip(str(p), p.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, expected a file of audit events") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None


def _gunzip(name: str, data: bytes) -> bytes:
    # Datadog log archives are gzip-compressed NDJSON (`archive_*.json.gz`): read them as they come.
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise InputError(f"{name}: truncated gzip file (it ends before the compressed data does)") from None
    except (OSError, zlib.error) as exc:
        raise InputError(f"{name}: gzip-compressed but cannot be decompressed ({exc})") from None


def load_files(paths: list[str]) -> EventStore:
    """Decode every file into one store (duplicates across files collapse by event id)."""
    store = EventStore()
    for path in paths:
        name, data = read_input(path)
        try:
            store.extend(iter_decode(data, name))
        except DecodeError as exc:
            raise InputError(str(exc)) from None
        finally:
            del data
    return store


class FileSource:
    """A Source over events already in memory (loaded from files); queries are evaluated locally."""

    def __init__(self, store: EventStore, label: str) -> None:
        self.store = store
        self.label = label

    @classmethod
    def open(cls, paths: list[str]) -> FileSource:
        names = ["stdin" if p == "-" else Path(p).name for p in paths]
        label = names[0] if len(names) == 1 else f"{len(names)} files"
        return cls(load_files(paths), label)

    def default_window(self) -> Window | None:
        return self.store.span()

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        q = parse_query(query)
        events = [e for e in self.store.events if window.start <= e.ts < window.end]
        if not q.is_match_all:
            events = q.filter(events)
        if progress is not None:
            progress(Progress(events=len(events), pages=1, slices_done=1, slices_total=1))
        return FetchResult(events=events, window=window, query=query, pages=1)

    async def exists(self, query: str, window: Window) -> bool:
        q = parse_query(query)
        return any(window.start <= e.ts < window.end and q.matches(e) for e in self.store.events)

    async def aclose(self) -> None:
        return None
