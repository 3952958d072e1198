"""The compact Spike watch: what a small tmux pane shows (below the full layout's 60×20, down to 40×6).

One status line (live or paused, next poll, paging, last successful poll, stale), then the open alerts,
most severe first, one per row — glyph and word, rule, actor, count, age — and, when a row is free, the
matched events per minute as a one-line sparkline. Numbers are never cut; cut text ends in `…`; actor
and rule names come from events and are cleaned (`safe_text.clean`), never markup. The pane bar, header
and footer fold away (app.tcss); `?` and `q` are the app's keys and keep working.

`follow_size` is the app's half: at a compact size, whatever pane was shown gives way to the Spike
watch; when the terminal grows back to the full layout, that pane returns. A pane asked for meanwhile
(a number key, a pivot) is the one that returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.geometry import Size
from textual.widget import Widget

from ddaudit_tui.analysis.buckets import size_label
from ddaudit_tui.analysis.signals import SEVERITY_STYLE, Severity
from ddaudit_tui.tui.safe_text import clean, fit
from ddaudit_tui.tui.sizes import COMPACT_MIN_HEIGHT, COMPACT_MIN_WIDTH, MIN_HEIGHT, MIN_WIDTH, ORG_MAX
from ddaudit_tui.tui.widgets.sparkline import bucket_bars
from ddaudit_tui.tui.widgets.watch_sparklines import rebucket, series_plan

# The app imports this module on its first resize, before its first frame (`follow_size`): the alerts
# machinery is only named in annotations here (issue 12).
if TYPE_CHECKING:
    from ddaudit_tui.alerts.poller import WatchSnapshot
    from ddaudit_tui.analysis.spikes import Alert

WATCH_MODE = "watch"
FULL, COMPACT, TOO_SMALL = "full", "compact", "too-small"


def layout_for(width: int, height: int) -> str:
    """FULL at 60×20 and above, COMPACT down to 40×6, TOO_SMALL below."""
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        return FULL
    if width >= COMPACT_MIN_WIDTH and height >= COMPACT_MIN_HEIGHT:
        return COMPACT
    return TOO_SMALL


def age_text(ms: int) -> str:
    """`45s`, `8m`, `5h`, `3d`: how long ago an alert's burst began, in at most four cells."""
    s = max(0, ms // 1000)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 172_800:
        return f"{s // 3600}h"
    return f"{s // 86_400}d"


def worst_first(alerts: Sequence[Alert]) -> list[Alert]:
    """Open alerts, the most severe first, then the most recent (the alert table's default order)."""
    return sorted((a for a in alerts if a.is_open), key=lambda a: (-int(a.severity), -a.last_seen, a.rule))


@dataclass(frozen=True)
class StatusPart:
    """One piece of the status line; `kind` picks its style ("", "lead", "paused", "stale")."""

    text: str
    kind: str = ""


class CompactWatch(Widget):
    """The whole compact watch, rendered as lines to its size (WatchScreen feeds it)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "compact-watch--status",
        "compact-watch--paused",
        "compact-watch--stale",
        "compact-watch--actor",
        "compact-watch--muted",
        "compact-watch--recent",
        "compact-watch--bars",
    }

    DEFAULT_CSS = """
    CompactWatch {
        display: none;
        width: 1fr;
        height: 1fr;
        & > .compact-watch--status { background: $panel; text-style: bold; }
        & > .compact-watch--paused { background: $warning 30%; text-style: bold; }
        & > .compact-watch--stale { background: $error 25%; color: $text-error; text-style: bold; }
        & > .compact-watch--actor { text-style: bold; }
        & > .compact-watch--muted { color: $text-muted; }
        & > .compact-watch--recent { color: $text-warning; text-style: bold; }
        & > .compact-watch--bars { color: $primary; }
    }
    App:nocolor CompactWatch > .compact-watch--paused { text-style: reverse bold; }
    App:nocolor CompactWatch > .compact-watch--stale { text-style: reverse bold; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.parts: tuple[StatusPart, ...] = (StatusPart("● starting…", "lead"),)
        self.snapshot: WatchSnapshot | None = None
        self.now_ms = 0
        self.note = ""  # instead of the alerts: why there are none to show (a setup error)
        # Several orgs (tui/org_watch.py): the org an alert came from, written before its actor (`eu/sara@…`).
        self.org_of: Callable[[Alert], str | None] | None = None

    def show(
        self,
        parts: Sequence[StatusPart],
        snapshot: WatchSnapshot | None,
        now_ms: int,
        note: str = "",
    ) -> None:
        """New content; repaints only when it changed (the countdown changes it once a second)."""
        new_parts = tuple(parts)
        # Snapshots are immutable: a new one is a new object (no deep comparison once a second).
        same_snapshot = snapshot is self.snapshot and note == self.note
        if not (same_snapshot and new_parts == self.parts and now_ms // 1000 == self.now_ms // 1000):
            self.parts, self.snapshot, self.now_ms, self.note = new_parts, snapshot, now_ms, note
            if self.display:
                self.refresh()

    # -- rendering ------------------------------------------------------------------------------------

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        text = Text(no_wrap=True, overflow="crop", end="")
        text.append_text(self._status_line(width))
        rows = self._body_lines(width, height - 1)
        for row in rows:
            text.append("\n")
            text.append_text(row)
        return text

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"compact-watch--{name}", partial=True)

    def _status_line(self, width: int) -> Text:
        """The parts that fit, most important first (the first two always), padded to the width."""
        parts = list(self.parts)
        sep = " · "
        while len(parts) > 2 and cell_len(" " + sep.join(p.text for p in parts) + " ") > width:
            parts.pop()
        base = self._style("status")
        line = Text(" ", style=base, end="")
        for i, part in enumerate(parts):
            if i:
                line.append(sep, style=base)
            style = base + self._style(part.kind) if part.kind in ("paused", "stale") else base
            line.append(part.text, style=style)
        used = line.cell_len
        if used > width:
            line.truncate(width - 1)
            line.append("…", style=base)
        else:
            line.append(" " * (width - used), style=base)
        return line

    def _body_lines(self, width: int, rows: int) -> list[Text]:
        if rows <= 0:
            return []
        muted = self._style("muted")
        snap = self.snapshot
        if self.note:
            return [Text(fit(" " + self.note, width), style=muted, end="")]
        if snap is None or snap.polls == 0:
            return [Text(fit(" first poll…", width), style=muted, end="")]
        alerts = worst_first(snap.alerts)
        out: list[Text] = []
        if not alerts:
            words, style = " no open alerts", muted
            if snap.alerts:
                # The same news as the full pane's header: a quiet pane after a HIGH or CRITICAL burst
                # closed is not a quiet day, so the worst is named and the line is not muted.
                worst = max(snap.alerts, key=lambda a: int(a.severity)).severity
                words += f" · {len(snap.alerts):,} closed (24h), worst {worst.label}"
                if worst >= Severity.HIGH:
                    style = self._style("recent")
            out.append(Text(fit(words, width), style=style, end=""))
        else:
            fits = rows if len(alerts) <= rows else max(0, rows - 1)
            shown = alerts[:fits]
            out += self._alert_rows(shown, width)
            if len(shown) < len(alerts):
                more = f" … +{len(alerts) - len(shown):,} more open ({len(alerts):,} in all)"
                out.append(Text(fit(more, width), style=muted, end=""))
        # Rows to spare: the recently closed alerts in one line (when there are open ones: otherwise the
        # line above said it), then, on the bottom row, the events per minute.
        spark = 1 if snap.series else 0
        closed = [a for a in snap.alerts if not a.is_open]
        if alerts and closed and len(out) + spark < rows:
            worst = max(closed, key=lambda a: int(a.severity)).severity.label
            summary = f" ○ {len(closed):,} closed (24h), worst {worst}"
            out.append(Text(fit(summary, width), style=muted, end=""))
        if len(out) < rows and spark:
            out += [Text("", end="")] * (rows - len(out) - 1)
            out.append(self._sparkline(snap, width))
        return out[:rows]

    def _alert_rows(self, alerts: Sequence[Alert], width: int) -> list[Text]:
        labels = [a.severity.label for a in alerts]
        rules = [clean(a.rule) for a in alerts]
        org_of = self.org_of
        # The org leads: who to call depends on it first, and a cut keeps the start of the text.
        actors = [
            (f"{clean(org_of(a) or '?', max_len=ORG_MAX)}/" if org_of is not None else "") + clean(a.group)
            for a in alerts
        ]
        counts = [f"{a.count:,}" for a in alerts]
        ages = [age_text(self.now_ms - a.first_seen) for a in alerts]
        label_w = max(cell_len(s) for s in labels)
        count_w = max(len(s) for s in counts)
        age_w = max(len(s) for s in ages)
        # " label rule actor count age ": numbers whole, the names share what is left (with their gap).
        rest = max(3, width - label_w - count_w - age_w - 5)
        rule_n = max(cell_len(s) for s in rules)
        actor_n = max(cell_len(s) for s in actors)
        if rule_n + 1 + actor_n <= rest:
            rule_w = rule_n
        else:
            # The actor is who to call: it gets the larger share; the rule keeps at least a word.
            rule_w = min(rule_n, max(min(rule_n, 8), (rest - 1) * 2 // 5))
        actor_w = max(1, rest - 1 - rule_w)
        actor_style = self._style("actor")
        out = []
        for i, a in enumerate(alerts):
            label, rule, actor, count, age = labels[i], rules[i], actors[i], counts[i], ages[i]
            severity = Style.parse(SEVERITY_STYLE.get(a.severity, "")) + Style(bold=True)
            row = Text(" ", end="")
            row.append(fit(label, label_w), style=severity)
            row.append(" " + fit(rule, rule_w) + " ")
            row.append(fit(actor, actor_w), style=actor_style)
            row.append(" " + count.rjust(count_w), style=Style(bold=True))
            row.append(" " + age.rjust(age_w) + " ")
            out.append(row)
        return out

    def _sparkline(self, snap: WatchSnapshot, width: int) -> Text:
        """`ev/5 min ▁▂▅█▃ max 12 now 3/min`: the bars' bucket size stated, numbers beside them."""
        muted = self._style("muted")
        series = snap.series
        now = series[-1]
        left_w = len(" ev/30 min ")
        # Sized for the widest peak possible (the whole hour in one bucket): the bucket size never
        # depends on its own label.
        right_w = len(f" max {sum(series):,} now {now:,}/min ")
        bars_w = width - left_w - right_w
        line = Text(no_wrap=True, end="")
        if bars_w < 4:
            line.append(fit(f" events now {now:,}/min", width), style=muted)
            return line
        p = series_plan(snap.series_start_ms, len(series), bars_w)
        counts = rebucket(p, snap.series_start_ms, series)
        line.append(fit(f" ev/{size_label(p.size_ms)}", left_w), style=muted)
        line.append(bucket_bars(p, counts, 1, bars_w)[0], style=self._style("bars"))
        right = f" max {max(counts, default=0):,} now {now:,}/min"
        line.append(fit(right, width - line.cell_len), style=muted)
        return line


# -- the app's half: switch to the watch at a compact size, and back -----------------------------------


class SizeFollower:
    """Remembers the pane shown before the terminal got compact, to return to it when it grows."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.return_mode: str | None = None
        app.mode_change_signal.subscribe(app, self._mode_changed)

    def follow(self, size: Size) -> None:
        app = self.app
        layout = layout_for(size.width, size.height)
        if layout == COMPACT and app.current_mode != WATCH_MODE:
            self.return_mode = app.current_mode
            app.switch_mode(WATCH_MODE)
        elif layout == FULL and self.return_mode is not None:
            mode, self.return_mode = self.return_mode, None
            if app.current_mode == WATCH_MODE and mode != WATCH_MODE:
                app.switch_mode(mode)

    def _mode_changed(self, mode: str) -> None:
        # Another pane asked for while compact (a number key, a pivot): it returns when the pane grows;
        # meanwhile the watch stays (that pane would only say "too small").
        if mode == WATCH_MODE or layout_for(*self.app.size) != COMPACT:
            return
        self.return_mode = mode
        self.app.call_next(self.app.switch_mode, WATCH_MODE)


def follow_size(app: App[Any], size: Size) -> None:
    """Call on every resize of the app (DdauditApp.on_resize)."""
    follower = getattr(app, "_size_follower", None)
    if follower is None:
        follower = SizeFollower(app)
        app._size_follower = follower  # type: ignore[attr-defined]
    follower.follow(size)
