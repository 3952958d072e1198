"""`ddaudit search` over files and the demo; error exits for bad input and usage."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_INPUT, EXIT_OK, EXIT_USAGE

FIX = Path(__file__).parent.parent / "fixtures"
REF = FIX / "reference"
BROKEN = FIX / "broken"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pup_file(tmp_path: Path) -> Path:
    """A `pup -o json` file: the API page, keys sorted recursively, pretty-printed, HTML-escaped."""
    page = json.loads((REF / "api_page_0.json").read_text())
    archive = [json.loads(line) for line in (REF / "elastic_archive.ndjson").read_text().splitlines()]
    for a in archive:  # turn the archive samples into API items so the file has varied events
        page["data"].append(
            {
                "id": a["_id"],
                "type": "audit",
                "attributes": {
                    "attributes": a["attributes"],
                    "message": a["message"],
                    "tags": a["tags"],
                    "timestamp": a["date"],
                },
            }
        )
    text = json.dumps(page, sort_keys=True, indent=2).replace("<", "\\u003c").replace(">", "\\u003e")
    path = tmp_path / "pup.json"
    path.write_text(text)
    return path


def test_ndjson_returns_every_event_unchanged(tmp_path, capsys):
    path = pup_file(tmp_path)
    code, out, err = run(capsys, "search", "*", "--input", str(path), "--format", "ndjson")
    assert code == EXIT_OK, err
    lines = out.splitlines()
    original = json.loads(path.read_text())["data"]
    assert len(lines) == len(original) == 9
    got = {json.loads(line)["id"]: json.loads(line) for line in lines}
    assert got == {item["id"]: item for item in original}


def test_csv_columns_and_filter(tmp_path, capsys):
    path = pup_file(tmp_path)
    code, out, err = run(
        capsys,
        "search",
        '@evt.name:"MCP Server"',
        "--input",
        str(path),
        "--format",
        "csv",
        "--columns",
        "timestamp,@usr.email,@metadata.tool.name,@network.client.geoip.country.name",
    )
    assert code == EXIT_OK, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["timestamp", "@usr.email", "@metadata.tool.name", "@network.client.geoip.country.name"]
    assert rows[1:] == [
        ["2026-07-31T19:23:48.520Z", "user06@example.com", "", ""],
        ["2026-07-31T19:22:29.882Z", "user06@example.com", "search_datadog_rum_events", "United States"],
    ]


def test_json_and_table_formats(tmp_path, capsys):
    path = pup_file(tmp_path)
    code, out, _ = run(
        capsys,
        "search",
        "@metadata.api_key.id:*",
        "-i",
        str(path),
        "-f",
        "json",
        "--columns",
        "id,@route.path,@http.status_code",
    )
    assert code == EXIT_OK
    assert json.loads(out) == [
        {"id": "id-000113", "route.path": "/api/v2/query/scalar", "http.status_code": 200}
    ]
    code, out, _ = run(capsys, "search", "@evt.name:Request", "-i", str(path))
    assert code == EXIT_OK
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["TIMESTAMP", "EVT.NAME", "ACTION"]
    assert len(rows) == 4


def test_output_file_is_private(tmp_path, capsys):
    path = pup_file(tmp_path)
    target = tmp_path / "out.ndjson"
    code, out, err = run(capsys, "search", "*", "-i", str(path), "-f", "ndjson", "-o", str(target))
    assert code == EXIT_OK and out == ""
    assert "wrote 9 events to" in err
    assert (os.stat(target).st_mode & 0o777) == 0o600
    assert len(target.read_text().splitlines()) == 9


def test_several_files_and_stdin_deduplicate(tmp_path, capsys, monkeypatch):
    path = pup_file(tmp_path)
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO((REF / "elastic_archive.ndjson").read_bytes()))
    )
    code, out, _ = run(capsys, "search", "*", "-i", str(path), "-i", "-", "-f", "ndjson")
    assert code == EXIT_OK
    assert len(out.splitlines()) == 9  # the 7 archive events are the same ids as in the pup file


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("truncated.json", "truncated JSON"),
        ("events.csv", "looks like CSV"),
        ("empty.json", "empty input"),
        ("strings.json", "found a string"),
    ],
)
def test_bad_inputs_exit_non_zero_with_one_line(capsys, name, fragment):
    code, out, err = run(capsys, "search", "*", "--input", str(BROKEN / name))
    assert code == EXIT_INPUT
    assert out == ""
    assert err.count("\n") == 1 and fragment in err and name in err


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "search", "*", "--input", str(tmp_path / "nope.json"))
    assert code == EXIT_INPUT and "no such file" in err


def test_malformed_query_points_at_position(capsys):
    code, out, err = run(capsys, "search", "@action:(created OR", "--input", str(REF / "api_page_0.json"))
    assert code == EXIT_USAGE and out == ""
    assert "^" in err


def test_bad_time_is_usage_error(capsys):
    code, _, err = run(capsys, "search", "*", "--input", str(REF / "api_page_0.json"), "--from", "yesterday")
    assert code == EXIT_USAGE and "'yesterday'" in err


def test_no_credentials_is_auth_error(capsys, monkeypatch, tmp_path):
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    code, _, err = run(capsys, "search", "*")
    assert code == EXIT_AUTH and "DD_API_KEY" in err


def test_console_script_entry_point_runs(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ddaudit_tui",
            "search",
            "*",
            "-i",
            str(REF / "api_page_0.json"),
            "-f",
            "ndjson",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [msgspec.json.decode(line)["id"][:8] for line in proc.stdout.splitlines()] == [
        "AQAAAYAi",
        "AQAAAYAi",
    ]
