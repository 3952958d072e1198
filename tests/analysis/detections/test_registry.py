"""The detection pack itself (`analysis/detections/__init__.py`): every detection is found, named once,
documented with its parameters, tested beside it, and is the only place the key and AI analyses raise
flags — so `ddaudit detections` lists every signal they can raise."""

from __future__ import annotations

import ast
import asyncio
import importlib
import sys
from dataclasses import fields
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import DEMO_END, demo_source  # noqa: E402

from ddaudit_tui.analysis import detections  # noqa: E402
from ddaudit_tui.analysis.ai_model import AiConfig  # noqa: E402
from ddaudit_tui.analysis.key_investigation import investigate_key  # noqa: E402
from ddaudit_tui.analysis.key_model import KeyAnalysisConfig  # noqa: E402
from ddaudit_tui.analysis.keys import SIGNAL_ORDER, SIGNAL_TITLES  # noqa: E402
from ddaudit_tui.demo.org import PLANTED  # noqa: E402

PACKAGE = Path(detections.__file__).parent
ANALYSIS = PACKAGE.parent
TESTS = Path(__file__).parent
HELPERS = {"__init__", "key_context", "ai_context"}  # shared by detections, not detections themselves

KEY_SIGNALS = (
    "token_leaked", "new_country", "vpn_asn", "impossible_travel", "concurrent_ips", "burst",
    "destructive_action", "off_hours", "first_seen_asn", "hosting_asn", "first_seen_ip",
)  # fmt: skip
AI_SIGNALS = (
    "ai_destructive", "ai_support_user", "ai_first_time_user", "ai_new_client", "ai_burst", "ai_out_of_scope",
)  # fmt: skip


def test_every_key_and_ai_signal_is_registered_in_report_order():
    # (a new detection may slot in anywhere by its rank; these keep their relative order)
    key = [d.name for d in detections.for_analysis("key")]
    ai = [d.name for d in detections.for_analysis("ai")]
    assert [n for n in key if n in KEY_SIGNALS] == list(KEY_SIGNALS)
    assert [n for n in ai if n in AI_SIGNALS] == list(AI_SIGNALS)
    # the key lookup's order and titles are the pack's
    assert list(SIGNAL_ORDER) == key
    assert SIGNAL_TITLES["new_country"] == "Country not in org's normal baseline"
    names = [d.name for d in detections.registry()]
    assert len(names) == len(set(names))
    assert {d.analysis for d in detections.registry()} == set(detections.ANALYSES)


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.stem)
def test_each_module_is_one_detection_with_its_test(path: Path):
    if path.stem in HELPERS:
        return
    module = importlib.import_module(f"{detections.__name__}.{path.stem}")
    found = [d for d in detections.registry() if d.name == path.stem]
    assert getattr(module, "DETECTION", None) in found
    assert len(found) == 1, f"{path.name} must define DETECTION named {path.stem!r}"
    assert (TESTS / f"test_{path.stem}.py").exists(), (
        f"tests/analysis/detections/test_{path.stem}.py is missing"
    )
    d = found[0]
    assert d.title and d.severity and "detections.md" in d.reference
    if d.analysis in ("key", "ai"):
        assert callable(d.detect)


def test_every_tunable_parameter_is_documented_with_its_default():
    """A new field in the analysis configs must be listed as some detection's parameter (or be excluded
    here with a reason), and the listed defaults are the configs' own."""
    not_detection_params = {"max_evidence", "max_buckets"}  # evidence cap, timeline resolution
    for analysis, cls in (("key", KeyAnalysisConfig), ("ai", AiConfig)):
        listed = {p.name: p for d in detections.for_analysis(analysis) for p in d.params}
        defaults = cls()
        for f in fields(cls):
            if f.name in not_detection_params:
                continue
            assert f.name in listed, f"{cls.__name__}.{f.name} is no detection's parameter"
            assert listed[f.name].default == getattr(defaults, f.name)
            assert listed[f.name].unit, f"{cls.__name__}.{f.name} has no unit"


def _constructs_flags(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Flag":
            return True
    return False


@pytest.mark.parametrize(
    "name", ["keys", "key_model", "key_verdict", "ai", "ai_calls", "ai_model", "ai_baseline", "ai_recipe"]
)
def test_flags_are_raised_only_by_registered_detections(name: str):
    assert not _constructs_flags(ANALYSIS / f"{name}.py"), (
        f"analysis/{name}.py raises a flag outside the pack"
    )


def test_the_demo_compromised_key_raises_only_registered_signals():
    source = demo_source()
    report = asyncio.run(
        investigate_key(source, PLANTED.compromised_key, source.default_window(), now_ms=DEMO_END)
    )
    raised = {f.signal for f in report.flags}
    assert raised and raised <= set(KEY_SIGNALS)
