"""The faster record builder (issue 16 item 4) gives the records the former one gave, field for field.

`events/decode.py` builds each `Event` with straight-line code and positional arguments instead of a dict
of keyword arguments. `legacy_typed_decode.py` keeps the former builder; every input below is decoded by
both — the demo org's events (API items and archive lines), every fixture (recorded pages, real shapes,
broken files: the same events or the same error), and generated items with odd values in every field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import legacy_typed_decode as legacy
import msgspec
import pytest
from hypothesis import given
from test_decode_properties import PROPS, api_items, to_archive

from ddaudit_tui.demo.org import generate
from ddaudit_tui.events import decode
from ddaudit_tui.events.decode import DecodeError, decode_item, decode_page, iter_decode
from ddaudit_tui.events.record import KIND_API, KIND_ARCHIVE, Event

FIXTURES = Path(__file__).parent.parent / "fixtures"
END_MS = 1_785_525_780_000


def both(raw: bytes, kind: str | None = None) -> tuple[Event, Event]:
    new = decode_item(raw, "<t>", kind)
    try:
        if kind == KIND_ARCHIVE or (kind is None and decode._is_archive(raw)):
            old = legacy._typed_archive(raw, "<t>")
        else:
            old = legacy._typed_api(raw, "<t>")
    except (msgspec.DecodeError, decode._NotAudit):
        old = decode._tolerant(raw, msgspec.json.decode(raw))  # both fall back to the same walk
    return new, old


def fields(ev: Event) -> dict[str, Any]:
    return {name: getattr(ev, name) for name in ev.__struct_fields__}


@pytest.fixture(scope="module")
def demo_items() -> list[dict[str, Any]]:
    return generate(seed=7, end_ms=END_MS)


def test_the_demo_orgs_events_give_equal_records_as_api_items_and_archive_lines(demo_items) -> None:
    assert len(demo_items) > 20_000
    for item in demo_items:
        new, old = both(msgspec.json.encode(item), KIND_API)
        assert fields(new) == fields(old), item["id"]
        assert new == old
    for item in demo_items[::7]:
        new, old = both(msgspec.json.encode(to_archive(item)))
        assert new.kind == KIND_ARCHIVE and new == old


def test_a_demo_search_page_decodes_to_the_same_records(demo_items) -> None:
    payload = msgspec.json.encode({"data": demo_items[:1000], "meta": {"page": {"after": "c"}}})
    events, meta = decode_page(payload)
    expected = [both(msgspec.json.encode(item), KIND_API)[1] for item in demo_items[:1000]]
    assert events == expected and meta == {"page": {"after": "c"}}


def _read(path: Path) -> list[Event] | str:
    try:
        return list(iter_decode(path.read_bytes(), path.name))
    except DecodeError as exc:
        return f"error: {exc}"


FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".md")


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_gives_the_same_records_or_the_same_error(path: Path, monkeypatch) -> None:
    new = _read(path)
    monkeypatch.setattr(decode, "_typed_api", legacy._typed_api)
    monkeypatch.setattr(decode, "_typed_archive", legacy._typed_archive)
    old = _read(path)
    assert new == old
    if isinstance(new, list):
        assert [fields(e) for e in new] == [fields(e) for e in old]


def test_the_recorded_pages_are_read_by_the_new_builder() -> None:
    # Not vacuous: the reference pages do hold events, read on the typed path.
    events = _read(FIXTURES / "reference" / "api_page_0.json")
    assert isinstance(events, list) and len(events) == 2 and events[0].client_ip == "84.102.253.215"


@PROPS
@given(api_items())
def test_items_with_odd_values_anywhere_give_equal_records(item: dict[str, Any]) -> None:
    for raw in (json.dumps(item).encode(), json.dumps(to_archive(item)).encode()):
        new, old = both(raw)
        assert fields(new) == fields(old)


def test_the_builder_follows_the_records_field_order() -> None:
    # `_event` passes positional arguments in `_FIELDS` order; the module refuses to load otherwise.
    assert Event.__struct_fields__ == decode._FIELDS
    ev = decode_item(
        json.dumps(
            {
                "id": "x",
                "attributes": {
                    "timestamp": 1_785_525_780_000,
                    "tags": ["is_mcp_call:true"],
                    "attributes": {"org": {"uuid": "ou", "name": "on"}, "usr": {"id": 7}, "tags": [1]},
                },
            }
        ).encode()
    )
    assert (ev.org_uuid, ev.org_name, ev.usr_id, ev.is_mcp_call, ev.inner_tags) == (
        "ou",
        "on",
        "7",
        True,
        ("1",),
    )
