"""The key lookup's verdict (from its flags) and the recipe's recommended actions (`detections.md` §3.4),
each completed with what this key actually did.

Verdict: `likely compromised` with a critical flag or high flags of ≥ 2 different signals; `suspicious`
with any high or medium flag; otherwise `no evidence`.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ddaudit_tui.analysis import detections
from ddaudit_tui.analysis.detections.key_context import ts
from ddaudit_tui.analysis.key_model import Creation, Destructive, KeyChange, Resource
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.events.record import Event

VERDICT_COMPROMISED = "likely compromised"
VERDICT_SUSPICIOUS = "suspicious"
VERDICT_NONE = "no evidence"

__all__ = ["VERDICT_COMPROMISED", "VERDICT_NONE", "VERDICT_SUSPICIOUS", "recommended_actions", "verdict"]

_SIGNAL_ORDER = tuple(d.name for d in detections.for_analysis("key"))

if TYPE_CHECKING:  # annotations only: pydantic (~0.2 s) loads when the API Keys endpoint is asked
    from ddaudit_tui.sources.api_keys import ApiKeyInfo


def verdict(flags: list[Flag], n_events: int) -> tuple[str, list[str]]:
    critical = [f for f in flags if f.severity == Severity.CRITICAL]
    high = [f for f in flags if f.severity == Severity.HIGH]
    medium = [f for f in flags if f.severity == Severity.MEDIUM]
    high_signals = sorted({f.signal for f in high}, key=_SIGNAL_ORDER.index)
    reasons: list[str] = []
    for f in critical:
        reasons.append(f"critical: {f.reason}")
    if critical or len(high_signals) >= 2:
        if high_signals:
            reasons.append(
                f"{len(high)} high-severity flags across {len(high_signals)} signals: "
                + ", ".join(high_signals)
            )
        return VERDICT_COMPROMISED, reasons
    if high or medium:
        for f in high:
            reasons.append(f"high: {f.reason}")
        med_signals = sorted({f.signal for f in medium}, key=_SIGNAL_ORDER.index)
        if medium:
            reasons.append(f"{len(medium)} medium-severity flags: " + ", ".join(med_signals))
        if not high:
            reasons.append("no high-severity flag: worth a look, not proof of compromise")
        else:
            reasons.append("only one high-severity signal: corroborate before revoking")
        return VERDICT_SUSPICIOUS, reasons
    if n_events == 0:
        return VERDICT_NONE, ["no events for this key in the window"]
    low = [f for f in flags if f.severity <= Severity.LOW]
    if low:
        reasons.append(
            f"only {len(low)} low/informational flags (" + ", ".join(sorted({f.signal for f in low})) + ")"
        )
    else:
        reasons.append(f"no anomaly in {n_events} events")
    return VERDICT_NONE, reasons


def _resource_label(rtype: str | None, rid: str | None, name: str | None) -> str:
    text = " ".join(p for p in (rtype or "resource", rid) if p)
    return f'{text} "{name}"' if name else text


def recommended_actions(
    key_id: str,
    evs: list[Event],
    created: Creation | None,
    changes: list[KeyChange],
    destructive: list[Destructive],
    affected: list[Resource],
    api_key: ApiKeyInfo | None,
) -> list[str]:
    """The recipe's four actions, in its words, each completed with what this key actually did."""
    deleted = [c for c in changes if c.action == "deleted"]
    if deleted:
        d = deleted[-1]
        revoke = f"already revoked on {ts(d.ts)}" + (f" by {d.actor}" if d.actor else "")
    else:
        revoke = f"`ddaudit revoke {key_id}`, or Organization Settings > API Keys > Revoke"
    actions = [f"Revoke the key immediately if not already done — {revoke}"]

    if affected:
        items = [
            _resource_label(r.resource_type, r.resource_id, r.name) + f" ({', '.join(r.actions)})"
            for r in affected[:10]
        ]
        more = f"; and {len(affected) - 10} more" if len(affected) > 10 else ""
        actions.append("Review affected resources: " + "; ".join(items) + more)
    else:
        actions.append("Review affected resources: none recorded — the key only read data")

    if destructive:
        items = [_resource_label(d.resource_type, d.resource_id, d.resource_name) for d in destructive[:10]]
        more = f"; and {len(destructive) - 10} more" if len(destructive) > 10 else ""
        actions.append("Check if any deleted resources need restoration: " + "; ".join(items) + more)
    else:
        actions.append("Check if any deleted resources need restoration — no deletions recorded")

    who: list[str] = []
    if created is not None and created.created_by:
        who.append(
            f"created by {created.created_by}"
            + (f" on {ts(created.created_at)}" if created.created_at else "")
        )
    users = sorted({e.actor for e in evs if e.actor != "(unknown)"})
    if users:
        who.append("used as " + ", ".join(users[:5]))
    agents = [ua for ua, _ in Counter(e.useragent for e in evs if e.useragent).most_common(5)]
    if agents:
        who.append("clients: " + ", ".join(agents))
    if api_key is not None and api_key.name:
        who.insert(0, f"key name {api_key.name!r}")
    actions.append("Audit who else had access to this key" + (" — " + "; ".join(who) if who else ""))
    return actions
