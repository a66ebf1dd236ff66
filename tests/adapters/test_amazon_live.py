"""The Amazon live adapter: request shapes, LWA tokens, paging, throttling, absence proofs, hostile refs.

Unit tests run against a fake SP-API behind ``httpx.MockTransport``; the end-to-end
tests at the bottom run against the project's sandbox (``sandbox.server``) and skip
with a reason until it exists.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from adapters.amazon import PLATFORM
from adapters.amazon.live import BEFORE_MARGIN, HISTORY_START, LIVE, USAGE_PLANS, AmazonLive
from adapters.base import NormaliseContext, make_payload
from adapters.http import FetchError, RetryPolicy
from adapters.live import LiveAdapter, LiveSettings, WindowPage
from audit.model import Role, SystemDef

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "sample_data" / "scenarios"
CONTEXT = NormaliseContext(SystemDef("amazon", Role.MARKETPLACE, "amazon"))
# More attempts than renewals, so the tests below see which of the two caps stopped a call.
FAST = RetryPolicy(attempts=6, initial_wait=0.001, max_wait=0.01, give_up_after=10, jitter=0.001, retry_after_cap=0.05)
SECRETS = {"client_id": "amzn1.application-oa2-client.ID-7f3a", "client_secret": "SEKRIT-cs-9c1e",
           "refresh_token": "Atzr|REFRESH-4b2d"}
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
MARKET = "ATVPDKIKX0DER"
TOKEN_URL = "https://lwa.test/auth/o2/token"
BASE_URL = "https://sp.test"

V2026_ID = "113-2201934-5567102"  # 02-healthy-order
V0_ID = "113-6677889-0011223"  # 14-missing-record (v0 getOrder + getOrderItems)
UNKNOWN_ID = "113-0000000-0000000"


def sample(folder: str, name: str) -> str:
    return (SCENARIOS / folder / "amazon" / name).read_text()


# --- a fake SP-API + LWA ------------------------------------------------------------------------


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]}, headers=headers)


@dataclass
class FakeAmazon:
    """Serves LWA tokens and the Orders endpoints from sample payloads; records every request."""

    orders_2026: dict[str, str] = field(default_factory=dict)
    orders_v0: dict[str, str] = field(default_factory=dict)
    items_v0: dict[str, list[str]] = field(default_factory=dict)  # pages, chained by NextToken "p1", "p2"...
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # SellerOrderId / AmazonOrderIds -> v0 orders
    search_pages: list[list[str]] = field(default_factory=list)  # window pages of order ids
    expires_in: int = 3600
    requests: list[httpx.Request] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    faults: list[tuple[Callable[[httpx.Request], bool], Callable[[], httpx.Response]]] = field(default_factory=list)
    rate_header: str | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def token_posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/auth/o2/token"]

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/auth/o2/token"]

    def fault(self, when: Callable[[httpx.Request], bool], response: Callable[[], httpx.Response], times: int = 1) -> None:
        for _ in range(times):
            self.faults.append((when, response))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        await asyncio.sleep(0)  # let concurrent calls interleave, as on a network
        for index, (when, response) in enumerate(self.faults):
            if when(request):
                del self.faults[index]
                return response()
        if request.url.path == "/auth/o2/token":
            return self.token(request)
        if request.method != "GET":
            return error(405, "MethodNotAllowed", "read-only fake")
        token = request.headers.get("x-amz-access-token")
        if token in self.expired:
            return error(403, "Unauthorized", "The access token you provided has expired.")
        if token not in self.tokens:
            return error(403, "Unauthorized", "Access to requested resource is denied.")
        response = self.route(request)
        if self.rate_header and response.status_code in (200, 400, 404):
            response.headers["x-amzn-RateLimit-Limit"] = self.rate_header
        return response

    def token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        expected = {"grant_type": ["refresh_token"], **{key: [value] for key, value in SECRETS.items()}}
        if form != expected:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"})
        token = f"Atza|access-{len(self.tokens) + 1}"
        self.tokens.append(token)
        return httpx.Response(200, json={"access_token": token, "refresh_token": SECRETS["refresh_token"],
                                         "token_type": "bearer", "expires_in": self.expires_in})

    def route(self, request: httpx.Request) -> httpx.Response:
        path, query = request.url.path, parse_qs(request.url.query.decode())
        parts = path.split("/")
        if path.startswith("/orders/2026-01-01/orders/") and len(parts) == 5:
            body = self.orders_2026.get(parts[4])
            return httpx.Response(200, text=body) if body else error(404, "NotFound", "Order not found")
        if path == "/orders/2026-01-01/orders":
            return self.search(query, "paginationToken", lambda ids, nxt: {
                "orders": [{"orderId": i, "createdTime": "2026-03-01T00:00:00Z", "lastUpdatedTime": "2026-03-02T00:00:00Z"} for i in ids],
                **({"pagination": {"nextToken": nxt}} if nxt else {}), "lastUpdatedBefore": query["lastUpdatedBefore"][0]})
        if path == "/orders/v0/orders":
            if "MarketplaceIds" not in query or not ({"CreatedAfter", "LastUpdatedAfter"} & query.keys()):
                return error(400, "InvalidInput", "MarketplaceIds and CreatedAfter or LastUpdatedAfter are required")
            for key in ("SellerOrderId", "AmazonOrderIds"):
                if key in query:
                    return httpx.Response(200, json={"payload": {"Orders": self.lists.get(query[key][0], [])}})
            return self.search(query, "NextToken", lambda ids, nxt: {"payload": {
                "Orders": [v0_order(i) for i in ids], **({"NextToken": nxt} if nxt else {})}})
        if path.startswith("/orders/v0/orders/") and len(parts) == 5:
            body = self.orders_v0.get(parts[4])
            return httpx.Response(200, text=body) if body else error(404, "NotFound", "Order not found")
        if path.startswith("/orders/v0/orders/") and len(parts) == 6 and parts[5] == "orderItems":
            pages = self.items_v0.get(parts[4])
            if not pages:
                return error(404, "NotFound", "Order not found")
            index = int(query.get("NextToken", ["p0"])[0][1:])
            return httpx.Response(200, text=pages[index])
        return error(404, "NotFound", f"no route {path}")

    def search(self, query: dict[str, list[str]], token_key: str, shape: Callable[[list[str], str | None], Any]) -> httpx.Response:
        index = int(query.get(token_key, ["p0"])[0][1:])
        ids = self.search_pages[index] if index < len(self.search_pages) else []
        nxt = f"p{index + 1}" if index + 1 < len(self.search_pages) else None
        return httpx.Response(200, json=shape(ids, nxt))


def v0_order(order_id: str, seller_order_id: str | None = None) -> dict[str, Any]:
    return {"AmazonOrderId": order_id, "SellerOrderId": seller_order_id or order_id, "PurchaseDate": "2026-03-02T09:00:00Z",
            "LastUpdateDate": "2026-03-02T09:30:00Z", "OrderStatus": "Unshipped", "MarketplaceId": MARKET}


def items_pages(order_id: str) -> list[str]:
    """The sample's getOrderItems split into two pages chained by NextToken."""
    body = json.loads(sample("14-missing-record", "getOrderItems.json"))
    item = body["payload"]["OrderItems"][0]
    second = dict(item, OrderItemId="19115508470999", SellerSKU="CAP-RED", QuantityOrdered=1)
    return [json.dumps({"payload": {"AmazonOrderId": order_id, "OrderItems": [item], "NextToken": "p1"}}),
            json.dumps({"payload": {"AmazonOrderId": order_id, "OrderItems": [second]}})]


def fake_with_samples(**kwargs: Any) -> FakeAmazon:
    return FakeAmazon(
        orders_2026={V2026_ID: sample("02-healthy-order", "getOrder.json")},
        orders_v0={V0_ID: sample("14-missing-record", "getOrder.json")},
        items_v0={V0_ID: items_pages(V0_ID)},
        **kwargs,
    )


def make_settings(fake: FakeAmazon | None, *, secrets: dict[str, str] | None = None, time_scale: float = 1000.0,
                  transport: httpx.AsyncBaseTransport | None = None, **options: Any) -> LiveSettings:
    opts = {"token_url": TOKEN_URL, "marketplace_ids": [MARKET], **options}
    return LiveSettings(
        name="amazon", base_url=options.pop("base_url", BASE_URL), context=CONTEXT,
        options={k: v for k, v in opts.items() if v is not None},
        secrets={k: SecretStr(v) for k, v in (SECRETS if secrets is None else secrets).items()},
        policy=FAST, time_scale=time_scale, transport=transport or (fake.transport() if fake else None),
    )


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def connect(fake: FakeAmazon, *, monotonic: Callable[[], float] = time.monotonic, **options: Any) -> AmazonLive:
    return LIVE.connect(make_settings(fake, **options), clock=lambda: NOW, monotonic=monotonic)


async def collect(adapter: AmazonLive, since: datetime, until: datetime | None, cursor: str | None = None) -> list[WindowPage]:
    return [page async for page in adapter.window(since, until, cursor)]


def query_of(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query.decode(), keep_blank_values=True)


# --- v2026 getOrder, tokens -----------------------------------------------------------------------


async def test_connect_gives_a_live_adapter() -> None:
    adapter = connect(FakeAmazon())
    assert isinstance(adapter, AmazonLive) and adapter.name == "amazon"
    assert callable(adapter.lookup) and callable(adapter.window) and callable(adapter.aclose)
    _: LiveAdapter = adapter  # the protocol, statically
    await adapter.aclose()


async def test_get_order_v2026_request_shape_and_verbatim_payload() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    payloads = await adapter.lookup(V2026_ID)
    await adapter.aclose()

    [payload] = payloads
    assert payload.endpoint == f"GET /orders/2026-01-01/orders/{V2026_ID}?includedData=FULFILLMENT,PACKAGES,PROCEEDS,CANCELLATION"
    assert payload.body == fake.orders_2026[V2026_ID]  # verbatim
    assert payload.system == "amazon" and payload.fetched_at == NOW
    [request] = fake.api_requests()
    assert request.method == "GET" and request.url.path == f"/orders/2026-01-01/orders/{V2026_ID}"
    assert query_of(request) == {"includedData": ["FULFILLMENT,PACKAGES,PROCEEDS,CANCELLATION"]}
    assert request.headers["x-amz-access-token"] == "Atza|access-1"
    assert request.headers["user-agent"].startswith("threetruth/")
    assert "authorization" not in request.headers  # no SigV4
    [record] = PLATFORM.normalise(payloads, CONTEXT).records
    assert record.ref == V2026_ID


async def test_token_grant_is_form_encoded_refresh_token() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    await adapter.lookup(V2026_ID)
    await adapter.aclose()
    [post] = fake.token_posts()
    assert post.method == "POST" and str(post.url) == TOKEN_URL
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(post.content.decode()) == {"grant_type": ["refresh_token"], **{k: [v] for k, v in SECRETS.items()}}


async def test_token_is_cached_and_one_refresh_serves_concurrent_calls() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    await asyncio.gather(*(adapter.lookup(V2026_ID) for _ in range(25)))
    await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert len(fake.token_posts()) == 1
    assert len(fake.api_requests()) == 26


async def test_token_renewed_shortly_before_expiry() -> None:
    fake = fake_with_samples(expires_in=300)
    clock = Monotonic()
    adapter = connect(fake, monotonic=clock)
    await adapter.lookup(V2026_ID)
    clock.now += 265  # 35 s left: still more than the 30 s margin (a tenth of 300 s)
    await adapter.lookup(V2026_ID)
    assert len(fake.token_posts()) == 1
    clock.now += 10  # 25 s left: renew before it runs out
    await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert len(fake.token_posts()) == 2
    assert fake.api_requests()[-1].headers["x-amz-access-token"] == "Atza|access-2"


async def test_expired_token_403_renews_once_for_many_concurrent_calls() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    await adapter.lookup(V2026_ID)
    fake.expired.add("Atza|access-1")  # Amazon says it expired before our clock did
    results = await asyncio.gather(*(adapter.lookup(V2026_ID) for _ in range(12)))
    await adapter.aclose()
    assert all(len(r) == 1 for r in results)
    assert len(fake.token_posts()) == 2  # the first token, and one renewal for twelve 403s
    assert {r.headers["x-amz-access-token"] for r in fake.api_requests()[-12:]} == {"Atza|access-2"}


async def test_access_denied_403_is_refused_after_a_few_renewals_with_a_hint() -> None:
    fake = fake_with_samples()
    fake.fault(lambda r: r.url.path.startswith("/orders"), lambda: error(403, "Unauthorized", "Access to requested resource is denied."), times=5)
    adapter = connect(fake)
    with pytest.raises(FetchError) as caught:
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert caught.value.status == 403
    text = str(caught.value)
    assert "amazon" in text and "Access to requested resource is denied" in text and "refresh_token" in text
    # SystemClient renews a few times per call (it cannot tell an expiry from a refusal), no more.
    assert len(fake.token_posts()) == 1 + FAST.renewals and len(fake.api_requests()) == 1 + FAST.renewals


# --- absence -------------------------------------------------------------------------------------


async def test_unknown_order_is_proved_absent_by_an_empty_getorders() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    payloads = await adapter.lookup(UNKNOWN_ID)
    await adapter.aclose()
    [first, proof] = fake.api_requests()
    assert first.url.path == f"/orders/2026-01-01/orders/{UNKNOWN_ID}"
    assert proof.url.path == "/orders/v0/orders"
    assert query_of(proof) == {"AmazonOrderIds": [UNKNOWN_ID], "MarketplaceIds": [MARKET], "CreatedAfter": [HISTORY_START]}
    [payload] = payloads
    assert payload.endpoint == (f"GET /orders/v0/orders?AmazonOrderIds={UNKNOWN_ID}&MarketplaceIds={MARKET}"
                                f"&CreatedAfter={HISTORY_START}")
    assert json.loads(payload.body) == {"payload": {"Orders": []}}
    result = PLATFORM.normalise(payloads, CONTEXT)  # read as "holds nothing", not as an error
    assert result.records == [] and result.events == []


async def test_a_404_contradicted_by_the_list_fetches_the_orders_items() -> None:
    fake = fake_with_samples()
    fake.lists[V0_ID] = [json.loads(sample("14-missing-record", "getOrder.json"))["payload"]]
    adapter = connect(fake)
    fake.orders_2026.pop(V0_ID, None)
    payloads = await adapter.lookup(V0_ID)
    await adapter.aclose()
    assert [urlsplit(p.endpoint.split()[1]).path for p in payloads] == [
        "/orders/v0/orders", f"/orders/v0/orders/{V0_ID}/orderItems", f"/orders/v0/orders/{V0_ID}/orderItems"]
    [record] = PLATFORM.normalise(payloads, CONTEXT).records
    assert record.ref == V0_ID and {line.sku for line in record.lines} == {"CAP-NVY", "CAP-RED"}


async def test_foreign_ref_is_looked_for_as_seller_order_id() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    payloads = await adapter.lookup("#1042")
    [request] = fake.api_requests()
    assert request.url.path == "/orders/v0/orders"
    assert query_of(request) == {"SellerOrderId": ["#1042"], "MarketplaceIds": [MARKET], "CreatedAfter": [HISTORY_START]}
    assert payloads[0].endpoint == f"GET /orders/v0/orders?SellerOrderId=%231042&MarketplaceIds={MARKET}&CreatedAfter={HISTORY_START}"
    assert PLATFORM.normalise(payloads, CONTEXT).records == []

    fake.lists["#1042"] = [v0_order(V2026_ID, "#1042")]
    payloads = await adapter.lookup("#1042")
    await adapter.aclose()
    assert [p.endpoint.split("?")[0] for p in payloads] == ["GET /orders/v0/orders", f"GET /orders/2026-01-01/orders/{V2026_ID}"]
    [record] = PLATFORM.normalise(payloads, CONTEXT).records
    assert record.ref == V2026_ID


async def test_foreign_ref_needs_marketplace_ids() -> None:
    fake = fake_with_samples()
    adapter = connect(fake, marketplace_ids=None)
    with pytest.raises(FetchError, match="marketplace_ids"):
        await adapter.lookup("#1042")
    assert await adapter.lookup(V2026_ID)  # getOrder does not need them
    await adapter.aclose()


# --- v0 ------------------------------------------------------------------------------------------


async def test_v0_get_order_and_every_page_of_its_items() -> None:
    fake = fake_with_samples()
    adapter = connect(fake, api="v0")
    payloads = await adapter.lookup(V0_ID)
    await adapter.aclose()
    assert [p.endpoint for p in payloads] == [
        f"GET /orders/v0/orders/{V0_ID}",
        f"GET /orders/v0/orders/{V0_ID}/orderItems",
        f"GET /orders/v0/orders/{V0_ID}/orderItems?NextToken=p1",
    ]
    assert [p.body for p in payloads[1:]] == fake.items_v0[V0_ID]
    [record] = PLATFORM.normalise(payloads, CONTEXT).records
    assert {(line.sku, line.ordered) for line in record.lines} == {("CAP-NVY", 2), ("CAP-RED", 1)}


async def test_v0_unknown_order_is_proved_absent() -> None:
    fake = fake_with_samples()
    adapter = connect(fake, api="v0")
    payloads = await adapter.lookup(UNKNOWN_ID)
    await adapter.aclose()
    assert [r.url.path for r in fake.api_requests()] == [f"/orders/v0/orders/{UNKNOWN_ID}", "/orders/v0/orders"]
    assert PLATFORM.normalise(payloads, CONTEXT).records == []


async def test_v0_seller_order_id_hit_fetches_items_not_v2026() -> None:
    fake = fake_with_samples()
    fake.lists["SO-77"] = [v0_order(V0_ID, "SO-77")]
    adapter = connect(fake, api="v0")
    payloads = await adapter.lookup("SO-77")
    await adapter.aclose()
    assert [p.endpoint.split("?")[0] for p in payloads] == [
        "GET /orders/v0/orders", f"GET /orders/v0/orders/{V0_ID}/orderItems", f"GET /orders/v0/orders/{V0_ID}/orderItems"]
    [record] = PLATFORM.normalise(payloads, CONTEXT).records
    assert record.links == frozenset({"SO-77"})


# --- hostile refs --------------------------------------------------------------------------------

HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE orders; --',
    "back\\slash\\",
    "../../orders/v0/orders/113-2201934-5567102",
    "113-2201934-5567102/../../x",
    "113-2201934-5567102?includedData=BUYER",
    "113-2201934-5567102#frag",
    "%2e%2e%2f",
    "name:#1042 OR status:any",
    "١١٣-٢٢٠١٩٣٤-٥٥٦٧١٠٢",  # Arabic-Indic digits: \d would take them for an order id
    "113‐2201934‐5567102",  # Unicode hyphens
    "ünïcödé 🛒",
    "&MarketplaceIds=EVIL&x=",
]


@pytest.mark.parametrize("ref", HOSTILE)
async def test_hostile_ref_only_ever_travels_as_an_encoded_query_value(ref: str) -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    payloads = await adapter.lookup(ref)
    await adapter.aclose()
    [request] = fake.api_requests()
    assert request.url.path == "/orders/v0/orders"
    query = query_of(request)
    assert query["SellerOrderId"] == [ref.strip()]  # the exact value, as one parameter
    assert query["MarketplaceIds"] == [MARKET]
    assert set(query) == {"SellerOrderId", "MarketplaceIds", "CreatedAfter"}
    assert all(32 < b < 127 for b in request.url.raw_path)  # percent-encoded: nothing raw reaches the wire
    [payload] = payloads
    assert "\n" not in payload.endpoint and " " not in payload.endpoint.split(" ", 1)[1]
    assert PLATFORM.normalise(payloads, CONTEXT).records == []


@pytest.mark.parametrize("ref", ["113-2201934-5567102\nHost: evil", "line\r\nbreak", "nul\x00", "", "   ", "x" * 201])
async def test_unsendable_ref_is_refused_before_any_request(ref: str) -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    with pytest.raises(FetchError, match="neither an Amazon order id"):
        await adapter.lookup(ref)
    await adapter.aclose()
    assert fake.requests == []


async def test_order_id_with_surrounding_space_is_the_order_id() -> None:
    fake = fake_with_samples()
    adapter = connect(fake)
    [payload] = await adapter.lookup(f"  {V2026_ID}\n")
    await adapter.aclose()
    assert payload.endpoint.startswith(f"GET /orders/2026-01-01/orders/{V2026_ID}?")


# --- windows -------------------------------------------------------------------------------------


async def test_window_v2026_pages_through_search_orders() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001", "111-0000002-0000002"], ["111-0000003-0000003"], []])
    adapter = connect(fake)
    since, until = NOW - timedelta(days=2), NOW - timedelta(days=1)
    pages = await collect(adapter, since, until)
    await adapter.aclose()
    assert [p.refs for p in pages] == [["111-0000001-0000001", "111-0000002-0000002"], ["111-0000003-0000003"], []]
    assert pages[-1].cursor is None and all(p.cursor for p in pages[:-1])
    first, second, third = fake.api_requests()
    assert first.url.path == "/orders/2026-01-01/orders"
    assert query_of(first) == {"lastUpdatedAfter": ["2026-03-08T12:00:00Z"], "lastUpdatedBefore": ["2026-03-09T12:00:00Z"],
                               "marketplaceIds": [MARKET], "maxResultsPerPage": ["100"]}
    assert query_of(second) == {**query_of(first), "paginationToken": ["p1"]}  # same filters with the token
    assert query_of(third)["paginationToken"] == ["p2"]


async def test_window_until_is_kept_two_minutes_and_more_before_now() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"]])
    adapter = connect(fake)
    await collect(adapter, NOW - timedelta(hours=1), None)
    await collect(adapter, NOW - timedelta(hours=1), NOW + timedelta(hours=5))
    await collect(adapter, NOW - timedelta(hours=1), NOW - timedelta(seconds=30))
    await adapter.aclose()
    befores = {query_of(r)["lastUpdatedBefore"][0] for r in fake.api_requests()}
    latest = NOW - BEFORE_MARGIN
    assert befores == {latest.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert BEFORE_MARGIN >= timedelta(minutes=2)


async def test_window_that_clamps_to_nothing_asks_nothing() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"]])
    adapter = connect(fake)
    assert await collect(adapter, NOW - timedelta(minutes=1), None) == []
    assert await collect(adapter, NOW - timedelta(days=1), NOW - timedelta(days=2)) == []
    await adapter.aclose()
    assert fake.requests == []


async def test_window_resumes_from_a_cursor_with_the_first_pages_filters() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"], ["111-0000002-0000002"], ["111-0000003-0000003"]])
    adapter = connect(fake)
    gen = adapter.window(NOW - timedelta(days=1), None)
    first = await gen.__anext__()
    await gen.aclose()
    await adapter.aclose()

    later = NOW + timedelta(hours=3)  # a rerun hours later: "now" has moved, the token's filters have not
    resumed = LIVE.connect(make_settings(fake), clock=lambda: later)
    pages = await collect(resumed, datetime(2020, 1, 1, tzinfo=timezone.utc), None, first.cursor)
    await resumed.aclose()
    assert [p.refs for p in pages] == [["111-0000002-0000002"], ["111-0000003-0000003"]]
    original, again = fake.api_requests()[0], fake.api_requests()[1]
    assert query_of(again) == {**query_of(original), "paginationToken": ["p1"]}


async def test_window_v0_pages_through_get_orders() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"], ["111-0000002-0000002"]])
    adapter = connect(fake, api="v0")
    pages = await collect(adapter, NOW - timedelta(days=2), NOW - timedelta(days=1))
    await adapter.aclose()
    assert [p.refs for p in pages] == [["111-0000001-0000001"], ["111-0000002-0000002"]]
    first, second = fake.api_requests()
    assert first.url.path == "/orders/v0/orders"
    assert query_of(first) == {"LastUpdatedAfter": ["2026-03-08T12:00:00Z"], "LastUpdatedBefore": ["2026-03-09T12:00:00Z"],
                               "MarketplaceIds": [MARKET], "MaxResultsPerPage": ["100"]}
    assert query_of(second) == {**query_of(first), "NextToken": ["p1"]}


@pytest.mark.parametrize("cursor", ["not json", "{}", '{"api":"2026-01-01","after":"a","before":"b"}', "[1,2]", '"x"'])
async def test_window_refuses_a_cursor_it_did_not_make(cursor: str) -> None:
    adapter = connect(fake_with_samples())
    with pytest.raises(FetchError, match="cursor"):
        await collect(adapter, NOW - timedelta(days=1), None, cursor)
    await adapter.aclose()


async def test_window_cursor_of_the_other_api_is_refused() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"], ["111-0000002-0000002"]])
    adapter = connect(fake)
    first = await adapter.window(NOW - timedelta(days=1), None).__anext__()
    await adapter.aclose()
    v0 = connect(fake, api="v0")
    with pytest.raises(FetchError, match="made for Orders API"):
        await collect(v0, NOW - timedelta(days=1), None, first.cursor)
    await v0.aclose()


async def test_window_expired_page_token_says_to_restart() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"], ["111-0000002-0000002"]])
    adapter = connect(fake)
    first = await adapter.window(NOW - timedelta(days=1), None).__anext__()
    fake.fault(lambda r: "paginationToken" in query_of(r), lambda: error(400, "InvalidInput", "Invalid paginationToken"))
    with pytest.raises(FetchError, match="restart this window without its cursor") as caught:
        await collect(adapter, NOW - timedelta(days=1), None, first.cursor)
    await adapter.aclose()
    assert caught.value.status == 400


async def test_window_needs_marketplace_ids() -> None:
    fake = fake_with_samples()
    adapter = connect(fake, marketplace_ids=None)
    with pytest.raises(FetchError, match="marketplace_ids is not set"):
        await collect(adapter, NOW - timedelta(days=1), None)
    await adapter.aclose()
    assert fake.requests == []


async def test_window_on_a_server_that_repeats_its_page_token_stops() -> None:
    fake = fake_with_samples()
    loop = {"orders": [], "pagination": {"nextToken": "same"}}
    fake.fault(lambda r: r.url.path == "/orders/2026-01-01/orders", lambda: httpx.Response(200, json=loop), times=3)
    adapter = connect(fake)
    with pytest.raises(FetchError, match="already given"):
        await collect(adapter, NOW - timedelta(days=1), None)
    await adapter.aclose()


async def test_window_on_a_body_that_is_not_a_list_fails_clearly() -> None:
    fake = fake_with_samples()
    fake.fault(lambda r: r.url.path == "/orders/2026-01-01/orders", lambda: httpx.Response(200, json={"hello": 1}))
    adapter = connect(fake)
    with pytest.raises(FetchError, match="not an Orders API list"):
        await collect(adapter, NOW - timedelta(days=1), None)
    await adapter.aclose()


# --- throttling, faults --------------------------------------------------------------------------


def is_get_order(request: httpx.Request) -> bool:
    return request.url.path.startswith("/orders/2026-01-01/orders/")


@pytest.mark.parametrize("response", [
    lambda: error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", {"Retry-After": "0.01"}),
    lambda: error(500, "InternalFailure", "We encountered an internal error."),
    lambda: error(503, "ServiceUnavailable", "Service temporarily unavailable."),
    lambda: httpx.Response(200, text='{"order": {"orderId": "113-22', headers={"content-type": "application/json"}),
], ids=["429", "500", "503", "truncated"])
async def test_retryable_answers_are_retried(response: Callable[[], httpx.Response]) -> None:
    fake = fake_with_samples()
    fake.fault(is_get_order, response, times=2)
    adapter = connect(fake)
    [payload] = await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert payload.body == fake.orders_2026[V2026_ID]
    assert len(fake.api_requests()) == 3


async def test_dropped_connections_and_timeouts_are_retried() -> None:
    fake = fake_with_samples()

    def drop() -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    def slow() -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    fake.fault(is_get_order, drop)
    fake.fault(is_get_order, slow)
    adapter = connect(fake)
    [payload] = await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert payload.body == fake.orders_2026[V2026_ID]


async def test_endless_throttling_gives_up_with_a_clear_error() -> None:
    fake = fake_with_samples()
    fake.fault(is_get_order, lambda: error(429, "QuotaExceeded", "quota", {"Retry-After": "0"}), times=10)
    adapter = connect(fake)
    with pytest.raises(FetchError, match=f"failed {FAST.attempts} times"):
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert len(fake.api_requests()) == FAST.attempts


async def test_bad_request_is_not_retried() -> None:
    fake = fake_with_samples()
    fake.fault(is_get_order, lambda: error(400, "InvalidInput", "Invalid includedData"), times=5)
    adapter = connect(fake)
    with pytest.raises(FetchError, match="HTTP 400 InvalidInput: Invalid includedData") as caught:
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert caught.value.status == 400 and len(fake.api_requests()) == 1


def test_pacers_carry_the_published_plans_time_scaled() -> None:
    adapter = connect(FakeAmazon(), time_scale=4.0)
    assert set(adapter.pacers) == set(USAGE_PLANS)
    expected = {"v2026.getOrder": (0.5, 30), "v0.getOrder": (0.5, 30), "v0.getOrderItems": (0.5, 30),
                "v0.getOrders": (0.0167, 20), "v2026.searchOrders": (0.0056, 20)}
    for operation, (rate, burst) in expected.items():
        pacer = adapter.pacers[operation]
        assert (pacer.rate, pacer.burst, pacer.time_scale) == (rate, burst, 4.0)


async def test_sustained_rate_stays_under_the_scaled_limit() -> None:
    fake = fake_with_samples()
    adapter = connect(fake, time_scale=200.0)  # getOrder: 100 req/s, burst 30
    started = time.monotonic()
    await asyncio.gather(*(adapter.lookup(V2026_ID) for _ in range(50)))
    elapsed = time.monotonic() - started
    await adapter.aclose()
    assert elapsed >= (50 - 30) / 100 * 0.9  # past the burst, no faster than the rate


@pytest.mark.parametrize(("time_scale", "header", "rate"), [(1.0, "2.0", 2.0), (1000.0, "2000", 2.0), (100.0, "50", 0.5)])
async def test_applied_rate_header_is_followed(time_scale: float, header: str, rate: float) -> None:
    # The header is the rate the server enforces: a time-scaled sandbox reports the scaled rate.
    fake = fake_with_samples(rate_header=header)
    adapter = connect(fake, time_scale=time_scale)
    await adapter.lookup(V2026_ID)
    await adapter.aclose()
    pacer = adapter.pacers["v2026.getOrder"]
    assert pacer.rate == pytest.approx(rate) and pacer.time_scale == time_scale
    assert adapter.pacers["v2026.searchOrders"].rate == 0.0056  # per operation


async def test_expired_token_twice_in_one_call_is_renewed_again() -> None:
    fake = fake_with_samples()
    body = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                        "details": "The access token you provided has expired."}]}
    fake.fault(is_get_order, lambda: httpx.Response(403, json=body), times=3)
    adapter = connect(fake)
    [payload] = await adapter.lookup(V2026_ID)
    assert payload.body == fake.orders_2026[V2026_ID]
    await adapter.aclose()
    assert len(fake.token_posts()) == 4  # the first token and one per expiry


async def test_endless_expired_tokens_give_up_within_the_policy() -> None:
    fake = fake_with_samples()
    fake.fault(is_get_order, lambda: error(403, "Unauthorized", "The access token you provided has expired."), times=50)
    adapter = connect(fake)
    with pytest.raises(FetchError, match="expired"):
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert len(fake.api_requests()) == 1 + FAST.renewals < FAST.attempts


# --- configuration, secrets, read-only -----------------------------------------------------------


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "refresh_token"])
async def test_missing_secret_names_the_key_not_a_value(missing: str) -> None:
    fake = fake_with_samples()
    secrets = {k: v for k, v in SECRETS.items() if k != missing}
    adapter = LIVE.connect(make_settings(fake, secrets=secrets), clock=lambda: NOW)
    with pytest.raises(FetchError) as caught:
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    text = str(caught.value)
    assert missing in text and "env:VARIABLE" in text and "[systems.amazon]" in text
    assert not any(value in text for value in SECRETS.values())
    assert fake.requests == []


async def test_missing_secret_names_its_environment_variable_when_known() -> None:
    settings = dataclasses.replace(make_settings(fake_with_samples(), secrets={}), secret_env={"refresh_token": "AMZ_REFRESH"})
    adapter = LIVE.connect(settings)
    with pytest.raises(FetchError, match=r"refresh_token reads \$AMZ_REFRESH"):
        await adapter.lookup(V2026_ID)
    await adapter.aclose()


async def test_refused_grant_says_what_to_check_without_secrets() -> None:
    fake = fake_with_samples()
    secrets = dict(SECRETS, client_secret="WRONG-secret-value")
    adapter = LIVE.connect(make_settings(fake, secrets=secrets), clock=lambda: NOW)
    with pytest.raises(FetchError) as caught:
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    text = str(caught.value)
    assert "invalid_grant" in text and "client_secret" in text and "HTTP 400" in text
    assert not any(value in text for value in [*SECRETS.values(), "WRONG-secret-value"])
    assert len(fake.token_posts()) == 1  # a refused grant is not retried


async def test_token_answer_without_a_usable_token_is_refused() -> None:
    fake = fake_with_samples()
    fake.fault(lambda r: r.url.path == "/auth/o2/token", lambda: httpx.Response(200, json={"access_token": "a\r\nX-Evil: 1"}))
    adapter = connect(fake)
    with pytest.raises(FetchError, match="usable access_token"):
        await adapter.lookup(V2026_ID)
    await adapter.aclose()


async def test_a_server_echoing_secrets_does_not_get_them_into_errors() -> None:
    fake = fake_with_samples()
    fake.fault(is_get_order, lambda: error(400, "InvalidInput", f"bad token Atza|access-1 for {SECRETS['client_id']}"))
    adapter = connect(fake)
    with pytest.raises(FetchError) as caught:
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    text = str(caught.value)
    assert "Atza|access-1" not in text and SECRETS["client_id"] not in text and "***" in text


async def test_secrets_never_reach_payloads_endpoints_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"]])
    fake.lists["#1042"] = [v0_order(V0_ID, "#1042")]
    adapter = connect(fake)
    payloads = [*await adapter.lookup(V2026_ID), *await adapter.lookup(UNKNOWN_ID), *await adapter.lookup("#1042")]
    pages = await collect(adapter, NOW - timedelta(days=1), None)
    await adapter.aclose()
    shown = "\n".join([*(p.endpoint + p.body for p in payloads), *(str(p) for p in pages), caplog.text])
    for value in [*SECRETS.values(), *fake.tokens]:
        assert value not in shown


async def test_read_only_every_call_is_a_get_but_the_token_grant() -> None:
    fake = fake_with_samples(search_pages=[["111-0000001-0000001"], []])
    fake.lists["#1042"] = [v0_order(V0_ID, "#1042")]
    for api in ("2026-01-01", "v0"):
        adapter = connect(fake, api=api)
        for ref in (V2026_ID, V0_ID, UNKNOWN_ID, "#1042"):
            await adapter.lookup(ref)
        await collect(adapter, NOW - timedelta(days=1), None)
        await adapter.aclose()
    assert {(r.method, r.url.path == "/auth/o2/token") for r in fake.requests} == {("GET", False), ("POST", True)}


@pytest.mark.parametrize(("options", "match"), [
    ({"api": "v9"}, "not an Orders API version"),
    ({"marketplace_ids": ["atvpdkikx0der"]}, "not a marketplace id"),
    ({"marketplace_ids": 7}, "must be a list"),
    ({"base_url": "ftp://sp.test"}, "base_url"),
    ({"base_url": ""}, "base_url"),
    ({"token_url": "not a url"}, "token_url"),
])
async def test_misconfiguration_is_one_clear_fetch_error(options: dict[str, Any], match: str) -> None:
    fake = fake_with_samples()
    adapter = connect(fake, **options)
    with pytest.raises(FetchError, match=match):
        await adapter.lookup(V2026_ID)
    with pytest.raises(FetchError, match=match):
        await collect(adapter, NOW - timedelta(days=1), None)
    await adapter.aclose()
    assert fake.requests == []


def test_marketplace_ids_may_be_a_comma_separated_string() -> None:
    adapter = connect(FakeAmazon(), marketplace_ids="ATVPDKIKX0DER, A2EUQ1WTGCTBG2")
    assert adapter.marketplace_ids == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]


async def test_configured_timeout_reaches_both_clients() -> None:
    settings = dataclasses.replace(make_settings(FakeAmazon()), timeout=httpx.Timeout(3.0, connect=1.0))
    adapter = LIVE.connect(settings)
    assert adapter.client.client.timeout == httpx.Timeout(3.0, connect=1.0)
    assert adapter._token_client.client.timeout == httpx.Timeout(3.0, connect=1.0)
    await adapter.aclose()


async def test_unreachable_system_is_a_fetch_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    adapter = LIVE.connect(make_settings(None, transport=httpx.MockTransport(refuse)))
    with pytest.raises(FetchError, match="cannot connect") as caught:
        await adapter.lookup(V2026_ID)
    await adapter.aclose()
    assert caught.value.system == "amazon"


# --- end to end against the sandbox ---------------------------------------------------------------
# The sandbox exposes a start API in sandbox/server.py; these tests use only that public API.

SPECS = REPO.parent / "shared" / "api-specs" / "amazon"
SANDBOX_SECRETS = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret",
                   "refresh_token": "sandbox-refresh-token"}
# Concurrent lookups reach the sandbox in no fixed order, so the seeded faults land on different
# calls from run to run: every attempt may renew, and only ten faults in a row (0.3**10) fail a call.
E2E_POLICY = RetryPolicy(attempts=10, initial_wait=0.01, max_wait=0.05, give_up_after=60, jitter=0.01, retry_after_cap=0.2,
                         renewals=9)


def _sandbox_missing() -> str | None:
    import importlib.util

    for module in ("sandbox.server", "sandbox.amazon"):
        try:
            if importlib.util.find_spec(module) is None:
                return f"the sandbox's {module} has not landed yet"
        except ImportError:
            return f"the sandbox's {module} has not landed yet"
    return None


needs_sandbox = pytest.mark.skipif(_sandbox_missing() is not None, reason=_sandbox_missing() or "")


@asynccontextmanager
async def sandbox(dataset: Any = None, **settings: Any) -> AsyncIterator[Any]:
    """The sandbox's Amazon emulator on an ephemeral 127.0.0.1 port (its public start API only)."""
    from sandbox.core import EmulatorSettings
    from sandbox.data import Dataset
    from sandbox.server import Sandbox

    async with Sandbox(dataset or Dataset.from_samples(), EmulatorSettings(**settings), platforms=("amazon",)) as box:
        yield box


def e2e_settings(box: Any, *, time_scale: float, secrets: dict[str, str] | None = None, **options: Any) -> LiveSettings:
    url = box.urls.amazon
    return LiveSettings(
        name="amazon", base_url=url, context=CONTEXT,
        options={"token_url": f"{url}/auth/o2/token", "marketplace_ids": [MARKET], **options},
        secrets={k: SecretStr(v) for k, v in (secrets or SANDBOX_SECRETS).items()},
        policy=E2E_POLICY, time_scale=time_scale,
    )


def sample_orders() -> dict[str, tuple[str, str]]:
    """Every Amazon order of the samples: id -> (scenario, the API version its sample is in)."""
    found = {}
    for path in sorted(SCENARIOS.glob("*/amazon/getOrder.json")):
        body = json.loads(path.read_text())
        if "order" in body:
            found[body["order"]["orderId"]] = (path.parts[-3], V2026_API)
        else:
            found[body["payload"]["AmazonOrderId"]] = (path.parts[-3], "v0")
    return found


V2026_API = "2026-01-01"


def sample_record(scenario: str) -> Any:
    import tomllib

    where = SCENARIOS / scenario / "amazon"
    requests = tomllib.loads((where / "requests.toml").read_text())
    payloads = [make_payload("amazon", requests[p.name], NOW, p.read_text()) for p in sorted(where.glob("*.json"))]
    [record] = PLATFORM.normalise(payloads, CONTEXT).records
    return record


def essence(record: Any) -> tuple[Any, ...]:
    return (record.ref, record.native_status, record.fulfillment, record.financial, record.lines, record.tracking,
            record.total, record.currency, record.created, record.updated, record.links)


def vendor_errors(payload: Any) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    kind = PLATFORM.recognise(json.loads(payload.body))
    file, definition = {
        "getOrder v2026-01-01": ("orders_2026-01-01.json", "GetOrderResponse"),
        "searchOrders v2026-01-01": ("orders_2026-01-01.json", "SearchOrdersResponse"),
        "getOrder v0": ("ordersV0.json", "GetOrderResponse"),
        "getOrders v0": ("ordersV0.json", "GetOrdersResponse"),
        "getOrderItems v0": ("ordersV0.json", "GetOrderItemsResponse"),
    }[kind]
    definitions = json.loads((SPECS / file).read_text())["definitions"]
    validator = jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": definitions})
    return [f"{payload.endpoint}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(json.loads(payload.body))]


@needs_sandbox
@pytest.mark.parametrize("api", [V2026_API, "v0"])
async def test_e2e_every_sample_order_reads_as_its_sample(api: str) -> None:
    async with sandbox(time_scale=100) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=100, api=api))
        orders = sample_orders()
        results = await asyncio.gather(*(adapter.lookup(order_id) for order_id in orders))
        await adapter.aclose()
        entries = box.log.entries("amazon")
    for (order_id, (scenario, native)), payloads in zip(orders.items(), results):
        [record] = PLATFORM.normalise(payloads, CONTEXT).records
        assert record.ref == order_id
        if native == api:  # the sandbox derives the other version; the native one must read the same
            assert essence(record) == essence(sample_record(scenario)), scenario
    assert {(e.method, e.path.split("?")[0].endswith("/auth/o2/token")) for e in entries} == {("GET", False), ("POST", True)}
    assert sum(e.method == "POST" for e in entries) == 1  # one token for every concurrent call
    assert not any(e.status == 429 for e in entries)  # paced within the (scaled) published limits


@needs_sandbox
@pytest.mark.parametrize("api", [V2026_API, "v0"])
async def test_e2e_unknown_order_is_proved_absent(api: str) -> None:
    async with sandbox(time_scale=100) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=100, api=api))
        payloads = await adapter.lookup(UNKNOWN_ID)
        await adapter.aclose()
    assert payloads and PLATFORM.normalise(payloads, CONTEXT).records == []
    assert payloads[-1].endpoint.startswith(f"GET /orders/v0/orders?AmazonOrderIds={UNKNOWN_ID}&")


@needs_sandbox
@pytest.mark.parametrize("api", [V2026_API, "v0"])
@pytest.mark.parametrize("ref", ["#1042", "' OR 1=1 --", "../x", "SO-Ünïcode"])
async def test_e2e_foreign_ref_is_proved_absent(api: str, ref: str) -> None:
    async with sandbox(time_scale=100) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=100, api=api))
        payloads = await adapter.lookup(ref)
        await adapter.aclose()
    listed = json.loads(payloads[0].body)["payload"]["Orders"]
    assert [o.get("SellerOrderId") for o in listed if o.get("SellerOrderId") != ref] == [], (
        "the sandbox's getOrders listed orders whose SellerOrderId is not the one asked for")
    assert PLATFORM.normalise(payloads, CONTEXT).records == []


@needs_sandbox
async def test_e2e_sustained_rate_stays_under_the_scaled_limit() -> None:
    orders = list(sample_orders())
    # getOrder at 5 req/s, burst 30: slow enough that a busy machine's scheduling jitter
    # (tens of milliseconds) cannot bunch requests past the server's bucket.
    async with sandbox(time_scale=10) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=10))
        started = time.monotonic()
        await asyncio.gather(*(adapter.lookup(orders[i % len(orders)]) for i in range(45)))
        elapsed = time.monotonic() - started
        await adapter.aclose()
        entries = box.log.entries("amazon")
    assert not any(e.status == 429 for e in entries)
    assert elapsed >= (45 - 30) / 5 * 0.9


@needs_sandbox
@pytest.mark.skipif(not SPECS.is_dir(), reason="vendor models not found at ../shared/api-specs")
async def test_e2e_sandbox_answers_validate_against_the_vendor_models() -> None:
    async with sandbox(time_scale=100) as box:
        payloads = []
        for api in (V2026_API, "v0"):
            adapter = LIVE.connect(e2e_settings(box, time_scale=100, api=api))
            for order_id in sample_orders():
                payloads += await adapter.lookup(order_id)
            payloads += await adapter.lookup(UNKNOWN_ID)
            await adapter.aclose()
    assert [error for payload in payloads for error in vendor_errors(payload)] == []


@needs_sandbox
@pytest.mark.parametrize("api", [V2026_API, "v0"])
async def test_e2e_window_finds_every_generated_order_once(api: str) -> None:
    from sandbox.data import Dataset

    now = datetime.now(timezone.utc)
    dataset = Dataset.generate(8, seed=3, anchor=(now - timedelta(days=2)).date())
    expected = set()
    for _, body in dataset.files_for("amazon"):
        if isinstance(body, dict) and isinstance(body.get("order"), dict):
            expected.add(body["order"]["orderId"])
        elif isinstance(body, dict) and isinstance(body.get("payload"), dict) and "PurchaseDate" in body["payload"]:
            expected.add(body["payload"]["AmazonOrderId"])
    assert len(expected) > 100  # more than one page
    async with sandbox(dataset, time_scale=200) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=200, api=api))
        pages = await collect(adapter, now - timedelta(days=400), None)
        refs = [ref for page in pages for ref in page.refs]
        await adapter.lookup(refs[0])
        await adapter.aclose()
    assert len(pages) >= 2 and pages[-1].cursor is None
    assert len(refs) == len(set(refs)) and set(refs) == expected


@needs_sandbox
async def test_e2e_window_resumes_from_a_cursor() -> None:
    from sandbox.data import Dataset

    now = datetime.now(timezone.utc)
    dataset = Dataset.generate(8, seed=4, anchor=(now - timedelta(days=2)).date())
    async with sandbox(dataset, time_scale=200) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=200))
        whole = await collect(adapter, now - timedelta(days=400), None)
        first = await adapter.window(now - timedelta(days=400), None).__anext__()
        rest = await collect(adapter, now - timedelta(days=400), None, first.cursor)
        await adapter.aclose()
    assert [first.refs, *(p.refs for p in rest)] == [p.refs for p in whole]


@needs_sandbox
@pytest.mark.parametrize("fault", ["rate_limited", "server_error", "unavailable", "dropped", "truncated", "expired_token", "timeout"])
async def test_e2e_each_fault_is_recovered(fault: str) -> None:
    from sandbox.core import Fault

    orders = list(sample_orders())
    async with sandbox(time_scale=100) as box:
        clean = LIVE.connect(e2e_settings(box, time_scale=100))
        expected = [await clean.lookup(order_id) for order_id in orders]
        await clean.aclose()
    async with sandbox(time_scale=100, fault_rate=0.3, faults=(Fault(fault),), seed=11, retry_after=0.01,
                       timeout_delay=0.2) as box:
        settings = e2e_settings(box, time_scale=100)
        if fault == "timeout":  # the sandbox holds the answer 0.2 s: give up waiting sooner and retry
            settings = dataclasses.replace(settings, timeout=httpx.Timeout(0.1))
        adapter = LIVE.connect(settings)
        got = await asyncio.gather(*(adapter.lookup(order_id) for order_id in orders))
        await adapter.aclose()
        entries = box.log.entries("amazon")
    assert [[p.body for p in ps] for ps in got] == [[p.body for p in ps] for ps in expected]
    assert any(e.fault == fault for e in entries), "the fault was never injected"


@needs_sandbox
async def test_e2e_wrong_credentials_are_one_clear_error() -> None:
    async with sandbox(time_scale=100) as box:
        adapter = LIVE.connect(e2e_settings(box, time_scale=100, secrets=dict(SANDBOX_SECRETS, client_secret="nope-wrong")))
        with pytest.raises(FetchError) as caught:
            await adapter.lookup(V2026_ID)
        await adapter.aclose()
    text = str(caught.value)
    assert "amazon" in text and "client_secret" in text and "nope-wrong" not in text
