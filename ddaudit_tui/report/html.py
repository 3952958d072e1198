"""A small, safe, self-contained HTML page builder for reports that get mailed or attached to tickets.

- Self-contained: one file, inline CSS, no scripts, fonts, images or links to fetch; a Content-Security-
  Policy forbids loading anything, so even a hostile value cannot make a mail client phone home.
- Safe: every value is HTML-escaped (quotes included) after terminal control sequences and bidi
  overrides are removed (`safetext.clean`); only fragments built here are wrapped in `Markup` and
  inserted as HTML. Event text is attacker-controlled (asset names, user agents, messages).
- Readable without colour: severities carry a word and a glyph as well as a colour.

Shared by every report (key lookup, AI activity, …): `page(title, body)`, `table(headers, rows)`,
`dl(pairs)`, `section(title, body)`, `severity_badge(sev)`, `esc(value)`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.safetext import clean


class Markup(str):
    """A fragment of HTML built by this module (already escaped): inserted as is."""

    __slots__ = ()


def esc(value: Any, single_line: bool = True) -> Markup:
    """Escape any value for HTML text or an attribute; `None` → empty; Markup passes through."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    return Markup(html.escape(clean(value, single_line=single_line), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    return Markup(esc(sep).join(esc(p) for p in parts))


def tag(name: str, content: Any = "", cls: str | None = None, **attrs: Any) -> Markup:
    """`<name class=… attr=…>content</name>`; the name and attribute names are ours, values escaped."""
    attr_text = f' class="{esc(cls)}"' if cls else ""
    for k, v in attrs.items():
        if v is not None:
            attr_text += f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"'
    return Markup(f"<{name}{attr_text}>{esc(content)}</{name}>")


def code(text: Any) -> Markup:
    return tag("code", text)


def section(title: str, body: Any, level: int = 2, id_: str | None = None) -> Markup:
    return Markup(tag(f"h{level}", title, id=id_) + esc(body))


def paragraph(content: Any, cls: str | None = None) -> Markup:
    return tag("p", content, cls)


def ul(items: Iterable[Any], ordered: bool = False) -> Markup:
    lis = "".join(tag("li", item) for item in items)
    return Markup(f"<{'ol' if ordered else 'ul'}>{lis}</{'ol' if ordered else 'ul'}>")


def dl(pairs: Iterable[tuple[Any, Any]]) -> Markup:
    inner = "".join(tag("dt", k) + tag("dd", v) for k, v in pairs)
    return Markup(f"<dl>{inner}</dl>")


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    cls: str | None = None,
    row_classes: Iterable[str | None] | None = None,
    empty: str = "none",
) -> Markup:
    """A table; cells are escaped unless they are Markup. `row_classes` styles whole rows."""
    head = "".join(tag("th", h, scope="col") for h in headers)
    body_rows = []
    classes = iter(row_classes) if row_classes is not None else None
    for row in rows:
        rc = next(classes, None) if classes is not None else None
        cells = "".join(tag("td", c) for c in row)
        body_rows.append(f'<tr class="{esc(rc)}">{cells}</tr>' if rc else f"<tr>{cells}</tr>")
    if not body_rows:
        body_rows.append(f'<tr><td colspan="{len(headers)}" class="muted">{esc(empty)}</td></tr>')
    cls_attr = f' class="{esc(cls)}"' if cls else ""
    return Markup(
        f"<table{cls_attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>"
    )


def severity_badge(sev: Severity) -> Markup:
    """`‼ CRITICAL` in a coloured box: word and glyph for monochrome readers and printers."""
    return tag("span", sev.label, f"sev sev-{sev.word}")


def badge(text: Any, kind: str) -> Markup:
    """A coloured label; `kind` is one of ours (critical/high/medium/low/info/ok/muted)."""
    return tag("span", text, f"sev sev-{kind}")


CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;
color:#1b1f24;background:#fff;margin:0;padding:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f6f8fa}
tr.flagged td{background:#fff5f5}
code{font-family:"SFMono-Regular",Consolas,"Liberation Mono",monospace;font-size:12.5px;background:#f6f8fa;
padding:0 3px;border-radius:3px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
dt{font-weight:600}dd{margin:0}
.sev{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:700;font-size:12px;white-space:nowrap;
border:1px solid #888}
.sev-critical{background:#82071e;color:#fff;border-color:#82071e}
.sev-high{background:#cf222e;color:#fff;border-color:#cf222e}
.sev-medium{background:#fff8c5;color:#4d2d00;border-color:#d4a72c}
.sev-low{background:#ddf4ff;color:#0a3069;border-color:#54aeff}
.sev-info{background:#f6f8fa;color:#57606a;border-color:#d0d7de}
.sev-ok{background:#dafbe1;color:#116329;border-color:#4ac26b}
.verdict{font-size:18px;padding:8px 12px;border-radius:4px;margin:10px 0;border:2px solid #888}
.verdict-compromised{background:#ffebe9;border-color:#cf222e}
.verdict-suspicious{background:#fff8c5;border-color:#d4a72c}
.verdict-none{background:#dafbe1;border-color:#4ac26b}
.muted{color:#57606a}.small{font-size:12px}
@media print{body{padding:0}}
"""


def page(title: str, body: Any, subtitle: Any = None) -> str:
    """A complete HTML document: `title` (escaped) and `body` (Markup, or text to escape)."""
    head = (
        '<meta charset="utf-8">'
        # Nothing may be fetched: no images, fonts, frames or scripts, whatever a value contains.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style>"
    )
    sub = tag("p", subtitle, "muted") if subtitle is not None else ""
    return f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head><body><h1>{esc(title)}</h1>{sub}{esc(body)}</body></html>\n'
