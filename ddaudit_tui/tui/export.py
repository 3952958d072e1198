"""The export key: events as NDJSON of raw API items, and reports in any registered format, each in a
new private file (mode 0600, never overwriting) with a timestamped name.

No Textual here: panes run these in thread workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from ddaudit_tui.events.record import KIND_API, Event
from ddaudit_tui.safetext import json_safe_bytes


def export_name(pane: str, now: float, suffix: str = ".ndjson") -> str:
    """`ddaudit-<pane>-<UTC yyyymmddTHHMMSSZ>.ndjson`."""
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"ddaudit-{pane}-{stamp}{suffix}"


def ndjson_line(event: Event) -> bytes:
    """One compact JSON line holding the event as an Audit Logs API item (what `--input` reads)."""
    if event.kind == KIND_API:
        # The item as read, whitespace removed (a pretty-printed pup file still gives one line).
        # C1 and bidi characters escaped (same value): `cat export.ndjson` must not drive the terminal.
        return json_safe_bytes(msgspec.json.format(event.raw, indent=-1))
    return json_safe_bytes(msgspec.json.encode(event.api_item()))


def _create_private(path: Path) -> int:
    # O_EXCL: never overwrite (or follow a planted symlink to) an existing file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # independent of the umask: audit data is sensitive
    return fd


def _new_private_file(directory: Path, base: str, ext: str) -> tuple[Path, int]:
    """Create `<base>.<ext>` (or `<base>-N.<ext>` when taken) exclusively; returns (path, fd)."""
    for attempt in range(1, 1000):
        path = directory / (f"{base}.{ext}" if attempt == 1 else f"{base}-{attempt}.{ext}")
        try:
            return path, _create_private(path)
        except FileExistsError:
            continue
    raise OSError(f"{directory}: too many exports named {base}*")  # pragma: no cover


def export_report(
    kind: str, result: Any, formats: Sequence[str], directory: Path, pane: str, now: float
) -> list[Path]:
    """Render `result` (an analysis result) in each format through the report registry and write one
    file per format; returns the absolute paths. Rendering happens before any file is created, so a
    renderer error leaves nothing half-written."""
    from ddaudit_tui.report.registry import EXTENSIONS, render

    rendered = [(fmt, render(kind, fmt, result)) for fmt in formats]
    directory = directory.expanduser().resolve()
    base = export_name(pane, now, suffix="")
    paths: list[Path] = []
    for fmt, text in rendered:
        path, fd = _new_private_file(directory, base, EXTENSIONS.get(fmt, fmt))
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text if text.endswith("\n") else text + "\n")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        paths.append(path)
    return paths


def export_ndjson(events: Iterable[Event], directory: Path, pane: str, now: float) -> tuple[Path, int]:
    """Write `events` to a new file in `directory`; returns (absolute path, events written).

    Two exports in the same second get `-2`, `-3`… suffixes rather than overwriting each other.
    """
    directory = directory.expanduser().resolve()
    path, fd = _new_private_file(directory, export_name(pane, now, suffix=""), "ndjson")
    n = 0
    try:
        with os.fdopen(fd, "wb") as out:
            buf: list[bytes] = []
            for event in events:
                buf.append(ndjson_line(event))
                n += 1
                if len(buf) >= 4096:
                    out.write(b"\n".join(buf) + b"\n")
                    buf.clear()
            if buf:
                out.write(b"\n".join(buf) + b"\n")
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a truncated export that looks complete
        raise
    return path, n
