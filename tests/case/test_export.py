"""The case export: the folder, its checksums, its evidence, and hostile text in its reports."""

from __future__ import annotations

import gzip
import json
import stat
import subprocess
from pathlib import Path

import pytest
from case_helpers import HOSTILE, event, events

from ddaudit_tui.case.export import EVIDENCE, export_case
from ddaudit_tui.case.model import Finding
from ddaudit_tui.case.store import CaseStore
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window


@pytest.fixture
def store(tmp_path) -> CaseStore:
    s = CaseStore("inc-4711", tmp_path / "cases").create("alice")
    # A finding citing events 1 and 2 (stored), a query with a mark on 2 and 3, a hostile event marked.
    s.add_events(events(1, 2, 9))  # 9 is stored but cited by nothing: not evidence
    s.record(
        "key",
        "key k: LIKELY COMPROMISED",
        key_id="k",
        findings=(
            Finding(
                kind="flag",
                title="new country",
                severity="high",
                event_ids=("AQAAAZ-event-0001", "AQAAAZ-event-0002"),
            ),
        ),
    )
    s.record(
        "query",
        "searched ip",
        query='@network.client.ip:"192.0.2.147"',
        window=(1_780_000_000_000, 1_780_000_100_000),
        counts={"events": 3},
        complete=True,
        command="ddaudit search --preset ip --ip 192.0.2.147",
    )
    m = s.mark("event", "two events", events(2, 3), pane="explore")
    s.note(m.id, "revoked at 10:42 by me <b>")
    hostile = event(4, asset_name=HOSTILE)
    s.mark("event", HOSTILE, [hostile], pane="explore")
    s.note("case", HOSTILE)
    return s


def test_folder_files_and_modes(store, tmp_path):
    out = tmp_path / "out"
    res = export_case(store, out)
    assert res.path.parent == out.resolve()
    assert res.path.name.startswith("ddaudit-case-inc-4711-") and res.path.name.endswith("Z")
    assert sorted(p.name for p in res.path.iterdir()) == sorted(
        ["report.md", "report.html", "case.json", "evidence.ndjson.gz", "SHA256SUMS"]
    )
    assert stat.S_IMODE(res.path.stat().st_mode) == 0o700
    for p in res.path.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    # No leftovers from the temporary folder.
    assert [p.name for p in out.iterdir()] == [res.path.name]
    # The export is journaled.
    assert store.load().entries[-1].kind == "export"
    # A second export in the same second gets its own folder.
    assert export_case(store, out).path != res.path


def test_sha256sum_accepts_the_manifest(store, tmp_path):
    res = export_case(store, tmp_path)
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=res.path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == 4
    (res.path / "report.md").write_text("tampered")
    assert (
        subprocess.run(
            ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=res.path, capture_output=True
        ).returncode
        != 0
    )


def test_evidence_is_exactly_the_marked_and_reported_events(store, tmp_path):
    res = export_case(store, tmp_path)
    lines = gzip.decompress((res.path / EVIDENCE).read_bytes()).splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert ids == [f"AQAAAZ-event-000{n}" for n in (1, 2, 3, 4)]  # each once, oldest first; 9 is not cited
    assert res.evidence == 4 and res.missing == []
    # Exactly as read: the same JSON values as the events were read with.
    assert json.loads(lines[0]) == json.loads(event(1).raw)
    # ddaudit reads it back, from the file and from the folder.
    for path in (res.path / EVIDENCE, res.path):
        src = FileSource.open([str(path)])
        assert sorted(e.id for e in src.store.events) == sorted(ids)


def test_case_json(store, tmp_path):
    res = export_case(store, tmp_path)
    data = json.loads((res.path / "case.json").read_text())
    assert data["name"] == "inc-4711" and data["analyst"] == "alice"
    assert [m["id"] for m in data["marks"]] == ["m1", "m2"]
    assert data["findings"][0]["event_ids"] == ["AQAAAZ-event-0001", "AQAAAZ-event-0002"]
    assert data["evidence_event_ids"] == [f"AQAAAZ-event-000{n}" for n in (2, 3, 4, 1)]
    assert {n["target"] for n in data["notes"]} == {"m1", "case"}


def test_reports_tell_the_story_and_escape_hostile_text(store, tmp_path):
    res = export_case(store, tmp_path)
    md = (res.path / "report.md").read_text()
    html = (res.path / "report.html").read_text()
    for text in (md, html):
        assert "inc-4711" in text and "alice" in text
        assert "revoked at 10:42 by me" in text
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        # Every query can be run again: the ddaudit command, pup, the explorer URL, DDSQL.
        assert "ddaudit search --preset ip --ip 192.0.2.147" in text
        assert "pup audit-logs search" in text and "/audit-trail?" in text and "dd.audit(" in text
    # The story in order: summary, timeline, marks.
    assert (
        md.index("## Summary")
        < md.index("## Timeline")
        < md.index("## Marked evidence")
        < md.index("## Reproduce")
    )
    # HTML: nothing hostile is markup, nothing is fetched.
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;" in html
    assert "src=" not in html and 'http-equiv="Content-Security-Policy"' in html
    # Markdown: the hostile table cell cannot break the table or inject HTML.
    assert "<script>" not in md and "\\<script\\>" in md


def test_missing_events_are_named(tmp_path):
    s = CaseStore("c", tmp_path).create("a")
    s.record("key", "k", findings=(Finding(kind="flag", title="t", event_ids=("nope",)),))
    res = export_case(s, tmp_path / "out")
    assert res.missing == ["nope"] and res.evidence == 0
    assert "nope" in (res.path / "report.md").read_text()


def test_window_type_is_kept(store):
    e = store.load().work()[1]
    assert Window(*e.window).start == 1_780_000_000_000


def test_tui_input_streams_a_case_folder(store, tmp_path):
    # `ddaudit --input <folder>`: the TUI's streaming reader opens the folder's evidence file.
    res = export_case(store, tmp_path)
    src = FileSource.open_streaming([str(res.path)])
    try:
        assert src._inputs[0].name.endswith(EVIDENCE)
    finally:
        for inp in src._inputs:
            inp.file.close()


def test_no_secret_in_the_recorded_source_or_command():
    import argparse

    from ddaudit_tui.case.record import command_line, source_info
    from ddaudit_tui.config import load_settings

    secret = "Pr0xyPa55w0rdQzX"
    args = argparse.Namespace(
        demo=False, input=None, profile=None, site="datadoghq.eu", api_url=f"https://u:{secret}@gw.example",
        proxy=f"http://u:{secret}@proxy:3128", query="*", preset=None,
    )  # fmt: skip
    settings = load_settings(
        {"site": "datadoghq.eu", "api_url": args.api_url, "proxy": args.proxy},
        env={},
        path=Path("/nonexistent/config.toml"),
    )
    info = source_info(args, settings)
    cmd = command_line("search", args, Window(0, 1), positional=["*"], options=["preset"])
    assert secret not in repr(info) and secret not in cmd
    assert info.describe() == "Datadog datadoghq.eu"


def test_marks_made_together_are_one_timeline_row_and_one_table(tmp_path):
    s = CaseStore("c", tmp_path).create("a")
    s.mark_many(
        [("event", f"e{n}", [event(n)], {"query": "@action:deleted"}) for n in range(1, 6)], pane="cli"
    )
    lone = s.mark("event", "lone", [event(7)], pane="explore")
    s.note(lone.id, "this one")
    md = (export_case(s, tmp_path / "out").path / "report.md").read_text()
    assert "| 1–5 |" in md and "marked 5 events from the query @action:deleted" in md
    assert "### m1–m5 — 5 events marked from the query @action:deleted" in md
    assert "### m6 — event: lone" in md and "this one" in md
    import re

    assert len(re.findall(r"^\| m\d+ \|", md, re.M)) == 6  # one row per marked event, each naming its mark
