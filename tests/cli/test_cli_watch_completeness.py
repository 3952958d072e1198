"""`ddaudit watch --once` states how complete its poll was (issue 16 item 1): a `completeness` object in the
JSON document, a completeness line on stderr in text (stdout stays one line per alert: cron mails any
output), and `--fail-on partial` exits 7 when the fake Datadog API answered `meta.status: timeout` — unless
an alert fired (5) or a page is undelivered (6), which outrank it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from watch_helpers import T0, M, api_item  # noqa: E402

from ddaudit_tui.cli import main  # noqa: E402
from ddaudit_tui.cliutil import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE  # noqa: E402
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan  # noqa: E402
from ddaudit_tui.demo.loopback import loopback  # noqa: E402

EXIT_FIRED = 5
REASON = "server timeout (meta.status: timeout) on page 1"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in (
        "DD_ACCESS_TOKEN", "DDAUDIT_PROFILE", "DD_SITE", "DDAUDIT_API_URL", "DDAUDIT_PROXY", "DDAUDIT_RULES",
        "DDAUDIT_STATE_DIR", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DD_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", DEMO_APP_KEY)


def quiet() -> list[dict[str, Any]]:
    """Two role changes: below every rule's threshold, nothing fires."""
    return [api_item(-m, "dave@example.com", "Access Management", "role", "modified") for m in (9, 3)]


def burst() -> list[dict[str, Any]]:
    return [api_item(-m, "eve@example.com", "Access Management", "role", "modified") for m in (9, 6, 3)]


def run(capsys, items: list[dict[str, Any]], partial: bool, *argv: str) -> tuple[int, str, str]:
    faults = FaultPlan(rates={"partial": 1.0}) if partial else None
    fake = FakeDatadog(items, faults=faults, clock=lambda: T0 / 1000)
    with loopback(fake) as base_url:
        code = main(
            ["watch", "--once", "--no-state", "--api-url", base_url, "--from", str(T0 - 20 * M), *argv]
        )
    out, err = capsys.readouterr()
    return code, out, err


def test_json_document_carries_the_polls_completeness(capsys) -> None:
    code, out, err = run(capsys, quiet(), False, "--format", "json")
    assert code == EXIT_OK, err
    c = json.loads(out)["completeness"]
    assert (c["partial"], c["engine"], c["events_fetched"]) == (False, "search", 2)
    assert c["requests"] >= 1 and c["rate_limit"]["limit"] == 1000
    code, out, err = run(capsys, quiet(), True, "--format", "json")
    assert code == EXIT_OK  # without the flag a partial poll is not an error: the next one fetches it again
    c = json.loads(out)["completeness"]
    assert c["partial"] is True and any(REASON in r for r in c["reasons"])


def test_text_keeps_stdout_to_alerts_and_says_a_partial_poll_on_stderr(capsys) -> None:
    code, out, err = run(capsys, quiet(), True)
    assert (code, out) == (EXIT_OK, "")
    assert "completeness: PARTIAL: engine search" in err and REASON in err
    code, out, err = run(capsys, quiet(), False)
    assert (code, out) == (EXIT_OK, "") and "PARTIAL" not in err


def test_fail_on_partial_exits_7_on_a_partial_poll_and_0_on_a_complete_one(capsys) -> None:
    code, _, err = run(capsys, quiet(), True, "--fail-on", "partial")
    assert code == EXIT_PARTIAL == 7
    assert f"the answer is partial (--fail-on partial, exit 7): {REASON}" in err
    code, _, err = run(capsys, quiet(), False, "--fail-on", "partial")
    assert code == EXIT_OK and "partial" not in err.lower()


def test_an_alert_that_fired_outranks_partial(capsys) -> None:
    code, out, _ = run(capsys, burst(), True, "--fail-on", "partial")
    assert code == EXIT_FIRED and "role_changes" in out


def test_fail_on_needs_a_run_that_ends(capsys) -> None:
    code = main(["watch", "--demo", "--fail-on", "partial"])
    _, err = capsys.readouterr()
    assert code == EXIT_USAGE and "--fail-on" in err
