"""Explore analysis: facets, histogram buckets and query pivots, on fixed events (exact values)."""

from __future__ import annotations

import ast
import pathlib

import pytest

from ddaudit_tui.analysis import explore
from ddaudit_tui.analysis.explore import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    FacetValue,
    add_term,
    bucket_label,
    choose_bucket,
    facet_term,
    facets,
    histogram,
    quote_value,
    wildcard_value,
)
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window, parse_instant

T0 = parse_instant("2026-07-01T00:00:00Z")


def ev(i: int, ts: int = T0, **fields) -> Event:
    return Event(id=f"e{i}", ts=ts, raw=b"{}", **fields)


EVENTS = [
    ev(1, evt_name="Request", action="accessed", usr_email="a@x.com", country="France", asn_name="OVH"),
    ev(2, evt_name="Request", action="accessed", usr_email="a@x.com", country="France", asn_name="OVH"),
    ev(3, evt_name="Request", action="accessed", usr_email="b@x.com", country="Germany", asn_name="Hetzner"),
    ev(4, evt_name="Authentication", action="login", usr_name="Carol", country="Germany"),
    ev(5, evt_name="Monitor", action="deleted", usr_id="svc-1"),
    ev(6, action="update_config", delegator_name="Dave"),  # quirk 3: no evt.name
    ev(7, evt_name="Monitor", action="deleted", usr_email="b@x.com", country="", asn_name="OVH"),
]


def test_facets_exact():
    got = {f.key: f for f in facets(EVENTS)}
    assert list(got) == ["evt.name", "action", "user", "country", "asn"]
    assert got["evt.name"].title == "Event"
    assert got["evt.name"].values == (
        FacetValue("@evt.name", "Request", 3),
        FacetValue("@evt.name", "Monitor", 2),
        FacetValue("@evt.name", "Authentication", 1),
        FacetValue("@evt.name", None, 1),  # missing sorts after values with the same count
    )
    assert got["evt.name"].distinct == 4 and got["evt.name"].total == 7
    assert got["action"].values == (
        FacetValue("@action", "accessed", 3),
        FacetValue("@action", "deleted", 2),
        FacetValue("@action", "login", 1),
        FacetValue("@action", "update_config", 1),
    )
    # The user facet keeps the field each name came from, so the pivot query matches the same events.
    assert got["user"].values == (
        FacetValue("@usr.email", "a@x.com", 2),
        FacetValue("@usr.email", "b@x.com", 2),
        FacetValue("@delegator.name", "Dave", 1),
        FacetValue("@usr.id", "svc-1", 1),
        FacetValue("@usr.name", "Carol", 1),
    )
    # An empty string is a value of its own (`@f:""`), not a missing field.
    assert got["country"].values == (
        FacetValue("@network.client.geoip.country.name", "France", 2),
        FacetValue("@network.client.geoip.country.name", "Germany", 2),
        FacetValue("@network.client.geoip.country.name", None, 2),
        FacetValue("@network.client.geoip.country.name", "", 1),
    )
    assert got["asn"].values == (
        FacetValue("@network.client.geoip.as.name", "OVH", 3),
        FacetValue("@network.client.geoip.as.name", None, 3),
        FacetValue("@network.client.geoip.as.name", "Hetzner", 1),
    )


def test_facets_top_and_empty():
    got = facets(EVENTS, top=1)
    assert [len(f.values) for f in got] == [1, 1, 1, 1, 1]
    assert got[3].distinct == 4
    assert got[0].distinct == 4  # distinct counts all values, not just the top ones
    assert [f.values for f in facets([])] == [(), (), (), (), ()]
    assert facets(iter(EVENTS))[0].total == 7  # any iterable


def test_facet_values_pivot_to_queries_matching_the_same_events():
    for facet in facets(EVENTS):
        for fv in facet.values:
            q = parse_query(facet_term(fv.field, fv.value))
            assert len(q.filter(EVENTS)) == fv.count, (facet.key, fv)
            excluded = parse_query(facet_term(fv.field, fv.value, exclude=True))
            assert len(excluded.filter(EVENTS)) == len(EVENTS) - fv.count, (facet.key, fv)


@pytest.mark.parametrize(
    ("duration_ms", "max_buckets", "expected"),
    [
        (HOUR_MS, 120, MINUTE_MS),
        (2 * HOUR_MS, 120, MINUTE_MS),
        (2 * HOUR_MS + 1, 120, 5 * MINUTE_MS),
        (3 * DAY_MS, 120, HOUR_MS),
        (3 * DAY_MS, 60, 3 * HOUR_MS),
        (15 * MINUTE_MS, 120, MINUTE_MS),
        (90 * DAY_MS, 120, DAY_MS),
        (90 * DAY_MS, 80, 7 * DAY_MS),
        (5 * 365 * DAY_MS, 10, 30 * DAY_MS),  # never coarser than the largest size
        (0, 120, MINUTE_MS),
    ],
)
def test_choose_bucket(duration_ms, max_buckets, expected):
    assert choose_bucket(Window(T0, T0 + duration_ms), max_buckets) == expected


def test_bucket_label():
    assert [
        bucket_label(s) for s in (MINUTE_MS, 5 * MINUTE_MS, HOUR_MS, 3 * HOUR_MS, DAY_MS, 7 * DAY_MS)
    ] == [
        "1m",
        "5m",
        "1h",
        "3h",
        "1d",
        "7d",
    ]
    assert bucket_label(90 * MINUTE_MS) == "90m" and bucket_label(1500) == "1500ms"


def test_histogram_minutes_zero_filled_and_windowed():
    window = Window(T0 + 30_000, T0 + 5 * MINUTE_MS)  # starts mid-minute: the first bucket is aligned
    events = [
        ev(1, T0 + 30_000),
        ev(2, T0 + 59_999),
        ev(3, T0 + 3 * MINUTE_MS),
        ev(4, T0 + 3 * MINUTE_MS + 1),
        ev(5, T0 + 3 * MINUTE_MS + 59_000),
        ev(6, T0 + 29_999),  # before the window
        ev(7, T0 + 5 * MINUTE_MS),  # the end is exclusive
    ]
    h = histogram(events, window)
    assert h.bucket_ms == MINUTE_MS and h.bucket_label == "1m"
    assert h.start == T0 and h.end == T0 + 5 * MINUTE_MS
    assert h.counts == (2, 0, 0, 3, 0)
    assert (h.max, h.total) == (3, 5)
    assert h.bucket_start(3) == T0 + 3 * MINUTE_MS


def test_histogram_hours_and_days():
    window = Window(T0, T0 + 3 * DAY_MS)
    events = [ev(i, T0 + i * 7 * HOUR_MS) for i in range(11)]  # 0h, 7h, … 70h
    h = histogram(events, window)
    assert h.bucket_ms == HOUR_MS and len(h.counts) == 72
    assert [i for i, n in enumerate(h.counts) if n] == [0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70]
    d = histogram(events, window, bucket_ms=DAY_MS)
    assert d.counts == (4, 3, 4)
    window90 = Window(T0 + 5 * HOUR_MS, T0 + 90 * DAY_MS)
    h90 = histogram([ev(1, T0 + 5 * HOUR_MS), ev(2, T0 + 89 * DAY_MS + 1)], window90)
    assert h90.bucket_ms == DAY_MS and h90.start == T0  # aligned to UTC midnight
    assert len(h90.counts) == 90 and h90.counts[0] == 1 and h90.counts[89] == 1 and h90.total == 2


def test_histogram_empty():
    h = histogram([], Window(T0, T0 + HOUR_MS))
    assert h.counts == (0,) * 60 and h.max == 0 and h.total == 0


def test_quote_and_terms():
    assert quote_value('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
    assert facet_term("@evt.name", "Access Management") == '@evt.name:"Access Management"'
    assert facet_term("@action", "deleted", exclude=True) == '-@action:"deleted"'
    assert facet_term("@evt.name", None) == "-@evt.name:*"
    assert facet_term("@evt.name", None, exclude=True) == "@evt.name:*"
    # Control and bidi characters never go into the (displayed) query: a `?` wildcard stands in.
    assert wildcard_value("a\x1b[2J b\u202e") == "a?\\[2J\\ b?"
    assert facet_term("@asset.name", "x\x1by") == "@asset.name:x?y"


def test_wildcard_terms_match_the_hostile_value():
    value = 'evil\u202e"[/]\x1b]52;c;AAAA\x07 name'
    events = [ev(1, asset_name=value), ev(2, asset_name="evil other"), ev(3)]
    term = facet_term("@asset.name", value)
    assert term.isprintable()
    assert [e.id for e in parse_query(term).filter(events)] == ["e1"]
    assert [e.id for e in parse_query(facet_term("@asset.name", value, exclude=True)).filter(events)] == [
        "e2",
        "e3",
    ]


@pytest.mark.parametrize(
    ("query", "term", "expected"),
    [
        ("*", '@a:"x"', '@a:"x"'),
        ("", '@a:"x"', '@a:"x"'),
        ("  ", '@a:"x"', '@a:"x"'),
        ("@b:y", '@a:"x"', '@b:y @a:"x"'),
        ('@b:y @a:"x"', '@a:"x"', '@b:y @a:"x"'),  # already there
        ('@a:"x y"', '@a:"x y"', '@a:"x y"'),
        ("@b:y OR @c:z", "-@a:x", "(@b:y OR @c:z) -@a:x"),
    ],
)
def test_add_term(query, term, expected):
    assert add_term(query, term) == expected
    parse_query(add_term(query, term))


def test_or_queries_are_narrowed_as_a_whole():
    events = [
        ev(1, action="a", evt_name="X"),
        ev(2, action="b", evt_name="Y"),
        ev(3, action="c", evt_name="X"),
    ]
    q = add_term("@action:a OR @action:b", facet_term("@evt.name", "X"))
    assert [e.id for e in parse_query(q).filter(events)] == ["e1"]


def test_analysis_never_imports_textual():
    root = pathlib.Path(explore.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n == "textual" or n.startswith("textual.") for n in names), path
