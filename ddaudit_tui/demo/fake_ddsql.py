"""The fake DDSQL Tabular Query API, served by `fake_datadog.FakeDatadog` over its events.

Wire format: `shared/reference/ddsql-api.md` (§3 execute, §4 fetch, §5 response, §7 errors, §9 the fake
contract). `POST /api/v2/ddsql/query/tabular` takes `{"data":{"type":"ddsql_query_request","attributes":
{"query", "row_limit"?, "time":{"from_timestamp","to_timestamp"}}}}` and answers `running` (with an opaque
`query_id`) or `completed` (column-major `columns`); `POST …/fetch` polls until `completed`.

The SQL is run by real engines, never by a hand-written evaluator: sqlglot parses the DDSQL
(PostgreSQL-dialect) statement; every `dd.audit(columns => ARRAY[...], filter => '...', from_timestamp =>
…, to_timestamp => …) AS (alias TYPE, …)` call is replaced by a table materialised in an in-memory SQLite
database from the events its filter selects (the filter is the project's own query language, through the
very matcher the search endpoint uses, so both endpoints select the same events); the statement is then
transpiled to SQLite and executed there. Timestamps are INTEGER epoch milliseconds inside SQLite (and on
the wire, §5 [V]); `now()`, `TIMESTAMP '…'` and `INTERVAL '…'` become millisecond literals, and
`date_trunc` / `date_bin` integer arithmetic on them (docs/ddsql.md says which units).

This module does not import `fake_datadog` (no circle in the demo): the fake hands itself in as an
`EventStore`.
"""

from __future__ import annotations

import base64
import importlib
import logging
import re
import sqlite3
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from ddaudit_tui.events.fields import field_value
from ddaudit_tui.events.query import QuerySyntaxError, parse_query
from ddaudit_tui.events.record import Event


class _LazyModule:
    """A module imported on first use: sqlglot takes ~0.3 s to import, and the demo's fake API (which
    owns this DDSQL fake) is built before the TUI's first frame; only a DDSQL query needs sqlglot."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


sqlglot: Any = _LazyModule("sqlglot")
exp: Any = _LazyModule("sqlglot.expressions")
sqlglot_errors: Any = _LazyModule("sqlglot.errors")

__all__ = [
    "DDSQL_PERMISSION",
    "EXECUTE_PATH",
    "FETCH_PATH",
    "TRUNCATION_WARNING",
    "DdsqlConfig",
    "EventStore",
    "FakeDdsql",
]

EXECUTE_PATH = "/api/v2/ddsql/query/tabular"
FETCH_PATH = "/api/v2/ddsql/query/tabular/fetch"
DDSQL_PERMISSION = "timeseries_query"  # §1 [V]: the endpoint's permission / OAuth scope
AUDIT_PERMISSION = "audit_logs_read"  # §1 [I]: the data-access permission dd.audit presumably needs
TRUNCATION_WARNING = "Query result was truncated at the configured row_limit."  # §5 [V] spec example
DEFAULT_ROW_LIMIT, MAX_ROW_LIMIT = 5000, 10_000  # §3.1 [V]

# Output column types (`AS (...)` list): §11.2 [3P] six types, plus DOUBLE taken as DECIMAL (§10.2 [I]).
_AS_TYPES = {"BIGINT", "BOOLEAN", "DECIMAL", "JSON", "TIMESTAMP", "VARCHAR", "DOUBLE"}
_SQLITE_TYPES = {"BIGINT": "INTEGER", "BOOLEAN": "INTEGER", "DECIMAL": "REAL", "JSON": "TEXT",
                 "TIMESTAMP": "INTEGER", "VARCHAR": "TEXT"}  # fmt: skip
_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
            "WEEK": 7 * 86_400_000}  # fmt: skip
_MONDAY_MS = 4 * 86_400_000  # 1970-01-05, the first Monday: weeks (date_trunc('week')) start on Mondays
_CORE_FIELDS = {"timestamp", "id", "message", "service", "status", "source", "tiebreaker",
                "ingest_size_in_bytes", "discovery_timestamp", "random_draw"}  # fmt: skip
_MAX_SQLITE_STEPS = 50_000_000  # bounds a runaway statement (a cross join of cross joins)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


@dataclass(frozen=True)
class DdsqlConfig:
    """How the fake DDSQL API behaves.

    `running_polls`: how many `running` answers a query gets before `completed` (0: completed inline,
    as production was observed to answer [3P]; the default 1 makes every client walk the poll path).
    `truncation`: "silent" (observed [3P]) or "warn" (the spec's example warning [V]).
    `enabled=False`: the org has no DDSQL (a 403 naming it [I]).
    """

    enabled: bool = True
    running_polls: int = 1
    truncation: str = "silent"
    keep_results: int = 256  # completed results kept fetchable (§9 [I]: repeated fetches allowed)

    def __post_init__(self) -> None:
        if self.truncation not in ("silent", "warn"):
            raise ValueError(f"truncation {self.truncation!r}: expected 'silent' or 'warn'")
        if self.running_polls < 0:
            raise ValueError("running_polls must be 0 or more")


class EventStore(Protocol):
    """What the fake needs of the events it serves (`fake_datadog.FakeDatadog`)."""

    permissions: set[str]
    clock: Callable[[], float]

    def matching_events(self, query: str, start: int, end: int) -> list[Event]:
        """The events in [start, end) matching `query` (the search endpoint's own matcher), oldest first."""
        ...


class _Failure(Exception):
    """An answer other than 200: a JSON:API error body (§7.2 [V] schema, §7.3 [I] envelope)."""

    def __init__(self, status: int, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.pointer = status, detail, pointer

    def body(self) -> bytes:
        titles = {
            400: "Bad Request",
            403: "Forbidden",
            405: "Method Not Allowed",
            500: "Internal Server Error",
        }
        err: dict[str, Any] = {"status": str(self.status), "title": titles.get(self.status, "Error"),
                               "detail": self.detail}  # fmt: skip
        if self.pointer:
            err["source"] = {"pointer": self.pointer}
        return _enc.encode({"errors": [err]})


def _bad(detail: str, pointer: str | None = None) -> _Failure:
    return _Failure(400, detail, pointer)


@dataclass
class _Stored:
    owner: tuple[str, ...]
    polls_left: int
    attributes: dict[str, Any]  # the completed attributes (state, columns, warnings?)


class FakeDdsql:
    """The two DDSQL endpoints over an `EventStore`. Called under the store's lock (not thread-safe alone)."""

    def __init__(self, store: EventStore, config: DdsqlConfig | None = None) -> None:
        self.store = store
        self.config = config or DdsqlConfig()
        self._results: OrderedDict[str, _Stored] = OrderedDict()
        self._seq = 0

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """One request (auth already checked by the fake): (status, JSON body)."""
        started = time.perf_counter()
        try:
            if method != "POST":
                raise _Failure(405, "Method Not Allowed")
            if not self.config.enabled:
                raise _Failure(403, "DDSQL is not enabled for this organization")
            doc = self._decode(body)
            owner = _owner(headers)
            attrs = self._fetch(doc, owner) if path == FETCH_PATH else self._execute(doc, owner)
        except _Failure as failure:
            return failure.status, failure.body()
        elapsed = int((time.perf_counter() - started) * 1000)
        self._seq += 1
        answer = {
            "data": {
                "id": str(uuid.UUID(int=self._seq)),
                "type": "ddsql_query_response",
                "attributes": attrs,
            },
            # §5 [V] both required; request_id echoes DD-Request-ID [I], "" when absent [3P].
            "meta": {"elapsed": elapsed, "request_id": headers.get("dd-request-id", "")},
        }
        return 200, _enc.encode(answer)

    # -- endpoints ---------------------------------------------------------------------------------

    @staticmethod
    def _decode(body: bytes) -> dict[str, Any]:
        try:
            doc = _dec.decode(body) if body.strip() else None
        except msgspec.DecodeError:
            raise _bad("request body is not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
            raise _bad("request body must be an object with a `data` object", "/data")
        return doc["data"]

    def _execute(self, data: dict[str, Any], owner: tuple[str, ...]) -> dict[str, Any]:
        if data.get("type") != "ddsql_query_request":
            raise _bad("data.type must be ddsql_query_request", "/data/type")
        attrs = data.get("attributes")
        if not isinstance(attrs, dict):
            raise _bad("data.attributes is required", "/data/attributes")
        query = attrs.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _bad("query must be a non-empty string", "/data/attributes/query")
        row_limit = attrs.get("row_limit", DEFAULT_ROW_LIMIT)
        if not _is_int(row_limit) or not 1 <= row_limit <= MAX_ROW_LIMIT:
            raise _bad("row_limit must be between 1 and 10000", "/data/attributes/row_limit")
        window = attrs.get("time")
        if not isinstance(window, dict):
            raise _bad("time is required", "/data/attributes/time")
        start, end = window.get("from_timestamp"), window.get("to_timestamp")
        if not _is_int(start) or not _is_int(end):
            raise _bad(
                "time.from_timestamp and time.to_timestamp must be integers (Unix ms)",
                "/data/attributes/time",
            )
        if start > end:
            raise _bad("time.from_timestamp must not be after time.to_timestamp", "/data/attributes/time")
        now_ms = int(self.store.clock() * 1000)
        columns, truncated = _Run(self.store, start, end, now_ms).execute(query, row_limit)
        completed: dict[str, Any] = {"state": "completed", "columns": columns}
        if truncated and self.config.truncation == "warn":
            completed["warnings"] = [TRUNCATION_WARNING]
        if self.config.running_polls == 0:
            return completed
        self._seq += 1
        query_id = base64.urlsafe_b64encode(f"ddsql-fake:{self._seq}".encode()).rstrip(b"=").decode()
        self._results[query_id] = _Stored(owner, self.config.running_polls, completed)
        while len(self._results) > self.config.keep_results:
            self._results.popitem(last=False)
        return {"state": "running", "query_id": query_id}

    def _fetch(self, data: dict[str, Any], owner: tuple[str, ...]) -> dict[str, Any]:
        if data.get("type") != "ddsql_query_fetch_request":
            raise _bad("data.type must be ddsql_query_fetch_request", "/data/type")
        attrs = data.get("attributes")
        query_id = attrs.get("query_id") if isinstance(attrs, dict) else None
        if not isinstance(query_id, str) or not query_id:
            raise _bad("query_id must be a string", "/data/attributes/query_id")
        stored = self._results.get(query_id)
        if stored is None:
            raise _bad("unknown or expired query_id", "/data/attributes/query_id")
        if stored.owner != owner:  # §4 [V]: "Fetch results as the same user and organization"
            raise _Failure(403, "the query was submitted by another user")
        if stored.polls_left > 1:
            stored.polls_left -= 1
            return {"state": "running", "query_id": query_id}  # the same id again (§5.2 [I])
        stored.polls_left = 0
        return stored.attributes


def _owner(headers: dict[str, str]) -> tuple[str, ...]:
    authz = headers.get("authorization", "")
    if authz.startswith("Bearer "):
        return ("token", authz[7:].strip())
    return ("keys", headers.get("dd-api-key", ""), headers.get("dd-application-key", ""))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- one statement ------------------------------------------------------------------------------------


@dataclass
class _Source:
    """One `dd.audit(...)` call: its fields, filter, window and `AS` list."""

    table: str
    fields: list[str]
    names: list[str]
    types: list[str]
    filter: str
    start: int
    end: int


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    # sqlglot logs a warning when it falls back to a generic Command (`SHOW TABLES`): in the TUI that
    # would land on the terminal through logging's last-resort handler.
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class _Run:
    """Parse, materialise, transpile and execute one DDSQL statement."""

    def __init__(self, store: EventStore, start: int, end: int, now_ms: int) -> None:
        self.store, self.start, self.end, self.now_ms = store, start, end, now_ms
        self.db = sqlite3.connect(":memory:", uri=True)  # uri: the heavy key's rows are attached by URI
        self._heavy_attached = False
        self._in_time_order = False  # the statement orders rows (ORDER BY, a window) and groups none
        # PostgreSQL's LIKE is case-sensitive, SQLite's is not unless asked (ILIKE is transpiled apart).
        self.db.execute("PRAGMA case_sensitive_like = ON")
        # Sorts in memory, up to ~256 MB, before spilling to temporary files (the heavy key's group-bys
        # sort a million rows).
        self.db.execute("PRAGMA temp_store = MEMORY")
        self.db.execute("PRAGMA cache_size = -262144")
        self.declared: dict[str, str] = {}  # output name -> DDSQL type, from every AS list

    def execute(self, sql: str, row_limit: int) -> tuple[list[dict[str, Any]], bool]:
        try:
            tree = self._parse(sql)
            sources = self._replace_tables(tree)
            names, types = self._projection(tree)
            self._in_time_order = _reads_in_order(tree)
            for source in sources:
                self._materialise(source)
            lowered = self._lower_time(tree)
            try:
                text = lowered.sql(dialect="sqlite")
            except sqlglot_errors.SqlglotError as exc:
                raise _bad(f"unsupported SQL: {_first_line(exc)}") from None
            rows, description = self._query(text, row_limit + 1)
        finally:
            self.db.close()
        truncated = len(rows) > row_limit
        rows = rows[:row_limit]
        if names is None:  # `SELECT *`: the names SQLite reports, the types the AS lists declared
            names = [d[0] for d in description]
            types = [self.declared.get(n) for n in names]
        columns = []
        for i, (name, typ) in enumerate(zip(names, types, strict=True)):
            values = [row[i] for row in rows]
            typ = typ or _infer(values)
            columns.append({"name": name, "type": typ, "values": [_wire(v, typ) for v in values]})
        return columns, truncated

    # parsing

    def _parse(self, sql: str) -> exp.Expression:
        try:
            with _quiet_sqlglot():
                statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
        except sqlglot_errors.SqlglotError as exc:
            raise _bad(f"syntax error: {_first_line(exc)}") from None
        if len(statements) != 1:
            raise _bad(f"expected one statement, got {len(statements)}")
        tree = statements[0]
        if isinstance(tree, exp.Command):  # SHOW, SET, …: not DDSQL (§7.3 [3P] wording)
            raise _bad(f"mismatched input '{str(tree.this).upper()}'")
        if not isinstance(tree, exp.Query):
            raise _bad(f"only SELECT statements are supported, not {type(tree).__name__.upper()}")
        return tree

    def _replace_tables(self, tree: exp.Expression) -> list[_Source]:
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        sources: list[_Source] = []
        for table in list(tree.find_all(exp.Table)):
            call = table.this
            if isinstance(call, exp.Func):
                name = ".".join(p for p in (table.db, call.name if isinstance(call, exp.Anonymous) else
                                            call.sql_name()) if p).lower()  # fmt: skip
                if name != "dd.audit":
                    raise _bad(f'depends on non-existent dataset "{name}"')
                source = self._source(table, call, len(sources))
                sources.append(source)
                alias = table.args.get("alias")
                replacement = exp.Table(this=exp.to_identifier(source.table))
                if isinstance(alias, exp.TableAlias) and alias.this is not None:
                    replacement.set("alias", exp.TableAlias(this=alias.this.copy()))
                table.replace(replacement)
            elif table.db or table.name.lower() not in ctes:
                name = ".".join(p for p in (table.catalog, table.db, table.name) if p)
                raise _bad(f'depends on non-existent dataset "{name}"')
        return sources

    def _source(self, table: exp.Table, call: exp.Func, n: int) -> _Source:
        args: dict[str, exp.Expression] = {}
        for arg in call.expressions:
            if not isinstance(arg, exp.Kwarg):
                raise _bad("dd.audit takes named arguments: columns => ARRAY[...], filter => '...'")
            key = arg.this.name.lower()
            if key not in ("columns", "filter", "from_timestamp", "to_timestamp"):
                raise _bad(f"dd.audit has no parameter {key!r}")
            args[key] = arg.expression
        cols = args.get("columns")
        if not isinstance(cols, exp.Array) or not cols.expressions:
            raise _bad("dd.audit needs columns => ARRAY['field', ...]")
        fields = []
        for item in cols.expressions:
            if not (isinstance(item, exp.Literal) and item.is_string):
                raise _bad("dd.audit columns must be string literals")
            field = item.this
            if not field.startswith("@") and field not in _CORE_FIELDS:
                raise _bad(f"unknown dd.audit column {field!r} (event attributes start with @)")
            fields.append(field)
        alias = table.args.get("alias")
        defs = alias.columns if isinstance(alias, exp.TableAlias) else []
        if not defs or not all(isinstance(d, exp.ColumnDef) and d.args.get("kind") for d in defs):
            raise _bad("dd.audit(...) must be followed by AS (name TYPE, ...)")
        if len(defs) != len(fields):
            raise _bad(f"dd.audit returns {len(fields)} columns but its AS (...) list names {len(defs)}")
        names, types = [], []
        for d in defs:
            kind: exp.DataType = d.args["kind"]
            typ = kind.this.name if isinstance(kind.this, exp.DataType.Type) else ""
            if typ not in _AS_TYPES or kind.expressions or kind.args.get("nested"):
                raise _bad(f"unsupported output column type '{kind.sql('postgres').upper()}'")
            typ = "DECIMAL" if typ == "DOUBLE" else typ
            name = _ident(d.this)
            names.append(name)
            types.append(typ)
            self.declared.setdefault(name, typ)
        flt = args.get("filter")
        if flt is not None and not (isinstance(flt, exp.Literal) and flt.is_string):
            raise _bad("dd.audit filter must be a string literal")
        start = self._instant(args.get("from_timestamp"), self.start)
        end = self._instant(args.get("to_timestamp"), self.end)
        return _Source(
            f"dd_audit_{n}", fields, names, types, flt.this if flt is not None else "*", start, end
        )

    def _instant(self, expr: exp.Expression | None, default: int) -> int:
        """A from/to argument as epoch ms: a timestamp expression, an ISO string or epoch ms (§11.2 [I])."""
        if expr is None:
            return default  # "defaults to query context" [V]: the request's time window [I]
        value = self._scalar(expr)
        if _is_int(value):
            return value
        if isinstance(value, str):
            ms = _parse_instant(value)
            if ms is not None:
                return ms
        raise _bad(f"cannot use {expr.sql('postgres')} as a timestamp")

    def _scalar(self, expr: exp.Expression) -> Any:
        lowered = self._lower_time(exp.select(expr.copy()))
        rows, _ = self._query(lowered.sql(dialect="sqlite"), 1)
        return rows[0][0]

    # the answer's shape

    def _projection(self, tree: exp.Expression) -> tuple[list[str] | None, list[str | None]]:
        selects = tree.selects if isinstance(tree, exp.Query) else []
        if any(isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
               for p in selects):  # fmt: skip
            return None, []
        return [_output_name(p) for p in selects], [self._type(p) for p in selects]

    def _type(self, node: exp.Expression) -> str | None:
        """The DDSQL type of a projection, where the expression says it (else the values decide)."""
        if isinstance(node, exp.Alias | exp.Paren):
            return self._type(node.this)
        if isinstance(node, exp.Column):
            return self.declared.get(_ident(node.this)) if isinstance(node.this, exp.Identifier) else None
        if isinstance(node, exp.Count):
            return "BIGINT"
        if isinstance(node, exp.Min | exp.Max):
            return self._type(node.this)
        if isinstance(node, exp.TimestampTrunc | exp.DateTrunc | exp.DateBin | exp.CurrentTimestamp):
            return "TIMESTAMP"
        if isinstance(node, exp.Avg):
            return "DECIMAL"
        if isinstance(node, exp.Sum):  # PostgreSQL: sum of integers is an integer, of floats a float
            inner = self._type(node.this)
            return inner if inner in ("BIGINT", "DECIMAL") else None
        if isinstance(node, exp.Cast):
            target = node.to.this.name if isinstance(node.to.this, exp.DataType.Type) else ""
            return {"BIGINT": "BIGINT", "INT": "BIGINT", "DECIMAL": "DECIMAL", "DOUBLE": "DECIMAL",
                    "FLOAT": "DECIMAL", "VARCHAR": "VARCHAR", "TEXT": "VARCHAR", "TIMESTAMP": "TIMESTAMP",
                    "BOOLEAN": "BOOLEAN", "JSON": "JSON"}.get(target)  # fmt: skip
        return None

    # materialising dd.audit

    def _materialise(self, source: _Source) -> None:
        try:
            parse_query(source.filter)
        except QuerySyntaxError as exc:
            raise _bad(f"invalid dd.audit filter: {_first_line(exc)}") from None
        if AUDIT_PERMISSION not in self.store.permissions:
            raise _Failure(403, f"reading dd.audit needs the {AUDIT_PERMISSION} permission")
        events: list[Event] = []
        heavy_rows = None
        if source.start < source.end:
            split = getattr(self.store, "ddsql_sources", None)
            if split is not None:  # the store may hold the demo's heavy key: its rows are read in SQLite
                events, heavy_rows = split(source.filter, source.start, source.end)
            else:
                events = self.store.matching_events(source.filter, source.start, source.end)
        if heavy_rows is not None:
            self._heavy_view(source, events)
            return
        self._table(source.table, source, events)

    def _table(self, table: str, source: _Source, events: list[Event]) -> None:
        cols = ", ".join(
            f"{_quote(n)} {_SQLITE_TYPES[t]}" for n, t in zip(source.names, source.types, strict=True)
        )
        self.db.execute(f"CREATE TABLE {table} ({cols})")
        marks = ", ".join("?" * len(source.fields))
        pairs = list(zip(source.fields, source.types, strict=True))
        self.db.executemany(
            f"INSERT INTO {table} VALUES ({marks})",
            ([_cell(_event_field(ev, f), t) for f, t in pairs] for ev in events),
        )

    def _heavy_view(self, source: _Source, events: list[Event]) -> None:
        """`dd.audit` over the demo's heavy key: a view of its SQLite rows (loaded once, attached here),
        joined to the values each template gives the asked columns; stored events that match too are
        appended (UNION ALL). A filter that reads more than templates fix selects its rows event by event."""
        from ddaudit_tui.events.query import parse_query

        heavy = self.store.heavy  # type: ignore[attr-defined]
        q = parse_query(source.filter)
        if not heavy.template_safe(q):
            rows = heavy.match(q, source.start, source.end)
            self._table(source.table, source, [*events, *(heavy.event(i) for i in rows)])
            return
        if not self._heavy_attached:
            heavy.attach(self.db)
            self.db.create_function(
                "heavy_cell", 3, heavy.cell_function(_cell, _event_field), deterministic=True
            )
            self._heavy_attached = True
        reps = heavy.representatives()
        wanted = heavy.matching_templates(q)
        t = source.table
        per_event = {
            "timestamp",
            "discovery_timestamp",
            "id",
            "tiebreaker",
            "random_draw",
            "ingest_size_in_bytes",
        }
        fixed = [(i, f, typ) for i, (f, typ) in enumerate(zip(source.fields, source.types, strict=True))
                 if f not in per_event and not f.startswith("@timestamp")]  # fmt: skip
        defs = ", ".join(f"c{i} {_SQLITE_TYPES[typ]}" for i, _, typ in fixed)
        self.db.execute(f"CREATE TEMP TABLE {t}_t (tmpl INTEGER PRIMARY KEY{', ' + defs if defs else ''})")
        marks = ", ".join("?" * (len(fixed) + 1))
        self.db.executemany(
            f"INSERT INTO {t}_t VALUES ({marks})",
            ([k, *(_cell(_event_field(reps[k], f), typ) for _, f, typ in fixed)] for k in wanted),
        )
        if fixed:  # a GROUP BY on these columns then reads the rows in its own order: no sort of a million
            self.db.execute(f"CREATE INDEX {t}_ti ON {t}_t ({', '.join(f'c{i}' for i, _, _ in fixed)})")
        exprs = []
        fixed_at = {i for i, _, _ in fixed}
        for i, (f, typ) in enumerate(zip(source.fields, source.types, strict=True)):
            if i in fixed_at:
                exprs.append(f"t.c{i}")
            elif f in ("timestamp", "discovery_timestamp") and typ in ("TIMESTAMP", "BIGINT"):
                exprs.append("r.ts")
            elif f == "id" and typ == "VARCHAR":
                exprs.append("r.id")
            else:  # rare: a per-event value in another type, built from the event itself
                exprs.append(f"heavy_cell(r.ts, {_sql_text(f)}, {_sql_text(typ)})")
        names = ", ".join(_quote(n) for n in source.names)
        # The join order is the plan (SQLite keeps a CROSS JOIN's order). Templates first: each one's rows
        # through the covering (tmpl, ts) index, and a GROUP BY on template columns reads them in the
        # index's order, with no sort of a million rows. Rows first (in time order) for a statement that
        # orders rows without grouping them: `ORDER BY ts … LIMIT` then stops after its first rows.
        # Templates first too when they hold few rows: sorting those is cheaper than scanning every row.
        counts = heavy.template_counts()
        few = sum(counts[k] for k in wanted) <= 100_000
        joined = (
            f"heavy.rows AS r CROSS JOIN {t}_t AS t ON t.tmpl = r.tmpl"
            if self._in_time_order and not few
            else f"{t}_t AS t CROSS JOIN heavy.rows AS r ON r.tmpl = t.tmpl"
        )
        if not fixed and len(wanted) == len(reps):
            joined = "heavy.rows AS r"  # every row, no template column: the rows alone
        body = (
            f"SELECT {', '.join(exprs)} FROM {joined} "
            f"WHERE r.ts >= {int(source.start)} AND r.ts < {int(source.end)}"
        )
        if events:
            self._table(f"{t}_o", source, events)
            body += f" UNION ALL SELECT * FROM {t}_o"
        self.db.execute(f"CREATE TEMP VIEW {t} ({names}) AS {body}")

    # time: DDSQL timestamps and intervals become epoch-ms integers

    def _lower_time(self, tree: exp.Expression) -> exp.Expression:
        def leaf(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.CurrentTimestamp):
                return exp.Literal.number(self.now_ms)
            if isinstance(node, exp.Interval):
                return exp.Literal.number(_interval_ms(node))
            if isinstance(node, exp.Cast) and node.to.is_type("timestamp", "timestamptz"):
                if isinstance(node.this, exp.Literal) and node.this.is_string:
                    ms = _parse_instant(node.this.this)
                    if ms is None:
                        raise _bad(f"invalid timestamp literal {node.this.sql('postgres')}")
                    return exp.Literal.number(ms)
                return node.this  # already epoch ms
            return node

        def bucket(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
                unit = (node.args.get("unit").name if node.args.get("unit") is not None else "").upper()
                unit = unit[:-1] if unit.endswith("S") else unit
                if unit not in _UNIT_MS:
                    raise _bad(f"date_trunc unit {unit.lower()!r} is not supported by the fake")
                origin = _MONDAY_MS if unit == "WEEK" else 0
                return _floor(node.this, exp.Literal.number(origin), _UNIT_MS[unit])
            if isinstance(node, exp.DateBin):
                stride = node.this
                if isinstance(stride, exp.Literal) and stride.is_string:
                    ms = _interval_text_ms(stride.this)
                elif isinstance(stride, exp.Literal):
                    ms = int(stride.this)
                else:
                    ms = None
                if not ms or ms <= 0:
                    raise _bad("date_bin needs a positive constant interval stride, e.g. '30 minutes'")
                origin = node.args.get("unit") or exp.Literal.number(0)
                return _floor(node.expression, origin, ms)
            return node

        return tree.transform(leaf).transform(bucket)

    # SQLite

    def _query(self, text: str, limit: int) -> tuple[list[tuple[Any, ...]], Any]:
        deadline = time.monotonic() + 10.0
        self.db.set_authorizer(_read_only)
        self.db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = self.db.execute(text)
            return cursor.fetchmany(limit), cursor.description
        except sqlite3.Error as exc:
            raise _bad(f"query failed: {_first_line(exc)}") from None
        finally:
            self.db.set_authorizer(None)
            self.db.set_progress_handler(None, 0)


_ALLOWED_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}


def _read_only(action: int, *_: Any) -> int:
    """SQLite authorizer: the user's statement may read and compute, nothing else (no ATTACH, PRAGMA…)."""
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


def _floor(source: exp.Expression, origin: exp.Expression, stride: int) -> exp.Expression:
    """`source - ((source - origin) % stride + stride) % stride`: the bucket start, floored also before
    `origin` (SQLite's `%` truncates toward zero)."""
    s = exp.Literal.number(stride)
    diff = exp.Paren(this=exp.Sub(this=source.copy(), expression=origin.copy()))
    inner = exp.Paren(
        this=exp.Add(this=exp.Paren(this=exp.Mod(this=diff, expression=s)), expression=s.copy())
    )
    return exp.Paren(this=exp.Sub(this=source.copy(), expression=exp.Mod(this=inner, expression=s.copy())))


_INTERVAL = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)


def _interval_text_ms(text: str) -> int | None:
    m = _INTERVAL.match(text)
    if not m:
        return None
    unit = m.group(2).upper()
    unit = unit[:-1] if unit.endswith("S") else unit
    unit = {"MS": "MILLISECOND", "MIN": "MINUTE", "H": "HOUR", "D": "DAY"}.get(unit, unit)
    if unit not in _UNIT_MS:
        return None
    return int(float(m.group(1)) * _UNIT_MS[unit])


def _interval_ms(node: exp.Interval) -> int:
    text = node.this.name if isinstance(node.this, exp.Literal) else node.this.sql()
    unit = node.args.get("unit")
    ms = _interval_text_ms(f"{text} {unit.name}" if unit is not None else text)
    if ms is None:
        raise _bad(f"unsupported interval {node.sql('postgres')} (units: millisecond to week)")
    return ms


def _parse_instant(text: str) -> int | None:
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _ident(node: exp.Expression) -> str:
    """An identifier's name as PostgreSQL resolves it: unquoted names fold to lower case."""
    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    return node.name.lower()


def _reads_in_order(tree: Any) -> bool:
    """Whether a statement orders its rows (ORDER BY, or a window function) and groups none of them."""
    if any(isinstance(n, exp.Group) for n in tree.find_all(exp.Group)):
        return False
    return any(True for _ in tree.find_all(exp.Order)) or any(True for _ in tree.find_all(exp.Window))


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _output_name(node: exp.Expression) -> str:
    """The column name PostgreSQL gives a projection: its alias, the column, the function, else ?column?"""
    if isinstance(node, exp.Alias):
        return _ident(node.args["alias"])
    if isinstance(node, exp.Column):
        return _ident(node.this)
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
        return "date_trunc"
    if isinstance(node, exp.DateBin):
        return "date_bin"
    if isinstance(node, exp.CurrentTimestamp):
        return "now"
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return "?column?"


def _event_field(ev: Event, field: str) -> Any:
    """The value of a dd.audit column id for one event (data-directory ids, seed 001 [V])."""
    if field.startswith("@"):
        return field_value(ev, field)
    if field in ("timestamp", "discovery_timestamp"):
        return ev.ts
    if field == "id":
        return ev.id
    if field == "source":
        return next((t.split(":", 1)[1] for t in ev.tags if t.startswith("source:")), None)
    if field == "ingest_size_in_bytes":
        return len(ev.raw)
    if field == "tiebreaker":
        return zlib.crc32(ev.id.encode())
    if field == "random_draw":
        return zlib.crc32(ev.id.encode()) / 2**32
    return getattr(ev, field, None)  # message, service, status


def _cell(value: Any, typ: str) -> Any:
    """An event's value as the declared column type stores it in SQLite (None when it does not convert)."""
    if value is None:
        return None
    if typ == "VARCHAR":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        return _enc.encode(value).decode()
    if typ == "JSON":
        return _enc.encode(value).decode()
    if typ == "BOOLEAN":
        if isinstance(value, bool):
            return int(value)
        return {"true": 1, "false": 0}.get(str(value).lower())
    if typ == "TIMESTAMP":
        if _is_int(value):
            return value
        return _parse_instant(value) if isinstance(value, str) else None
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
    if number is None:
        return None
    if typ == "BIGINT":
        return int(number) if number.is_integer() else None
    return number  # DECIMAL


def _infer(values: list[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {int}:
        return "BIGINT"
    if kinds and kinds <= {int, float}:
        return "DECIMAL"
    return "VARCHAR"


def _wire(value: Any, typ: str) -> Any:
    """A SQLite value as §5 encodes its type: TIMESTAMP as epoch-ms ints, JSON as a string, null allowed."""
    if value is None:
        return None
    if typ in ("BIGINT", "TIMESTAMP"):
        return int(value) if isinstance(value, int | float) else value
    if typ == "DECIMAL":
        return float(value) if isinstance(value, int | float) else value
    if typ == "BOOLEAN":
        return bool(value)
    if typ in ("VARCHAR", "JSON") and not isinstance(value, str):
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return value


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
