"""Investigation presets: each one finds the demo org's planted events, through the real client and fake API."""

from __future__ import annotations

import asyncio

import pytest

from ddaudit_tui.analysis.presets import (
    PARAMS,
    PRESETS,
    PresetError,
    build_query,
    expand_user,
    get_preset,
    identities,
    user_query,
)
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.incidents import HOSTILE_NAME, PLANTED
from ddaudit_tui.demo.org import generate
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window, resolve_window

END = 1_785_500_000_000
TIMES = PLANTED.times(END)


@pytest.fixture(scope="module")
def api() -> FakeDatadog:
    return FakeDatadog(generate(seed=7, events=6000, end_ms=END), clock=lambda: END / 1000)


def window_of(name: str) -> Window:
    return resolve_window(get_preset(name).default_from, "now", now=END / 1000)


def fetch(api: FakeDatadog, query: str, window: Window) -> list:
    async def go() -> list:
        client = DatadogClient(Credentials(DEMO_API_KEY, DEMO_APP_KEY), transport=api, page_limit=1000)
        try:
            result = await client.fetch(query, window)
            assert result.complete, result.warnings
            return result.events
        finally:
            await client.aclose()

    return asyncio.run(go())


def run_preset(api: FakeDatadog, name: str, **values: str) -> list:
    return fetch(api, build_query(name, values), window_of(name))


# -- the catalogue ------------------------------------------------------------------------------------


def test_every_issue_question_has_a_preset_with_valid_syntax():
    names = [p.name for p in PRESETS]
    assert names == [
        "deletions", "resource", "user", "logins", "failed-logins", "roles", "ip", "keys", "support",
        "audit-settings",
    ]  # fmt: skip
    for p in PRESETS:
        values = {n: PARAMS[n].example for n in p.params}
        parse_query(p.build(values))
        assert p.columns[0] == "timestamp"


def test_recipe_queries_are_kept_verbatim():
    assert build_query("deletions") == "@action:deleted"
    assert build_query("failed-logins") == "@evt.name:Authentication @action:login @status:error"
    assert build_query("logins") == "@evt.name:Authentication @action:login"
    assert build_query("roles") == '@evt.name:"Access Management"'
    assert build_query("ip", {"ip": "1.2.3.4"}) == '@network.client.ip:"1.2.3.4"'
    assert build_query("resource", {"resource": "abc-123"}) == '@asset.id:"abc-123"'
    assert get_preset("deletions").default_from == "24h"
    assert get_preset("keys").default_from == "90d"


def test_parameters_are_validated_and_quoted():
    with pytest.raises(PresetError, match="needs --ip"):
        build_query("ip")
    with pytest.raises(PresetError, match=r"--ip 'x y': expected client ip"):
        build_query("ip", {"ip": "x y"})
    with pytest.raises(PresetError, match="unknown preset 'nope' \\(known: deletions"):
        get_preset("nope")
    with pytest.raises(PresetError, match="--user"):
        build_query("user", {"user": 'a"b@example.com'})
    # A value with search-syntax characters cannot change the query's structure.
    q = build_query("resource", {"resource": "a)OR(b"})
    assert q == '@asset.id:"a)OR(b"'
    parse_query(q)


def test_user_query_covers_delegated_actions():
    q = user_query("emma@example.com", ids=("u-1", "emma@example.com"), names=("Emma W",))
    assert q == (
        '@usr.email:"emma@example.com" OR @delegator.id:("emma@example.com" OR "u-1") '
        'OR @delegator.name:"Emma W"'
    )
    assert user_query("a@b.c") == '@usr.email:"a@b.c" OR @delegator.id:"a@b.c"'


def test_identities_skip_emails_and_control_characters():
    class E:
        def __init__(self, **kw: str | None) -> None:
            self.usr_id, self.usr_uuid, self.usr_name = kw.get("i"), kw.get("u"), kw.get("n")

    ids, names = identities([E(i="42", u="uuid-1", n="Ann Lee"), E(i="42", n="ann@x.y"), E(n="\x1b[2Jevil")])
    assert ids == ("42", "uuid-1")
    assert names == ("Ann Lee",)


# -- each preset on the planted demo data ---------------------------------------------------------------


def test_deletions_shows_the_bulk_deletion_and_the_monitor_deletion(api):
    events = run_preset(api, "deletions")
    assert {e.action for e in events} == {"deleted"}
    by_matt = {e.asset_id for e in events if e.usr_email == PLANTED.bulk_deletion_user}
    assert len(by_matt) == PLANTED.bulk_deleted_dashboards
    assert PLANTED.monitor_deleted in {
        e.asset_id for e in events if e.usr_email == PLANTED.monitor_deletion_user
    }


def test_resource_shows_every_editor_of_the_shared_dashboard(api):
    events = run_preset(api, "resource", resource=PLANTED.shared_dashboard)
    assert events and {e.asset_id for e in events} == {PLANTED.shared_dashboard}
    assert set(PLANTED.shared_dashboard_editors) <= {e.usr_email for e in events}


def test_user_includes_what_ai_agents_did_on_their_behalf(api):
    window = window_of("user")
    user = PLANTED.ai_out_of_scope_user

    async def expand() -> str:
        client = DatadogClient(Credentials(DEMO_API_KEY, DEMO_APP_KEY), transport=api)
        try:
            return await expand_user(client, window, user)
        finally:
            await client.aclose()

    query = asyncio.run(expand())
    events = fetch(api, query, window)
    own = [e for e in events if e.usr_email == user]
    delegated = [e for e in events if e.usr_email != user]
    assert own and delegated
    # The Bits agent modified a monitor and a security rule for her (demo/incidents.py: ai_out_of_scope).
    assert {e.asset_type for e in delegated} >= {"monitor", "security_rule"}
    assert all(e.delegator_id == user or e.delegator_name for e in delegated)
    # The plain email query alone would have missed them.
    assert len(fetch(api, f'@usr.email:"{user}"', window)) == len(own)


def test_logins_carry_geography(api):
    events = run_preset(api, "logins")
    assert events and all(e.evt_name == "Authentication" and e.action == "login" for e in events)
    unusual = [
        e
        for e in events
        if e.usr_email == PLANTED.unusual_login_user and e.client_ip == PLANTED.unusual_login_ip
    ]
    assert unusual and unusual[0].country == "Brazil"


def test_failed_logins_show_the_brute_force(api):
    events = run_preset(api, "failed-logins")
    assert all(e.status == "error" for e in events)
    brute = [e for e in events if e.client_ip == PLANTED.brute_force_ip]
    assert len(brute) == PLANTED.brute_force_failures
    start = TIMES["brute_force_start"]
    assert all(start <= e.ts < start + 5 * 60_000 for e in brute)


def test_roles_show_the_role_grants_and_support_changes(api):
    events = run_preset(api, "roles")
    grants = [e for e in events if e.usr_email == PLANTED.role_grant_user and e.asset_type == "role"]
    assert len(grants) == PLANTED.role_grants
    assert any(e.usr_email == PLANTED.support_user for e in events)


def test_ip_shows_everything_from_the_brute_force_address(api):
    events = run_preset(api, "ip", ip=PLANTED.brute_force_ip)
    assert events and {e.client_ip for e in events} == {PLANTED.brute_force_ip}
    assert len([e for e in events if e.status == "error"]) == PLANTED.brute_force_failures


def test_keys_show_minting_and_the_compromised_keys_creation(api):
    events = run_preset(api, "keys")
    ids = {e.asset_id for e in events}
    assert set(PLANTED.minted_keys) <= ids
    assert PLANTED.compromised_key in ids
    assert {e.action for e in events} <= {"created", "deleted"}
    assert {e.asset_type for e in events} <= {"api_key", "application_key"}


def test_support_shows_only_support_user_actions(api):
    events = run_preset(api, "support")
    assert events and {e.usr_email for e in events} == {PLANTED.support_user}
    assert {e.actor_type for e in events} == {"SUPPORT_USER"}


def test_audit_settings_finds_the_retention_change(api):
    events = run_preset(api, "audit-settings")
    changes = [e for e in events if e.asset_type == "audit_logs_settings"]
    assert [e.usr_email for e in changes] == [PLANTED.audit_settings_user]
    assert abs(changes[0].ts - TIMES["audit_settings_change"]) < 1000


def test_a_hostile_asset_name_is_found_by_a_pivot_query_without_control_characters(api):
    from ddaudit_tui.analysis.explore import facet_term

    term = facet_term("@asset.name", HOSTILE_NAME)
    assert not any(ord(c) < 32 or c == "\x7f" or c == "\u202e" for c in term)
    events = fetch(api, term, Window(END - 90 * 86_400_000, END))
    assert events and all(
        e.item()["attributes"]["attributes"]["asset"]["name"] == HOSTILE_NAME for e in events
    )


def test_user_and_the_ai_pane_agree_on_who_acted_for_whom(api):
    """Issue 13 item 24: a SYSTEM Bits AI SRE task the AI analysis attributes to the person who started the
    investigation (shared request/session id) is in that person's `user` preset too."""
    from ddaudit_tui.analysis.ai import DEFAULT_BASE_QUERY, attribute_events

    window = window_of("user")
    ai_events = fetch(api, DEFAULT_BASE_QUERY, window)
    calls = attribute_events(ai_events)
    system_bits = [c for c in calls if c.event.actor_type == "SYSTEM" and c.event.evt_name == "Bits AI SRE"]
    humans = {c.human for c in system_bits if c.human and not c.human.startswith("(")}
    assert humans, "the demo has SYSTEM Bits AI SRE tasks of a person's investigation"
    for human in humans:

        async def expand(user: str = human) -> str:
            client = DatadogClient(Credentials(DEMO_API_KEY, DEMO_APP_KEY), transport=api)
            try:
                return await expand_user(client, window, user)
            finally:
                await client.aclose()

        found = {e.id for e in fetch(api, asyncio.run(expand()), window)}
        theirs = {c.event.id for c in calls if c.human == human}
        assert theirs <= found, f"{human}: {len(theirs - found)} AI events the preset misses"
