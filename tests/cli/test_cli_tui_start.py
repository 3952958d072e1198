"""`ddaudit --pane P` and `ddaudit --key K`: which pane the TUI opens on (the app is not run)."""

from __future__ import annotations

from typing import Any

import pytest

from ddaudit_tui.cli import _normalise_argv as normalise
from ddaudit_tui.cli import build_parser, main, tui_start
from ddaudit_tui.cliutil import EXIT_OK, EXIT_USAGE

KEY = "9f3c2e71-5d1a-4c8e-b2f4-7a6d0e9c1b35"


def parse(*argv: str) -> Any:
    return build_parser().parse_args(normalise(list(argv)))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), ("auto", None)),
        (("--demo",), ("auto", None)),
        (("--pane", "watch"), ("watch", None)),
        (("--pane", "lookup"), ("lookup", None)),
        (("--pane", "ai", "--demo"), ("ai", None)),
        (("tui", "--pane", "explore"), ("explore", None)),
        (("--key", KEY), ("lookup", KEY)),
        (("--key", KEY.upper(), "--pane", "lookup"), ("lookup", KEY)),  # ids are normalised
    ],
)
def test_start_pane_from_the_arguments(argv: tuple[str, ...], expected: tuple[str, str | None]):
    assert tui_start(parse(*argv)) == expected


def test_an_unknown_pane_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exc:
        parse("--pane", "nowhere")
    assert exc.value.code == EXIT_USAGE
    assert "lookup" in capsys.readouterr().err  # the choices are listed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--key", "0123456789abcdef0123456789abcdef"), "looks like an API key itself"),
        (("--key", "not a key"), "invalid API key id"),
        (("--key", KEY, "--pane", "watch"), "--key opens Key lookup"),
    ],
)
def test_bad_key_arguments_are_usage_errors(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DDAUDIT_CONFIG", "/nonexistent/ddaudit.toml")
    code = main(["--demo", *argv])
    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_the_app_is_started_on_the_pane_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path):
    from ddaudit_tui.tui.app import DdauditApp

    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    seen: dict[str, Any] = {}

    def fake_run(self: DdauditApp, *a: Any, **kw: Any) -> None:
        seen["pane"], seen["key"] = self.start_pane, self.start_key

    monkeypatch.setattr(DdauditApp, "run", fake_run)
    assert main(["--demo", "--key", KEY]) == EXIT_OK
    assert seen == {"pane": "lookup", "key": KEY}
    assert main(["--demo", "--pane", "watch"]) == EXIT_OK
    assert seen == {"pane": "watch", "key": None}
    assert main(["--demo"]) == EXIT_OK
    assert seen == {"pane": "auto", "key": None}
