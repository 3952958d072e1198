"""Command-line arguments that people really type (issue 13 items 11, 16, 18): a negated query as the
first word, typographic quotes pasted from Datadog's docs, times out of range, a malformed --api-url."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_OK, EXIT_USAGE
from ddaudit_tui.events.query import straighten_quotes

SHAPES = Path(__file__).parent.parent / "fixtures" / "real_shapes" / "inner_tags_asn.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ids(out: str) -> list[str]:
    return [row["id"] for row in json.loads(out)]


def test_a_query_that_starts_with_a_negation_is_the_query(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "search", "-@usr.id:u1", "--input", str(SHAPES), "--format", "json", "--columns", "id"
    )
    assert code == EXIT_OK, err
    assert len(ids(out)) == 3 and "AQAAAZ-real-shape-0001" not in ids(out)


@pytest.mark.parametrize("negation", ["-@usr.id:u1", "-usr.id:u1", "-(@usr.id:u1)", "-org.name:x"])
def test_negations_are_never_taken_for_options(capsys: pytest.CaptureFixture[str], negation: str) -> None:
    # `-org.name:x` must not become `-o rg.name:x` (an output file named rg.name:x).
    code, out, err = run(
        capsys, "search", negation, "--input", str(SHAPES), "--format", "json", "--columns", "id"
    )
    assert code == EXIT_OK, err
    assert not Path("rg.name:x").exists()
    assert json.loads(out) is not None


def test_double_dash_still_ends_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "search", "--input", str(SHAPES), "--format", "json", "--columns", "id", "--", "-@usr.id:u1"
    )
    assert code == EXIT_OK, err
    assert len(ids(out)) == 3


def test_ai_query_option_takes_a_negation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ai", "--input", str(SHAPES), "--query", "-@usr.id:u1", "--format", "json")
    assert code == EXIT_OK, err


def test_option_values_may_start_with_a_dash(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "ai", "--input", str(SHAPES), "-q", "-@usr.id:u1", "--from", "-3650d", "--format", "json"
    )
    assert code == EXIT_OK, err


def test_typographic_quotes_are_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    assert straighten_quotes("@evt.name:“Cloud Security Platform”") == '@evt.name:"Cloud Security Platform"'
    assert straighten_quotes("@usr.name:„x“ ‘y’") == "@usr.name:\"x\" 'y'"
    curly = run(
        capsys,
        "search",
        "@usr.email:“user2@example.com”",
        "--input",
        str(SHAPES),
        "--format",
        "json",
        "--columns",
        "id",
    )
    assert curly[0] == EXIT_OK, curly[2]
    assert ids(curly[1]) == ["AQAAAZ-real-shape-0002"]


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "*", "--from", "99999999d"],
        ["search", "*", "--to", "now+99999999999d"],
        ["search", "*", "--to", "99999999999999999999"],
        ["search", "*", "--from", "9999-12-31T23:59:59Z", "--to", "99999-01-01T00:00Z"],
        ["key", "abc123", "--from", "99999999d"],
    ],
)
def test_out_of_range_times_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--input", str(SHAPES))
    assert code == EXIT_USAGE, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "--from" in err or "--to" in err


@pytest.mark.parametrize("url", ["http://[::1", "ht!tp://x", "http://host:notaport/", "://nohost"])
def test_a_malformed_api_url_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DD_API_KEY", "a" * 32)
    monkeypatch.setenv("DD_APP_KEY", "b" * 40)
    code, out, err = run(capsys, "search", "*", "--api-url", url, "--from", "1h")
    assert code == EXIT_USAGE, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "--api-url" in err or "api_url" in err


@pytest.mark.parametrize("command", [["search", "*"], ["key", "abc"], ["ai"], ["demo-data", "--events", "5"]])
def test_output_onto_an_existing_readable_file_ends_up_0600(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o644)
    source = [] if command[0] == "demo-data" else ["--input", str(SHAPES)]
    code, out, err = run(capsys, *command, *source, "-o", str(target))
    assert code == EXIT_OK, err
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text() != "old"


def test_a_gzip_bomb_is_refused_before_it_is_inflated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 13 item 13: 3 MB of gzip that inflates to GBs was decompressed whole (6.3 GB, 24 s)."""
    import gzip
    import resource

    bomb = tmp_path / "archive_bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        block = b"\0" * (1 << 20)
        for _ in range(1024):  # 1 GiB of zeros: ~1 MB compressed
            f.write(block)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code, out, err = run(capsys, "search", "*", "--input", str(bomb))
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert code == 4 and out == ""
    assert "archive_bomb.json.gz" in err and "expands" in err and len(err.strip().splitlines()) == 1, err
    assert grown_kb < 700 * 1024  # stopped long before the 1 GiB was inflated


def test_multi_member_gzip_still_reads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import gzip

    lines = [json.dumps(item) for item in json.loads(SHAPES.read_text())["data"]]
    path = tmp_path / "two.ndjson.gz"
    path.write_bytes(
        gzip.compress(("\n".join(lines[:2]) + "\n").encode())
        + gzip.compress(("\n".join(lines[2:]) + "\n").encode())
    )
    code, out, err = run(capsys, "search", "*", "--input", str(path), "--format", "json", "--columns", "id")
    assert code == EXIT_OK, err
    assert len(ids(out)) == 4
