"""Shopify's native status values and what each means on the canonical dimensions.

Every table lists every value the vendor documents for its field (deprecated ones
included, since old orders keep them). Values were read from the enums of
``shared/api-specs/shopify/admin-2022-07.graphql`` and, for values added later,
from the shopify.dev enum pages summarised in ``shared/design/platform-apis.md`` §1a.
"""

from __future__ import annotations

from adapters.base import StatusMapping, StatusTable
from audit.model import EventKind, Financial, Fulfillment, Origin

F = Fulfillment
M = Financial


ORDER_FULFILLMENT = StatusTable(
    name="Shopify Order.displayFulfillmentStatus",
    source="admin-2022-07.graphql enum OrderDisplayFulfillmentStatus; later versions add REQUEST_DECLINED "
    "and (2026-10) FULFILLMENT_NOT_REQUIRED",
    entries={
        "UNFULFILLED": StatusMapping(fulfillment=F.OPEN),
        "PARTIALLY_FULFILLED": StatusMapping(fulfillment=F.PARTIAL),
        # "All the items in the order have been fulfilled": handed to the carrier or marked fulfilled.
        "FULFILLED": StatusMapping(fulfillment=F.SHIPPED),
        # Deprecated: "Replaced by the UNFULFILLED status" (all items restocked, nothing out of the door).
        "RESTOCKED": StatusMapping(fulfillment=F.OPEN),
        # Deprecated: "a request for fulfillment awaits a response": nothing has shipped yet.
        "PENDING_FULFILLMENT": StatusMapping(fulfillment=F.OPEN),
        # Deprecated: "Replaced by UNFULFILLED".
        "OPEN": StatusMapping(fulfillment=F.OPEN),
        # "Some items fulfilled, or a request sent to the fulfillment service": open unless a
        # successful fulfillment exists, which the normaliser then reads as partial.
        "IN_PROGRESS": StatusMapping(fulfillment=F.OPEN),
        "ON_HOLD": StatusMapping(fulfillment=F.ON_HOLD),
        # "Scheduled for fulfillment at a later time" (prepaid subscriptions): still to ship.
        "SCHEDULED": StatusMapping(fulfillment=F.OPEN),
        # Newer versions: the fulfillment service declined the request, so the order still waits.
        "REQUEST_DECLINED": StatusMapping(fulfillment=F.OPEN),
        # 2026-10: nothing in the order needs shipping; Shopify treats it as done, like FULFILLED.
        "FULFILLMENT_NOT_REQUIRED": StatusMapping(fulfillment=F.SHIPPED),
    },
)

ORDER_FINANCIAL = StatusTable(
    name="Shopify Order.displayFinancialStatus",
    source="admin-2022-07.graphql enum OrderDisplayFinancialStatus",
    entries={
        "PENDING": StatusMapping(financial=M.PENDING),
        "AUTHORIZED": StatusMapping(financial=M.AUTHORIZED),
        # Part of the total captured, the rest not: past pending, short of paid. Authorized is the
        # furthest state the whole order has reached, so a comparison never reads it as settled.
        "PARTIALLY_PAID": StatusMapping(financial=M.AUTHORIZED),
        "PAID": StatusMapping(financial=M.PAID),
        "PARTIALLY_REFUNDED": StatusMapping(financial=M.PARTIALLY_REFUNDED),
        "REFUNDED": StatusMapping(financial=M.REFUNDED),
        "VOIDED": StatusMapping(financial=M.VOIDED),
        # The authorization lapsed uncaptured: no money moved, the same end as a void.
        "EXPIRED": StatusMapping(financial=M.VOIDED),
    },
)

FULFILLMENT_STATUS = StatusTable(
    name="Shopify Fulfillment.status",
    source="admin-2022-07.graphql enum FulfillmentStatus",
    entries={
        # "The fulfillment was completed successfully": the one value that counts as a shipment.
        "SUCCESS": StatusMapping(fulfillment=F.SHIPPED),
        "CANCELLED": StatusMapping(fulfillment=F.CANCELLED),
        # The request to the fulfillment service failed: nothing left the warehouse.
        "ERROR": StatusMapping(fulfillment=F.OPEN),
        "FAILURE": StatusMapping(fulfillment=F.OPEN),
        # Legacy: a third-party service has not yet confirmed the fulfillment.
        "PENDING": StatusMapping(fulfillment=F.OPEN),
        "OPEN": StatusMapping(fulfillment=F.OPEN),
    },
)

FULFILLMENT_DISPLAY_STATUS = StatusTable(
    name="Shopify Fulfillment.displayStatus",
    source="admin-2022-07.graphql enum FulfillmentDisplayStatus; newer versions add CARRIER_PICKED_UP",
    entries={
        # Every carrier-side state after the hand-over is still "shipped" for the audit; only
        # delivery moves further, and a cancelled or voided label undoes the shipment.
        "ATTEMPTED_DELIVERY": StatusMapping(fulfillment=F.SHIPPED),
        "CANCELED": StatusMapping(fulfillment=F.CANCELLED),
        "CARRIER_PICKED_UP": StatusMapping(fulfillment=F.SHIPPED),
        "CONFIRMED": StatusMapping(fulfillment=F.SHIPPED),
        "DELAYED": StatusMapping(fulfillment=F.SHIPPED),
        "DELIVERED": StatusMapping(fulfillment=F.DELIVERED),
        # Says the carrier failed, not where the parcel is: Fulfillment.status decides.
        "FAILURE": StatusMapping(),
        "FULFILLED": StatusMapping(fulfillment=F.SHIPPED),
        "IN_TRANSIT": StatusMapping(fulfillment=F.SHIPPED),
        "LABEL_PRINTED": StatusMapping(fulfillment=F.SHIPPED),
        "LABEL_PURCHASED": StatusMapping(fulfillment=F.SHIPPED),
        "LABEL_VOIDED": StatusMapping(fulfillment=F.CANCELLED),
        "MARKED_AS_FULFILLED": StatusMapping(fulfillment=F.SHIPPED),
        # The carrier gave up; the parcel left but did not arrive (often on its way back).
        "NOT_DELIVERED": StatusMapping(fulfillment=F.SHIPPED),
        "OUT_FOR_DELIVERY": StatusMapping(fulfillment=F.SHIPPED),
        # Local pickup: collected by the buyer is the pickup form of delivered.
        "PICKED_UP": StatusMapping(fulfillment=F.DELIVERED),
        "READY_FOR_PICKUP": StatusMapping(fulfillment=F.SHIPPED),
        "SUBMITTED": StatusMapping(fulfillment=F.SHIPPED),
    },
)

TRANSACTION_KIND = StatusTable(
    name="Shopify OrderTransaction.kind (financial state after a successful transaction)",
    source="admin-2022-07.graphql enum OrderTransactionKind",
    entries={
        "AUTHORIZATION": StatusMapping(financial=M.AUTHORIZED),
        "EMV_AUTHORIZATION": StatusMapping(financial=M.AUTHORIZED),
        # Authorize and capture in one step.
        "SALE": StatusMapping(financial=M.PAID),
        "CAPTURE": StatusMapping(financial=M.PAID),
        # Partial or full: the normaliser compares the refunded sum with the captured sum.
        "REFUND": StatusMapping(financial=M.REFUNDED),
        "VOID": StatusMapping(financial=M.VOIDED),
        # Cash handed back at a POS and a refund Shopify merely suggests: no change of state.
        "CHANGE": StatusMapping(),
        "SUGGESTED_REFUND": StatusMapping(),
    },
)

TRANSACTION_EVENT: dict[str, EventKind] = {
    "AUTHORIZATION": EventKind.PAYMENT_AUTHORIZED,
    "EMV_AUTHORIZATION": EventKind.PAYMENT_AUTHORIZED,
    "SALE": EventKind.PAYMENT_CAPTURED,
    "CAPTURE": EventKind.PAYMENT_CAPTURED,
    "REFUND": EventKind.REFUNDED,
    # The vocabulary has no "voided" kind: a void is the payment's state changing to voided.
    "VOID": EventKind.STATUS_CHANGED,
    "CHANGE": EventKind.NOTE,
    "SUGGESTED_REFUND": EventKind.NOTE,
}
"""The event a successful transaction of each kind is (same keys as TRANSACTION_KIND)."""

TRANSACTION_SUCCEEDED = "SUCCESS"
TRANSACTION_STATUSES: frozenset[str] = frozenset(
    # admin-2022-07.graphql enum OrderTransactionStatus. Only SUCCESS moves money; the others
    # (failed, pending, still waiting, unknown to Shopify) become notes on the timeline.
    {"SUCCESS", "FAILURE", "PENDING", "ERROR", "AWAITING_RESPONSE", "UNKNOWN"}
)

ORDER_EVENT_ACTION = StatusTable(
    name="Shopify order Event.action (state after a status-changing order event)",
    source="shopify.dev admin-graphql BasicEvent 'Order events' table (Event.action, 2024-10 on)",
    entries={
        "placed": StatusMapping(fulfillment=F.OPEN),
        "confirmed": StatusMapping(),
        "authorization_success": StatusMapping(financial=M.AUTHORIZED),
        "capture_success": StatusMapping(financial=M.PAID),
        "sale_success": StatusMapping(financial=M.PAID),
        "mark_as_paid": StatusMapping(financial=M.PAID),
        # Whether a refund was partial the message does not say reliably; the transaction does.
        "refund_success": StatusMapping(),
        "void_success": StatusMapping(financial=M.VOIDED),
        "cancelled": StatusMapping(fulfillment=F.CANCELLED),
        # One fulfillment may cover part of the order: the fulfillment's own events carry the state.
        "fulfillment_success": StatusMapping(),
        "fulfillment_cancelled": StatusMapping(),
        "restock_line_items": StatusMapping(),
        "closed": StatusMapping(),
        "re_opened": StatusMapping(),
    },
)
"""Actions that change the order's state; any other action (mail_sent, update, comments) is a note."""

SHOPIFY_OWN_CHANNELS: dict[str, Origin] = {
    # Order.sourceName values Shopify itself sets; any other value names the app (or its API
    # client) that created the order through the API, i.e. an integration.
    "web": Origin.PLATFORM,
    "pos": Origin.PLATFORM,
    "iphone": Origin.PLATFORM,
    "android": Origin.PLATFORM,
    "shopify_draft_order": Origin.PERSON,  # a staff member built the draft in the admin
}
