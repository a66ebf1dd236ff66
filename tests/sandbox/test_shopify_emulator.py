"""The Shopify Admin GraphQL emulator answers real HTTP requests like Shopify does."""

from __future__ import annotations

import asyncio
import json

import pytest

from sandbox.core import EmulatorSettings
from sandbox.data import Dataset
from sandbox.server import Sandbox
from sandbox.shopify import INVALID_TOKEN

from .conftest import SHOPIFY_VERSION, shopify_query

HEADER = """
fragment Header on Order {
  id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason closedAt
  displayFinancialStatus displayFulfillmentStatus sourceName sourceIdentifier tags
  customAttributes { key value }
  totalPriceSet { shopMoney { amount currencyCode } }
}
"""
ORDER = HEADER + """
query Order($id: ID!) {
  order(id: $id) {
    ...Header
    lineItems(first: 100) { pageInfo { hasNextPage endCursor }
      nodes { id sku name quantity currentQuantity unfulfilledQuantity } }
    fulfillments(first: 10) {
      id legacyResourceId name status displayStatus createdAt updatedAt deliveredAt inTransitAt
      trackingInfo(first: 5) { company number url }
      fulfillmentLineItems(first: 20) { pageInfo { hasNextPage endCursor }
        nodes { id quantity lineItem { id sku } } }
    }
    events(first: 100, sortKey: CREATED_AT) { pageInfo { hasNextPage endCursor }
      nodes { id action createdAt message appTitle attributeToApp attributeToUser } }
    transactions(first: 25) { id kind status gateway createdAt processedAt
      amountSet { shopMoney { amount currencyCode } } }
  }
}
"""
SEARCH = HEADER + """
query Search($query: String, $first: Int = 10, $after: String) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...Header } }
  }
}
"""


def _without_cursors(value):
    if isinstance(value, dict):
        return {k: _without_cursors(v) for k, v in value.items() if k != "endCursor"}
    if isinstance(value, list):
        return [_without_cursors(v) for v in value]
    return value


async def test_every_sample_order_is_served_as_recorded(box, client, samples):
    for name, payload in samples.files_for("shopify"):
        order = payload["data"].get("order")
        if order is None:
            continue
        response = await shopify_query(client, box.urls.shopify, ORDER, {"id": order["id"]})
        assert response.status_code == 200
        body = response.json()
        assert "errors" not in body, (name, body)
        assert _without_cursors(body["data"]["order"]) == _without_cursors(order), name
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] <= 1000 and cost["actualQueryCost"] <= cost["requestedQueryCost"]
        assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


async def test_unknown_order_is_null(box, client):
    body = (await shopify_query(client, box.urls.shopify, ORDER, {"id": "gid://shopify/Order/1"})).json()
    assert body["data"] == {"order": None}


async def test_wrong_token_and_unknown_version_are_refused(box, client):
    response = await shopify_query(client, box.urls.shopify, SEARCH, token="shpat_wrong")
    assert response.status_code == 401 and response.json() == {"errors": INVALID_TOKEN}
    response = await client.post(f"{box.urls.shopify}/admin/api/not-a-version/graphql.json",
                                 json={"query": "{ orders(first: 1) { nodes { id } } }"},
                                 headers={"X-Shopify-Access-Token": "shpat_sandbox"})
    assert response.status_code == 404
    response = await client.post(f"{box.urls.shopify}/admin/api/{SHOPIFY_VERSION}/graphql.json",
                                 content=b"{not json", headers={"X-Shopify-Access-Token": "shpat_sandbox",
                                                                "Content-Type": "application/json"})
    assert response.status_code == 400


async def _walk(client, base, query_text, first):
    seen, after, pages = [], None, 0
    while True:
        body = (await shopify_query(client, base, SEARCH, {"query": query_text, "first": first, "after": after})).json()
        assert "errors" not in body, body
        connection = body["data"]["orders"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            return seen, pages
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]


async def test_paging_walks_every_order_exactly_once(client):
    dataset = Dataset.generate(3, seed=5)
    async with Sandbox(dataset, EmulatorSettings(time_scale=1000), platforms=("shopify",)) as sandbox:
        seen, pages = await _walk(client, sandbox.urls.shopify, "status:any", 7)
    expected = {p["data"]["order"]["id"] for _, p in dataset.files_for("shopify") if p["data"].get("order")}
    assert len(seen) == len(set(seen)) == len(expected) and set(seen) == expected
    assert pages == -(-len(expected) // 7)


@pytest.mark.parametrize(
    "query_text, names",
    [
        ("name:#1042", {"#1042"}),
        ("name:1042", {"#1042"}),
        ("id:5512345678902", {"#1043"}),
        ("113-2201934-5567102", {"#1043"}),  # bare term: the custom attribute / source identifier
        ("source_identifier:113-4519876-3382210", {"#1042"}),
        ("#1187", {"#1187"}),
        ("name:#1042 OR name:#1043", {"#1042", "#1043"}),
        ("name:#9999", set()),
    ],
)
async def test_search_syntax(box, client, query_text, names):
    body = (await shopify_query(client, box.urls.shopify, SEARCH, {"query": query_text, "first": 50})).json()
    assert {e["node"]["name"] for e in body["data"]["orders"]["edges"]} == names


async def test_search_by_time_tag_and_status(box, client, samples):
    orders = [p["data"]["order"] for _, p in samples.files_for("shopify") if p["data"].get("order")]

    async def names(query_text):
        body = (await shopify_query(client, box.urls.shopify, SEARCH, {"query": query_text, "first": 100})).json()
        return {e["node"]["name"] for e in body["data"]["orders"]["edges"]}

    assert await names("updated_at:>=2026-03-03T00:00:00Z") == {
        o["name"] for o in orders if o["updatedAt"] >= "2026-03-03T00:00:00Z"}
    assert await names("created_at:<2026-03-02") == {o["name"] for o in orders if o["createdAt"] < "2026-03-02"}
    assert await names("tag:amazon") == {o["name"] for o in orders if "Amazon" in o["tags"]}
    assert await names("-tag:amazon") == {o["name"] for o in orders if "Amazon" not in o["tags"]}
    assert await names("status:any") == {o["name"] for o in orders}
    assert await names("status:cancelled") == {o["name"] for o in orders if o["cancelledAt"]}


async def test_unknown_search_field_is_ignored_with_a_warning(box, client):
    body = (await shopify_query(client, box.urls.shopify, SEARCH, {"query": "colour:red name:#1042"})).json()
    assert [e["node"]["name"] for e in body["data"]["orders"]["edges"]] == ["#1042"]
    assert body["extensions"]["search"][0]["warnings"][0]["field"] == "colour"


async def test_page_size_and_cost_limits(box, client):
    body = (await shopify_query(client, box.urls.shopify, "{ orders(first: 251) { nodes { id } } }")).json()
    assert body["errors"][0]["message"] == "first cannot exceed 250"
    body = (await shopify_query(client, box.urls.shopify, "{ orders { nodes { id } } }")).json()
    assert "first or last" in body["errors"][0]["message"]
    heavy = "{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }"
    body = (await shopify_query(client, box.urls.shopify, heavy)).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 250 * (1 + 12)
    assert "data" not in body


async def test_mutations_are_refused_and_logged(box, client):
    mutation = 'mutation { orderClose(input: {id: "gid://shopify/Order/5512345678901"}) { order { id } } }'
    body = (await shopify_query(client, box.urls.shopify, mutation)).json()
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED" and "data" not in body
    entry = box.log.entries("shopify")[-1]
    assert entry.method == "POST" and "mutation" in json.loads(entry.body)["query"]


async def test_bursting_past_the_bucket_is_throttled_and_pacing_is_not(client, samples):
    # 42-point searches (10 hits, so no refund) against a 100-point bucket restoring 10 points/s.
    settings = EmulatorSettings(shopify_bucket_size=100, shopify_restore_rate=10)
    async with Sandbox(samples, settings, platforms=("shopify",)) as sandbox:
        codes = []
        for _ in range(3):
            body = (await shopify_query(client, sandbox.urls.shopify, SEARCH, {"query": "status:any"})).json()
            codes.append(body.get("errors", [{}])[0].get("extensions", {}).get("code"))
        assert codes[:2] == [None, None] and codes[2] == "THROTTLED"
        assert body["extensions"]["cost"]["actualQueryCost"] is None
        assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 100
    # Same shape, 1000x faster: a client that paces by throttleStatus is never throttled.
    async with Sandbox(samples, settings.with_(time_scale=1000), platforms=("shopify",)) as sandbox:
        for _ in range(20):
            body = (await shopify_query(client, sandbox.urls.shopify, SEARCH, {"query": "status:any"})).json()
            status = body["extensions"]["cost"]["throttleStatus"]
            assert "errors" not in body
            assert status["restoreRate"] == 10_000
            wait = max(0.0, (42 - status["currentlyAvailable"]) / status["restoreRate"])
            if wait:
                await asyncio.sleep(wait)


async def test_connections_page_inside_an_order(box, client):
    query = """query($id: ID!, $after: String) { order(id: $id) {
      events(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } } }"""
    ids, after = [], None
    while True:
        body = (await shopify_query(client, box.urls.shopify, query,
                                    {"id": "gid://shopify/Order/5512345678902", "after": after})).json()
        events = body["data"]["order"]["events"]
        ids += [n["id"] for n in events["nodes"]]
        if not events["pageInfo"]["hasNextPage"]:
            break
        after = events["pageInfo"]["endCursor"]
    assert len(ids) == len(set(ids)) == 3


async def test_typed_events_and_edges(box, client):
    query = """{ orders(first: 1, query: "name:#1042") { edges { cursor node {
      events(first: 5) { edges { node { __typename id ... on BasicEvent { action } } } } } } } }"""
    body = (await shopify_query(client, box.urls.shopify, query)).json()
    node = body["data"]["orders"]["edges"][0]["node"]
    assert {e["node"]["__typename"] for e in node["events"]["edges"]} == {"BasicEvent"}


async def test_invalid_cursor_is_an_error(box, client):
    body = (await shopify_query(client, box.urls.shopify, SEARCH, {"after": "bm90LWEtY3Vyc29y"})).json()
    assert body["errors"] and body["data"] is None


async def test_graphql_validation_errors_come_back_as_200(box, client):
    response = await shopify_query(client, box.urls.shopify, "{ order(id: 1) { nope } }")
    assert response.status_code == 200 and response.json()["errors"]
    response = await shopify_query(client, box.urls.shopify, "{ broken ")
    assert response.status_code == 200 and response.json()["errors"]

