"""Compliance evidence from the Audit Trail: the dd-audit-compliance-report recipe (`detections.md` §4.2).

The recipe's control queries for SOC 2 (CC6.2, CC6.3, CC6.6, CC7.2) and PCI DSS (10.2.2–10.2.7), each run
through the `Source` as a pushed-down search (one fetch per distinct query, a few at a time), paginated to
the end — unlike `pup`, whose single page silently truncates the recipe's `--limit 500/1000` tables. Plus:

- the retention check, run first as the recipe says, with both queries: its own
  `@evt.name:"Audit Trail" @action:modified` and `@evt.name:"Organization Management"
  @asset.type:audit_logs_settings`, where Audit Trail *settings* changes are actually logged;
- the retention status of the period (90-day default exceeded? any event at all at its start?);
- for PCI, the 10.3.x field-presence checks over every event gathered, and 10.7 (12 months' retention);
- the Gaps: controls with no events (and why that may be), partial or failed fetches, missing fields,
  and the recipe's caveats.

Everything is plain, JSON-able data (`dataclasses.asdict`); `report/compliance_report.py` renders it.
No Textual here: the CLI runs `build_compliance` with `asyncio.run`, the TUI in a worker.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback, Source
from ddaudit_tui.sources.completeness import Completeness, metering
from ddaudit_tui.timeutil import Window, fmt_ts

__all__ = [
    "FRAMEWORKS",
    "FRAMEWORK_NAMES",
    "ControlSpec",
    "ControlQuery",
    "FieldCheckSpec",
    "EvidenceRow",
    "ControlResult",
    "FieldCheck",
    "RetentionStatus",
    "Gap",
    "ComplianceReport",
    "catalogue",
    "field_checks",
    "normalise_framework",
    "build_compliance",
    "BASE_COLUMNS",
    "DEFAULT_RETENTION_DAYS",
]

DAY_MS = 86_400_000
DEFAULT_RETENTION_DAYS = 90  # the recipe's figure; documentation revisions differ (datadog-api.md §1.13)
SHORT_RETENTION_DAYS = 7  # the default when Audit Trail is disabled: older empty results are doubtful
# An org can be quiet for a weekend: only a longer silence at the start of the period questions retention.
START_PROBE_DAYS = 2
PCI_RETENTION_DAYS = 365
CONCURRENCY = 4  # control queries in flight at once (each may itself be sliced by the client)

# -- the recipe's queries, verbatim ---------------------------------------------------------------------

Q_USERS = '@evt.name:"Access Management" @asset.type:user @action:(created OR deleted OR modified)'
Q_ROLES = '@evt.name:"Access Management" @asset.type:role'
Q_FAILED_LOGINS = "@evt.name:Authentication @action:login @status:error"
Q_SUPPORT = "@evt.actor.type:SUPPORT_USER"
Q_ORG_MANAGEMENT = '@evt.name:"Organization Management"'
Q_AUDIT_TRAIL = '@evt.name:"Audit Trail"'
Q_LOGINS = "@evt.name:Authentication @action:login"
Q_CREATE_DELETE = "@action:(created OR deleted)"
# The recipe's retention check, and where Audit Trail settings changes are really logged (§4.2 caveat).
Q_RETENTION_CHECK = '@evt.name:"Audit Trail" @action:modified'
Q_AUDIT_SETTINGS = '@evt.name:"Organization Management" @asset.type:audit_logs_settings'
RETENTION_QUERIES = (Q_RETENTION_CHECK, Q_AUDIT_SETTINGS)
# The recipe's retention-check projection.
RETENTION_COLUMNS = ("timestamp", "user", "action", "resource")

# The Evidence Report template's table columns, as jq-style names (every row carries them).
BASE_COLUMNS = ("timestamp", "actor", "action", "resource_type", "resource_id", "ip", "country")

FRAMEWORKS = ("soc2", "pci")
FRAMEWORK_NAMES = {"soc2": "SOC 2", "pci": "PCI DSS"}
_ALIASES = {
    "soc2": "soc2", "soc-2": "soc2", "soc 2": "soc2", "soc_2": "soc2",
    "pci": "pci", "pci-dss": "pci", "pcidss": "pci", "pci dss": "pci", "pci_dss": "pci",
}  # fmt: skip


def normalise_framework(name: str) -> str:
    """`soc2` / `pci` from what a user may type (`SOC 2`, `pci-dss`…); ValueError otherwise."""
    key = " ".join(str(name).strip().lower().split())
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown compliance framework {name!r}: expected soc2 or pci")


# -- the catalogue --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlQuery:
    """One recipe query and its jq projection (the field names of its output)."""

    query: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ControlSpec:
    """A control (or PCI requirement): the recipe's query or queries and their jq field names."""

    id: str
    name: str
    sources: tuple[ControlQuery, ...]
    description: str = ""  # what the evidence shows (the mapping table's "Audit Trail Query" column)

    @property
    def queries(self) -> tuple[str, ...]:
        return tuple(s.query for s in self.sources)

    @property
    def query(self) -> str:
        """The exact recipe query (the first one when the requirement needs several)."""
        return self.sources[0].query

    @property
    def columns(self) -> tuple[str, ...]:
        """The recipe's jq field names, in order, over all its queries."""
        seen: dict[str, None] = {}
        for s in self.sources:
            seen.update(dict.fromkeys(s.columns))
        return tuple(seen)


_CC62 = ControlQuery(Q_USERS, ("timestamp", "actor", "action", "affected_user"))
_CC63 = ControlQuery(Q_ROLES, ("timestamp", "actor", "action", "role_id"))
_CC66 = ControlQuery(Q_FAILED_LOGINS, ("timestamp", "user", "ip", "country"))
_CC72 = ControlQuery(Q_SUPPORT, ("timestamp", "support_actor", "action", "resource_type", "resource_id"))
_ORG = ControlQuery(Q_ORG_MANAGEMENT, ("timestamp", "actor", "action", "resource_type"))
_AUDIT = ControlQuery(Q_AUDIT_TRAIL, ("timestamp", "actor", "action", "resource_type"))
_LOGINS = ControlQuery(Q_LOGINS, ("timestamp", "user", "auth_method", "result", "ip", "country"))
_RETENTION = ControlQuery(Q_RETENTION_CHECK, RETENTION_COLUMNS)
_SETTINGS = ControlQuery(Q_AUDIT_SETTINGS, RETENTION_COLUMNS)
_CREATE_DELETE = ControlQuery(
    Q_CREATE_DELETE, ("timestamp", "user", "action", "resource_type", "resource_id", "ip")
)

SOC2: tuple[ControlSpec, ...] = (
    ControlSpec("CC6.2", "User registration and deprovisioning", (_CC62,), "User lifecycle events"),
    ControlSpec("CC6.3", "Role-based access", (_CC63,), "Permission change log"),
    ControlSpec("CC6.6", "Logical access boundaries", (_CC66,), "Failed logins, geo anomalies"),
    ControlSpec("CC7.2", "System monitoring — anomaly detection", (_CC72,), "Privileged/support access"),
)
PCI: tuple[ControlSpec, ...] = (
    ControlSpec(
        "10.2.2", "Actions by root/privileged users", (_CC72, _ORG), "Support user and org admin events"
    ),
    ControlSpec("10.2.3", "Access to audit trail", (_AUDIT,), "Audit Trail config events"),
    ControlSpec("10.2.4", "Invalid access attempts", (_CC66,), "Failed authentication events"),
    ControlSpec("10.2.5", "Use of identification/auth mechanisms", (_LOGINS,), "All login events"),
    ControlSpec(
        "10.2.6",
        "Initialization/stopping of audit logs",
        (_RETENTION, _SETTINGS),
        "Audit retention setting changes",
    ),
    ControlSpec(
        "10.2.7", "Creation/deletion of system objects", (_CREATE_DELETE,), "All create/delete events"
    ),
)


def catalogue(framework: str) -> tuple[ControlSpec, ...]:
    return SOC2 if normalise_framework(framework) == "soc2" else PCI


@dataclass(frozen=True)
class FieldCheckSpec:
    """A PCI 10.3.x requirement checked as field presence over the events gathered."""

    id: str
    name: str
    fields: tuple[str, ...]
    scope: str  # which events the field is expected on (a plural noun phrase: "events", …)
    expectation: str  # the mapping table's wording


PCI_FIELD_CHECKS: tuple[FieldCheckSpec, ...] = (
    FieldCheckSpec("10.3.1", "User identification", ("@usr.email",), "user-initiated events",
                   "Present on all user-initiated events"),
    FieldCheckSpec("10.3.2", "Event type", ("@action", "@evt.name"), "events", "Present on all events"),
    FieldCheckSpec("10.3.3", "Date and time", ("timestamp",), "events", "ISO 8601 UTC on all events"),
    FieldCheckSpec("10.3.4", "Success/failure indication", ("@status",), "events", "info/error/warn"),
    FieldCheckSpec("10.3.5", "Origination of event", ("@network.client.ip",), "events",
                   "Present on most events"),
    FieldCheckSpec("10.3.6", "Identity of affected data/component", ("@asset.type", "@asset.id"),
                   "resource events (created, modified, deleted)", "Present on resource events"),
)  # fmt: skip

_USER_ACTORS = frozenset({"USER", "SUPPORT_USER"})
_RESOURCE_ACTIONS = frozenset({"created", "modified", "deleted"})


def field_checks(framework: str) -> tuple[FieldCheckSpec, ...]:
    return PCI_FIELD_CHECKS if normalise_framework(framework) == "pci" else ()


def _in_scope(check_id: str, e: Event) -> bool:
    if check_id == "10.3.1":
        return (e.actor_type or "").upper() in _USER_ACTORS
    if check_id == "10.3.6":
        return (e.action or "").lower() in _RESOURCE_ACTIONS
    return True


def _has_fields(check_id: str, e: Event) -> bool:
    if check_id == "10.3.1":
        return bool(e.usr_email)
    if check_id == "10.3.2":
        return bool(e.action) and bool(e.evt_name)
    if check_id == "10.3.3":
        return e.ts > 0
    if check_id == "10.3.4":
        return bool(e.status)
    if check_id == "10.3.5":
        return bool(e.client_ip)
    if check_id == "10.3.6":
        return bool(e.asset_type) and bool(e.asset_id)
    raise KeyError(check_id)


# -- results ----------------------------------------------------------------------------------------------


@dataclass
class EvidenceRow:
    """One event as evidence: the template's columns, plus the recipe's own jq fields in `extra`."""

    event_id: str
    ts: int  # epoch ms UTC
    actor: str | None
    action: str | None
    resource_type: str | None
    resource_id: str | None
    ip: str | None
    country: str | None
    actor_type: str | None = None
    evt_name: str | None = None
    resource_name: str | None = None
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def value(self, column: str) -> Any:
        """The value of a jq field name (`timestamp` is the epoch-ms time; renderers format it)."""
        if column == "timestamp":
            return self.ts
        if column in self.extra:
            return self.extra[column]
        if column in BASE_COLUMNS:
            return getattr(self, column)
        return _jq_value(self, column)


def _jq_value(row: EvidenceRow, column: str) -> Any:
    """The recipe's jq fields that are other names for what a row holds (`detections.md` §4.2)."""
    if column == "user":  # .usr.email
        return row.actor
    if column in ("affected_user", "role_id"):  # .asset.id
        return row.resource_id
    if column == "support_actor":  # .usr.email, on SUPPORT_USER events
        return row.actor if (row.actor_type or "").upper() == "SUPPORT_USER" else None
    if column == "result":  # .status
        return row.status
    if column == "resource":  # .asset.type
        return row.resource_type
    return None


def _row(e: Event, columns: Sequence[str]) -> EvidenceRow:
    row = EvidenceRow(
        event_id=e.id,
        ts=e.ts,
        actor=e.usr_email or e.usr_name or e.usr_id or e.delegator_name,
        action=e.action,
        resource_type=e.asset_type,
        resource_id=e.asset_id,
        ip=e.client_ip,
        country=e.country,
        actor_type=e.actor_type,
        evt_name=e.evt_name,
        resource_name=e.asset_name,
        status=e.status,
    )
    for col in columns:
        if col in BASE_COLUMNS:
            continue
        row.extra[col] = e.auth_method if col == "auth_method" else _jq_value(row, col)
    return row


@dataclass
class ControlResult:
    id: str
    name: str
    description: str
    queries: list[str]
    columns: list[str]  # the recipe's jq field names
    rows: list[EvidenceRow]  # oldest first, each event once
    complete: bool = True
    warnings: list[str] = field(default_factory=list)  # partial fetches, one line each
    failed: list[str] = field(default_factory=list)  # queries that could not be run, with the reason
    query_counts: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass
class FieldCheck:
    id: str
    name: str
    fields: list[str]
    scope: str
    expectation: str
    checked: int
    present: int
    missing_by_actor_type: dict[str, int] = field(default_factory=dict)
    missing_examples: list[str] = field(default_factory=list)  # a few event ids

    @property
    def missing(self) -> int:
        return self.checked - self.present


@dataclass
class RetentionStatus:
    covered: bool  # ✓ (True) or ⚠ (False) for the requested period
    lines: list[str]  # the Retention Status lines, ✓/⚠ first
    period_days: float
    default_days: int
    required_days: int | None  # PCI: 365; SOC 2: auditor's discretion
    start_has_events: bool | None  # any audit event at all in the first START_PROBE_DAYS of the period
    data_from: int | None  # when that is False: about when the audit data begins (epoch ms, day precision)
    start_age_days: float  # how long ago the period starts
    oldest_event: int | None  # the oldest event this report found (epoch ms)
    issues: list[str] = field(default_factory=list)  # why the period may not be covered (for the Gaps)
    settings_changes: list[EvidenceRow] = field(default_factory=list)
    check_counts: dict[str, int] = field(default_factory=dict)  # the two retention-check queries


@dataclass
class Gap:
    control: str  # a control id, or "retention", "scope"
    kind: str  # no_events | partial | failed | field | retention | caveat
    reason: str


@dataclass
class ComplianceReport:
    framework: str  # soc2 | pci
    framework_name: str  # SOC 2 | PCI DSS
    organization: str
    org_uuid: str | None
    window: Window
    generated: int  # epoch ms
    source: str
    retention: RetentionStatus
    controls: list[ControlResult]
    checks: list[FieldCheck]
    gaps: list[Gap]
    warnings: list[str]  # partial/failed fetches, for stderr
    total_events: int  # distinct events behind the report
    completeness: Completeness | None = None  # requests, rate limit, partial reasons, retention, time

    @property
    def complete(self) -> bool:
        return all(c.complete and not c.failed for c in self.controls)

    def control(self, control_id: str) -> ControlResult:
        for c in self.controls:
            if c.id == control_id:
                return c
        raise KeyError(control_id)


# -- fetching ---------------------------------------------------------------------------------------------


class _ProgressMux:
    """One progress line over several concurrent fetches: their sums, and queries done / total."""

    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0
        self.latest: dict[str, Progress] = {}

    def for_query(self, query: str) -> ProgressCallback | None:
        if self.callback is None:
            return None

        def report(p: Progress) -> None:
            self.latest[query] = p
            self._emit(p.message)

        return report

    def finished(self) -> None:
        self.done += 1
        self._emit("")

    def _emit(self, message: str) -> None:
        if self.callback is None:
            return
        ps = self.latest.values()
        self.callback(
            Progress(
                events=sum(p.events for p in ps),
                pages=sum(p.pages for p in ps),
                slices_done=self.done,
                slices_total=self.total,
                waiting_s=max((p.waiting_s for p in ps), default=0.0),
                message=message,
            )
        )


def _is_auth_error(exc: BaseException) -> bool:
    from ddaudit_tui.sources.datadog_errors import AuthError

    return isinstance(exc, AuthError)


def _is_source_error(exc: BaseException) -> bool:
    """A failure of one search (API error, timeout…) — a gap in the evidence, not a crash."""
    from ddaudit_tui.sources.datadog_errors import DatadogError

    return isinstance(exc, DatadogError | OSError)


async def _fetch_all(
    source: Source, queries: Sequence[str], window: Window, progress: ProgressCallback | None, limit: int
) -> dict[str, FetchResult | BaseException]:
    mux = _ProgressMux(progress, len(queries))
    sem = asyncio.Semaphore(max(1, limit))

    async def one(q: str) -> FetchResult | BaseException:
        async with sem:
            try:
                return await source.fetch(q, window, mux.for_query(q))
            except Exception as exc:
                if _is_auth_error(exc) or not _is_source_error(exc):
                    raise
                return exc
            finally:
                mux.finished()

    results = await asyncio.gather(*(one(q) for q in queries))
    return dict(zip(queries, results, strict=True))


@dataclass
class _Coverage:
    start_has_events: bool | None
    any_events: bool | None
    data_from: int | None = None


async def _coverage(source: Source, window: Window) -> _Coverage:
    """Does the audit data reach back to the start of the period? A couple of `page.limit: 1` questions:
    anything in its first days; if not, anything at all; if so, a bisection to the first day with data."""
    head = Window(window.start, min(window.end, window.start + START_PROBE_DAYS * DAY_MS))
    first = await _exists(source, "*", head)
    if first is not False or head.end >= window.end:
        return _Coverage(first, first)
    lo, hi = head.end, window.end
    rest = await _exists(source, "*", Window(lo, hi))
    if not rest:
        return _Coverage(False, rest)
    while hi - lo > DAY_MS:  # [window.start, lo) holds nothing, [lo, hi) holds something
        mid = (lo + hi) // 2
        found = await _exists(source, "*", Window(lo, mid))
        if found is None:
            break
        if found:
            hi = mid
        else:
            lo = mid
    return _Coverage(False, True, lo)


async def _exists(source: Source, query: str, window: Window) -> bool | None:
    """Whether anything matches; None when the source cannot say (the answer is then not guessed)."""
    try:
        fn = getattr(source, "exists", None)
        if callable(fn):
            return bool(await fn(query, window))
        return bool((await source.fetch(query, window)).events)
    except Exception as exc:
        if _is_auth_error(exc) or not _is_source_error(exc):
            raise
        return None


# -- building -----------------------------------------------------------------------------------------------


def _control_result(spec: ControlSpec, fetched: dict[str, FetchResult | BaseException]) -> ControlResult:
    rows: dict[str, EvidenceRow] = {}
    result = ControlResult(
        spec.id, spec.name, spec.description, list(spec.queries), list(spec.columns), rows=[]
    )
    for src in spec.sources:
        got = fetched[src.query]
        if isinstance(got, BaseException):
            result.failed.append(f"{src.query}: {_one_line(got)}")
            result.complete = False
            continue
        result.query_counts[src.query] = len(got.events)
        if not got.complete:
            result.complete = False
            result.warnings += [f"{src.query}: {w}" for w in got.warnings] or [f"{src.query}: incomplete"]
        for e in got.events:
            if e.id not in rows:
                rows[e.id] = _row(e, spec.columns)
    result.rows = sorted(rows.values(), key=lambda r: (r.ts, r.event_id))
    return result


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _organization(events: Iterable[Event]) -> tuple[str, str | None]:
    names: Counter[str] = Counter()
    uuids: Counter[str] = Counter()
    for e in events:
        if e.org_name:
            names[e.org_name] += 1
        if e.org_uuid:
            uuids[e.org_uuid] += 1
    name = names.most_common(1)[0][0] if names else "unknown"
    uuid = uuids.most_common(1)[0][0] if uuids else None
    return name, uuid


def _retention_days_change(e: Event) -> tuple[Any, Any]:
    """(previous, new) retention in days from an Audit Trail settings change, when the event says."""
    try:
        asset = e.inner().get("asset")
    except Exception:  # a raw item that does not decode: the change is still listed, without numbers
        return None, None
    if not isinstance(asset, dict):
        return None, None

    def days(side: Any) -> Any:
        if not isinstance(side, dict):
            return None
        for key in ("retention_days", "retention_period_days", "retention"):
            v = side.get(key)
            if isinstance(v, int | float) and not isinstance(v, bool):
                return int(v)
        return None

    return days(asset.get("prev_value")), days(asset.get("new_value"))


def _field_check(spec: FieldCheckSpec, events: Sequence[Event]) -> FieldCheck:
    checked = present = 0
    by_type: Counter[str] = Counter()
    examples: list[str] = []
    for e in events:
        if not _in_scope(spec.id, e):
            continue
        checked += 1
        if _has_fields(spec.id, e):
            present += 1
        else:
            by_type[e.actor_type or "(none)"] += 1
            if len(examples) < 5:
                examples.append(e.id)
    return FieldCheck(
        spec.id, spec.name, list(spec.fields), spec.scope, spec.expectation, checked, present,
        dict(by_type.most_common()), examples,
    )  # fmt: skip


def _retention(
    framework: str,
    window: Window,
    now_ms: int,
    coverage: _Coverage,
    oldest: int | None,
    settings_rows: list[EvidenceRow],
    check_counts: dict[str, int],
) -> RetentionStatus:
    period_days = window.duration_ms / DAY_MS
    start_age = (now_ms - window.start) / DAY_MS
    issues: list[str] = []
    if period_days > DEFAULT_RETENTION_DAYS:
        # The template's own line, verbatim.
        issues.append(
            f"Requested period exceeds {DEFAULT_RETENTION_DAYS}-day default. "
            "Archive config required for complete coverage."
        )
    if coverage.start_has_events is False and start_age > SHORT_RETENTION_DAYS:
        if coverage.data_from is not None:
            gap_days = (coverage.data_from - window.start) // DAY_MS
            issues.append(
                f"No audit event at all from the requested start until about {fmt_ts(coverage.data_from)} "
                f"({gap_days} days later): the start of the period is possibly outside Audit Trail retention."
            )
        elif coverage.any_events is False:
            issues.append(
                "No audit event at all in the period: it is possibly outside Audit Trail retention "
                "(or Audit Trail is disabled)."
            )
        else:
            issues.append(
                f"No audit event at all in the first {START_PROBE_DAYS} days of the period: its start is "
                "possibly outside Audit Trail retention."
            )
    elif coverage.start_has_events is None and start_age > SHORT_RETENTION_DAYS:
        issues.append("Retention coverage could not be checked: the source did not answer the probe.")
    covered = not issues
    lines = ["✓ Full period covered by Audit Trail retention"] if covered else [f"⚠ {x}" for x in issues]
    if settings_rows:
        last = settings_rows[-1]
        prev, new = (last.extra.get("retention_prev"), last.extra.get("retention_new"))
        change = f": retention {prev} → {new} days" if prev is not None and new is not None else ""
        n = len(settings_rows)
        lines.append(
            f"⚠ Audit Trail settings were changed during the period ({n} change{'s' if n != 1 else ''}; "
            f"latest {fmt_ts(last.ts)} by {last.actor or 'unknown'}{change}). "
            "A shortened retention removes older evidence."
        )
    return RetentionStatus(
        covered=covered,
        lines=lines,
        period_days=round(period_days, 3),
        default_days=DEFAULT_RETENTION_DAYS,
        required_days=PCI_RETENTION_DAYS if framework == "pci" else None,
        start_has_events=coverage.start_has_events,
        data_from=coverage.data_from,
        start_age_days=round(start_age, 3),
        oldest_event=oldest,
        issues=issues,
        settings_changes=settings_rows,
        check_counts=check_counts,
    )


def _no_events_reason(
    c: ControlResult, retention: RetentionStatus, any_events: bool | None, window: Window
) -> str:
    if any_events is False:
        return (
            "No events matched, and the source holds no audit events at all for the period: Audit Trail may be "
            "disabled, the period may be outside its retention, or the credentials may lack the "
            "audit_logs_read permission."
        )
    if retention.covered and (retention.start_has_events or retention.start_age_days <= SHORT_RETENTION_DAYS):
        return (
            "No events matched. Most likely none happened: other audit events exist from the start of the "
            "period, so it is within retention and readable with these credentials."
        )
    return (
        "No events matched. Either none happened, or they are possibly outside retention: the period starts "
        f"{int(retention.start_age_days)} days ago and Audit Trail retention may be as short as "
        f"{SHORT_RETENTION_DAYS} days (documentation differs: {DEFAULT_RETENTION_DAYS} days by default when "
        "enabled, 7 when disabled), or the credentials cannot read them (audit_logs_read)."
    )


def _gaps(
    framework: str,
    controls: list[ControlResult],
    checks: list[FieldCheck],
    retention: RetentionStatus,
    any_events: bool | None,
    window: Window,
) -> list[Gap]:
    gaps: list[Gap] = []
    if retention.issues:
        gaps.append(Gap("retention", "retention", " ".join(retention.issues)))
    for c in controls:
        for failure in c.failed:
            gaps.append(
                Gap(c.id, "failed", f"A query could not be run, so its evidence is missing — {failure}")
            )
        if c.warnings:
            gaps.append(
                Gap(
                    c.id,
                    "partial",
                    "Partial fetch: the events listed are a lower bound — " + "; ".join(c.warnings),
                )
            )
        if not c.rows and not c.failed:
            gaps.append(Gap(c.id, "no_events", _no_events_reason(c, retention, any_events, window)))
    for chk in checks:
        if chk.missing <= 0:
            continue
        who = ", ".join(f"{t}: {n}" for t, n in chk.missing_by_actor_type.items())
        gaps.append(
            Gap(
                chk.id,
                "field",
                f"{chk.missing} of {chk.checked} {chk.scope} have no {' / '.join(chk.fields)} "
                f"(by actor type — {who}); for those events the {chk.name.lower()} is not evidenced by "
                "the Audit Trail (internal, Datadog support or pre-enrichment events often lack it).",
            )
        )
    counts = retention.check_counts
    gaps.append(
        Gap(
            "retention",
            "caveat",
            f"The recipe's retention check `{Q_RETENTION_CHECK}` does not see Audit Trail settings changes, which "
            f"are logged as `{Q_AUDIT_SETTINGS}`; both were queried ({counts.get(Q_RETENTION_CHECK, 0)} and "
            f"{counts.get(Q_AUDIT_SETTINGS, 0)} events).",
        )
    )
    if framework == "pci":
        gaps.append(
            Gap(
                "10.7",
                "retention",
                f"PCI DSS requires 12 months of audit logs; the Audit Trail keeps {DEFAULT_RETENTION_DAYS} days "
                "by default and its archives cannot be queried through the API, so this report cannot confirm "
                "them. Configure an archive (Datadog UI > Security > Audit Trail > Configure > Archive to "
                "S3/GCS/Azure Blob) and keep it 12 months.",
            )
        )
        gaps.append(
            Gap(
                "10.2.1",
                "caveat",
                "Access to cardholder data is not evidenced: the Audit Trail covers the Datadog platform, not "
                "the cardholder data environment it monitors.",
            )
        )
    elif retention.covered:  # otherwise the retention gap above already says it
        gaps.append(
            Gap(
                "retention",
                "caveat",
                "SOC 2 auditors typically expect 12 months of audit logs (their discretion); the Audit Trail "
                f"keeps {DEFAULT_RETENTION_DAYS} days by default — confirm an archive is configured.",
            )
        )
    return gaps


async def build_compliance(
    source: Source,
    framework: str,
    window: Window,
    progress: ProgressCallback | None = None,
    now: float | None = None,
    concurrency: int = CONCURRENCY,
) -> ComplianceReport:
    """Run the framework's control queries (and the retention check) over `window` and assemble the report.

    `now` is epoch seconds (the app's clock); it stamps the report and dates the period's start.
    Authentication failures propagate (nothing can be evidenced); a failed or partial search is a gap.
    """
    fw = normalise_framework(framework)
    specs = catalogue(fw)
    now_s = time.time() if now is None else now
    now_ms = int(now_s * 1000)
    queries = list(dict.fromkeys([*RETENTION_QUERIES, *(q for s in specs for q in s.queries)]))

    fetched_task: Awaitable[dict[str, FetchResult | BaseException]] = _fetch_all(
        source, queries, window, progress, concurrency
    )
    with metering() as meter:  # every control query and coverage probe counts
        fetched, coverage = await asyncio.gather(fetched_task, _coverage(source, window))
    if queries and all(isinstance(v, BaseException) for v in fetched.values()):
        first = next(iter(fetched.values()))
        assert isinstance(first, BaseException)
        raise first  # nothing at all could be read: an error, not a report full of gaps

    events: dict[str, Event] = {}
    for got in fetched.values():
        if not isinstance(got, BaseException):
            for e in got.events:
                events.setdefault(e.id, e)
    controls = [_control_result(s, fetched) for s in specs]

    settings_rows: dict[str, EvidenceRow] = {}
    check_counts: dict[str, int] = {}
    for q in RETENTION_QUERIES:
        got = fetched[q]
        if isinstance(got, BaseException):
            continue
        check_counts[q] = len(got.events)
        for e in got.events:
            if e.id in settings_rows:
                continue
            row = _row(e, RETENTION_COLUMNS)
            prev, new = _retention_days_change(e)
            if prev is not None or new is not None:
                row.extra["retention_prev"], row.extra["retention_new"] = prev, new
            settings_rows[e.id] = row
    settings = sorted(settings_rows.values(), key=lambda r: (r.ts, r.event_id))

    all_events = list(events.values())
    oldest = min((e.ts for e in all_events), default=None)
    retention = _retention(fw, window, now_ms, coverage, oldest, settings, check_counts)
    any_events = True if all_events else coverage.any_events
    checks = [_field_check(spec, all_events) for spec in field_checks(fw)]
    warnings = [f"{c.id}: {w}" for c in controls for w in c.warnings]
    warnings += [f"{c.id}: query failed: {f}" for c in controls for f in c.failed]
    org, org_uuid = _organization(all_events)
    done = Completeness.combine(
        (got.completeness.labelled(q) for q, got in fetched.items() if not isinstance(got, BaseException))
    ).with_reasons(
        *(
            f"{q}: query failed: {_one_line(got)}"
            for q, got in fetched.items()
            if isinstance(got, BaseException)
        )
    )
    done = done.with_retention(window, getattr(source, "retention_days", None), now_ms).timed(meter)
    return ComplianceReport(
        framework=fw,
        framework_name=FRAMEWORK_NAMES[fw],
        organization=org,
        org_uuid=org_uuid,
        window=window,
        generated=now_ms,
        source=str(getattr(source, "label", "") or ""),
        retention=retention,
        controls=controls,
        checks=checks,
        gaps=_gaps(fw, controls, checks, retention, any_events, window),
        warnings=list(dict.fromkeys(warnings)),
        total_events=len(all_events),
        completeness=done,
    )
