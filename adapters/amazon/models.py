"""Pydantic models of the Amazon SP-API Orders responses the adapter reads.

Field names follow orders_2026-01-01.json, ordersV0.json and
OrderChangeNotification.json (amzn/selling-partner-api-models). The models are
lenient on purpose: unknown fields are kept, status fields are plain strings (an
unknown value must reach the status table, not fail here), and every field the
adapter can do without is optional. Only what a record cannot exist without is
required.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Quantity = Annotated[int, Field(strict=True, ge=0)]  # JSON integers only: never a bool or "3"


class Lenient(BaseModel):
    """Base of every vendor model: keeps unknown fields, so newer API versions still load."""

    model_config = ConfigDict(extra="allow")


# --- Orders API v2026-01-01 -------------------------------------------------------------------


class Money(Lenient):
    amount: str  # a decimal string, never a JSON number
    currencyCode: str


class Alias(Lenient):
    aliasId: str
    aliasType: str | None = None  # SELLER_ORDER_ID


class SalesChannel(Lenient):
    channelName: str | None = None
    marketplaceId: str | None = None
    marketplaceName: str | None = None


class OrderProceeds(Lenient):
    grandTotal: Money | None = None


class OrderFulfillment(Lenient):
    fulfillmentStatus: str | None = None
    fulfilledBy: str | None = None  # AMAZON or MERCHANT


class ItemProduct(Lenient):
    asin: str | None = None
    title: str | None = None
    sellerSku: str | None = None


class ItemFulfillment(Lenient):
    quantityFulfilled: Quantity | None = None
    quantityUnfulfilled: Quantity | None = None


class ItemCancellationRequest(Lenient):
    requester: str | None = None  # BUYER
    cancelReason: str | None = None


class ItemCancellationExecution(Lenient):
    cancelledBy: str | None = None  # BUYER, MERCHANT, AMAZON
    cancelReason: str | None = None


class ItemCancellation(Lenient):
    cancellationRequest: ItemCancellationRequest | None = None
    cancellationExecution: ItemCancellationExecution | None = None


class OrderItem(Lenient):
    orderItemId: str
    quantityOrdered: Quantity
    product: ItemProduct | None = None
    fulfillment: ItemFulfillment | None = None
    cancellation: ItemCancellation | None = None


class PackageStatus(Lenient):
    status: str | None = None
    detailedStatus: str | None = None


class PackageItem(Lenient):
    orderItemId: str
    quantity: Quantity


class OrderPackage(Lenient):
    packageReferenceId: str
    createdTime: str | None = None
    packageStatus: PackageStatus | None = None
    carrier: str | None = None
    shipTime: str | None = None
    shippingService: str | None = None
    trackingNumber: str | None = None
    packageItems: list[PackageItem] | None = None  # merchant-fulfilled orders only


class Order(Lenient):
    orderId: str
    orderAliases: list[Alias] | None = None
    createdTime: str
    lastUpdatedTime: str
    salesChannel: SalesChannel | None = None
    proceeds: OrderProceeds | None = None
    fulfillment: OrderFulfillment | None = None
    orderItems: list[OrderItem] | None = None
    packages: list[OrderPackage] | None = None


class GetOrderResponse(Lenient):
    order: Order


class Pagination(Lenient):
    nextToken: str | None = None


class SearchOrdersResponse(Lenient):
    orders: list[Order]
    pagination: Pagination | None = None  # absent on the last page


# --- Orders API v0 ----------------------------------------------------------------------------


class ApiError(Lenient):
    code: str
    message: str | None = None
    details: str | None = None


class ErrorResponse(Lenient):
    errors: list[ApiError]


class V0Money(Lenient):
    CurrencyCode: str | None = None
    Amount: str | None = None


class V0Order(Lenient):
    AmazonOrderId: str
    SellerOrderId: str | None = None
    PurchaseDate: str
    LastUpdateDate: str
    OrderStatus: str
    FulfillmentChannel: str | None = None  # MFN or AFN
    SalesChannel: str | None = None
    OrderTotal: V0Money | None = None
    EasyShipShipmentStatus: str | None = None


class V0BuyerRequestedCancel(Lenient):
    IsBuyerRequestedCancel: str | bool | None = None  # the model says a string: "true"/"false"
    BuyerCancelReason: str | None = None


class V0OrderItem(Lenient):
    ASIN: str | None = None
    SellerSKU: str | None = None
    OrderItemId: str
    QuantityOrdered: Quantity
    QuantityShipped: Quantity | None = None
    BuyerRequestedCancel: V0BuyerRequestedCancel | None = None


class V0OrderItemsList(Lenient):
    AmazonOrderId: str
    OrderItems: list[V0OrderItem]
    NextToken: str | None = None


class V0OrdersList(Lenient):
    Orders: list[V0Order]
    NextToken: str | None = None


class V0GetOrderResponse(Lenient):
    payload: V0Order


class V0GetOrderItemsResponse(Lenient):
    payload: V0OrderItemsList


class V0GetOrdersResponse(Lenient):
    payload: V0OrdersList


# --- ORDER_CHANGE notification ----------------------------------------------------------------


class ChangeTrigger(Lenient):
    TimeOfOrderChange: str | None = None
    ChangeReason: str | None = None


class ChangeSummary(Lenient):
    OrderStatus: str | None = None
    EasyShipShipmentStatus: str | None = None


class OrderChange(Lenient):
    AmazonOrderId: str
    NotificationLevel: str | None = None
    OrderChangeType: str | None = None  # BuyerRequestedChange, DeliveryTipChange, OrderStatusChange
    OrderChangeTrigger: ChangeTrigger | None = None
    Summary: ChangeSummary | None = None


class ChangePayload(Lenient):
    OrderChangeNotification: OrderChange


class Metadata(Lenient):
    NotificationId: str | None = None
    PublishTime: str | None = None


class OrderChangeNotification(Lenient):
    NotificationType: str
    EventTime: str | None = None
    Payload: ChangePayload
    NotificationMetadata: Metadata | None = None
