"""The spike watch's rules, as detections: what every ddaudit rule shares (a sliding-window threshold per
group, `detections.md` §7.1) and each rule's own definition.

The watch engine (`analysis/spikes.py`) evaluates the rules; they are data (`alerts/default_rules.toml`,
tuned or extended by the user's rules file), so their detections are made from the loaded rules
(`from_rule`) rather than written one module each. Labelled "ddaudit rule", never a Datadog detection.
"""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection, Param
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import ACTOR_FIELDS, DEFAULT_MAX_DURATION_MS, DEFAULT_WINDOW_MS, Rule

WATCH_RULE = "watch_rule"
REFERENCE = "detections.md §6.3 (ddaudit rule set, a proposal), §7.1 (bursts)"

# The parts every rule shares, with the defaults a rule gets when it does not say.
DETECTION = Detection(
    name=WATCH_RULE,
    title="Any ddaudit rule: at least `threshold` matching events (or distinct values) by one group within "
    "a sliding window of event time",
    analysis="watch",
    severity="the rule's own severity; one alert per burst, kept open while matches continue",
    reference=REFERENCE + "; rule format: alerts/default_rules.toml",
    params=(
        Param("threshold", 1, "events", "rules file: [rules.NAME] threshold", "matches needed in one window"),
        Param(
            "window",
            DEFAULT_WINDOW_MS // 1000,
            "s",
            "watch --window; rules file: [rules.NAME] window",
            "sliding window in event time",
        ),
        Param(
            "distinct",
            None,
            "field",
            "rules file: [rules.NAME] distinct",
            "count distinct values of this field instead of events",
        ),
        Param(
            "group_by",
            ACTOR_FIELDS,
            "fields",
            "rules file: [rules.NAME] group_by",
            "the group: the first field present wins ([] = one group)",
        ),
        Param(
            "severity", Severity.MEDIUM.word, "", "rules file: [rules.NAME] severity", "the alert's severity"
        ),
        Param(
            "max_duration",
            DEFAULT_MAX_DURATION_MS // 1000,
            "s",
            "rules file: [rules.NAME] max_duration",
            "an alert still going after this long is closed and may fire again",
        ),
    ),
    rank=0,
)


def from_rule(rule: Rule, default_window_ms: int = DEFAULT_WINDOW_MS) -> Detection:
    """One loaded watch rule as a detection (its name is the alerts' rule name)."""
    where = f"rules file: [rules.{rule.name}]"
    params = [
        Param(
            "threshold", rule.threshold, "events" if not rule.distinct else "values", f"{where} threshold", ""
        ),
        Param(
            "window",
            rule.window(default_window_ms) // 1000,
            "s",
            f"{where} window" + ("" if rule.window_ms is not None else "; watch --window"),
            "",
        ),
    ]
    if rule.distinct:
        params.append(Param("distinct", rule.distinct, "field", f"{where} distinct", ""))
    if tuple(rule.group_by) != ACTOR_FIELDS:
        params.append(Param("group_by", tuple(rule.group_by), "fields", f"{where} group_by", ""))
    state = "" if rule.enabled else " (disabled)"
    paging = "" if rule.page else "; never pages"
    return Detection(
        name=rule.name,
        title=(rule.description or rule.query) + state,
        analysis="watch",
        severity=f"{rule.severity.word} when {rule.threshold_text(default_window_ms)}{paging}",
        reference=f"{REFERENCE}; query: {rule.query}",
        params=tuple(params),
        rank=1,
    )
