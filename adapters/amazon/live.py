"""Amazon SP-API Orders over the network: LWA auth, per-operation pacing, lookups and sync windows.

Reads only: every SP-API call is a GET; the one POST is the LWA token grant. Each
response goes back verbatim as a ``RawPayload`` for :mod:`adapters.amazon.normalise`.

- Auth: Login with Amazon refresh-token grant; the access token is sent as
  ``x-amz-access-token``. No SigV4: SP-API stopped requiring it on 2023-10-02.
- Pacing: one rate-and-burst bucket per operation with Amazon's published usage
  plan (platform-apis.md §2), scaled by ``time_scale`` against the sandbox, and
  moved to the plan ``x-amzn-RateLimit-Limit`` reports when it differs.
- API: ``options["api"]`` picks ``"2026-01-01"`` (default: ``getOrder`` with
  ``includedData``) or ``"v0"`` (``getOrder`` + ``getOrderItems``, for sellers not yet
  migrated). Sync windows use ``searchOrders`` or v0 ``getOrders`` accordingly.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from adapters.base import make_payload
from adapters.http import (
    DEFAULT_TIMEOUT,
    FetchError,
    RateBurstPacer,
    Reply,
    SystemClient,
    Unpaced,
    build_client,
    error_text,
)
from adapters.live import LiveSettings, WindowPage
from audit.model import UTC, RawPayload

DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
V2026, V0 = "2026-01-01", "v0"
_API_NAMES = {"2026-01-01": V2026, "v2026-01-01": V2026, "2026": V2026, "v2026": V2026, "v0": V0, "0": V0}

# The datasets getOrder v2026 must carry for the normaliser: status, packages with tracking,
# the grand total, and item cancellations (orders_2026-01-01.json, includedData).
INCLUDED_DATA = ("FULFILLMENT", "PACKAGES", "PROCEEDS", "CANCELLATION")

# "3-7-7" (ordersV0.json AmazonOrderId). ASCII digits only: \d would accept other scripts' digits.
ORDER_ID = re.compile(r"[0-9]{3}-[0-9]{7}-[0-9]{7}")
_MARKETPLACE_ID = re.compile(r"[A-Z0-9]{1,32}")
_UNSENDABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # control characters: no order ref holds one
_MAX_REF = 200

# Published usage plans (rate in requests per second, burst), platform-apis.md §2.
USAGE_PLANS: Mapping[str, tuple[float, int]] = {
    "v2026.getOrder": (0.5, 30),
    "v2026.searchOrders": (0.0056, 20),
    "v0.getOrder": (0.5, 30),
    "v0.getOrderItems": (0.5, 30),
    "v0.getOrders": (0.0167, 20),
}

# getOrders needs CreatedAfter or LastUpdatedAfter even when it filters by id. SP-API serves
# roughly the last two years (JP/AU/SG from 2016), so this start misses no order it holds.
HISTORY_START = "2016-01-01T00:00:00Z"
# CreatedBefore / LastUpdatedBefore "must be at least two minutes before the time of the
# request"; the extra 30 s absorbs clock skew between this machine and Amazon.
BEFORE_MARGIN = timedelta(minutes=2, seconds=30)
PAGE_SIZE = 100  # maxResultsPerPage / MaxResultsPerPage: the largest page both APIs allow
_MAX_PAGES = 10_000  # a server that never stops paging is a fault, not a long window

_AUTH_HINT = (
    "check client_id, client_secret and refresh_token of the LWA app, and that the seller "
    "authorised it for the Orders API"
)
_SECRET_KEYS = ("client_id", "client_secret", "refresh_token")


class AmazonLivePlatform:
    """What ``adapters.amazon`` exposes as ``LIVE`` (adapters.live.LivePlatform)."""

    def connect(
        self,
        settings: LiveSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> AmazonLive:
        """One configured Amazon system; ``clock`` and ``monotonic`` are injectable for tests."""
        return AmazonLive(settings, clock=clock, monotonic=monotonic)


# --- auth ---------------------------------------------------------------------------------------

# The token generation each request was sent with, set by apply() in the task that then
# sees the response and may call refresh(): lets a burst of expired-token 403s cause one renewal.
_SENT_WITH: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar("lwa_sent_with", default=None)


class LwaAuth:
    """Login with Amazon access tokens by the refresh-token grant (adapters.http.Auth).

    The token is cached until shortly before ``expires_in`` runs out and renewed
    under a lock, so many concurrent calls cause one token request. ``refresh``
    renews after an expired-token 403, unless another call already renewed the
    token since this call's request went out.
    """

    def __init__(self, settings: LiveSettings, client: SystemClient, token_url: str,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._client = client
        self._token_url = token_url
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.generation = 0  # how many tokens were fetched

    async def apply(self, request: httpx.Request) -> None:
        token, generation = await self._current()
        _SENT_WITH.set((id(self), generation))
        request.headers["x-amz-access-token"] = token

    async def ready(self) -> None:
        """Fetch the token now: SystemClient awaits this before a request takes its pacing slot."""
        await self._current()

    async def refresh(self) -> bool:
        sent = _SENT_WITH.get()
        sent_with = sent[1] if sent and sent[0] == id(self) else None
        async with self._lock:
            if sent_with is not None and self.generation != sent_with and self._valid():
                return True  # renewed by another call after ours was sent: just retry
            await self._fetch()
        return True

    def secrets(self) -> list[str]:
        """Every value that must never be shown: the configured secrets and the access token."""
        values = [self._settings.secret(key) for key in _SECRET_KEYS]
        return [value for value in (*values, self._token or "") if value]

    def _valid(self) -> bool:
        return self._token is not None and self._monotonic() < self._expires_at

    async def _current(self) -> tuple[str, int]:
        if not self._valid():
            async with self._lock:
                if not self._valid():  # another call may have fetched it while we waited
                    await self._fetch()
        assert self._token is not None
        return self._token, self.generation

    async def _fetch(self) -> None:
        name = self._settings.name
        form = {"grant_type": "refresh_token"}
        for key in ("refresh_token", "client_id", "client_secret"):
            value = self._settings.secret(key)
            if not value:
                raise FetchError(name, f"the LWA secret {key} is not set", self._settings.missing_secret(key))
            form[key] = value
        path = urlsplit(self._token_url).path or "/"
        # The reply holds the access and refresh tokens: it is never kept as a payload.
        reply = await self._client.request(
            "POST", self._token_url, operation="token", data=form,
            describe=f"POST {path} (LWA grant_type=refresh_token)",
        )
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("access_token")
        # It becomes a header value: printable ASCII without spaces, or it is not a token.
        if not isinstance(token, str) or not token or not token.isascii() or not token.isprintable() or " " in token:
            raise FetchError(name, "the LWA token endpoint answered without a usable access_token",
                             "check token_url points at Login with Amazon (https://api.amazon.com/auth/o2/token)")
        lifetime = _seconds(body.get("expires_in"), default=1800.0)  # Amazon's own samples fall back to 1800 s
        # Renew a little early (a tenth of the lifetime, at most a minute): a token that expires
        # in flight costs a 403 and a retry. Time-scaled sandboxes issue short-lived tokens.
        self._token = token
        self._expires_at = self._monotonic() + lifetime - min(60.0, lifetime / 10)
        self.generation += 1


class _TokenClient(SystemClient):
    """The LWA endpoint's client: its OAuth error body (``error``, ``error_description``) read for the message."""

    def _check(self, response: httpx.Response, body: Any, endpoint: str) -> None:
        status = response.status_code
        if 400 <= status < 500 and status != 429:
            said = " ".join(error_text(body).split())[:200] or response.reason_phrase
            raise FetchError(self.name, f"{endpoint} refused: HTTP {status} {said}", _AUTH_HINT, status=status)
        super()._check(response, body, endpoint)


def _seconds(value: Any, default: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if 0 < seconds < 10 * 365 * 86400 else default


# --- the adapter ----------------------------------------------------------------------------------


class AmazonLive:
    """One configured Amazon system, read over SP-API (adapters.live.LiveAdapter)."""

    def __init__(
        self,
        settings: LiveSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        options = settings.options
        # A misconfiguration is reported by the first lookup or window, as a FetchError.
        problems: list[tuple[str, str]] = []
        api = str(options.get("api", V2026)).strip().lower()
        self.api = _API_NAMES.get(api, V2026)
        if api not in _API_NAMES:
            problems.append((f"api = {api[:40]!r} is not an Orders API version this adapter reads",
                             'set api = "2026-01-01" (the default) or api = "v0"'))
        self.marketplace_ids, problem = _marketplaces(options.get("marketplace_ids"))
        if problem:
            problems.append((problem, 'set marketplace_ids = ["ATVPDKIKX0DER"] (your marketplaces)'))
        token_url = str(options.get("token_url") or DEFAULT_TOKEN_URL)
        for key, url in (("base_url", settings.base_url), ("token_url", token_url)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problems.append((f"{key} {url[:100]!r} is not an http(s) URL",
                                 "e.g. https://sellingpartnerapi-na.amazon.com and https://api.amazon.com/auth/o2/token"))
        self._problem = problems[0] if problems else None
        base_url = settings.base_url if urlsplit(settings.base_url).hostname else "http://invalid.invalid"
        token_origin = token_url if urlsplit(token_url).hostname else "http://invalid.invalid"
        timeout = settings.timeout or DEFAULT_TIMEOUT

        # LWA publishes no rate limit for the token endpoint; calls to it are serialised by
        # the auth lock and happen about once per token lifetime, so they are not paced.
        self._token_client = _TokenClient(
            settings.name, build_client(token_origin, timeout=timeout, transport=settings.transport),
            pacers={"token": Unpaced()},
            policy=settings.policy, hint=_AUTH_HINT, clock=self.clock,
        )
        self.auth = LwaAuth(settings, self._token_client, token_url, monotonic)
        self.pacers: dict[str, RateBurstPacer] = {
            operation: RateBurstPacer(rate, burst, time_scale=settings.time_scale)
            for operation, (rate, burst) in USAGE_PLANS.items()
        }
        self.client = SystemClient(
            settings.name, build_client(base_url, timeout=timeout, transport=settings.transport),
            auth=self.auth, pacers=self.pacers,
            policy=settings.policy, hint=_AUTH_HINT, clock=self.clock,
        )

    async def aclose(self) -> None:
        try:
            await self.client.aclose()
        finally:
            await self._token_client.aclose()

    # --- lookup ---------------------------------------------------------------------------------

    async def lookup(self, ref: str) -> list[RawPayload]:
        """Every response needed to know what this system holds for ``ref`` (adapters.live.LiveAdapter).

        An Amazon order id is read with getOrder (v2026 with includedData, or v0 with
        its items). Any other ref is looked for as a SellerOrderId (where a seller's own
        or another channel's order number lives). A system holding nothing answers
        with an empty v0 getOrders list, which is the proof.
        """
        with self._scrubbed():
            self._ready()
            ref = ref.strip()
            if ORDER_ID.fullmatch(ref):
                return await (self._order_v0(ref) if self.api == V0 else self._order_2026(ref))
            return await self._by_seller_order_id(ref)

    async def _order_2026(self, order_id: str) -> list[RawPayload]:
        params = {"includedData": ",".join(INCLUDED_DATA)}
        try:
            reply = await self._get(f"/orders/2026-01-01/orders/{_segment(order_id)}", params, "v2026.getOrder")
        except FetchError as exc:
            if exc.status != 404:
                raise
            return await self._absent(order_id)
        return [self._payload(reply)]

    async def _order_v0(self, order_id: str) -> list[RawPayload]:
        try:
            reply = await self._get(f"/orders/v0/orders/{_segment(order_id)}", {}, "v0.getOrder")
        except FetchError as exc:
            if exc.status != 404:
                raise
            return await self._absent(order_id)
        return [self._payload(reply), *await self._items_v0(order_id)]

    async def _absent(self, order_id: str) -> list[RawPayload]:
        """Prove that getOrder's 404 means the system holds no such order.

        The 404 itself cannot be the proof: its body is ``{"errors": [...]}``, which the
        normaliser reads as a failed fetch (PayloadError), not as "holds nothing".
        searchOrders (v2026) has no order-id filter, so the proof is v0 getOrders with
        ``AmazonOrderIds``; it requires MarketplaceIds and CreatedAfter, and an empty
        ``{"payload": {"Orders": []}}`` is what the normaliser reads as no record.
        Should the list show the order after all (a 404 from a lagging replica), its
        items are fetched too, so the v0 order it holds is a whole record.
        """
        return await self._search_v0({"AmazonOrderIds": order_id}, then_v2026=False)

    async def _by_seller_order_id(self, ref: str) -> list[RawPayload]:
        """Orders whose SellerOrderId is ``ref`` (another channel's number, e.g. a Shopify name), or the proof of none."""
        if not ref or len(ref) > _MAX_REF or _UNSENDABLE.search(ref):
            raise FetchError(
                self.name, f"{ref[:60]!r} is neither an Amazon order id (3-7-7 digits) nor a seller order id",
                "give an Amazon order id such as 113-1234567-1234567, or an order number without control characters",
            )
        # The ref goes only into a query parameter value, percent-encoded by httpx; never into a path.
        return await self._search_v0({"SellerOrderId": ref}, then_v2026=self.api == V2026)

    async def _search_v0(self, filters: Mapping[str, str], *, then_v2026: bool) -> list[RawPayload]:
        """v0 getOrders since HISTORY_START with one filter, every page, then each hit's details."""
        marketplaces = self._require_marketplaces("getOrders")
        params = {**filters, "MarketplaceIds": ",".join(marketplaces), "CreatedAfter": HISTORY_START}
        payloads: list[RawPayload] = []
        found: list[str] = []
        async for reply, ids, _ in self._pages("/orders/v0/orders", params, "v0.getOrders", "NextToken", _v0_orders):
            payloads.append(self._payload(reply))
            found += [order_id for order_id in ids if order_id not in found]
        for order_id in found:
            payloads += await self._details(order_id, then_v2026)
        return payloads

    async def _details(self, order_id: str, v2026: bool) -> list[RawPayload]:
        """What a getOrders hit needs beside the listed order: v2026 getOrder, else the v0 items."""
        if not ORDER_ID.fullmatch(order_id):
            raise FetchError(self.name, f"getOrders listed an order id {order_id[:40]!r} that is not 3-7-7 digits",
                             "check base_url points at an SP-API host")
        if v2026:
            params = {"includedData": ",".join(INCLUDED_DATA)}
            try:
                reply = await self._get(f"/orders/2026-01-01/orders/{_segment(order_id)}", params, "v2026.getOrder")
            except FetchError as exc:
                if exc.status != 404:
                    raise
            else:
                return [self._payload(reply)]
        return await self._items_v0(order_id)

    async def _items_v0(self, order_id: str) -> list[RawPayload]:
        path = f"/orders/v0/orders/{_segment(order_id)}/orderItems"
        pages = self._pages(path, {}, "v0.getOrderItems", "NextToken", _v0_items)
        return [self._payload(reply) async for reply, _, _ in pages]

    # --- window ---------------------------------------------------------------------------------

    async def window(
        self, since: datetime, until: datetime | None, cursor: str | None = None
    ) -> AsyncIterator[WindowPage]:
        """The refs of orders updated in ``[since, until)``, a page at a time (adapters.live.LiveAdapter).

        ``until`` is moved back to at least 2.5 minutes before now: Amazon refuses a
        LastUpdatedBefore less than two minutes old. A cursor carries the window it was
        made for (a page token is only valid with the same filters), so a resumed
        window asks exactly what the first page asked, whatever ``since`` and ``until``
        are passed with it.
        """
        with self._scrubbed():
            self._ready()
            marketplaces = self._require_marketplaces("searchOrders" if self.api == V2026 else "getOrders")
            if cursor is not None:
                after, before, token = self._read_cursor(cursor)
            else:
                after, before, token = _iso(since), _iso(self._latest_before(until)), None
                if before <= after:
                    return
            if self.api == V2026:
                path, operation, token_key = "/orders/2026-01-01/orders", "v2026.searchOrders", "paginationToken"
                params = {"lastUpdatedAfter": after, "lastUpdatedBefore": before,
                          "marketplaceIds": ",".join(marketplaces), "maxResultsPerPage": str(PAGE_SIZE)}
                read = _v2026_orders
            else:
                path, operation, token_key = "/orders/v0/orders", "v0.getOrders", "NextToken"
                params = {"LastUpdatedAfter": after, "LastUpdatedBefore": before,
                          "MarketplaceIds": ",".join(marketplaces), "MaxResultsPerPage": str(PAGE_SIZE)}
                read = _v0_orders
            try:
                async for _, ids, next_token in self._pages(path, params, operation, token_key, read, token):
                    next_cursor = self._make_cursor(after, before, next_token) if next_token else None
                    yield WindowPage(refs=ids, cursor=next_cursor)
            except FetchError as exc:
                if cursor is not None and exc.status == 400:
                    raise FetchError(self.name, str(exc).removeprefix(f"{self.name}: "),
                                     "the page token may have expired (Amazon keeps them 24 hours): "
                                     "restart this window without its cursor", status=400) from None
                raise

    def _latest_before(self, until: datetime | None) -> datetime:
        latest = self.clock() - BEFORE_MARGIN
        if until is None:
            return latest
        if until.tzinfo is None:
            raise ValueError("until must be an aware datetime (UTC)")
        return min(until, latest)

    def _make_cursor(self, after: str, before: str, token: str) -> str:
        return json.dumps({"api": self.api, "after": after, "before": before, "token": token}, separators=(",", ":"))

    def _read_cursor(self, cursor: str) -> tuple[str, str, str]:
        try:
            state = json.loads(cursor)
            values = tuple(state[key] for key in ("api", "after", "before", "token"))
        except (ValueError, TypeError, KeyError):
            values = ()
        if len(values) != 4 or not all(isinstance(value, str) and value for value in values):
            raise FetchError(self.name, "the sync cursor is not one this adapter made",
                             "restart the window without a cursor")
        api, after, before, token = values
        if api != self.api:
            raise FetchError(self.name, f"the sync cursor was made for Orders API {api[:20]!r}, not {self.api!r}",
                             "restart the window without a cursor")
        return after, before, token

    # --- plumbing -------------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, str], operation: str) -> Reply:
        query = urlencode(list(params.items()), safe=",:")
        describe = f"GET {path}" + (f"?{query}" if query else "")
        return await self.client.request("GET", path, operation=operation, params=params or None, describe=describe)

    async def _pages(
        self,
        path: str,
        params: Mapping[str, str],
        operation: str,
        token_key: str,
        read: Callable[[Any], tuple[list[str], str | None] | None],
        token: str | None = None,
    ) -> AsyncIterator[tuple[Reply, list[str], str | None]]:
        """Every page of a list call, following its next-page token with the same filters."""
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            reply = await self._get(path, {**params, token_key: token} if token else params, operation)
            parsed = read(reply.body)
            if parsed is None:
                raise FetchError(self.name, f"{reply.endpoint} answered with something that is not an Orders API list",
                                 "check base_url points at an SP-API host")
            ids, token = parsed
            if token is not None and token in seen:
                raise FetchError(self.name, f"{reply.endpoint} handed back a page token it had already given",
                                 "the system is paging in a loop; try again later")
            yield reply, ids, token
            if token is None:
                return
            seen.add(token)
        raise FetchError(self.name, f"GET {path} gave more than {_MAX_PAGES} pages", "narrow the window")

    def _payload(self, reply: Reply) -> RawPayload:
        return make_payload(self.name, reply.endpoint, reply.fetched_at, reply.text)

    def _ready(self) -> None:
        if self._problem is not None:
            raise FetchError(self.name, *self._problem)

    def _require_marketplaces(self, operation: str) -> list[str]:
        if not self.marketplace_ids:
            raise FetchError(self.name, f"marketplace_ids is not set, and {operation} requires it",
                             'set marketplace_ids = ["ATVPDKIKX0DER"] (your marketplaces) in the system\'s config')
        return self.marketplace_ids

    @contextmanager
    def _scrubbed(self) -> Iterator[None]:
        """A FetchError that somehow quotes a secret (a server echoing a form) is re-raised without it."""
        try:
            yield
        except FetchError as exc:
            text = str(exc)
            secrets = self.auth.secrets()
            if not any(secret in text for secret in secrets):
                raise
            for secret in secrets:
                text = text.replace(secret, "***")
            raise FetchError(exc.system, text.removeprefix(f"{exc.system}: "), status=exc.status) from None


# --- small helpers ----------------------------------------------------------------------------------


def _segment(order_id: str) -> str:
    """A validated order id as a URL path segment (percent-encoded, though 3-7-7 digits need none)."""
    if not ORDER_ID.fullmatch(order_id):
        raise ValueError("not an Amazon order id")
    return quote(order_id, safe="")


def _iso(at: datetime) -> str:
    """SP-API's ISO-8601 form, whole seconds in UTC (an aware datetime only: a naive one is ambiguous)."""
    if at.tzinfo is None:
        raise ValueError("window bounds must be aware datetimes (UTC)")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _marketplaces(value: Any) -> tuple[list[str], str | None]:
    """``marketplace_ids`` as a list (a TOML array or a comma-separated string), or the problem with it."""
    if value is None or value == "" or value == []:
        return [], None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence) or isinstance(items, (bytes, bytearray)):
        return [], "marketplace_ids must be a list of marketplace ids"
    ids = [str(item).strip() for item in items]
    bad = next((item for item in ids if not _MARKETPLACE_ID.fullmatch(item)), None)
    if bad is not None:
        return [], f"marketplace_ids holds {bad[:40]!r}, which is not a marketplace id (upper-case letters and digits)"
    if len(ids) > 50:
        return [], "marketplace_ids lists more than 50 marketplaces, the most one request takes"
    return list(dict.fromkeys(ids)), None


def _v2026_orders(body: Any) -> tuple[list[str], str | None] | None:
    """searchOrders: ``{"orders": [...], "pagination": {"nextToken": ...}}`` (absent on the last page)."""
    if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
        return None
    ids = [order["orderId"] for order in body["orders"] if isinstance(order, dict) and isinstance(order.get("orderId"), str)]
    pagination = body.get("pagination")
    token = pagination.get("nextToken") if isinstance(pagination, dict) else None
    return ids, token if isinstance(token, str) and token else None


def _v0_orders(body: Any) -> tuple[list[str], str | None] | None:
    """v0 getOrders: ``{"payload": {"Orders": [...], "NextToken": ...}}``."""
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("Orders"), list):
        return None
    ids = [o["AmazonOrderId"] for o in payload["Orders"] if isinstance(o, dict) and isinstance(o.get("AmazonOrderId"), str)]
    token = payload.get("NextToken")
    return ids, token if isinstance(token, str) and token else None


def _v0_items(body: Any) -> tuple[list[str], str | None] | None:
    """v0 getOrderItems: ``{"payload": {"AmazonOrderId", "OrderItems": [...], "NextToken": ...}}``."""
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("OrderItems"), list):
        return None
    token = payload.get("NextToken")
    return [], token if isinstance(token, str) and token else None


LIVE = AmazonLivePlatform()

__all__ = ["LIVE", "AmazonLive", "AmazonLivePlatform", "LwaAuth", "USAGE_PLANS", "INCLUDED_DATA", "ORDER_ID"]
