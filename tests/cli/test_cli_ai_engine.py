"""`ddaudit ai --engine` (issue 16): the flag reaches the investigation, the report's completeness record says
which engine answered, and the demo's summary and flags are those of paging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddaudit_tui import cli
from ddaudit_tui.demo import org
from ddaudit_tui.timeutil import iso, parse_instant

# The demo org ends at the wall clock's minute: which AI events fall in the last 7 days (and so which
# people flag) changes with the hour. Pinned, so the test sees the same org on every run.
END_MS = parse_instant("2026-12-07T19:00:00Z")
WINDOW = ["--from", iso(END_MS - 7 * 86_400_000), "--to", iso(END_MS)]


@pytest.fixture(autouse=True)
def pinned_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org, "_now_minute_ms", lambda: END_MS)


def report(tmp_path: Path, *argv: str) -> dict:
    out = tmp_path / f"ai-{len(list(tmp_path.iterdir()))}.json"
    assert cli.main(["ai", "--demo", "-f", "json", "-o", str(out), *WINDOW, *argv]) == cli.EXIT_OK
    return json.loads(out.read_text())


def test_engine_ddsql_on_the_demo_says_so_and_equals_paging(tmp_path: Path) -> None:
    aggregated = report(tmp_path, "--engine", "ddsql")
    searched = report(tmp_path, "--engine", "search")
    assert aggregated["completeness"]["engine"] == "search+ddsql"
    assert searched["completeness"]["engine"] == "search"
    assert aggregated["completeness"]["events_matched"] == searched["counts"]["ai_events"]
    # Distinct events: the engine's searches overlap, but it never reports more fetched than matched.
    assert aggregated["completeness"]["events_fetched"] <= aggregated["completeness"]["events_matched"]
    assert aggregated["completeness"]["events_fetched"] < searched["completeness"]["events_fetched"]
    for key in ("total_tool_calls", "unique_users", "top_users", "actions_breakdown", "resource_types"):
        assert aggregated[key] == searched[key]
    assert aggregated["counts"] == searched["counts"]
    assert [(f["signal"], f["subject"]) for f in aggregated["flags"]] == [
        (f["signal"], f["subject"]) for f in searched["flags"]
    ]


def test_auto_is_the_default_and_max_pages_is_checked(tmp_path: Path, capsys) -> None:
    args = cli.build_parser("ai").parse_args(["ai", "--demo"])
    assert args.engine == "auto" and args.max_pages is None
    assert cli.main(["ai", "--demo", "--max-pages", "0"]) == cli.EXIT_USAGE
    assert "--max-pages 0" in capsys.readouterr().err
    # The demo's AI events fit one page: auto pages (after one count).
    assert report(tmp_path)["completeness"]["engine"] == "search"


def test_events_fetched_are_distinct_never_more_than_matched(tmp_path: Path, monkeypatch) -> None:
    """At this hour the demo's first pass flags many people: their evidence searches overlap the other
    searches, and summing them said "310 events fetched of 185 matched"."""
    end = parse_instant("2026-12-07T20:20:00Z")
    monkeypatch.setattr(org, "_now_minute_ms", lambda: end)
    out = tmp_path / "ai.json"
    window = ["--from", iso(end - 7 * 86_400_000), "--to", iso(end)]
    assert (
        cli.main(["ai", "--demo", "-f", "json", "-o", str(out), *window, "--engine", "ddsql"]) == cli.EXIT_OK
    )
    c = json.loads(out.read_text())["completeness"]
    assert 0 < c["events_fetched"] <= c["events_matched"], c


# -- what an answer costs (issue 16: cost grows with groups and findings, not with events) --------------
# At END the demo's window holds 185 AI events of 7 people and 3 clients; the search pages them in 7
# day slices (12 requests: each non-empty slice ends on the API's empty terminal page). Asked one question
# per person, the 30-day baseline cost 84 more requests (a paged 30-day fetch of each person's own events
# for their scope: 74) and the aggregate engine 33 more (one 7-day fetch per flagged person or client).
# Batched, the bounds below are: `auto` — the count (2: DDSQL's execute and fetch), the paging (12), one
# "any data?" check (1) and two baseline GROUP BYs (4): 19; `search` — the paging (12), the check (1), one
# existence check per person and client (10) and one 30-day fetch of every scope at once (8 slices, ≤ 16):
# ≤ 39; `ddsql` — the count, the groups and the per-person buckets (6), one 7-day fetch of everything a
# flag reads whole and one of every flagged subject's evidence (≤ 12 each), the burst ranges (2) and the
# DDSQL baseline (5): ≤ 37. Each bound has slack for a busier hour, not for a question per person.
REQUEST_BOUNDS = {"auto": 20, "search": 40, "ddsql": 40}


@pytest.mark.parametrize("engine", sorted(REQUEST_BOUNDS))
def test_requests_grow_with_groups_not_with_people(tmp_path: Path, engine: str) -> None:
    c = report(tmp_path, "--engine", engine)["completeness"]
    assert c["complete"], c
    assert c["requests"] <= REQUEST_BOUNDS[engine], c
