"""Every org at once in the TUI (issue 16 item 5): `ddaudit --all-profiles` / `--profile a,b` look a key up
in each org concurrently — each profile with its own credentials, site and client — and show one line per
org above the report, worst first; one org's failure is named and does not sink the others.

Two loopback fakes serve demo orgs of different seeds (as tests/cli/test_cli_orgs.py); the compromised demo
key acts only in the first, and each fake accepts only its own profile's keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import screen_lines, screen_text
from watch_pane_helpers import until

from ddaudit_tui.cli import build_parser, tui_app
from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import FakeCredentials, FakeDatadog
from ddaudit_tui.demo.loopback import start_loopback
from ddaudit_tui.demo.serve_fake import demo_items
from ddaudit_tui.orgs import STATUS_FAILED, STATUS_NOT_SEEN, STATUS_OK
from ddaudit_tui.timeutil import iso
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.orgs import OrgStrip
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.widgets.header import PaneHeader
from ddaudit_tui.tui.widgets.pane_bar import PaneBar

END = 1_785_500_000_000
WINDOW = ["--from", iso(END - 90 * 86_400_000), "--to", iso(END)]
KEYS = {
    "prod": ("c0ffee00prod0000secret0000apikey", "c0ffee00prod0000secret00000000applicationk"),
    "eu": ("beef0000eu000000secret0000apikey", "beef0000eu000000secret00000000applicationk"),
}
SITES = {"prod": "datadoghq.com", "eu": "datadoghq.eu"}


@pytest.fixture(scope="module")
def items() -> dict[str, list[dict]]:
    eu = demo_items(8, events=3000, without_key=COMPROMISED_KEY, end_ms=END)
    assert not any(COMPROMISED_KEY in json.dumps(i) for i in eu)
    return {"prod": demo_items(7, events=3000, end_ms=END), "eu": eu}


@pytest.fixture
def orgs(
    items: dict[str, list[dict]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, tuple[FakeDatadog, Any]]]:
    """Both fakes on loopback and a config file naming them: {profile: (fake, stop)}."""
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_PROFILE", "DD_SITE", "DDAUDIT_API_URL",
                 "DDAUDIT_PROXY", "DDAUDIT_DD_AUTH", "DDAUDIT_DEADLINE", "DDAUDIT_MAX_EVENTS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    # A stopped fake refuses connections: the client's retries must not wait out their real backoff.
    monkeypatch.setattr("ddaudit_tui.sources.datadog.backoff_s", lambda attempt: 0.0)
    served: dict[str, tuple[FakeDatadog, Any]] = {}
    config = ""
    for profile in ("prod", "eu"):
        api_key, app_key = KEYS[profile]
        fake = FakeDatadog(
            items[profile], clock=lambda: END / 1000, credentials=FakeCredentials(api_key, app_key)
        )
        base_url, stop = start_loopback(fake)
        served[profile] = (fake, stop)
        monkeypatch.setenv(f"{profile.upper()}_DD_API_KEY", api_key)
        monkeypatch.setenv(f"{profile.upper()}_DD_APP_KEY", app_key)
        config += (
            f'[profiles.{profile}]\nsite = "{SITES[profile]}"\napi_url = "{base_url}"\n'
            f'api_key_env = "{profile.upper()}_DD_API_KEY"\napp_key_env = "{profile.upper()}_DD_APP_KEY"\n'
        )
    path = tmp_path / "config.toml"
    path.write_text(config)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(path))
    yield served
    for _fake, stop in served.values():
        stop()


def app_for(*argv: str) -> DdauditApp:
    args = build_parser("tui").parse_args(["tui", *argv, *WINDOW])
    app = tui_app(args)
    app.clock = lambda: END / 1000
    return app


def lookup_of(app: DdauditApp) -> KeyLookupScreen:
    screen = app.screen
    assert isinstance(screen, KeyLookupScreen)
    return screen


def answered(app: DdauditApp) -> bool:
    lookup = getattr(lookup_of(app), "org_lookup", None)
    return lookup is not None and lookup.done and lookup_of(app).report is not None


def strip_lines(app: DdauditApp) -> list[str]:
    return [line for line in screen_lines(app) if re.match(r"^[▸ ] org ", line)]


def actions_of(app: DdauditApp) -> set[str]:
    from ddaudit_tui.tui.commands import binding_groups

    return {e.action for g in binding_groups(app, app.screen) for e in g.entries}


def no_secrets(text: str) -> None:
    for api_key, app_key in KEYS.values():
        assert api_key not in text and app_key not in text


async def test_the_key_is_found_where_it_acted_and_not_seen_in_the_other(orgs) -> None:
    app = app_for("--all-profiles", "--key", COMPROMISED_KEY)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: answered(app), timeout=60, what="both orgs' answers")
        await pilot.pause()
        screen = lookup_of(app)
        lookup = screen.org_lookup  # type: ignore[attr-defined]
        assert {p: a.status for p, a in lookup.answers.items()} == {"prod": STATUS_OK, "eu": STATUS_NOT_SEEN}
        # The report below is the org where the key acted.
        assert lookup.shown == "prod" and screen.report is not None and screen.report.total_events > 0
        prod, eu = strip_lines(app)
        n = screen.report.total_events
        assert prod.startswith(f"▸ org prod (datadoghq.com): ✖ likely compromised · {n:,} events · complete")
        assert eu.startswith("  org eu (datadoghq.eu): not seen · complete")
        # Each org was asked with its own keys only.
        for profile, (fake, _stop) in orgs.items():
            assert {r.headers.get("dd-api-key") for r in fake.requests} == {KEYS[profile][0]}
        # How many orgs are in play: the header and the pane bar.
        assert "2 orgs" in screen.query_one(PaneHeader).plain
        assert "2 orgs" in screen.query_one(PaneBar).plain
        assert "org prod:" in screen.query_one(PaneHeader).plain  # the status names the org shown
        no_secrets(screen_text(app))


async def test_o_cycles_the_report_through_the_orgs_that_answered(orgs) -> None:
    app = app_for("--profile", "eu,prod", "--key", COMPROMISED_KEY)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: answered(app), timeout=60, what="both orgs' answers")
        screen = lookup_of(app)
        # Worst first, whatever the order asked.
        assert [line.split(" (")[0].strip("▸ ") for line in strip_lines(app)] == ["org prod", "org eu"]
        acted = screen.report
        await pilot.press("O")
        await pilot.pause()
        assert screen.org_lookup.shown == "eu"  # type: ignore[attr-defined]
        # The pane bar keeps the worst org's verdict, whichever org's report is shown.
        assert "Key lookup ✖ compromised" in screen.query_one(PaneBar).plain
        assert screen.report is not None and screen.report.total_events == 0
        assert strip_lines(app)[1].startswith("▸ org eu ")
        assert "org eu:" in screen.query_one(PaneHeader).plain
        await pilot.press("O")
        await pilot.pause()
        assert screen.org_lookup.shown == "prod" and screen.report is acted  # type: ignore[attr-defined]
        # The key is in the footer, and in help and the palette (both list `binding_groups`).
        assert "O Next org" in screen_text(app)
        assert "cycle_org" in actions_of(app)


@pytest.mark.parametrize("stopped", ["eu", "prod"])
async def test_one_org_down_the_other_still_answers_and_the_stopped_one_is_named(orgs, stopped) -> None:
    orgs[stopped][1]()  # connections refused from now on
    app = app_for("--all-profiles", "--key", COMPROMISED_KEY)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: answered(app), timeout=60, what="both orgs' answers")
        await pilot.pause()
        screen = lookup_of(app)
        lookup = screen.org_lookup  # type: ignore[attr-defined]
        other = "prod" if stopped == "eu" else "eu"
        assert lookup.answers[stopped].status == STATUS_FAILED
        assert lookup.answers[other].status != STATUS_FAILED
        assert lookup.shown == other
        line = next(x for x in strip_lines(app) if x[2:].startswith(f"org {stopped} "))
        assert line[2:].startswith(f"org {stopped} ({SITES[stopped]}): ✖ failed: ")
        assert "cannot connect" in line
        if other == "prod":
            assert strip_lines(app)[0].startswith("▸ org prod (datadoghq.com): ✖ likely compromised")
        no_secrets(screen_text(app))


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_the_strip_fits_no_number_cut(orgs, size) -> None:
    app = app_for("--all-profiles", "--key", COMPROMISED_KEY)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: answered(app), timeout=60, what="both orgs' answers")
        await pilot.pause()
        screen = lookup_of(app)
        strip = screen.query_one(OrgStrip)
        assert strip.size.height == 2
        lines = strip_lines(app)
        assert len(lines) == 2
        width = size[0]
        n = screen.report.total_events  # type: ignore[union-attr]
        assert (
            f"✖ likely compromised · {n:,} events" in lines[0] or f"✖ compromised · {n:,} events" in lines[0]
        )
        assert "not seen" in lines[1]
        for line in lines:
            assert len(line.rstrip()) <= width
            # A line cut at the edge ends in …, never inside a number.
            assert not re.search(r"\d$", line.rstrip()) or line.rstrip().endswith(("s", "complete"))
        assert strip.plain.splitlines() == [x.rstrip() for x in lines]


async def test_the_other_panes_say_which_orgs_they_work_on(orgs) -> None:
    # Explore, AI activity and Spike watch ask every org too (test_orgs_panes.py).
    app = app_for("--profile", "prod,eu", "--pane", "explore")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(PaneHeader).plain
        assert "2 orgs: prod, eu" in header
        assert "2 orgs" in app.screen.query_one(PaneBar).plain


async def test_one_org_has_no_org_key(orgs) -> None:
    app = app_for("--profile", "prod", "--key", COMPROMISED_KEY)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = lookup_of(app)
        assert screen.check_action("cycle_org", ()) is False
        assert "cycle_org" in screen.absent_actions()
        assert "cycle_org" not in actions_of(app)
        assert "Next org" not in screen_text(app)
        assert "orgs" not in screen.query_one(PaneBar).plain


async def test_the_key_picker_lists_the_keys_of_every_org_with_an_org_column(orgs) -> None:
    from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions

    app = app_for("--all-profiles", "--pane", "lookup")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = lookup_of(app)
        suggestions = screen.query_one(KeySuggestions)
        await until(pilot, lambda: bool(suggestions.keys) and not screen._assessing, timeout=120, what="keys")
        await pilot.pause()
        assert suggestions.org_of[COMPROMISED_KEY] == "prod"
        assert "eu" in set(suggestions.org_of.values()) or "prod, eu" in set(suggestions.org_of.values())
        rows = [line for line in screen_lines(app) if re.search(r"\bevents?\b", line) and "last" in line]
        top = rows[0]
        assert top.startswith("✖ compromised") and " prod " in top  # riskiest first, its org named
        assert any(re.search(r" eu ", row) for row in rows)
        assert "seen in 2 of 2 orgs" in screen.status.text
        no_secrets(screen_text(app))


async def test_the_key_picker_names_an_org_that_cannot_list_its_keys(orgs) -> None:
    from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions

    orgs["eu"][1]()
    app = app_for("--all-profiles", "--pane", "lookup")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = lookup_of(app)
        suggestions = screen.query_one(KeySuggestions)
        await until(pilot, lambda: bool(suggestions.keys) and not screen._assessing, timeout=120, what="keys")
        await pilot.pause()
        assert set(suggestions.org_of.values()) == {"prod"}
        status = screen.status.text
        assert "seen in 1 of 2 orgs" in status and "org eu: cannot connect" in status
        assert screen.status.kind == "compromised"  # the worst news still leads


async def test_an_org_without_credentials_is_that_orgs_failure(orgs, monkeypatch) -> None:
    monkeypatch.delenv("EU_DD_API_KEY")
    monkeypatch.delenv("EU_DD_APP_KEY")
    app = app_for("--all-profiles", "--key", COMPROMISED_KEY)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: answered(app), timeout=60, what="both orgs' answers")
        await pilot.pause()
        eu = next(x for x in strip_lines(app) if x[2:].startswith("org eu "))
        assert eu[2:].startswith("org eu (datadoghq.eu): ✖ failed: no Datadog credentials")
        assert lookup_of(app).org_lookup.shown == "prod"  # type: ignore[attr-defined]


def test_every_org_without_credentials_exits_as_one_org_would(orgs, monkeypatch, capsys) -> None:
    from ddaudit_tui.cli import main

    for name in ("PROD_DD_API_KEY", "PROD_DD_APP_KEY", "EU_DD_API_KEY", "EU_DD_APP_KEY"):
        monkeypatch.delenv(name)
    assert main(["--all-profiles", *WINDOW]) == 3
    assert "no Datadog credentials" in capsys.readouterr().err


def test_several_orgs_and_a_case_is_a_usage_error(orgs, capsys) -> None:
    from ddaudit_tui.cli import main

    assert main(["--profile", "prod,eu", "--case", "inc-1", *WINDOW]) == 2
    assert "--case" in capsys.readouterr().err


# -- the strip's text at any width, from answers made up (no fake needed) ---------------------------------


def made_up_orgs(n: int) -> tuple[list[Any], Any]:
    from types import SimpleNamespace

    from ddaudit_tui.orgs import OrgAnswer, OrgSource
    from ddaudit_tui.sources.completeness import Completeness
    from ddaudit_tui.tui.orgs import OrgLookup

    orgs = [OrgSource(f"production-region-{i}", "us5.datadoghq.com", source=object()) for i in range(n)]
    lookup = OrgLookup(COMPROMISED_KEY, orgs, token=1)
    whole = Completeness(requests=1234, events_fetched=1_234_567, elapsed_ms=65_000)
    cut = Completeness(requests=50, partial=True, reasons=("the 50-page budget was reached before the end",))
    reports = [
        SimpleNamespace(verdict="likely compromised", total_events=1_234_567, completeness=whole),
        SimpleNamespace(verdict="suspicious", total_events=98_765, completeness=cut),
        SimpleNamespace(verdict="no evidence", total_events=0, completeness=whole),
    ]
    for i, org in enumerate(orgs):
        if i == 3:
            lookup.answers[org.profile] = OrgAnswer(
                org.profile,
                org.site,
                STATUS_FAILED,
                error=" ".join(["cannot connect to dd-gateway.corp.example:443"] * 3),
            )
        elif i < 3:
            r = reports[i]
            status = STATUS_OK if r.total_events else STATUS_NOT_SEEN
            lookup.answers[org.profile] = OrgAnswer(org.profile, org.site, status, result=r)
    lookup.shown = orgs[0].profile
    return orgs, lookup


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_the_strip_keeps_every_number_whole_and_cuts_text_with_an_ellipsis(width) -> None:
    from ddaudit_tui.tui.orgs import render_strip

    orgs, lookup = made_up_orgs(4)
    lines = render_strip(lookup, orgs, width, 5, lambda kind: None).plain.splitlines()
    assert len(lines) == 4
    assert all(len(line) <= width for line in lines)
    compromised, suspicious, failed, not_seen = lines  # worst first: a failure before the quiet answers
    assert "✖ " in compromised and "1,234,567 events" in compromised
    assert "▲ suspicious · 98,765 events · ⚠ PARTIAL" in suspicious  # a partial answer never reads complete
    assert "✖ failed: cannot connect" in failed
    assert failed.endswith("…") == (width < 200)  # the reason is cut, not the other lines' details
    assert "not seen" in not_seen
    for line in (compromised, suspicious, not_seen):  # cut at the edge: after a word, with `…`
        assert not line.endswith(tuple("0123456789,")), line
        assert line.endswith(("complete", "PARTIAL", " s", "the end", "…")), line


def test_the_strip_counts_the_orgs_it_has_no_room_for() -> None:
    from ddaudit_tui.tui.orgs import render_strip

    orgs, lookup = made_up_orgs(7)
    lines = render_strip(lookup, orgs, 120, 5, lambda kind: None).plain.splitlines()
    assert len(lines) == 5
    assert lines[-1].startswith("  + 3 more orgs: ")
    assert "3 asking" in lines[-1]  # the three not answered yet are the least informative: left out first
