"""Shopify over the GraphQL Admin API: one order by any of its refs, and the orders a time window changed.

Every call is a read-only GraphQL query (:mod:`adapters.shopify.queries`) sent
through :meth:`adapters.http.SystemClient.request` to
``POST /admin/api/{api_version}/graphql.json`` with ``X-Shopify-Access-Token``.
Pacing follows Shopify's cost bucket: each query spends its requested cost
(estimated from its page sizes until a response tells the real figure) from a
:class:`~adapters.http.CostBucketPacer` that every response's
``extensions.cost.throttleStatus`` keeps in step; a THROTTLED answer, whether
it comes with HTTP 200 or 429, is retried after ``(requested - available) /
restoreRate`` seconds.

Refs never enter a GraphQL document: they travel as variables, and inside a
Shopify search string they are quoted and escaped (:func:`search_value`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

# graphql-core (already a dependency, for the sandbox) parses our own documents to estimate
# their cost from the page sizes; a regex over GraphQL would miss fragments and variables.
from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, IntValueNode
from graphql import OperationDefinitionNode, SelectionSetNode, VariableNode, parse

from adapters.base import make_payload
from adapters.http import DEFAULT_TIMEOUT, CostBucketPacer, FetchError, Reply, RetryableError, SystemClient, build_client
from adapters.live import LiveSettings, WindowPage
from adapters.shopify import queries
from adapters.shopify.normalise import _link_forms
from audit.model import UTC, RawPayload, ThreetruthError

ORDER_GID = re.compile(r"gid://shopify/Order/([1-9][0-9]{0,19})")
"""An order's GID, exactly: nothing else that starts with ``gid://`` is sent."""

NUMERIC_ID = re.compile(r"[1-9][0-9]{9,19}")
"""A bare order id (the REST / ``legacyResourceId`` number). Order ids have had ten or more digits
for years, while order numbers stay far shorter, so ten digits is where a number stops being a name."""

ORDER_NUMBER = re.compile(r"#?[0-9]{1,9}")
"""``#1042`` or ``1042``: the default order name, with or without its ``#``."""

API_VERSION = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])|unstable")
MAX_REF_LENGTH = 255
MAX_PAGES = 500  # per connection (100 per page): past this a loop is more likely than an order that large
MAX_SEARCH_PAGES = 20  # 200 hits: a search this broad is not finding one order
VISIBLE_WITHOUT_READ_ALL_ORDERS = timedelta(days=60)

# What the bucket is assumed to be before the first response says (platform-apis.md §1a: responses
# in the wild show 1000 / 50; current plans restore faster). The first throttleStatus replaces both.
ASSUMED_BUCKET = 1000.0
ASSUMED_RESTORE_RATE = 50.0

ERROR_HINTS = {
    "ACCESS_DENIED": "the app needs the read_orders scope (and read_all_orders for orders older than 60 days)",
    "MAX_COST_EXCEEDED": "a query asks for more than Shopify's 1000-point cap; lower the page sizes in "
    "adapters/shopify/queries.py",
}


class ShopifyLivePlatform:
    """What ``adapters.shopify.live`` exposes as ``LIVE`` (see :class:`adapters.live.LivePlatform`)."""

    name = "shopify"

    def connect(self, settings: LiveSettings) -> ShopifyLiveAdapter:
        """One configured shop. Configuration problems surface as FetchError on the first call."""
        return ShopifyLiveAdapter(settings)


LIVE = ShopifyLivePlatform()


@dataclass(frozen=True)
class _Search:
    """One Shopify search and the test a hit must pass to be read as the order the ref names."""

    query: str
    keep: Callable[[Mapping[str, Any]], bool]


class _AccessToken:
    """Adds ``X-Shopify-Access-Token``; there is nothing to refresh (a custom app's token does not expire)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def apply(self, request: httpx.Request) -> None:
        request.headers["X-Shopify-Access-Token"] = self._token

    async def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "_AccessToken(***)"


class ShopifyLiveAdapter:
    """One shop, read over the GraphQL Admin API (see :class:`adapters.live.LiveAdapter`)."""

    def __init__(self, settings: LiveSettings) -> None:
        self.name = settings.name
        self.settings = settings
        self.api_version = str(settings.options.get("api_version") or queries.API_VERSION)
        self.path = f"/admin/api/{self.api_version}/graphql.json"
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.pacer = CostBucketPacer(ASSUMED_BUCKET, ASSUMED_RESTORE_RATE * settings.time_scale)
        self._learned: dict[tuple[str, int | None], float] = {}  # (query, page size) -> requestedQueryCost
        # One request in flight per shop. Shopify holds a query's whole requested cost while it runs, and a
        # full order read (~760 points) is most of a bucket, so concurrency buys little; and CostBucketPacer
        # only learns the refund of the unused cost from the response, so a request queued behind another
        # would sleep for restore time the refund has already made unnecessary (16 concurrent lookups at
        # 100 points/s took 79 s against 1 s one after another in the sandbox).
        self._in_flight = asyncio.Lock()
        self._scopes: frozenset[str] | None = None
        self._scopes_asked = False
        self._problem = self._configuration_problem()
        self._client: SystemClient | None = None
        if self._problem is None:
            self._client = SystemClient(
                self.name,
                build_client(settings.base_url.rstrip("/"), timeout=settings.timeout or DEFAULT_TIMEOUT,
                             transport=settings.transport),
                auth=_AccessToken(settings.secret("access_token")),
                pacers={"*": self.pacer},
                policy=settings.policy,
                throttled=self._throttled,
                hint="check access_token (the Admin API access token of the shop's custom app) and that the app "
                "is installed with the read_orders scope",
            )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # --- configuration ----------------------------------------------------------------------------

    def _configuration_problem(self) -> tuple[str, str] | None:
        """What stops this system from being read at all (problem, what to check), named without any secret's value."""
        settings = self.settings
        where = f"[systems.{settings.name}]"
        url = httpx.URL(settings.base_url) if _parses(settings.base_url) else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            return ("base_url is missing or not a URL",
                    f"set base_url = \"https://<shop>.myshopify.com\" in {where}")
        if not API_VERSION.fullmatch(self.api_version):
            return (f"api_version {self.api_version[:20]!r} is not a Shopify API version",
                    f"set api_version = \"YYYY-MM\" (e.g. {queries.API_VERSION}) in {where}, or leave it out")
        token = settings.secret("access_token")
        if not token:
            return ("no access token: the access_token secret is empty", settings.missing_secret("access_token"))
        if not all(0x21 <= ord(ch) <= 0x7E for ch in token):
            # httpx would refuse the header with the value in its message: stop here, without it.
            variable = settings.secret_env.get("access_token")
            return ("the access_token secret holds spaces or characters a header cannot carry",
                    f"check ${variable}: it should hold only the token" if variable
                    else "check the environment variable access_token names: it should hold only the token")
        try:
            _link_forms(settings.context.marketplace_link)
        except ThreetruthError as exc:
            return (str(exc), f"fix marketplace_link in {where}")
        return None

    def _ready(self) -> SystemClient:
        if self._problem is not None:
            raise FetchError(self.name, *self._problem)
        assert self._client is not None
        return self._client

    # --- lookup -----------------------------------------------------------------------------------

    async def lookup(self, ref: str) -> list[RawPayload]:
        """Every response that tells what the shop holds for ``ref``.

        Args:
            ref: an order name (``#1042``, ``1042``), an order GID or numeric id, or a
                marketplace ref the shop stores per ``context.marketplace_link``.

        Returns:
            The verbatim responses: the searches (empty ones prove absence), each
            order read in full, and every further page of its connections.

        Raises:
            FetchError: the shop could not be read, or ``ref`` is not a ref at all.
        """
        self._ready()
        text = self._checked_ref(ref)
        payloads: list[RawPayload] = []
        fallback: list[_Search] = []
        if ORDER_GID.fullmatch(text) or NUMERIC_ID.fullmatch(text):
            read, found = await self._read_order(text if text.startswith("gid:") else f"gid://shopify/Order/{text}")
            if found or text.startswith("gid:"):
                return read
            payloads += read
            # A long number the shop does not know as an order id may be a marketplace's (Walmart, eBay).
            primary = self._marketplace_searches(text)
        elif text.startswith("#"):
            primary = [self._name_search(text)]
        elif ORDER_NUMBER.fullmatch(text):
            primary = [self._name_search(text)]
            fallback = self._marketplace_searches(text)  # a bare number may be another system's ref
        else:
            primary = self._marketplace_searches(text) or [self._name_search(text)]
        ids: list[str] = []
        for searches in (primary, fallback):
            if ids:
                break
            for search in searches:
                found_payloads, kept = await self._search(search)
                payloads += found_payloads
                ids += [gid for gid in kept if gid not in ids]
        for gid in ids:
            read, _ = await self._read_order(gid)
            payloads += read
        return payloads

    def _checked_ref(self, ref: str) -> str:
        text = ref.strip() if isinstance(ref, str) else ""
        if not text:
            raise FetchError(self.name, "an empty order ref", "give an order name (#1042), id or marketplace ref")
        if len(text) > MAX_REF_LENGTH or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            raise FetchError(self.name, f"{_shown(text)} is not an order ref (control characters or too long)",
                             "give an order name (#1042), id or marketplace ref")
        return text

    def _name_search(self, ref: str) -> _Search:
        wanted = ref.lstrip("#").casefold()
        return _Search(f"name:{search_value(ref)}",
                       lambda node: str(node.get("name") or "").strip().lstrip("#").casefold() == wanted)

    def _marketplace_searches(self, ref: str) -> list[_Search]:
        """The searches ``context.marketplace_link`` calls for, each with the test that proves a real hit."""
        searches: list[_Search] = []
        for form, argument in _link_forms(self.settings.context.marketplace_link):
            if form == "custom_attribute":
                # No search filter reads custom attributes: search the value as a phrase and keep only
                # the orders whose attribute under that key really holds it.
                key = argument.casefold()
                searches.append(_Search(search_value(ref), lambda node, key=key: any(
                    isinstance(a, Mapping) and str(a.get("key") or "").strip().casefold() == key
                    and str(a.get("value") or "").strip() == ref for a in node.get("customAttributes") or [])))
            elif form == "tag":
                searches.append(_Search(f"tag:{search_value(argument + ref)}", lambda node, prefix=argument: any(
                    isinstance(t, str) and t.startswith(prefix) and t[len(prefix):].strip() == ref
                    for t in node.get("tags") or [])))
            elif form == "source_identifier":
                searches.append(_Search(f"source_identifier:{search_value(ref)}",
                                        lambda node: str(node.get("sourceIdentifier") or "").strip() == ref))
            else:  # name: the marketplace ref is the order's name
                searches.append(_Search(f"name:{search_value(ref)}",
                                        lambda node: str(node.get("name") or "").strip() == ref))
        return searches

    async def _search(self, search: _Search) -> tuple[list[RawPayload], list[str]]:
        """Every page of one search, and the GIDs of the hits that pass its test."""
        payloads: list[RawPayload] = []
        kept: list[str] = []
        after: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_SEARCH_PAGES):
            variables: dict[str, Any] = {"query": search.query, "first": queries.SEARCH_PAGE}
            described = f"orders(query: {_quoted(search.query)}, first: {queries.SEARCH_PAGE}"
            if after is not None:
                variables["after"] = after
                described += f", after: {_quoted(after)}"
            reply = await self._query("ORDERS_SEARCH", variables, f"{described})", "orders")
            payloads.append(self._payload(reply))
            connection = _mapping(reply.body["data"]["orders"])
            for node in _nodes(connection):
                gid = node.get("id")
                if isinstance(gid, str) and ORDER_GID.fullmatch(gid) and search.keep(node) and gid not in kept:
                    kept.append(gid)
            after = self._next_cursor(connection, seen, reply.endpoint)
            if after is None:
                return payloads, kept
        raise FetchError(self.name, f"the search {_quoted(search.query)} matched more than "
                         f"{MAX_SEARCH_PAGES * queries.SEARCH_PAGE} orders", "look the order up by its name or id")

    async def _read_order(self, gid: str) -> tuple[list[RawPayload], bool]:
        """One order in full (ORDER_BY_ID) and every further page of its connections; False when absent."""
        reply = await self._query("ORDER_BY_ID", {"id": gid}, f"order(id: {gid})", "order")
        payloads = [self._payload(reply)]
        order = reply.body["data"]["order"]
        if order is None:
            return payloads, False  # data.order null: the proof that the shop holds no such order
        order = _mapping(order)
        payloads += await self._follow("ORDER_LINE_ITEMS_PAGE", gid, f"order(id: {gid}).lineItems",
                                       queries.LINE_ITEMS_PAGE, "order", "lineItems", order.get("lineItems"))
        payloads += await self._follow("ORDER_EVENTS_PAGE", gid, f"order(id: {gid}).events",
                                       queries.EVENTS_PAGE, "order", "events", order.get("events"))
        for fulfillment in order.get("fulfillments") or []:
            fulfillment = _mapping(fulfillment)
            fid = fulfillment.get("id")
            connection = fulfillment.get("fulfillmentLineItems")
            if isinstance(fid, str) and fid.startswith("gid://shopify/Fulfillment/"):
                payloads += await self._follow(
                    "FULFILLMENT_LINE_ITEMS_PAGE", fid, f"fulfillment(id: {fid}).fulfillmentLineItems",
                    queries.FULFILLMENT_LINE_ITEMS_PAGE_SIZE, "fulfillment", "fulfillmentLineItems", connection)
        return payloads, True

    async def _follow(self, query: str, node_id: str, described: str, size: int, root: str, field: str,
                      connection: Any) -> list[RawPayload]:
        """The further pages of one connection, each response its own payload."""
        payloads: list[RawPayload] = []
        seen: set[str] = set()
        endpoint = f"{described}"
        for _ in range(MAX_PAGES):
            after = self._next_cursor(_mapping(connection), seen, endpoint)
            if after is None:
                return payloads
            reply = await self._query(query, {"id": node_id, "after": after},
                                      f"{described}(first: {size}, after: {_quoted(after)})", root)
            payloads.append(self._payload(reply))
            node = reply.body["data"][root]
            if node is None:
                return payloads  # deleted between pages: the null page says so
            connection = _mapping(node).get(field)
            endpoint = reply.endpoint
        raise FetchError(self.name, f"{described}: more than {MAX_PAGES} pages", "this looks like a paging loop")

    def _next_cursor(self, connection: Mapping[str, Any], seen: set[str], endpoint: str) -> str | None:
        info = _mapping(connection.get("pageInfo"))
        if not info.get("hasNextPage"):
            return None
        cursor = info.get("endCursor")
        if not isinstance(cursor, str) or not cursor or cursor in seen:
            raise FetchError(self.name, f"{endpoint}: hasNextPage without a new endCursor",
                             "the shop's paging did not advance; try again later")
        seen.add(cursor)
        return cursor

    # --- window -----------------------------------------------------------------------------------

    async def window(self, since: datetime, until: datetime | None, cursor: str | None = None
                     ) -> AsyncIterator[WindowPage]:
        """The names of the orders updated in ``[since, until)``, 50 a page, oldest change first.

        The search is ``updated_at:>="ISO" updated_at:<"ISO"`` with ``sortKey: UPDATED_AT``.

        ``cursor`` is a page's ``cursor`` from an earlier run of the same window:
        the query string is rebuilt identically, so Shopify's cursor still holds.
        """
        self._ready()
        start = _utc(since)
        end = _utc(until) if until is not None else None
        if end is not None and end <= start:
            raise FetchError(self.name, f"the window ends ({_iso(end)}) before it starts ({_iso(start)})",
                             "check --since and --until")
        if cursor is None:
            await self._check_visibility(start)
        # Dates must be quoted in Shopify search syntax; single and double quotes are both allowed.
        search = f"updated_at:>={search_value(_iso(start))}"
        if end is not None:
            # Rounded up to the second, so nothing changed in the last fraction of it is left out.
            search += f" updated_at:<{search_value(_iso(end + timedelta(microseconds=999_999)))}"
        after = cursor
        seen: set[str] = set()
        while True:
            variables: dict[str, Any] = {"query": search, "first": queries.WINDOW_PAGE}
            described = f"orders(query: {_quoted(search)}, sortKey: UPDATED_AT, first: {queries.WINDOW_PAGE}"
            if after is not None:
                variables["after"] = after
                described += f", after: {_quoted(after)}"
            reply = await self._query("ORDERS_WINDOW", variables, f"{described})", "orders")
            connection = _mapping(reply.body["data"]["orders"])
            refs = []
            for node in _nodes(connection):
                # The GID: a lookup by id is one order(id:) read, where a name costs a search first.
                ref = node.get("id") or node.get("name")
                if isinstance(ref, str) and ref.strip() and ref not in refs:
                    refs.append(ref)
            after = self._next_cursor(connection, seen, reply.endpoint)
            yield WindowPage(refs, after)
            if after is None:
                return

    async def _check_visibility(self, since: datetime) -> None:
        """A window older than 60 days needs read_all_orders; say so instead of syncing a silent gap.

        Asked once per connection and only for such a window. A shop or emulator that
        cannot tell its scopes is given the benefit of the doubt.
        """
        if since >= self.now() - VISIBLE_WITHOUT_READ_ALL_ORDERS:
            return
        if not self._scopes_asked:
            self._scopes_asked = True
            try:
                reply = await self._query("APP_ACCESS_SCOPES", {}, "currentAppInstallation.accessScopes",
                                          "currentAppInstallation")
                scopes = _mapping(reply.body["data"]["currentAppInstallation"]).get("accessScopes") or []
                self._scopes = frozenset(str(_mapping(s).get("handle")) for s in scopes)
            except FetchError:
                self._scopes = None
        if self._scopes is not None and "read_all_orders" not in self._scopes:
            raise FetchError(
                self.name,
                f"the window starts {_iso(since)}, more than 60 days ago, and the access token lacks read_all_orders: "
                "Shopify leaves older orders out without saying so",
                "grant the app the read_all_orders scope, or sync a window within the last 60 days",
            )

    # --- one query ------------------------------------------------------------------------------

    async def _query(self, name: str, variables: dict[str, Any], described: str, root: str) -> Reply:
        """Send one of :data:`queries.ALL_QUERIES`, paced by its cost; a FetchError unless ``data.<root>`` came back."""
        client = self._ready()
        document = queries.ALL_QUERIES[name]
        key = (name, variables.get("first"))
        cost = self._learned.get(key) or estimate_cost(document, variables)
        async with self._in_flight:
            reply = await client.request(
                "POST", self.path, operation="graphql", cost=cost,
                json_body={"query": document, "variables": variables},
                describe=f"POST {self.path} {described}",
            )
        requested = _cost(reply.body).get("requestedQueryCost")
        if isinstance(requested, (int, float)) and requested > 0:
            self._learned[key] = float(requested)
        self._check_answer(reply, root)
        return reply

    def _check_answer(self, reply: Reply, root: str) -> None:
        body = reply.body
        if not isinstance(body, dict):
            raise FetchError(self.name, f"{reply.endpoint}: the answer is not a GraphQL response",
                             "check that base_url is the shop's https://<shop>.myshopify.com address")
        data = body.get("data")
        errors = body.get("errors")
        if errors and not (isinstance(data, dict) and data.get(root) is not None):
            codes = _error_codes(body)
            message = _error_message(errors)
            head = f"GraphQL error {', '.join(codes)}" if codes else "GraphQL error"
            hint = next((ERROR_HINTS[code] for code in codes if code in ERROR_HINTS), "")
            raise FetchError(self.name, f"{reply.endpoint}: {head}" + (f": {message}" if message else ""), hint)
        if not isinstance(data, dict) or root not in data:
            raise FetchError(self.name, f"{reply.endpoint}: no data.{root} in the answer",
                             "check that base_url is the shop's https://<shop>.myshopify.com address")

    def _throttled(self, response: httpx.Response, body: Any) -> str | None:
        """SystemClient's classifier: THROTTLED (HTTP 200 or 429) is a retry after the bucket refills.

        It raises the RetryableError itself (SystemClient calls it inside the attempt) so
        that the wait is the one throttleStatus implies rather than a blind backoff.
        Shopify's INTERNAL_SERVER_ERROR, which comes with HTTP 200, is a plain retry.
        """
        codes = _error_codes(body)
        if "INTERNAL_SERVER_ERROR" in codes and not _mapping(body).get("data"):
            return "GraphQL INTERNAL_SERVER_ERROR (with HTTP 200)"
        if "THROTTLED" not in codes:
            return None
        cost = _cost(body)
        status = _mapping(cost.get("throttleStatus"))
        wait = None
        try:
            requested = float(cost["requestedQueryCost"])
            available = float(status["currentlyAvailable"])
            restore = float(status["restoreRate"])
            if restore > 0:
                wait = max(requested - available, 0.0) / restore
        except (KeyError, TypeError, ValueError):
            wait = None  # no usable throttleStatus: SystemClient backs off exponentially
        raise RetryableError(f"HTTP {response.status_code} THROTTLED by Shopify's cost bucket", retry_after=wait)

    def _payload(self, reply: Reply) -> RawPayload:
        return make_payload(self.name, reply.endpoint, reply.fetched_at, reply.text)


# --- helpers ---------------------------------------------------------------------------------------


def search_value(text: str) -> str:
    """A value for Shopify search syntax: double-quoted, backslashes and quotes escaped.

    Inside quotes the grammar's special characters (``: ( )``, connectives, ``-`` and
    wildcards) are plain text, so a ref can only ever be one value.
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def estimate_cost(document: str, variables: Mapping[str, Any] | None = None) -> float:
    """A query's requested cost as Shopify computes it, from its page sizes (shopify.dev rate limits).

    Scalars and enums cost 0 and objects 1; a connection costs 2 plus ``first`` times
    the cost of one node; a list field taking ``first`` costs ``first`` times one item.
    An estimate only: once Shopify answers, its ``requestedQueryCost`` is used instead.
    """
    operation, fragments, defaults = _parsed(document)
    values = {**defaults, **(variables or {})}

    def size(field: FieldNode) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    return int(value.value)
                if isinstance(value, VariableNode):
                    given = values.get(value.name.value)
                    return int(given) if isinstance(given, int) else None
        return None

    def fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, FragmentSpreadNode):
                found += fields(fragments[selection.name.value].selection_set)
            elif isinstance(selection, InlineFragmentNode):
                found += fields(selection.selection_set)
        return found

    def children(field: FieldNode) -> int:
        return sum(cost(child) for child in fields(field.selection_set))

    def cost(field: FieldNode) -> int:
        if field.selection_set is None:
            return 0
        n = size(field)
        if n is None:
            return 1 + children(field)
        members = {child.name.value: child for child in fields(field.selection_set)}
        if "nodes" in members or "edges" in members:
            node = members.get("nodes")
            if node is None:
                node = next((c for c in fields(members["edges"].selection_set) if c.name.value == "node"), None)
            return 2 + n * (1 + children(node) if node is not None else 1)
        return n * (1 + children(field))

    return float(max(1, sum(cost(field) for field in fields(operation.selection_set))))


@functools.cache
def _parsed(document: str) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode], dict[str, Any]]:
    tree = parse(document)
    operation = next(d for d in tree.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in tree.definitions if isinstance(d, FragmentDefinitionNode)}
    defaults = {
        d.variable.name.value: int(d.default_value.value)
        for d in operation.variable_definitions or ()
        if isinstance(d.default_value, IntValueNode)
    }
    return operation, fragments, defaults


def _cost(body: Any) -> Mapping[str, Any]:
    extensions = body.get("extensions") if isinstance(body, dict) else None
    return _mapping(_mapping(extensions).get("cost"))


def _error_codes(body: Any) -> list[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    codes: list[str] = []
    for error in errors if isinstance(errors, list) else []:
        code = _mapping(_mapping(error).get("extensions")).get("code")
        if isinstance(code, str) and code not in codes:
            codes.append(code)
    return codes


def _error_message(errors: Any) -> str:
    if isinstance(errors, str):
        return " ".join(errors.split())[:200]
    for error in errors if isinstance(errors, list) else []:
        message = _mapping(error).get("message")
        if isinstance(message, str) and message.strip():
            return " ".join(message.split())[:200]
    return ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _nodes(connection: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A connection's nodes, whether the query read ``nodes`` or ``edges { node }``."""
    if isinstance(connection.get("nodes"), list):
        return [_mapping(node) for node in connection["nodes"]]
    return [_mapping(_mapping(edge).get("node")) for edge in connection.get("edges") or []]


def _quoted(text: str) -> str:
    """A value as it is shown in an endpoint string: JSON-quoted, so it stays on one line."""
    return json.dumps(text, ensure_ascii=False)


def _shown(ref: str) -> str:
    return json.dumps(ref[:60] + ("…" if len(ref) > 60 else ""), ensure_ascii=True)


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parses(url: str) -> bool:
    try:
        httpx.URL(url)
    except Exception:  # httpx.InvalidURL and the TypeErrors of odd input alike
        return False
    return bool(url)

