"""Pydantic models of the GraphQL Admin API responses the Shopify adapter reads.

Lenient on purpose: unknown fields are kept (``extra="allow"``), every field a
query may leave out is optional, and status fields are plain strings so a value
Shopify adds tomorrow reaches the status table instead of failing validation.
Field names follow ``shared/api-specs/shopify/admin-2022-07.graphql``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

Node = TypeVar("Node")


class Vendor(BaseModel):
    """Base of every Shopify payload model."""

    model_config = ConfigDict(extra="allow", frozen=True)


class MoneyV2(Vendor):
    amount: str | None = None  # GraphQL Decimal, serialised as a string ("62.48", "25.0")
    currencyCode: str | None = None


class MoneyBag(Vendor):
    shopMoney: MoneyV2 | None = None


class Attribute(Vendor):
    key: str | None = None
    value: str | None = None


class PageInfo(Vendor):
    hasNextPage: bool | None = None
    hasPreviousPage: bool | None = None
    startCursor: str | None = None
    endCursor: str | None = None


class Edge(Vendor, Generic[Node]):
    cursor: str | None = None
    node: Node


class Connection(Vendor, Generic[Node]):
    """A Relay connection, read through ``nodes`` or ``edges { node }``, whichever the query chose."""

    nodes: list[Node] | None = None
    edges: list[Edge[Node]] | None = None
    pageInfo: PageInfo | None = None

    def items(self) -> list[Node]:
        if self.nodes is not None:
            return list(self.nodes)
        return [edge.node for edge in self.edges or []]


class LineItem(Vendor):
    id: str | None = None
    sku: str | None = None
    name: str | None = None
    quantity: int | None = None
    currentQuantity: int | None = None  # quantity less removed (cancelled, refunded with restock) units
    unfulfilledQuantity: int | None = None


class LineItemRef(Vendor):
    id: str | None = None
    sku: str | None = None


class FulfillmentLineItem(Vendor):
    id: str | None = None
    quantity: int | None = None
    lineItem: LineItemRef | None = None


class TrackingInfo(Vendor):
    company: str | None = None
    number: str | None = None
    url: str | None = None


class OrderRef(Vendor):
    id: str | None = None


class Fulfillment(Vendor):
    id: str | None = None
    legacyResourceId: str | int | None = None
    name: str | None = None
    status: str | None = None
    displayStatus: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    deliveredAt: str | None = None
    inTransitAt: str | None = None
    trackingInfo: list[TrackingInfo] | None = None
    fulfillmentLineItems: Connection[FulfillmentLineItem] | None = None
    order: OrderRef | None = None  # only in a FULFILLMENT_LINE_ITEMS_PAGE response: whose page it is


class OrderEvent(Vendor):
    """One node of ``Order.events`` (the Event interface: BasicEvent or CommentEvent)."""

    id: str | None = None
    action: str | None = None
    createdAt: str | None = None
    message: str | None = None  # FormattedString: may hold HTML
    appTitle: str | None = None
    attributeToApp: bool | None = None
    attributeToUser: bool | None = None


class Transaction(Vendor):
    id: str | None = None
    kind: str | None = None
    status: str | None = None
    gateway: str | None = None
    createdAt: str | None = None
    processedAt: str | None = None
    amountSet: MoneyBag | None = None


class Order(Vendor):
    """The order shape of :data:`adapters.shopify.queries.ORDER_BY_ID` (or a part of it)."""

    id: str
    legacyResourceId: str | int | None = None
    name: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    processedAt: str | None = None
    cancelledAt: str | None = None
    cancelReason: str | None = None
    closedAt: str | None = None
    displayFinancialStatus: str | None = None
    displayFulfillmentStatus: str | None = None
    sourceName: str | None = None
    sourceIdentifier: str | None = None
    tags: list[str] | None = None
    customAttributes: list[Attribute] | None = None
    totalPriceSet: MoneyBag | None = None
    lineItems: Connection[LineItem] | None = None
    fulfillments: list[Fulfillment] | None = None
    events: Connection[OrderEvent] | None = None
    transactions: list[Transaction] | None = None


class ErrorExtensions(Vendor):
    code: str | None = None


class GraphQLError(Vendor):
    message: str | None = None
    extensions: ErrorExtensions | None = None


class ResponseData(Vendor):
    order: Order | None = None
    orders: Connection[Order] | None = None
    fulfillment: Fulfillment | None = None  # a later page of one fulfillment's line items


class GraphQLResponse(Vendor):
    """A GraphQL Admin API response: ``data`` and/or ``errors``, plus ``extensions.cost``."""

    data: ResponseData | None = None
    errors: list[GraphQLError] | None = None
    extensions: dict[str, Any] | None = None
