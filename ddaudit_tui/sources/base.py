"""What every source of audit events returns, and the progress it reports.

Sources: the Datadog API client (`datadog.py`), files (`files.py`) and the demo (`demo.py`: the real client
talking to an in-process fake of the Datadog API). The TUI and the CLI only see this interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.completeness import Completeness, derived
from ddaudit_tui.timeutil import Window


@dataclass
class Progress:
    """A snapshot of a fetch in progress (reported through a callback, possibly many times a second)."""

    events: int = 0
    pages: int = 0
    slices_done: int = 0
    slices_total: int = 1
    waiting_s: float = 0.0  # > 0 while backing off (rate limit or retry)
    message: str = ""  # e.g. "rate limited, retrying in 3 s"
    bytes_read: int = 0  # files: how much of the input is read
    bytes_total: int | None = None  # files: the inputs' size, None when unknown (a pipe)
    events_total: int | None = None  # files: the events a read document holds, once it is split


ProgressCallback = Callable[[Progress], None]


@dataclass
class FetchResult:
    """Events of one query over one window, newest first, each id once.

    `complete` is False when something was lost (a slice failed, a page timed out server-side, the
    event cap was hit); `warnings` says what, in one line each. What was fetched is always kept.
    """

    # Not in the repr: a 200k-event repr is ~300 MB of text, and asyncio may ask for it (Python 3.11's
    # `asyncio.run` formats its task, result included, when it restores the SIGINT handler).
    events: list[Event] = field(repr=False)
    window: Window
    query: str = "*"
    complete: bool = True
    warnings: list[str] = field(default_factory=list)
    pages: int = 0
    # Stopped at a page budget its caller set, nothing else lost (`key_engine.page_within`): the newest
    # events by choice. Still `complete=False`; the caller decides whether its answer needed the rest.
    sample: bool = False
    # How complete the answer is (engine, requests, rate-limit headroom, retention…). A result built
    # without one (a test, a cache) gets one derived from the fields above, so it is never missing.
    completeness: Completeness = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.completeness is None:
            self.completeness = derived(len(self.events), self.pages, self.complete, self.warnings)


class Source(Protocol):
    """Anything that can answer an audit search over an absolute window."""

    label: str  # shown in the header: "datadoghq.eu", "demo", "2 files"

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult: ...

    async def exists(self, query: str, window: Window) -> bool:
        """Whether any event matches: a `page.limit: 1` pushdown for baselines ("has the org ever been
        reached from Romania outside this key?") that costs one small request, not a scan."""
        ...

    def default_window(self) -> Window | None:
        """The window to use when the user gave none (files: their whole span), or None."""
        ...

    async def aclose(self) -> None: ...
