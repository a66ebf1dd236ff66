"""Shopify GraphQL Admin API responses -> canonical records and events (pure: no I/O, no clock)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

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
from adapters.shopify.models import (
    Connection,
    GraphQLResponse,
    LineItem,
    Order,
    OrderEvent,
    Transaction,
)
from adapters.shopify.models import Fulfillment as ShopifyFulfillment
from adapters.shopify.statuses import (
    FULFILLMENT_DISPLAY_STATUS,
    FULFILLMENT_STATUS,
    ORDER_EVENT_ACTION,
    ORDER_FINANCIAL,
    ORDER_FULFILLMENT,
    SHOPIFY_OWN_CHANNELS,
    TRANSACTION_EVENT,
    TRANSACTION_KIND,
    TRANSACTION_STATUSES,
    TRANSACTION_SUCCEEDED,
)
from audit.model import (
    UTC,
    Event,
    EventKind,
    Financial,
    Fulfillment,
    Line,
    Origin,
    RawPayload,
    Record,
    ThreetruthError,
    Timestamp,
    UnmappedStatus,
)

SHIPPED_STATES = (Fulfillment.SHIPPED, Fulfillment.DELIVERED)


def recognise(body: Any) -> str | None:
    """Which Shopify GraphQL response a decoded body is: "order", "orders search", "fulfillment line items page",
    "GraphQL error <code>" or None."""
    if not isinstance(body, dict):
        return None
    data = body.get("data")
    if isinstance(data, dict):
        if "order" in data:
            return "order"
        if "orders" in data:
            return "orders search"
        if "fulfillment" in data:
            return "fulfillment line items page"
        return None
    errors = body.get("errors")
    if data is None and isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        extensions = body.get("extensions")
        has_cost = isinstance(extensions, dict) and "cost" in extensions
        codes = [e["extensions"].get("code") for e in errors if isinstance(e.get("extensions"), dict)]
        # Shopify errors carry `extensions.code` (THROTTLED, MAX_COST_EXCEEDED, ACCESS_DENIED) or a
        # top-level `extensions.cost`; SP-API errors carry a bare `code` and neither.
        if has_cost or any(isinstance(code, str) for code in codes):
            named = next((code for code in codes if isinstance(code, str)), None)
            return f"GraphQL error {named}" if named else "GraphQL error"
    return None


def normalise(payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
    """Merge every Shopify response of one case by order id and read each order as a record and its events."""
    link_forms = _link_forms(context.marketplace_link)
    gathered: dict[str, _GatheredOrder] = {}
    read_in_full: set[str] = set()
    # Oldest fetch first, so where two responses disagree on a header field the newest one wins.
    for payload in sorted(payloads, key=_fetch_order):
        orders, fulfillment_pages = _contents(payload)
        for where, order in orders:
            gathered.setdefault(order.id, _GatheredOrder(order.id)).add(order, payload, where)
            if where == "order":
                read_in_full.add(order.id)
        for where, order_id, fulfillment in fulfillment_pages:
            gathered.setdefault(order_id, _GatheredOrder(order_id)).add_fulfillment_page(fulfillment, payload, where)
    result = Normalised()
    for order_id in sorted(gathered):
        if not gathered[order_id].versions:
            continue  # later pages of an order no response here read: nothing to say about it
        if read_in_full and order_id not in read_in_full:
            # A search hit the fetcher did not go on to read is a hit it judged not to be the
            # order (free text matched elsewhere); saved listings alone still make records.
            continue
        record, events = _OrderReader(gathered[order_id], context, link_forms).read()
        result.records.append(record)
        result.events.extend(events)
    result.events = _unique_ids(result.events)
    return result


# --- reading responses ---------------------------------------------------------------------------


def _fetch_order(payload: RawPayload) -> tuple[datetime, str]:
    fetched = payload.fetched_at
    return (fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC), payload.id)


def _contents(
    payload: RawPayload,
) -> tuple[list[tuple[str, Order]], list[tuple[str, str, ShopifyFulfillment]]]:
    """The order nodes of one response, and the fulfillment line-item pages (path, order id, fulfillment)."""
    body = decode(payload)
    if recognise(body) == "fulfillment line items page":
        response: GraphQLResponse = validate(GraphQLResponse, body, payload)
        fulfillment = response.data.fulfillment if response.data else None
        if fulfillment is None:
            if response.errors:
                raise PayloadError(f"{payload.endpoint}: Shopify answered with {_describe_errors(response)}")
            return [], []  # the fulfillment is gone: the page says nothing
        if fulfillment.order is None or not fulfillment.order.id or not fulfillment.id:
            raise PayloadError(f"{payload.endpoint}: a fulfillment line items page without its id or order.id")
        return [], [("fulfillment", fulfillment.order.id, fulfillment)]
    return _orders_in(payload, body), []


def _orders_in(payload: RawPayload, body: Any) -> list[tuple[str, Order]]:
    """The order nodes of one response, with their field path; a PayloadError for anything else."""
    kind = recognise(body)
    if kind is None:
        raise PayloadError(
            f"{payload.endpoint}: not a Shopify GraphQL Admin API order response (no data.order or data.orders)"
        )
    response: GraphQLResponse = validate(GraphQLResponse, body, payload)
    data = response.data
    answered = data is not None and (data.order is not None or data.orders is not None)
    if response.errors and not answered:
        # Field errors beside a returned order (ACCESS_DENIED on one field) leave the rest usable.
        raise PayloadError(f"{payload.endpoint}: Shopify answered with {_describe_errors(response)}")
    if data is None or data.order is None and data.orders is None:
        return []  # data.order is null: the shop holds no order with that id (or hides it, see ORDERS_SEARCH)
    if data.order is not None:
        return [("order", data.order)]
    return [(path, order) for order, path in _connection_nodes(data.orders, "orders")]


def _connection_nodes(connection: Connection[Any], path: str) -> list[tuple[Any, str]]:
    """A connection's nodes with their field paths, whether the query read ``nodes`` or ``edges``."""
    if connection.nodes is not None:
        return [(node, f"{path}.nodes[{index}]") for index, node in enumerate(connection.nodes)]
    return [(edge.node, f"{path}.edges[{index}].node") for index, edge in enumerate(connection.edges or [])]


def _describe_errors(response: GraphQLResponse) -> str:
    errors = response.errors or []
    codes = sorted({e.extensions.code for e in errors if e.extensions and e.extensions.code})
    message = next((e.message for e in errors if e.message), "")
    head = f"GraphQL error {', '.join(codes)}" if codes else "a GraphQL error"
    return f"{head}: {one_line(message)}" if message else head


# --- merging the responses of one order ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    """One node as read from one payload, with where it sat."""

    node: Any
    payload: RawPayload
    path: str


@dataclass
class _GatheredOrder:
    """Every version of one order across pages and fetches, nested nodes merged by id."""

    order_id: str
    versions: list[_Found] = field(default_factory=list)  # oldest fetch first
    line_items: dict[str, _Found] = field(default_factory=dict)
    fulfillments: dict[str, _Found] = field(default_factory=dict)
    fulfillment_items: dict[str, dict[str, _Found]] = field(default_factory=dict)  # fulfillment id -> its line items
    events: dict[str, _Found] = field(default_factory=dict)
    transactions: dict[str, _Found] = field(default_factory=dict)

    def add(self, order: Order, payload: RawPayload, where: str) -> None:
        self.versions.append(_Found(order, payload, where))
        if order.lineItems is not None:
            self._merge(self.line_items, _connection_nodes(order.lineItems, f"{where}.lineItems"), payload)
        for node, path in _listed(order.fulfillments, f"{where}.fulfillments"):
            self._merge(self.fulfillments, [(node, path)], payload)
            self._merge_items(node, path, payload)
        if order.events is not None:
            self._merge(self.events, _connection_nodes(order.events, f"{where}.events"), payload)
        self._merge(self.transactions, _listed(order.transactions, f"{where}.transactions"), payload)

    def add_fulfillment_page(self, fulfillment: ShopifyFulfillment, payload: RawPayload, where: str) -> None:
        """A later page of one fulfillment's line items (FULFILLMENT_LINE_ITEMS_PAGE)."""
        self._merge_items(fulfillment, where, payload)

    def _merge_items(self, fulfillment: ShopifyFulfillment, path: str, payload: RawPayload) -> None:
        # A fulfillment's line items arrive over several pages (and fetches): gather them by GID.
        # Items without one cannot be told apart across fetches; they are read from the newest node.
        if fulfillment.id and fulfillment.fulfillmentLineItems is not None:
            nodes = _connection_nodes(fulfillment.fulfillmentLineItems, f"{path}.fulfillmentLineItems")
            self._merge(self.fulfillment_items.setdefault(fulfillment.id, {}), [n for n in nodes if n[0].id], payload)

    def items_of(self, found: _Found) -> list[Any]:
        """A fulfillment's line items over every page read (by GID), plus the newest node's items without one."""
        node: ShopifyFulfillment = found.node
        own = node.fulfillmentLineItems.items() if node.fulfillmentLineItems else []
        if not node.id:
            return own
        paged = [item.node for item in self.fulfillment_items.get(node.id, {}).values()]
        return paged + [item for item in own if not item.id]

    @staticmethod
    def _merge(into: dict[str, _Found], nodes: Iterable[tuple[Any, str]], payload: RawPayload) -> None:
        for node, path in nodes:
            # Keyed by GID, so a later page or a newer fetch of the same node replaces the older one.
            into[node.id or f"{payload.id}:{path}"] = _Found(node, payload, path)

    def newest(self, attribute: str) -> tuple[Any, _Found] | tuple[None, None]:
        """The newest non-null value of a header field, with the version it came from."""
        for version in reversed(self.versions):
            value = getattr(version.node, attribute)
            if value is not None:
                return value, version
        return None, None

    @property
    def payload_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(version.payload.id for version in self.versions))


# --- reading one order ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shipment:
    """A successful fulfillment: what left, when, and when it arrived."""

    found: _Found
    at: Timestamp
    delivered_at: Timestamp | None
    delivered: bool
    quantities: dict[str, int]  # line key -> units


class _OrderReader:
    """Reads one gathered order into a Record and its Events."""

    def __init__(self, gathered: _GatheredOrder, context: NormaliseContext, link_forms: list[tuple[str, str]]):
        self.order = gathered
        self.context = context
        self.system = context.system.name
        self.link_forms = link_forms
        self.unmapped: list[UnmappedStatus] = []
        self.sources: list[tuple[str, str]] = []
        name, _ = gathered.newest("name")
        legacy, _ = gathered.newest("legacyResourceId")
        self.ref = name or (str(legacy) if legacy is not None else gathered.order_id)
        self.key = str(legacy) if legacy is not None else _tail(gathered.order_id)

    def read(self) -> tuple[Record, list[Event]]:
        lines, line_keys = self._line_items()
        shipments, fulfillment_events, tracking = self._fulfillments(line_keys)
        lines_out = self._lines(lines, line_keys, shipments)
        fulfillment = self._fulfillment_state(shipments)
        financial = self._financial_state()
        total, currency = self._total()
        created = self._header_time("createdAt")
        events = [
            *self._created_event(created),
            *self._transaction_events(total),
            *self._shipment_events(shipments, lines_out),
            *fulfillment_events,
            *self._cancel_event(),
            *self._order_events(),
        ]
        record = Record(
            system=self.system,
            ref=self.ref,
            native_id=self.order.order_id,
            native_status=self._native_status(),
            fulfillment=fulfillment,
            financial=financial,
            lines=tuple(lines_out),
            tracking=frozenset(tracking),
            total=total,
            currency=currency,
            created=created,
            updated=self._header_time("updatedAt"),
            links=self._links(),
            unmapped=tuple(self.unmapped),
            payload_ids=self.order.payload_ids,
            sources=tuple(dict.fromkeys(self.sources)),
        )
        return record, sorted(events, key=_timeline_order)

    # header ---------------------------------------------------------------------------------------

    def _header_time(self, attribute: str) -> Timestamp | None:
        """An order-level date-time (createdAt, updatedAt) as an instant, noting where it came from."""
        raw, version = self.order.newest(attribute)
        if raw is None:
            return None
        self.sources.append((attribute, f"{version.path}.{attribute}"))
        return instant_at(raw, f"{version.path}.{attribute}", version.payload)

    def _native_status(self) -> str:
        """The raw status as the admin shows it: "UNFULFILLED / PAID", plus a cancellation."""
        fulfillment, _ = self.order.newest("displayFulfillmentStatus")
        financial, _ = self.order.newest("displayFinancialStatus")
        text = f"{fulfillment or '?'} / {financial or '?'}"
        if self.order.newest("cancelledAt")[0] is not None:
            reason, _ = self.order.newest("cancelReason")
            text += f" (cancelled: {reason})" if reason else " (cancelled)"
        return text

    def _lookup(self, table: StatusTable, value: str, path: str, dimension: str) -> StatusMapping | None:
        """A native value through its table (overrides first); an unknown one is noted as unmapped."""
        mapping = table.lookup(value, self.context.status_overrides)
        if mapping is None:
            self.unmapped.append(unmapped(path, value, dimension))
        return mapping

    def _fulfillment_state(self, shipments: list[_Shipment]) -> Fulfillment:
        """The record's fulfillment: cancelled, else displayFulfillmentStatus refined by the shipments."""
        cancelled_at, version = self.order.newest("cancelledAt")
        if cancelled_at is not None:
            # Shopify keeps displayFulfillmentStatus as it was (UNFULFILLED) on a cancelled order.
            self.sources.append(("fulfillment", f"{version.path}.cancelledAt"))
            return Fulfillment.CANCELLED
        value, version = self.order.newest("displayFulfillmentStatus")
        if value is None:
            return Fulfillment.UNKNOWN
        path = f"{version.path}.displayFulfillmentStatus"
        self.sources.append(("fulfillment", path))
        mapping = self._lookup(ORDER_FULFILLMENT, value, path, "fulfillment")
        state = mapping.fulfillment if mapping and mapping.fulfillment else Fulfillment.UNKNOWN
        if state is Fulfillment.OPEN and shipments:
            # IN_PROGRESS covers "some items fulfilled": a successful fulfillment proves it.
            return Fulfillment.PARTIAL
        if state is Fulfillment.SHIPPED and shipments and all(s.delivered for s in shipments):
            # The order enum stops at FULFILLED; delivery is told per fulfillment.
            return Fulfillment.DELIVERED
        return state

    def _financial_state(self) -> Financial:
        value, version = self.order.newest("displayFinancialStatus")
        if value is None:
            return Financial.UNKNOWN
        path = f"{version.path}.displayFinancialStatus"
        self.sources.append(("financial", path))
        mapping = self._lookup(ORDER_FINANCIAL, value, path, "financial")
        return mapping.financial if mapping and mapping.financial else Financial.UNKNOWN

    def _total(self) -> tuple[Decimal | None, str | None]:
        money, version = self.order.newest("totalPriceSet")
        if money is None or money.shopMoney is None or money.shopMoney.amount is None:
            return None, None
        path = f"{version.path}.totalPriceSet.shopMoney.amount"
        self.sources.append(("total", path))
        return amount_at(money.shopMoney.amount, path, version.payload), money.shopMoney.currencyCode

    def _links(self) -> frozenset[str]:
        """The refs this order gives for itself in other systems, per ``context.marketplace_link``."""
        links: set[str] = set()
        for form, argument in self.link_forms:
            if form == "custom_attribute":
                attributes, version = self.order.newest("customAttributes")
                for index, attribute in enumerate(attributes or []):
                    if (attribute.key or "").strip().casefold() == argument.casefold() and attribute.value:
                        links.add(attribute.value.strip())
                        self.sources.append(("link", f"{version.path}.customAttributes[{index}].value"))
            elif form == "tag":
                tags, version = self.order.newest("tags")
                for index, tag in enumerate(tags or []):
                    if tag.strip() and tag.startswith(argument):
                        links.add(tag[len(argument) :].strip())
                        self.sources.append(("link", f"{version.path}.tags[{index}]"))
            else:  # source_identifier, name
                attribute = "sourceIdentifier" if form == "source_identifier" else "name"
                value, version = self.order.newest(attribute)
                if value and value.strip():
                    links.add(value.strip())
                    self.sources.append(("link", f"{version.path}.{attribute}"))
        return frozenset(link for link in links if link)

    # lines and fulfillments -----------------------------------------------------------------------

    def _line_items(self) -> tuple[dict[str, tuple[LineItem, _Found]], dict[str, str]]:
        """Line items by line id, and the line key (SKU, else name) each line id reports under."""
        lines: dict[str, tuple[LineItem, _Found]] = {}
        keys: dict[str, str] = {}
        for line_id, found in self.order.line_items.items():
            item: LineItem = found.node
            lines[line_id] = (item, found)
            keys[line_id] = (item.sku or "").strip() or (item.name or "").strip() or line_id
        if lines:
            self.sources.append(("lines", next(iter(lines.values()))[1].path.rsplit("[", 1)[0]))
        return lines, keys

    def _fulfillments(self, line_keys: dict[str, str]) -> tuple[list[_Shipment], list[Event], set[str]]:
        """Successful fulfillments as shipments with their tracking; the others as events only."""
        shipments: list[_Shipment] = []
        other_events: list[Event] = []
        tracking: set[str] = set()
        for found in self.order.fulfillments.values():
            node: ShopifyFulfillment = found.node
            status_mapping = None
            if node.status is not None:
                status_mapping = self._lookup(FULFILLMENT_STATUS, node.status, f"{found.path}.status", "fulfillment")
            display_mapping = None
            if node.displayStatus is not None:
                display_mapping = self._lookup(
                    FULFILLMENT_DISPLAY_STATUS, node.displayStatus, f"{found.path}.displayStatus", "fulfillment"
                )
            state = status_mapping.fulfillment if status_mapping else None
            if state in SHIPPED_STATES:
                shipment = self._shipment(found, line_keys, display_mapping)
                if shipment is not None:
                    shipments.append(shipment)
                for index, info in enumerate(node.trackingInfo or []):
                    number = normalise_tracking(info.number or "")
                    if number:
                        tracking.add(number)
                        self.sources.append(("tracking", f"{found.path}.trackingInfo[{index}].number"))
            else:
                other_events.extend(self._unshipped_fulfillment_events(found, state))
        shipments.sort(key=lambda s: (s.at.sort_key, s.found.path))
        return shipments, other_events, tracking

    def _shipment(
        self, found: _Found, line_keys: dict[str, str], display: StatusMapping | None
    ) -> _Shipment | None:
        node: ShopifyFulfillment = found.node
        if node.createdAt is None:
            return None
        quantities: dict[str, int] = {}
        for item in self.order.items_of(found):
            ref = item.lineItem
            line_id = ref.id if ref and ref.id else None
            if line_id not in line_keys:  # a line the responses did not list: report it under its SKU
                line_id = ((ref.sku if ref else None) or "").strip() or line_id or "(unknown line)"
            quantities[line_id] = quantities.get(line_id, 0) + max(item.quantity or 0, 0)
        delivered_at = None
        if node.deliveredAt is not None:
            delivered_at = instant_at(node.deliveredAt, f"{found.path}.deliveredAt", found.payload)
        # displayStatus DELIVERED without deliveredAt still says it arrived, only not when.
        delivered = delivered_at is not None or (display is not None and display.fulfillment is Fulfillment.DELIVERED)
        at = instant_at(node.createdAt, f"{found.path}.createdAt", found.payload)
        return _Shipment(found, at, delivered_at, delivered, quantities)

    def _lines(
        self, lines: dict[str, tuple[LineItem, _Found]], line_keys: dict[str, str], shipments: list[_Shipment]
    ) -> list[Line]:
        """Lines per SKU: ordered, shipped by successful fulfillments, cancelled (removed or the order cancelled)."""
        shipped_by_line: dict[str, int] = {}
        for shipment in shipments:
            for line_id, units in shipment.quantities.items():
                shipped_by_line[line_id] = shipped_by_line.get(line_id, 0) + units
        order_cancelled = self.order.newest("cancelledAt")[0] is not None
        per_key: dict[str, list[Any]] = {}
        for line_id, (item, found) in lines.items():
            key = line_keys[line_id]
            ordered = max(item.quantity or 0, 0)
            shipped = shipped_by_line.pop(line_id, 0)
            removed = max(ordered - item.currentQuantity, 0) if item.currentQuantity is not None else 0
            # currentQuantity also drops when a shipped unit is refunded with restock (a return), so
            # only units that never shipped count as cancelled; a cancelled order cancels them all.
            unshipped = max(ordered - shipped, 0)
            cancelled = unshipped if order_cancelled else min(removed, unshipped)
            entry = per_key.setdefault(key, [0, 0, 0, found.path])
            entry[0] += ordered
            entry[1] += shipped
            entry[2] += cancelled
        for key, units in shipped_by_line.items():  # shipped against a line the responses did not list
            per_key.setdefault(key, [0, 0, 0, "fulfillmentLineItems"])[1] += units
        return [Line(sku, *counts) for sku, counts in per_key.items()]

    # events ---------------------------------------------------------------------------------------

    def _event(self, thing: str, which: str, kind: EventKind, at: Timestamp, payload: RawPayload, **rest: Any) -> Event:
        """An event of this order, with the id "<system>/<thing>/<which>/<kind>"."""
        return Event(
            id=f"{self.system}/{thing}/{which}/{kind.value}",
            system=self.system,
            at=at,
            kind=kind,
            record_ref=self.ref,
            payload_id=payload.id,
            **rest,
        )

    def _created_event(self, created: Timestamp | None) -> list[Event]:
        """The creation, its origin told by sourceName (Shopify's own channels or an app)."""
        if created is None:
            return []
        _, version = self.order.newest("createdAt")
        source_name, _ = self.order.newest("sourceName")
        processed, _ = self.order.newest("processedAt")
        origin = Origin.UNKNOWN
        if source_name:
            origin = SHOPIFY_OWN_CHANNELS.get(source_name.strip().casefold(), Origin.INTEGRATION)
        detail = f"order {self.ref} created"
        detail += f" by channel {source_name}" if source_name else ""
        detail += f" (processed {processed})" if processed and processed != created.raw else ""
        return [
            self._event(
                "order", self.key, EventKind.CREATED, created, version.payload,
                fulfillment=Fulfillment.OPEN, source=f"{version.path}.createdAt", origin=origin, detail=detail,
            )
        ]

    def _cancel_event(self) -> list[Event]:
        raw, version = self.order.newest("cancelledAt")
        if raw is None:
            return []
        reason, _ = self.order.newest("cancelReason")
        path = f"{version.path}.cancelledAt"
        return [
            self._event(
                "order", self.key, EventKind.CANCELLED, instant_at(raw, path, version.payload), version.payload,
                fulfillment=Fulfillment.CANCELLED, source=path, native_status=reason,
                detail=f"order cancelled ({reason})" if reason else "order cancelled",
            )
        ]

    def _transaction_events(self, total: Decimal | None) -> list[Event]:
        """Payment events in time order, the financial state after each from the running sums."""
        dated: list[tuple[Timestamp, _Found]] = []
        for found in self.order.transactions.values():
            node: Transaction = found.node
            raw, field_name = (node.processedAt, "processedAt") if node.processedAt else (node.createdAt, "createdAt")
            if raw is not None:
                dated.append((instant_at(raw, f"{found.path}.{field_name}", found.payload), found))
        dated.sort(key=lambda pair: (pair[0].sort_key, pair[1].path))
        captured = refunded = Decimal(0)
        events: list[Event] = []
        for at, found in dated:
            node = found.node
            kind_value, status = node.kind or "", node.status or ""
            amount = self._transaction_amount(node, found)
            mapping = None
            if kind_value:
                mapping = self._lookup(TRANSACTION_KIND, kind_value, f"{found.path}.kind", "financial")
            if status and status.strip().upper() not in TRANSACTION_STATUSES:
                self.unmapped.append(unmapped(f"{found.path}.status", status, "financial"))
            # Only a successful transaction moved money; any other is a note on the timeline.
            succeeded = status.strip().upper() == TRANSACTION_SUCCEEDED
            event_kind = TRANSACTION_EVENT.get(kind_value.strip().upper(), EventKind.NOTE) if succeeded else EventKind.NOTE
            financial = mapping.financial if (mapping and succeeded) else None
            if succeeded and event_kind is EventKind.PAYMENT_CAPTURED:
                captured += amount or 0
                if total is not None and amount is not None and captured < total:
                    financial = Financial.AUTHORIZED  # PARTIALLY_PAID: see statuses.ORDER_FINANCIAL
            if succeeded and event_kind is EventKind.REFUNDED:
                refunded += amount or 0
                if amount is not None and refunded < captured:
                    financial = Financial.PARTIALLY_REFUNDED
            money = f" {amount}" if amount is not None else ""
            gateway = node.gateway or "unknown gateway"
            events.append(
                self._event(
                    "transaction", _tail(node.id) if node.id else found.path, event_kind, at, found.payload,
                    financial=financial, source=found.path, native_status=f"{kind_value or '?'} / {status or '?'}",
                    detail=f"{kind_value.lower() or 'transaction'}{money} {status.lower()} via {gateway}",
                )
            )
        return events

    def _transaction_amount(self, node: Transaction, found: _Found) -> Decimal | None:
        if node.amountSet is None or node.amountSet.shopMoney is None or node.amountSet.shopMoney.amount is None:
            return None
        return amount_at(node.amountSet.shopMoney.amount, f"{found.path}.amountSet.shopMoney.amount", found.payload)

    def _shipment_events(self, shipments: list[_Shipment], lines: list[Line]) -> list[Event]:
        """fulfillment_created and shipped at each shipment's createdAt, delivered at its deliveredAt."""
        events: list[Event] = []
        for shipment in shipments:
            node: ShopifyFulfillment = shipment.found.node
            which = _fulfillment_key(shipment.found)
            numbers = ", ".join(info.number for info in node.trackingInfo or [] if info.number) or "no tracking"
            units = sum(shipment.quantities.values())
            native = f"{node.status} / {node.displayStatus or '?'}"
            after = self._state_after(shipments, lines, shipment.at)
            common = dict(source=f"{shipment.found.path}.createdAt", native_status=native, fulfillment=after)
            label = node.name or which
            events.append(self._event("fulfillment", which, EventKind.FULFILLMENT_CREATED, shipment.at,
                                      shipment.found.payload, detail=f"fulfillment {label} created", **common))
            events.append(self._event("fulfillment", which, EventKind.SHIPPED, shipment.at, shipment.found.payload,
                                      detail=f"{units} unit(s) shipped, tracking {numbers}", **common))
            if shipment.delivered_at is not None:
                events.append(
                    self._event(
                        "fulfillment", which, EventKind.DELIVERED, shipment.delivered_at, shipment.found.payload,
                        fulfillment=self._state_after(shipments, lines, shipment.delivered_at),
                        source=f"{shipment.found.path}.deliveredAt", native_status=native,
                        detail=f"fulfillment {label} delivered",
                    )
                )
        return events

    def _state_after(self, shipments: list[_Shipment], lines: list[Line], at: Timestamp) -> Fulfillment | None:
        """The order's fulfillment state once everything up to `at` had happened (None without lines)."""
        if not lines:
            return None
        so_far = [s for s in shipments if s.at.sort_key <= at.sort_key]
        if not so_far:
            return Fulfillment.OPEN
        shipped = sum(sum(s.quantities.values()) for s in so_far)
        needed = sum(line.ordered - line.cancelled for line in lines)
        if shipped < needed:
            return Fulfillment.PARTIAL
        arrived = all(s.delivered_at is not None and s.delivered_at.sort_key <= at.sort_key for s in so_far)
        return Fulfillment.DELIVERED if arrived else Fulfillment.SHIPPED

    def _unshipped_fulfillment_events(self, found: _Found, state: Fulfillment | None) -> list[Event]:
        """A fulfillment that never shipped: cancelled (status_changed) or pending/failed (note)."""
        node: ShopifyFulfillment = found.node
        raw, field_name = (node.updatedAt, "updatedAt") if node.updatedAt else (node.createdAt, "createdAt")
        if raw is None:
            return []
        which = _fulfillment_key(found)
        cancelled = state is Fulfillment.CANCELLED
        path = f"{found.path}.{field_name}"
        return [
            self._event(
                "fulfillment", which, EventKind.STATUS_CHANGED if cancelled else EventKind.NOTE,
                instant_at(raw, path, found.payload), found.payload, source=path,
                native_status=f"{node.status or '?'} / {node.displayStatus or '?'}",
                detail=f"fulfillment {node.name or which} {(node.status or 'without status').lower()}",
            )
        ]

    def _order_events(self) -> list[Event]:
        """The order's event log: status_changed for state-changing actions, note for the rest."""
        events: list[Event] = []
        for found in self.order.events.values():
            node: OrderEvent = found.node
            if node.createdAt is None:
                continue
            path = f"{found.path}.createdAt"
            mapping = ORDER_EVENT_ACTION.lookup(node.action) if node.action else None
            if node.attributeToUser:
                origin = Origin.PERSON
            elif node.attributeToApp or node.appTitle:
                origin = Origin.INTEGRATION
            else:
                origin = Origin.PLATFORM  # neither staff nor an app: Shopify itself (or the buyer at checkout)
            detail = one_line(html.unescape(re.sub(r"<[^>]*>", "", node.message or "")))[:160]
            if node.appTitle and node.appTitle not in detail:
                detail = f"{detail} [{node.appTitle}]".strip()
            events.append(
                self._event(
                    "event", _tail(node.id) if node.id else found.path,
                    EventKind.STATUS_CHANGED if mapping is not None else EventKind.NOTE,
                    instant_at(node.createdAt, path, found.payload), found.payload,
                    fulfillment=mapping.fulfillment if mapping else None,
                    financial=mapping.financial if mapping else None,
                    source=found.path, origin=origin, native_status=node.action, detail=detail,
                )
            )
        return events


# --- small helpers -------------------------------------------------------------------------------

LINK_FORMS = ("custom_attribute", "tag", "source_identifier", "name")


def _link_forms(setting: str) -> list[tuple[str, str]]:
    """Parse ``context.marketplace_link``: comma-separated forms, e.g. "custom_attribute:Amazon Order ID"."""
    forms: list[tuple[str, str]] = []
    for part in setting.split(","):
        form, _, argument = part.strip().partition(":")
        form = form.strip()
        if not form:
            continue
        if form not in LINK_FORMS or (form == "custom_attribute" and not argument.strip()):
            raise ThreetruthError(
                f"unknown Shopify marketplace_link {part.strip()!r}: use custom_attribute:<key>, tag[:<prefix>], "
                "source_identifier or name",
                title="Bad Shopify setting",
            )
        forms.append((form, argument.strip()))
    return forms


def _listed(nodes: list[Any] | None, path: str) -> list[tuple[Any, str]]:
    return [(node, f"{path}[{index}]") for index, node in enumerate(nodes or [])]


def _fulfillment_key(found: _Found) -> str:
    """The fulfillment's REST id (as in the admin URL), else its GID tail, else where it sat."""
    node: ShopifyFulfillment = found.node
    if node.legacyResourceId is not None:
        return str(node.legacyResourceId)
    return _tail(node.id) if node.id else found.path




KIND_ORDER = {kind: index for index, kind in enumerate(EventKind)}


def _timeline_order(event: Event) -> tuple[Any, ...]:
    """Time, then the facts read from order fields before the order's own event log, then the kind's place."""
    from_event_log = "/event/" in event.id
    return (event.at.sort_key, from_event_log, KIND_ORDER[event.kind], event.id)


def _tail(gid: str) -> str:
    """The last segment of a GID (``gid://shopify/Order/123`` -> ``123``)."""
    return gid.rstrip("/").rsplit("/", 1)[-1] or gid



def _unique_ids(events: list[Event]) -> list[Event]:
    """Events with ids made unique within the system (malformed input can repeat an id)."""
    seen: dict[str, int] = {}
    unique: list[Event] = []
    for event in events:
        count = seen.get(event.id, 0)
        seen[event.id] = count + 1
        if count:
            event = replace(event, id=f"{event.id}#{count + 1}")
        unique.append(event)
    return unique
