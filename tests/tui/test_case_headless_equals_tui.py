"""Issue 15's acceptance: "the same case built headless with `--case` yields the same `case.json`
findings" as the TUI walk (Spike watch → the leaked-key alert → Key lookup on that key → marks → Explore
on the attacker IP → marks → a note → `E`).

What must be equal, finding by finding: `kind`, `title`, `severity`, `subject` and `event_ids` (in
order) — the key lookup's flags and destructive actions, and the leaked-key alert's. What may differ:
the entries' `seq` and `ts` (`finding.entry` included), the analyst, the panes (`lookup` / `cli`),
the `command` lines, the journal's other kinds (the TUI's `pivot`, `note`, `export`; the headless
`watch` poll), and the marks (the TUI marks flags and three events by hand; `search --mark-all` marks
every result of the IP search). By design (docs/cases.md): the TUI journals the alert the responder
*opened*, `watch --once` journals every alert its poll reported — so the TUI's alert findings are the
headless alert findings for the same alerts, not all of them. The evidence follows: every event the
TUI case cites is in the headless case's evidence — also the events of an alert marked in the TUI without
being opened (a mark, not a finding). And the headless case, reopened in the TUI, gives Explore and Key
lookup their last search and key, as a TUI-built case does.
"""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from case_walk_helpers import ATTACKER_IP, DEMO, KEY_ID, WINDOW, acceptance_walk, demo_app
from conftest import FROZEN_NOW
from watch_pane_helpers import settle_watch, until

from ddaudit_tui import cli
from ddaudit_tui.alerts.poller import Poller
from ddaudit_tui.analysis.presets import build_query
from ddaudit_tui.cliutil import EXIT_OK
from ddaudit_tui.commands import watch as watch_command
from ddaudit_tui.demo import source as demo_source
from ddaudit_tui.timeutil import iso
from ddaudit_tui.tui.case_session import CaseSession
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    for name in (
        "DDAUDIT_RULES",
        "DDAUDIT_PAGERDUTY_ROUTING_KEY",
        "PAGERDUTY_ROUTING_KEY",
        "DDAUDIT_EXPORT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


def _same(finding: dict[str, Any]) -> tuple[Any, ...]:
    """What must be equal between the two cases' findings (not `entry`: sequence numbers differ)."""
    return (
        finding["kind"],
        finding["title"],
        finding.get("severity"),
        finding.get("subject"),
        tuple(finding["event_ids"]),
    )


async def _tui_walk(tmp_path: Path) -> dict[str, Any]:
    """The acceptance walk by keyboard (tests/tui/case_walk_helpers.py), with an alert marked without being
    opened; returns the exported case.json."""
    app = demo_app(tmp_path / "tui-out")
    async with app.run_test(size=(80, 24)) as pilot:
        walked = await acceptance_walk(pilot, "inc-tui", extras=True)
    return json.loads((walked.folder / "case.json").read_text())


async def _reopen(name: str) -> tuple[str, str | None]:
    """The TUI on a case, started on Explore: (Explore's search, Key lookup's key once visited)."""
    app = demo_app(Path("unused"), case=CaseSession("tester", name=name), start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        explore = app.screen
        assert isinstance(explore, ExploreScreen)
        await until(pilot, lambda: explore.result is not None, what="the restored search")
        await pilot.press("1")
        await settle_watch(pilot)
        lookup = app.screen
        assert isinstance(lookup, KeyLookupScreen)
        await until(pilot, lambda: lookup.report is not None, timeout=30, what="the restored lookup")
        await settle_watch(pilot)
        return explore.query_text, lookup.key_id


def _headless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """The same investigation by commands, on the same demo org at the same "now"."""
    real_open_demo = demo_source.open_demo
    # `--demo` builds the org ending at the wall clock; the walk's org ends at FROZEN_NOW.
    monkeypatch.setattr(demo_source, "open_demo", lambda **kw: real_open_demo(**{**kw, **DEMO}))
    # … and `watch --once` polls back from "now" (the poller's clock, the wall clock by default).
    monkeypatch.setattr(watch_command, "Poller", functools.partial(Poller, clock=lambda: FROZEN_NOW))
    window = ["--from", iso(WINDOW.start), "--to", iso(WINDOW.end)]
    for argv in (
        ["watch", "--once", "--demo", "--case", "inc-cli"],
        ["key", KEY_ID, "--demo", *window, "--case", "inc-cli"],
        [
            "search",
            "--preset",
            "ip",
            "--ip",
            ATTACKER_IP,
            "--demo",
            *window,
            "--case",
            "inc-cli",
            "--mark-all",
        ],
        ["case", "export", "inc-cli", "-o", str(tmp_path / "cli-out")],
    ):
        code = cli.main(argv)
        out, err = capsys.readouterr()
        # `watch --once` exits 5 when its poll reported alerts (the documented code): it did, the leaked key's.
        assert code == (5 if argv[0] == "watch" else EXIT_OK), (argv, err)
    return json.loads((Path(out.strip()) / "case.json").read_text())


def test_the_headless_case_has_the_tui_walks_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two event loops one after the other: the commands run their own (`asyncio.run`).
    tui = asyncio.run(_tui_walk(tmp_path))
    headless = _headless(tmp_path, monkeypatch, capsys)

    def by_kind(case: dict[str, Any], *kinds: str) -> list[tuple[Any, ...]]:
        return [_same(f) for f in case["findings"] if f["kind"] in kinds]

    # The key lookup's findings: the same flags and destructive actions, with the same events, in order.
    tui_key = by_kind(tui, "flag", "destructive")
    assert tui_key, "the compromised key has findings"
    assert tui_key == by_kind(headless, "flag", "destructive")
    # The alert opened in the TUI is one of the alerts the headless poll reported, finding for finding.
    tui_alerts = by_kind(tui, "alert")
    assert len(tui_alerts) == 1 and "leaked_key_notification" in tui_alerts[0][1]
    assert set(tui_alerts) <= set(by_kind(headless, "alert"))
    # Nothing else: the walk has no other findings.
    assert len(tui["findings"]) == len(tui_key) + len(tui_alerts)
    # The same key lookup, verdict and window.
    (tui_key_entry,) = [e for e in tui["journal"] if e["kind"] == "key"]
    (cli_key_entry,) = [e for e in headless["journal"] if e["kind"] == "key"]
    for field in ("key_id", "verdict", "window"):
        assert tui_key_entry[field] == cli_key_entry[field], field
    assert tui_key_entry["counts"] == cli_key_entry["counts"]
    # The evidence: every event the TUI case cites (its findings and its marks) is in the headless case's.
    assert set(tui["evidence_event_ids"]) <= set(headless["evidence_event_ids"])
    tui_events = {i for m in tui["marks"] if m["kind"] == "event" for i in m["event_ids"]}
    cli_events = {i for m in headless["marks"] for i in m["event_ids"]}
    assert len(tui_events) == 3 and tui_events <= cli_events
    # The alert marked without being opened keeps exactly the events of one alert the headless poll reported.
    (alert_mark,) = [m for m in tui["marks"] if m["kind"] == "alert"]
    assert alert_mark["event_ids"] in [f["event_ids"] for f in headless["findings"] if f["kind"] == "alert"]
    assert set(alert_mark["event_ids"]) <= set(tui["evidence_event_ids"])
    # Reopened in the TUI, the headless case gives each pane its last work, as the TUI's own would.
    assert asyncio.run(_reopen("inc-cli")) == (build_query("ip", {"ip": ATTACKER_IP}), KEY_ID)
