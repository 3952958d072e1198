"""Search queries about the people and clients of AI calls: quoting event values, every identifier a
person appeared with, and one query for many of them (pure; shared by `ai_investigation`'s baseline
questions and `ai_engine`'s fetches).

Batching (issue 16: cost grows with groups and findings, not with people): a question asked of many people
is one search whose query ORs their clauses (`any_of`), its answer split back per person by evaluating each
person's clause on each event or DDSQL group (`matcher`) — the project's own query language, which the fake
API's search also speaks, so the split gives each person exactly what their own search would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ddaudit_tui.analysis.ai_calls import AiCall
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event

# People and clients that are not a person or a client.
_NOBODY = frozenset({"(system)", "(unknown)"})
# Characters of OR-ed clauses in one query. Datadog documents no limit for a search query
# (`datadog-api.md` §1) nor for a DDSQL statement (`ddsql-api.md` §13, "not documented"): this bound is
# ours, well inside what the search UI accepts, and past it the clauses go to more queries (`any_of`).
MAX_CLAUSE_CHARS = 4000


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


def client_clause(client: str) -> str:
    """The events of an OAuth / MCP client (either name field)."""
    q = quote(client)
    return f"(@metadata.oauth_client.name:{q} OR @metadata.client.name:{q})"


def any_of(clauses: Sequence[str], max_chars: int | None = None) -> list[tuple[str, list[int]]]:
    """The clauses OR-ed, as few queries as `max_chars` (default `MAX_CLAUSE_CHARS`) allows:
    (`(c1 OR c2 …)`, indexes of its clauses), in order. A clause longer than the bound goes alone (it was
    asked alone before)."""
    max_chars = MAX_CLAUSE_CHARS if max_chars is None else max_chars
    batches: list[list[int]] = []
    size = 0  # of the batch's query: its clauses, the " OR "s between them and the parentheses
    for i, clause in enumerate(clauses):
        if batches and size + 4 + len(clause) <= max_chars:
            batches[-1].append(i)
            size += 4 + len(clause)
        else:
            batches.append([i])
            size = 2 + len(clause)
    return [("(" + " OR ".join(clauses[i] for i in b) + ")", b) for b in batches]


def matcher(clause: str) -> Callable[[Event], bool]:
    """Whether an event (or a DDSQL group's stand-in) matches `clause`: the split of a batched answer."""
    return parse_query(clause).matches


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


__all__ = ["MAX_CLAUSE_CHARS", "any_of", "client_clause", "identity_clause", "matcher", "quote"]
