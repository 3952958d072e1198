"""The TUI's case (issue 15): every session works in one. No Textual here: the app owns one
`CaseSession` (`app.case`) and the panes tell it what they did.

Named (`ddaudit --case NAME`): the case is opened (made on first use) at start and every action is
written as it happens. Unnamed (the default): nothing is written until the responder judges something
— the first mark or note — or exports; the work done before that (queries, lookups, alerts, pivots) is
kept in memory and written then, with the times it was really done. A session that only looked around
leaves no case behind. The case is then `unnamed-<start time>`; `E` asks for a real name.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from ddaudit_tui.case.model import CASE_NOTE, Case, JournalEntry, Mark, SourceInfo
from ddaudit_tui.case.store import CaseError, CaseStore, now_ms, unnamed_name
from ddaudit_tui.safetext import clean
from ddaudit_tui.tui.marks import MarkTarget

Work = Callable[[CaseStore], Any]


class _AtStore(CaseStore):
    """The store, journalling with a given time: work kept in memory is written with the time it was
    done, not the time the case was made."""

    def __init__(self, store: CaseStore, ts: int) -> None:
        super().__init__(store.name, store.root)
        self.ts = ts

    def _append(self, make: Callable[[Case], list[JournalEntry]]) -> list[JournalEntry]:
        return super()._append(lambda case: [msgspec.structs.replace(e, ts=self.ts) for e in make(case)])


class CaseSession:
    """`CaseSession(analyst, name=None, root=None, source=SourceInfo)`; the panes call `record_*`, the
    app `mark` / `unmark` / `note` / `export`. Every call raises `CaseError` (one line) on a disk
    that refuses; the app shows it as a toast."""

    def __init__(
        self,
        analyst: str,
        *,
        name: str | None = None,
        root: str | Path | None = None,
        source: SourceInfo | Callable[[], SourceInfo] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.analyst = analyst
        self.root = root
        # A callable is called when the source is first asked for: the TUI's names its input files with
        # their sha256, seconds of reading for a big file, which must not delay the first frame (issue 12;
        # the app resolves it in a thread once the frame is written: `resolve_source_in_background`).
        self._source: SourceInfo | Callable[[], SourceInfo] = source or SourceInfo(kind="datadog")
        self._source_lock = threading.Lock()
        self._resolving = False
        self.clock = clock
        self.started_ms = int(clock() * 1000)
        self.store: CaseStore | None = None
        self._pending: list[tuple[int, Work]] = []
        self._case: Case | None = None
        self.marked_ids: frozenset[str] = frozenset()
        self.mark_sets: tuple[frozenset[str], ...] = ()  # each mark's event ids (the tables' ★)
        self.last_export: Path | None = None
        self.restored: dict[str, JournalEntry] = {}  # what the panes restore on reopening (last_work)
        self.reading: set[tuple[object, ...]] = set()  # marks waiting for their events to be read
        if name is not None:
            self.store = CaseStore.open_or_create(name, analyst, root)
            self._refresh()
            self.restored = self.load().last_work()

    # -- state -----------------------------------------------------------------------------------

    @property
    def source(self) -> SourceInfo:
        """What the case's work was done on (computed once, on first use, if given as a callable)."""
        with self._source_lock:  # the app's background thread and a pane's record_* may both ask
            if not isinstance(self._source, SourceInfo):
                self._source = self._source()
            return self._source

    @source.setter
    def source(self, source: SourceInfo) -> None:
        with self._source_lock:
            self._source = source

    def resolve_source_in_background(self) -> None:
        """Compute a callable source now, in a thread, so that no pane waits for it later."""
        if not isinstance(self._source, SourceInfo) and not self._resolving:
            self._resolving = True
            threading.Thread(target=self._resolve_quietly, name="case-source", daemon=True).start()

    def _resolve_quietly(self) -> None:
        # A failure here is not shown (a traceback would land on the TUI's screen); the next use raises it.
        with contextlib.suppress(Exception):
            _ = self.source

    @property
    def named(self) -> bool:
        """Named by the responder (not `unnamed-…`, not only in memory)."""
        return self.store is not None and not self.store.name.startswith("unnamed-")

    @property
    def name(self) -> str:
        return self.store.name if self.store is not None else "unnamed"

    @property
    def on_disk(self) -> bool:
        return self.store is not None

    @property
    def path(self) -> Path | None:
        return self.store.path if self.store is not None else None

    def load(self) -> Case:
        if self._case is None:
            if self.store is None:
                return Case(self.name, self.started_ms, self.analyst)
            self._case = self.store.load()
        return self._case

    def pending_work(self) -> int:
        return len(self._pending)

    def _refresh(self) -> None:
        self._case = None
        case = self.load()
        self.marked_ids = frozenset(case.marked_ids())
        self.mark_sets = tuple(frozenset(m.event_ids) for m in case.marks.values() if m.event_ids)

    def ensure_store(self) -> CaseStore:
        """The case on disk: made now (as `unnamed-<start>`) when it was only in memory, with the work
        kept so far written in order, at the times it was done."""
        if self.store is None:
            name = unnamed_name(self.started_ms)
            self.store = CaseStore.open_or_create(name, self.analyst, self.root)
            pending, self._pending = self._pending, []
            for ts, work in pending:
                work(_AtStore(self.store, ts))
            self._refresh()
        return self.store

    def _do(self, work: Work) -> None:
        if self.store is None:
            # The store's clock (the wall clock), as for everything written once the case is on disk.
            self._pending.append((now_ms(), work))
            return
        work(self.store)
        self._refresh()

    # -- work done in the panes ------------------------------------------------------------------

    def record_query(
        self, result: Any, query: str, pane: str = "explore", *, preset: str | None = None,
        pane_window: bool = False,
    ) -> None:  # fmt: skip
        """A search; `preset` and `pane_window` (Explore's own window) are restored on reopening."""
        from ddaudit_tui.case.record import record_query

        source = self.source
        self._do(
            lambda s: record_query(
                s, result, query=query, source=source, pane=pane, preset=preset, pane_window=pane_window
            )
        )

    def record_key(self, report: Any, pane: str = "lookup") -> None:
        from ddaudit_tui.case.record import record_key

        self._do(lambda s: record_key(s, report, source=self.source, pane=pane))

    def record_ai(self, activity: Any, pane: str = "ai", user: str | None = None) -> None:
        """The AI pane's analysis, as `ddaudit ai --case` journals it: its flags are findings."""
        from ddaudit_tui.case.record import record_ai

        self._do(lambda s: record_ai(s, activity, source=self.source, pane=pane, user=user))

    def record_alert(self, alert: Any, events: list[Any] | None = None) -> None:
        """An alert opened in Spike watch: a finding with its burst's events (as `watch --once` records it)."""
        from ddaudit_tui.case.record import alert_finding
        from ddaudit_tui.safetext import clean

        finding = alert_finding(alert)
        summary = clean(f"opened alert {alert.rule} for {alert.group} ({alert.count} events)", max_len=300)
        cited = [e for e in events or () if e.id in set(alert.event_ids)]

        def work(s: CaseStore) -> None:
            s.add_events(cited)
            s.record("alert", summary, pane="watch", findings=(finding,), extra={"alert": alert.dedup_key})

        self._do(work)

    def record_pivot(self, summary: str, from_pane: str, to_pane: str) -> None:
        from ddaudit_tui.safetext import clean

        text = clean(summary, max_len=300)
        self._do(lambda s: s.record("pivot", text, pane=from_pane, extra={"to": to_pane}))

    # -- marks and notes -------------------------------------------------------------------------

    def find_mark(self, target: MarkTarget, pane: str) -> Mark | None:
        """The mark already on this thing (same pane, kind and place), if any."""
        for m in self.load().marks.values():
            if m.pane == pane and m.kind == target.kind and m.ref == target.ref:
                return m
        return None

    def mark(self, target: MarkTarget, pane: str) -> Mark:
        store = self.ensure_store()
        m = store.mark(
            target.kind, target.label, target.events, pane=pane, ref=dict(target.ref),
            event_ids=target.event_ids,
        )  # fmt: skip
        self._refresh()
        return m

    def unmark(self, mark_id: str) -> bool:
        if self.store is None:
            return False
        done = self.store.unmark(mark_id)
        self._refresh()
        return done

    def note(self, target: str, text: str) -> bool:
        store = self.ensure_store()
        store.note(target, text)
        self._refresh()
        return True

    def note_text(self, target: str = CASE_NOTE) -> str:
        note = self.load().notes.get(target)
        return note.text if note is not None else ""

    # -- naming and export -----------------------------------------------------------------------

    def rename(self, new_name: str) -> bool:
        store = self.ensure_store()
        if new_name != store.name:
            self.store = store.rename(new_name)
        self._refresh()
        return True

    def export(self, out_dir: Path) -> Path:
        from ddaudit_tui.case.export import export_case

        result = export_case(self.ensure_store(), out_dir)
        self.last_export = result.path
        self._refresh()
        return result.path


def journal(app: Any, work: Callable[[CaseSession], Any]) -> Any:
    """Do `work` on the app's case; a disk that refuses is a toast, never a crash of the pane."""
    session = getattr(app, "case", None)
    if session is None:
        return None
    try:
        return work(session)
    except (CaseError, OSError) as exc:
        app.notify(clean(str(exc), max_len=300), title="Case not saved", severity="error", markup=False)
        return None
