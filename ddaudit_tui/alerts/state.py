"""The spike watch's memory across restarts: a small SQLite database under the platform state directory.

It holds, per *scope* (one watched source: a Datadog site/profile, the demo, a set of input files):
the last successfully polled time, the rules' window contents (matched events only: a restart resumes
the same sliding windows instead of missing a burst that straddles it), the alerts (open, and closed
within a day, so a re-fetched burst is recognised rather than paged again), and — for every scope —
the pages sent, by dedup key. That is what makes "stop, start again, no second page" hold.

Never stored: the PagerDuty routing key or any Datadog credential. Files are created 0600 in a 0700
directory: they hold actor emails.

Directory: `--state-dir`, else `DDAUDIT_STATE_DIR`, else `platformdirs.user_state_dir("ddaudit")`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ddaudit_tui.alerts.state_location import DB_NAME, STATE_ENV, default_state_dir
from ddaudit_tui.analysis.spikes import Alert, EngineState, Entry

__all__ = ["STATE_ENV", "StateCorrupt", "StateError", "StateLocked", "WatchState", "default_state_dir"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS entries (
    scope TEXT NOT NULL, rule TEXT NOT NULL, grp TEXT NOT NULL, group_field TEXT NOT NULL,
    ts INTEGER NOT NULL, event_id TEXT NOT NULL, distinct_value TEXT, what TEXT NOT NULL, asset TEXT,
    PRIMARY KEY (scope, rule, event_id)
);
CREATE TABLE IF NOT EXISTS alerts (
    scope TEXT NOT NULL, dedup_key TEXT NOT NULL, data TEXT NOT NULL, is_open INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, dedup_key)
);
CREATE TABLE IF NOT EXISTS pages (
    dedup_key TEXT NOT NULL, action TEXT NOT NULL, sent_ms INTEGER NOT NULL, status INTEGER,
    PRIMARY KEY (dedup_key, action)
);
CREATE TABLE IF NOT EXISTS refusals (
    dedup_key TEXT NOT NULL, action TEXT NOT NULL, pager TEXT, status INTEGER, refused_ms INTEGER NOT NULL,
    PRIMARY KEY (dedup_key, action)
);
"""
# A `pages` row is written BEFORE the page is sent (status NULL: sending) and gets PagerDuty's status once
# accepted; it is deleted if PagerDuty did not accept it. A row left with status NULL (a crash, or a disk
# too full to update it) counts as sent: a page is never sent twice. `refusals` remembers which pager
# configuration (a hash of URL and routing key, never the key) refused a page with a 400, so the page is
# retried once the configuration changes.
_PAGES_RETENTION_MS = 30 * 86_400_000  # far beyond any alert's life: a re-fetched burst is recognised


class StateError(OSError):
    """The state database cannot be opened or written (CLI exit code 1)."""


class StateLocked(StateError):
    """Another `ddaudit watch` holds this scope's state: two watchers would page twice."""


class StateCorrupt(StateError):
    """A stored value cannot be read (a non-numeric watermark…): one line naming file and field; the
    watch continues from a safe point with `--reset-state` (CLI exit code 1)."""


def _db_error(path: Path, exc: sqlite3.Error, doing: str) -> StateError:
    """SQLite's words for a full disk are not the system's: say what the user can search for."""
    text = str(exc)
    if getattr(exc, "sqlite_errorcode", None) == 13 or "disk is full" in text:  # SQLITE_FULL
        return StateError(f"No space left on device: {path} ({doing}: {text})")
    return StateError(f"{path}: {doing} ({text})")


class WatchState:
    """One scope's view of the state database. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        directory: str | Path | None = None,
        scope: str = "default",
        *,
        lock: bool = True,
        legacy_scopes: tuple[str, ...] = (),
    ) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_state_dir()
        self.scope = scope
        self.path = self.directory / DB_NAME
        self._lock_file: IO[str] | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Create it 0600 before SQLite does (SQLite would honour the umask).
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            if lock:
                self._acquire_lock()
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            # Deleted rows are overwritten, not left in free pages (an old scope may name a password).
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('', 'schema', ?)", (str(SCHEMA_VERSION),))
            if legacy_scopes:
                self._adopt_legacy(legacy_scopes)
        except sqlite3.Error as exc:
            self._release_lock()
            raise _db_error(self.path, exc, "cannot open the watch state") from None
        except OSError as exc:
            self._release_lock()
            if isinstance(exc, StateError):
                raise
            raise StateError(
                f"{self.directory}: cannot use as state directory ({exc.strerror or exc})"
            ) from None

    # -- lifecycle -----------------------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        """An advisory lock per scope: a cron run that overlaps a slow previous one must not page twice."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock, SQLite still serialises writes
            return
        lock_path = self._lock_path(self.scope)
        f = os.fdopen(
            os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8"
        )
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise StateLocked(
                f"{lock_path}: another 'ddaudit watch' is using this state ({self.scope}); "
                "wait for it to finish or use another --state-dir"
            ) from None
        self._lock_file = f

    def _lock_path(self, scope: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in scope)[:80] or "default"
        return self.directory / f"watch-{safe}.lock"

    def _adopt_legacy(self, legacy_scopes: tuple[str, ...]) -> None:
        """Carry a scope's state over from an older name (versions ≤ 0.x named API scopes by their URL,
        which could hold a gateway password): rows renamed if this scope has none yet, dropped otherwise;
        the old lock file removed (its name could hold the password too)."""
        for old in legacy_scopes:
            if old == self.scope:
                continue
            has_old = self._db.execute("SELECT 1 FROM meta WHERE scope = ? LIMIT 1", (old,)).fetchone()
            has_old = (
                has_old or self._db.execute("SELECT 1 FROM alerts WHERE scope = ? LIMIT 1", (old,)).fetchone()
            )
            if has_old:
                has_new = self._db.execute(
                    "SELECT 1 FROM meta WHERE scope = ? LIMIT 1", (self.scope,)
                ).fetchone()
                with self._tx() as db:
                    for table in ("meta", "entries", "alerts"):
                        if has_new:
                            db.execute(f"DELETE FROM {table} WHERE scope = ?", (old,))  # noqa: S608
                        else:
                            db.execute(f"UPDATE {table} SET scope = ? WHERE scope = ?", (self.scope, old))  # noqa: S608
            old_lock = self._lock_path(old)
            if old_lock != self._lock_path(self.scope):
                with contextlib.suppress(OSError):
                    old_lock.unlink()

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
            self._db = None  # type: ignore[assignment]
        self._release_lock()

    def __enter__(self) -> WatchState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back by itself (a full disk does that): a second
                # ROLLBACK would fail with "no transaction is active" and hide the real cause.
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _db_error(self.path, exc, "cannot write the watch state") from None

    # -- meta ----------------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM meta WHERE scope = ? AND key = ?", (self.scope, key)
        ).fetchone()
        return None if row is None else row[0]

    def _number(self, value: object, field: str) -> int | None:
        """A stored number, or StateCorrupt naming the file and the field."""
        if value is None or value == "":
            return None
        try:
            return int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            raise StateCorrupt(
                f"{self.path}: corrupt watch state: {field} is {shown}, not a number; run 'ddaudit watch "
                "--reset-state' to start again from the last --window (pages already sent are kept)"
            ) from None

    @property
    def last_polled(self) -> int | None:
        """End (epoch ms) of the last poll that fetched its whole window."""
        return self._number(self._meta("last_polled"), "last_polled")

    def reset(self) -> None:
        """Forget this scope's polls, windows and alerts (a corrupt state); keep the pages sent, so no
        alert already paged is paged again."""
        with self._tx() as db:
            for table in ("meta", "entries", "alerts"):
                db.execute(f"DELETE FROM {table} WHERE scope = ?", (self.scope,))  # noqa: S608

    # -- engine state ----------------------------------------------------------------------------------

    def load(self) -> EngineState | None:
        """The saved engine state of this scope, or None on the first run."""
        watermark = self._number(self._meta("watermark"), "watermark")
        entries = [
            (rule, grp, gfield, Entry(self._number(ts, "entries.ts") or 0, eid, dv, what, asset))
            for rule, grp, gfield, ts, eid, dv, what, asset in self._db.execute(
                "SELECT rule, grp, group_field, ts, event_id, distinct_value, what, asset FROM entries "
                "WHERE scope = ?",
                (self.scope,),
            )
        ]
        alerts = []
        for (data,) in self._db.execute("SELECT data FROM alerts WHERE scope = ?", (self.scope,)):
            try:
                alerts.append(Alert.from_state(json.loads(data)))
            except (ValueError, KeyError, TypeError, IndexError):
                continue  # one unreadable row must not stop the watch
        if watermark is None and not entries and not alerts:
            return None
        return EngineState(entries=entries, alerts=alerts, watermark=watermark)

    def save(self, engine_state: EngineState, last_polled: int | None) -> None:
        """Replace this scope's saved state (one transaction: a crash leaves the previous state whole)."""
        now = int(time.time() * 1000)
        with self._tx() as db:
            db.execute("DELETE FROM entries WHERE scope = ?", (self.scope,))
            db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (self.scope, rule, grp, gfield, e.ts, e.id, e.distinct, e.what, e.asset)
                    for rule, grp, gfield, e in engine_state.entries
                ],
            )
            db.execute("DELETE FROM alerts WHERE scope = ?", (self.scope,))
            db.executemany(
                "INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?)",
                [
                    (self.scope, a.dedup_key, json.dumps(a.to_state()), int(a.is_open), now)
                    for a in engine_state.alerts
                ],
            )
            if engine_state.watermark is not None:
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, 'watermark', ?)",
                    (self.scope, str(engine_state.watermark)),
                )
            if last_polled is not None:
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, 'last_polled', ?)", (self.scope, str(last_polled))
                )
            db.execute("DELETE FROM pages WHERE sent_ms < ?", (now - _PAGES_RETENTION_MS,))

    # -- pages -------------------------------------------------------------------------------------

    def was_sent(self, dedup_key: str, action: str = "trigger") -> bool:
        row = self._db.execute(
            "SELECT 1 FROM pages WHERE dedup_key = ? AND action = ?", (dedup_key, action)
        ).fetchone()
        return row is not None

    def record_page(self, dedup_key: str, action: str, status: int | None = None) -> None:
        """Remember a page at once (its own transaction). Called BEFORE sending (status None: sending)
        and again once accepted: a crash, or a full disk, after sending must not re-page."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)",
                (dedup_key, action, int(time.time() * 1000), status),
            )
            db.execute("DELETE FROM refusals WHERE dedup_key = ? AND action = ?", (dedup_key, action))

    def forget_page(self, dedup_key: str, action: str) -> None:
        """PagerDuty did not accept it: the page is still to be sent."""
        with self._tx() as db:
            db.execute("DELETE FROM pages WHERE dedup_key = ? AND action = ?", (dedup_key, action))

    def record_refusal(self, dedup_key: str, action: str, pager: str | None, status: int | None) -> None:
        """PagerDuty refused it (400): retried once `pager` (the configuration's fingerprint) changes."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO refusals VALUES (?, ?, ?, ?, ?)",
                (dedup_key, action, pager, status, int(time.time() * 1000)),
            )

    def refused_by(self, dedup_key: str, action: str = "trigger") -> tuple[str | None] | None:
        """(the fingerprint of the pager configuration that refused it,) or None if never refused."""
        row = self._db.execute(
            "SELECT pager FROM refusals WHERE dedup_key = ? AND action = ?", (dedup_key, action)
        ).fetchone()
        return None if row is None else (row[0],)

    def pages(self) -> list[tuple[str, str, int, int | None]]:
        """(dedup_key, action, sent_ms, HTTP status) of every page remembered, oldest first."""
        return list(self._db.execute("SELECT dedup_key, action, sent_ms, status FROM pages ORDER BY sent_ms"))

    def dump(self) -> dict[str, Any]:
        """Everything stored for this scope, for tests and `--debug` (nothing secret is ever in it)."""
        return {
            "last_polled": self.last_polled,
            "entries": self._db.execute(
                "SELECT COUNT(*) FROM entries WHERE scope = ?", (self.scope,)
            ).fetchone()[0],
            "alerts": [
                json.loads(d)
                for (d,) in self._db.execute("SELECT data FROM alerts WHERE scope = ?", (self.scope,))
            ],
            "pages": self.pages(),
        }
