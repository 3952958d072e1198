"""`ddaudit detections`: every signal the key lookup, the AI activity audit and the spike watch can raise,
with its severity rule, its parameters (default, unit, where to tune it) and the reference it follows.

    ddaudit detections [--format text|md|json] [-o FILE]

The key and AI detections come from the detection pack (`analysis/detections/`, one module each); the
watch's from its shipped rules (`alerts/default_rules.toml`; `ddaudit watch --list-rules` shows the
rules in effect with your rules file). `docs/detections.md` is this command's `--format md` output, and a
test keeps the two equal, so the page cannot drift from the code.

Exit codes: 0 — listed; 2 usage.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ddaudit_tui.cliutil import EXIT_OK, open_output

if TYPE_CHECKING:
    from ddaudit_tui.analysis.detections import Detection, Param

HELP = "list the detections (key, AI, watch) with their severity rules, default parameters and references"

FORMATS = ("text", "md", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "-f", default="text", choices=FORMATS)
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    text = render(args.format)
    with open_output(args.output) as out:
        out.write(text)
    return EXIT_OK


def all_detections() -> list[Detection]:
    """Key and AI detections in rank order, then the watch's shared parts and each shipped rule."""
    from ddaudit_tui.alerts.rules import default_rules
    from ddaudit_tui.analysis.detections import registry
    from ddaudit_tui.analysis.detections.watch_rule import from_rule

    return [*registry(), *(from_rule(r) for r in default_rules())]


def render(fmt: str, detections: Sequence[Detection] | None = None) -> str:
    items = list(all_detections() if detections is None else detections)
    if fmt == "json":
        return json.dumps({"detections": [_json(d) for d in items]}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(items)
    return _text(items)


# -- values --------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_COUNTED = ("events", "values", "calls", "days", "intervals")


def _value(p: Param) -> str:
    """The default as a person reads it, with its unit (and a duration in words)."""
    from ddaudit_tui.timeutil import human_duration

    v = p.default
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, frozenset | set | tuple | list):
        items = sorted(str(x) for x in v) if isinstance(v, frozenset | set) else [str(x) for x in v]
        return ", ".join(items) if items else "none"
    if not isinstance(v, int | float) or not p.unit:
        return str(v)
    text = f"{v:g}" if isinstance(v, float) else str(v)
    unit = p.unit[:-1] if v == 1 and p.unit in _COUNTED else p.unit
    ms = v * 1000 if unit == "s" else v if unit == "ms" else None
    words = f" ({human_duration(int(ms))})" if ms is not None and ms >= 60_000 else ""
    return f"{text} {unit}{words}"


def _where(d: Detection, p: Param) -> str:
    """Where a user changes the parameter; for a fixed one, the code default that holds it."""
    if p.config_key:
        return p.config_key
    from dataclasses import fields

    from ddaudit_tui.analysis.ai_model import AiConfig
    from ddaudit_tui.analysis.key_model import KeyAnalysisConfig

    cls = {"key": KeyAnalysisConfig, "ai": AiConfig}.get(d.analysis)
    if cls is not None and p.name in {f.name for f in fields(cls)}:
        return f"fixed in code: {cls.__name__}.{p.name}"
    return "fixed in code"


def _json(d: Detection) -> dict[str, Any]:
    return {
        "name": d.name,
        "analysis": d.analysis,
        "title": d.title,
        "severity": d.severity,
        "reference": d.reference,
        "params": [
            {
                "name": p.name,
                "default": _json_value(p.default),
                "unit": p.unit,
                "config_key": p.config_key,
                "description": p.description,
            }
            for p in d.params
        ],
    }


# -- text ---------------------------------------------------------------------------------------------------


def _by_analysis(items: Iterable[Detection]) -> list[tuple[str, list[Detection]]]:
    from ddaudit_tui.analysis.detections import ANALYSES

    return [(a, [d for d in items if d.analysis == a]) for a in ANALYSES]


def _text(items: list[Detection]) -> str:
    from ddaudit_tui.analysis.detections import ANALYSIS_TITLES

    lines: list[str] = []
    for analysis, ds in _by_analysis(items):
        if not ds:
            continue
        if lines:
            lines.append("")
        lines.append(f"{ANALYSIS_TITLES[analysis].replace('`', '')} — {len(ds)} detections")
        for d in ds:
            lines.append("")
            lines.append(f"  {d.name}: {d.title}")
            lines.append(f"    severity:  {d.severity}")
            lines.append(f"    reference: {d.reference}")
            for p in d.params:
                about = f" — {p.description}" if p.description else ""
                lines.append(f"    {p.name} = {_value(p)}  ({_where(d, p)}){about}")
    return "\n".join(lines) + "\n"


# -- markdown -------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(items: list[Detection]) -> str:
    from ddaudit_tui.analysis.detections import ANALYSIS_TITLES
    from ddaudit_tui.analysis.detections.watch_rule import WATCH_RULE

    out = [
        "# Detections",
        "",
        "<!-- Generated by `ddaudit detections --format md`; do not edit (a test compares). -->",
        "",
        "Every signal ddaudit can raise, with its severity rule, its parameters (default, and where to tune",
        "it) and the part of the detections reference it follows. The key and AI detections live one module",
        "each in `ddaudit_tui/analysis/detections/`; the spike watch's are its shipped rules",
        "(`ddaudit_tui/alerts/default_rules.toml`, tuned or extended by your rules file; `ddaudit watch",
        '--list-rules` shows the rules in effect). "fixed in code" means no flag or config key changes it.',
    ]
    for analysis, ds in _by_analysis(items):
        if not ds:
            continue
        out += ["", f"## {ANALYSIS_TITLES[analysis]}", ""]
        out += ["| Signal | What it means | Severity | Reference |", "|---|---|---|---|"]
        for d in ds:
            out.append(f"| `{d.name}` | {_cell(d.title)} | {_cell(d.severity)} | {_cell(d.reference)} |")
        # A watch rule's own threshold and window are in its severity rule; the parameters every rule
        # shares (and where a rules file sets them) are `watch_rule`'s.
        rows = [(d, p) for d in ds for p in d.params if analysis != "watch" or d.name == WATCH_RULE]
        if rows:
            out += [
                "",
                "| Signal | Parameter | Default | Where to tune | What it sets |",
                "|---|---|---|---|---|",
            ]
            for d, p in rows:
                out.append(
                    f"| `{d.name}` | `{p.name}` | {_cell(_value(p))} | {_cell(_where(d, p))} | "
                    f"{_cell(p.description) or '—'} |"
                )
    out += [
        "",
        "Adding a detection: one module under `ddaudit_tui/analysis/detections/` and its test under",
        "`tests/analysis/detections/` — see [ARCHITECTURE.md](../ARCHITECTURE.md#adding-a-detection).",
    ]
    return "\n".join(out) + "\n"
