"""`ddaudit detections`: every key, AI and watch signal with its defaults, in text, Markdown and JSON;
docs/detections.md is its Markdown, so the page cannot drift from the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddaudit_tui import cli
from ddaudit_tui.alerts.rules import default_rules
from ddaudit_tui.analysis.detections import for_analysis, registry
from ddaudit_tui.cliutil import EXIT_OK, EXIT_USAGE
from ddaudit_tui.commands import detections as command

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "detections.md"
EXPECTED = [d.name for d in registry()] + [r.name for r in default_rules()]


def test_text_is_the_default_and_lists_every_signal_with_its_defaults(capsys):
    assert cli.main(["detections"]) == EXIT_OK
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert f"  {name}: " in out
    assert f"Key lookup (ddaudit key) — {len(for_analysis('key'))} detections" in out
    assert f"AI activity (ddaudit ai) — {len(for_analysis('ai'))} detections" in out
    assert "    burst_window_s = 300 s (5m)  (fixed in code: KeyAnalysisConfig.burst_window_s)" in out
    assert "    burst_calls = 100 calls  (ai --burst-calls)" in out
    assert "    business_hours = not set  (config business_hours / key --business-hours)" in out
    assert "    threshold = 10 values  (rules file: [rules.bulk_deletion] threshold)" in out


def test_json_carries_names_defaults_units_and_where_to_tune(capsys):
    assert cli.main(["detections", "--format", "json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in doc["detections"]] == EXPECTED
    by = {d["name"]: d for d in doc["detections"]}
    travel = {p["name"]: p for p in by["impossible_travel"]["params"]}
    assert travel["travel_min_kmh"] == {
        "name": "travel_min_kmh",
        "default": 900.0,
        "unit": "km/h",
        "config_key": None,
        "description": "minimum speed",
    }
    assert by["ai_destructive"]["params"][0]["default"] == ["dashboard", "monitor"]
    assert by["ai_burst"]["analysis"] == "ai" and by["role_changes"]["analysis"] == "watch"


def test_markdown_is_docs_detections_md():
    # Regenerate with: ddaudit detections --format md -o docs/detections.md
    assert DOCS.read_text(encoding="utf-8") == command.render("md")


def test_markdown_tables_list_every_signal(capsys):
    assert cli.main(["detections", "-f", "md"]) == EXIT_OK
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert f"| `{name}` |" in out
    assert "| `burst` | `burst_z` | 3 robust z | fixed in code: KeyAnalysisConfig.burst_z |" in out


def test_unknown_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["detections", "--format", "html"])
    assert exc.value.code == EXIT_USAGE
