"""Runs the rules over a case: verdict and first divergence."""

from __future__ import annotations

from datetime import datetime

from audit.model import (
    Case,
    CaseResult,
    Divergence,
    Finding,
    FindingKind,
    ThreetruthError,
    Verdict,
)
from audit.rules import RULES, CaseView
from audit.settings import AuditSettings

# Verdict precedence from the audit model; unknown findings never set the verdict.
PRECEDENCE: tuple[FindingKind, ...] = (
    FindingKind.MISMATCH,
    FindingKind.MISSING_RECORD,
    FindingKind.MISSING_HANDOFF,
    FindingKind.DELAY,
)
_SEVERITY = {kind: rank for rank, kind in enumerate(PRECEDENCE)}


def as_of_for(case: Case) -> datetime:
    """The audit's "now" for a case: its newest fetch time, never the wall clock."""
    newest = case.newest_fetch
    if newest is None:
        raise ThreetruthError(f"case {case.ref}: no fetch time on any record; pass --as-of", title="No as-of time")
    return newest


def audit_case(case: Case, settings: AuditSettings | None = None, as_of: datetime | None = None) -> CaseResult:
    """Audit one case as of the given time (default: its newest fetch)."""
    settings = settings or AuditSettings()
    moment = as_of or as_of_for(case)
    view = CaseView(case, settings, moment)
    findings = [finding for rule in RULES.values() for finding in rule(view)]
    if len(findings) > 1:
        findings.sort(key=_finding_order)
    return CaseResult(
        case=case,
        verdict=verdict_of(findings),
        findings=tuple(findings),
        first_divergence=first_divergence(findings, view),
        as_of=moment,
    )


def verdict_of(findings: list[Finding] | tuple[Finding, ...]) -> Verdict:
    if not findings:
        return Verdict.IN_SYNC
    kinds = {f.kind for f in findings}
    for kind in PRECEDENCE:
        if kind in kinds:
            return Verdict(kind.value)
    return Verdict.IN_SYNC


def first_divergence(findings: list[Finding], view: CaseView) -> Divergence | None:
    """The earliest event where the truth split.

    Among the findings that describe disagreement now or wrong data (mismatch,
    missing record, missing handoff), the earliest wins; a delay that later
    caught up is only the answer when nothing worse happened. Ties go to a
    handoff the topology declares, then to the more severe finding.
    """
    significant = [f for f in findings if f.kind is not FindingKind.UNKNOWN]
    if not significant:
        return None
    worse = [f for f in significant if f.kind is not FindingKind.DELAY]
    chosen = min(worse or significant, key=lambda f: _divergence_order(f, view))
    anchor = next((e for f in view.systems.values() for e in f.events if chosen.events and e.id == chosen.events[0]), None)
    return Divergence(
        at=chosen.at,
        system=anchor.system if anchor else (chosen.systems[0] if chosen.systems else None),
        event=anchor.kind if anchor else None,
        event_id=anchor.id if anchor else None,
        handoff=chosen.handoff,
        rule=chosen.rule,
    )


def _divergence_order(finding: Finding, view: CaseView) -> tuple:
    declared = any(finding.handoff == handoff for _kind, handoff in view.routes)
    return (
        finding.at is None,
        finding.at.timestamp() if finding.at else 0.0,
        not declared,
        _SEVERITY.get(finding.kind, len(PRECEDENCE)),
        finding.rule,
        finding.handoff.source if finding.handoff else "",
        finding.handoff.target if finding.handoff else "",
    )


def _finding_order(finding: Finding) -> tuple:
    return (
        finding.at is None,
        finding.at.timestamp() if finding.at else 0.0,
        _SEVERITY.get(finding.kind, len(PRECEDENCE)),
        finding.rule,
        finding.handoff.source if finding.handoff else "",
        finding.handoff.target if finding.handoff else "",
        finding.message,
    )
