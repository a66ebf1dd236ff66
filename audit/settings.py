"""The audit's thresholds, with the audit model's defaults."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from audit.model import ThreetruthError
from audit.topology import DEFAULT_TOPOLOGY, Topology

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``"15m"``, ``"24h"``, ``"1h30m"``, ``"90s"``, ``"2d"`` as a timedelta."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ThreetruthError(f"not a duration: {text!r} (write e.g. 15m, 24h, 1h30m, 90s, 2d)")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """A duration as a person reads it: ``4h40m``, ``25m``, ``2d3h``."""
    seconds = int(abs(value.total_seconds()))
    # Under three days, hours read better than days: "44h", "24h".
    days, rest = divmod(seconds, 86400) if seconds >= 3 * 86400 else (0, seconds)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    text = "".join(parts) or f"{seconds}s"
    return text


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Thresholds and paths the rules read."""

    sync_tolerance: timedelta = timedelta(minutes=15)
    """How late a handoff may land before it counts as a delay."""
    stuck_after: timedelta = timedelta(hours=24)
    """How long a system may stay behind before the handoff counts as missing."""
    grace: timedelta = timedelta(hours=2)
    """How long after creation a system may still lack its record."""
    clock_skew: timedelta = timedelta(minutes=5)
    """How far two systems' clocks may disagree before an order of events counts."""
    amount_tolerance: Decimal = Decimal("0.01")
    """How far two order totals may differ (rounding) before they disagree."""
    topology: Topology = field(default=DEFAULT_TOPOLOGY)

    @classmethod
    def from_mapping(cls, audit: dict[str, Any] | None = None, topology: dict[str, Any] | None = None) -> AuditSettings:
        """Build from the config's ``[audit]`` and ``[topology]`` tables."""
        audit = dict(audit or {})
        known = {"sync_tolerance", "stuck_after", "grace", "clock_skew", "amount_tolerance"}
        unknown = sorted(set(audit) - known)
        if unknown:
            raise ThreetruthError(f"[audit]: unknown key {unknown[0]!r}; known keys are {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for key in ("sync_tolerance", "stuck_after", "grace", "clock_skew"):
            if key in audit:
                values[key] = parse_duration(str(audit[key]))
        if "amount_tolerance" in audit:
            try:
                values["amount_tolerance"] = Decimal(str(audit["amount_tolerance"]))
            except InvalidOperation:
                raise ThreetruthError(f"[audit]: amount_tolerance {audit['amount_tolerance']!r} is not a number") from None
        if topology:
            values["topology"] = Topology.from_mapping(topology)
        return cls(**values)

    @property
    def fingerprint(self) -> str:
        """A short digest that changes whenever a setting that affects verdicts changes."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]
