"""Property tests for the decoder (issue 7, malformed input).

(a) Any bytes either decode or raise a one-line DecodeError/InputError naming the source (and a line that
    exists); never another exception. (b) Valid API items whose optional fields hold any JSON value always
    decode, keep their raw bytes exactly, and read each field the same way on the typed and the tolerant
    path. (c) Every input shape of the same items yields the same events.

Examples are derandomised and the database is off, so CI runs exactly the same cases every time.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddaudit_tui.events.decode import (
    DecodeError,
    _any_decoder,
    _tolerant,
    decode_page,
    iter_decode,
    parse_timestamp,
)
from ddaudit_tui.events.record import KIND_ARCHIVE, Event
from ddaudit_tui.sources.files import InputError, load_files

PROPS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SOURCE = "in/put.json"

# -- strategies ----------------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond int64 too: msgspec's typed path refuses those
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "AS396982", "2026-07-31T19:23:18.758Z", "true", "[bold]x[/]", "\x1b[2J", "évé 名"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)

# Paths inside the inner event object that the record reads (decode.py `_from_inner`), and the record
# attribute each one fills when it holds a plain string.
STRING_FIELDS: dict[tuple[str, ...], str] = {
    ("evt", "name"): "evt_name",
    ("evt", "actor", "type"): "actor_type",
    ("evt", "actor", "mode"): "actor_mode",
    ("action",): "action",
    ("auth_method",): "auth_method",
    ("usr", "id"): "usr_id",
    ("usr", "email"): "usr_email",
    ("usr", "uuid"): "usr_uuid",
    ("usr", "name"): "usr_name",
    ("delegator", "id"): "delegator_id",
    ("delegator", "name"): "delegator_name",
    ("asset", "type"): "asset_type",
    ("asset", "id"): "asset_id",
    ("asset", "name"): "asset_name",
    ("http", "method"): "http_method",
    ("http", "useragent"): "useragent",
    ("http", "url_details", "path"): "http_path",
    ("http", "url_details", "host"): "http_host",
    ("route", "path"): "route_path",
    ("network", "client", "ip"): "client_ip",
    ("network", "client", "geoip", "country", "name"): "country",
    ("network", "client", "geoip", "country", "iso_code"): "country_iso",
    ("network", "client", "geoip", "city", "name"): "city",
    ("network", "client", "geoip", "as", "name"): "asn_name",
    ("metadata", "api_key", "id"): "api_key_id",
    ("metadata", "tool", "name"): "tool_name",
    ("metadata", "client", "name"): "mcp_client",
    ("org", "uuid"): "org_uuid",
    ("org", "name"): "org_name",
}
# Read too, but into numbers, tuples or through a normalisation: any value must simply not break them.
OTHER_FIELDS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("http", "status_code"),
    ("network", "client", "geoip", "location", "latitude"),
    ("network", "client", "geoip", "location", "longitude"),
    ("network", "client", "geoip", "as", "number"),
    ("network", "client", "geoip", "timezone"),
    ("metadata", "application_key", "id"),
    ("metadata", "oauth_client", "name"),
    ("threat_intel", "results"),
    ("threat_intel",),
    ("tags",),
    ("usr",),
    ("network",),
    ("evt",),
    ("asset", "prev_value"),
)
ALL_PATHS = (*STRING_FIELDS, *OTHER_FIELDS)

ids = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24
)
# 2001 .. 2100 in epoch ms, written the way the API writes it (or as an epoch number, as some exports do).
timestamps_ms = st.integers(min_value=978_307_200_000, max_value=4_102_444_799_000)


def ms_to_dt(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _set(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> bool:
    """Set obj[path] = value, creating parents; False when a parent already holds a non-object."""
    for part in path[:-1]:
        nxt = obj.setdefault(part, {})
        if not isinstance(nxt, dict):
            return False
        obj = nxt
    obj[path[-1]] = value
    return True


def _lookup(obj: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


@st.composite
def api_items(draw: st.DrawFn, id_: str | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    chosen = draw(st.lists(st.sampled_from(ALL_PATHS), max_size=10, unique=True))
    # Deeper paths first; a one-part path (`usr`, `network`) only takes an odd value when nothing was placed
    # under it, so both "odd leaf" and "odd parent" cases occur.
    for path in sorted(chosen, key=len, reverse=True):
        value = draw(json_values | st.text(max_size=20))
        if isinstance(inner.get(path[0]), dict) and len(path) == 1:
            continue  # keep the deeper values already placed under this parent
        _set(inner, path, value)
    ms = draw(timestamps_ms)
    outer: dict[str, Any] = {
        "timestamp": draw(st.sampled_from([ms_to_dt(ms), ms, ms // 1000 * 1000])),
        "attributes": inner,
    }
    for key in ("message", "service", "tags"):
        if draw(st.booleans()):
            outer[key] = draw(json_values)
    item: dict[str, Any] = {"id": id_ if id_ is not None else draw(ids), "attributes": outer}
    if draw(st.booleans()):
        item["type"] = "audit"
    return item


def expected_string(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dumps(obj: Any, ascii_only: bool) -> bytes:
    return json.dumps(obj, ensure_ascii=ascii_only).encode()


# -- (a) any bytes --------------------------------------------------------------------------------------

VALID_PAGE = json.dumps(
    {
        "data": [
            {
                "id": f"AQAAA{i}",
                "type": "audit",
                "attributes": {
                    "timestamp": f"2026-07-31T19:23:1{i}.758Z",
                    "message": "m",
                    "tags": ["source:audit"],
                    "attributes": {"evt": {"name": "Request"}, "usr": {"email": "a@example.com"}},
                },
            }
            for i in range(3)
        ],
        "meta": {"page": {"after": "c"}},
    },
    indent=1,
).encode()
VALID_NDJSON = b"\n".join(json.dumps(d).encode() for d in json.loads(VALID_PAGE)["data"]) + b"\n"

TOKENS = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"', b":", b",", b" ", b"\n", b"\r\n", b"\t", b"\\", b'"data"', b'"id"',
     b'"attributes"', b'"timestamp"', b'"date"', b'"_id"', b'"status"', b'"success"', b'"type"', b'"x"',
     b"null", b"true", b"0", b"-1", b"1e400", b"123456789012345678901234567890", b"2026", b'"2026-07-31T19:23:18Z"',
     b"\xef\xbb\xbf", b"\xff\xfe", b"\x1f\x8b", b"\x00", b"\xff", b"\xc3\xa9", b"\xed\xa0\x80", b"<html>",
     b"a,b,c", b"key: v"]
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid document with a few bytes cut, replaced or inserted: the inputs closest to real damage."""
    buf = bytearray(draw(st.sampled_from([VALID_PAGE, VALID_NDJSON])))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(buf)))
        op = draw(st.sampled_from(["cut", "replace", "insert", "truncate"]))
        if op == "truncate":
            del buf[at:]
        elif op == "cut":
            del buf[at : at + draw(st.integers(1, 8))]
        elif op == "replace" and at < len(buf):
            buf[at] = draw(st.integers(0, 255))
        else:
            buf[at:at] = draw(TOKENS)
    return bytes(buf)


any_input = st.one_of(
    st.binary(max_size=200),
    st.lists(TOKENS, max_size=30).map(b"".join),
    mutated(),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(900, 3000)),  # nesting beyond the recursion limit
    st.builds(lambda n: b'{"data":' + b"[" * n, st.integers(1, 3000)),
)


def assert_one_line_error(message: str, source: str, buf: bytes, line: int | None) -> None:
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(source + ":"), message
    assert "Traceback" not in message
    if line is not None:
        assert 1 <= line <= buf.count(b"\n") + 1, (line, message)
        assert message.startswith(f"{source}:{line}"), message


@PROPS
@given(any_input)
def test_any_bytes_decode_or_give_a_one_line_error(buf: bytes):
    try:
        events = list(iter_decode(buf, SOURCE))
    except DecodeError as exc:
        assert exc.source == SOURCE
        assert_one_line_error(str(exc), SOURCE, buf, exc.line)
        return
    for ev in events:
        assert isinstance(ev, Event) and isinstance(ev.id, str) and ev.id
        assert 0 <= ev.ts < 253_402_300_800_000  # a year datetime can show
    # The key lookup's pushdown reads the same input: it fails or succeeds the same way.
    assert [e.id for e in iter_decode(buf, SOURCE, needle=b"AQAAA1")] == [
        e.id for e in events if b"AQAAA1" in e.raw
    ]


@PROPS
@given(any_input)
def test_any_api_response_body_decodes_or_gives_a_one_line_error(buf: bytes):
    try:
        events, meta = decode_page(buf, "<api>")
    except DecodeError as exc:
        assert_one_line_error(str(exc), "<api>", buf, exc.line)
        return
    assert isinstance(meta, dict) and all(isinstance(e, Event) for e in events)


_TMP = tempfile.TemporaryDirectory(prefix="ddaudit-decode-props-")


@PROPS
@given(any_input, st.booleans())
def test_any_file_loads_or_gives_a_one_line_input_error(buf: bytes, compress: bool):
    path = Path(_TMP.name) / ("input.json.gz" if compress else "input.json")
    path.write_bytes(gzip.compress(buf, mtime=0) if compress else buf)
    try:
        store = load_files([str(path)])
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"{path}:")
        return
    # Compressed or not, the same bytes give the same events.
    assert [e.id for e in store.events] == [e.id for e in load_files_plain(buf)]


def load_files_plain(buf: bytes) -> list[Event]:
    from ddaudit_tui.events.store import EventStore

    store = EventStore()
    store.extend(iter_decode(buf, SOURCE))
    return store.events


def test_any_bytes_examples_reach_the_interesting_cases():
    """The strategies above do produce every kind of failure, not only "not JSON" (guards the tests)."""
    samples = [
        b"[" * 2000 + b"]" * 2000,
        VALID_NDJSON.replace(b'"id": "AQAAA1"', b'"id": AQAAA1'),
        VALID_PAGE[: len(VALID_PAGE) // 2],
        b'{"status": 1e400, "data": "x"}',
        b'{"data": [{"id": "a", "attributes": {"timestamp": 1e300}}]}',
        b'{"data": [{"id": {"x": 1}, "attributes": {"timestamp": "2026-01-01T00:00:00Z"}}]}',
        b'{"data": [{"id": "a", "attributes": {"timestamp": "2026-01-01T00:00:00Z", "message": "\xff"}}]}',
        b'{"id": "a", "attributes": {"timestamp": 123456789012345678901234567890}}',
    ]
    messages = []
    for buf in samples:
        with pytest.raises(DecodeError) as info:
            list(iter_decode(buf, SOURCE))
        assert_one_line_error(str(info.value), SOURCE, buf, info.value.line)
        messages.append(str(info.value))
    assert "nested too deeply" in messages[0]
    assert messages[1].startswith(f"{SOURCE}:2:") and "malformed JSON" in messages[1]
    assert "truncated JSON" in messages[2]
    assert "`data` is not an array" in messages[3]
    assert "timestamp" in messages[4] and "timestamp" in messages[7]  # out of any clock's range
    assert "expected an audit event" in messages[5]
    assert "UTF-8" in messages[6]


# -- (b) valid items with odd values in every optional field ---------------------------------------------


@PROPS
@given(api_items(), st.booleans())
def test_valid_items_with_any_json_in_optional_fields_decode_and_keep_their_bytes(
    item: dict[str, Any], ascii_only: bool
):
    item_bytes = dumps(item, ascii_only)
    page = b'{"data": [' + item_bytes + b'], "meta": {"page": {}}}'
    (ev,) = list(iter_decode(page, SOURCE))
    assert ev.id == item["id"]
    assert ev.ts == parse_timestamp(item["attributes"]["timestamp"])
    # The raw item is kept byte for byte, and reads back as the same JSON.
    assert ev.raw == item_bytes
    assert ev.item() == item and ev.api_item() == item
    # Typed fast path and tolerant walk agree, whatever the field types.
    assert _tolerant(ev.raw, _any_decoder.decode(ev.raw)) == ev
    inner = item["attributes"]["attributes"]
    for path, attr in STRING_FIELDS.items():
        present, value = _lookup(inner, path)
        assert getattr(ev, attr) == (expected_string(value) if present else None), (path, value)
    for key, attr in (("message", "message"), ("service", "service")):
        assert getattr(ev, attr) == expected_string(item["attributes"].get(key)), key
    # Derived views never raise on odd values either.
    assert isinstance(ev.actor, str)
    assert ev.endpoint is None or isinstance(ev.endpoint, str)
    assert isinstance(ev.inner(), dict)
    # The API client's page decoder reads the same item the same way.
    (api_ev,), _meta = decode_page(page)
    assert api_ev == ev


@PROPS
@given(api_items())
def test_an_archive_line_of_the_same_item_reads_the_same_fields(item: dict[str, Any]):
    line = dumps(to_archive(item), ascii_only=False)
    (ev,) = list(iter_decode(line, SOURCE))
    assert ev.kind == KIND_ARCHIVE and ev.raw == line
    (api_ev,) = list(iter_decode(dumps(item, ascii_only=False), SOURCE))
    for attr in (*STRING_FIELDS.values(), "id", "ts", "message", "http_status", "asn", "lat", "tags"):
        assert getattr(ev, attr) == getattr(api_ev, attr), attr
    # In the API item shape again, the inner object and the id survive the trip.
    assert ev.api_item()["attributes"]["attributes"] == item["attributes"]["attributes"]
    assert ev.api_item()["id"] == item["id"]


# -- (c) every input shape gives the same events ----------------------------------------------------------


def to_archive(item: dict[str, Any]) -> dict[str, Any]:
    """The Datadog log-archive line for an API item (reference/audit-events.md §1)."""
    attrs = item["attributes"]
    line: dict[str, Any] = {"date": attrs["timestamp"], "_id": item["id"], "attributes": attrs["attributes"]}
    for key in ("message", "service", "tags"):
        if key in attrs:
            line[key] = attrs[key]
    line["source"] = "audit"
    return line


def shapes(items: list[dict[str, Any]]) -> dict[str, bytes]:
    page = {"data": items, "meta": {"page": {"after": "x"}}, "links": {"next": "https://x/?a=<b>&c"}}
    # `pup -o json`: keys sorted, indented, and <, >, & escaped the way Go's encoder does.
    pup = json.dumps(page, sort_keys=True, indent=2)
    pup = pup.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    out = {
        "api page": json.dumps(page).encode(),
        "pup json": pup.encode(),
        "agent envelope": json.dumps({"status": "success", "data": items}, ensure_ascii=False).encode(),
        "array": json.dumps(items, indent=1).encode(),
        "ndjson": b"\n".join(json.dumps(i, ensure_ascii=False).encode() for i in items) + b"\n",
        "ndjson crlf + blank lines": b"\r\n\r\n".join(json.dumps(i).encode() for i in items),
        "archive lines": b"\n".join(json.dumps(to_archive(i)).encode() for i in items),
        "utf-8 bom": b"\xef\xbb\xbf" + json.dumps(page).encode(),
    }
    if len(items) == 1:
        out["single item, pretty"] = json.dumps(items[0], indent=2).encode()
    return out


@st.composite
def item_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
    return [draw(api_items(id_=name)) for name in names]


def summary(events: list[Event]) -> list[tuple[Any, ...]]:
    return [(e.id, e.ts, e.action, e.usr_email, e.api_key_id, e.evt_name, e.http_status) for e in events]


@settings(PROPS, max_examples=60)
@given(item_lists())
def test_every_input_shape_yields_the_same_events(items: list[dict[str, Any]]):
    expected_ids = [i["id"] for i in items]
    results = {name: list(iter_decode(buf, name)) for name, buf in shapes(items).items()}
    reference = summary(results["api page"])
    assert [r[0] for r in reference] == expected_ids
    for name, events in results.items():
        assert summary(events) == reference, name
    # A gzip-compressed archive file, read the way `--input` reads it.
    path = Path(_TMP.name) / "archive.ndjson.gz"
    path.write_bytes(gzip.compress(shapes(items)["archive lines"], mtime=0))
    assert summary(load_files([str(path)]).events) == sorted(
        reference, key=lambda r: (r[1], r[0]), reverse=True
    )


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "1970-01-01T00:-1:00.000Z", "9999-12-31T23:00:00.000Z",
     "9999-06-01T00:00:00", -1, 10**20, 1e300, float("inf"), float("nan")],
)  # fmt: skip
def test_timestamps_no_clock_wrote_are_not_timestamps(value: Any):
    # Twice: the first call fills the per-hour cache, the second reads from it.
    assert parse_timestamp(value) is None and parse_timestamp(value) is None


def test_timestamps_at_the_edges_of_the_range():
    assert parse_timestamp("1970-01-01T00:00:00.000Z") == 0
    assert parse_timestamp("9998-12-31T23:59:59.999Z") == 253_370_764_799_999
