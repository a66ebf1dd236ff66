"""Pure normaliser: Amazon SP-API Orders responses (v2026-01-01 and v0) to canonical records and events.

Amazon tells little about time: the order's creation and last update, and for
v2026 merchant-fulfilled orders each package's creation and ship time. Nothing
dates a cancellation, a delivery or a v0 shipment, so those events sit at the
last-update time (the latest they can have happened) and their detail says so.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapters.amazon import models
from adapters.amazon.statuses import (
    EASY_SHIP_STATUS_V0,
    FULFILLMENT_STATUS,
    ORDER_STATUS_V0,
    PACKAGE_STATUS,
)
from adapters.base import (
    NormaliseContext,
    Normalised,
    PayloadError,
    StatusMapping,
    StatusTable,
    amount_at,
    decode,
    instant_at,
    normalise_tracking,
    one_line,
    unmapped,
    validate,
)
from audit.model import (
    Event,
    EventKind,
    Financial,
    Fulfillment,
    Line,
    Origin,
    RawPayload,
    Record,
    Timestamp,
    UnmappedStatus,
)

GET_ORDER = "getOrder v2026-01-01"
SEARCH_ORDERS = "searchOrders v2026-01-01"
GET_ORDER_V0 = "getOrder v0"
GET_ORDERS_V0 = "getOrders v0"
GET_ORDER_ITEMS_V0 = "getOrderItems v0"
ORDER_CHANGE = "ORDER_CHANGE notification"
ERROR = "error response"

BOTH = ("fulfillment", "financial")
FULFILLMENT_ONLY = ("fulfillment",)
_SEARCH_MARKERS = frozenset({"pagination", "createdBefore", "lastUpdatedBefore"})
_ERROR_FIELDS = frozenset({"code", "message", "details"})
_GONE = (Fulfillment.SHIPPED, Fulfillment.DELIVERED)  # the goods have left the seller
# Who executed a v2026 item cancellation (ItemCancellationExecution.cancelledBy). A merchant
# cancel may be a person or the seller's integration: the API cannot tell which.
_CANCELLED_BY = {"BUYER": Origin.PERSON, "AMAZON": Origin.PLATFORM}


def recognise(body: Any) -> str | None:
    """Which Amazon Orders response a decoded body is; None unless it carries Amazon's own markers."""
    return _classify(body, strict=True)


def normalise(payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
    """Every Amazon response for one case as canonical records and events (see adapters.base.Platform)."""
    seen = _Seen()
    for payload in payloads:
        body = decode(payload)
        kind = _classify(body, strict=False)
        if kind is None:
            raise PayloadError(f"{payload.endpoint}: not an Amazon Orders API response ({_describe(body)})")
        _COLLECTORS[kind](seen, body, payload)
    return _build(seen, context)


# --- recognising and collecting ---------------------------------------------------------------


def _classify(body: Any, *, strict: bool) -> str | None:
    """The response kind. Strict (for import sniffing) needs Amazon-only markers; lenient needs a key."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        if not strict or all(isinstance(e, dict) and "code" in e and e.keys() <= _ERROR_FIELDS for e in errors):
            return ERROR
        return None
    if "order" in body and (not strict or (isinstance(body["order"], dict) and "orderId" in body["order"])):
        return GET_ORDER
    orders = body.get("orders")
    if "orders" in body and (
        not strict
        or (
            isinstance(orders, list)
            # A bare {"orders": []} is also Shopify REST's answer: only the search's own keys decide.
            and (body.keys() & _SEARCH_MARKERS or any(isinstance(o, dict) and "orderId" in o for o in orders))
        )
    ):
        return SEARCH_ORDERS
    payload = body.get("payload")
    if isinstance(payload, dict):
        if "Orders" in payload:
            return GET_ORDERS_V0
        if "OrderItems" in payload:
            return GET_ORDER_ITEMS_V0
        if "AmazonOrderId" in payload or not strict:
            return GET_ORDER_V0
    if body.get("NotificationType") == "ORDER_CHANGE" or (not strict and "NotificationType" in body):
        return ORDER_CHANGE
    return None


@dataclass(frozen=True, slots=True)
class _Sighting:
    """One order as one response shows it, with the path of the order inside the body."""

    order: Any  # models.Order or models.V0Order
    payload: RawPayload
    path: str
    complete: bool = True  # False for a search result, which may lack the includedData sets


@dataclass(slots=True)
class _Seen:
    """Everything the responses held, by Amazon order id."""

    orders: dict[str, list[_Sighting]] = field(default_factory=lambda: defaultdict(list))
    orders_v0: dict[str, list[_Sighting]] = field(default_factory=lambda: defaultdict(list))
    items_v0: dict[str, list[tuple[models.V0OrderItemsList, RawPayload]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    changes: dict[str, list[tuple[models.OrderChangeNotification, RawPayload]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _collect_error(seen: _Seen, body: Any, payload: RawPayload) -> None:
    errors = validate(models.ErrorResponse, body, payload).errors
    first = errors[0]
    text = f"{first.code}: {first.message}" if first.message else first.code
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise PayloadError(f"{payload.endpoint}: Amazon answered with error {one_line(text)}{more}")


def _collect_get_order(seen: _Seen, body: Any, payload: RawPayload) -> None:
    order = validate(models.GetOrderResponse, body, payload).order
    seen.orders[order.orderId].append(_Sighting(order, payload, "order"))


def _collect_search(seen: _Seen, body: Any, payload: RawPayload) -> None:
    # An empty page proves the system holds nothing for the query: no record, not an error.
    for index, order in enumerate(validate(models.SearchOrdersResponse, body, payload).orders):
        seen.orders[order.orderId].append(_Sighting(order, payload, f"orders[{index}]", complete=False))


def _collect_order_v0(seen: _Seen, body: Any, payload: RawPayload) -> None:
    order = validate(models.V0GetOrderResponse, body, payload).payload
    seen.orders_v0[order.AmazonOrderId].append(_Sighting(order, payload, "payload"))


def _collect_orders_v0(seen: _Seen, body: Any, payload: RawPayload) -> None:
    for index, order in enumerate(validate(models.V0GetOrdersResponse, body, payload).payload.Orders):
        seen.orders_v0[order.AmazonOrderId].append(_Sighting(order, payload, f"payload.Orders[{index}]"))


def _collect_items_v0(seen: _Seen, body: Any, payload: RawPayload) -> None:
    page = validate(models.V0GetOrderItemsResponse, body, payload).payload
    seen.items_v0[page.AmazonOrderId].append((page, payload))


def _collect_change(seen: _Seen, body: Any, payload: RawPayload) -> None:
    note = validate(models.OrderChangeNotification, body, payload)
    if note.NotificationType != "ORDER_CHANGE":
        raise PayloadError(f"{payload.endpoint}: notification type {note.NotificationType!r} is not ORDER_CHANGE")
    seen.changes[note.Payload.OrderChangeNotification.AmazonOrderId].append((note, payload))


_COLLECTORS = {
    ERROR: _collect_error,
    GET_ORDER: _collect_get_order,
    SEARCH_ORDERS: _collect_search,
    GET_ORDER_V0: _collect_order_v0,
    GET_ORDERS_V0: _collect_orders_v0,
    GET_ORDER_ITEMS_V0: _collect_items_v0,
    ORDER_CHANGE: _collect_change,
}


# --- building ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Reader:
    """Reads values out of one response for one record, noting unknown statuses on the way."""

    context: NormaliseContext
    payload: RawPayload
    order_id: str
    unmapped: list[UnmappedStatus] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def instant(self, raw: str, path: str) -> Timestamp:
        return instant_at(raw, path, self.payload)

    def amount(self, raw: str, path: str) -> Decimal:
        return amount_at(raw, path, self.payload)

    def lookup(self, table: StatusTable, value: str, path: str, dimensions: tuple[str, ...]) -> StatusMapping | None:
        mapping = table.lookup(value, self.context.status_overrides)
        if mapping is None:
            self.unmapped.extend(unmapped(path, value, dimension) for dimension in dimensions)
        return mapping

    def known(self, table: StatusTable, value: str) -> StatusMapping:
        """A documented value's mapping (the states an event implies), honouring overrides."""
        return table.lookup(value, self.context.status_overrides) or StatusMapping()

    def event(
        self,
        thing: str,
        which: str,
        kind: EventKind,
        at: Timestamp,
        source: str,
        *,
        states: StatusMapping | None = None,
        origin: Origin = Origin.UNKNOWN,
        native_status: str | None = None,
        detail: str = "",
    ) -> None:
        system = self.context.system.name
        self.events.append(
            Event(
                id=f"{system}/{thing}/{which}/{kind.value}",
                system=system,
                at=at,
                kind=kind,
                fulfillment=states.fulfillment if states else None,
                financial=states.financial if states else None,
                source=source,
                origin=origin,
                native_status=native_status,
                detail=detail,
                record_ref=self.order_id,
                payload_id=self.payload.id,
            )
        )


def _build(seen: _Seen, context: NormaliseContext) -> Normalised:
    """One record per order (v2026 preferred over v0), then the notifications' events."""
    records: dict[str, Record] = {}
    events: list[Event] = []
    for order_id in sorted(seen.orders.keys() | seen.orders_v0.keys()):
        extra = [s.payload for s in seen.orders_v0.get(order_id, ())]
        extra += [payload for _, payload in seen.items_v0.get(order_id, ())]
        if order_id in seen.orders:
            chosen, others = _newest(seen.orders[order_id])
            record, order_events = _order_2026(chosen, context)
        else:
            chosen, others = _newest(seen.orders_v0[order_id])
            record, order_events = _order_v0(chosen, seen.items_v0.get(order_id, []), context)
        extra += [s.payload for s in others]
        ids = {record.payload_ids[0], *(p.id for p in extra)}
        records[order_id] = dataclasses.replace(record, payload_ids=tuple(sorted(ids)))
        events += order_events
    for order_id, pages in sorted(seen.items_v0.items()):
        if order_id not in records:
            raise PayloadError(
                f"{pages[0][1].endpoint}: order items of {order_id} came without the order itself "
                "(fetch getOrder for it too)"
            )
    for order_id, notes in sorted(seen.changes.items()):
        for note, payload in sorted(notes, key=lambda pair: pair[1].id):
            reader = _Reader(context, payload, order_id)
            _order_change(reader, note)
            events += reader.events
            if order_id in records:
                record = records[order_id]
                records[order_id] = dataclasses.replace(
                    record,
                    unmapped=record.unmapped + tuple(reader.unmapped),
                    payload_ids=tuple(sorted({*record.payload_ids, payload.id})),
                )
    return Normalised(records=[records[key] for key in sorted(records)], events=_unique(events))


def _newest(sightings: list[_Sighting]) -> tuple[_Sighting, list[_Sighting]]:
    """The sighting to build from: a full getOrder before a search hit, then the latest update."""

    def rank(sighting: _Sighting) -> tuple[bool, Any, str]:
        order = sighting.order
        name = "lastUpdatedTime" if isinstance(order, models.Order) else "LastUpdateDate"
        at = instant_at(getattr(order, name), f"{sighting.path}.{name}", sighting.payload)
        return sighting.complete, at.earliest, sighting.payload.id

    ordered = sorted(sightings, key=rank)
    return ordered[-1], ordered[:-1]


_Package = tuple[int, models.OrderPackage, StatusMapping | None]  # index, package, its status mapping


def _order_2026(sighting: _Sighting, context: NormaliseContext) -> tuple[Record, list[Event]]:
    """One v2026-01-01 Order as a record and its events."""
    order: models.Order = sighting.order
    path = sighting.path
    read = _Reader(context, sighting.payload, order.orderId)
    created = read.instant(order.createdTime, f"{path}.createdTime")
    updated = read.instant(order.lastUpdatedTime, f"{path}.lastUpdatedTime")
    sources = [("created", f"{path}.createdTime"), ("updated", f"{path}.lastUpdatedTime")]

    status = order.fulfillment.fulfillmentStatus if order.fulfillment else None
    status_path = f"{path}.fulfillment.fulfillmentStatus"
    mapping = read.lookup(FULFILLMENT_STATUS, status, status_path, BOTH) if status is not None else None
    fulfillment = mapping.fulfillment if mapping and mapping.fulfillment else Fulfillment.UNKNOWN
    financial = mapping.financial if mapping and mapping.financial else Financial.UNKNOWN
    native_status = status if status is not None else "(no FULFILLMENT data)"
    if status is not None:
        sources += [("fulfillment", status_path), ("financial", status_path)]

    packages = _packages(read, order, path)
    # A cancelled package is a voided label: its goods and tracking number do not count.
    live = [(i, p, pm) for i, p, pm in packages if not (pm and pm.fulfillment is Fulfillment.CANCELLED)]
    delivered = [pm and pm.fulfillment is Fulfillment.DELIVERED for _, _, pm in live]
    if fulfillment is Fulfillment.SHIPPED and delivered and all(delivered):
        # fulfillmentStatus ends at the handover to the carrier; the packages tell the delivery.
        fulfillment = Fulfillment.DELIVERED
        native_status = f"{status} / packages DELIVERED"
        sources.append(("fulfillment", f"{path}.packages[].packageStatus.status"))

    tracking = set()
    for index, package, _ in live:
        if package.trackingNumber and normalise_tracking(package.trackingNumber):
            tracking.add(normalise_tracking(package.trackingNumber))
            sources.append(("tracking", f"{path}.packages[{index}].trackingNumber"))

    gone = [(i, p, pm) for i, p, pm in live if p.shipTime or (pm and pm.fulfillment in _GONE)]
    lines = _lines_2026(order, path, gone, fulfillment)
    if lines:
        sources.append(("lines", f"{path}.orderItems"))

    total = currency = None
    if order.proceeds and order.proceeds.grandTotal:
        total_path = f"{path}.proceeds.grandTotal"
        total = read.amount(order.proceeds.grandTotal.amount, f"{total_path}.amount")
        currency = order.proceeds.grandTotal.currencyCode
        sources.append(("total", total_path))

    links = {alias.aliasId for alias in order.orderAliases or [] if alias.aliasId and alias.aliasId != order.orderId}
    if links:
        sources.append(("links", f"{path}.orderAliases"))

    marketplace = order.salesChannel.marketplaceName if order.salesChannel else None
    read.event(
        "order",
        order.orderId,
        EventKind.CREATED,
        created,
        f"{path}.createdTime",
        # "For standard orders, the initial order status is PENDING" (FulfillmentStatus doc).
        states=read.known(FULFILLMENT_STATUS, "PENDING"),
        origin=Origin.PLATFORM,
        detail=f"order placed on {marketplace}" if marketplace else "order placed",
    )
    _package_events(read, order, path, packages, gone, fulfillment, updated)
    if fulfillment in (Fulfillment.PARTIAL, *_GONE) and not any(p.shipTime for _, p, _ in gone):
        # Packages come only with merchant-fulfilled orders: without a ship time the shipment
        # is dated like v0's, at the last update.
        read.event(
            "order",
            order.orderId,
            EventKind.SHIPPED,
            updated,
            status_path,
            states=mapping,
            origin=_fulfiller(order),
            native_status=status,
            detail=f"fulfillmentStatus {status} and no package ship time; this is lastUpdatedTime, "
            "the latest it can have happened",
        )
    _cancellation_events_2026(read, order, path, status, mapping, fulfillment, updated)

    record = Record(
        system=context.system.name,
        ref=order.orderId,
        native_id=order.orderId,  # Amazon has no internal id beside the order id
        native_status=native_status,
        fulfillment=fulfillment,
        financial=financial,
        lines=_merge_lines(lines),
        tracking=frozenset(tracking),
        total=total,
        currency=currency,
        created=created,
        updated=updated,
        links=frozenset(links),
        unmapped=tuple(read.unmapped),
        payload_ids=(sighting.payload.id,),
        sources=tuple(sources),
    )
    return record, read.events


def _packages(read: _Reader, order: models.Order, path: str) -> list[_Package]:
    """Each v2026 package with its status mapping (None when absent or unknown, which is noted)."""
    packages: list[_Package] = []
    for index, package in enumerate(order.packages or []):
        status = package.packageStatus.status if package.packageStatus else None
        status_path = f"{path}.packages[{index}].packageStatus.status"
        mapping = read.lookup(PACKAGE_STATUS, status, status_path, FULFILLMENT_ONLY) if status is not None else None
        packages.append((index, package, mapping))
    return packages


def _lines_2026(order: models.Order, path: str, gone: list[_Package], fulfillment: Fulfillment) -> list[Line]:
    """Per item: ordered; shipped from quantityFulfilled, else the shipped packages, else the order state."""
    packed: dict[str, int] = defaultdict(int)
    for _, package, _ in gone:
        for item in package.packageItems or []:
            packed[item.orderItemId] += item.quantity
    lines = []
    for index, item in enumerate(order.orderItems or []):
        product = item.product or models.ItemProduct()
        sku = product.sellerSku or product.asin or item.orderItemId
        if item.fulfillment and item.fulfillment.quantityFulfilled is not None:
            shipped = item.fulfillment.quantityFulfilled
        elif item.orderItemId in packed:
            shipped = packed[item.orderItemId]
        else:
            shipped = item.quantityOrdered if fulfillment in _GONE else 0
        executed = item.cancellation is not None and item.cancellation.cancellationExecution is not None
        # The model gives no cancelled quantity: Amazon cancels what has not shipped.
        cancelled = max(item.quantityOrdered - shipped, 0) if executed or fulfillment is Fulfillment.CANCELLED else 0
        lines.append(Line(sku, item.quantityOrdered, shipped, cancelled, f"{path}.orderItems[{index}]"))
    return lines


def _fulfiller(order: models.Order) -> Origin:
    """Amazon ships Amazon-fulfilled orders; a merchant's shipment may be a person's or an integration's."""
    by_amazon = order.fulfillment is not None and (order.fulfillment.fulfilledBy or "").upper() == "AMAZON"
    return Origin.PLATFORM if by_amazon else Origin.UNKNOWN


def _package_events(
    read: _Reader,
    order: models.Order,
    path: str,
    packages: list[_Package],
    gone: list[_Package],
    fulfillment: Fulfillment,
    updated: Timestamp,
) -> None:
    """fulfillment_created, shipped and delivered per v2026 package."""
    origin = _fulfiller(order)
    ship_times = {i: read.instant(p.shipTime, f"{path}.packages[{i}].shipTime") for i, p, _ in gone if p.shipTime}
    last_shipped = max(ship_times, key=lambda i: (ship_times[i].earliest, i)) if ship_times else None
    for index, package, package_mapping in packages:
        package_path = f"{path}.packages[{index}]"
        which = f"{order.orderId}:{package.packageReferenceId}"
        raw_status = package.packageStatus.status if package.packageStatus else None
        detailed = package.packageStatus.detailedStatus if package.packageStatus else None
        label = " ".join(part for part in (package.carrier, package.trackingNumber) if part)
        described = f"package {package.packageReferenceId}" + (f" ({label})" if label else "")
        if package.createdTime:
            read.event(
                "package",
                which,
                EventKind.FULFILLMENT_CREATED,
                read.instant(package.createdTime, f"{package_path}.createdTime"),
                f"{package_path}.createdTime",
                origin=origin,
                native_status=raw_status,
                detail=f"{described} created",
            )
        if index in ship_times:
            # The last package to leave completes a SHIPPED order; any earlier one left it partial.
            whole = index == last_shipped and fulfillment in _GONE
            read.event(
                "package",
                which,
                EventKind.SHIPPED,
                ship_times[index],
                f"{package_path}.shipTime",
                states=read.known(FULFILLMENT_STATUS, "SHIPPED" if whole else "PARTIALLY_SHIPPED"),
                origin=origin,
                native_status=raw_status,
                detail=f"{described} handed to the carrier",
            )
        if package_mapping and package_mapping.fulfillment is Fulfillment.DELIVERED:
            read.event(
                "package",
                which,
                EventKind.DELIVERED,
                updated,
                f"{package_path}.packageStatus.status",
                states=StatusMapping(Fulfillment.DELIVERED, read.known(FULFILLMENT_STATUS, "SHIPPED").financial)
                if fulfillment is Fulfillment.DELIVERED
                else None,
                origin=Origin.PLATFORM,
                native_status=raw_status if not detailed else f"{raw_status} / {detailed}",
                detail=f"{described} delivered; the model gives no delivery time, so this is "
                "lastUpdatedTime, the latest it can have happened",
            )


def _cancellation_events_2026(
    read: _Reader,
    order: models.Order,
    path: str,
    status: str | None,
    mapping: StatusMapping | None,
    fulfillment: Fulfillment,
    updated: Timestamp,
) -> None:
    """cancelled (order or item) and buyer cancel requests from the v2026 CANCELLATION data."""
    no_time = "the model gives no cancellation time, so this is lastUpdatedTime, the latest it can have happened"
    first_execution = None
    for index, item in enumerate(order.orderItems or []):
        if item.cancellation is None:
            continue
        item_path = f"{path}.orderItems[{index}].cancellation"
        sku = (item.product.sellerSku if item.product else None) or item.orderItemId
        execution, request = item.cancellation.cancellationExecution, item.cancellation.cancellationRequest
        which = f"{order.orderId}:{item.orderItemId}"
        if execution is not None:
            first_execution = first_execution or (execution, item_path)
            if fulfillment is not Fulfillment.CANCELLED:
                read.event(
                    "item",
                    which,
                    EventKind.CANCELLED,
                    updated,
                    f"{item_path}.cancellationExecution",
                    origin=_CANCELLED_BY.get((execution.cancelledBy or "").upper(), Origin.UNKNOWN),
                    native_status=status,
                    detail=f"item {sku} cancelled by {execution.cancelledBy or 'unknown'}"
                    f"{_reason(execution.cancelReason)} while the order stays {status}; {no_time}",
                )
        elif request is not None:
            read.event(
                "item",
                which,
                EventKind.NOTE,
                updated,
                f"{item_path}.cancellationRequest",
                origin=Origin.PERSON if (request.requester or "").upper() == "BUYER" else Origin.UNKNOWN,
                native_status=status,
                detail=f"{request.requester or 'someone'} asked to cancel item {sku}{_reason(request.cancelReason)}; "
                f"not executed yet; {no_time}",
            )
    if fulfillment is Fulfillment.CANCELLED:
        execution, source = first_execution or (None, f"{path}.fulfillment.fulfillmentStatus")
        who = execution.cancelledBy if execution else None
        read.event(
            "order",
            order.orderId,
            EventKind.CANCELLED,
            updated,
            source,
            states=mapping,
            origin=_CANCELLED_BY.get((who or "").upper(), Origin.UNKNOWN),
            native_status=status,
            detail=f"order {status}" + (f" by {who}" if who else "")
            + (_reason(execution.cancelReason) if execution else "") + f"; {no_time}",
        )


def _order_v0(
    sighting: _Sighting, pages: list[tuple[models.V0OrderItemsList, RawPayload]], context: NormaliseContext
) -> tuple[Record, list[Event]]:
    """One v0 Order (with its getOrderItems pages, merged) as a record and its events."""
    order: models.V0Order = sighting.order
    path = sighting.path
    read = _Reader(context, sighting.payload, order.AmazonOrderId)
    created = read.instant(order.PurchaseDate, f"{path}.PurchaseDate")
    updated = read.instant(order.LastUpdateDate, f"{path}.LastUpdateDate")
    status_path = f"{path}.OrderStatus"
    sources = [
        ("created", f"{path}.PurchaseDate"),
        ("updated", f"{path}.LastUpdateDate"),
        ("fulfillment", status_path),
        ("financial", status_path),
    ]
    mapping = read.lookup(ORDER_STATUS_V0, order.OrderStatus, status_path, BOTH) or StatusMapping()
    fulfillment = mapping.fulfillment or Fulfillment.UNKNOWN
    financial = mapping.financial or Financial.UNKNOWN
    native_status = order.OrderStatus
    easy_ship = order.EasyShipShipmentStatus
    if easy_ship is not None:
        easy_path = f"{path}.EasyShipShipmentStatus"
        native_status = f"{order.OrderStatus} / Easy Ship {easy_ship}"
        easy_mapping = read.lookup(EASY_SHIP_STATUS_V0, easy_ship, easy_path, FULFILLMENT_ONLY)
        # OrderStatus stops at "shipped"; Easy Ship's carrier status tells what came after.
        if fulfillment is Fulfillment.SHIPPED and easy_mapping and easy_mapping.fulfillment in (
            Fulfillment.DELIVERED,
            Fulfillment.RETURNED,
        ):
            fulfillment = easy_mapping.fulfillment
            sources.append(("fulfillment", easy_path))

    items: dict[str, tuple[models.V0OrderItem, str]] = {}
    for page, _ in pages:
        for index, item in enumerate(page.OrderItems):
            items.setdefault(item.OrderItemId, (item, f"payload.OrderItems[{index}]"))
    lines = []
    for item, item_path in sorted(items.values(), key=lambda pair: pair[0].OrderItemId):
        sku = item.SellerSKU or item.ASIN or item.OrderItemId
        if item.QuantityShipped is not None:
            shipped = item.QuantityShipped
        else:
            shipped = item.QuantityOrdered if mapping.fulfillment in _GONE else 0
        # v0 has no cancelled quantity: a Canceled order cancelled all it had not shipped.
        cancelled = max(item.QuantityOrdered - shipped, 0) if mapping.fulfillment is Fulfillment.CANCELLED else 0
        lines.append(Line(sku, item.QuantityOrdered, shipped, cancelled, item_path))
    if lines:
        sources.append(("lines", "payload.OrderItems"))

    total = currency = None
    if order.OrderTotal and order.OrderTotal.Amount is not None:
        total = read.amount(order.OrderTotal.Amount, f"{path}.OrderTotal.Amount")
        currency = order.OrderTotal.CurrencyCode
        sources.append(("total", f"{path}.OrderTotal"))
    links = {order.SellerOrderId} if order.SellerOrderId and order.SellerOrderId != order.AmazonOrderId else set()
    if links:
        sources.append(("links", f"{path}.SellerOrderId"))

    _events_v0(read, order, path, created, updated, mapping, fulfillment, items.values())
    record = Record(
        system=context.system.name,
        ref=order.AmazonOrderId,
        native_id=order.AmazonOrderId,
        native_status=native_status,
        fulfillment=fulfillment,
        financial=financial,
        lines=_merge_lines(lines),
        tracking=frozenset(),  # v0 getOrder and getOrderItems carry no tracking numbers
        total=total,
        currency=currency,
        created=created,
        updated=updated,
        links=frozenset(links),
        unmapped=tuple(read.unmapped),
        payload_ids=(sighting.payload.id,),
        sources=tuple(sources),
    )
    return record, read.events


def _events_v0(
    read: _Reader,
    order: models.V0Order,
    path: str,
    created: Timestamp,
    updated: Timestamp,
    mapping: StatusMapping,
    fulfillment: Fulfillment,
    items: Iterable[tuple[models.V0OrderItem, str]],
) -> None:
    """created, plus shipped / delivered / returned / cancelled at LastUpdateDate, the only other v0 time."""
    order_id, status = order.AmazonOrderId, order.OrderStatus
    only_time = "v0 gives no time for it, so this is LastUpdateDate, the latest it can have happened"
    read.event(
        "order",
        order_id,
        EventKind.CREATED,
        created,
        f"{path}.PurchaseDate",
        # "for orders with OrderType = Standard, the initial order status is Pending" (ordersV0.json).
        states=read.known(ORDER_STATUS_V0, "Pending"),
        origin=Origin.PLATFORM,
        detail=f"order placed on {order.SalesChannel}" if order.SalesChannel else "order placed",
    )
    status_path = f"{path}.OrderStatus"
    if mapping.fulfillment in (Fulfillment.PARTIAL, *_GONE):
        read.event(
            "order",
            order_id,
            EventKind.SHIPPED,
            updated,
            status_path,
            states=mapping,
            origin=Origin.PLATFORM if order.FulfillmentChannel == "AFN" else Origin.UNKNOWN,
            native_status=status,
            detail=f"OrderStatus {status}; {only_time}",
        )
    later = {Fulfillment.DELIVERED: EventKind.DELIVERED, Fulfillment.RETURNED: EventKind.RETURNED}
    if fulfillment in later and fulfillment is not mapping.fulfillment:
        read.event(
            "order",
            order_id,
            later[fulfillment],
            updated,
            f"{path}.EasyShipShipmentStatus",
            states=StatusMapping(fulfillment, mapping.financial),
            origin=Origin.PLATFORM,
            native_status=order.EasyShipShipmentStatus,
            detail=f"Easy Ship {order.EasyShipShipmentStatus}; {only_time}",
        )
    if mapping.fulfillment is Fulfillment.CANCELLED:
        read.event(
            "order",
            order_id,
            EventKind.CANCELLED,
            updated,
            status_path,
            states=mapping,
            native_status=status,
            detail=f"OrderStatus {status}; v0 only tells the last update time: the cancel happened "
            "at LastUpdateDate or before",
        )
    for item, item_path in items:
        asked = item.BuyerRequestedCancel
        if asked is not None and str(asked.IsBuyerRequestedCancel).strip().lower() == "true":
            read.event(
                "item",
                f"{order_id}:{item.OrderItemId}",
                EventKind.NOTE,
                updated,
                f"{item_path}.BuyerRequestedCancel",
                origin=Origin.PERSON,
                native_status=status,
                detail=f"buyer asked to cancel item {item.SellerSKU or item.OrderItemId}"
                f"{_reason(asked.BuyerCancelReason)}; {only_time}",
            )


def _order_change(read: _Reader, note: models.OrderChangeNotification) -> None:
    """An ORDER_CHANGE notification as a dated event with the order status after it."""
    change = note.Payload.OrderChangeNotification
    trigger = change.OrderChangeTrigger or models.ChangeTrigger()
    if trigger.TimeOfOrderChange:
        trigger_path = "Payload.OrderChangeNotification.OrderChangeTrigger.TimeOfOrderChange"
        at = read.instant(trigger.TimeOfOrderChange, trigger_path)
    elif note.EventTime:
        # TimeOfOrderChange may be null; EventTime is when Amazon raised the notification.
        at = read.instant(note.EventTime, "EventTime")
    else:
        raise PayloadError(f"{read.payload.endpoint}: ORDER_CHANGE notification without TimeOfOrderChange or EventTime")
    status = change.Summary.OrderStatus if change.Summary else None
    status_path = "Payload.OrderChangeNotification.Summary.OrderStatus"
    states = None
    if status is not None:
        states = read.lookup(ORDER_STATUS_V0, status, status_path, BOTH) or StatusMapping(
            Fulfillment.UNKNOWN, Financial.UNKNOWN
        )
    change_type = change.OrderChangeType or "change"
    # Only OrderStatusChange moves the status; buyer requests and delivery tips are notes.
    kind = EventKind.STATUS_CHANGED if change_type == "OrderStatusChange" else EventKind.NOTE
    meta = note.NotificationMetadata
    which = meta.NotificationId if meta and meta.NotificationId else f"{change.AmazonOrderId}@{at.raw}"
    read.event(
        "notification",
        which,
        kind,
        at,
        status_path if status is not None else "Payload.OrderChangeNotification",
        states=states,
        origin=Origin.PERSON if change_type == "BuyerRequestedChange" else Origin.UNKNOWN,
        native_status=status,
        detail=f"ORDER_CHANGE {change_type}{_reason(trigger.ChangeReason)}",
    )


# --- small helpers ----------------------------------------------------------------------------



def _merge_lines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """Lines summed per SKU (Amazon may list one SKU on several items), sorted by SKU."""
    merged: dict[str, Line] = {}
    for line in lines:
        prior = merged.get(line.sku)
        merged[line.sku] = line if prior is None else dataclasses.replace(
            prior,
            ordered=prior.ordered + line.ordered,
            shipped=prior.shipped + line.shipped,
            cancelled=prior.cancelled + line.cancelled,
        )
    return tuple(merged[sku] for sku in sorted(merged))


def _unique(events: list[Event]) -> list[Event]:
    """Events in time order with unique ids: exact repeats dropped, clashing ids numbered."""
    kept: list[Event] = []
    taken: set[str] = set()
    # Same-instant events (v0 puts several at LastUpdateDate) keep the lifecycle order of EventKind.
    lifecycle = {kind: rank for rank, kind in enumerate(EventKind)}
    for event in sorted(
        set(events), key=lambda e: (e.at.sort_key, lifecycle[e.kind], e.id, e.payload_id or "", e.detail)
    ):
        event_id, n = event.id, 1
        while event_id in taken:
            n += 1
            event_id = f"{event.id}~{n}"
        taken.add(event_id)
        kept.append(event if event_id == event.id else dataclasses.replace(event, id=event_id))
    return kept


def _reason(text: str | None) -> str:
    return f" ({one_line(text)})" if text else ""



def _describe(body: Any) -> str:
    if isinstance(body, dict):
        keys = ", ".join(one_line(repr(key))[:40] for key in list(body)[:6])
        return f"top-level keys: {keys}" if keys else "an empty object"
    names = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return f"the body is {names.get(type(body), 'null')}"
