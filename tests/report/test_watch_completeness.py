"""The watch report carries the completeness of its last poll like every other report (issue 16 item 1): a
`completeness` object in JSON, a line in text, Markdown and HTML, and a partial banner first when the
fake Datadog API answered `meta.status: timeout`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from watch_helpers import T0, FakeClock, FakeSource, M, api_item  # noqa: E402

from ddaudit_tui.alerts.poller import Poller, WatchSnapshot  # noqa: E402
from ddaudit_tui.alerts.rules import default_rules  # noqa: E402
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan  # noqa: E402
from ddaudit_tui.report import watch_report  # noqa: E402
from ddaudit_tui.report.registry import render  # noqa: E402
from ddaudit_tui.sources.datadog import Credentials, DatadogClient  # noqa: E402

REASON = "server timeout (meta.status: timeout) on page 1"


def poll(partial: bool) -> WatchSnapshot:
    items = [api_item(-m, "dave@example.com", "Access Management", "role", "modified") for m in (9, 6, 3)]
    faults = FaultPlan(rates={"partial": 1.0}) if partial else None
    fake = FakeDatadog(items, faults=faults, clock=lambda: T0 / 1000)

    async def go() -> WatchSnapshot:
        client = DatadogClient(Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake)
        async with client:
            poller = Poller(client, default_rules(), clock=FakeClock(T0))
            outcome = await poller.poll_now()
            assert outcome.completeness is not None
            assert outcome.completeness.partial is partial
            return poller.snapshot()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def snaps() -> tuple[WatchSnapshot, WatchSnapshot]:
    return poll(False), poll(True)


def report(snap: WatchSnapshot) -> watch_report.WatchReport:
    return watch_report.WatchReport(snap, source="api", generated_ms=T0 + M)


def test_json_carries_the_last_polls_completeness_object(snaps) -> None:
    complete, partial = snaps
    good = json.loads(render("watch", "json", report(complete)))["completeness"]
    bad = json.loads(render("watch", "json", report(partial)))["completeness"]
    assert (good["partial"], good["engine"], good["reasons"]) == (False, "search", [])
    assert good["requests"] >= 1 and good["events_fetched"] == 3
    assert good["rate_limit"]["limit"] == 1000
    assert bad["partial"] is True and any(REASON in r for r in bad["reasons"])


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_text_formats_carry_a_completeness_line_and_a_partial_banner_first(snaps, fmt: str) -> None:
    complete, partial = snaps
    good = render("watch", fmt, report(complete))
    bad = render("watch", fmt, report(partial))
    assert "Completeness: complete: engine search" in good and "PARTIAL" not in good
    assert "Completeness: PARTIAL: engine search" in bad and REASON in bad
    assert bad.index("PARTIAL ANSWER") < bad.index("Alerts")


def test_a_failed_poll_leaves_a_partial_record_naming_the_failure() -> None:
    class Down:
        label = "down"

        async def fetch(self, *_a, **_k):
            raise ConnectionError("cannot connect (refused)")

        def default_window(self):
            return None

    async def go() -> WatchSnapshot:
        poller = Poller(Down(), default_rules(), clock=FakeClock(T0))  # type: ignore[arg-type]
        await poller.poll_now()
        return poller.snapshot()

    snap = asyncio.run(go())
    assert snap.completeness is not None and snap.completeness.partial
    assert "poll failed: cannot connect (refused)" in snap.completeness.reasons[0]
    assert "Completeness: PARTIAL" in render("watch", "text", report(snap))


def test_a_snapshot_without_a_poll_has_no_completeness_line() -> None:
    poller = Poller(FakeSource([]), default_rules(), clock=FakeClock(T0))
    snap = poller.snapshot()
    assert snap.completeness is None
    assert "Completeness" not in render("watch", "text", report(snap))
    assert json.loads(render("watch", "json", report(snap)))["completeness"] is None
