"""Shopify Admin GraphQL API emulator: ``POST /admin/api/{version}/graphql.json``.

Queries run with graphql-core against the schema below (written for the sandbox from
platform-apis.md §1a; it covers what an order audit reads, not the whole Admin API)
with resolvers over the stored ``data.order`` objects of the sample payloads. Each
request is priced (Shopify's documented approximation: object 1, scalar/enum 0,
connection 2 + first x node cost) and paid from a leaky bucket per access token;
``extensions.cost`` is on every response. Mutations are refused, never executed.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import value_from_ast_untyped

from sandbox.core import EmulatorSettings, RequestLog, TokenBucket, json_response
from sandbox.data import Dataset

MAX_PAGE = 250
MAX_QUERY_COST = 1000
API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"

SDL = """
schema { query: QueryRoot }

scalar DateTime
scalar Decimal
scalar FormattedString
scalar UnsignedInt64
scalar URL

type QueryRoot {
  "One order by its GID (gid://shopify/Order/<n>); null when the shop has none."
  order(id: ID!): Order
  "Orders matching Shopify search syntax, as a Relay connection."
  orders(first: Int, after: String, last: Int, before: String, query: String,
         sortKey: OrderSortKeys = ID, reverse: Boolean = false, savedSearchId: ID): OrderConnection!
}

enum OrderSortKeys {
  CREATED_AT CUSTOMER_NAME CURRENT_TOTAL_PRICE DESTINATION FINANCIAL_STATUS FULFILLMENT_STATUS
  ID ORDER_NUMBER PO_NUMBER PROCESSED_AT RELEVANCE TOTAL_ITEMS_QUANTITY TOTAL_PRICE UPDATED_AT
}
enum EventSortKeys { CREATED_AT ID RELEVANCE }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderDisplayFinancialStatus {
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED
  RESTOCKED SCHEDULED UNFULFILLED FULFILLMENT_NOT_REQUIRED
}
enum FulfillmentStatus { CANCELLED ERROR FAILURE SUCCESS OPEN PENDING }
enum FulfillmentDisplayStatus {
  ATTEMPTED_DELIVERY CANCELED CARRIER_PICKED_UP CONFIRMED DELAYED DELIVERED FAILURE FULFILLED
  IN_TRANSIT LABEL_PRINTED LABEL_PURCHASED LABEL_VOIDED MARKED_AS_FULFILLED NOT_DELIVERED
  OUT_FOR_DELIVERY PICKED_UP READY_FOR_PICKUP SUBMITTED
}
enum OrderTransactionKind {
  AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID
}
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
enum CurrencyCode {
  USD EUR GBP CAD AUD NZD JPY CNY HKD SGD INR CHF SEK NOK DKK PLN CZK HUF RON BGN
  MXN BRL ARS CLP COP PEN ZAR AED SAR ILS TRY KRW TWD THB MYR IDR PHP VND EGP NGN XXX
}

interface Node { id: ID! }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Attribute { key: String! value: String }

type Order implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closedAt: DateTime
  closed: Boolean!
  confirmed: Boolean!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  sourceName: String
  sourceIdentifier: String
  note: String
  email: String
  currencyCode: CurrencyCode!
  tags: [String!]!
  customAttributes: [Attribute!]!
  totalPriceSet: MoneyBag!
  subtotalPriceSet: MoneyBag
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): LineItemConnection!
  fulfillments(first: Int): [Fulfillment!]!
  events(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
         sortKey: EventSortKeys = ID, query: String): EventConnection!
  transactions(first: Int, capturable: Boolean, manuallyResolvable: Boolean): [OrderTransaction!]!
}

type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

type LineItem implements Node {
  id: ID!
  sku: String
  name: String!
  title: String
  variantTitle: String
  quantity: Int!
  currentQuantity: Int!
  unfulfilledQuantity: Int!
  originalUnitPriceSet: MoneyBag
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }

type FulfillmentTrackingInfo { company: String number: String url: URL }

type Fulfillment implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  status: FulfillmentStatus!
  displayStatus: FulfillmentDisplayStatus
  createdAt: DateTime!
  updatedAt: DateTime!
  deliveredAt: DateTime
  inTransitAt: DateTime
  estimatedDeliveryAt: DateTime
  totalQuantity: Int!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String, last: Int, before: String,
                       reverse: Boolean = false): FulfillmentLineItemConnection!
}

type FulfillmentLineItem implements Node { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentLineItemEdge { cursor: String! node: FulfillmentLineItem! }
type FulfillmentLineItemConnection {
  edges: [FulfillmentLineItemEdge!]! nodes: [FulfillmentLineItem!]! pageInfo: PageInfo!
}

interface Event {
  id: ID!
  action: String!
  appTitle: String
  attributeToApp: Boolean!
  attributeToUser: Boolean!
  createdAt: DateTime!
  criticalAlert: Boolean!
  message: FormattedString!
}
type BasicEvent implements Event & Node {
  id: ID! action: String! appTitle: String attributeToApp: Boolean! attributeToUser: Boolean!
  createdAt: DateTime! criticalAlert: Boolean! message: FormattedString!
}
type CommentEvent implements Event & Node {
  id: ID! action: String! appTitle: String attributeToApp: Boolean! attributeToUser: Boolean!
  createdAt: DateTime! criticalAlert: Boolean! message: FormattedString! rawMessage: String!
}
type EventEdge { cursor: String! node: Event! }
type EventConnection { edges: [EventEdge!]! nodes: [Event!]! pageInfo: PageInfo! }

type OrderTransaction implements Node {
  id: ID!
  kind: OrderTransactionKind!
  status: OrderTransactionStatus!
  gateway: String
  createdAt: DateTime!
  processedAt: DateTime
  test: Boolean!
  amountSet: MoneyBag!
}
"""


# --- the store ---------------------------------------------------------------------------------

def _numeric_id(gid: str) -> int:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class OrderStore:
    """The orders the shop holds, indexed by GID, from every ``shopify/*.json`` payload."""

    def __init__(self, dataset: Dataset) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        for _, payload in dataset.files_for("shopify"):
            for order in _orders_in(payload):
                self.orders.setdefault(order["id"], order)

    def get(self, gid: str) -> dict[str, Any] | None:
        """The stored order with that GID, or None."""
        return self.orders.get(gid)


def _orders_in(payload: Any) -> Iterable[dict[str, Any]]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return []
    found = []
    if isinstance(data.get("order"), dict):
        found.append(data["order"])
    connection = data.get("orders")
    if isinstance(connection, dict):
        found.extend(edge["node"] for edge in connection.get("edges") or [] if isinstance(edge, dict))
        found.extend(node for node in connection.get("nodes") or [] if isinstance(node, dict))
    return [o for o in found if isinstance(o.get("id"), str)]


# --- paging ------------------------------------------------------------------------------------

def encode_cursor(last_id: int, last_value: Any) -> str:
    """An opaque cursor in Shopify's shape (base64 JSON of the last id and sort value)."""
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The cursor's content; a GraphQLError (as Shopify's "Invalid cursor") when it is not one."""
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        if isinstance(data, dict) and "last_id" in data:
            return data
    except (ValueError, TypeError):
        pass
    raise GraphQLError("Invalid cursor for current pagination sort.")


def paginate(
    items: list[Any], args: dict[str, Any], key: Callable[[Any], tuple[Any, int]],
) -> dict[str, Any]:
    """A Relay connection over ``items`` (already in order); ``key`` gives (sort value, id)."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE:
            raise GraphQLError(f"{name} cannot exceed {MAX_PAGE}")
        if value is not None and value < 0:
            raise GraphQLError(f"{name} cannot be negative")
    keys = [key(item) for item in items]
    start, end = 0, len(items)
    if args.get("after"):
        position = _cursor_position(args["after"], keys)
        start = position + 1
    if args.get("before"):
        end = min(end, _cursor_position(args["before"], keys))
    window = list(range(start, max(start, end)))
    has_next = has_previous = False
    if first is not None:
        has_next = len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = len(window) > last
        window = window[-last:] if last else []
    edges = [{"cursor": encode_cursor(keys[i][1], keys[i][0]), "node": items[i]} for i in window]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next or (last is not None and end < len(items) and bool(args.get("before"))),
            "hasPreviousPage": has_previous or (first is not None and start > 0),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _cursor_position(cursor: str, keys: list[tuple[Any, int]]) -> int:
    data = decode_cursor(cursor)
    target = data["last_id"]
    for index, (_, ident) in enumerate(keys):
        if ident == target:
            return index
    # The item left the list: fall back to the sort value (stable order = (value, id)).
    value = data.get("last_value")
    for index, item_key in enumerate(keys):
        try:
            if (item_key[0], item_key[1]) > (value, target):
                return index - 1
        except TypeError:
            break
    return len(keys) - 1


# --- search syntax -----------------------------------------------------------------------------
# Shopify search syntax, as far as an order audit uses it: field:value terms (ANDed, or joined
# with OR), "-" / NOT negation, comparators on dates. Real Shopify's free-text (bare term)
# matching is a tokenised full-text search over many fields; here a bare term only matches
# the name (with or without "#"), a tag, the source identifier or a custom attribute value,
# case-insensitively: an approximation.

TERM = re.compile(r'(-)?(?:(\w+):)?(>=|<=|>|<)?("(?:[^"\\]|\\.)*"|\S+)')
DATE_FIELDS = {"created_at": "createdAt", "updated_at": "updatedAt", "processed_at": "processedAt"}
KNOWN_FIELDS = {
    "name", "id", "tag", "tag_not", "source_identifier", "source_name", "status", "financial_status",
    "fulfillment_status", "sku", *DATE_FIELDS,
}


def parse_search(query: str) -> tuple[list[list[tuple[bool, str | None, str | None, str]]], list[dict[str, str]]]:
    """(disjunction of conjunctions of (negated, field, comparator, value), warnings)."""
    groups: list[list[tuple[bool, str | None, str | None, str]]] = [[]]
    warnings = []
    negate_next = False
    for match in TERM.finditer(query):
        negated, fieldname, comparator, value = match.groups()
        if fieldname is None and value == "OR":
            groups.append([])
            continue
        if fieldname is None and value in ("AND",):
            continue
        if fieldname is None and value == "NOT":
            negate_next = True
            continue
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"')
        lowered = fieldname.lower() if fieldname else None
        if lowered is not None and lowered not in KNOWN_FIELDS:
            # Shopify ignores a field it does not know and says so in extensions.search.
            warnings.append({"field": fieldname, "message": "Invalid search field for this query."})
            continue
        groups[-1].append((bool(negated) or negate_next, lowered, comparator, value))
        negate_next = False
    return [g for g in groups if g] or [[]], warnings


def _compare(actual: datetime | None, comparator: str | None, value: str) -> bool:
    if actual is None:
        return False
    try:
        if "T" in value or " " in value:
            bound = _instant(value.replace(" ", "T"))
            if bound is not None and bound.tzinfo is None:
                bound = bound.replace(tzinfo=UTC)
        else:
            bound = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return False
    if comparator == ">=":
        return actual >= bound
    if comparator == "<=":
        return actual <= bound
    if comparator == ">":
        return actual > bound
    if comparator == "<":
        return actual < bound
    if "T" in value:
        return actual == bound
    return actual.date() == bound.date()


def _term_matches(order: dict[str, Any], fieldname: str | None, comparator: str | None, value: str) -> bool:
    folded = value.casefold()
    name = str(order.get("name") or "")
    tags = [str(t).casefold() for t in order.get("tags") or []]
    attributes = [str(a.get("value") or "").casefold() for a in order.get("customAttributes") or []]
    source_identifier = str(order.get("sourceIdentifier") or "").casefold()
    if fieldname is None:
        names = {name.casefold(), name.lstrip("#").casefold()}
        return folded in names or folded in tags or folded == source_identifier or folded in attributes
    if fieldname == "name":
        return name.lstrip("#").casefold() == folded.lstrip("#")
    if fieldname == "id":
        target = value.rsplit("/", 1)[-1]
        return str(_numeric_id(order["id"])) == target
    if fieldname == "tag":
        return folded in tags
    if fieldname == "tag_not":
        return folded not in tags
    if fieldname == "source_identifier":
        return folded == source_identifier
    if fieldname == "source_name":
        return folded == str(order.get("sourceName") or "").casefold()
    if fieldname == "sku":
        skus = [str(n.get("sku") or "").casefold() for n in (order.get("lineItems") or {}).get("nodes") or []]
        return folded in skus
    if fieldname in DATE_FIELDS:
        return _compare(_instant(order.get(DATE_FIELDS[fieldname])), comparator, value)
    if fieldname == "status":
        cancelled, closed = order.get("cancelledAt") is not None, order.get("closedAt") is not None
        return {
            "any": True, "open": not cancelled and not closed, "closed": closed, "cancelled": cancelled,
        }.get(folded, False)
    if fieldname == "financial_status":
        status = str(order.get("displayFinancialStatus") or "").casefold()
        return folded == "any" or status == folded
    if fieldname == "fulfillment_status":
        status = str(order.get("displayFulfillmentStatus") or "").casefold()
        aliases = {
            "shipped": {"fulfilled"}, "fulfilled": {"fulfilled"}, "partial": {"partially_fulfilled"},
            "unshipped": {"unfulfilled", "open"}, "unfulfilled": {"unfulfilled", "open", "partially_fulfilled"},
        }
        return folded == "any" or status in aliases.get(folded, {folded})
    return True


def search_orders(orders: Iterable[dict[str, Any]], query: str | None) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The orders the search query selects, and the warnings Shopify would add."""
    if not query or not query.strip():
        return list(orders), []
    groups, warnings = parse_search(query)
    selected = []
    for order in orders:
        for group in groups:
            if all(_term_matches(order, f, c, v) != neg for neg, f, c, v in group):
                selected.append(order)
                break
    return selected, warnings


ORDER_SORT_VALUES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "CREATED_AT": lambda o: o.get("createdAt") or "",
    "UPDATED_AT": lambda o: o.get("updatedAt") or "",
    "PROCESSED_AT": lambda o: o.get("processedAt") or "",
    "ORDER_NUMBER": lambda o: int(re.sub(r"\D", "", o.get("name") or "") or 0),
    "TOTAL_PRICE": lambda o: float(((o.get("totalPriceSet") or {}).get("shopMoney") or {}).get("amount") or 0),
    "FINANCIAL_STATUS": lambda o: o.get("displayFinancialStatus") or "",
    "FULFILLMENT_STATUS": lambda o: o.get("displayFulfillmentStatus") or "",
}


# --- resolvers -----------------------------------------------------------------------------------

def _money_bag(bag: Any) -> Any:
    if isinstance(bag, dict) and "shopMoney" in bag and "presentmentMoney" not in bag:
        return {**bag, "presentmentMoney": bag["shopMoney"]}
    return bag


def _nodes_of(connection: Any) -> list[Any]:
    if not isinstance(connection, dict):
        return []
    if isinstance(connection.get("nodes"), list):
        return connection["nodes"]
    return [edge.get("node") for edge in connection.get("edges") or [] if isinstance(edge, dict)]


def _by_id_key(node: dict[str, Any]) -> tuple[Any, int]:
    ident = _numeric_id(str(node.get("id") or ""))
    return ident, ident


def _with_reverse(items: list[Any], args: dict[str, Any]) -> list[Any]:
    return list(reversed(items)) if args.get("reverse") else items


def attach_resolvers(schema: GraphQLSchema, store: OrderStore) -> None:
    """Wire the resolvers over the stored order dicts into the built schema."""
    types = schema.type_map

    def field(type_name: str, field_name: str, resolve: Callable[..., Any]) -> None:
        target = types[type_name]
        assert isinstance(target, GraphQLObjectType)
        target.fields[field_name].resolve = resolve

    def order_by_id(_root: Any, _info: Any, id: str) -> Any:  # noqa: A002 - the GraphQL argument name
        return store.get(id)

    def orders(_root: Any, info: Any, **args: Any) -> Any:
        selected, warnings = search_orders(store.orders.values(), args.get("query"))
        if warnings:
            info.context["search_warnings"].append(
                {"path": [info.field_name], "query": args.get("query"), "warnings": warnings}
            )
        sort_value = ORDER_SORT_VALUES.get(args.get("sortKey") or "ID")
        def key(order: dict[str, Any]) -> tuple[Any, int]:
            ident = _numeric_id(order["id"])
            return (sort_value(order) if sort_value else ident), ident
        ordered = sorted(selected, key=key, reverse=bool(args.get("reverse")))
        return paginate(ordered, args, key)

    field("QueryRoot", "order", order_by_id)
    field("QueryRoot", "orders", orders)

    def line_items(order: dict[str, Any], _info: Any, **args: Any) -> Any:
        items = _with_reverse(_nodes_of(order.get("lineItems")), args)
        return paginate(items, args, _by_id_key)

    def fulfillments(order: dict[str, Any], _info: Any, first: int | None = None) -> Any:
        items = [dict(f, _order=order) for f in order.get("fulfillments") or []]
        return items if first is None else items[:first]

    def events(order: dict[str, Any], _info: Any, **args: Any) -> Any:
        items = list(_nodes_of(order.get("events")))
        if args.get("sortKey") == "CREATED_AT":
            items.sort(key=lambda e: (e.get("createdAt") or "", _numeric_id(e.get("id") or "")))
            key = lambda e: (e.get("createdAt") or "", _numeric_id(e.get("id") or ""))  # noqa: E731
        else:
            items.sort(key=lambda e: _numeric_id(e.get("id") or ""))
            key = _by_id_key
        return paginate(_with_reverse(items, args), args, key)

    def transactions(order: dict[str, Any], _info: Any, first: int | None = None, **_: Any) -> Any:
        items = list(order.get("transactions") or [])
        return items if first is None else items[:first]

    field("Order", "lineItems", line_items)
    field("Order", "fulfillments", fulfillments)
    field("Order", "events", events)
    field("Order", "transactions", transactions)
    field("Order", "totalPriceSet", lambda o, _i: _money_bag(o.get("totalPriceSet")))
    field("Order", "subtotalPriceSet", lambda o, _i: _money_bag(o.get("subtotalPriceSet")))
    field("Order", "closed", lambda o, _i: o.get("closed", o.get("closedAt") is not None))
    field("Order", "confirmed", lambda o, _i: o.get("confirmed", True))
    field("Order", "currencyCode", lambda o, _i: o.get("currencyCode") or (
        ((o.get("totalPriceSet") or {}).get("shopMoney") or {}).get("currencyCode") or "USD"))
    field("Order", "tags", lambda o, _i: o.get("tags") or [])
    field("Order", "customAttributes", lambda o, _i: o.get("customAttributes") or [])
    field("OrderTransaction", "amountSet", lambda t, _i: _money_bag(t.get("amountSet")))
    field("OrderTransaction", "test", lambda t, _i: bool(t.get("test", False)))
    field("LineItem", "originalUnitPriceSet", lambda li, _i: _money_bag(li.get("originalUnitPriceSet")))
    field("LineItem", "title", lambda li, _i: li.get("title") or li.get("name"))

    def tracking(fulfillment: dict[str, Any], _info: Any, first: int | None = None) -> Any:
        items = list(fulfillment.get("trackingInfo") or [])
        return items if first is None else items[:first]

    def fulfillment_line_items(fulfillment: dict[str, Any], _info: Any, **args: Any) -> Any:
        order = fulfillment.get("_order") or {}
        by_id = {li.get("id"): li for li in _nodes_of(order.get("lineItems"))}
        items = [
            dict(node, lineItem={**(node.get("lineItem") or {}),
                                 **by_id.get((node.get("lineItem") or {}).get("id"), {})})
            for node in _nodes_of(fulfillment.get("fulfillmentLineItems"))
        ]
        return paginate(_with_reverse(items, args), args, _by_id_key)

    def total_quantity(fulfillment: dict[str, Any], _info: Any) -> int:
        if "totalQuantity" in fulfillment:
            return int(fulfillment["totalQuantity"])
        return sum(int(n.get("quantity") or 0) for n in _nodes_of(fulfillment.get("fulfillmentLineItems")))

    field("Fulfillment", "trackingInfo", tracking)
    field("Fulfillment", "fulfillmentLineItems", fulfillment_line_items)
    field("Fulfillment", "totalQuantity", total_quantity)
    field("Fulfillment", "updatedAt", lambda f, _i: f.get("updatedAt") or f.get("createdAt"))
    for event_type in ("BasicEvent", "CommentEvent"):
        field(event_type, "criticalAlert", lambda e, _i: bool(e.get("criticalAlert", False)))
        field(event_type, "attributeToApp", lambda e, _i: bool(e.get("attributeToApp", False)))
        field(event_type, "attributeToUser", lambda e, _i: bool(e.get("attributeToUser", False)))
    field("CommentEvent", "rawMessage", lambda e, _i: e.get("rawMessage") or e.get("message") or "")

    def event_type_of(event: dict[str, Any], *_: Any) -> str:
        kind = str(event.get("id") or "").split("/")[-2:-1]
        return "CommentEvent" if kind == ["CommentEvent"] else "BasicEvent"

    types["Event"].resolve_type = event_type_of  # type: ignore[attr-defined]


# --- cost ----------------------------------------------------------------------------------------

def _is_connection(type_: Any) -> bool:
    return get_named_type(type_).name.endswith("Connection")


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class CostCalculator:
    """Shopify's documented query-cost approximation over a parsed document."""

    def __init__(self, schema: GraphQLSchema, document: Any, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def _arg(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _fields(self, selection_set: SelectionSetNode | None, seen: frozenset[str] = frozenset()) -> list[FieldNode]:
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found.extend(self._fields(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    found.extend(self._fields(fragment.selection_set, seen | {selection.name.value}))
        return found

    def selection_cost(self, parent: Any, selection_set: SelectionSetNode | None) -> int:
        """Cost of the fields selected on a composite type."""
        parent = get_named_type(parent)
        total = 0
        for node in self._fields(selection_set):
            fields = getattr(parent, "fields", {})
            definition = fields.get(node.name.value)
            if definition is None:
                # Interface fields selected on a concrete type inside fragments: look in implementations.
                continue
            named = get_named_type(definition.type)
            if node.selection_set is None:
                continue  # scalars and enums cost nothing
            if _is_connection(definition.type):
                size = self._arg(node, "first") or self._arg(node, "last") or 0
                node_type = named.fields["nodes"].type  # type: ignore[union-attr]
                per_node = 0
                for inner in self._fields(node.selection_set):
                    if inner.name.value == "nodes":
                        per_node = max(per_node, 1 + self.selection_cost(node_type, inner.selection_set))
                    elif inner.name.value == "edges":
                        edge_type = named.fields["edges"].type  # type: ignore[union-attr]
                        for edge_field in self._fields(inner.selection_set):
                            if edge_field.name.value == "node":
                                per_node = max(per_node, 1 + self.selection_cost(
                                    get_named_type(edge_type).fields["node"].type,  # type: ignore[union-attr]
                                    edge_field.selection_set))
                total += 2 + int(size) * per_node
            elif _is_list(definition.type) and self._arg(node, "first") is not None:
                total += int(self._arg(node, "first")) * (1 + self.selection_cost(named, node.selection_set))
            else:
                total += 1 + self.selection_cost(named, node.selection_set)
        return total


def actual_cost(data: Any) -> int:
    """What the response really cost: 1 per object returned, 2 per connection, pageInfo free."""
    if isinstance(data, list):
        return sum(actual_cost(item) for item in data)
    if not isinstance(data, dict):
        return 0
    if "pageInfo" in data and ("nodes" in data or "edges" in data):
        inner = sum(actual_cost(v) for k, v in data.items() if k != "pageInfo")
        return 2 + inner
    if set(data) <= {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}:
        return 0
    if set(data) == {"cursor", "node"} or set(data) == {"node"}:
        return actual_cost(data.get("node"))
    return 1 + sum(actual_cost(v) for v in data.values())


# --- the app -----------------------------------------------------------------------------------

class ShopifyEmulator:
    """One shop: its schema, orders and a leaky bucket per access token."""

    def __init__(self, dataset: Dataset, settings: EmulatorSettings, log: RequestLog,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.log = log
        self.store = OrderStore(dataset)
        self.schema = build_schema(SDL)
        attach_resolvers(self.schema, self.store)
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def bucket(self, token: str) -> TokenBucket:
        """The leaky bucket of one access token (maximumAvailable, restoreRate x time_scale)."""
        if token not in self.buckets:
            self.buckets[token] = TokenBucket(
                self.settings.scaled(self.settings.shopify_restore_rate),
                self.settings.shopify_bucket_size, self.clock,
            )
        return self.buckets[token]

    def throttle_status(self, bucket: TokenBucket) -> dict[str, float]:
        return {
            "maximumAvailable": float(bucket.burst),
            "currentlyAvailable": float(int(bucket.available)),
            "restoreRate": float(bucket.rate),
        }

    async def graphql(self, request: web.Request) -> web.Response:
        if not API_VERSION.match(request.match_info["version"]):
            return json_response({"errors": "Not Found"}, 404)
        token = request.headers.get("X-Shopify-Access-Token", "")
        if token != self.settings.shopify.access_token:
            return json_response({"errors": INVALID_TOKEN}, 401)
        body = await request.read()
        try:
            if request.content_type == "application/graphql":
                payload = {"query": body.decode()}
            else:
                payload = json.loads(body or b"null")
            query = payload.get("query") if isinstance(payload, dict) else None
            variables = (payload.get("variables") if isinstance(payload, dict) else None) or {}
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        return json_response(self.run(token, query, variables, payload.get("operationName")))

    def run(self, token: str, query: str, variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
        """Execute one GraphQL request as Shopify would answer it (the body of an HTTP 200)."""
        bucket = self.bucket(token)
        try:
            document = parse(query)
        except GraphQLError as error:
            return {"errors": [error.formatted]}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if any(op.operation is not OperationType.QUERY for op in operations):
            # The adapters are read-only: a mutation (or subscription) reaching the sandbox is a bug.
            return {"errors": [{
                "message": "Mutations are refused: the threetruth sandbox is read-only.",
                "extensions": {"code": "ACCESS_DENIED"},
            }]}
        errors = validate(self.schema, document)
        if errors:
            return {"errors": [e.formatted for e in errors]}
        operation = next(
            (op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)),
            None,
        )
        if operation is None:
            return {"errors": [{"message": f"Unknown operation named \"{operation_name}\"."}]}
        coerced = get_variable_values(self.schema, operation.variable_definitions or [], variables)
        if isinstance(coerced, list):
            return {"errors": [e.formatted for e in coerced]}
        coerced = getattr(coerced, "coerced", coerced)  # graphql-core 3.3 wraps the values
        requested = CostCalculator(self.schema, document, coerced).selection_cost(
            self.schema.query_type, operation.selection_set
        )
        if requested > MAX_QUERY_COST:
            return {
                "errors": [{
                    "message": f"Query cost is {requested}, which exceeds the single query max cost "
                               f"limit ({MAX_QUERY_COST}).",
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST,
                                   "documentation": "https://shopify.dev/api/usage/rate-limits"},
                }],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                        "throttleStatus": self.throttle_status(bucket)}},
            }
        if not bucket.try_take(requested):
            return {
                "errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                        "throttleStatus": self.throttle_status(bucket)}},
            }
        context: dict[str, Any] = {"search_warnings": []}
        result = execute(self.schema, document, variable_values=variables, operation_name=operation_name,
                         context_value=context)
        assert not hasattr(result, "__await__")
        # Shopify never charges more than it announced; the unused part goes back to the bucket.
        spent = min(requested, actual_cost(result.data)) if result.data else 0
        bucket.give_back(max(0, requested - spent))
        response: dict[str, Any] = {}
        if result.errors:
            response["errors"] = [e.formatted for e in result.errors]
        response["data"] = result.data
        response["extensions"] = {"cost": {
            "requestedQueryCost": requested, "actualQueryCost": spent,
            "throttleStatus": self.throttle_status(bucket),
        }}
        if context["search_warnings"]:
            response["extensions"]["search"] = context["search_warnings"]
        return response


SHOPIFY_KEY = web.AppKey("sandbox_shopify", ShopifyEmulator)


def make_app(dataset: Dataset, settings: EmulatorSettings, log: RequestLog) -> web.Application:
    """The Shopify Admin API emulator as an aiohttp application."""
    emulator = ShopifyEmulator(dataset, settings, log)
    app = web.Application()
    app[SHOPIFY_KEY] = emulator

    async def refuse(request: web.Request) -> web.Response:
        # Everything but the GraphQL endpoint: the REST Admin API is legacy and unused here.
        return json_response({"errors": "Not Found"}, 404)

    app.router.add_post("/admin/api/{version}/graphql.json", emulator.graphql)
    app.router.add_route("*", "/{tail:.*}", refuse)
    return app

