"""No key sequence may crash the app (issue 13 item 26): `q` followed in the same burst by keys that open
dialogs (a paste, fast typing) used to exit 1 with `NoMatches` from a dialog composed while quitting."""

from __future__ import annotations

import pytest
from textual import events

KEYS = {"?": "question_mark"}


def burst(app, keys: str) -> None:
    """Keys as a terminal delivers a paste: all queued before the app handles the first."""
    for ch in keys:
        app.post_message(events.Key(KEYS.get(ch, ch), ch))


@pytest.mark.parametrize("after", ["i", "Y", "?", "x", "C"])
async def test_quit_then_a_dialog_key_in_one_burst_does_not_crash(make_app, items, after):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("4")  # Explore: where `i` opens the presets
        await pilot.pause()
        burst(app, f"q{after}{after}")
        await pilot.pause()
        await pilot.pause()
    assert app._exception is None, app._exception
    assert app.return_code in (0, None)
