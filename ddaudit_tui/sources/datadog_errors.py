"""Errors of the Datadog client: one line for the user, a hint saying what to do, never a secret.

`str(error)` is what the CLI prints and the TUI shows: `<status> <reason> from <host> (<server detail>):
<hint>`. Server-supplied text goes through `Redactor` before it is stored: a gateway that echoes the
request (headers included) into its error page must not put a key on the user's screen or in a report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ddaudit_tui.safetext import Redactor, clean  # noqa: F401  (Redactor: re-exported)


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


MAX_ERROR_BODY = 65_536  # more than any error message; bounds the work spent on a hostile body
DETAIL_MAX = 200


def error_details(body: bytes, limit: int = 3, redact: Callable[[str], str] | None = None) -> list[str]:
    """The messages in an `{"errors": [...]}` body, items being strings or `{title, detail, status, code}`.

    Tolerates what real servers and gateways send instead: an empty body (Datadog's 429), HTML, plain
    text, JSON with another shape. Returns at most `limit` non-empty, single-line messages, each passed
    through `redact` BEFORE it is cut to 200 characters (a secret straddling the cut would otherwise
    survive in part, unrecognisable as a whole).
    """
    if not body or not body.strip():
        return []

    def shown(text: str) -> str:
        return clean(redact(text) if redact is not None else text, max_len=DETAIL_MAX)

    try:
        doc: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        text = body[:MAX_ERROR_BODY].decode("utf-8", "replace").strip()
        # An HTML error page says nothing useful on one line; plain text often does.
        if text.startswith("<") or not text:
            return []
        return [shown(text)]
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
            out.append(shown(text.strip()[:MAX_ERROR_BODY]))
        if len(out) >= limit:
            break
    return out


# -- secrets ------------------------------------------------------------------------------------
# `Redactor` (imported above, re-exported) lives with the other text-safety helpers in `safetext`:
# PagerDuty's client uses it too.
