"""The footer every pane and drill-down uses: Textual's `Footer`, with `? Help` and `q Quit` first and
only keys that fit whole (issue 11: at 80 columns the last key ran under the palette key, `z UTC/loca`).

The fit is computed from the keys' text, not from a layout pass, so the same size always gives the same
footer (a measured fit depended on when layout ran, and dialog snapshots differed from run to run).
Dropped keys stay in `?` help and the command palette; a `…` says some are not shown.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

# The app's own keys the footer shows first, whatever the width: the two a newcomer needs.
FOOTER_FIRST = ("help", "request_quit")

# Cells around a key in the compact footer (Textual 8's Footer CSS, `.-compact`): a space between key and
# description, one cell of right margin; the palette key adds its left border. Checked by
# tests/tui/test_navigation.py::test_no_footer_key_is_cut_at_the_edge against the regions Textual lays out.
_GAP = 1
_MARGIN = 1
_PALETTE_BORDER = 1
_MORE = "…"


def key_cells(key: FooterKey) -> int:
    """The cells one key takes in the compact footer, margin included."""
    cells = cell_len(key.key_display)
    if key.description:
        cells += _GAP + cell_len(key.description)
    if key.has_class("-command-palette"):
        cells += _PALETTE_BORDER
    return cells + _MARGIN


def item_cells(item: Widget) -> int:
    if isinstance(item, FooterKey):
        return key_cells(item)
    return cell_len(str(item.render()))  # a group's label: no margin in the compact footer


def fit(items: list[Widget], width: int) -> tuple[list[Widget], bool]:
    """The items to show in `width` cells: keys in order, each that fits whole, then the palette key
    (docked right, so its place in the list does not matter). Returns them and whether any was dropped;
    when one is, room is kept for the `…` that says so."""
    palette = [w for w in items if isinstance(w, FooterKey) and w.has_class("-command-palette")]
    rest = [w for w in items if not (isinstance(w, FooterKey) and w.has_class("-command-palette"))]
    room = width - sum(key_cells(k) for k in palette)
    if sum(item_cells(w) for w in rest) <= room:
        return rest + palette, False
    room -= cell_len(_MORE)
    kept: list[Widget] = []
    for item in rest:
        cells = item_cells(item)
        if cells > room:
            continue  # a shorter key further on may still fit: use the room
        kept.append(item)
        room -= cells
    return kept + palette, True


class PaneFooter(Footer):
    """The footer, help and quit first (Textual lists the focused widget's keys first, the app's last),
    keys that do not fit dropped whole."""

    def __init__(self, *, compact: bool = True, **kwargs: object) -> None:
        super().__init__(compact=compact, **kwargs)  # type: ignore[arg-type]
        self._fitted_for: tuple[int, int] | None = None  # (width, keys shown) of the last compose
        self._composed: tuple[object, ...] | None = None  # the bindings the footer shows now
        self._recompose_queued = False

    def compose(self) -> ComposeResult:
        # The whole of Footer.compose runs here (its `with` blocks included); only order and fit change.
        self._recompose_queued = False
        self._composed = self._signature() if self._bindings_ready else None
        items = list(super().compose())

        def rank(widget: Widget) -> int:
            action = getattr(widget, "action", None)
            return FOOTER_FIRST.index(action) if action in FOOTER_FIRST else len(FOOTER_FIRST)

        items.sort(key=rank)
        width = self._width()
        shown, dropped = fit(items, width)
        self._fitted_for = (width, len(shown))
        yield from shown
        if dropped:
            yield FooterLabel(_MORE)

    def _signature(self) -> tuple[object, ...]:
        """What the footer's keys are made of: the shown bindings, their state and tooltips."""
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Textual rebuilds the footer on every change of the screen's bindings (focus moves, a widget
        # mounts): four rebuilds before the first frame, most with the same keys. Rebuild once, and only
        # when the keys shown would change.
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._recompose_queued or self._signature() == self._composed:
            return
        self._recompose_queued = True
        self.call_after_refresh(self.recompose)

    def _width(self) -> int:
        # Before the first layout the footer has no size; it spans the screen, which spans the terminal.
        return self.size.width or self.app.size.width

    def on_resize(self, event: events.Resize) -> None:
        # Recompose only when the new width would show other keys: at the first layout it does not, so
        # what a snapshot captures never depends on when the resize arrived.
        if self._fitted_for is None or event.size.width == self._fitted_for[0]:
            return
        items = list(Footer.compose(self))
        if len(fit(items, event.size.width)[0]) != self._fitted_for[1]:
            self.call_after_refresh(self.recompose)
        else:
            self._fitted_for = (event.size.width, self._fitted_for[1])
