"""`token_leaked`: Datadog's Security Notification or the API Keys endpoint's leak fields (with the key's lifecycle they come with)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import DAY, KEY, LONDON_BT, NYC_VERIZON, OTHER_KEY, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import TOKEN_LEAKED, VERDICT_COMPROMISED  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402
from ddaudit_tui.sources.api_keys import ApiKeyInfo, UserRef  # noqa: E402


def _created(ts: int) -> dict:
    return item(
        ts, NYC_VERIZON, key=None, method="POST", path="/api/v2/api_keys", action="created", evt="Authentication",
        asset_type="api_key", asset_id=KEY, asset_name="ci", usr_email="marcus@example.com",
    )  # fmt: skip


def test_creation_revocation_and_leak_notification():
    note = item(
        T0 + 2 * DAY, {}, key=None, method=None, path=None, action="notification", evt="Security Notification",
        asset_type="api_key", asset_id=KEY.upper(), usr_email=None, message="API key leaked on GitHub",
        new_value={"leak_source": "github", "url": "https://github.com/x/y"},
    )  # fmt: skip
    revoked = item(
        T0 + 3 * DAY, LONDON_BT, key=None, method="DELETE", path=f"/api/v2/api_keys/{KEY}", action="deleted",
        evt="Authentication", asset_type="api_key", asset_id=KEY, usr_email="sec@example.com",
    )  # fmt: skip
    other = dict(_created(T0), id="other-key-created")
    other["attributes"]["attributes"]["asset"]["id"] = OTHER_KEY
    r = run([item(T0 + DAY, NYC_VERIZON)], related_items=[_created(T0), note, revoked, other])
    c = r.created
    assert (c.created_at, c.created_by, c.creator_ip, c.creator_country, c.source) == (
        T0,
        "marcus@example.com",
        "198.51.100.214",
        "United States",
        "audit trail",
    )
    assert [(k.action, k.actor) for k in r.key_changes] == [
        ("created", "marcus@example.com"),
        ("deleted", "sec@example.com"),
    ]
    assert r.revoked.ts == T0 + 3 * DAY
    [n] = r.notifications
    assert (n.leak_source, n.url, n.message) == (
        "github",
        "https://github.com/x/y",
        "API key leaked on GitHub",
    )
    [f] = by_signal(r, TOKEN_LEAKED)
    assert (f.severity, f.event_ids, f.subject) == (Severity.CRITICAL, (note["id"],), KEY)
    assert f.reason == (
        "Datadog Security Notification on 2026-06-03 00:00:00Z: this key was leaked, source: github; it should be revoked"
    )
    assert r.verdict == VERDICT_COMPROMISED
    assert r.recommended_actions[0] == (
        "Revoke the key immediately if not already done — already revoked on 2026-06-04 00:00:00Z by sec@example.com"
    )
    assert r.recommended_actions[3] == (
        "Audit who else had access to this key — created by marcus@example.com on 2026-06-01 00:00:00Z; "
        "used as svc@example.com; clients: python-requests/2.31.0"
    )


def test_api_key_metadata_fills_creation_and_leak():
    info = ApiKeyInfo(
        id=KEY, name="ci", last4="abcd", created_at="2026-05-01T10:00:00+00:00",
        created_by=UserRef(id="u1", email="alice@example.com"), leaked=True, leak_date="2026-06-02", leak_source="github",
    )  # fmt: skip
    r = run([item(T0, NYC_VERIZON)], api_key=info, api_key_status="found")
    assert (r.created.created_by, r.created.source, r.created.creator_ip) == (
        "alice@example.com",
        "API Keys endpoint",
        None,
    )
    [f] = by_signal(r, TOKEN_LEAKED)
    assert (
        f.reason
        == "the API Keys endpoint reports this key as leaked on 2026-06-02 (source: github); it should be revoked"
    )
    assert r.recommended_actions[3].startswith(
        "Audit who else had access to this key — key name 'ci'; created by alice"
    )
