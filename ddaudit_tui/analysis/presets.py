"""Investigation presets: the questions of the dd-audit-security-investigation recipe as named queries.

Each preset is a query template with named parameters (a user, an IP, a resource id), the recipe's time
window and the columns its jq projection shows (`detections.md` §2.1). The TUI shows the query a preset
builds and lets the user edit it before it runs; `ddaudit search --preset NAME` runs it headless.

"What did user U do" must include what AI agents did on U's behalf: those events carry the agent in
`@usr.*` and U in `@delegator.id` / `@delegator.name` (`audit-events.md` §3.1). Delegator fields hold an
id and a full name rather than an email, so `expand_user` looks the person up in their own events and
widens the query with whatever identities it finds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ddaudit_tui.analysis.explore import quote_value
from ddaudit_tui.events.query import parse_query

__all__ = [
    "PARAMS",
    "PRESETS",
    "Param",
    "Preset",
    "PresetError",
    "build_query",
    "get_preset",
    "user_query",
]


class PresetError(ValueError):
    """An unknown preset, or a parameter missing or malformed: one line, a usage error."""


@dataclass(frozen=True)
class Param:
    name: str  # the placeholder in templates, and the CLI flag (`--user`)
    label: str
    example: str
    pattern: str = r".+"  # what a value must look like (a typo gets a precise error)

    def check(self, value: str) -> str:
        v = value.strip()
        if not v:
            raise PresetError(f"--{self.name}: empty value (e.g. --{self.name} {self.example})")
        if not re.fullmatch(self.pattern, v):
            raise PresetError(f"--{self.name} {v!r}: expected {self.label.lower()} such as {self.example}")
        return v


PARAMS: dict[str, Param] = {
    "user": Param("user", "User email", "alice@example.com", r"[^\s\"]+"),
    "ip": Param("ip", "Client IP", "203.0.113.7", r"[0-9A-Fa-f:.]+"),
    "resource": Param("resource", "Resource id", "abc-123-def", r"[^\s\"]+"),
}


@dataclass(frozen=True)
class Preset:
    name: str  # the `--preset` value
    title: str  # the question, as the menu shows it
    template: str  # search syntax; `{param}` placeholders are filled with quoted values
    default_from: str  # the recipe's window
    columns: tuple[str, ...]  # the recipe's jq projection, as field paths
    params: tuple[str, ...] = ()
    note: str = ""  # one line shown under the query: what the preset covers, and what it cannot
    keys: tuple[str, ...] = field(default=())  # extra words the picker matches on

    def build(self, values: Mapping[str, str] | None = None) -> str:
        """The query with every parameter filled in. Missing parameters are a PresetError."""
        values = values or {}
        filled: dict[str, str] = {}
        for name in self.params:
            raw = values.get(name)
            if raw is None or not str(raw).strip():
                p = PARAMS[name]
                raise PresetError(
                    f"preset {self.name!r} needs --{name} ({p.label.lower()}, e.g. {p.example})"
                )
            filled[name] = quote_value(PARAMS[name].check(str(raw)))
        if self.name == "user":
            return user_query(values["user"].strip())
        return self.template.format(**filled)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "deletions",
        "Who deleted resources",
        "@action:deleted",
        "24h",
        ("timestamp", "@usr.email", "@evt.actor.type", "@asset.type", "@asset.id",
         "@network.client.geoip.country.name"),
        keys=("delete", "removed"),
    ),
    Preset(
        "resource",
        "Who touched resource X",
        "@asset.id:{resource}",
        "7d",
        ("timestamp", "@usr.email", "@action", "@evt.name", "@asset.type", "@network.client.ip"),
        params=("resource",),
        keys=("asset", "changed", "modified"),
    ),
    Preset(
        "user",
        "What did user U do (incl. AI agents on their behalf)",
        "@usr.email:{user}",
        "7d",
        ("timestamp", "@usr.email", "@delegator.name", "@action", "@evt.name", "@asset.type", "@asset.id",
         "@network.client.ip", "@network.client.geoip.country.name"),
        params=("user",),
        note="includes actions where an AI agent acted for the user (@delegator.*)",
        keys=("activity", "delegator", "who"),
    ),
    Preset(
        "logins",
        "Logins with geography",
        "@evt.name:Authentication @action:login",
        "7d",
        ("timestamp", "@usr.email", "@status", "@network.client.ip", "@network.client.geoip.city.name",
         "@network.client.geoip.country.name", "@network.client.geoip.as.name"),
        keys=("geo", "country", "sign in"),
    ),
    Preset(
        "failed-logins",
        "Failed logins",
        "@evt.name:Authentication @action:login @status:error",
        "7d",
        ("timestamp", "@usr.email", "@network.client.ip", "@network.client.geoip.country.name"),
        keys=("brute force", "error", "invalid"),
    ),
    Preset(
        "roles",
        "Role and permission changes",
        '@evt.name:"Access Management"',
        "30d",
        ("timestamp", "@usr.email", "@action", "@asset.type", "@asset.id"),
        keys=("permission", "access", "grant"),
    ),
    Preset(
        "ip",
        "Everything from IP I",
        "@network.client.ip:{ip}",
        "30d",
        ("timestamp", "@usr.email", "@evt.actor.type", "@action", "@evt.name", "@asset.type"),
        params=("ip",),
        keys=("address", "origin"),
    ),
    Preset(
        "keys",
        "API and application key creation and deletion",
        "@evt.name:Authentication @asset.type:(api_key OR application_key) @action:(created OR deleted)",
        "90d",
        ("timestamp", "@usr.email", "@action", "@asset.type", "@asset.id", "@network.client.ip",
         "@network.client.geoip.country.name"),
        note="service-account app keys are also logged under Access Management: see the roles preset",
        keys=("api key", "app key", "token", "minted"),
    ),
    Preset(
        "support",
        "Datadog support actions",
        "@evt.actor.type:SUPPORT_USER",
        "30d",
        ("timestamp", "@usr.email", "@action", "@evt.name", "@asset.type", "@asset.id"),
        keys=("support_user", "privileged"),
    ),
    Preset(
        "audit-settings",
        "Audit Trail settings changes",
        '(@evt.name:"Organization Management" @asset.type:audit_logs_settings) '
        'OR (@evt.name:"Audit Trail" @action:modified)',
        "90d",
        ("timestamp", "@usr.email", "@action", "@evt.name", "@asset.type", "@asset.id"),
        note="settings changes are Organization Management events; the recipe's Audit Trail query is kept too",
        keys=("retention", "audit trail", "archive"),
    ),
)  # fmt: skip

_BY_NAME = {p.name: p for p in PRESETS}


def get_preset(name: str) -> Preset:
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise PresetError(f"unknown preset {name!r} (known: {known})") from None


def user_query(
    user: str,
    ids: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
    bits_requests: tuple[str, ...] = (),
    bits_sessions: tuple[str, ...] = (),
) -> str:
    """Everything a person did, and everything done on their behalf.

    `user` is matched as the actor's email and as a delegator id (some orgs, and the demo, use the
    email as the delegator id); `ids` and `names` are the person's other identities found in their
    own events (`usr.id`, `usr.uuid`, `usr.name`), matched against `@delegator.id` / `@delegator.name`.
    `bits_requests` / `bits_sessions`: the request and session ids of the Bits AI SRE investigations the
    person started; the SYSTEM tasks of those investigations carry no user and count for that person, as
    the AI analysis counts them (`analysis/ai.py`, attribution).
    """
    u = quote_value(PARAMS["user"].check(user))
    terms = [f"@usr.email:{u}"]
    delegator_ids = [u] + [quote_value(i) for i in ids if i and i != user]
    terms.append(f"@delegator.id:{_any_of(delegator_ids)}")
    if names:
        terms.append(f"@delegator.name:{_any_of([quote_value(n) for n in names])}")
    tasks = []
    if bits_requests:
        tasks.append(f"@metadata.dd.request_id:{_any_of([quote_value(r) for r in bits_requests])}")
    if bits_sessions:
        tasks.append(f"@metadata.session_id:{_any_of([quote_value(r) for r in bits_sessions])}")
    if tasks:
        joined = tasks[0] if len(tasks) == 1 else f"({' OR '.join(tasks)})"
        terms.append(f'(@evt.name:"Bits AI SRE" {joined})')
    return " OR ".join(terms)


def _any_of(quoted: list[str]) -> str:
    unique = list(dict.fromkeys(quoted))
    return unique[0] if len(unique) == 1 else f"({' OR '.join(unique)})"


def build_query(name: str, values: Mapping[str, str] | None = None) -> str:
    query = get_preset(name).build(values)
    parse_query(query)  # every preset must produce valid syntax whatever the values; fail loudly if not
    return query


def identities(events: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ids, names) of the actor in `events` (a user's own events): what a delegator field may hold."""
    ids: dict[str, None] = {}
    names: dict[str, None] = {}
    for e in events:  # type: ignore[attr-defined]
        for v in (getattr(e, "usr_id", None), getattr(e, "usr_uuid", None)):
            if isinstance(v, str) and v.isprintable() and v.strip():
                ids[v] = None
        n = getattr(e, "usr_name", None)
        if isinstance(n, str) and n.isprintable() and n.strip() and "@" not in n:
            names[n] = None
    return tuple(ids), tuple(names)


def bits_investigations(events: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(request ids, session ids) of the Bits AI SRE events in `events` (a person's own events)."""
    from ddaudit_tui.analysis.ai import bits_keys

    requests: dict[str, None] = {}
    sessions: dict[str, None] = {}
    for e in events:  # type: ignore[attr-defined]
        if (getattr(e, "evt_name", None) or "").lower() != "bits ai sre":
            continue
        rid, sid = bits_keys(e)
        for value, into in ((rid, requests), (sid, sessions)):
            if value and value.isprintable():
                into[value] = None
    return tuple(requests), tuple(sessions)


async def expand_user(source: object, window: object, user: str) -> str:
    """`user_query` widened with the identities found in the user's own events over `window`.

    One pushed-down search (`@usr.email:U`); the events it returns are part of the preset's answer
    anyway, so on a cached source the second fetch is cheap.
    """
    own = await source.fetch(f"@usr.email:{quote_value(PARAMS['user'].check(user))}", window)  # type: ignore[attr-defined]
    ids, names = identities(own.events)
    requests, sessions = bits_investigations(own.events)
    query = user_query(user, ids, names, requests, sessions)
    parse_query(query)
    return query
