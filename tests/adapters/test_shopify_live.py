"""The Shopify live adapter: request shapes, lookups by every kind of ref, paging, pacing, throttling,
auth and configuration errors, hostile refs; then end to end against the sandbox's Shopify emulator."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters.base import NormaliseContext
from adapters.http import FetchError, RetryableError, RetryPolicy
from adapters.live import LiveSettings, WindowPage
from adapters.shopify import PLATFORM, queries
from adapters.shopify.live import LIVE, ShopifyLiveAdapter, estimate_cost, search_value
from audit.model import Role, SystemDef

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "sample_data" / "scenarios"
SCHEMA = REPO.parent / "shared" / "api-specs" / "shopify" / "admin-2022-07.graphql"
TOKEN = "shpat_0123456789abcdef_SECRET"
PATH = f"/admin/api/{queries.API_VERSION}/graphql.json"
CONTEXT = NormaliseContext(system=SystemDef("shop", Role.STOREFRONT, "shopify"))
FAST = RetryPolicy(attempts=4, initial_wait=0.001, max_wait=0.01, give_up_after=20, jitter=0.0, retry_after_cap=0.5)
QUERY_NAMES = {text: name for name, text in queries.ALL_QUERIES.items()}


# --- a scripted shop behind httpx.MockTransport -----------------------------------------------------


def answer(data: dict | None, *, requested: float = 10, available: float = 990, maximum: float = 1000,
           restore: float = 1000, errors: list | None = None) -> dict:
    """A GraphQL Admin API body with extensions.cost as Shopify sends it."""
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    body["extensions"] = {"cost": {
        "requestedQueryCost": requested, "actualQueryCost": None if errors and data is None else requested,
        "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": restore}}}
    return body


THROTTLED = {"message": "Throttled", "extensions": {"code": "THROTTLED",
                                                    "documentation": "https://shopify.dev/api/usage/rate-limits"}}


@dataclass
class Sent:
    name: str
    variables: dict
    request: httpx.Request


class FakeShop:
    """Answers each request through ``script(name, variables)``; records what was sent."""

    def __init__(self, script: Callable[[str, dict], Any]) -> None:
        self.script = script
        self.sent: list[Sent] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = QUERY_NAMES[body["query"]]  # a document the adapter does not declare fails here
        variables = body.get("variables") or {}
        self.sent.append(Sent(name, variables, request))
        result = self.script(name, variables)
        if isinstance(result, httpx.Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return httpx.Response(status, json=payload)

    def names(self) -> list[str]:
        return [s.name for s in self.sent]


def live(handler: Callable[[httpx.Request], httpx.Response], *, link: str = "custom_attribute:Amazon Order ID",
         token: str | None = TOKEN, options: dict | None = None, base_url: str = "https://example-shop.myshopify.com",
         policy: RetryPolicy = FAST, time_scale: float = 1000) -> ShopifyLiveAdapter:
    # time_scale: until a response tells the bucket, the pacer assumes 1000 points restoring 50/s (x time_scale);
    # a failure without throttleStatus would otherwise make a retry wait ~10 s for the points it spent.
    settings = LiveSettings(
        "shop", base_url, NormaliseContext(system=SystemDef("shop", Role.STOREFRONT, "shopify"), marketplace_link=link),
        options=options or {}, secrets={"access_token": SecretStr(token)} if token is not None else {},
        policy=policy, transport=httpx.MockTransport(handler), time_scale=time_scale,
    )
    return LIVE.connect(settings)


@functools.cache
def _sample(slug: str) -> dict:
    return json.loads((SCENARIOS / slug / "shopify" / "order.json").read_text())


def order_of(slug: str) -> dict:
    return copy.deepcopy(_sample(slug)["data"]["order"])


HEADER = ("id", "legacyResourceId", "name", "createdAt", "updatedAt", "processedAt", "cancelledAt", "cancelReason",
          "closedAt", "displayFinancialStatus", "displayFulfillmentStatus", "sourceName", "sourceIdentifier", "tags",
          "customAttributes", "totalPriceSet")


def header_of(order: dict) -> dict:
    return {key: order[key] for key in HEADER}


def listing(*orders: dict, next_cursor: str | None = None) -> dict:
    return {"orders": {"pageInfo": {"hasNextPage": next_cursor is not None, "endCursor": next_cursor},
                       "nodes": [header_of(o) for o in orders]}}


def simple_shop(*orders: dict, searches: dict[str, list[dict]] | None = None) -> FakeShop:
    """A shop holding ``orders``; searches answer from ``searches`` (query -> hits), else nothing."""
    by_id = {o["id"]: o for o in orders}

    def script(name: str, variables: dict) -> dict:
        if name == "ORDER_BY_ID":
            return answer({"order": by_id.get(variables["id"])}, requested=763)
        if name == "ORDERS_SEARCH":
            return answer(listing(*(searches or {}).get(variables["query"], [])), requested=42)
        raise AssertionError(f"unexpected {name}")

    return FakeShop(script)


def projection(records) -> list[tuple]:
    """What a record says, without where it was read from (payload ids and field paths differ)."""
    return sorted((r.ref, r.native_id, r.native_status, r.fulfillment, r.financial,
                   tuple((line.sku, line.ordered, line.shipped, line.cancelled) for line in r.lines), r.tracking,
                   r.total, r.currency, r.created, r.updated, r.links, tuple((u.value, u.dimension) for u in r.unmapped))
                  for r in records)


def normalised(payloads):
    return PLATFORM.normalise(payloads, CONTEXT)


def sample_records(slug: str):
    from adapters.base import make_payload
    fetched = datetime(2026, 3, 5, tzinfo=timezone.utc)
    return normalised([make_payload("shop", "sample", fetched, json.dumps(_sample(slug)))]).records


# --- request shape --------------------------------------------------------------------------------


async def test_a_gid_is_read_with_one_post_carrying_the_token_header_and_variables():
    order = order_of("02-healthy-order")
    shop = simple_shop(order)
    adapter = live(shop)
    payloads = await adapter.lookup(order["id"])
    await adapter.aclose()
    assert shop.names() == ["ORDER_BY_ID"]
    request = shop.sent[0].request
    assert request.method == "POST"
    assert request.url == httpx.URL(f"https://example-shop.myshopify.com{PATH}")
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("threetruth/")
    assert shop.sent[0].variables == {"id": order["id"]}
    assert [p.endpoint for p in payloads] == [f"POST {PATH} order(id: {order['id']})"]
    assert json.loads(payloads[0].body)["data"]["order"]["id"] == order["id"]
    assert payloads[0].system == "shop"
    assert projection(normalised(payloads).records) == projection(sample_records("02-healthy-order"))


async def test_api_version_comes_from_the_options():
    order = order_of("02-healthy-order")
    shop = simple_shop(order)
    adapter = live(shop, options={"api_version": "2026-01"})
    payloads = await adapter.lookup(order["id"])
    assert shop.sent[0].request.url.path == "/admin/api/2026-01/graphql.json"
    assert payloads[0].endpoint.startswith("POST /admin/api/2026-01/graphql.json ")


async def test_a_numeric_id_becomes_the_order_gid():
    order = order_of("02-healthy-order")
    shop = simple_shop(order)
    payloads = await live(shop).lookup(order["legacyResourceId"])
    assert shop.sent[0].variables == {"id": order["id"]}
    assert [r.ref for r in normalised(payloads).records] == ["#1043"]


@pytest.mark.parametrize("ref", ["#1043", "1043", " #1043 "])
async def test_a_name_is_searched_then_each_hit_read_in_full(ref):
    order = order_of("02-healthy-order")
    wanted = ref.strip()
    shop = simple_shop(order, searches={f'name:"{wanted}"': [order]})
    payloads = await live(shop).lookup(ref)
    assert shop.names() == ["ORDERS_SEARCH", "ORDER_BY_ID"]
    assert shop.sent[0].variables == {"query": f'name:"{wanted}"', "first": queries.SEARCH_PAGE}
    searched = json.dumps(f'name:"{wanted}"')
    assert [p.endpoint for p in payloads] == [
        f"POST {PATH} orders(query: {searched}, first: {queries.SEARCH_PAGE})",
        f"POST {PATH} order(id: {order['id']})",
    ]
    assert projection(normalised(payloads).records) == projection(sample_records("02-healthy-order"))


async def test_a_name_hit_whose_name_differs_is_not_read():
    order, other = order_of("02-healthy-order"), order_of("03-late-sync")
    shop = simple_shop(order, other, searches={'name:"#1043"': [other, order]})
    await live(shop).lookup("#1043")
    assert [s.variables.get("id") for s in shop.sent[1:]] == [order["id"]]


async def test_a_marketplace_ref_is_searched_as_a_quoted_phrase_and_only_real_holders_are_read():
    order, decoy = order_of("01-classic-cascade"), order_of("02-healthy-order")
    amazon_id = "113-4519876-3382210"
    # The decoy mentions the id under another key: free text finds it, the filter does not keep it.
    decoy["customAttributes"] = [{"key": "Replaced order", "value": amazon_id}]
    shop = simple_shop(order, decoy, searches={f'"{amazon_id}"': [decoy, order]})
    payloads = await live(shop).lookup(amazon_id)
    assert shop.names() == ["ORDERS_SEARCH", "ORDER_BY_ID"]
    assert shop.sent[0].variables["query"] == f'"{amazon_id}"'
    assert shop.sent[1].variables == {"id": order["id"]}
    full = [p for p in payloads if "order(id:" in p.endpoint]
    assert projection(normalised(full).records) == projection(sample_records("01-classic-cascade"))


@pytest.mark.parametrize(
    ("link", "query", "holder"),
    [
        ("tag:amazon-", 'tag:"amazon-AB-1"', lambda o: o.update(tags=["x", "amazon-AB-1"])),
        ("tag", 'tag:"AB-1"', lambda o: o.update(tags=["AB-1"])),
        ("source_identifier", 'source_identifier:"AB-1"', lambda o: o.update(sourceIdentifier="AB-1")),
        ("name", 'name:"AB-1"', lambda o: o.update(name="AB-1")),
        ("custom_attribute:Channel Ref", '"AB-1"',
         lambda o: o.update(customAttributes=[{"key": "channel ref ", "value": " AB-1"}])),
    ],
)
async def test_each_marketplace_link_form_searches_its_own_way(link, query, holder):
    order, other = order_of("02-healthy-order"), order_of("03-late-sync")
    holder(order)
    shop = simple_shop(order, other, searches={query: [other, order]})
    await live(shop, link=link).lookup("AB-1")
    assert [s.variables.get("query") for s in shop.sent if s.name == "ORDERS_SEARCH"] == [query]
    assert [s.variables["id"] for s in shop.sent if s.name == "ORDER_BY_ID"] == [order["id"]]


async def test_several_link_forms_search_each_and_read_a_shared_hit_once():
    order = order_of("02-healthy-order")
    order["tags"] = ["AB-1"]
    order["customAttributes"] = [{"key": "Amazon Order ID", "value": "AB-1"}]
    shop = simple_shop(order, searches={'"AB-1"': [order], 'tag:"AB-1"': [order]})
    await live(shop, link="custom_attribute:Amazon Order ID, tag").lookup("AB-1")
    assert shop.names() == ["ORDERS_SEARCH", "ORDERS_SEARCH", "ORDER_BY_ID"]


async def test_an_absent_order_comes_back_as_the_empty_search_that_proves_it():
    shop = simple_shop()
    payloads = await live(shop).lookup("113-0000000-0000000")
    assert len(payloads) == 1 and json.loads(payloads[0].body)["data"]["orders"]["nodes"] == []
    assert normalised(payloads).records == []


async def test_an_unknown_long_number_is_tried_as_an_id_then_as_a_marketplace_ref():
    shop = simple_shop()
    payloads = await live(shop).lookup("1815367951431")  # e.g. a Walmart purchase order id
    assert shop.names() == ["ORDER_BY_ID", "ORDERS_SEARCH"]
    assert shop.sent[0].variables == {"id": "gid://shopify/Order/1815367951431"}
    assert shop.sent[1].variables["query"] == '"1815367951431"'
    assert len(payloads) == 2 and normalised(payloads).records == []


async def test_an_unknown_gid_is_only_read_by_id():
    shop = simple_shop()
    payloads = await live(shop).lookup("gid://shopify/Order/42")
    assert shop.names() == ["ORDER_BY_ID"] and json.loads(payloads[0].body)["data"]["order"] is None


async def test_a_bare_number_not_found_as_a_name_falls_back_to_the_marketplace_link():
    order = order_of("02-healthy-order")
    order["customAttributes"] = [{"key": "Amazon Order ID", "value": "77"}]
    shop = simple_shop(order, searches={'"77"': [order]})
    await live(shop).lookup("77")
    assert [s.variables.get("query") for s in shop.sent] == ['name:"77"', '"77"', None]


async def test_without_a_marketplace_link_an_unrecognised_ref_is_searched_as_a_name():
    shop = simple_shop()
    await live(shop, link="").lookup("EU-1042")
    assert [s.variables["query"] for s in shop.sent] == ['name:"EU-1042"']


# --- paging --------------------------------------------------------------------------------------


def paged_shop(slug: str) -> tuple[FakeShop, dict]:
    """The sample order served with its line items, events and fulfillment line items each split over pages."""
    full = order_of(slug)
    first = copy.deepcopy(full)
    lines, events = full["lineItems"]["nodes"], full["events"]["nodes"]
    assert len(lines) >= 2 and len(events) >= 2 and full["fulfillments"]
    first["lineItems"] = {"pageInfo": {"hasNextPage": True, "endCursor": "L1"}, "nodes": lines[:1]}
    first["events"] = {"pageInfo": {"hasNextPage": True, "endCursor": "E1"}, "nodes": events[:1]}
    fulfillment = first["fulfillments"][0]
    items = full["fulfillments"][0]["fulfillmentLineItems"]["nodes"]
    assert len(items) >= 2
    fulfillment["fulfillmentLineItems"] = {"pageInfo": {"hasNextPage": True, "endCursor": "F1"}, "nodes": items[:1]}

    def script(name: str, variables: dict) -> dict:
        if name == "ORDER_BY_ID":
            return answer({"order": first})
        if name == "ORDER_LINE_ITEMS_PAGE":
            rest = lines[1:]
            if variables["after"] == "L1":
                return answer({"order": {"id": full["id"], "lineItems": {
                    "pageInfo": {"hasNextPage": len(rest) > 1, "endCursor": "L2"}, "nodes": rest[:1]}}})
            return answer({"order": {"id": full["id"], "lineItems": {
                "pageInfo": {"hasNextPage": False, "endCursor": "L3"}, "nodes": rest[1:]}}})
        if name == "ORDER_EVENTS_PAGE":
            assert variables["after"] == "E1"
            return answer({"order": {"id": full["id"], "events": {
                "pageInfo": {"hasNextPage": False, "endCursor": "E2"}, "nodes": events[1:]}}})
        if name == "FULFILLMENT_LINE_ITEMS_PAGE":
            assert variables == {"id": fulfillment["id"], "after": "F1"}
            return answer({"fulfillment": {"id": fulfillment["id"], "order": {"id": full["id"]}, "fulfillmentLineItems": {
                "pageInfo": {"hasNextPage": False, "endCursor": "F2"}, "nodes": items[1:]}}})
        raise AssertionError(name)

    return FakeShop(script), full


async def test_every_connection_is_followed_to_its_last_page_and_the_pages_merge_back_into_the_order():
    shop, full = paged_shop("02-healthy-order")
    payloads = await live(shop).lookup(full["id"])
    assert shop.names() == ["ORDER_BY_ID", "ORDER_LINE_ITEMS_PAGE", "ORDER_EVENTS_PAGE", "FULFILLMENT_LINE_ITEMS_PAGE"]
    assert [s.variables for s in shop.sent[1:]] == [
        {"id": full["id"], "after": "L1"}, {"id": full["id"], "after": "E1"},
        {"id": full["fulfillments"][0]["id"], "after": "F1"}]
    assert [p.endpoint.removeprefix(f"POST {PATH} ") for p in payloads] == [
        f"order(id: {full['id']})",
        f'order(id: {full["id"]}).lineItems(first: {queries.LINE_ITEMS_PAGE}, after: "L1")',
        f'order(id: {full["id"]}).events(first: {queries.EVENTS_PAGE}, after: "E1")',
        f'fulfillment(id: {full["fulfillments"][0]["id"]}).fulfillmentLineItems'
        f'(first: {queries.FULFILLMENT_LINE_ITEMS_PAGE_SIZE}, after: "F1")',
    ]
    assert len({p.id for p in payloads}) == len(payloads)
    result = normalised(payloads)
    assert projection(result.records) == projection(sample_records("02-healthy-order"))
    from adapters.base import make_payload
    sample = normalised([make_payload("shop", "sample", datetime(2026, 3, 5, tzinfo=timezone.utc),
                                      json.dumps(_sample("02-healthy-order")))])
    assert sorted((e.kind, e.at.raw) for e in result.events) == sorted((e.kind, e.at.raw) for e in sample.events)


async def test_a_line_items_connection_of_three_pages_is_read_to_the_end():
    full = order_of("02-healthy-order")
    extra = copy.deepcopy(full["lineItems"]["nodes"][1])
    extra.update(id="gid://shopify/LineItem/9", sku="EXTRA-1", quantity=3, currentQuantity=3, unfulfilledQuantity=3)
    full["lineItems"]["nodes"].append(extra)
    lines = full["lineItems"]["nodes"]
    first = copy.deepcopy(full)
    first["lineItems"] = {"pageInfo": {"hasNextPage": True, "endCursor": "L1"}, "nodes": lines[:1]}
    pages = {"L1": (lines[1:2], "L2", True), "L2": (lines[2:], "L3", False)}

    def script(name, variables):
        if name == "ORDER_BY_ID":
            return answer({"order": first})
        nodes, cursor, more = pages[variables["after"]]
        return answer({"order": {"id": full["id"], "lineItems": {
            "pageInfo": {"hasNextPage": more, "endCursor": cursor}, "nodes": nodes}}})

    shop = FakeShop(script)
    payloads = await live(shop).lookup(full["id"])
    assert [s.variables.get("after") for s in shop.sent] == [None, "L1", "L2"]
    (record,) = normalised(payloads).records
    assert {line.sku: line.ordered for line in record.lines} == {"TEE-RED-M": 1, "CAP-NVY": 1, "EXTRA-1": 3}


async def test_a_search_is_followed_over_its_pages():
    order, other = order_of("02-healthy-order"), order_of("03-late-sync")
    for o in (order, other):
        o["customAttributes"] = [{"key": "Amazon Order ID", "value": "AB-1"}]

    def script(name, variables):
        if name == "ORDERS_SEARCH":
            if variables.get("after") is None:
                return answer(listing(order, next_cursor="S1"))
            assert variables["after"] == "S1"
            return answer(listing(other))
        return answer({"order": {o["id"]: o for o in (order, other)}[variables["id"]]})

    shop = FakeShop(script)
    payloads = await live(shop).lookup("AB-1")
    assert shop.names() == ["ORDERS_SEARCH", "ORDERS_SEARCH", "ORDER_BY_ID", "ORDER_BY_ID"]
    assert payloads[1].endpoint.endswith(f'first: {queries.SEARCH_PAGE}, after: "S1")')
    assert sorted(r.ref for r in normalised(payloads).records) == ["#1043", "#1044"]


async def test_a_cursor_that_does_not_advance_is_an_error_not_a_loop():
    full = order_of("02-healthy-order")
    full["events"]["pageInfo"] = {"hasNextPage": True, "endCursor": "E1"}

    def script(name, variables):
        if name == "ORDER_BY_ID":
            return answer({"order": full})
        return answer({"order": {"id": full["id"], "events": {"pageInfo": {"hasNextPage": True, "endCursor": "E1"},
                                                               "nodes": []}}})

    with pytest.raises(FetchError, match="hasNextPage without a new endCursor"):
        await live(FakeShop(script)).lookup(full["id"])


async def test_an_order_deleted_between_pages_ends_the_paging():
    full = order_of("02-healthy-order")
    full["events"]["pageInfo"] = {"hasNextPage": True, "endCursor": "E1"}
    shop = FakeShop(lambda name, v: answer({"order": full if name == "ORDER_BY_ID" else None}))
    payloads = await live(shop).lookup(full["id"])
    assert shop.names() == ["ORDER_BY_ID", "ORDER_EVENTS_PAGE"] and len(payloads) == 2
    assert [r.ref for r in normalised(payloads).records] == ["#1043"]


@pytest.mark.parametrize("with_ids", [True, False])
def test_two_fetches_of_the_same_order_do_not_count_a_fulfillment_twice(with_ids):
    from adapters.base import make_payload
    body = copy.deepcopy(_sample("02-healthy-order"))
    if not with_ids:
        for item in body["data"]["order"]["fulfillments"][0]["fulfillmentLineItems"]["nodes"]:
            item["id"] = None
    payloads = [make_payload("shop", "x", datetime(2026, 3, day, tzinfo=timezone.utc), json.dumps(body)) for day in (5, 6)]
    (record,) = normalised(payloads).records
    assert {line.sku: line.shipped for line in record.lines} == {"TEE-RED-M": 1, "CAP-NVY": 1}


def test_fulfillment_pages_of_an_order_never_read_say_nothing():
    from adapters.base import make_payload
    body = {"data": {"fulfillment": {"id": "gid://shopify/Fulfillment/1", "order": {"id": "gid://shopify/Order/1"},
                                     "fulfillmentLineItems": {"nodes": []}}}}
    assert PLATFORM.recognise(body) == "fulfillment line items page"
    result = normalised([make_payload("shop", "x", datetime(2026, 1, 1, tzinfo=timezone.utc), json.dumps(body))])
    assert result.records == [] and result.events == []


# --- window ------------------------------------------------------------------------------------------


def window_shop(pages: dict[str | None, tuple[list[str], str | None]], scopes: list[str] | None = None) -> FakeShop:
    def script(name, variables):
        if name == "APP_ACCESS_SCOPES":
            if scopes is None:
                return answer(None, errors=[{"message": "Cannot query field 'currentAppInstallation'"}])
            return answer({"currentAppInstallation": {"accessScopes": [{"handle": s} for s in scopes]}})
        assert name == "ORDERS_WINDOW"
        names, cursor = pages[variables.get("after")]
        nodes = [{"id": f"gid://shopify/Order/{n[1:]}", "name": n, "updatedAt": "2026-03-01T00:00:00Z"} for n in names]
        return answer({"orders": {"pageInfo": {"hasNextPage": cursor is not None, "endCursor": cursor},
                                  "nodes": nodes}}, requested=52)

    return FakeShop(script)


async def collect(adapter, since, until, cursor=None) -> list[WindowPage]:
    return [page async for page in adapter.window(since, until, cursor)]


def recent(days: float = 1) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def gids(*names: str) -> list[str]:
    return [f"gid://shopify/Order/{n[1:]}" for n in names]


async def test_a_window_lists_order_ids_by_updated_at_page_by_page():
    shop = window_shop({None: (["#1", "#2"], "C1"), "C1": (["#3"], None)})
    since = datetime(2026, 11, 1, 8, 30, 15, 250000, tzinfo=timezone.utc)
    until = datetime(2026, 11, 2, 10, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    adapter = live(shop)
    adapter.now = lambda: datetime(2026, 11, 20, tzinfo=timezone.utc)
    pages = await collect(adapter, since, until)
    assert pages == [WindowPage(gids("#1", "#2"), "C1"), WindowPage(gids("#3"), None)]
    query = 'updated_at:>="2026-11-01T08:30:15Z" updated_at:<"2026-11-02T08:00:01Z"'
    assert [s.variables for s in shop.sent] == [
        {"query": query, "first": queries.WINDOW_PAGE},
        {"query": query, "first": queries.WINDOW_PAGE, "after": "C1"}]
    assert shop.names() == ["ORDERS_WINDOW", "ORDERS_WINDOW"]  # a recent window asks no scopes


async def test_a_window_resumes_after_its_cursor_with_the_same_query():
    shop = window_shop({None: (["#1"], "C1"), "C1": (["#2"], "C2"), "C2": (["#3"], None)})
    since, until = recent(2), recent(1)
    first = await collect(live(shop), since, until)
    resumed_shop = window_shop({None: (["#1"], "C1"), "C1": (["#2"], "C2"), "C2": (["#3"], None)})
    resumed = await collect(live(resumed_shop), since, until, cursor="C1")
    assert resumed == first[1:]
    assert resumed_shop.sent[0].variables == {**shop.sent[1].variables}


async def test_an_open_window_has_no_upper_bound():
    shop = window_shop({None: ([], None)})
    pages = await collect(live(shop), datetime(2026, 11, 27, tzinfo=timezone.utc).replace(tzinfo=None), None)
    assert pages == [WindowPage([], None)]
    assert shop.sent[0].variables["query"] == 'updated_at:>="2026-11-27T00:00:00Z"'


async def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(FetchError, match="ends .* before it starts"):
        await collect(live(window_shop({})), recent(1), recent(2))


async def test_an_old_window_without_read_all_orders_is_refused_with_the_reason():
    shop = window_shop({None: (["#1"], None)}, scopes=["read_orders"])
    with pytest.raises(FetchError) as raised:
        await collect(live(shop), recent(90), recent(80))
    assert "read_all_orders" in str(raised.value) and "60 days" in str(raised.value)
    assert shop.names() == ["APP_ACCESS_SCOPES"]


@pytest.mark.parametrize("scopes", [["read_orders", "read_all_orders"], None], ids=["granted", "unknown"])
async def test_an_old_window_goes_ahead_when_the_scope_is_there_or_cannot_be_told(scopes):
    shop = window_shop({None: (["#1"], None)}, scopes=scopes)
    adapter = live(shop)
    assert await collect(adapter, recent(90), recent(80)) == [WindowPage(gids("#1"), None)]
    assert await collect(adapter, recent(90), recent(80)) == [WindowPage(gids("#1"), None)]
    assert shop.names() == ["APP_ACCESS_SCOPES", "ORDERS_WINDOW", "ORDERS_WINDOW"]  # scopes asked once


# --- pacing and throttling ---------------------------------------------------------------------------


def spy_costs(adapter: ShopifyLiveAdapter) -> list[float]:
    spent: list[float] = []
    slot = adapter.pacer.slot

    def recording(cost: float = 1):
        spent.append(cost)
        return slot(cost)

    adapter.pacer.slot = recording  # type: ignore[method-assign]
    return spent


def test_costs_are_estimated_from_the_page_sizes():
    assert estimate_cost(queries.ORDER_BY_ID) == pytest.approx(763, abs=1)  # the sample's requestedQueryCost is 761
    assert estimate_cost(queries.ORDERS_SEARCH) == 2 + queries.SEARCH_PAGE * 4
    assert estimate_cost(queries.ORDERS_SEARCH, {"first": 50}) == 2 + 50 * 4
    assert estimate_cost(queries.ORDERS_WINDOW) == 2 + queries.WINDOW_PAGE
    assert estimate_cost(queries.ORDER_EVENTS_PAGE) == 1 + 2 + queries.EVENTS_PAGE
    assert estimate_cost(queries.FULFILLMENT_LINE_ITEMS_PAGE) == 1 + 1 + 2 + 2 * queries.FULFILLMENT_LINE_ITEMS_PAGE_SIZE
    for name, document in queries.ALL_QUERIES.items():
        assert 1 <= estimate_cost(document) <= 1000, name  # under Shopify's single-query cap


async def test_the_pacer_spends_the_estimate_then_the_learned_requested_cost_and_follows_throttle_status():
    order = order_of("02-healthy-order")
    shop = FakeShop(lambda name, v: answer({"order": order}, requested=700, available=1500, maximum=2000, restore=100))
    adapter = live(shop)
    spent = spy_costs(adapter)
    await adapter.lookup(order["id"])
    await adapter.lookup(order["id"])
    assert spent == [estimate_cost(queries.ORDER_BY_ID), 700]
    assert (adapter.pacer.maximum, adapter.pacer.restore_rate) == (2000, 100)
    assert adapter.pacer.available <= 1500


async def test_the_pacer_starts_time_scaled():
    settings = LiveSettings("shop", "https://x.myshopify.com", CONTEXT, secrets={"access_token": SecretStr(TOKEN)},
                            time_scale=20)
    adapter = LIVE.connect(settings)
    assert adapter.pacer.restore_rate == 50 * 20
    await adapter.aclose()


class BucketShop:
    """A shop that enforces its cost bucket strictly, as Shopify does, and counts what it throttled."""

    def __init__(self, order: dict, maximum: float, restore: float, requested: float, actual: float) -> None:
        self.order, self.maximum, self.restore = order, maximum, restore
        self.requested, self.actual = requested, actual
        self.available, self.stamp = maximum, asyncio.get_running_loop().time()
        self.throttled = self.served = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        now = asyncio.get_running_loop().time()
        self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore)
        self.stamp = now
        status = {"maximumAvailable": self.maximum, "restoreRate": self.restore}
        if self.available < self.requested:
            self.throttled += 1
            return httpx.Response(200, json={"errors": [THROTTLED], "extensions": {"cost": {
                "requestedQueryCost": self.requested, "actualQueryCost": None,
                "throttleStatus": {**status, "currentlyAvailable": self.available}}}})
        self.available -= self.actual
        self.served += 1
        return httpx.Response(200, json={"data": {"order": self.order}, "extensions": {"cost": {
            "requestedQueryCost": self.requested, "actualQueryCost": self.actual,
            "throttleStatus": {**status, "currentlyAvailable": self.available}}}})


async def test_paced_from_throttle_status_a_strict_bucket_never_throttles_sequential_reads():
    order = order_of("02-healthy-order")
    shop = BucketShop(order, maximum=1000, restore=20_000, requested=763, actual=763)
    adapter = live(shop)
    started = asyncio.get_running_loop().time()
    for _ in range(8):
        await adapter.lookup(order["id"])
    elapsed = asyncio.get_running_loop().time() - started
    assert (shop.served, shop.throttled) == (8, 0)
    # 8 x 763 points from a full bucket of 1000 restoring 20 000/s: at least ~0.26 s, and never faster.
    assert elapsed >= (8 * 763 - 1000) / 20_000 * 0.9


async def test_concurrent_lookups_share_the_bucket_and_all_succeed():
    order = order_of("02-healthy-order")
    shop = BucketShop(order, maximum=1000, restore=20_000, requested=400, actual=400)
    adapter = live(shop, policy=RetryPolicy(attempts=8, initial_wait=0.001, max_wait=0.01, jitter=0.0))
    results = await asyncio.gather(*(adapter.lookup(order["id"]) for _ in range(10)))
    assert all(len(r) == 1 for r in results) and shop.served == 10


@pytest.mark.parametrize("status", [200, 429])
async def test_throttled_with_200_or_429_is_retried_after_the_bucket_refills(status):
    order = order_of("02-healthy-order")
    bodies = [(status, answer(None, errors=[THROTTLED], requested=763, available=263, restore=2000)),
              answer({"order": order}, requested=763)]
    shop = FakeShop(lambda name, v: bodies.pop(0))
    adapter = live(shop)
    started = asyncio.get_running_loop().time()
    payloads = await adapter.lookup(order["id"])
    waited = asyncio.get_running_loop().time() - started
    assert shop.names() == ["ORDER_BY_ID", "ORDER_BY_ID"]
    assert len(payloads) == 1 and json.loads(payloads[0].body)["data"]["order"]["id"] == order["id"]
    assert waited >= (763 - 263) / 2000 * 0.9  # 0.25 s: (requested - available) / restoreRate


def test_the_throttle_wait_is_read_from_throttle_status():
    adapter = live(FakeShop(lambda *a: None))
    body = answer(None, errors=[THROTTLED], requested=500, available=100, restore=50)
    with pytest.raises(RetryableError) as raised:
        adapter._throttled(httpx.Response(200), body)
    assert raised.value.retry_after == pytest.approx(8.0)
    with pytest.raises(RetryableError) as raised:
        adapter._throttled(httpx.Response(429), {"errors": [THROTTLED]})
    assert raised.value.retry_after is None  # no throttleStatus: SystemClient's backoff decides
    assert adapter._throttled(httpx.Response(200), answer({"order": None})) is None


async def test_throttled_past_every_attempt_gives_up_with_a_clear_error():
    shop = FakeShop(lambda name, v: answer(None, errors=[THROTTLED], requested=10, available=0, restore=10_000))
    with pytest.raises(FetchError, match="THROTTLED") as raised:
        await live(shop).lookup("gid://shopify/Order/1")
    assert len(shop.sent) == FAST.attempts
    assert TOKEN not in str(raised.value)


async def test_max_cost_exceeded_is_not_retried_and_says_what_to_change():
    shop = FakeShop(lambda name, v: answer(None, errors=[{
        "message": "Query cost is 1210, which exceeds the single query max cost limit (1000).",
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1210, "maxCost": 1000}}]))
    with pytest.raises(FetchError, match="MAX_COST_EXCEEDED.*queries.py"):
        await live(shop).lookup("gid://shopify/Order/1")
    assert len(shop.sent) == 1


async def test_access_denied_names_the_scope():
    shop = FakeShop(lambda name, v: answer({"order": None}, errors=[{
        "message": "Access denied for order field.", "extensions": {"code": "ACCESS_DENIED"}}]))
    with pytest.raises(FetchError, match="ACCESS_DENIED.*read_orders"):
        await live(shop).lookup("gid://shopify/Order/1")


async def test_a_field_error_beside_a_returned_order_keeps_the_order():
    order = order_of("02-healthy-order")
    shop = FakeShop(lambda name, v: answer({"order": order}, errors=[{
        "message": "Access denied for transactions field.", "extensions": {"code": "ACCESS_DENIED"}}]))
    payloads = await live(shop).lookup(order["id"])
    assert [r.ref for r in normalised(payloads).records] == ["#1043"]


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.Response(500, text="oops"),
        lambda: httpx.Response(503, headers={"Retry-After": "0.01"}),
        lambda: httpx.Response(429, headers={"Retry-After": "0.01"}, json={"errors": "Exceeded 2 calls per second"}),
        lambda: httpx.Response(200, text='{"data": {"order": {"id": "gid://sh', headers={"content-type": "application/json"}),
        lambda: httpx.Response(200, json={"errors": [{"message": "Internal error. Looks like something went wrong on "
                                                      "our end.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}),
    ],
    ids=["500", "503", "429", "truncated", "internal-error-200"],
)
async def test_transient_failures_are_retried(failure):
    order = order_of("02-healthy-order")
    replies = [failure(), httpx.Response(200, json=answer({"order": order}))]
    shop = FakeShop(lambda name, v: replies.pop(0))
    payloads = await live(shop).lookup(order["id"])
    assert len(shop.sent) == 2 and len(payloads) == 1


async def test_a_timeout_is_retried():
    order = order_of("02-healthy-order")
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json=answer({"order": order}))

    assert len(await live(handler).lookup(order["id"])) == 1 and len(calls) == 2


# --- auth, configuration and secrets ------------------------------------------------------------------


async def test_a_refused_token_is_one_clear_line_without_the_token():
    shop = FakeShop(lambda name, v: (401, {"errors": "[API] Invalid API key or access token (unrecognized login or "
                                                     "wrong password)"}))
    with pytest.raises(FetchError) as raised:
        await live(shop).lookup("#1001")
    message = str(raised.value)
    assert message.startswith("shop: ") and "HTTP 401" in message and "access_token" in message
    assert TOKEN not in message and len(shop.sent) == 1


async def test_an_unreachable_shop_is_a_fetch_error():
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchError, match="cannot connect"):
        await live(handler).lookup("#1001")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (dict(token=None), r"access_token secret is empty; \[systems.shop\] has no access_token: add access_token = "
                           r"\"env:VARIABLE\""),
        (dict(token=""), "access_token secret is empty"),
        (dict(token="shpat_abc\nX-Evil: 1"), "characters a header cannot carry"),
        (dict(token="shpat_é"), "characters a header cannot carry"),
        (dict(options={"api_version": "2025-10/../../x"}), "api_version"),
        (dict(base_url=""), "base_url"),
        (dict(base_url="ftp://shop.example"), "base_url"),
        (dict(link="metafield:amazon"), "marketplace_link"),
    ],
)
async def test_a_misconfigured_system_fails_before_any_request_with_what_to_check(change, expected):
    shop = FakeShop(lambda *a: pytest.fail("no request may be sent"))
    adapter = live(shop, **change)
    with pytest.raises(FetchError, match=expected) as raised:
        await adapter.lookup("#1001")
    with pytest.raises(FetchError, match=expected):
        await collect(adapter, recent(2), None)
    assert raised.value.system == "shop" and not shop.sent
    for secret in (TOKEN, "shpat_abc", "X-Evil", "shpat_é"):
        assert secret not in str(raised.value)
    await adapter.aclose()


async def test_a_missing_token_names_the_variable_to_export():
    settings = LiveSettings("shop", "https://x.myshopify.com", CONTEXT, secrets={"access_token": SecretStr("")},
                            secret_env={"access_token": "SHOP_TOKEN"})
    with pytest.raises(FetchError, match=r"access_token reads \$SHOP_TOKEN, which is not set: export it"):
        await LIVE.connect(settings).lookup("#1001")
    bad = dataclasses.replace(settings, secrets={"access_token": SecretStr("shpat_x y")})
    with pytest.raises(FetchError, match=r"check \$SHOP_TOKEN") as raised:
        await LIVE.connect(bad).lookup("#1001")
    assert "shpat_x" not in str(raised.value)


async def test_the_configured_timeout_reaches_the_client():
    settings = LiveSettings("shop", "https://x.myshopify.com", CONTEXT, secrets={"access_token": SecretStr(TOKEN)},
                            timeout=httpx.Timeout(3.0, connect=1.0))
    adapter = LIVE.connect(settings)
    assert adapter._client.client.timeout == httpx.Timeout(3.0, connect=1.0)
    await adapter.aclose()


async def test_the_token_never_reaches_payloads_endpoints_or_reprs():
    shop, full = paged_shop("02-healthy-order")
    adapter = live(shop)
    payloads = await adapter.lookup(full["id"])
    for payload in payloads:
        assert TOKEN not in payload.endpoint and TOKEN not in payload.body and TOKEN not in repr(payload)
    assert TOKEN not in repr(adapter.__dict__) and TOKEN not in repr(adapter._client.auth)


# --- hostile refs ---------------------------------------------------------------------------------------


def search_terms(query: str) -> list[str]:
    """A Shopify search string's terms, read per the search grammar: quoted values with backslash escapes."""
    terms: list[str] = []
    i = 0
    while i < len(query):
        if query[i].isspace():
            i += 1
            continue
        term: list[str] = []
        while i < len(query) and not query[i].isspace():
            if query[i] == '"':
                i += 1
                while query[i] != '"':  # an unterminated quote raises IndexError: the test fails
                    if query[i] == "\\":
                        i += 1
                    term.append(query[i])
                    i += 1
                i += 1
            elif query[i] in "\\()'":
                raise AssertionError(f"special character {query[i]!r} outside quotes in {query!r}")
            else:
                term.append(query[i])
                i += 1
        terms.append("".join(term))
    return terms


HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE orders; --',
    '#1042" OR name:"#1',
    '1042" OR tag:"x',
    'x\\" OR 1=1 \\',
    "\\",
    '"',
    "../../admin/api/unstable/graphql.json",
    "gid://shopify/Order/1 OR 1=1",
    "gid://shopify/Customer/5",
    "gid://shopify/Order/../Shop/1",
    "name:#1001",
    "(tag:x) OR (status:any)",
    "-name:#1001",
    "*",
    "Ｏｒｄｅｒ №５ — ünïcødé 🧾",
    "{{query}} $id ... on Order { id }",
    "mutation { orderCancel(orderId: 1) }",
    "#" + "9" * 300,
]


@pytest.mark.parametrize("ref", HOSTILE)
@pytest.mark.parametrize("link", ["custom_attribute:Amazon Order ID", "tag:amz-, source_identifier, name"])
async def test_hostile_refs_travel_only_as_quoted_escaped_values(ref, link):
    shop = simple_shop()
    adapter = live(shop, link=link)
    if len(ref) > 255:
        with pytest.raises(FetchError, match="not an order ref"):
            await adapter.lookup(ref)
        assert not shop.sent
        return
    payloads = await adapter.lookup(ref)
    assert payloads and all(p.endpoint.count("\n") == 0 for p in payloads)
    assert normalised(payloads).records == []
    for sent in shop.sent:
        body = json.loads(sent.request.content)
        assert body["query"] in queries.ALL_QUERIES.values()  # the document is never built from the ref
        if sent.name == "ORDERS_SEARCH":
            (term,) = search_terms(sent.variables["query"])  # one term: the ref cannot add connectives
            assert term in (ref, f"name:{ref}", f"tag:amz-{ref}", f"source_identifier:{ref}"), term
        else:
            assert re.fullmatch(r"gid://shopify/Order/[1-9][0-9]*", sent.variables["id"])


@pytest.mark.parametrize("ref", ["", "   ", "#1042\nX-Shopify-Access-Token: stolen", "a\rb", "a\x00b", "a\tb\x1b[2J"])
async def test_empty_refs_and_refs_with_control_characters_are_refused_without_a_request(ref):
    shop = simple_shop()
    with pytest.raises(FetchError) as raised:
        await live(shop).lookup(ref)
    assert not shop.sent and "\n" not in str(raised.value) and "\x1b" not in str(raised.value)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
def test_a_search_value_always_reads_back_as_exactly_the_text(text):
    assert search_terms(search_value(text)) == [text]
    assert search_terms(f"name:{search_value(text)}") == [f"name:{text}"]


# --- read-only, and every document against the vendor schema --------------------------------------------


def test_every_document_the_adapter_sends_is_a_declared_query_that_validates_against_the_schema():
    graphql = pytest.importorskip("graphql", reason="graphql-core validates the queries against the schema")
    if not SCHEMA.exists():
        pytest.skip("shared/api-specs/shopify/admin-2022-07.graphql is not beside the repo")
    schema = graphql.build_schema(SCHEMA.read_text(), assume_valid=True)
    newer = {f"Cannot query field '{field}' on type '{type_}'." for type_, field in queries.FIELDS_NEWER_THAN_SCHEMA}
    for name in ("ORDERS_WINDOW", "FULFILLMENT_LINE_ITEMS_PAGE", "APP_ACCESS_SCOPES", "ORDER_BY_ID", "ORDERS_SEARCH",
                 "ORDER_EVENTS_PAGE", "ORDER_LINE_ITEMS_PAGE"):
        document = graphql.parse(queries.ALL_QUERIES[name])
        assert all(d.operation.value == "query" for d in document.definitions
                   if isinstance(d, graphql.OperationDefinitionNode)), name
        assert {e.message for e in graphql.validate(schema, document)} <= newer, name


# --- end to end against the sandbox ----------------------------------------------------------------------

def _sandbox():
    server = pytest.importorskip("sandbox.server", reason="the sandbox package is not there yet")
    core = pytest.importorskip("sandbox.core")
    data = pytest.importorskip("sandbox.data")
    return server, core, data


SANDBOX_TOKEN = "shpat_sandbox"
E2E_POLICY = RetryPolicy(attempts=10, initial_wait=0.005, max_wait=0.05, give_up_after=60, jitter=0.0,
                         retry_after_cap=0.5)


@functools.cache
def _samples():
    _, _, data = _sandbox()
    return data.Dataset.from_samples()


def sandbox_settings(url: str, *, token: str = SANDBOX_TOKEN, time_scale: float = 100) -> LiveSettings:
    return LiveSettings("shop", url, CONTEXT, secrets={"access_token": SecretStr(token)}, policy=E2E_POLICY,
                        time_scale=time_scale)


SLUGS = sorted(p.name for p in SCENARIOS.iterdir() if (p / "shopify" / "order.json").exists())


def refs_of(slug: str) -> list[str]:
    order = _sample(slug)["data"]["order"]
    refs = [order["name"], order["id"], str(order["legacyResourceId"]), order["name"].lstrip("#")]
    refs += [a["value"] for a in order["customAttributes"] if a["key"] == "Amazon Order ID"]
    return refs


async def test_e2e_every_sample_order_by_every_ref_reads_as_its_sample_file():
    server, core, _ = _sandbox()
    async with server.Sandbox(_samples(), core.EmulatorSettings(time_scale=100), platforms=["shopify"]) as box:
        adapter = LIVE.connect(sandbox_settings(box.urls.shopify))
        try:
            for slug in SLUGS:
                expected = projection(sample_records(slug))
                for ref in refs_of(slug):
                    payloads = await adapter.lookup(ref)
                    assert projection(normalised(payloads).records) == expected, (slug, ref)
        finally:
            await adapter.aclose()
        logged = box.log.entries("shopify")
    assert logged and all(e.method == "POST" and re.fullmatch(r"/admin/api/[0-9-]+/graphql\.json", e.path)
                          for e in logged)
    for entry in logged:  # read-only: nothing but the declared queries ever went out
        body = entry.body if isinstance(entry.body, (dict, str)) else str(entry.body)
        document = json.loads(body)["query"] if isinstance(body, str) else body["query"]
        assert document in queries.ALL_QUERIES.values()
        assert "mutation" not in document
        assert SANDBOX_TOKEN not in json.dumps(entry.headers)


async def test_e2e_absent_refs_come_back_as_proof_of_absence():
    server, core, _ = _sandbox()
    async with server.Sandbox(_samples(), core.EmulatorSettings(time_scale=100), platforms=["shopify"]) as box:
        adapter = LIVE.connect(sandbox_settings(box.urls.shopify))
        for ref in ["#99999", "999-0000000-0000000", "gid://shopify/Order/1", *HOSTILE[:8]]:
            payloads = await adapter.lookup(ref)
            assert payloads and normalised(payloads).records == [], ref
        await adapter.aclose()


async def test_e2e_a_window_pages_over_generated_orders_and_resumes_from_a_cursor():
    server, core, data = _sandbox()
    dataset = data.Dataset.generate(4, seed=3, window_days=20, anchor=datetime.now(timezone.utc))
    orders = {body["data"]["order"]["id"]: body["data"]["order"]["name"] for path, body in dataset.files_for("shopify")
              if isinstance(body, dict) and isinstance(body.get("data"), dict) and body["data"].get("order")}
    assert len(orders) > queries.WINDOW_PAGE  # so that the window spans pages
    async with server.Sandbox(dataset, core.EmulatorSettings(time_scale=100), platforms=["shopify"]) as box:
        adapter = LIVE.connect(sandbox_settings(box.urls.shopify))
        since = datetime.now(timezone.utc) - timedelta(days=45)
        pages = await collect(adapter, since, None)
        assert len(pages) >= 2 and pages[-1].cursor is None
        listed = [ref for page in pages for ref in page.refs]
        assert sorted(listed) == sorted(orders)
        resumed = await collect(adapter, since, None, cursor=pages[0].cursor)
        assert [ref for page in resumed for ref in page.refs] == listed[len(pages[0].refs):]
        some = listed[-1]
        assert [r.ref for r in normalised(await adapter.lookup(some)).records] == [orders[some]]
        await adapter.aclose()


FAULT_KINDS = ["RATE_LIMITED", "THROTTLED", "SERVER_ERROR", "UNAVAILABLE", "DROPPED", "TRUNCATED", "TIMEOUT"]


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_e2e_each_fault_is_recovered_with_the_same_result(kind):
    server, core, _ = _sandbox()
    fault = core.Fault[kind]
    emulator = core.EmulatorSettings(time_scale=100, fault_rate=0.4, faults=(fault,), seed=11, retry_after=0.01,
                                     timeout_delay=0.3)
    slugs = ["02-healthy-order", "10-quantity-mismatch", "13-status-regression"]
    async with server.Sandbox(_samples(), emulator, platforms=["shopify"]) as box:
        settings = sandbox_settings(box.urls.shopify)
        if kind == "TIMEOUT":  # the sandbox holds the answer 0.3 s: stop waiting sooner and retry
            settings = dataclasses.replace(settings, timeout=httpx.Timeout(0.15))
        adapter = LIVE.connect(settings)
        for slug in slugs:
            for ref in refs_of(slug)[:1] + refs_of(slug)[-1:]:
                payloads = await adapter.lookup(ref)
                assert projection(normalised(payloads).records) == projection(sample_records(slug)), (kind, ref)
        await adapter.aclose()
        faults = [e.fault for e in box.log.entries("shopify") if e.fault]
    assert faults and {str(getattr(f, "value", f)) for f in faults} == {fault.value}


async def test_e2e_a_wrong_token_is_refused_in_one_line_without_the_token():
    server, core, _ = _sandbox()
    async with server.Sandbox(_samples(), core.EmulatorSettings(time_scale=100), platforms=["shopify"]) as box:
        adapter = LIVE.connect(sandbox_settings(box.urls.shopify, token="shpat_wrong_SECRET"))
        with pytest.raises(FetchError) as raised:
            await adapter.lookup("#1042")
        await adapter.aclose()
    assert "shpat_wrong_SECRET" not in str(raised.value) and "access_token" in str(raised.value)


async def test_e2e_sequential_reads_paced_by_throttle_status_are_never_throttled():
    server, core, _ = _sandbox()
    emulator = core.EmulatorSettings(time_scale=10)  # 1000-point bucket restoring 500 points/s
    async with server.Sandbox(_samples(), emulator, platforms=["shopify"]) as box:
        adapter = LIVE.connect(sandbox_settings(box.urls.shopify, time_scale=10))
        seen: list[str] = []
        observe = adapter.pacer.observe

        def recording(response, body):
            seen.extend(e.get("extensions", {}).get("code", "") for e in (body or {}).get("errors", []) or []
                        if isinstance(e, dict))
            observe(response, body)

        adapter.pacer.observe = recording  # type: ignore[method-assign]
        for slug in SLUGS[:8]:
            await adapter.lookup(_sample(slug)["data"]["order"]["id"])
        await adapter.aclose()
    assert "THROTTLED" not in seen
