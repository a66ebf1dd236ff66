"""Tiny builders for hand-made cases: the rules are tested on these, not on vendor payloads."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from audit.model import (
    UTC,
    Case,
    Event,
    EventKind,
    Financial,
    Fulfillment,
    Holding,
    Line,
    Presence,
    Record,
    Role,
    SystemDef,
    Timestamp,
    UnmappedStatus,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLES = {"amazon": Role.MARKETPLACE, "shopify": Role.STOREFRONT, "netsuite": Role.ERP}


def at(minutes: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours)


def stamp(moment: datetime) -> Timestamp:
    return Timestamp.instant(moment)


def day(text: str, zone: str = "UTC") -> Timestamp:
    from adapters.base import parse_day, zone_or_utc

    return parse_day(text, zone_or_utc(zone))


_counter = iter(range(1_000_000))


def ev(system: str, kind: EventKind, moment: datetime | Timestamp, *, ref: str | None = None,
       fulfillment: Fulfillment | None = None) -> Event:
    when = moment if isinstance(moment, Timestamp) else stamp(moment)
    return Event(
        id=f"{system}/{kind.value}/{next(_counter)}",
        system=system,
        at=when,
        kind=kind,
        fulfillment=fulfillment,
        record_ref=ref or REFS[system],
    )


REFS = {"amazon": "113-0000000-0000001", "shopify": "#1001", "netsuite": "SO1"}


def rec(system: str, fulfillment: Fulfillment = Fulfillment.OPEN, financial: Financial = Financial.PAID, *,
        ref: str | None = None, created: datetime = T0, lines: tuple[Line, ...] | None = None,
        tracking: frozenset[str] = frozenset(), total: str | None = "24.99", currency: str = "USD",
        unmapped: tuple[UnmappedStatus, ...] = ()) -> Record:
    return Record(
        system=system,
        ref=ref or REFS[system],
        native_id=ref or REFS[system],
        native_status=fulfillment.value,
        fulfillment=fulfillment,
        financial=financial,
        lines=lines if lines is not None else (Line("TEE-RED-M", 1),),
        tracking=tracking,
        total=Decimal(total) if total is not None else None,
        currency=currency,
        created=stamp(created),
        unmapped=unmapped,
    )


def hold(system: str, records: list[Record] | None = None, events: list[Event] | None = None, *,
         presence: Presence | None = None, fetched: datetime | None = None) -> Holding:
    records = records or []
    if presence is None:
        presence = Presence.PRESENT if records else Presence.ABSENT
    return Holding(
        SystemDef(system, ROLES[system], system),
        presence,
        tuple(records),
        tuple(events or []),
        fetched or at(hours=72),
    )


def case(*holdings: Holding, origin: str = "amazon") -> Case:
    return Case(ref=REFS[origin], origin=origin, holdings=tuple(holdings))


def created(system: str, minutes: float = 0, **kwargs) -> tuple[Record, Event]:
    """A record created ``minutes`` after T0, with its created event."""
    moment = at(minutes)
    return rec(system, created=moment, **kwargs), ev(system, EventKind.CREATED, moment)

