"""The fake DDSQL API (`demo/fake_ddsql.py`): the wire format of ddsql-api.md §3–§7 and §9, the
`dd.audit(...)` table function over the demo org, and filter semantics equal to the search endpoint's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import (
    ALL_PERMISSIONS,
    DEMO_API_KEY,
    DEMO_APP_KEY,
    DEMO_TOKEN,
    FakeCredentials,
    FakeDatadog,
    RateLimit,
)
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.loopback import loopback
from ddaudit_tui.demo.org import generate
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
H, D = 3_600_000, 86_400_000
TIME = {"from_timestamp": END - 90 * D, "to_timestamp": END}
EXECUTE = "/api/v2/ddsql/query/tabular"
FETCH = "/api/v2/ddsql/query/tabular/fetch"
KEY_FILTER = f"@metadata.api_key.id:{COMPROMISED_KEY}"


class Clock:
    def __init__(self, ms: int = END) -> None:
        self.now = ms / 1000

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def demo_items() -> list[dict]:
    return generate(seed=5, events=2500, end_ms=END)


def make(items: list[dict], **kwargs: Any) -> FakeDatadog:
    kwargs.setdefault("clock", Clock())
    kwargs.setdefault("ddsql", DdsqlConfig(running_polls=0))
    return FakeDatadog(items, **kwargs)


def body(query: str, time: dict | None = None, **attrs: Any) -> dict:
    return {
        "data": {"type": "ddsql_query_request", "attributes": {"query": query, "time": time or TIME, **attrs}}
    }


def fetch_body(query_id: str) -> dict:
    return {"data": {"type": "ddsql_query_fetch_request", "attributes": {"query_id": query_id}}}


def audit(columns: dict[str, str], flt: str | None = None, extra: str = "") -> str:
    """`dd.audit(columns => ARRAY[...], filter => '...') AS (alias TYPE, ...)`; `columns`: field -> 'alias TYPE'."""
    cols = ", ".join("'" + f.replace("'", "''") + "'" for f in columns)
    filt = "" if flt is None else ", filter => '" + flt.replace("'", "''") + "'"
    return f"dd.audit(columns => ARRAY[{cols}]{filt}{extra}) AS ({', '.join(columns.values())})"


async def run(fake: FakeDatadog, query: str, **attrs: Any) -> dict:
    """Execute, then fetch until completed; the completed document."""
    async with fake.client() as c:
        r = await c.post(EXECUTE, json=body(query, **attrs))
        assert r.status_code == 200, r.text
        doc = r.json()
        while doc["data"]["attributes"]["state"] == "running":
            r = await c.post(FETCH, json=fetch_body(doc["data"]["attributes"]["query_id"]))
            assert r.status_code == 200, r.text
            doc = r.json()
    return doc


def rows(doc: dict) -> list[tuple]:
    cols = doc["data"]["attributes"]["columns"]
    return list(zip(*(c["values"] for c in cols), strict=True))


def key_events(items: list[dict]) -> list[Event]:
    fake = FakeDatadog(items)
    return [
        e for e in fake.events if e.api_key_id == COMPROMISED_KEY and TIME["from_timestamp"] <= e.ts < END
    ]


# -- wire format ------------------------------------------------------------------------------------


async def test_a_quick_query_completes_inline_with_the_full_envelope(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    async with fake.client() as c:
        r = await c.post(EXECUTE, json=body("SELECT 1 AS one"), headers={"DD-Request-ID": "req-1"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["data"]["type"] == "ddsql_query_response" and isinstance(doc["data"]["id"], str)
    attrs = doc["data"]["attributes"]
    assert attrs["state"] == "completed" and "query_id" not in attrs
    assert attrs["columns"] == [{"name": "one", "type": "BIGINT", "values": [1]}]
    assert isinstance(doc["meta"]["elapsed"], int) and doc["meta"]["request_id"] == "req-1"
    assert r.headers["X-RateLimit-Name"] == "logs_advanced_query_api_query"


async def test_running_then_completed_through_the_fetch_endpoint(demo_items: list[dict]) -> None:
    fake = make(demo_items, ddsql=DdsqlConfig(running_polls=2))
    query = f"SELECT count(*) AS n FROM {audit({'timestamp': 'ts TIMESTAMP'}, KEY_FILTER)}"
    async with fake.client() as c:
        first = (await c.post(EXECUTE, json=body(query))).json()
        attrs = first["data"]["attributes"]
        assert attrs["state"] == "running" and "columns" not in attrs
        qid = attrs["query_id"]
        assert qid.isascii() and qid
        second = (await c.post(FETCH, json=fetch_body(qid))).json()
        assert second["data"]["attributes"]["state"] == "running"
        qid = second["data"]["attributes"]["query_id"]
        done = (await c.post(FETCH, json=fetch_body(qid))).json()
        again = (await c.post(FETCH, json=fetch_body(qid))).json()  # a completed result stays fetchable
    assert done["data"]["attributes"]["state"] == "completed" and "query_id" not in done["data"]["attributes"]
    expected = len(key_events(demo_items))
    assert expected > 100
    assert done["data"]["attributes"]["columns"] == [{"name": "n", "type": "BIGINT", "values": [expected]}]
    assert again["data"]["attributes"] == done["data"]["attributes"]


async def test_group_by_is_column_major_in_projection_order(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    src = audit(
        {"@network.client.geoip.country.name": "country VARCHAR", "@network.client.ip": "ip VARCHAR"},
        KEY_FILTER,
    )
    doc = await run(fake, f"SELECT country, count(*) AS n, count(DISTINCT ip) AS ips FROM {src} "
                          "GROUP BY country ORDER BY n DESC, country")  # fmt: skip
    cols = doc["data"]["attributes"]["columns"]
    assert [(c["name"], c["type"]) for c in cols] == [
        ("country", "VARCHAR"),
        ("n", "BIGINT"),
        ("ips", "BIGINT"),
    ]
    assert len({len(c["values"]) for c in cols}) == 1
    events = key_events(demo_items)
    by_country = Counter(e.country for e in events)
    ips = {k: len({e.client_ip for e in events if e.country == k and e.client_ip}) for k in by_country}
    expected = sorted(((k, n, ips[k]) for k, n in by_country.items()), key=lambda t: (-t[1], t[0] or ""))
    assert sorted(rows(doc), key=lambda t: (-t[1], t[0] or "")) == expected
    assert [n for _, n, _ in rows(doc)] == sorted((n for _, n, _ in rows(doc)), reverse=True)


async def test_timestamps_are_epoch_ms_and_bucket_by_hour_and_half_hour(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    src = audit({"timestamp": "ts TIMESTAMP", "@network.client.ip": "ip VARCHAR"}, KEY_FILTER)
    events = key_events(demo_items)
    hourly = await run(fake, f"SELECT date_trunc('hour', ts) AS hour, count(*) AS n, min(ts) AS first, "
                             f"max(ts) AS last FROM {src} GROUP BY date_trunc('hour', ts) ORDER BY hour")  # fmt: skip
    assert [c["type"] for c in hourly["data"]["attributes"]["columns"]] == ["TIMESTAMP", "BIGINT"] + [
        "TIMESTAMP"
    ] * 2
    expected = Counter(e.ts - e.ts % H for e in events)
    assert [(h, n) for h, n, _, _ in rows(hourly)] == sorted(expected.items())
    assert all(h <= a <= b < h + H for h, _, a, b in rows(hourly))
    half = await run(fake, "SELECT date_bin('30 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS b, "
                           f"count(DISTINCT ip) AS ips FROM {src} GROUP BY 1 ORDER BY 1")  # fmt: skip
    buckets: dict[int, set[str]] = {}
    for e in events:
        buckets.setdefault(e.ts - e.ts % (30 * 60_000), set()).add(e.client_ip or "")
    assert rows(half) == sorted((b, len({i for i in ips if i})) for b, ips in buckets.items())


async def test_where_order_limit_and_star(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    src = audit(
        {"timestamp": "ts TIMESTAMP", "id": "id VARCHAR", "@http.method": "method VARCHAR"}, KEY_FILTER
    )
    doc = await run(fake, f"SELECT * FROM {src} WHERE method = 'DELETE' AND ts >= now() - interval '30 days' "
                          "ORDER BY ts DESC LIMIT 3")  # fmt: skip
    cols = doc["data"]["attributes"]["columns"]
    assert [(c["name"], c["type"]) for c in cols] == [
        ("ts", "TIMESTAMP"),
        ("id", "VARCHAR"),
        ("method", "VARCHAR"),
    ]
    deletes = sorted(
        (e for e in key_events(demo_items) if e.http_method == "DELETE" and e.ts >= END - 30 * D),
        key=lambda e: -e.ts,
    )
    assert rows(doc) == [(e.ts, e.id, "DELETE") for e in deletes[:3]]


async def test_zero_rows_still_lists_the_columns(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    doc = await run(
        fake, f"SELECT ip FROM {audit({'@network.client.ip': 'ip VARCHAR'}, '@evt.name:nothing-x')}"
    )
    assert doc["data"]["attributes"]["columns"] == [{"name": "ip", "type": "VARCHAR", "values": []}]


async def test_the_request_window_scopes_the_function_unless_it_names_its_own(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    src = audit({"timestamp": "ts TIMESTAMP"}, KEY_FILTER)
    week = {"from_timestamp": END - 7 * D, "to_timestamp": END}
    doc = await run(fake, f"SELECT count(*) AS n FROM {src}", time=week)
    in_week = sum(1 for e in key_events(demo_items) if e.ts >= END - 7 * D)
    assert rows(doc) == [(in_week,)]
    own = audit({"timestamp": "ts TIMESTAMP"}, KEY_FILTER, ", from_timestamp => now() - interval '2 days'")
    doc = await run(fake, f"SELECT count(*) AS n FROM {own}", time=week)
    assert rows(doc) == [(sum(1 for e in key_events(demo_items) if e.ts >= END - 2 * D),)]


async def test_the_row_limit_truncates_silently_or_with_the_spec_warning(demo_items: list[dict]) -> None:
    query = f"SELECT ip FROM {audit({'@network.client.ip': 'ip VARCHAR'}, KEY_FILTER)}"
    silent = await run(make(demo_items), query, row_limit=5)
    assert len(rows(silent)) == 5 and "warnings" not in silent["data"]["attributes"]
    warned = await run(
        make(demo_items, ddsql=DdsqlConfig(running_polls=0, truncation="warn")), query, row_limit=5
    )
    assert len(rows(warned)) == 5
    assert warned["data"]["attributes"]["warnings"] == [
        "Query result was truncated at the configured row_limit."
    ]
    whole = await run(
        make(demo_items, ddsql=DdsqlConfig(running_polls=0, truncation="warn")), query + " LIMIT 5"
    )
    assert len(rows(whole)) == 5 and "warnings" not in whole["data"]["attributes"]


# -- errors -------------------------------------------------------------------------------------------


def jsonapi_detail(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    (err,) = r.json()["errors"]
    assert err["status"] == str(status) and err["title"]
    return err["detail"]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("SHOW TABLES", "mismatched input 'SHOW'"),
        ("SELECT * FROM dd.audit", 'depends on non-existent dataset "dd.audit"'),
        ("SELECT * FROM dd.nope", 'depends on non-existent dataset "dd.nope"'),
        ("SELECT * FROM dd.audit(columns => ARRAY['@usr.id'])", "AS ("),
        ("SELECT * FROM dd.audit(columns => ARRAY['@usr.id', 'id']) AS (u VARCHAR)", "2 columns"),
        (
            "SELECT * FROM dd.audit(columns => ARRAY['@usr.id']) AS (u DOUBLE PRECISION[])",
            "unsupported output column type",
        ),
        (
            "SELECT * FROM dd.audit(columns => ARRAY['@usr.id'], filter => '@usr.id:(') AS (u VARCHAR)",
            "filter",
        ),
        ("SELECT count(* FROM x", "syntax"),
        ("DELETE FROM t", "only SELECT"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SELECT no_such_function(1)", "no_such_function"),
    ],
)
async def test_unsupported_sql_is_a_400_with_a_jsonapi_error(
    demo_items: list[dict], query: str, detail: str
) -> None:
    fake = make(demo_items)
    async with fake.client() as c:
        r = await c.post(EXECUTE, json=body(query))
    assert detail.lower() in jsonapi_detail(r, 400).lower()


@pytest.mark.parametrize(
    "doc",
    [
        {"data": {"type": "ddsql_query_request", "attributes": {"query": "SELECT 1", "time": TIME, "row_limit": 0}}},
        {"data": {"type": "ddsql_query_request", "attributes": {"query": "SELECT 1", "time": TIME, "row_limit": 10001}}},
        {"data": {"type": "wrong", "attributes": {"query": "SELECT 1", "time": TIME}}},
        {"data": {"type": "ddsql_query_request", "attributes": {"query": "SELECT 1"}}},
        {"data": {"type": "ddsql_query_request", "attributes": {"query": "", "time": TIME}}},
        {"data": {"type": "ddsql_query_request", "attributes": {"query": "SELECT 1", "time": {"from_timestamp": 2, "to_timestamp": 1}}}},
        [],
    ],
)  # fmt: skip
async def test_invalid_request_bodies_are_400(demo_items: list[dict], doc: Any) -> None:
    async with make(demo_items).client() as c:
        r = await c.post(EXECUTE, json=doc)
    assert jsonapi_detail(r, 400)


async def test_fetch_errors(demo_items: list[dict]) -> None:
    fake = make(demo_items, ddsql=DdsqlConfig(running_polls=1))
    async with fake.client() as c:
        assert jsonapi_detail(await c.post(FETCH, json=fetch_body("bm9wZQ")), 400)
        bad_type = {"data": {"type": "ddsql_query_request", "attributes": {"query_id": "x"}}}
        assert jsonapi_detail(await c.post(FETCH, json=bad_type), 400)
        qid = (await c.post(EXECUTE, json=body("SELECT 1"))).json()["data"]["attributes"]["query_id"]
        other = {"Authorization": f"Bearer {DEMO_TOKEN}"}
        async with fake.client(headers=other) as someone_else:
            assert jsonapi_detail(await someone_else.post(FETCH, json=fetch_body(qid)), 403)
        assert (await c.post(FETCH, json=fetch_body(qid))).status_code == 200
        assert (await c.get(EXECUTE)).status_code == 405


async def test_auth_is_that_of_the_other_endpoints(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    async with fake.client(headers={}) as anonymous:
        r = await anonymous.post(EXECUTE, json=body("SELECT 1"))
    assert r.status_code == 403 and r.json() == {"errors": ["Forbidden"]}
    async with fake.client(headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as bearer:
        assert (await bearer.post(EXECUTE, json=body("SELECT 1"))).status_code == 200
    assert "timeseries_query" in ALL_PERMISSIONS
    no_ts = make(demo_items, permissions=ALL_PERMISSIONS - {"timeseries_query"})
    async with no_ts.client() as c:
        assert (await c.post(EXECUTE, json=body("SELECT 1"))).status_code == 403
    no_audit = make(demo_items, permissions=ALL_PERMISSIONS - {"audit_logs_read"})
    async with no_audit.client() as c:
        assert (await c.post(EXECUTE, json=body("SELECT 1"))).status_code == 200  # reads no data source
        r = await c.post(EXECUTE, json=body(f"SELECT * FROM {audit({'id': 'id VARCHAR'})}"))
        assert "audit_logs_read" in jsonapi_detail(r, 403)
    off = make(demo_items, ddsql=DdsqlConfig(enabled=False))
    async with off.client() as c:
        assert "not enabled" in jsonapi_detail(await c.post(EXECUTE, json=body("SELECT 1")), 403)


async def test_the_ddsql_budget_is_its_own(demo_items: list[dict]) -> None:
    fake = make(
        demo_items, ddsql_rate_limit=RateLimit(limit=2, period_s=20, name="logs_advanced_query_api_query")
    )
    async with fake.client() as c:
        statuses = [(await c.post(EXECUTE, json=body("SELECT 1"))).status_code for _ in range(3)]
        search = await c.post("/api/v2/audit/events/search", json={"filter": {"from": "now-1d", "to": "now"}})
    assert statuses == [200, 200, 429] and search.status_code == 200


# -- the filter is the search endpoint's --------------------------------------------------------------


@pytest.mark.parametrize(
    "flt",
    [
        KEY_FILTER,
        f"{KEY_FILTER} @http.method:DELETE",
        '@evt.name:("Request" OR Authentication) -@network.client.geoip.country.name:"United States"',
        "@network.client.ip:* AND NOT @usr.email:*example.com",
        "@network.client.ip:* -@evt.actor.type:user",
        "@http.status_code:[400 TO 499]",
        "*",
    ],
)
async def test_count_star_equals_what_the_search_endpoint_pages(demo_items: list[dict], flt: str) -> None:
    fake = make(demo_items)
    window = Window(TIME["from_timestamp"], TIME["to_timestamp"])
    with loopback(fake) as base_url:
        async with DatadogClient(Credentials(DEMO_API_KEY, DEMO_APP_KEY), base_url=base_url) as client:
            searched = await client.fetch(flt, window)
        async with httpx.AsyncClient(base_url=base_url, headers=FakeCredentials().headers()) as c:
            r = await c.post(
                EXECUTE, json=body(f"SELECT count(*) AS n FROM {audit({'id': 'id VARCHAR'}, flt)}")
            )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["columns"][0]["values"] == [len(searched.events)]
    assert searched.complete


async def test_postgres_semantics_where_sqlite_differs(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    src = audit({"@network.client.geoip.country.name": "country VARCHAR"})
    like = await run(fake, f"SELECT count(*), max(country) FROM {src} WHERE country LIKE 'united%'")
    ilike = await run(fake, f"SELECT count(*) FROM {src} WHERE country ILIKE 'united%'")
    cols = like["data"]["attributes"]["columns"]
    assert [c["name"] for c in cols] == ["count", "max"]  # PostgreSQL's names for unaliased aggregates
    assert rows(like) == [(0, None)]  # LIKE is case-sensitive in PostgreSQL
    assert rows(ilike)[0][0] > 0
