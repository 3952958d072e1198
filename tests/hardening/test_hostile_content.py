"""Hostile event content through every headless command and format (issue 7, item 2).

The input (hostile_data.py) puts Rich/Textual markup, CSI/OSC/C1 sequences, bidi overrides, NUL/BEL, a
100 kB string and 200-level nesting into every field an attacker chooses. For each command and format:
- text, Markdown, table and CSV never carry a control character a terminal could act on;
- JSON and NDJSON carry the data exactly, with such characters written as `\\uXXXX` escapes;
- HTML is escaped; Markdown table rows keep their cell count; the exit code is the documented one and
  there is never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import hostile_data as hd  # noqa: E402

from ddaudit_tui import cli  # noqa: E402
from ddaudit_tui.cliutil import EXIT_FINDINGS, EXIT_OK  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, rules, state, credentials or routing key from the machine running the tests."""
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    for name in (
        "DDAUDIT_RULES", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY", "DDAUDIT_PAGERDUTY_URL",
        "DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DD_SITE", "DDAUDIT_API_URL", "DDAUDIT_PROFILE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hostile")
    items = hd.hostile_items()
    return {
        # As the API writes it: every non-ASCII character a \u escape.
        "escaped": hd.write_items(d / "escaped.json", items),
        # As a hand-made or re-encoded file may: C1 and bidi characters as raw UTF-8.
        "raw": hd.write_items_raw_unicode(d / "raw.json", items),
    }


def run(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, str, str]:
    """`ddaudit ARGV` in-process; stdout/stderr as text (they must be valid UTF-8)."""
    code = cli.main(list(argv))
    out, err = capsysbinary.readouterr()
    return code, out.decode("utf-8"), err.decode("utf-8")


def assert_terminal_safe(text: str, what: str) -> None:
    bad = hd.forbidden_chars(text)
    assert not bad, f"{what}: control characters reach the terminal: {bad}"


def assert_no_traceback(err: str) -> None:
    assert "Traceback" not in err and 'File "' not in err, err[-2000:]


def json_strings(value: Any) -> Iterator[str]:
    """Every string (keys and values) in a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_strings(v)


def assert_json_escaped_and_faithful(text: str, expected: list[str], what: str) -> list[Any]:
    """`text` is JSON (one document, or NDJSON lines): no raw control character a terminal could act
    on (JSON escapes them), and the hostile values come back exactly when decoded."""
    assert_terminal_safe(text, what)
    assert "\\u001b" in text, f"{what}: ESC should be carried as a JSON escape"
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    strings = {s for doc in docs for s in json_strings(doc)}
    for value in expected:
        assert value in strings, f"{what}: {value[:60]!r}… not carried exactly"
    return docs


def assert_html_escaped(page: str) -> None:
    assert_terminal_safe(page, "html")
    low = page.lower()
    assert "<script" not in low and "&lt;script&gt;" in low
    assert "[@click=app.quit]" in page  # shown as text


# -- search -----------------------------------------------------------------------------------------


COLUMNS = (
    "timestamp,@usr.email,@usr.name,@asset.name,@asset.id,@http.useragent,message,@metadata.tool.name,"
    "@network.client.geoip.country.name,@network.client.geoip.city.name,@network.client.geoip.as.name,"
    "@evt.name,@metadata.api_key.id,@asset.new_value"
)
FIELDS = [
    hd.USER,
    hd.USER_NAME,
    hd.ASSET_NAME,
    hd.ASSET_ID,
    hd.UA,
    hd.COUNTRY,
    hd.CITY,
    hd.AS_NAME,
    hd.EVT_NAME,
]


def test_search_table_shows_markup_literally_and_no_control_character(capsysbinary, inputs):
    code, out, err = run(capsysbinary, "search", "*", "--input", str(inputs["raw"]), "--columns", COLUMNS)
    assert code == EXIT_OK, err
    assert_no_traceback(err)
    assert_terminal_safe(out, "search table")
    assert_terminal_safe(err, "search stderr")
    lines = out.splitlines()
    assert len(lines) == 1 + len(hd.hostile_items())
    assert hd.CLICK in out  # the markup is text
    assert max(len(line) for line in lines) < 14 * 50  # the 100 kB value is cut in a table cell
    assert "L" * 100 not in out


def test_search_csv_keeps_its_shape_and_no_control_character(capsysbinary, inputs):
    code, out, err = run(
        capsysbinary, "search", "*", "--input", str(inputs["raw"]), "--format", "csv", "--columns", COLUMNS
    )
    assert code == EXIT_OK, err
    assert_no_traceback(err)
    assert_terminal_safe(out, "search csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == 1 + len(hd.hostile_items())
    assert {len(r) for r in rows} == {len(COLUMNS.split(","))}
    emails = [r[1] for r in rows[1:]]
    # The text minus what a terminal would act on: markup kept, the sequences and overrides removed.
    assert any(e.startswith(hd.CLICK + " user@evil.example [bold]B[/bold]") and "RED" in e for e in emails)
    # (The last column is JSON, where the sequences are `\\u001b` escapes: text, not controls.)
    assert all("52;c;" not in cell and "8;;https" not in cell for r in rows for cell in r[:-1])
    assert any("\\u001b]52;c;" in r[-1] for r in rows[1:])


@pytest.mark.parametrize("variant", ["escaped", "raw"])
def test_search_json_and_ndjson_carry_the_data_escaped(capsysbinary, inputs, variant):
    code, out, err = run(
        capsysbinary, "search", "*", "--input", str(inputs[variant]), "--format", "json", "--columns", COLUMNS
    )
    assert code == EXIT_OK, err
    [rows] = assert_json_escaped_and_faithful(out, FIELDS, f"search json ({variant})")
    assert len(rows) == len(hd.hostile_items())
    assert any(r["asset.new_value"] == hd.nested() for r in rows)  # 200 levels, intact

    code, out, err = run(capsysbinary, "search", "*", "--input", str(inputs[variant]), "--format", "ndjson")
    assert code == EXIT_OK, err
    docs = assert_json_escaped_and_faithful(
        out, [*FIELDS, hd.LONG, hd.TOOL, hd.TOOL_ARG, hd.MESSAGE], "ndjson"
    )
    assert sorted(d["id"] for d in docs) == sorted(i["id"] for i in hd.hostile_items())
    # What was read is what is written: NDJSON reopens as the same items.
    assert sorted(docs, key=lambda d: d["id"]) == sorted(hd.hostile_items(), key=lambda d: d["id"])


def test_search_ndjson_to_a_file_reopens_as_the_same_events(capsysbinary, inputs, tmp_path):
    out_file = tmp_path / "out.ndjson"
    code, _, err = run(
        capsysbinary, "search", "*", "--input", str(inputs["raw"]), "-f", "ndjson", "-o", str(out_file)
    )
    assert code == EXIT_OK, err
    assert_terminal_safe(err, "stderr")
    assert_terminal_safe(out_file.read_text("utf-8"), "ndjson file")
    code, out, err = run(
        capsysbinary, "search", "*", "--input", str(out_file), "--format", "json", "--columns", COLUMNS
    )
    assert code == EXIT_OK, err
    assert_json_escaped_and_faithful(out, FIELDS, "search json of the re-read export")


# -- key --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_outputs(inputs: dict[str, Path]) -> dict[str, tuple[int, str, str]]:
    """`ddaudit key KEY --input raw.json --format F` for every format, run once for the module."""
    return {
        fmt: _run_module("key", hd.KEY, "--input", str(inputs["raw"]), "--format", fmt) for fmt in FORMATS
    }


@pytest.fixture(scope="module")
def ai_outputs(inputs: dict[str, Path]) -> dict[str, tuple[int, str, str]]:
    return {fmt: _run_module("ai", "--input", str(inputs["raw"]), "--format", fmt) for fmt in FORMATS}


FORMATS = ("text", "md", "json", "html")


def _run_module(*argv: str) -> tuple[int, str, str]:
    """`cli.main` with stdout/stderr redirected to UTF-8 buffers (a module-scoped fixture cannot use
    capsys or monkeypatch); the code, and both streams as text."""
    out, err = io.BytesIO(), io.BytesIO()
    out_text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    err_text = io.TextIOWrapper(err, encoding="utf-8", newline="")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DDAUDIT_CONFIG", "/nonexistent/ddaudit-test/config.toml")
        for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_PROFILE"):
            mp.delenv(name, raising=False)
        mp.setattr(sys, "stdout", out_text)
        mp.setattr(sys, "stderr", err_text)
        code = cli.main(list(argv))
        out_text.flush()
        err_text.flush()
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_key_report_in_every_format(key_outputs, fmt):
    code, out, err = key_outputs[fmt]
    assert code == EXIT_OK, err
    assert_no_traceback(err)
    assert_terminal_safe(err, "key stderr")
    # The hostile origin, deleted monitor and user agent all reach the report.
    if fmt == "json":
        doc = assert_json_escaped_and_faithful(out, [hd.COUNTRY, hd.ASSET_ID], "key json")[0]
        assert any(o.get("country") == hd.COUNTRY for o in doc["origins"])
    elif fmt == "html":
        assert_html_escaped(out)
        assert "asset-id" in out and "Country" in out
    else:
        assert_terminal_safe(out, f"key {fmt}")
        assert "asset-id" in out and "Country" in out
        assert "@click=app.quit" in out  # markup is text (Markdown escapes its brackets)
        assert "52;c;" not in out and "8;;https" not in out  # sequences removed with their payload
    if fmt == "md":
        assert hd.assert_markdown_tables_intact(out) >= 2
        assert not re.search(r"(?<!\\)<script", out)


# -- ai ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_ai_report_in_every_format(ai_outputs, fmt):
    code, out, err = ai_outputs[fmt]
    assert code == EXIT_OK, err
    assert_no_traceback(err)
    assert_terminal_safe(err, "ai stderr")
    if fmt == "json":
        doc = assert_json_escaped_and_faithful(out, [hd.USER, hd.TOOL], "ai json")[0]
        assert doc["total_tool_calls"] == 8 and doc["top_users"][0] == {"user": hd.USER, "calls": 8}
    elif fmt == "html":
        assert_html_escaped(out)
        assert "user@evil.example" in out
    else:
        assert_terminal_safe(out, f"ai {fmt}")
        assert "user@evil.example" in out and "@click=app.quit" in out
        assert "52;c;" not in out
    if fmt == "md":
        assert hd.assert_markdown_tables_intact(out) >= 2
        assert not re.search(r"(?<!\\)<script", out)


# -- watch ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["--replay", "--once"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_watch_alerts_on_the_hostile_actor_safely(capsysbinary, inputs, mode, fmt):
    # --dry-run adds the PagerDuty payloads (event text in JSON) to the text output too.
    code, out, err = run(
        capsysbinary, "watch", "--input", str(inputs["raw"]), mode, "--no-state", "--dry-run", "--format", fmt
    )
    assert code == EXIT_FINDINGS, err  # documented: an alert fired
    assert_no_traceback(err)
    assert_terminal_safe(err, "watch stderr")
    if fmt == "json":
        [doc] = assert_json_escaped_and_faithful(out, [hd.USER], f"watch {mode} json")
        assert any(a["rule"] == "role_changes" and a["actor"] == hd.USER for a in doc["alerts"])
        assert any(p["payload"]["summary"] for a in doc["alerts"] for p in a.get("pagerduty_payloads", []))
    else:
        assert_terminal_safe(out, f"watch {mode} text")
        line = next(ln for ln in out.splitlines() if "role_changes" in ln)
        assert hd.CLICK + " user@evil.example" in line
        assert '"summary"' in out  # the dry-run payload is printed, escaped


def test_watch_once_with_state_keeps_the_state_readable(capsysbinary, inputs, tmp_path):
    """The alert (with its hostile actor) goes into the SQLite state and comes back on a second run
    without firing again."""
    argv = ("watch", "--input", str(inputs["raw"]), "--once", "--state-dir", str(tmp_path / "st"))
    code, out, err = run(capsysbinary, *argv)
    assert code == EXIT_FINDINGS, err
    assert_terminal_safe(out + err, "watch --once")
    code, out, err = run(capsysbinary, *argv)
    assert code == EXIT_OK, err
    assert_no_traceback(err)
    assert out == ""


# -- report compliance (another helper's command: checked when it exists) --------------------------


def _compliance_formats() -> list[str] | None:
    parser = cli.build_parser()
    sub = next((a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"), None)
    report = sub.choices.get("report") if sub is not None else None  # type: ignore[union-attr]
    if report is None:
        return None
    inner = next((a for a in report._actions if a.__class__.__name__ == "_SubParsersAction"), None)
    compliance = inner.choices.get("compliance") if inner is not None else None  # type: ignore[union-attr]
    if compliance is None:
        return None
    fmt = next((a for a in compliance._actions if "--format" in a.option_strings), None)
    return list(fmt.choices) if fmt is not None and fmt.choices else ["text"]


@pytest.mark.parametrize("framework", ["soc2", "pci"])
def test_report_compliance_in_every_format(capsysbinary, inputs, framework):
    formats = _compliance_formats()
    if formats is None:
        pytest.skip("no `report compliance` command yet")
    for fmt in formats:
        argv = (
            "report",
            "compliance",
            "--framework",
            framework,
            "--input",
            str(inputs["raw"]),
            "--format",
            fmt,
        )
        code, out, err = run(capsysbinary, *argv)
        assert code in (EXIT_OK, EXIT_FINDINGS), err
        assert_no_traceback(err)
        assert_terminal_safe(err, f"compliance {fmt} stderr")
        if fmt == "json":
            assert_json_escaped_and_faithful(out, [hd.USER], f"compliance {framework} json")
        elif fmt == "html":
            assert_html_escaped(out)
        else:
            assert_terminal_safe(out, f"compliance {framework} {fmt}")
            assert "user@evil.example" in out and "@click=app.quit" in out
        if fmt == "md":
            assert hd.assert_markdown_tables_intact(out) >= 1
            assert not re.search(r"(?<!\\)<script", out)


# -- through the real entry point ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "*", "--format", "table"],
        ["watch", "--replay", "--dry-run"],
    ],
    ids=["search-table", "watch-replay"],
)
def test_the_real_process_writes_no_control_bytes(inputs, tmp_path, argv):
    """The bytes the process really writes to its stdout/stderr pipes (no capture layer in between)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DDAUDIT_"))}
    env.update(DDAUDIT_CONFIG=str(tmp_path / "none.toml"), DDAUDIT_STATE_DIR=str(tmp_path / "state"))
    proc = subprocess.run(
        [sys.executable, "-m", "ddaudit_tui", *argv[:1], *argv[1:], "--input", str(inputs["raw"])],
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (EXIT_OK, EXIT_FINDINGS), proc.stderr[-2000:]
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert_no_traceback(err)
    assert b"\x1b" not in proc.stdout + proc.stderr and b"\x07" not in proc.stdout + proc.stderr
    assert_terminal_safe(out, "stdout")
    assert_terminal_safe(err, "stderr")
    assert "[@click=app.quit]" in out


# -- the JSON escaping itself --------------------------------------------------------------------------


def test_json_safe_escapes_what_json_leaves_raw_and_keeps_the_value():
    from ddaudit_tui.safetext import json_safe, json_safe_bytes

    value = {
        "all": "".join(chr(c) for c in range(0x3000)) + "\ufeff\ufff9\ufffb 🙂",
        "k\u202e": [hd.hostile("x")],
    }
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not hd.forbidden_chars(text)
    assert "\\u202e" in text and "\\u009b" in text and "é" in text and "🙂" in text  # readable text stays
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert json_safe_bytes(raw) == text.encode("utf-8")
    plain = b'{"a":"caf\xc3\xa9"}'
    assert json_safe_bytes(plain) is plain  # the common case is untouched


# -- through the API: the key's name and creator come from the API Keys endpoint -------------------------


def test_key_and_revoke_against_the_api_show_the_hostile_key_name_safely(capsysbinary, monkeypatch):
    from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
    from ddaudit_tui.demo.loopback import loopback

    monkeypatch.setenv("DD_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", DEMO_APP_KEY)
    fake = FakeDatadog(hd.hostile_items())
    window = ("--from", str(hd.T0), "--to", str(hd.END + 1))
    with loopback(fake) as base_url:
        for fmt in FORMATS:
            code, out, err = run(capsysbinary, "key", hd.KEY, "--api-url", base_url, *window, "--format", fmt)
            assert code == EXIT_OK, err
            assert_no_traceback(err)
            assert_terminal_safe(err, f"key (API) {fmt} stderr")
            if fmt == "json":
                assert_json_escaped_and_faithful(out, [hd.KEY_NAME], "key (API) json")
            elif fmt == "html":
                assert_html_escaped(out)
            else:
                assert_terminal_safe(out, f"key (API) {fmt}")
                assert "key-name" in out
        code, out, err = run(capsysbinary, "revoke", hd.KEY, "--yes", "--api-url", base_url)
    assert code == EXIT_OK, err
    assert_no_traceback(err)
    assert_terminal_safe(out + err, "revoke")
    assert "revoked API key" in err and hd.CLICK in err and err.count("\n") == 1
