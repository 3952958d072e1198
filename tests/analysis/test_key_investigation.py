"""Running the key lookup through sources: the Datadog client (scripted API), files loaded whole, and
files loaded through the key's byte needle — same findings every way."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from keys_synthetic import (  # noqa: E402
    BUCHAREST_HOME,
    BUCHAREST_VPN,
    DAY,
    DEMO_END,
    KEY,
    LONDON_BT,
    MIN,
    NYC_VERIZON,
    OTHER_KEY,
    T0,
    FakeApi,
    api_key_doc,
    demo_items,
    demo_page,
    demo_source,
    file_source,
    item,
    page_bytes,
)

from ddaudit_tui.analysis.key_investigation import (  # noqa: E402
    InvestigationOptions,
    KeyFileSource,
    asset_query,
    country_query,
    decode_mentioning,
    investigate_key,
    key_query,
    load_files_for_key,
    validate_key_id,
)
from ddaudit_tui.analysis.keys import NEW_COUNTRY, TOKEN_LEAKED, VERDICT_COMPROMISED  # noqa: E402
from ddaudit_tui.demo.org import PLANTED  # noqa: E402
from ddaudit_tui.events.decode import DecodeError  # noqa: E402
from ddaudit_tui.sources.files import InputError  # noqa: E402
from ddaudit_tui.timeutil import Window  # noqa: E402

WINDOW = Window(T0, T0 + 30 * DAY)


def test_validate_key_id():
    assert validate_key_id(" 9F3C2E71-4B8A-4D2E-A6F5-1C7B8E9D0A24 ") == "9f3c2e71-4b8a-4d2e-a6f5-1c7b8e9d0a24"
    assert validate_key_id("id-000111") == "id-000111"  # sanitised fixtures keep their case
    with pytest.raises(ValueError, match="no API key id"):
        validate_key_id("  ")
    with pytest.raises(ValueError, match="looks like an API key itself"):
        validate_key_id("0123456789abcdef0123456789abcdef")
    with pytest.raises(ValueError, match="invalid API key id"):
        validate_key_id("abc OR @usr.email:*")


def test_queries():
    assert key_query(KEY) == f"@metadata.api_key.id:{KEY}"
    assert asset_query(KEY) == f"@asset.type:api_key @asset.id:{KEY}"
    assert (
        country_query("ro", KEY) == f"@network.client.geoip.country.iso_code:RO -@metadata.api_key.id:{KEY}"
    )
    assert country_query('Côte "d', KEY) == (
        f'@network.client.geoip.country.name:"Côte \\"d" -@metadata.api_key.id:{KEY}'
    )


def _scenario() -> list[dict]:
    """Org traffic from the US and GB; the key from the US, then from Romania (new to the org)."""
    org = [item(T0 + d * DAY, NYC_VERIZON, key=OTHER_KEY) for d in range(5)] + [
        item(T0 + 2 * DAY, LONDON_BT, key=None)
    ]
    key = [item(T0 + d * DAY + 60_000, NYC_VERIZON) for d in range(10)]
    key += [item(T0 + 12 * DAY, BUCHAREST_VPN), item(T0 + 12 * DAY + MIN, BUCHAREST_HOME)]
    created = item(
        T0 - 5 * DAY, LONDON_BT, key=None, method="POST", path="/api/v2/api_keys", action="created",
        evt="Authentication", asset_type="api_key", asset_id=KEY, usr_email="marcus@example.com",
    )  # fmt: skip
    return org + key + [created]


def test_investigation_through_the_datadog_client():
    api = FakeApi(_scenario(), {KEY: api_key_doc(KEY, leaked=True)})

    async def go():
        client = api.client()
        try:
            first = await investigate_key(client, KEY, WINDOW, now_ms=T0)
            again = await investigate_key(client, KEY, WINDOW, now_ms=T0)
            return first, again
        finally:
            await client.aclose()

    r, again = asyncio.run(go())
    assert r.total_events == 12
    assert r.created.created_by == "marcus@example.com" and r.created.source == "audit trail"
    assert (r.api_key_status, r.api_key.name, r.api_key.last4, r.api_key.leaked) == (
        "found",
        "ci",
        "cdef",
        True,
    )
    assert r.source_label == "datadoghq.com"
    assert {o.country: o.flag for o in r.origins} == {
        "United States": "NORMAL",
        "Romania": "FLAG: first-time origin",
    }
    assert r.baselines["countries"].startswith(
        "countries seen in the org outside this key from 2026-05-02 00:00:00Z"
    )
    assert r.baselines["countries"].endswith("(one existence query per country) — RO: not seen; US: seen")
    assert [f.signal for f in r.flags if f.signal in (TOKEN_LEAKED, NEW_COUNTRY)] == [
        TOKEN_LEAKED,
        NEW_COUNTRY,
    ]
    assert r.verdict == VERDICT_COMPROMISED
    searches = [(q, page) for kind, q, page in api.requests if kind == "search"]
    exists = [q for q, page in searches if page["limit"] == 1]
    assert sorted(exists) == [country_query("RO", KEY), country_query("US", KEY)]  # one each, then cached
    assert [q for q, _ in searches].count(key_query(KEY)) >= 2  # the second lookup fetched the events again
    assert again.flags == r.flags
    assert ("GET", f"/api/v2/api_keys/{KEY}", None) in api.requests
    assert "0123456789abcdef0123456789abcdef" not in repr(r)  # the secret the API sent is dropped


def test_api_and_baseline_failures_are_warnings_not_errors():
    api = FakeApi(_scenario(), key_status=403, fail_queries=("iso_code:RO",))

    async def go():
        client = api.client()
        try:
            return await investigate_key(client, KEY, WINDOW, now_ms=T0)
        finally:
            await client.aclose()

    r = asyncio.run(go())
    assert r.api_key is None and r.api_key_status.startswith("error: 403")
    assert "api_keys_read" in r.api_key_status
    assert {o.country: o.flag for o in r.origins} == {
        "United States": "NORMAL",
        "Romania": "UNKNOWN: baseline unavailable",
    }
    assert [w.split(" (")[0] for w in r.warnings] == ["country baseline unavailable for RO"]
    assert NEW_COUNTRY not in {f.signal for f in r.flags}


def test_allowlist_only_and_allowlist_plus_learned():
    source = file_source(_scenario())
    opts = InvestigationOptions(country_allowlist=frozenset({"us"}), learn_org_countries=False)
    r = asyncio.run(investigate_key(source, KEY, WINDOW, options=opts, now_ms=T0))
    assert r.baselines["countries"] == "configured allowlist US"
    assert {o.country: o.flag for o in r.origins}["Romania"] == "FLAG: first-time origin"
    opts = InvestigationOptions(country_allowlist=frozenset({"RO"}))
    r = asyncio.run(investigate_key(source, KEY, WINDOW, options=opts, now_ms=T0))
    assert r.baselines["countries"].startswith(
        "configured allowlist RO + countries seen in the org outside this key"
    )
    assert r.baselines["countries"].endswith("— US: seen")
    assert {o.flag for o in r.origins} == {"NORMAL"}


def test_no_events_for_the_key():
    r = asyncio.run(
        investigate_key(file_source(_scenario()), "00000000-0000-4000-8000-000000000000", WINDOW, now_ms=T0)
    )
    assert r.total_events == 0
    assert r.warnings == [
        "no events for key 00000000-0000-4000-8000-000000000000 between 2026-06-01 00:00:00Z and 2026-07-01 00:00:00Z"
    ]


# -- files through the key's needle ------------------------------------------------------------------------


def _flag_tuples(report):
    return [(f.signal, f.severity, f.subject, f.event_ids) for f in report.flags]


@pytest.mark.parametrize("style", ["page", "pup", "ndjson", "array"])
def test_needle_file_source_matches_the_full_decode(tmp_path, style):
    items = list(demo_items())
    path = tmp_path / f"demo.{style}"
    if style == "page":
        path.write_bytes(demo_page())
    elif style == "pup":  # keys sorted, pretty-printed, HTML-escaped, like `pup -o json`
        text = (
            json.dumps({"data": items}, sort_keys=True, indent=2)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
        )
        path.write_text(text)
    elif style == "ndjson":
        path.write_text("\n".join(json.dumps(it) for it in items) + "\n")
    else:
        path.write_text(json.dumps(items))
    key = PLANTED.compromised_key
    needle = load_files_for_key([str(path)], key)
    assert isinstance(needle, KeyFileSource)
    assert len(needle.store) < len(items) // 5  # only what mentions the key was decoded
    full = demo_source()
    r_needle = asyncio.run(investigate_key(needle, key, needle.default_window(), now_ms=DEMO_END))
    r_full = asyncio.run(investigate_key(full, key, full.default_window(), now_ms=DEMO_END))
    assert _flag_tuples(r_needle) == _flag_tuples(r_full)
    assert r_needle.verdict == r_full.verdict == VERDICT_COMPROMISED
    assert [(o.country, o.count, o.flag) for o in r_needle.origins] == [
        (o.country, o.count, o.flag) for o in r_full.origins
    ]
    assert r_needle.created == r_full.created
    assert r_needle.baselines["countries"] == (
        f"countries in the input (demo.{style}) outside this key (the whole input is the learning period) — "
        "RO: not seen; US: seen"
    )
    asyncio.run(needle.aclose())


def test_country_scan_is_not_fooled_by_overlapping_files(tmp_path):
    key_items = [item(T0 + DAY, BUCHAREST_VPN), item(T0 + 2 * DAY, NYC_VERIZON)]
    org = [item(T0, NYC_VERIZON, key=OTHER_KEY)]
    a = tmp_path / "a.json"
    a.write_bytes(page_bytes(key_items + org))
    src = load_files_for_key([str(a), str(a)], KEY)  # the same export given twice
    assert src.label == "2 files"
    assert src.country_seen_outside_key(["RO", "US", "Romania", "GB"], KEY) == {
        "RO": False,
        "US": True,
        "Romania": False,
        "GB": False,
    }
    b = tmp_path / "b.json"
    b.write_bytes(page_bytes([item(T0, BUCHAREST_HOME, key=OTHER_KEY)]))
    src = load_files_for_key([str(a), str(b)], KEY)
    assert src.country_seen_outside_key(["RO"], KEY) == {"RO": True}


def test_needle_source_fetch_and_exact_exists(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(page_bytes([item(T0 + DAY, BUCHAREST_VPN), item(T0, LONDON_BT, key=OTHER_KEY)]))
    src = load_files_for_key([str(p)], KEY)
    res = asyncio.run(src.fetch("*", Window(T0 - DAY, T0 + 2 * DAY)))
    assert len(res.events) == 1 and res.warnings == [
        f"only the input's events that mention key {KEY} were loaded"
    ]
    # exists() is exact: it decodes the whole input (events that do not mention the key included)
    assert asyncio.run(
        src.exists("@network.client.geoip.country.iso_code:GB", Window(T0 - DAY, T0 + 2 * DAY))
    )
    assert not asyncio.run(
        src.exists("@network.client.geoip.country.iso_code:FR", Window(T0 - DAY, T0 + 2 * DAY))
    )


def test_decode_mentioning_falls_back_and_reports_errors(tmp_path):
    items = [item(T0, NYC_VERIZON), item(T0, NYC_VERIZON, key=OTHER_KEY)]
    assert [e.api_key_id for e in decode_mentioning(page_bytes(items), "p", KEY.encode())] == [KEY]
    ndjson = b"\n".join(json.dumps(it).encode() for it in items)
    assert len(decode_mentioning(ndjson, "n", KEY.encode())) == 1
    assert (
        len(decode_mentioning(json.dumps({"status": "success", "data": items}).encode(), "pup", KEY.encode()))
        == 1
    )
    with pytest.raises(DecodeError, match="pup reported status 'error'"):
        decode_mentioning(b'{"status": "error", "data": "boom"}', "pup", KEY.encode())
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"id": "x", "attributes": ')
    with pytest.raises(InputError, match="bad.json"):
        load_files_for_key([str(bad)], KEY)
    with pytest.raises(InputError, match="no such file"):
        load_files_for_key([str(tmp_path / "missing.json")], KEY)


# -- the real (sanitised) recorded events of reference/ ---------------------------------------------------

REF = Path(__file__).parent.parent / "fixtures" / "reference"


def test_real_recorded_key_event():
    """`id-000111` is the key of audit-events.md §4.1: one POST from a Google Cloud (hosting) address."""
    paths = sorted(str(p) for p in REF.iterdir())
    src = load_files_for_key(paths, "id-000111")
    r = asyncio.run(investigate_key(src, "id-000111", src.default_window(), now_ms=T0))
    assert r.total_events == 1
    assert [(o.country, o.count, o.asns, o.ips, o.flag) for o in r.origins] == [
        ("United States", 1, ("Example Cloud",), ("198.51.100.31",), "NORMAL")
    ]
    assert [(g.path, g.methods, g.count) for g in r.endpoints] == [("/api/v2/query/scalar", ("POST",), 1)]
    assert [(f.signal, f.severity.word, f.subject) for f in r.flags] == [("hosting_asn", "low", "AS396982")]
    assert r.verdict == "no evidence"
    assert r.created is None and r.api_key_status == "not available from this source"
    assert r.baselines["countries"].endswith("— US: seen")


def test_demo_through_the_api_client_equals_the_file_path():
    """The same planted org through the Datadog client (scripted API: paging, slices, existence checks)
    gives exactly the findings of the in-memory file source."""
    api = FakeApi(
        list(demo_items()), {PLANTED.compromised_key: api_key_doc(PLANTED.compromised_key, leaked=True)}
    )
    full = demo_source()
    window = full.default_window()

    async def go():
        client = api.client()
        try:
            return await investigate_key(client, PLANTED.compromised_key, window, now_ms=DEMO_END)
        finally:
            await client.aclose()

    r_api = asyncio.run(go())
    r_file = asyncio.run(investigate_key(full, PLANTED.compromised_key, window, now_ms=DEMO_END))
    assert _flag_tuples(r_api) == _flag_tuples(r_file)
    assert r_api.verdict == VERDICT_COMPROMISED
    assert (r_api.api_key.name, r_api.api_key.leaked, r_api.api_key.leak_source) == ("ci", True, "github")
    assert r_file.api_key is None
