"""The AI-activity recipe's weekly summary, computed exactly as its jq does (`detections.md` §4.3):
jq's total order of values (`jq_sort_key`), `group_by` / `unique` / stable `sort_by`, and the three raw
JSON values the recipe reads from each event. `ai.py` uses it so `ddaudit ai --format json` can be
checked against the recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ddaudit_tui.events.record import KIND_ARCHIVE, Event

__all__ = ["jq_sort_key", "jq_values", "recipe_summary", "recipe_summary_counts"]


def jq_sort_key(value: Any) -> tuple[Any, ...]:
    """A sort key giving jq's total order: null < false < true < numbers < strings < arrays < objects.

    Strings compare by code point (= jq's UTF-8 byte order), arrays element-wise (shorter first on a
    common prefix), objects by their sorted key lists, then by values in key order. Numbers compare as
    doubles, like jq 1.6, so 1 and 1.0 are one group.
    """
    if value is None:
        return (0,)
    if value is False:
        return (1,)
    if value is True:
        return (2,)
    if isinstance(value, int | float):
        return (3, float(value))
    if isinstance(value, str):
        return (4, value)
    if isinstance(value, list | tuple):
        return (5, tuple(jq_sort_key(v) for v in value))
    if isinstance(value, dict):
        keys = sorted(value)
        return (6, tuple(keys), tuple(jq_sort_key(value[k]) for k in keys))
    return (4, str(value))  # not JSON; never produced by decoding


def _jq_group_counts(values: Sequence[tuple[Any, int]]) -> list[tuple[Any, int]]:
    """`group_by(.) | map({k: .[0], n: length})` over (value, how many times): groups in jq order; each
    group's first member."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for v, n in values:
        g = groups.setdefault(jq_sort_key(v), [v, 0])
        g[1] += n
    return [(g[0], g[1]) for _key, g in sorted(groups.items(), key=lambda kv: kv[0])]


def _jq_ranked(values: Sequence[tuple[Any, int]]) -> list[tuple[Any, int]]:
    # `sort_by(-.count)` is stable: ties keep group (jq key) order.
    return sorted(_jq_group_counts(values), key=lambda kv: -kv[1])


def recipe_summary(rows: Sequence[tuple[Any, Any, Any]]) -> dict[str, Any]:
    """The recipe's "Weekly summary report" jq, over (usr.email, action, asset.type) raw JSON values.

    Same keys, order and values as
    `{total_tool_calls, unique_users, top_users (5), actions_breakdown, resource_types}` in jq.
    """
    return recipe_summary_counts([(r, 1) for r in rows])


def recipe_summary_counts(rows: Sequence[tuple[tuple[Any, Any, Any], int]]) -> dict[str, Any]:
    """`recipe_summary` over (row, how many events have it): DDSQL's group-by counts (issue 16)."""
    users = [(r[0], n) for r, n in rows]
    return {
        "total_tool_calls": sum(n for _r, n in rows),
        "unique_users": len(_jq_group_counts(users)),
        "top_users": [{"user": u, "calls": n} for u, n in _jq_ranked(users)[:5]],
        "actions_breakdown": [{"action": a, "count": n} for a, n in _jq_ranked([(r[1], n) for r, n in rows])],
        "resource_types": [{"type": t, "count": n} for t, n in _jq_ranked([(r[2], n) for r, n in rows])],
    }


# Only the three paths the recipe reads, decoded from the raw item as plain JSON values (a number or
# object where a string is expected must sort as jq sorts it, so typed record fields will not do).
class _JqInner(msgspec.Struct):
    usr: Any = None
    action: Any = None
    asset: Any = None


class _JqOuter(msgspec.Struct):
    attributes: _JqInner | None = None


class _JqApiItem(msgspec.Struct):
    attributes: _JqOuter | None = None


class _JqArchiveItem(msgspec.Struct):
    attributes: _JqInner | None = None


_jq_api = msgspec.json.Decoder(_JqApiItem)
_jq_archive = msgspec.json.Decoder(_JqArchiveItem)


def _jq_get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def jq_values(event: Event) -> tuple[Any, Any, Any]:
    """(usr.email, action, asset.type) as jq reads them from `.attributes.attributes`."""
    inner: Any
    try:
        if event.kind == KIND_ARCHIVE:
            inner = _jq_archive.decode(event.raw).attributes
        else:
            outer = _jq_api.decode(event.raw).attributes
            inner = outer.attributes if outer is not None else None
    except msgspec.DecodeError:
        # An odd shape (e.g. `attributes` not an object): fall back to the record's own reading.
        return (event.usr_email, event.action, event.asset_type)
    if inner is None:
        return (None, None, None)
    return (_jq_get(inner.usr, "email"), inner.action, _jq_get(inner.asset, "type"))
