"""Errors of the Datadog client: one line for the user, a hint saying what to do, never a secret.

`str(error)` is what the CLI prints and the TUI shows: `<status> <reason> from <host> (<server detail>):
<hint>`. Server-supplied text goes through `Redactor` before it is stored: a gateway that echoes the
request (headers included) into its error page must not put a key on the user's screen or in a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from ddaudit_tui.safetext import clean


class DatadogError(Exception):
    """A failed Datadog API call, as a one-line, secret-free message.

    `reason` is the short cause ("503 Service Unavailable", "timed out after 30 s") used inside fetch
    warnings; `message` adds where it came from; `hint` says what to do. `retries` is how many times the
    request was retried before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str = "",
        reason: str | None = None,
        retries: int = 0,
    ) -> None:
        self.message = message
        self.status = status
        self.hint = hint
        self.reason = reason or message
        self.retries = retries
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message
        if self.retries:
            text += f" after {self.retries} {'retry' if self.retries == 1 else 'retries'}"
        return f"{text}: {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status={self.status!r})"


class AuthError(DatadogError):
    """401/403 (or a gateway asking for a login): wrong, revoked or under-privileged credentials.

    Aborts a whole fetch: every other request would fail the same way. CLI exit code 3.
    """


class NotFound(DatadogError):
    """404: the resource (an API key id, an endpoint behind a gateway) does not exist."""


class BadRequest(DatadogError):
    """400 and other non-retryable client errors: the request itself is wrong (usually the query)."""


class RateLimited(DatadogError):
    """429 still answered after every allowed wait."""


class ServerError(DatadogError):
    """408/5xx still answered after every allowed retry."""


class Timeout(DatadogError):
    """No answer within the timeout, after every allowed retry."""


class ConnectionFailed(DatadogError):
    """Could not reach the API (DNS, TCP, TLS, proxy), after every allowed retry."""


class BadResponse(DatadogError):
    """A 2xx whose body is not a (complete) API response, e.g. truncated by a proxy."""


class ConfigurationError(DatadogError):
    """The client cannot be set up as asked: unknown site, bad URL, missing CA bundle."""


# -- server error bodies ------------------------------------------------------------------------


def error_details(body: bytes, limit: int = 3) -> list[str]:
    """The messages in an `{"errors": [...]}` body, items being strings or `{title, detail, status, code}`.

    Tolerates what real servers and gateways send instead: an empty body (Datadog's 429), HTML, plain
    text, JSON with another shape. Returns at most `limit` non-empty, single-line messages.
    """
    if not body or not body.strip():
        return []
    try:
        doc: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        text = body[:300].decode("utf-8", "replace").strip()
        # An HTML error page says nothing useful on one line; plain text often does.
        if text.startswith("<") or not text:
            return []
        return [clean(text, max_len=200)]
    items: list[Any] = []
    if isinstance(doc, dict):
        errs = doc.get("errors")
        if isinstance(errs, list):
            items = errs
        elif isinstance(errs, str | dict):
            items = [errs]
        else:
            items = [doc.get(k) for k in ("error", "message", "detail") if isinstance(doc.get(k), str)]
    elif isinstance(doc, list):
        items = doc
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            text = item.get("detail") or item.get("title") or item.get("message") or item.get("code")
            text = text if isinstance(text, str) else None
        elif isinstance(item, str | int | float):
            text = str(item)
        else:
            text = None
        if text and text.strip():
            out.append(clean(text.strip(), max_len=200))
        if len(out) >= limit:
            break
    return out


# -- secrets ------------------------------------------------------------------------------------

_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Datadog API keys are 32 hex characters and application keys 40: nothing else in an error message is.
_KEYLIKE = re.compile(r"\b(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{32})\b")
# A header as dumped (`Authorization: …`, `"dd-api-key": "…"`, `DD-API-KEY=…`): a `:` or `=` must follow,
# or Datadog's own "Failed permission authorization checks" would lose a word.
_HEADER_VALUE = re.compile(r"(?i)\b(dd-api-key|dd-application-key|authorization)\b(\W{0,2}[:=]\W{0,2})\S+")
# `token=…`, `"password": "…"`, `api_key: …`: whatever a gateway or proxy echoes about credentials.
_NAMED_SECRET = re.compile(
    r"(?i)\b((?:access[_-]?|bearer[_-]?|id[_-]?)?token|secret|password|passwd|api[_-]?key|app(?:lication)?[_-]?key)"
    r"(\"?\s*[=:]\s*\"?)[^\s,;\"')}\]]+"
)


class Redactor:
    """Removes known secrets (and anything shaped like one) from text before it is kept or shown."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "****")
        text = _USERINFO.sub(r"\1****@", text)
        text = _BEARER.sub(r"\1 ****", text)
        text = _HEADER_VALUE.sub(r"\1\2****", text)
        text = _NAMED_SECRET.sub(r"\1\2****", text)
        return _KEYLIKE.sub("****", text)
