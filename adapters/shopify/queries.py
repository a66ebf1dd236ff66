"""The GraphQL Admin API documents the Shopify adapter sends: read-only queries, never mutations.

The order shape below is the one the normaliser reads and the one every sample
payload in ``sample_data/scenarios/*/shopify/`` was written against. Field names
follow the vendor schema ``shared/api-specs/shopify/admin-2022-07.graphql``,
except the fields listed in :data:`FIELDS_NEWER_THAN_SCHEMA`, which later API
versions added and which the adapter needs.

Page sizes keep one request under Shopify's single-query cap of 1000 cost points
(connection = 2 + first x node cost, object = 1, scalar = 0, per
shopify.dev "apps/build/apis/graphql-admin/rate-limits"): 100 line items (102)
+ 100 events (102) + 25 transactions (75) + 10 fulfillments x (1 + 5 tracking
+ 20 fulfillment line items x 2 + 2) (480) is about 760 points. Going over the
cap fails the whole query with MAX_COST_EXCEEDED, so ``first: 250`` on nested
connections is not an option.
"""

from __future__ import annotations

API_VERSION = "2025-10"
"""The Admin API version the adapter addresses (quarterly ``YYYY-MM``)."""

LINE_ITEMS_PAGE = 100
EVENTS_PAGE = 100
SEARCH_PAGE = 10

FIELDS_NEWER_THAN_SCHEMA: frozenset[tuple[str, str]] = frozenset(
    {
        ("Order", "sourceName"),  # the sales channel ("web", "pos", an app's source name)
        ("Event", "action"),  # the verb of an event ("placed", "fulfillment_success"); in the docs from 2024-10
    }
)
"""(type, field) pairs the queries use that admin-2022-07.graphql does not know yet."""

ORDER_HEADER_FIELDS = """
fragment OrderHeader on Order {
  id
  legacyResourceId
  name
  createdAt
  updatedAt
  processedAt
  cancelledAt
  cancelReason
  closedAt
  displayFinancialStatus
  displayFulfillmentStatus
  sourceName
  sourceIdentifier
  tags
  customAttributes { key value }
  totalPriceSet { shopMoney { amount currencyCode } }
}
"""

LINE_ITEM_FIELDS = """
fragment LineItemFields on LineItem {
  id
  sku
  name
  quantity
  currentQuantity
  unfulfilledQuantity
}
"""

EVENT_FIELDS = """
fragment EventFields on Event {
  id
  action
  createdAt
  message
  appTitle
  attributeToApp
  attributeToUser
}
"""

ORDER_AUDIT_FIELDS = (
    ORDER_HEADER_FIELDS
    + LINE_ITEM_FIELDS
    + EVENT_FIELDS
    + f"""
fragment OrderAudit on Order {{
  ...OrderHeader
  lineItems(first: {LINE_ITEMS_PAGE}) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ ...LineItemFields }}
  }}
  fulfillments(first: 10) {{
    id
    legacyResourceId
    name
    status
    displayStatus
    createdAt
    updatedAt
    deliveredAt
    inTransitAt
    trackingInfo(first: 5) {{ company number url }}
    fulfillmentLineItems(first: 20) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id quantity lineItem {{ id sku }} }}
    }}
  }}
  events(first: {EVENTS_PAGE}, sortKey: CREATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ ...EventFields }}
  }}
  transactions(first: 25) {{
    id
    kind
    status
    gateway
    createdAt
    processedAt
    amountSet {{ shopMoney {{ amount currencyCode }} }}
  }}
}}
"""
)

ORDER_BY_ID = (
    """
query OrderById($id: ID!) {
  order(id: $id) { ...OrderAudit }
}
"""
    + ORDER_AUDIT_FIELDS
)
"""One order with everything the audit reads. Variables: ``id`` (``gid://shopify/Order/<n>``)."""

ORDERS_SEARCH = (
    f"""
query OrdersSearch($query: String!, $first: Int = {SEARCH_PAGE}, $after: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ ...OrderHeader }}
  }}
}}
"""
    + ORDER_HEADER_FIELDS
)
"""Orders matching Shopify search syntax (``name:#1042``), header fields only.

Only the header, so that ten hits stay cheap; each hit is then read in full with
:data:`ORDER_BY_ID`. An empty ``nodes`` list proves the shop holds no such order
(within what the token may see: without ``read_all_orders`` only 60 days).
"""

ORDER_EVENTS_PAGE = (
    f"""
query OrderEventsPage($id: ID!, $after: String!) {{
  order(id: $id) {{
    id
    events(first: {EVENTS_PAGE}, after: $after, sortKey: CREATED_AT) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ ...EventFields }}
    }}
  }}
}}
"""
    + EVENT_FIELDS
)
"""The next page of an order's events, when ``events.pageInfo.hasNextPage`` was true."""

ORDER_LINE_ITEMS_PAGE = (
    f"""
query OrderLineItemsPage($id: ID!, $after: String!) {{
  order(id: $id) {{
    id
    lineItems(first: {LINE_ITEMS_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ ...LineItemFields }}
    }}
  }}
}}
"""
    + LINE_ITEM_FIELDS
)
"""The next page of an order's line items, when ``lineItems.pageInfo.hasNextPage`` was true."""


# --- statements the live adapter adds (adapters/shopify/live.py) -----------------------------------

FULFILLMENT_LINE_ITEMS_PAGE_SIZE = 100
WINDOW_PAGE = 50

FULFILLMENT_LINE_ITEMS_PAGE = f"""
query FulfillmentLineItemsPage($id: ID!, $after: String!) {{
  fulfillment(id: $id) {{
    id
    order {{ id }}
    fulfillmentLineItems(first: {FULFILLMENT_LINE_ITEMS_PAGE_SIZE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id quantity lineItem {{ id sku }} }}
    }}
  }}
}}
"""
"""The next page of one fulfillment's line items, when its ``fulfillmentLineItems.pageInfo.hasNextPage`` was true.

``Order.fulfillments`` is a plain list, so a fulfillment's nested connection can
only be paged from the fulfillment itself; ``order { id }`` tells the normaliser
which order the page belongs to.
"""

ORDERS_WINDOW = f"""
query OrdersWindow($query: String!, $first: Int = {WINDOW_PAGE}, $after: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id name updatedAt }}
  }}
}}
"""
"""The orders updated in a window (``updated_at:>='ISO' updated_at:<'ISO'``), oldest change first; names only.

Sorted by UPDATED_AT so that a cursor stays valid across runs of the same window
(a resumed sync sends the same query string and continues after the cursor).
"""

APP_ACCESS_SCOPES = """
query AppAccessScopes {
  currentAppInstallation { accessScopes { handle } }
}
"""
"""The token's scopes: asked once, only for a window older than 60 days, to tell whether
``read_all_orders`` is missing (without it Shopify leaves older orders out silently)."""

ALL_QUERIES: dict[str, str] = {
    "ORDER_BY_ID": ORDER_BY_ID,
    "ORDERS_SEARCH": ORDERS_SEARCH,
    "ORDER_EVENTS_PAGE": ORDER_EVENTS_PAGE,
    "ORDER_LINE_ITEMS_PAGE": ORDER_LINE_ITEMS_PAGE,
    "FULFILLMENT_LINE_ITEMS_PAGE": FULFILLMENT_LINE_ITEMS_PAGE,
    "ORDERS_WINDOW": ORDERS_WINDOW,
    "APP_ACCESS_SCOPES": APP_ACCESS_SCOPES,
}
"""Every document the adapter can send (tests validate each against the vendor schema)."""
