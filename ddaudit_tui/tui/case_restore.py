"""Reopening a case (`ddaudit --case NAME`): each pane comes back as the responder left it, whatever pane
the app starts on (issue 15). The app calls `restore_pane` when it makes a pane's screen — the start
pane at once, the others on their first visit — with the case's last work for that pane
(`Case.last_work`, done in the TUI or headless with `--case`):

- Explore: the last search (the app's `initial_query`, set from the case when no query was given) with
  its preset and, when the search had a window of its own (a preset's), that window;
- Key lookup: the last key looked up (unless the app was started on another key, or a pivot or the
  Case view asked for one first: `forget`);
- AI activity: the drill-down on the user of the last analysis, when it had one (`ddaudit ai --user U
  --case …`; the pane has no other filter: its window follows the app's).

The marks need nothing here: the tables ask the case when they draw.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ddaudit_tui.timeutil import Window

AI_RESTORE_GROUP = "case-restore-ai"


def forget(app: Any, mode: str) -> None:
    """The pane is about to show something asked for now (a pivot's key, the Case view's jump): the
    case's last work must not run over it when the pane is first made."""
    session = getattr(app, "case", None)
    if session is not None:
        session.restored.pop(mode, None)


def restore_pane(app: Any, mode: str, screen: Any) -> None:
    """Give a newly made pane screen its last work from the case (before it is mounted)."""
    session = getattr(app, "case", None)
    entry = session.restored.pop(mode, None) if session is not None else None
    if entry is None:
        return
    if mode == "explore":
        # Only the search the app starts Explore on (the restored one, unless a query was given).
        if (entry.query or "*") != (getattr(app, "initial_query", None) or "*"):
            return
        screen.preset = entry.extra.get("preset")
        if entry.extra.get("pane_window") and entry.window is not None:
            window = Window(*entry.window)
            if window != app.window:
                screen.window = window  # Explore's own window; its header shows it (on mount)
    elif mode == "lookup":
        if entry.key_id and getattr(app, "start_key", None) is None:
            screen.lookup(entry.key_id)  # before mount: looked up once the pane is mounted
    elif mode == "ai":
        user = entry.extra.get("user")
        if isinstance(user, str) and user:
            app.run_worker(
                _drill_down_when_analysed(app, screen, user),
                group=AI_RESTORE_GROUP,
                exit_on_error=False,
                description="Restoring the AI drill-down",
            )


async def _drill_down_when_analysed(app: Any, screen: Any, user: str) -> None:
    """The AI pane's drill-down on `user` once its analysis is in — if the responder has not moved on
    (another screen opened over the pane) meanwhile."""
    from ddaudit_tui.tui.screens.ai import LOAD_GROUP

    while screen.result is None:
        loads = [w for w in app.workers if w.node is screen and w.group == LOAD_GROUP and not w.is_finished]
        if loads:
            with contextlib.suppress(Exception):  # the pane reports its own failure
                await loads[0].wait()
        elif screen.is_mounted:
            return  # the analysis failed or was cancelled: nothing to drill into
        else:
            await asyncio.sleep(0.02)  # not mounted yet: its analysis starts on mount
    stack = app._screen_stacks.get("ai") or []
    if stack and stack[-1] is screen:
        screen.drill_down(user)
