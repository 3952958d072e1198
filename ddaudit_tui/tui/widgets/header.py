"""The one-line header every pane has: pane, source, absolute window (zone shown), fetch status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ddaudit_tui.sources.base import Progress
from ddaudit_tui.timeutil import Window, fmt_ts
from ddaudit_tui.tui.safe_text import clean

StatusKind = Literal["idle", "fetching", "waiting", "complete", "partial", "error"]

# Glyph + word for every state: the header must read the same under NO_COLOR.
_GLYPHS: dict[str, str] = {
    "idle": "",
    "fetching": "⟳ ",
    "waiting": "⏳ ",
    "complete": "✓ ",
    "partial": "⚠ ",
    "error": "✖ ",
}


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


def window_text(window: Window, local: bool, seconds: bool = True) -> str:
    return f"{fmt_ts(window.start, local, seconds)} → {fmt_ts(window.end, local, seconds)}"


class PaneHeader(Widget):
    """Renders from the app (source label, window, time zone) and the pane's `status`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane-header--title",
        "pane-header--fetching",
        "pane-header--complete",
        "pane-header--partial",
        "pane-header--error",
    }

    DEFAULT_CSS = """
    PaneHeader {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        & > .pane-header--title { text-style: bold; color: $accent; }
        & > .pane-header--fetching { color: $accent; }
        & > .pane-header--complete { color: $success; }
        & > .pane-header--partial { color: $warning; text-style: bold; }
        & > .pane-header--error { color: $error; text-style: bold; }
    }
    """

    status: reactive[Status] = reactive(Status, layout=False)
    local_time: reactive[bool] = reactive(False)
    # A pane that investigates its own window (the AI pane's last 7 days) shows that one, not the app's.
    pane_window: reactive[Window | None] = reactive(None)

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
        source = clean(getattr(app, "source_label", ""), max_len=40)
        window: Window | None = self.pane_window
        if window is None:
            window = getattr(app, "window", None)
        status = self.status
        state_style = {
            "fetching": "pane-header--fetching",
            "waiting": "pane-header--partial",
            "complete": "pane-header--complete",
            "partial": "pane-header--partial",
            "error": "pane-header--error",
        }.get(status.kind)
        status_text = (_GLYPHS[status.kind] + clean(status.text)) if status.text else ""
        title_style = self.get_component_rich_style("pane-header--title")
        status_style = self.get_component_rich_style(state_style) if state_style else None
        short_status = status_text.split(" · ")[0]
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
            if window is not None:
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
                parts.append((sep, None))
                parts.append((shown, status_style))
            return parts

        # Most to least detailed; the status (what the fetch is doing) is the last thing to go.
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
        chosen = candidates[-1]
        for parts in candidates:
            if sum(cell_len(p) for p, _ in parts) <= width:
                chosen = parts
                break
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for part, style in chosen:
            text.append(part, style=style)  # type: ignore[arg-type]
        text.truncate(max(1, width), overflow="ellipsis")
        return text
