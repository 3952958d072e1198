"""`--on-alert CMD`: tell the person, not only PagerDuty (issue 17 item 4).

For every new alert the watch runs CMD (split like a shell would, but no shell runs it) with the alert as
one JSON object on its standard input — the same object as `watch --format json` prints — for
`notify-send`, a Slack-webhook script, `tmux display-message`. It runs with a timeout, and never with a
secret: nothing is added to its arguments, and its environment is the watch's own minus every credential
(Datadog keys and tokens, PagerDuty routing keys, URLs that may carry a password, anything named like a
key, token, secret or password).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from typing import Any

from ddaudit_tui.safetext import clean

DEFAULT_TIMEOUT_S = 10.0
# Exact names first: the ones ddaudit itself reads. Then anything that looks like a credential.
_SECRET_VARS = {
    "DD_API_KEY", "DD_APP_KEY", "DD_APPLICATION_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_API_URL", "DDAUDIT_PROXY",
    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy",
    "PAGERDUTY_ROUTING_KEY", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "DDAUDIT_PAGERDUTY_URL",
}  # fmt: skip
# Not AUTH: XAUTHORITY is what notify-send needs to reach the desktop.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL", re.IGNORECASE)


class HookError(ValueError):
    """An --on-alert command that cannot be used (empty, unbalanced quotes): a usage error."""


def parse_command(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise HookError(f"--on-alert {command!r}: {exc}") from None
    if not argv:
        raise HookError("--on-alert: empty command")
    return argv


def hook_environment(base: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in base.items() if k not in _SECRET_VARS and not _SECRET_NAME.search(k)}


def run_hook(argv: list[str], alert: dict[str, Any], timeout_s: float = DEFAULT_TIMEOUT_S) -> str | None:
    """Run the hook for one alert. None when it succeeded, else one line saying what went wrong."""
    payload = json.dumps(alert, ensure_ascii=False).encode() + b"\n"
    try:
        done = subprocess.run(
            argv,
            input=payload,
            capture_output=True,
            timeout=timeout_s,
            env=hook_environment(os.environ),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{argv[0]}: still running after {timeout_s:g} s; stopped"
    except OSError as exc:
        return f"{argv[0]}: cannot run ({exc.strerror or exc})"
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if done.stderr else []
        # The script may echo the alert (attacker-controlled text): cleaned before it reaches a terminal.
        return f"{argv[0]}: exit {done.returncode}" + (f" ({clean(tail[0], max_len=200)})" if tail else "")
    return None
