"""Decoding every input shape, the real recorded events, and the quirks of audit-events.md §8."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from ddaudit_tui.events.decode import (
    DecodeError,
    _any_decoder,
    _tolerant,
    decode_page,
    iter_decode,
    parse_asn,
    parse_timestamp,
)

REF = Path(__file__).parent.parent / "fixtures" / "reference"
BROKEN = Path(__file__).parent.parent / "fixtures" / "broken"


def api_item(
    id_: str, inner: dict, ts: str = "2026-07-31T19:23:18.758Z", tags=("source:audit",), message="m"
):
    return {
        "id": id_,
        "type": "audit",
        "attributes": {"attributes": inner, "message": message, "tags": list(tags), "timestamp": ts},
    }


def test_recorded_search_pages_decode_with_outer_timestamp_and_string_status():
    events = list(iter_decode((REF / "api_page_0.json").read_bytes(), "p0"))
    assert [e.id for e in events] == [
        "AQAAAYAiOhYWi7EZ-QAAAABBWUFpT2hvT0FBRGJLTGZoSU50TEVRQUE",
        "AQAAAYAiOhYWRqxX3QAAAABBWUFpT2hvTUFBQks5Nkl0TVJTV2pBQUE",
    ]
    first = events[0]
    assert first.ts == parse_timestamp("2022-04-13T09:21:13.750Z")  # outer, not the inner "…750599"
    assert first.http_status == 200  # recorded as the string "200"
    assert first.http_path == "/api/v1/synthetics/enforced_tags"
    assert first.client_ip == "84.102.253.215"
    assert first.usr_email == "foo@example.com"
    assert first.auth_method == "SESSION"
    assert first.evt_name == "Request" and first.action == "accessed" and first.actor_type == "USER"


def test_recorded_agent_events_without_evt_name():
    events = list(iter_decode((REF / "api_page_3.json").read_bytes()))
    assert len(events) == 2
    ev = events[0]
    assert ev.evt_name is None
    assert ev.action == "update_config"
    assert ev.actor_type == "Other"
    assert ev.auth_method == "API + App Key"
    assert ev.usr_email == ev.usr_id == "1ad9c690-ee90-4dca-80ad-034e916623ab"
    assert "agent_version:7.35.0" in ev.inner_tags
    assert ev.tags == ("source:audit",)


def test_terminal_page_is_empty():
    assert list(iter_decode((REF / "api_page_2.json").read_bytes())) == []
    events, meta = decode_page(b'{"data":[]}')
    assert events == [] and meta == {}


def test_decode_page_returns_cursor():
    events, meta = decode_page((REF / "api_page_0.json").read_bytes())
    assert len(events) == 2
    assert meta["page"]["after"].startswith("eyJhZnRlciI6")


def test_archive_samples_key_mcp_bits():
    events = {e.id: e for e in iter_decode((REF / "elastic_archive.ndjson").read_bytes())}
    assert len(events) == 7
    key = events["id-000113"]
    assert key.kind == "archive"
    assert key.api_key_id == "id-000111" and key.app_key_id == "id-000112"
    assert key.asn == 396982 and key.asn_type == "hosting" and key.asn_name == "Example Cloud"
    assert (key.lat, key.lon) == (41.26194, -95.86083)
    assert key.country_iso == "US" and key.city == "Council Bluffs" and key.geo_timezone == "America/Chicago"
    assert key.route_path == "/api/v2/query/scalar"
    mcp = events["id-000122"]
    assert mcp.is_mcp_call is True
    assert mcp.tool_name == "search_datadog_rum_events"
    assert mcp.oauth_client == "Datadog Generic MCP Client"
    assert mcp.asn == 64496  # "AS64496"
    assert mcp.ti_tunnel == "PROXY EXAMPLE_PROXY" and mcp.ti_infrastructure == "DATACENTER"
    assert mcp.ti_category == "corp_vpn"
    assert mcp.endpoint == "/api/unstable/mcp-server/mcp"  # query string dropped (quirk 14)
    init = events["id-000084"]
    assert init.mcp_client == "cursor-vscode" and init.oauth_client == "Cursor"
    assert init.ts == parse_timestamp("2026-07-31T19:23:48.520Z")
    task = events["id-000099"]
    assert task.actor_type == "SYSTEM" and task.usr_email is None and task.actor == "(unknown)"
    assert events["id-000117"].is_mcp_call is None  # raw MCP Request: no tag


def test_typed_and_tolerant_paths_agree_on_every_reference_event():
    for path in sorted(REF.iterdir()):
        for ev in iter_decode(path.read_bytes(), path.name):
            assert _tolerant(ev.raw, _any_decoder.decode(ev.raw)) == ev, (path.name, ev.id)


def test_pup_sorted_keys_and_agent_envelope_and_array():
    item = api_item(
        "a1", {"evt": {"name": "Monitor"}, "action": "deleted", "usr": {"email": "x@example.com"}}
    )
    pup = json.dumps({"data": [item], "links": {}, "meta": {"page": {}}}, sort_keys=True, indent=2)
    pup = pup.replace("<", "\\u003c")
    agent = json.dumps({"status": "success", "data": [item]})
    array = json.dumps([item])
    for text in (pup, agent, array, json.dumps(item)):
        (ev,) = list(iter_decode(text.encode()))
        assert (ev.id, ev.evt_name, ev.action, ev.usr_email) == ("a1", "Monitor", "deleted", "x@example.com")


def test_ndjson_mixed_api_and_archive_lines():
    archive = (REF / "elastic_archive.ndjson").read_text().splitlines()[0]
    api = json.dumps(api_item("z9", {"action": "login"}))
    events = list(iter_decode(f"{api}\n\n{archive}\n".encode()))
    assert [e.id for e in events] == ["z9", "id-000113"]


def test_odd_field_types_fall_back_without_failing():
    inner = {
        "usr": "not-an-object",
        "http": {"status_code": "0", "method": 5},
        "metadata": {"mcp": {"request_id": 100082}, "api_key": {"id": 12345}, "app_key": {"id": "app-1"}},
        "network": {"client": {"ip": "203.0.113.9", "geoip": {"as": {"number": "as7922"}, "location": []}}},
        "evt": {"actor": {"type": "support_user"}},
    }
    (ev,) = list(iter_decode(json.dumps({"data": [api_item("odd", inner)]}).encode()))
    assert ev.usr_email is None
    assert ev.http_status == 0 and ev.http_method == "5"
    assert ev.api_key_id == "12345" and ev.app_key_id == "app-1"  # app_key alias (quirk 6)
    assert ev.asn == 7922 and ev.lat is None
    assert ev.actor_type == "support_user"


def test_inner_timestamp_variants_and_epoch():
    assert parse_timestamp("2022-04-13T09:21:13.750599") == parse_timestamp("2022-04-13T09:21:13.750Z")
    assert parse_timestamp("2026-07-31T19:23:48.52Z") == parse_timestamp("2026-07-31T19:23:48.520Z")
    assert parse_timestamp("2022-04-13T09:29:59Z") == 1649842199000
    assert parse_timestamp(1649842199000) == 1649842199000
    assert parse_timestamp("1649842199000") == 1649842199000
    assert parse_timestamp(1649842199) == 1649842199000
    assert parse_timestamp("yesterday") is None
    assert parse_asn("AS396982") == 396982 and parse_asn(64496) == 64496 and parse_asn("n/a") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("truncated.json", "truncated JSON"),
        ("events.csv", "not JSON audit data (looks like CSV)"),
        ("empty.json", "empty input"),
        ("strings.json", "[0]: expected an audit event object, found a string"),
        ("not_audit.json", "expected an audit event"),
        ("bad_ndjson.ndjson", "truncated JSON"),
    ],
)
def test_broken_inputs_give_one_line_errors_naming_file_and_position(name, expected):
    path = BROKEN / name
    with pytest.raises(DecodeError) as info:
        list(iter_decode(path.read_bytes(), str(path)))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_error_positions():
    with pytest.raises(DecodeError) as info:
        list(iter_decode((BROKEN / "bad_ndjson.ndjson").read_bytes(), "f.ndjson"))
    assert info.value.line == 2
    with pytest.raises(DecodeError) as info:
        list(iter_decode(b'{"data": [1, 2]}', "nums.json"))
    assert "data[0]" in str(info.value)
    with pytest.raises(DecodeError) as info:
        list(
            iter_decode(
                b'{"data": [\n  {"id": "a", "attributes": {"timestamp": "2026-01-01T00:00:00Z"}},\n  {"id": x}\n]}',
                "m.json",
            )
        )
    assert info.value.line == 3


def test_raw_is_kept_and_api_item_for_archive():
    (ev,) = [e for e in iter_decode((REF / "elastic_archive.ndjson").read_bytes()) if e.id == "id-000113"]
    assert msgspec.json.decode(ev.raw)["_id"] == "id-000113"
    item = ev.api_item()
    assert item["id"] == "id-000113" and item["attributes"]["timestamp"] == "2026-07-31T19:23:18.758Z"
    assert item["attributes"]["attributes"]["metadata"]["api_key"]["id"] == "id-000111"
    assert ev.inner()["route"]["path"] == "/api/v2/query/scalar"


def test_needle_prefilter_decodes_only_matching_items():
    data = (REF / "elastic_archive.ndjson").read_bytes()
    assert [e.id for e in iter_decode(data, needle=b"id-000111")] == ["id-000113"]
    page = (REF / "api_page_0.json").read_bytes()
    assert [e.usr_uuid for e in iter_decode(page, needle=b"32e2d7b6")] == [
        "32e2d7b6-52e4-11ec-a7e4-da7ad0900002"
    ]
    assert list(iter_decode(page, needle=b"no-such-thing")) == []
