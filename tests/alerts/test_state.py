"""The watch state database: round trips, scopes, permissions, the per-scope lock, no secrets."""

from __future__ import annotations

import os
import stat

import pytest
from watch_helpers import T0, M, event

from ddaudit_tui.alerts.state import StateLocked, WatchState, default_state_dir
from ddaudit_tui.analysis.spikes import Rule, SpikeEngine

ROLE = Rule(name="role_changes", query="@asset.type:role", threshold=3)


def engine_with_alert() -> SpikeEngine:
    eng = SpikeEngine([ROLE])
    eng.ingest([event(0), event(1), event(2), event(3, "alice@x")])
    eng.advance(T0 + 4 * M)
    return eng


def test_round_trip(tmp_path):
    eng = engine_with_alert()
    [alert] = eng.alerts()
    alert.page_status = "sent"
    with WatchState(tmp_path, "api:datadoghq.com:") as st:
        assert st.load() is None and st.last_polled is None
        st.save(eng.export_state(), T0 + 4 * M)
    with WatchState(tmp_path, "api:datadoghq.com:") as st:
        saved = st.load()
        assert st.last_polled == T0 + 4 * M
    assert saved.watermark == T0 + 4 * M
    assert sorted(e.id for _, _, _, e in saved.entries) == sorted(
        e.id for _, _, _, e in eng.export_state().entries
    )
    [restored] = saved.alerts
    assert restored.to_state() == alert.to_state()


def test_scopes_are_separate_and_pages_are_global(tmp_path):
    with WatchState(tmp_path, "demo:7") as a:
        a.save(engine_with_alert().export_state(), T0)
        a.record_page("k1", "trigger", 202)
    with WatchState(tmp_path, "input:/x.json") as b:
        assert b.load() is None and b.last_polled is None
        assert b.was_sent("k1") and not b.was_sent("k1", "resolve") and not b.was_sent("k2")
        assert [p[:2] for p in b.pages()] == [("k1", "trigger")]


def test_files_are_private(tmp_path):
    directory = tmp_path / "state"
    with WatchState(directory, "s"):
        pass
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(directory / "watch.sqlite3").st_mode) == 0o600


def test_one_watcher_per_scope(tmp_path):
    with WatchState(tmp_path, "api:x"):
        with pytest.raises(StateLocked, match="another 'ddaudit watch'"):
            WatchState(tmp_path, "api:x")
        with WatchState(tmp_path, "api:y"):  # another scope is fine
            pass
    with WatchState(tmp_path, "api:x"):  # released on close
        pass


def test_unreadable_alert_rows_are_skipped(tmp_path):
    with WatchState(tmp_path, "s") as st:
        st.save(engine_with_alert().export_state(), T0)
        st._db.execute("INSERT INTO alerts VALUES ('s', 'broken', '{\"rule\": 1}', 1, 0)")
        assert len(st.load().alerts) == 1


def test_state_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "st"))
    assert default_state_dir() == tmp_path / "st"
    monkeypatch.delenv("DDAUDIT_STATE_DIR")
    assert "ddaudit" in str(default_state_dir())


def test_unusable_directory_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="cannot use as state directory"):
        WatchState(blocker / "sub", "s")
