"""The key picker's background assessment loop, shared by Key lookup (one org) and `tui/orgs.py` (every org).

Each key seen is assessed one at a time (a lookup each: the key's lifecycle events, the API Keys endpoint,
the country checks), in a worker thread with its own loop, so the list stays usable while it fills in.
What assesses one key differs — one org's lookup, or the worst of the lookups in each org where the key
was seen — and is passed in; the loop, its cancellation and its batching of updates are here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the key analysis is imported after the first frame (issue 12): only for the types here
    from ddaudit_tui.analysis.key_risk import KeyRisk
    from ddaudit_tui.analysis.keys import KeySeen

    # assess(key) -> its risk; None (or an exception) when it could not be assessed (the key keeps its row).
    Assess = Callable[[KeySeen], Awaitable[KeyRisk | None]]
    # apply(risks, failed, done), called on the UI thread.
    Apply = Callable[[dict[str, KeyRisk], list[str], bool], None]

UPDATE_EVERY_S = 0.2  # a few updates a second at most: each one re-ranks the list


async def assess_keys(app: Any, worker: Any, keys: Sequence[KeySeen], assess: Assess, apply: Apply) -> None:
    """Assess `keys` in order; `apply` gets the verdicts in batches, the last with `done`. Stops quietly
    when `worker` is cancelled (nothing more is applied)."""
    risks: dict[str, KeyRisk] = {}
    failed: list[str] = []
    sent = time.monotonic()
    for k in keys:
        if worker.is_cancelled:
            return
        try:
            risk = await assess(k)
        except Exception:  # one key that cannot be assessed (an odd id, a failed call) keeps its row
            risk = None
        if worker.is_cancelled:
            return
        if risk is None:
            failed.append(k.key_id)
        else:
            risks[k.key_id] = risk
        if time.monotonic() - sent >= UPDATE_EVERY_S:
            app.call_from_thread(apply, risks, failed, False)
            risks, failed, sent = {}, [], time.monotonic()
    if not worker.is_cancelled:
        app.call_from_thread(apply, risks, failed, True)


async def risk_of(app: Any, source: Any, key_id: str, window: Any, options: Any, now_ms: int) -> KeyRisk:
    """The lookup `key_id` would get in the pane (same analysis and parameters), as its risk: what both
    pickers — one org, several — rank by."""
    from ddaudit_tui.analysis.key_investigation import investigate_key  # after the first frame (issue 12)
    from ddaudit_tui.analysis.key_risk import key_risk

    config = getattr(app, "key_analysis_config", None)
    report = await investigate_key(source, key_id, window, config=config, options=options, now_ms=now_ms)
    return key_risk(report)
