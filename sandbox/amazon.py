"""Amazon SP-API Orders emulator (v0 and v2026-01-01) with its Login with Amazon token endpoint.

Endpoints (platform-apis.md §2; shapes per the vendor models ordersV0.json and
orders_2026-01-01.json):

- ``POST /auth/o2/token`` (LWA; on api.amazon.com in reality, on this port here)
- ``GET /orders/2026-01-01/orders/{orderId}`` getOrder, ``GET /orders/2026-01-01/orders`` searchOrders
- ``GET /orders/v0/orders/{orderId}`` getOrder, ``GET /orders/v0/orders/{orderId}/orderItems``
  getOrderItems, ``GET /orders/v0/orders`` getOrders

Every order is served in both versions. A sample holds one form; the other is derived:

=============================================  =============================================
v2026-01-01                                    v0
=============================================  =============================================
orderId                                        AmazonOrderId
orderAliases[SELLER_ORDER_ID].aliasId          SellerOrderId
createdTime / lastUpdatedTime                  PurchaseDate / LastUpdateDate
fulfillment.fulfillmentStatus SHIPPED,         OrderStatus Shipped, PartiallyShipped, Unshipped,
PARTIALLY_SHIPPED, UNSHIPPED, PENDING,         Pending, PendingAvailability, Canceled (one "l"),
PENDING_AVAILABILITY, CANCELLED, UNFULFILLABLE Unfulfillable
fulfillment.fulfilledBy MERCHANT / AMAZON      FulfillmentChannel MFN / AFN
fulfillment.fulfillmentServiceLevel STANDARD   ShipmentServiceLevelCategory Standard (CamelCase)
fulfillment.shipByWindow / deliverByWindow     Earliest/LatestShipDate, Earliest/LatestDeliveryDate
salesChannel.marketplaceId / marketplaceName   MarketplaceId / SalesChannel
proceeds.grandTotal {amount, currencyCode}     OrderTotal {Amount, CurrencyCode}
programs PRIME, AMAZON_BUSINESS, PREMIUM,      IsPrime, IsBusinessOrder, IsPremiumOrder, IsISPU,
IN_STORE_PICK_UP, PREORDER                     OrderType Preorder
sum of items' fulfillment.quantityFulfilled /  NumberOfItemsShipped / NumberOfItemsUnshipped
quantityUnfulfilled
item orderItemId, quantityOrdered,             OrderItemId, QuantityOrdered, ASIN, SellerSKU,
product.asin / sellerSku / title               Title
item fulfillment.quantityFulfilled             QuantityShipped
item product.price.unitPrice x quantity        ItemPrice (v0: unit price x quantity ordered)
item product.condition NEW / NEW               ConditionId New / ConditionSubtypeId New
item cancellation.cancellationRequest          BuyerRequestedCancel {IsBuyerRequestedCancel "true",
{requester BUYER, cancelReason}                BuyerCancelReason}
packages[]                                     (none: Orders v0 carries no shipment tracking)
=============================================  =============================================

``includedData`` selects the optional v2026 blocks (FULFILLMENT, PACKAGES, PROCEEDS,
CANCELLATION, ...); the base fields are always there.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from sandbox.core import EmulatorSettings, RequestLog, TokenBucket, amazon_error, json_response, request_id
from sandbox.data import Dataset

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")

# Default usage plans (rate per second, burst) from the models' operation descriptions
# (platform-apis.md §2), multiplied by the time scale.
USAGE_PLANS: dict[str, tuple[float, int]] = {
    "searchOrders": (0.0056, 20),
    "getOrder2026": (0.5, 30),
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
}

INCLUDED_DATA = {
    "BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
    "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS",
}
# includedData value -> (order-level keys, item-level keys) it brings in.
INCLUDED_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "BUYER": (("buyer",), ()),
    "RECIPIENT": (("recipient",), ()),
    "PROCEEDS": (("proceeds",), ("proceeds",)),
    "EXPENSE": ((), ("expense",)),
    "PROMOTION": ((), ("promotion",)),
    "CANCELLATION": ((), ("cancellation",)),
    "FULFILLMENT": (("fulfillment",), ("fulfillment",)),
    "PACKAGES": (("packages",), ()),
    "TAX": (("tax",), ("tax",)),
    "PAYMENT": (("payment",), ()),
    "FULFILLMENT_ORDERS": (("fulfillmentOrders",), ()),
}
OPTIONAL_ORDER_KEYS = {k for keys, _ in INCLUDED_KEYS.values() for k in keys}
OPTIONAL_ITEM_KEYS = {k for _, keys in INCLUDED_KEYS.values() for k in keys}

STATUS_TO_V0 = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
# InvoiceUnconfirmed has no v2026 equivalent (platform-apis.md §2): it was shipped.
STATUS_FROM_V0 = {v: k for k, v in STATUS_TO_V0.items()} | {"InvoiceUnconfirmed": "SHIPPED"}
SERVICE_LEVELS = {
    "STANDARD": "Standard", "EXPEDITED": "Expedited", "FREE_ECONOMY": "FreeEconomy", "NEXT_DAY": "NextDay",
    "PRIORITY": "Priority", "SAME_DAY": "SameDay", "SECOND_DAY": "SecondDay", "SCHEDULED": "Scheduled",
}
PROGRAM_FLAGS = {
    "PRIME": "IsPrime", "AMAZON_BUSINESS": "IsBusinessOrder", "PREMIUM": "IsPremiumOrder", "IN_STORE_PICK_UP": "IsISPU",
}


# --- the two forms -----------------------------------------------------------------------------

def _money_v0(money: dict[str, Any] | None) -> dict[str, str] | None:
    if not money:
        return None
    return {"CurrencyCode": money["currencyCode"], "Amount": str(money["amount"])}


def _money_2026(money: dict[str, Any] | None) -> dict[str, str] | None:
    if not money:
        return None
    return {"amount": str(money["Amount"]), "currencyCode": money["CurrencyCode"]}


def _title(value: str) -> str:
    return value[:1].upper() + value[1:].lower() if value else value


def order_to_v0(order: dict[str, Any]) -> dict[str, Any]:
    """The v0 Order of a v2026-01-01 order (see the mapping table above)."""
    fulfillment = order.get("fulfillment") or {}
    status = fulfillment.get("fulfillmentStatus", "PENDING")
    items = order.get("orderItems") or []
    shipped = sum(int((i.get("fulfillment") or {}).get("quantityFulfilled") or 0) for i in items)
    unshipped = sum(int((i.get("fulfillment") or {}).get("quantityUnfulfilled") or 0) for i in items)
    channel = order.get("salesChannel") or {}
    programs = set(order.get("programs") or [])
    v0: dict[str, Any] = {"AmazonOrderId": order["orderId"]}
    for alias in order.get("orderAliases") or []:
        if alias.get("aliasType") == "SELLER_ORDER_ID":
            v0["SellerOrderId"] = alias["aliasId"]
    v0 |= {
        "PurchaseDate": order["createdTime"],
        "LastUpdateDate": order["lastUpdatedTime"],
        "OrderStatus": STATUS_TO_V0.get(status, status),
        "FulfillmentChannel": "AFN" if fulfillment.get("fulfilledBy") == "AMAZON" else "MFN",
    }
    if channel.get("marketplaceName"):
        v0["SalesChannel"] = channel["marketplaceName"]
    total = _money_v0((order.get("proceeds") or {}).get("grandTotal"))
    if total:
        v0["OrderTotal"] = total
    v0["NumberOfItemsShipped"] = shipped
    v0["NumberOfItemsUnshipped"] = unshipped
    v0["PaymentMethod"] = "Other"
    if channel.get("marketplaceId"):
        v0["MarketplaceId"] = channel["marketplaceId"]
    if fulfillment.get("fulfillmentServiceLevel"):
        level = fulfillment["fulfillmentServiceLevel"]
        v0["ShipmentServiceLevelCategory"] = SERVICE_LEVELS.get(level, _title(level))
    v0["OrderType"] = "Preorder" if "PREORDER" in programs else "StandardOrder"
    windows = (("shipByWindow", "ShipDate"), ("deliverByWindow", "DeliveryDate"))
    for window, suffix in windows:
        span = fulfillment.get(window) or {}
        if span.get("earliestDateTime"):
            v0[f"Earliest{suffix}"] = span["earliestDateTime"]
        if span.get("latestDateTime"):
            v0[f"Latest{suffix}"] = span["latestDateTime"]
    for program, flag in PROGRAM_FLAGS.items():
        v0[flag] = program in programs
    replaced = [a for a in order.get("associatedOrders") or [] if a.get("associationType") == "REPLACEMENT_ORIGINAL_ID"]
    v0["IsReplacementOrder"] = bool(replaced)
    if replaced:
        v0["ReplacedOrderId"] = replaced[0]["orderId"]
    return v0


def item_to_v0(item: dict[str, Any]) -> dict[str, Any]:
    """The v0 OrderItem of a v2026-01-01 order item."""
    product = item.get("product") or {}
    quantity = int(item.get("quantityOrdered") or 0)
    v0: dict[str, Any] = {"ASIN": product.get("asin", ""), "OrderItemId": item["orderItemId"]}
    if product.get("sellerSku"):
        v0["SellerSKU"] = product["sellerSku"]
    if product.get("title"):
        v0["Title"] = product["title"]
    v0["QuantityOrdered"] = quantity
    v0["QuantityShipped"] = int((item.get("fulfillment") or {}).get("quantityFulfilled") or 0)
    v0["ProductInfo"] = {"NumberOfItems": "1"}
    unit = ((product.get("price") or {}).get("unitPrice")) or None
    if unit:
        # v0 ItemPrice is the line's selling price: unit price x quantity ordered.
        v0["ItemPrice"] = {"CurrencyCode": unit["currencyCode"],
                           "Amount": str(Decimal(str(unit["amount"])) * quantity)}
    v0["IsGift"] = "false"
    condition = product.get("condition") or {}
    if condition.get("conditionType"):
        v0["ConditionId"] = _title(condition["conditionType"])
    if condition.get("conditionSubtype"):
        v0["ConditionSubtypeId"] = _title(condition["conditionSubtype"])
    request = (item.get("cancellation") or {}).get("cancellationRequest") or {}
    buyer_cancel = request.get("requester") == "BUYER"
    v0["BuyerRequestedCancel"] = {
        "IsBuyerRequestedCancel": "true" if buyer_cancel else "false",
        "BuyerCancelReason": request.get("cancelReason", "") if buyer_cancel else "",
    }
    return v0


def order_from_v0(order: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The full v2026-01-01 order (every block the data allows) of a v0 order and its items."""
    status = STATUS_FROM_V0.get(order.get("OrderStatus", ""), "PENDING")
    cancelled = status == "CANCELLED"
    sales_channel = order.get("SalesChannel") or ""
    new: dict[str, Any] = {"orderId": order["AmazonOrderId"]}
    seller_id = order.get("SellerOrderId")
    if seller_id and seller_id != order["AmazonOrderId"]:
        new["orderAliases"] = [{"aliasId": seller_id, "aliasType": "SELLER_ORDER_ID"}]
    new["createdTime"] = order["PurchaseDate"]
    new["lastUpdatedTime"] = order["LastUpdateDate"]
    programs = [p for p, flag in PROGRAM_FLAGS.items() if order.get(flag)]
    if order.get("OrderType") == "Preorder":
        programs.append("PREORDER")
    if programs:
        new["programs"] = programs
    if order.get("IsReplacementOrder") and order.get("ReplacedOrderId"):
        new["associatedOrders"] = [{"orderId": order["ReplacedOrderId"], "associationType": "REPLACEMENT_ORIGINAL_ID"}]
    new["salesChannel"] = {
        "channelName": "AMAZON" if sales_channel.lower().startswith("amazon") else "NON_AMAZON",
        "marketplaceId": order.get("MarketplaceId", ""),
        "marketplaceName": sales_channel,
    }
    if order.get("OrderTotal"):
        total = _money_2026(order["OrderTotal"])
        new["proceeds"] = {"grandTotal": total, "breakdowns": [{"type": "ITEM", "subtotal": total}]}
    fulfillment: dict[str, Any] = {"fulfillmentStatus": status,
                                   "fulfilledBy": "AMAZON" if order.get("FulfillmentChannel") == "AFN" else "MERCHANT"}
    category = order.get("ShipmentServiceLevelCategory")
    if category:
        reverse_levels = {v: k for k, v in SERVICE_LEVELS.items()}
        fulfillment["fulfillmentServiceLevel"] = reverse_levels.get(category, category.upper())
    for window, suffix in (("shipByWindow", "ShipDate"), ("deliverByWindow", "DeliveryDate")):
        span = {}
        if order.get(f"Earliest{suffix}"):
            span["earliestDateTime"] = order[f"Earliest{suffix}"]
        if order.get(f"Latest{suffix}"):
            span["latestDateTime"] = order[f"Latest{suffix}"]
        if span:
            fulfillment[window] = span
    new["fulfillment"] = fulfillment
    new_items = []
    for item in items:
        quantity = int(item.get("QuantityOrdered") or 0)
        shipped = int(item.get("QuantityShipped") or 0)
        product: dict[str, Any] = {"asin": item.get("ASIN", "")}
        if item.get("Title"):
            product["title"] = item["Title"]
        if item.get("SellerSKU"):
            product["sellerSku"] = item["SellerSKU"]
        if item.get("ConditionId"):
            product["condition"] = {"conditionType": item["ConditionId"].upper(),
                                    "conditionSubtype": (item.get("ConditionSubtypeId") or item["ConditionId"]).upper()}
        line_total = _money_2026(item.get("ItemPrice"))
        if line_total and quantity:
            unit = (Decimal(line_total["amount"]) / quantity).quantize(Decimal("0.01"))
            product["price"] = {"unitPrice": {"amount": str(unit), "currencyCode": line_total["currencyCode"]}}
        new_item: dict[str, Any] = {"orderItemId": item["OrderItemId"], "quantityOrdered": quantity,
                                    "product": product}
        if line_total:
            new_item["proceeds"] = {"proceedsTotal": line_total,
                                    "breakdowns": [{"type": "ITEM", "subtotal": line_total}]}
        new_item["fulfillment"] = {"quantityFulfilled": shipped,
                                   "quantityUnfulfilled": 0 if cancelled else max(0, quantity - shipped)}
        cancel = item.get("BuyerRequestedCancel") or {}
        if str(cancel.get("IsBuyerRequestedCancel", "")).lower() == "true":
            new_item["cancellation"] = {"cancellationRequest": {
                "requester": "BUYER", "cancelReason": cancel.get("BuyerCancelReason", "")}}
        new_items.append(new_item)
    new["orderItems"] = new_items
    return new


def select_included(order: dict[str, Any], included: set[str]) -> dict[str, Any]:
    """The v2026 order with only the optional blocks ``includedData`` asked for."""
    order_keys = {k for name in included for k in INCLUDED_KEYS[name][0]}
    item_keys = {k for name in included for k in INCLUDED_KEYS[name][1]}
    shaped = {k: v for k, v in order.items() if k not in OPTIONAL_ORDER_KEYS or k in order_keys}
    shaped["orderItems"] = [
        {k: v for k, v in item.items() if k not in OPTIONAL_ITEM_KEYS or k in item_keys}
        for item in order.get("orderItems") or []
    ]
    return shaped


class StoredOrder:
    """One Amazon order in both API versions."""

    def __init__(self, v2026: dict[str, Any], v0: dict[str, Any], v0_items: list[dict[str, Any]]) -> None:
        self.v2026 = v2026
        self.v0 = v0
        self.v0_items = v0_items
        self.order_id: str = v2026["orderId"]
        self.created = _parse_instant(v2026["createdTime"])
        self.updated = _parse_instant(v2026["lastUpdatedTime"])
        self.marketplace_id: str = (v2026.get("salesChannel") or {}).get("marketplaceId", "")

    @property
    def status(self) -> str:
        return (self.v2026.get("fulfillment") or {}).get("fulfillmentStatus", "PENDING")

    @property
    def fulfilled_by(self) -> str:
        return (self.v2026.get("fulfillment") or {}).get("fulfilledBy", "MERCHANT")


def load_orders(dataset: Dataset) -> dict[str, StoredOrder]:
    """Every Amazon order of the dataset, in both forms, keyed by order id."""
    new_forms: dict[str, dict[str, Any]] = {}
    old_forms: dict[str, dict[str, Any]] = {}
    old_items: dict[str, list[dict[str, Any]]] = {}
    for _, payload in dataset.files_for("amazon"):
        if not isinstance(payload, dict):
            continue
        if isinstance(payload.get("order"), dict):
            new_forms.setdefault(payload["order"]["orderId"], payload["order"])
        for order in payload.get("orders") or []:
            new_forms.setdefault(order["orderId"], order)
        body = payload.get("payload")
        if isinstance(body, dict):
            if "OrderItems" in body:
                old_items.setdefault(body["AmazonOrderId"], []).extend(body["OrderItems"])
            elif "Orders" in body:
                for order in body["Orders"]:
                    old_forms.setdefault(order["AmazonOrderId"], order)
            elif "AmazonOrderId" in body:
                old_forms.setdefault(body["AmazonOrderId"], body)
    orders: dict[str, StoredOrder] = {}
    for order_id, order in new_forms.items():
        v0 = old_forms.get(order_id) or order_to_v0(order)
        items = old_items.get(order_id) or [item_to_v0(i) for i in order.get("orderItems") or []]
        orders[order_id] = StoredOrder(order, v0, items)
    for order_id, order in old_forms.items():
        if order_id not in orders:
            items = old_items.get(order_id, [])
            orders[order_id] = StoredOrder(order_from_v0(order, items), order, items)
    return orders


def _parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- request handling ----------------------------------------------------------------------------

class BadRequest(Exception):
    """A parameter problem: answered 400 InvalidInput with this message."""


def _list_param(request: web.Request, name: str) -> list[str]:
    values = []
    for raw in request.query.getall(name, []):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def _instant_param(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return _parse_instant(raw)
    except ValueError:
        raise BadRequest(f"{name} is not a valid ISO 8601 date-time: {raw!r}") from None


def _page_size(request: web.Request, name: str) -> int:
    raw = request.query.get(name)
    if raw is None:
        return 100
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise BadRequest(f"{name} must be an integer between 1 and 100, got {raw!r}")
    return int(raw)


def _encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode_token(token: str, name: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(state, dict) and isinstance(state.get("offset"), int):
            return state
    except ValueError:
        pass
    raise BadRequest(f"Invalid {name}.")


class AmazonEmulator:
    """The seller account: its orders, its access tokens and a token bucket per operation."""

    def __init__(self, dataset: Dataset, settings: EmulatorSettings,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.orders = load_orders(dataset)
        self.tokens: dict[str, float] = {}  # access token -> expiry on ``clock``
        self.clock = clock
        self.now = now or (lambda: datetime.now(UTC))
        self.buckets = {
            name: TokenBucket(settings.scaled(rate), burst, clock) for name, (rate, burst) in USAGE_PLANS.items()
        }

    # --- helpers

    def rate_header(self, operation: str) -> dict[str, str]:
        return {"x-amzn-RateLimit-Limit": f"{self.buckets[operation].rate:g}"}

    def answer(self, operation: str, body: Any, status: int = 200) -> web.Response:
        return json_response(body, status, {"x-amzn-RequestId": request_id(), **self.rate_header(operation)})

    def invalid(self, operation: str, message: str) -> web.Response:
        return self.answer(operation, amazon_error("InvalidInput", message), 400)

    def authorise(self, request: web.Request, operation: str) -> web.Response | None:
        """None when the access token is valid and the operation's bucket has a token, else the error."""
        token = request.headers.get("x-amz-access-token")
        headers = {"x-amzn-RequestId": request_id()}
        if not token or token not in self.tokens:
            body = amazon_error("Unauthorized", "Access to requested resource is denied.",
                                "The access token you provided is revoked, malformed or invalid.")
            return json_response(body, 403, headers)
        if self.tokens[token] <= self.clock():
            body = amazon_error("Unauthorized", "Access to requested resource is denied.",
                                "The access token you provided has expired.")
            return json_response(body, 403, headers)
        if not self.buckets[operation].try_take():
            body = amazon_error("QuotaExceeded", "You exceeded your quota for the requested resource.")
            return json_response(body, 429, headers)
        return None

    # --- LWA

    async def lwa_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = form.get("grant_type")
        creds = self.settings.amazon
        headers = {"x-amzn-RequestId": request_id()}
        if grant not in ("refresh_token", "client_credentials"):
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "The authorization grant type is not supported by the "
                                                       "authorization server"}, 400, headers)
        if form.get("client_id") != creds.client_id or form.get("client_secret") != creds.client_secret:
            return json_response({"error": "invalid_client",
                                  "error_description": "Client authentication failed"}, 401, headers)
        if grant == "client_credentials":
            # Grantless tokens exist (notifications, ...) but never open the Orders API.
            return json_response({"error": "invalid_scope",
                                  "error_description": "The scope is not valid for this sandbox"}, 400, headers)
        if not form.get("refresh_token"):
            return json_response({"error": "invalid_request",
                                  "error_description": "The request is missing a required parameter : "
                                                       "refresh_token"}, 400, headers)
        if form.get("refresh_token") != creds.refresh_token:
            return json_response({"error": "invalid_grant",
                                  "error_description": "The request has an invalid grant parameter : "
                                                       "refresh_token"}, 400, headers)
        token = "Atza|sandbox-" + secrets.token_urlsafe(24)
        lifetime = self.settings.amazon_token_lifetime
        self.tokens[token] = self.clock() + lifetime
        return json_response({"access_token": token, "refresh_token": creds.refresh_token,
                              "token_type": "bearer", "expires_in": lifetime}, 200, headers)

    # --- v2026-01-01

    def _included(self, request: web.Request) -> set[str]:
        included = set(_list_param(request, "includedData"))
        unknown = included - INCLUDED_DATA
        if unknown:
            raise BadRequest(f"Invalid includedData value(s): {', '.join(sorted(unknown))}. "
                             f"Allowed: {', '.join(sorted(INCLUDED_DATA))}.")
        return included

    def _order(self, request: web.Request, operation: str) -> StoredOrder | web.Response:
        """The order the path names, or the answer refusing the request (auth, a malformed id, not found)."""
        refused = self.authorise(request, operation)
        if refused:
            return refused
        order_id = request.match_info["orderId"]
        if not ORDER_ID.match(order_id):
            return self.invalid(operation, f"Invalid orderId: {order_id!r} is not a 3-7-7 Amazon order id.")
        stored = self.orders.get(order_id)
        if stored is None:
            return self.answer(operation, amazon_error("NotFound", "Order not found.",
                                                       f"No order {order_id} for this seller."), 404)
        return stored

    async def get_order_2026(self, request: web.Request) -> web.Response:
        operation = "getOrder2026"
        try:
            included = self._included(request)
        except BadRequest as problem:
            refused = self.authorise(request, operation)
            return refused or self.invalid(operation, str(problem))
        stored = self._order(request, operation)
        if isinstance(stored, web.Response):
            return stored
        return self.answer(operation, {"order": select_included(stored.v2026, included)})

    def _window(self, request: web.Request, names: dict[str, str]) -> tuple[str, datetime, datetime]:
        """(field, after, before) of a search: exactly one of the "after" parameters, per the models."""
        created_after = _instant_param(request, names["createdAfter"])
        created_before = _instant_param(request, names["createdBefore"])
        updated_after = _instant_param(request, names["lastUpdatedAfter"])
        updated_before = _instant_param(request, names["lastUpdatedBefore"])
        if (created_after is None) == (updated_after is None):
            raise BadRequest(f"Exactly one of {names['createdAfter']} and {names['lastUpdatedAfter']} is required.")
        if created_after is not None and (updated_after or updated_before):
            raise BadRequest(f"{names['createdAfter']} cannot be combined with "
                             f"{names['lastUpdatedAfter']} or {names['lastUpdatedBefore']}.")
        if updated_after is not None and created_before is not None:
            raise BadRequest(f"{names['lastUpdatedAfter']} cannot be combined with {names['createdBefore']}.")
        latest = self.now() - timedelta(minutes=2)
        field, after, before, before_name = (
            ("created", created_after, created_before, names["createdBefore"]) if created_after is not None
            else ("updated", updated_after, updated_before, names["lastUpdatedBefore"])
        )
        assert after is not None
        if before is not None:
            if before < after:
                raise BadRequest(f"{before_name} must be equal to or after the start of the window.")
            if before > latest:
                raise BadRequest(f"{before_name} must be at least two minutes before the time of the request.")
        if after > latest:
            raise BadRequest("The start of the window must be at least two minutes before the time of the request.")
        return field, after, before or latest

    def _select(self, field: str, after: datetime, before: datetime, marketplaces: list[str],
                keep: Callable[[StoredOrder], bool]) -> list[StoredOrder]:
        def moment(o: StoredOrder) -> datetime:
            return o.created if field == "created" else o.updated
        chosen = [
            o for o in self.orders.values()
            if after <= moment(o) <= before and (not marketplaces or o.marketplace_id in marketplaces) and keep(o)
        ]
        return sorted(chosen, key=lambda o: (moment(o), o.order_id))

    async def search_orders(self, request: web.Request) -> web.Response:
        operation = "searchOrders"
        refused = self.authorise(request, operation)
        if refused:
            return refused
        names = {n: n for n in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")}
        try:
            included = self._included(request)
            size = _page_size(request, "maxResultsPerPage")
            token = request.query.get("paginationToken")
            marketplaces = _list_param(request, "marketplaceIds")
            if len(marketplaces) > 50:
                raise BadRequest("marketplaceIds accepts at most 50 values.")
            statuses = _list_param(request, "fulfillmentStatuses")
            bad = set(statuses) - set(STATUS_TO_V0)
            if bad:
                raise BadRequest(f"Invalid fulfillmentStatuses value(s): {', '.join(sorted(bad))}.")
            fulfilled_by = _list_param(request, "fulfilledBy")
            if set(fulfilled_by) - {"MERCHANT", "AMAZON"}:
                raise BadRequest("fulfilledBy accepts MERCHANT and AMAZON.")
            if token:
                state = _decode_token(token, "paginationToken")
                field, after, before = state["field"], _parse_instant(state["after"]), _parse_instant(state["before"])
                marketplaces, statuses, fulfilled_by = state["marketplaces"], state["statuses"], state["by"]
            else:
                field, after, before = self._window(request, names)
                state = {"field": field, "after": _iso(after), "before": _iso(before),
                         "marketplaces": marketplaces, "statuses": statuses, "by": fulfilled_by, "offset": 0}
        except BadRequest as problem:
            return self.invalid(operation, str(problem))
        chosen = self._select(field, after, before, marketplaces,
                              lambda o: (not statuses or o.status in statuses)
                              and (not fulfilled_by or o.fulfilled_by in fulfilled_by))
        offset = state["offset"]
        page = chosen[offset:offset + size]
        body: dict[str, Any] = {"orders": [select_included(o.v2026, included) for o in page]}
        if offset + size < len(chosen):
            body["pagination"] = {"nextToken": _encode_token({**state, "offset": offset + size})}
        body["createdBefore" if field == "created" else "lastUpdatedBefore"] = state["before"]
        return self.answer(operation, body)

    # --- v0

    async def get_order_v0(self, request: web.Request) -> web.Response:
        operation = "getOrder"
        stored = self._order(request, operation)
        if isinstance(stored, web.Response):
            return stored
        return self.answer(operation, {"payload": stored.v0})

    async def get_order_items(self, request: web.Request) -> web.Response:
        operation = "getOrderItems"
        stored = self._order(request, operation)
        if isinstance(stored, web.Response):
            return stored
        order_id = request.match_info["orderId"]
        offset = 0
        token = request.query.get("NextToken")
        if token:
            try:
                state = _decode_token(token, "NextToken")
            except BadRequest as problem:
                return self.invalid(operation, str(problem))
            if state.get("order") != order_id:
                return self.invalid(operation, "NextToken belongs to another order.")
            offset = state["offset"]
        size = max(1, self.settings.amazon_order_items_page)
        payload: dict[str, Any] = {"OrderItems": stored.v0_items[offset:offset + size]}
        if offset + size < len(stored.v0_items):
            payload["NextToken"] = _encode_token({"order": order_id, "offset": offset + size})
        payload["AmazonOrderId"] = order_id
        return self.answer(operation, {"payload": payload})

    async def get_orders(self, request: web.Request) -> web.Response:
        operation = "getOrders"
        refused = self.authorise(request, operation)
        if refused:
            return refused
        names = {"createdAfter": "CreatedAfter", "createdBefore": "CreatedBefore",
                 "lastUpdatedAfter": "LastUpdatedAfter", "lastUpdatedBefore": "LastUpdatedBefore"}
        try:
            marketplaces = _list_param(request, "MarketplaceIds")
            if not marketplaces:
                raise BadRequest("MarketplaceIds is required.")
            if len(marketplaces) > 50:
                raise BadRequest("MarketplaceIds accepts at most 50 values.")
            size = _page_size(request, "MaxResultsPerPage")
            token = request.query.get("NextToken")
            if token:
                # A v0 NextToken carries the whole query: the other filters are not needed again.
                state = _decode_token(token, "NextToken")
                if "statuses" not in state:
                    raise BadRequest("Invalid NextToken.")
                field, after, before = state["field"], _parse_instant(state["after"]), _parse_instant(state["before"])
            else:
                statuses = _list_param(request, "OrderStatuses")
                bad = set(statuses) - set(STATUS_FROM_V0)
                if bad:
                    raise BadRequest(f"Invalid OrderStatuses value(s): {', '.join(sorted(bad))}.")
                channels = _list_param(request, "FulfillmentChannels")
                if set(channels) - {"AFN", "MFN"}:
                    raise BadRequest("FulfillmentChannels accepts AFN and MFN.")
                ids = _list_param(request, "AmazonOrderIds")
                if len(ids) > 50:
                    raise BadRequest("AmazonOrderIds accepts at most 50 values.")
                malformed = [i for i in ids if not ORDER_ID.match(i)]
                if malformed:
                    raise BadRequest(f"AmazonOrderIds must be in 3-7-7 format: {malformed[0]!r}.")
                seller_id = request.query.get("SellerOrderId")
                if seller_id is not None:
                    # ordersV0.json: SellerOrderId excludes these filters.
                    excluded = [n for n in ("FulfillmentChannels", "OrderStatuses", "PaymentMethods",
                                            "LastUpdatedAfter", "LastUpdatedBefore", "BuyerEmail")
                                if n in request.query]
                    if excluded:
                        raise BadRequest(f"SellerOrderId cannot be combined with {', '.join(excluded)}.")
                buyer_email = request.query.get("BuyerEmail")
                payments = _list_param(request, "PaymentMethods")
                if set(payments) - {"COD", "CVS", "Other"}:
                    raise BadRequest("PaymentMethods accepts COD, CVS and Other.")
                # Even with AmazonOrderIds, CreatedAfter or LastUpdatedAfter is required (ordersV0.json).
                field, after, before = self._window(request, names)
                state = {"field": field, "after": _iso(after), "before": _iso(before), "statuses": statuses,
                         "channels": channels, "ids": ids, "seller": seller_id, "email": buyer_email,
                         "payments": payments, "offset": 0}
        except BadRequest as problem:
            return self.invalid(operation, str(problem))
        chosen = self._select(field, after, before, marketplaces, lambda o: _v0_filter(o, state))
        offset = state["offset"]
        page = chosen[offset:offset + size]
        payload: dict[str, Any] = {"Orders": [o.v0 for o in page]}
        if offset + size < len(chosen):
            payload["NextToken"] = _encode_token({**state, "offset": offset + size})
        payload["CreatedBefore" if field == "created" else "LastUpdatedBefore"] = state["before"]
        return self.answer(operation, {"payload": payload})


def _v0_filter(order: StoredOrder, state: dict[str, Any]) -> bool:
    """Whether a v0 getOrders query (as carried in its state) selects the order."""
    v0 = order.v0
    if state["statuses"] and v0.get("OrderStatus") not in state["statuses"]:
        return False
    if state["channels"] and v0.get("FulfillmentChannel") not in state["channels"]:
        return False
    if state["ids"] and order.order_id not in state["ids"]:
        return False
    if state.get("seller") is not None and v0.get("SellerOrderId") != state["seller"]:
        return False
    if state.get("payments") and v0.get("PaymentMethod") not in state["payments"]:
        return False
    # BuyerEmail is PII the sandbox does not hold: no order matches an e-mail filter.
    return state.get("email") is None


AMAZON_KEY = web.AppKey("sandbox_amazon", AmazonEmulator)


@web.middleware
async def _amazon_envelope(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Unknown paths and methods answer in the SP-API error shape; every answer has a request id."""
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = json_response(amazon_error("NotFound", "Resource not found."), 404)
    except web.HTTPMethodNotAllowed:
        response = json_response(amazon_error("Unauthorized", "Access to requested resource is denied.",
                                              "The threetruth sandbox is read-only: writes are refused."), 403)
    if "x-amzn-RequestId" not in response.headers:
        response.headers["x-amzn-RequestId"] = request_id()
    return response


def make_app(dataset: Dataset, settings: EmulatorSettings, log: RequestLog) -> web.Application:
    """The Amazon SP-API + LWA emulator as an aiohttp application."""
    emulator = AmazonEmulator(dataset, settings)
    app = web.Application(middlewares=[_amazon_envelope])
    app[AMAZON_KEY] = emulator
    app.router.add_post("/auth/o2/token", emulator.lwa_token)
    app.router.add_get("/orders/2026-01-01/orders", emulator.search_orders)
    app.router.add_get("/orders/2026-01-01/orders/{orderId}", emulator.get_order_2026)
    app.router.add_get("/orders/v0/orders", emulator.get_orders)
    app.router.add_get("/orders/v0/orders/{orderId}", emulator.get_order_v0)
    app.router.add_get("/orders/v0/orders/{orderId}/orderItems", emulator.get_order_items)
    app.router.add_route("*", "/orders/{tail:.*}", _refuse_write)
    return app


async def _refuse_write(request: web.Request) -> web.Response:
    """Writes (confirmShipment, updateShipmentStatus, ...) are refused: the adapters are read-only."""
    if request.method in ("GET", "HEAD"):
        return json_response(amazon_error("NotFound", "Resource not found."), 404)
    return json_response(amazon_error("Unauthorized", "Access to requested resource is denied.",
                                      "The threetruth sandbox is read-only: writes are refused."), 403)

