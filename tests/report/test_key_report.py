"""Key-lookup renderers: the recipe's output format (text, Markdown), its jq field names (JSON, checked
against the recipe's own jq program), and safe, self-contained HTML."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))

from keys_synthetic import (  # noqa: E402
    BUCHAREST_VPN,
    DAY,
    HOUR,
    KEY,
    LONDON_BT,
    NO_GEO,
    NYC_VERIZON,
    T0,
    demo_items,
    events,
    item,
)

from ddaudit_tui.analysis.keys import CountryBaseline, analyze_key  # noqa: E402
from ddaudit_tui.demo.org import PLANTED  # noqa: E402
from ddaudit_tui.report import key_report  # noqa: E402
from ddaudit_tui.report.html import Markup, esc, page, table  # noqa: E402
from ddaudit_tui.report.registry import formats, render  # noqa: E402
from ddaudit_tui.sources.api_keys import ApiKeyInfo, UserRef  # noqa: E402
from ddaudit_tui.timeutil import Window  # noqa: E402

HOSTILE = "[x] <script>alert(1)</script> |evil| `tick` \x1b]52;c;Y3VybA==\x07\x1b[31mred \u202egpj.exe"

# The recipe's jq programs, verbatim (detections.md §3.1 steps 2 and 3).
JQ_STEP2 = """[.data[] | {
      country: .attributes.attributes.network.client.geoip.country.name,
      asn: .attributes.attributes.network.client.geoip.as.name,
      ip: .attributes.attributes.network.client.ip
    }]
    | group_by(.country)
    | map({
        country: .[0].country,
        count: length,
        asns: [.[].asn] | unique,
        ips: [.[].ip] | unique
      })
    | sort_by(-.count)"""
JQ_STEP3 = """[.data[] | {
      method: .attributes.attributes.http.method,
      path: .attributes.attributes.http.url_details.path
    }]
    | group_by(.path)
    | map({path: .[0].path, methods: [.[].method] | unique, count: length})
    | sort_by(-.count)"""


def _report(api_key=None):
    items = [item(T0 + d * DAY + 14 * HOUR, NYC_VERIZON, path="/api/v1/dashboard") for d in range(3)]
    items += [
        item(T0 + 3 * DAY, BUCHAREST_VPN, method="DELETE", path="/api/v1/monitor/42", route="/api/v1/monitor/{monitor_id}"),
        item(
            T0 + 3 * DAY + 300, BUCHAREST_VPN, method="DELETE", path="/api/v1/monitor/42", action="deleted",
            evt="Monitor", asset_type="monitor", asset_id="42", asset_name=HOSTILE, ua=HOSTILE,
        ),
    ]  # fmt: skip
    rel = [
        item(
            T0 - DAY, NYC_VERIZON, key=None, method="POST", path="/api/v2/api_keys", action="created",
            evt="Authentication", asset_type="api_key", asset_id=KEY, usr_email="marcus@example.com",
        )
    ]  # fmt: skip
    cb = CountryBaseline(
        "learned", "countries seen in the org outside this key", seen={"US": True, "RO": False}
    )
    return analyze_key(
        KEY, events(items), window=Window(T0, T0 + 10 * DAY), related=events(rel), country_baseline=cb,
        now_ms=T0 + 10 * DAY, source_label="synthetic", api_key=api_key,
        api_key_status="found" if api_key else "not available from this source",
    )  # fmt: skip


def test_renderers_are_registered():
    assert {"text", "md", "json", "html"} <= set(formats("key"))
    r = _report()
    assert render("key", "text", r) == key_report.render_text(r)


def test_text_follows_the_recipe_output_format():
    text = key_report.render_text(_report())
    head = text.split("\nVerdict:")[0]
    assert head == (
        f"Key ID: {KEY}\n"
        "Created: 2026-05-31 00:00:00Z by marcus@example.com\n"
        "Active period: 2026-06-01 14:00:00Z to 2026-06-04 00:00:00Z\n"
        "Total events: 5\n"
        "\n"
        "Origins:\n"
        "  - United States (Verizon Business): 3 events — NORMAL\n"
        "  - Romania (M247 Europe SRL): 2 events — FLAG: first-time origin\n"
        "\n"
        "Endpoints called (top 5):\n"
        "  - GET /api/v1/dashboard: 3 calls\n"
        "  - DELETE /api/v1/monitor/42: 1 call\n"
        "  - DELETE /api/v1/monitor/{monitor_id}: 1 call\n"
        "\n"
        "Destructive actions: 1 deletion — monitor\n"
        "\n"
        "Recommended actions:\n"
        f"  1. Revoke the key immediately if not already done — `ddaudit revoke {KEY}`, or Organization "
        "Settings > API Keys > Revoke\n"
        '  2. Review affected resources: monitor 42 "[x] <script>alert(1)</script> |evil| `tick` red gpj.exe" (deleted)\n'
        '  3. Check if any deleted resources need restoration: monitor 42 "[x] <script>alert(1)</script> |evil| '
        '`tick` red gpj.exe"\n'
        "  4. Audit who else had access to this key — created by marcus@example.com on 2026-05-31 00:00:00Z; "
        "used as svc@example.com; clients: python-requests/2.31.0, [x] <script>alert(1)</script> |evil| `tick` "
        "red gpj.exe\n"
    )
    assert (
        "Verdict: ✖ LIKELY COMPROMISED (3 high)\n  - 3 high-severity flags across 3 signals: new_country, vpn_asn, destructive_action\n"
        in text
    )
    assert "  ! HIGH     new_country — Country not in org's normal baseline\n" in text
    assert (
        "  Created: 2026-05-31 00:00:00Z by marcus@example.com from 198.51.100.214, United States [audit trail]\n"
        in text
    )
    assert "  Countries: countries seen in the org outside this key\n" in text
    assert text.endswith(
        "Window: 2026-06-01 00:00:00Z → 2026-06-11 00:00:00Z; source: synthetic; generated 2026-06-11 00:00:00Z\n"
    )
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text


def test_markdown_keeps_the_recipe_labels_and_escapes_event_text():
    md = key_report.render_md(_report())
    for label in ("**Key ID:**", "**Created:**", "**Active period:**", "**Total events:**", "## Origins",
                  "## Endpoints called (top 5)", "Destructive actions: 1 deletion — monitor", "## Recommended actions"):  # fmt: skip
        assert label in md
    assert "- Romania (M247 Europe SRL): 2 events — **FLAG: first-time origin**" in md
    assert "- `DELETE /api/v1/monitor/{monitor_id}`: 1 call" in md
    # Event text cannot open tags, links, code spans or table cells.
    assert "\\[x\\] \\<script\\>alert(1)\\</script\\> \\|evil\\| \\`tick\\` red gpj.exe" in md
    assert "<script>" not in md and "\x1b" not in md
    table_rows = [line for line in md.splitlines() if line.startswith("| 2026-06-04")]
    assert all(line.count(" | ") == 6 for line in table_rows[:1])  # the name's pipes are escaped, not columns
    assert "1. Revoke the key immediately if not already done" in md
    assert (
        md.index("## Origins")
        < md.index("## Endpoints called")
        < md.index("## Destructive actions")
        < md.index("## Recommended actions")
    )


def test_html_is_self_contained_and_escapes_everything():
    info = ApiKeyInfo(id=KEY, name=HOSTILE, last4="cdef", created_by=UserRef(id="u", email="m@example.com"))
    doc = key_report.render_html(_report(api_key=info))
    assert doc.startswith('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    assert "default-src 'none'" in doc
    assert "<script" not in doc and "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    for forbidden in (" src=", " href=", "url(", "@import", "\x1b", "\u202e", "\x07"):
        assert forbidden not in doc
    assert '<span class="sev sev-high">! HIGH</span>' in doc
    assert "Verdict: ✖ LIKELY COMPROMISED" in doc
    assert "<h2>Origins</h2>" in doc and "<h2>Recommended actions</h2>" in doc


def test_html_helpers_escape_attributes_and_cells():
    assert esc('"><img src=x onerror=alert(1)>') == "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    assert esc(None) == "" and esc(Markup("<b>ok</b>")) == "<b>ok</b>"
    t = table(["a"], [["<i>"], [Markup("<i>x</i>")]], row_classes=['" onclick="x', None])
    assert "<td>&lt;i&gt;</td>" in t and "<td><i>x</i></td>" in t
    assert 'class="&quot; onclick=&quot;x"' in t
    assert table(["a", "b"], [], empty="nothing").endswith(
        '<td colspan="2" class="muted">nothing</td></tr></tbody></table>'
    )
    assert "<title>&lt;t&gt;</title>" in page("<t>", "body")


def test_json_uses_the_recipe_field_names():
    info = ApiKeyInfo(
        id=KEY, name="ci", last4="cdef", created_by=UserRef(id="u", email="m@example.com"), leaked=False
    )
    data = json.loads(key_report.render_json(_report(api_key=info)))
    for name in ("key_id", "created", "first_seen", "last_seen", "total_events", "timeline", "origins",
                 "endpoints", "destructive", "flags", "verdict", "recommended_actions"):  # fmt: skip
        assert name in data
    assert data["key_id"] == KEY
    assert data["created"] == {
        "created_at": "2026-05-31T00:00:00.000Z",
        "created_by": "marcus@example.com",
        "creator_ip": "198.51.100.214",
        "creator_country": "United States",
        "source": "audit trail",
        "event_id": data["created"]["event_id"],
    }
    assert (data["first_seen"], data["last_seen"], data["total_events"]) == (
        "2026-06-01T14:00:00.000Z",
        "2026-06-04T00:00:00.300Z",
        5,
    )
    assert list(data["timeline"][0])[:11] == [
        "timestamp", "action", "event", "resource_type", "resource_id", "endpoint", "method", "ip", "city",
        "country", "asn",
    ]  # fmt: skip
    assert data["origins"][1] | {"networks": None} == {
        "country": "Romania",
        "count": 2,
        "asns": ["M247 Europe SRL"],
        "ips": ["192.0.2.147"],
        "flag": "FLAG: first-time origin",
        "country_iso": "RO",
        "networks": None,
    }
    assert data["endpoints"] == [
        {"path": "/api/v1/dashboard", "methods": ["GET"], "count": 3},
        {"path": "/api/v1/monitor/42", "methods": ["DELETE"], "count": 2},
    ]
    assert data["routes"][2] == {"path": "/api/v1/monitor/{monitor_id}", "methods": ["DELETE"], "count": 1}
    assert data["destructive"][0] | {"event_id": None, "related_event_ids": None, "resource_name": None} == {
        "timestamp": "2026-06-04T00:00:00.300Z",
        "resource_type": "monitor",
        "resource_id": "42",
        "ip": "192.0.2.147",
        "country": "Romania",
        "resource_name": None,
        "kind": "deleted",
        "method": "DELETE",
        "path": "/api/v1/monitor/42",
        "status": 200,
        "event_id": None,
        "related_event_ids": None,
    }
    assert [sorted(f) for f in data["flags"]][0] == [
        "details",
        "event_ids",
        "reason",
        "severity",
        "signal",
        "subject",
        "title",
    ]
    assert data["flags"][0]["severity"] == "high"
    assert data["verdict"] == "likely compromised"
    assert len(data["recommended_actions"]) == 4
    assert data["api_key"]["last4"] == "cdef" and "key" not in data["api_key"]
    assert data["severity_counts"] == {"critical": 0, "high": 3, "medium": 0, "low": 0, "info": 0}


def _jq(program: str, path: Path) -> object:
    return json.loads(
        subprocess.run(["jq", program, str(path)], check=True, capture_output=True, text=True).stdout
    )


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize("dataset", ["demo", "synthetic"])
def test_json_groupings_equal_the_recipes_jq(tmp_path, dataset):
    if dataset == "demo":
        key = PLANTED.compromised_key
        key_items = [
            it for it in demo_items()
            if (it["attributes"]["attributes"].get("metadata") or {}).get("api_key", {}).get("id") == key
        ]  # fmt: skip
    else:  # nulls, ties, query strings, odd characters: where jq's ordering rules show
        key = KEY
        key_items = [
            item(T0 + 1, NO_GEO, method=None, path=None),
            item(T0 + 2, LONDON_BT, method="POST", path="/api/v2/query?x=1"),
            item(T0 + 3, NO_GEO, method="GET", path="/api/v2/query?x=1"),
            item(T0 + 4, dict(NYC_VERIZON, asn_name="Zeta ÅS"), path="/Ünicode"),
            item(T0 + 5, NYC_VERIZON, path="/api/v1/dashboard"),
            item(T0 + 6, dict(NYC_VERIZON, country="Åland", iso="AX"), path="/api/v1/dashboard"),
            item(T0 + 7, dict(NYC_VERIZON, ip="10.0.0.2"), method="delete", path="/a"),
        ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"data": key_items}, ensure_ascii=False))
    report = analyze_key(key, events(key_items), window=Window(0, 2**42), now_ms=T0)
    data = json.loads(key_report.render_json(report))
    ours = [{k: o[k] for k in ("country", "count", "asns", "ips")} for o in data["origins"]]
    assert ours == _jq(JQ_STEP2, path)
    assert data["endpoints"] == _jq(JQ_STEP3, path)
    assert data["total_events"] == len(key_items)


def test_summary_line_for_the_clipboard():
    assert key_report.summary_line(_report()) == (
        f"API key {KEY}: ✖ LIKELY COMPROMISED (3 high); 5 events 2026-06-01 14:00:00Z → 2026-06-04 00:00:00Z; "
        "origins: United States 3, Romania 2 (first-time); 1 deletion — monitor; "
        "created 2026-05-31 00:00:00Z by marcus@example.com."
    )
