"""The live NetSuite adapter: SuiteTalk REST (SuiteQL and the record API), read-only.

``LIVE.connect(settings)`` gives a :class:`NetSuiteAdapter`. Every call goes through
:class:`adapters.http.SystemClient` (pacing, retries, ``Retry-After``, FetchError):

- ``lookup(ref)`` asks SuiteQL for the sales orders whose ``order_ref_field`` (default
  ``otherrefnum``) equals the ref, all of them, since two sales orders for one channel order
  is a finding; when there are none, the sales orders whose ``tranid`` equals it. The same
  statement returns the item fulfillments, invoices and cash sales created from them. Then,
  concurrently, the record API GET (``expandSubResources=true``) of every such transaction
  (SuiteQL loses precision: no zone on date-times, no lines) and their status system notes.
  Every SuiteQL page and every record is one verbatim RawPayload; empty pages included,
  because an empty transactions page is the proof that the account holds nothing.
- ``window(since, until, cursor)`` pages through the sales orders last modified in the window.

Auth (``auth`` option): ``"tba"`` (default), OAuth 1.0a token-based auth, or ``"oauth2"``,
the client-credentials grant with a JWT assertion. Pacing: NetSuite's account-wide
concurrency limit (``concurrency`` option, default 5) as a ConcurrencyPacer.

Secrets (``settings.secret``): TBA ``consumer_key``, ``consumer_secret``, ``token_id``,
``token_secret``; OAuth 2.0 ``client_id`` and ``private_key`` (PEM), with the
``certificate_id`` option. They are read when a request is signed and never written into an
endpoint string, an exception or the cache; the token endpoint's reply is never a payload.

``connect`` never raises: a configuration problem (a missing secret, an unknown auth mode, no
timezone for a window) is raised as a FetchError by the first ``lookup`` or ``window``, so one
misconfigured system does not stop the others from being fetched.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx

# PyJWT: the maintained JOSE implementation; with `cryptography` it signs PS256/ES256, the
# algorithms NetSuite's client-credentials flow accepts (RS256 is refused there).
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# oauthlib: a maintained RFC 5849 implementation. It builds the signature base string with the
# query parameters and the oauth_* values normalised and sorted, which is the part most
# hand-rolled NetSuite TBA signers get wrong, and it supports HMAC-SHA256 and the realm.
from oauthlib import oauth1

from adapters.base import make_payload, zone_or_utc
from adapters.http import (
    DEFAULT_TIMEOUT,
    ConcurrencyPacer,
    FetchError,
    Pacer,
    Reply,
    SystemClient,
    build_client,
)
from adapters.live import LiveSettings, WindowPage
from adapters.netsuite import queries
from audit.model import UTC, RawPayload, ThreetruthError

REST = "/services/rest"
SUITEQL_PATH = f"{REST}/query/v1/suiteql"
RECORD_PATH = f"{REST}/record/v1"
TOKEN_PATH = f"{REST}/auth/oauth2/v1/token"
PAGE_LIMIT = 1000  # SuiteQL's largest page ("Collection Paging")
RESULT_CEILING = 100_000  # rows one SuiteQL query can return without SuiteAnalytics Connect
NOTES_CHUNK = 500  # ids per SystemNote statement; Oracle refuses IN lists past 1,000
DEFAULT_CONCURRENCY = 5
TBA_SECRETS = ("consumer_key", "consumer_secret", "token_id", "token_secret")
OAUTH2_SECRETS = ("client_id", "private_key")
ASSERTION_LIFETIME = 30 * 60  # seconds; NetSuite refuses a client assertion valid for more than 60 minutes
OAUTH2_SCOPE = "rest_webservices"
MAX_REF_LENGTH = 300

# SuiteQL transaction.type -> record API type of the transactions an order's flow is made of.
RECORD_TYPES = {"salesord": "salesOrder", "itemship": "itemFulfillment", "custinvc": "invoice", "cashsale": "cashSale"}
_INTERNAL_ID = re.compile(r"[0-9]{1,20}")
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*")
# Error codes NetSuite sends when the account's concurrency or request limit is hit (RESTlets
# answer 400 SSS_REQUEST_LIMIT_EXCEEDED; REST's own code is unconfirmed, platform-apis.md §3).
_LIMIT_CODES = re.compile(r"REQUEST_LIMIT_EXCEEDED|CONCURRENCY_LIMIT|WS_REQUEST_BLOCKED|TOO_MANY_REQUESTS", re.IGNORECASE)
_LOCAL = "%Y-%m-%d %H:%M:%S"  # what TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS') renders
# The largest clock change a zone makes at once (DST is one hour; a few zones once moved two).
_ZONE_SHIFT = timedelta(hours=2)


# --------------------------------------------------------------------------- configuration


def _missing_secrets(settings: LiveSettings, keys: Sequence[str]) -> FetchError | None:
    """A FetchError naming every unset secret and where it comes from; never a value."""
    missing = [key for key in keys if not settings.secret(key).strip()]
    if not missing:
        return None
    named = dict(settings.secret_env)  # config key -> the environment variable the config names
    where = ", ".join(f"{key} (env {named[key]})" if key in named else key for key in missing)
    variables = [named[key] for key in missing if key in named]
    check = (
        f"export {', '.join(variables)}" if len(variables) == len(missing)
        else f'write each as {missing[0]} = "env:VARIABLE" under [systems.{settings.name}] and export that variable'
    )
    return FetchError(settings.name, f"secret {where} is not set" if len(missing) == 1 else f"secrets {where} are not set", check)


def account_id(settings: LiveSettings) -> str:
    """The account id: the ``account_id`` option, else the first label of a suitetalk host."""
    configured = str(settings.options.get("account_id") or "").strip()
    if configured:
        if not _ACCOUNT_ID.fullmatch(configured):
            raise FetchError(settings.name, f"account_id {configured!r} is not a NetSuite account id",
                             "use the id from Setup > Company > Company Information, e.g. 1234567 or 1234567_SB1")
        return configured
    host = urlsplit(settings.base_url).hostname or ""
    if host.endswith(".suitetalk.api.netsuite.com"):
        return host.split(".", 1)[0]
    raise FetchError(settings.name, "account_id is not set and base_url does not name the account",
                     f"set account_id under [systems.{settings.name}]")


def realm(account: str) -> str:
    """The OAuth realm: the account id in upper case with ``_`` (``1234567-sb1`` -> ``1234567_SB1``)."""
    return account.upper().replace("-", "_")


def base_url(settings: LiveSettings, account: str | None) -> str:
    """``settings.base_url`` without a trailing ``/services/rest``, else the account's suitetalk host."""
    url = (settings.base_url or "").strip().rstrip("/")
    if url.endswith(REST):
        url = url[: -len(REST)]
    if url:
        return url
    if not account:
        raise FetchError(settings.name, "neither base_url nor account_id is set", f"set account_id under [systems.{settings.name}]")
    return f"https://{account.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


def account_zone(settings: LiveSettings) -> ZoneInfo | None:
    """The zone SuiteQL renders date-times in: the ``timezone`` option (the integration user's preference)."""
    name = settings.options.get("timezone") or settings.context.timezone
    if not name:
        return None
    try:
        return zone_or_utc(str(name))
    except ThreetruthError:
        raise FetchError(settings.name, f"timezone {name!r} is not an IANA zone name",
                         "use the time zone of the integration user's preferences, e.g. America/Los_Angeles") from None


def _concurrency(settings: LiveSettings) -> int:
    raw = settings.options.get("concurrency", DEFAULT_CONCURRENCY)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or str(raw).strip() != str(value):
        raise FetchError(settings.name, f"concurrency {raw!r} is not a positive whole number",
                         "set concurrency to the account's web services concurrency limit (5 without SuiteCloud Plus)")
    return value


# --------------------------------------------------------------------------- auth


class TokenBasedAuth:
    """OAuth 1.0a TBA: every request signed (HMAC-SHA256, realm = account id), query parameters included.

    The final URL is signed in ``apply``, after httpx has merged the base URL and the query
    parameters, so the signature covers exactly what is sent. A JSON body is not part of the
    base string (RFC 5849 §3.4.1.3 only includes form-encoded bodies).
    """

    def __init__(self, settings: LiveSettings, account: str) -> None:
        self._settings = settings
        self._realm = realm(account)

    def _client(self) -> oauth1.Client:
        secret = self._settings.secret
        return oauth1.Client(
            secret("consumer_key"),
            client_secret=secret("consumer_secret"),
            resource_owner_key=secret("token_id"),
            resource_owner_secret=secret("token_secret"),
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            signature_type=oauth1.SIGNATURE_TYPE_AUTH_HEADER,
            realm=self._realm,
        )

    async def apply(self, request: httpx.Request) -> None:
        # A fresh nonce and timestamp each time: a retried request is signed anew.
        _, headers, _ = self._client().sign(str(request.url), http_method=request.method, body=None, headers={})
        request.headers["Authorization"] = headers["Authorization"]

    async def refresh(self) -> bool:
        # Nothing expires, but NetSuite answers 401 to a reused nonce or a timestamp outside its
        # window; one re-signed attempt (SystemClient allows one per call) settles those.
        return True


class ClientCredentialsAuth:
    """OAuth 2.0 client credentials: a JWT assertion POSTed to the token endpoint, then ``Bearer``.

    The access token is kept until shortly before ``expires_in`` runs out and renewed under a
    lock, so concurrent requests share one token request; a 401 renews it once (``refresh``).
    The token endpoint is called through its own SystemClient (same httpx client, no pacer of
    its own) because ``apply`` runs while the caller holds a concurrency slot.
    """

    def __init__(self, settings: LiveSettings, token_client: SystemClient, token_url: str, *,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._token_client = token_client
        self.token_url = token_url
        self._clock, self._wall = clock, wall
        self._token: str | None = None
        self._expires = 0.0
        self._generation = 0
        self._lock = asyncio.Lock()
        self._key: Any = None

    def _signing_key(self) -> tuple[Any, str]:
        if self._key is None:
            pem = self._settings.secret("private_key").strip()
            if "\\n" in pem and "\n" not in pem:
                pem = pem.replace("\\n", "\n")  # a PEM exported on one line with literal \n
            try:
                self._key = serialization.load_pem_private_key(pem.encode(), password=None)
            except (ValueError, TypeError):
                raise FetchError(self._settings.name, "secret private_key is not an unencrypted PEM private key",
                                 "export the PEM text of the key whose certificate is mapped to the integration") from None
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            return key, "PS256"
        if isinstance(key, ec.EllipticCurvePrivateKey):
            by_curve = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
            if key.curve.name in by_curve:
                return key, by_curve[key.curve.name]
        raise FetchError(self._settings.name, "secret private_key is neither an RSA nor a P-256/384/521 EC key",
                         "NetSuite accepts PS256/384/512 (RSA) and ES256/384/512 (EC) client assertions")

    def assertion(self) -> str:
        """The signed client assertion: iss = client id, kid = certificate id, aud = the token URL."""
        key, algorithm = self._signing_key()
        issued = int(self._wall())
        claims = {
            "iss": self._settings.secret("client_id"),
            "scope": OAUTH2_SCOPE,
            "aud": self.token_url,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        headers = {"typ": "JWT", "kid": str(self._settings.options.get("certificate_id", ""))}
        return jwt.encode(claims, key, algorithm=algorithm, headers=headers)

    async def _renew(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(),
        }
        try:
            reply = await self._token_client.request(
                "POST", self.token_url, data=form, describe=f"POST {TOKEN_PATH} (client credentials)"
            )
        except FetchError as exc:
            if exc.status is None:
                raise
            raise FetchError(self._settings.name, f"OAuth 2.0 token request refused (HTTP {exc.status})",
                             "check client_id, certificate_id, private_key and that the certificate is mapped "
                             "to the integration with the rest_webservices scope", status=exc.status) from None
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise FetchError(self._settings.name, "the OAuth 2.0 token endpoint answered without an access_token",
                             "check token_url / base_url")
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = token
        self._expires = self._clock() + lifetime - min(60.0, lifetime / 10)
        self._generation += 1

    async def apply(self, request: httpx.Request) -> None:
        if self._token is None or self._clock() >= self._expires:
            async with self._lock:
                if self._token is None or self._clock() >= self._expires:
                    await self._renew()
        request.headers["Authorization"] = f"Bearer {self._token}"

    async def refresh(self) -> bool:
        seen = self._generation
        async with self._lock:
            if self._generation == seen:  # nobody renewed it while this call waited
                await self._renew()
        return True


# --------------------------------------------------------------------------- adapter


def _throttled(response: httpx.Response, body: Any) -> str | None:
    """A concurrency or request-limit refusal that is not a 429 (e.g. 400 SSS_REQUEST_LIMIT_EXCEEDED)."""
    if response.status_code < 400 or response.status_code == 429 or not isinstance(body, dict):
        return None
    details = body.get("o:errorDetails")
    codes = [str(item.get("o:errorCode", "")) for item in details if isinstance(item, dict)] if isinstance(details, list) else []
    for code in codes:
        if _LIMIT_CODES.search(code):
            return f"HTTP {response.status_code} {code}: the account's concurrency limit was reached"
    return None


def shown(ref: str) -> str:
    """A ref as it is written into an endpoint string: quoted, on one line, non-printables escaped."""
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in ref)
    return "'" + text.replace("'", "''") + "'"


def local_bounds(since: datetime, until: datetime | None, zone: ZoneInfo) -> tuple[str, str | None]:
    """The window's UTC bounds as the account's local ``YYYY-MM-DD HH24:MI:SS`` strings, never narrower.

    Around a fall-back change local times repeat, so an instant after ``since`` can read
    earlier than ``since`` does; the bounds are widened by the zone's shift there. A few
    orders from just outside the window are looked up again: harmless, lookups are idempotent.
    """

    def local(at: datetime) -> datetime:
        return at.astimezone(zone).replace(tzinfo=None)

    since = _aware(since)
    lower = min(local(since), local(since + _ZONE_SHIFT) - _ZONE_SHIFT).replace(microsecond=0)
    if until is None:
        return lower.strftime(_LOCAL), None
    until = _aware(until)
    upper = max(local(until), local(until - _ZONE_SHIFT) + _ZONE_SHIFT)
    if upper.microsecond:
        upper = upper.replace(microsecond=0) + timedelta(seconds=1)  # TO_CHAR truncates; `<` must not lose the last second
    return lower.strftime(_LOCAL), upper.strftime(_LOCAL)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class NetSuiteAdapter:
    """One configured NetSuite account, read over SuiteTalk REST."""

    page_limit = PAGE_LIMIT
    notes_chunk = NOTES_CHUNK

    def __init__(self, settings: LiveSettings, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.name = settings.name
        self.settings = settings
        self.ref_field = settings.context.order_ref_field or "otherrefnum"
        self._clock, self._wall = clock, wall
        self._system: SystemClient | None = None
        self._pacer: Pacer | None = None

    # ---- connection -------------------------------------------------------------------

    def system(self) -> SystemClient:
        """The SystemClient, built on first use; raises the configuration's FetchError if any."""
        if self._system is not None:
            return self._system
        settings = self.settings
        try:
            queries.transactions_by_order_ref(self.ref_field)
        except ValueError:
            raise FetchError(self.name, f"order_ref_field {self.ref_field!r} is not a SuiteQL column name",
                             "use a transaction body field id such as otherrefnum or custbody_channel_order") from None
        mode = str(settings.options.get("auth", "tba")).strip().lower()
        if mode not in ("tba", "oauth2"):
            raise FetchError(self.name, f"auth {mode!r} is not a NetSuite auth mode", 'use auth = "tba" or auth = "oauth2"')
        problem = _missing_secrets(settings, TBA_SECRETS if mode == "tba" else OAUTH2_SECRETS)
        if problem is not None:
            raise problem
        if mode == "oauth2" and not str(settings.options.get("certificate_id") or "").strip():
            raise FetchError(self.name, "certificate_id is not set (auth = oauth2)",
                             "set certificate_id to the id NetSuite gave the certificate mapping (the JWT kid)")
        account = account_id(settings) if mode == "tba" or not settings.base_url else None
        url = base_url(settings, account)
        concurrency = _concurrency(settings)
        account_zone(settings)  # a misspelt zone is a configuration problem now, not a wrong date later
        client = build_client(url, timeout=settings.timeout or DEFAULT_TIMEOUT, transport=settings.transport)
        hint = ("check account_id, consumer_key/consumer_secret and token_id/token_secret, and that the token's role "
                "has the REST Web Services and SuiteAnalytics Workbook permissions") if mode == "tba" else (
                "check client_id, certificate_id and private_key, and that the role has the REST Web Services "
                "and SuiteAnalytics Workbook permissions")
        auth: TokenBasedAuth | ClientCredentialsAuth
        if mode == "tba":
            assert account is not None
            auth = TokenBasedAuth(settings, account)
        else:
            token_url = str(settings.options.get("token_url") or "").strip() or f"{url}{TOKEN_PATH}"
            token_client = SystemClient(self.name, client, policy=settings.policy, hint=hint)
            auth = ClientCredentialsAuth(settings, token_client, token_url, clock=self._clock, wall=self._wall)
        self._pacer = ConcurrencyPacer(concurrency)
        self._system = SystemClient(self.name, client, auth=auth, pacers={"*": self._pacer}, policy=settings.policy,
                                    throttled=_throttled, hint=hint)
        return self._system

    async def aclose(self) -> None:
        if self._system is not None:
            await self._system.aclose()

    # ---- requests ----------------------------------------------------------------------

    def _payload(self, reply: Reply) -> RawPayload:
        return make_payload(self.name, reply.endpoint, reply.fetched_at, reply.text)

    async def _suiteql_page(self, q: str, offset: int, what: str, limit: int | None = None) -> Reply:
        limit = limit or self.page_limit
        reply = await self.system().request(
            "POST", SUITEQL_PATH,
            params={"limit": limit, "offset": offset},
            json_body={"q": q},
            headers={"Prefer": "transient"},
            describe=f"POST {SUITEQL_PATH}?limit={limit}&offset={offset} ({what})",
        )
        if not isinstance(reply.body, dict) or not isinstance(reply.body.get("items"), list):
            raise FetchError(self.name, f"{reply.endpoint} answered something that is not a SuiteQL page",
                             "check base_url: it must be the account's SuiteTalk REST host")
        return reply

    async def suiteql(self, statement: str, params: Sequence[str | int], what: str) -> list[Reply]:
        """Every page of one SuiteQL SELECT, following ``hasMore``; each page one Reply."""
        try:
            q = queries.render(statement, params)
        except (TypeError, ValueError) as exc:
            raise FetchError(self.name, f"cannot search for {what}: {exc}", "check the ref") from None
        pages: list[Reply] = []
        offset = 0
        while True:
            reply = await self._suiteql_page(q, offset, what)
            pages.append(reply)
            items = reply.body["items"]
            if not reply.body.get("hasMore"):
                return pages
            if not items:
                raise FetchError(self.name, f"{reply.endpoint} said hasMore with an empty page", "try again later")
            offset += len(items)
            if offset >= RESULT_CEILING:
                raise FetchError(self.name, f"{what}: more than {RESULT_CEILING:,} SuiteQL rows",
                                 "narrow the search; SuiteQL stops at 100,000 rows per query")

    async def record(self, record_type: str, internal_id: str) -> Reply | None:
        """The record API GET of one transaction with its sublists; None when the record API has no such record."""
        if not _INTERNAL_ID.fullmatch(internal_id):
            return None  # not an internal id: never put it in a URL
        path = f"{RECORD_PATH}/{record_type}/{quote(internal_id, safe='')}"
        try:
            return await self.system().request(
                "GET", path, params={"expandSubResources": "true"},
                describe=f"GET {path}?expandSubResources=true",
            )
        except FetchError as exc:
            if exc.status == 404:
                # Listed by SuiteQL yet not served by the record API (deleted a moment ago, or a
                # type this role cannot open through REST): the SuiteQL row stays the evidence.
                return None
            raise

    # ---- the contract ------------------------------------------------------------------

    async def lookup(self, ref: str) -> list[RawPayload]:
        """Every response needed to know what this account holds for ``ref``; empty pages included.

        Args:
            ref: a channel order ref held in ``order_ref_field`` (an Amazon order id, a Shopify
                name such as ``#1042``), or a sales order's own tranId.

        Returns:
            The SuiteQL pages (the ``order_ref_field`` search; the tranId search when the first
            found no sales order), the record GET of each transaction found, and the SuiteQL
            pages of their system notes. Never empty.

        Raises:
            FetchError: the account could not be read, or the ref cannot be searched.
        """
        self.system()
        if not isinstance(ref, str) or not ref.strip():
            raise FetchError(self.name, "an empty ref cannot be looked up", "give an order ref or a tranId")
        if len(ref) > MAX_REF_LENGTH:
            raise FetchError(self.name, f"a ref of {len(ref)} characters cannot be an order ref", "check the ref")
        pages: list[Reply] = []
        found: list[dict[str, Any]] = []
        for column in dict.fromkeys((self.ref_field.lower(), "tranid")):
            what = f"transactions with {column.lower()} = {shown(ref)}"
            statement = queries.transactions_by_order_ref(column)
            column_pages = await self.suiteql(statement, [ref, ref], what)
            pages.extend(column_pages)
            found = [row for reply in column_pages for row in reply.body["items"] if isinstance(row, dict)]
            if any(str(row.get("type", "")).lower() == "salesord" for row in found):
                break

        records: dict[str, str] = {}  # internal id -> record type, in SuiteQL order
        for row in found:
            record_type = RECORD_TYPES.get(str(row.get("type", "")).lower())
            internal_id = str(row.get("id", ""))
            if record_type and _INTERNAL_ID.fullmatch(internal_id):
                records.setdefault(internal_id, record_type)

        calls: list[Awaitable[Any]] = [self.record(kind, internal_id) for internal_id, kind in records.items()]
        ids = sorted(records, key=int)
        chunks = [ids[i : i + self.notes_chunk] for i in range(0, len(ids), self.notes_chunk)]
        for chunk in chunks:
            what = f"system notes of TRANDOC.KSTATUS for transactions {', '.join(chunk)}"
            calls.append(self.suiteql(queries.system_notes_for_transactions(len(chunk)), [int(i) for i in chunk], what))
        results = await _all(calls)

        replies = list(pages)
        for result in results:
            if isinstance(result, list):
                replies.extend(result)
            elif result is not None:
                replies.append(result)
        return [self._payload(reply) for reply in replies]

    async def window(self, since: datetime, until: datetime | None, cursor: str | None = None) -> AsyncIterator[WindowPage]:
        """The refs of the sales orders last modified in ``[since, until)``, a page at a time.

        The bounds are compared in the account's zone (``timezone`` option: SuiteQL has no UTC
        view of ``lastmodifieddate``). Refs are the ``order_ref_field`` value (the channel's
        ref) where the sales order has one, else its tranId. The cursor is ``<last id>:<seen>``.
        """
        self.system()
        zone = account_zone(self.settings)
        if zone is None:
            raise FetchError(self.name, "timezone is not set, so SuiteQL's local date-times cannot bound a window",
                             f"set timezone under [systems.{self.name}] to the integration user's time zone")
        last_id, seen = _parse_cursor(self.name, cursor)
        lower, upper = local_bounds(since, until, zone)
        statement = queries.sales_orders_modified(self.ref_field, bounded=upper is not None)
        ref_column = self.ref_field.lower()
        span = f"{lower} to {upper}" if upper else f"from {lower}"
        while True:
            params: list[str | int] = [lower, *([upper] if upper else []), last_id]
            try:
                q = queries.render(statement, params)
            except (TypeError, ValueError) as exc:  # pragma: no cover - the bounds are formatted here
                raise FetchError(self.name, f"cannot build the window query: {exc}") from None
            what = f"sales orders modified {span} {zone.key}, id > {last_id}"
            reply = await self._suiteql_page(q, 0, what)
            rows = [row for row in reply.body["items"] if isinstance(row, dict)]
            refs: list[str] = []
            for row in rows:
                ref = row.get(ref_column) or row.get("tranid")
                if isinstance(ref, str) and ref.strip() and ref.strip() not in refs:
                    refs.append(ref.strip())
            ids = [int(str(row.get("id"))) for row in rows if _INTERNAL_ID.fullmatch(str(row.get("id", "")))]
            more = bool(reply.body.get("hasMore"))
            total = _int(reply.body.get("totalResults"))
            total = seen + total if total is not None else None
            seen += len(rows)
            if more and (not ids or max(ids) <= last_id):
                raise FetchError(self.name, f"{reply.endpoint} did not move past id {last_id}",
                                 "the account returned rows out of order; try again later")
            if ids:
                last_id = max(ids)
            yield WindowPage(refs=refs, cursor=f"{last_id}:{seen}" if more else None, total=total)
            if not more:
                return


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_cursor(system: str, cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    match = re.fullmatch(r"([0-9]{1,20}):([0-9]{1,12})", cursor)
    if not match:
        raise FetchError(system, f"sync cursor {cursor!r} is not one this adapter wrote",
                         "discard the saved sync progress of this system and sync the window again")
    return int(match.group(1)), int(match.group(2))


async def _all(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    """Run calls concurrently; the first failure cancels the rest and is raised (a FetchError first)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_await(call)) for call in calls]
    except BaseExceptionGroup as failed:
        leaves = list(_leaves(failed))
        raise next((exc for exc in leaves if isinstance(exc, FetchError)), leaves[0]) from None
    return [task.result() for task in tasks]


async def _await(call: Awaitable[Any]) -> Any:
    return await call


def _leaves(group: BaseExceptionGroup) -> Any:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


class NetSuiteLive:
    """``LIVE``: connects one configured NetSuite account."""

    name = "netsuite"

    def connect(self, settings: LiveSettings) -> NetSuiteAdapter:
        """The adapter for ``settings``; configuration problems surface from its first call."""
        return NetSuiteAdapter(settings)


LIVE = NetSuiteLive()

__all__ = ["LIVE", "NetSuiteAdapter", "NetSuiteLive", "TokenBasedAuth", "ClientCredentialsAuth", "local_bounds", "realm"]
