"""Search queries about the people and clients of AI calls: quoting event values, and every identifier a
person appeared with (pure; shared by `ai_investigation`'s baseline questions and `ai_engine`'s fetches)."""

from __future__ import annotations

from collections.abc import Iterable

from ddaudit_tui.analysis.ai_calls import AiCall

# People and clients that are not a person or a client.
_NOBODY = frozenset({"(system)", "(unknown)"})


def quote(value: str) -> str:
    """A value as a quoted query term: backslashes and quotes escaped (values come from event data)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def identity_clause(idents: Iterable[str], delegator: bool = False) -> str:
    """`(@usr.email:"a" OR @usr.id:"a" OR …)` over every identifier known for a person; with
    `delegator`, also their delegated actions (`audit-events.md` §4.2: `@usr.id:X OR @delegator.id:X`)."""
    terms: list[str] = []
    for ident in dict.fromkeys(i for i in idents if i):
        if "@" in ident:
            fields = ["@usr.email", "@usr.id"] + (["@delegator.id"] if delegator else [])
        elif " " in ident:  # a full name: delegators are sometimes known only by name
            fields = ["@usr.name"] + (["@delegator.name"] if delegator else [])
        else:
            fields = ["@usr.id", "@usr.uuid"] + (["@delegator.id"] if delegator else [])
        terms += [f"{f}:{quote(ident)}" for f in fields]
    return "(" + " OR ".join(terms) + ")"


def _identities(calls: Iterable[AiCall]) -> dict[str, list[str]]:
    """Per person (lower-cased key): every identifier they appeared with in the window."""
    out: dict[str, dict[str, None]] = {}
    for c in calls:
        key = c.human.lower()
        if key in _NOBODY:
            continue
        bucket = out.setdefault(key, {c.human: None})
        e = c.event
        vals = (e.delegator_id, e.delegator_name) if c.delegated else (e.usr_email, e.usr_id, e.usr_uuid)
        for v in vals:
            if v:
                bucket.setdefault(v, None)
    return {k: list(v) for k, v in out.items()}


__all__ = ["identity_clause", "quote"]
