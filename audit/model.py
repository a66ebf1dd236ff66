"""The canonical model: what threetruth believes about one order in every system.

Adapters turn vendor payloads into these types; the cache stores them; the rules
read them. Nothing here knows about any platform, any clock or any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

UTC = timezone.utc


class Role(StrEnum):
    """What part a system plays in the stack."""

    STOREFRONT = "storefront"
    MARKETPLACE = "marketplace"
    ERP = "erp"
    WMS = "wms"
    THREE_PL = "3pl"
    MIDDLEWARE = "middleware"


class Fulfillment(StrEnum):
    """Fulfillment state. The first four are ordered; the rest sit off the line."""

    OPEN = "open"
    PARTIAL = "partial"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    ON_HOLD = "on_hold"
    UNKNOWN = "unknown"


class Financial(StrEnum):
    """Financial state. The first four are ordered; the rest sit off the line."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    INVOICED = "invoiced"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    UNKNOWN = "unknown"


class EventKind(StrEnum):
    """The fixed vocabulary of things a system can say happened to an order."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_CAPTURED = "payment_captured"
    FULFILLMENT_CREATED = "fulfillment_created"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    RETURNED = "returned"
    STATUS_CHANGED = "status_changed"
    NOTE = "note"


class Origin(StrEnum):
    """Who made a change, where the platform tells."""

    PERSON = "person"
    INTEGRATION = "integration"
    PLATFORM = "platform"
    UNKNOWN = "unknown"


class Precision(StrEnum):
    """How precise a source timestamp is."""

    INSTANT = "instant"
    DAY = "day"  # a calendar date with no time: a window, never an instant


class Presence(StrEnum):
    """Whether a system was asked about the case, and what it said."""

    PRESENT = "present"
    ABSENT = "absent"  # asked, and it proved it holds nothing
    NOT_FETCHED = "not_fetched"  # never asked: the audit cannot judge it


class FindingKind(StrEnum):
    MISMATCH = "mismatch"
    MISSING_RECORD = "missing_record"
    MISSING_HANDOFF = "missing_handoff"
    DELAY = "delay"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    MISMATCH = "mismatch"
    MISSING_RECORD = "missing_record"
    MISSING_HANDOFF = "missing_handoff"
    DELAY = "delay"
    IN_SYNC = "in_sync"


FULFILLMENT_LINE: tuple[Fulfillment, ...] = (
    Fulfillment.OPEN,
    Fulfillment.PARTIAL,
    Fulfillment.SHIPPED,
    Fulfillment.DELIVERED,
)
FINANCIAL_LINE: tuple[Financial, ...] = (
    Financial.PENDING,
    Financial.AUTHORIZED,
    Financial.PAID,
    Financial.INVOICED,
)


_FULFILLMENT_RANK = {state: rank for rank, state in enumerate(FULFILLMENT_LINE)}


def fulfillment_rank(state: Fulfillment | None) -> int | None:
    """Position on the ordered fulfillment line, or None for off-line states."""
    return _FULFILLMENT_RANK.get(state)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A point or window in time as a system reported it.

    ``earliest`` and ``latest`` are aware UTC datetimes. For an instant they are
    equal; for a date-only value (NetSuite ``tranDate``) they bound the whole
    local day, so a date never by itself makes an event look out of order.
    """

    earliest: datetime
    latest: datetime
    raw: str
    precision: Precision = Precision.INSTANT
    source_tz: str | None = None  # the zone the raw value was written in, where known

    @classmethod
    def instant(cls, at: datetime, raw: str | None = None, source_tz: str | None = "UTC") -> Timestamp:
        if at.tzinfo is None:
            raise ValueError(f"naive datetime {at!r}: the audit only takes aware times")
        at = at.astimezone(UTC)
        return cls(at, at, raw if raw is not None else at.isoformat(), Precision.INSTANT, source_tz)

    @property
    def is_day(self) -> bool:
        return self.precision is Precision.DAY

    @property
    def sort_key(self) -> datetime:
        """Where the value sits on a merged timeline (the start of a day window)."""
        return self.earliest

    def definitely_before(self, other: Timestamp, tolerance: timedelta) -> bool:
        """True only when every reading of self is earlier than every reading of other by more than tolerance."""
        return self.latest + tolerance < other.earliest

    def gap_to(self, later: Timestamp) -> timedelta:
        """The smallest possible time from self to later (zero when they may overlap)."""
        return max(later.earliest - self.latest, timedelta(0))


@dataclass(frozen=True, slots=True)
class Line:
    """One order line as a system holds it."""

    sku: str
    ordered: int
    shipped: int = 0
    cancelled: int = 0
    source: str = ""  # field path the line came from


@dataclass(frozen=True, slots=True)
class UnmappedStatus:
    """A native status value the system's status table does not know."""

    field: str  # field path, e.g. "order.fulfillment.fulfillmentStatus"
    value: str
    dimension: str  # "fulfillment" or "financial"


@dataclass(frozen=True, slots=True)
class Record:
    """What one system holds for a case: one order (or sales order) and what hangs off it."""

    system: str
    ref: str  # the ref a person would search for: Amazon order id, Shopify name, NetSuite tranId
    native_id: str  # the system's internal id (GID, internal id)
    native_status: str  # the raw status, as displayed by the system
    fulfillment: Fulfillment
    financial: Financial
    lines: tuple[Line, ...] = ()
    tracking: frozenset[str] = frozenset()
    total: Decimal | None = None
    currency: str | None = None
    created: Timestamp | None = None
    updated: Timestamp | None = None
    links: frozenset[str] = frozenset()  # refs of the same order in other systems, as this record names them
    unmapped: tuple[UnmappedStatus, ...] = ()
    payload_ids: tuple[str, ...] = ()  # the raw payloads this record was built from
    sources: tuple[tuple[str, str], ...] = ()  # (value name, field path) provenance


@dataclass(frozen=True, slots=True)
class Event:
    """One dated thing a system says happened to the case."""

    id: str  # stable within the case: "<system>/<what>/<which>"
    system: str
    at: Timestamp
    kind: EventKind
    fulfillment: Fulfillment | None = None  # state after the event, where known
    financial: Financial | None = None
    source: str = ""  # field path or endpoint
    origin: Origin = Origin.UNKNOWN
    native_status: str | None = None
    detail: str = ""  # a short human description
    record_ref: str | None = None  # which record of the system it belongs to
    payload_id: str | None = None


@dataclass(frozen=True, slots=True)
class RawPayload:
    """One verbatim API response, as fetched or imported."""

    id: str  # content hash, stable across re-imports
    system: str
    endpoint: str  # e.g. "GET /orders/2026-01-01/orders/113-...?includedData=FULFILLMENT"
    fetched_at: datetime
    body: str  # the response text exactly as received


@dataclass(frozen=True, slots=True)
class SystemDef:
    """A configured system: a user-chosen name, its role and its platform."""

    name: str
    role: Role
    platform: str


@dataclass(frozen=True, slots=True)
class Holding:
    """Everything one system holds for a case, and how we know."""

    system: SystemDef
    presence: Presence
    records: tuple[Record, ...] = ()
    events: tuple[Event, ...] = ()
    fetched_at: datetime | None = None
    proof: str | None = None  # for ABSENT: the query that came back empty


@dataclass(frozen=True, slots=True)
class Case:
    """One real-world order as all systems know it."""

    ref: str  # the ref in the system where the order originated
    origin: str  # name of that system
    holdings: tuple[Holding, ...] = ()

    def holding(self, system: str) -> Holding | None:
        for holding in self.holdings:
            if holding.system.name == system:
                return holding
        return None

    @property
    def newest_fetch(self) -> datetime | None:
        times = [h.fetched_at for h in self.holdings if h.fetched_at is not None]
        return max(times) if times else None


@dataclass(frozen=True, slots=True)
class Handoff:
    """A directed edge along which an event kind is expected to travel."""

    source: str  # system name ("from" in output)
    target: str  # system name ("to" in output)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired on a case."""

    rule: str
    kind: FindingKind
    at: datetime | None
    message: str
    handoff: Handoff | None = None
    events: tuple[str, ...] = ()  # ids of the events it rests on
    latency: timedelta | None = None  # for delays: how late
    systems: tuple[str, ...] = ()  # systems involved, for filters
    check_next: str = ""  # what a person should look at next


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where the truth split: the row the timeline highlights."""

    at: datetime | None
    system: str | None
    event: EventKind | None
    event_id: str | None
    handoff: Handoff | None
    rule: str


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The audit of one case."""

    case: Case
    verdict: Verdict
    findings: tuple[Finding, ...]
    first_divergence: Divergence | None
    as_of: datetime

    @property
    def timeline(self) -> tuple[Event, ...]:
        """Every event of every system, in time order: the merged view a person reads."""
        events = (e for h in self.case.holdings for e in h.events)
        return tuple(sorted(events, key=lambda e: (e.at.sort_key, e.system, e.id)))


class ThreetruthError(Exception):
    """An error a person can act on: a short title and one line saying what to do.

    Every layer raises subclasses of this; the command line prints ``str(error)``
    and the UI shows the title and message as they are.
    """

    title = "Error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message
