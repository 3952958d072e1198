"""Writing events as table / CSV / JSON / NDJSON (the `search` command, and event exports).

NDJSON is the raw items, unchanged but for whitespace (one per line), so `--input` reopens it; JSON and
NDJSON write characters a terminal could act on (C1, bidi overrides) as `\\uXXXX` escapes (same values).
Table and CSV cells have terminal control sequences removed (`safetext.clean`).
The other formats project the chosen columns (facet paths like `@usr.email`, or `timestamp`,
`id`, `message`, `source`, `status`, `service`, `actor`, `endpoint`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

import msgspec

from ddaudit_tui.events.fields import column_value
from ddaudit_tui.events.record import Event
from ddaudit_tui.safetext import clean, json_safe, json_safe_bytes
from ddaudit_tui.timeutil import fmt_ts, iso

FORMATS = ("table", "csv", "json", "ndjson")

# The columns of seed 001's first example, a sensible default for a mixed search.
DEFAULT_COLUMNS = (
    "timestamp",
    "@evt.name",
    "@action",
    "@usr.email",
    "@asset.type",
    "@asset.id",
    "@network.client.ip",
    "@network.client.geoip.country.name",
)

_TABLE_MAX = 48  # characters per table cell before eliding


def parse_columns(spec: str | None) -> list[str]:
    if not spec:
        return list(DEFAULT_COLUMNS)
    cols = [c.strip() for c in spec.split(",")]
    if any(not c for c in cols):
        raise ValueError(f"--columns {spec!r}: empty column name")
    return cols


def _json_value(event: Event, column: str) -> Any:
    if column == "source":
        return _source(event)
    value = column_value(event, column)
    if column == "timestamp":
        return iso(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _source(event: Event) -> str:
    for tag in event.tags:
        if tag.startswith("source:"):
            return tag[7:]
    return "audit"


def _text_value(event: Event, column: str, local: bool) -> str:
    if column == "timestamp":
        return fmt_ts(event.ts, local) if local else iso(event.ts)
    value = _json_value(event, column)
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_ndjson(events: Iterable[Event], out: IO[bytes]) -> int:
    n = 0
    for event in events:
        # Re-serialised compactly (key order and values preserved) so a pretty-printed pup file still
        # gives one item per line.
        out.write(json_safe_bytes(msgspec.json.format(event.raw, indent=-1)))
        out.write(b"\n")
        n += 1
    return n


def write_events(
    events: Sequence[Event],
    out: IO[str],
    fmt: str,
    columns: Sequence[str],
    local: bool = False,
) -> None:
    """Write `events` in a text format (`table`, `csv`, `json`). NDJSON goes through `write_ndjson`."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for event in events:
            # Spreadsheet formula injection and terminal escapes: event text is attacker-controlled.
            writer.writerow([_csv_safe(clean(_text_value(event, c, local), False)) for c in columns])
    elif fmt == "json":
        names = json_names(columns)
        rows = [{n: _json_value(event, c) for n, c in zip(names, columns, strict=True)} for event in events]
        out.write(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)))
        out.write("\n")
    elif fmt == "table":
        _write_table(events, out, columns, local)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def json_names(columns: Sequence[str]) -> list[str]:
    """JSON keys for the columns: without `@` (`usr.email`), unless two columns differ only by it
    (`@status` and `status`), when each keeps the name it was asked by, so none is lost."""
    stripped = [c.lstrip("@") for c in columns]
    return [c if stripped.count(s) > 1 else s for c, s in zip(columns, stripped, strict=True)]


def _csv_safe(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not _is_number(value) else value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _write_table(events: Sequence[Event], out: IO[str], columns: Sequence[str], local: bool) -> None:
    headers = [c.lstrip("@").rsplit(".", 1)[-1] if c.count(".") > 1 else c.lstrip("@") for c in columns]
    rows = [[clean(_text_value(e, c, local), max_len=_TABLE_MAX) for c in columns] for e in events]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    out.write("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")
