"""The adapter contract: what every platform package provides, and the helpers they share.

A platform adapter turns the verbatim API responses of one system into canonical
:class:`~audit.model.Record` and :class:`~audit.model.Event` values. Vendor-shaped
data (the pydantic payload models) never leaves the adapter package.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
import pydantic_core

from audit.model import (
    UTC,
    Event,
    Financial,
    Fulfillment,
    Precision,
    RawPayload,
    Record,
    SystemDef,
    ThreetruthError,
    Timestamp,
    UnmappedStatus,
)


class PayloadError(ThreetruthError):
    """A payload that cannot be read as the API response it claims to be."""

    title = "Unreadable payload"


@dataclass(frozen=True, slots=True)
class StatusMapping:
    """What one native status value means on each canonical dimension (None: says nothing)."""

    fulfillment: Fulfillment | None = None
    financial: Financial | None = None


@dataclass(frozen=True)
class StatusTable:
    """A platform's mapping of one status field's native values, with the doc it was read from.

    Lookups ignore case and surrounding space, since platforms and middleware
    disagree on both (`Canceled` vs `CANCELLED` is a spelling; `shipped` vs
    `Shipped` is not a different status).
    """

    name: str  # e.g. "Amazon Orders v0 OrderStatus"
    source: str  # where the values come from (doc, model file)
    entries: Mapping[str, StatusMapping]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_folded", {_fold(k): v for k, v in self.entries.items()})

    def lookup(self, value: str, overrides: Mapping[str, StatusMapping] | None = None) -> StatusMapping | None:
        key = _fold(value)
        if overrides:
            for native, mapping in overrides.items():
                if _fold(native) == key:
                    return mapping
        return self._folded.get(key)  # type: ignore[attr-defined]


def _fold(value: str) -> str:
    return value.strip().casefold()


@dataclass(frozen=True, slots=True)
class NormaliseContext:
    """What a normaliser needs to know about the system beyond its payloads."""

    system: SystemDef
    timezone: str | None = None  # the account's zone, for date-only values and local datetimes
    status_overrides: Mapping[str, StatusMapping] = field(default_factory=dict)
    order_ref_field: str = "otherrefnum"  # NetSuite: the body field holding the channel order ref
    marketplace_link: str = "custom_attribute:Amazon Order ID"  # Shopify: where the marketplace ref lives

    @property
    def zone(self) -> ZoneInfo:
        return zone_or_utc(self.timezone)


@dataclass(slots=True)
class Normalised:
    """What one system's payloads say about the case."""

    records: list[Record] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class Platform(Protocol):
    """The contract every platform adapter implements.

    Bundled adapters and third-party ones are found the same way, through the
    ``threetruth.platforms`` entry point group (see :mod:`adapters.registry`).
    """

    name: str

    def recognise(self, body: Any) -> str | None:
        """Say which of this platform's responses a decoded JSON body is.

        Args:
            body: the decoded JSON of one response.

        Returns:
            A short kind name (e.g. ``"getOrder v2026-01-01"``), or None when the
            body is not a response of this platform.
        """
        ...

    def normalise(self, payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
        """Turn every payload one system returned for a case into canonical records and events.

        Args:
            payloads: the verbatim responses, in any order.
            context: the system's name, role and platform settings.

        Returns:
            The records (none when the responses prove the system holds nothing)
            and the dated events.

        Raises:
            PayloadError: a payload is not valid JSON or not a response this
                platform sends; the message names the payload and the problem.
        """
        ...


def payload_id(system: str, endpoint: str, body: str) -> str:
    """A stable id for a payload: the same response imported twice gets the same id."""
    digest = hashlib.sha256(f"{system}\n{endpoint}\n{body}".encode()).hexdigest()
    return digest[:20]


def make_payload(system: str, endpoint: str, fetched_at: datetime, body: str) -> RawPayload:
    return RawPayload(payload_id(system, endpoint, body), system, endpoint, fetched_at, body)


def parse_json(text: str) -> Any:
    """JSON text as Python values, exactly as ``json.loads`` reads it, about twice as fast.

    pydantic-core's parser (jiter, already a dependency through pydantic) does the
    work; the few texts it refuses that ``json.loads`` accepts (a lone UTF-16
    surrogate escape) fall back to ``json.loads``, which also words the error.

    Raises:
        ValueError: the text is not JSON.
    """
    try:
        return pydantic_core.from_json(text)
    except ValueError:
        return json.loads(text)


def decode(payload: RawPayload) -> Any:
    """The payload's JSON, or a PayloadError naming what is wrong with it."""
    try:
        return parse_json(payload.body)
    except ValueError as exc:
        raise PayloadError(f"{payload.endpoint}: not valid JSON ({exc})") from None


def validate(model: type[pydantic.BaseModel], body: Any, payload: RawPayload) -> Any:
    """Validate a decoded body against a vendor model, turning errors into one readable line."""
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PayloadError(
            f"{payload.endpoint}: not a {model.__name__} response: {where}: {first['msg']}{more}"
        ) from None


def zone_or_utc(name: str | None) -> ZoneInfo:
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ThreetruthError(f"unknown timezone {name!r}: use an IANA name such as America/Los_Angeles") from None


def parse_instant(raw: str, *, zone: ZoneInfo | None = None) -> Timestamp:
    """An ISO-8601 date-time as an instant.

    A value with ``Z`` or an offset is taken as is. A value without one is read in
    ``zone`` (the account's zone, for NetSuite SuiteQL TO_CHAR output); when no
    zone is given such a value is refused, since guessing would shift it by hours.
    """
    try:
        parsed = datetime.fromisoformat(raw.strip())  # Python 3.11 reads "Z" and offsets itself
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw.strip().replace("z", "+00:00"))  # a lower-case zone letter
        except ValueError:
            raise ValueError(f"not an ISO-8601 date-time: {raw!r}") from None
    offset = parsed.utcoffset()
    if offset is None:
        if zone is None:
            raise ValueError(f"date-time without an offset and no timezone configured: {raw!r}")
        parsed = parsed.replace(tzinfo=zone)
        return Timestamp.instant(parsed, raw, source_tz=zone.key)
    if not offset:
        at = parsed if parsed.tzinfo is UTC else parsed.replace(tzinfo=UTC)
        return Timestamp(at, at, raw, Precision.INSTANT, "UTC")  # the common case, kept cheap
    return Timestamp.instant(parsed, raw, source_tz=_offset_name(parsed))


def parse_day(raw: str, zone: ZoneInfo) -> Timestamp:
    """A calendar date (``YYYY-MM-DD`` or ``M/D/YYYY``) as the window of that local day."""
    text = raw.strip()
    try:
        if "/" in text:
            month, day, year = (int(part) for part in text.split("/"))
            date_value = datetime(year, month, day).date()
        else:
            date_value = datetime.fromisoformat(text[:10]).date()
    except ValueError:
        raise ValueError(f"not a date: {raw!r}") from None
    start = datetime.combine(date_value, time(0), tzinfo=zone)
    end = datetime.combine(date_value + timedelta(days=1), time(0), tzinfo=zone) - timedelta(microseconds=1)
    return Timestamp(start.astimezone(UTC), end.astimezone(UTC), raw, Precision.DAY, zone.key)


def _offset_name(parsed: datetime) -> str:
    offset = parsed.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def one_line(text: str) -> str:
    """Text folded onto one line, for messages that quote payload values."""
    return " ".join(text.split())


def instant_at(raw: str, path: str, payload: RawPayload) -> Timestamp:
    """An ISO-8601 time with Z or an offset read from ``path``; anything else is a broken payload."""
    try:
        return parse_instant(raw)
    except (ValueError, OverflowError) as exc:
        raise PayloadError(f"{payload.endpoint}: {path}: {one_line(str(exc))}") from None


def amount_at(raw: str, path: str, payload: RawPayload) -> Decimal:
    """A money amount (platforms send decimal strings) read from ``path``; anything else is a broken payload."""
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, ValueError, AttributeError):
        value = None
    if value is None or not value.is_finite():
        raise PayloadError(f"{payload.endpoint}: {path}: not a decimal amount: {one_line(repr(raw))[:60]}")
    return value


def unmapped(field_path: str, value: str, dimension: str) -> UnmappedStatus:
    return UnmappedStatus(field=field_path, value=value, dimension=dimension)


def normalise_tracking(number: str) -> str:
    """Tracking numbers compared across systems: no spaces or dashes, upper case."""
    return "".join(ch for ch in number if ch.isalnum()).upper()
