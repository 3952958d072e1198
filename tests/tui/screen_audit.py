"""The screen audit (issue 11, item 8): every pane and dialog of the demo, with its data loaded, checked
on what the compositor really draws.

`audit(mode, size)` starts the app once, walks Explore (+ event detail, presets, pivot menu, copy-as,
compliance, help), Key lookup of the demo's compromised key (every section, the chart, the export
dialog, the revoke confirmation, the revoke itself), Spike watch after its first poll, AI activity and
its drill-down, and a failed fetch; at each stop it collects `Finding`s:

- `value`: a table cell's value (from the table widget's own row data, not from the screen) is not
  shown whole on its row: a number cut at all, text cut without `…`, or a column off-screen with no
  hint that more columns exist;
- `contrast`: a CRITICAL/HIGH/MEDIUM label, a verdict word, `LEAKED` or `REVOKED` drawn with a WCAG
  contrast ratio under 4.5:1, from the composed segments' fg/bg (reverse and dim resolved);
- `footer`: a pane's footer without `? Help` or `q Quit`, or with a key cut at its edge;
- `toast`: a toast drawn over a modal dialog;
- `status`: `✓` in front of something that is not a success (a compromised verdict, a revoked key,
  a failed fetch).

The demo is generated and decoded once per process (`demo_events`); each app gets a fresh fake API
over those events (a revoke changes the fake's keys). `python -m tests.tui.screen_audit` prints every
finding as a table (`--mode`, `--size` narrow it).

What it reads besides the screen (if one of these moves, the audit fails loudly rather than go blind):
Textual's `screen._compositor` (`render_strips`, `visible_widgets`), DataTable geometry
(`ordered_rows`, `Column.get_render_width`, `_row_label_column_width`), `Toast._notification`;
`EventTable._widths/_offsets/_fixed_width/_visible_end`; `KeyLookupScreen.report/.revocation/.action_show_section`,
`WatchScreen.latest`, the panes' `result`, `DdauditApp.open_ai_user`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.color import Color as RichColor
from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.geometry import Region
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Footer
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

sys.path.insert(0, str(Path(__file__).parent))  # watch_pane_helpers, also under `python -m`

from watch_pane_helpers import settle_watch, watch_screen  # noqa: E402

from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog  # noqa: E402
from ddaudit_tui.demo.org import PLANTED, generate  # noqa: E402
from ddaudit_tui.demo.source import DEMO_LABEL  # noqa: E402
from ddaudit_tui.events.record import Event  # noqa: E402
from ddaudit_tui.sources.datadog import Credentials, DatadogClient  # noqa: E402
from ddaudit_tui.timeutil import Window, parse_instant  # noqa: E402
from ddaudit_tui.tui.app import DdauditApp  # noqa: E402
from ddaudit_tui.tui.safe_text import clean  # noqa: E402
from ddaudit_tui.tui.screens.base import PaneScreen  # noqa: E402
from ddaudit_tui.tui.screens.key_lookup import SECTIONS, KeyLookupScreen  # noqa: E402
from ddaudit_tui.tui.widgets.event_table import EventTable  # noqa: E402

END_MS = parse_instant("2026-07-04T12:00:00Z")
WINDOW = Window(END_MS - 90 * 86_400_000, END_MS)

SIZES: tuple[tuple[int, int], ...] = ((60, 20), (80, 24), (120, 35), (200, 50))
# (label, Textual theme, NO_COLOR)
MODES: dict[str, tuple[str, bool]] = {
    "dark": ("textual-dark", False),
    "light": ("textual-light", False),
    "nocolor": ("textual-dark", True),
}
RULES = ("value", "contrast", "footer", "toast", "status", "walk")  # walk: the audit could not look

MIN_CONTRAST = 4.5  # WCAG AA for normal text
# The words whose readability matters most (issue 11 §3): severities, the verdict, LEAKED, REVOKED.
SALIENT = re.compile(r"\b(CRITICAL|HIGH|MEDIUM|LIKELY COMPROMISED|COMPROMISED|SUSPICIOUS|LEAKED|REVOKED)\b")
# What a `✓` must never stand in front of.
NOT_SUCCESS = re.compile(
    r"compromis|suspicious|revok|leak|fail|error|denied|forbidden|refused|not found|unreachable", re.I
)
NUMBER = re.compile(r"[-+]?[\d][\d,.]*\s*(%|[kKMGx×])?|[-+]?[\d,.]*\d")


# -- colour ----------------------------------------------------------------------------------------

RGB = tuple[int, int, int]


def _rgb(colour: Any) -> RGB:
    """(r, g, b) from a Rich colour, a Textual colour, '#rrggbb' or a tuple."""
    if isinstance(colour, RichColor):  # a NamedTuple: before the plain tuple case
        triplet = colour.get_truecolor()
        return triplet.red, triplet.green, triplet.blue
    if isinstance(colour, tuple):
        r, g, b = colour[:3]
        return int(r), int(g), int(b)
    if isinstance(colour, str):
        parsed = Color.parse(colour)
        return parsed.r, parsed.g, parsed.b
    if isinstance(colour, Color):
        return colour.r, colour.g, colour.b
    raise TypeError(f"not a colour: {colour!r}")


def relative_luminance(colour: Any) -> float:
    """WCAG 2.x relative luminance (0 black … 1 white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = _rgb(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(fg: Any, bg: Any) -> float:
    """WCAG contrast ratio of two colours, 1.0 (same) … 21.0 (black on white); order does not matter."""
    a, b = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def _blend(bg: RGB, fg: RGB, factor: float) -> RGB:
    return tuple(round(b + (f - b) * factor) for f, b in zip(fg, bg, strict=True))  # type: ignore[return-value]


def drawn_colours(style: Style | None, default_fg: RGB, default_bg: RGB) -> tuple[RGB, RGB]:
    """(fg, bg) a terminal shows for `style`: default colours filled in, reverse swapped, dim drawn at half
    intensity toward the background (what Textual's own DimFilter does, and most terminals)."""
    fg, bg = default_fg, default_bg
    if style is not None:
        if style.color is not None and not style.color.is_default:
            fg = _rgb(style.color)
        if style.bgcolor is not None and not style.bgcolor.is_default:
            bg = _rgb(style.bgcolor)
        if style.reverse:
            fg, bg = bg, fg
        if style.dim:
            fg = _blend(bg, fg, 0.5)
    return fg, bg


def _hex(c: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


# -- findings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str  # one of RULES
    mode: str  # a MODES key
    size: tuple[int, int]
    where: str  # "Key lookup › Deleted", "Revoke dialog"…
    message: str

    @property
    def size_label(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"

    def line(self) -> str:
        return f"[{self.rule}] {self.mode} {self.size_label} {self.where}: {self.message}"


# -- the demo, once per process --------------------------------------------------------------------


@functools.cache
def demo_events() -> tuple[Event, ...]:
    """The whole demo org (what `ddaudit --demo` shows), decoded once per process."""
    return tuple(FakeDatadog(generate(seed=7, end_ms=END_MS)).events)


def demo_app(export_dir: Path) -> tuple[DdauditApp, FakeDatadog]:
    """A fresh app over a fresh fake API (a revoke changes the fake's keys), on the shared events."""
    clock = lambda: END_MS / 1000  # noqa: E731
    fake = FakeDatadog(demo_events(), clock=clock)
    source = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake, label=DEMO_LABEL
    )
    return DdauditApp(source, WINDOW, clock=clock, export_dir=export_dir), fake


# -- reading the composed screen -------------------------------------------------------------------


def screen_strips(app: App[Any]) -> list[Strip]:
    """The active screen as the compositor draws it. The app's line filters (NO_COLOR's Monochrome,
    ANSI→truecolor) are already applied per widget line by Textual's styles cache, so these segments
    carry the colours the driver sends (test_colour_modes checks that NO_COLOR leaves only greys)."""
    return list(app.screen._compositor.render_strips())


def _cells(strip: Strip) -> tuple[str, list[Style | None]]:
    """The strip's text and one style per character of it."""
    chars: list[str] = []
    styles: list[Style | None] = []
    for segment in strip:
        if segment.control:
            continue
        chars.append(segment.text)
        styles.extend([segment.style] * len(segment.text))
    return "".join(chars), styles


def _shown(widget: Widget) -> bool:
    """Displayed (with every ancestor), visible (a child may be visible in a hidden parent: the toast
    rack is), with an area."""
    node: Any = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return widget.visible and widget.region.area > 0


def _dialog_parts(screen: ModalScreen[Any]) -> list[Widget]:
    """The modal's own widgets (its frame), not the toast rack it also holds."""
    return [w for w in screen.children if _shown(w) and w.id != "textual-toastrack"]


def _only(strip: Strip, y: int, regions: list[Region]) -> Strip:
    """`strip` (screen line `y`) with everything outside `regions` blanked."""
    spans = sorted((r.x, r.right) for r in regions if r.y <= y < r.bottom)
    if not spans:
        return Strip.blank(strip.cell_length)
    parts, x = [], 0
    for x0, x1 in spans:
        x0 = max(x0, x)
        if x1 <= x0:
            continue
        parts += [Strip.blank(x0 - x), strip.crop(x0, x1)]
        x = x1
    parts.append(Strip.blank(strip.cell_length - x))
    return Strip.join(parts)


def _not_grey(strips: list[Strip]) -> list[str]:
    """Colours that are not greys (what NO_COLOR's Monochrome filter leaves none of)."""
    found = set()
    for strip in strips:
        for segment in strip:
            style = segment.style
            for colour in (style.color, style.bgcolor) if style is not None else ():
                if colour is not None and not colour.is_default:
                    r, g, b = _rgb(colour)
                    if not r == g == b:
                        found.add(_hex((r, g, b)))
    return sorted(found)[:5]


def _numeric(value: str) -> bool:
    return bool(NUMBER.fullmatch(value.strip())) and any(ch.isdigit() for ch in value)


def _widget_name(widget: Widget) -> str:
    return f"#{widget.id}" if widget.id else type(widget).__name__


def _cell_verdict(value: str, region_text: str, cut_by_edge: bool) -> str | None:
    """None when `value` is shown whole (or text cut with `…`), else why not."""
    shown = region_text.strip()
    if value in region_text:
        return None
    if _numeric(value):
        return f"number {value!r} shows as {shown!r}"
    if shown.endswith("…") and value.startswith(shown[:-1].rstrip()) and shown[:-1].strip():
        return None
    if shown and value.startswith(shown):
        return f"{value!r} cut without …: {shown!r}" + (" (at the table's edge)" if cut_by_edge else "")
    return f"{value!r} not on its row (the cell shows {shown!r})"


@dataclass
class _Tally:
    """Cell problems of one column, reported once with a count and the first example."""

    count: int = 0
    example: str = ""


@dataclass
class Auditor:
    app: DdauditApp
    mode: str
    size: tuple[int, int]
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, where: str, message: str) -> None:
        finding = Finding(rule, self.mode, self.size, where, message)
        if finding not in self.findings:
            self.findings.append(finding)

    # -- one stop --------------------------------------------------------------------------------

    def check(self, where: str) -> None:
        strips = screen_strips(self.app)
        screen = self.app.screen
        if isinstance(screen, ModalScreen):
            # Only the dialog itself: the pane behind it is dimmed on purpose and audited on its own.
            keep = [w.region for w in _dialog_parts(screen)]
            strips = [_only(strip, y, keep) for y, strip in enumerate(strips)]
        self.check_values(where, strips)
        self.check_contrast(where, strips)
        self.check_footer(where, strips)
        self.check_toasts(where)
        self.check_status(where, strips)

    # (a) values
    def check_values(self, where: str, strips: list[Strip]) -> None:
        tallies: dict[tuple[str, str, str], _Tally] = {}

        def note(table: Widget, column: str, kind: str, example: str) -> None:
            tally = tallies.setdefault((_widget_name(table), column, kind), _Tally())
            tally.count += 1
            tally.example = tally.example or example

        # What of each widget the compositor really shows: its region cut by every scrolling ancestor.
        visible = self.app.screen._compositor.visible_widgets
        for table in [*self.app.screen.query(DataTable), *self.app.screen.query(EventTable)]:
            if table not in visible or not _shown(table):
                continue
            region, clip = visible[table]
            seen = table.scrollable_content_region.intersection(region.intersection(clip))
            if seen.area:
                if isinstance(table, EventTable):
                    self._event_table(table, seen, strips, note)
                else:
                    self._data_table(table, seen, strips, note)
        for (table, column, kind), tally in tallies.items():
            rows = f"{tally.count} row{'s' if tally.count != 1 else ''}"
            self.add("value", where, f"{table} column {column!r}: {kind} in {rows}, e.g. {tally.example}")

    def _data_table(self, table: DataTable[Any], seen: Region, strips: list[Strip], note: Any) -> None:
        area = table.scrollable_content_region
        scroll_x, scroll_y = (int(v) for v in table.scroll_offset)
        header = table.header_height if table.show_header else 0
        pad = table.cell_padding
        columns = table.ordered_columns
        labels = [clean(str(getattr(c.label, "plain", c.label))).strip() for c in columns]
        # Cell geometry as DataTable._get_cell_region computes it, once per table rather than per cell.
        lefts, x = [], table._row_label_column_width
        for column in columns:
            lefts.append((x, x + column.get_render_width(table)))
            x = lefts[-1][1]
        y_virtual = header
        for r, row in enumerate(table.ordered_rows):
            y = area.y + y_virtual - scroll_y
            y_virtual += row.height
            if not (area.y + header <= y < area.bottom and seen.y <= y < seen.bottom):
                continue  # the row is scrolled out of view: nothing to judge
            for c, raw in enumerate(table.get_row_at(r)):
                value = clean(str(getattr(raw, "plain", raw))).split("\n")[0].strip()
                if not value:
                    continue
                shift = 0 if c < table.fixed_columns else scroll_x
                x0 = area.x + lefts[c][0] - shift + pad
                x1 = area.x + lefts[c][1] - shift - pad
                self._judge(table, labels[c], value, strips[y], x0, x1, seen, note, hint=False)

    def _event_table(self, table: EventTable, seen: Region, strips: list[Strip], note: Any) -> None:
        area = table.scrollable_content_region
        scroll_x = int(table.scroll_offset.x)
        widths, offsets, fixed = table._widths, table._offsets, table._fixed_width
        more_right = table.virtual_size.width > area.width + scroll_x  # the header's `▶`
        for row in table.visible_range:
            y = area.y + 1 + row - int(table.scroll_offset.y)
            if not (area.y + 1 <= y < area.bottom and seen.y <= y < seen.bottom):
                continue
            ev = table.rows[row]
            for i, col in enumerate(table.columns):
                value = clean(col.text(ev, table.local_time) or "").strip()
                if not value:
                    continue
                if i == 0:
                    x0 = area.x + 1
                    clip = seen
                else:  # the scrollable part, right of the frozen time column
                    # The table draws only whole columns (`_visible_end`): one that does not fit is
                    # off-screen whole, excused only by the header's ▶.
                    visible_end = table._visible_end(scroll_x, max(0, area.width - fixed))
                    if offsets[i - 1] + widths[i] > visible_end:
                        if not more_right:
                            note(
                                table, col.label, "column off-screen with no 'more columns' hint", repr(value)
                            )
                        continue
                    x0 = area.x + fixed + offsets[i - 1] - scroll_x
                    clip = seen.intersection(
                        Region(area.x + fixed, area.y, max(0, area.width - fixed), area.height)
                    )
                self._judge(table, col.label, value, strips[y], x0, x0 + widths[i], clip, note, more_right)

    def _judge(
        self,
        table: Widget,
        column: str,
        value: str,
        strip: Strip,
        x0: int,
        x1: int,
        clip: Region,
        note: Any,
        hint: bool,
    ) -> None:
        vx0, vx1 = max(x0, clip.x), min(x1, clip.right)
        if vx1 <= vx0:
            if not hint:  # a whole column off-screen, and nothing says so
                note(table, column, "column off-screen with no 'more columns' hint", repr(value))
            return
        text = strip.crop(vx0, vx1).text
        problem = _cell_verdict(value, text, cut_by_edge=(vx0, vx1) != (x0, x1))
        if problem is not None:
            kind = "number cut" if _numeric(value) else "text cut without …"
            if "not on its row" in problem:
                kind = "value not on its row"
            note(table, column, kind, problem)

    # (b) contrast
    def check_contrast(self, where: str, strips: list[Strip]) -> None:
        default_fg, default_bg = self._defaults()
        worst: dict[str, tuple[float, str]] = {}
        for strip in strips:
            text, styles = _cells(strip)
            for match in SALIENT.finditer(text):
                ratios = []
                for i in range(match.start(), match.end()):
                    if text[i].isspace():
                        continue
                    fg, bg = drawn_colours(styles[i], default_fg, default_bg)
                    ratios.append((contrast_ratio(fg, bg), fg, bg))
                ratio, fg, bg = min(ratios)
                word = match.group(1)
                if ratio < MIN_CONTRAST and (word not in worst or ratio < worst[word][0]):
                    context = text[max(0, match.start() - 12) : match.end() + 12].strip()
                    worst[word] = (ratio, f"{_hex(fg)} on {_hex(bg)} in {context!r}")
        for word, (ratio, detail) in worst.items():
            self.add("contrast", where, f"{word} {ratio:.2f}:1 < {MIN_CONTRAST}:1, {detail}")

    def _defaults(self) -> tuple[RGB, RGB]:
        """What a default (unset) fg/bg is drawn as: the theme's colours."""
        theme = self.app.current_theme
        dark = theme.dark
        fg = theme.foreground or ("#e0e0e0" if dark else "#1e1e1e")
        bg = theme.background or ("#121212" if dark else "#efefef")
        if self.app.no_color:
            return (255, 255, 255) if dark else (0, 0, 0), (0, 0, 0) if dark else (255, 255, 255)
        return _rgb(fg), _rgb(bg)

    # (c) footer
    def check_footer(self, where: str, strips: list[Strip]) -> None:
        if not isinstance(self.app.screen, PaneScreen):
            return  # dialogs carry their own keys; the pane's footer is the one issue 11 names
        footers = [f for f in self.app.screen.query(Footer) if _shown(f)]
        if not footers:
            self.add("footer", where, "no footer shown")
            return
        region = footers[0].region
        text = " ".join(strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom))
        wanted = ["? Help"]
        q = self.app.screen.active_bindings.get("q")
        if q is None or q.binding.action in ("quit", "app.quit"):
            wanted.append("q Quit")  # where q means something else (a drill-down's Back), it cannot
        missing = [want for want in wanted if want not in text]
        if missing:
            self.add("footer", where, f"footer lacks {' and '.join(missing)}: {text.strip()!r}")
        # A key is shown whole or not at all: the last key must not run under the palette key docked right.
        keys = [k for k in footers[0].query(FooterKey) if _shown(k)]
        edge = min([region.right, *(k.region.x for k in keys if k.has_class("-command-palette"))])
        for k in keys:
            if not k.has_class("-command-palette") and k.region.right > edge:
                self.add("footer", where, f"footer key {k.key_display} {k.description!r} cut at the edge")

    # (d) toasts over modals
    def check_toasts(self, where: str) -> None:
        screen = self.app.screen
        if not isinstance(screen, ModalScreen):
            return
        dialog = _dialog_parts(screen)
        for toast in screen.query(Toast):
            if not _shown(toast):
                continue
            for part in dialog:
                if toast.region.overlaps(part.region):
                    note = toast._notification
                    label = note.title or " ".join(note.message.split())[:40]
                    self.add(
                        "toast",
                        where,
                        f"toast {label!r} at {tuple(toast.region)} covers {_widget_name(part)} at "
                        f"{tuple(part.region)}",
                    )

    # (e) ✓ only for success
    def check_status(self, where: str, strips: list[Strip]) -> None:
        for strip in strips:
            text = strip.text
            for match in re.finditer("✓", text):
                after = re.split(r" · |│|\s{2,}", text[match.end() :].strip())[0]
                if NOT_SUCCESS.search(after):
                    self.add("status", where, f"✓ on a non-success: {('✓ ' + after).strip()!r}")


# -- the walk ----------------------------------------------------------------------------------------


async def _settle(pilot: Any) -> None:
    await settle_watch(pilot)


async def _press(pilot: Any, *keys: str) -> None:
    await pilot.press(*keys)
    await _settle(pilot)


async def stop(auditor: Auditor, pilot: Any, where: str, toasts: bool = False) -> None:
    """Audit the screen as it is now. Toasts are cleared first (they would hide table cells at random)
    unless the stop is about them."""
    if not toasts and auditor.app._notifications:
        auditor.app.clear_notifications()
        await pilot.pause()
    auditor.check(where)


async def _dialog(
    auditor: Auditor,
    pilot: Any,
    keys: Sequence[str],
    where: str,
    close: str | None = "escape",
    toasts: bool = False,
) -> bool:
    """Open a dialog with `keys`, audit it, close it (`close`: the key, None: leave it open)."""
    app = auditor.app
    before = app.screen
    await _press(pilot, *keys)
    if app.screen is before:
        auditor.add("walk", where, f"{' '.join(keys)} did not open it: nothing audited")
        return False
    await stop(auditor, pilot, where, toasts)
    if close is not None:
        await _press(pilot, close)
    return True


async def walk(app: DdauditApp, fake: FakeDatadog, auditor: Auditor, pilot: Any) -> None:
    await _settle(pilot)
    if MODES[auditor.mode][1] and not app.no_color:
        auditor.add("walk", "start", "NO_COLOR=1 did not reach the app: the colour checks prove nothing")

    # Explore and what opens from it.
    await until_loaded(pilot, lambda: getattr(app.screen, "result", None) is not None, "Explore's query")
    await stop(auditor, pilot, "Explore")
    if app.no_color and (coloured := _not_grey(screen_strips(app))):
        auditor.add(
            "walk", "Explore", f"NO_COLOR: the strips still carry colours {coloured}: filters unapplied"
        )
    await _dialog(auditor, pilot, ["enter"], "Event detail")
    await _dialog(auditor, pilot, ["i"], "Presets dialog")
    await _dialog(auditor, pilot, ["x"], "Pivot menu")
    await _dialog(auditor, pilot, ["Y"], "Copy-as dialog")
    await _dialog(auditor, pilot, ["C"], "Compliance dialog")
    await _dialog(auditor, pilot, ["question_mark"], "Help")

    # Key lookup of the compromised key, every section.
    await app.action_open_key(PLANTED.compromised_key)
    await _settle(pilot)
    lookup = app.screen
    assert isinstance(lookup, KeyLookupScreen), lookup
    await until_loaded(pilot, lambda: lookup.report is not None, "the key lookup")
    for tab, title, _key in SECTIONS:
        lookup.action_show_section(tab)
        await _settle(pilot)
        # A section's table fits itself to its width once shown (timers of 50 ms): as a person would,
        # look after that.
        await pilot.pause(0.3)
        await _settle(pilot)
        await stop(auditor, pilot, f"Key lookup › {title}")
    await _dialog(auditor, pilot, ["t"], "Key chart")

    # Spike watch after its first poll (the demo raises alerts), AI activity and a drill-down.
    await pilot.press("2")
    watch = watch_screen(app)
    await until_loaded(
        pilot,
        lambda: watch.latest is not None and watch.latest.polls >= 1 and not watch.latest.polling,
        "a poll",
    )
    await _settle(pilot)
    await stop(auditor, pilot, "Spike watch")
    await _press(pilot, "3")
    await until_loaded(pilot, lambda: getattr(app.screen, "result", None) is not None, "the AI analysis")
    await stop(auditor, pilot, "AI activity")
    await app.open_ai_user(PLANTED.ai_burst_user)
    await _settle(pilot)
    await stop(auditor, pilot, f"AI activity › {PLANTED.ai_burst_user}")
    await _press(pilot, "escape")

    # An export (its toast stays 20 s), then the revoke confirmation over that toast, then the revoke.
    await _press(pilot, "1")
    await _dialog(auditor, pilot, ["e"], "Export dialog", close="enter")
    await until_loaded(pilot, lambda: bool(app._notifications), "the export's toast")
    if await _dialog(auditor, pilot, ["R"], "Revoke dialog (toasts showing)", close=None, toasts=True):
        await pilot.press(*PLANTED.compromised_key[-4:], "enter")
        await _settle(pilot)
        await until_loaded(pilot, lambda: lookup.revocation is not None, "the revoke")
        await _dialog(auditor, pilot, ["question_mark"], "Help (toasts showing)", toasts=True)
        await stop(auditor, pilot, "Key lookup after revoke")

    # A failed fetch: the fake now refuses every audit request (403) and Explore runs its query again.
    fake.permissions = set()
    await _press(pilot, "4")
    await _press(pilot, "r")
    if "403" not in "\n".join(strip.text for strip in screen_strips(app)):
        auditor.add("walk", "Explore after a failed fetch", "the failure is not on screen: nothing audited")
    await stop(auditor, pilot, "Explore after a failed fetch")


async def until_loaded(pilot: Any, pred: Any, what: str = "data", timeout: float = 180.0) -> None:
    """Pause until `pred()` holds. The limit is generous on purpose: CI machines are shared, and the
    demo's analyses take seconds of CPU each; nothing here asserts on time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


@contextlib.contextmanager
def _no_color(on: bool) -> Iterator[None]:
    """NO_COLOR as Textual reads it: from the environment, when the App is created."""
    saved = os.environ.get("NO_COLOR")
    if on:
        os.environ["NO_COLOR"] = "1"
    else:
        os.environ.pop("NO_COLOR", None)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("NO_COLOR", None)
        else:
            os.environ["NO_COLOR"] = saved


async def audit(mode: str, size: tuple[int, int], export_dir: Path | None = None) -> list[Finding]:
    """Every finding of one (mode, size): one app, every pane and dialog."""
    theme, no_color = MODES[mode]
    with contextlib.ExitStack() as stack:
        if export_dir is None:
            export_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        with _no_color(no_color):
            app, fake = demo_app(export_dir)
        app.theme = theme
        auditor = Auditor(app, mode, size)
        async with app.run_test(size=size, notifications=True) as pilot:
            await walk(app, fake, auditor, pilot)
        return merged(auditor.findings)


def merged(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per (rule, message), naming every stop it was seen at (the header's `✓ verdict` is on
    every Key lookup section: one line, not six)."""
    stops: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        stops.setdefault((f.rule, f.message), []).append(f)
    out = []
    for same in stops.values():
        first = same[0]
        where = first.where
        if len(same) > 1:
            where += f" (+{len(same) - 1}: " + ", ".join(f.where for f in same[1:]) + ")"
        out.append(Finding(first.rule, first.mode, first.size, where, first.message))
    return out


# -- the table for the lead ----------------------------------------------------------------------------


def format_table(findings: Sequence[Finding]) -> str:
    """rule · mode · size · finding · where (last: the stops a finding repeats at make it long)."""
    rows = [("rule", "mode", "size", "finding", "where")]
    rows += [(f.rule, f.mode, f.size_label, f.message, f.where) for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for row in rows:
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
        )
        lines.append(" " * (sum(widths) + 6) + "  at " + row[4] if row is not rows[0] else "")
    return "\n".join(line for line in lines if line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.tui.screen_audit", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--mode", action="append", choices=sorted(MODES), help="default: all")
    parser.add_argument("--size", action="append", help="WxH (default: 60x20 80x24 120x35 200x50)")
    args = parser.parse_args(argv)
    os.environ["TZ"] = "UTC"
    time.tzset()
    # The Spike watch pane reads rules and writes alert state: never the user's own.
    scratch = tempfile.mkdtemp(prefix="ddaudit-screen-audit-")
    os.environ["DDAUDIT_CONFIG"] = str(Path(scratch) / "no-config.toml")
    os.environ["DDAUDIT_STATE_DIR"] = str(Path(scratch) / "state")
    for name in ("DDAUDIT_RULES", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY"):
        os.environ.pop(name, None)
    modes = args.mode or list(MODES)
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.size] if args.size else list(SIZES)
    findings: list[Finding] = []
    for mode in modes:
        for size in sizes:
            findings += asyncio.run(audit(mode, size))  # type: ignore[arg-type]
    print(format_table(findings) if findings else "no findings")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
