"""The DDSQL client: aggregate queries over the Audit Trail, run by Datadog (`dd.audit(...)`).

Wire format: `shared/reference/ddsql-api.md`. `POST /api/v2/ddsql/query/tabular` with the statement, a
`row_limit` and the `time` window in epoch ms (§3 [V]); while the answer says `running`, `POST
…/tabular/fetch` with its `query_id` (§4, §5.2 [V]), waiting with a growing pause, within a deadline; a
`completed` answer carries the result column-major (§5 [V]), turned into rows here.

Every request goes through `DatadogClient`'s own HTTP path (`_call`): the same site / gateway base URL,
auth headers (key pair, bearer token, or none behind a gateway), proxy and CA bundle, retry policy,
shared rate limiter and secret redaction. Refusals (403, no endpoint, no `dd.audit` dataset) raise
`DdsqlRefused`, one line, so a caller can fall back to paging the search; a rejected statement raises
`DdsqlError` with Datadog's detail.

Truncation is silent in production (§5.3 [3P]) and signalled by a warning in the spec (§5 [V]): the
client asks for one row more than wanted and reports `truncated` when it gets it, or when a warning
mentions truncation.

`audit_query` builds `SELECT … FROM dd.audit(columns => ARRAY[…], filter => '…') AS (…)` statements. Its
SELECT / WHERE / GROUP BY / ORDER BY parts are SQL written by the program; anything that comes from an
event or a user (a key id, an IP, an email) goes in the filter through `filter_term`, which quotes it for
the search syntax and then for the SQL string literal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from ddaudit_tui.safetext import clean
from ddaudit_tui.sources.base import Progress, ProgressCallback
from ddaudit_tui.sources.datadog import DatadogClient
from ddaudit_tui.sources.datadog_errors import AuthError, BadRequest, DatadogError, NotFound
from ddaudit_tui.sources.ddsql_sql import (
    DDSQL_TYPES,
    AuditColumn,
    audit_query,
    audit_source,
    filter_term,
    quote_filter_value,
    sql_literal,
)
from ddaudit_tui.sources.ratelimit import Clock, Sleep, WaitReporter, seconds_text
from ddaudit_tui.timeutil import Window

__all__ = [
    "DDSQL_TYPES",
    "EXECUTE_PATH",
    "FETCH_PATH",
    "MAX_ROW_LIMIT",
    "AuditColumn",
    "DdsqlClient",
    "DdsqlError",
    "DdsqlRefused",
    "DdsqlResult",
    "DdsqlTimeout",
    "audit_query",
    "audit_source",
    "filter_term",
    "progress_reporter",
    "quote_filter_value",
    "sql_literal",
]

EXECUTE_PATH = "/api/v2/ddsql/query/tabular"
FETCH_PATH = "/api/v2/ddsql/query/tabular/fetch"
MAX_ROW_LIMIT = 10_000  # §3.1 [V]
DEFAULT_LIMIT = 5000  # the server's default row_limit (§3.1 [V])
# Output types an `AS (...)` list may declare (§11.2 [3P]; DOUBLE was refused live, so it is not offered).


# -- errors ----------------------------------------------------------------------------------------


class DdsqlError(DatadogError):
    """A DDSQL query that did not give a result: rejected (400 with Datadog's detail), or malformed."""


class DdsqlRefused(DdsqlError):
    """DDSQL is not available here: 401/403 (missing `timeseries_query` or the data's permission, DDSQL
    not enabled), no endpoint (404/405 at a gateway), or no `dd.audit` dataset. Callers fall back to
    paging the search."""


class DdsqlTimeout(DdsqlError):
    """The query was still `running` when the client's deadline came."""

    def __init__(self, message: str, *, requests: int, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.requests = requests


# -- results ---------------------------------------------------------------------------------------


@dataclass
class DdsqlResult:
    """A completed query: rows in order, the column names and DDSQL types, and how it went.

    Values keep the wire encoding (§5 [V]): TIMESTAMP as epoch-ms ints, BIGINT as ints, DECIMAL as
    floats; JSON columns are decoded. `requests` counts this query's execute and fetch calls (the
    client's retries of one call, if any, count once).
    """

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]] = field(repr=False)
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    elapsed_ms: int | None = None  # server-side, of the completing answer

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


class _Column(msgspec.Struct):
    name: str
    type: str
    values: list[Any]


class _Attributes(msgspec.Struct):
    state: str
    query_id: str | None = None
    columns: list[_Column] | None = None
    warnings: list[str] | None = None


class _Data(msgspec.Struct):
    attributes: _Attributes


class _Meta(msgspec.Struct):
    elapsed: int | None = None


class _Answer(msgspec.Struct):
    data: _Data
    meta: _Meta | None = None


_answer = msgspec.json.Decoder(_Answer)


# -- the client ------------------------------------------------------------------------------------


class DdsqlClient:
    """Runs DDSQL statements through a `DatadogClient` (its site, gateway, auth, retries, rate limiter).

    `poll_s` is the first pause before a fetch, doubling up to `max_poll_s`; `deadline_s` bounds a whole
    query (execute, polls and pauses). `requests` counts every execute and fetch call of this client.
    `report(seconds, message)` hears every wait, as a fetch's progress does: the pauses of a `running`
    query ("waiting for DDSQL (query running, 4 s)"), rate-limit waits and retries; `(0, "")` ends one.
    """

    def __init__(
        self,
        client: DatadogClient,
        *,
        poll_s: float = 0.5,
        max_poll_s: float = 4.0,
        deadline_s: float = 120.0,
        sleep: Sleep | None = None,
        clock: Clock = time.monotonic,
        report: WaitReporter | None = None,
    ) -> None:
        if poll_s <= 0 or max_poll_s < poll_s or deadline_s <= 0:
            raise ValueError("expected 0 < poll_s <= max_poll_s and deadline_s > 0")
        self.client = client
        self.poll_s, self.max_poll_s, self.deadline_s = poll_s, max_poll_s, deadline_s
        # The DatadogClient's own sleep by default: tests that record its waits record these too.
        self._sleep: Sleep = sleep if sleep is not None else client._sleep
        self._clock = clock
        self.report = report
        self.requests = 0

    async def query(self, sql: str, window: Window, *, limit: int = DEFAULT_LIMIT) -> DdsqlResult:
        """Run `sql` over `window` ([start, end) epoch ms), at most `limit` rows (1 to 10,000)."""
        if not 1 <= limit <= MAX_ROW_LIMIT:
            raise ValueError(f"limit {limit} out of range: expected 1 to {MAX_ROW_LIMIT}")
        started = self._clock()
        deadline = started + self.deadline_s
        body = {
            "data": {
                "type": "ddsql_query_request",
                "attributes": {
                    "query": sql,
                    # One more than wanted: production cuts at row_limit without a word (§5.3 [3P]).
                    "row_limit": min(limit + 1, MAX_ROW_LIMIT),
                    "time": {"from_timestamp": window.start, "to_timestamp": window.end},
                },
            }
        }
        requests = 1
        answer = await self._post(EXECUTE_PATH, body)
        if answer.data.attributes.state == "running":
            answer, requests = await self._poll(answer, requests, started, deadline)
        if answer.data.attributes.state != "completed":
            state = clean(answer.data.attributes.state, max_len=40)
            raise DdsqlError(f"{self.client.host} answered an unknown DDSQL state {state!r}")
        return self._result(answer, limit, requests)

    async def _poll(
        self, answer: _Answer, requests: int, started: float, deadline: float
    ) -> tuple[_Answer, int]:
        """Fetch while the answer says `running`, pausing longer each time (reported as progress)."""
        try:
            return await self._poll_until_done(answer, requests, started, deadline)
        finally:
            if self.report is not None:
                self.report(0.0, "")  # the wait is over (answered, failed or cancelled)

    async def _poll_until_done(
        self, answer: _Answer, requests: int, started: float, deadline: float
    ) -> tuple[_Answer, int]:
        pause = self.poll_s
        while answer.data.attributes.state == "running":
            query_id = answer.data.attributes.query_id
            if not query_id:
                raise DdsqlError(f"{self.client.host} answered `running` without a query_id")
            if self._clock() + pause > deadline:
                raise DdsqlTimeout(
                    f"DDSQL query still running on {self.client.host} after {seconds_text(self.deadline_s)} "
                    f"({requests} requests)",
                    requests=requests,
                    hint="narrow the window, or page the search instead",
                )
            if self.report is not None:
                running = seconds_text(self._clock() - started)
                self.report(pause, f"waiting for DDSQL (query running, {running})")
            await self._sleep(pause)
            pause = min(pause * 2, self.max_poll_s)
            fetch = {"data": {"type": "ddsql_query_fetch_request", "attributes": {"query_id": query_id}}}
            requests += 1
            answer = await self._post(FETCH_PATH, fetch)
        return answer, requests

    async def _post(self, path: str, body: dict[str, Any]) -> _Answer:
        self.requests += 1

        def parse(response: httpx.Response) -> _Answer:
            return _answer.decode(response.content)  # a bad body is retried like any other (DatadogClient)

        try:
            return await self.client._call(
                "POST", path, op="ddsql", json=body, parse=parse, report=self.report
            )
        except (AuthError, NotFound) as exc:
            raise self._refused(exc) from None
        except BadRequest as exc:
            if exc.status == 405 or "non-existent dataset" in exc.reason:
                raise self._refused(exc) from None
            raise DdsqlError(
                f"DDSQL rejected the query: {exc.message}",
                status=exc.status,
                reason=exc.reason,
                hint="the statement uses something DDSQL does not support",
            ) from None

    def _refused(self, exc: DatadogError) -> DdsqlRefused:
        return DdsqlRefused(
            f"DDSQL refused by {self.client.host} ({exc.reason})",
            status=exc.status,
            reason=exc.reason,
            hint="it needs the timeseries_query permission, audit_logs_read and DDSQL enabled on the org",
        )

    def _result(self, answer: _Answer, limit: int, requests: int) -> DdsqlResult:
        attrs = answer.data.attributes
        columns = attrs.columns or []
        lengths = {len(c.values) for c in columns}
        if len(lengths) > 1:
            raise DdsqlError(
                f"{self.client.host} answered columns of different lengths (rows {sorted(lengths)})"
            )
        for c in columns:
            if c.type.upper() == "JSON":  # §5 [V]: a JSON value travels as a JSON-encoded string
                c.values = [_json_value(v) for v in c.values]
        rows = list(zip(*(c.values for c in columns), strict=True))
        warnings = [clean(w, max_len=300) for w in attrs.warnings or []]
        truncated = len(rows) > limit or any("truncat" in w.lower() for w in warnings)
        return DdsqlResult(
            columns=[c.name for c in columns],
            types=[c.type.upper() for c in columns],
            rows=rows[:limit],
            truncated=truncated,
            warnings=warnings,
            requests=requests,
            elapsed_ms=answer.meta.elapsed if answer.meta is not None else None,
        )


def progress_reporter(progress: ProgressCallback | None) -> WaitReporter | None:
    """A DDSQL client's waits told to a fetch's progress callback (`Progress.waiting_s` and `message`),
    so the CLI's progress line and a pane's header show them as they show a rate-limit wait."""
    if progress is None:
        return None

    def report(seconds: float, message: str) -> None:
        progress(Progress(waiting_s=seconds, message=message))

    return report


def _json_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return msgspec.json.decode(value)
    except msgspec.DecodeError:
        return value
