"""The footer never cuts a key's description: what does not fit is dropped whole (it is in `?` help and
the palette), never shown as `z UTC/loca` (80×24, Key lookup's picker)."""

from __future__ import annotations

import pytest
from test_key_pane import COMPROMISED, key_app, look_up, open_pane
from textual.widgets._footer import FooterKey
from tui_helpers import settle

from ddaudit_tui.tui.screens.base import PaneFooter


def cut_keys(app) -> list[str]:  # type: ignore[no-untyped-def]
    footer = app.screen.query_one(PaneFooter)
    palette = [k for k in footer.query(FooterKey) if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else footer.region.right
    return [
        f"{k.key_display} {k.description}"
        for k in footer.query(FooterKey)
        if k.display and not k.has_class("-command-palette") and k.region.width and k.region.right > right
    ]


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (120, 35)], ids=["80x24", "60x20", "120x35"])
async def test_no_footer_key_is_cut_in_key_lookup(size):
    app = key_app()
    async with app.run_test(size=size) as pilot:
        await open_pane(pilot)
        assert cut_keys(app) == []
        shown = [k.description for k in app.screen.query(FooterKey) if k.display]
        assert "Help" in shown and "Quit" in shown  # the way to help and out is never dropped
        await look_up(pilot, COMPROMISED)
        await settle(pilot)
        assert cut_keys(app) == []


async def test_keys_dropped_at_80_come_back_when_the_terminal_grows():
    app = key_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        narrow = [k.description for k in app.screen.query(FooterKey) if k.display]
        await pilot.resize_terminal(160, 24)
        await settle(pilot)
        wide = [k.description for k in app.screen.query(FooterKey) if k.display]
        assert set(narrow) < set(wide)
        assert cut_keys(app) == []
