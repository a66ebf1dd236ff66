"""The Amazon SP-API emulator: LWA, both Orders API versions, paging, limits, vendor shapes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sandbox.amazon import item_to_v0, order_from_v0, order_to_v0
from sandbox.core import EmulatorSettings
from sandbox.data import Dataset
from sandbox.server import Sandbox

from .conftest import LWA_FORM, amazon_token

SPECS = Path(__file__).resolve().parents[3] / "shared" / "api-specs" / "amazon"  # beside the repo, optional
US = "ATVPDKIKX0DER"
V2026 = "/orders/2026-01-01/orders"
V0 = "/orders/v0/orders"


@pytest.fixture
async def amazon(box, client):
    token = await amazon_token(client, box.urls.amazon)
    client.headers["x-amz-access-token"] = token
    return box.urls.amazon


def _sample_orders(samples):
    """order id -> (v2026 order or None, v0 order or None, v0 items or None)."""
    found: dict[str, list] = {}
    for _, payload in samples.files_for("amazon"):
        if "order" in payload:
            found.setdefault(payload["order"]["orderId"], [None, None, None])[0] = payload["order"]
        body = payload.get("payload") or {}
        if "OrderItems" in body:
            found.setdefault(body["AmazonOrderId"], [None, None, None])[2] = body["OrderItems"]
        elif "AmazonOrderId" in body:
            found.setdefault(body["AmazonOrderId"], [None, None, None])[1] = body
    return found


# --- LWA ------------------------------------------------------------------------------------------

async def test_lwa_issues_a_bearer_token(box, client):
    response = await client.post(f"{box.urls.amazon}/auth/o2/token", data=LWA_FORM)
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["access_token"]
    assert body["refresh_token"] == LWA_FORM["refresh_token"]


@pytest.mark.parametrize(
    "change, status, error",
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "wrong"}, 401, "invalid_client"),
        ({"refresh_token": "Atzr|wrong"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
async def test_lwa_refuses_wrong_credentials(box, client, change, status, error):
    response = await client.post(f"{box.urls.amazon}/auth/o2/token", data={**LWA_FORM, **change})
    assert response.status_code == status and response.json()["error"] == error


async def test_orders_need_a_valid_token(box, client):
    response = await client.get(f"{box.urls.amazon}{V0}/113-2201934-5567102")
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "Unauthorized"
    response = await client.get(f"{box.urls.amazon}{V0}/113-2201934-5567102", headers={"x-amz-access-token": "Atza|x"})
    assert response.status_code == 403 and response.headers["x-amzn-RequestId"]


async def test_an_expired_token_gets_the_expired_token_error(samples, client):
    async with Sandbox(samples, EmulatorSettings(amazon_token_lifetime=0), platforms=("amazon",)) as sandbox:
        token = await amazon_token(client, sandbox.urls.amazon)
        response = await client.get(f"{sandbox.urls.amazon}{V0}/113-2201934-5567102",
                                    headers={"x-amz-access-token": token})
    assert response.status_code == 403
    assert response.json()["errors"][0]["details"] == "The access token you provided has expired."


# --- getOrder -----------------------------------------------------------------------------------

async def test_every_sample_order_is_served_in_both_versions(amazon, client, samples):
    for order_id, (new, old, items) in _sample_orders(samples).items():
        included = "FULFILLMENT,PACKAGES,PROCEEDS,CANCELLATION"
        response = await client.get(f"{amazon}{V2026}/{order_id}", params={"includedData": included})
        assert response.status_code == 200, response.text
        assert response.headers["x-amzn-RateLimit-Limit"] == "500"  # 0.5/s x 1000
        served = response.json()["order"]
        if new is not None:
            assert served == new  # the sample exactly as recorded
        v0 = (await client.get(f"{amazon}{V0}/{order_id}")).json()["payload"]
        v0_items = (await client.get(f"{amazon}{V0}/{order_id}/orderItems")).json()["payload"]
        assert v0_items["AmazonOrderId"] == order_id
        if old is not None:
            assert v0 == old
            assert v0_items["OrderItems"] == items
        assert v0["AmazonOrderId"] == served["orderId"]
        assert v0["PurchaseDate"] == served["createdTime"]
        assert sum(i["QuantityOrdered"] for i in v0_items["OrderItems"]) == sum(
            i["quantityOrdered"] for i in served["orderItems"])


async def test_included_data_selects_the_optional_blocks(amazon, client):
    bare = (await client.get(f"{amazon}{V2026}/113-2201934-5567102")).json()["order"]
    assert {"fulfillment", "packages", "proceeds"}.isdisjoint(bare)
    assert all("fulfillment" not in i and "proceeds" not in i for i in bare["orderItems"])
    assert {"orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems"} <= set(bare)
    packages = (await client.get(f"{amazon}{V2026}/113-2201934-5567102",
                                 params={"includedData": "PACKAGES"})).json()["order"]
    assert packages["packages"][0]["trackingNumber"] == "1Z999AA10123456785" and "fulfillment" not in packages
    response = await client.get(f"{amazon}{V2026}/113-2201934-5567102", params={"includedData": "EVERYTHING"})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "InvalidInput"


async def test_unknown_and_malformed_ids(amazon, client):
    for path in (f"{V2026}/999-9999999-9999999", f"{V0}/999-9999999-9999999", f"{V0}/999-9999999-9999999/orderItems"):
        response = await client.get(f"{amazon}{path}")
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["code"] == "NotFound"
        assert response.headers["x-amzn-RateLimit-Limit"] and response.headers["x-amzn-RequestId"]
    response = await client.get(f"{amazon}{V0}/not-an-order")
    assert response.status_code == 400 and "x-amzn-RateLimit-Limit" in response.headers


# --- searches -----------------------------------------------------------------------------------

async def _walk(client, url, params, token_param, token_path):
    seen, pages = [], 0
    while True:
        body = (await client.get(url, params=params)).json()
        assert "errors" not in body, body
        orders = body["orders"] if "orders" in body else body["payload"]["Orders"]
        seen += [o.get("orderId") or o.get("AmazonOrderId") for o in orders]
        pages += 1
        next_token = body
        for key in token_path:
            next_token = (next_token or {}).get(key)
        if not next_token:
            return seen, pages
        params = {**params, token_param: next_token}


async def test_search_paging_walks_every_order_exactly_once(client):
    dataset = Dataset.generate(4, seed=3, window_days=20)
    expected = {p["order"]["orderId"] for _, p in dataset.files_for("amazon") if "order" in p}
    expected |= {p["payload"]["AmazonOrderId"] for _, p in dataset.files_for("amazon")
                 if "AmazonOrderId" in p.get("payload", {}) and "OrderItems" not in p["payload"]}
    async with Sandbox(dataset, EmulatorSettings(time_scale=10_000), platforms=("amazon",)) as sandbox:
        base = sandbox.urls.amazon
        client.headers["x-amz-access-token"] = await amazon_token(client, base)
        seen, pages = await _walk(client, f"{base}{V2026}", {
            "lastUpdatedAfter": "2025-01-01T00:00:00Z", "marketplaceIds": US, "maxResultsPerPage": "7",
            "includedData": "FULFILLMENT"}, "paginationToken", ("pagination", "nextToken"))
        assert len(seen) == len(set(seen)) and set(seen) == expected and pages == -(-len(expected) // 7)
        seen, _ = await _walk(client, f"{base}{V0}", {
            "CreatedAfter": "2025-01-01T00:00:00Z", "MarketplaceIds": US, "MaxResultsPerPage": "9"},
            "NextToken", ("payload", "NextToken"))
        assert len(seen) == len(set(seen)) and set(seen) == expected


async def test_search_filters_by_window_and_status(amazon, client, samples):
    orders = {k: v for k, v in _sample_orders(samples).items()}
    body = (await client.get(f"{amazon}{V2026}", params={
        "createdAfter": "2026-03-02T00:00:00Z", "createdBefore": "2026-03-02T10:00:00Z",
        "marketplaceIds": US})).json()
    expected = set()
    for order_id, (new, old, _) in orders.items():
        created = new["createdTime"] if new else old["PurchaseDate"]
        if "2026-03-02T00:00:00Z" <= created <= "2026-03-02T10:00:00Z":
            expected.add(order_id)
    assert {o["orderId"] for o in body["orders"]} == expected and body["createdBefore"] == "2026-03-02T10:00:00Z"
    shipped = (await client.get(f"{amazon}{V2026}", params={
        "createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "CANCELLED", "includedData": "FULFILLMENT"})).json()
    assert [o["fulfillment"]["fulfillmentStatus"] for o in shipped["orders"]] == ["CANCELLED"]
    v0 = (await client.get(f"{amazon}{V0}", params={
        "CreatedAfter": "2026-01-01T00:00:00Z", "MarketplaceIds": US, "OrderStatuses": "Canceled"})).json()
    assert [o["OrderStatus"] for o in v0["payload"]["Orders"]] == ["Canceled"]
    by_id = (await client.get(f"{amazon}{V0}", params={
        "MarketplaceIds": US, "CreatedAfter": "2020-01-01T00:00:00Z", "AmazonOrderIds": "113-2201934-5567102"})).json()
    assert [o["AmazonOrderId"] for o in by_id["payload"]["Orders"]] == ["113-2201934-5567102"]
    by_seller = (await client.get(f"{amazon}{V0}", params={
        "MarketplaceIds": US, "CreatedAfter": "2020-01-01T00:00:00Z", "SellerOrderId": "113-9988776-5544332"})).json()
    assert [o["AmazonOrderId"] for o in by_seller["payload"]["Orders"]] == ["113-9988776-5544332"]
    for foreign in ("#1042", "' OR 1=1 --"):
        none = (await client.get(f"{amazon}{V0}", params={
            "MarketplaceIds": US, "CreatedAfter": "2020-01-01T00:00:00Z", "SellerOrderId": foreign})).json()
        assert none["payload"]["Orders"] == []


@pytest.mark.parametrize(
    "path, params, fragment",
    [
        (V2026, {}, "Exactly one of createdAfter and lastUpdatedAfter"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "lastUpdatedAfter": "2026-03-01T00:00:00Z"}, "Exactly one"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "lastUpdatedBefore": "2026-03-05T00:00:00Z"}, "cannot be combined"),
        (V2026, {"createdAfter": "yesterday"}, "not a valid ISO 8601"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "maxResultsPerPage": "0"}, "between 1 and 100"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "maxResultsPerPage": "101"}, "between 1 and 100"),
        (V2026, {"createdAfter": "2026-03-05T00:00:00Z", "createdBefore": "2026-03-01T00:00:00Z"}, "equal to or after"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "createdBefore": "2999-01-01T00:00:00Z"}, "two minutes"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "paginationToken": "garbage"}, "Invalid paginationToken"),
        (V2026, {"createdAfter": "2026-03-01T00:00:00Z", "fulfillmentStatuses": "Shipped"}, "fulfillmentStatuses"),
        (V0, {"CreatedAfter": "2026-03-01T00:00:00Z"}, "MarketplaceIds is required"),
        (V0, {"MarketplaceIds": US}, "Exactly one of CreatedAfter and LastUpdatedAfter"),
        (V0, {"MarketplaceIds": US, "CreatedAfter": "2026-03-01T00:00:00Z", "MaxResultsPerPage": "500"}, "between 1"),
        (V0, {"MarketplaceIds": US, "CreatedAfter": "2026-03-01T00:00:00Z", "OrderStatuses": "SHIPPED"}, "OrderStatuses"),
        (V0, {"MarketplaceIds": US, "AmazonOrderIds": "113-2201934-5567102"}, "Exactly one"),
        (V0, {"MarketplaceIds": US, "CreatedAfter": "2026-03-01T00:00:00Z", "AmazonOrderIds": "x"}, "3-7-7"),
        (V0, {"MarketplaceIds": US, "CreatedAfter": "2026-03-01T00:00:00Z", "SellerOrderId": "1",
              "OrderStatuses": "Shipped"}, "SellerOrderId cannot be combined"),
    ],
)
async def test_bad_parameters_get_a_clear_400(amazon, client, path, params, fragment):
    response = await client.get(f"{amazon}{path}", params=params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput" and fragment in error["message"]
    assert response.headers["x-amzn-RateLimit-Limit"] and response.headers["x-amzn-RequestId"]


async def test_order_items_page_with_next_token(samples, client):
    async with Sandbox(samples, EmulatorSettings(time_scale=1000, amazon_order_items_page=1),
                       platforms=("amazon",)) as sandbox:
        client.headers["x-amz-access-token"] = await amazon_token(client, sandbox.urls.amazon)
        url = f"{sandbox.urls.amazon}{V0}/113-2201934-5567102/orderItems"
        first = (await client.get(url)).json()["payload"]
        second = (await client.get(url, params={"NextToken": first["NextToken"]})).json()["payload"]
        other = await client.get(f"{sandbox.urls.amazon}{V0}/113-4519876-3382210/orderItems",
                                 params={"NextToken": first["NextToken"]})
    assert len(first["OrderItems"]) == len(second["OrderItems"]) == 1 and "NextToken" not in second
    assert first["OrderItems"][0]["OrderItemId"] != second["OrderItems"][0]["OrderItemId"]
    assert other.status_code == 400


async def test_writes_are_refused(amazon, client):
    response = await client.post(f"{amazon}{V0}/113-2201934-5567102/shipmentConfirmation", json={})
    assert response.status_code == 403 and "read-only" in response.json()["errors"][0]["details"]
    response = await client.patch(f"{amazon}{V0}/113-2201934-5567102/regulatedInfo", json={})
    assert response.status_code == 403


# --- rate limits --------------------------------------------------------------------------------

async def test_bursting_past_a_usage_plan_gets_429_and_pacing_does_not(samples, client):
    # getOrders: 0.0167 req/s, burst 20. At time scale 1: 20 pass, the 21st is refused.
    async with Sandbox(samples, EmulatorSettings(), platforms=("amazon",)) as sandbox:
        client.headers["x-amz-access-token"] = await amazon_token(client, sandbox.urls.amazon)
        params = {"CreatedAfter": "2026-03-01T00:00:00Z", "MarketplaceIds": US}
        codes = [(await client.get(f"{sandbox.urls.amazon}{V0}", params=params)).status_code for _ in range(21)]
        assert codes == [200] * 20 + [429]
        refused = await client.get(f"{sandbox.urls.amazon}{V0}", params=params)
        assert refused.json() == {"errors": [{"code": "QuotaExceeded",
                                              "message": "You exceeded your quota for the requested resource."}]}
        assert refused.headers["x-amzn-RequestId"] and "x-amzn-RateLimit-Limit" not in refused.headers
        # Other operations have their own buckets.
        assert (await client.get(f"{sandbox.urls.amazon}{V0}/113-2201934-5567102")).status_code == 200
    # Time scale 10000: 0.0167 x 10000 = 167 req/s; pacing at the advertised rate never sees a 429.
    async with Sandbox(samples, EmulatorSettings(time_scale=10_000), platforms=("amazon",)) as sandbox:
        client.headers["x-amz-access-token"] = await amazon_token(client, sandbox.urls.amazon)
        for _ in range(40):
            response = await client.get(f"{sandbox.urls.amazon}{V0}", params=params)
            assert response.status_code == 200
            await asyncio.sleep(1 / float(response.headers["x-amzn-RateLimit-Limit"]))


# --- shapes -------------------------------------------------------------------------------------

def test_v0_and_v2026_derivations_round_trip(samples):
    for new, old, items in _sample_orders(samples).values():
        if new is not None:
            v0 = order_to_v0(new)
            back = order_from_v0(v0, [item_to_v0(i) for i in new["orderItems"]])
            assert back["fulfillment"]["fulfillmentStatus"] == new["fulfillment"]["fulfillmentStatus"]
            assert back["proceeds"]["grandTotal"] == new["proceeds"]["grandTotal"]
            for a, b in zip(back["orderItems"], new["orderItems"]):
                assert a["product"]["price"] == b["product"]["price"]
                assert a["fulfillment"]["quantityFulfilled"] == b["fulfillment"]["quantityFulfilled"]
        if old is not None:
            derived = order_from_v0(old, items or [])
            assert derived["orderId"] == old["AmazonOrderId"]
            assert order_to_v0(derived)["OrderStatus"] == old["OrderStatus"]
    assert order_to_v0({"orderId": "1", "createdTime": "t", "lastUpdatedTime": "t",
                        "fulfillment": {"fulfillmentStatus": "CANCELLED"}})["OrderStatus"] == "Canceled"


def _validator(model: str, definition: str):
    jsonschema = pytest.importorskip("jsonschema")
    path = SPECS / model
    if not path.is_file():
        pytest.skip(f"vendor model {path} not available")
    spec = json.loads(path.read_text())
    schema = {"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]}
    return jsonschema.Draft4Validator(schema)


async def test_responses_match_the_vendor_models(client):
    dataset = Dataset.generate(1, seed=11, include_samples=True)
    checks = []
    async with Sandbox(dataset, EmulatorSettings(time_scale=10_000), platforms=("amazon",)) as sandbox:
        base = sandbox.urls.amazon
        client.headers["x-amz-access-token"] = await amazon_token(client, base)
        search = await client.get(f"{base}{V2026}", params={
            "createdAfter": "2025-01-01T00:00:00Z", "includedData": "FULFILLMENT,PACKAGES,PROCEEDS,CANCELLATION"})
        checks.append(("orders_2026-01-01.json", "SearchOrdersResponse", search.json()))
        v0_list = await client.get(f"{base}{V0}", params={"CreatedAfter": "2025-01-01T00:00:00Z", "MarketplaceIds": US})
        checks.append(("ordersV0.json", "GetOrdersResponse", v0_list.json()))
        for order in search.json()["orders"]:
            order_id = order["orderId"]
            one = await client.get(f"{base}{V2026}/{order_id}", params={"includedData": "FULFILLMENT,PACKAGES,PROCEEDS"})
            checks.append(("orders_2026-01-01.json", "GetOrderResponse", one.json()))
            checks.append(("ordersV0.json", "GetOrderResponse", (await client.get(f"{base}{V0}/{order_id}")).json()))
            items = await client.get(f"{base}{V0}/{order_id}/orderItems")
            checks.append(("ordersV0.json", "GetOrderItemsResponse", items.json()))
        missing = await client.get(f"{base}{V2026}/999-9999999-9999999")
        checks.append(("orders_2026-01-01.json", "ErrorList", missing.json()))
    assert len(checks) > 60
    validators = {}
    for model, definition, body in checks:
        validator = validators.setdefault((model, definition), _validator(model, definition))
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, (model, definition, errors[0].message, list(errors[0].absolute_path))

