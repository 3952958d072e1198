"""The one-line header every pane has: pane, source, absolute window (zone shown), fetch status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ddaudit_tui.outcome import look, rich_style
from ddaudit_tui.sources.base import Progress
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import Window, fmt_ts
from ddaudit_tui.tui.safe_text import clean

# A status is an outcome (ddaudit_tui/outcome.py): its glyph and colour come from the one map, so the
# header reads the same under NO_COLOR and only success ever shows `✓` in the success colour. Bad news
# that is not a failure has its own kinds: a verdict ("compromised", "suspicious"), "revoked", "warning".
StatusKind = Literal[
    "idle",
    "fetching",
    "waiting",
    "complete",
    "partial",
    "warning",
    "error",
    "compromised",
    "suspicious",
    "no evidence",
    "revoked",
    "leaked",
]


@dataclass(frozen=True)
class Status:
    """What a pane is doing. `text` may hold source/event text: it is cleaned when rendered."""

    kind: StatusKind = "idle"
    text: str = ""

    @classmethod
    def from_progress(cls, p: Progress) -> Status:
        text = f"fetching… {p.events:,} events, {p.pages:,} page{'s' if p.pages != 1 else ''}"
        if p.slices_total > 1:
            text += f", {p.slices_done}/{p.slices_total} slices"
        if p.waiting_s > 0 or p.message:
            return cls("waiting", f"{text} — {p.message or f'waiting {p.waiting_s:.0f} s'}")
        return cls("fetching", text)

    @classmethod
    def from_completeness(cls, c: Completeness, lead: str = "", kind: StatusKind = "complete") -> Status:
        """How complete an answer is (issue 16): `1,234 events · complete · 3 requests · 2.1 s`, after
        `lead` (the pane's own count, which then replaces the events fetched), in `kind` (a key's verdict);
        a partial answer is always `partial` (⚠, never ✓), its reason first and `lead` after it."""
        if c.partial:
            return cls("partial", c.header_text() + (f" · {lead}" if lead else ""))
        return cls(kind, (f"{lead} · " if lead else "") + c.header_text(events=not lead))


def verdict_status_kind(verdict: str) -> StatusKind:
    """The status kind that says a key verdict: bad news is never `complete` (never a `✓`)."""
    known = {"likely compromised": "compromised", "suspicious": "suspicious", "no evidence": "no evidence"}
    kind = known.get(verdict, "warning")
    return kind  # type: ignore[return-value]


def window_text(window: Window, local: bool, seconds: bool = True) -> str:
    return f"{fmt_ts(window.start, local, seconds)} → {fmt_ts(window.end, local, seconds)}"


class PaneHeader(Widget):
    """Renders from the app (source label, window, time zone) and the pane's `status`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"pane-header--title", "pane-header--note"}

    DEFAULT_CSS = """
    PaneHeader {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        & > .pane-header--title { text-style: bold; color: $accent; }
        & > .pane-header--note { color: $foreground; }
    }
    """

    status: reactive[Status] = reactive(Status, layout=False)
    local_time: reactive[bool] = reactive(False)
    # A pane that investigates its own window (the AI pane's last 7 days) shows that one, not the app's.
    pane_window: reactive[Window | None] = reactive(None)
    # A path the user must be able to read after its toast is gone (an export): kept after the status.
    note: reactive[str] = reactive("")

    def __init__(self, pane_title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pane_title = pane_title

    def on_mount(self) -> None:
        self.watch(self.app, "local_time", self._set_local, init=True)

    def _set_local(self, local: bool) -> None:
        self.local_time = local

    @property
    def plain(self) -> str:
        return self._build(self.size.width or 200).plain

    def render(self) -> Text:
        return self._build(self.size.width)

    def _build(self, width: int) -> Text:
        app = self.app
        # Several orgs (tui/orgs.py): the pane's own — Key lookup asks every org, the others the first.
        label_of = getattr(app, "pane_source_label", None)
        label = label_of(getattr(self.screen, "pane_mode", "")) if callable(label_of) else None
        source = clean(label if label is not None else getattr(app, "source_label", ""), max_len=40)
        window: Window | None = self.pane_window
        if window is None:
            window = getattr(app, "window", None)
        status = self.status
        glyph = look(status.kind).glyph
        status_text = f"{glyph + ' ' if glyph else ''}{clean(status.text)}" if status.text else ""
        title_style = self.get_component_rich_style("pane-header--title")
        status_style = status_style_for(self, status.kind)
        short_status = status_text.split(" · ")[0]
        note = clean(self.note) if self.note else ""
        sep = " │ "
        local = self.local_time

        def variant(
            app_name: bool = False,
            title: bool = True,
            zone_word: bool = False,
            seconds: bool = True,
            year: bool = True,
            label_max: int = 40,
            full_status: bool = True,
            window_shown: bool = True,
            with_note: bool = True,
        ) -> list[tuple[str, object]]:
            parts: list[tuple[str, object]] = []
            if title:
                parts.append(
                    (f" ddaudit · {self.pane_title}" if app_name else f" {self.pane_title}", title_style)
                )
                parts.append((sep, None))
            else:
                parts.append((" ", None))
            parts.append((clean(source, max_len=label_max), None))
            if window is not None and window_shown:
                wtext = window_text(window, local, seconds)
                if not year:  # the zone stays: only the year (and seconds) go
                    wtext = (
                        f"{fmt_ts(window.start, local, False)[5:]} → {fmt_ts(window.end, local, False)[5:]}"
                    )
                if zone_word:
                    wtext += " (local)" if local else " (UTC)"
                parts.append((sep + wtext, None))
            shown = status_text if full_status else short_status
            if shown:
                # The outcome (`✖ verdict: likely compromised`) carries the style, the details after it not.
                parts.append((sep, None))
                parts.append((short_status, status_style))
                if shown != short_status:
                    parts.append((shown[len(short_status) :], None))
            if note and with_note:
                parts.append((sep, None))
                parts.append((note, None))
            return parts

        # Most to least detailed; the status (what the fetch is doing) and a written file's path are the
        # last things to go (the window is in the pane's other lines and the path is nowhere else).
        candidates = [
            variant(app_name=True, zone_word=True),
            variant(zone_word=True),
            variant(),
            variant(seconds=False),
            variant(seconds=False, label_max=18),
            variant(year=False, label_max=18),
            variant(year=False, label_max=18, full_status=False),
            variant(title=False, year=False, label_max=14, full_status=False),
            variant(title=False, year=False, label_max=8, full_status=False),
        ]
        if note:
            candidates += [
                variant(title=False, label_max=8, full_status=False, window_shown=False),
                variant(title=False, label_max=8, full_status=False, window_shown=False, with_note=False),
            ]
        chosen = candidates[-1]
        for parts in candidates:
            if sum(cell_len(p) for p, _ in parts) <= width:
                chosen = parts
                break
        if note and chosen is candidates[-1]:
            # Not even the path fits: keep its end (the file name), cut its start with "…".
            chosen = candidates[-2]
            room = width - sum(cell_len(p) for p, _ in chosen[:-1])
            if room >= 12:
                chosen[-1] = ("…" + note[-(room - 1) :], None)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for part, style in chosen:
            text.append(part, style=style)  # type: ignore[arg-type]
        text.truncate(max(1, width), overflow="ellipsis")
        return text


def status_style_for(widget: Widget, kind: str) -> Style | None:
    """The outcome's style on the header's background, from the app's theme (greys with NO_COLOR)."""
    if kind == "idle":
        return None
    app = widget.app
    background = widget.styles.background
    base = background.hex6 if background.a > 0 else None
    style = rich_style(kind, app.theme_variables, no_color=app.no_color, background=base)
    return Style.parse(style) if style else None
