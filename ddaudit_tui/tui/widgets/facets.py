"""The facet column: top values of a few fields with counts; Enter narrows the query, `-` excludes,
`x` opens the pivot menu on the value (the app's binding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets.option_list import Option

from ddaudit_tui.analysis.explore import Facet, FacetValue
from ddaudit_tui.tui.pivot import PivotTarget
from ddaudit_tui.tui.safe_text import clean, fit
from ddaudit_tui.tui.widgets.item_list import ItemList, nav_bindings

NONE_LABEL = "(none)"  # the field is missing
EMPTY_LABEL = '(empty "")'  # the field is an empty string


class FacetPanel(ItemList[FacetValue]):
    """One disabled heading option per facet, then one option per value."""

    HELP_GROUP: ClassVar[str] = "Facets"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Filter", id="facets.include", tooltip="Narrow the query to this value"),
        Binding(
            "minus", "exclude", "Exclude", id="facets.exclude", tooltip="Exclude this value from the query"
        ),
        *nav_bindings("facets", "value"),
    ]

    DEFAULT_CSS = """
    FacetPanel {
        height: 1fr;
        border: none;
        padding: 0;
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        /* No focus border: it would change the width the values were fitted to. */
        &:focus { border: none; background-tint: $foreground 4%; }
        & > .option-list--option-disabled { text-style: bold; color: $text-accent; }
    }
    """

    class Chosen(Message):
        """A facet value was chosen: narrow the query to it, or exclude it."""

        def __init__(self, panel: FacetPanel, value: FacetValue, exclude: bool) -> None:
            super().__init__()
            self.panel = panel
            self.value = value
            self.exclude = exclude

        @property
        def control(self) -> FacetPanel:
            return self.panel

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._facets: list[Facet] = []
        self._note: str | None = None

    @property
    def facets(self) -> Sequence[Facet]:
        return self._facets

    @property
    def note(self) -> str | None:
        """What the counts are (issue 16): the whole window's (DDSQL), or the fetched events' only."""
        return self._note

    def show_facets(self, facets: Sequence[Facet], note: str | None = None) -> None:
        self._facets = list(facets)
        self._note = note
        self._rebuild()

    def _rebuild(self) -> None:
        # Options have one cell of padding each side; the scrollbar gutter is reserved (stable).
        width = max(12, (self.scrollable_content_region.width or 30) - 2)
        highlighted = self.highlighted_value
        entries: list[tuple[Option, FacetValue | None]] = []
        if self._note:
            # Program text with counts (no event text): wrapped, above the first heading.
            entries.append((Option(Text(self._note, style="italic"), id="note", disabled=True), None))
        for facet in self._facets:
            more = f"{facet.distinct:,} value{'s' if facet.distinct != 1 else ''}"
            heading = Text(no_wrap=True, end="")
            heading.append(fit(facet.title.upper(), max(1, width - len(more) - 1)))
            heading.append(" " + more, style="dim")
            entries.append((Option(heading, id=f"h:{facet.key}", disabled=True), None))
            for i, fv in enumerate(facet.values):
                entries.append((Option(self._value_text(fv, width), id=f"v:{facet.key}:{i}"), fv))
        self._show(entries)
        if highlighted is not None:
            self._restore_highlight(highlighted)
        # The value that was highlighted may be gone (just excluded): then the first one, never none.
        if self._items and self.highlighted is None:
            self.highlighted = next(i for i, o in enumerate(self.options) if not o.disabled)

    @staticmethod
    def _value_text(fv: FacetValue, width: int) -> Text:
        count = f"{fv.count:,}"
        label_w = max(1, width - cell_len(count) - 1)
        text = Text(no_wrap=True, end="")
        if fv.value is None or fv.value == "":
            text.append(fit(NONE_LABEL if fv.value is None else EMPTY_LABEL, label_w), style="italic dim")
        else:
            text.append(fit(clean(fv.value), label_w))
        text.append(" " + count, style="bold")
        return text

    def _restore_highlight(self, value: FacetValue) -> None:
        for i, option in enumerate(self.options):
            fv = self._items.get(option.id or "")
            if fv is not None and fv.field == value.field and fv.value == value.value:
                self.highlighted = i
                return

    @property
    def highlighted_value(self) -> FacetValue | None:
        return self.highlighted_item

    def pivot_targets(self) -> list[PivotTarget]:
        """The highlighted value, for `x` (see `tui.pivot`)."""
        fv = self.highlighted_value
        if fv is None:
            return []
        title = next((f.title for f in self._facets if fv in f.values), fv.field)
        return [PivotTarget(fv.field, fv.value, title.lower())]

    def _chosen(self, item: FacetValue) -> Message:
        return self.Chosen(self, item, exclude=False)

    def action_exclude(self) -> None:
        fv = self.highlighted_value
        if fv is not None:
            self.post_message(self.Chosen(self, fv, exclude=True))
