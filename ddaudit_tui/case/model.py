"""The investigation as one case: what was done (the journal), what was judged evidence (marks), what the
responder wrote (notes). No I/O here (that is `store.py`), no Textual.

A case is *replayed* from its journal: every action — a query run, a key looked up, a mark added or
removed, a note written, an export — is one `JournalEntry`, appended and never rewritten. `Case` is the
state those entries add up to. That is what makes a crash lose at most the last action, and a hand-edited
line cost only that line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = [
    "CASE_NOTE",
    "KINDS",
    "Case",
    "FileRef",
    "Finding",
    "JournalEntry",
    "Mark",
    "Note",
    "SourceInfo",
]

# What a journal entry records. The first five are work done in a pane (or its headless command).
KIND_QUERY = "query"  # Explore / `ddaudit search`
KIND_KEY = "key"  # Key lookup / `ddaudit key`
KIND_AI = "ai"  # AI activity / `ddaudit ai`
KIND_WATCH = "watch"  # Spike watch poll / `ddaudit watch --once`
KIND_COMPLIANCE = "compliance"  # `ddaudit report compliance`
KIND_ALERT = "alert"  # an alert opened (TUI)
KIND_PIVOT = "pivot"  # a pivot taken from one pane to another (TUI)
KIND_MARK = "mark"
KIND_UNMARK = "unmark"
KIND_NOTE = "note"
KIND_EXPORT = "export"
KINDS = (
    KIND_QUERY, KIND_KEY, KIND_AI, KIND_WATCH, KIND_COMPLIANCE, KIND_ALERT, KIND_PIVOT,
    KIND_MARK, KIND_UNMARK, KIND_NOTE, KIND_EXPORT,
)  # fmt: skip
WORK_KINDS = (KIND_QUERY, KIND_KEY, KIND_AI, KIND_WATCH, KIND_COMPLIANCE)
# The TUI pane that shows each kind of work (and restores the last one when the case is reopened).
PANE_OF_WORK = {KIND_QUERY: "explore", KIND_KEY: "lookup", KIND_AI: "ai"}

CASE_NOTE = "case"  # a note's target when it is about the whole case, not one mark


class FileRef(msgspec.Struct, frozen=True, kw_only=True):
    """An input file as it was read: the path given and the sha256 of its bytes."""

    path: str
    sha256: str | None = None  # None for stdin (nothing to hash again)
    size: int | None = None


class SourceInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where the events came from. Names a site and a profile, never a key (secrets are never written)."""

    kind: str  # "datadog" | "demo" | "files"
    site: str | None = None
    profile: str | None = None
    org: str | None = None  # the org's name, as the events carry it
    seed: int | None = None  # demo
    files: tuple[FileRef, ...] = ()

    def describe(self) -> str:
        org = f" (org {self.org})" if self.org else ""
        if self.kind == "demo":
            return f"demo org, seed {self.seed if self.seed is not None else 7}{org}"
        if self.kind == "files":
            names = ", ".join(f"{f.path} (sha256 {f.sha256})" if f.sha256 else f.path for f in self.files)
            return f"input files: {names}{org}"
        profile = f", profile {self.profile}" if self.profile else ""
        return f"Datadog {self.site or 'datadoghq.com'}{profile}{org}"


class Finding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Something an analysis reported — a key lookup's flag, a deletion, an alert, an AI flag — with the
    events that prove it. Findings' events are evidence, like marked ones."""

    kind: str  # "flag" | "destructive" | "alert" | "ai_flag" | "gap"
    title: str
    severity: str | None = None
    subject: str | None = None
    event_ids: tuple[str, ...] = ()


class Mark(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing the responder judged to be evidence. `ref` says where it lives, for jumping back to it
    (`{"key_id": …, "signal": …}`, `{"query": …}`, `{"alert": dedup_key}`…)."""

    id: str  # "m1", "m2"… unique within the case, never reused
    ts: int  # when it was marked, epoch ms UTC
    kind: str  # "event" | "flag" | "origin" | "endpoint" | "alert" | "ai_finding" | "row"
    pane: str  # "lookup" | "explore" | "watch" | "ai" | "cli"
    label: str  # one line, as the pane showed it (event text: escape on output)
    event_ids: tuple[str, ...] = ()
    ref: dict[str, str] = {}


class Note(msgspec.Struct, frozen=True, kw_only=True):
    """The responder's words on a mark (target = the mark id) or on the case (target = "case")."""

    target: str
    text: str
    ts: int


class JournalEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One action, as one line of the journal. Fields that do not apply to a kind are left out."""

    seq: int  # 1, 2, 3… in the order appended
    ts: int  # epoch ms UTC
    kind: str
    summary: str  # one line for people: "key 9f3c… — LIKELY COMPROMISED, 2 critical 1 high"
    pane: str | None = None
    source: SourceInfo | None = None
    query: str | None = None
    window: tuple[int, int] | None = None  # [start, end) epoch ms, as resolved
    counts: dict[str, int] = {}
    complete: bool | None = None
    warnings: tuple[str, ...] = ()
    command: str | None = None  # the `ddaudit …` command that does it again
    key_id: str | None = None
    verdict: str | None = None
    findings: tuple[Finding, ...] = ()
    section: str | None = None  # name of the stored report section (sections/<name>.md|.html)
    mark: Mark | None = None
    mark_id: str | None = None  # unmark
    note: Note | None = None
    path: str | None = None  # export: the folder written
    extra: dict[str, Any] = {}


@dataclass
class Case:
    """A case's state: its header and what its journal adds up to.

    `problems` are the lines that could not be read (one line each, naming the file and line): the
    rest of the case is there, the lines themselves are left untouched on disk."""

    name: str
    created: int
    analyst: str
    entries: list[JournalEntry] = field(default_factory=list)
    marks: dict[str, Mark] = field(default_factory=dict)  # by id, in the order marked
    notes: dict[str, Note] = field(default_factory=dict)  # by target
    problems: list[str] = field(default_factory=list)

    @classmethod
    def replay(cls, name: str, created: int, analyst: str, entries: Iterable[JournalEntry]) -> Case:
        case = cls(name, created, analyst)
        for e in entries:
            case.apply(e)
        return case

    def apply(self, e: JournalEntry) -> None:
        self.entries.append(e)
        if e.kind == KIND_MARK and e.mark is not None:
            self.marks[e.mark.id] = e.mark
        elif e.kind == KIND_UNMARK and e.mark_id is not None:
            self.marks.pop(e.mark_id, None)
            self.notes.pop(e.mark_id, None)
        elif e.kind == KIND_NOTE and e.note is not None:
            if e.note.text.strip():
                self.notes[e.note.target] = e.note
            else:  # an empty note removes it
                self.notes.pop(e.note.target, None)

    # -- views -----------------------------------------------------------------------------------

    @property
    def next_seq(self) -> int:
        return max((e.seq for e in self.entries), default=0) + 1

    def next_mark_id(self) -> str:
        """A fresh id: never one used before, even by a removed mark (a note or a report may name it)."""
        used = [int(e.mark.id[1:]) for e in self.entries if e.mark and e.mark.id[1:].isdigit()]
        return f"m{max(used, default=0) + 1}"

    def work(self) -> list[JournalEntry]:
        """The queries, lookups and analyses run, in order."""
        return [e for e in self.entries if e.kind in WORK_KINDS]

    def findings(self) -> list[tuple[JournalEntry, Finding]]:
        return [(e, f) for e in self.entries for f in e.findings]

    def marked_ids(self) -> set[str]:
        return {i for m in self.marks.values() for i in m.event_ids}

    def evidence_ids(self) -> list[str]:
        """Every event behind a mark or a reported finding, each once, in the order first cited."""
        seen: dict[str, None] = {}
        for m in self.marks.values():
            seen.update(dict.fromkeys(m.event_ids))
        for _, f in self.findings():
            seen.update(dict.fromkeys(f.event_ids))
        return list(seen)

    def sources(self) -> list[SourceInfo]:
        out: list[SourceInfo] = []
        for e in self.entries:
            if e.source is not None and e.source not in out:
                out.append(e.source)
        return out

    def case_note(self) -> Note | None:
        return self.notes.get(CASE_NOTE)

    def last_work(self) -> dict[str, JournalEntry]:
        """The last search, key lookup and AI analysis, by the TUI pane that shows them (`explore`,
        `lookup`, `ai`), done in the TUI or headless (`--case` on `search`, `key`, `ai`): a TUI reopening
        the case restores each pane from it."""
        out: dict[str, JournalEntry] = {}
        for e in self.work():
            if (pane := PANE_OF_WORK.get(e.kind)) is not None:
                out[pane] = e
        return out

    def key_lookups(self) -> list[JournalEntry]:
        return [e for e in self.entries if e.kind == KIND_KEY]

    def to_json(self) -> dict[str, Any]:
        """The machine-readable case (`case.json`): header, journal, marks, notes, findings."""
        return {
            "name": self.name,
            "created": self.created,
            "analyst": self.analyst,
            "sources": msgspec.to_builtins(self.sources()),
            "journal": msgspec.to_builtins(self.entries),
            "marks": msgspec.to_builtins(list(self.marks.values())),
            "notes": msgspec.to_builtins(list(self.notes.values())),
            "findings": [{"entry": e.seq, **msgspec.to_builtins(f)} for e, f in self.findings()],
            "evidence_event_ids": self.evidence_ids(),
            "problems": list(self.problems),
        }
