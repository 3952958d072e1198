"""Explore: free search over the audit trail, with facets, a histogram and the raw event table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from ddaudit_tui.analysis.explore import Facet, add_term, facet_term, facets
from ddaudit_tui.events.query import QuerySyntaxError, parse_query, straighten_quotes
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult, Progress
from ddaudit_tui.sources.completeness import ENGINE_FILE, Completeness
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.export import export_ndjson
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.screens.detail import open_detail
from ddaudit_tui.tui.screens.preset_dialog import PresetDialog, PresetRun, prefill_values
from ddaudit_tui.tui.widgets.error_line import ErrorLine
from ddaudit_tui.tui.widgets.event_table import EXPLORE_COLUMNS, EventTable
from ddaudit_tui.tui.widgets.facets import FacetPanel
from ddaudit_tui.tui.widgets.header import PaneHeader, Status
from ddaudit_tui.tui.widgets.sparkline import EventSparkline

FETCH_GROUP = "explore-fetch"

# The event table's columns as dd.audit field paths (what "copy as" DDSQL selects).
COLUMN_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("timestamp",),
    "evt.name": ("@evt.name",),
    "action": ("@action",),
    "actor": ("@usr.email",),
    "asset.type": ("@asset.type",),
    "asset": ("@asset.name", "@asset.id"),
    "endpoint": ("@http.url_details.path",),
    "status": ("@http.status_code",),
    "ip": ("@network.client.ip",),
    "country": ("@network.client.geoip.country.name",),
    "asn": ("@network.client.geoip.as.number", "@network.client.geoip.as.name"),
}
EXPORT_GROUP = "explore-export"
STREAM_REDRAW_S = 0.5  # while a file is read: the table is redrawn at most this often
PROGRESS_CELLS = 20


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 10e6 else f"{n / 1e6:,.0f} MB"


class QueryInput(Input):
    """The query line: Enter runs it (handled by the pane), Escape hands the keys back to the table."""

    HELP_GROUP: ClassVar[str] = "Query input"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back to table", id="query.leave"),
    ]

    def action_leave(self) -> None:
        self.screen.query_one(EventTable).focus()


class ExploreScreen(PaneScreen):
    PANE_TITLE: ClassVar[str] = "Explore"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_query", "Query", id="explore.query", tooltip="Edit the search query"),
        Binding("e", "export", "Export", id="explore.export", tooltip="Write the events shown as NDJSON"),
        Binding("f", "toggle_facets", "Facets", id="explore.facets", tooltip="Show or hide the facet column"),
        Binding("r", "rerun", "Re-run", id="explore.rerun", show=False, tooltip="Run the query again"),
        Binding(
            "i",
            "presets",
            "Presets…",
            id="explore.presets",
            tooltip="Investigation presets: who deleted, what did U do, failed logins, key changes…",
        ),
        Binding(
            "K",
            "open_key",
            "Key lookup",
            id="explore.open-key",
            show=False,
            tooltip="Investigate the API key of the highlighted event",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = "*"
        # A preset's window (its recipe window, e.g. the last 24 h). Explore only: the other panes keep
        # the app's window, and the header shows this one while it applies. None: the app's window.
        self.window: Window | None = None
        self.preset: str | None = None
        self.result: FetchResult | None = None
        self.jump_event: str | None = None  # the Case view's Enter: the event to put the cursor on
        self.facets: list[Facet] = []
        self._facets_override: bool | None = None  # None: follow the width breakpoint
        # Several orgs (tui/org_explore.py): the answers per org of the rows shown, and of the query asked.
        self.org_search: Any = None
        self.org_search_asking: Any = None

    @property
    def _several_orgs(self) -> bool:
        return len(getattr(self.app, "orgs", None) or ()) > 1

    # -- layout --------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="query-bar"):
            yield Static(Text("query ›"), id="query-prompt")
            yield QueryInput(
                placeholder='e.g. @evt.name:Authentication @action:login -@usr.email:"a@b.c"',
                id="query",
                select_on_focus=False,
            )
        yield ErrorLine(id="query-error")
        yield EventSparkline(id="sparkline")
        yield Static(id="banner")
        columns = EXPLORE_COLUMNS
        if self._several_orgs:  # every org asked (tui/org_explore.py): a line per org, an org column
            from ddaudit_tui.tui.org_explore import LINES_ID, org_column
            from ddaudit_tui.tui.widgets.org_lines import OrgLines

            yield OrgLines(id=LINES_ID)
            columns = (EXPLORE_COLUMNS[0], org_column(lambda: self.org_search), *EXPLORE_COLUMNS[1:])
        with Horizontal(id="explore-main"):
            yield EventTable(columns, id="events", empty_text="no events")
            with Vertical(id="facets-column"):
                yield FacetPanel(id="facets")

    def on_mount(self) -> None:
        self.query_text = self.ddaudit.initial_query or "*"
        self.query_one(QueryInput).value = "" if self.query_text == "*" else self.query_text
        self.query_one(PaneHeader).pane_window = self.window  # a reopened case's (tui/case_restore.py)
        self.query_one(EventTable).focus()
        self.watch(self.app, "local_time", self._on_local_time, init=True)
        self._set_banner(Text("loading…"))
        # After the first frame: the demo builds its org in a thread, which would compete with the
        # first paint for the GIL (the frame must be there at once; the events follow).
        self.call_after_refresh(self._first_query)

    def _first_query(self) -> None:
        # A pivot or the Case view that opened the pane has run its own search by now: it stays.
        if self.result is None and not any(
            w.node is self and w.group == FETCH_GROUP for w in self.app.workers
        ):
            self.run_query(self.query_text)

    def _on_local_time(self, local: bool) -> None:
        self.query_one(EventTable).local_time = local

    # -- running queries -------------------------------------------------------------------------

    def run_query(self, text: str) -> bool:
        """Validate and run `text`; a syntax error is shown under the input. Returns False on error."""
        text = straighten_quotes(text.strip()) or "*"  # “pasted” quotes are quotes
        try:
            parse_query(text)
        except QuerySyntaxError as exc:
            self._show_query_error(exc)
            return False
        self._clear_query_error()
        if text != self.query_text:
            # A new question starts in the table's own order (newest first): no sort leaks into it.
            self.query_one(EventTable).reset_sort()
        self.query_text = text
        self._fetch(text)
        return True

    @property
    def has_work(self) -> bool:
        """A query run or typed other than the one the app started with (a preset, a pivot, a filter)."""
        start = (self.ddaudit.initial_query or "*").strip() or "*"
        typed = self.query_one(QueryInput).value.strip() or "*"
        return self.query_text != start or typed != start

    def _show_query_error(self, exc: QuerySyntaxError) -> None:
        # The caret lines sit under the input text (same left offset), the message after the caret.
        try:
            query_line, caret_line = exc.caret().split("\n", 1)
        except Exception:  # the caret is a nicety; the message alone is enough
            query_line, caret_line = "", ""
        text = Text(end="")
        if query_line:
            text.append(clean(query_line) + "\n", style="dim")
        text.append(clean(caret_line), style="bold")
        text.append(("  " if caret_line else "") + "✖ " + clean(str(exc)), style="bold")
        self.query_one("#query-error", ErrorLine).show(text)

    def _clear_query_error(self) -> None:
        self.query_one("#query-error", ErrorLine).clear()

    @property
    def query_error(self) -> str | None:
        return self.query_one("#query-error", ErrorLine).message

    @work(exclusive=True, exit_on_error=False, group=FETCH_GROUP, description="Searching the audit trail")
    async def _fetch(self, text: str) -> None:
        app = self.ddaudit
        self.set_status(Status("fetching", "fetching…"))
        self._set_banner(Text("fetching…"))
        if self._several_orgs:
            from ddaudit_tui.tui import org_explore

            result = await org_explore.fetch(self, text, self.shown_window())
        elif getattr(app.source, "loading", False):
            result = await self._stream(text)
        else:
            result = await app.source.fetch(text, self.shown_window(), self._on_progress)
        self._show_result(result)
        # Facets over 200k events take a noticeable fraction of a second: off the UI thread, and
        # after the table is already on screen. A newer query cancels this worker here.
        computed = await asyncio.to_thread(facets, result.events)
        self.facets = computed
        panel = self.query_one(FacetPanel)
        if result.complete:  # the fetched events are the window's: their counts are the answer
            panel.show_facets(computed)
            return
        if self._several_orgs:  # one org's whole-window counts would not be the merged answer's
            from ddaudit_tui.analysis.facet_engine import BASIS_FETCHED, FacetCounts, panel_note

            n = len(result.events)
            panel.show_facets(computed, panel_note(FacetCounts(computed, BASIS_FETCHED, n), n, False))
            return
        await self._window_facets(text, result, computed, panel)

    async def _window_facets(
        self, text: str, result: FetchResult, computed: list[Facet], panel: FacetPanel
    ) -> None:
        """The query matched more than was fetched (issue 16): on an API source the facets are counted
        over the whole window by DDSQL (one GROUP BY per facet); otherwise, or when DDSQL is refused,
        the panel says its counts are the fetched events' only. Never a page's counts silently."""
        from ddaudit_tui.analysis.facet_engine import BASIS_FETCHED, FacetCounts, panel_note, window_facets
        from ddaudit_tui.analysis.key_engine import supports_ddsql

        n = len(result.events)
        fetched_only = FacetCounts(computed, BASIS_FETCHED, n)
        if not supports_ddsql(self.ddaudit.source):
            panel.show_facets(computed, panel_note(fetched_only, n, False))
            return
        panel.show_facets(computed, f"⟳ counting the whole window (DDSQL); below: the {n:,} fetched events")
        from ddaudit_tui.sources.ddsql import DdsqlClient, DdsqlError

        try:
            counted = await window_facets(DdsqlClient(self.ddaudit.source), text, result.window)  # type: ignore[arg-type]
        except DdsqlError as exc:
            fetched_only.note = "DDSQL: " + clean(
                str(exc).splitlines()[0] if str(exc) else "failed", max_len=120
            )
            counted = fetched_only
        self.facets = counted.facets
        panel.show_facets(counted.facets, panel_note(counted, n, False))

    async def _stream(self, text: str) -> FetchResult:
        """A file still being read: its events in the table as they are decoded, with the bytes read
        and the events decoded so far. The table is redrawn at most every STREAM_REDRAW_S (each redraw
        copies the rows), the progress line at every page."""
        app = self.ddaudit
        source = app.source
        events: list[Event] = []
        shown = 0
        last = 0.0
        loop = asyncio.get_running_loop()
        progress: Progress = source.progress  # type: ignore[attr-defined]
        # The app starts the reading after its first frame (tui/loading.py).
        stream = source.stream(text, self.shown_window(), start=False)  # type: ignore[attr-defined]
        async for page, progress in stream:
            events.extend(page)
            self._show_reading(progress, len(events))
            now = loop.time()
            if len(events) != shown and (shown == 0 or now - last >= STREAM_REDRAW_S):
                self.query_one(EventTable).set_events(events)
                shown, last = len(events), now
        window = source.current_window()  # type: ignore[attr-defined]
        app.window = window
        done = Completeness(engine=ENGINE_FILE, events_fetched=len(events))
        return FetchResult(events=events, window=self.window or window, query=text, completeness=done)

    def _show_reading(self, progress: Progress, matching: int) -> None:
        """The progress line while a file is read: a bar of the bytes read, then (a whole JSON document
        is decoded once read) of the events decoded, with both counts."""
        read, total, events = progress.bytes_read, progress.bytes_total, progress.events
        expected = progress.events_total
        if expected:
            done, of = events, expected  # read to the end: the bar follows the decoding
        elif total:
            done, of = read, total
        else:
            done, of = 0, 0  # a pipe: no size known, counts only
        text = Text(no_wrap=True, end="")
        if of:
            filled = min(PROGRESS_CELLS, PROGRESS_CELLS * done // of)
            text.append("█" * filled, style="bold")
            text.append("░" * (PROGRESS_CELLS - filled), style="dim")
            text.append(f" {min(100, 100 * done // of):3d}%  ")
        text.append(f"read {_mb(read)}" + (f" of {_mb(total)}" if total and read < total else ""))
        if expected:
            text.append(f" · decoded {events:,} of {expected:,} events", style="bold")
        else:
            text.append(f" · {events:,} events decoded", style="bold")
        if matching != events:
            text.append(f" · {matching:,} match")
        self._set_banner(text)
        status = f"reading… {_mb(read)}{' of ' + _mb(total) if total else ''}, {events:,} events"
        self.set_status(Status("fetching", status))

    def _show_result(self, result: FetchResult) -> None:
        self.result = result
        events = result.events
        self.query_one(EventTable).set_events(events)
        self.query_one(EventSparkline).set_data(events, result.window)
        n = len(events)
        # The header says how complete the answer is (issue 16): requests, events, time — or why partial.
        if self.org_search is not None:  # several orgs: how many answered, and which failed
            from ddaudit_tui.tui.org_explore import status_lead

            lead = f"{n:,} event{'s' if n != 1 else ''} in {status_lead(self.org_search)}"
            self.set_status(Status.from_completeness(result.completeness, lead))
        else:
            self.set_status(Status.from_completeness(result.completeness))
        if not result.complete:
            first = result.warnings[0] if result.warnings else "some events could not be fetched"
            # The header and banner say it too, but a responder glancing at the table must not miss it.
            more = f" (+{len(result.warnings) - 1} more)" if len(result.warnings) > 1 else ""
            self.notify(
                f"{n:,} events shown; {clean(first)}{more}",
                title="Partial result",
                severity="warning",
                markup=False,
                timeout=10,
            )
        self._update_banner()
        from ddaudit_tui.tui.case_session import journal

        journal(self.app, lambda case: case.record_query(
            result, self.query_text, pane="explore", preset=self.preset, pane_window=self.window is not None
        ))  # fmt: skip
        self.show_jump()

    def show_jump(self) -> None:
        """The cursor on the event the Case view jumped to (once the query that has it is shown)."""
        table = self.query_one(EventTable)
        if self.jump_event is not None and (row := table._index_of(self.jump_event)) is not None:
            table.move_cursor(row)
            table.focus()
        self.jump_event = None

    def _update_banner(self) -> None:
        result = self.result
        if result is None:
            return
        table = self.query_one(EventTable)
        n = len(result.events)
        text = Text(no_wrap=True, end="")
        text.append(f"showing {n:,} event{'s' if n != 1 else ''}", style="bold")
        if not result.complete:
            more = f" (+{len(result.warnings) - 1} more)" if len(result.warnings) > 1 else ""
            text.append("  ⚠ PARTIAL result", style="bold reverse")
            first = result.warnings[0] if result.warnings else "some events could not be fetched"
            text.append(f" — {clean(first)}{more}")
        arrow = "▼" if table.sort_reverse else "▲"
        text.append(f"  · sorted by {table.sort_column.label} {arrow}", style="dim")
        if self.query_text != "*":
            text.append(f"  · {clean(self.query_text, max_len=80)}", style="dim")
        self._set_banner(text)

    def _set_banner(self, text: Text) -> None:
        self.query_one("#banner", Static).update(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        message = clean(str(error) or type(error).__name__, max_len=300)
        if worker.group == FETCH_GROUP:
            if isinstance(error, QuerySyntaxError):
                self._show_query_error(error)
            self.set_status(Status("error", f"error: {message}"))
            self._set_banner(Text(f"✖ the search failed: {message}", style="bold"))
            self.notify(message, title="Search failed", severity="error", markup=False, timeout=10)
        elif worker.group == EXPORT_GROUP:
            self.notify(message, title="Export failed", severity="error", markup=False, timeout=10)

    # -- events from the widgets -----------------------------------------------------------------

    @on(Input.Submitted, "#query")
    def _query_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.run_query(event.value):
            self.query_one(EventTable).focus()

    @on(EventTable.Selected)
    def _open_detail(self, event: EventTable.Selected) -> None:
        event.stop()
        open_detail(event.table, event.index)

    @on(EventTable.Sorted)
    def _sorted(self, event: EventTable.Sorted) -> None:
        self._update_banner()

    @on(FacetPanel.Chosen)
    def _facet_chosen(self, event: FacetPanel.Chosen) -> None:
        event.stop()
        fv = event.value
        new_query = add_term(self.query_text, facet_term(fv.field, fv.value, exclude=event.exclude))
        self.query_one(QueryInput).value = new_query
        self.run_query(new_query)

    # -- actions ---------------------------------------------------------------------------------

    def action_focus_query(self) -> None:
        query = self.query_one(QueryInput)
        # At once, not `focus()` (scheduled): keys typed right after `/` (a paste, tmux send-keys) that
        # are already queued for the table find the query focused and go there (widgets/type_ahead.py).
        self.set_focus(query)
        query.cursor_position = len(query.value)

    def action_rerun(self) -> None:
        self.run_query(self.query_text)

    async def action_open_key(self) -> None:
        event = self.query_one(EventTable).cursor_event
        if event is None or not event.api_key_id:
            self.notify(
                "The highlighted event was not made with an API key.", severity="warning", markup=False
            )
            return
        # A direct call, not an action string: the id is event text and must not be parsed as one.
        await self.ddaudit.action_open_key(event.api_key_id)

    def action_presets(self) -> None:
        event = self.query_one(EventTable).cursor_event
        prefill = (
            prefill_values(event.usr_email, event.client_ip, event.asset_id) if event is not None else {}
        )
        self.app.push_screen(PresetDialog(self.ddaudit.window.end, prefill), callback=self.run_preset)

    def run_preset(self, run: PresetRun | None) -> None:
        """Run a preset from the dialog: its query in the input, its window for Explore (None: nothing)."""
        if run is None:
            return
        self.window = run.window if run.window != self.ddaudit.window else None
        self.preset = run.preset
        self.query_one(PaneHeader).pane_window = self.window
        self.query_one(QueryInput).value = run.query
        self.query_one(EventTable).reset_sort()  # a preset starts in its own (default) order
        if self.run_query(run.query):
            self.query_one(EventTable).focus()

    # -- "copy as" -------------------------------------------------------------------------------

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        fields: list[str] = []
        for column in self.query_one(EventTable).columns:
            fields += [f for f in COLUMN_FIELDS.get(column.key, ()) if f not in fields]
        return self.query_text, fields or None

    def shown_window(self) -> Window:
        return self.window or self.ddaudit.window

    def action_toggle_facets(self) -> None:
        column = self.query_one("#facets-column")
        shown = column.display
        # An explicit choice overrides the width breakpoint until the next toggle.
        self._facets_override = not shown
        column.set_class(not shown, "-shown")
        column.set_class(shown, "-hidden")
        if not shown:
            self.query_one(FacetPanel).focus()
        elif self.focused is None or isinstance(self.focused, FacetPanel):
            self.query_one(EventTable).focus()

    def action_export(self) -> None:
        result = self.result
        if result is None or not result.events:
            self.notify("Nothing to export: no events are shown.", severity="warning", markup=False)
            return
        app = self.ddaudit
        directory = app.export_dir or Path.cwd()
        self._export(list(result.events), directory, app.clock())

    @work(thread=True, exit_on_error=False, group=EXPORT_GROUP, description="Exporting events")
    def _export(self, events: list[Event], directory: Path, now: float) -> None:
        path, n = export_ndjson(events, directory, "explore", now)
        # Paths are the user's own, but may still hold brackets: never markup.
        self.app.call_from_thread(
            self.notify,
            f"Wrote {n:,} events (NDJSON, mode 0600) to {clean(str(path))}",
            title="Exported",
            markup=False,
            timeout=15,
        )
