"""The completeness of an answer in each report format (issue 16): one JSON object, one line of text,
Markdown or HTML — and, when the answer is partial, a banner first, so no reader takes it for complete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ddaudit_tui.report import html as h
from ddaudit_tui.safetext import clean
from ddaudit_tui.sources.completeness import Completeness


def of(report: Any) -> Completeness | None:
    return getattr(report, "completeness", None)


def json_object(c: Completeness | None) -> dict[str, Any] | None:
    return c.to_json() if c is not None else None


def _t(value: str) -> str:
    # Reasons quote server text (Datadog warnings): never a terminal control sequence in a text report.
    return clean(value, single_line=True)


def partial_banner(c: Completeness | None) -> str | None:
    if c is None or not c.partial:
        return None
    reasons = "; ".join(c.reasons) or "some events could not be fetched"
    return f"PARTIAL ANSWER: {reasons} — counts are lower bounds, findings may be missing"


def text_lines(c: Completeness | None, top: bool = False) -> list[str]:
    """`top`: the banner (partial answers only); else the `Completeness:` line for the report's end."""
    if c is None:
        return []
    if top:
        banner = partial_banner(c)
        return [_t(banner), ""] if banner else []
    return [f"Completeness: {_t(c.line())}"]


def md_lines(c: Completeness | None, md: Callable[[Any], str], top: bool = False) -> list[str]:
    if c is None:
        return []
    if top:
        banner = partial_banner(c)
        return [f"> **⚠ {md(banner)}**", ""] if banner else []
    return [f"_Completeness: {md(c.line())}_"]


def html_part(c: Completeness | None, top: bool = False) -> h.Markup:
    if c is None:
        return h.Markup("")
    if top:
        banner = partial_banner(c)
        return h.tag("div", h.tag("strong", banner), "verdict verdict-suspicious") if banner else h.Markup("")
    return h.paragraph(f"Completeness: {c.line()}", "small completeness")
