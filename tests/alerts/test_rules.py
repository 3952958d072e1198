"""Rules as data: the shipped defaults, user files that tune/disable/add rules, and one-line errors
naming the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddaudit_tui.alerts.rules import RULE_LABEL, RulesError, default_rules, load_rules, parse_rules_text
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import ACTOR_FIELDS
from ddaudit_tui.config import ConfigError
from ddaudit_tui.events.query import parse_query

M = 60_000


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_cover_the_issue_and_parse():
    rules = {r.name: r for r in default_rules()}
    expected = {
        "role_changes": (3, None, None, Severity.HIGH),
        "api_key_creation": (3, None, None, Severity.HIGH),
        "monitor_deletion": (1, None, None, Severity.MEDIUM),
        "bulk_deletion": (10, "asset.id", 10 * M, Severity.HIGH),
        "audit_settings_change": (1, None, None, Severity.HIGH),
        "support_admin_action": (1, None, None, Severity.HIGH),
        "access_policy_change": (1, None, None, Severity.MEDIUM),
        "leaked_key_notification": (1, None, None, Severity.CRITICAL),
        "unusual_login_notification": (1, None, None, Severity.HIGH),
        "log_config_change": (1, None, None, Severity.MEDIUM),
    }
    for name, (threshold, distinct, window, severity) in expected.items():
        r = rules[name]
        assert (r.threshold, r.distinct, r.window_ms, r.severity) == (
            threshold,
            distinct,
            window,
            severity,
        ), name
    for r in rules.values():
        parse_query(r.query)
        assert r.description and r.enabled and r.page
    assert rules["role_changes"].group_by == ACTOR_FIELDS
    assert rules["leaked_key_notification"].group_by[0] == "asset.id"
    assert RULE_LABEL == "ddaudit rule"


def test_user_file_tunes_disables_and_adds(tmp_path):
    path = write(
        tmp_path,
        """
[rules.role_changes]
threshold = 5
window = "30m"

[rules.monitor_deletion]
enabled = false

[rules.notebook_purge]
query = "@evt.name:Notebook @action:deleted"
threshold = 4
window = 600
distinct = "@asset.id"
group_by = "usr.email"
severity = "LOW"
description = "  many   notebooks deleted "
page = false
""",
    )
    rs = load_rules(path)
    assert rs.origin == f"defaults + {path}"
    role = rs.get("role_changes")
    assert role.threshold == 5 and role.window_ms == 30 * M and role.query == rs.get("role_changes").query
    assert rs.get("monitor_deletion").enabled is False
    assert "monitor_deletion" not in {r.name for r in rs.enabled}
    nb = rs.get("notebook_purge")
    assert (nb.threshold, nb.window_ms, nb.distinct, nb.group_by) == (4, 10 * M, "asset.id", ("usr.email",))
    assert nb.severity is Severity.LOW and nb.description == "many notebooks deleted" and nb.page is False
    assert "notebook_purge" in {r.name for r in rs.enabled}
    assert "Notebook" in rs.union_query()


def test_include_defaults_false_starts_empty(tmp_path):
    path = write(tmp_path, 'include_defaults = false\n[rules.only]\nquery = "@action:deleted"\n')
    rs = load_rules(path)
    assert [r.name for r in rs.rules] == ["only"] and rs.origin == str(path)
    only = rs.get("only")
    assert only.threshold == 1 and only.window_ms is None and only.severity is Severity.MEDIUM


def test_group_by_none_and_actor_keywords():
    [none] = parse_rules_text('[rules.a]\nquery = "*"\ngroup_by = []\n')
    [actor] = parse_rules_text('[rules.b]\nquery = "*"\ngroup_by = "actor"\n')
    assert none.group_by == () and actor.group_by == ACTOR_FIELDS


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[rules.role_changes]\ntreshold = 3\n", "rule 'role_changes': field 'treshold': unknown field"),
        (
            '[rules.role_changes]\nthreshold = "three"\n',
            "rule 'role_changes': field 'threshold': expected a whole number",
        ),
        ("[rules.role_changes]\nthreshold = 0\n", "field 'threshold'"),
        ("[rules.role_changes]\nthreshold = true\n", "field 'threshold'"),
        ('[rules.x]\nquery = "@evt.name:(a OR"\n', "rule 'x': field 'query': query error at column"),
        ('[rules.x]\nquery = ""\n', "rule 'x': field 'query': expected a non-empty string"),
        ("[rules.x]\nthreshold = 2\n", "rule 'x': field 'query': required for a new rule"),
        (
            '[rules.x]\nquery = "*"\nseverity = "urgent"\n',
            "rule 'x': field 'severity': unknown severity 'urgent'",
        ),
        ('[rules.x]\nquery = "*"\nwindow = "15 fortnights"\n', "rule 'x': field 'window': invalid duration"),
        ('[rules.x]\nquery = "*"\nwindow = "30d"\n', "rule 'x': field 'window': expected between 1s and 7d"),
        ('[rules.x]\nquery = "*"\nenabled = "no"\n', "rule 'x': field 'enabled': expected true or false"),
        ('[rules.x]\nquery = "*"\ngroup_by = 3\n', "rule 'x': field 'group_by'"),
        ('[rules.x]\nquery = "*"\ndistinct = 5\n', "rule 'x': field 'distinct'"),
        ('[rules.x]\nquery = "*"\nwindow = "1h"\nmax_duration = "10m"\n', "rule 'x': field 'max_duration'"),
        ('[rules."bad name"]\nquery = "*"\n', "rule 'bad name': invalid rule name"),
        ("[rules]\nx = 3\n", "rule 'x': expected a [rules.x] table"),
        ("rules = 3\n", "'rules' must be a table"),
        ("thresholds = 3\n", "unknown top-level key 'thresholds'"),
        ("include_defaults = 1\n", "include_defaults: expected true or false"),
        ("[rules.x\nquery = 1\n", "invalid TOML"),
    ],
)
def test_malformed_files_get_one_line_naming_rule_and_field(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(str(path))
    assert "\n" not in message
    assert isinstance(info.value, ConfigError)  # the CLI maps it to exit code 2


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(RulesError, match="no such rules file"):
        load_rules(tmp_path / "nope.toml")
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RulesError, match="not a UTF-8"):
        load_rules(bad)


def test_default_rules_path_env(tmp_path, monkeypatch):
    from ddaudit_tui.alerts.rules import default_rules_path

    path = write(tmp_path, "")
    monkeypatch.setenv("DDAUDIT_RULES", str(path))
    assert default_rules_path() == path
    monkeypatch.delenv("DDAUDIT_RULES")
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "config.toml"))
    assert default_rules_path() == path  # rules.toml next to the config file
