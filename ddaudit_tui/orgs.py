"""Several orgs at once (issue 16 item 5): which profiles a run asks, each org's answer, and each org's
own source — shared by the commands (`commands/orgs.py`: `key`, `search`, `ai`) and the TUI
(`tui/orgs.py`: Key lookup). No Textual, no command module: the TUI imports this before its first frame
only when several orgs are asked.

Each org gets its own settings (credentials, site, business hours…) and its own client, so its own
rate-limit budget. Profile names and sites are shown, never a credential.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from ddaudit_tui.config import UsageError

STATUS_OK = "ok"
STATUS_NOT_SEEN = "not_seen"
STATUS_FAILED = "failed"


def add_orgs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all-profiles",
        action="store_true",
        help="ask every profile of the config file (each its own org) and show the answers side by side; "
        "--profile a,b asks some of them",
    )


def asks_several(args: argparse.Namespace) -> bool:
    """Whether the arguments ask several orgs (cheap: no config file read)."""
    raw = getattr(args, "profile", None)
    return bool(getattr(args, "all_profiles", False)) or (raw is not None and "," in raw)


def requested_profiles(args: argparse.Namespace) -> list[str] | None:
    """The profiles to ask, in the order given (the config file's order with --all-profiles); None for an
    ordinary single-org run. UsageError naming an unknown profile."""
    from ddaudit_tui.config import config_path, profile_names

    raw = getattr(args, "profile", None)
    every = bool(getattr(args, "all_profiles", False))
    if not asks_several(args):
        return None
    if every and raw:
        raise UsageError("--all-profiles asks every profile: drop --profile (or list them: --profile a,b)")
    if getattr(args, "demo", False) or getattr(args, "input", None):
        raise UsageError("--profile a,b and --all-profiles ask Datadog orgs: not with --demo or --input")
    if getattr(args, "case", None):
        raise UsageError("--case journals one org's answer: ask with --profile NAME, one org at a time")
    path = config_path()
    known = profile_names(path)
    if every:
        if not known:
            raise UsageError(f"--all-profiles: {path} defines no profile")
        return known
    asked = list(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    for name in asked:
        if name not in known:
            listed = ", ".join(known) if known else "none defined"
            raise UsageError(f"{path}: no profile named {name!r} (profiles: {listed})")
    if not asked:
        raise UsageError("--profile: expected a profile name, or several separated by commas")
    return asked


@dataclass
class OrgAnswer:
    """One org's answer: its result (None when it failed), or the one-line error."""

    profile: str
    site: str
    status: str  # STATUS_OK / STATUS_NOT_SEEN / STATUS_FAILED
    result: Any = None
    error: str | None = None
    exit_code: int = 0  # a failure's own code (3 authentication, 1 other…)

    @property
    def complete(self) -> bool:
        return completeness_of(self.result)[0] if self.result is not None else False

    @property
    def completeness(self) -> str:
        if self.result is None:
            return f"failed: {self.error}"
        return completeness_of(self.result)[1]

    def completeness_json(self) -> dict[str, Any] | None:
        if self.result is None:
            return None
        c = getattr(self.result, "completeness", None)
        out: dict[str, Any] = dict(c.to_json()) if c is not None and hasattr(c, "to_json") else {}
        out.update(complete=self.complete, line=self.completeness)
        return out


def completeness_of(result: Any) -> tuple[bool, str]:
    """(complete, one line) for any command's result: its `completeness` record when it has one, else
    derived from `complete` and the warnings (a key report says "incomplete" in a warning)."""
    c = getattr(result, "completeness", None)
    if c is not None and hasattr(c, "line"):
        return bool(c.complete), str(c.line())
    warnings = [str(w) for w in getattr(result, "warnings", ()) or ()]
    complete = getattr(result, "complete", None)
    if complete is None:
        complete = not any("incomplete" in w for w in warnings)
    if complete:
        return True, "complete"
    reasons = [w for w in warnings if not w.startswith("no events")]
    return False, "partial: " + (reasons[0] if reasons else "some events could not be fetched")


def one_line(text: str) -> str:
    return " ".join(text.split())


def failure(exc: BaseException) -> tuple[int, str]:
    """(exit code, one line) for what makes one org fail — as `cli.classify_error` maps them (not imported:
    this sits below the CLI). Anything else is a bug and is raised."""
    from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_ERROR, EXIT_USAGE
    from ddaudit_tui.config import ConfigError
    from ddaudit_tui.source_select import NoCredentials
    from ddaudit_tui.sources.datadog import AuthError, ConfigurationError, DatadogError
    from ddaudit_tui.timeutil import TimeParseError

    if isinstance(exc, AuthError | NoCredentials):
        code = EXIT_AUTH
    elif isinstance(exc, ConfigurationError | ConfigError | UsageError | TimeParseError):
        code = EXIT_USAGE
    elif isinstance(exc, DatadogError | OSError):
        code = EXIT_ERROR
    else:
        raise exc  # a bug, not an org's failure: the traceback must show
    message = str(exc) or type(exc).__name__
    return code, one_line(message.splitlines()[0])


def org_namespace(args: argparse.Namespace, profile: str) -> argparse.Namespace:
    """The arguments as a single-org run of `profile` would have them."""
    return argparse.Namespace(**{**vars(args), "profile": profile, "all_profiles": False})


@dataclass
class OrgSource:
    """One org of a several-org TUI: its profile, site, settings and source — or why it could not be
    opened (a credential command that failed, no credentials): that org's failure, not the run's."""

    profile: str
    site: str
    source: Any = None
    settings: Any = None
    error: BaseException | None = None


def open_orgs(args: argparse.Namespace, profiles: list[str]) -> list[OrgSource]:
    """Each profile's settings and source, in the order asked. Nothing is sent yet."""
    from ddaudit_tui.cliutil import settings_from
    from ddaudit_tui.source_select import open_source

    out: list[OrgSource] = []
    for profile in profiles:
        ns = org_namespace(args, profile)
        settings = None
        try:
            settings = settings_from(ns)
            out.append(OrgSource(profile, settings.site, open_source(ns, settings), settings))
        except Exception as exc:  # that org only; a bug still shows (see `failure`) when it is asked
            site = getattr(settings, "site", None) or getattr(ns, "site", None) or "?"
            out.append(OrgSource(profile, site, None, settings, exc))
    return out
