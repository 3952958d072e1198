"""The Datadog API client: Audit Trail search, API key lookup and revocation, key validation.

Everything goes through httpx, so the demo (an in-process fake of the Datadog API mounted as the
transport) and the tests exercise this exact code. Reference: `reference/datadog-api.md` §1 and §3.

- Requests: `POST /api/v2/audit/events/search` with absolute ISO times resolved once (§1.7), explicit
  `sort`, no `options`; paging by `meta.page.after` until an empty page or no cursor (§1.9).
- Concurrency: a fetch is cut into time slices paged concurrently (`datadog_fetch.py`); one rate-limit
  budget per org (shared by every client of the same base URL and credentials, one bucket per
  `X-RateLimit-Name`) holds a request back when its bucket is known to be spent (`ratelimit.py`).
- Retries (§1.12): 429 waits `X-RateLimit-Reset` (else `Period`, else exponential backoff) and repeats the
  same request; 408/5xx, timeouts, connection errors and truncated bodies are retried with bounded
  exponential backoff; 400/401/403/404 never are.
- Gateways (seed 003): the base URL may be overridden (with a path prefix), traffic may go through an
  HTTPS proxy with its own CA bundle, and a bearer token may replace the key pair. No secret ever appears
  in an exception, a warning, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, quote, unquote, urlsplit

import msgspec

from ddaudit_tui import __version__
from ddaudit_tui.events.decode import DecodeError, decode_page
from ddaudit_tui.events.record import Event
from ddaudit_tui.safetext import clean
from ddaudit_tui.sources.base import FetchResult, ProgressCallback
from ddaudit_tui.sources.completeness import DEFAULT_RETENTION_DAYS, record_request
from ddaudit_tui.sources.datadog_errors import (
    AuthError,
    BadRequest,
    BadResponse,
    ConfigurationError,
    ConnectionFailed,
    DatadogError,
    NotFound,
    RateLimited,
    Redactor,
    ServerError,
    Timeout,
    error_details,
)
from ddaudit_tui.sources.datadog_fetch import FetchRun, SearchPage
from ddaudit_tui.sources.ratelimit import (
    Clock,
    RateLimitInfo,
    Sleep,
    WaitReporter,
    backoff_s,
    org_scope,
    path_family,
    seconds_text,
    shared_limiter,
    wait_after_429,
)
from ddaudit_tui.sources.sites import (
    SITES,
    UI_HOSTS,
    api_base_url,
    display_url,
    join_url,
    normalize_site,
    split_userinfo,
    ui_base_url,
    url_host,
)
from ddaudit_tui.timeutil import Window

if TYPE_CHECKING:
    # httpx (~60 ms of import with what it pulls in) is imported where a request is made: a client given a
    # transport (the demo, tests) builds its httpx client with its first request, so the TUI's demo paints
    # its first frame without it (issue 12). A client of the real API builds it at once (see __init__).
    import httpx

    from ddaudit_tui.sources.api_keys import ApiKeyInfo, UserRef

__all__ = [
    "SITES",
    "UI_HOSTS",
    "USER_AGENT",
    "ApiKeyInfo",
    "AuthError",
    "BadRequest",
    "BadResponse",
    "ConfigurationError",
    "ConnectionFailed",
    "Credentials",
    "DatadogClient",
    "DatadogError",
    "NotFound",
    "RateLimited",
    "SearchPage",
    "ServerError",
    "Timeout",
    "UserRef",
    "api_base_url",
    "ui_base_url",
]

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    # The API key models need pydantic (~0.1 s to import): loaded when first used, not with the client,
    # so that the TUI paints its first frame sooner (issue 12).
    if name in ("ApiKeyInfo", "UserRef"):
        from ddaudit_tui.sources import api_keys

        return getattr(api_keys, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


USER_AGENT = f"ddaudit/{__version__}"
SEARCH_PATH = "/api/v2/audit/events/search"
MAX_PAGE_LIMIT = 1000  # spec maximum for page.limit (§1.5, §1.6)

T = TypeVar("T")


# -- credentials ----------------------------------------------------------------------------------


def mask_secret(value: str | None) -> str:
    """`****abcd` for a long secret (as Datadog's UI shows keys), `****` for a short one."""
    if not value:
        return "None"
    return f"****{value[-4:]}" if len(value) >= 20 else "****"


@dataclass(frozen=True, repr=False)
class Credentials:
    """How to authenticate: an API + application key pair, or an OAuth/gateway bearer token.

    The token wins when both are present (pup's precedence, §1.3). The repr masks every value, so a
    Credentials object can sit in a traceback or a debugger without exposing anything.
    """

    api_key: str | None = None
    app_key: str | None = None
    access_token: str | None = None

    def __repr__(self) -> str:
        return (
            f"Credentials(api_key={mask_secret(self.api_key)}, app_key={mask_secret(self.app_key)}, "
            f"access_token={mask_secret(self.access_token)})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if env is None else env
        return cls(
            api_key=env.get("DD_API_KEY") or None,
            app_key=env.get("DD_APP_KEY") or env.get("DD_APPLICATION_KEY") or None,
            access_token=env.get("DD_ACCESS_TOKEN") or None,
        )

    @property
    def uses_token(self) -> bool:
        return bool(self.access_token and self.access_token.strip())

    def headers(self) -> dict[str, str]:
        # Stripped: a key read from `pass show …` ends with a newline, and an HTTP library's complaint
        # about an illegal header value would quote the value.
        if self.uses_token:
            return {"Authorization": f"Bearer {self.access_token.strip()}"}  # type: ignore[union-attr]
        headers: dict[str, str] = {}
        if self.api_key and self.api_key.strip():
            headers["DD-API-KEY"] = self.api_key.strip()
        if self.app_key and self.app_key.strip():
            headers["DD-APPLICATION-KEY"] = self.app_key.strip()
        return headers

    def secrets(self) -> tuple[str, ...]:
        values = (self.api_key, self.app_key, self.access_token)
        return tuple(v for s in values if s for v in {s, s.strip()} if v)


def _url_secrets(url: str | None) -> list[str]:
    """The user-info of a URL as secrets: as written, percent-decoded, and as the `Basic` header value
    it becomes (`base64(user:password)`; the redactor also finds each part's own base64)."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    user, password = parts.username, parts.password
    out = [s for s in (password, user) if s]
    out += [unquote(s) for s in out]
    if user or password:
        import base64

        pair = f"{unquote(user or '')}:{unquote(password or '')}".encode()
        out.append(base64.b64encode(pair).decode("ascii"))
    return out


# -- one page -------------------------------------------------------------------------------------


def _meta_warning_text(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return None
    title, detail, code = (item.get(k) for k in ("title", "detail", "code"))
    parts = [str(p) for p in (title, detail) if isinstance(p, str) and p]
    text = " — ".join(parts) or (str(code) if code else "")
    if code and parts:
        text += f" [{code}]"
    return text or None


# -- the client -----------------------------------------------------------------------------------


class DatadogClient:
    """Async client of the Datadog API for ddaudit. Implements `sources.base.Source`."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        site: str = "datadoghq.com",
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        verify: str | bool | ssl.SSLContext = True,
        timeout_s: float = 30.0,
        deadline_s: float | None = None,
        no_dd_auth: bool = False,
        page_limit: int = MAX_PAGE_LIMIT,
        concurrency: int = 8,
        max_events: int | None = None,
        max_retries: int = 5,
        max_rate_limit_waits: int = 10,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        label: str | None = None,
        retention_days: int | None = DEFAULT_RETENTION_DAYS,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`ready`: awaited before each request is sent (the TUI's demo: not before its first frame)."""
        if not 1 <= page_limit <= MAX_PAGE_LIMIT:
            raise ConfigurationError(f"page limit {page_limit} out of range", hint="expected 1 to 1000")
        if concurrency < 1:
            raise ConfigurationError(f"concurrency {concurrency} out of range", hint="expected 1 or more")
        if max_events is not None and max_events < 1:
            raise ConfigurationError(f"max_events {max_events} out of range", hint="expected 1 or more")
        self.credentials = credentials or Credentials()
        self.no_dd_auth = no_dd_auth  # credential-less mode: a gateway adds the Datadog keys
        if no_dd_auth:
            self.credentials = Credentials(access_token=self.credentials.access_token)
        self.gateway = bool(base_url)
        if self.gateway:
            # Behind a gateway DD_SITE only feeds hints and UI links: an odd value must not stop us.
            try:
                self.site = normalize_site(site)
            except ConfigurationError:
                self.site = site
        else:
            self.site = normalize_site(site)
        self.base_url, basic_user, basic_password = split_userinfo(api_base_url(self.site, base_url))
        self.host = url_host(self.base_url)
        self.label = label or (self.host if self.gateway else self.site)
        self.page_limit = page_limit
        self.concurrency = concurrency
        self.max_events = max_events
        # The org's Audit Trail retention (config audit_retention_days): answers over a window that
        # starts before now − retention say which events are out of reach.
        self.retention_days = retention_days
        self.max_retries = max(0, max_retries)
        self.max_rate_limit_waits = max(0, max_rate_limit_waits)
        # `timeout_s` bounds each read, and twice that each request as a whole (a body trickling in a
        # byte at a time never trips a per-read timeout); `deadline_s` bounds each `fetch`, retries and
        # waits included: what it got by then is kept and the result marked partial.
        self.timeout_s = timeout_s
        self.request_timeout_s = 2 * timeout_s
        if deadline_s is not None and deadline_s <= 0:
            raise ConfigurationError(
                f"deadline {deadline_s} out of range", hint="expected more than 0 seconds"
            )
        self.deadline_s = deadline_s
        self._proxy_display = display_url(proxy) if proxy else None
        self._sleep = sleep
        # One budget per org in this process: every client of the same base URL and credentials
        # (the key investigation, the DDSQL engine, the watch poller) shares it.
        self._limiter = shared_limiter(
            org_scope(self.base_url, self.credentials.headers()),
            sleep=sleep,
            clock=clock,
            transport=transport,
        )
        self._last_rate_limit: RateLimitInfo | None = None
        self._redact = Redactor([*self.credentials.secrets(), *_url_secrets(proxy), *_url_secrets(base_url)])
        self._exists_cache: dict[tuple[str, int, int], bool] = {}
        self._ready = ready
        basic = None
        if (basic_user or basic_password) and not self.credentials.uses_token:
            import httpx

            # A gateway URL with `user:password@`: Basic auth, as httpx would do, minus the URL in logs.
            basic = httpx.BasicAuth(unquote(basic_user or ""), unquote(basic_password or ""))
        self._transport = transport
        self._http_client: httpx.AsyncClient | None = None
        self._http_args = (transport, proxy, verify, timeout_s, basic)
        if transport is None:
            # The real API: built now, so that a bad proxy URL or CA bundle is an error of the client's
            # construction. A given transport has nothing to check: its client is built when first used.
            self._http_client = self._make_http(*self._http_args)

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._http_client is None:
            self._http_client = self._make_http(*self._http_args)
        return self._http_client

    def __repr__(self) -> str:
        return (
            f"DatadogClient(label={self.label!r}, base_url={display_url(self.base_url)!r}, "
            f"credentials={self.credentials!r})"
        )

    @property
    def ui_url(self) -> str:
        """The Datadog web app for this client's site (for links in reports)."""
        try:
            return ui_base_url(self.site)
        except ConfigurationError:
            return ui_base_url("datadoghq.com")

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The last rate-limit headers seen (a live poller can pace itself with them)."""
        return self._last_rate_limit

    def _make_http(
        self,
        transport: httpx.AsyncBaseTransport | None,
        proxy: str | None,
        verify: str | bool | ssl.SSLContext,
        timeout_s: float,
        auth: httpx.Auth | None = None,
    ) -> httpx.AsyncClient:
        import httpx

        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **self.credentials.headers()}
        kwargs: dict[str, Any] = {
            "headers": headers,
            "timeout": httpx.Timeout(timeout_s),
            # A redirect from an API endpoint is a gateway asking for a browser login or a wrong URL;
            # following it would send the credentials to wherever it points.
            "follow_redirects": False,
        }
        if auth is not None:
            kwargs["auth"] = auth
        if transport is not None:
            # httpx would route around a given transport if a proxy were mounted too.
            kwargs["transport"] = transport
        else:
            kwargs["verify"] = _ssl_context(verify)
            if proxy:
                kwargs["proxy"] = proxy
        try:
            return httpx.AsyncClient(**kwargs)
        except (ValueError, TypeError, httpx.InvalidURL):
            raise ConfigurationError(
                f"invalid proxy URL {self._proxy_display!r} (DDAUDIT_PROXY)",
                hint="expected e.g. http://proxy.corp:3128 or http://user:password@proxy.corp:3128",
            ) from None

    async def __aenter__(self) -> DatadogClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()
        elif self._transport is not None:  # never used: what closing its httpx client would have done
            await self._transport.aclose()

    def default_window(self) -> Window | None:
        return None  # the API has no natural span: the caller's --from applies

    # -- Source ---------------------------------------------------------------------------------

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        """Every event matching `query` in `window`, newest first, each id once (see datadog_fetch)."""
        return await FetchRun(self, query.strip() or "*", window, progress).run()

    async def search_page(
        self,
        query: str,
        window: Window,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: str = "-timestamp",
        report: WaitReporter | None = None,
        what: str | None = None,
    ) -> SearchPage:
        """One `POST /api/v2/audit/events/search`, retried as the policy says, decoded.

        Low level: `fetch` pages through it, a live poller calls it directly. `report(seconds, message)`
        hears about rate-limit and retry waits.
        """
        limit = self.page_limit if limit is None else limit
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ConfigurationError(f"page limit {limit} out of range", hint="expected 1 to 1000")
        if sort not in ("timestamp", "-timestamp"):
            raise ConfigurationError(f"sort {sort!r} not supported", hint="expected timestamp or -timestamp")
        page: dict[str, Any] = {"limit": limit}
        if cursor:
            page["cursor"] = cursor
        body = {
            # Absolute instants, never date math: the server re-evaluates `now-…` on every page (§1.7).
            "filter": {"query": query or "*", "from": window.api_from(), "to": window.api_to()},
            "page": page,
            "sort": sort,
        }

        def parse(response: httpx.Response) -> SearchPage:
            events, meta = decode_page(response.content, self.host)
            page = self._search_page(events, meta)
            if page.cursor is None:
                # No `meta.page.after`: a gateway (or an API version) may give only `links.next`.
                page.cursor, page.next_unfollowable = _cursor_from_links(response.content)
            return page

        if what:
            log.debug("search %s", what)

        return await self._call("POST", SEARCH_PATH, op="search", json=body, parse=parse, report=report)

    def _search_page(self, events: list[Event], meta: dict[str, Any]) -> SearchPage:
        page_meta = meta.get("page")
        after = page_meta.get("after") if isinstance(page_meta, dict) else None
        warnings = []
        raw_warnings = meta.get("warnings")
        for item in raw_warnings if isinstance(raw_warnings, list) else []:
            text = _meta_warning_text(item)
            if text:
                warnings.append(self._redact.cut(text, 300))
        status = meta.get("status")
        elapsed = meta.get("elapsed")
        request_id = meta.get("request_id")
        return SearchPage(
            events=events,
            cursor=after if isinstance(after, str) and after else None,
            status=status if isinstance(status, str) else None,
            warnings=warnings,
            request_id=request_id if isinstance(request_id, str) else None,
            elapsed_ms=elapsed if isinstance(elapsed, int) and not isinstance(elapsed, bool) else None,
        )

    async def count_exists(self, query: str, window: Window) -> bool:
        """Whether anything matches: one request with `page.limit: 1` (DESIGN.md "Scale").

        Used for baselines ("has the org ever been reached from Romania outside this key?") that would
        otherwise need org-wide history. Answers are cached for the client's life.
        """
        key = (query.strip() or "*", window.start, window.end)
        if key not in self._exists_cache:
            page = await self.search_page(key[0], window, limit=1, what="existence check")
            self._exists_cache[key] = bool(page.events)
        return self._exists_cache[key]

    async def exists(self, query: str, window: Window) -> bool:
        """`sources.base.Source.exists`: the same pushdown."""
        return await self.count_exists(query, window)

    # -- keys -----------------------------------------------------------------------------------

    async def validate(self) -> None:
        """Check the credentials: `GET /api/v2/validate_keys` (both keys), falling back to
        `GET /api/v1/validate` (API key only) where the v2 endpoint does not exist. Raises AuthError."""
        try:
            await self._call("GET", "/api/v2/validate_keys", op="validate")
            return
        except NotFound:
            log.debug("validate_keys not available at %s; falling back to /api/v1/validate", self.host)

        def parse(response: httpx.Response) -> Any:
            return _json_or_none(response.content)

        doc = await self._call("GET", "/api/v1/validate", op="validate", parse=parse)
        if isinstance(doc, dict) and doc.get("valid") is False:
            raise AuthError(
                f"the API key was refused by {self.host} (valid: false)",
                hint=self._auth_hint("validate", 403),
            )

    async def get_api_key(self, key_id: str) -> ApiKeyInfo | None:
        """What Datadog knows about API key `key_id` (its UUID), creator included; None if unknown.

        The response carries the key's secret (`attributes.key`); it is dropped while parsing.
        """
        from ddaudit_tui.sources.api_keys import parse_api_key

        key_id = _check_key_id(key_id)

        def parse(response: httpx.Response) -> ApiKeyInfo:
            info = parse_api_key(_json_or_none(response.content))
            if info is None:  # valid JSON of another shape: asking again would not change it
                raise BadResponse(
                    f"{self.host} answered the API key lookup with something else than an API key",
                    status=response.status_code,
                )
            return info

        try:
            return await self._call(
                "GET",
                f"/api/v2/api_keys/{quote(key_id, safe='')}",
                op="get_key",
                params={"include": "created_by"},
                parse=parse,
            )
        except NotFound:
            return None

    async def revoke_api_key(self, key_id: str) -> None:
        """Delete (revoke) API key `key_id`. Irreversible: callers confirm with the user first."""
        key_id = _check_key_id(key_id)
        try:
            await self._call("DELETE", f"/api/v2/api_keys/{quote(key_id, safe='')}", op="revoke_key")
        except NotFound as exc:
            raise NotFound(
                f"API key {clean(key_id, max_len=80)} not found (already revoked?)",
                status=404,
                hint=f"nothing was deleted on {self.host}",
            ) from exc

    # -- HTTP with the retry policy ------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        op: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        parse: Callable[[httpx.Response], T] | None = None,
        report: WaitReporter | None = None,
    ) -> Any:
        """One API call with the retry policy of datadog-api.md §1.12. Returns `parse(response)` (or
        the response) for a 2xx; raises a DatadogError otherwise."""
        if self._ready is not None:
            await self._ready()
        import httpx

        url = join_url(self.base_url, path)
        faults = 0  # transient faults retried so far (408/5xx, timeouts, connection, bad bodies)
        waits = 0  # 429s waited out so far
        family = path_family(path)
        while True:
            bucket = await self._limiter.acquire(family, report)
            fault: DatadogError
            try:
                # `asyncio.timeout`, not `wait_for`: no extra task, so concurrent slices keep their order.
                async with asyncio.timeout(self.request_timeout_s):
                    response = await self._http.request(method, url, json=json, params=params)
            except asyncio.CancelledError:
                self._limiter.release(bucket, family)  # a cancelled request is no longer in flight
                raise
            except TimeoutError:
                self._limiter.release(bucket, family)
                record_request()
                total = seconds_text(self.request_timeout_s)
                fault = Timeout(
                    f"no complete answer from {self.host} within {total}",
                    reason=f"answer not complete after {total}",
                    hint="the server sends too slowly: a request may take twice DDAUDIT_TIMEOUT in all",
                )
            except httpx.TimeoutException:
                self._limiter.release(bucket, family)
                record_request()
                fault = Timeout(
                    f"no answer from {self.host} within {seconds_text(self.timeout_s)}",
                    reason=f"timed out after {seconds_text(self.timeout_s)}",
                    hint="the query may be too broad: narrow the window or add filters (DDAUDIT_TIMEOUT)",
                )
            except httpx.HTTPError as exc:
                self._limiter.release(bucket, family)
                record_request()
                fault = self._transport_error(exc)  # raises itself when retrying cannot help
            else:
                info = RateLimitInfo.from_headers(response.headers)
                bucket = self._limiter.release(bucket, family, info)
                if info.limit is not None or info.remaining is not None:
                    self._last_rate_limit = info
                record_request(info)  # every attempt counts, 429s and retries included
                status = response.status_code
                if status == 429:
                    waits += 1
                    if waits > self.max_rate_limit_waits:
                        raise self._rate_limited(info, waits - 1)
                    wait = wait_after_429(info, waits)
                    log.debug("%s %s → 429; waiting %.1f s (wait %d)", method, path, wait, waits)
                    # Shared: every request of this bucket of the org waits, not just this one.
                    self._limiter.block(bucket, wait, "rate limited, retrying in {s}")
                    continue
                if 200 <= status < 300:
                    if parse is None:
                        return response
                    if "html" in response.headers.get("content-type", "").lower():
                        raise BadResponse(
                            f"{self.host} answered with a web page instead of JSON",
                            status=status,
                            hint="a gateway login page? check DDAUDIT_API_URL and DD_ACCESS_TOKEN",
                        )
                    try:
                        return parse(response)
                    except (DecodeError, msgspec.DecodeError) as exc:
                        text = str(exc)
                        if isinstance(exc, DecodeError) and text.startswith(exc.source):
                            text = text.split(": ", 1)[-1]  # drop "<host>:<line>:<col>: "
                        reason = self._redact.cut(text, 200)
                        fault = BadResponse(
                            f"unusable response from {self.host}: {reason}",
                            status=status,
                            reason=f"unusable response body ({reason})",
                        )
                elif status == 408 or status >= 500:
                    status_text, detail = self._status_text(response)
                    fault = ServerError(
                        f"{status_text} from {self.host}{detail}", status=status, reason=status_text + detail
                    )
                else:
                    raise self._http_error(response, op)
            faults += 1
            if faults > self.max_retries:
                fault.retries = self.max_retries
                raise fault
            delay = backoff_s(faults)
            log.debug("%s %s failed (%s); retry %d in %.1f s", method, path, fault.reason, faults, delay)
            if report is not None:
                report(
                    delay,
                    f"{fault.reason}, retrying in {seconds_text(delay)} "
                    f"(retry {faults} of {self.max_retries})",
                )
            await self._sleep(delay)
            if report is not None:
                report(0.0, "")

    def _status_text(self, response: httpx.Response) -> tuple[str, str]:
        """(`503 Service Unavailable`, ` (server detail)` or ``) — the phrase is the standard one, never
        the server's, and the detail is redacted."""
        import httpx

        status = response.status_code
        phrase = httpx.codes.get_reason_phrase(status) or "HTTP error"
        details = [
            d for d in error_details(response.content, redact=self._redact) if d.lower() != phrase.lower()
        ]
        return f"{status} {phrase}", (f" ({'; '.join(details)})" if details else "")

    def _http_error(self, response: httpx.Response, op: str) -> DatadogError:
        """A non-retryable status → the right DatadogError, with a hint saying what to do."""
        status = response.status_code
        status_text, detail = self._status_text(response)
        reason = status_text + detail
        message = f"{status_text} from {self.host}{detail}"
        if status in (401, 403):
            return AuthError(message, status=status, reason=reason, hint=self._auth_hint(op, status))
        if status == 407:
            return AuthError(
                f"{status_text} from the proxy {self._proxy_display or ''}".rstrip() + detail,
                status=status,
                reason=reason,
                hint="the proxy wants credentials: DDAUDIT_PROXY=http://user:password@host:port",
            )
        if 300 <= status < 400:
            target = url_host(response.headers.get("location", "")) or "elsewhere"
            return AuthError(
                f"{status_text} from {self.host} to {target}",
                status=status,
                reason=reason,
                hint="an API answers directly; a gateway redirecting is asking for a browser login: "
                "use a bearer token (DD_ACCESS_TOKEN) or check DDAUDIT_API_URL",
            )
        if status == 404:
            hint = ""
            if op == "search":
                hint = f"no audit search endpoint at {display_url(self.base_url)}: check DD_SITE / DDAUDIT_API_URL"
            return NotFound(message, status=status, reason=reason, hint=hint)
        hint = "Datadog rejected the request: check the query syntax" if op == "search" else ""
        return BadRequest(message, status=status, reason=reason, hint=hint)

    def _auth_hint(self, op: str, status: int) -> str:
        creds = self.credentials
        if self.no_dd_auth and not creds.uses_token:
            return (
                "no Datadog keys were sent (auth = none: the gateway must add them), "
                f"or the gateway at {self.host} refused the request"
            )
        if self.gateway:
            elsewhere = f"the gateway at {self.host} refused them"
        elif creds.uses_token:
            elsewhere = f"the token was issued for another Datadog site (DD_SITE={self.site})"
        else:
            elsewhere = f"the keys belong to another Datadog site (DD_SITE={self.site})"
        if not creds.uses_token and bool(creds.api_key) != bool(creds.app_key):
            missing = "DD_APP_KEY" if creds.api_key else "DD_API_KEY"
            return f"{missing} is not set: Datadog needs both DD_API_KEY and DD_APP_KEY (or DD_ACCESS_TOKEN)"
        if creds.uses_token:
            who = "the access token"
        elif creds.api_key or creds.app_key:
            who = "the application key"
        else:
            who = "the credentials"
        if status == 401 or op == "validate":
            what = (
                "the access token is invalid or expired"
                if creds.uses_token
                else "the API key or application key is invalid or revoked"
            )
            if not (creds.uses_token or creds.api_key or creds.app_key):
                what = "no credentials were sent (DD_API_KEY + DD_APP_KEY, or DD_ACCESS_TOKEN)"
            return f"{what}, or {elsewhere}"
        permission = {
            "search": "audit_logs_read",
            "get_key": "api_keys_read",
            "revoke_key": "api_keys_delete",
        }
        perm = permission.get(op)
        if perm is None:
            return f"{who} lacks a permission this needs, or {elsewhere}"
        return f"{who} lacks {perm}, or {elsewhere}"

    def _rate_limited(self, info: RateLimitInfo, waits: int) -> RateLimited:
        name = f" ({clean(info.name, max_len=80)})" if info.name else ""
        return RateLimited(
            f"429 Too Many Requests from {self.host}{name}",
            status=429,
            reason=f"rate limited{name}",
            hint="the org's API rate limit is spent: wait a few minutes, narrow the window, or lower "
            "DDAUDIT_CONCURRENCY",
            retries=waits,
        )

    def _transport_error(self, exc: httpx.HTTPError) -> DatadogError:
        """A network-level failure → a retryable fault, or raised at once if retrying cannot help."""
        import httpx

        text = self._redact.cut(str(exc) or type(exc).__name__, 200)
        if _is_cert_error(exc):
            raise ConfigurationError(
                f"TLS certificate of {self.host} not trusted ({text})",
                hint="a gateway or TLS-inspecting proxy? set DDAUDIT_CA_BUNDLE to its CA bundle (PEM)",
            ) from None
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            raise ConfigurationError(
                f"cannot send the request to {display_url(self.base_url)} ({type(exc).__name__})",
                hint="check DDAUDIT_API_URL / DDAUDIT_PROXY and that the credentials are single-line",
            ) from None
        if isinstance(exc, httpx.ProxyError) and "407" in text:
            # The proxy wants credentials (an HTTPS CONNECT answered 407): asking again cannot help.
            raise AuthError(
                f"407 Proxy Authentication Required from the proxy {self._proxy_display or ''}".rstrip(),
                status=407,
                reason="proxy authentication required",
                hint="the proxy wants credentials: DDAUDIT_PROXY=http://user:password@host:port",
            ) from None
        if isinstance(exc, httpx.ProxyError):
            return ConnectionFailed(
                f"the proxy {self._proxy_display} failed: {text}",
                reason=f"proxy failed ({text})",
                hint="check DDAUDIT_PROXY",
            )
        if isinstance(exc, httpx.ConnectError):
            return ConnectionFailed(
                f"cannot connect to {self.host}: {text}",
                reason=f"cannot connect ({text})",
                hint="check the network, DD_SITE / DDAUDIT_API_URL, and DDAUDIT_PROXY",
            )
        if isinstance(exc, httpx.DecodingError):
            return BadResponse(f"undecodable response from {self.host}: {text}", reason="undecodable body")
        return ConnectionFailed(
            f"connection to {self.host} failed: {text}",
            reason=f"connection failed ({type(exc).__name__})",
        )


# -- helpers --------------------------------------------------------------------------------------


def _ssl_context(verify: str | bool | ssl.SSLContext) -> bool | ssl.SSLContext:
    """A CA-bundle path becomes an SSLContext (httpx deprecates string paths)."""
    if not isinstance(verify, str):
        return verify
    path = os.path.expanduser(verify)
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigurationError(
            f"CA bundle {path} cannot be used ({why})",
            hint="DDAUDIT_CA_BUNDLE must name a PEM file or a directory of certificates",
        ) from None


def _is_cert_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cur):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


class _Links(msgspec.Struct):
    links: dict[str, Any] | None = None


_links_decoder = msgspec.json.Decoder(_Links)


def _cursor_from_links(body: bytes) -> tuple[str | None, bool]:
    """(`page[cursor]` of `links.next`, whether a `links.next` was given that has none)."""
    try:
        links = _links_decoder.decode(body).links
    except (msgspec.DecodeError, RecursionError):
        return None, False
    nxt = links.get("next") if isinstance(links, dict) else None
    if not isinstance(nxt, str) or not nxt.strip():
        return None, False
    try:
        params = parse_qs(urlsplit(nxt.strip()).query)
    except ValueError:
        return None, True
    cursor = next((v for v in params.get("page[cursor]", []) if v), None)
    return cursor, cursor is None


def _json_or_none(body: bytes) -> Any:
    if not body or not body.strip():
        return None
    return msgspec.json.decode(body)


def _check_key_id(key_id: str) -> str:
    """The key's id (a UUID), refusing the key's secret: it must not travel in a URL or a message."""
    key_id = (key_id or "").strip()
    if not key_id:
        raise BadRequest(
            "no API key id given", hint="pass the key's id (a UUID), e.g. from @metadata.api_key.id"
        )
    if len(key_id) in (32, 40) and all(c in "0123456789abcdefABCDEF" for c in key_id):
        raise BadRequest(
            "that looks like an API key itself (hex secret), not its id",
            hint="pass the key's id (a UUID, shown as @metadata.api_key.id), never the key",
        )
    return key_id
