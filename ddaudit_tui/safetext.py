"""Making attacker-controlled text safe to show in a terminal.

Audit events carry text chosen by whoever acts on the org (user agents, asset names, messages, tool
arguments). Before any of it reaches a terminal — TUI or headless table output — terminal control
sequences and text-reordering characters are removed. (Markup safety is the TUI's job: it never
parses event text as markup.)
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC (ESC P/X/^/_ ... ST),
# and two-character escapes. Removed whole so no payload (e.g. an OSC 52 clipboard write) survives.
_ESC_SEQ = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)"  # OSC / DCS / SOS / PM / APC up to BEL or ST
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x90\x9d\x98\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)"  # 8-bit OSC/DCS/...
    r"|\x1b[ -/]*[0-~]?",  # other ESC sequences (and a lone ESC)
    re.DOTALL,
)
# C0 controls except tab/newline, DEL, C1 controls; bidi embeddings/overrides/isolates and other
# invisible format characters that can make text read differently from what it is.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_WS = re.compile(r"[\t\n\r]+")


def clean(text: object, single_line: bool = True, max_len: int | None = None) -> str:
    """`text` with control sequences removed; newlines and tabs folded to spaces when `single_line`."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable() and (max_len is None or len(s) <= max_len):
        return s  # fast path: most values are plain
    s = _ESC_SEQ.sub("", s)
    s = _CONTROL.sub("", s)
    # Tabs become spaces either way: their width depends on the terminal and breaks alignment.
    s = _WS.sub(" ", s) if single_line else s.replace("\r", "").replace("\t", " ")
    if not s.isprintable():
        # Whatever else cannot be shown safely (line/paragraph separators, soft hyphens, lone surrogates
        # that would crash the output encoder) becomes a visible replacement character.
        keep = "\n" if not single_line else ""
        s = "".join(c if c.isprintable() or c in keep else "\ufffd" for c in s)
    if max_len is not None and len(s) > max_len:
        s = s[: max(0, max_len - 1)] + "…"
    return s


# Characters a terminal may act on that JSON leaves raw (it escapes only C0, `"` and `\`): DEL, C1
# controls, bidi embeddings/overrides/isolates, zero-width and other format characters, line/paragraph
# separators. In JSON text they can only occur inside strings, so writing them as `\uXXXX` escapes
# gives the same JSON value.
_JSON_RAW = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
# The same characters in UTF-8 (a quick test before decoding a byte string).
_JSON_RAW_UTF8 = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xa9]|\xef\xbb\xbf|\xef\xbf[\xb9-\xbb]"
)


def json_safe(text: str) -> str:
    """JSON text (as `json.dumps(..., ensure_ascii=False)` writes it) with the characters a terminal
    could act on escaped: the data is unchanged, and `ddaudit … --format json` on a terminal is safe."""
    if _JSON_RAW.search(text) is None:
        return text
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_safe_bytes(data: bytes) -> bytes:
    """`json_safe` for UTF-8 JSON bytes (NDJSON lines of raw items)."""
    if _JSON_RAW_UTF8.search(data) is None:
        return data
    return json_safe(data.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
