"""Spike watch: the view a responder leaves in a tmux pane — who is doing a burst of privileged actions
right now, the alerts it opened, and whether the data is fresh.

The poller (`alerts/poller.py`) runs in a worker owned by this screen, the mode's base screen: it is
created when the pane is first shown, keeps polling while other panes are shown (modes keep their
screens), and stops when the app exits (the screen is unmounted). Rules, pager and state are chosen in
`alerts/wiring.py` (paging off unless a routing key is configured; dry run in the demo; state in memory
unless paging).

Pause (`space`) freezes the two tables only: polling, detection, alerts, toasts, the bell, paging and
the sparklines go on, and the status line counts what waits ("⏸ PAUSED – 37 new events"); resuming
shows it all at once (tui-practice.md §1.2). While another pane (or a modal) is shown, snapshots are
kept but not drawn; the screen catches up when it is shown again. The only timer is the 1 s countdown,
which repaints one line and only while this pane is visible (the idle budget, DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from ddaudit_tui.alerts.pagerduty import alert_query
from ddaudit_tui.alerts.poller import WatchSnapshot
from ddaudit_tui.alerts.wiring import PAGE_WORDS, TuiWatch, WatchOptions, open_tui_watch
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import ACTOR_FIELDS, Alert, Rule, union_query
from ddaudit_tui.report import watch_report  # noqa: F401  (registers the "watch" renderers for export)
from ddaudit_tui.report.watch_report import WatchReport
from ddaudit_tui.sources.base import Progress
from ddaudit_tui.timeutil import Window, fmt_ts, human_duration
from ddaudit_tui.tui.export import export_report
from ddaudit_tui.tui.safe_text import clean, fit
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.screens.detail import open_detail
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader, Status
from ddaudit_tui.tui.widgets.pane_bar import PaneBadge
from ddaudit_tui.tui.widgets.pane_footer import PaneFooter
from ddaudit_tui.tui.widgets.watch_compact import COMPACT, TOO_SMALL, CompactWatch, StatusPart, layout_for
from ddaudit_tui.tui.widgets.watch_sparklines import HotActorSparklines, RateSparkline
from ddaudit_tui.tui.widgets.watch_status import TextLine
from ddaudit_tui.tui.widgets.watch_tables import ActorTable, AlertTable, alert_line

POLLER_GROUP = "watch-poller"
SNAPSHOT_GROUP = "watch-snapshots"
EVENTS_GROUP = "watch-events"
EXPORT_GROUP = "watch-export"

INTERVALS_S: tuple[float, ...] = (30.0, 60.0, 300.0)  # `i` cycles, `+`/`-` step
WINDOWS_S: tuple[float, ...] = (300.0, 900.0, 3600.0)  # `w` cycles
MAX_ALERT_TOASTS = 3  # per poll; more are summed up in one toast
TOAST_TIMEOUT_S = 12

_TOAST_SEVERITY = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "information",
    Severity.INFO: "information",
}


def _dur(seconds: float) -> str:
    return human_duration(int(seconds * 1000))


def _countdown(seconds: float) -> str:
    """`25 s`, `4 m 05 s`: a countdown that visibly moves every second."""
    s = max(0, int(seconds + 0.999))
    if s < 60:
        return f"{s} s"
    return f"{s // 60} m {s % 60:02d} s"


def _ago(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    return f"{_dur(s)} ago"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def actor_query(actor: str, rules: Sequence[Rule]) -> str:
    """The rules' events of one actor (by any of the actor fields): what Enter on an actor lists."""
    who = " OR ".join(f"@{f}:{_quote(actor)}" for f in ACTOR_FIELDS)
    return f"({union_query(rules)}) ({who})"


def alert_search(alert: Alert, rule: Rule | None) -> tuple[str, Window, list[str] | None]:
    """What Enter on an alert lists, and `m` on it keeps: its rule's query over its span, narrowed to its
    ids while it holds them all (an alert keeps its first 1,000; beyond that, every match in the span)."""
    ids = alert.event_ids if len(alert.event_ids) >= alert.count else None
    return alert_query(alert, rule), Window(alert.first_seen, alert.last_seen + 1), ids


def actor_search(actor: str, snap: WatchSnapshot) -> tuple[str, Window] | None:
    """What Enter on an actor's row lists, and `m` on it keeps: the rules' events of the actor over the
    rules' longest window (None before the first poll)."""
    if snap.watermark_ms is None:
        return None
    longest = max([int(snap.window_s * 1000), *(r.window_ms or 0 for r in snap.rules)])
    return actor_query(actor, snap.rules), Window(snap.watermark_ms - longest, snap.watermark_ms + 1)


async def read_events(
    source: Any, query: str, window: Window, ids: Sequence[str] | None = None
) -> tuple[list[Any], Any]:
    """(the events, the fetch result): `query` over `window`, only `ids` when given."""
    result = await source.fetch(query, window)
    events = result.events
    if ids is not None:
        wanted = set(ids)
        events = [e for e in events if e.id in wanted]
    return events, result


class WatchScreen(PaneScreen):
    PANE_TITLE: ClassVar[str] = "Spike watch"

    DEFAULT_CSS = """
    WatchScreen #watch-status { padding: 0 1; background: $panel; }
    WatchScreen #watch-status.-paused { background: $warning 30%; text-style: bold; }
    WatchScreen #watch-stale { display: none; padding: 0 1; background: $error 25%; color: $text-error; text-style: bold; }
    WatchScreen #watch-stale.-visible { display: block; }
    WatchScreen #watch-rate { height: 2; }
    WatchScreen.-short #watch-rate { height: 1; }
    WatchScreen #watch-top { height: auto; }
    WatchScreen #watch-actors-box { width: 1fr; height: auto; }
    /* The actor table grows into the free height (up to ~half the screen; the alerts get the rest). */
    WatchScreen ActorTable { height: auto; min-height: 3; max-height: 45vh; }
    WatchScreen #watch-top { max-height: 50vh; }
    WatchScreen #watch-hot { height: auto; min-height: 3; max-height: 45vh; }
    WatchScreen.-short ActorTable { max-height: 7; }
    WatchScreen.-short #watch-hot { max-height: 8; }
    WatchScreen .watch-title { padding: 0 1; background: $panel; color: $text-accent; text-style: bold; }
    WatchScreen #watch-alerts-box { height: 1fr; }
    WatchScreen AlertTable { height: 1fr; }
    WatchScreen #watch-alert-line { padding: 0 1; background: $panel; height: auto; max-height: 2; text-wrap: wrap; }
    WatchScreen.-narrow #watch-hot { display: none; }
    App:nocolor WatchScreen LiveTable > .datatable--cursor { text-style: reverse bold; }
    App:nocolor WatchScreen #watch-status.-paused { text-style: reverse bold; }
    App:nocolor WatchScreen #watch-stale { text-style: reverse bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_pause",
            "Pause",
            id="watch.pause",
            tooltip="Freeze the tables (polling, alerts and paging go on); again to resume",
        ),
        Binding("r", "poll_now", "Poll now", id="watch.poll", tooltip="Poll the audit trail now"),
        Binding("i", "cycle_interval", "Interval", id="watch.interval", tooltip="Poll every 30s → 1m → 5m"),
        Binding("plus", "step_interval(1)", "Longer interval", show=False, id="watch.interval-up"),
        Binding("minus", "step_interval(-1)", "Shorter interval", show=False, id="watch.interval-down"),
        Binding("w", "cycle_window", "Window", id="watch.window", tooltip="Count over 5m → 15m → 1h"),
        Binding("b", "toggle_bell", "Bell", id="watch.bell", tooltip="Ring the terminal bell on a new alert"),
        Binding(
            "e", "export", "Export", id="watch.export", tooltip="Write the alert report (Markdown, JSON…)"
        ),
    ]

    def __init__(self, options: WatchOptions | None = None) -> None:
        super().__init__()
        # The events of each alert opened (by dedup key): `m` on the alert keeps them as evidence.
        self.alert_events: dict[str, list[Any]] = {}
        self._options = options
        self.watch_setup: TuiWatch | None = None
        self.paused = False
        self.bell = False
        self.latest: WatchSnapshot | None = None  # what the poller last reported
        self.shown: WatchSnapshot | None = None  # what the tables show (frozen while paused)
        self.setup_error: str | None = None
        self._known_alerts: set[str] | None = None  # dedup keys already announced
        self._dirty = False  # a snapshot arrived while the pane was not visible
        self._countdown_timer: Timer | None = None
        self._clock: Any = None

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield from super().compose()
        # What a small pane shows instead of the frame (the `-compact` class; app.tcss).
        yield CompactWatch(id="watch-compact")

    def compose_body(self) -> ComposeResult:
        yield TextLine(id="watch-status")
        yield TextLine(id="watch-stale")
        if self._several_orgs:  # each org's poll state, worst first (tui/org_watch.py)
            from ddaudit_tui.tui.org_watch import LINES_ID
            from ddaudit_tui.tui.widgets.org_lines import OrgLines

            yield OrgLines(id=LINES_ID)
        yield RateSparkline(id="watch-rate")
        with Horizontal(id="watch-top"):
            with Vertical(id="watch-actors-box"):
                yield TextLine(id="watch-actors-title", classes="watch-title")
                yield ActorTable(id="watch-actors")
            yield HotActorSparklines(id="watch-hot")
        with Vertical(id="watch-alerts-box"):
            yield TextLine(id="watch-alerts-title", classes="watch-title")
            yield AlertTable(id="watch-alerts")
            yield TextLine(id="watch-alert-line")

    @property
    def actor_table(self) -> ActorTable:
        return self.query_one(ActorTable)

    @property
    def alert_table(self) -> AlertTable:
        return self.query_one(AlertTable)

    @property
    def poller(self) -> Any:
        return self.watch_setup.poller if self.watch_setup is not None else None

    @property
    def _several_orgs(self) -> bool:
        return len(getattr(self.app, "orgs", None) or ()) > 1

    def _org_prefix(self, alert: Alert) -> str:
        """`org eu · ` with several orgs (the alert's own), else ''."""
        if self.watch_setup is None or not self._several_orgs:
            return ""
        from ddaudit_tui.tui.org_watch import alert_prefix

        return alert_prefix(self.watch_setup, alert)

    def _source_for(self, alert: Alert | None = None, actor: str | None = None) -> Any:
        """Where an alert's or actor's events are read: its org's source with several orgs, else None."""
        setup = self.watch_setup
        if setup is None or not self._several_orgs:
            return None
        return setup.source_of_alert(alert) if alert is not None else setup.source_of_actor(actor)

    def on_mount(self) -> None:
        self._apply_size()
        self.alert_table.focus()
        self.watch(self.app, "local_time", self._on_local_time, init=False)
        self.query_one("#watch-actors-title", TextLine).set_text(Text("ACTORS · starting…", end=""))
        self.query_one("#watch-alerts-title", TextLine).set_text(Text("ALERTS", end=""))
        self._start()
        # The countdown: one line, once a second, only while the pane is visible.
        self._countdown_timer = self.set_interval(1.0, self._tick, name="watch-countdown")

    def _start(self) -> None:
        app = self.ddaudit
        if getattr(app.source, "loading", False):
            # A file still being read: its window (the "now" the watch evaluates it at) is known only at
            # the end; set up before that, the watch would poll old events against the wall clock.
            self.set_status(Status("fetching", "waiting for the input to be read…"))
            self.run_worker(self._start_when_loaded(), exit_on_error=False, description="Watch: input")
            return
        options = self._options or getattr(app, "watch_options", None) or WatchOptions()
        try:
            if callable(options):  # the CLI's, made when first needed (not before the first frame, issue 12)
                options = app.watch_options = options()  # type: ignore[attr-defined]
            if self._several_orgs:  # a poller per org, merged (tui/org_watch.py)
                from ddaudit_tui.tui import org_watch

                setup: Any = org_watch.open_every_org(app, options, progress=self._on_progress)
                self.alert_table.org_of = setup.org_of_alert
                self.actor_table.org_of = setup.org_of_actor
                self.query_one(CompactWatch).org_of = setup.org_of_alert
            else:
                setup = open_tui_watch(
                    app.source,
                    options,
                    app_window=app.window,
                    clock=app.clock,
                    progress=self._on_progress,
                )
        except Exception as exc:  # a malformed rules file, an unreadable config: say so, keep the app
            self.setup_error = clean(str(exc) or type(exc).__name__, max_len=300)
            self.set_status(Status("error", f"not watching: {self.setup_error}"))
            self.query_one("#watch-actors-title", TextLine).set_text(
                Text(f"✖ the watch could not start: {self.setup_error}", end="")
            )
            self.notify(self.setup_error, title="Spike watch", severity="error", markup=False, timeout=15)
            return
        self.watch_setup = setup
        self._clock = setup.clock
        for warning in setup.warnings:
            self.notify(clean(warning, max_len=300), title="Spike watch", severity="warning", markup=False)
        self.set_status(Status("fetching", "first poll…"))
        # Subscribe before the loop starts: the first poll's snapshots are not missed.
        self.run_worker(self._consume(), group=SNAPSHOT_GROUP, exit_on_error=False, description="Watch view")
        self.run_worker(
            setup.poller.run(), group=POLLER_GROUP, exit_on_error=False, description="Watch poller"
        )

    async def _start_when_loaded(self) -> None:
        try:
            await self.ddaudit.source.wait_loaded()  # type: ignore[attr-defined]
        except Exception:  # noqa: S110  (the app reports a broken input itself, and ends)
            return
        self._start()

    async def _consume(self) -> None:
        assert self.watch_setup is not None
        async for snap in self.watch_setup.poller.snapshots():
            self._on_snapshot(snap)

    async def on_unmount(self) -> None:
        # The app is exiting (modes keep this screen otherwise): stop polling, close pager and state.
        if self._countdown_timer is not None:
            self._countdown_timer.stop()
        self.workers.cancel_group(self, POLLER_GROUP)
        self.workers.cancel_group(self, SNAPSHOT_GROUP)
        if self.watch_setup is not None:
            await self.watch_setup.aclose()

    def on_screen_suspend(self) -> None:
        if self._countdown_timer is not None:
            self._countdown_timer.pause()

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        self._apply_size()

    def _apply_size(self) -> None:
        """`-compact` below the full layout, down to 40×6 (app.tcss); `-tiny` below that."""
        layout = layout_for(*self.app.size)
        compact = layout == COMPACT
        self.set_class(compact, "-compact")
        self.set_class(layout == TOO_SMALL, "-tiny")
        if compact:
            self._draw_compact()

    @property
    def is_compact(self) -> bool:
        return self.has_class("-compact")

    def on_screen_resume(self) -> None:
        self._apply_size()
        if self._countdown_timer is not None:
            self._countdown_timer.resume()
        if self._dirty and self.latest is not None:
            self._dirty = False
            self._draw(self.latest)
        self._tick()

    def _on_local_time(self, _local: bool) -> None:
        if self.latest is not None:
            self._draw(self.latest)

    # -- snapshots ---------------------------------------------------------------------------------

    def _show_progress(self, progress: Progress) -> None:
        if self.is_current:
            super()._show_progress(progress)

    def _on_snapshot(self, snap: WatchSnapshot) -> None:
        self.latest = snap
        if self.shown is None or not self.paused:
            self.shown = snap
        # Announced whatever is shown: a pause, another pane or a modal never hide a new alert.
        self._announce(snap)
        self.publish_badge()  # the pane bar counts open alerts in every pane
        if not self.is_current:
            self._dirty = True
            return
        self._draw(snap)

    def badge(self) -> PaneBadge | None:
        """Open alerts (`● 2`), from the latest poll even while paused; none before the first poll."""
        snap = self.latest
        if snap is None:
            return None
        n = len(snap.open_alerts)
        if n:
            return PaneBadge(f"● {n}", f"●{n}", "alert")
        return PaneBadge("○ 0", "○0", "info")

    def _announce(self, snap: WatchSnapshot) -> None:
        keys = {a.dedup_key for a in snap.alerts}
        if self._known_alerts is None:
            if snap.polls == 0:
                return
            # The first poll's alerts come from the look-back (or the saved state): one toast, no bell.
            self._known_alerts = keys
            if snap.alerts:
                n_open = len(snap.open_alerts)
                self.app.notify(
                    f"{_plural(len(snap.alerts), 'alert')} in the look-back, {n_open} open.",
                    title="Spike watch",
                    severity="warning" if n_open else "information",
                    markup=False,
                    timeout=TOAST_TIMEOUT_S,
                )
            return
        new = sorted(
            (a for a in snap.alerts if a.dedup_key not in self._known_alerts), key=lambda a: a.opened_at
        )
        self._known_alerts = keys
        if not new:
            return
        for a in new[:MAX_ALERT_TOASTS]:
            prefix = self._org_prefix(a)
            self.app.notify(
                f"{clean(a.group, max_len=80)}: {_plural(a.count, 'event')} ({clean(a.actions_text(2), max_len=120)}) "
                f"{fmt_ts(a.first_seen, self.ddaudit.local_time)} → {fmt_ts(a.last_seen, self.ddaudit.local_time)[11:]} · "
                f"{PAGE_WORDS.get(a.page_status, a.page_status)}",
                title=f"{prefix}{a.severity.label} {clean(a.rule, max_len=60)}",
                severity=_TOAST_SEVERITY.get(a.severity, "warning"),  # type: ignore[arg-type]
                markup=False,
                timeout=TOAST_TIMEOUT_S,
            )
        if len(new) > MAX_ALERT_TOASTS:
            self.app.notify(
                f"… and {_plural(len(new) - MAX_ALERT_TOASTS, 'more new alert')}",
                title="Spike watch",
                severity="warning",
                markup=False,
                timeout=TOAST_TIMEOUT_S,
            )
        if self.bell:
            self.app.bell()

    # -- rendering ---------------------------------------------------------------------------------

    def _draw(self, snap: WatchSnapshot) -> None:
        """Everything from the latest snapshot; the tables from the shown one (frozen while paused)."""
        local = self.ddaudit.local_time
        header = self.query_one(PaneHeader)
        if snap.watermark_ms is not None:
            header.pane_window = Window(snap.watermark_ms - int(snap.window_s * 1000), snap.watermark_ms)
        self.set_status(self._header_status(snap, local))
        self.query_one(RateSparkline).set_series(snap.series_start_ms, snap.series, local)
        self.query_one(HotActorSparklines).set_series(snap.actor_series, snap.series_start_ms, local)
        if self._several_orgs and self.watch_setup is not None:
            from ddaudit_tui.tui.org_watch import show_lines

            show_lines(self, self.watch_setup)
        if not self.paused and self.shown is not None:
            self._render_tables(self.shown, local)
        self._tick()  # the compact watch too

    def _render_tables(self, snap: WatchSnapshot, local: bool) -> None:
        self.actor_table.show_snapshot(snap)
        self.alert_table.show_snapshot(snap, local)
        self._render_titles(snap)
        self._render_alert_line()

    def _render_alert_line(self) -> None:
        """The highlighted alert in full, under the table (which is compact below 100 columns)."""
        alert = self.alert_table.cursor_item
        line = self.query_one("#watch-alert-line", TextLine)
        if alert is None or self.shown is None:
            line.set_text(
                Text("no alert selected" if self.shown and self.shown.alerts else "", style="dim", end="")
            )
            return
        rules = {r.name: r for r in self.shown.rules}
        text = alert_line(alert, rules.get(alert.rule), self.ddaudit.local_time)
        if prefix := self._org_prefix(alert):
            text = Text(prefix, style="bold", end="") + text
        line.set_text(text)

    @on(DataTable.RowHighlighted, "#watch-alerts")
    def _alert_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._render_alert_line()

    def _render_titles(self, snap: WatchSnapshot) -> None:
        n_hot = sum(1 for r in snap.rows if r.hot)
        actors = Text(no_wrap=True, overflow="ellipsis", end="")
        actors.append(
            f"ACTORS · last {_dur(snap.window_s)} · {_plural(len(snap.rows), 'actor')}, {n_hot} hot"
        )
        if not snap.rows:
            actors.append(" · no matching events in the window", style="dim")
        else:
            actors.append(" · ! = over threshold", style="dim")
        self.query_one("#watch-actors-title", TextLine).set_text(actors)
        n_open = len(snap.open_alerts)
        alerts = Text(no_wrap=True, overflow="ellipsis", end="")
        alerts.append(f"ALERTS · ● {n_open} open · ○ {len(snap.alerts) - n_open} closed (24h)")
        alerts.append(" · enter lists an alert's events" if snap.alerts else " · none yet", style="dim")
        self.query_one("#watch-alerts-title", TextLine).set_text(alerts)

    def _header_status(self, snap: WatchSnapshot, local: bool) -> Status:
        if snap.polling:
            return Status("fetching", clean(snap.activity) or "polling…")
        if snap.error is not None:
            return Status("error", f"poll failed: {snap.error}")
        if snap.stale:
            first = snap.warnings[0] if snap.warnings else "some events could not be fetched"
            return Status("partial", f"partial poll: {first}")
        if snap.last_success is None:
            return Status("idle", "")
        n_open = len(snap.open_alerts)
        polled = fmt_ts(round(snap.last_success * 1000), local)[11:]
        # Open alerts are news to act on, not a success: the poll worked, the org is not fine. Nor is a
        # quiet window after a HIGH or CRITICAL burst that just closed: the worst recent news is said.
        closed = [a for a in snap.alerts if not a.is_open]
        worst = max((a.severity for a in closed), default=None)
        if not n_open and worst is not None and worst >= Severity.HIGH:
            return Status(
                "warning",
                f"0 open alerts · {len(closed)} closed, worst {worst.name} · polled {polled}",
            )
        return Status(
            "warning" if n_open else "complete", f"{_plural(n_open, 'open alert')} · polled {polled}"
        )

    def _now(self) -> float:
        return float(self._clock()) if self._clock is not None else float(self.ddaudit.clock())

    def _is_stale(self, snap: WatchSnapshot, now: float) -> bool:
        if snap.stale:
            return True
        # No news is not good news: a poller that stopped reporting makes the data stale too.
        return snap.last_success is not None and now - snap.last_success > 2 * snap.interval_s + 60

    def _tick(self) -> None:
        """The status and stale lines (the countdown moves every second)."""
        snap = self.latest
        if not self.is_mounted:
            return
        self._draw_compact()
        if snap is None:
            return
        now = self._now()
        self.query_one("#watch-status", TextLine).set_text(self.status_text(snap, now))
        status = self.query_one("#watch-status", TextLine)
        status.set_class(self.paused, "-paused")
        stale = self.query_one("#watch-stale", TextLine)
        if self._is_stale(snap, now):
            stale.set_text(self.stale_text(snap, now))
            stale.add_class("-visible")
        else:
            stale.remove_class("-visible")

    def _draw_compact(self) -> None:
        """The compact watch (shown at a small size; kept current only while it is)."""
        if not self.is_compact:
            return
        compact = self.query_one(CompactWatch)
        snap = self.latest
        now = self._now()
        if self.setup_error is not None:
            note = f"the watch could not start: {self.setup_error}"
            compact.show([StatusPart("✖ not watching", "stale")], None, round(now * 1000), note=note)
            return
        if snap is None:
            compact.show([StatusPart("● LIVE", "lead"), StatusPart("first poll…")], None, round(now * 1000))
            return
        compact.show(self.compact_status(snap, now), self.shown or snap, round(now * 1000))

    def compact_status(self, snap: WatchSnapshot, now: float) -> list[StatusPart]:
        """The status line's parts in short words, most important first (the line drops from the end):
        live or paused, stale, next poll, paging, last successful poll."""
        setup = self.watch_setup
        local = self.ddaudit.local_time
        fixed = setup is not None and setup.fixed_now_ms is not None
        if self.paused and self.shown is not None:
            waiting = max(0, snap.events_total - self.shown.events_total)
            parts = [StatusPart(f"⏸ PAUSED +{waiting:,}", "paused")]
        else:
            parts = [StatusPart("■ FILE" if fixed else "● LIVE", "lead")]
        ok = ""
        if snap.last_success is not None:
            ok = f"ok {fmt_ts(round(snap.last_success * 1000), local, seconds=False)[11:]}"
        stale = self._is_stale(snap, now)
        if stale:
            # The last successful poll is what makes data stale: it goes with the warning.
            parts.append(StatusPart(f"⚠ STALE · {ok or 'no poll yet'}", "stale"))
        if fixed:
            assert setup is not None and setup.fixed_now_ms is not None
            parts.append(StatusPart(f"as of {fmt_ts(setup.fixed_now_ms, local, seconds=False)}"))
        elif snap.polling:
            parts.append(StatusPart("⟳ polling"))
        elif snap.next_poll is not None:
            left = max(0, int(snap.next_poll - now + 0.999))
            parts.append(StatusPart(f"next {left // 60}:{left % 60:02d}"))
        parts.append(StatusPart(f"paging {setup.paging}" if setup is not None else "paging off"))
        if ok and not fixed and not stale:
            parts.append(StatusPart(ok))
        return parts

    def status_text(self, snap: WatchSnapshot, now: float) -> Text:
        setup = self.watch_setup
        local = self.ddaudit.local_time
        parts: list[str] = []
        if self.paused and self.shown is not None:
            waiting = max(0, snap.events_total - self.shown.events_total)
            shown_keys = {a.dedup_key for a in self.shown.alerts}
            new_alerts = sum(1 for a in snap.alerts if a.dedup_key not in shown_keys)
            lead = f"⏸ PAUSED – {_plural(waiting, 'new event')}"
            if new_alerts:
                lead += f", {_plural(new_alerts, 'new alert')}"
            lead += " · space resumes"
        elif setup is not None and setup.fixed_now_ms is not None:
            lead = "■ FILE"  # history, not live: the file is evaluated as of its end
        else:
            lead = "● LIVE"
        if setup is not None and setup.fixed_now_ms is not None:
            timing = f"as of {fmt_ts(setup.fixed_now_ms, local)}"
        elif snap.polling:
            timing = "⟳ polling…"
        elif snap.next_poll is not None:
            timing = f"next poll in {_countdown(snap.next_poll - now)}"
        else:
            timing = "first poll…"
        last = (
            f"last ok {fmt_ts(round(snap.last_success * 1000), local)[11:]}"
            if snap.last_success is not None
            else "no successful poll yet"
        )
        paging = f"paging: {setup.paging}" if setup is not None else "paging: off"
        parts = [
            lead,
            timing,
            paging,
            last,
            f"every {_dur(snap.interval_s)}",
            f"window {_dur(snap.window_s)}",
            f"bell {'on' if self.bell else 'off'}",
            f"{snap.events_total:,} events",
        ]
        if setup is not None and setup.fixed_now_ms is not None:
            del parts[3:5]  # a file is not polled: no last poll, no interval
        width = max(20, self.query_one("#watch-status", TextLine).size.width - 2 or 200)
        # Least important last; drop from the end until the line fits.
        while len(parts) > 2 and len(" · ".join(parts)) > width:
            parts.pop()
        text = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis", end="")
        if self.paused:
            text.stylize("bold", 0, len(lead))
        return text

    def stale_text(self, snap: WatchSnapshot, now: float) -> Text:
        local = self.ddaudit.local_time
        if snap.last_success is not None:
            when = f"last successful poll {fmt_ts(round(snap.last_success * 1000), local)[11:]} ({_ago(now - snap.last_success)})"
        else:
            when = "no successful poll yet"
        msg = f"⚠ STALE DATA – {when}"
        if snap.error:
            msg += f" · poll failed: {clean(snap.error, max_len=160)}"
        elif snap.warnings:
            msg += f" · {clean(snap.warnings[0], max_len=160)}"
        if snap.next_poll is not None and not snap.polling:
            msg += f" · retrying in {_countdown(snap.next_poll - now)}"
        return Text(msg, no_wrap=True, overflow="ellipsis", end="")

    # -- events from the widgets -------------------------------------------------------------------

    @on(DataTable.RowSelected, "#watch-alerts")
    def _alert_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        alert = self.alert_table.item(str(event.row_key.value))
        if alert is None or self.shown is None:
            return
        rules = {r.name: r for r in self.shown.rules}
        screen = AlertEventsScreen.for_alert(alert, rules.get(alert.rule), self.ddaudit.local_time)
        screen.source = self._source_for(alert=alert)
        self.app.push_screen(screen)

    @on(DataTable.RowSelected, "#watch-actors")
    def _actor_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        snap = self.shown
        row = self.actor_table.item(str(event.row_key.value))
        search = actor_search(row.actor, snap) if row is not None and snap is not None else None
        if row is None or search is None:
            return
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        title.append(clean(row.actor, max_len=80), style="bold")
        title.append(f" · {_plural(row.total, 'match')} in the window · ")
        title.append(
            ", ".join(f"{clean(k)} {v}" for k, v in sorted(row.counts.items(), key=lambda kv: -kv[1]))
        )
        screen = AlertEventsScreen(title, *search)
        screen.source = self._source_for(actor=row.actor)
        self.app.push_screen(screen)

    # -- "copy as" ---------------------------------------------------------------------------------

    def _shown_search(self) -> tuple[str, Window] | None:
        """The highlighted alert's query over its span, the highlighted actor's over the rules' longest
        window (what Enter lists for each), else every rule's query over the counting window."""
        snap = self.shown or self.latest
        if snap is None or not snap.rules:
            return None
        app_window = self.ddaudit.window
        focused = self.focused
        if focused is self.alert_table and (alert := self.alert_table.cursor_item) is not None:
            rules = {r.name: r for r in snap.rules}
            return alert_query(alert, rules.get(alert.rule)), Window(alert.first_seen, alert.last_seen + 1)
        if snap.watermark_ms is None:
            return union_query(snap.rules), app_window
        if focused is self.actor_table and (row := self.actor_table.cursor_item) is not None:
            return actor_search(row.actor, snap)
        start = snap.watermark_ms - int(snap.window_s * 1000)
        return union_query(snap.rules), Window(start, snap.watermark_ms)

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        shown = self._shown_search()
        return (shown[0], None) if shown is not None else None

    def shown_window(self) -> Window:
        shown = self._shown_search()
        return shown[1] if shown is not None else self.ddaudit.window

    # -- actions -----------------------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self.latest is not None:
            self.shown = self.latest  # flush: everything collected while paused shows at once
            if self.is_current:
                self._draw(self.latest)
        self._tick()

    def action_poll_now(self) -> None:
        if self.poller is None:
            self.notify("The watch is not running.", severity="warning", markup=False)
            return
        self.poller.request_poll()

    def _set_interval(self, seconds: float) -> None:
        if self.poller is None:
            return
        self.poller.interval_s = seconds
        self.notify(f"Polling every {_dur(seconds)}.", title="Spike watch", markup=False, timeout=4)

    def action_cycle_interval(self) -> None:
        if self.poller is None:
            return
        current = self.poller.interval_s
        later = [s for s in INTERVALS_S if s > current]
        self._set_interval(later[0] if later else INTERVALS_S[0])

    def action_step_interval(self, step: int) -> None:
        if self.poller is None:
            return
        current = self.poller.interval_s
        if step > 0:
            choices = [s for s in INTERVALS_S if s > current]
            target = choices[0] if choices else INTERVALS_S[-1]
        else:
            choices = [s for s in INTERVALS_S if s < current]
            target = choices[-1] if choices else INTERVALS_S[0]
        if target != current:
            self._set_interval(target)

    def action_cycle_window(self) -> None:
        if self.poller is None:
            return
        current = self.poller.window_s
        later = [s for s in WINDOWS_S if s > current]
        target = later[0] if later else WINDOWS_S[0]
        self.poller.window_s = target
        note = ""
        if target > current:
            # The engine keeps only what the shorter window needed: a longer one fills up as time passes.
            note = " Counts cover the events still buffered until the window fills."
        self.notify(
            f"Counting over the last {_dur(target)}.{note}", title="Spike watch", markup=False, timeout=6
        )

    def action_toggle_bell(self) -> None:
        self.bell = not self.bell
        self.notify(f"Bell on new alerts: {'on' if self.bell else 'off'}.", markup=False, timeout=4)
        self._tick()

    def export_report_input(self) -> WatchReport | None:
        snap = self.latest
        if snap is None or snap.polls == 0:
            return None
        setup = self.watch_setup
        paging = f"{setup.paging} ({setup.paging_note})" if setup is not None and setup.paging_note else ""
        return WatchReport(
            snapshot=snap,
            source=self.ddaudit.source_label,
            paging=paging or (setup.paging if setup is not None else ""),
            generated_ms=round(self.ddaudit.clock() * 1000),
        )

    def action_export(self) -> None:
        report = self.export_report_input()
        if report is None:
            self.notify(
                "Nothing to export yet: the first poll has not finished.", severity="warning", markup=False
            )
            return

        def chosen(formats: list[str] | None) -> None:
            if formats:
                app = self.ddaudit
                self._export(report, formats, app.export_dir or Path.cwd(), app.clock())

        n = len(report.snapshot.alerts)
        self.app.push_screen(ExportDialog("watch", f"the spike watch report ({_plural(n, 'alert')})"), chosen)

    @work(thread=True, exit_on_error=False, group=EXPORT_GROUP, description="Exporting the watch report")
    def _export(self, report: WatchReport, formats: list[str], directory: Path, now: float) -> None:
        paths = export_report("watch", report, formats, directory, "watch", now)
        listing = "\n".join(clean(str(p)) for p in paths)
        # Paths are the user's own, but may still hold brackets: never markup.
        self.app.call_from_thread(
            self.app.notify,
            f"Wrote the spike watch report (mode 0600):\n{listing}",
            title="Exported",
            markup=False,
            timeout=15,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        message = clean(str(worker.error) or type(worker.error).__name__, max_len=300)
        if worker.group == EXPORT_GROUP:
            self.notify(message, title="Export failed", severity="error", markup=False, timeout=10)
        elif worker.group in (POLLER_GROUP, SNAPSHOT_GROUP):
            # The poller never raises (it reports failures in snapshots): this is a bug. Say so.
            self.notify(message, title="Spike watch stopped", severity="error", markup=False, timeout=30)


class AlertEventsScreen(ModalScreen[None]):
    """The events behind an alert (or an actor's row), fetched from the source; Enter opens one."""

    HELP_GROUP: ClassVar[str] = "Alert events"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="watch-events.close"),
        # A modal screen hides the app's bindings: `x` (pivot, tui/pivot.py) is repeated here.
        Binding("x", "app.pivot", "Pivot…", id="watch-events.pivot", show=False),
        Binding("Y", "app.copy_as", "Copy as…", id="watch-events.copy-as", show=False),
        Binding("m", "app.mark", "Mark", id="watch-events.mark", tooltip="Mark the event as evidence"),
        Binding("n", "app.note", "Note", id="watch-events.note", show=False, tooltip="Note on its mark"),
    ]

    DEFAULT_CSS = """
    AlertEventsScreen {
        align: center middle;
        & > #watch-events-frame {
            width: 100%;
            height: 100%;
            border: tall $accent;
            background: $surface;
        }
        & #watch-events-title { height: 1; padding: 0 1; background: $panel; }
        & #watch-events-note { height: 1; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self, title: Text, query: str, window: Window, ids: Sequence[str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.query_text = query
        self.fetch_window = window
        self.ids = list(ids) if ids is not None else None
        self.events: list[Any] = []
        self.alert: Alert | None = None  # set when opened for an alert (journalled as opened, issue 15)
        self.source: Any = None  # several orgs: the alert's (or actor's) org's source; None: the app's

    @classmethod
    def for_alert(cls, alert: Alert, rule: Rule | None, local: bool) -> AlertEventsScreen:
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        title.append(alert.severity.label, style="bold")
        title.append(f" {clean(alert.rule, max_len=40)} · ")
        title.append(clean(alert.group, max_len=60), style="bold")
        title.append(
            f" · {_plural(alert.count, 'event')} · {fmt_ts(alert.first_seen, local)} → {fmt_ts(alert.last_seen, local)}"
            f" · {'open' if alert.is_open else 'closed'} · {PAGE_WORDS.get(alert.page_status, alert.page_status)}"
        )
        screen = cls(title, *alert_search(alert, rule))
        screen.alert = alert
        return screen

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        return self.query_text, None

    def shown_window(self) -> Window:
        return self.fetch_window

    def compose(self) -> ComposeResult:
        with Vertical(id="watch-events-frame"):
            yield TextLine(self.title_text, id="watch-events-title")
            yield TextLine(Text("fetching…", end=""), id="watch-events-note")
            yield EventTable(id="watch-events", empty_text="fetching…")
        yield PaneFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(EventTable)
        table.local_time = bool(getattr(self.app, "local_time", False))
        table.focus()
        self._fetch()

    @work(exclusive=True, exit_on_error=False, group=EVENTS_GROUP, description="Fetching the alert's events")
    async def _fetch(self) -> None:
        source = self.source or self.app.source  # type: ignore[attr-defined]
        events, result = await read_events(source, self.query_text, self.fetch_window, self.ids)
        self.events = events
        if self.alert is not None:
            self._journal_alert(self.alert, events)
        table = self.query_one(EventTable)
        table.empty_text = "no events (the source no longer holds them)"
        table.set_events(events)
        note = f"{_plural(len(events), 'event')} · {fmt_ts(self.fetch_window.start)} → {fmt_ts(self.fetch_window.end)}"
        if self.ids is not None and len(events) < len(self.ids):
            note += f" · {len(self.ids) - len(events)} not returned by the source"
        if not result.complete:
            note += " · ⚠ PARTIAL: " + clean(result.warnings[0] if result.warnings else "some events missing")
        self.query_one("#watch-events-note", TextLine).set_text(Text(fit(note, 400).rstrip(), end=""))

    def _journal_alert(self, alert: Alert, events: list[Any]) -> None:
        from ddaudit_tui.tui.case_session import journal

        for screen in self.app.screen_stack:
            if isinstance(screen, WatchScreen):
                screen.alert_events[alert.dedup_key] = events
        journal(self.app, lambda case: case.record_alert(alert, events))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == EVENTS_GROUP:
            message = clean(str(event.worker.error) or type(event.worker.error).__name__, max_len=300)
            self.query_one("#watch-events-note", TextLine).set_text(
                Text(f"✖ fetching failed: {message}", end="")
            )
            self.notify(
                message, title="Fetching the events failed", severity="error", markup=False, timeout=10
            )

    @on(EventTable.Selected)
    def _open_detail(self, event: EventTable.Selected) -> None:
        event.stop()
        open_detail(event.table, event.index)

    def action_close(self) -> None:
        self.dismiss(None)
