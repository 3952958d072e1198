"""The fake Datadog API: paging, windows, auth, rate limits, faults, API keys, live data, loopback socket."""

from __future__ import annotations

import base64
import copy
import gc
import json
from typing import Any

import httpx
import msgspec
import pytest

from ddaudit_tui.demo import fake_datadog
from ddaudit_tui.demo.fake_api_keys import SCRUBBED_SECRET
from ddaudit_tui.demo.fake_datadog import (
    DEMO_API_KEY,
    DEMO_APP_KEY,
    DEMO_TOKEN,
    FakeCredentials,
    FakeDatadog,
    Fault,
    FaultPlan,
    RateLimit,
    parse_api_time,
)
from ddaudit_tui.demo.loopback import loopback, start_loopback
from ddaudit_tui.demo.org import PLANTED, LiveDemo, generate
from ddaudit_tui.events.decode import DecodeError, decode_item, decode_page, parse_timestamp
from ddaudit_tui.events.record import KIND_API, Event

END = 1_785_500_000_000
M, H, D = 60_000, 3_600_000, 86_400_000
SEARCH = "/api/v2/audit/events/search"
LIST = "/api/v2/audit/events"
WIDE = {"from": str(END - 90 * D), "to": str(END)}


class Clock:
    """A settable clock (seconds), so date math and rate-limit windows are deterministic."""

    def __init__(self, ms: int = END) -> None:
        self.now = ms / 1000

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def demo_items() -> list[dict]:
    return generate(seed=3, events=2500, end_ms=END)


@pytest.fixture
def items(demo_items: list[dict]) -> list[dict]:
    """A few hundred events, plus three sharing one timestamp (the id breaks the tie)."""
    out = copy.deepcopy(demo_items[:300])
    twin = out[150]
    for n in range(3):
        clone = copy.deepcopy(twin)
        clone["id"] = f"{twin['id'][:-2]}T{n}"
        out.append(clone)
    return out


def order(items: list[dict]) -> list[str]:
    """Ids in the fake's ascending order: (outer timestamp, id)."""
    return [
        i["id"] for i in sorted(items, key=lambda i: (parse_timestamp(i["attributes"]["timestamp"]), i["id"]))
    ]


def make(items: list[dict], **kwargs: Any) -> FakeDatadog:
    kwargs.setdefault("clock", Clock())
    return FakeDatadog(items, **kwargs)


async def page_all(
    client: httpx.AsyncClient, body: dict, get: bool = False
) -> tuple[list[str], list[httpx.Response]]:
    ids: list[str] = []
    responses = []
    body = copy.deepcopy(body)
    while True:
        if get:
            params = {"filter[query]": body["filter"].get("query", "*"), "filter[from]": body["filter"]["from"],
                      "filter[to]": body["filter"]["to"], "sort": body["sort"], "page[limit]": body["page"]["limit"]}  # fmt: skip
            if body["page"].get("cursor"):
                params["page[cursor]"] = body["page"]["cursor"]
            r = await client.get(LIST, params=params)
        else:
            r = await client.post(SEARCH, json=body)
        assert r.status_code == 200, r.text
        responses.append(r)
        doc = r.json()
        if not doc["data"]:
            return ids, responses
        ids += [e["id"] for e in doc["data"]]
        body["page"]["cursor"] = doc["meta"]["page"]["after"]


# -- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["timestamp", "-timestamp"])
@pytest.mark.parametrize("get", [False, True], ids=["POST", "GET"])
async def test_pages_yield_every_event_once_in_order(items: list[dict], sort: str, get: bool) -> None:
    fake = make(items)
    async with fake.client() as c:
        ids, responses = await page_all(
            c, {"filter": dict(WIDE), "page": {"limit": 50}, "sort": sort}, get=get
        )
    expected = order(items)
    assert ids == (expected if sort == "timestamp" else expected[::-1])
    assert len(responses) == 8  # 303 events: 7 pages of up to 50, then the terminal page
    assert responses[-1].content == b'{"data":[]}'
    assert len(responses[-2].json()["data"]) == 3 and responses[-2].json()["meta"]["page"]["after"]
    meta = responses[0].json()["meta"]
    assert meta["status"] == "done" and isinstance(meta["elapsed"], int) and meta["request_id"]
    cursor = meta["page"]["after"]
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert set(decoded) == {"after"}
    nxt = responses[0].json()["links"]["next"]
    assert nxt.startswith("https://api.datadoghq.com/api/v2/audit/events?") and "page%5Bcursor%5D=" in nxt


async def test_recorded_meta_style_has_only_the_cursor(items: list[dict]) -> None:
    fake = make(items, meta="recorded", log_limit=2)
    async with fake.client() as c:
        for _ in range(3):
            r = await c.post(SEARCH, json={"filter": dict(WIDE), "page": {"limit": 2}})
    assert set(r.json()) == {"data", "meta", "links"} and set(r.json()["meta"]) == {"page"}
    assert len(fake.requests) == 2 and fake.request_count == 3


async def test_served_items_are_the_stored_bytes_unchanged(items: list[dict]) -> None:
    fake = make(items)
    async with fake.client() as c:
        r = await c.post(SEARCH, json={"filter": dict(WIDE), "page": {"limit": 1000}, "sort": "timestamp"})
    raw = {e.id: e.raw for e in fake.events}
    doc = msgspec.json.decode(r.content, type=dict[str, Any])
    assert len(doc["data"]) == len(items)
    for served in doc["data"]:
        assert msgspec.json.encode(served) == raw[served["id"]]
    events, meta = decode_page(r.content)
    assert len(events) == len(items) and meta["page"]["after"]


async def test_defaults_limit_ten_newest_first_last_fifteen_minutes(items: list[dict]) -> None:
    newest = parse_timestamp(items[0]["attributes"]["timestamp"])
    fake = make(items, clock=Clock(newest + 5 * M))
    async with fake.client() as c:
        r = await c.post(SEARCH)
    data = r.json()["data"]
    in_window = [i for i in items if parse_timestamp(i["attributes"]["timestamp"]) >= newest + 5 * M - 15 * M]
    assert len(data) == min(10, len(in_window))
    assert [d["id"] for d in data] == order(in_window)[::-1][:10]


async def test_window_is_from_inclusive_to_exclusive(items: list[dict]) -> None:
    t = parse_timestamp(items[100]["attributes"]["timestamp"])
    same = {i["id"] for i in items if parse_timestamp(i["attributes"]["timestamp"]) == t}
    fake = make(items)
    async with fake.client() as c:
        at = await c.post(SEARCH, json={"filter": {"from": str(t), "to": str(t + 1)}, "page": {"limit": 100}})
        upto = await c.post(
            SEARCH, json={"filter": {"from": str(t - H), "to": str(t)}, "page": {"limit": 1000}}
        )
    assert {d["id"] for d in at.json()["data"]} == same
    assert not same & {d["id"] for d in upto.json()["data"]}


@pytest.mark.parametrize(
    "frm,to",
    [
        ("now-2h", "now"),
        ("2026-07-31T10:13:20Z", "2026-07-31T12:13:20.000Z"),
        (str(END - 2 * H), str(END)),
        (END - 2 * H, END),  # JSON numbers
        ("now-120m", "now+0s"),
    ],
)
async def test_time_formats_the_api_accepts(items: list[dict], frm: Any, to: Any) -> None:
    fake = make(items)
    expected = [i["id"] for i in items if END - 2 * H <= parse_timestamp(i["attributes"]["timestamp"]) < END]
    async with fake.client() as c:
        r = await c.post(SEARCH, json={"filter": {"from": frm, "to": to}, "page": {"limit": 1000}})
    assert r.status_code == 200
    assert sorted(d["id"] for d in r.json()["data"]) == sorted(expected)


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"from": "1h", "to": "now"}},  # bare duration: the pup bug (datadog-api.md §1.7)
        {"filter": {"from": "yesterday"}},
        {"filter": {"from": "now", "to": "now-1h"}},
        {"page": {"limit": 1001}},
        {"page": {"limit": 0}},
        {"page": {"limit": "ten"}},
        {"sort": "newest"},
        {"filter": {"query": "@evt.name:(Monitor"}},
        {"page": {"cursor": "not-a-cursor"}},
    ],
)
async def test_bad_requests_are_400_with_an_errors_list(items: list[dict], body: dict) -> None:
    fake = make(items)
    async with fake.client() as c:
        r = await c.post(SEARCH, json=body)
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors)


async def test_bad_get_parameters_and_page_limit_max(items: list[dict]) -> None:
    fake = make(items, page_limit_max=100)
    async with fake.client() as c:
        assert (await c.get(LIST, params={"page[limit]": "abc"})).status_code == 400
        assert (await c.get(LIST, params={"filter[from]": "1h"})).status_code == 400
        assert (await c.get(LIST, params={"page[limit]": "101"})).status_code == 400
        assert (await c.get(LIST, params={"page[limit]": "100"})).status_code == 200
        assert (await c.post(SEARCH, content=b"{not json")).status_code == 400
        assert (await c.get(SEARCH)).status_code == 405


def test_parse_api_time_date_math() -> None:
    now = END
    assert parse_api_time("now", now) == now
    assert parse_api_time("now-15m", now) == now - 15 * M
    assert parse_api_time("now-1d+2h", now) == now - D + 2 * H
    assert parse_api_time("now/d", now) == now - now % D
    assert parse_api_time("2026-07-31T12:13:20+00:00", now) == END


async def test_query_filter_uses_the_search_syntax(items: list[dict]) -> None:
    fake = make(items)
    async with fake.client() as c:
        r = await c.post(
            SEARCH,
            json={
                "filter": {**WIDE, "query": "@evt.name:Request -@http.method:GET"},
                "page": {"limit": 1000},
            },
        )
    data = r.json()["data"]
    expected = [i for i in items if i["attributes"]["attributes"].get("evt", {}).get("name") == "Request"
                and i["attributes"]["attributes"].get("http", {}).get("method") != "GET"]  # fmt: skip
    assert data and len(data) == len(expected)


async def test_cursor_position_survives_appended_events(items: list[dict], demo_items: list[dict]) -> None:
    older, newer = items[100:], items[:100]  # newest first: `newer` holds the most recent events
    fake = make(older)
    async with fake.client() as c:
        body = {"filter": dict(WIDE), "page": {"limit": 50}, "sort": "-timestamp"}
        first = (await c.post(SEARCH, json=body)).json()
        fake.add_events(newer)  # arrive between page 1 and page 2
        body["page"]["cursor"] = first["meta"]["page"]["after"]
        ids, _ = await page_all(c, body)
    all_ids = [d["id"] for d in first["data"]] + ids
    assert all_ids == order(older)[::-1]  # descending: the newcomers are all before the cursor

    fake = make(older)
    async with fake.client() as c:
        body = {"filter": dict(WIDE), "page": {"limit": 50}, "sort": "timestamp"}
        first = (await c.post(SEARCH, json=body)).json()
        fake.add_events(newer)
        body["page"]["cursor"] = first["meta"]["page"]["after"]
        ids, _ = await page_all(c, body)
    assert [d["id"] for d in first["data"]] + ids == order(items)  # ascending: they are picked up at the end


# -- auth ------------------------------------------------------------------------------------------------


async def test_auth_headers_and_bearer_tokens(items: list[dict]) -> None:
    fake = make(items)
    async with httpx.AsyncClient(transport=fake, base_url="https://api.datadoghq.com") as c:
        r = await c.post(SEARCH, json={})
        assert (r.status_code, r.json()) == (403, {"errors": ["Forbidden"]})
        r = await c.post(SEARCH, json={}, headers={"DD-API-KEY": DEMO_API_KEY, "DD-APPLICATION-KEY": "wrong"})
        assert r.status_code == 403
        r = await c.post(SEARCH, json={}, headers={"DD-API-KEY": DEMO_API_KEY})  # both keys are required
        assert r.status_code == 403
        r = await c.post(
            SEARCH, json={}, headers={"dd-api-key": DEMO_API_KEY, "dd-application-key": DEMO_APP_KEY}
        )
        assert r.status_code == 200
        r = await c.post(SEARCH, json={}, headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
        assert r.status_code == 200
        r = await c.post(SEARCH, json={}, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 403
        r = await c.get("/api/v2/validate_keys")
        assert (r.status_code, r.json()) == (401, {"errors": ["Unauthorized"]})
        r = await c.get("/api/v1/validate", headers={"DD-API-KEY": "bad"})
        assert (r.status_code, r.json()) == (403, {"errors": ["API key required"]})
        r = await c.get("/api/v1/validate", headers={"DD-API-KEY": DEMO_API_KEY})
        assert (r.status_code, r.json()) == (200, {"valid": True})
    async with fake.client() as c:
        assert (await c.get("/api/v2/validate_keys")).json() == {"status": "ok"}
        v2 = (await c.get("/api/v2/validate")).json()["data"]
        assert v2["type"] == "validate_v2" and v2["attributes"]["valid"] is True
    assert make(items, require_auth=False).handle("POST", SEARCH, {}, b"{}", "http://x").status == 200


async def test_missing_audit_logs_read_permission(items: list[dict]) -> None:
    fake = make(items, permissions={"api_keys_read"})
    async with fake.client() as c:
        r = await c.post(SEARCH, json={})
        assert r.status_code == 403 and r.json()["errors"] == ["Failed permission authorization checks"]
        assert (await c.get("/api/v2/validate_keys")).status_code == 200  # the keys themselves are fine
        assert (await c.delete(f"/api/v2/api_keys/{PLANTED.clean_key}")).status_code == 403


async def test_secrets_travel_only_in_headers(items: list[dict]) -> None:
    creds = FakeCredentials(api_key="a" * 32, app_key="b" * 40, tokens=())
    fake = make(items, credentials=creds)
    async with fake.client() as c:
        await page_all(c, {"filter": dict(WIDE), "page": {"limit": 100}, "sort": "timestamp"})
        await page_all(c, {"filter": dict(WIDE), "page": {"limit": 100}, "sort": "timestamp"}, get=True)
    assert len(fake.requests) == 10
    for req in fake.requests:
        assert (
            req.headers["dd-api-key"] == creds.api_key and req.headers["dd-application-key"] == creds.app_key
        )
        for secret in (creds.api_key, creds.app_key):
            assert secret not in req.url and secret.encode() not in req.body
    assert fake.requests[1].json()["page"]["cursor"] and fake.requests[6].params["page[cursor]"]


# -- rate limits ---------------------------------------------------------------------------------------------


async def test_rate_limit_headers_on_every_response_and_the_empty_429(items: list[dict]) -> None:
    clock = Clock()
    fake = make(items, clock=clock, rate_limit=RateLimit(limit=3, period_s=10, name="audit_logs_search"))
    async with fake.client() as c:
        seen = []
        for _ in range(3):
            r = await c.post(SEARCH, json={})
            assert r.status_code == 200
            seen.append(int(r.headers["x-ratelimit-remaining"]))
        assert seen == [2, 1, 0]
        assert r.headers["X-RateLimit-Limit"] == "3" and r.headers["X-RateLimit-Period"] == "10"
        assert (
            r.headers["X-RateLimit-Name"] == "audit_logs_search"
            and 1 <= int(r.headers["X-RateLimit-Reset"]) <= 10
        )
        r = await c.post(SEARCH, json={})
        assert r.status_code == 429 and r.content == b"" and r.headers["x-ratelimit-remaining"] == "0"
        assert "x-ratelimit-reset" in r.headers
        bad = await c.post(SEARCH, json={}, headers={"DD-API-KEY": "x"})  # 403s carry them too
        assert bad.status_code == 403 and "x-ratelimit-limit" in bad.headers
        clock.now += 10  # the next calendar-aligned period
        assert (await c.post(SEARCH, json={})).status_code == 200
        keys = await c.get(f"/api/v2/api_keys/{PLANTED.clean_key}")  # a separate budget
        assert keys.status_code == 200 and keys.headers["x-ratelimit-name"] != "audit_logs_search"


@pytest.mark.parametrize("mode", ["json", "no_headers"])
async def test_rate_limit_exhaustion_variants(items: list[dict], mode: str) -> None:
    fake = make(items, rate_limit=RateLimit(limit=1, period_s=60, on_exhausted=mode))
    async with fake.client() as c:
        await c.post(SEARCH, json={})
        r = await c.post(SEARCH, json={})
    assert r.status_code == 429
    if mode == "json":
        assert r.json() == {"errors": ["Too many requests"]} and "x-ratelimit-reset" in r.headers
    else:
        assert r.content == b"" and not any(h.startswith("x-ratelimit-") for h in r.headers)


# -- faults ---------------------------------------------------------------------------------------------------


async def test_scripted_429_variants(items: list[dict]) -> None:
    plan = FaultPlan(at={1: "429", 2: Fault("429", headers=False), 3: Fault("429", body="json", reset_s=7)})
    fake = make(items, faults=plan)
    async with fake.client() as c:
        r1, r2, r3, r4 = [await c.post(SEARCH, json={}) for _ in range(4)]
    assert r1.status_code == 429 and r1.content == b"" and r1.headers["x-ratelimit-remaining"] == "0"
    assert r2.status_code == 429 and "x-ratelimit-reset" not in r2.headers
    assert r3.json() == {"errors": ["Too many requests"]} and r3.headers["x-ratelimit-reset"] == "7"
    assert r4.status_code == 200
    assert [r.fault for r in fake.requests] == ["429", "429", "429", None]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors(items: list[dict], status: int) -> None:
    fake = make(items, faults=FaultPlan(at={1: str(status)}))
    async with fake.client() as c:
        r = await c.post(SEARCH, json={})
        ok = await c.post(SEARCH, json={})
    assert r.status_code == status and ok.status_code == 200
    if status == 502:
        assert r.headers["content-type"] == "text/html"
    else:
        assert r.json()["errors"]


async def test_timeout_and_reset_raise_transport_errors_in_process(items: list[dict]) -> None:
    fake = make(items, faults=FaultPlan(at={1: "timeout", 2: "reset"}))
    async with fake.client() as c:
        with pytest.raises(httpx.ReadTimeout):
            await c.post(SEARCH, json={})
        with pytest.raises(httpx.RemoteProtocolError):
            await c.post(SEARCH, json={})
        assert (await c.post(SEARCH, json={})).status_code == 200
    assert [r.status for r in fake.requests] == [None, None, 200]


async def test_truncated_body(items: list[dict]) -> None:
    fake = make(items, faults=FaultPlan(at={1: "truncated"}))
    async with fake.client() as c:
        r = await c.post(SEARCH, json={"filter": dict(WIDE), "page": {"limit": 100}})
    assert r.status_code == 200 and r.content.startswith(b'{"data":[')
    with pytest.raises(DecodeError, match="truncated"):
        decode_page(r.content)


async def test_partial_page_then_everything_still_arrives(items: list[dict]) -> None:
    fake = make(items, faults=FaultPlan(at={2: "partial"}))
    async with fake.client() as c:
        ids, responses = await page_all(c, {"filter": dict(WIDE), "page": {"limit": 50}, "sort": "timestamp"})
    meta = responses[1].json()["meta"]
    assert meta["status"] == "timeout" and meta["warnings"][0]["code"] and meta["page"]["after"]
    assert len(responses[1].json()["data"]) == 25
    assert ids == order(items)


async def test_duplicates_across_pages(items: list[dict]) -> None:
    fake = make(items, faults=FaultPlan(at={2: Fault("duplicate", overlap=4)}))
    async with fake.client() as c:
        ids, responses = await page_all(
            c, {"filter": dict(WIDE), "page": {"limit": 50}, "sort": "-timestamp"}
        )
    p1 = [d["id"] for d in responses[0].json()["data"]]
    p2 = [d["id"] for d in responses[1].json()["data"]]
    assert p2[:4] == p1[-4:]
    assert len(ids) == len(items) + 4 and list(dict.fromkeys(ids)) == order(items)[::-1]


async def test_short_page_keeps_its_cursor(items: list[dict]) -> None:
    fake = make(items, faults=FaultPlan(at={1: Fault("short_page", keep=0.2)}))
    async with fake.client() as c:
        ids, responses = await page_all(c, {"filter": dict(WIDE), "page": {"limit": 50}, "sort": "timestamp"})
    first = responses[0].json()
    assert len(first["data"]) == 10 and first["meta"]["page"]["after"]
    assert ids == order(items)  # a client that stopped on a short page would have lost 293 events


async def test_cursor_rejected_half_way(items: list[dict]) -> None:
    fake = make(items, faults=FaultPlan(at={1: "bad_cursor", 3: "bad_cursor"}))
    async with fake.client() as c:
        body = {"filter": dict(WIDE), "page": {"limit": 50}}
        assert (await c.post(SEARCH, json=body)).status_code == 200  # no cursor yet: nothing to reject
        r = await c.post(SEARCH, json=body)
        body["page"]["cursor"] = r.json()["meta"]["page"]["after"]
        bad = await c.post(SEARCH, json=body)
    assert (bad.status_code, bad.json()) == (400, {"errors": ["Invalid cursor"]})


async def test_random_faults_are_reproducible(items: list[dict]) -> None:
    async def statuses() -> list[int | None]:
        fake = make(items, faults=FaultPlan(rates={"503": 0.3, "429": 0.2}, seed=42))
        async with fake.client() as c:
            for _ in range(30):
                await c.post(SEARCH, json={})
        return [r.status for r in fake.requests]

    a, b = await statuses(), await statuses()
    assert a == b and {200, 429, 503} <= set(a)
    with pytest.raises(ValueError):
        Fault("teapot")


async def test_latency_is_applied_in_process(items: list[dict]) -> None:
    fake = make(items, latency_s=0.001)
    async with fake.client() as c:
        r = await c.post(SEARCH, json={"filter": dict(WIDE), "page": {"limit": 5}})
    assert r.status_code == 200 and r.json()["meta"]["elapsed"] >= 1


# -- API keys -----------------------------------------------------------------------------------------------


async def test_get_api_key_full_shape_with_creator_and_leak(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    async with fake.client() as c:
        r = await c.get(f"/api/v2/api_keys/{PLANTED.compromised_key}", params={"include": "created_by"})
    doc = r.json()
    data = doc["data"]
    assert data["type"] == "api_keys" and data["id"] == PLANTED.compromised_key
    attrs = data["attributes"]
    assert attrs["key"] == SCRUBBED_SECRET and len(attrs["last4"]) == 4
    assert attrs["name"] == PLANTED.compromised_key_name
    assert 0 <= parse_timestamp(attrs["created_at"]) - PLANTED.times(END)["compromised_key_created"] < 1000
    assert (
        attrs["used_in_last_24_hours"] is True
        and attrs["date_last_used"] == attrs["last_used_date"]["timestamp"]
    )
    assert set(data["relationships"]) == {"created_by", "modified_by", "leak_information"}
    creator_id = data["relationships"]["created_by"]["data"]["id"]
    users = [i for i in doc["included"] if i["type"] == "users"]
    assert [u["id"] for u in users] == [creator_id]
    assert users[0]["attributes"]["email"] == PLANTED.compromised_key_creator
    leak = data["relationships"]["leak_information"]["data"]
    assert leak["type"] == "leaked_keys"
    leaked = next(i for i in doc["included"] if i["type"] == "leaked_keys")
    assert leaked["id"] == leak["id"] and leaked["attributes"]["leak_source"] == "github"


async def test_clean_key_delete_then_404(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    async with fake.client() as c:
        r = await c.get(f"/api/v2/api_keys/{PLANTED.clean_key}")
        assert r.status_code == 200 and "included" not in r.json()
        assert r.json()["data"]["relationships"]["leak_information"] == {"data": None}
        assert r.json()["data"]["attributes"]["name"] == PLANTED.clean_key_name
        d1 = await c.delete(f"/api/v2/api_keys/{PLANTED.clean_key}")
        assert d1.status_code == 204 and d1.content == b""
        d2 = await c.delete(f"/api/v2/api_keys/{PLANTED.clean_key}")
        assert (d2.status_code, d2.json()) == (404, {"errors": ["API key not found"]})
        g = await c.get(f"/api/v2/api_keys/{PLANTED.clean_key}")
        assert (g.status_code, g.json()) == (404, {"errors": ["API key not found"]})
        assert (await c.get("/api/v2/api_keys/invalidId")).json() == {"errors": ["API key not found"]}
        listing = (await c.get("/api/v2/api_keys", params={"filter": "tmp-migration"})).json()
        assert {k["id"] for k in listing["data"]} == set(PLANTED.minted_keys)
        assert (
            listing["meta"]["page"]["total_filtered_count"] == 3
            and "key" not in listing["data"][0]["attributes"]
        )


async def test_api_key_overrides_and_deleted_keys(demo_items: list[dict]) -> None:
    fake = make(demo_items, api_keys={"11111111-2222-4333-8444-555555555555": {
        "name": "hand-made", "created_at": "2026-01-02T03:04:05Z", "created_by": PLANTED.compromised_key_creator}})  # fmt: skip
    async with fake.client() as c:
        r = await c.get(
            "/api/v2/api_keys/11111111-2222-4333-8444-555555555555", params={"include": "created_by"}
        )
        assert r.json()["data"]["attributes"]["name"] == "hand-made"
        assert r.json()["included"][0]["attributes"]["email"] == PLANTED.compromised_key_creator
        # keys created and deleted in the trail are gone
        deleted = [i["attributes"]["attributes"]["asset"]["id"] for i in demo_items
                   if i["attributes"]["attributes"].get("evt", {}).get("name") == "Authentication"
                   and i["attributes"]["attributes"].get("action") == "deleted"]  # fmt: skip
        assert deleted
        assert (await c.get(f"/api/v2/api_keys/{deleted[0]}")).status_code == 404


# -- live -----------------------------------------------------------------------------------------------------


async def test_live_events_keep_arriving(demo_items: list[dict]) -> None:
    clock = Clock()
    live = LiveDemo(
        seed=1, start_ms=END, clock=clock, rate_per_min=60, burst_every_s=120, first_burst_after_s=30
    )
    fake = make(demo_items, clock=clock, live=live)
    async with fake.client() as c:
        body = {"filter": {"from": "now-10m", "to": "now"}, "page": {"limit": 1000}, "sort": "timestamp"}
        before = len((await c.post(SEARCH, json=body)).json()["data"])
        clock.now += 300
        body["filter"] = {"from": str(END), "to": "now+1s"}
        data = (await c.post(SEARCH, json=body)).json()["data"]
    assert before < 50 and len(data) > 200
    assert all(END < parse_timestamp(d["attributes"]["timestamp"]) <= END + 300_000 for d in data)
    assert any(d["attributes"]["attributes"].get("action") == "deleted" or
               d["attributes"]["attributes"].get("asset", {}).get("type") == "role" for d in data)  # fmt: skip


def test_from_demo_builds_a_populated_fake() -> None:
    fake = FakeDatadog.from_demo(seed=2, events=1200, end_ms=END, clock=Clock())
    assert len(fake.events) == 1200


def test_from_demo_leaves_the_garbage_collector_as_it_was() -> None:
    assert gc.isenabled()
    FakeDatadog.from_demo(seed=2, events=300, end_ms=END, clock=Clock())
    assert gc.isenabled()
    gc.disable()
    try:
        FakeDatadog.from_demo(seed=2, events=300, end_ms=END, clock=Clock())
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- lazy decoding ----------------------------------------------------------------------------------------------


def test_events_from_dicts_are_what_eager_decoding_gives(items: list[dict]) -> None:
    """Keys are read straight from the dicts and events decoded on demand: the same as decoding up front."""
    odd = copy.deepcopy(items[:4])
    for i, item in enumerate(odd):
        item["id"] = f"{item['id'][:-4]}odd{i}"
    odd[0]["id"] = 123456789  # a numeric id
    odd[1]["attributes"]["timestamp"] = parse_timestamp(odd[1]["attributes"]["timestamp"])  # epoch ms
    odd[2]["attributes"]["timestamp"] = odd[2]["attributes"]["timestamp"].replace("Z", "+00:00")
    odd[3]["attributes"]["attributes"] = "not an object"  # the tolerant decoder settles it
    all_items = items + odd
    fake = make(all_items)
    expected = sorted(
        (decode_item(msgspec.json.encode(i), "<fake>", KIND_API) for i in all_items),
        key=lambda e: (e.ts, e.id),
    )
    assert fake.events == expected


def test_items_that_are_not_audit_events_are_still_rejected_up_front(items: list[dict]) -> None:
    for bad in (
        {"type": "audit", "attributes": {"timestamp": "2026-07-31T12:00:00.000Z"}},
        {"id": "x"},
        [1, 2],
    ):
        with pytest.raises(Exception, match="audit event|API item"):
            make([*items[:3], bad])


async def test_paging_everything_decodes_nothing_and_a_query_decodes_only_its_window(
    items: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[bytes] = []

    def counting(raw: bytes, source: str = "<input>", kind: str | None = None) -> Event:
        decoded.append(raw)
        return decode_item(raw, source, kind)

    monkeypatch.setattr(fake_datadog, "decode_item", counting)
    fake = make(items)
    async with fake.client() as c:
        ids, _ = await page_all(c, {"filter": dict(WIDE), "page": {"limit": 100}, "sort": "-timestamp"})
        assert len(ids) == len(items) and decoded == []
        newest = parse_timestamp(items[0]["attributes"]["timestamp"])
        window = {"from": str(newest - 6 * H), "to": str(newest + 1)}
        in_window = [i for i in items if parse_timestamp(i["attributes"]["timestamp"]) >= newest - 6 * H]
        body = {"filter": {**window, "query": "@evt.name:Request"}, "page": {"limit": 1000}}
        data = (await c.post(SEARCH, json=body)).json()["data"]
    assert len(decoded) == len(in_window) < len(items)
    assert {d["id"] for d in data} == {
        i["id"] for i in in_window if i["attributes"]["attributes"].get("evt", {}).get("name") == "Request"
    }
    assert fake.events and len(decoded) == len(items)  # the rest is decoded when asked for, once each


# -- loopback socket --------------------------------------------------------------------------------------------


async def test_loopback_socket_paging_rate_limit_and_faults(items: list[dict]) -> None:
    fake = make(items, rate_limit=RateLimit(limit=50, period_s=3600),
                faults=FaultPlan(at={9: "reset", 10: Fault("timeout", sleep_s=1.0)}))  # fmt: skip
    with loopback(fake) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=base_url, headers=fake.credentials.headers(), timeout=5) as c:
            ids, responses = await page_all(
                c, {"filter": dict(WIDE), "page": {"limit": 50}, "sort": "-timestamp"}
            )
            assert ids == order(items)[::-1] and responses[-1].content == b'{"data":[]}'
            assert responses[0].headers["x-ratelimit-limit"] == "50"
            assert responses[0].json()["links"]["next"].startswith(base_url + "/api/v2/audit/events?")
            with pytest.raises(httpx.TransportError):
                await c.post(SEARCH, json={})
            with pytest.raises(httpx.TimeoutException):
                await c.post(SEARCH, json={}, timeout=0.2)
            r = await c.get(f"/api/v2/api_keys/{PLANTED.clean_key}")
            assert r.status_code == 200  # the demo's keys are always in the table
    assert fake.requests[0].url.startswith(base_url)


async def test_loopback_429_empty_body_and_stop_is_idempotent(items: list[dict]) -> None:
    fake = make(items, rate_limit=RateLimit(limit=1, period_s=3600))
    base_url, stop = start_loopback(fake)
    try:
        async with httpx.AsyncClient(base_url=base_url, headers=fake.credentials.headers()) as c:
            assert (await c.post(SEARCH, json={})).status_code == 200
            r = await c.post(SEARCH, json={})
            assert r.status_code == 429 and r.content == b"" and r.headers["x-ratelimit-remaining"] == "0"
            d = await c.delete(f"/api/v2/api_keys/{PLANTED.ci_key}")
            assert d.status_code in (204, 404)
    finally:
        stop()
        stop()


# -- the real client against the fake --------------------------------------------------------------------------


async def test_the_real_client_fetches_everything_through_the_fake(demo_items: list[dict]) -> None:
    from ddaudit_tui.sources.datadog import Credentials, DatadogClient
    from ddaudit_tui.timeutil import Window

    fake = make(demo_items, faults=FaultPlan(at={2: "short_page", 4: "503"}))

    async def no_sleep(_: float) -> None:
        return None

    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake, sleep=no_sleep
    )
    async with client:
        result = await client.fetch("*", Window(END - 90 * D, END))
        hits = await client.fetch(
            f"@metadata.api_key.id:{PLANTED.compromised_key}", Window(END - 90 * D, END)
        )
    assert len(result.events) == len(demo_items) and result.complete
    assert {e.id for e in result.events} == {i["id"] for i in demo_items}
    assert hits.events and all(e.api_key_id == PLANTED.compromised_key for e in hits.events)
