"""ddaudit rules as data: the shipped defaults and the user's TOML rules file.

The format is documented at the top of `default_rules.toml` (the shipped rules are written in it, and
read by the same code as a user's file). A user file tunes, disables or adds rules:

    [rules.role_changes]          # a shipped rule: only the fields given change
    threshold = 5

    [rules.monitor_deletion]
    enabled = false

    [rules.notebook_purge]        # a new rule
    query = "@evt.name:Notebook @action:deleted"
    threshold = 5
    window = "10m"
    severity = "medium"

A top-level `include_defaults = false` starts from no rules at all. Every mistake is reported in one
line naming the file, the rule and the field (`RulesError`, a `ConfigError`: CLI exit code 2).

These are "ddaudit rules" — never to be presented as Datadog detections.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import (
    ACTOR_FIELDS,
    DEFAULT_MAX_DURATION_MS,
    Rule,
    union_query,
)
from ddaudit_tui.config import ConfigError, config_path
from ddaudit_tui.events.fields import normalise_path
from ddaudit_tui.events.query import QuerySyntaxError, parse_query
from ddaudit_tui.timeutil import TimeParseError, human_duration, parse_duration

__all__ = ["RULE_LABEL", "Rule", "RuleSet", "RulesError", "default_rules", "default_rules_path", "load_rules"]

RULE_LABEL = "ddaudit rule"  # how the UI and pages name a rule; never "Datadog detection"
RULES_ENV = "DDAUDIT_RULES"

FIELDS = (
    "query", "threshold", "distinct", "window", "group_by", "severity", "description", "enabled", "page",
    "max_duration",
)  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MIN_WINDOW_S = 1
_MAX_WINDOW_S = 7 * 86400


class RulesError(ConfigError):
    """A malformed rules file: one line naming the file, the rule and the field."""


@dataclass(frozen=True)
class RuleSet:
    """The effective rules (enabled and disabled, in file order) and where they came from."""

    rules: tuple[Rule, ...]
    origin: str  # "defaults", or "defaults + /path/rules.toml", or the path alone

    @property
    def enabled(self) -> list[Rule]:
        return [r for r in self.rules if r.enabled]

    def get(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def union_query(self) -> str:
        return union_query(self.enabled)


def default_rules_path() -> Path | None:
    """`rules.toml` next to the config file, used when it exists and no `--rules` was given."""
    override = os.environ.get(RULES_ENV)
    if override:
        return Path(override).expanduser()
    candidate = config_path().parent / "rules.toml"
    return candidate if candidate.exists() else None


def default_rules() -> list[Rule]:
    """The shipped rules (`default_rules.toml`)."""
    text = resources.files("ddaudit_tui.alerts").joinpath("default_rules.toml").read_text("utf-8")
    data = _parse_toml(text, "default_rules.toml")
    return list(_merge({}, data, "default_rules.toml").values())


def load_rules(path: str | Path | None = None, include_defaults: bool | None = None) -> RuleSet:
    """The shipped rules merged with the user's file (if any). `include_defaults` overrides the file's
    own `include_defaults` key."""
    if path is None:
        return RuleSet(tuple(default_rules()), "defaults")
    p = Path(path).expanduser()
    where = str(p)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise RulesError(f"{where}: no such rules file") from None
    except UnicodeDecodeError:
        raise RulesError(f"{where}: not a UTF-8 text file") from None
    except OSError as exc:
        raise RulesError(f"{where}: cannot read ({exc.strerror or exc})") from None
    data = _parse_toml(text, where)
    use_defaults = data.get("include_defaults", True)
    if not isinstance(use_defaults, bool):
        raise RulesError(f"{where}: include_defaults: expected true or false, got {use_defaults!r}")
    if include_defaults is not None:
        use_defaults = include_defaults
    base = {r.name: r for r in default_rules()} if use_defaults else {}
    merged = _merge(base, data, where)
    return RuleSet(tuple(merged.values()), f"defaults + {where}" if use_defaults else where)


def parse_rules_text(text: str, where: str = "<rules>", base: Iterable[Rule] = ()) -> list[Rule]:
    """Rules from TOML text on top of `base` (for tests and the pane's rule editor)."""
    return list(_merge({r.name: r for r in base}, _parse_toml(text, where), where).values())


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{where}: invalid TOML: {exc}") from None


def _merge(base: dict[str, Rule], data: Mapping[str, Any], where: str) -> dict[str, Rule]:
    unknown = [k for k in data if k not in ("rules", "include_defaults")]
    if unknown:
        raise RulesError(
            f"{where}: unknown top-level key {unknown[0]!r} (expected [rules.NAME] tables and include_defaults)"
        )
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise RulesError(f"{where}: 'rules' must be a table of [rules.NAME] tables")
    out = dict(base)
    for name, body in rules.items():
        out[name] = _rule(name, body, out.get(name), where)
    return out


def _rule(name: str, body: Any, base: Rule | None, where: str) -> Rule:
    def fail(field: str, message: str) -> RulesError:
        return RulesError(f"{where}: rule {name!r}: field {field!r}: {message}")

    if not _NAME.match(name):
        raise RulesError(
            f"{where}: rule {name!r}: invalid rule name (letters, digits, '_', '.', '-'; at most 64 characters)"
        )
    if not isinstance(body, dict):
        raise RulesError(f"{where}: rule {name!r}: expected a [rules.{name}] table, got {_kind(body)}")
    for key in body:
        if key not in FIELDS:
            raise fail(key, f"unknown field (expected one of: {', '.join(FIELDS)})")
    if base is None and "query" not in body:
        raise fail("query", "required for a new rule")

    changes: dict[str, Any] = {}
    if "query" in body:
        q = body["query"]
        if not isinstance(q, str) or not q.strip():
            raise fail("query", f"expected a non-empty string, got {_kind(q)}")
        try:
            parse_query(q)
        except QuerySyntaxError as exc:
            raise fail("query", str(exc)) from None
        changes["query"] = q.strip()
    if "threshold" in body:
        t = body["threshold"]
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise fail("threshold", f"expected a whole number ≥ 1, got {t!r}")
        changes["threshold"] = t
    if "distinct" in body:
        d = body["distinct"]
        if not isinstance(d, str):
            raise fail("distinct", f'expected a field path such as "asset.id", got {_kind(d)}')
        changes["distinct"] = normalise_path(d.strip()) or None  # "" turns a distinct rule into a count
    if "window" in body:
        changes["window_ms"] = _duration(body["window"], "window", fail)
    if "max_duration" in body:
        changes["max_duration_ms"] = _duration(body["max_duration"], "max_duration", fail)
    if "group_by" in body:
        g = body["group_by"]
        paths = [g] if isinstance(g, str) else g
        if not isinstance(paths, list) or not all(isinstance(x, str) for x in paths):
            raise fail("group_by", f"expected a field path or a list of them, got {_kind(g)}")
        cleaned = tuple(normalise_path(x.strip()) for x in paths if x.strip())
        if len(cleaned) == 1 and cleaned[0].lower() in ("actor", "none"):
            cleaned = ACTOR_FIELDS if cleaned[0].lower() == "actor" else ()
        changes["group_by"] = cleaned
    if "severity" in body:
        s = body["severity"]
        try:
            if not isinstance(s, str):
                raise ValueError(f"expected a string, got {_kind(s)}")
            changes["severity"] = Severity.parse(s)
        except ValueError as exc:
            raise fail("severity", str(exc)) from None
    if "description" in body:
        d = body["description"]
        if not isinstance(d, str):
            raise fail("description", f"expected a string, got {_kind(d)}")
        changes["description"] = " ".join(d.split())
    for flag in ("enabled", "page"):
        if flag in body:
            v = body[flag]
            if not isinstance(v, bool):
                raise fail(flag, f"expected true or false, got {v!r}")
            changes[flag] = v

    if base is None:
        rule = Rule(name=name, query=changes.pop("query"), max_duration_ms=DEFAULT_MAX_DURATION_MS)
        rule = replace(rule, **changes)
    else:
        rule = replace(base, **changes)
    if rule.max_duration_ms < (rule.window_ms or 0):
        raise fail("max_duration", f"must be at least the window ({human_duration(rule.window_ms or 0)})")
    return rule


def _duration(value: Any, field: str, fail: Any) -> int:
    """A duration ("15m", "1h", or a number of seconds) → milliseconds, within sane bounds."""
    if isinstance(value, bool):
        raise fail(field, f'expected a duration such as "15m", got {value!r}')
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except TimeParseError as exc:
            raise fail(field, str(exc)) from None
    else:
        raise fail(field, f'expected a duration such as "15m", got {_kind(value)}')
    if not _MIN_WINDOW_S <= seconds <= _MAX_WINDOW_S:
        raise fail(field, f"expected between 1s and 7d, got {value!r}")
    return seconds * 1000


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"{value!r}"
    return type(value).__name__


def describe_rules(rules: Iterable[Rule], default_window_ms: int) -> list[str]:
    """One line per rule for `ddaudit watch --list-rules`."""
    lines = []
    for r in rules:
        state = "" if r.enabled else "  (disabled)"
        page = "" if r.page else "  [no page]"
        lines.append(
            f"{r.severity.label:<11} {r.name:<28} {r.threshold_text(default_window_ms):<34} {r.query}{page}{state}"
        )
    return lines
