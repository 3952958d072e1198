"""Chart buckets: the size comes from the window, the width only coarsens it (and says so)."""

from __future__ import annotations

import ast
import pathlib

import pytest

from ddaudit_tui.analysis import buckets as b
from ddaudit_tui.analysis.buckets import (
    DAY_MS,
    HOUR_MS,
    LADDER_MS,
    MINUTE_MS,
    axis_line,
    bucket_count,
    bucketize,
    fit_window,
    plan,
    preferred_size,
    size_label,
)
from ddaudit_tui.timeutil import Window, parse_instant

T0 = parse_instant("2026-07-01T00:00:00Z")
NOW = parse_instant("2026-12-07T12:46:21Z")


def test_the_ladder_is_the_documented_one():
    assert [size_label(s) for s in LADDER_MS] == [
        "1 min", "5 min", "15 min", "30 min", "1 h", "3 h", "6 h", "12 h", "1 d", "7 d",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (15 * MINUTE_MS, MINUTE_MS),
        (60 * MINUTE_MS, MINUTE_MS),
        (24 * HOUR_MS, 15 * MINUTE_MS),
        (3 * DAY_MS, HOUR_MS),
        (7 * DAY_MS, 3 * HOUR_MS),
        (90 * DAY_MS, DAY_MS),
        (400 * DAY_MS, 7 * DAY_MS),
    ],
)
def test_preferred_size_follows_the_window(span: int, expected: int):
    assert preferred_size(Window(NOW - span, NOW)) == expected


@pytest.mark.parametrize("columns", [100, 120, 183, 200, 400])
def test_the_width_does_not_change_the_size_when_it_fits(columns: int):
    p = plan(Window(NOW - 90 * DAY_MS, NOW), columns)
    assert p.size_ms == DAY_MS and not p.coarsened
    assert "coarsened" not in p.size_text


def test_a_narrow_width_coarsens_to_the_next_rung_that_fits_and_says_so():
    w = Window(NOW - 24 * HOUR_MS, NOW)  # 15 min preferred: 97 buckets
    p = plan(w, 60)
    assert p.preferred_ms == 15 * MINUTE_MS
    assert p.size_ms == 30 * MINUTE_MS  # 49 buckets fit 60 columns
    assert p.coarsened
    assert p.size_text == "30 min buckets (coarsened from 15 min to fit)"
    p = plan(w, 20)
    assert p.size_ms == 3 * HOUR_MS and p.count <= 20
    assert p.size_text == "3 h buckets (coarsened from 15 min to fit)"


def test_a_requested_size_is_kept_when_it_fits_and_coarsened_when_not():
    w = Window(T0, T0 + 3 * DAY_MS)
    assert plan(w, 100, size_ms=HOUR_MS).size_ms == HOUR_MS
    p = plan(w, 40, size_ms=HOUR_MS)
    assert p.size_ms == 3 * HOUR_MS and p.size_text == "3 h buckets (coarsened from 1 h to fit)"


def test_edges_are_aligned_and_every_bucket_has_the_same_columns():
    w = Window(T0 + 10 * MINUTE_MS + 5, T0 + 5 * HOUR_MS + 1)
    p = plan(w, 50, size_ms=HOUR_MS)
    assert p.edges == tuple(T0 + i * HOUR_MS for i in range(7))
    assert p.count == 6 and p.columns_per_bucket == 8 and p.drawn_width == 48
    cols = p.spread([1, 2, 3, 4, 5, 6])
    assert [cols.count(v) for v in range(1, 7)] == [8] * 6
    assert [p.column_bucket(x) for x in (0, 7, 8, 47, 48)] == [0, 0, 1, 5, None]


def test_bucketize_counts_inside_the_window_only_and_labels_start_end_size():
    w = Window(T0, T0 + HOUR_MS)
    got = bucketize([T0 - 1, T0, T0 + 59_999, T0 + 60_000, T0 + HOUR_MS], w, 120)
    assert got.size_ms == MINUTE_MS and len(got.counts) == 60
    assert got.counts[:2] == (2, 1) and got.total == 3 and got.peak == 2
    assert got.edges[0] == T0 and got.edges[-1] == T0 + HOUR_MS
    assert got.label(False) == "2026-07-01 00:00Z → 2026-07-01 01:00Z (UTC) · 1 min buckets"


def test_axis_line_states_start_end_and_size_within_the_width():
    w = Window(NOW - 90 * DAY_MS, NOW)
    p = plan(w, 120)
    line = axis_line(p, local=False, width=120)
    assert len(line) == 120
    assert line.startswith("2026-09-08 12:46Z") and line.endswith("2026-12-07 12:46Z")
    assert "1 d buckets" in line and "UTC" in line
    small = axis_line(plan(w, 40), local=False, width=40)
    assert len(small) <= 40 and "7 d" in small and "coarsened" in small


def test_local_time_axis_shows_the_offset():
    w = Window(NOW - HOUR_MS, NOW)
    line = axis_line(plan(w, 100), local=True, width=100)
    assert "Z" not in line.replace("buckets", "")  # times carry their offset, not Z


def test_buckets_module_never_imports_textual():
    tree = ast.parse(pathlib.Path(b.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any(m.startswith("textual") for m in names)


def test_fit_window_zooms_around_the_focus_to_keep_the_size():
    w = Window(T0, T0 + 4 * DAY_MS)  # 96 hours
    focus = Window(T0 + 50 * HOUR_MS, T0 + 52 * HOUR_MS)
    assert fit_window(w, focus, 120, HOUR_MS) == w  # fits: unchanged
    got = fit_window(w, focus, 40, HOUR_MS)
    assert bucket_count(got, HOUR_MS) <= 40
    assert got.start <= focus.start and focus.end <= got.end
    wide = Window(T0, T0 + 60 * HOUR_MS)
    assert fit_window(w, wide, 40, HOUR_MS) == w  # the focus would not fit: left to coarsening
