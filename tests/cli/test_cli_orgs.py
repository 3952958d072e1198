"""Every org at once (issue 16 item 5): `--profile a,b` / `--all-profiles` on `key`, `search` and `ai` ask
the same question of each org concurrently — each profile with its own credentials, site and client — and
show the answers side by side; one org's failure is named and does not sink the others.

Two loopback fakes, each serving a demo org of a different seed; the compromised demo key acts only in the
first (it is taken out of the second org's events), and each fake accepts only its own profile's keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_OK, EXIT_USAGE
from ddaudit_tui.commands.orgs import EXIT_ORG_FAILED
from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import FakeCredentials, FakeDatadog
from ddaudit_tui.demo.loopback import start_loopback
from ddaudit_tui.demo.serve_fake import demo_items
from ddaudit_tui.timeutil import iso

END = 1_785_500_000_000
WINDOW = ["--from", iso(END - 90 * 86_400_000), "--to", iso(END)]
KEYS = {
    "prod": ("c0ffee00prod0000secret0000apikey", "c0ffee00prod0000secret00000000applicationk"),
    "eu": ("beef0000eu000000secret0000apikey", "beef0000eu000000secret00000000applicationk"),
}


def org_items(seed: int, without_key: str | None = None) -> list[dict]:
    # `without_key`: an org the key never reached (what `serve_fake --without-key` serves, docs/configuration.md)
    items = demo_items(seed, events=4000, without_key=without_key, end_ms=END)
    assert without_key is None or not any(without_key in json.dumps(i) for i in items)
    return items


def fake_for(profile: str, items: list[dict]) -> FakeDatadog:
    api_key, app_key = KEYS[profile]
    return FakeDatadog(items, clock=lambda: END / 1000, credentials=FakeCredentials(api_key, app_key))


@pytest.fixture(scope="module")
def items() -> dict[str, list[dict]]:
    return {"prod": org_items(7), "eu": org_items(8, without_key=COMPROMISED_KEY)}


@pytest.fixture
def orgs(
    items: dict[str, list[dict]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, tuple[FakeDatadog, str, object]]]:
    """Both fakes on loopback and a config file naming them: {profile: (fake, base_url, stop)}."""
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_PROFILE", "DD_SITE", "DDAUDIT_API_URL",
                 "DDAUDIT_PROXY", "DDAUDIT_DD_AUTH", "DDAUDIT_DEADLINE", "DDAUDIT_MAX_EVENTS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    # A stopped fake refuses connections: the client's retries must not wait out their real backoff.
    monkeypatch.setattr("ddaudit_tui.sources.datadog.backoff_s", lambda attempt: 0.0)
    served: dict[str, tuple[FakeDatadog, str, object]] = {}
    for profile in ("prod", "eu"):
        fake = fake_for(profile, items[profile])
        base_url, stop = start_loopback(fake)
        served[profile] = (fake, base_url, stop)
        monkeypatch.setenv(f"{profile.upper()}_DD_API_KEY", KEYS[profile][0])
        monkeypatch.setenv(f"{profile.upper()}_DD_APP_KEY", KEYS[profile][1])
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "prod"\n'
        + "".join(
            f'[profiles.{p}]\nsite = "{site}"\napi_url = "{served[p][1]}"\n'
            f'api_key_env = "{p.upper()}_DD_API_KEY"\napp_key_env = "{p.upper()}_DD_APP_KEY"\n'
            for p, site in (("prod", "datadoghq.com"), ("eu", "datadoghq.eu"))
        )
    )
    monkeypatch.setenv("DDAUDIT_CONFIG", str(config))
    yield served
    for _fake, _url, stop in served.values():
        stop()  # type: ignore[operator]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def no_secrets(*texts: str) -> None:
    for text in texts:
        for api_key, app_key in KEYS.values():
            assert api_key not in text and app_key not in text


def org_line(out: str, profile: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"org {profile} "))


def test_key_all_profiles_finds_the_key_where_it_acted_and_not_elsewhere(orgs, capsys) -> None:
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--all-profiles", *WINDOW)
    assert code == EXIT_OK, err
    prod, eu = org_line(out, "prod"), org_line(out, "eu")
    assert prod.startswith("org prod (datadoghq.com): likely compromised")
    assert "complete" in prod
    assert eu.startswith("org eu (datadoghq.eu): not seen")
    assert "1 of 2 orgs" in out  # the question's answer, before the sections
    assert out.index("org prod ") < out.index("org eu ")  # in the order asked (config order here)
    # Each org was asked with its own keys only.
    for profile, (fake, _url, _stop) in orgs.items():
        sent = {r.headers.get("dd-api-key") for r in fake.requests}
        assert sent == {KEYS[profile][0]}
    no_secrets(out, err)


def test_one_org_down_the_other_still_answers_and_the_stopped_one_is_named(orgs, capsys) -> None:
    orgs["eu"][2]()  # the eu fake stops: connections refused
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--profile", "prod,eu", *WINDOW)
    assert code == EXIT_ORG_FAILED
    assert org_line(out, "prod").startswith("org prod (datadoghq.com): likely compromised")
    eu = org_line(out, "eu")
    assert eu.startswith("org eu (datadoghq.eu): failed: ")
    assert "cannot connect" in eu
    assert "eu" in err and "failed" in err
    no_secrets(out, err)


def test_key_json_shape(orgs, capsys) -> None:
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--all-profiles", "--format", "json", *WINDOW)
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert doc["kind"] == "key"
    assert [o["profile"] for o in doc["orgs"]] == ["prod", "eu"]
    prod, eu = doc["orgs"]
    assert (prod["site"], prod["status"], prod["error"]) == ("datadoghq.com", "ok", None)
    assert prod["complete"] is True and prod["completeness"]
    assert prod["report"]["key_id"] == COMPROMISED_KEY and prod["report"]["verdict"] == "likely compromised"
    assert (eu["site"], eu["status"], eu["error"]) == ("datadoghq.eu", "not_seen", None)
    assert eu["report"]["total_events"] == 0
    no_secrets(out, err)


def test_key_json_names_the_failed_org(orgs, capsys) -> None:
    orgs["prod"][2]()
    code, out, _err = run(capsys, "key", COMPROMISED_KEY, "--all-profiles", "--format", "json", *WINDOW)
    assert code == EXIT_ORG_FAILED
    prod, eu = json.loads(out)["orgs"]
    assert prod["status"] == "failed" and prod["report"] is None and "cannot connect" in prod["error"]
    assert eu["status"] == "not_seen"


def test_key_md_has_one_section_per_org(orgs, capsys) -> None:
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--profile", "eu,prod", "--format", "md", *WINDOW)
    assert code == EXIT_OK, err
    assert out.index("## org eu (datadoghq.eu)") < out.index("## org prod (datadoghq.com)")
    assert "likely compromised" in out


def test_fail_on_findings_in_any_org(orgs, capsys) -> None:
    code, _out, _err = run(
        capsys, "key", COMPROMISED_KEY, "--all-profiles", "--fail-on", "compromised", *WINDOW
    )
    assert code == 5


def test_unknown_profile_is_a_one_line_usage_error(orgs, capsys) -> None:
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--profile", "prod,nope", *WINDOW)
    assert code == EXIT_USAGE
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "'nope'" in err and "prod" in err and "eu" in err


def test_all_profiles_with_another_source_or_profile_is_a_usage_error(orgs, capsys) -> None:
    assert run(capsys, "key", COMPROMISED_KEY, "--all-profiles", "--demo")[0] == EXIT_USAGE
    assert run(capsys, "key", COMPROMISED_KEY, "--all-profiles", "--profile", "eu")[0] == EXIT_USAGE


def test_search_across_orgs(orgs, capsys) -> None:
    query = f"@metadata.api_key.id:{COMPROMISED_KEY}"
    code, out, err = run(capsys, "search", query, "--all-profiles", "--format", "json", *WINDOW)
    assert code == EXIT_OK, err
    prod, eu = json.loads(out)["orgs"]
    assert prod["status"] == "ok" and prod["report"]["count"] == len(prod["report"]["events"]) > 0
    assert eu["status"] == "not_seen" and eu["report"]["count"] == 0
    code, out, err = run(capsys, "search", query, "--all-profiles", *WINDOW)
    assert code == EXIT_OK, err
    assert org_line(out, "prod").startswith(f"org prod (datadoghq.com): {prod['report']['count']} events")
    assert org_line(out, "eu").startswith("org eu (datadoghq.eu): not seen")
    code, out, err = run(capsys, "search", query, "--all-profiles", "--format", "csv", *WINDOW)
    assert out.splitlines()[0].startswith("org,")
    assert {line.split(",")[0] for line in out.splitlines()[1:]} == {"prod"}
    no_secrets(out, err)


def test_ai_across_orgs(orgs, capsys) -> None:
    code, out, err = run(capsys, "ai", "--all-profiles", "--format", "json", "--baseline", "0", *WINDOW)
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert doc["kind"] == "ai"
    assert [(o["profile"], o["status"]) for o in doc["orgs"]] == [("prod", "ok"), ("eu", "ok")]
    assert all(o["report"]["total_tool_calls"] > 0 for o in doc["orgs"])
    no_secrets(out, err)


def test_key_html_is_one_page_with_a_section_per_org(orgs, capsys) -> None:
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--all-profiles", "--format", "html", *WINDOW)
    assert code == EXIT_OK, err
    assert out.count("<html") == 1 and out.count("Content-Security-Policy") == 1
    assert out.index("org prod (datadoghq.com)") < out.index("org eu (datadoghq.eu)")
    assert "not seen" in out and "likely compromised" in out
    no_secrets(out, err)


def test_an_org_refusing_its_keys_is_named_and_the_other_answers(orgs, capsys, monkeypatch) -> None:
    wrong = "0000wrong0000eu00000000000apikey"
    monkeypatch.setenv("EU_DD_API_KEY", wrong)
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--all-profiles", *WINDOW)
    assert code == EXIT_ORG_FAILED
    assert org_line(out, "prod").startswith("org prod (datadoghq.com): likely compromised")
    assert org_line(out, "eu").startswith("org eu (datadoghq.eu): failed: ")
    assert "403" in org_line(out, "eu") or "401" in org_line(out, "eu")
    no_secrets(out, err)
    assert wrong not in out + err


def test_every_org_refusing_exits_with_the_authentication_code(orgs, capsys, monkeypatch) -> None:
    for profile in ("PROD", "EU"):
        monkeypatch.setenv(f"{profile}_DD_API_KEY", "0000wrong0000000000000000apikey0")
    code, out, _err = run(capsys, "search", "*", "--all-profiles", "--format", "json", *WINDOW)
    assert code == 3
    assert [o["status"] for o in json.loads(out)["orgs"]] == ["failed", "failed"]


def test_case_journal_is_single_org(orgs, capsys) -> None:
    code, out, err = run(capsys, "key", COMPROMISED_KEY, "--all-profiles", "--case", "inc-1", *WINDOW)
    assert code == EXIT_USAGE and out == ""
    assert "--case" in err


def test_exit_code_order() -> None:
    from types import SimpleNamespace

    from ddaudit_tui.commands.orgs import STATUS_FAILED, STATUS_OK, OrgAnswer, exit_code

    whole = SimpleNamespace(complete=True, warnings=[])
    partial = SimpleNamespace(complete=False, warnings=["a page timed out"])
    ok = OrgAnswer("a", "s", STATUS_OK, result=whole)
    cut = OrgAnswer("b", "s", STATUS_OK, result=partial)
    down = OrgAnswer("c", "s", STATUS_FAILED, error="cannot connect", exit_code=1)
    assert exit_code([ok, cut]) == EXIT_OK
    assert exit_code([ok, cut], fail_on="partial") == 7  # --fail-on partial (issue 16 item 1)
    assert exit_code([ok, cut, down], fail_on="partial") == EXIT_ORG_FAILED
    assert exit_code([ok, down], own=lambda r: 5) == 5
    assert exit_code([down]) == 1


@pytest.mark.parametrize("argv", [["watch", "--once"], ["config"]])  # the TUI: tests/tui/test_orgs_tui.py
def test_single_org_commands_say_which_commands_take_several(orgs, capsys, argv) -> None:
    code, out, err = run(capsys, *argv, "--profile", "prod,eu")
    assert code == EXIT_USAGE and out == ""
    assert "several profiles" in err and "key, search and ai" in err
    assert len(err.strip().splitlines()) == 1


def test_ai_text_counts_events_and_calls_per_org_with_the_engine(orgs, capsys) -> None:
    """Each org's line gives its AI events and AI calls (the glossary's two quantities, from the counts
    — under DDSQL one call stands for a group of events, so `len(calls)` would undercount), and the
    `--engine` asked for reaches every org."""
    code, out, err = run(capsys, "ai", "--all-profiles", "--baseline", "0", "--engine", "ddsql", *WINDOW)
    assert code == EXIT_OK, err
    code_j, out_j, _ = run(capsys, "ai", "--all-profiles", "--format", "json", "--baseline", "0", *WINDOW)
    for org in json.loads(out_j)["orgs"]:
        line = org_line(out, org["profile"])
        report = org["report"]
        assert f"{report['counts']['ai_events']:,} AI events · {report['counts']['calls']:,} AI calls" in line
    assert "ddsql" in out
    no_secrets(out, err)


@pytest.mark.parametrize("command", [["ai"], ["key", COMPROMISED_KEY]])
def test_max_pages_below_one_is_a_usage_error_across_orgs_too(orgs, capsys, command) -> None:
    # `--max-pages 0` across orgs was read as "unset" (`0 or 50`) and the lookup ran on 50 pages.
    code, out, err = run(capsys, *command, "--all-profiles", "--max-pages", "0", *WINDOW)
    assert code == EXIT_USAGE
    assert out == ""
    assert err.strip() == "ddaudit: --max-pages 0: expected 1 or more"
