"""Amazon status tables: every documented value of every status field the normaliser reads.

Amazon collects the buyer's money itself, so the financial dimension follows from
the order status: Amazon authorizes the payment before an order becomes
Unshipped and charges it when the seller confirms shipment. Values come from the
SP-API models in amzn/selling-partner-api-models (file named in each table).
"""

from __future__ import annotations

from adapters.base import StatusMapping, StatusTable
from audit.model import Financial, Fulfillment


ORDER_STATUS_V0 = StatusTable(
    name="Amazon Orders v0 OrderStatus",
    source="ordersV0.json: definitions.Order.properties.OrderStatus (same 8 values in "
    "OrderChangeNotification.json Summary.OrderStatus)",
    entries={
        # "placed but payment has not been authorized": nothing to ship and nothing charged yet.
        "Pending": StatusMapping(Fulfillment.OPEN, Financial.PENDING),
        # Pre-orders: "payment has not been authorized, and the release date ... is in the future".
        "PendingAvailability": StatusMapping(Fulfillment.OPEN, Financial.PENDING),
        # "Payment has been authorized and order is ready for shipment"; the charge waits for shipment.
        "Unshipped": StatusMapping(Fulfillment.OPEN, Financial.AUTHORIZED),
        # Amazon charges each confirmed shipment: only the shipped part is charged, the rest is
        # still only authorized, and `authorized` is what holds for the whole order.
        "PartiallyShipped": StatusMapping(Fulfillment.PARTIAL, Financial.AUTHORIZED),
        # "All items in the order have been shipped", and shipment confirmation is the charge.
        "Shipped": StatusMapping(Fulfillment.SHIPPED, Financial.PAID),
        # Everything shipped (so charged); only the seller's confirmation that the buyer's invoice
        # went out is missing. That is not an ERP invoice, so `paid`, not `invoiced`.
        "InvoiceUnconfirmed": StatusMapping(Fulfillment.SHIPPED, Financial.PAID),
        # Shipped units cannot be cancelled (they make the order (Partially)Shipped), so a
        # Canceled order was never charged: any authorization is released.
        "Canceled": StatusMapping(Fulfillment.CANCELLED, Financial.VOIDED),
        # Multi-Channel Fulfillment orders placed off Amazon that Amazon cannot fulfil: nothing will
        # ship. Amazon collected no payment for them (the seller's own channel did), so the
        # status says nothing about money.
        "Unfulfillable": StatusMapping(Fulfillment.CANCELLED, None),
    },
)

FULFILLMENT_STATUS = StatusTable(
    name="Amazon Orders v2026-01-01 fulfillment.fulfillmentStatus",
    source="orders_2026-01-01.json: definitions.FulfillmentStatus",
    entries={
        # The same lifecycle as v0 OrderStatus (the model's descriptions repeat v0's), upper case
        # and with CANCELLED spelled with two l's; v0 InvoiceUnconfirmed has no counterpart.
        "PENDING_AVAILABILITY": StatusMapping(Fulfillment.OPEN, Financial.PENDING),
        # "placed but is not ready for shipment": payment authorization has not finished.
        "PENDING": StatusMapping(Fulfillment.OPEN, Financial.PENDING),
        # Ready for shipment, which Amazon allows only once the payment is authorized.
        "UNSHIPPED": StatusMapping(Fulfillment.OPEN, Financial.AUTHORIZED),
        # Only the shipped part is charged (see v0 PartiallyShipped).
        "PARTIALLY_SHIPPED": StatusMapping(Fulfillment.PARTIAL, Financial.AUTHORIZED),
        "SHIPPED": StatusMapping(Fulfillment.SHIPPED, Financial.PAID),
        # "canceled and will not be fulfilled": nothing shipped, so nothing was charged.
        "CANCELLED": StatusMapping(Fulfillment.CANCELLED, Financial.VOIDED),
        # Amazon-fulfilled orders placed off Amazon (MCF): will not ship; Amazon holds no payment.
        "UNFULFILLABLE": StatusMapping(Fulfillment.CANCELLED, None),
    },
)

PACKAGE_STATUS = StatusTable(
    name="Amazon Orders v2026-01-01 packages[].packageStatus.status",
    source="orders_2026-01-01.json: definitions.PackageStatus.properties.status",
    entries={
        # A package speaks only for its own goods; money follows the order's fulfillmentStatus.
        # "preparation stage before carrier handoff": a label, not yet a shipment.
        "PENDING": StatusMapping(Fulfillment.OPEN),
        # "movement phase within carrier network": it has left the seller.
        "IN_TRANSIT": StatusMapping(Fulfillment.SHIPPED),
        "SHIPPED": StatusMapping(Fulfillment.SHIPPED),
        "DELIVERED": StatusMapping(Fulfillment.DELIVERED),
        # "shipment termination before delivery": this package (its label) is void; the order
        # itself is not cancelled by it. Its tracking number no longer counts.
        "CANCELLED": StatusMapping(Fulfillment.CANCELLED),
        # "Package delivery failure": the goods left the seller; what failed happened at the
        # carrier, and a return, if one follows, is a separate fact.
        "UNDELIVERABLE": StatusMapping(Fulfillment.SHIPPED),
    },
)

EASY_SHIP_STATUS_V0 = StatusTable(
    name="Amazon Orders v0 EasyShipShipmentStatus",
    source="ordersV0.json: definitions.EasyShipShipmentStatus",
    entries={
        # Easy Ship: Amazon's carrier collects the package, so these refine a Shipped order only.
        # Before the carrier has the package the goods are still with the seller.
        "PendingSchedule": StatusMapping(Fulfillment.OPEN),
        "PendingPickUp": StatusMapping(Fulfillment.OPEN),
        "PendingDropOff": StatusMapping(Fulfillment.OPEN),
        # "The seller canceled the pickup": the pickup, not the order.
        "LabelCanceled": StatusMapping(Fulfillment.OPEN),
        "PickedUp": StatusMapping(Fulfillment.SHIPPED),
        "DroppedOff": StatusMapping(Fulfillment.SHIPPED),
        "AtOriginFC": StatusMapping(Fulfillment.SHIPPED),
        "AtDestinationFC": StatusMapping(Fulfillment.SHIPPED),
        "OutForDelivery": StatusMapping(Fulfillment.SHIPPED),
        "Delivered": StatusMapping(Fulfillment.DELIVERED),
        # Carrier-side failures: the goods left the seller and are not (yet) back.
        "Undeliverable": StatusMapping(Fulfillment.SHIPPED),
        "Lost": StatusMapping(Fulfillment.SHIPPED),
        "Damaged": StatusMapping(Fulfillment.SHIPPED),
        # The goods are coming or came back to the seller.
        "RejectedByBuyer": StatusMapping(Fulfillment.RETURNED),
        "ReturningToSeller": StatusMapping(Fulfillment.RETURNED),
        "ReturnedToSeller": StatusMapping(Fulfillment.RETURNED),
    },
)
