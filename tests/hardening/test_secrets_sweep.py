"""Secrets never leave the process (issue 7, item 4).

Known fake secrets sit in the environment and in a config profile (`*_env` / `*_cmd` indirections): DD
API/application keys, an access token, PagerDuty routing keys, a proxy password and a gateway password in
the API URL. Every command runs with them — `config`, `demo-data`, `search`, `key`, `ai`, `watch`
(`--once`, `--replay`, `--dry-run`, real pages to a loopback PagerDuty, failed pages queued in the
state), `revoke` — against input files, the demo, and a loopback fake Datadog API that only answers
when the secrets are sent (so they were really in use), in every output format, to stdout and to `-o`
files; the TUI's exports are written from results fetched with the same credentials, and the TUI's Spike
watch pages with the routing key. Then every byte of stdout, stderr, a DEBUG log of every logger,
every exported file, the SQLite watch state (with its journal files) and everything else under the
test's directories is searched for each secret, any 8 consecutive characters of it, and its base64 (at
every alignment, so it is found inside a longer base64 blob too). `ddaudit config` shows the last four
characters of long keys, as Datadog's UI does; nothing longer is allowed anywhere.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import logging
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ddaudit_tui import cli
from ddaudit_tui.alerts.pagerduty import PagerDutyClient
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from ddaudit_tui.commands import watch as watch_cmd
from ddaudit_tui.commands.watch import EXIT_UNDELIVERED
from ddaudit_tui.config import load_settings
from ddaudit_tui.demo.fake_datadog import (
    DEMO_API_KEY,
    DEMO_APP_KEY,
    DEMO_TOKEN,
    FakeCredentials,
    FakeDatadog,
)
from ddaudit_tui.demo.fake_pagerduty import FakePagerDuty
from ddaudit_tui.demo.loopback import loopback
from ddaudit_tui.demo.org import PLANTED

# Distinctive fake secrets (real formats: 32/40 hex for keys, 32 characters for routing keys).
API_KEY = "5ec7e7a91b0c4d2e8f3a6b5c4d3e2f1a"
APP_KEY = "a99c0ffee5ec7e7b10b5a1d2c3e4f5061728394a"
TOKEN = "ddat_Zq8xTok3nS3cr3tVv7Pp9Kk2Jj4"
ROUTING_KEY = "R0ut3Kq9Wz8Xy7Vu6Ts5Rq4Po3Nm2Lk1"
ROUTING_KEY_FLAG = "F1agKq9Wz8Xy7Vu6Ts5Rq4Po3Nm2Lk1Z"
PROXY_PASSWORD = "Pr0xyPa55w0rdQzX"
GATEWAY_PASSWORD = "gwP4ssW0rdXqJv7"
WRONG_API_KEY = "0badc0de0badc0de5ec7e7a91b0c4d2e"
# The profile's secrets come through an environment variable named in the file, and a command.
PROFILE_API_KEY = "b0b5ec7e7a91b0c4d2e8f3a6b5c4d3e2"
PROFILE_APP_KEY = "c0c5ec7e7a99c0ffee5ec7e7b10b5a1d2c3e4f50"
PROFILE_ROUTING_KEY = "Pr0f1leRout3Kq9Wz8Xy7Vu6Ts5Rq4Po"
PROFILE_API_KEY_ENV = "DDAUDIT_TEST_VAULT_API"

SECRETS = {
    "DD_API_KEY": API_KEY,
    "DD_APP_KEY": APP_KEY,
    "DD_ACCESS_TOKEN": TOKEN,
    "routing key": ROUTING_KEY,
    "routing key (flag)": ROUTING_KEY_FLAG,
    "proxy password": PROXY_PASSWORD,
    "gateway password": GATEWAY_PASSWORD,
    "wrong API key": WRONG_API_KEY,
    "profile API key": PROFILE_API_KEY,
    "profile app key": PROFILE_APP_KEY,
    "profile routing key": PROFILE_ROUTING_KEY,
    "fake's DEMO_API_KEY": DEMO_API_KEY,
    "fake's DEMO_APP_KEY": DEMO_APP_KEY,
    "fake's DEMO_TOKEN": DEMO_TOKEN,
}
WINDOW_LEN = 8  # any 8 consecutive characters of a secret give it away; `****cdef` (last 4) does not


def needles(secret: str) -> dict[bytes, str]:
    """What must never appear, mapped to a description: every 8-character window of the secret, and its
    base64 (standard and URL-safe) at each of the three alignments inside a longer encoded string."""
    out: dict[bytes, str] = {}
    raw = secret.encode()
    for i in range(len(raw) - WINDOW_LEN + 1):
        out[raw[i : i + WINDOW_LEN]] = f"characters {i}..{i + WINDOW_LEN - 1}"
    for pad in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            b64 = enc(b"\0" * pad + raw).rstrip(b"=")
            # Drop the characters that mix the secret with its neighbours in a longer blob.
            core = b64[4:-4] if len(b64) > 12 else b64
            out[core] = f"base64 (alignment {pad})"
    return out


# The fake API's own demo credentials are words ("…0000applicationkey00"): 8-character windows of them
# would match ordinary text ("application_key"), so they are looked for whole (and in base64).
WHOLE_ONLY = {"fake's DEMO_API_KEY", "fake's DEMO_APP_KEY", "fake's DEMO_TOKEN"}


def _needles_for(name: str, secret: str) -> dict[bytes, str]:
    found = needles(secret)
    if name in WHOLE_ONLY:
        found = {n: what for n, what in found.items() if what.startswith("base64")}
        found[secret.encode()] = "characters (whole)"
    return found


ALL_NEEDLES = {
    n: f"{name}: {what}" for name, s in SECRETS.items() for n, what in _needles_for(name, s).items()
}


def leaks(data: bytes) -> list[str]:
    """The secrets (and how) found in `data`: one entry per secret and kind, the first match's offset."""
    found: dict[str, str] = {}
    for n, desc in ALL_NEEDLES.items():
        at = data.find(n)
        if at >= 0:
            name, _, what = desc.partition(": ")
            key = f"{name}: {what.split(' ')[0]}"
            found.setdefault(key, f"{key} at byte {at}: …{data[max(0, at - 40) : at + 40]!r}…")
    return sorted(found.values())


# -- the sweep ------------------------------------------------------------------------------------------


@dataclass
class Run:
    argv: list[str]
    code: int
    out: bytes
    err: bytes


@dataclass
class Sweep:
    root: Path
    runs: list[Run] = field(default_factory=list)
    pd_bodies: list[dict[str, Any]] = field(default_factory=list)
    api_auth: list[dict[str, str]] = field(default_factory=list)

    def run(self, *argv: str) -> Run:
        out, err = io.BytesIO(), io.BytesIO()
        out_text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        err_text = io.TextIOWrapper(err, encoding="utf-8", newline="")
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out_text, err_text
        try:
            try:
                code = cli.main(list(argv))
            except SystemExit as exc:  # argparse
                code = int(exc.code or 0)
            out_text.flush()
            err_text.flush()
        finally:
            sys.stdout, sys.stderr = saved
        run = Run(list(argv), code, out.getvalue(), err.getvalue())
        self.runs.append(run)
        return run

    def files(self) -> Iterator[Path]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and "vault" not in path.relative_to(self.root).parts:
                yield path

    def code(self, *prefix: str) -> list[int]:
        return [r.code for r in self.runs if r.argv[: len(prefix)] == list(prefix)]


def _auth_headers(fake: FakeDatadog) -> list[dict[str, str]]:
    seen = []
    for req in list(fake.requests):
        h = {k.lower(): v for k, v in req.headers.items()}
        seen.append({k: h[k] for k in ("dd-api-key", "dd-application-key", "authorization") if k in h})
    return seen


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    root = tmp_path_factory.mktemp("sweep")
    s = Sweep(root)
    vault = root / "vault"  # where the test keeps what it planted (not scanned: it holds the secrets)
    vault.mkdir()
    out_dir = root / "out"
    out_dir.mkdir()
    state = root / "state"

    # A config profile whose secrets come through indirections; the file itself holds none.
    secret_cmd = vault / "secret.sh"
    secret_cmd.write_text(
        f'#!/bin/sh\ncase "$1" in app) echo {PROFILE_APP_KEY};; pd) echo {PROFILE_ROUTING_KEY};; esac\n'
    )
    secret_cmd.chmod(0o700)
    config = root / "config.toml"
    config.write_text(
        f'[profiles.incident]\napi_key_env = "{PROFILE_API_KEY_ENV}"\napp_key_cmd = "{secret_cmd} app"\n'
        f'pagerduty_routing_key_cmd = "{secret_cmd} pd"\n'
    )
    config.chmod(0o600)

    log_file = root / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root_logger = logging.getLogger()
    old_level = root_logger.level

    with (
        pytest.MonkeyPatch.context() as mp,
        FakePagerDuty() as pd,
        FakePagerDuty() as pd_down,
        FakePagerDuty() as pd_refusing,
    ):
        root_logger.addHandler(handler)
        root_logger.setLevel(logging.DEBUG)
        mp.chdir(root)  # anything written to the current directory is swept too
        mp.setenv("DDAUDIT_CONFIG", str(config))
        mp.setenv("DDAUDIT_STATE_DIR", str(state))
        mp.setenv("HOME", str(root / "home"))
        mp.setenv("XDG_CONFIG_HOME", str(root / "home" / ".config"))
        mp.setenv("XDG_STATE_HOME", str(root / "home" / ".local" / "state"))
        mp.setenv("DD_API_KEY", API_KEY)
        mp.setenv("DD_APP_KEY", APP_KEY)
        mp.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
        mp.setenv(PROFILE_API_KEY_ENV, PROFILE_API_KEY)
        for name in ("DD_ACCESS_TOKEN", "DD_SITE", "DDAUDIT_API_URL", "DDAUDIT_PROFILE", "DDAUDIT_RULES",
                     "PAGERDUTY_ROUTING_KEY", "DDAUDIT_PAGERDUTY_URL", "DDAUDIT_PROXY", "HTTPS_PROXY",
                     "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):  # fmt: skip
            mp.delenv(name, raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        # PagerDuty retries must not wait in tests.
        mp.setattr(watch_cmd, "PagerDutyClient", functools.partial(PagerDutyClient, sleep=_no_sleep))

        # config: every secret set, including a proxy and a gateway URL with passwords.
        with mp.context() as m2:
            m2.setenv("DD_ACCESS_TOKEN", TOKEN)
            m2.setenv("DDAUDIT_PROXY", f"http://proxyuser:{PROXY_PASSWORD}@proxy.example:3128")
            m2.setenv("DDAUDIT_API_URL", f"https://gwuser:{GATEWAY_PASSWORD}@gateway.example/dd")
            s.run("config")

        # demo-data, then the file-based commands in every format, to stdout and to files.
        demo = out_dir / "demo.json"
        s.run("demo-data", "--events", "3000", "-o", str(demo))
        s.run("demo-data", "--events", "50", "--format", "ndjson")
        for fmt in ("table", "csv", "json", "ndjson"):
            s.run("search", "@evt.name:Monitor", "--input", str(demo), "--format", fmt)
            s.run("search", "*", "--input", str(demo), "--format", fmt, "-o", str(out_dir / f"search.{fmt}"))
        key = PLANTED.compromised_key
        for fmt in ("text", "md", "json", "html"):
            s.run("key", key, "--input", str(demo), "--format", fmt)
            s.run("key", key, "--input", str(demo), "--format", fmt, "-o", str(out_dir / f"key.{fmt}"))
            s.run("ai", "--input", str(demo), "--format", fmt, "-o", str(out_dir / f"ai.{fmt}"))
        s.run("ai", "--input", str(demo), "--format", "json")
        for fmt in ("text", "json"):
            s.run("watch", "--input", str(demo), "--replay", "--dry-run", "--format", fmt)
            s.run("watch", "--input", str(demo), "--once", "--dry-run", "--format", fmt)
        s.run("watch", "--input", str(demo), "--once", "--pagerduty-url", pd.url)  # pages (with state)
        s.run("watch", "--demo", "--once", "--dry-run", "--format", "json", "--no-state")
        s.run("revoke", key, "--yes", "--demo")
        if _has_compliance():
            for fmt in ("text", "md", "json", "html"):
                s.run("report", "compliance", "--framework", "soc2", "--input", str(demo), "--format", fmt)
            pci = ("report", "compliance", "--framework", "pci", "--input", str(demo))
            s.run(*pci, "--format", "md", "-o", str(out_dir / "compliance-pci.md"))

        # The API: a loopback fake that accepts only our secrets (so they were really sent).
        items = json.loads(demo.read_text())["data"]
        creds = FakeCredentials(api_key=API_KEY, app_key=APP_KEY, tokens=(TOKEN,))
        fake = FakeDatadog(items, credentials=creds)
        with loopback(fake) as base_url:
            api = ("--api-url", base_url)
            s.run("search", "@evt.name:Monitor", *api, "--format", "json")
            s.run("search", "*", *api, "--format", "ndjson", "-o", str(out_dir / "api.ndjson"))
            for fmt in ("text", "json"):
                s.run("key", key, *api, "--format", fmt)
            s.run("ai", *api, "--format", "md")
            if _has_compliance():
                s.run("report", "compliance", "--framework", "soc2", *api, "--format", "json")
            # Real pages, then pages that fail and are queued in the state.
            s.run("watch", *api, "--once", "--from", "24h", "--pagerduty-url", pd.url, "--format", "json")
            pd_down.fail_next(*([500] * 40))
            s.run("watch", *api, "--once", "--from", "24h", "--state-dir", str(state / "down"),
                  "--pagerduty-url", pd_down.url)  # fmt: skip
            s.run("watch", *api, "--once", "--from", "24h", "--no-state", "--dry-run",
                  "--pagerduty-routing-key", ROUTING_KEY_FLAG)  # fmt: skip
            with mp.context() as m2:  # the bearer token (wins over the key pair)
                m2.setenv("DD_ACCESS_TOKEN", TOKEN)
                s.run("search", "@evt.name:Monitor", *api, "--format", "csv")
            with mp.context() as m2:  # a gateway URL carrying basic-auth credentials
                host = base_url.removeprefix("http://")
                s.run("search", "@evt.name:Monitor", "--api-url", f"http://gwuser:{GATEWAY_PASSWORD}@{host}")
            with mp.context() as m2:  # refused credentials: the error names the problem, not the key
                m2.setenv("DD_API_KEY", WRONG_API_KEY)
                s.run("search", "*", *api)
                s.run("key", key, *api)
            s.run("revoke", "00000000-0000-4000-8000-000000000000", "--yes", *api)  # not found
            s.run("revoke", key, "--yes", *api)
            s.api_auth = _auth_headers(fake)

        # Refusals that echo the credentials (issue 13): the key after 170 characters (across the cut to
        # 200), its first 12 characters (`id=…`), and a gateway's `Authorization: Basic base64(user:pw)`.
        for echo in ("after160", "prefix", "basic"):
            fake = FakeDatadog(items, auth_echo=echo)  # expects the fake's own keys: ours are refused
            with loopback(fake) as base_url:
                api = ("--api-url", base_url)
                if echo == "basic":
                    host = base_url.removeprefix("http://")
                    api = ("--api-url", f"http://gwuser:{GATEWAY_PASSWORD}@{host}")
                s.run("search", "*", *api)
                s.run("key", key, *api)
                s.run("ai", *api, "--format", "json")
                s.run("watch", *api, "--once", "--state-dir", str(state / f"echo-{echo}"))
                s.api_auth += _auth_headers(fake)

        # A gateway password in the API URL of a watch: the state (names and contents) never holds it.
        fake = FakeDatadog(items, credentials=creds)
        with loopback(fake) as base_url:
            host = base_url.removeprefix("http://")
            s.run("watch", "--api-url", f"http://gwuser:{GATEWAY_PASSWORD}@{host}", "--once", "--from", "24h",
                  "--state-dir", str(state / "gateway"), "--pagerduty-url", pd.url)  # fmt: skip
            # PagerDuty refusing the routing key (400), then a run with the same key: queued, not resent.
            pd_refusing.refused_routing_keys.add(ROUTING_KEY)
            for _ in range(2):
                s.run("watch", "--api-url", base_url, "--once", "--from", "24h", "--state-dir",
                      str(state / "refused"), "--pagerduty-url", pd_refusing.url)  # fmt: skip

        # The profile's secrets, against a fake that accepts those.
        fake = FakeDatadog(
            items, credentials=FakeCredentials(api_key=PROFILE_API_KEY, app_key=PROFILE_APP_KEY)
        )
        with loopback(fake) as base_url, mp.context() as m2:
            m2.delenv("DD_API_KEY")
            m2.delenv("DD_APP_KEY")
            m2.delenv("DDAUDIT_PAGERDUTY_ROUTING_KEY")
            s.run("config", "--profile", "incident")
            s.run("search", "@evt.name:Monitor", "--profile", "incident", "--api-url", base_url)
            s.run("watch", "--profile", "incident", "--api-url", base_url, "--once", "--from", "24h",
                  "--pagerduty-url", pd.url, "--state-dir", str(state / "profile"))  # fmt: skip
            s.api_auth += _auth_headers(fake)

        # The demo's own fake credentials in the environment, against a fake that expects them.
        fake = FakeDatadog(items)
        with loopback(fake) as base_url, mp.context() as m2:
            m2.setenv("DD_API_KEY", DEMO_API_KEY)
            m2.setenv("DD_APP_KEY", DEMO_APP_KEY)
            s.run("key", key, "--api-url", base_url, "--format", "md")
            m2.setenv("DD_ACCESS_TOKEN", DEMO_TOKEN)
            s.run("search", "@evt.name:Monitor", "--api-url", base_url)

        # The TUI's exports, from results fetched with the secrets.
        fake = FakeDatadog(items, credentials=creds)
        with loopback(fake) as base_url, mp.context() as m2:
            m2.setenv("DDAUDIT_PAGERDUTY_URL", pd.url)
            _tui_exports(base_url, out_dir / "tui", key)

        s.pd_bodies = list(pd.requests) + list(pd_down.requests) + list(pd_refusing.requests)
        root_logger.removeHandler(handler)
        root_logger.setLevel(old_level)
        handler.close()
    yield s


async def _no_sleep(_seconds: float) -> None:
    return None


def _has_compliance() -> bool:
    parser = cli.build_parser()
    sub = next((a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"), None)
    return sub is not None and "report" in sub.choices  # type: ignore[attr-defined]


def _tui_exports(base_url: str, directory: Path, key: str) -> None:
    """What the panes' export keys write (`tui/export.py`), from results fetched through a client that
    holds the secrets (settings from the same environment as the commands). The Spike watch is set up
    as the pane sets it up (`open_tui_watch`): paging on, with the routing key, to the fake PagerDuty."""
    import asyncio

    from ddaudit_tui.alerts.wiring import PAGING_ON, WatchOptions, open_tui_watch
    from ddaudit_tui.analysis.ai_investigation import investigate_ai
    from ddaudit_tui.analysis.key_investigation import investigate_key
    from ddaudit_tui.report import ai_report, key_report  # noqa: F401  (register the renderers)
    from ddaudit_tui.report.registry import formats
    from ddaudit_tui.report.watch_report import WatchReport
    from ddaudit_tui.sources.datadog import Credentials, DatadogClient
    from ddaudit_tui.timeutil import resolve_window
    from ddaudit_tui.tui.export import export_ndjson, export_report

    directory.mkdir()
    settings = load_settings({"api_url": base_url})
    assert settings.api_key == API_KEY and settings.pagerduty_routing_key == ROUTING_KEY

    async def go() -> None:
        client = DatadogClient(
            Credentials(
                api_key=settings.api_key, app_key=settings.app_key, access_token=settings.access_token
            ),
            base_url=settings.api_url,
        )
        try:
            window = resolve_window("90d", "now")
            report = await investigate_key(client, key, window)
            ai = await investigate_ai(client, window)
            events = (await client.fetch("*", window)).events
        finally:
            await client.aclose()
        assert report.events and ai.calls and events
        now = 1_785_000_000.0
        export_report("key", report, formats("key"), directory, "key-x", now)
        export_report("ai", ai, formats("ai"), directory, "ai", now)
        export_ndjson(events, directory, "explore", now)

        client = DatadogClient(
            Credentials(api_key=settings.api_key, app_key=settings.app_key), base_url=base_url
        )
        options = WatchOptions(settings=settings, demo=False, scope="api:sweep:", window_s=86_400)
        watch = open_tui_watch(client, options, app_window=None)
        try:
            assert watch.paging == PAGING_ON, watch.paging_note
            outcome = await watch.poller.poll_now()
            assert outcome.error is None and outcome.opened
            snapshot = watch.poller.snapshot()
            paging = f"{watch.paging} ({watch.paging_note})"
            report = WatchReport(
                snapshot=snapshot, source=client.label, paging=paging, generated_ms=int(now * 1000)
            )
            export_report("watch", report, formats("watch"), directory, "watch", now)
        finally:
            await watch.aclose()
            await client.aclose()

    asyncio.run(go())


# -- the checks -----------------------------------------------------------------------------------------


def test_the_needles_find_a_secret_in_plain_and_base64_and_spare_the_mask():
    assert leaks(f"x{API_KEY}y".encode())
    assert leaks(API_KEY[5:14].encode())
    assert leaks(base64.b64encode(f"Authorization: Basic user:{GATEWAY_PASSWORD}!".encode()))
    assert leaks(base64.b64encode(f"osc52 {ROUTING_KEY} tail".encode()))
    assert not leaks(f"set (****{API_KEY[-4:]})  set (****{APP_KEY[-4:]})".encode())


def test_the_sweep_ran_every_command_and_used_the_secrets(sweep: Sweep):
    commands = {r.argv[0] for r in sweep.runs}
    assert {"config", "demo-data", "search", "key", "ai", "watch", "revoke"} <= commands
    for r in sweep.runs:
        assert b"Traceback" not in r.err, (r.argv, r.err[-2000:])
    # Everything that should succeed did; the refused credentials and the missing key failed cleanly.
    assert sweep.code("config") == [EXIT_OK, EXIT_OK]
    assert set(sweep.code("search")) == {EXIT_OK, EXIT_AUTH}
    assert sweep.code("revoke") == [EXIT_OK, EXIT_ERROR, EXIT_OK]
    # Fired; PagerDuty down or refusing (6: not delivered, queued); refused credentials.
    assert {EXIT_FINDINGS, EXIT_UNDELIVERED, EXIT_AUTH} <= set(sweep.code("watch"))
    if _has_compliance():
        assert sweep.code("report", "compliance") == [EXIT_OK] * 6
    # The fake API saw our secrets (so they were in use), in every way they can be sent.
    sent = {v for h in sweep.api_auth for v in h.values()}
    assert {API_KEY, APP_KEY, f"Bearer {TOKEN}", PROFILE_API_KEY, PROFILE_APP_KEY, WRONG_API_KEY} <= sent
    assert any(v.startswith("Basic ") for v in sent)
    # PagerDuty got real pages with the routing keys from the environment and the profile.
    keys = {b.get("routing_key") for b in sweep.pd_bodies}
    assert {ROUTING_KEY, PROFILE_ROUTING_KEY} <= keys


def test_no_secret_in_any_stdout_or_stderr(sweep: Sweep):
    found = {" ".join(r.argv)[:120]: bad for r in sweep.runs if (bad := leaks(r.out) + leaks(r.err))}
    assert not found


def test_no_secret_in_any_file_written(sweep: Sweep):
    files = list(sweep.files())
    names = {p.relative_to(sweep.root).as_posix() for p in files}
    # The sweep really wrote what it says: logs, exports, the watch state (SQLite), TUI exports.
    assert "debug.log" in names and "out/key.html" in names and "out/api.ndjson" in names
    assert any(n.startswith("state/") and n.endswith(".sqlite3") for n in names), names
    assert any(n.startswith("state/down/") for n in names)
    tui = {n.rsplit(".", 1)[-1] for n in names if n.startswith("out/tui/ddaudit-watch")}
    assert tui == {"txt", "md", "json", "html"}, names  # every format of the watch pane's report
    assert (sweep.root / "debug.log").stat().st_size > 0  # something was logged, at DEBUG
    found = {p.relative_to(sweep.root).as_posix(): bad for p in files if (bad := leaks(p.read_bytes()))}
    assert not found


def test_no_secret_in_any_file_name(sweep: Sweep):
    names = {p.relative_to(sweep.root).as_posix() for p in sweep.files()}
    assert any("/watch-api_" in n for n in names), names  # the gateway watch's lock file
    found = {n: bad for n in names if (bad := leaks(n.encode()))}
    assert not found


def test_exported_files_are_private(sweep: Sweep):
    for p in (sweep.root / "out").rglob("*"):
        if p.is_file():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_config_shows_only_the_last_four_characters(sweep: Sweep):
    run = next(r for r in sweep.runs if r.argv == ["config"])
    text = run.out.decode()
    for secret in (API_KEY, APP_KEY, TOKEN, ROUTING_KEY):
        assert f"****{secret[-4:]}" in text
    assert "http://****@proxy.example:3128" in text
    assert "gateway.example" in text and "gwuser" not in text
    profile = next(r for r in sweep.runs if r.argv == ["config", "--profile", "incident"]).out.decode()
    for secret in (PROFILE_API_KEY, PROFILE_APP_KEY, PROFILE_ROUTING_KEY):
        assert f"****{secret[-4:]}" in profile
    assert "[file [profiles.incident]]" in profile


# -- a config file holding secrets must be private -------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
@pytest.mark.parametrize("where", ["top", "profile"])
def test_a_readable_config_file_with_secrets_is_refused(tmp_path, monkeypatch, capsys, mode, where):
    secret = f'api_key = "{API_KEY}"\n'
    text = secret if where == "top" else f'default_profile = "p"\n[profiles.p]\n{secret}'
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    cfg.chmod(mode)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(cfg))
    for command in (["config"], ["search", "*", "--demo"], ["key", PLANTED.compromised_key, "--demo"]):
        code = cli.main(command)
        out, err = capsys.readouterr()
        assert code == EXIT_USAGE, (command, err)
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert str(cfg) in err and "readable by group or others" in err and "chmod 600" in err
        assert not leaks((out + err).encode())
    cfg.chmod(0o600)
    assert cli.main(["config"]) == EXIT_OK
    assert not leaks(capsys.readouterr().out.encode())


def test_a_readable_config_file_without_secrets_is_accepted(tmp_path, monkeypatch, capsys):
    """Indirections (`*_env`, `*_cmd`) are not secrets: such a file may be shared (0644)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('site = "datadoghq.eu"\napi_key_env = "SOME_VAR"\n[profiles.p]\napp_key_cmd = "pass dd"\n')
    cfg.chmod(0o644)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(cfg))
    monkeypatch.setenv("SOME_VAR", API_KEY)
    assert cli.main(["config"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "datadoghq.eu" in out and f"****{API_KEY[-4:]}" in out and not leaks(out.encode())
