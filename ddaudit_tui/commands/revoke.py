"""`ddaudit revoke`: revoke (delete) an API key — `DELETE /api/v2/api_keys/{id}`. Irreversible.

    ddaudit revoke KEY_ID [--yes] [--demo | connection options]

Without `--yes` it asks on the terminal, naming the key (its name and creator when the API Keys endpoint
knows them), and revokes only if the user types the key id's last four characters (or the whole id).
Refused: in read-only mode (`read_only = true` in the config), without a terminal and without `--yes`,
and for sources that cannot revoke (input files). The Datadog permission is `api_keys_delete`.

Exit codes: 0 revoked; 1 not confirmed, key not found (already revoked?) or another API error;
2 usage (bad key id, no confirmation possible, read-only mode, a source that cannot revoke);
3 authentication or permission refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError, err, settings_from

HELP = "revoke (delete) an API key by id, after confirmation: DELETE /api/v2/api_keys/{id}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "key_id", metavar="KEY_ID", help="the API key's id (a UUID, @metadata.api_key.id), never the key"
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="revoke without asking (required when stdin is not a terminal)",
    )
    g = parser.add_argument_group("source (default: the Datadog API)")
    g.add_argument("--demo", action="store_true", help="revoke in the built-in demo org (its fake API)")
    g.add_argument("--seed", type=int, default=7, help="demo: random seed of the synthetic org (default 7)")
    g.add_argument("--input", "-i", action="append", metavar="FILE", help=argparse.SUPPRESS)
    c = parser.add_argument_group("connection")
    c.add_argument("--profile", help="named profile from the config file")
    c.add_argument("--site", help="Datadog site, e.g. datadoghq.eu (env DD_SITE)")
    c.add_argument(
        "--api-url", help="base URL override, e.g. an identity-aware gateway (env DDAUDIT_API_URL)"
    )
    c.add_argument("--proxy", help="HTTPS proxy URL (env DDAUDIT_PROXY; HTTPS_PROXY is honoured too)")
    c.add_argument("--ca-bundle", help="CA bundle for TLS verification (env DDAUDIT_CA_BUNDLE)")


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def _ask(prompt: str) -> str:
    """The prompt on stderr (stdout may be a pipe), the answer from stdin."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline()


def confirmation_prompt(key_id: str, info: Any, where: str) -> str:
    lines = [f"About to revoke API key {key_id} on {where}."]
    if info is not None:
        from ddaudit_tui.safetext import clean

        desc = []
        if getattr(info, "name", None):
            desc.append(f"name {clean(info.name, max_len=80)!r}")
        if getattr(info, "last4", None):
            desc.append(f"secret ending …{clean(info.last4, max_len=4)}")
        created_by = getattr(info, "created_by", None)
        if created_by is not None:
            desc.append(f"created by {clean(created_by.display, max_len=80)}")
        if getattr(info, "created_at", None):
            desc.append(f"on {clean(info.created_at, max_len=40)}")
        if desc:
            lines.append("  " + ", ".join(desc))
    lines.append("This cannot be undone: every client using this key stops working.")
    lines.append(f"Type the last 4 characters of the key id ({key_id[-4:]}) to confirm: ")
    return "\n".join(lines)


def confirmed(answer: str, key_id: str) -> bool:
    a = answer.strip()
    return bool(a) and (a.lower() == key_id[-4:].lower() or a.lower() == key_id.lower())


def run(args: argparse.Namespace) -> int:
    from ddaudit_tui.analysis.key_investigation import validate_key_id
    from ddaudit_tui.source_select import open_source
    from ddaudit_tui.sources.datadog_errors import AuthError, DatadogError

    try:
        key_id = validate_key_id(args.key_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "input", None):
        raise UsageError(
            "input files cannot revoke keys: revoke needs the Datadog API (credentials) or --demo"
        )
    settings = settings_from(args)
    if getattr(settings, "read_only", False):
        err(f"refused: read-only mode is on (read_only in the config): API key {key_id} was not revoked")
        return EXIT_USAGE
    if not args.yes and not _stdin_is_tty():
        err(f"refusing to revoke API key {key_id} without confirmation: stdin is not a terminal; pass --yes")
        return EXIT_USAGE

    async def go() -> int:
        source = open_source(args, settings)
        try:
            revoke = getattr(source, "revoke_api_key", None)
            label = getattr(source, "label", "this source")
            if revoke is None:
                raise UsageError(f"the source {label!r} cannot revoke keys: use the Datadog API or --demo")
            info = None
            get = getattr(source, "get_api_key", None)
            if get is not None:
                try:
                    info = await get(key_id)
                except AuthError:
                    info = None  # no api_keys_read: still allowed to try api_keys_delete
                except DatadogError:
                    info = None
            if not args.yes and not confirmed(_ask(confirmation_prompt(key_id, info, label)), key_id):
                err(f"not confirmed: API key {key_id} was not revoked")
                return EXIT_ERROR
            await revoke(key_id)
            from ddaudit_tui.safetext import clean

            # A key's name is whatever its creator typed: shown cleaned, as in the confirmation prompt.
            name = (
                f" ({clean(info.name, max_len=80)})"
                if info is not None and getattr(info, "name", None)
                else ""
            )
            err(f"revoked API key {key_id}{name} on {label}")
            return EXIT_OK
        finally:
            await source.aclose()

    try:
        return asyncio.run(go())
    except AuthError as exc:
        err(f"not revoked: {exc}")  # the client's hint names the permission (api_keys_delete)
        return EXIT_AUTH
    except DatadogError as exc:
        err(f"not revoked: {exc}")
        return EXIT_ERROR
