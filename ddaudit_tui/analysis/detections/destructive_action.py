"""`destructive_action`: the key deleted things — `deleted` events and DELETE requests (the lookup pairs
each request with the `deleted` event it caused, so one deletion counts once). One flag per resource type."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.detections import Detection, Param
from ddaudit_tui.analysis.detections.key_context import KeyContext, ts
from ddaudit_tui.analysis.key_model import Destructive
from ddaudit_tui.analysis.signals import Flag, Severity

DESTRUCTIVE = "destructive_action"

# Deleting these is sabotage or defence evasion (monitoring, logging, security and access configuration).
HIGH_IMPACT_TYPES = frozenset(
    {
        "monitor", "dashboard", "pipeline", "pipeline_processor", "index", "archive", "exclusion_filter",
        "exclusion filter", "log_forwarding", "security_rule", "cws_agent_rule", "notification_profile",
        "security_signal", "slo", "synthetics_test", "notebook", "api_key", "application_key", "role",
        "user", "restriction_policy", "identity_provider", "audit_logs_settings", "ip_allowlist",
        "integration", "retention_filter", "sensitive_data_scanner_scanning_group", "metric",
    }
)  # fmt: skip


def detect(ctx: KeyContext) -> list[Flag]:
    by_type: dict[str, list[Destructive]] = defaultdict(list)
    for d in ctx.destructive:
        by_type[d.resource_type or "unknown"].append(d)
    flags = []
    for rtype, ds in sorted(by_type.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        sev = Severity.HIGH if rtype.lower() in HIGH_IMPACT_TYPES else Severity.MEDIUM
        ids_txt = ", ".join(str(d.resource_id) for d in ds[:5]) + (
            f" (+{len(ds) - 5})" if len(ds) > 5 else ""
        )
        failed = sum(1 for d in ds if d.status is not None and d.status >= 400)
        fail_txt = f" ({failed} failed)" if failed else ""
        places = sorted({_place_of(d) for d in ds})
        reason = (
            f"{len(ds)} {rtype} deletion{'s' if len(ds) != 1 else ''}{fail_txt}: {ids_txt}; "
            f"{ts(ds[0].ts)} → {ts(ds[-1].ts)} from {', '.join(places)}"
        )
        ids: list[str] = []
        for d in ds:
            ids.append(d.event_id)
            ids.extend(d.related_ids)
        details = {"resource_type": rtype, "resource_ids": [d.resource_id for d in ds], "failed": failed}
        flags.append(Flag(DESTRUCTIVE, sev, reason, tuple(ids[: ctx.cfg.max_evidence]), rtype, details))
    return flags


def _place_of(d: Destructive) -> str:
    return " ".join(p for p in (d.ip, f"({d.country})" if d.country else None) if p) or "unknown origin"


DETECTION = Detection(
    name=DESTRUCTIVE,
    title="DELETE actions on monitors, dashboards, log pipelines or other resources",
    analysis="key",
    severity="high for monitoring, logging, security and access configuration (HIGH_IMPACT_TYPES); "
    "medium otherwise",
    reference="detections.md §3.1 step 4, §3.2 (key-compromise anomaly flags)",
    params=(
        Param(
            "high_impact_types",
            f"{len(HIGH_IMPACT_TYPES)} resource types",
            "",
            None,
            "deleting these is sabotage or defence evasion: monitor, dashboard, pipeline, index, …",
        ),
    ),
    detect=detect,
    rank=70,
)
