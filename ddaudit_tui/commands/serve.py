"""`ddaudit serve`: the TUI in a browser (textual-serve), for the people who are not in the tmux session.

Safe by default, because a browser view reaches further than a terminal:
- bound to 127.0.0.1 (use it over `ssh -L 8765:127.0.0.1:8765 jump-host`); any other address only when
  `--host` says so explicitly;
- an unguessable token in the printed URL: every request (page, scripts, websocket) must carry it, in the
  URL or in the cookie the first page sets; anything else gets 403;
- read-only unless `--allow-actions`: the app refuses to revoke keys, and the Spike watch never pages
  (the PagerDuty routing key is not passed to it);
- no secret in a process argument, the page, the URL or the logs: each browser gets its own app process,
  started with only the non-secret source arguments; connection settings (API URL, proxy, profile…) reach
  it through its environment, as the credentials do; no access log is written (URLs hold the token);
- nothing reaches the network but the browser's own connection: the page's font is served locally, not
  from a font CDN.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import os
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ddaudit_tui.cliutil import EXIT_OK, UsageError, add_source_args, err

HELP = "serve the TUI to a browser (127.0.0.1, token in the URL, read-only by default)"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_PARAM = "token"
COOKIE = "ddaudit_serve"
PANES = ("lookup", "watch", "ai", "explore")

# Connection settings go to the app process through its environment: a proxy or gateway URL may carry a
# password, and process arguments are visible to every user of the machine (`ps`).
_ENV_SETTINGS = {
    "profile": "DDAUDIT_PROFILE",
    "site": "DD_SITE",
    "api_url": "DDAUDIT_API_URL",
    "proxy": "DDAUDIT_PROXY",
    "ca_bundle": "DDAUDIT_CA_BUNDLE",
    "max_events": "DDAUDIT_MAX_EVENTS",
}
# What a read-only view must not be able to use.
_ACTION_SECRETS = ("DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY")

# textual-serve's page asks a font CDN for Roboto Mono; the package ships the font, so serve it instead.
_CDN_FONT = '<link\n      rel="stylesheet"\n      href="https://fonts.googleapis.com/css?family=Roboto%20Mono"\n    />'
_LOCAL_FONT = (
    "<style>@font-face { font-family: 'Roboto Mono'; "
    "src: url('{static}fonts/RobotoMono-VariableFont_wght.ttf') format('truetype'); }</style>"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_args(parser)
    parser.add_argument(
        "--pane", choices=PANES, default="watch", help="the pane the browser opens on (watch)"
    )
    parser.add_argument(
        "--host",
        default=None,
        help=f"address to listen on (default {DEFAULT_HOST}; another address only when given here)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--allow-actions",
        action="store_true",
        help="let the browser revoke keys and page PagerDuty (default: read-only)",
    )


def app_command(args: argparse.Namespace) -> str:
    """The shell command that starts one app process per browser: non-secret arguments only."""
    argv = [sys.executable, "-m", "ddaudit_tui", "tui"]
    if getattr(args, "demo", False):
        argv += ["--demo", "--seed", str(args.seed)]
        if getattr(args, "live", False):
            argv.append("--live")
    for path in getattr(args, "input", None) or []:
        if path == "-":
            raise UsageError(
                "serve cannot read stdin (--input -): every browser starts its own app; give a file"
            )
        argv += ["--input", os.path.abspath(path)]
    if args.frm:
        argv += ["--from", str(args.frm)]
    if args.to:
        argv += ["--to", str(args.to)]
    argv += ["--pane", args.pane]
    return shlex.join(argv)


def app_environment(args: argparse.Namespace, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    for name, var in _ENV_SETTINGS.items():
        value = getattr(args, name, None)
        if value is not None:
            env[var] = str(value)
    if not args.allow_actions:
        env["DDAUDIT_READ_ONLY"] = "1"
        for var in _ACTION_SECRETS:
            env.pop(var, None)
    return env


def check_host(host: str | None) -> str:
    return DEFAULT_HOST if host is None else host


def token_ok(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def make_server(args: argparse.Namespace, token: str) -> Any:
    """A textual-serve Server that demands the token and serves the font itself."""
    from aiohttp import web
    from textual_serve.server import Server

    host = check_host(args.host)

    @web.middleware
    async def require_token(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        in_url = request.query.get(TOKEN_PARAM)
        if not (token_ok(in_url, token) or token_ok(request.cookies.get(COOKIE), token)):
            raise web.HTTPForbidden(
                text="ddaudit serve: this URL needs the token printed when the server started\n"
            )
        response = await handler(request)
        if in_url is not None and not isinstance(response, web.WebSocketResponse) and not response.prepared:
            # The scripts and the websocket are fetched without the query string: the cookie carries it.
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    class DdauditServer(Server):  # type: ignore[misc]
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(require_token)
            return app

        async def handle_index(self, request: web.Request) -> web.Response:
            response: web.Response = await super().handle_index(request)
            static = str(request.app.router["static"].url_for(filename="/")).rstrip("/") + "/"
            html = (response.text or "").replace(_CDN_FONT, _LOCAL_FONT.replace("{static}", static))
            page = web.Response(text=html, content_type="text/html")
            page.headers["Cache-Control"] = "no-store"
            page.headers["Referrer-Policy"] = "no-referrer"  # the token must not leave in a Referer
            return page

        async def on_startup(self, app: web.Application) -> None:
            return None  # the URL is printed by `run`; textual-serve's banner would print the command

        def initialize_logging(self) -> None:
            return None  # no access log: URLs hold the token

        def serve(self, debug: bool = False) -> None:
            import asyncio
            import signal

            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.request_exit)
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                handle_signals=False,
                loop=loop,
                access_log=None,
                print=lambda *_: None,
            )

    return DdauditServer(app_command(args), host=host, port=args.port, title="ddaudit")


def url_for(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?{TOKEN_PARAM}={token}"


def run(args: argparse.Namespace) -> int:
    try:
        import textual_serve  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise UsageError("serve needs textual-serve: pip install textual-serve") from None
    token = secrets.token_urlsafe(32)
    server = make_server(args, token)
    # textual-serve starts each app with a copy of this process's environment.
    env = app_environment(args, dict(os.environ))
    os.environ.clear()
    os.environ.update(env)
    host = check_host(args.host)
    if host not in ("127.0.0.1", "::1", "localhost"):
        err(f"warning: listening on {host}: anyone who can reach it and has the URL sees the audit trail")
    mode = "actions allowed" if args.allow_actions else "read-only"
    print(f"ddaudit serve ({mode}): open {url_for(host, args.port, token)}", flush=True)
    tunnel = f"ssh -L {args.port}:127.0.0.1:{args.port} HOST"
    print(f"over SSH: {tunnel}, then open the URL above locally. Ctrl+C stops.", flush=True)
    server.serve()
    return EXIT_OK
