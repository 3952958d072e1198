"""The watch rules as detections: the parts every rule shares (with the engine's defaults) and each
shipped rule's own threshold, window and severity."""

from __future__ import annotations

from ddaudit_tui.alerts.rules import default_rules
from ddaudit_tui.analysis.detections import watch_rule
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import ACTOR_FIELDS, DEFAULT_MAX_DURATION_MS, DEFAULT_WINDOW_MS, Rule


def test_the_shared_parts_carry_the_engines_defaults():
    d = watch_rule.DETECTION
    assert (d.name, d.analysis, d.detect) == ("watch_rule", "watch", None)
    params = {p.name: p.default for p in d.params}
    bare = Rule("x", "*")
    assert params == {
        "threshold": bare.threshold,
        "window": DEFAULT_WINDOW_MS // 1000,
        "distinct": bare.distinct,
        "group_by": ACTOR_FIELDS,
        "severity": bare.severity.word,
        "max_duration": DEFAULT_MAX_DURATION_MS // 1000,
    }


def test_each_shipped_rule_is_a_detection_with_its_own_threshold():
    rules = {r.name: r for r in default_rules()}
    bulk = watch_rule.from_rule(rules["bulk_deletion"])
    assert (bulk.name, bulk.analysis) == ("bulk_deletion", "watch")
    assert bulk.severity == "high when ≥ 10 distinct asset.id in 10m"
    assert [(p.name, p.default, p.config_key) for p in bulk.params] == [
        ("threshold", 10, "rules file: [rules.bulk_deletion] threshold"),
        ("window", 600, "rules file: [rules.bulk_deletion] window"),
        ("distinct", "asset.id", "rules file: [rules.bulk_deletion] distinct"),
    ]
    leaked = watch_rule.from_rule(rules["leaked_key_notification"])
    assert leaked.severity.startswith("critical when ≥ 1 in 15m")
    assert ("group_by", ("asset.id", "usr.email", "usr.id")) in [(p.name, p.default) for p in leaked.params]
    # a rule on the watch's window says where that window is set
    assert watch_rule.from_rule(rules["monitor_deletion"]).params[1].config_key.endswith("watch --window")


def test_a_disabled_or_silent_rule_says_so():
    r = Rule("quiet", "@action:deleted", severity=Severity.LOW, enabled=False, page=False)
    d = watch_rule.from_rule(r)
    assert d.title == "@action:deleted (disabled)"
    assert d.severity == "low when ≥ 1 in 15m; never pages"
