"""“Copy as”: the query on screen, said the way other tools say it.

- a `pup audit-logs search` command (`datadog-api.md` §5): absolute RFC 3339 times (pup resolves relative
  times itself, but an investigation's window must not move), `DD_SITE=` for every site but US1, the
  API's page maximum as `--limit` because pup reads one page only;
- a link to the Datadog Audit Trail explorer on the configured site (`/audit-trail?query=…&from_ts=…`);
- a DDSQL query over the `dd.audit(...)` table function (seed 001), with the columns shown and an
  `AS (…)` column list, as the documentation's examples write it.

Pure functions of (query, window, site, columns): no I/O, no Textual.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from datetime import UTC, datetime

from ddaudit_tui.report.events_output import DEFAULT_COLUMNS
from ddaudit_tui.sources.sites import audit_trail_url, link_site
from ddaudit_tui.timeutil import Window

__all__ = ["FORMATS", "copy_as", "ddsql", "explorer_url", "pup_command", "rfc3339"]

FORMATS: dict[str, str] = {
    "pup": "pup audit-logs search command",
    "url": "Datadog Audit Trail explorer URL",
    "ddsql": "DDSQL dd.audit(...) query",
}

DEFAULT_SITE = "datadoghq.com"
PUP_MAX_LIMIT = 1000  # the API's page maximum; pup passes --limit through and never follows cursors

# Display-only columns of `ddaudit search` → the dd.audit field that holds the same thing.
_DDSQL_ALIASES = {
    "actor": "@usr.email",
    "endpoint": "@http.url_details.path",
    "service": "service",
    "status": "status",
    "message": "message",
    "source": "source",
    "id": "id",
    "timestamp": "timestamp",
}
# dd.audit fields whose type is not a string (seed 001's field table).
_DDSQL_TYPES = {
    "timestamp": "TIMESTAMP",
    "ingest_size_in_bytes": "BIGINT",
    "tiebreaker": "BIGINT",
    "discovery_timestamp": "BIGINT",
    "random_draw": "DOUBLE",
    "@network.client.geoip.location.latitude": "DOUBLE",
    "@network.client.geoip.location.longitude": "DOUBLE",
}
_DEFAULT_DDSQL_COLUMNS = DEFAULT_COLUMNS  # what `ddaudit search` shows by default


def rfc3339(ms: int) -> str:
    """Epoch ms → `2026-11-21T09:30:00Z` (milliseconds only when there are some)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ms % 1000:03d}Z" if ms % 1000 else f"{base}Z"


def pup_command(query: str, window: Window, site: str | None = None, limit: int = PUP_MAX_LIMIT) -> str:
    """The `pup audit-logs search` invocation for `query` over `window`, safe to paste in a POSIX shell.

    pup keeps whole seconds: the start is rounded down and the end up, so the newest event is not lost.
    """
    s = link_site(site)
    prefix = "" if s == DEFAULT_SITE else f"DD_SITE={shlex.quote(s)} "
    q = query.strip() or "*"
    return (
        f"{prefix}pup audit-logs search --query {shlex.quote(q)} "
        f"--from {rfc3339(window.start - window.start % 1000)} --to {rfc3339(-(-window.end // 1000) * 1000)} "
        f"--limit {int(limit)} -o json"
    )


def explorer_url(query: str, window: Window, site: str | None = None) -> str:
    """A link to the Audit Trail explorer showing `query` over `window` on `site` (frozen, not live)."""
    return audit_trail_url(query, window.start, window.end, site)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ddsql_field(column: str) -> str | None:
    column = column.strip()
    if column in _DDSQL_ALIASES:
        return _DDSQL_ALIASES[column]
    if column.startswith("@") or column in _DDSQL_TYPES:
        return column
    return None  # a column ddaudit computes (none today): not a dd.audit field


def _alias(field: str, taken: set[str]) -> str:
    if field == "timestamp":
        base = "ts"
    else:
        base = re.sub(r"[^0-9a-z]+", "_", field.lower().lstrip("@")).strip("_") or "col"
        if base[0].isdigit():
            base = "c_" + base
    alias, n = base, 2
    while alias in taken:
        alias, n = f"{base}_{n}", n + 1
    taken.add(alias)
    return alias


def ddsql(query: str, window: Window, columns: Sequence[str] | None = None) -> str:
    """`SELECT * FROM dd.audit(columns => ARRAY[…], filter => '…', from_timestamp, to_timestamp) AS (…);`"""
    fields: list[str] = []
    for c in columns or _DEFAULT_DDSQL_COLUMNS:
        f = _ddsql_field(c)
        if f and f not in fields:
            fields.append(f)
    if not fields:
        fields = list(_DEFAULT_DDSQL_COLUMNS)
    taken: set[str] = set()
    aliases = [(_alias(f, taken), _DDSQL_TYPES.get(f, "VARCHAR")) for f in fields]
    q = query.strip()
    lines = ["SELECT * FROM dd.audit(", "  columns => ARRAY["]
    lines += [f"    {_sql_string(f)}{',' if i < len(fields) - 1 else ''}" for i, f in enumerate(fields)]
    lines.append("  ],")
    if q and q != "*":
        lines.append(f"  filter => {_sql_string(q)},")
    lines.append(f"  from_timestamp => {_sql_string(rfc3339(window.start))},")
    lines.append(f"  to_timestamp => {_sql_string(rfc3339(window.end))}")
    lines.append(") AS (")
    lines += [f"  {a} {t}{',' if i < len(aliases) - 1 else ''}" for i, (a, t) in enumerate(aliases)]
    lines.append(");")
    return "\n".join(lines)


def copy_as(
    fmt: str, query: str, window: Window, site: str | None = None, columns: Sequence[str] | None = None
) -> str:
    if fmt == "pup":
        return pup_command(query, window, site)
    if fmt == "url":
        return explorer_url(query, window, site)
    if fmt == "ddsql":
        return ddsql(query, window, columns)
    raise ValueError(f"unknown copy format {fmt!r} (known: {', '.join(FORMATS)})")
