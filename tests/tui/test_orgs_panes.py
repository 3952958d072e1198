"""Every org at once in Explore, AI activity and Spike watch (issue 16 item 5): `ddaudit --all-profiles`
asks each org the pane's question concurrently — each through its own source (credentials, site, client,
rate-limit budget) — and shows the answers side by side, one line per org; an org that fails is named
with its reason and the others still answer.

The same two loopback fakes as test_orgs_tui.py (demo orgs of seeds 7 and 8, each accepting only its own
profile's keys); one of them stopped where a test says so."""

from __future__ import annotations

import re

import pytest
import test_orgs_tui as base
from tui_helpers import screen_lines, screen_text
from watch_pane_helpers import until

from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader
from ddaudit_tui.tui.widgets.org_lines import OrgLines

# The two fakes and their config file (fixtures), and how an app is opened on them.
items = base.items
orgs = base.orgs
app_for, no_secrets, END = base.app_for, base.no_secrets, base.END

SIZES = [(80, 24), (120, 35)]


def org_lines(app: DdauditApp) -> list[str]:
    """The per-org lines as drawn on screen."""
    return [
        line.strip().lstrip("▸ ")
        for line in screen_lines(app)
        if re.match(r"^▸? ?org (prod|eu)( \(|:)", line.strip())
    ]


def lines_widget(app: DdauditApp) -> OrgLines:
    return app.screen.query_one(OrgLines)


# -- Explore -------------------------------------------------------------------------------------------------


def explore_done(app: DdauditApp) -> bool:
    search = getattr(app.screen, "org_search", None)
    return search is not None and search.done and app.screen.result is not None


@pytest.mark.parametrize("size", SIZES)
async def test_explore_shows_the_rows_of_both_orgs_with_an_org_column_and_a_line_per_org(orgs, size) -> None:
    app = app_for("--all-profiles", "--pane", "explore")
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: explore_done(app), timeout=60, what="both orgs' events")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(EventTable)
        assert [c.key for c in table.columns][:2] == ["time", "org"]
        org_of = screen.org_search.org_of  # type: ignore[attr-defined]
        assert {org_of(e) for e in table.rows} == {"prod", "eu"}
        # Merged newest first.
        stamps = [e.ts for e in screen.result.events]  # type: ignore[attr-defined]
        assert stamps == sorted(stamps, reverse=True)
        counts = {p: len(a.result.events) for p, a in screen.org_search.answers.items()}  # type: ignore[attr-defined]
        assert len(screen.result.events) == counts["prod"] + counts["eu"]  # type: ignore[attr-defined]
        # One line per org: its events and how complete its answer is.
        lines = org_lines(app)
        assert len(lines) == 2, screen_text(app)
        for profile in ("prod", "eu"):
            line = next(x for x in lines if x.startswith((f"org {profile} ", f"org {profile}:")))
            assert f"{counts[profile]:,} events" in line
            assert "complete" in line
            assert len(line) <= size[0]
        if size[0] >= 120:
            assert any(x.startswith("org prod (datadoghq.com): ") for x in lines)
        # The org column is on screen: the first row names its org.
        first = table.rows[0]
        assert org_of(first) in {"prod", "eu"}
        assert "2 orgs" in screen.query_one(PaneHeader).plain
        assert "1 of 2 orgs" not in screen.query_one(PaneHeader).plain
        no_secrets(screen_text(app))


async def test_pane_keys_work_in_explore_across_orgs(orgs) -> None:
    """Found in tmux: with two orgs, `2` in Explore did nothing (one org: it opens Spike watch)."""
    from ddaudit_tui.tui.screens.watch import WatchScreen

    app = app_for("--all-profiles", "--pane", "explore")
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: explore_done(app), timeout=60, what="both orgs' events")
        await pilot.pause()
        await pilot.press("2")
        await until(
            pilot,
            lambda: isinstance(app.screen, WatchScreen),
            timeout=10,
            what="Spike watch",
        )


async def test_explore_names_a_stopped_org_and_still_shows_the_others_rows(orgs) -> None:
    orgs["eu"][1]()  # connections refused from now on
    app = app_for("--all-profiles", "--pane", "explore")
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: explore_done(app), timeout=60, what="both orgs' answers")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(EventTable)
        org_of = screen.org_search.org_of  # type: ignore[attr-defined]
        assert table.row_count > 0 and {org_of(e) for e in table.rows} == {"prod"}
        lines = org_lines(app)
        eu = next(x for x in lines if x.startswith(("org eu ", "org eu:")))
        assert eu.startswith("org eu (datadoghq.eu): ✖ failed: ") and "cannot connect" in eu
        prod = next(x for x in lines if x.startswith(("org prod ", "org prod:")))
        assert "events" in prod and "failed" not in prod
        # The answer as a whole is partial: one org is missing from it.
        assert not screen.result.complete  # type: ignore[attr-defined]
        assert screen.status.kind == "partial"
        assert "eu" in screen.status.text


async def test_explore_runs_a_new_query_in_every_org(orgs) -> None:
    app = app_for("--all-profiles", "--pane", "explore")
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: explore_done(app), timeout=60, what="both orgs' events")
        screen = app.screen
        before = {p: len(f.requests) for p, (f, _s) in orgs.items()}
        screen.run_query("@evt.name:Authentication")  # type: ignore[attr-defined]
        await until(
            pilot,
            lambda: explore_done(app) and screen.org_search.query == "@evt.name:Authentication",  # type: ignore[attr-defined]
            timeout=60,
            what="the new query's answers",
        )
        for profile, (fake, _stop) in orgs.items():
            assert len(fake.requests) > before[profile]
        assert all(e.evt_name == "Authentication" for e in screen.result.events)  # type: ignore[attr-defined]


# -- AI activity -----------------------------------------------------------------------------------------------


def ai_done(app: DdauditApp) -> bool:
    org_ai = getattr(app.screen, "org_ai", None)
    return org_ai is not None and org_ai.done and app.screen.result is not None


@pytest.mark.parametrize("size", SIZES)
async def test_ai_activity_answers_for_every_org_and_o_switches_org(orgs, size) -> None:
    app = app_for("--all-profiles", "--pane", "ai")
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: ai_done(app), timeout=120, what="both orgs' AI activity")
        await pilot.pause()
        screen = app.screen
        org_ai = screen.org_ai  # type: ignore[attr-defined]
        assert set(org_ai.answers) == {"prod", "eu"}
        lines = org_lines(app)
        assert len(lines) == 2, screen_text(app)
        for profile in ("prod", "eu"):
            result = org_ai.answers[profile].result
            line = next(x for x in lines if x.startswith((f"org {profile} ", f"org {profile}:")))
            assert f"{result.counts.get('ai_events', 0):,} AI events" in line
            assert len(line) <= size[0]
        # Worst first: the org with more HIGH flags leads, and its report is the one shown.
        shown = org_ai.shown
        assert screen.result is org_ai.answers[shown].result  # type: ignore[attr-defined]
        assert f"org {shown}:" in screen.status.text
        await pilot.press("O")
        await pilot.pause()
        other = ({"prod", "eu"} - {shown}).pop()
        assert org_ai.shown == other
        assert screen.result is org_ai.answers[other].result  # type: ignore[attr-defined]
        assert f"org {other}:" in screen.status.text
        assert "O Next org" in screen_text(app) or size[0] < 100
        assert "cycle_org" in base.actions_of(app)  # in `?` and the palette too
        no_secrets(screen_text(app))


async def test_ai_activity_names_a_stopped_org(orgs) -> None:
    orgs["prod"][1]()
    app = app_for("--all-profiles", "--pane", "ai")
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: ai_done(app), timeout=120, what="both orgs' AI activity")
        await pilot.pause()
        screen = app.screen
        assert screen.org_ai.shown == "eu"  # type: ignore[attr-defined]
        lines = org_lines(app)
        prod = next(x for x in lines if x.startswith(("org prod ", "org prod:")))
        assert prod.startswith("org prod (datadoghq.com): ✖ failed: ") and "cannot connect" in prod


async def test_one_org_ai_pane_has_no_org_lines_nor_org_key(orgs) -> None:
    app = app_for("--profile", "prod", "--pane", "ai")
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: app.screen.result is not None, timeout=120, what="the AI activity")
        assert not app.screen.query(OrgLines)
        assert "cycle_org" not in {b.action for _k, b in app.screen._bindings}
        assert "Next org" not in screen_text(app)


# -- Spike watch -------------------------------------------------------------------------------------------------


def watch_app(*argv: str) -> DdauditApp:
    from ddaudit_tui.alerts.wiring import WatchOptions

    app = app_for(*argv)
    # The demo orgs' planted bursts are spread over their last day: look back that far (demo mode: the
    # payloads are dry-run, never sent). Each org still gets its own settings and source.
    app.watch_options = WatchOptions(demo=True, clock=lambda: END / 1000)  # type: ignore[attr-defined]
    return app


def watch_org_alerts(app: DdauditApp) -> dict[str, int]:
    setup = getattr(app.screen, "watch_setup", None)
    snap = getattr(app.screen, "latest", None)
    if setup is None or snap is None:
        return {}
    out: dict[str, int] = {}
    for a in snap.alerts:
        org = setup.alert_org.get(a.dedup_key, "?")
        out[org] = out.get(org, 0) + 1
    return out


def polled_every_org(app: DdauditApp) -> bool:
    setup = getattr(app.screen, "watch_setup", None)
    return setup is not None and all(p.polls > 0 for p in setup.pollers.values())


@pytest.mark.parametrize("size", SIZES)
async def test_spike_watch_alerts_carry_their_org(orgs, size) -> None:
    from ddaudit_tui.tui.widgets.watch_tables import AlertTable

    app = watch_app("--all-profiles", "--pane", "watch")
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: polled_every_org(app), timeout=60, what="a poll of every org")
        await pilot.pause()
        per_org = watch_org_alerts(app)
        assert per_org.get("eu", 0) > 0 and per_org.get("prod", 0) > 0, per_org
        table = app.screen.query_one(AlertTable)
        assert "org" in [c.key for c in table.table_columns]
        # Each alert row says its org: an eu alert under the cursor names eu in the line below the table.
        eu_key = next(k for k, o in app.screen.watch_setup.alert_org.items() if o == "eu")  # type: ignore[attr-defined]
        keys = table.item_keys
        table.move_cursor(row=keys.index(eu_key))
        await pilot.pause()
        assert any(re.search(r"\beu\b", line) for line in screen_lines(app) if "●" in line or "○" in line)
        assert "org eu" in app.screen.query_one("#watch-alert-line").render().plain  # type: ignore[union-attr]
        lines = org_lines(app)
        assert len(lines) == 2, screen_text(app)
        for line in lines:
            assert len(line) <= size[0]
        no_secrets(screen_text(app))


async def test_spike_watch_names_a_stopped_org_and_the_other_keeps_alerting(orgs) -> None:
    orgs["prod"][1]()
    app = watch_app("--all-profiles", "--pane", "watch")
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: polled_every_org(app), timeout=90, what="a poll of every org")
        await pilot.pause()
        per_org = watch_org_alerts(app)
        assert per_org.get("eu", 0) > 0 and "prod" not in per_org, per_org
        lines = org_lines(app)
        prod = next(x for x in lines if x.startswith(("org prod ", "org prod:")))
        # Its reason: "cannot connect…", or under load the client's deadline ("no complete answer from…").
        assert "✖ poll failed" in prod and "127.0.0.1" in prod
        eu = next(x for x in lines if x.startswith(("org eu ", "org eu:")))
        assert "open" in eu and "✖" not in eu
        assert "org prod" in app.screen.status.text


def test_the_org_lines_keep_counts_whole_at_any_width() -> None:
    from rich.text import Text

    from ddaudit_tui.tui.widgets.org_lines import render_lines

    long = [Text("org production-region-1 (us5.datadoghq.com): 1,234,567 events · complete · 12 requests")]
    short = [Text("org production-region-1: 1,234,567 events · complete")]
    assert render_lines([long, short], 200).plain == long[0].plain
    assert render_lines([long, short], 60).plain == short[0].plain
    cut = render_lines([long, short], 30).plain
    assert cut.endswith("…") and len(cut) <= 30


async def test_the_compact_spike_watch_is_told_each_alerts_org(orgs) -> None:
    """A 100×15 tmux split of `ddaudit --all-profiles --pane watch`: the compact rows can name the org
    (what they show is tested in test_watch_compact.py; the demo orgs' alerts are closed at END)."""
    from ddaudit_tui.tui.widgets.watch_compact import CompactWatch

    app = watch_app("--all-profiles", "--pane", "watch")
    async with app.run_test(size=(100, 15)) as pilot:
        await until(pilot, lambda: polled_every_org(app), timeout=60, what="a poll of every org")
        await pilot.pause()
        compact = app.screen.query_one(CompactWatch)
        assert compact.display and compact.org_of is not None
        eu_key = next(k for k, o in app.screen.watch_setup.alert_org.items() if o == "eu")  # type: ignore[attr-defined]
        alert = next(a for a in compact.snapshot.alerts if a.dedup_key == eu_key)  # type: ignore[union-attr]
        assert compact.org_of(alert) == "eu"
