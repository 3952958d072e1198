"""Time ranges and timestamp display.

User input (`90d`, `15m`, `now-2h`, `now`, ISO-8601, epoch milliseconds) is resolved to absolute UTC
instants once per investigation: the API re-evaluates relative times on every page
(`datadog-api.md` §1.7), so a multi-page fetch must never send `now-…`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Clock = Callable[[], float]  # returns epoch seconds; injectable for tests

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_RELATIVE = re.compile(r"^(?:now\s*)?-?\s*(\d+)\s*([a-z]+)$", re.IGNORECASE)
_NOW_MATH = re.compile(r"^now\s*([+-])\s*(\d+)\s*([a-z]+)$", re.IGNORECASE)


class TimeParseError(ValueError):
    """A time the user typed that cannot be understood. The message names the value."""


def parse_duration(text: str) -> int:
    """`15m`, `5 minutes`, `2h` → seconds."""
    m = re.match(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise TimeParseError(f"invalid duration {text!r}: expected e.g. 30s, 15m, 2h, 7d, 1w")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


# The instants ddaudit can show and send (1970-01-01 .. 9999-12-31): beyond them `datetime` fails.
MIN_MS = 0
MAX_MS = 253_402_300_799_999


def parse_instant(text: str | int | float, now: float | None = None) -> int:
    """A point in time → epoch milliseconds UTC.

    Accepts `now`, `now-2h`, `2h` / `90d` (ago), ISO-8601 (zone optional, UTC assumed) and epoch
    milliseconds (or seconds, for numbers below 1e11). Raises TimeParseError outside 1970..9999.
    """
    ms = _parse_instant(text, now)
    if not MIN_MS <= ms <= MAX_MS:
        raise TimeParseError(f"time {str(text).strip()!r} is out of range: expected 1970-01-01 .. 9999-12-31")
    return ms


def parse_bound(flag: str, text: str | int | float, now: float | None = None) -> int:
    """`parse_instant` for a command-line bound: the error names the flag (`--from: time …`)."""
    try:
        return parse_instant(text, now)
    except TimeParseError as exc:
        raise TimeParseError(f"{flag}: {exc}") from None


def _parse_instant(text: str | int | float, now: float | None = None) -> int:
    now = time.time() if now is None else now
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text if text >= 1e11 else text * 1000)
    s = str(text).strip()
    if not s:
        raise TimeParseError("empty time: expected e.g. now, 90d, now-2h, 2026-07-31T19:23:18Z or epoch ms")
    if s.lower() == "now":
        return int(now * 1000)
    if s.isdigit():
        n = int(s)
        return n if n >= 1e11 else n * 1000
    m = _NOW_MATH.match(s)
    if m and m.group(3).lower() in _UNITS:
        delta = int(m.group(2)) * _UNITS[m.group(3).lower()]
        return int((now + (delta if m.group(1) == "+" else -delta)) * 1000)
    m = _RELATIVE.match(s)
    if m and m.group(2).lower() in _UNITS:
        return int((now - int(m.group(1)) * _UNITS[m.group(2).lower()]) * 1000)
    try:
        dt = datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        raise TimeParseError(
            f"invalid time {s!r}: expected now, 90d, now-2h, an ISO-8601 time or epoch milliseconds"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return int(dt.timestamp() * 1000)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 has no timestamp
        return MIN_MS - 1


@dataclass(frozen=True)
class Window:
    """An absolute half-open time window [start, end) in epoch milliseconds UTC."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise TimeParseError(
                f"the window ends ({iso(self.end)}) before it starts ({iso(self.start)}): check --from/--to"
            )

    @property
    def duration_ms(self) -> int:
        return self.end - self.start

    def contains(self, ts: int) -> bool:
        return self.start <= ts < self.end

    def split(self, parts: int) -> list[Window]:
        """Contiguous, non-overlapping slices covering the window exactly."""
        parts = max(1, min(parts, max(1, self.duration_ms)))
        step = self.duration_ms / parts
        edges = [self.start + round(step * i) for i in range(parts)] + [self.end]
        return [Window(edges[i], edges[i + 1]) for i in range(parts) if edges[i + 1] > edges[i]] or [self]

    def api_from(self) -> str:
        return iso(self.start)

    def api_to(self) -> str:
        return iso(self.end)

    def describe(self, local: bool = False) -> str:
        return f"{fmt_ts(self.start, local)} → {fmt_ts(self.end, local)}"


def resolve_window(frm: str | int, to: str | int = "now", now: float | None = None) -> Window:
    """Resolve `--from`/`--to` once, from a single clock reading."""
    now = time.time() if now is None else now
    return Window(parse_bound("--from", frm, now), parse_bound("--to", to, now))


def iso(ms: int) -> str:
    """Epoch ms → `2026-07-31T19:23:18.758Z` (the API's own format)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def fmt_ts(ms: int | None, local: bool = False, seconds: bool = True) -> str:
    """Display form with the zone always shown: `2026-07-31 19:23:18Z` or `2026-07-31 21:23:18+02:00`."""
    if ms is None:
        return ""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    if not local:
        return dt.strftime(fmt) + "Z"
    dt = dt.astimezone()
    off = dt.strftime("%z")
    return dt.strftime(fmt) + (f"{off[:3]}:{off[3:]}" if off else "")


def zone_label(local: bool) -> str:
    if not local:
        return "UTC"
    name = datetime.now().astimezone().tzname() or "local"
    return f"local ({name})"


def human_duration(ms: int) -> str:
    td = timedelta(milliseconds=ms)
    days, rem = td.days, td.seconds
    if days:
        return f"{days}d{rem // 3600}h" if rem // 3600 else f"{days}d"
    if rem >= 3600:
        return f"{rem // 3600}h{(rem % 3600) // 60:02d}m"
    if rem >= 60:
        return f"{rem // 60}m"
    return f"{rem}s"
