"""The keys seen in the loaded data, for the Key lookup input, riskiest first: verdict, CRITICAL/HIGH
flag counts, leaked/revoked markers, id, events, last use, who used them.

A list rather than a hidden completion: a responder who does not know the id yet picks the key from
here. The order is `analysis.key_risk.rank_keys` — the verdict of each key's own lookup report, then its
CRITICAL and HIGH flag counts, then the most recently used — so the compromised key is on top. Verdicts
arrive one key at a time from the pane's background assessment; until then a row shows `…`. Typing in
the input narrows the list to ids or users that contain the text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets.option_list import Option

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.item_list import ItemList, nav_bindings

# The key analysis (`analysis.keys`, `key_risk`: every key detection) is imported with the first keys, not
# with the widget: the list is part of Key lookup's first frame, the ranking comes after it (issue 12).
if TYPE_CHECKING:
    from ddaudit_tui.analysis.key_risk import KeyRisk
    from ddaudit_tui.analysis.keys import KeySeen

# The verdict column: the card's glyph and a short word (readable without colour), a light style.
COMPROMISED_CELL = ("✖ compromised", "bold red")
SUSPICIOUS_CELL = ("▲ suspicious", "bold yellow")
NONE_CELL = ("✓ no evidence", "green")
PENDING_CELL = ("…", "dim")
FAILED_CELL = ("? not assessed", "dim")
VERDICT_WIDTH = max(cell_len(t) for t, _ in (COMPROMISED_CELL, SUSPICIOUS_CELL, NONE_CELL, FAILED_CELL))


@functools.cache
def verdict_cells() -> dict[str, tuple[str, str]]:
    """The cell of each verdict of the key analysis."""
    from ddaudit_tui.analysis.keys import VERDICT_COMPROMISED, VERDICT_NONE, VERDICT_SUSPICIOUS

    return {
        VERDICT_COMPROMISED: COMPROMISED_CELL,
        VERDICT_SUSPICIOUS: SUSPICIOUS_CELL,
        VERDICT_NONE: NONE_CELL,
    }


FLAGS_WIDTH = 7  # "‼1 !12"
# Ids are shown whole when the row has room for them and for who used the key (an e-mail address is
# about this long); else cut to a prefix no other key shares (at least MIN_ID_PREFIX long), ending in `…`.
# Enter still looks up the whole id, and the lookup shows it.
MIN_ID_PREFIX = 8
USERS_ROOM = 28


def short_ids(ids: Iterable[str], min_len: int = MIN_ID_PREFIX) -> dict[str, str]:
    """Each id cut to the shortest prefix (≥ `min_len`) that no other id starts with, plus `…`."""
    all_ids = sorted(set(ids))
    out: dict[str, str] = {}
    for i, k in enumerate(all_ids):
        # Sorted: the ids sharing the longest prefix with k are its neighbours.
        common = 0
        for j in (i - 1, i + 1):
            if 0 <= j < len(all_ids):
                other = all_ids[j]
                n = 0
                while n < min(len(k), len(other)) and k[n] == other[n]:
                    n += 1
                common = max(common, n)
        length = max(min_len, common + 1)
        out[k] = k if length >= len(k) else k[:length] + "…"
    return out


def risk_cells(risk: KeyRisk | None, failed: bool = False) -> tuple[Text, Text, Text]:
    """The verdict, the CRITICAL/HIGH flag counts and the leaked/revoked markers of one key."""
    if risk is None:
        word, style = FAILED_CELL if failed else PENDING_CELL
        return Text(word, style=style), Text(""), Text("")
    word, style = verdict_cells().get(risk.verdict) or (f"? {clean(risk.verdict, max_len=20)}", "bold")
    flags = Text()
    if risk.critical:
        flags.append(f"{Severity.CRITICAL.glyph}{risk.critical}", style="bold red")
    if risk.high:
        flags.append((" " if risk.critical else "") + f"{Severity.HIGH.glyph}{risk.high}", style="red")
    if not risk.critical and not risk.high:
        flags.append(f"{risk.flags} flag{'s' if risk.flags != 1 else ''}" if risk.flags else "·", style="dim")
    markers = Text()
    if risk.leaked:
        markers.append("LEAKED", style="bold reverse red")
    if risk.revoked:
        markers.append((" " if risk.leaked else "") + "REVOKED", style="bold")
    return Text(word, style=style), flags, markers


def suggestion_text(
    k: KeySeen,
    local: bool,
    id_width: int,
    short: bool = False,
    risk: KeyRisk | None = None,
    failed: bool = False,
    marker_width: int = 0,
    shown_id: str | None = None,
    count_width: int = 7,
    org: str | None = None,
    org_width: int = 0,
) -> Text:
    """One key: verdict, flags, markers, id, events, last use (with its zone), who used it. `short` drops
    the year, leaving room for the users at 80 columns."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    verdict, flags, markers = risk_cells(risk, failed)
    text.append_text(verdict)
    text.append(" " * (VERDICT_WIDTH - cell_len(verdict.plain) + 1))
    text.append_text(flags)
    text.append(" " * max(1, FLAGS_WIDTH - cell_len(flags.plain)))
    if marker_width:
        text.append_text(markers)
        text.append(" " * (marker_width - cell_len(markers.plain) + 1))
    if org_width:  # several orgs (tui/orgs.py): where the key was seen
        shown_org = clean(org or "", max_len=org_width)
        text.append(shown_org + " " * (org_width - cell_len(shown_org) + 1), style="italic")
    key_id = clean(shown_id if shown_id is not None else k.key_id)
    text.append(key_id + " " * max(0, id_width - cell_len(key_id)), style="bold")
    text.append(f"  {k.events:>{count_width},} event{'s' if k.events != 1 else ' '}")
    # Minutes are enough to tell keys apart.
    last = fmt_ts(k.last_seen, local, seconds=False)
    text.append(f"  last {last[5:] if short else last}", style="dim")
    if k.actors:
        text.append("  " + ", ".join(clean(a, max_len=40) for a in k.actors[:3]))
    return text


def matches(k: KeySeen, needle: str) -> bool:
    n = needle.strip().casefold()
    if not n:
        return True
    return n in k.key_id.casefold() or any(n in a.casefold() for a in k.actors)


class KeySuggestions(ItemList["KeySeen"]):  # (the name only: analysis.keys is imported later)
    """Enter picks the highlighted key (the pane looks it up)."""

    HELP_GROUP: ClassVar[str] = "Keys seen"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Look up", id="key-suggest.pick", tooltip="Look up the highlighted key"),
        *nav_bindings("key-suggest", "key"),
    ]

    DEFAULT_CSS = """
    KeySuggestions {
        height: 1fr;
        border: none;
        padding: 0;
        background: $surface;
        scrollbar-size-vertical: 1;
        &:focus { border: none; }
    }
    """

    class Picked(Message):
        def __init__(self, suggestions: KeySuggestions, key: KeySeen) -> None:
            super().__init__()
            self.suggestions = suggestions
            self.key = key

        @property
        def control(self) -> KeySuggestions:
            return self.suggestions

    class Rebuilt(Message):
        """The rows changed (keys, filter, verdicts): whatever counts them must be updated."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.keys: list[KeySeen] = []
        self.shown: list[KeySeen] = []
        self.risks: dict[str, KeyRisk] = {}
        self.failed: set[str] = set()  # keys whose assessment failed (shown, ranked as not assessed)
        self.skipped: set[str] = set()  # keys left out of the assessment on purpose (beyond its limit)
        self.needle = ""
        self.local_time = False
        self.empty_text = "loading the keys seen in the loaded data…"
        self.org_of: dict[str, str] = {}  # several orgs: key id -> the orgs it was seen in ("prod, eu")

    def set_keys(self, keys: Sequence[KeySeen], empty_text: str | None = None) -> None:
        self.keys = list(keys)
        ids = {k.key_id for k in self.keys}
        self.risks = {k: r for k, r in self.risks.items() if k in ids}
        self.failed &= ids
        self.skipped &= ids
        if empty_text is not None:
            self.empty_text = empty_text
        self._rebuild()

    def set_risks(self, risks: Mapping[str, KeyRisk], failed: Iterable[str] = ()) -> None:
        """Verdicts that arrived (merged with those already known); the list re-ranks."""
        self.risks.update(risks)
        self.failed.update(k for k in failed if k not in self.risks)
        self.failed -= set(risks)
        self.skipped -= set(risks)
        self._rebuild()

    def set_skipped(self, keys: Iterable[str]) -> None:
        """Keys the background assessment will not reach: they say so rather than wait with `…`."""
        self.skipped = {k for k in keys if k not in self.risks}
        self._rebuild()

    def set_filter(self, needle: str) -> None:
        if needle != self.needle:
            self.needle = needle
            self._rebuild()

    def set_local_time(self, local: bool) -> None:
        if local != self.local_time:
            self.local_time = local
            self._rebuild()

    @property
    def pending(self) -> int:
        """Keys still waiting for a verdict (neither assessed, failed nor left out)."""
        done = self.risks.keys() | self.failed | self.skipped
        return sum(1 for k in self.keys if k.key_id not in done)

    def _rebuild(self) -> None:
        current = self.highlighted_key
        # A highlight on the top row stays on the top row: the riskiest key, as verdicts arrive. A key the
        # user moved to stays highlighted wherever it goes.
        at_top = self.highlighted in (None, 0)
        self.shown = []
        if self.keys:  # (before any key: the analysis that ranks them is not imported yet)
            from ddaudit_tui.analysis.key_risk import rank_keys

            self.shown = rank_keys((k for k in self.keys if matches(k, self.needle)), self.risks)
        # One line per key, cut with … (the list would wrap it: the users then look like keys).
        width = max(20, (self.scrollable_content_region.width or 80) - 2)
        short = width < 100
        marker_width = max(
            (cell_len(risk_cells(self.risks.get(k.key_id))[2].plain) for k in self.shown), default=0
        )
        count_width = max((len(f"{k.events:,}") for k in self.shown), default=1)
        full_width = max((cell_len(clean(k.key_id)) for k in self.shown), default=0)
        # verdict, flags, markers, id, "  n events", "  last <time>": then the users.
        fixed = VERDICT_WIDTH + 1 + FLAGS_WIDTH + (marker_width + 1 if marker_width else 0)
        fixed += 2 + count_width + 7 + 7 + (11 if short else 16)
        org_width = min(
            16, max((cell_len(clean(self.org_of.get(k.key_id, ""))) for k in self.shown), default=0)
        )
        fixed += org_width + 1 if org_width else 0
        names = (
            {k.key_id: k.key_id for k in self.keys}
            if width >= fixed + full_width + USERS_ROOM
            else short_ids(k.key_id for k in self.keys)
        )
        id_width = max((cell_len(clean(names[k.key_id])) for k in self.shown), default=0)
        entries: list[tuple[Option, KeySeen | None]] = []
        for i, k in enumerate(self.shown):
            text = suggestion_text(
                k,
                self.local_time,
                id_width,
                short=short,
                risk=self.risks.get(k.key_id),
                failed=k.key_id in self.failed or k.key_id in self.skipped,
                marker_width=marker_width,
                shown_id=names[k.key_id],
                count_width=count_width,
                org=self.org_of.get(k.key_id),
                org_width=org_width,
            )
            text.truncate(width, overflow="ellipsis")
            entries.append((Option(text, id=f"key:{i}"), k))
        if not entries:
            text = (
                self.empty_text
                if not self.keys
                else f"no key seen matches {clean(self.needle, max_len=40)!r}"
            )
            entries = [(Option(Text(text, style="dim italic"), id="none", disabled=True), None)]
        self._show(entries)
        if self.shown:
            index = 0
            if not at_top and current is not None:
                index = next((i for i, k in enumerate(self.shown) if k.key_id == current.key_id), 0)
            self.highlighted = index
        self.post_message(self.Rebuilt())

    @property
    def highlighted_key(self) -> KeySeen | None:
        return self.highlighted_item

    def _chosen(self, item: KeySeen) -> Message:
        return self.Picked(self, item)
