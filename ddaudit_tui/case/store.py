"""Cases on disk: `<data dir>/ddaudit/cases/NAME/`, one folder per case.

    case.json      the header (name, created, analyst), written once, atomically
    journal.jsonl  one JournalEntry per line, append-only, fsynced after every action
    events.ndjson  the raw audit events the case cites (marks, findings), each once, append-only
    sections/      report sections rendered when the work was done (a key lookup's report), atomic

Directory: `DDAUDIT_CASES_DIR`, else `platformdirs.user_data_dir("ddaudit")/cases`. Directories are 0700
and files 0600: cases hold actor emails, IPs and what the responder thought of them.

Why append-only lines: a crash or `kill -9` in the middle of an action leaves at most that one line
incomplete; the lines before it are whole and fsynced. A line that cannot be read — cut short, or edited
by hand — is reported as one line naming the file and the line, skipped, and never rewritten: the next
append starts on a fresh line after it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec
import platformdirs

from ddaudit_tui.case.model import (
    CASE_NOTE,
    KIND_MARK,
    KIND_NOTE,
    KIND_UNMARK,
    KINDS,
    Case,
    JournalEntry,
    Mark,
    Note,
)
from ddaudit_tui.events.record import Event

__all__ = [
    "CASES_ENV",
    "CaseError",
    "CaseNameError",
    "CaseStore",
    "CaseSummary",
    "CaseWriteError",
    "NoSuchCase",
    "atomic_write",
    "cases_dir",
    "default_analyst",
    "list_cases",
    "now_ms",
    "unnamed_name",
    "validate_name",
]

CASES_ENV = "DDAUDIT_CASES_DIR"
HEADER = "case.json"
JOURNAL = "journal.jsonl"
EVENTS = "events.ndjson"
SECTIONS = "sections"
FORMAT_VERSION = 1

# A case name becomes a folder name (here and in exports): letters, digits, '.', '_', '-'; no leading
# dot (hidden, '..'), at most 64 characters.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CaseError(Exception):
    """A case that cannot be read or written; one line, naming the file (CLI exit code 4)."""


class CaseNameError(CaseError):
    """A case name that cannot be a folder name (CLI exit code 2)."""


class CaseWriteError(CaseError):
    """A case that cannot be written (a full disk, permissions): CLI exit code 1."""


class NoSuchCase(CaseError):
    """`case show/export NAME` of a case that was never made (CLI exit code 2)."""


class _Header(msgspec.Struct, kw_only=True):
    name: str
    created: int
    analyst: str
    version: int = FORMAT_VERSION


_header_decoder = msgspec.json.Decoder(_Header)
_entry_decoder = msgspec.json.Decoder(JournalEntry)
_encoder = msgspec.json.Encoder()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def validate_name(name: str) -> str:
    """The name itself, or CaseNameError saying what a name may be."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = name if isinstance(name, str) and name.isprintable() else repr(name)
        raise CaseNameError(
            f"invalid case name {shown!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (e.g. inc-4711)"
        )
    return name


def unnamed_name(at_ms: int | None = None) -> str:
    """A name for a case not named yet: `unnamed-20261207T104500Z`."""
    from datetime import UTC, datetime

    at = datetime.fromtimestamp((now_ms() if at_ms is None else at_ms) / 1000, tz=UTC)
    return "unnamed-" + at.strftime("%Y%m%dT%H%M%SZ")


def cases_dir() -> Path:
    override = os.environ.get(CASES_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("ddaudit")) / "cases"


def default_analyst(configured: str | None = None) -> str:
    """The config's `analyst`, else the login name, else "unknown"."""
    if configured and configured.strip():
        return configured.strip()
    for var in ("USER", "LOGNAME", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    return "unknown"


# -- durable writes --------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    # The new name of a file is durable only once its directory is synced.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_private_dir(path: Path) -> None:
    """mkdir -p with mode 0700, also when the umask would make it wider."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: a 0600 temp file beside it, fsync, rename, fsync dir."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _append_locked(path: Path) -> Iterator[IO[bytes]]:
    """The file opened for appending (0600), locked against other ddaudit processes, positioned on a
    fresh line: a previous line cut short by a crash stays as it is, reported, never glued to a new one."""
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            size = os.fstat(f.fileno()).st_size
            if size:
                with open(path, "rb") as r:
                    r.seek(size - 1)
                    if r.read(1) != b"\n":
                        f.write(b"\n")
            yield f
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    if new:
        _fsync_dir(path.parent)


def _line_problem(path: Path, lineno: int, reason: str, last: bool) -> str:
    why = "an incomplete last line (a write interrupted?)" if last else reason
    return f"{path} line {lineno}: {why}; skipped (the rest of the case is intact, the line is left as it is)"


def _short_reason(exc: Exception) -> str:
    text = str(exc).split("\n", 1)[0]
    return text if len(text) <= 120 else text[:117] + "…"


# -- the store -------------------------------------------------------------------------------------


class CaseStore:
    """One case's folder. `CaseStore(name)` names it; `create()` or `open()` before use.

    The TUI and the headless commands share this API: `load()` the case, `record(entry)` work done,
    `mark()` / `unmark()` / `note()`, `add_events()` the raw events a mark or finding cites, and
    `write_section()` a rendered report section. Every write is durable when it returns.
    """

    def __init__(self, name: str, root: str | Path | None = None) -> None:
        self.name = validate_name(name)
        self.root = Path(root).expanduser() if root is not None else cases_dir()
        self.path = self.root / self.name
        self.journal_path = self.path / JOURNAL
        self.events_path = self.path / EVENTS
        self.header_path = self.path / HEADER

    # -- lifecycle -------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.header_path.exists()

    def create(self, analyst: str) -> CaseStore:
        """Make the case's folder and header; an existing case is left as it is (and opened)."""
        try:
            make_private_dir(self.root)
            make_private_dir(self.path)
            if not self.exists():
                header = _Header(name=self.name, created=now_ms(), analyst=analyst)
                atomic_write(self.header_path, _encoder.encode(header) + b"\n")
        except OSError as exc:
            raise CaseWriteError(f"{self.path}: cannot create the case ({exc.strerror or exc})") from None
        return self

    @classmethod
    def open_or_create(cls, name: str, analyst: str, root: str | Path | None = None) -> CaseStore:
        return cls(name, root).create(analyst)

    @classmethod
    def open(cls, name: str, root: str | Path | None = None) -> CaseStore:
        store = cls(name, root)
        if not store.exists():
            raise NoSuchCase(f"no case named {name!r} in {store.root} (see 'ddaudit case list')")
        return store

    def rename(self, new_name: str) -> CaseStore:
        """The same case under a new name (the TUI's unnamed case, named on first mark or export).
        CaseNameError when the name is bad or taken."""
        target = CaseStore(new_name, self.root)
        if target.path.exists():
            raise CaseNameError(f"a case named {new_name!r} already exists in {self.root}")
        header = self._header()
        try:
            os.rename(self.path, target.path)
            header.name = target.name
            atomic_write(target.header_path, _encoder.encode(header) + b"\n")
        except OSError as exc:
            raise CaseWriteError(
                f"{self.path}: cannot rename to {new_name!r} ({exc.strerror or exc})"
            ) from None
        _fsync_dir(self.root)
        return target

    def _header(self) -> _Header:
        try:
            return _header_decoder.decode(self.header_path.read_bytes())
        except FileNotFoundError:
            raise NoSuchCase(
                f"no case named {self.name!r} in {self.root} (see 'ddaudit case list')"
            ) from None
        except OSError as exc:
            raise CaseError(f"{self.header_path}: cannot read ({exc.strerror or exc})") from None
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CaseError(f"{self.header_path} line 1: not a case header ({_short_reason(exc)})") from None

    # -- reading ---------------------------------------------------------------------------------

    def load(self) -> Case:
        """The case as its journal adds up. Unreadable lines are in `case.problems`, one line each."""
        header = self._header()
        problems: list[str] = []
        entries = list(self._read_journal(problems))
        case = Case.replay(header.name, header.created, header.analyst, entries)
        case.problems = problems
        return case

    def _read_journal(self, problems: list[str]) -> Iterator[JournalEntry]:
        try:
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CaseError(f"{self.journal_path}: cannot read ({exc.strerror or exc})") from None
        lines = data.split(b"\n")
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            last = i == len(lines) and not data.endswith(b"\n")
            try:
                entry = _entry_decoder.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                problems.append(_line_problem(self.journal_path, i, _short_reason(exc), last))
                continue
            if entry.kind not in KINDS:
                problems.append(_line_problem(self.journal_path, i, f"unknown action {entry.kind!r}", False))
                continue
            yield entry

    def events(self, problems: list[str] | None = None) -> dict[str, Event]:
        """The stored raw events by id (first copy wins). Unreadable lines go to `problems`."""
        from ddaudit_tui.events.decode import DecodeError, iter_ndjson

        out: dict[str, Event] = {}
        try:
            data = self.events_path.read_bytes()
        except FileNotFoundError:
            return out
        except OSError as exc:
            raise CaseError(f"{self.events_path}: cannot read ({exc.strerror or exc})") from None
        lines = data.split(b"\n")
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                for ev in iter_ndjson(line, str(self.events_path), first_line=i):
                    out.setdefault(ev.id, ev)
            except (DecodeError, ValueError) as exc:
                if problems is not None:
                    last = i == len(lines) and not data.endswith(b"\n")
                    problems.append(_line_problem(self.events_path, i, _short_reason(exc), last))
        return out

    def section(self, name: str, fmt: str) -> str | None:
        """A stored report section (`fmt` "md" or "html"), or None when missing."""
        try:
            return (self.path / SECTIONS / f"{name}.{fmt}").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    # -- writing ---------------------------------------------------------------------------------

    def _append(self, make: Callable[[Case], list[JournalEntry]]) -> list[JournalEntry]:
        """Append the entries `make` builds from the case as it is now, under the journal's lock (two
        processes on one case — the TUI and a script — get distinct sequence numbers and mark ids)."""
        if not self.exists():
            raise NoSuchCase(f"no case named {self.name!r} in {self.root}")
        try:
            with _append_locked(self.journal_path) as f:
                entries = make(self.load())
                f.write(b"".join(_encoder.encode(e) + b"\n" for e in entries))
        except OSError as exc:
            raise CaseWriteError(f"{self.journal_path}: cannot write ({exc.strerror or exc})") from None
        return entries

    def record(self, kind: str, summary: str, **fields: Any) -> JournalEntry:
        """Journal one action (`kind` from model.KINDS; fields as in JournalEntry)."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal kind {kind!r}")
        return self._append(
            lambda case: [JournalEntry(seq=case.next_seq, ts=now_ms(), kind=kind, summary=summary, **fields)]
        )[0]

    def mark(
        self,
        kind: str,
        label: str,
        events: Iterable[Event] = (),
        *,
        pane: str = "cli",
        ref: dict[str, str] | None = None,
        event_ids: Iterable[str] = (),
    ) -> Mark:
        """Mark something as evidence. `events` are stored raw (the export needs them); `event_ids`
        may name more events already stored (by an earlier mark or finding)."""
        return self.mark_many([(kind, label, list(events), ref or {}, tuple(event_ids))], pane=pane)[0]

    def mark_many(self, items: Iterable[tuple[Any, ...]], *, pane: str = "cli") -> list[Mark]:
        """Several marks in one durable write: items are (kind, label, events, ref[, more event ids])."""
        rows = [(*item, ())[:5] for item in items]
        self.add_events(e for row in rows for e in row[2])

        def make(case: Case) -> list[JournalEntry]:
            seq, first = case.next_seq, int(case.next_mark_id()[1:])
            out = []
            for i, (kind, label, evs, ref, more) in enumerate(rows):
                ids = tuple(dict.fromkeys([*(e.id for e in evs), *more]))
                m = Mark(
                    id=f"m{first + i}", ts=now_ms(), kind=kind, pane=pane, label=label, event_ids=ids,
                    ref=dict(ref or {}),
                )  # fmt: skip
                out.append(
                    JournalEntry(
                        seq=seq + i,
                        ts=m.ts,
                        kind=KIND_MARK,
                        pane=pane,
                        summary=f"marked {kind}: {label}",
                        mark=m,
                    )
                )
            return out

        return [e.mark for e in self._append(make) if e.mark is not None]

    def unmark(self, mark_id: str) -> bool:
        """Remove a mark (its note goes with it). False when no such mark is set."""
        if mark_id not in self.load().marks:
            return False
        self.record(KIND_UNMARK, f"removed mark {mark_id}", mark_id=mark_id)
        return True

    def note(self, target: str, text: str) -> Note:
        """Set the note on a mark id, or on the case (target "case"); empty text removes it."""
        if target != CASE_NOTE and target not in self.load().marks:
            raise CaseError(f"no mark {target!r} in case {self.name!r}")
        note = Note(target=target, text=text, ts=now_ms())
        what = "the case" if target == CASE_NOTE else f"mark {target}"
        first = text.strip().splitlines()[0] if text.strip() else ""
        self.record(
            KIND_NOTE, f"note on {what}: {first}" if first else f"removed the note on {what}", note=note
        )
        return note

    def add_events(self, events: Iterable[Event]) -> int:
        """Keep these events' raw items (each id once); returns how many were new. Written before the
        journal line that cites them, so a cited event is always stored."""
        from ddaudit_tui.report.events_output import write_ndjson

        evs = list(events)
        if not evs:
            return 0
        if not self.exists():
            raise NoSuchCase(f"no case named {self.name!r} in {self.root}")
        try:
            with _append_locked(self.events_path) as f:
                have = self.events()
                new = list({e.id: e for e in evs if e.id not in have}.values())
                write_ndjson(new, f)
        except OSError as exc:
            raise CaseWriteError(f"{self.events_path}: cannot write ({exc.strerror or exc})") from None
        return len(new)

    def write_section(self, name: str, md: str | None = None, html: str | None = None) -> None:
        """Store a rendered report section (atomically): the export puts it in report.md / report.html."""
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise ValueError(f"bad section name {name!r}")
        d = self.path / SECTIONS
        try:
            make_private_dir(d)
            if md is not None:
                atomic_write(d / f"{name}.md", md.encode("utf-8"))
            if html is not None:
                atomic_write(d / f"{name}.html", html.encode("utf-8"))
        except OSError as exc:
            raise CaseWriteError(f"{d}: cannot write ({exc.strerror or exc})") from None


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    created: int
    analyst: str
    updated: int
    entries: int
    marks: int
    problems: int


def list_cases(root: str | Path | None = None) -> tuple[list[CaseSummary], list[str]]:
    """(the cases, by name; problems: cases that cannot be read, one line each)."""
    base = Path(root).expanduser() if root is not None else cases_dir()
    out: list[CaseSummary] = []
    problems: list[str] = []
    try:
        children = sorted(p for p in base.iterdir() if p.is_dir())
    except FileNotFoundError:
        return out, problems
    except OSError as exc:
        raise CaseError(f"{base}: cannot read ({exc.strerror or exc})") from None
    for d in children:
        if not _NAME.fullmatch(d.name) or not (d / HEADER).exists():
            continue
        try:
            case = CaseStore(d.name, base).load()
        except CaseError as exc:
            problems.append(str(exc))
            continue
        problems += case.problems
        out.append(
            CaseSummary(
                name=case.name, created=case.created, analyst=case.analyst,
                updated=max((e.ts for e in case.entries), default=case.created), entries=len(case.entries),
                marks=len(case.marks), problems=len(case.problems),
            )
        )  # fmt: skip
    return out, problems
