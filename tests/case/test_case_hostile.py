"""A case built from hostile events (markup, terminal escapes, bidi, HTML, Markdown): nothing hostile reaches
the terminal, the Markdown tables keep their shape, the HTML stays inert (issue 15, item 6)."""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "hardening"))
import hostile_data as hd  # noqa: E402

from ddaudit_tui import cli  # noqa: E402
from ddaudit_tui.cliutil import EXIT_FINDINGS, EXIT_OK  # noqa: E402


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    monkeypatch.setenv(
        "DDAUDIT_ANALYST", hd.hostile("analyst").replace("\x00", "")
    )  # even the analyst's name is text to escape
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DD_SITE", "DDAUDIT_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def run(capsysbinary, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsysbinary.readouterr()
    return code, out.decode("utf-8"), err.decode("utf-8")


def test_hostile_case_export_is_inert(capsysbinary, tmp_path):
    data = hd.write_items_raw_unicode(tmp_path / "raw.json", hd.hostile_items())
    code, _, err = run(capsysbinary, "key", hd.KEY, "--input", str(data), "--case", "h", "-f", "json")
    assert code in (EXIT_OK, EXIT_FINDINGS), err
    code, _, err = run(
        capsysbinary, "search", "*", "--input", str(data), "--case", "h", "--mark-all", "-f", "csv"
    )
    assert code == EXIT_OK, err
    code, _, err = run(capsysbinary, "ai", "--input", str(data), "--case", "h", "-f", "json")
    assert code == EXIT_OK, err
    for fmt in ("text", "md"):
        code, out, err = run(capsysbinary, "case", "show", "h", "--format", fmt)
        assert code == EXIT_OK and not hd.forbidden_chars(out + err), fmt
    code, out, err = run(capsysbinary, "case", "list")
    assert code == EXIT_OK and not hd.forbidden_chars(out + err)
    code, out, err = run(capsysbinary, "case", "export", "h", "-o", str(tmp_path / "out"))
    assert code == EXIT_OK, err
    folder = Path(out.strip())
    md = (folder / "report.md").read_text(encoding="utf-8")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert not hd.forbidden_chars(md) and not hd.forbidden_chars(html)
    assert hd.assert_markdown_tables_intact(md) >= 3
    # HTML: no tag, attribute or URL from an event is live.
    assert not re.search(r"<(script|img|iframe|a|link)\b", html, re.I)
    assert "&lt;script&gt;" in html
    # The machine-readable parts decode, and carry no raw control characters.
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    assert case["marks"] and case["findings"]
    evidence = gzip.decompress((folder / "evidence.ndjson.gz").read_bytes()).decode("utf-8")
    assert not hd.forbidden_chars(evidence)
    assert {json.loads(x)["id"] for x in evidence.splitlines()} == set(case["evidence_event_ids"])
