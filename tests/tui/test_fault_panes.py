"""The panes on a misbehaving Datadog API: the real client over the fake API (in process), with faults
that make a fetch partial or fail. The header and banner say what happened, a toast names it, the app
keeps running, and once the fault is gone the next query gets every event.

One slice and `concurrency=1` make the fake's request numbering deterministic (request 2 is page 2 or its
retry); backoff sleeps are skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Static
from tui_helpers import settle
from tui_synthetic import T0, WINDOW, decode_items, make_item

from ddaudit_tui.demo.fake_datadog import ALL_PERMISSIONS, DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.datadog_fetch import describe_window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.key_lookup import KeyInput, KeyLookupScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader, Status, verdict_status_kind
from ddaudit_tui.tui.widgets.key_summary import KeySummary

SLICE = f"slice {describe_window(WINDOW)}"
HOST = "api.datadoghq.com"
PAGE = 50
KEY_ID = "9f3c2e71-0a4b-4c5d-8e6f-7a8b9c0d1e2f"
N = 120


def items() -> list[dict[str, Any]]:
    """N events over the window; every third one made with the API key KEY_ID."""
    rng = random.Random(11)
    step = (WINDOW.end - WINDOW.start) // (N + 1)
    out = []
    for i in range(N):
        extra = {"metadata": {"api_key": {"id": KEY_ID}}} if i % 3 == 0 else {}
        out.append(make_item(i, T0 + (i + 1) * step, rng, **extra))
    return out


def newest_ids(events: list[Any]) -> list[str]:
    return [e.id for e in sorted(events, key=lambda e: (e.ts, e.id), reverse=True)]


def client(fake: FakeDatadog) -> DatadogClient:
    async def no_sleep(_: float) -> None:
        return None

    return DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=fake,
        concurrency=1,
        page_limit=PAGE,
        max_retries=1,
        sleep=no_sleep,
        label="fake-api",
        retention_days=None,  # the synthetic window is months old: no retention note in these headers
    )


@pytest.fixture
def faulty_app(make_app: Callable[..., DdauditApp]) -> Callable[..., tuple[DdauditApp, FakeDatadog]]:
    def factory(faults: FaultPlan | None = None, **fake_kwargs: Any) -> tuple[DdauditApp, FakeDatadog]:
        fake = FakeDatadog(items(), faults=faults, **fake_kwargs)
        return make_app(source=client(fake)), fake

    return factory


def toasts(app: DdauditApp, title: str) -> list[Any]:
    return [n for n in app._notifications if n.title == title]


def banner(screen: ExploreScreen) -> str:
    rendered = screen.query_one("#banner", Static).render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


async def type_query(pilot: Any, text: str) -> None:
    await pilot.press("slash")
    pilot.app.screen.query_one(QueryInput).value = text
    await pilot.press("enter")
    await settle(pilot)


# -- Explore ----------------------------------------------------------------------------------------------------


async def test_explore_shows_a_partial_result_says_why_and_recovers(faulty_app) -> None:
    # Page 2 fails, and so does its one retry: the slice stops with the first page kept.
    app, fake = faulty_app(FaultPlan(at={2: "503", 3: "503"}))
    all_events = decode_items(items())
    warning = f"{SLICE} failed after 1 retry: 503 Service Unavailable; 50 events from it kept"
    async with app.run_test(size=(140, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        # The header's reason is the short one (issue 16): no slice, no boilerplate.
        short = "a slice failed after 1 retry: 503 Service Unavailable; 50 events from it kept"
        assert screen.status == Status("partial", f"PARTIAL: {short}")
        assert f"⚠ PARTIAL: {short}" in screen.query_one(PaneHeader).plain
        assert banner(screen).startswith(f"showing 50 events  ⚠ PARTIAL result — {warning}")
        table = screen.query_one(EventTable)
        assert [e.id for e in table.rows] == newest_ids(all_events)[:PAGE]  # what was fetched, kept
        [toast] = toasts(app, "Partial result")
        assert toast.message == f"50 events shown; {warning}"
        assert toast.severity == "warning" and toast.markup is False
        # The API is back: a new query gets everything, and the partial flag is gone.
        fake.faults = None
        await type_query(pilot, "@action:login")
        expected = newest_ids([e for e in all_events if e.action == "login"])
        assert expected and [e.id for e in table.rows] == expected
        assert screen.status.kind == "complete"
        assert screen.status.text.startswith(f"{len(expected)} events · complete · ")
        assert "PARTIAL" not in banner(screen)
        assert app.is_running


async def test_explore_flags_a_server_side_timeout_page_but_shows_every_event(faulty_app) -> None:
    app, _ = faulty_app(FaultPlan(at={1: "partial"}))
    async with app.run_test(size=(140, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        first = f"page 1 of {SLICE}: server timed out (meta.status=timeout): results may be incomplete"
        short = "server timeout (meta.status: timeout) on page 1"
        assert screen.status == Status("partial", f"PARTIAL: {short} (+1 more)")
        assert f"⚠ PARTIAL result — {first} (+1 more)" in banner(screen)
        assert [e.id for e in screen.query_one(EventTable).rows] == newest_ids(decode_items(items()))
        [toast] = toasts(app, "Partial result")
        assert toast.message == f"{N} events shown; {first} (+1 more)"


ERRORS = {
    "503": ("503", f"503 Service Unavailable from {HOST} after 1 retry"),
    "reset": (
        "reset",
        f"connection to {HOST} failed: Server disconnected without sending a response. after 1 retry",
    ),
    "timeout": (
        "timeout",
        f"no answer from {HOST} within 30 s after 1 retry: the query may be too broad: narrow the window or add "
        "filters (DDAUDIT_TIMEOUT)",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
async def test_explore_shows_a_failed_search_keeps_running_and_recovers(faulty_app, name: str) -> None:
    kind, message = ERRORS[name]
    app, fake = faulty_app(FaultPlan(rates={kind: 1.0}))
    async with app.run_test(size=(140, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.status == Status("error", f"error: {message}")
        assert banner(screen) == f"✖ the search failed: {message}"
        [toast] = toasts(app, "Search failed")
        assert toast.message == message and toast.severity == "error" and toast.markup is False
        assert screen.query_one(EventTable).row_count == 0 and app.is_running
        fake.faults = None
        await pilot.press("r")
        await settle(pilot)
        assert screen.status.kind == "complete" and screen.status.text.startswith(f"{N} events · complete · ")
        assert screen.query_one(EventTable).row_count == N


async def test_explore_auth_failure_names_the_missing_permission_and_recovers(faulty_app) -> None:
    app, fake = faulty_app(permissions={"api_keys_read"})
    message = (
        f"403 Forbidden from {HOST} (Failed permission authorization checks): the application key lacks "
        "audit_logs_read, or the keys belong to another Datadog site (DD_SITE=datadoghq.com)"
    )
    async with app.run_test(size=(140, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.status == Status("error", f"error: {message}")
        [toast] = toasts(app, "Search failed")
        assert toast.message == message
        assert fake.audit_request_count == 1  # an auth error is never retried
        fake.permissions = set(ALL_PERMISSIONS)  # the admin grants audit_logs_read
        await type_query(pilot, "*")
        assert screen.status.kind == "complete" and screen.status.text.startswith(f"{N} events · complete · ")


# -- Key lookup -------------------------------------------------------------------------------------------------


async def look_up(pilot: Any, key_id: str) -> KeyLookupScreen:
    await pilot.press("1")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, KeyLookupScreen)
    await pilot.press("slash")
    screen.query_one(KeyInput).value = key_id
    await pilot.press("enter")
    await settle(pilot)
    return screen


async def test_key_lookup_failure_is_shown_and_the_lookup_can_be_run_again(faulty_app) -> None:
    app, fake = faulty_app(FaultPlan(rates={"503": 1.0}))
    message = f"503 Service Unavailable from {HOST} after 1 retry"
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = await look_up(pilot, KEY_ID)
        assert screen.report is None
        assert screen.status == Status("error", f"error: {message}")
        [toast] = toasts(app, "Key lookup failed")
        assert toast.message == message and toast.severity == "error" and toast.markup is False
        summary = screen.query_one(KeySummary)
        assert f"✖ the lookup failed: {message}" in str(summary.render())
        fake.faults = None
        await pilot.press("r")
        await settle(pilot)
        assert screen.report is not None and screen.status.kind == verdict_status_kind(screen.report.verdict)
        expected = [e for e in decode_items(items()) if e.api_key_id == KEY_ID]
        assert screen.report.total_events == len(expected) == N // 3
        assert app.is_running


async def test_key_lookup_marks_a_partial_fetch(faulty_app) -> None:
    app, _ = faulty_app(FaultPlan(rates={"partial": 1.0}))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = await look_up(pilot, KEY_ID)
        assert screen.report is not None
        # 40 events, each page cut in half by the server: seven flagged pages, reported once.
        first = (
            f"key events: page 1 of {SLICE}: server timed out (meta.status=timeout): results may be incomplete "
            "(also on 6 other pages)"
        )
        short = "key events: server timeout (meta.status: timeout) on page 1 (and 6 other pages)"
        assert screen.status.kind == "partial" and screen.status.text.startswith(
            f"PARTIAL: {short} (+1 more) · "
        )
        assert first in screen.report.warnings  # the long form stays in the report's warnings
        assert "the key's events are incomplete (see the warnings above): findings may be missing" in (
            screen.report.warnings
        )
        # Every page was flagged, yet paging went on: every event of the key is there.
        assert screen.report.total_events == N // 3
