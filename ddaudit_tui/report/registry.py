"""One registry of report renderers, used by the TUI export key and the CLI `--format`.

A renderer turns an analysis result (plain data, already computed) into text in one format. Reports
render findings; they never recompute them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Renderer = Callable[[Any], str]

_RENDERERS: dict[tuple[str, str], Renderer] = {}

# File extension per format, for exports.
EXTENSIONS = {"text": "txt", "md": "md", "json": "json", "html": "html", "csv": "csv", "ndjson": "ndjson"}


def register(kind: str, fmt: str) -> Callable[[Renderer], Renderer]:
    """Decorator: `@register("key", "md")` on a function `(result) -> str`."""

    def deco(fn: Renderer) -> Renderer:
        _RENDERERS[(kind, fmt)] = fn
        return fn

    return deco


def formats(kind: str) -> list[str]:
    return [fmt for (k, fmt) in _RENDERERS if k == kind]


def render(kind: str, fmt: str, result: Any) -> str:
    try:
        fn = _RENDERERS[(kind, fmt)]
    except KeyError:
        known = ", ".join(formats(kind)) or "none"
        raise ValueError(f"no {fmt!r} renderer for {kind} reports (known: {known})") from None
    return fn(result)
