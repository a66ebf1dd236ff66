"""The machine-readable result: the JSON contract of ``audit --format json``.

Field names here are fixed by the audit model; fields may be added, never renamed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.model import UTC, CaseResult, Finding, Handoff


def iso(at: datetime | None) -> str | None:
    """UTC, second precision, with a Z: the form every output uses."""
    if at is None:
        return None
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def handoff_json(handoff: Handoff | None) -> dict[str, str] | None:
    return None if handoff is None else {"from": handoff.source, "to": handoff.target}


def finding_json(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule,
        "kind": finding.kind.value,
        "handoff": handoff_json(finding.handoff),
        "at": iso(finding.at),
        "events": list(finding.events),
        "message": finding.message,
    }
    if finding.latency is not None:
        data["latency_seconds"] = int(finding.latency.total_seconds())
    if finding.check_next:
        data["check_next"] = finding.check_next
    return data


def case_json(result: CaseResult) -> dict[str, Any]:
    systems: dict[str, Any] = {}
    for holding in sorted(result.case.holdings, key=lambda h: h.system.name):
        primary = min(holding.records, key=lambda r: (r.created.sort_key if r.created else result.as_of, r.ref), default=None)
        entry: dict[str, Any] = {
            "role": holding.system.role.value,
            "platform": holding.system.platform,
            "presence": holding.presence.value,
            "ref": primary.ref if primary else None,
            "native_status": primary.native_status if primary else None,
            "fulfillment": primary.fulfillment.value if primary else None,
            "financial": primary.financial.value if primary else None,
            "fetched_at": iso(holding.fetched_at),
        }
        if len(holding.records) > 1:
            entry["refs"] = sorted(r.ref for r in holding.records)
        systems[holding.system.name] = entry
    divergence = result.first_divergence
    return {
        "case": result.case.ref,
        "origin": result.case.origin,
        "verdict": result.verdict.value,
        "as_of": iso(result.as_of),
        "systems": systems,
        "findings": [finding_json(f) for f in result.findings],
        "first_divergence": None
        if divergence is None
        else {
            "at": iso(divergence.at),
            "system": divergence.system,
            "event": divergence.event.value if divergence.event else None,
            "event_id": divergence.event_id,
            "handoff": handoff_json(divergence.handoff),
            "rule": divergence.rule,
        },
    }
