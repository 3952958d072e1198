"""First paint ≤ 0.5 s (issue 12): what the TUI imports before its first frame.

Each probe runs in a fresh interpreter and lists the modules loaded; no timing is asserted. The panes
that are not the start pane, the dialogs, the headless commands, Spike watch's alerts machinery (rules,
poller, PagerDuty, state; tomllib) and (without a config file) pydantic are imported only when they
are used: each one costs launch time before the first frame. Nor is the input file read (hashed for the
case) before the app runs: the app does it in the background once its first frame is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Libraries whose import costs launch time and that the first frame does not need (checked below).
HEAVY_LIBRARIES = ("pydantic", "httpx", "tomllib", "sqlglot")
# Spike watch's machinery: imported when the pane (or its compact form) first opens.
ALERTS_MODULES = [
    "ddaudit_tui.alerts.wiring",
    "ddaudit_tui.alerts.rules",
    "ddaudit_tui.alerts.poller",
    "ddaudit_tui.alerts.pagerduty",
    "ddaudit_tui.alerts.state",
]

# Modules the first frame of a pane does not need: other panes, dialogs, headless commands.
PANE_MODULES = {
    "lookup": "ddaudit_tui.tui.screens.key_lookup",
    "watch": "ddaudit_tui.tui.screens.watch",
    "ai": "ddaudit_tui.tui.screens.ai",
    "explore": "ddaudit_tui.tui.screens.explore",
    "case": "ddaudit_tui.tui.screens.case_view",
}
DIALOGS = [
    "ddaudit_tui.tui.screens.help",
    "ddaudit_tui.tui.screens.copy_as_dialog",
    "ddaudit_tui.tui.screens.compliance_dialog",
    "ddaudit_tui.tui.screens.export_dialog",
    "ddaudit_tui.tui.screens.preset_dialog",
    "ddaudit_tui.tui.screens.key_revoke",
    "ddaudit_tui.tui.screens.key_chart",
    "ddaudit_tui.tui.screens.detail",
]


def loaded_after(code: str, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules of this package (and a few heavy libraries) loaded after running `code`."""
    probe = (
        f"{code}\nimport sys\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('ddaudit_tui')"
        f" or m.split('.')[0] in {HEAVY_LIBRARIES!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True, env=env
    )
    return set(out.stdout.split())


def test_importing_the_app_imports_no_pane_dialog_or_command() -> None:
    loaded = loaded_after("import ddaudit_tui.tui.app")
    unwanted = [*PANE_MODULES.values(), *DIALOGS, "ddaudit_tui.tui.pivot", "ddaudit_tui.cli"]
    assert sorted(loaded & set(unwanted)) == []
    assert not any(m.startswith(("ddaudit_tui.commands", "ddaudit_tui.report", "pydantic")) for m in loaded)


def test_the_panes_are_still_reachable_by_their_class() -> None:
    from ddaudit_tui.tui.app import PANES, DdauditApp
    from ddaudit_tui.tui.screens.base import PaneScreen

    for pane in PANES:
        assert issubclass(pane.screen, PaneScreen)
        assert pane.screen.__module__ == PANE_MODULES[pane.mode]
        assert pane.mode in DdauditApp.MODES


def _launch_probe(tmp_path: Path, *argv: str) -> set[str]:
    """`ddaudit ARGV` up to the moment the app would run (its `run` replaced by a no-op)."""
    code = (
        "import sys\n"
        "from ddaudit_tui.tui.app import DdauditApp\n"
        "DdauditApp.run = lambda self, *a, **k: None\n"
        "from ddaudit_tui.entry import main\n"
        "sys.argv = ['ddaudit', *sys.argv[1:]]\n"
        "assert main() == 0"
    )
    env = {"DDAUDIT_CONFIG": str(tmp_path / "none.toml"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return loaded_after(code, *argv, env=env)


def test_launching_the_tui_builds_only_the_tui_parser(tmp_path: Path) -> None:
    loaded = _launch_probe(tmp_path, "--demo", "--pane", "explore")
    assert sorted(m for m in loaded if m.startswith("ddaudit_tui.commands.")) == []
    assert sorted(loaded & {*PANE_MODULES.values(), *DIALOGS}) == []
    # The demo org (and its catalogue) is built after the first frame: not even imported before.
    org = {f"ddaudit_tui.demo.{m}" for m in ("org", "catalog", "shapes", "incidents")}
    assert sorted(loaded & org) == []
    assert "sqlglot" not in loaded  # the fake DDSQL API's engine: imported by a DDSQL query only


@pytest.mark.parametrize("pane", ["lookup", "explore"])
def test_a_launch_imports_no_alerts_machinery(tmp_path: Path, pane: str) -> None:
    # Spike watch's options are made when the pane first opens, not by the CLI before the app runs.
    loaded = _launch_probe(tmp_path, "--demo", "--pane", pane)
    assert sorted(loaded & {*ALERTS_MODULES, "tomllib"}) == []


def test_a_file_launch_without_config_imports_no_pydantic_or_httpx(tmp_path: Path) -> None:
    events = Path(__file__).parents[1] / "fixtures" / "reference" / "elastic_archive.ndjson"
    loaded = _launch_probe(tmp_path, "--input", str(events), "--pane", "explore")
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY_LIBRARIES) == []
    assert sorted(loaded & set(ALERTS_MODULES)) == []


def test_a_file_launch_does_not_hash_the_input_before_the_app_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case names its input files with their sha256: seconds of reading on a big file. The CLI
    leaves it to the case session, which computes it when first asked (the app asks after its first
    frame, in a thread)."""
    import hashlib

    import ddaudit_tui.case.record as record
    from ddaudit_tui.cli import main
    from ddaudit_tui.tui.app import DdauditApp

    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    events = Path(__file__).parents[1] / "fixtures" / "reference" / "elastic_archive.ndjson"
    hashed: list[str] = []
    real_sha256 = record._sha256

    def sha256(path: str) -> tuple[str | None, int | None]:
        hashed.append(path)
        return real_sha256(path)

    monkeypatch.setattr(record, "_sha256", sha256)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(DdauditApp, "run", lambda self, *a, **k: seen.setdefault("app", self))
    assert main(["--input", str(events)]) == 0
    assert hashed == []
    source = seen["app"].case.source  # asked: computed now, once
    assert hashed == [str(events)]
    assert source.kind == "files"
    assert source.files[0].sha256 == hashlib.sha256(events.read_bytes()).hexdigest()
    assert source.files[0].size == events.stat().st_size
    assert seen["app"].case.source is source and len(hashed) == 1


async def test_the_app_resolves_the_case_source_after_its_first_frame(tmp_path: Path) -> None:
    import threading

    from watch_pane_helpers import until

    from ddaudit_tui.case.model import FileRef, SourceInfo
    from ddaudit_tui.demo.source import open_demo
    from ddaudit_tui.timeutil import Window
    from ddaudit_tui.tui.app import DdauditApp
    from ddaudit_tui.tui.case_session import CaseSession

    info = SourceInfo(kind="files", files=(FileRef(path="/x.json", sha256="ab" * 32, size=3),))
    calls: list[tuple[bool, bool]] = []

    def source_info() -> SourceInfo:
        calls.append((app.screen.is_mounted, threading.current_thread() is threading.main_thread()))
        return info

    now_ms = 1_760_000_000_000
    case = CaseSession("tester", root=tmp_path, source=source_info)
    app = DdauditApp(
        open_demo(events=100, end_ms=now_ms),
        Window(now_ms - 86_400_000, now_ms),
        start_pane="lookup",  # records nothing by itself: only the app's thread asks for the source
        case=case,
    )
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: bool(calls), timeout=30, what="the case's source info")
        assert calls == [(True, False)]  # after the pane was there, off the event loop's thread
        assert app.case.source is info


def test_settings_without_a_config_file_import_no_pydantic(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom pathlib import Path\nfrom ddaudit_tui.config import load_settings\n"
        "s = load_settings(env={'DD_SITE': 'datadoghq.eu'}, path=Path(sys.argv[1]))\n"
        "assert s.site == 'datadoghq.eu', s"
    )
    loaded = loaded_after(code, str(tmp_path / "missing.toml"))
    assert not any(m.startswith("pydantic") for m in loaded)


@pytest.mark.parametrize("kind", ["demo", "file"])
async def test_the_app_releases_a_held_source_after_its_first_frame(kind: str, tmp_path: Path) -> None:
    from watch_pane_helpers import until

    from ddaudit_tui.demo.org import write_demo_data
    from ddaudit_tui.demo.source import open_demo
    from ddaudit_tui.sources.files import FileSource
    from ddaudit_tui.timeutil import Window
    from ddaudit_tui.tui.app import DdauditApp
    from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen

    now_ms = 1_760_000_000_000
    source: Any
    if kind == "demo":
        source = open_demo(events=400, end_ms=now_ms, held=True)
    else:
        path = tmp_path / "events.json"
        with path.open("wb") as out:
            write_demo_data(out, events=400, seed=7)
        source = FileSource.open_streaming([str(path)], held=True)
    released = source.after_first_paint
    calls: list[bool] = []

    def after_first_paint() -> None:
        # The pane was there before its data was asked for. (A fallback timer may fire again while the app
        # tears down, with no screen left: recorded as False, after the first call.)
        calls.append(bool(app.screen_stack) and app.screen.is_mounted)
        released()

    source.after_first_paint = after_first_paint
    window = Window(now_ms - 7 * 86_400_000, now_ms) if kind == "demo" else source.current_window()
    app = DdauditApp(source, window, start_pane="lookup")
    async with app.run_test(size=(120, 35)) as pilot:
        lookup = app.screen
        assert isinstance(lookup, KeyLookupScreen)
        await until(pilot, lambda: bool(lookup.keys), timeout=60, what="the keys seen")
        # On the first frame (Textual's Ready); a fallback timer may call it again: harmless.
        assert calls[:1] == [True]


def test_the_key_lookup_pane_imports_neither_its_dialogs_nor_pydantic() -> None:
    # Key lookup is the usual start pane: what it imports comes before the first frame.
    loaded = loaded_after("import ddaudit_tui.tui.screens.key_lookup")
    dialogs = ["ddaudit_tui.tui.screens.key_chart", "ddaudit_tui.tui.screens.key_revoke"]
    assert sorted(loaded & {*dialogs, "ddaudit_tui.analysis.ai", "ddaudit_tui.demo.catalog"}) == []
    assert not any(m.startswith(("pydantic", "httpx")) for m in loaded)


def _gc_probe(tmp_path: Path, *argv: str, patch: str) -> list[str]:
    """`ddaudit ARGV` through the entry point, `patch` replacing what would run; prints what it saw."""
    code = (
        "import gc, sys\n"
        f"{patch}\n"
        "from ddaudit_tui.entry import main\n"
        "sys.argv = ['ddaudit', *sys.argv[1:]]\n"
        "assert main() == 0\n"
        "print('after', gc.isenabled())"
    )
    env = {"DDAUDIT_CONFIG": str(tmp_path / "none.toml"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.split("\n")[:-1]


def test_the_collector_is_paused_until_the_first_frame_and_only_for_the_tui(tmp_path: Path) -> None:
    # The cyclic GC walks the objects of the imports and of the first compose several times before the
    # first frame and frees next to nothing: the TUI's launch pauses it, the first frame resumes it.
    tui = "from ddaudit_tui.tui.app import DdauditApp\nDdauditApp.run = lambda self, *a, **k: print('run', gc.isenabled())"
    assert _gc_probe(tmp_path, "--demo", patch=tui) == ["run False", "after True"]
    # Any other command runs with the collector on.
    config = (
        "import ddaudit_tui.cli as cli\ncli._run_config = lambda args: print('config', gc.isenabled()) or 0"
    )
    assert _gc_probe(tmp_path, "config", patch=config) == ["config True", "after True"]


async def test_the_first_frame_resumes_the_collector() -> None:
    import gc

    from watch_pane_helpers import until

    from ddaudit_tui.demo.source import open_demo
    from ddaudit_tui.timeutil import Window
    from ddaudit_tui.tui.app import DdauditApp

    now_ms = 1_760_000_000_000
    app = DdauditApp(
        open_demo(events=100, end_ms=now_ms), Window(now_ms - 86_400_000, now_ms), start_pane="explore"
    )
    gc.disable()  # as the entry point leaves it for the TUI
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, gc.isenabled, timeout=10, what="the collector back on")
    finally:
        gc.enable()


def test_the_key_lookup_pane_imports_no_ai_detection() -> None:
    # The key analysis runs the key detections only: the registry imports the pack of the analysis asked
    # for, not the AI detections too (~45 ms of CPU). The pane imports the analysis once the keys seen are
    # there (after its first frame): what it imports then is checked.
    loaded = loaded_after(
        "import ddaudit_tui.tui.screens.key_lookup, ddaudit_tui.analysis.key_investigation,"
        " ddaudit_tui.analysis.key_risk, ddaudit_tui.tui.widgets.key_tables"
    )
    assert "ddaudit_tui.analysis.detections.burst" in loaded  # the key pack is there
    assert sorted(m for m in loaded if m.startswith("ddaudit_tui.analysis.detections.ai_")) == []
    assert "ddaudit_tui.analysis.detections.watch_rule" not in loaded


async def test_key_lookup_composes_its_report_after_the_first_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    # The report (summary, activity, six sections: 28 widgets) is hidden until a key is looked up; the
    # first frame shows the picker only, so the report is composed after it, and is there for a lookup.
    from watch_pane_helpers import until

    from ddaudit_tui.demo.source import open_demo
    from ddaudit_tui.timeutil import Window
    from ddaudit_tui.tui.app import DdauditApp
    from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
    from ddaudit_tui.tui.widgets.key_summary import KeySummary

    at_frame: list[int] = []  # the report's widgets when each frame of the pane is written
    real_refresh = KeyLookupScreen._compositor_refresh

    def compositor_refresh(self: KeyLookupScreen) -> None:
        at_frame.append(len(self.query("#key-results *")))
        real_refresh(self)

    monkeypatch.setattr(KeyLookupScreen, "_compositor_refresh", compositor_refresh)
    # Nor is it composed before the app's own first-paint point (what bench/ measures up to).
    at_first_paint: list[int] = []
    real_done = DdauditApp._first_paint_done

    def first_paint_done(self: DdauditApp) -> None:
        at_first_paint.append(len(self.screen.query("#key-results *")))
        real_done(self)

    monkeypatch.setattr(DdauditApp, "_first_paint_done", first_paint_done)
    now_ms = 1_760_000_000_000
    app = DdauditApp(
        open_demo(events=100, end_ms=now_ms), Window(now_ms - 86_400_000, now_ms), start_pane="lookup"
    )
    async with app.run_test(size=(120, 35)) as pilot:
        assert at_frame[:1] == [0]
        await until(pilot, lambda: bool(at_first_paint), timeout=10, what="the first paint")
        assert at_first_paint[0] == 0
        screen = app.screen
        assert isinstance(screen, KeyLookupScreen)
        # As many widgets as were composed with the pane before, and a lookup shows the report in them.
        await until(pilot, lambda: len(screen.query("#key-results *")) == 28, timeout=10, what="the report")
        assert screen.lookup("11111111-1111-4111-8111-111111111111")
        await until(pilot, lambda: not screen.picking, timeout=10, what="the report shown")
        assert screen.query_one(KeySummary).display


def _first_paint_probe(tmp_path: Path, *argv: str) -> set[str]:
    """Every module loaded when `ddaudit ARGV` reaches the app's first-paint point (`_first_paint_done`:
    the frame is written), the app run headless in a 120×35 terminal. The process ends there."""
    out = tmp_path / "modules.txt"
    code = (
        "import os, sys\n"
        "from ddaudit_tui.tui.app import DdauditApp\n"
        "real_run = DdauditApp.run\n"
        "DdauditApp.run = lambda self, *a, **k: real_run(self, headless=True, size=(120, 35))\n"
        "def first_paint_done(self):\n"
        "    with open(os.environ['PROBE_OUT'], 'w') as f:\n"
        "        f.write('\\n'.join(sorted(sys.modules)))\n"
        "    os._exit(0)\n"
        "DdauditApp._first_paint_done = first_paint_done\n"
        "from ddaudit_tui.entry import main\n"
        "sys.argv = ['ddaudit', *sys.argv[1:]]\n"
        "main()\n"
        "raise SystemExit('no first paint')"
    )
    env = {
        "DDAUDIT_CONFIG": str(tmp_path / "none.toml"),
        "DDAUDIT_STATE_DIR": str(tmp_path / "state"),
        "DDAUDIT_CASES_DIR": str(tmp_path / "cases"),
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "PROBE_OUT": str(out),
    }
    subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, env=env)
    return set(out.read_text().split())


# What the demo's client needs only to send its first request (after the first frame): httpx (and what
# it pulls in: its CLI's click and pygments when installed, http.client, email) and the fake API.
DEMO_REQUEST_MODULES = (
    "httpx",
    "httpcore",
    "click",
    "pygments",
    "ddaudit_tui.demo.fake_datadog",
    "ddaudit_tui.demo.fake_ddsql",
    "sqlite3",
)
# What Key lookup needs only once the keys seen are listed (after its first frame): the key analysis
# (ranking the keys, a lookup), the report's widgets and their tabs.
KEY_ANALYSIS_MODULES = (
    "ddaudit_tui.analysis.keys",
    "ddaudit_tui.analysis.key_risk",
    "ddaudit_tui.analysis.key_verdict",
    "ddaudit_tui.analysis.key_engine",
    "ddaudit_tui.analysis.key_investigation",
    "ddaudit_tui.analysis.key_model",
    "ddaudit_tui.analysis.detections",
    "ddaudit_tui.report.key_report",
    "ddaudit_tui.tui.widgets.key_tables",
    "ddaudit_tui.tui.widgets.key_summary",
    "ddaudit_tui.tui.widgets.key_activity",
    "ddaudit_tui.tui.widgets.event_table",
    "ddaudit_tui.tui.pivot",
    "textual.widgets._tabbed_content",
)


def _unwanted(loaded: set[str], modules: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if m in modules or m.startswith(tuple(f"{u}." for u in modules)))


def test_the_demo_sends_its_first_request_after_the_first_frame(tmp_path: Path) -> None:
    # The demo's source is the real httpx client over the fake API: httpx is imported when the first
    # request goes out, and the held demo sends none before the frame.
    loaded = _first_paint_probe(tmp_path, "--demo")
    assert "ddaudit_tui.tui.screens.key_lookup" in loaded  # the start pane was composed
    assert _unwanted(loaded, DEMO_REQUEST_MODULES) == []
    # Nor is the search syntax needed: the default query `*` is not parsed, an ASCII one not straightened.
    assert "ddaudit_tui.events.query" not in loaded


def test_a_bad_query_is_still_refused_before_the_app_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ddaudit_tui.cli import main
    from ddaudit_tui.tui.app import DdauditApp

    monkeypatch.setattr(DdauditApp, "run", lambda self, *a, **k: pytest.fail("the app ran"))
    assert main(["--demo", "--query", "@evt.name:(unclosed"]) != 0
    assert "query error" in capsys.readouterr().err


def test_a_typographic_query_is_still_straightened(monkeypatch: pytest.MonkeyPatch) -> None:
    import ddaudit_tui.cli as cli

    seen: list[str] = []
    monkeypatch.setattr(cli, "_run_tui", lambda args: seen.append(args.query) or 0)
    assert cli.main(["--demo", "--query", "@usr.email:\u201ca@b.c\u201d"]) == 0
    assert cli.main(["--demo", "--query", "@usr.email:a"]) == 0
    assert seen == ['@usr.email:"a@b.c"', "@usr.email:a"]


@pytest.mark.parametrize("kind", ["demo", "file"])
def test_key_lookup_first_frame_imports_no_key_analysis(tmp_path: Path, kind: str) -> None:
    # The first frame shows the pane bar, the input and the list's title with a progress line; ranking the
    # keys (the key analysis) starts once they are listed, after the frame.
    events = Path(__file__).parents[1] / "fixtures" / "reference" / "elastic_archive.ndjson"
    argv = ["--demo"] if kind == "demo" else ["--input", str(events), "--pane", "lookup"]
    loaded = _first_paint_probe(tmp_path, *argv)
    assert "ddaudit_tui.tui.screens.key_lookup" in loaded
    assert _unwanted(loaded, KEY_ANALYSIS_MODULES) == []
    # At a full size the compact Spike watch is not needed: imported when the terminal is first small.
    assert "ddaudit_tui.tui.widgets.watch_compact" not in loaded


async def test_the_held_demo_talks_through_a_real_httpx_client_after_the_frame() -> None:
    import httpx

    from ddaudit_tui.demo.source import open_demo
    from ddaudit_tui.timeutil import Window

    now_ms = 1_760_000_000_000
    source = open_demo(events=50, end_ms=now_ms, held=True)
    source.after_first_paint()  # type: ignore[attr-defined]
    result = await source.fetch("*", Window(now_ms - 86_400_000, now_ms))
    assert len(result.events) == 50
    assert isinstance(source._http, httpx.AsyncClient)
    await source.aclose()
