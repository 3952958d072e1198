"""Key lookup in the TUI goes through `ddaudit key`'s engine choice (issue 16): on the demo — the real
Datadog client against the fake API — with a page budget too small for the key, `auto` lets DDSQL
aggregate, the header says so (engine, requests, events fetched of matched, partial), and the flags are
the CLI's for the same key and options. Files stay `file`."""

from __future__ import annotations

import asyncio
from typing import Any

from tui_helpers import settle

from ddaudit_tui.analysis.key_investigation import investigate_key
from ddaudit_tui.analysis.keys import KeyReport
from ddaudit_tui.cli import build_parser
from ddaudit_tui.commands.key import build_config
from ddaudit_tui.config import Settings
from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.key_lookup import KeyInput, KeyLookupScreen
from ddaudit_tui.tui.widgets.header import PaneHeader

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 90 * DAY, END)
PAGE = 100  # the compromised key's 380 events need 4 pages of 100: a budget of 2 sends `auto` to DDSQL
BUDGET = 2


async def _no_sleep(_s: float) -> None:
    return None


def demo_client(fake: FakeDatadog) -> DatadogClient:
    return DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=fake,
        page_limit=PAGE,
        sleep=_no_sleep,
        label="demo",
        retention_days=None,
    )


def demo_fake() -> FakeDatadog:
    return FakeDatadog.from_demo(end_ms=END, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=0))


def ddsql_requests(fake: FakeDatadog) -> int:
    return sum(1 for r in fake.requests if "/ddsql/" in r.path)


def flag_view(report: KeyReport) -> list[tuple[Any, ...]]:
    return [(f.signal, f.severity, f.subject, f.reason, f.event_ids, f.details) for f in report.flags]


async def cli_report(key: str) -> KeyReport:
    """What `ddaudit key KEY --max-pages 2` computes: its own options, over the same demo API."""
    args = build_parser("key").parse_args(["key", key, "--demo", "--max-pages", str(BUDGET)])
    _config, options = build_config(args, Settings())
    assert (options.engine, options.max_pages) == ("auto", BUDGET)

    client = demo_client(demo_fake())
    try:
        return await investigate_key(client, key, WINDOW, options=options, now_ms=END)
    finally:
        await client.aclose()


async def look_up(app: DdauditApp, pilot: Any, key: str) -> KeyLookupScreen:
    await settle(pilot)
    await pilot.press("1")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, KeyLookupScreen)
    await pilot.press("slash")
    screen.query_one(KeyInput).value = key
    await pilot.press("enter")
    for _ in range(100):  # the lookup runs in a worker thread over the fake API
        await settle(pilot)
        if screen.report is not None:
            break
        await asyncio.sleep(0.05)
    assert screen.report is not None
    return screen


async def test_the_pane_aggregates_past_the_budget_like_the_cli_and_its_header_says_so() -> None:
    fake = demo_fake()
    app = DdauditApp(demo_client(fake), WINDOW, clock=lambda: END / 1000)
    app.key_max_pages = BUDGET  # type: ignore[attr-defined]  # what `ddaudit --max-pages 2` sets
    async with app.run_test(size=(300, 40)) as pilot:
        screen = await look_up(app, pilot, COMPROMISED_KEY)
        report = screen.report
        assert report is not None
        assert report.engine == "ddsql" and report.aggregates is not None
        assert ddsql_requests(fake) > 1  # the group-bys ran in DDSQL, through the app's loop
        c = report.completeness
        # Every count and flag exact (DDSQL, each flag's evidence fetched): complete, not partial.
        assert c is not None and c.engine == "search+ddsql" and not c.partial and c.reasons == ()
        assert c.events_matched is not None
        header = screen.query_one(PaneHeader).plain
        assert "PARTIAL" not in header
        assert f"search+ddsql: {c.requests:,} requests" in header
        assert "verdict: likely compromised" in header
        assert "✓" not in header
        # Every request of the lookup, DDSQL included, was counted (the meter crosses the worker thread).
        assert c.requests >= ddsql_requests(fake)

    cli = await cli_report(COMPROMISED_KEY)
    assert cli.engine == "ddsql"
    assert flag_view(report) == flag_view(cli)
    assert report.total_events == cli.total_events == 380
    assert (report.verdict, report.origins, report.endpoints) == (cli.verdict, cli.origins, cli.endpoints)


async def test_search_engine_flag_pages_and_says_search() -> None:
    fake = demo_fake()
    app = DdauditApp(demo_client(fake), WINDOW, clock=lambda: END / 1000)
    app.key_engine = "search"  # type: ignore[attr-defined]  # `ddaudit --engine search`
    app.key_max_pages = BUDGET  # type: ignore[attr-defined]
    async with app.run_test(size=(200, 40)) as pilot:
        screen = await look_up(app, pilot, COMPROMISED_KEY)
        assert screen.report is not None and screen.report.engine == "search"
        assert ddsql_requests(fake) == 0
        header = screen.query_one(PaneHeader).plain
        assert "complete · search: " in header and " events fetched" in header


def test_the_tui_accepts_engine_and_max_pages() -> None:
    args = build_parser("tui").parse_args(["tui", "--demo", "--engine", "ddsql", "--max-pages", "3"])
    assert (args.engine, args.max_pages) == ("ddsql", 3)
    assert build_parser("tui").parse_args(["tui", "--demo"]).engine == "auto"


def test_the_tui_refuses_a_budget_below_one(capsys) -> None:
    from ddaudit_tui import cli

    assert cli.main(["tui", "--demo", "--max-pages", "0"]) == cli.EXIT_USAGE
    assert "--max-pages 0" in capsys.readouterr().err


async def test_an_aggregated_lookup_never_calls_its_sample_all_events() -> None:
    """Past the budget the timeline holds the fetched sample: it says so ("N of M events fetched"), and the
    activity bars count every event from DDSQL's hourly counts, not the sample."""
    from textual.widgets import TabbedContent

    from ddaudit_tui.demo.heavy import HEAVY_KEY, HeavyKey
    from ddaudit_tui.demo.org import generate
    from ddaudit_tui.tui.widgets.key_activity import KeyActivity

    # The demo's heavy key on a smaller instance of its generator (30k events): the sample is a few pages.
    fake = FakeDatadog(
        generate(seed=7, events=3000, end_ms=END),
        clock=lambda: END / 1000,
        ddsql=DdsqlConfig(running_polls=0),
        heavy=HeavyKey(7, END, events=30_000),
    )
    app = DdauditApp(demo_client(fake), WINDOW, clock=lambda: END / 1000)
    app.key_max_pages = BUDGET  # type: ignore[attr-defined]
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await look_up(app, pilot, HEAVY_KEY)
        report = screen.report
        assert report is not None and report.aggregates is not None
        fetched, total = len(report.events), report.total_events
        assert fetched < total
        bar = str(screen.query_one("#timeline-filter").render())
        assert f"{fetched:,} of {total:,} events fetched" in bar
        assert "all " not in bar
        # The tab counts the rows it holds (the line above says of how many): short enough for 80 columns.
        tab = screen.query_one(TabbedContent).get_tab("timeline").label.plain
        assert tab == f"Timeline {fetched:,}"
        activity = screen.query_one(KeyActivity)
        assert sum(b[1] for b in activity.buckets) == total
