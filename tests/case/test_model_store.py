"""The case model (journal replay, marks, notes) and its store (durable, append-only, tolerant)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from case_helpers import event, events

from ddaudit_tui.case.model import CASE_NOTE, Case, Finding, JournalEntry, Mark
from ddaudit_tui.case.store import (
    CaseError,
    CaseNameError,
    CaseStore,
    NoSuchCase,
    cases_dir,
    default_analyst,
    list_cases,
    validate_name,
)


@pytest.fixture
def store(tmp_path) -> CaseStore:
    return CaseStore("inc-4711", tmp_path / "cases").create("alice")


def test_replay_marks_unmarks_and_notes():
    m1 = Mark(id="m1", ts=1, kind="event", pane="explore", label="a", event_ids=("e1", "e2"))
    m2 = Mark(id="m2", ts=2, kind="flag", pane="lookup", label="b", event_ids=("e3",))
    entries = [
        JournalEntry(
            seq=1,
            ts=1,
            kind="key",
            summary="k",
            findings=(Finding(kind="flag", title="t", event_ids=("e3", "e4")),),
        ),
        JournalEntry(seq=2, ts=2, kind="mark", summary="", mark=m1),
        JournalEntry(seq=3, ts=3, kind="mark", summary="", mark=m2),
        JournalEntry(seq=4, ts=4, kind="note", summary="", note={"target": "m2", "text": "revoked", "ts": 4}),
        JournalEntry(seq=5, ts=5, kind="unmark", summary="", mark_id="m1"),
    ]
    import msgspec

    entries = msgspec.convert(msgspec.to_builtins(entries), list[JournalEntry])
    case = Case.replay("c", 0, "alice", entries)
    assert list(case.marks) == ["m2"]
    assert case.notes["m2"].text == "revoked"
    # Evidence: marks first, then findings; each id once; the removed mark's events are gone.
    assert case.evidence_ids() == ["e3", "e4"]
    assert case.next_mark_id() == "m3"  # m1 was removed, its id is never reused
    assert case.next_seq == 6


def test_names_are_validated():
    assert validate_name("inc-4711") == "inc-4711"
    for bad in ("", ".", "..", "../x", "a/b", ".hidden", "x" * 65, "a b", "caf\u00e9", "a\x1b[2J"):
        with pytest.raises(CaseNameError) as exc:
            validate_name(bad)
        assert "\n" not in str(exc.value) and "\x1b" not in str(exc.value)


def test_cases_dir_env_and_analyst(monkeypatch, tmp_path):
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "x"))
    assert cases_dir() == tmp_path / "x"
    monkeypatch.setenv("USER", "bob")
    assert default_analyst(None) == "bob"
    assert default_analyst("  Carol  ") == "Carol"


def test_store_round_trip_and_modes(store, tmp_path):
    store.record("query", "searched", query="@network.client.ip:1.2.3.4", window=(1, 2), counts={"events": 3})
    m = store.mark("event", "deleted board 1", events(1, 2), pane="explore", ref={"query": "*"})
    store.note(m.id, "revoked at 10:42 by me")
    store.note(CASE_NOTE, "leaked key")
    case = CaseStore("inc-4711", tmp_path / "cases").load()
    assert case.analyst == "alice" and case.problems == []
    assert [e.kind for e in case.entries] == ["query", "mark", "note", "note"]
    assert [e.seq for e in case.entries] == [1, 2, 3, 4]
    assert case.marks[m.id].event_ids == ("AQAAAZ-event-0001", "AQAAAZ-event-0002")
    assert case.notes[m.id].text == "revoked at 10:42 by me"
    assert case.case_note().text == "leaked key"
    assert set(store.events()) == {"AQAAAZ-event-0001", "AQAAAZ-event-0002"}
    # Private: 0700 folders, 0600 files.
    for p in [store.root, store.path, *store.path.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), p


def test_events_are_stored_once(store):
    assert store.add_events(events(1, 2)) == 2
    assert store.add_events(events(2, 3)) == 1
    lines = store.events_path.read_bytes().splitlines()
    assert len(lines) == 3
    # Exactly the item as read (compact JSON, same values).
    assert json.loads(lines[0]) == json.loads(event(1).raw)


def test_unmark_and_empty_note(store):
    m = store.mark("event", "x", events(1))
    store.note(m.id, "n")
    assert store.unmark(m.id) is True
    assert store.unmark(m.id) is False
    case = store.load()
    assert case.marks == {} and case.notes == {}
    with pytest.raises(CaseError):
        store.note("m99", "no such mark")


def test_corrupt_lines_are_reported_and_the_rest_kept(store):
    store.record("query", "one", query="a")
    store.record("query", "two", query="b")
    with open(store.journal_path, "ab") as f:
        f.write(b'{"seq": 3, "ts": "not a number"}\n')  # hand-edited
    store.record("query", "four", query="d")
    with open(store.journal_path, "ab") as f:
        f.write(b'{"seq": 5, "ts": 1, "kind": "que')  # a write cut short
    case = store.load()
    assert [e.summary for e in case.entries] == ["one", "two", "four"]
    assert len(case.problems) == 2
    assert f"{store.journal_path} line 3:" in case.problems[0]
    assert f"{store.journal_path} line 5: an incomplete last line" in case.problems[1]
    assert all("\n" not in p for p in case.problems)
    # Appending after a cut line starts a fresh line; the bad lines stay as they were.
    before = store.journal_path.read_bytes()
    store.record("query", "six", query="f")
    after = store.journal_path.read_bytes()
    assert after.startswith(before)
    case = store.load()
    assert [e.summary for e in case.entries] == ["one", "two", "four", "six"]
    assert "line 5:" in case.problems[1] and "incomplete" not in case.problems[1]


def test_corrupt_header_is_one_line(store):
    store.header_path.write_text("{not json")
    with pytest.raises(CaseError) as exc:
        store.load()
    assert str(exc.value).startswith(f"{store.header_path} line 1:")
    assert "\n" not in str(exc.value)


def test_open_unknown_case(tmp_path):
    with pytest.raises(NoSuchCase):
        CaseStore.open("nope", tmp_path)


def test_list_cases(tmp_path):
    a = CaseStore("a", tmp_path).create("alice")
    CaseStore("b", tmp_path).create("bob")
    a.mark("event", "x", events(1))
    (tmp_path / "not a case").mkdir()
    cases, problems = list_cases(tmp_path)
    assert [(c.name, c.analyst, c.marks) for c in cases] == [("a", "alice", 1), ("b", "bob", 0)]
    assert problems == []
    assert list_cases(tmp_path / "missing") == ([], [])


def test_two_stores_on_one_case_get_distinct_ids(tmp_path):
    # The TUI and a script on the same case: ids are taken under the journal's lock, from the file.
    s1 = CaseStore("c", tmp_path).create("a")
    s2 = CaseStore("c", tmp_path)
    m1 = s1.mark("event", "x", events(1))
    m2 = s2.mark("event", "y", events(2))
    assert (m1.id, m2.id) == ("m1", "m2")
    assert os.path.exists(s1.journal_path)


def test_an_unnamed_case_is_named_later(tmp_path):
    from ddaudit_tui.case.store import unnamed_name

    name = unnamed_name(1_780_000_000_000)
    assert name == "unnamed-20260528T202640Z" and validate_name(name) == name
    s = CaseStore(name, tmp_path).create("a")
    m = s.mark("event", "x", events(1))
    s.note(m.id, "keep me")
    CaseStore("taken", tmp_path).create("b")
    with pytest.raises(CaseNameError):
        s.rename("taken")
    with pytest.raises(CaseNameError):
        s.rename("../x")
    named = s.rename("inc-1")
    case = named.load()
    assert (
        case.name == "inc-1" and case.notes[m.id].text == "keep me" and set(named.events()) == {event(1).id}
    )
    assert not s.path.exists()
