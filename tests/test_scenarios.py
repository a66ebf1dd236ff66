"""Every bundled scenario audits to the verdict, rules and first divergence its scenario.toml expects."""

from __future__ import annotations

import pytest

from audit.engine import audit_case
from audit.rules import RULE_IDS
from tui.ingest import bundled_scenarios, read_scenario, scenario_case

FOLDERS = sorted(p.parent for p in bundled_scenarios().glob("*/scenario.toml"))


def test_there_are_enough_scenarios_and_together_they_fire_every_rule():
    assert len(FOLDERS) >= 12
    fired = set()
    for folder in FOLDERS:
        case, _ = scenario_case(read_scenario(folder))
        fired |= {f.rule for f in audit_case(case).findings}
    assert not set(RULE_IDS) - fired, f"no scenario fires {sorted(set(RULE_IDS) - fired)}"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_scenario_audits_as_expected(folder):
    scenario = read_scenario(folder)
    assert scenario.expected is not None, "every bundled scenario states what it expects"
    case, payloads = scenario_case(scenario)
    result = audit_case(case)
    assert payloads, "a scenario carries its payloads"
    assert result.verdict.value == scenario.expected.verdict, [f.message for f in result.findings]
    if scenario.expected.rules is not None:
        assert sorted({f.rule for f in result.findings}) == sorted(scenario.expected.rules), [f.message for f in result.findings]
    expected = scenario.expected.divergence
    divergence = result.first_divergence
    if expected is None:
        assert divergence is None
    else:
        assert divergence is not None
        assert divergence.rule == expected["rule"]
        handoff = (divergence.handoff.source, divergence.handoff.target) if divergence.handoff else (None, None)
        assert handoff == (expected.get("from"), expected.get("to"))
