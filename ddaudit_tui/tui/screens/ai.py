"""AI activity: what the Datadog AI assistant / MCP server did, for whom, to what — and what worries.

The pane runs `analysis.ai_investigation.investigate_ai` over the last 7 days ending at the app
window's end (the recipe is a weekly summary) and shows: the summary counters, the calls over time
with bursts marked, the flags most severe first, and sortable tables (users, tools, clients, the
recipe's actions and resource types, the resources changed through AI). Enter on a user drills into
their activity (`AiUserScreen`); Enter on a change, a call or any other row opens the events behind
it in the event detail. `e` writes the report (Markdown, JSON… through the report registry) of what
is shown: the whole org, or the person drilled into.

Everything shown that comes from events goes through `safe_text.clean`; notifications never parse
markup.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ddaudit_tui.analysis import glossary as G
from ddaudit_tui.analysis.ai import DAY_MS, DEFAULT_BASE_QUERY, AiActivity, AiCall
from ddaudit_tui.analysis.ai_investigation import DEFAULT_MAX_PAGES, investigate_ai
from ddaudit_tui.analysis.explore import quote_value
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.events.record import Event
from ddaudit_tui.report import ai_report  # noqa: F401  (registers the "ai" renderers for export)
from ddaudit_tui.sources.base import FetchResult, ProgressCallback, Source
from ddaudit_tui.timeutil import Window, fmt_ts
from ddaudit_tui.tui.export import export_report
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.screens.detail import EventDetailScreen, open_detail
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.widgets.ai_calls import (
    CLIENT_COLUMNS,
    DELEGATED_COLUMNS,
    MODIFIED_COLUMNS,
    TOOL_COLUMNS,
    USER_COLUMNS,
    call_columns,
    summary_columns,
)
from ddaudit_tui.tui.widgets.ai_flags import (
    AiCounters,
    AiFlagList,
    append_counts,
    flag_counts_text,
    flag_user,
    singular,
)
from ddaudit_tui.tui.widgets.ai_table import AiTable
from ddaudit_tui.tui.widgets.ai_timeline import AiTimeline
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader, Status
from ddaudit_tui.tui.widgets.pane_bar import PaneBadge

WINDOW_DAYS = 7  # the recipe's weekly summary
# What "copy as" DDSQL selects for AI events: who (and for whom), which tool, through which client, on what.
AI_COLUMNS = (
    "timestamp",
    "@usr.email",
    "@delegator.name",
    "@evt.name",
    "@action",
    "@metadata.tool.name",
    "@metadata.oauth_client.name",
    "@asset.type",
    "@asset.id",
)
# The glossary names each table's numbers use (their section title's tooltip defines them).
USER_NAMES = (G.AI_CALLS, G.TOOL_CALLS, G.CONNECTIONS, G.DELEGATED, G.CHANGES)
TOOL_NAMES = (G.AI_CALLS, G.USERS)
CLIENT_NAMES = (G.AI_CALLS, G.CONNECTIONS, G.USERS)
# The drill-down's summary line: the same names, in the same order, as the overview's counters.
USER_SUMMARY_NAMES = (G.AI_EVENTS, G.AI_CALLS, G.TOOL_CALLS, G.CONNECTIONS, G.CHANGES, G.DELEGATED)
USER_SUMMARY_KEYS = {
    G.AI_EVENTS: "ai_events",
    G.AI_CALLS: "calls",
    G.TOOL_CALLS: "tool_calls",
    G.CONNECTIONS: "connections",
    G.CHANGES: "changes",
    G.DELEGATED: "delegated",
}  # glossary name → `AiActivity.counts` key
LOAD_GROUP = "ai-load"
USER_GROUP = "ai-user"
EXPORT_GROUP = "ai-export"


def engine_options(app: Any) -> tuple[str, int]:
    """The TUI's `--engine` and `--max-pages` (else the config's `max_pages`), as `ddaudit ai` reads
    them: AI activity aggregates past the budget as Key lookup does."""
    return (
        getattr(app, "key_engine", None) or "auto",
        getattr(app, "key_max_pages", None) or DEFAULT_MAX_PAGES,
    )


def ai_window(app_window: Window, days: int = WINDOW_DAYS) -> Window:
    """The last `days` days ending at the app window's end."""
    return Window(app_window.end - days * DAY_MS, app_window.end)


def ai_user_query(base: str, user: str) -> str:
    """The base query narrowed to one person as the drill-down selects them (`AiActivity.for_user`):
    their own calls, and those made on their behalf (`@delegator.*`)."""
    u = quote_value(user.strip())
    who = " OR ".join(
        f"{field}:{u}" for field in ("@usr.email", "@usr.id", "@delegator.id", "@delegator.name")
    )
    return f"({base}) ({who})"


def export_pane_name(user: str | None) -> str:
    """`ai`, or `ai-<user>` with only filename-safe characters (user names come from events)."""
    if not user:
        return "ai"
    slug = re.sub(r"[^A-Za-z0-9@._-]+", "_", user).strip("._-")[:48]
    return f"ai-{slug}" if slug else "ai-user"


class AiUserTable(AiTable[Any]):
    """The users table: Enter drills into the person's AI activity."""

    HELP_GROUP: ClassVar[str] = "Users table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "select_cursor", "Drill down", id="ai-users.drill", tooltip="This user's AI activity"
        ),
    ]


class AiEventsTable(AiTable[Any]):
    """A table whose rows stand for events: Enter opens them in the event detail (n/p step through)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Events",
            id="ai-table.events",
            tooltip="Open the events behind this row (n/p step through them)",
        ),
    ]


class AiSection(Vertical):
    """A titled part of the pane: a one-line title (name, count, jump key), then its widget. The title of
    the section holding the focus is highlighted and carries a ▶ (readable under NO_COLOR)."""

    DEFAULT_CSS = """
    AiSection {
        height: 1fr;
        & > .ai-title { height: 1; padding: 0 1 0 0; background: $panel; color: $text-accent; text-style: bold; }
        &.-focused > .ai-title { background: $accent 35%; color: $foreground; }
    }
    """

    def __init__(
        self, title: str, key: str, body: Widget, *, id: str | None = None, defines: tuple[str, ...] = ()
    ) -> None:
        super().__init__(id=id)
        self.section_title = title
        self.jump_key = key
        self.body = body
        self._count: int | None = None
        self._extra: str | Text = ""
        self.defines = defines  # glossary names its numbers use: the title's tooltip defines them

    def compose(self) -> ComposeResult:
        title = Static(self._title_text(), classes="ai-title")
        if self.defines:
            title.tooltip = G.define(G.AI_GLOSSARY, self.defines)
        yield title
        yield self.body

    def _title_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("▶" if self.has_class("-focused") else " ")
        text.append(self.section_title.upper())
        if self._count is not None:
            text.append(f" {self._count:,}")
        if self._extra:
            text.append("  ")
            text.append_text(self._extra if isinstance(self._extra, Text) else Text(clean(self._extra)))
        if self.jump_key:
            text.append(f"  [{self.jump_key}]", style="dim")
        return text

    def set_title(self, count: int | None, extra: str | Text = "") -> None:
        self._count = count
        self._extra = extra
        self.query_one(".ai-title", Static).update(self._title_text())

    def _set_focused(self, focused: bool) -> None:
        self.set_class(focused, "-focused")
        if self.is_mounted:
            self.query_one(".ai-title", Static).update(self._title_text())

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._set_focused(True)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._set_focused(False)


class _WatchedSource:
    """The app's source with a hook after its first fetch (the AI events themselves): the header can
    then say the baseline questions are being asked. Everything else is the source's own."""

    def __init__(self, source: Source, after_first: Callable[[FetchResult], None]) -> None:
        self._source = source
        self._after_first = after_first
        self._first = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    @property
    def ddsql_target(self) -> Any:
        """What `supports_ddsql` checks: the source inside (a DatadogClient can aggregate)."""
        inner = getattr(self._source, "ddsql_target", None)
        return inner if inner is not None else self._source

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        result = await self._source.fetch(query, window, progress)
        if self._first:
            self._first = False
            self._after_first(result)
        return result


class _AiPaneMixin:
    """What the pane and the drill-down share: progress from threads, event details, export."""

    app: Any
    result: AiActivity | None

    def open_events(self, events: Sequence[Event], index: int = 0) -> None:
        if not events:
            self.app.notify("No events behind this row.", severity="warning", markup=False)
            return
        self.app.push_screen(EventDetailScreen(list(events), max(0, min(index, len(events) - 1))))

    def export_title(self) -> str:
        raise NotImplementedError

    def action_export(self) -> None:
        result = self.result
        if result is None:
            self.app.notify(
                "Nothing to export yet: the analysis is still running.", severity="warning", markup=False
            )
            return

        def chosen(formats: list[str] | None) -> None:
            if formats:
                app = self.app
                self._export(result, formats, app.export_dir or Path.cwd(), app.clock())

        self.app.push_screen(ExportDialog("ai", self.export_title()), chosen)

    # The report is rendered and written off the UI thread: an org-wide HTML report can take a moment.
    @work(thread=True, exit_on_error=False, group=EXPORT_GROUP, description="Exporting the AI report")
    def _export(self, result: AiActivity, formats: list[str], directory: Path, now: float) -> None:
        paths = export_report("ai", result, formats, directory, export_pane_name(result.user), now)
        self.app.call_from_thread(_notify_written, self.app, paths, result.user)


class AiScreen(_AiPaneMixin, PaneScreen):
    PANE_TITLE: ClassVar[str] = "AI activity"
    AUTO_FOCUS: ClassVar[str | None] = "#ai-users"

    # Wide (≥ 100 columns): two columns of tables that fit the screen. Narrower: one column that
    # scrolls, each table a few rows high; focusing a table (tab, or its letter) scrolls it into view.
    DEFAULT_CSS = """
    AiScreen #ai-notes { display: none; height: 1; padding: 0 1; color: $warning; }
    AiScreen #ai-notes.-visible { display: block; }
    AiScreen #ai-timeline { height: 3; margin: 0 1 0 1; }
    AiScreen #sec-flags { height: auto; }
    AiScreen #ai-tables { height: 1fr; }
    AiScreen #ai-col-left { width: 3fr; }
    AiScreen #ai-col-right { width: 2fr; border-left: vkey $panel-lighten-2; }
    AiScreen #ai-small { height: 7; }
    AiScreen #ai-small > AiSection { width: 1fr; }
    AiScreen.-short #ai-timeline { height: 2; }
    AiScreen.-short AiFlagList { max-height: 3; }
    AiScreen.-narrow #ai-tables { layout: vertical; overflow-y: auto; scrollbar-size-vertical: 1; }
    AiScreen.-narrow .ai-col { width: 1fr; height: auto; }
    /* The ids above set 3fr / 2fr: in one column that made the tables 3× the screen, cut at its edge. */
    AiScreen.-narrow #ai-col-left, AiScreen.-narrow #ai-col-right { width: 1fr; }
    AiScreen.-narrow #ai-col-right { border-left: none; }
    AiScreen.-narrow #ai-tables AiSection { height: auto; }
    AiScreen.-narrow #ai-tables AiTable { height: auto; max-height: 10; }
    AiScreen.-narrow #ai-small { height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "e", "export", "Export", id="ai.export", tooltip="Write the AI activity report (Markdown, JSON…)"
        ),
        Binding("r", "rerun", "Re-run", id="ai.rerun", tooltip="Fetch and analyse the window again"),
        Binding("f", "focus_section('flags')", "Go to flags", show=False, id="ai.focus-flags"),
        Binding("u", "focus_section('users')", "Go to users", show=False, id="ai.focus-users"),
        Binding("t", "focus_section('tools')", "Go to tools", show=False, id="ai.focus-tools"),
        Binding("c", "focus_section('clients')", "Go to clients", show=False, id="ai.focus-clients"),
        Binding("a", "focus_section('actions')", "Go to actions", show=False, id="ai.focus-actions"),
        Binding("y", "focus_section('types')", "Go to resource types", show=False, id="ai.focus-types"),
        Binding(
            "o", "focus_section('modified')", "Go to changed resources", show=False, id="ai.focus-modified"
        ),
    ]
    # Several orgs (tui/org_ai.py): bound on the instance only then (footer, `?`, palette); absent with one.
    ORG_BINDING: ClassVar[Binding] = Binding(
        "O", "cycle_org", "Next org", id="ai.next-org", tooltip="Show the next org's AI activity"
    )

    def __init__(self) -> None:
        super().__init__()
        self.result: AiActivity | None = None
        self.window: Window | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        if self._several_orgs:  # a line per org, worst first (tui/org_ai.py)
            from ddaudit_tui.tui.org_ai import LINES_ID
            from ddaudit_tui.tui.widgets.org_lines import OrgLines

            yield OrgLines(id=LINES_ID)
        yield AiCounters(id="ai-counters")
        yield Static(id="ai-notes")
        yield AiTimeline(id="ai-timeline")
        yield AiSection("flags", "f", AiFlagList(id="ai-flags"), id="sec-flags")
        with Horizontal(id="ai-tables"):
            with Vertical(id="ai-col-left", classes="ai-col"):
                yield AiSection(
                    "users",
                    "u",
                    AiUserTable(USER_COLUMNS, identity=lambda r: r.user.lower(), id="ai-users"),
                    id="sec-users",
                    defines=USER_NAMES,
                )
                yield AiSection("resources changed through AI", "o", AiEventsTable(MODIFIED_COLUMNS, identity=lambda m: (m.event_id, m.resource_id), id="ai-modified"), id="sec-modified", defines=(G.CHANGES,))  # fmt: skip
            with Vertical(id="ai-col-right", classes="ai-col"):
                yield AiSection("tools", "t", AiEventsTable(TOOL_COLUMNS, identity=lambda r: r.tool, id="ai-tools"), id="sec-tools", defines=TOOL_NAMES)  # fmt: skip
                with Horizontal(id="ai-small"):
                    yield AiSection("actions", "a", AiEventsTable(summary_columns("action"), identity=lambda r: repr(r["action"]), id="ai-actions"), id="sec-actions", defines=(G.MCP_SERVER_EVENTS,))  # fmt: skip
                    yield AiSection("resource types", "y", AiEventsTable(summary_columns("type"), identity=lambda r: repr(r["type"]), id="ai-types"), id="sec-types", defines=(G.MCP_SERVER_EVENTS,))  # fmt: skip
                yield AiSection("clients", "c", AiEventsTable(CLIENT_COLUMNS, identity=lambda r: r.client, id="ai-clients"), id="sec-clients", defines=CLIENT_NAMES)  # fmt: skip

    def on_mount(self) -> None:
        if self._several_orgs:
            self._bindings.key_to_bindings.setdefault("O", []).append(self.ORG_BINDING)
            self.refresh_bindings()
        self.window = ai_window(self.ddaudit.window)
        self.query_one(PaneHeader).pane_window = self.window
        self.query_one(AiUserTable).focus()
        self.watch(self.app, "local_time", self._on_local_time, init=False)
        self._load()

    def _on_local_time(self, _local: bool) -> None:
        if self.result is not None:
            self._show_result(self.result)

    # -- loading ---------------------------------------------------------------------------------

    def _after_fetch(self, fetched: FetchResult) -> None:
        n = len(fetched.events)
        self.on_ui_thread(self.set_status, Status("fetching", f"{n:,} AI events · checking the baseline…"))

    @work(exclusive=True, exit_on_error=False, group=LOAD_GROUP, description="Analysing AI activity")
    async def _load(self) -> None:
        app = self.ddaudit
        window = self.window or ai_window(app.window)
        if self._several_orgs:  # every org's, side by side (tui/org_ai.py)
            from ddaudit_tui.tui import org_ai

            await org_ai.load(self, window, *engine_options(app))
            return
        self.set_status(Status("fetching", "fetching AI events…"))
        source = _WatchedSource(app.source, self._after_fetch)
        engine, max_pages = engine_options(app)
        result = await investigate_ai(
            source,  # type: ignore[arg-type]
            window,
            progress=self._on_progress,
            engine=engine,
            max_pages=max_pages,
        )
        self._show_result(result)
        from ddaudit_tui.tui.case_session import journal

        # Issue 15: the analysis lands in the case as `ddaudit ai --case` does (its flags are findings).
        journal(self.app, lambda case: case.record_ai(result, pane="ai"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        error = worker.error
        message = clean(str(error) or type(error).__name__, max_len=300)
        if worker.group == LOAD_GROUP:
            self.set_status(Status("error", f"error: {message}"))
            self.query_one(AiCounters).set_result(
                None, Text(f"✖ the AI analysis failed: {message} — r retries", style="bold")
            )
            self.notify(message, title="AI analysis failed", severity="error", markup=False, timeout=10)
        elif worker.group == EXPORT_GROUP:
            self.notify(message, title="Export failed", severity="error", markup=False, timeout=10)

    # -- showing -------------------------------------------------------------------------------

    def _show_result(self, result: AiActivity) -> None:
        self.result = result
        local = bool(self.ddaudit.local_time)
        # Counted, not listed: under DDSQL `calls` holds only the events fetched whole.
        n_events = result.counts.get("ai_events", len(result.calls))
        if result.completeness is not None:  # issue 16: requests, events, time — or why partial
            self.set_status(Status.from_completeness(result.completeness, f"{n_events:,} AI events"))
        elif result.complete:
            self.set_status(Status("complete", f"{n_events:,} AI events · complete"))
        else:
            first = result.warnings[0] if result.warnings else "some events could not be fetched"
            self.set_status(Status("partial", f"partial: {first}"))
        self.query_one(AiCounters).set_result(result)
        notes = [f"⚠ {w}" for w in result.warnings] + [f"note: {n}" for n in result.notes]
        notes_widget = self.query_one("#ai-notes", Static)
        notes_widget.update(Text(clean(" · ".join(notes)), no_wrap=True, overflow="ellipsis", end=""))
        notes_widget.set_class(bool(notes), "-visible")
        self.query_one(AiTimeline).set_activity(result.calls, result.window, result.bursts, local)

        self.query_one(AiFlagList).set_flags(result.flags)
        self._section("flags").set_title(len(result.flags), "most severe first · enter drills in")
        self._fill("users", result.users, local)
        self._fill("tools", result.tools, local)
        self._fill("clients", result.clients, local)
        self._fill("actions", result.summary["actions_breakdown"], local)
        self._fill("types", result.summary["resource_types"], local)
        self._fill("modified", result.modified_resources, local)

    @property
    def _several_orgs(self) -> bool:
        return len(getattr(self.app, "orgs", None) or ()) > 1

    def action_cycle_org(self) -> None:
        from ddaudit_tui.tui import org_ai

        org_ai.cycle(self)

    def badge(self) -> PaneBadge | None:
        """The number of HIGH (and CRITICAL) flags, once the analysis is in (of every org's, several)."""
        if self._several_orgs:
            from ddaudit_tui.tui import org_ai

            return org_ai.badge(self)
        if self.result is None:
            return None
        n = sum(1 for f in self.result.flags if f.severity >= Severity.HIGH)
        return PaneBadge(f"! {n}", f"!{n}", "warn" if n else "info")

    def _section(self, name: str) -> AiSection:
        return self.query_one(f"#sec-{name}", AiSection)

    def _fill(self, name: str, items: Sequence[Any], local: bool) -> None:
        table = self.query_one(f"#ai-{name}", AiTable)
        table.set_items(items, local)
        self._update_title(name, table)

    def _update_title(self, name: str, table: AiTable[Any]) -> None:
        sort = table.sort_description
        self._section(name).set_title(len(table.items), Text(f"by {sort}", style="dim") if sort else "")

    @on(AiTable.Sorted)
    def _sorted(self, event: AiTable.Sorted) -> None:
        table = event.table
        if table.id and table.id.startswith("ai-"):
            self._update_title(table.id[3:], table)

    # -- choosing rows ---------------------------------------------------------------------------

    @on(AiTable.Chosen)
    def _chosen(self, event: AiTable.Chosen[Any]) -> None:
        event.stop()
        result = self.result
        if result is None:
            return
        table_id = event.table.id
        item = event.item
        if table_id == "ai-users":
            self.drill_down(item.user)
            return
        if table_id == "ai-modified":
            rows = event.table.rows_in_order
            events = [c.event for m in rows if (c := result.call(m.event_id)) is not None]
            self.open_events(events, event.index)
            return
        calls: list[AiCall]
        if table_id == "ai-tools":
            calls = [c for c in result.calls if c.tool == item.tool and c.counted]
        elif table_id == "ai-clients":
            calls = [c for c in result.calls if c.client == item.client]
        elif table_id in ("ai-actions", "ai-types"):
            # The recipe's rows: MCP Server events by their raw `action` / `asset.type` value.
            pos, field = (1, "action") if table_id == "ai-actions" else (2, "type")
            calls = [c for c in result.calls if c.jq is not None and c.jq[pos] == item[field]]
        else:
            return
        self.open_events([c.event for c in reversed(calls)])  # newest first, as everywhere

    @on(AiFlagList.Chosen)
    def _flag_chosen(self, event: AiFlagList.Chosen) -> None:
        event.stop()
        result = self.result
        if result is None:
            return
        user = flag_user(event.flag)
        if user is not None:
            self.drill_down(user)
            return
        calls = [c for i in event.flag.event_ids if (c := result.call(i)) is not None]
        self.open_events([c.event for c in reversed(calls)])

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        query = self.result.query if self.result is not None else DEFAULT_BASE_QUERY
        return query, list(AI_COLUMNS)

    def shown_window(self) -> Window:
        return self.window or ai_window(self.ddaudit.window)

    def drill_down(self, user: str) -> None:
        if self.result is None:
            return
        screen = AiUserScreen(self.result, user)
        if self._several_orgs:  # the person is asked in the org whose analysis is shown
            from ddaudit_tui.tui import org_ai

            screen.source = org_ai.shown_source(self)
        self.app.push_screen(screen)

    # -- actions ---------------------------------------------------------------------------------

    def action_rerun(self) -> None:
        self._load()

    def action_focus_section(self, name: str) -> None:
        section = self._section(name)
        section.body.focus()

    def export_title(self) -> str:
        window = self.result.window if self.result is not None else self.window
        span = (
            f"{fmt_ts(window.start, self.ddaudit.local_time, False)} → {fmt_ts(window.end, self.ddaudit.local_time, False)}"
            if window is not None
            else ""
        )
        return f"the AI activity report {span}".strip()


def _notify_written(app: Any, paths: Sequence[Path], user: str | None) -> None:
    what = f"AI activity of {clean(user, max_len=60)}" if user else "AI activity report"
    listing = "\n".join(clean(str(p)) for p in paths)
    # Paths are the user's own, but may still hold brackets: never markup.
    app.notify(f"Wrote the {what} (mode 0600):\n{listing}", title="Exported", markup=False, timeout=15)


# -- the drill-down ----------------------------------------------------------------------------------


class AiUserScreen(_AiPaneMixin, PaneScreen):
    """One person's AI activity: who they are, their flags, every call, tools, clients, delegations."""

    PANE_TITLE: ClassVar[str] = "AI activity"
    HELP_GROUP: ClassVar[str] = "AI activity: user"
    AUTO_FOCUS: ClassVar[str | None] = "#user-calls"

    DEFAULT_CSS = """
    AiUserScreen #user-summary { height: auto; padding: 0 1; }
    AiUserScreen #user-timeline { height: 3; margin: 0 1 0 1; }
    AiUserScreen #sec-flags { height: auto; }
    AiUserScreen #user-flags { max-height: 5; }
    AiUserScreen #user-tables { height: 1fr; }
    AiUserScreen #sec-calls { width: 2fr; }
    AiUserScreen #user-side { width: 1fr; border-left: vkey $panel-lighten-2; }
    AiUserScreen.-short #user-timeline { height: 2; }
    AiUserScreen.-short #user-flags { max-height: 3; }
    AiUserScreen.-narrow #user-tables { layout: vertical; overflow-y: auto; scrollbar-size-vertical: 1; }
    AiUserScreen.-narrow #sec-calls { width: 1fr; height: 14; }
    AiUserScreen.-narrow #user-side { width: 1fr; height: auto; border-left: none; }
    AiUserScreen.-narrow #user-side AiSection { height: auto; }
    AiUserScreen.-narrow #user-side AiTable { height: auto; max-height: 8; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="ai-user.back", tooltip="Back to the whole org's AI activity"),
        Binding("e", "export", "Export", id="ai-user.export", tooltip="Write this user's AI activity report"),
        Binding("f", "focus_section('flags')", "Go to flags", show=False, id="ai-user.focus-flags"),
        Binding("a", "focus_section('calls')", "Go to AI events", show=False, id="ai-user.focus-calls"),
        Binding("t", "focus_section('tools')", "Go to tools", show=False, id="ai-user.focus-tools"),
        Binding("c", "focus_section('clients')", "Go to clients", show=False, id="ai-user.focus-clients"),
        Binding(
            "d",
            "focus_section('delegated')",
            "Go to delegated actions",
            show=False,
            id="ai-user.focus-delegated",
        ),
    ]

    def __init__(self, org: AiActivity, user: str) -> None:
        super().__init__()
        self.org = org
        self.user = user
        self.result: AiActivity | None = None
        self._calls_by_id: dict[str, AiCall] = {}
        self.source: Source | None = None  # several orgs: the shown org's (None: the app's)

    def compose_body(self) -> ComposeResult:
        yield Static(Text("loading…"), id="user-summary")
        yield AiTimeline(id="user-timeline")
        yield AiSection("flags", "f", AiFlagList(wrap=True, id="user-flags"), id="sec-flags")
        with Horizontal(id="user-tables"):
            # Every AI event of the person (connection set-ups included): titled with that name.
            yield AiSection(
                G.AI_EVENTS, "a", EventTable(call_columns(self._calls_by_id), empty_text="no AI events", id="user-calls"),
                id="sec-calls", defines=(G.AI_EVENTS,),
            )  # fmt: skip
            with Vertical(id="user-side", classes="ai-col"):
                yield AiSection("tools", "t", AiEventsTable(TOOL_COLUMNS, identity=lambda r: r.tool, id="user-tools"), id="sec-tools", defines=TOOL_NAMES)  # fmt: skip
                yield AiSection("clients", "c", AiEventsTable(CLIENT_COLUMNS, identity=lambda r: r.client, id="user-clients"), id="sec-clients", defines=CLIENT_NAMES)  # fmt: skip
                yield AiSection("delegated to agents", "d", AiEventsTable(DELEGATED_COLUMNS, identity=lambda c: c.id, id="user-delegated"), id="sec-delegated", defines=(G.DELEGATED,))  # fmt: skip

    def on_mount(self) -> None:
        header = self.query_one(PaneHeader)
        header.pane_title = f"AI activity › {clean(self.user, max_len=48)}"
        header.pane_window = self.org.window
        self.set_status(Status("fetching", "analysing…"))
        self.query_one(EventTable).focus()
        self.watch(self.app, "local_time", self._on_local_time, init=False)
        self._load()

    def _on_local_time(self, local: bool) -> None:
        self.query_one(EventTable).local_time = local
        if self.result is not None:
            self._show(self.result)

    @work(exclusive=True, exit_on_error=False, group=USER_GROUP, description="Drilling into a user")
    async def _load(self) -> None:
        done = self.org.completeness
        if done is not None and "ddsql" in done.engine:
            # The org's answer was aggregated: it holds only the calls its flags read. The person's own
            # calls are fetched whole, as `ddaudit ai --user` does (the engine then reads every one).
            engine, max_pages = engine_options(self.ddaudit)
            result = await investigate_ai(
                self.source or self.ddaudit.source,
                self.org.window,
                query=self.org.query,
                user=self.user,
                engine=engine,
                max_pages=max_pages,
            )
        else:
            # Cheap for a few hundred calls, but a busy org can have tens of thousands: off the UI thread.
            result = await asyncio.to_thread(self.org.for_user, self.user)
        self._show(result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = clean(str(error) or type(error).__name__, max_len=300)
        if event.worker.group == USER_GROUP:
            self.set_status(Status("error", f"error: {message}"))
        title = "Export failed" if event.worker.group == EXPORT_GROUP else "Drill-down failed"
        self.notify(message, title=title, severity="error", markup=False, timeout=10)

    def _show(self, result: AiActivity) -> None:
        self.result = result
        local = bool(self.ddaudit.local_time)
        self._calls_by_id.clear()
        self._calls_by_id.update({c.id: c for c in result.calls})
        lead = f"{result.counts.get('ai_events', len(result.calls)):,} AI events"
        # A drill-down of a partial answer is partial too (issue 16): never a ✓ on it.
        done = result.completeness
        if done is not None and done.partial:
            self.set_status(Status.from_completeness(done, lead))
        else:
            self.set_status(Status("complete", lead))
        summary = self.query_one("#user-summary", Static)
        summary.update(self._summary(result, local))
        summary.tooltip = G.define(G.AI_GLOSSARY, USER_SUMMARY_NAMES)
        self.query_one(AiTimeline).set_activity(result.calls, result.window, result.bursts, local)
        self.query_one(AiFlagList).set_flags(result.flags)
        self._section("flags").set_title(len(result.flags), flag_counts_text(result.flags))
        table = self.query_one(EventTable)
        table.local_time = local
        table.set_events([c.event for c in result.calls])
        self._section("calls").set_title(len(result.calls))
        self._fill("tools", result.tools, local)
        self._fill("clients", result.clients, local)
        self._fill("delegated", [c for c in result.calls if c.delegated], local)

    def _summary(self, result: AiActivity, local: bool) -> Text:
        d = result.user_detail
        n = result.counts
        text = Text(end="")
        text.append(clean(result.user or self.user, max_len=80), style="bold")
        if d is not None:
            others = [i for i in d.identities if i.lower() != (result.user or "").lower()]
            if others:
                text.append("  aka " + clean(", ".join(others[:4]), max_len=80), style="dim")
            text.append("\n")
            text.append(
                f"first {fmt_ts(d.first_seen, local, False)} · last {fmt_ts(d.last_seen, local, False)}"
            )
            before = {True: "yes", False: "no — first time", None: "unknown"}[d.had_ai_before]
            text.append(f" · AI in the {result.config.baseline_days}-day baseline: {before}")
            scope = ", ".join(d.scope_types) if d.scope_types is not None else "unknown"
            text.append(" · own non-AI scope: " + clean(scope, max_len=80))
        text.append("\n")
        append_counts(
            text,
            [
                (n[USER_SUMMARY_KEYS[name]], singular(n[USER_SUMMARY_KEYS[name]], name))
                for name in USER_SUMMARY_NAMES
            ],
        )
        return text

    def _section(self, name: str) -> AiSection:
        return self.query_one(f"#sec-{name}", AiSection)

    def _fill(self, name: str, items: Sequence[Any], local: bool) -> None:
        table = self.query_one(f"#user-{name}", AiTable)
        table.set_items(items, local)
        sort = table.sort_description
        self._section(name).set_title(len(table.items), Text(f"by {sort}", style="dim") if sort else "")

    @on(AiTable.Sorted)
    def _sorted(self, event: AiTable.Sorted) -> None:
        table = event.table
        if table.id and table.id.startswith("user-"):
            sort = table.sort_description
            self._section(table.id[5:]).set_title(
                len(table.items), Text(f"by {sort}", style="dim") if sort else ""
            )

    @on(EventTable.Selected)
    def _call_selected(self, event: EventTable.Selected) -> None:
        event.stop()
        open_detail(event.table, event.index)

    @on(AiTable.Chosen)
    def _chosen(self, event: AiTable.Chosen[Any]) -> None:
        event.stop()
        result = self.result
        if result is None:
            return
        table_id = event.table.id
        item = event.item
        if table_id == "user-delegated":
            self.open_events([c.event for c in event.table.rows_in_order], event.index)
            return
        if table_id == "user-tools":
            calls = [c for c in result.calls if c.tool == item.tool and c.counted]
        elif table_id == "user-clients":
            calls = [c for c in result.calls if c.client == item.client]
        else:
            return
        self.open_events([c.event for c in reversed(calls)])

    @on(AiFlagList.Chosen)
    def _flag_chosen(self, event: AiFlagList.Chosen) -> None:
        event.stop()
        result = self.result
        if result is None:
            return
        calls = [c for i in event.flag.event_ids if (c := result.call(i)) is not None]
        self.open_events([c.event for c in reversed(calls)])

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        return ai_user_query(self.org.query, self.user), list(AI_COLUMNS)

    def shown_window(self) -> Window:
        return self.org.window

    def action_back(self) -> None:
        self.dismiss(None)

    def action_focus_section(self, name: str) -> None:
        self._section(name).body.focus()

    def export_title(self) -> str:
        return f"the AI activity of {clean(self.user, max_len=48)}"
