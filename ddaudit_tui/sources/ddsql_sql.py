"""Building `dd.audit` statements for the DDSQL API: quoting, columns, SELECTs. Pure text — no HTTP —
so the analyses can build statements without importing the client (`sources/ddsql.py`) or httpx."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DDSQL_TYPES = frozenset({"BIGINT", "BOOLEAN", "DECIMAL", "JSON", "TIMESTAMP", "VARCHAR"})

# -- building dd.audit statements ------------------------------------------------------------------

_FIELD = re.compile(r"^@?[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def sql_literal(value: str) -> str:
    """A PostgreSQL standard string literal: `'…'` with `'` doubled (backslashes are plain characters)."""
    if "\x00" in value:
        raise ValueError("a SQL string cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"


def quote_filter_value(value: str) -> str:
    """A value as one exact phrase of the search syntax: double-quoted, `\\` and `"` escaped with a
    backslash; inside quotes `*`, `?`, `:`, `(`, `OR` and `-` are plain characters."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_term(field: str, value: str) -> str:
    """`@field:"value"` — an exact match on a facet, safe for any value (an IP, a key id, an email)."""
    if not _FIELD.match(field):
        raise ValueError(f"not a field name: {field!r}")
    return f"{field}:{quote_filter_value(value)}"


@dataclass(frozen=True)
class AuditColumn:
    """One column of `dd.audit`: the field id (`timestamp`, `@network.client.ip`), its name in the
    statement, and its DDSQL type."""

    field: str
    name: str
    type: str = "VARCHAR"

    def __post_init__(self) -> None:
        if not _FIELD.match(self.field):
            raise ValueError(f"not a dd.audit field: {self.field!r}")
        if not _NAME.match(self.name):
            raise ValueError(f"column name {self.name!r}: expected lower-case letters, digits and _")
        if self.type not in DDSQL_TYPES:
            raise ValueError(f"column type {self.type!r}: expected one of {', '.join(sorted(DDSQL_TYPES))}")


def audit_source(columns: Sequence[AuditColumn], filter: str = "*") -> str:
    """`dd.audit(columns => ARRAY[…], filter => '…') AS (name TYPE, …)`.

    No from/to arguments: the request's `time` window scopes the function ("defaults to query
    context", seed 001 [V]; that the API's query context is `time` is ddsql-api.md §11.2 [I]).
    """
    if not columns:
        raise ValueError("dd.audit needs at least one column")
    fields = ", ".join(sql_literal(c.field) for c in columns)
    names = ", ".join(f"{c.name} {c.type}" for c in columns)
    flt = "" if filter.strip() in ("", "*") else f", filter => {sql_literal(filter)}"
    return f"dd.audit(columns => ARRAY[{fields}]{flt}) AS ({names})"


def audit_query(
    select: Sequence[str],
    columns: Sequence[AuditColumn],
    filter: str = "*",
    *,
    where: str | None = None,
    group_by: Sequence[str] = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
) -> str:
    """A SELECT over one `dd.audit` call. `select`, `where`, `group_by` and `order_by` are SQL written by
    the program (never event text); `filter` is a search query (build its values with `filter_term`)."""
    parts = [f"SELECT {', '.join(select)} FROM {audit_source(columns, filter)}"]
    if where:
        parts.append(f"WHERE {where}")
    if group_by:
        parts.append(f"GROUP BY {', '.join(group_by)}")
    if order_by:
        parts.append(f"ORDER BY {', '.join(order_by)}")
    if limit is not None:
        parts.append(f"LIMIT {int(limit)}")
    return " ".join(parts)


__all__ = [
    "DDSQL_TYPES",
    "AuditColumn",
    "audit_query",
    "audit_source",
    "filter_term",
    "quote_filter_value",
    "sql_literal",
]
