"""`ddaudit serve` (issue 17 item 3): token required on every request, 127.0.0.1 by default, read-only by
default, no secret in the app's process arguments, nothing fetched from outside the machine."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddaudit_tui.cli import build_parser
from ddaudit_tui.cliutil import UsageError
from ddaudit_tui.commands.serve import DEFAULT_HOST, app_command, app_environment

START_LIMIT_S = 60  # liveness bound on a loaded machine, not a timing


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def test_the_app_command_holds_no_secret_and_settings_go_through_the_environment() -> None:
    args = parse(
        "--api-url",
        "http://gw-user:s3cretPassw0rd@gateway.example/datadog",
        "--proxy",
        "http://u:pw@proxy:3128",
        "--from",
        "2h",
    )
    command = app_command(args)
    assert "s3cretPassw0rd" not in command and "pw@" not in command
    assert "--pane watch" in command and "--from 2h" in command
    env = app_environment(args, {"PAGERDUTY_ROUTING_KEY": "R" * 32, "DD_API_KEY": "k"})
    assert env["DDAUDIT_API_URL"].endswith("@gateway.example/datadog")
    assert env["DDAUDIT_PROXY"] == "http://u:pw@proxy:3128"
    # Read-only by default: revocation refused, and the watch cannot page.
    assert env["DDAUDIT_READ_ONLY"] == "1" and "PAGERDUTY_ROUTING_KEY" not in env
    assert env["DD_API_KEY"] == "k"  # the app still needs to read the audit trail
    allowed = app_environment(parse("--allow-actions"), {"PAGERDUTY_ROUTING_KEY": "R" * 32})
    assert "DDAUDIT_READ_ONLY" not in allowed and allowed["PAGERDUTY_ROUTING_KEY"] == "R" * 32


def test_stdin_cannot_be_served() -> None:
    with pytest.raises(UsageError, match="stdin"):
        app_command(parse("--input", "-"))


def test_loopback_unless_the_host_is_given() -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    assert parse().host is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DDAUDIT_", "PAGERDUTY"))}
        env.update(HOME=str(tmp), XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "cfg"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ddaudit_tui", "serve", "--demo", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "open http://127.0.0.1:" in line, line
        self.url = line.split("open ", 1)[1].strip()
        self.token = self.url.split("token=", 1)[1]
        deadline = time.monotonic() + START_LIMIT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)

    def get(self, path: str, cookie: str | None = None) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if cookie:
            request.add_header("Cookie", cookie)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode("utf-8", "replace") + str(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    yield server
    server.stop()


def test_every_request_needs_the_token(served: Served) -> None:
    assert served.get("/")[0] == 403
    assert served.get("/?token=wrong")[0] == 403
    assert served.get("/static/js/textual.js")[0] == 403
    assert served.get("/ws")[0] == 403
    status, page = served.get(f"/?token={served.token}")
    assert status == 200
    assert "ddaudit_serve=" in page and "HttpOnly" in page  # the cookie the scripts and websocket carry
    assert served.get("/static/js/textual.js", cookie=f"ddaudit_serve={served.token}")[0] == 200
    assert served.get("/static/js/textual.js", cookie="ddaudit_serve=nope")[0] == 403


def test_the_page_fetches_nothing_from_outside(served: Served) -> None:
    status, page = served.get(f"/?token={served.token}")
    assert status == 200
    assert "googleapis" not in page and "https://" not in page.split("<body")[0]
    assert "RobotoMono-VariableFont_wght.ttf" in page
