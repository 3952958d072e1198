"""Key lookup: was API key K compromised? The pane over `analysis.key_investigation.investigate_key`.

Top to bottom: the key-id input, then either the keys seen in the loaded data or the key looked up.

The keys seen come riskiest first (`analysis.key_risk`): a background worker runs each key's own lookup
(the same `investigate_key`, its events taken from the search that listed the keys) and the list shows
its verdict, CRITICAL/HIGH flag counts and leaked/revoked markers as they arrive (`…` until then). The
riskiest key is highlighted, so launch → Enter → `e` → Enter exports the report of the demo's
compromised key.

The key looked up: the summary card (verdict in words, glyph and colour), the key's activity over the
window with flagged buckets marked, then one section at a time (`{`/`}` or a letter) — flags (most severe
first), origins, networks, endpoints, deletions and the full timeline. Enter on a row pivots: the
timeline filtered to that flag's evidence, country, network or endpoint (Esc clears), or the event
itself. Esc goes back to the whole list of keys (and from the list, back to the key). `e` exports the
report, `y` copies its summary, `t` opens a larger chart, `R` revokes the key after a typed confirmation.

The pane renders the report; it does not recompute findings. Every event-derived string is cleaned
(`safe_text`) and every toast is `markup=False`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ddaudit_tui.sources.completeness import ENGINE_FILE, Completeness, elapsed_text
from ddaudit_tui.timeutil import Window, fmt_ts
from ddaudit_tui.tui.export import export_report
from ddaudit_tui.tui.key_assess import assess_keys, risk_of
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.widgets.error_line import ErrorLine
from ddaudit_tui.tui.widgets.header import Status, StatusKind, verdict_status_kind
from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions
from ddaudit_tui.tui.widgets.pane_bar import PaneBadge

# First paint (issue 12): the pane's first frame is the input and the list's title with a progress line.
# The key analysis (every key detection: ~0.1 s of import), the report's widgets and their tabs are
# imported where they are used: once the keys seen are listed, or the report is composed (both after
# that frame). tests/tui/test_first_paint.py checks which modules the first frame has loaded.
if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from ddaudit_tui.analysis.key_investigation import InvestigationOptions
    from ddaudit_tui.analysis.key_risk import KeyRisk, PreloadedKeySource
    from ddaudit_tui.analysis.keys import Destructive, KeyReport, KeySeen
    from ddaudit_tui.analysis.signals import Flag
    from ddaudit_tui.events.record import Event
    from ddaudit_tui.sources.base import FetchResult
    from ddaudit_tui.tui.widgets.event_table import EventTable
    from ddaudit_tui.tui.widgets.key_summary import Revocation
    from ddaudit_tui.tui.widgets.key_tables import EventSignals, FlagList, NetworkRow, SortableTable

LOOKUP_GROUP = "key-lookup"
SUGGEST_GROUP = "key-suggest"
EXPORT_GROUP = "key-export"
REVOKE_GROUP = "key-revoke"
ASSESS_GROUP = "key-assess"
# How many keys the picker assesses in the background (the most recently used): each is a whole lookup.
ASSESS_LIMIT = 25

# "The loaded data" the suggestions come from: every event made with an API key, over the app window.
KEYS_QUERY = "@metadata.api_key.id:*"

# OSC 52 payloads above this (base64 bytes) are refused by many terminals (k9s caps at 74,994):
# larger texts go to a file instead.
CLIPBOARD_MAX = 64_000

TMUX_HINT = "inside tmux this needs `set -g set-clipboard on`"

# What "copy as" DDSQL selects for a key's events: who, what, where from, with which route.
KEY_COLUMNS = (
    "timestamp",
    "@usr.email",
    "@evt.name",
    "@action",
    "@http.method",
    "@http.url_details.path",
    "@http.status_code",
    "@network.client.ip",
    "@network.client.geoip.country.name",
    "@network.client.geoip.as.name",
)

# (tab id, title, key that jumps to it)
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("flags", "Flags", "f"),
    ("origins", "Origins", "o"),
    ("networks", "Networks", "w"),  # `n` is the note key everywhere (issue 15)
    ("endpoints", "Endpoints", "p"),
    ("deleted", "Deleted", "d"),
    ("timeline", "Timeline", "a"),
)


class LoopSource:
    """The app's source as seen from a worker thread with its own event loop: every coroutine method
    runs on the app's loop (where the Datadog client's connections live) and is awaited from the
    thread; plain attributes and methods (labels, the file source's baseline scan) are used directly."""

    def __init__(self, source: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.source = source
        self._loop = loop
        self.label = getattr(source, "label", "")

    @property
    def ddsql_target(self) -> Any:
        """What `key_engine.supports_ddsql` checks: the wrapped source (a DatadogClient can aggregate;
        its DDSQL calls then run on the app's loop like every other call)."""
        return self.source

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.source, name)  # AttributeError for what the source lacks, as probed
        if not inspect.iscoroutinefunction(attr):
            return attr
        loop = self._loop

        async def on_app_loop(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(attr(*args, **kwargs), loop))

        return on_app_loop


@dataclass(frozen=True)
class TimelineFilter:
    """What the timeline is narrowed to after a pivot (shown above it; Esc clears)."""

    label: str
    predicate: Callable[[Event], bool]


class KeyInput(Input):
    """The key id. Enter looks it up (handled by the pane); Escape goes back to the key looked up (else to
    the list); Down moves into the list of keys seen."""

    HELP_GROUP: ClassVar[str] = "Key id input"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back", id="key-input.leave"),
        Binding("down", "to_suggestions", "Keys seen", id="key-input.suggestions", show=False),
    ]

    def action_leave(self) -> None:
        screen = self.screen
        if isinstance(screen, KeyLookupScreen):
            screen.leave_input()

    def action_to_suggestions(self) -> None:
        self.screen.query_one(KeySuggestions).focus()


def _export_pane_name(key_id: str) -> str:
    # Key ids are validated, but may hold `:` or `.`: file names get letters, digits and dashes only.
    return "key-" + re.sub(r"[^A-Za-z0-9-]", "_", key_id[:13]).strip("-_")


class KeyLookupScreen(PaneScreen):
    PANE_TITLE: ClassVar[str] = "Key lookup"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_input", "Key id", id="key.input", tooltip="Type or pick an API key id"),
        Binding("e", "export", "Export", id="key.export", tooltip="Write the report (Markdown + JSON by default)"),
        Binding("y", "copy_summary", "Copy", id="key.copy", tooltip="Copy the one-paragraph summary (OSC 52)"),
        Binding("t", "chart", "Chart", id="key.chart", show=False,
                tooltip="Events per hour/day, flagged events marked"),
        Binding("R", "revoke", "Revoke", id="key.revoke", tooltip="Revoke the key after a typed confirmation"),
        # Read-only mode (`ddaudit serve`): `revoke` is absent (check_action, absent_actions) and `R` falls
        # through to this binding, which only says why.
        Binding("R", "revoke_refused", "Revoke (refused: read-only)", id="key.revoke-refused", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="key.clear-filter", tooltip="Show every event again"),
        Binding("escape", "back_to_list", "Keys seen", id="key.back-to-list",
                tooltip="Back to the keys seen, riskiest first"),
        Binding("escape", "back_to_results", "Back to the key", id="key.back-to-results", show=False,
                tooltip="Back to the key looked up"),
        Binding("i", "filter_ip", "Filter IP", id="key.filter-ip", show=False,
                tooltip="Narrow the timeline to the highlighted event's IP"),
        # `[`/`]` cycle the panes app-wide: the sections take the curly brackets.
        Binding("right_curly_bracket", "section(1)", "Next section", id="key.next-section", show=False),
        Binding("left_curly_bracket", "section(-1)", "Previous section", id="key.previous-section", show=False),
        *(
            Binding(key, f"show_section('{tab}')", title, id=f"key.section.{tab}", show=False)
            for tab, title, key in SECTIONS
        ),
        Binding("r", "rerun", "Look up again", id="key.rerun", show=False, tooltip="Run the lookup again"),
        # Several orgs (tui/orgs.py): only there, else absent from the footer, `?` and the palette.
        Binding("O", "cycle_org", "Next org", id="key.next-org", tooltip="Show the next org's report"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    KeyLookupScreen {
        #key-bar { height: 1; background: $panel; }
        #key-prompt { width: auto; padding: 0 1; color: $text-accent; text-style: bold; }
        #key-input { border: none; height: 1; padding: 0; width: 1fr; background: $panel; }
        #key-input:focus { background: $boost; text-style: none; }
        #key-error { display: none; height: auto; max-height: 3; padding: 0 1; color: $error; background: $error 10%; }
        #key-error.-visible { display: block; }
        #key-picker { height: 1fr; display: none; }
        #key-picker-title { height: 1; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
        #key-results { height: 1fr; }
        #key-activity { height: 3; }
        #key-sections { height: 1fr; }
        #key-sections > ContentSwitcher { height: 1fr; }
        #key-sections TabPane { padding: 0; height: 1fr; }
        #timeline-filter { height: 1; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
        #timeline-filter.-active { background: $accent 30%; text-style: bold; }
    }
    KeyLookupScreen.-picking {
        #key-picker { display: block; }
        #key-results { display: none; }
    }
    KeyLookupScreen.-short #key-activity { height: 2; }
    App:nocolor KeyLookupScreen #key-input:focus { text-style: underline; }
    App:nocolor KeyLookupScreen #timeline-filter.-active { text-style: bold reverse; }
    """

    def __init__(self) -> None:
        super().__init__()
        # The pane opens on the picker: set before the first styling, so that mounting does not restyle
        # the whole pane again (first paint, issue 12).
        self.add_class("-picking", update=False)
        self.key_id: str | None = None
        self.report: KeyReport | None = None
        self.jump_ref: dict[str, str] | None = None  # the Case view's Enter: the marked thing to show
        self.keys: list[KeySeen] = []
        self.timeline_filter: TimelineFilter | None = None
        self.revocation: Revocation | None = None
        self._signals: EventSignals | None = None  # made with the report's widgets (`_compose_results`)
        self._pending: str | None = None
        self._mounted = False
        self._keys_partial = False
        self._loop_source: LoopSource | None = None
        # The background assessment of the keys seen (their verdicts, for the picker's order).
        self._assess_token = 0  # bumped on each start and cancel: late results of an older run are dropped
        self._assessing = False
        self._assess_cancelled = False

    # -- layout --------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="key-bar"):
            yield Static(Text("key id ›"), id="key-prompt")
            yield KeyInput(
                placeholder="an API key id (UUID, @metadata.api_key.id) — never the key itself",
                id="key-input",
                select_on_focus=False,
            )
        yield ErrorLine(id="key-error")
        with Vertical(id="key-picker"):
            yield Static(id="key-picker-title")
            yield KeySuggestions(id="key-suggestions")
        # The report, hidden until a key is looked up: 28 widgets, ~10 % of the work before the first
        # frame. Composed into this container right after that frame (`_compose_results`).
        yield Vertical(id="key-results")

    def _compose_results(self) -> ComposeResult:
        from textual.widgets import TabbedContent, TabPane

        from ddaudit_tui.tui.widgets.key_activity import KeyActivity
        from ddaudit_tui.tui.widgets.key_summary import KeySummary
        from ddaudit_tui.tui.widgets.key_tables import (
            DESTRUCTIVE_COLUMNS,
            ENDPOINT_COLUMNS,
            NETWORK_COLUMNS,
            ORIGIN_COLUMNS,
            EventSignals,
            FlagList,
            KeyTimelineTable,
            SortableTable,
        )

        self._signals = EventSignals()
        yield KeySummary(id="key-summary")
        yield KeyActivity(id="key-activity")
        with TabbedContent(id="key-sections"):
            with TabPane("Flags", id="flags"):
                yield FlagList(id="key-flags")
            with TabPane("Origins", id="origins"):
                yield SortableTable(ORIGIN_COLUMNS, id="key-origins", empty_text="no events")
            with TabPane("Networks", id="networks"):
                yield SortableTable(NETWORK_COLUMNS, id="key-networks", empty_text="no events")
            with TabPane("Endpoints", id="endpoints"):
                yield SortableTable(ENDPOINT_COLUMNS, id="key-endpoints", empty_text="no requests")
            with TabPane("Deleted", id="deleted"):
                yield SortableTable(DESTRUCTIVE_COLUMNS, id="key-deleted", empty_text="no deletions")
            with TabPane("Timeline", id="timeline"):
                yield Static(id="timeline-filter")
                yield KeyTimelineTable(self._signals, id="key-timeline")

    def on_mount(self) -> None:
        self.watch(self.app, "local_time", self._on_local_time, init=True)
        self._set_picking(True)
        self._update_picker_title()
        self.query_one(KeySuggestions).focus()
        self._load_keys()
        self.call_after_refresh(self._after_first_layout)

    def _after_first_layout(self) -> None:
        # Textual lays the app out and writes the first frame, then posts `Ready`; the app's
        # `_first_paint_done` comes one refresh after `Ready`. The report is composed after that (two
        # refreshes of the app's queue: one comes before the app has handled `Ready`), so that it adds
        # nothing to the first frame's work (nor to what bench/ measures up to that point). Textual has
        # no public flag for the first layout; without it, the report is composed after two refreshes.
        if not getattr(self.app, "_dom_ready", True):
            self.call_after_refresh(self._after_first_layout)
            return
        self.app.call_after_refresh(self.app.call_after_refresh, self._mount_results)

    async def _mount_results(self) -> None:
        """The report's widgets, after the first frame (issue 12: first paint). Lookups asked before
        (`--key`, another pane's K) wait in `_pending` until they are there."""
        await self.query_one("#key-results").mount_compose(self._compose_results())
        if not self.query("#key-summary"):  # the app closed meanwhile: the pane is being torn down
            return
        self._mounted = True
        self._set_compact(self.size)
        self._set_results_local_time(self.app.local_time)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.lookup(pending)

    def on_resize(self, event: events.Resize) -> None:
        # (PaneScreen's own handler runs too: Textual dispatches to every class in the MRO.)
        if self._mounted:
            self._set_compact(event.size)

    def _set_compact(self, size: Size) -> None:
        # Short or narrow terminals (80×24, half a tmux window) keep the card to one line per group, so
        # the sections below keep their rows; the reasons are in the Flags section anyway.
        from ddaudit_tui.tui.widgets.key_summary import KeySummary

        self.query_one(KeySummary).compact = size.height < 30 or size.width < 100

    def _on_local_time(self, local: bool) -> None:
        if self._mounted:
            self._set_results_local_time(local)
        self.query_one(KeySuggestions).set_local_time(local)
        self._update_picker_title()

    def _set_results_local_time(self, local: bool) -> None:
        from ddaudit_tui.tui.widgets.key_summary import KeySummary
        from ddaudit_tui.tui.widgets.key_tables import KeyTimelineTable, SortableTable

        self.query_one(KeySummary).local_time = local
        self.query_one(KeyTimelineTable).local_time = local
        self.query_one("#key-deleted", SortableTable).set_local_time(local)

    def _set_picking(self, picking: bool) -> None:
        if picking != self.picking:
            self.set_class(picking, "-picking")
            self.refresh_bindings()  # Escape's meaning follows (see check_action)

    @property
    def picking(self) -> bool:
        return self.has_class("-picking")

    # -- the keys seen ---------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group=SUGGEST_GROUP, description="Listing the keys seen")
    async def _load_keys(self) -> None:
        app = self.ddaudit
        if self._several_orgs:  # every org's keys, with an org column (tui/orgs.py)
            from ddaudit_tui.tui import orgs

            await orgs.load_keys(self, ASSESS_GROUP, ASSESS_LIMIT, LoopSource)
            return
        if self.key_id is None:
            self.set_status(Status("fetching", "listing the API keys in the loaded data…"))
        result = await app.source.fetch(KEYS_QUERY, app.window)
        from ddaudit_tui.analysis.keys import keys_seen  # (after the first frame: the fetch waits for it)

        # One pass over what may be 200k events: off the UI thread.
        seen = await asyncio.to_thread(keys_seen, result.events)
        self.keys = seen
        self._keys_partial = not result.complete
        empty = "no API key was used in the loaded data: type a key id above"
        self.query_one(KeySuggestions).set_keys(seen, empty_text=empty)
        # The inline completion shows the id raw: only ids that are valid (and so plain) are offered.
        self.query_one(KeyInput).suggester = SuggestFromList(
            [k.key_id for k in seen if _valid(k.key_id)], case_sensitive=False
        )
        if self.key_id is None:  # a lookup started meanwhile owns the status line
            n = len(seen)
            self.set_status(Status("complete", f"{n} API key{'s' if n != 1 else ''} seen · pick one"))
        self._start_assessment(result, seen)

    # -- the background assessment: each key's verdict, for the picker's order ---------------------------

    def _start_assessment(self, result: FetchResult, keys: Sequence[KeySeen]) -> None:
        app = self.ddaudit
        self._assess_token += 1
        self._assess_cancelled = False
        self._assessing = bool(keys)
        self._update_picker_title()
        if not keys:
            return
        from ddaudit_tui.analysis.key_risk import PreloadedKeySource, assessed_order

        # The keys' own events are already here (the search above): only the rest of each lookup (the
        # key's lifecycle events, the API Keys endpoint, the country checks) goes to the source.
        source = PreloadedKeySource(LoopSource(app.source, asyncio.get_running_loop()), result)
        # Each assessment is a lookup (the key's lifecycle events, the API Keys endpoint): an org with
        # hundreds of keys would spend its rate limit on the picker. The most recently used are assessed.
        order = assessed_order(keys)
        self.query_one(KeySuggestions).set_skipped(k.key_id for k in order[ASSESS_LIMIT:])
        self._assess_keys(
            source, order[:ASSESS_LIMIT], app.window, int(app.clock() * 1000), self._assess_token
        )

    def cancel_assessment(self) -> None:
        """Stop assessing the keys seen (the keys not assessed yet keep their `…`)."""
        self.workers.cancel_group(self, ASSESS_GROUP)
        self._assess_token += 1
        if self._assessing:
            self._assessing = False
            self._assess_cancelled = True
        self._update_picker_title()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=ASSESS_GROUP,
        description="Assessing the keys seen",
    )
    async def _assess_keys(
        self, source: PreloadedKeySource, keys: list[KeySeen], window: Window, now_ms: int, token: int
    ) -> None:
        # Exactly the lookup each key would get (same analysis, same parameters), one key at a time, in a
        # thread with its own loop like the lookup (tui/key_assess.py), so the list stays usable meanwhile.
        app = self.ddaudit
        # The keys' events are already here (the search above): the assessment never aggregates.
        options = dataclasses.replace(self.investigation_options(), engine="search")

        async def assess(k: KeySeen) -> KeyRisk:
            return await risk_of(app, source, k.key_id, window, options, now_ms)

        def apply(risks: dict[str, KeyRisk], failed: list[str], done: bool) -> None:
            self._apply_risks(token, risks, failed, done)

        await assess_keys(self.app, get_current_worker(), keys, assess, apply)

    def _apply_risks(self, token: int, risks: dict[str, KeyRisk], failed: list[str], done: bool) -> None:
        if token != self._assess_token:  # from a run cancelled or replaced since
            return
        suggestions = self.query_one(KeySuggestions)
        if done:
            self._assessing = False
        # Rebuilding the list posts `Rebuilt`, which updates the title (its count and progress).
        suggestions.set_risks(risks, failed)
        if done and self.key_id is None:  # a lookup started meanwhile owns the status line
            n = len(suggestions.keys)
            worst = sum(1 for r in suggestions.risks.values() if r.verdict == _verdicts()[0])
            seen = f"{n} API key{'s' if n != 1 else ''} seen"
            if worst:
                # The worst news leads, in the error's look: never a success tick over a compromised key.
                self.set_status(Status("compromised", f"{worst} likely compromised · {seen} · pick one"))
            else:
                self.set_status(Status("complete", f"{seen} · pick one"))

    def _own_risk(self, report: KeyReport) -> None:
        """A lookup's verdict is the list's verdict for that key (the data may have moved on)."""
        from ddaudit_tui.analysis.key_risk import key_risk

        want = report.key_id.casefold()
        key = next((k.key_id for k in self.keys if k.key_id.casefold() == want), None)
        if key is not None:
            self.query_one(KeySuggestions).set_risks({key: key_risk(report)})

    @on(KeySuggestions.Rebuilt)
    def _suggestions_rebuilt(self, event: KeySuggestions.Rebuilt) -> None:
        event.stop()
        self._update_picker_title()

    def _update_picker_title(self) -> None:
        suggestions = self.query_one(KeySuggestions)
        n = len(suggestions.keys)
        shown = len(suggestions.shown)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("Keys seen: ", style="bold")
        # The count is the rows' own: "1 of 5 keys" while the typed text narrows the list.
        keys = f"{n} key{'s' if n != 1 else ''}"
        text.append(keys if shown == n or not n else f"{shown} of {keys}", style="bold")
        if n:
            from ddaudit_tui.analysis.key_risk import RANK_ORDER

            text.append(f" · {RANK_ORDER}")
        pending = suggestions.pending
        if self._assessing and pending:
            text.append(f" · assessing {n - pending}/{n}…", style="italic")
        elif pending and n and self._assess_cancelled:
            text.append(f" · {pending} not assessed", style="italic")
        if suggestions.failed:
            text.append(f" · {len(suggestions.failed)} could not be assessed", style="italic")
        if suggestions.skipped:
            text.append(
                f" · {len(suggestions.skipped)} not assessed (only the {ASSESS_LIMIT} most recently used are:"
                " enter looks any up)",
                style="italic",
            )
        if self._keys_partial:
            text.append(" · ⚠ PARTIAL", style="bold")
        text.append(f" ({KEYS_QUERY})", style="dim")
        text.append(" — enter looks one up · / types an id")
        self.query_one("#key-picker-title", Static).update(text)

    # -- running a lookup ----------------------------------------------------------------------------

    def lookup(self, key_id: str) -> bool:
        """Look up `key_id` (what other panes call, through the app's `open_key`). False when the id
        is invalid (the reason is shown under the input)."""
        if not self._mounted:
            self._pending = key_id
            return True
        # The id may come from an event (Explore's K): shown only once cleaned, looked up only if valid.
        self.query_one(KeyInput).value = key_id if _valid(key_id) else clean(key_id, max_len=200)
        return self.run_lookup(key_id)

    def run_lookup(self, text: str) -> bool:
        from textual.widgets import TabbedContent

        from ddaudit_tui.analysis.key_investigation import validate_key_id
        from ddaudit_tui.tui.widgets.key_activity import KeyActivity
        from ddaudit_tui.tui.widgets.key_summary import KeySummary

        try:
            key = validate_key_id(text)
        except ValueError as exc:
            self._show_input_error(str(exc))
            return False
        self._clear_input_error()
        self.key_id = key
        self.report = None
        self.revocation = None
        self.timeline_filter = None
        self._set_picking(False)
        self.query_one(KeySummary).show(None, Text(f"⟳ looking up API key {key}…", style="bold"))
        self.query_one(KeyActivity).set_report(None)
        self._focus_section(self.query_one(TabbedContent).active or "flags")
        self._investigate(key)
        return True

    def _show_input_error(self, message: str) -> None:
        self.query_one("#key-error", ErrorLine).show(Text("✖ " + clean(message)))

    def _clear_input_error(self) -> None:
        self.query_one("#key-error", ErrorLine).clear()

    @property
    def input_error(self) -> str | None:
        return self.query_one("#key-error", ErrorLine).message

    def _investigate(self, key: str) -> None:
        app = self.ddaudit
        if getattr(app, "orgs", None):  # several orgs: every one is asked (tui/orgs.py)
            from ddaudit_tui.tui import orgs

            if orgs.several(app):
                orgs.start_lookup(self, key, LOOKUP_GROUP, LoopSource)
                return
        self.set_status(Status("fetching", f"looking up key {key}…"))
        if self._loop_source is None or self._loop_source.source is not app.source:
            # One proxy per source, so the pushed-down country checks stay cached between lookups.
            self._loop_source = LoopSource(app.source, asyncio.get_running_loop())
        self._investigate_in_thread(key, self._loop_source, app.window, int(app.clock() * 1000))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=LOOKUP_GROUP,
        description="Looking up an API key",
    )
    async def _investigate_in_thread(self, key: str, source: LoopSource, window: Window, now_ms: int) -> None:
        # A thread with its own loop: the analysis of a busy key (~2 s per 100k events) must not freeze
        # the UI. Every source call still runs on the app's loop (see LoopSource).
        from ddaudit_tui.analysis.key_investigation import investigate_key

        app = self.ddaudit
        report = await investigate_key(
            source,  # type: ignore[arg-type]
            key,
            window,
            # Analysis parameters and baselines from the app when it has them (config wiring), else defaults;
            # the engine is `ddaudit key`'s choice (`auto` unless `--engine` said otherwise).
            config=getattr(app, "key_analysis_config", None),
            options=self.investigation_options(),
            progress=self._on_progress,
            now_ms=now_ms,
        )
        if not get_current_worker().is_cancelled:  # a newer lookup replaced this one
            self.app.call_from_thread(self._show_report, report)

    def investigation_options(self) -> InvestigationOptions:
        """The lookup's options: the app's own when set, else `ddaudit key`'s defaults — engine `auto`
        (or the TUI's `--engine`) and the `max_pages` budget of the config. Files are read whole
        whatever the engine (`file`)."""
        from ddaudit_tui.analysis.key_engine import DEFAULT_MAX_PAGES
        from ddaudit_tui.analysis.key_investigation import InvestigationOptions

        app = self.ddaudit
        given = getattr(app, "key_investigation_options", None)
        if given is not None:
            return given
        engine = getattr(app, "key_engine", None) or "auto"
        max_pages = getattr(app, "key_max_pages", None) or DEFAULT_MAX_PAGES
        return InvestigationOptions(engine=engine, max_pages=max_pages)

    def _show_report(self, report: KeyReport) -> None:
        from textual.widgets import TabbedContent

        from ddaudit_tui.tui.widgets.key_activity import KeyActivity
        from ddaudit_tui.tui.widgets.key_summary import KeySummary
        from ddaudit_tui.tui.widgets.key_tables import FlagList, network_rows

        self.report = report
        self.revocation = None
        self.timeline_filter = None
        self.query_one(KeySummary).show(report)
        self.query_one(KeyActivity).set_report(report)
        self._own_risk(report)
        none = f"no flags: nothing unusual in {report.total_events:,} events of this key"
        self.query_one(FlagList).show_flags(report.flags, none if report.events else "no events, no flags")
        self._table("origins").set_items(report.origins)
        self._table("networks").set_items(network_rows(report.origins))
        self._table("endpoints").set_items(report.routes)
        self._table("deleted").set_items(report.destructive)
        if self._signals is not None:  # (always: a report is shown in the widgets it is made with)
            self._signals.update(report.event_signals, report.flags)
        self._apply_filter()
        self._update_tab_labels()
        text = f"verdict: {report.verdict} · {report.total_events:,} events · {len(report.flags)} flags"
        if report.completeness is not None:  # issue 16: the verdict, then how complete the answer is
            kind = verdict_status_kind(report.verdict)
            if report.completeness.engine != ENGINE_FILE:  # the events are in the completeness facts
                text = f"verdict: {report.verdict} · {len(report.flags)} flags"
            self.set_status(completeness_status(report.completeness, text, kind))
        elif report.warnings and any("incomplete" in w or "partial" in w.lower() for w in report.warnings):
            self.set_status(Status("partial", f"partial: {report.warnings[0]}"))
        else:
            # The verdict is the status: its outcome (✖ compromised, ▲ suspicious, ✓ no evidence) sets glyph and colour.
            self.set_status(Status(verdict_status_kind(report.verdict), text))
        tabs = self.query_one(TabbedContent)
        if tabs.active != "flags":
            tabs.active = "flags"
        self._focus_section("flags")
        from ddaudit_tui.tui.case_session import journal

        journal(self.app, lambda case: case.record_key(report, pane="lookup"))
        self.show_jump()

    def show_jump(self) -> None:
        """Show the marked thing the Case view jumped to: its section, the cursor on its row."""
        ref, self.jump_ref = self.jump_ref, None
        r = self.report
        if ref is None or r is None:
            return
        from ddaudit_tui.tui.widgets.event_table import EventTable
        from ddaudit_tui.tui.widgets.key_tables import FlagList, SortableTable

        section = ref.get("section", "flags")
        self.action_show_section(section)
        widget = self._section_widget(section)
        if isinstance(widget, FlagList):
            for i, f in enumerate(widget.flags):
                if f.signal == ref.get("signal") and (f.subject or "") == ref.get("subject", ""):
                    widget.highlighted = i
        elif isinstance(widget, EventTable):
            if self.timeline_filter is not None:
                self.set_filter(None)
            row = widget._index_of(ref.get("event_id", ""))
            if row is not None:
                widget.move_cursor(row)
        elif isinstance(widget, SortableTable):
            from ddaudit_tui.tui.marks import item_event_ids

            want = ref.get("event_id") or ref.get("row", "")
            for row, item in enumerate(widget.items):
                names = {
                    *item_event_ids(item),
                    str(getattr(item, "country", "") or ""),
                    str(getattr(item, "path", "") or ""),
                }
                if want in names:
                    widget.move_cursor(row=row)
                    break
        self.call_after_refresh(widget.focus)  # after `_show_report`'s own focus on the flags

    # -- the pane bar and quitting ---------------------------------------------------------------------

    def badge(self) -> PaneBadge | None:
        """The verdict of the key on screen, glyph and short word (`✖ compromised`)."""
        if self._several_orgs and getattr(self, "org_lookup", None) is not None:
            from ddaudit_tui.tui import orgs

            return orgs.badge(self)  # the worst org's, whichever org's report is shown
        if self.report is None:
            return PaneBadge("⟳", "⟳", "info") if self.key_id is not None else None
        glyph, word, level = _verdict_badges().get(
            self.report.verdict, ("?", clean(self.report.verdict), "info")
        )
        return PaneBadge(f"{glyph} {word}", glyph, level)  # type: ignore[arg-type]

    @property
    def has_work(self) -> bool:
        """A key looked up, or an id being typed."""
        return self.key_id is not None or bool(self.query_one(KeyInput).value.strip())

    def _table(self, section: str) -> SortableTable[Any]:
        from ddaudit_tui.tui.widgets.key_tables import SortableTable

        return self.query_one(f"#key-{section}", SortableTable)

    def _update_tab_labels(self) -> None:
        from textual.widgets import TabbedContent

        from ddaudit_tui.tui.widgets.key_tables import KeyTimelineTable

        r = self.report
        tabs = self.query_one(TabbedContent)
        if r is None:
            return
        counts = {
            "flags": len(r.flags),
            "origins": len(r.origins),
            "networks": sum(len(o.networks) for o in r.origins),
            "endpoints": len(r.routes),
            "deleted": len(r.destructive),
        }
        changed = False
        for tab, title, _key in SECTIONS:
            if tab == "timeline":
                shown = self.query_one(KeyTimelineTable).row_count
                # The rows shown; of how many only under a filter. A sample's "of 1,002,784" is said on the
                # timeline's own line: in the tab row it pushed the label past 80 columns, the number cut.
                label = f"{title} {shown:,}" + (f"/{r.total_events:,}" if self.timeline_filter else "")
            else:
                label = f"{title} {counts[tab]:,}"
            tab_widget = tabs.get_tab(tab)
            if tab_widget.label.plain != label:
                tab_widget.label = label
                changed = True
        if changed:
            # Textual moves the underline when a tab is relabelled, sometimes before the new label
            # width is laid out (then it stays under the old width): move it again after the layout.
            self.call_after_refresh(self._realign_tab_underline)

    def _realign_tab_underline(self) -> None:
        from textual.widgets import TabbedContent, Tabs

        tabs = self.query_one(TabbedContent).query_one(Tabs)
        highlight = getattr(tabs, "_highlight_active", None)  # private in Textual 8.2: best effort
        if highlight is not None:
            highlight(animate=False)

    # -- the timeline and its filter ---------------------------------------------------------------------

    def _apply_filter(self) -> None:
        from ddaudit_tui.tui.widgets.key_tables import KeyTimelineTable

        r = self.report
        table = self.query_one(KeyTimelineTable)
        events: Sequence[Event] = r.events if r is not None else ()
        flt = self.timeline_filter
        if flt is not None:
            events = [e for e in events if flt.predicate(e)]
        # The report holds them oldest first; the table shows newest first (no sort needed that way).
        table.set_events(list(reversed(events)))
        bar = self.query_one("#timeline-filter", Static)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        total = r.total_events if r is not None else 0
        # Past the budget DDSQL counted the key's events and only a sample was fetched (the newest page,
        # deletions, the flags' evidence): the timeline says it holds a sample, never "all".
        fetched = len(r.events) if r is not None else 0
        sampled = fetched < total
        if flt is not None:
            text.append("▶ filter: " + clean(flt.label, max_len=100))
            of = f"{fetched:,} events fetched (of {total:,})" if sampled else f"{total:,} events"
            text.append(f" · {len(events):,} of {of} · esc clears", style="")
            bar.add_class("-active")
        elif sampled:
            text.append(f"{fetched:,} of {total:,} events fetched", style="bold")
            text.append(
                " (DDSQL counted the rest) · enter opens an event · i narrows to its IP · s sorts",
                style="dim",
            )
            bar.remove_class("-active")
        else:
            text.append(f"all {total:,} events", style="bold")
            text.append(" · enter opens an event · i narrows to its IP · s sorts", style="dim")
            bar.remove_class("-active")
        bar.update(text)
        self.refresh_bindings()
        if r is not None:
            self._update_tab_labels()

    def set_filter(self, flt: TimelineFilter | None) -> None:
        """Narrow the timeline (None: every event) and show it."""
        self.timeline_filter = flt
        self._apply_filter()
        if flt is not None:
            self.action_show_section("timeline")

    # The report's messages are handled by name (`on_<widget>_<message>`), not with `@on(Widget.Message)`:
    # that would import the report's widgets with the pane, before its first frame.

    def on_sortable_table_chosen(self, event: SortableTable.Chosen) -> None:
        from ddaudit_tui.analysis.keys import Destructive, EndpointGroup, OriginGroup
        from ddaudit_tui.tui.widgets.key_tables import NetworkRow

        event.stop()
        item = event.item
        if isinstance(item, OriginGroup):
            country = item.country
            self.set_filter(
                TimelineFilter(f"country = {country or '(unknown)'}", lambda e: e.country == country)
            )
        elif isinstance(item, NetworkRow):
            self.set_filter(_network_filter(item))
        elif isinstance(item, EndpointGroup):
            path = item.path
            self.set_filter(TimelineFilter(f"endpoint = {path or '(no path)'}", lambda e: e.endpoint == path))
        elif isinstance(item, Destructive):
            self._open_deletion(event.table, item)

    def on_flag_list_chosen(self, event: FlagList.Chosen) -> None:
        event.stop()
        flag, r = event.flag, self.report
        ids = set(flag.event_ids)
        if r is not None and not any(e.id in ids for e in r.events):
            # e.g. token_leaked: its evidence is Datadog's notification about the key, not a use of it.
            self.notify(
                f"The evidence of {flag.signal} is not among the key's own events: "
                + ", ".join(clean(i, max_len=60) for i in flag.event_ids[:3]),
                title="Evidence",
                markup=False,
                timeout=10,
            )
            return
        self.set_filter(_flag_filter(flag))

    def _open_deletion(self, table: SortableTable[Any], chosen: Destructive) -> None:
        r = self.report
        if r is None:
            return
        by_id = {e.id: e for e in r.events}
        rows = [d for d in table.items if d.event_id in by_id]
        events = [by_id[d.event_id] for d in rows]
        if chosen.event_id not in by_id:
            return
        index = next(i for i, d in enumerate(rows) if d.event_id == chosen.event_id)
        from ddaudit_tui.tui.screens.detail import EventDetailScreen

        def back_to(i: int | None) -> None:
            if i is not None and 0 <= i < len(rows):
                table.move_cursor(row=table.items.index(rows[i]))

        self.app.push_screen(EventDetailScreen(events, index), callback=back_to)

    def on_event_table_selected(self, event: EventTable.Selected) -> None:
        if event.control.id != "key-timeline":
            return
        from ddaudit_tui.tui.screens.detail import open_detail

        event.stop()
        open_detail(event.table, event.index)

    # -- the input and the keys seen ---------------------------------------------------------------------

    @on(Input.Submitted, "#key-input")
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            # Enter on an empty input takes the highlighted suggestion (the keyboard-only path).
            key = self.query_one(KeySuggestions).highlighted_key
            if key is None:
                self._show_input_error("type an API key id, or pick one from the list")
                return
            value = key.key_id
        # Enter accepts the completion: key ids are long, and a prefix of one seen key means that key.
        value = self._complete(value)
        event.input.value = value
        self.run_lookup(value)

    def _complete(self, value: str) -> str:
        want = value.casefold()
        ids = [k.key_id for k in self.keys]
        if any(i.casefold() == want for i in ids):
            return value
        prefixed = [i for i in ids if i.casefold().startswith(want)]
        return prefixed[0] if len(prefixed) == 1 else value

    @on(Input.Changed, "#key-input")
    def _input_changed(self, event: Input.Changed) -> None:
        self.query_one(KeySuggestions).set_filter(event.value)
        if self.input_error is not None and not event.value:
            self._clear_input_error()

    @on(KeySuggestions.Picked)
    def _picked(self, event: KeySuggestions.Picked) -> None:
        event.stop()
        self.lookup(event.key.key_id)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # While the key id is being typed (or a key picked), the list of keys seen replaces the results.
        if isinstance(event.widget, KeyInput | KeySuggestions):
            self._set_picking(True)
        elif self.key_id is not None and self.query_one("#key-results") in event.widget.ancestors:
            # Focus events are delivered late: a lookup started right after the mount (Explore's K on a
            # pane never shown) ends with its section focused, after the mount's focus of the list.
            self._set_picking(False)

    def leave_input(self) -> None:
        """Escape from the input: back to the results when there are some, else to the list."""
        if self.report is not None or self.key_id is not None:
            from textual.widgets import TabbedContent

            self._set_picking(False)
            self._focus_section(self.query_one(TabbedContent).active or "flags")
        else:
            self.query_one(KeySuggestions).focus()

    # -- sections -------------------------------------------------------------------------------------

    def _section_widget(self, section: str) -> Widget:
        from ddaudit_tui.tui.widgets.key_tables import FlagList, KeyTimelineTable

        if section == "flags":
            return self.query_one(FlagList)
        if section == "timeline":
            return self.query_one(KeyTimelineTable)
        return self._table(section)

    def _focus_section(self, section: str) -> None:
        self.call_after_refresh(self._section_widget(section).focus)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.control.id != "key-sections":
            return
        event.stop()
        # The first activation comes with the mount, while the list of keys seen has the focus.
        if not self.picking:
            self._section_widget(event.pane.id or "flags").focus()

    def action_show_section(self, section: str) -> None:
        if self.key_id is None:
            return
        from textual.widgets import TabbedContent

        self._set_picking(False)
        tabs = self.query_one(TabbedContent)
        if tabs.active != section:
            tabs.active = section
        self._focus_section(section)

    def action_section(self, step: int) -> None:
        from textual.widgets import TabbedContent

        order = [s[0] for s in SECTIONS]
        current = self.query_one(TabbedContent).active or "flags"
        index = order.index(current) if current in order else 0
        self.action_show_section(order[(index + step) % len(order)])

    # -- actions -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape clears a filter only when there is one: otherwise the key stays free (e.g. for modals).
        # The report actions stay enabled without a report: pressing them says what to do first.
        if action == "clear_filter":
            return self.timeline_filter is not None and not self.picking
        # Escape then goes back to the keys seen; from there (not from the input: it has its own), back
        # to the key still looked up.
        if action == "back_to_list":
            # Arrived by a pivot (`x` → Investigate key): Esc goes back along it first (the app's
            # binding, the breadcrumb says where); the list is one more Esc away after a pane switch.
            trail = getattr(self.app, "trail", ())
            pivoted = len(trail) > 1 and trail[-1].mode == "lookup"
            return (
                self.key_id is not None and self.timeline_filter is None and not self.picking and not pivoted
            )
        if action == "back_to_results":
            return self.key_id is not None and self.picking and not isinstance(self.focused, KeyInput)
        # Read-only (`ddaudit serve`, `read_only` in the config): no revoke; `R` only says why.
        if action == "revoke":
            return not self.read_only
        if action == "revoke_refused":
            return self.read_only
        if action == "cycle_org":
            return self._several_orgs
        return True

    @property
    def _several_orgs(self) -> bool:
        return len(getattr(self.app, "orgs", None) or ()) > 1

    def action_cycle_org(self) -> None:
        from ddaudit_tui.tui import orgs

        orgs.cycle(self)

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.app, "read_only", False))

    def absent_actions(self) -> frozenset[str]:
        """Left out of help and the palette (tui/commands.py): revoke in read-only mode, and the refusal
        always (it is what `R` does when revoke is absent, not a command of its own)."""
        absent = {"revoke", "revoke_refused"} if self.read_only else {"revoke_refused"}
        return frozenset(absent if self._several_orgs else absent | {"cycle_org"})

    def action_focus_input(self) -> None:
        key_input = self.query_one(KeyInput)
        # At once, not `focus()` (scheduled): keys typed right after `/` (a fast typist, a paste, tmux
        # send-keys) must land in the input, not trigger the pane's single-key bindings.
        self.set_focus(key_input)
        key_input.cursor_position = len(key_input.value)

    def action_back_to_list(self) -> None:
        """The whole list of keys seen (the typed id cleared), the key just looked up highlighted."""
        key_input = self.query_one(KeyInput)
        key_input.value = ""
        self._clear_input_error()
        suggestions = self.query_one(KeySuggestions)
        suggestions.set_filter("")
        self._set_picking(True)
        want = (self.key_id or "").casefold()
        index = next((i for i, k in enumerate(suggestions.shown) if k.key_id.casefold() == want), None)
        if index is not None:
            suggestions.highlighted = index
        self.set_focus(suggestions)

    def action_back_to_results(self) -> None:
        from textual.widgets import TabbedContent

        self._set_picking(False)
        self._focus_section(self.query_one(TabbedContent).active or "flags")

    def action_rerun(self) -> None:
        if self.key_id is not None:
            self.run_lookup(self.key_id)

    def action_clear_filter(self) -> None:
        self.set_filter(None)
        self._focus_section("timeline")

    def action_filter_ip(self) -> None:
        from textual.widgets import TabbedContent

        from ddaudit_tui.tui.widgets.key_tables import KeyTimelineTable

        if self.query_one(TabbedContent).active != "timeline" or self.picking:
            # The IP of an event the user cannot see would be a surprise: only from the timeline.
            self.notify(
                "i narrows the timeline to the highlighted event's IP: open the timeline (a) first.",
                markup=False,
            )
            return
        event = self.query_one(KeyTimelineTable).cursor_event
        if event is None or not event.client_ip:
            self.notify("The highlighted event has no client IP.", severity="warning", markup=False)
            return
        ip = event.client_ip
        self.set_filter(TimelineFilter(f"IP = {ip}", lambda e: e.client_ip == ip))

    def _need_report(self, what: str) -> KeyReport | None:
        if self.report is None:
            busy = self.key_id is not None
            why = "the lookup is still running" if busy else "look a key up first (/ or pick one)"
            self.notify(f"Nothing to {what}: {why}.", severity="warning", markup=False)
        return self.report

    def action_chart(self) -> None:
        from ddaudit_tui.tui.screens.key_chart import KeyChartScreen  # dialogs: imported on use (issue 12)

        report = self._need_report("chart")
        if report is not None:
            self.app.push_screen(KeyChartScreen(report, self.ddaudit.local_time))

    def action_export(self) -> None:
        from ddaudit_tui.tui.screens.export_dialog import ExportDialog

        report = self._need_report("export")
        if report is None:
            return
        app = self.ddaudit
        directory = app.export_dir or Path.cwd()

        def chosen(formats: list[str] | None) -> None:
            if formats:
                self._export(report, formats, directory, app.clock())

        self.app.push_screen(ExportDialog("key", f"the report of key {report.key_id}"), callback=chosen)

    @work(thread=True, exit_on_error=False, group=EXPORT_GROUP, description="Exporting the key report")
    def _export(self, report: KeyReport, formats: list[str], directory: Path, now: float) -> list[Path]:
        from ddaudit_tui.report import key_report  # noqa: F401  (registers the "key" renderers)

        paths = export_report("key", report, formats, directory, _export_pane_name(report.key_id), now)
        listing = "\n".join(clean(str(p)) for p in paths)
        self.app.call_from_thread(
            self.notify,
            f"Wrote the report of key {report.key_id} (mode 0600):\n{listing}",
            title="Exported",
            markup=False,
            timeout=20,
        )
        return paths

    def action_copy_summary(self) -> None:
        report = self._need_report("copy")
        if report is None:
            return
        from ddaudit_tui.report.key_report import summary_line

        text = summary_line(report)
        if len(base64.b64encode(text.encode())) > CLIPBOARD_MAX:
            # Too big for OSC 52 in most terminals: a file the user can open instead.
            app = self.ddaudit
            self._export(report, ["text"], app.export_dir or Path.cwd(), app.clock())
            self.notify(
                "The summary is too large for the clipboard: writing the text report to a file instead.",
                severity="warning",
                markup=False,
            )
            return
        self.app.copy_to_clipboard(text)
        # The terminal never says whether OSC 52 worked: say what was sent, and the usual fix.
        self.notify(
            f"Sent the summary of key {report.key_id} ({len(text):,} characters) to the terminal clipboard "
            f"with OSC 52. If it does not paste: the terminal must allow OSC 52; {TMUX_HINT}.",
            title="Copy",
            markup=False,
            timeout=12,
        )

    # -- "copy as" ------------------------------------------------------------------------------------

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        # The search the pane runs: the key's own events (`investigate_key`'s main fetch) over the app's
        # window, or, before any lookup, the search that lists the keys seen.
        from ddaudit_tui.analysis.key_investigation import key_query

        query = key_query(self.key_id) if self.key_id is not None else KEYS_QUERY
        return query, list(KEY_COLUMNS)

    # -- revocation ------------------------------------------------------------------------------------

    def action_revoke_refused(self) -> None:
        report = self._need_report("revoke")
        if report is not None:
            self._refuse_read_only(report.key_id)

    def _refuse_read_only(self, key: str) -> None:
        self.notify(
            f"Refused: read-only mode is on (read_only in the config, or `ddaudit serve` without "
            f"--allow-actions). API key {key} was not revoked.",
            title="Revoke",
            severity="error",
            markup=False,
            timeout=12,
        )

    def action_revoke(self) -> None:
        report = self._need_report("revoke")
        if report is None:
            return
        app = self.ddaudit
        key = report.key_id
        if self._several_orgs and (refused := _other_org_refusal(self)):  # R revokes in the first org only
            self.notify(refused, title="Revoke", severity="error", markup=False, timeout=12)
            return
        label = clean(app.source_label or "this source", max_len=40)
        if self.read_only:  # not reachable by key or palette (check_action): defence in depth
            self._refuse_read_only(key)
            return
        if getattr(app.source, "revoke_api_key", None) is None:
            self.notify(
                f"The source {label!r} cannot revoke keys (input files have no API): revoke it in Datadog "
                f"(Organization Settings > API Keys) or with `ddaudit revoke {key}`. Nothing was revoked.",
                title="Revoke",
                severity="error",
                markup=False,
                timeout=12,
            )
            return
        if self.revocation is not None:
            self.notify(f"API key {key} was already revoked from this pane.", markup=False)
            return
        k, c = report.api_key, report.created
        creator = (k.created_by.display if k is not None and k.created_by else None) or (
            c.created_by if c else None
        )
        created = None
        if c is not None and c.created_at is not None:
            created = fmt_ts(c.created_at, app.local_time)
        elif k is not None and k.created_at:
            created = k.created_at

        def answered(ok: bool | None) -> None:
            if ok:
                self._revoke(key)
            else:
                self.notify(f"Not revoked: API key {key} is unchanged.", markup=False)

        from ddaudit_tui.tui.screens.key_revoke import KeyRevokeScreen

        self.app.push_screen(
            KeyRevokeScreen(
                key,
                name=k.name if k is not None else None,
                creator=creator,
                created=created,
                last4=k.last4 if k is not None else None,
                where=label,
            ),
            callback=answered,
        )

    @work(exclusive=True, exit_on_error=False, group=REVOKE_GROUP, description="Revoking an API key")
    async def _revoke(self, key: str) -> None:
        app = self.ddaudit
        revoke = app.source.revoke_api_key  # type: ignore[attr-defined]
        self.set_status(Status("fetching", f"revoking key {key}…"))
        try:
            await revoke(key)
        except Exception as exc:  # every failure is explained, none is fatal to the pane
            message = _revoke_failure(exc)
            self.set_status(Status("error", f"revoke failed: {message}"))
            self.notify(
                f"API key {key} was not revoked: {message}",
                title="Revoke failed",
                severity="error",
                markup=False,
                timeout=20,
            )
            return
        from ddaudit_tui.tui.widgets.key_summary import KeySummary, Revocation

        label = clean(app.source_label or "the source", max_len=40)
        self.revocation = Revocation(int(app.clock() * 1000), label)
        self.query_one(KeySummary).set_revoked(self.revocation)
        self.set_status(Status("revoked", f"key revoked · {key} · clients using it now fail"))
        self.notify(
            f"Revoked API key {key} on {label}. Every client using it now gets 403s; the audit trail will "
            "show the deletion once it is ingested.",
            title="Key revoked",
            severity="error",  # not a failure, but the error colour's attention: the key is gone
            markup=False,
            timeout=20,
        )

    # -- errors from the workers --------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        message = clean(str(error) or type(error).__name__, max_len=300)
        if worker.group == LOOKUP_GROUP:
            from ddaudit_tui.tui.widgets.key_summary import KeySummary

            self.set_status(Status("error", f"error: {message}"))
            self.query_one(KeySummary).show(None, Text(f"✖ the lookup failed: {message}", style="bold"))
            self.notify(message, title="Key lookup failed", severity="error", markup=False, timeout=10)
        elif worker.group == SUGGEST_GROUP:
            self.query_one(KeySuggestions).set_keys(
                [], empty_text=f"✖ could not list the keys seen ({message}): type a key id above"
            )
            if self.key_id is None:
                self.set_status(Status("error", f"listing keys failed: {message}"))
        elif worker.group == EXPORT_GROUP:
            self.notify(message, title="Export failed", severity="error", markup=False, timeout=10)
        elif worker.group == ASSESS_GROUP:
            # The list keeps its keys; those not assessed keep their `…`, and the title says so.
            self._assessing = False
            self._assess_cancelled = True
            self._update_picker_title()


def _verdicts() -> tuple[str, str, str]:
    """The key analysis' verdicts: (compromised, suspicious, none)."""
    from ddaudit_tui.analysis.keys import VERDICT_COMPROMISED, VERDICT_NONE, VERDICT_SUSPICIOUS

    return VERDICT_COMPROMISED, VERDICT_SUSPICIOUS, VERDICT_NONE


@functools.cache
def _verdict_badges() -> dict[str, tuple[str, str, str]]:
    """The verdict in the pane bar: the card's glyph and a short word."""
    compromised, suspicious, none = _verdicts()
    return {
        compromised: ("✖", "compromised", "alert"),
        suspicious: ("▲", "suspicious", "warn"),
        none: ("✓", "no evidence", "ok"),
    }


def completeness_status(c: Completeness, lead: str, kind: StatusKind) -> Status:
    """The lookup's header, as the reports state it: on the API, the engine, requests and events fetched
    (of those matched, when DDSQL counted them); a partial answer leads with `PARTIAL` and its main
    reason. Files keep the compact header (engine `file`: no request, nothing counted beyond what was
    read)."""
    if c.engine == ENGINE_FILE:
        return Status.from_completeness(c, lead, kind)
    fetched = f"{c.events_fetched:,}"
    if c.events_matched is not None:
        fetched += f" of {c.events_matched:,}"
    facts = [
        f"{c.engine}: {c.requests:,} request{'s' if c.requests != 1 else ''}",
        f"{fetched} events fetched",
    ]
    if c.partial:
        # The reason that says most first (not the generic "could not be fetched" when another is known):
        # a narrow header keeps only this first part.
        reasons = sorted(c.reasons, key=lambda r: r.endswith("some events could not be fetched"))
        first = reasons[0] if reasons else "some events could not be fetched"
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return Status("partial", " · ".join([f"PARTIAL: {first}{more}", *facts, lead]))
    parts = [lead, "complete", *facts, elapsed_text(c.elapsed_ms)]
    if c.retention_cutoff_ms is not None:
        parts.append(f"before {fmt_ts(c.retention_cutoff_ms, seconds=False)} outside retention")
    return Status(kind, " · ".join(parts))


def _other_org_refusal(screen: KeyLookupScreen) -> str | None:
    from ddaudit_tui.tui import orgs

    return orgs.revoke_refusal(screen)


def _valid(key_id: str) -> bool:
    from ddaudit_tui.analysis.key_investigation import validate_key_id

    try:
        validate_key_id(key_id)
    except ValueError:
        return False
    return True


def _revoke_failure(exc: BaseException) -> str:
    """One line for a failed revocation, with what 403 and 404 mean here."""
    status = getattr(exc, "status", None)
    text = clean(str(exc) or type(exc).__name__, max_len=300)
    if status == 404:
        return f"not found — already revoked, or not a key of this org; nothing was deleted ({text})"
    if status in (401, 403):
        return f"permission refused — revoking needs the api_keys_delete permission ({text})"
    return text


def _network_filter(row: NetworkRow) -> TimelineFilter:
    """Exactly the events the report counted in this network of this country (same grouping key)."""
    from ddaudit_tui.analysis.asn import classify_event, load_asn_lists
    from ddaudit_tui.tui.widgets.key_tables import network_label

    country, n = row.country, row.network
    lists = load_asn_lists()

    def predicate(e: Event) -> bool:
        return (
            e.country == country
            and e.asn == n.asn
            and e.asn_name == n.asn_name
            and classify_event(e, lists) == n.origin
        )

    return TimelineFilter(f"network = {network_label(n)} in {country or '(unknown)'}", predicate)


def _flag_filter(flag: Flag) -> TimelineFilter:
    ids = frozenset(flag.event_ids)
    subject = f" · {flag.subject}" if flag.subject else ""
    return TimelineFilter(
        f"{flag.severity.label} {flag.signal}{subject} (its evidence)", lambda e: e.id in ids
    )
