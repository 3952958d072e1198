"""Real-world shapes (issue 13, "Real events"): ddaudit against `jq` on the same small files.

The files in `tests/fixtures/real_shapes/` reproduce what real audit events and tools' outputs hold; each
test asks ddaudit and jq the same question and expects the same answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_INPUT, EXIT_OK
from ddaudit_tui.events.decode import iter_decode

SHAPES = Path(__file__).parent.parent / "fixtures" / "real_shapes"

needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")


NEWEST_FIRST = "[.data | sort_by(.attributes.timestamp) | reverse | .[] | "  # ddaudit prints newest first


def jq(program: str, path: Path) -> object:
    out = subprocess.run(["jq", "-c", program, str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def search_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    code = main(["search", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    return json.loads(out)


@needs_jq
def test_at_tags_is_the_events_own_tags(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "inner_tags_asn.json"
    expected = jq(
        NEWEST_FIRST + 'select(.attributes.attributes.tags | index("agent_version:7.35.0")) | .id]',
        path,
    )
    rows = search_json(capsys, '@tags:"agent_version:7.35.0"', "--input", str(path), "--columns", "id")
    assert [r["id"] for r in rows] == expected
    assert len(rows) == 3


@needs_jq
def test_bare_tags_are_the_outer_tags(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "inner_tags_asn.json"
    rows = search_json(capsys, "source:audit", "--input", str(path), "--columns", "id,tags,@tags")
    assert len(rows) == len(jq("[.data[]]", path))
    expected_inner = jq(NEWEST_FIRST + ".attributes.attributes.tags]", path)
    assert [r["@tags"] for r in rows] == expected_inner
    assert all(r["tags"] == ["source:audit"] for r in rows)


@needs_jq
def test_asn_is_printed_as_the_event_holds_it(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "inner_tags_asn.json"
    expected = jq(
        NEWEST_FIRST + ".attributes.attributes.network.client.geoip.as.number]",
        path,
    )
    rows = search_json(capsys, "*", "--input", str(path), "--columns", "@network.client.geoip.as.number")
    assert [r["network.client.geoip.as.number"] for r in rows] == expected
    assert expected[-1] == "AS396982"  # the shape under test


@needs_jq
def test_asn_matches_with_or_without_the_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "inner_tags_asn.json"
    expected = jq(
        NEWEST_FIRST + 'select(.attributes.attributes.network.client.geoip.as.number == "AS396982") | .id]',
        path,
    )
    for value in ("AS396982", "396982"):
        rows = search_json(
            capsys, f"@network.client.geoip.as.number:{value}", "--input", str(path), "--columns", "id"
        )
        assert [r["id"] for r in rows] == expected


def test_json_keeps_columns_that_differ_only_by_at(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "inner_tags_asn.json"
    columns = ["@status", "status", "@message", "message", "@tags", "tags", "id"]
    rows = search_json(capsys, "*", "--input", str(path), "--columns", ",".join(columns))
    assert len(rows) == 4
    for row in rows:
        assert len(row) == len(columns), sorted(row)
    first = rows[-1]  # newest first: the oldest is item 1
    assert first["@message"] == "inner message 1"
    assert first["message"] == "GET request by user1@example.com"
    assert first["@tags"] == ["agent_version:7.35.0", "canary_type:basic"]
    assert first["tags"] == ["source:audit"]


def search_ids(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[list[str], str]:
    code = main(["search", "*", "--input", str(path), "--format", "json", "--columns", "id"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    return [r["id"] for r in json.loads(out)], err


@needs_jq
def test_pup_0_22_envelope_without_hoisting(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "pup022.json"
    ids, _ = search_ids(capsys, path)
    assert sorted(ids) == sorted(jq("[.data.data[].id]", path))
    assert len(ids) == 2


@needs_jq
def test_concatenated_pup_outputs_are_read_like_jq(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "concat.json"
    ids, _ = search_ids(capsys, path)
    expected = subprocess.run(
        ["jq", "-r", ".data[].id", str(path)], check=True, capture_output=True, text=True
    )
    assert sorted(ids) == sorted(expected.stdout.split())
    assert len(ids) == 4


def test_a_lone_surrogate_is_replaced_and_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "lone_surrogate.json"
    ids, err = search_ids(capsys, path)
    assert len(ids) == 4
    assert err.count("lone UTF-16 surrogate escape") == 1, err
    notes: list[str] = []
    assert len(list(iter_decode(path.read_bytes(), path.name, notes=notes))) == 4
    assert notes == [f"{path.name}: 1 lone UTF-16 surrogate escape(s) replaced by U+FFFD"]
    code = main(["search", "*", "--input", str(path), "--format", "json", "--columns", "@message"])
    out, _ = capsys.readouterr()
    assert code == EXIT_OK
    assert "inner \ufffd message 2" in [r["message"] for r in json.loads(out)]


@needs_jq
def test_an_archive_line_with_a_bad_date_keeps_its_timestamp(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHAPES / "archive_bad_date.ndjson"
    ids, _ = search_ids(capsys, path)
    expected = subprocess.run(["jq", "-r", "._id", str(path)], check=True, capture_output=True, text=True)
    assert sorted(ids) == sorted(expected.stdout.split())


def test_key_lookup_on_an_event_nested_5000_deep_is_one_line_exit_4(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    item = json.loads((SHAPES / "inner_tags_asn.json").read_text())["data"][0]
    text = json.dumps({"data": [item]}).replace(
        '"inner message 1"', '"x", "deep": ' + '{"a":' * 5000 + "1" + "}" * 5000
    )
    path = tmp_path / "deep.json"
    path.write_text(text)
    code = main(["key", "u1", "--input", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_INPUT, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "deep.json" in err
