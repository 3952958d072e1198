"""The broken-file corpus (tests/fixtures/broken/, described in its README.md) through the real commands.

For every file and every command that reads `--input` (search, key, ai): one line on stderr that names the
file (and the line where that means something), the documented exit code (4 = input that cannot be read or
is not audit data, 2 = usage), nothing on stdout, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_INPUT, EXIT_OK, EXIT_USAGE

BROKEN = Path(__file__).parent.parent / "fixtures" / "broken"
KEY = "9f3c2e71-0d4b-4c1e-9a55-3b1f2d6c7e80"  # the key id the corpus items mention

COMMANDS = {
    "search": ["search", "*"],
    "key": ["key", KEY],
    "ai": ["ai"],
}

# file -> (fragment of the message, the line it names or None when no line makes sense)
CORPUS: dict[str, tuple[str, int | None]] = {
    "binary_garbage.bin": ("not UTF-8 text (binary data?)", 1),
    "utf16_bom.json": ("UTF-16 text: ddaudit reads UTF-8; convert it first", 1),
    "truncated.json.gz": ("truncated gzip file", None),
    "html.gz": ("looks like an HTML or XML page", 1),
    "error_page.html": ("looks like an HTML or XML page", 1),
    "empty.json": ("empty input", None),
    "whitespace.json": ("empty input", None),
    "null.json": ("found JSON null, expected an object or an array of audit events", 1),
    "number.json": ("found a JSON number", 1),
    "data_string.json": ("`data` is not an array of audit events", None),
    "no_attributes.json": ("data[0]: expected an audit event (`id` + `attributes`", None),
    "bad_middle.ndjson": ("malformed JSON", 3),
    "bad_ndjson.ndjson": ("truncated JSON (the line ends before the object is complete)", 2),
    "truncated.json": ("truncated JSON (the document ends before it is complete)", 1),
    "not_audit.json": ("expected an audit event", 1),
    "strings.json": ("[0]: expected an audit event object, found a string", None),
    "events.csv": ("not JSON audit data (looks like CSV)", 1),
    "events.yaml": ("not JSON audit data (looks like YAML)", 1),
}
# `key` decodes only the items that mention the key (a pushdown over big exports), after checking the
# first one: a damaged line elsewhere that does not mention the key is not read at all (README).
KEY_SKIPS = {"bad_ndjson.ndjson"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))  # an unexpected exception escapes here and fails the test: no traceback path
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, prefix: str) -> None:
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(f"ddaudit: {prefix}"), err


def test_the_corpus_is_what_the_table_describes():
    on_disk = {p.name for p in BROKEN.iterdir()} - {"README.md"}
    readable = {"utf8_bom.json", "archive.ndjson.gz"}
    assert on_disk == set(CORPUS) | readable
    readme = (BROKEN / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in on_disk)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(CORPUS))
def test_broken_file_gives_one_line_naming_the_file_and_exit_4(capsys, command: str, name: str):
    if command == "key" and name in KEY_SKIPS:
        pytest.skip("key reads only the lines that mention the key (documented pushdown)")
    fragment, line = CORPUS[name]
    path = str(BROKEN / name)
    code, out, err = run(capsys, *COMMANDS[command], "--input", path)
    assert (code, out) == (EXIT_INPUT, "")
    assert_one_line(err, f"{path}:{line}:" if line is not None else f"{path}: ")
    assert fragment in err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_missing_file_directory_and_unreadable_file(capsys, tmp_path: Path, command: str):
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, *COMMANDS[command], "--input", str(missing))
    assert (code, out) == (EXIT_INPUT, "")
    assert_one_line(err, f"{missing}: no such file")

    code, out, err = run(capsys, *COMMANDS[command], "--input", str(tmp_path))
    assert (code, out) == (EXIT_INPUT, "")
    assert_one_line(err, f"{tmp_path}: is a directory, expected a file of audit events")

    if os.geteuid() == 0:
        pytest.skip("running as root: a file without read permission is still readable")
    locked = tmp_path / "locked.json"
    locked.write_bytes((BROKEN / "utf8_bom.json").read_bytes())
    locked.chmod(0)
    code, out, err = run(capsys, *COMMANDS[command], "--input", str(locked))
    assert (code, out) == (EXIT_INPUT, "")
    assert_one_line(err, f"{locked}: permission denied")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_first_broken_file_of_several_is_named(capsys, command: str):
    good, bad = str(BROKEN / "utf8_bom.json"), str(BROKEN / "bad_middle.ndjson")
    code, out, err = run(capsys, *COMMANDS[command], "--input", good, "--input", bad)
    assert (code, out) == (EXIT_INPUT, "")
    assert_one_line(err, f"{bad}:3:")


def test_utf8_bom_file_is_read_as_audit_data(capsys):
    """Windows tools write a UTF-8 BOM; the file holds audit events, so it is read (README decision)."""
    code, out, err = run(
        capsys, "search", "*", "--input", str(BROKEN / "utf8_bom.json"), "--format", "ndjson"
    )
    assert (code, err) == (EXIT_OK, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [f"AQAAAZ-broken-{i}" for i in (2, 1, 0)]


def test_gzip_archive_is_decompressed(capsys):
    """Datadog log archives are gzip-compressed NDJSON: `--input archive.json.gz` reads them as they are."""
    code, out, err = run(capsys, "key", KEY, "--input", str(BROKEN / "archive.ndjson.gz"), "--format", "json")
    assert (code, err) == (EXIT_OK, "")
    assert json.loads(out)["total_events"] == 3


@pytest.mark.parametrize("command", list(COMMANDS))
def test_usage_mistakes_with_input_exit_2_in_one_line(capsys, command: str):
    good = str(BROKEN / "utf8_bom.json")
    code, out, err = run(capsys, *COMMANDS[command], "--demo", "--input", good)
    assert (code, out) == (EXIT_USAGE, "")
    assert_one_line(err, "--demo and --input are two different sources: choose one")
    code, out, err = run(capsys, *COMMANDS[command], "--input", good, "--from", "last tuesday")
    assert (code, out) == (EXIT_USAGE, "")
    assert_one_line(err, "--from: invalid time 'last tuesday'")


# -- the real entry point, in a process of its own ------------------------------------------------------


def ddaudit(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DDAUDIT_"))}
    return subprocess.run(
        [sys.executable, "-m", "ddaudit_tui", *argv],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "stdin", "prefix"),
    [
        (
            ["search", "*", "--input", str(BROKEN / "binary_garbage.bin")],
            b"",
            f"{BROKEN / 'binary_garbage.bin'}:1:",
        ),
        (
            ["key", KEY, "--input", str(BROKEN / "bad_middle.ndjson")],
            b"",
            f"{BROKEN / 'bad_middle.ndjson'}:3:",
        ),
        (
            ["ai", "--input", "-"],
            (BROKEN / "error_page.html").read_bytes(),
            "<stdin>:1:1: not JSON audit data",
        ),
        (["search", "*", "--input", "-"], b"", "<stdin>: empty input"),
        (
            ["search", "*", "--input", "-"],
            (BROKEN / "truncated.json.gz").read_bytes(),
            "<stdin>: truncated gzip",
        ),
    ],
)
def test_real_process_prints_one_line_and_no_traceback(argv: list[str], stdin: bytes, prefix: str):
    proc = ddaudit(*argv, stdin=stdin)
    err = proc.stderr.decode()
    assert (proc.returncode, proc.stdout) == (EXIT_INPUT, b""), err
    assert_one_line(err, prefix)
