"""`ddaudit watch --status`: one short line from the watch state, for a tmux status bar.

    ddaudit ● 2 HIGH eve@example.com · 06:14Z     two open alerts, the worst HIGH, its actor, last poll
    ddaudit ○ 1 HIGH eve@example.com · 06:14Z     none open, one closed within --recent (1h)
    ddaudit ✓ quiet · 06:14Z                      nothing open
    ddaudit ! stale 14m · ● 1 HIGH               the last successful poll is older than --stale-after
    ddaudit ? no watch state                      no `ddaudit watch` has run with this state directory

It never touches the API and takes no lock: it reads the SQLite state a cron/systemd `ddaudit watch` (or
the TUI's Spike watch, when it pages) writes, every scope in it. It is run every few seconds by tmux
(`status-interval`), so it imports only the standard library and platformdirs — not the CLI, pydantic or
the analyses (`ddaudit_tui.entry` sends `watch --status` here before anything else is imported).

Actor names are attacker-controlled: control characters are removed, and in `--tmux` output every `#` is
doubled, so a name cannot open a `#[…]` style or a `#(…)` command in the status bar.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ddaudit_tui.alerts.state_location import DB_NAME, default_state_dir

DEFAULT_STALE_MS = 15 * 60_000
DEFAULT_RECENT_MS = 60 * 60_000  # a burst that closed within the hour still shows (○): someone must look
_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
_GLYPH_TMUX = {
    "critical": "#[fg=white,bg=red,bold]",
    "high": "#[fg=red,bold]",
    "medium": "#[fg=yellow,bold]",
    "low": "#[fg=cyan]",
    "info": "#[default]",
}
ACTOR_MAX = 24

USAGE = (
    "usage: ddaudit watch --status [--tmux] [--state-dir DIR] [--stale-after 15m] [--recent 1h]\n"
    "  one line from the watch state (no API call): open alerts, last poll, stale warning"
)


@dataclass(frozen=True)
class OpenAlert:
    severity: str
    rule: str
    actor: str
    count: int
    opened_at: int
    closed_at: int | None = None  # event time; None while open


@dataclass(frozen=True)
class WatchStatus:
    found: bool  # a state database exists
    last_polled: int | None  # newest successful poll over every scope (epoch ms)
    alerts: tuple[OpenAlert, ...]  # open and closed alerts, worst first


def state_dir() -> Path:
    return default_state_dir()


def read_status(directory: Path) -> WatchStatus:
    path = directory / DB_NAME
    if not path.is_file():
        return WatchStatus(False, None, ())
    # Read-only: never create, lock or migrate a watcher's database.
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
    try:
        polled = [_int(v) for (v,) in db.execute("SELECT value FROM meta WHERE key = 'last_polled'")]
        rows = db.execute("SELECT data FROM alerts").fetchall()
    except sqlite3.Error:
        return WatchStatus(True, None, ())
    finally:
        db.close()
    alerts = [a for (data,) in rows if (a := _alert(data)) is not None]
    alerts.sort(key=lambda a: (-_RANK.get(a.severity, 0), -a.count, -a.opened_at))
    known = [p for p in polled if p is not None]
    return WatchStatus(True, max(known) if known else None, tuple(alerts))


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None  # a corrupt value: `ddaudit watch` names it; a status bar just shows no time


def _alert(data: str) -> OpenAlert | None:
    try:
        obj = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    severity = str(obj.get("severity") or "info").lower()
    return OpenAlert(
        severity=severity if severity in _RANK else "info",
        rule=str(obj.get("rule") or ""),
        actor=str(obj.get("group") or ""),
        count=_int(obj.get("count")) or 0,
        opened_at=_int(obj.get("opened_at")) or 0,
        closed_at=_int(obj.get("closed_at")),
    )


def safe(text: str, limit: int, tmux: bool) -> str:
    """Printable, at most `limit` characters (cut text ends in `…`), `#` doubled for tmux."""
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ")
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("#", "##") if tmux else text


def _ago(ms: int) -> str:
    minutes = ms // 60_000
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"


def format_status(
    status: WatchStatus,
    now_ms: int,
    *,
    tmux: bool = False,
    stale_ms: int = DEFAULT_STALE_MS,
    recent_ms: int = DEFAULT_RECENT_MS,
) -> str:
    def style(name: str, text: str) -> str:
        return f"{_GLYPH_TMUX[name]}{text}#[default]" if tmux else text

    if not status.found:
        return "ddaudit ? no watch state"
    parts: list[str] = []
    if status.last_polled is None or now_ms - status.last_polled > stale_ms:
        age = "never polled" if status.last_polled is None else f"stale {_ago(now_ms - status.last_polled)}"
        parts.append(style("medium", f"! {age}"))
    live = [a for a in status.alerts if a.closed_at is None]
    recent = [a for a in status.alerts if a.closed_at is not None and now_ms - a.closed_at <= recent_ms]
    shown, glyph = (live, "●") if live else (recent, "○")
    if shown:
        worst = shown[0]
        actor = safe(worst.actor, ACTOR_MAX, tmux)
        parts.append(
            style(worst.severity, f"{glyph} {len(shown)} {worst.severity.upper()}")
            + (f" {actor}" if actor else "")
        )
    elif not parts:
        parts.append("#[fg=green]✓ quiet#[default]" if tmux else "✓ quiet")
    if status.last_polled is not None:
        parts.append(time.strftime("%H:%MZ", time.gmtime(status.last_polled / 1000)))
    return "ddaudit " + " · ".join(parts)


def parse_duration_ms(text: str, flag: str = "--stale-after") -> int:
    units = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"{flag} {text!r}: expected e.g. 10m, 1h")
    return int(text[:-1]) * units[text[-1]]


def main(argv: list[str], now_ms: int | None = None) -> int:
    """`argv`: what follows `ddaudit watch`. Exit 0 with the line; 2 with one line for a usage mistake."""
    tmux = False
    directory: Path | None = None
    stale_ms = DEFAULT_STALE_MS
    recent_ms = DEFAULT_RECENT_MS
    args = iter(argv)
    try:
        for arg in args:
            if arg == "--status":
                continue
            if arg == "--tmux":
                tmux = True
            elif arg.partition("=")[0] in ("--state-dir", "--stale-after", "--recent"):
                name, _, value = arg.partition("=")
                value = value or next(args, "")
                if not value:
                    raise ValueError(f"{name} needs a value")
                if name == "--state-dir":
                    directory = Path(value).expanduser()
                elif name == "--recent":
                    recent_ms = parse_duration_ms(value, name)
                else:
                    stale_ms = parse_duration_ms(value, name)
            elif arg in ("-h", "--help"):
                print(USAGE)
                return 0
            else:
                raise ValueError(f"{arg}: not an option of watch --status")
    except ValueError as exc:
        print(f"ddaudit: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    status = read_status(directory or state_dir())
    now = int(time.time() * 1000) if now_ms is None else now_ms
    print(format_status(status, now, tmux=tmux, stale_ms=stale_ms, recent_ms=recent_ms))
    return 0
