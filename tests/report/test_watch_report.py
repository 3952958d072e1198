"""The `watch` report (the Spike watch pane's export): registered formats, the headless command's alert
JSON shape, alerts with their events, counts per actor, and hostile actor / asset names rendered
inertly in every format."""

from __future__ import annotations

import asyncio
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from watch_helpers import T0, FakeClock, FakeSource, M, RecordingPager, event  # noqa: E402

from ddaudit_tui.alerts.poller import Poller, WatchSnapshot  # noqa: E402
from ddaudit_tui.alerts.rules import default_rules  # noqa: E402
from ddaudit_tui.report import watch_report  # noqa: E402
from ddaudit_tui.report.registry import formats, render  # noqa: E402
from ddaudit_tui.timeutil import iso  # noqa: E402

HOSTILE = "<script>x</script>[a](http://evil)|`t`\x1b]52;c;ZXZpbA==\x07@evil.example"


def snapshot(actor: str = "dave@example.com", pager: RecordingPager | None = None) -> WatchSnapshot:
    source = FakeSource(
        [
            event(-9, actor, asset_id="r1"),
            event(-6, actor, asset_id="r2"),
            event(-3, actor, asset_id="r3"),
            event(-2, "alice@example.com"),
        ]
    )
    poller = Poller(source, default_rules(), clock=FakeClock(T0), pager=pager)
    asyncio.run(poller.poll_now())
    return poller.snapshot()


def report(snap: WatchSnapshot) -> watch_report.WatchReport:
    return watch_report.WatchReport(snap, source="demo", paging="dry-run (demo)", generated_ms=T0 + M)


def test_every_format_is_registered():
    assert set(formats("watch")) == {"text", "md", "json", "html"}


def test_json_has_the_headless_alert_shape_and_the_counts():
    snap = snapshot(pager=RecordingPager())
    doc = json.loads(render("watch", "json", report(snap)))
    assert doc["report"] == "watch" and doc["source"] == "demo" and doc["generated_at"] == iso(T0 + M)
    (alert,) = doc["alerts"]
    for key in (
        "rule",
        "actor",
        "count",
        "first_seen",
        "last_seen",
        "severity",
        "event_ids",
        "dedup_key",
        "paged",
    ):
        assert key in alert, key
    assert alert["rule"] == "role_changes" and alert["actor"] == "dave@example.com"
    assert alert["count"] == 3 and alert["severity"] == "high" and alert["paged"] is True
    assert alert["first_seen"] == iso(T0 - 9 * M) and len(alert["event_ids"]) == 3
    assert [e["timestamp"] for e in alert["events"]] == [iso(T0 - m * M) for m in (9, 6, 3)]
    actors = {a["actor"]: a for a in doc["actors"]}
    assert actors["dave@example.com"]["hot"] == ["role_changes"]
    assert actors["alice@example.com"] == {
        "actor": "alice@example.com",
        "total": 1,
        "hot": [],
        "counts": {"role_changes": 1},
    }
    assert doc["window"] == {"minutes": 15.0, "from": iso(T0 - 15 * M), "to": iso(T0)}
    assert doc["last_success"] == iso(T0) and doc["stale"] is False and doc["paging"] == "dry-run (demo)"
    assert doc["rules_label"].endswith("(not Datadog detections)")


def test_a_bare_snapshot_renders_too():
    snap = snapshot()
    for fmt in ("text", "md", "json", "html"):
        assert render("watch", fmt, snap)
    assert json.loads(render("watch", "json", snap))["source"] is None


def test_text_and_markdown_list_alerts_with_events_and_flag_hot_actors():
    snap = snapshot()
    text = render("watch", "text", report(snap))
    assert "! HIGH  role_changes  dave@example.com  3 events" in text
    assert "not paged" in text and "dedup key: ddaudit:role_changes:dave@example.com:" in text
    assert "! HOT  dave@example.com  total 3: role_changes 3!" in text
    md = render("watch", "md", report(snap))
    assert "| **! HIGH** | role\\_changes | dave@example.com | 3 events |" in md
    assert "| **! HOT** | dave@example.com | 3 | 3 ! |" in md
    assert md.count("| " + iso(T0 - 9 * M)[:10]) >= 1


def test_no_alerts_reads_as_none():
    source = FakeSource([event(-2, "alice@example.com")])
    poller = Poller(source, default_rules(), clock=FakeClock(T0))
    asyncio.run(poller.poll_now())
    snap = poller.snapshot()
    assert "Alerts:\n  none" in render("watch", "text", snap)
    assert "## Alerts\n\nNone." in render("watch", "md", snap)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)


def test_hostile_actor_names_are_inert_in_every_format():
    snap = snapshot(actor=HOSTILE)
    text = render("watch", "text", report(snap))
    assert "\x1b" not in text and "\x07" not in text
    md = render("watch", "md", report(snap))
    assert "[a](http" not in md and "\\[a\\]" in md and "<script>" not in md
    html = render("watch", "html", report(snap))
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "&lt;script&gt;" in html
    doc = json.loads(render("watch", "json", report(snap)))
    assert doc["alerts"][0]["actor"] == HOSTILE  # JSON keeps the data exact; the escaping is JSON's
