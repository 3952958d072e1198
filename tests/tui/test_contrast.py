"""`screen_audit.contrast_ratio`: the WCAG 2.x contrast ratio the screen audit judges labels by."""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.style import Style
from screen_audit import contrast_ratio, drawn_colours, relative_luminance
from textual.color import Color


def test_black_on_white_is_21_and_order_does_not_matter():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)


@pytest.mark.parametrize("colour", ["#000000", "#ffffff", "#f4005f", "#0178d4", "#777777"])
def test_a_colour_on_itself_is_1(colour: str):
    assert contrast_ratio(colour, colour) == pytest.approx(1.0)


def test_known_values():
    # WCAG's own examples: #777 on white is just under AA (4.48), #767676 just over (4.54).
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000000") == 0.0


def test_rich_and_textual_colours_are_accepted():
    assert contrast_ratio(RichColor.parse("#000000"), Color(255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio(RichColor.parse("bright_white"), RichColor.parse("black")) > 20  # standard colours


def test_drawn_colours_resolve_defaults_reverse_and_dim():
    fg, bg = (200, 200, 200), (0, 0, 0)
    assert drawn_colours(None, fg, bg) == (fg, bg)
    assert drawn_colours(Style(color="#ff0000"), fg, bg) == ((255, 0, 0), bg)
    assert drawn_colours(Style(color="#ff0000", bgcolor="#0000ff", reverse=True), fg, bg) == (
        (0, 0, 255),
        (255, 0, 0),
    )
    # dim: half way to the background, as Textual's DimFilter draws it.
    assert drawn_colours(Style(color="#ffffff", bgcolor="#000000", dim=True), fg, bg) == (
        (128, 128, 128),
        (0, 0, 0),
    )
