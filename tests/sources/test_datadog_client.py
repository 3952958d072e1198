"""DatadogClient: sites, headers, gateways, errors, keys, validation, and that no secret ever leaks.

Scripted `httpx.MockTransport` handlers only; sleeps are recorded, never slept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ddaudit_tui import __version__
from ddaudit_tui.sources.api_keys import ApiKeyInfo, parse_api_key
from ddaudit_tui.sources.base import Source
from ddaudit_tui.sources.datadog import (
    SITES,
    AuthError,
    BadRequest,
    BadResponse,
    ConfigurationError,
    ConnectionFailed,
    Credentials,
    DatadogClient,
    DatadogError,
    NotFound,
    RateLimited,
    Timeout,
    api_base_url,
    ui_base_url,
)
from ddaudit_tui.sources.datadog_errors import Redactor, error_details
from ddaudit_tui.sources.ratelimit import RateLimitInfo, backoff_s
from ddaudit_tui.sources.sites import join_url, normalize_site
from ddaudit_tui.timeutil import Window, parse_instant

API_KEY = "0123456789abcdef0123456789abcdef"  # 32 hex, the shape of a real API key
APP_KEY = "fedcba9876543210fedcba9876543210fedcba98"  # 40 hex, an application key
TOKEN = "ddat_tok3n-S3cr3t.value_thatisverylong"
PROXY_PASSWORD = "pr0xyPa55w0rd"
SECRETS = (API_KEY, APP_KEY, TOKEN, PROXY_PASSWORD)
KEY_ID = "9286a10e-fe08-48ba-9884-8e26e7e67695"
WINDOW = Window(parse_instant("2026-07-31T00:00:00Z"), parse_instant("2026-07-31T12:00:00Z"))

# datadog-api.md §1.2, every row: (DD_SITE, UI host, API base URL).
SITE_TABLE = [
    ("datadoghq.com", "app.datadoghq.com", "https://api.datadoghq.com"),
    ("us3.datadoghq.com", "us3.datadoghq.com", "https://api.us3.datadoghq.com"),
    ("us5.datadoghq.com", "us5.datadoghq.com", "https://api.us5.datadoghq.com"),
    ("datadoghq.eu", "app.datadoghq.eu", "https://api.datadoghq.eu"),
    ("ap1.datadoghq.com", "ap1.datadoghq.com", "https://api.ap1.datadoghq.com"),
    ("ap2.datadoghq.com", "ap2.datadoghq.com", "https://api.ap2.datadoghq.com"),
    ("uk1.datadoghq.com", "uk1.datadoghq.com", "https://api.uk1.datadoghq.com"),
    ("ddog-gov.com", "app.ddog-gov.com", "https://api.ddog-gov.com"),
    ("us2.ddog-gov.com", "us2.ddog-gov.com", "https://api.us2.ddog-gov.com"),
]

# datadog-api.md §3.4, GET one, verbatim (recorded 2025-09-08; the secret scrubbed to x… by Datadog).
RECORDED_GET_API_KEY = '{"data":{"type":"api_keys","attributes":{"created_at":"2025-09-08T09:24:42.999351+00:00","key":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","last4":"xxxx","modified_at":"2025-09-08T09:24:42.999351+00:00","remote_config_read_enabled":true,"category":"default","name":"Test-Get_API_key_returns_OK_response-1757323482","date_last_used":null,"used_in_last_24_hours":false,"last_used_date":{"timestamp":null,"description":"Timestamp of when this key was last used in the past ninety (90) days, null if no recent usage"}},"relationships":{"created_by":{"data":{"type":"users","id":"9919ec9b-ebc7-49ee-8dc8-03626e717cca"}},"modified_by":{"data":{"type":"users","id":"9919ec9b-ebc7-49ee-8dc8-03626e717cca"}},"leak_information":{"data":null}},"id":"9286a10e-fe08-48ba-9884-8e26e7e67695"}}'  # noqa: E501


class Recorder:
    """Records requests; answers with `respond(request, n)` (n = 1-based request count)."""

    def __init__(self, respond: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request, len(self.requests))


class Sleeps:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


def client_for(
    respond: Callable[[httpx.Request, int], httpx.Response],
    credentials: Credentials | None = None,
    **kwargs: Any,
) -> tuple[DatadogClient, Recorder, Sleeps]:
    rec = Recorder(respond)
    sleeps = Sleeps()
    client = DatadogClient(
        credentials or Credentials(api_key=API_KEY, app_key=APP_KEY),
        transport=httpx.MockTransport(rec),
        sleep=sleeps,
        **kwargs,
    )
    return client, rec, sleeps


def empty_page(request: httpx.Request, n: int) -> httpx.Response:
    return httpx.Response(200, json={"data": []})


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret leaked into: {text!r}"


# -- sites ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("site", "ui_host", "api"), SITE_TABLE)
def test_every_documented_site(site: str, ui_host: str, api: str) -> None:
    assert SITES[site] == api
    assert api_base_url(site) == api
    assert ui_base_url(site) == f"https://{ui_host}"
    assert DatadogClient(Credentials(API_KEY, APP_KEY), site=site).base_url == api


def test_sites_table_has_exactly_the_documented_sites() -> None:
    assert set(SITES) == {row[0] for row in SITE_TABLE}


@pytest.mark.parametrize(
    ("typed", "site"),
    [
        ("https://app.datadoghq.eu/", "datadoghq.eu"),
        ("api.datadoghq.com", "datadoghq.com"),
        ("US5.datadoghq.com", "us5.datadoghq.com"),
        (None, "datadoghq.com"),
        ("us7.datadoghq.com", "us7.datadoghq.com"),  # a future region follows the api.<site> rule
    ],
)
def test_site_normalisation(typed: str | None, site: str) -> None:
    assert normalize_site(typed) == site


def test_unknown_site_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown Datadog site 'datadoghq.con'"):
        DatadogClient(Credentials(API_KEY, APP_KEY), site="datadoghq.con")


def test_base_url_override_and_path_joining() -> None:
    assert api_base_url("datadoghq.eu", "https://gateway.corp/datadog/") == "https://gateway.corp/datadog"
    assert join_url("https://gateway.corp/datadog", "/api/v2/x") == "https://gateway.corp/datadog/api/v2/x"
    assert join_url("https://api.datadoghq.com", "api/v2/x") == "https://api.datadoghq.com/api/v2/x"
    with pytest.raises(ConfigurationError):
        api_base_url(None, "gateway.corp/datadog")


# -- requests -------------------------------------------------------------------------------------


async def test_key_headers_user_agent_and_body() -> None:
    client, rec, _ = client_for(empty_page)
    async with client:
        await client.fetch("@evt.name:Request", WINDOW)
    (request,) = rec.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.datadoghq.com/api/v2/audit/events/search"
    assert request.headers["DD-API-KEY"] == API_KEY
    assert request.headers["DD-APPLICATION-KEY"] == APP_KEY
    assert "authorization" not in request.headers
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"ddaudit/{__version__}"
    assert json.loads(request.content) == {
        "filter": {
            "query": "@evt.name:Request",
            "from": "2026-07-31T00:00:00.000Z",
            "to": "2026-07-31T12:00:00.000Z",
        },
        "page": {"limit": 1000},
        "sort": "-timestamp",
    }


async def test_bearer_token_wins_over_keys() -> None:
    creds = Credentials(api_key=API_KEY, app_key=APP_KEY, access_token=TOKEN)
    client, rec, _ = client_for(empty_page, creds)
    async with client:
        await client.fetch("*", WINDOW)
    headers = rec.requests[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert "dd-api-key" not in headers and "dd-application-key" not in headers


async def test_keys_are_stripped_of_trailing_newlines() -> None:
    client, rec, _ = client_for(empty_page, Credentials(api_key=API_KEY + "\n", app_key=" " + APP_KEY))
    async with client:
        await client.fetch("*", WINDOW)
    assert rec.requests[0].headers["dd-api-key"] == API_KEY
    assert rec.requests[0].headers["dd-application-key"] == APP_KEY


async def test_gateway_base_url_with_path_prefix_and_label() -> None:
    def respond(request: httpx.Request, n: int) -> httpx.Response:
        if "api_keys" in request.url.path:
            return httpx.Response(404, json={"errors": ["API key not found"]})
        return httpx.Response(200, json={"data": []})

    client, rec, _ = client_for(
        respond,
        Credentials(access_token=TOKEN),
        base_url="https://gateway.corp:8443/datadog/",
        site="datadoghq.eu",
    )
    async with client:
        await client.fetch("*", WINDOW)
        await client.get_api_key(KEY_ID)
    assert str(rec.requests[0].url) == "https://gateway.corp:8443/datadog/api/v2/audit/events/search"
    assert rec.requests[1].url.path == f"/datadog/api/v2/api_keys/{KEY_ID}"
    assert client.label == "gateway.corp:8443"
    assert client.ui_url == "https://app.datadoghq.eu"


def test_label_defaults_to_the_site() -> None:
    assert DatadogClient(Credentials(API_KEY, APP_KEY), site="datadoghq.eu").label == "datadoghq.eu"
    assert DatadogClient(Credentials(API_KEY, APP_KEY), label="demo").label == "demo"


def test_client_is_a_source() -> None:
    client = DatadogClient(Credentials(API_KEY, APP_KEY))
    source: Source = client
    assert source.default_window() is None


def test_proxy_and_ca_bundle_reach_httpx(tmp_path: Any) -> None:
    proxy = f"http://alice:{PROXY_PASSWORD}@proxy.corp:3128"
    client = DatadogClient(Credentials(API_KEY, APP_KEY), proxy=proxy)
    mounted = [t for t in client._http._mounts.values() if t is not None]
    assert mounted, "the proxy must be mounted on the httpx client"
    assert_no_secret(repr(client))
    # A CA bundle path becomes an SSL context; a missing one is a clear configuration error.
    with pytest.raises(ConfigurationError, match="CA bundle .*missing.pem cannot be used"):
        DatadogClient(Credentials(API_KEY, APP_KEY), verify=str(tmp_path / "missing.pem"))
    capath = tmp_path / "certs"
    capath.mkdir()
    DatadogClient(Credentials(API_KEY, APP_KEY), verify=str(capath))


def test_invalid_proxy_url_is_a_configuration_error_without_the_password() -> None:
    with pytest.raises(ConfigurationError) as info:
        DatadogClient(Credentials(API_KEY, APP_KEY), proxy=f"ftp://bob:{PROXY_PASSWORD}@proxy.corp")
    assert_no_secret(str(info.value))


async def test_search_page_low_level() -> None:
    client, rec, _ = client_for(
        lambda r, n: httpx.Response(
            200,
            json={
                "data": [],
                "meta": {"page": {"after": "abc"}, "status": "done", "request_id": "r1", "elapsed": 12},
            },
        )
    )
    async with client:
        page = await client.search_page("*", WINDOW, cursor="prev", limit=10, sort="timestamp")
    body = json.loads(rec.requests[0].content)
    assert body["page"] == {"limit": 10, "cursor": "prev"} and body["sort"] == "timestamp"
    assert page.cursor == "abc" and page.request_id == "r1" and page.elapsed_ms == 12 and not page.timed_out
    with pytest.raises(ConfigurationError):
        await client.search_page("*", WINDOW, limit=1001)


async def test_count_exists_sends_limit_1_and_caches() -> None:
    def respond(request: httpx.Request, n: int) -> httpx.Response:
        q = json.loads(request.content)["filter"]["query"]
        data = (
            []
            if "Romania" in q
            else [{"id": "x", "type": "audit", "attributes": {"timestamp": "2026-07-31T01:00:00.000Z"}}]
        )
        return httpx.Response(200, json={"data": data, "meta": {"page": {"after": "c"}}})

    client, rec, _ = client_for(respond)
    async with client:
        assert await client.count_exists("@network.client.geoip.country.name:France", WINDOW) is True
        assert await client.count_exists('@network.client.geoip.country.name:"Romania"', WINDOW) is False
        assert await client.count_exists('@network.client.geoip.country.name:"Romania"', WINDOW) is False
    assert len(rec.requests) == 2
    assert all(json.loads(r.content)["page"] == {"limit": 1} for r in rec.requests)


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"errors":["Bad Request"]}', ["Bad Request"]),
        (b'{"errors":[{"status":"400","title":"Bad Request"}]}', ["Bad Request"]),
        (
            b'{"errors":[{"title":"Generic Error","detail":"query: unexpected token"}]}',
            ["query: unexpected token"],
        ),
        (b"", []),
        (b"   ", []),
        (b"<html><body>502 Bad Gateway</body></html>", []),
        (b"upstream connect error", ["upstream connect error"]),
        (b'{"message":"nope"}', ["nope"]),
        (b'{"errors":[null, 3, {"code":"x"}]}', ["3", "x"]),
    ],
)
def test_error_body_shapes(body: bytes, expected: list[str]) -> None:
    assert error_details(body) == expected


async def test_400_is_not_retried_and_carries_the_server_detail() -> None:
    client, rec, sleeps = client_for(
        lambda r, n: httpx.Response(
            400,
            json={"errors": [{"title": "Bad Request", "detail": "Invalid query: unbalanced parenthesis"}]},
            headers={"content-type": "text/plain"},  # wrong content type, JSON body: still read
        )
    )
    async with client:
        with pytest.raises(BadRequest) as info:
            await client.fetch("(a", WINDOW)
    assert len(rec.requests) == 1 and sleeps.sleeps == []
    assert str(info.value) == (
        "400 Bad Request from api.datadoghq.com (Invalid query: unbalanced parenthesis): "
        "Datadog rejected the request: check the query syntax"
    )


async def test_401_with_a_token_hints_at_expiry() -> None:
    client, _, _ = client_for(lambda r, n: httpx.Response(401, content=b""), Credentials(access_token=TOKEN))
    async with client:
        with pytest.raises(
            AuthError, match="401 Unauthorized from api.datadoghq.com: the access token is invalid or expired"
        ):
            await client.fetch("*", WINDOW)


async def test_redirect_is_not_followed_and_is_an_auth_error() -> None:
    client, rec, _ = client_for(
        lambda r, n: httpx.Response(302, headers={"location": "https://sso.corp/login?next=x"}),
        base_url="https://gateway.corp/datadog",
    )
    async with client:
        with pytest.raises(AuthError) as info:
            await client.fetch("*", WINDOW)
    assert len(rec.requests) == 1
    assert "302 Found from gateway.corp to sso.corp" in str(info.value)


async def test_html_page_with_200_is_not_retried() -> None:
    client, rec, sleeps = client_for(
        lambda r, n: httpx.Response(200, text="<html>Sign in</html>", headers={"content-type": "text/html"})
    )
    async with client:
        with pytest.raises(BadResponse, match="web page instead of JSON"):
            await client.fetch("*", WINDOW)
    assert len(rec.requests) == 1 and sleeps.sleeps == []


async def test_timeouts_and_connection_errors_are_retried_then_reported() -> None:
    def timeout(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, rec, sleeps = client_for(timeout, max_retries=3, timeout_s=7)
    async with client:
        with pytest.raises(Timeout) as info:
            await client.fetch("*", WINDOW)
    assert len(rec.requests) == 4 and sleeps.sleeps == [1, 2, 4]
    assert str(info.value).startswith("no answer from api.datadoghq.com within 7 s after 3 retries")

    def refused(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(200, json={"data": []})

    client, rec, sleeps = client_for(refused)
    async with client:
        result = await client.fetch("*", WINDOW)
    assert result.complete and len(rec.requests) == 2 and sleeps.sleeps == [1]


async def test_certificate_errors_are_not_retried_and_point_at_the_ca_bundle() -> None:
    def bad_cert(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ConnectError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request
        )

    client, rec, _ = client_for(bad_cert)
    async with client:
        with pytest.raises(ConfigurationError, match="DDAUDIT_CA_BUNDLE"):
            await client.fetch("*", WINDOW)
    assert len(rec.requests) == 1


async def test_a_proxy_asking_for_credentials_is_an_auth_error_at_once() -> None:
    """Issue 13 item 27: an HTTPS proxy's CONNECT answered 407 was retried 5 times (~31 s) and exited 1."""

    def proxy_407(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ProxyError("407 Proxy Authentication Required", request=request)

    client, rec, sleeps = client_for(proxy_407)
    async with client:
        with pytest.raises(AuthError, match="407") as caught:
            await client.fetch("*", WINDOW)
    assert len(rec.requests) == 1 and sleeps.sleeps == []
    assert "DDAUDIT_PROXY" in str(caught.value.hint)


async def test_rate_limit_waits_are_bounded() -> None:
    client, rec, sleeps = client_for(
        lambda r, n: httpx.Response(
            429, headers={"x-ratelimit-reset": "1", "x-ratelimit-name": "audit_search"}
        ),
        max_rate_limit_waits=3,
    )
    async with client:
        with pytest.raises(RateLimited) as info:
            await client.search_page("*", WINDOW)
    assert len(rec.requests) == 4 and len(sleeps.sleeps) == 3
    assert "429 Too Many Requests from api.datadoghq.com (audit_search) after 3 retries" in str(info.value)


def test_rate_limit_headers_and_backoff() -> None:
    info = RateLimitInfo.from_headers(
        {"X-RateLimit-Remaining": "0", "x-ratelimit-reset": "3", "X-RATELIMIT-PERIOD": "10"}
    )
    assert info.exhausted and info.reset_s == 3 and info.period_s == 10
    assert RateLimitInfo.from_headers({"x-ratelimit-reset": "soon"}).reset_s is None
    assert [backoff_s(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_a_429_holds_back_the_other_slices_too() -> None:
    # Two slices. Slice A's first request gets a 429 (reset 5 s); slice B's first page is answered just
    # after that, with a cursor: B's second page must wait for A's reset too (one limiter per client).
    # The clock stands still and sleeping takes a while (many loop turns), so B's wait can only come
    # from the shared block, not from time having passed.
    window = Window(parse_instant("2026-07-01T00:00:00Z"), parse_instant("2026-07-03T00:00:00Z"))
    slice_a, slice_b = window.split(2)
    sleeps: list[float] = []
    log: list[tuple[str, str | None]] = []
    a_limited = asyncio.Event()

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        for _ in range(50):
            await asyncio.sleep(0)

    async def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        which = "A" if parse_instant(body["filter"]["from"]) == slice_a.start else "B"
        cursor = body["page"].get("cursor")
        newest_first = body["sort"] == "-timestamp"
        if newest_first:
            log.append((which, cursor))
        if which == "A" and newest_first and log.count(("A", None)) == 1:
            a_limited.set()
            return httpx.Response(429, content=b"", headers={"x-ratelimit-reset": "5"})
        if which == "B" and cursor is None:
            await a_limited.wait()
            for _ in range(5):  # let the client take the 429 in before B's page lands
                await asyncio.sleep(0)
            return page_with_cursor(slice_b)
        return httpx.Response(200, json={"data": []})

    client = DatadogClient(
        Credentials(API_KEY, APP_KEY),
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        clock=lambda: 0.0,
        concurrency=2,
    )
    async with client:
        result = await client.fetch("*", window)
    assert result.complete
    assert ("B", "b-next") in log and log.count(("A", None)) == 2
    assert len(sleeps) == 2 and all(5 <= s <= 5.5 for s in sleeps)  # A's retry and B's page 2 both waited


def page_with_cursor(window: Window) -> httpx.Response:
    item = {
        "id": "b1",
        "type": "audit",
        "attributes": {"timestamp": "2026-07-02T12:00:00.000Z", "attributes": {}},
    }
    return httpx.Response(200, json={"data": [item], "meta": {"page": {"after": "b-next"}}})


# -- API keys -------------------------------------------------------------------------------------


async def test_get_api_key_parses_the_recorded_response_without_the_secret() -> None:
    client, rec, _ = client_for(
        lambda r, n: httpx.Response(
            200, text=RECORDED_GET_API_KEY, headers={"content-type": "application/json"}
        )
    )
    async with client:
        info = await client.get_api_key(KEY_ID)
    request = rec.requests[0]
    assert request.method == "GET" and request.url.path == f"/api/v2/api_keys/{KEY_ID}"
    assert request.url.params["include"] == "created_by"
    assert isinstance(info, ApiKeyInfo)
    assert info.id == KEY_ID
    assert info.name == "Test-Get_API_key_returns_OK_response-1757323482"
    assert info.created_at == "2025-09-08T09:24:42.999351+00:00"
    assert info.created_at_ms == 1757323482999
    assert info.last4 == "xxxx" and info.category == "default" and info.remote_config_read_enabled is True
    assert info.date_last_used is None and info.used_in_last_24_hours is False
    assert info.last_used_timestamp is None and info.last_used_ms is None
    assert info.created_by is not None and info.created_by.id == "9919ec9b-ebc7-49ee-8dc8-03626e717cca"
    assert info.leaked is False
    # The secret is nowhere: not a field, not in the dump, not in the repr.
    assert not hasattr(info, "key")
    dumped = info.model_dump_json()
    assert "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in dumped and '"key"' not in dumped
    assert "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in repr(info)


def test_api_key_with_included_creator_and_leak() -> None:
    doc = json.loads(RECORDED_GET_API_KEY)
    doc["data"]["attributes"]["key"] = API_KEY
    doc["data"]["attributes"]["last_used_date"]["timestamp"] = "2026-07-30T10:00:00+00:00"
    doc["data"]["attributes"]["date_last_used"] = "2026-07-29T10:00:00+00:00"
    doc["data"]["attributes"]["surprise"] = {"new": "field"}
    doc["data"]["relationships"]["leak_information"] = {"data": {"type": "leaked_keys", "id": "leak-1"}}
    doc["included"] = [
        {
            "type": "users",
            "id": "9919ec9b-ebc7-49ee-8dc8-03626e717cca",
            "attributes": {"email": "alice@example.com", "name": "Alice", "handle": "alice@example.com"},
        },
        {
            "type": "leaked_keys",
            "id": "leak-1",
            "attributes": {"date": "2026-07-30T11:00:00Z", "leak_source": "github"},
        },
    ]
    info = parse_api_key(doc)
    assert info is not None
    assert info.created_by is not None and info.created_by.email == "alice@example.com"
    assert info.created_by.name == "Alice" and info.created_by.display == "alice@example.com"
    assert info.leaked is True and info.leak_source == "github" and info.leak_date == "2026-07-30T11:00:00Z"
    assert info.last_used_ms == parse_instant("2026-07-30T10:00:00Z")
    assert_no_secret(info.model_dump_json() + repr(info))
    # Even validating a raw attributes dict cannot keep the secret.
    assert "key" not in ApiKeyInfo.model_validate({"id": "k", "key": API_KEY}).model_dump()


async def test_get_api_key_404_is_none() -> None:
    client, _, _ = client_for(lambda r, n: httpx.Response(404, json={"errors": ["API key not found"]}))
    async with client:
        assert await client.get_api_key("invalidId") is None


async def test_get_api_key_403_names_api_keys_read() -> None:
    client, _, _ = client_for(lambda r, n: httpx.Response(403, json={"errors": ["Forbidden"]}))
    async with client:
        with pytest.raises(AuthError, match="lacks api_keys_read"):
            await client.get_api_key(KEY_ID)


async def test_revoke_204() -> None:
    client, rec, _ = client_for(lambda r, n: httpx.Response(204))
    async with client:
        assert await client.revoke_api_key(KEY_ID) is None
    assert rec.requests[0].method == "DELETE"
    assert rec.requests[0].url.path == f"/api/v2/api_keys/{KEY_ID}"


async def test_revoke_404_says_already_revoked() -> None:
    client, rec, sleeps = client_for(lambda r, n: httpx.Response(404, json={"errors": ["API key not found"]}))
    async with client:
        with pytest.raises(NotFound) as info:
            await client.revoke_api_key(KEY_ID)
    assert str(info.value).startswith(f"API key {KEY_ID} not found (already revoked?)")
    assert info.value.status == 404 and len(rec.requests) == 1 and sleeps.sleeps == []


async def test_revoke_403_names_api_keys_delete() -> None:
    client, _, _ = client_for(lambda r, n: httpx.Response(403, json={"errors": [{"title": "Forbidden"}]}))
    async with client:
        with pytest.raises(AuthError) as info:
            await client.revoke_api_key(KEY_ID)
    assert "api_keys_delete" in str(info.value)


async def test_key_operations_refuse_a_key_secret_as_id() -> None:
    client, rec, _ = client_for(lambda r, n: httpx.Response(204))
    async with client:
        for op in (client.revoke_api_key, client.get_api_key):
            with pytest.raises(BadRequest) as info:
                await op(API_KEY)
            assert_no_secret(str(info.value))
    assert rec.requests == []


async def test_key_id_is_escaped_in_the_path() -> None:
    client, rec, _ = client_for(lambda r, n: httpx.Response(404, json={"errors": ["API key not found"]}))
    async with client:
        assert await client.get_api_key("../../v1/validate") is None
    assert rec.requests[0].url.raw_path.startswith(b"/api/v2/api_keys/..%2F..%2Fv1%2Fvalidate")


# -- validation -----------------------------------------------------------------------------------


async def test_validate_ok() -> None:
    client, rec, _ = client_for(lambda r, n: httpx.Response(200, json={"status": "ok"}))
    async with client:
        await client.validate()
    assert [r.url.path for r in rec.requests] == ["/api/v2/validate_keys"]


async def test_validate_403_is_an_auth_error() -> None:
    client, rec, _ = client_for(
        lambda r, n: httpx.Response(403, json={"errors": ["Forbidden"]}), site="us5.datadoghq.com"
    )
    async with client:
        with pytest.raises(AuthError) as info:
            await client.validate()
    assert len(rec.requests) == 1
    assert "DD_SITE=us5.datadoghq.com" in str(info.value)


async def test_validate_falls_back_to_v1_on_404() -> None:
    def respond(request: httpx.Request, n: int) -> httpx.Response:
        if request.url.path == "/api/v2/validate_keys":
            return httpx.Response(404, json={"errors": ["Not found"]})
        return httpx.Response(200, json={"valid": True})

    client, rec, _ = client_for(respond)
    async with client:
        await client.validate()
    assert [r.url.path for r in rec.requests] == ["/api/v2/validate_keys", "/api/v1/validate"]

    def refused(request: httpx.Request, n: int) -> httpx.Response:
        if request.url.path == "/api/v2/validate_keys":
            return httpx.Response(404)
        return httpx.Response(403, json={"errors": ["API key required"]})  # recorded (§1.11)

    client, rec, _ = client_for(refused)
    async with client:
        with pytest.raises(AuthError, match=r"403 Forbidden from api.datadoghq.com \(API key required\)"):
            await client.validate()


# -- secrets --------------------------------------------------------------------------------------


def test_credentials_repr_masks_everything() -> None:
    creds = Credentials(api_key=API_KEY, app_key=APP_KEY, access_token=TOKEN)
    text = repr(creds) + str(creds) + f"{creds}" + repr([creds])
    assert_no_secret(text)
    assert repr(creds) == "Credentials(api_key=****cdef, app_key=****ba98, access_token=****long)"
    assert repr(Credentials(api_key="short")) == "Credentials(api_key=****, app_key=None, access_token=None)"


def test_redactor() -> None:
    redact = Redactor([API_KEY, TOKEN])
    text = redact(
        f"key {API_KEY} token {TOKEN} Authorization: Bearer abc.def DD-APPLICATION-KEY: {APP_KEY} "
        f"url https://u:{PROXY_PASSWORD}@h/x"
    )
    assert_no_secret(text)
    assert "https://****@h/x" in text


def _leaky_scenarios() -> list[Callable[[httpx.Request, int], httpx.Response]]:
    echo = f"bad credentials DD-API-KEY={API_KEY} DD-APPLICATION-KEY={APP_KEY} token={TOKEN}"

    def echo_403(r: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(403, json={"errors": [echo]})

    def echo_400(r: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(400, json={"errors": [{"title": "Bad", "detail": echo}]})

    def echo_503(r: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(503, text=echo)

    def echo_text_404(r: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(404, text=echo, headers={"content-type": "text/plain"})

    def raise_connect(r: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ConnectError(
            f"proxy said no to {echo} via http://alice:{PROXY_PASSWORD}@proxy", request=r
        )

    def raise_proxy(r: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ProxyError(f"407 for {echo}", request=r)

    def truncated_echo(r: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(200, content=f'{{"data":[{{"id":"{API_KEY}","x":"{TOKEN}'.encode())

    def meta_warning(r: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(
            200, json={"data": [], "meta": {"status": "timeout", "warnings": [{"code": "c", "title": echo}]}}
        )

    return [
        echo_403,
        echo_400,
        echo_503,
        echo_text_404,
        raise_connect,
        raise_proxy,
        truncated_echo,
        meta_warning,
    ]


@pytest.mark.parametrize("respond", _leaky_scenarios())
@pytest.mark.parametrize("creds", ["keys", "token"])
async def test_no_secret_in_any_exception_or_warning(
    respond: Callable, creds: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = (
        Credentials(api_key=API_KEY, app_key=APP_KEY) if creds == "keys" else Credentials(access_token=TOKEN)
    )
    client, _, _ = client_for(
        respond,
        credentials,
        max_retries=1,
        proxy=f"http://alice:{PROXY_PASSWORD}@proxy.corp:3128",
        base_url=f"https://svc:{PROXY_PASSWORD}@gateway.corp/datadog",
    )
    texts = [repr(client), client.label]
    async with client:
        for call in (
            lambda: client.fetch("*", WINDOW),
            lambda: client.validate(),
            lambda: client.get_api_key(KEY_ID),
            lambda: client.revoke_api_key(KEY_ID),
        ):
            try:
                result = await call()
            except DatadogError as exc:
                texts += [str(exc), repr(exc), exc.hint, exc.reason, exc.message, *map(str, exc.args)]
            else:
                if result is not None and hasattr(result, "warnings"):
                    texts += result.warnings
    assert len(texts) > 2
    for text in texts:
        assert_no_secret(text)
    assert_no_secret(caplog.text)


def test_client_repr_has_no_secret() -> None:
    client = DatadogClient(Credentials(api_key=API_KEY, app_key=APP_KEY, access_token=TOKEN))
    assert_no_secret(repr(client) + str(client))


async def test_connection_failed_is_reported_after_retries() -> None:
    def refused(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, rec, _ = client_for(refused, max_retries=2)
    async with client:
        with pytest.raises(ConnectionFailed, match="cannot connect to api.datadoghq.com"):
            await client.search_page("*", WINDOW)
    assert len(rec.requests) == 3


def test_ssl_context_is_accepted_as_verify() -> None:
    DatadogClient(Credentials(API_KEY, APP_KEY), verify=ssl.create_default_context())


async def test_a_missing_application_key_is_named() -> None:
    client, _, _ = client_for(
        lambda r, n: httpx.Response(403, json={"errors": ["Forbidden"]}), Credentials(api_key=API_KEY)
    )
    async with client:
        with pytest.raises(AuthError, match="DD_APP_KEY is not set"):
            await client.fetch("*", WINDOW)


async def test_gateway_userinfo_becomes_basic_auth_and_leaves_the_url() -> None:
    client, rec, _ = client_for(
        empty_page, Credentials(), base_url=f"https://svc:{PROXY_PASSWORD}@gateway.corp/datadog"
    )
    async with client:
        await client.fetch("*", WINDOW)
    request = rec.requests[0]
    assert str(request.url) == "https://gateway.corp/datadog/api/v2/audit/events/search"
    assert request.headers["authorization"].startswith("Basic ")
    assert "dd-api-key" not in request.headers
    assert_no_secret(repr(client) + client.base_url)
    with pytest.raises(ConfigurationError, match="no query string"):
        api_base_url(None, "https://gateway.corp/datadog?tenant=a")
