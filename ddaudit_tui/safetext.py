"""Making attacker-controlled text safe to show in a terminal.

Audit events carry text chosen by whoever acts on the org (user agents, asset names, messages, tool
arguments). Before any of it reaches a terminal — TUI or headless table output — terminal control
sequences and text-reordering characters are removed. (Markup safety is the TUI's job: it never
parses event text as markup.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


# -- secrets ------------------------------------------------------------------------------------------

_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Datadog API keys are 32 hex characters and application keys 40: nothing else in an error message is.
_KEYLIKE = re.compile(r"\b(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{32})\b")
# A header as dumped (`Authorization: Basic …`, `"dd-api-key": "…"`, `DD-API-KEY=…`): a `:` or `=` must
# follow, or Datadog's own "Failed permission authorization checks" would lose a word. The value is its
# scheme (`Basic`, `Bearer`…) AND its credentials: masking the scheme alone leaves the base64 in view.
_HEADER_VALUE = re.compile(
    r"(?i)\b(dd-api-key|dd-application-key|authorization|proxy-authorization)\b(\W{0,2}[:=]\W{0,2})"
    r"(?:(?:basic|bearer|digest|negotiate|token|ntlm)\s+)?[^\s,;\"')}\]]+"
)
# `token=…`, `"password": "…"`, `api_key: …`: whatever a gateway or proxy echoes about credentials.
_NAMED_SECRET = re.compile(
    r"(?i)\b((?:access[_-]?|bearer[_-]?|id[_-]?)?token|secret|password|passwd|api[_-]?key|app(?:lication)?[_-]?key)"
    r"(\"?\s*[=:]\s*\"?)[^\s,;\"')}\]]+"
)
# Any run of this many characters of a known secret gives it away (an echoed prefix, a cut-off tail).
SECRET_RUN = 8
MASK = "****"


def _base64_cores(secret: str) -> set[str]:
    """The base64 of `secret` as it appears inside any longer base64 blob (`Basic base64(user:secret)`):
    at each of the three byte alignments, standard and URL-safe, minus the characters at both ends that
    mix in the neighbouring bytes."""
    import base64

    raw = secret.encode("utf-8", "surrogatepass")
    cores: set[str] = set()
    for pad in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            b64 = enc(b"\0" * pad + raw).decode("ascii")
            # Character i encodes bits [6i, 6i + 6): keep those made of the secret's bits only.
            core = b64[-(-8 * pad // 6) : 8 * (pad + len(raw)) // 6]
            if len(core) >= SECRET_RUN:
                cores.add(core)
    return cores


class Redactor:
    """Removes known secrets — any run of `SECRET_RUN` of their characters, and their base64 — and
    anything shaped like a credential from text, before it is cut, kept or shown.

    Redact first, cut after: a message cut to 200 characters before redaction would keep the part of
    a key that straddles the cut, which no whole-secret search then recognises.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        whole: set[str] = set()
        runs: set[str] = set()
        for s in {s for s in secrets if s}:
            for variant in {s, s.strip()}:
                if len(variant) < 4:
                    continue
                if len(variant) < SECRET_RUN:
                    whole.add(variant)
                    continue
                for form in (variant, *_base64_cores(variant)):
                    runs.update(form[i : i + SECRET_RUN] for i in range(len(form) - SECRET_RUN + 1))
        # Longest first, so a secret containing another is replaced whole.
        self._whole = sorted(whole, key=len, reverse=True)
        self._runs = frozenset(runs)

    def __bool__(self) -> bool:
        return bool(self._whole or self._runs)

    def _mask_runs(self, text: str) -> str:
        runs, n = self._runs, SECRET_RUN
        if not runs or len(text) < n:
            return text
        marked = bytearray(len(text))
        hit = False
        for i in range(len(text) - n + 1):
            if text[i : i + n] in runs:
                marked[i : i + n] = b"\1" * n
                hit = True
        if not hit:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            if marked[i]:
                while i < len(text) and marked[i]:
                    i += 1
                out.append(MASK)
            else:
                j = i
                while j < len(text) and not marked[j]:
                    j += 1
                out.append(text[i:j])
                i = j
        return "".join(out)

    def __call__(self, text: str) -> str:
        text = self._mask_runs(text)
        for secret in self._whole:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _USERINFO.sub(r"\1****@", text)
        text = _HEADER_VALUE.sub(r"\1\2****", text)
        text = _BEARER.sub(r"\1 ****", text)
        text = _NAMED_SECRET.sub(r"\1\2****", text)
        return _KEYLIKE.sub(MASK, text)

    def cut(self, text: str, max_len: int) -> str:
        """Redacted, made safe for a terminal, then cut to `max_len` — in that order."""
        return clean(self(text), max_len=max_len)
