"""What the screens show, worked out from an audited case: pure functions, no Textual.

The widgets draw these structures and the exports print them, so the grid and
the timeline a person reads on screen are the ones written to Markdown.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from audit.model import UTC, CaseResult, Event, EventKind, Finding, Presence, Record, Role
from audit.rules import is_shipped
from audit.settings import AuditSettings, format_duration

# --- verdicts and kinds ---------------------------------------------------------------

VERDICT_LABELS = {
    "mismatch": "MISMATCH",
    "missing_record": "NO RECORD",
    "missing_handoff": "NO HANDOFF",
    "delay": "DELAY",
    "in_sync": "IN SYNC",
    "not_audited": "UNAUDITED",
}
# The CSS state class of each verdict or finding kind (architecture.md: state through classes).
STATE_CLASSES = {
    "mismatch": "-mismatch",
    "missing_record": "-missing",
    "missing_handoff": "-missing",
    "delay": "-delay",
    "in_sync": "-in-sync",
    "unknown": "-unknown",
    "not_audited": "-unaudited",
}
KIND_MARKS = {"mismatch": "✖", "missing_record": "∅", "missing_handoff": "⇥", "delay": "◷", "unknown": "?"}
# What each kind means, for people who have not read the audit model.
KIND_MEANINGS = {
    "mismatch": "data that was wrong when it arrived",
    "missing_record": "a system that must hold the order holds nothing",
    "missing_handoff": "a state that never reached the next system",
    "delay": "late but correct data",
    "unknown": "a status the mapping does not know",
    "in_sync": "every system agrees",
}
_SEVERITY = {"mismatch": 0, "missing_record": 1, "missing_handoff": 2, "delay": 3, "unknown": 4}
ROLE_ORDER = {Role.MARKETPLACE: 0, Role.STOREFRONT: 1, Role.ERP: 2, Role.WMS: 3, Role.THREE_PL: 4, Role.MIDDLEWARE: 5}


def verdict_label(verdict: str | None) -> str:
    return VERDICT_LABELS.get(verdict or "not_audited", (verdict or "?").upper())


def state_class(verdict: str | None) -> str:
    return STATE_CLASSES.get(verdict or "not_audited", "-unknown")


# --- times ----------------------------------------------------------------------------


def utc(at: datetime | None, *, seconds: bool = False) -> str:
    """``2026-03-03 14:02Z``: UTC, as every screen shows a normalised time."""
    if at is None:
        return "—"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + "Z"


def short_utc(at: datetime | None) -> str:
    """``03-03 14:02``: month, day and time, for narrow columns."""
    return at.astimezone(UTC).strftime("%m-%d %H:%M") if at else "—"


def age(delta: timedelta) -> str:
    """A compact age: ``45m``, ``5h``, ``3d4h``, ``2y``."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    days = seconds // 86400
    if days < 10:
        hours = (seconds % 86400) // 3600
        return f"{days}d{hours}h" if hours else f"{days}d"
    if days < 730:
        return f"{days}d"
    return f"{days // 365}y"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def handoff_text(source: str | None, target: str | None) -> str:
    if not source or not target:
        return "within one system"
    return f"{source} → {target}"


# --- the three-truth grid ----------------------------------------------------------------


@dataclass(frozen=True)
class GridColumn:
    """One column of the grid: a record of a system, or a system that holds none."""

    system: str
    role: str
    platform: str
    presence: Presence
    record: Record | None = None
    fetched_at: datetime | None = None
    label: str = ""

    @property
    def missing_text(self) -> str:
        return "no record" if self.presence is Presence.ABSENT else "not fetched"


@dataclass(frozen=True)
class GridCell:
    text: str
    state: str = ""  # "", or a state class: -mismatch, -delay, -missing, -differs, -unknown
    source: str | None = None  # the field path the value came from, where the record says


@dataclass(frozen=True)
class GridRow:
    key: str
    label: str
    cells: tuple[GridCell, ...]

    @property
    def disagrees(self) -> bool:
        return any(c.state for c in self.cells)


@dataclass(frozen=True)
class Grid:
    columns: tuple[GridColumn, ...]
    rows: tuple[GridRow, ...]


# Which provenance names (Record.sources) each grid row reads, in order of preference.
ROW_SOURCES = {
    "status": ("status", "fulfillment"),
    "fulfillment": ("fulfillment", "status"),
    "financial": ("financial", "status"),
    "ordered": ("lines",),
    "shipped": ("lines", "fulfillment"),
    "cancelled": ("lines", "cancelled"),
    "tracking": ("tracking",),
    "total": ("total", "currency"),
    "created": ("created",),
    "updated": ("updated",),
}
# Which rows a finding's rule implicates, for the systems it names.
RULE_ROWS = {
    "state-conflict": ("fulfillment", "financial"),
    "quantity-mismatch": ("ordered", "shipped", "cancelled"),
    "tracking-mismatch": ("tracking",),
    "amount-mismatch": ("total",),
    "out-of-sequence": ("fulfillment",),
    "missing-handoff": ("fulfillment",),
    "sync-delay": ("fulfillment",),
    "status-regression": ("status", "fulfillment"),
    "unmapped-status": ("status",),
    "duplicate-record": ("status",),
    "missing-record": ("status",),
}
# Rows whose values mean the same in every system, so a plain difference is worth a highlight.
COMPARED_ROWS = ("fulfillment", "ordered", "shipped", "cancelled", "tracking", "total")


def _quantities(record: Record, attribute: str) -> dict[str, int]:
    totals: Counter = Counter()
    for line in record.lines:
        totals[line.sku] += getattr(line, attribute)
    return dict(totals)


def _quantity_text(values: dict[str, int]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        sku, count = next(iter(values.items()))
        return f"{count} {sku}"
    return " · ".join(f"{count} {sku}" for sku, count in sorted(values.items()))


def _stamp_text(record: Record, name: str) -> str:
    stamp = getattr(record, name)
    if stamp is None:
        return "—"
    if stamp.is_day:
        return f"{stamp.raw} (day)"
    return utc(stamp.earliest)


def _value(record: Record, key: str) -> tuple[object, str]:
    """(comparable value, display text) of one grid row for one record."""
    if key == "status":
        return record.native_status, record.native_status or "—"
    if key == "fulfillment":
        return record.fulfillment.value, record.fulfillment.value
    if key == "financial":
        return record.financial.value, record.financial.value
    if key in ("ordered", "shipped", "cancelled"):
        values = _quantities(record, key)
        return values, _quantity_text(values)
    if key == "tracking":
        return record.tracking, ", ".join(sorted(record.tracking)) or "—"
    if key == "total":
        value = (record.total, record.currency)
        if record.total is None:
            return value, "—"
        return value, f"{record.total} {record.currency or ''}".strip()
    if key in ("created", "updated"):
        return None, _stamp_text(record, key)
    raise KeyError(key)


GRID_ROWS = (
    ("status", "native status"),
    ("fulfillment", "fulfillment"),
    ("financial", "financial"),
    ("ordered", "qty ordered"),
    ("shipped", "qty shipped"),
    ("cancelled", "qty cancelled"),
    ("tracking", "tracking"),
    ("total", "total"),
    ("created", "created"),
    ("updated", "updated"),
    ("fetched", "fetched at"),
)


def grid_columns(result: CaseResult) -> tuple[GridColumn, ...]:
    """A column per record (a duplicated order gets one per copy), and one per system that holds none."""
    columns = []
    for holding in lane_order(result):
        system = holding.system
        records = sorted(holding.records, key=lambda r: (r.created.sort_key if r.created else result.as_of, r.ref))
        if not records:
            columns.append(GridColumn(system.name, system.role.value, system.platform, holding.presence, None, holding.fetched_at, system.name))
        for index, record in enumerate(records):
            label = system.name if len(records) == 1 else f"{system.name} {index + 1}/{len(records)}"
            columns.append(GridColumn(system.name, system.role.value, system.platform, holding.presence, record, holding.fetched_at, label))
    return tuple(columns)


def truth_grid(result: CaseResult) -> Grid:
    """The grid: rows of values per column, the cells that disagree marked with their state class."""
    columns = grid_columns(result)
    implicated: dict[tuple[str, str], str] = {}  # (row key, system) -> kind of the worst finding on it
    for finding in result.findings:
        for row in RULE_ROWS.get(finding.rule, ()):
            for system in finding.systems or ((finding.handoff.source, finding.handoff.target) if finding.handoff else ()):
                current = implicated.get((row, system))
                if current is None or _SEVERITY.get(finding.kind.value, 9) < _SEVERITY.get(current, 9):
                    implicated[(row, system)] = finding.kind.value
    rows = []
    for key, label in GRID_ROWS:
        values: list[tuple[object, str, str | None]] = []
        for column in columns:
            if key == "fetched":
                values.append((None, utc(column.fetched_at), None))
            elif column.record is None:
                values.append((None, column.missing_text, None))
            else:
                value, text = _value(column.record, key)
                values.append((value, text, source_of(column.record, key)))
        present = [v for (v, _t, _s), c in zip(values, columns) if c.record is not None]
        differs = key in COMPARED_ROWS and len(present) > 1 and any(v != present[0] for v in present[1:])
        cells = []
        for (value, text, source), column in zip(values, columns):
            state = ""
            kind = implicated.get((key, column.system))
            if column.record is None and key == "status" and column.presence is Presence.ABSENT:
                state = STATE_CLASSES["missing_record"] if implicated.get(("status", column.system)) else ""
            elif column.record is not None and kind and (key not in COMPARED_ROWS or differs):
                # A compared row is only marked where the values really differ: a quantity finding
                # about shipped units must not light up the ordered row that agrees.
                state = STATE_CLASSES.get(kind, "-unknown")
            elif column.record is not None and differs:
                state = "-differs"
            cells.append(GridCell(text, state, source))
        rows.append(GridRow(key, label, tuple(cells)))
    return Grid(columns, tuple(rows))


def source_of(record: Record, key: str) -> str | None:
    """The field path a grid value was read from, as the record's provenance names it."""
    names = dict(reversed(record.sources))  # first occurrence wins
    for name in ROW_SOURCES.get(key, ()):
        if name in names:
            return names[name]
    return None


# --- the timeline ---------------------------------------------------------------------------


def lane_order(result: CaseResult):
    """Holdings in lane order: the system where the order was born first, then by role and name."""
    return sorted(
        result.case.holdings,
        key=lambda h: (h.system.name != result.case.origin, ROLE_ORDER.get(h.system.role, 9), h.system.name),
    )


KIND_SHORT = {
    EventKind.PAYMENT_AUTHORIZED: "authorized",
    EventKind.PAYMENT_CAPTURED: "captured",
    EventKind.FULFILLMENT_CREATED: "fulfillment",
    EventKind.ACKNOWLEDGED: "acknowledged",
}


def event_label(event: Event) -> str:
    if event.kind is EventKind.STATUS_CHANGED:
        return f"status {event.native_status}" if event.native_status else "status"
    return KIND_SHORT.get(event.kind, event.kind.value)


@dataclass(frozen=True)
class Arrow:
    """A handoff drawn on an event's line: from one lane to another."""

    source: str
    target: str
    kind: EventKind
    latency: timedelta | None = None
    arrived: bool = True  # False: the target never got it
    approximate: bool = False  # one end is a date without a time: the latency is only bounded

    @property
    def label(self) -> str:
        if not self.arrived:
            return "never arrived"
        if self.latency is None:
            return ""
        if self.approximate:
            return "≈" + format_duration(self.latency) if self.latency >= timedelta(hours=1) else "same day"
        return format_duration(self.latency) if self.latency >= timedelta(minutes=1) else "<1m"


@dataclass(frozen=True)
class TimelineLine:
    """One line of the timeline: an event, or a finding anchored under its event."""

    event: Event | None = None
    finding: Finding | None = None
    arrows: tuple[Arrow, ...] = ()
    divergence: bool = False  # the first-divergence event
    flagged: bool = False  # an event some finding rests on
    findings: tuple[Finding, ...] = field(default=())  # for an event: the findings resting on it


def _first(events: list[Event], kind: EventKind) -> Event | None:
    if kind is EventKind.SHIPPED:
        return next((e for e in events if is_shipped(e)), None)
    return next((e for e in events if e.kind is kind), None)


def handoff_arrows(result: CaseResult, settings: AuditSettings) -> dict[str, list[Arrow]]:
    """Arrows per event id: each declared handoff drawn on the line of the event that carried (or lacked) it."""
    by_system = {h.system.name: sorted(h.events, key=lambda e: (e.at.sort_key, e.id)) for h in result.case.holdings}
    held = {h.system.name for h in result.case.holdings if h.records}
    arrows: dict[str, list[Arrow]] = {}
    for kind, handoff in settings.topology.handoffs(result.case):
        sent = _first(by_system.get(handoff.source, []), kind)
        if sent is None:
            continue
        landed = _first(by_system.get(handoff.target, []), kind)
        if landed is not None:
            arrows.setdefault(landed.id, []).append(
                Arrow(handoff.source, handoff.target, kind, sent.at.gap_to(landed.at), approximate=sent.at.is_day or landed.at.is_day)
            )
        elif handoff.target in held or kind is EventKind.CREATED:
            arrows.setdefault(sent.id, []).append(Arrow(handoff.source, handoff.target, kind, arrived=False))
    return arrows


def timeline_lines(result: CaseResult, settings: AuditSettings) -> list[TimelineLine]:
    """Every event in time order, each followed by the findings that rest on it."""
    arrows = handoff_arrows(result, settings)
    resting: dict[str, list[Finding]] = {}
    placed: set[int] = set()
    for index, finding in enumerate(result.findings):
        if finding.events:
            resting.setdefault(finding.events[0], []).append(finding)
            placed.add(index)
    flagged = {event_id for f in result.findings for event_id in f.events}
    divergence_id = result.first_divergence.event_id if result.first_divergence else None
    lines: list[TimelineLine] = []
    for event in result.timeline:
        anchored = tuple(resting.get(event.id, ()))
        lines.append(
            TimelineLine(
                event=event,
                arrows=tuple(arrows.get(event.id, ())),
                divergence=event.id == divergence_id,
                flagged=event.id in flagged,
                findings=anchored,
            )
        )
        lines.extend(TimelineLine(finding=f) for f in anchored)
    # Findings that rest on no event (a record that is missing altogether) close the timeline.
    lines.extend(TimelineLine(finding=f) for i, f in enumerate(result.findings) if i not in placed)
    return lines


def event_time(event: Event, raw: bool) -> str:
    """The time column: normalised UTC, or the raw value with its zone and precision."""
    stamp = event.at
    if raw:
        # Precision before the zone, so a narrow column cuts the zone first.
        return stamp.raw + (" day" if stamp.is_day else "") + (f" {stamp.source_tz}" if stamp.source_tz else " (zone unknown)")
    if stamp.is_day:
        return f"{local_day(stamp.earliest, stamp.source_tz):<5} day"
    return short_utc(stamp.earliest)


def local_day(at: datetime, zone: str | None) -> str:
    """``03-03``: the calendar day a date-only value names, in the zone it was written in."""
    try:
        return at.astimezone(ZoneInfo(zone)).strftime("%m-%d") if zone else at.strftime("%m-%d")
    except (ZoneInfoNotFoundError, ValueError):
        return at.strftime("%m-%d")


def finding_title(finding: Finding) -> str:
    handoff = finding.handoff
    where = handoff_text(handoff.source, handoff.target) if handoff else (", ".join(finding.systems) or "the case")
    return f"{KIND_MARKS.get(finding.kind.value, '•')} {finding.rule} · {where}"


def finding_text(finding: Finding) -> str:
    """A finding as plain text, as copied to the clipboard."""
    parts = [f"[{finding.kind.value}] {finding.rule} ({finding_title(finding).split(' · ', 1)[1]}) at {utc(finding.at)}", finding.message]
    if finding.latency is not None:
        parts.append(f"Late by {format_duration(finding.latency)}.")
    if finding.check_next:
        parts.append(f"Check next: {finding.check_next}")
    return "\n".join(parts)


def case_refs(result: CaseResult) -> str:
    """Every ref of the order, system by system, as copied to the clipboard."""
    parts = [result.case.ref]
    for holding in lane_order(result):
        refs = ", ".join(sorted(r.ref for r in holding.records))
        parts.append(f"{holding.system.name}: {refs or ('no record' if holding.presence is Presence.ABSENT else 'not fetched')}")
    return " | ".join(parts)


def divergence_text(result: CaseResult) -> str:
    divergence = result.first_divergence
    if divergence is None:
        return "no divergence: every system agrees" if not result.findings else "no divergence"
    handoff = handoff_text(divergence.handoff.source, divergence.handoff.target) if divergence.handoff else (
        f"within {divergence.system}" if divergence.system else "within one system"
    )
    event = f" {divergence.event.value}" if divergence.event else ""
    return f"first divergence {utc(divergence.at)} · {handoff} ·{event} {divergence.rule}".replace("  ", " ")


def worst_kind(findings: tuple[Finding, ...]) -> str | None:
    kinds = [f.kind.value for f in findings]
    return min(kinds, key=lambda k: _SEVERITY.get(k, 9)) if kinds else None


# --- aligned timelines (compare) --------------------------------------------------------------


@dataclass(frozen=True)
class AlignedRow:
    """One step (a system and an event kind) with its time after creation in each case."""

    step: str
    left: timedelta | None
    right: timedelta | None
    left_event: Event | None = None
    right_event: Event | None = None

    @property
    def state(self) -> str:
        if self.left is None or self.right is None:
            return "-missing"
        if abs(self.left - self.right) > timedelta(hours=1):
            return "-delay"
        return ""


def _born(result: CaseResult) -> datetime | None:
    events = [e for e in result.timeline if e.system == result.case.origin and e.kind is EventKind.CREATED]
    if events:
        return events[0].at.earliest
    return result.timeline[0].at.earliest if result.timeline else None


def _steps(result: CaseResult) -> dict[str, Event]:
    """Each (system, kind) step's first event, numbered when it repeats: ``netsuite shipped``, ``netsuite shipped #2``."""
    steps: dict[str, Event] = {}
    seen: Counter = Counter()
    for event in result.timeline:
        if event.kind in (EventKind.NOTE, EventKind.STATUS_CHANGED):
            continue
        base = f"{event.system} {event_label(event)}"
        seen[base] += 1
        steps[base if seen[base] == 1 else f"{base} #{seen[base]}"] = event
    return steps


def align(left: CaseResult, right: CaseResult) -> list[AlignedRow]:
    """Both timelines as steps after each order's birth, matched by system and event kind."""
    born_left, born_right = _born(left), _born(right)
    steps_left, steps_right = _steps(left), _steps(right)
    rows = []
    for step in dict.fromkeys([*steps_left, *steps_right]):
        a, b = steps_left.get(step), steps_right.get(step)
        rows.append(
            AlignedRow(
                step,
                a.at.earliest - born_left if a and born_left else None,
                b.at.earliest - born_right if b and born_right else None,
                a,
                b,
            )
        )
    rows.sort(key=lambda r: min(x for x in (r.left, r.right) if x is not None))
    return rows


def offset_text(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    sign = "-" if delta < timedelta(0) else "+"
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return f"{sign}{days}d{hours:02d}:{minutes:02d}" if days else f"{sign}{hours}:{minutes:02d}"


# --- secrets --------------------------------------------------------------------------------

SECRET_KEY = re.compile(
    r"(authorization|cookie|token|secret|password|passwd|api[-_]?key|signature|credential|private[-_]?key|"
    r"client[-_]?id|session|x-amz-|bearer|oauth)",
    re.IGNORECASE,
)
_TOKEN_VALUE = re.compile(r"^(bearer\s+\S+|shpat_\w+|shpss_\w+|Atza\|\S+|Atzr\|\S+|eyJ[\w-]+\.[\w-]+\.[\w-]+)$", re.IGNORECASE)
REDACTED = "«redacted»"


def redact(value: object) -> object:
    """A decoded JSON value with every header-like or token-like key's value, and every bare token, replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_KEY.search(str(k)) and v not in (None, "", [], {}) and not isinstance(v, (dict, list)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and _TOKEN_VALUE.match(value.strip()):
        return REDACTED
    return value
