"""The pane bar: every pane by number and name, the current one marked, each with a live badge.

`1 Key lookup ✖ compromised  2 Spike watch ● 2  3 AI activity ! 3  4 Explore`, and at the right the way
back after a pivot (`esc ‹ Spike watch › Key lookup 1a2b…`). It is in every pane's frame, so which panes
exist and how to reach them is always on screen, never only in `?`.

The bar renders from the app: `badges` (what each pane published, see `PaneScreen.publish_badge`) and
`trail` (the pivot breadcrumb), both reactive on the app, so a pane's badge changes in every bar while
the user is elsewhere. The current pane is the one whose screen holds the bar. It is marked by a glyph
(`▸`) and reverse bold, never by colour alone. Clicking a name switches to that pane; clicking the
breadcrumb goes back one pivot. Narrow terminals get short names (`1 Key 2 Watch 3 AI 4 Explore`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget

from ddaudit_tui.tui.safe_text import clean

BadgeLevel = Literal["alert", "warn", "ok", "info"]


@dataclass(frozen=True)
class PaneBadge:
    """What a pane shows next to its name: `text` (glyph first: `✖ compromised`, `● 2`), and `short`,
    the glyph form for narrow bars. `level` picks the style; the glyph carries the meaning without it."""

    text: str
    short: str = ""
    level: BadgeLevel = "info"


@dataclass(frozen=True)
class Crumb:
    """One step of a pivot: the pane (`mode`) and what it showed (`label`: `Key lookup 1a2b…`)."""

    mode: str
    label: str


# Short names for bars under ~90 columns (the numbers never go).
SHORT_TITLES: dict[str, str] = {
    "lookup": "Key",
    "watch": "Watch",
    "ai": "AI",
    "explore": "Explore",
    "case": "Case",
}
BACK_HINT = "esc ‹ "


class PaneBar(Widget):
    """One line at the top of every pane. `plain` is what it shows (for tests and the screen audit)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane-bar--key",
        "pane-bar--current",
        "pane-bar--alert",
        "pane-bar--warn",
        "pane-bar--ok",
        "pane-bar--info",
        "pane-bar--trail",
    }

    DEFAULT_CSS = """
    PaneBar {
        height: 1;
        width: 1fr;
        background: $panel-darken-1;
        color: $foreground;
        & > .pane-bar--key { color: $text-accent; text-style: bold; }
        & > .pane-bar--current { text-style: bold reverse; }
        & > .pane-bar--alert { color: $text-error; text-style: bold; }
        & > .pane-bar--warn { color: $text-warning; text-style: bold; }
        & > .pane-bar--ok { color: $text-success; }
        & > .pane-bar--info { color: $text-muted; }
        & > .pane-bar--trail { color: $text-muted; }
        &:hover { pointer: pointer; }
    }
    """

    def __init__(self, mode: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = mode
        # (start cell, end cell, target): a pane's mode, or "back" for the breadcrumb.
        self._regions: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        for name in ("badges", "trail"):
            if hasattr(self.app, name):
                self.watch(self.app, name, self._changed, init=False)

    def _changed(self, _value: object) -> None:
        self.refresh()

    # -- rendering -----------------------------------------------------------------------------------

    @property
    def plain(self) -> str:
        return self._build(self.size.width or 200)[0].plain

    def render(self) -> Text:
        text, regions = self._build(self.size.width)
        self._regions = regions
        return text

    def _panes(self) -> Sequence[Any]:
        return tuple(getattr(self.app, "PANE_LIST", ()))

    def _build(self, width: int) -> tuple[Text, list[tuple[int, int, str]]]:
        panes = self._panes()
        badges: dict[str, PaneBadge] = dict(getattr(self.app, "badges", {}) or {})
        trail: Sequence[Crumb] = tuple(getattr(self.app, "trail", ()) or ())
        style = self.get_component_rich_style
        key_style, current_style = style("pane-bar--key"), style("pane-bar--current")
        orgs = clean(str(getattr(self.app, "orgs_label", "") or ""), max_len=12)

        def variant(
            short_titles: bool, badge_form: str, sep: str, crumbs: int
        ) -> list[tuple[str, Any, str | None]]:
            parts: list[tuple[str, Any, str | None]] = [(" ", None, None)]
            for n, pane in enumerate(panes):
                if n:
                    parts.append((sep, None, None))
                title = SHORT_TITLES.get(pane.mode, pane.title) if short_titles else pane.title
                current = pane.mode == self.mode
                badge = badges.get(pane.mode)
                if current:
                    parts.append((f"▸{pane.key} {title}", current_style, pane.mode))
                else:
                    parts.append((f"{pane.key}", key_style, pane.mode))
                    parts.append((f" {title}", None, pane.mode))
                if badge is not None and badge_form != "none":
                    shown = badge.text if badge_form == "full" else (badge.short or badge.text)
                    if shown:
                        parts.append(
                            (" " + clean(shown, max_len=24), style(f"pane-bar--{badge.level}"), pane.mode)
                        )
            if orgs:  # several orgs asked (tui/orgs.py): how many, in every pane
                parts.append(("  " + orgs, style("pane-bar--info"), None))
            if crumbs and len(trail) > 1:
                # The whole way (`Spike watch › Key lookup 9f3c…`), or only where Esc goes back to.
                shown_trail = trail[-crumbs:] if crumbs > 1 else trail[-2:-1]
                labels = [clean(c.label, max_len=28) for c in shown_trail]
                parts.append(("  ", None, None))
                parts.append((BACK_HINT + " › ".join(labels), style("pane-bar--trail"), "back"))
            return parts

        # Most to least detailed. After a pivot the way back outlives the long names and badge words.
        candidates = [
            variant(False, "full", "   ", 3),
            variant(False, "full", "  ", 3),
            # Five panes: at 80 columns the badges go to their glyphs before the names get short, and the
            # names get short before the way back is cut.
            variant(False, "short", "  ", 3),
            variant(True, "full", "  ", 3),
            variant(False, "full", "  ", 1),
            variant(True, "full", "  ", 1),
            variant(True, "short", "  ", 1),
            variant(False, "full", "  ", 0),
            variant(False, "short", "  ", 0),
            variant(True, "full", "  ", 0),
            variant(True, "short", "  ", 0),
            variant(True, "none", " ", 0),
        ]
        chosen = candidates[-1]
        for parts in candidates:
            if sum(cell_len(p) for p, _s, _t in parts) <= width:
                chosen = parts
                break
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        regions: list[tuple[int, int, str]] = []
        x = 0
        for part, part_style, target in chosen:
            text.append(part, style=part_style)
            n = cell_len(part)
            if target is not None:
                if regions and regions[-1][2] == target and regions[-1][1] == x:
                    regions[-1] = (regions[-1][0], x + n, target)
                else:
                    regions.append((x, x + n, target))
            x += n
        text.truncate(max(1, width), overflow="ellipsis")
        return text, regions

    # -- mouse ---------------------------------------------------------------------------------------

    def target_at(self, x: int) -> str | None:
        if not self._regions:
            self._regions = self._build(self.size.width)[1]
        for start, end, target in self._regions:
            if start <= x < end:
                return target
        return None

    async def on_click(self, event: events.Click) -> None:
        target = self.target_at(event.x)
        if target is None:
            return
        event.stop()
        if target == "back":
            await self.app.run_action("back_pivot")
        else:
            await self.app.run_action(f"switch_pane('{target}')")
