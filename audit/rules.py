"""The rules: small pure functions over one case that return findings.

Each rule has a stable id used in output, tests and docs. Delay versus mismatch
is the distinction that matters: a delay is late but correct data, a mismatch is
data that was wrong when it arrived. Lag alone never yields a mismatch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from audit.model import (
    Case,
    Event,
    EventKind,
    Financial,
    Finding,
    FindingKind,
    Fulfillment,
    Handoff,
    Presence,
    Record,
    Role,
    fulfillment_rank,
)
from audit.settings import AuditSettings, format_duration

SHIPMENT_KINDS = frozenset({EventKind.FULFILLMENT_CREATED, EventKind.SHIPPED, EventKind.DELIVERED})
SHIPPED_STATES = frozenset({Fulfillment.SHIPPED, Fulfillment.DELIVERED})
PARTIAL_RANK = fulfillment_rank(Fulfillment.PARTIAL)


def when(at: datetime | None) -> str:
    """A time as messages show it."""
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "an unknown time"


def day_or_when(event: Event) -> str:
    if event.at.is_day:
        return f"{event.at.raw} (a date without a time)"
    return when(event.at.earliest)


_CREATED, _STATUS_CHANGED, _FULFILLMENT_CREATED = EventKind.CREATED, EventKind.STATUS_CHANGED, EventKind.FULFILLMENT_CREATED
_CANCELLED, _INVOICED, _REFUNDED = EventKind.CANCELLED, EventKind.INVOICED, EventKind.REFUNDED


def is_shipment(event: Event) -> bool:
    """Evidence that goods left: a shipment event, or a status history entry saying so."""
    kind = event.kind
    if kind in SHIPMENT_KINDS:
        return True
    return kind is _STATUS_CHANGED and (fulfillment_rank(event.fulfillment) or 0) >= PARTIAL_RANK  # type: ignore[operator]


def is_shipped(event: Event) -> bool:
    """Evidence that a system told the world the goods shipped (not merely picked)."""
    return event.kind is not _FULFILLMENT_CREATED and is_shipment(event)


class SystemFacts:
    """What the rules need to know about one system's holding of the case, gathered in one pass."""

    __slots__ = (
        "name", "role", "presence", "records", "events", "primary", "fulfillment", "financial",
        "created_event", "first_shipment", "first_shipped", "last_shipped", "first_cancelled",
        "first_invoiced", "last_refunded", "_per_sku",
    )

    def __init__(self, name: str, role: Role, presence: Presence, records: tuple[Record, ...], events: tuple[Event, ...]) -> None:
        self.name, self.role, self.presence = name, role, presence
        self.records = records
        self.events = events  # in time order
        # The record compared with other systems: the first created when there are several.
        self.primary: Record | None = records[0] if records else None
        self.fulfillment = self.primary.fulfillment if self.primary else None
        self.financial = self.primary.financial if self.primary else None
        created = first_shipment = first_shipped = last_shipped = cancelled = invoiced = refunded = None
        for event in events:
            kind = event.kind
            if kind is _CREATED:
                created = created or event
            elif kind is _CANCELLED:
                cancelled = cancelled or event
            elif kind is _INVOICED:
                invoiced = invoiced or event
            elif kind is _REFUNDED:
                refunded = event
            if is_shipment(event):
                first_shipment = first_shipment or event
                if kind is not _FULFILLMENT_CREATED:
                    first_shipped = first_shipped or event
                    last_shipped = event
        self.created_event: Event | None = created
        self.first_shipment: Event | None = first_shipment
        self.first_shipped: Event | None = first_shipped
        self.last_shipped: Event | None = last_shipped
        self.first_cancelled: Event | None = cancelled
        self.first_invoiced: Event | None = invoiced
        self.last_refunded: Event | None = refunded
        self._per_sku: dict[str, dict[str, int]] | None = None

    @property
    def per_sku(self) -> dict[str, dict[str, int]]:
        """The primary record's quantities summed per SKU (computed once, on first use)."""
        if self._per_sku is None:
            self._per_sku = _per_sku(self.primary) if self.primary else {}
        return self._per_sku

    def first(self, predicate: Callable[[Event], bool]) -> Event | None:
        return next((e for e in self.events if predicate(e)), None)


class CaseView:
    """A case prepared for the rules: systems in name order, events sorted, routes resolved."""

    def __init__(self, case: Case, settings: AuditSettings, as_of: datetime) -> None:
        self.case = case
        self.settings = settings
        self.as_of = as_of
        systems: dict[str, SystemFacts] = {}
        for holding in sorted(case.holdings, key=_holding_name):
            if holding.system.role is Role.MIDDLEWARE:
                continue  # a log source, never a truth holder
            records = tuple(sorted(holding.records, key=_record_order)) if len(holding.records) > 1 else holding.records
            events = tuple(sorted(holding.events, key=_event_order))
            systems[holding.system.name] = SystemFacts(
                holding.system.name, holding.system.role, holding.presence, records, events
            )
        self.systems = systems
        self.routes = settings.topology.handoffs(case)
        self._routes_by_kind: dict[EventKind, list[Handoff]] = {}
        for kind, handoff in self.routes:
            self._routes_by_kind.setdefault(kind, []).append(handoff)

    @property
    def required_systems(self) -> list[str]:
        """Systems the topology says must hold this case: every end of every route that applies."""
        return list(dict.fromkeys(name for _kind, h in self.routes for name in (h.source, h.target)))

    def facts(self, name: str) -> SystemFacts | None:
        return self.systems.get(name)

    def held(self, name: str) -> SystemFacts | None:
        """The system's facts when it holds at least one record."""
        facts = self.systems.get(name)
        return facts if facts is not None and facts.records else None

    def routes_of(self, kind: EventKind) -> list[Handoff]:
        return self._routes_by_kind.get(kind, [])

    def route_between(self, kind: EventKind, first: str, second: str) -> Handoff | None:
        for handoff in self.routes_of(kind):
            if {handoff.source, handoff.target} == {first, second}:
                return handoff
        return None

    @cached_property
    def out_of_sequence_pairs(self) -> set[tuple[str, str]]:
        """Shipped routes whose target shipped before the source: their lag is not a delay."""
        return {(f.handoff.target, f.handoff.source) for f in marketplace_shipped_first(self) if f.handoff}


def _holding_name(holding) -> str:
    return holding.system.name


def _record_order(record: Record) -> tuple:
    created = record.created.sort_key if record.created else datetime.max.replace(tzinfo=None)
    return (created.replace(tzinfo=None), record.ref, record.native_id)


def _event_order(event: Event) -> tuple:
    return (event.at.sort_key, event.at.latest, event.id)


def _ids(*events: Event | None) -> tuple[str, ...]:
    return tuple(e.id for e in events if e is not None)


# --- missing-record ---------------------------------------------------------------


def missing_record(view: CaseView) -> Iterator[Finding]:
    """A system the topology says must hold the case has none, past the grace period."""
    origin = view.held(view.case.origin)
    if origin is None:
        return
    born = origin.created_event
    born_at = born.at.latest if born else (origin.primary.created.latest if origin.primary and origin.primary.created else None)
    if born_at is None:
        return
    for name in view.required_systems:
        facts = view.facts(name)
        if facts is None or facts.presence is not Presence.ABSENT:
            continue  # not asked: the audit cannot judge it
        handoff = view.route_between(EventKind.CREATED, origin.name, name) or Handoff(origin.name, name)
        waited = view.as_of - born_at
        if waited > view.settings.grace:
            yield Finding(
                rule="missing-record",
                kind=FindingKind.MISSING_RECORD,
                at=born_at,
                handoff=handoff,
                events=_ids(born),
                systems=(origin.name, name),
                message=(
                    f"{origin.name} created the order at {when(born_at)}; {format_duration(waited)} later "
                    f"{name} still holds no record of it."
                ),
                check_next=f"Check the {origin.name} -> {name} order import (middleware log, failed jobs) for this ref.",
            )
        else:
            yield Finding(
                rule="missing-record",
                kind=FindingKind.DELAY,
                at=born_at,
                handoff=handoff,
                events=_ids(born),
                latency=waited,
                systems=(origin.name, name),
                message=(
                    f"{name} holds no record yet, {format_duration(waited)} after {origin.name} created the order; "
                    f"inside the {format_duration(view.settings.grace)} grace period."
                ),
                check_next="Nothing yet; look again after the grace period.",
            )


# --- handoffs: sync-delay and missing-handoff --------------------------------------


def handoffs(view: CaseView) -> Iterator[Finding]:
    """Every routed handoff: late but correct (delay), or never arrived (missing handoff)."""
    yield from _created_handoffs(view)
    yield from _shipped_handoffs(view)
    yield from _cancelled_handoffs(view)


def _created_handoffs(view: CaseView) -> Iterator[Finding]:
    for handoff in view.routes_of(EventKind.CREATED):
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None:
            continue  # absence is missing-record's business
        sent, landed = source.created_event, target.created_event
        if sent is None or landed is None:
            continue
        latency = sent.at.gap_to(landed.at)
        if latency > view.settings.sync_tolerance:
            yield _delay(handoff, "created the order", sent, landed, latency, view)


def _shipped_handoffs(view: CaseView) -> Iterator[Finding]:
    for handoff in view.routes_of(EventKind.SHIPPED):
        if (handoff.target, handoff.source) in view.out_of_sequence_pairs:
            continue  # reported as a mismatch, not as lag
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None:
            continue
        source_rank, target_rank = fulfillment_rank(source.fulfillment), fulfillment_rank(target.fulfillment)
        if source_rank is None or target_rank is None or source_rank < PARTIAL_RANK:  # type: ignore[operator]
            continue  # off-line states are for state-conflict and unmapped-status
        sent_first = source.first_shipped
        if sent_first is None:
            continue
        if target_rank >= source_rank:
            landed = target.first_shipped
            if landed is None:
                continue
            latency = sent_first.at.gap_to(landed.at)
            if latency > view.settings.sync_tolerance:
                yield _delay(handoff, "shipped", sent_first, landed, latency, view)
        else:
            sent_last = source.last_shipped or sent_first
            yield _behind(handoff, "shipped", sent_last, target.fulfillment, view)  # type: ignore[arg-type]


def _cancelled_handoffs(view: CaseView) -> Iterator[Finding]:
    for handoff in view.routes_of(EventKind.CANCELLED):
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None or source.fulfillment is not Fulfillment.CANCELLED:
            continue
        sent = source.first_cancelled
        if sent is None:
            continue
        if target.fulfillment is Fulfillment.CANCELLED:
            landed = target.first_cancelled
            if landed is not None:
                latency = sent.at.gap_to(landed.at)
                if latency > view.settings.sync_tolerance:
                    yield _delay(handoff, "cancelled", sent, landed, latency, view)
        elif target.fulfillment in (Fulfillment.OPEN, Fulfillment.ON_HOLD):
            yield _behind(handoff, "cancelled", sent, target.fulfillment, view)
        # a target that shipped is a state-conflict; unknown is unmapped-status


def _delay(handoff: Handoff, verb: str, sent: Event, landed: Event, latency: timedelta, view: CaseView) -> Finding:
    return Finding(
        rule="sync-delay",
        kind=FindingKind.DELAY,
        at=landed.at.earliest,
        handoff=handoff,
        events=_ids(landed, sent),
        latency=latency,
        systems=(handoff.source, handoff.target),
        message=(
            f"{handoff.source} {verb} at {day_or_when(sent)}; {handoff.target} followed at {day_or_when(landed)}, "
            f"{format_duration(latency)} later (tolerance {format_duration(view.settings.sync_tolerance)}). "
            "Late, but correct when it arrived: a delay, not a mismatch."
        ),
        check_next=f"Check the {handoff.source} -> {handoff.target} sync schedule and queue backlog for that window.",
    )


def _behind(handoff: Handoff, verb: str, sent: Event, target_state: Fulfillment, view: CaseView) -> Finding:
    waited = view.as_of - sent.at.latest
    stuck = waited > view.settings.stuck_after
    if stuck:
        return Finding(
            rule="missing-handoff",
            kind=FindingKind.MISSING_HANDOFF,
            at=sent.at.earliest,
            handoff=handoff,
            events=_ids(sent),
            latency=waited,
            systems=(handoff.source, handoff.target),
            message=(
                f"{handoff.source} {verb} at {day_or_when(sent)}; {format_duration(waited)} later {handoff.target} "
                f"is still {target_state.value}. The handoff never arrived."
            ),
            check_next=f"Find the {verb} message for this order in the {handoff.source} -> {handoff.target} "
            "middleware log; replay it if it failed.",
        )
    return Finding(
        rule="sync-delay",
        kind=FindingKind.DELAY,
        at=sent.at.earliest,
        handoff=handoff,
        events=_ids(sent),
        latency=waited,
        systems=(handoff.source, handoff.target),
        message=(
            f"{handoff.source} {verb} at {day_or_when(sent)}; {handoff.target} is still {target_state.value} "
            f"{format_duration(waited)} later, inside the {format_duration(view.settings.stuck_after)} stuck threshold."
        ),
        check_next="Probably in flight; look again later or check the sync queue.",
    )


# --- out-of-sequence --------------------------------------------------------------


def out_of_sequence(view: CaseView) -> Iterator[Finding]:
    """Events that arrived before their precondition existed where they landed."""
    yield from marketplace_shipped_first(view)
    yield from _erp_before_its_order(view)
    yield from _invoiced_before_shipping(view)


def marketplace_shipped_first(view: CaseView) -> Iterator[Finding]:
    """A system that should learn of shipments shipped before the fulfillment source had any."""
    skew = view.settings.clock_skew
    for handoff in view.routes_of(EventKind.SHIPPED):
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None:
            continue
        shipped = target.first_shipped
        if shipped is None:
            continue
        fulfilled = source.first_shipment
        if fulfilled is not None and not shipped.at.definitely_before(fulfilled.at, skew):
            continue
        until = (
            f"had no fulfillment until {day_or_when(fulfilled)}"
            if fulfilled is not None
            else f"has no fulfillment at all (as of {when(view.as_of)})"
        )
        yield Finding(
            rule="out-of-sequence",
            kind=FindingKind.MISMATCH,
            at=shipped.at.earliest,
            handoff=Handoff(handoff.target, handoff.source),
            events=_ids(shipped, fulfilled),
            systems=(handoff.target, handoff.source),
            message=(
                f"{target.name} reported shipped at {day_or_when(shipped)}; {source.name} {until}. "
                f"The shipment was confirmed outside {source.name}: a mismatch, not a delay."
            ),
            check_next=(
                f"Find who confirmed the shipment in {target.name} (manual confirmation, another integration) "
                f"and whether {source.name} ever fulfilled the goods."
            ),
        )


def _erp_before_its_order(view: CaseView) -> Iterator[Finding]:
    skew = view.settings.clock_skew
    for facts in view.systems.values():
        if facts.role is not Role.ERP or facts.first_shipment is None:
            continue
        for record in facts.records:
            created = facts.first(lambda e: e.kind is EventKind.CREATED and e.record_ref == record.ref)
            if created is None:
                continue
            early = facts.first(lambda e: is_shipment(e) and e.record_ref == record.ref and e.at.definitely_before(created.at, skew))
            if early is None:
                continue
            yield Finding(
                rule="out-of-sequence",
                kind=FindingKind.MISMATCH,
                at=early.at.earliest,
                handoff=view.route_between(EventKind.CREATED, view.case.origin, facts.name),
                events=_ids(early, created),
                systems=(facts.name,),
                message=(
                    f"{facts.name} recorded a {early.kind.value.replace('_', ' ')} at {day_or_when(early)}, before its "
                    f"sales order {record.ref} existed ({day_or_when(created)})."
                ),
                check_next=f"Check whether {record.ref} was deleted and re-created, or the fulfillment attached to the wrong order.",
            )


def _invoiced_before_shipping(view: CaseView) -> Iterator[Finding]:
    skew = view.settings.clock_skew
    shipments = [f.first_shipment for f in view.systems.values() if f.first_shipment is not None]
    first_shipment = min(shipments, key=_event_order) if shipments else None
    for facts in view.systems.values():
        if facts.role is not Role.ERP:
            continue
        invoiced = facts.first_invoiced
        if invoiced is None:
            continue
        if first_shipment is not None and not invoiced.at.definitely_before(first_shipment.at, skew):
            continue
        shipped_text = (
            f"the first shipment anywhere came at {day_or_when(first_shipment)}"
            if first_shipment is not None
            else "nothing has shipped in any system"
        )
        yield Finding(
            rule="out-of-sequence",
            kind=FindingKind.MISMATCH,
            at=invoiced.at.earliest,
            handoff=None,
            events=_ids(invoiced, first_shipment),
            systems=(facts.name,),
            message=f"{facts.name} invoiced at {day_or_when(invoiced)}, but {shipped_text}.",
            check_next="Check whether billing ran ahead of fulfillment (advance billing, a billing script on the wrong saved search).",
        )


# --- state-conflict ---------------------------------------------------------------


def state_conflict(view: CaseView) -> Iterator[Finding]:
    """Two systems hold states that cannot both be true."""
    held = [f for f in view.systems.values() if f.records]
    for cancelled in held:
        if cancelled.fulfillment is not Fulfillment.CANCELLED:
            continue
        cancel_event = cancelled.first_cancelled
        for other in held:
            if other is cancelled:
                continue
            went_on = _went_on(other)
            if went_on is None:
                continue
            label, evidence = went_on
            handoff = view.route_between(EventKind.CANCELLED, cancelled.name, other.name) or Handoff(cancelled.name, other.name)
            anchor = cancel_event or evidence
            yield Finding(
                rule="state-conflict",
                kind=FindingKind.MISMATCH,
                at=anchor.at.earliest if anchor else None,
                handoff=handoff,
                events=_ids(cancel_event, evidence),
                systems=(cancelled.name, other.name),
                message=(
                    f"{cancelled.name} cancelled the order"
                    + (f" at {day_or_when(cancel_event)}" if cancel_event else "")
                    + f"; {other.name} {label}"
                    + (f" at {day_or_when(evidence)}" if evidence else "")
                    + ". Both cannot be true."
                ),
                check_next=f"Stop or recall the shipment in {other.name}, or confirm the cancellation was reversed.",
            )
    yield from _refunded_but_open(view, held)


def _went_on(facts: SystemFacts) -> tuple[str, Event | None] | None:
    """How a system shows the order went ahead (shipped or invoiced), with the event, if it did."""
    if facts.fulfillment in SHIPPED_STATES or facts.fulfillment is Fulfillment.PARTIAL:
        return "shipped it", facts.first_shipped
    if facts.financial is Financial.INVOICED:
        return "invoiced it", facts.first_invoiced
    return None


def _refunded_but_open(view: CaseView, held: list[SystemFacts]) -> Iterator[Finding]:
    for refunded in held:
        if refunded.financial is not Financial.REFUNDED:
            continue
        refund = refunded.last_refunded
        if refund is not None and view.as_of - refund.at.latest <= view.settings.sync_tolerance:
            continue  # the refund may still be on its way
        for other in held:
            if other is refunded or other.financial is not Financial.PAID or other.fulfillment is not Fulfillment.OPEN:
                continue
            yield Finding(
                rule="state-conflict",
                kind=FindingKind.MISMATCH,
                at=refund.at.earliest if refund else None,
                handoff=Handoff(refunded.name, other.name),
                events=_ids(refund),
                systems=(refunded.name, other.name),
                message=(
                    f"{refunded.name} refunded the order"
                    + (f" at {day_or_when(refund)}" if refund else "")
                    + f"; {other.name} still holds it as paid and open, ready to ship."
                ),
                check_next=f"Hold the order in {other.name} until the refund is reconciled.",
            )


# --- quantity, tracking and amount ------------------------------------------------


def _settled_pairs(view: CaseView) -> Iterator[tuple[Handoff, SystemFacts, SystemFacts]]:
    """Shipped routes whose two ends agree on the fulfillment state: lag cannot explain a difference."""
    for handoff in view.routes_of(EventKind.SHIPPED):
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None:
            continue
        if source.fulfillment != target.fulfillment:
            continue  # one is behind: that is the handoff rules' business
        if source.fulfillment in SHIPPED_STATES:
            yield handoff, source, target
        elif source.fulfillment is Fulfillment.PARTIAL:
            newest = max((e.at.latest for f in (source, target) for e in f.events if is_shipment(e)), default=None)
            if newest is not None and view.as_of - newest > view.settings.stuck_after:
                yield handoff, source, target  # partial on both sides for long enough to be settled


def _later_shipment(source: SystemFacts, target: SystemFacts) -> tuple[Event | None, Event | None]:
    """(where the differing data landed, the source's shipment it should match)."""
    landed, sent = target.last_shipped, source.last_shipped
    if landed is not None and sent is not None and _event_order(sent) > _event_order(landed):
        return sent, landed
    return landed, sent


def quantity_mismatch(view: CaseView) -> Iterator[Finding]:
    """Ordered, shipped or cancelled quantities per SKU differ where lag cannot explain it."""
    for handoff in view.routes_of(EventKind.CREATED):
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None:
            continue
        differences = _quantity_differences(source, target, ("ordered",))
        if differences:
            landed = target.created_event
            yield _quantity_finding(handoff, differences, landed, source.created_event)
    for handoff, source, target in _settled_pairs(view):
        differences = _quantity_differences(source, target, ("shipped", "cancelled"))
        if differences:
            landed, sent = _later_shipment(source, target)
            yield _quantity_finding(handoff, differences, landed, sent)


def _quantity_differences(first: SystemFacts, second: SystemFacts, fields: tuple[str, ...]) -> list[str]:
    totals_a, totals_b = first.per_sku, second.per_sku
    if not totals_a or not totals_b:
        return []  # a system that carries no lines cannot disagree about them
    if totals_a == totals_b:
        return []  # the usual case, settled in one comparison
    differences = []
    for sku in sorted(set(totals_a) | set(totals_b)):
        a, b = totals_a.get(sku, {}), totals_b.get(sku, {})
        for name in fields:
            if a.get(name, 0) != b.get(name, 0):
                differences.append(f"{sku} {name} {a.get(name, 0)} in {first.name}, {b.get(name, 0)} in {second.name}")
    return differences


def _per_sku(record: Record) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for line in record.lines:
        sku = line.sku.strip().upper()
        entry = totals.setdefault(sku, {"ordered": 0, "shipped": 0, "cancelled": 0})
        entry["ordered"] += line.ordered
        entry["shipped"] += line.shipped
        entry["cancelled"] += line.cancelled
    return totals


def _quantity_finding(handoff: Handoff, differences: list[str], landed: Event | None, sent: Event | None) -> Finding:
    return Finding(
        rule="quantity-mismatch",
        kind=FindingKind.MISMATCH,
        at=landed.at.earliest if landed else None,
        handoff=handoff,
        events=_ids(landed, sent),
        systems=(handoff.source, handoff.target),
        message="Quantities differ: " + "; ".join(differences) + ".",
        check_next=f"Compare the {handoff.source} -> {handoff.target} message for this order with both systems' lines.",
    )


def tracking_mismatch(view: CaseView) -> Iterator[Finding]:
    """Systems that both consider the order shipped hold different tracking numbers."""
    for handoff, source, target in _settled_pairs(view):
        a, b = source.primary.tracking, target.primary.tracking  # type: ignore[union-attr]
        if a == b:
            continue
        landed, sent = _later_shipment(source, target)
        only_a = ", ".join(sorted(a - b)) or "nothing else"
        only_b = ", ".join(sorted(b - a)) or "nothing else"
        yield Finding(
            rule="tracking-mismatch",
            kind=FindingKind.MISMATCH,
            at=landed.at.earliest if landed else None,
            handoff=handoff,
            events=_ids(landed, sent),
            systems=(handoff.source, handoff.target),
            message=f"Tracking differs: {source.name} has {only_a}; {target.name} has {only_b}.",
            check_next="The customer may have received a wrong tracking link: check the carrier for both numbers.",
        )


def amount_mismatch(view: CaseView) -> Iterator[Finding]:
    """Order totals differ beyond rounding, or currencies differ."""
    tolerance = view.settings.amount_tolerance
    for handoff in view.routes_of(EventKind.CREATED):
        source, target = view.held(handoff.source), view.held(handoff.target)
        if source is None or target is None:
            continue
        a, b = source.primary, target.primary
        if a.total is None or b.total is None:  # type: ignore[union-attr]
            continue
        currencies_differ = bool(a.currency and b.currency and a.currency.upper() != b.currency.upper())  # type: ignore[union-attr]
        if not currencies_differ and abs(a.total - b.total) <= tolerance:  # type: ignore[union-attr,operator]
            continue
        landed = target.created_event
        yield Finding(
            rule="amount-mismatch",
            kind=FindingKind.MISMATCH,
            at=landed.at.earliest if landed else None,
            handoff=handoff,
            events=_ids(landed, source.created_event),
            systems=(handoff.source, handoff.target),
            message=(
                f"Totals differ: {source.name} {_money(a.total, a.currency)}, "  # type: ignore[union-attr]
                f"{target.name} {_money(b.total, b.currency)}."  # type: ignore[union-attr]
            ),
            check_next="Compare discounts, tax and shipping lines between the two systems.",
        )


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{amount} {currency or ''}".strip()


# --- duplicate-record, status-regression, unmapped-status -------------------------


def duplicate_record(view: CaseView) -> Iterator[Finding]:
    """One system holds more than one record for the case."""
    for facts in view.systems.values():
        if len(facts.records) < 2:
            continue
        first, *extra = facts.records
        created = [facts.first(lambda e, r=r: e.kind is EventKind.CREATED and e.record_ref == r.ref) for r in facts.records]
        anchor = created[1] if len(created) > 1 else None
        handoff = view.route_between(EventKind.CREATED, view.case.origin, facts.name)
        if handoff is None and facts.name != view.case.origin:
            handoff = Handoff(view.case.origin, facts.name)
        refs = ", ".join(r.ref for r in facts.records)
        yield Finding(
            rule="duplicate-record",
            kind=FindingKind.MISMATCH,
            at=anchor.at.earliest if anchor else (extra[0].created.earliest if extra[0].created else None),
            handoff=handoff,
            events=_ids(*created),
            systems=(facts.name,),
            message=f"{facts.name} holds {len(facts.records)} records for this order: {refs}. A retried import created a duplicate.",
            check_next=f"Keep {first.ref}, close the others in {facts.name}, and make the import idempotent on the order ref.",
        )


def status_regression(view: CaseView) -> Iterator[Finding]:
    """A system's status moved backward without a cancel or return."""
    for facts in view.systems.values():
        best_rank, best_event = None, None
        for event in facts.events:
            if event.kind in (EventKind.CANCELLED, EventKind.RETURNED):
                best_rank, best_event = None, None  # a cancel or return legitimately resets the line
                continue
            if event.kind is not EventKind.STATUS_CHANGED:
                continue
            rank = fulfillment_rank(event.fulfillment)
            if rank is None:
                continue
            if best_rank is not None and rank < best_rank:
                yield Finding(
                    rule="status-regression",
                    kind=FindingKind.MISMATCH,
                    at=event.at.earliest,
                    handoff=None,
                    events=_ids(event, best_event),
                    systems=(facts.name,),
                    message=(
                        f"{facts.name} moved from {best_event.fulfillment.value} back to "  # type: ignore[union-attr]
                        f"{event.fulfillment.value} at {day_or_when(event)}"  # type: ignore[union-attr]
                        + (f" (by {event.origin.value})" if event.origin.value != "unknown" else "")
                        + " with no cancel or return."
                    ),
                    check_next=f"Look at who changed it in {facts.name} (deleted fulfillment, re-import overwriting status).",
                )
                best_rank, best_event = rank, event
            elif best_rank is None or rank > best_rank:
                best_rank, best_event = rank, event


def unmapped_status(view: CaseView) -> Iterator[Finding]:
    """A native status value the mapping does not know: one finding per value, naming every dimension it left unknown."""
    for facts in view.systems.values():
        for record in facts.records:
            dimensions: dict[tuple[str, str], list[str]] = {}
            for item in record.unmapped:
                dimensions.setdefault((item.field, item.value), []).append(item.dimension)
            at = record.updated or record.created
            for (field_path, value), unknown in dimensions.items():
                states = " and ".join(sorted(set(unknown)))
                yield Finding(
                    rule="unmapped-status",
                    kind=FindingKind.UNKNOWN,
                    at=at.earliest if at else None,
                    handoff=None,
                    systems=(facts.name,),
                    message=(
                        f"{facts.name} {record.ref} reports {field_path} = {value!r}, which its status table "
                        f"does not know; its {states} {'state is' if len(set(unknown)) == 1 else 'states are'} unknown."
                    ),
                    check_next=f'Map it under [systems.{facts.name}.statuses] in the config, e.g. "{value}" = "on_hold/pending".',
                )


Rule = Callable[[CaseView], Iterator[Finding]]

# Rule id -> what computes it. Handoffs yield both sync-delay and missing-handoff.
RULES: dict[str, Rule] = {
    "missing-record": missing_record,
    "handoffs": handoffs,
    "out-of-sequence": out_of_sequence,
    "state-conflict": state_conflict,
    "quantity-mismatch": quantity_mismatch,
    "tracking-mismatch": tracking_mismatch,
    "amount-mismatch": amount_mismatch,
    "duplicate-record": duplicate_record,
    "status-regression": status_regression,
    "unmapped-status": unmapped_status,
}

RULE_IDS = (
    "missing-record",
    "missing-handoff",
    "sync-delay",
    "out-of-sequence",
    "state-conflict",
    "quantity-mismatch",
    "tracking-mismatch",
    "amount-mismatch",
    "duplicate-record",
    "status-regression",
    "unmapped-status",
)
