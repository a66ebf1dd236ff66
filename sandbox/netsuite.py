"""The NetSuite SuiteTalk REST emulator: TBA and OAuth 2.0 auth, SuiteQL, the record API, concurrency.

Written from platform-apis.md §3, independently of ``adapters/netsuite``:

* **Auth.** OAuth 1.0a token-based auth, verified here from RFC 5849 with hmac/hashlib (not
  with the library clients sign with, so the two readings check each other): realm = the
  account id, HMAC-SHA256, the signature base string over the method, the base URI and every
  query (and form) parameter with the ``oauth_*`` ones, a fresh nonce and a timestamp within
  five minutes. Or OAuth 2.0 client credentials: ``POST /services/rest/auth/oauth2/v1/token``
  with a PS256/ES256 (384/512) JWT assertion verified with ``cryptography`` against the
  configured public key, answered with a bearer token. A failure gets NetSuite's
  ``INVALID_LOGIN`` 401; the reason goes in an ``X-Sandbox-Auth-Failure`` header (the real
  service only shows it in the Login Audit Trail).
* **SuiteQL** (``POST /services/rest/query/v1/suiteql?limit=&offset=``, ``Prefer: transient``):
  run by :mod:`sandbox.suiteql` over tables built from the sample payloads.
* **Record API** (``GET /services/rest/record/v1/{type}/{id}``): the stored salesOrder,
  itemFulfillment, invoice and cashSale bodies; sublists expand only with
  ``expandSubResources=true``.
* **Concurrency.** At most ``settings.netsuite_concurrency`` requests in flight per account;
  one more gets 429. REST's code for it is unknown (platform-apis.md §3), so
  ``CONCURRENCY_LIMIT_EXCEEDED`` here is **unconfirmed**. Since the emulator answers in
  microseconds, a service time per request (``netsuite_service_time`` seconds, divided by the
  time scale) makes requests overlap the way they do against the real service.
* **Read-only.** GET, the SuiteQL POST and the token POST; any other method is refused (405)
  and, like every request, recorded by the core's request log.

Hostnames in stored ``links`` (``https://1234567.suitetalk.api.netsuite.com``) are rewritten to
the emulator's own base URL, as the real service links to itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from aiohttp import web
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sandbox.core import EmulatorSettings, RequestLog, netsuite_error
from sandbox.data import NETSUITE_ZONE, Dataset
from sandbox.suiteql import (
    ERROR_PREFIX,
    RECORD_KINDS,
    SuiteQLDatabase,
    SuiteQLError,
    build_database,
    record_kind,
)

REST = "/services/rest"
TOKEN_PATH = f"{REST}/auth/oauth2/v1/token"
SUITEQL_PATH = f"{REST}/query/v1/suiteql"

DEFAULT_LIMIT = 1000
"""SuiteQL page size when ``limit`` is absent, and its maximum (platform-apis.md §3)."""

TOKEN_LIFETIME = 3600.0
"""Seconds an OAuth 2.0 access token lives (before time scaling)."""

TIMESTAMP_WINDOW = 300.0
"""How far an OAuth 1.0a timestamp may be from the server clock (seconds; NetSuite's is unconfirmed)."""

JWT_ALGORITHMS = {"PS256": hashes.SHA256, "PS384": hashes.SHA384, "PS512": hashes.SHA512,
                  "ES256": hashes.SHA256, "ES384": hashes.SHA384, "ES512": hashes.SHA512}
"""The client-assertion algorithms NetSuite accepts (platform-apis.md §3, OAuth 2.0 M2M)."""
_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}

# NetSuite answers with Oracle's resource media types (unconfirmed beyond the name).
SINGULAR = "application/vnd.oracle.resource+json; type=singular"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"
ERROR = "application/vnd.oracle.resource+json; type=error"

INVALID_LOGIN = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)

NETSUITE_KEY = web.AppKey("sandbox_netsuite", object)
"""The :class:`NetSuiteEmulator` behind an app (tests read its database and counters)."""


# --- responses ---------------------------------------------------------------------------------

def _json(body: Any, status: int = 200, content_type: str = SINGULAR,
          headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps(body, separators=(",", ":")).encode(),
                        headers={"Content-Type": content_type, **(headers or {})})


def error_response(status: int, title: str, detail: str, code: str, *,
                   query_param: str | None = None, headers: Mapping[str, str] | None = None) -> web.Response:
    """NetSuite's REST error body (``type``, ``title``, ``status``, ``o:errorDetails``)."""
    body = netsuite_error(status, title, detail, code)
    if status == 429:
        # 429 is defined by RFC 6585, not RFC 9110.
        body["type"] = "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
    if query_param is not None:
        body["o:errorDetails"][0]["o:errorQueryParam"] = query_param
    return _json(body, status, ERROR, headers)


def _login_failure(reason: str) -> web.Response:
    return error_response(401, "Unauthorized", INVALID_LOGIN, "INVALID_LOGIN",
                          headers={"X-Sandbox-Auth-Failure": reason})


def _bad_request(detail: str, code: str = "INVALID_PARAMETER", query_param: str | None = None) -> web.Response:
    return error_response(400, "Bad Request", detail, code, query_param=query_param)


def _not_found(detail: str) -> web.Response:
    return error_response(404, "Not Found", detail, "NONEXISTENT_ID")


# --- OAuth 1.0a (RFC 5849) ---------------------------------------------------------------------

def percent_encode(value: str) -> str:
    """RFC 5849 §3.6: UTF-8, every byte but ALPHA / DIGIT / ``-._~`` as %XX (upper case)."""
    return quote(value, safe="~")


_AUTH_PARAM = re.compile(r'\s*([A-Za-z0-9_]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


def parse_oauth_header(header: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: OAuth ...`` header (values decoded), None if not one."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _AUTH_PARAM.match(rest, position)
        if match is None:
            return None
        if match.group(1) in params:
            return None  # a parameter given twice is malformed (RFC 5849 §3.5.1)
        params[match.group(1)] = unquote(match.group(2))
        position = match.end()
    return params


def base_string_uri(scheme: str, host: str, path: str) -> str:
    """RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped, the path as sent."""
    scheme, host = scheme.lower(), host.lower()
    if (scheme, host.rpartition(":")[2]) in (("http", "80"), ("https", "443")):
        host = host.rpartition(":")[0]
    return f"{scheme}://{host}{path or '/'}"


def signature_base_string(method: str, uri: str, params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1: METHOD&uri&normalized-params, each part percent-encoded."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join((method.upper(), percent_encode(uri), percent_encode(normalized)))


def hmac_sha256_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    """RFC 5849 §3.4.2 with SHA-256: base64 of HMAC(consumer&token secrets, base string)."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha256).digest()).decode()


class NonceLedger:
    """Nonces seen within the timestamp window: a replayed request is refused."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], float] = {}

    def first_use(self, key: tuple[str, str, str], now: float) -> bool:
        """Record a nonce; False if it was already used within the window."""
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t <= 2 * TIMESTAMP_WINDOW}
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


def verify_oauth1(
    request: web.Request, body: bytes, settings: EmulatorSettings, nonces: NonceLedger,
    now: float | None = None,
) -> str | None:
    """None if the request carries a valid TBA signature, else the reason it does not."""
    creds = settings.netsuite
    params = parse_oauth_header(request.headers.get("Authorization", ""))
    if params is None:
        return "malformed OAuth header"
    realm = params.pop("realm", None)
    # Sandbox accounts write "1234567_SB1" in the realm and "1234567-sb1" in hosts.
    if realm is None or realm.upper().replace("-", "_") != creds.account_id.upper().replace("-", "_"):
        return "realm is not the account id"
    required = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
                "oauth_nonce", "oauth_signature")
    missing = [name for name in required if not params.get(name)]
    if missing:
        return f"missing {', '.join(missing)}"
    if params["oauth_signature_method"] != "HMAC-SHA256":
        return "signature method is not HMAC-SHA256"
    if params.get("oauth_version", "1.0") != "1.0":
        return "oauth_version is not 1.0"
    if not (hmac.compare_digest(params["oauth_consumer_key"], creds.consumer_key)
            and hmac.compare_digest(params["oauth_token"], creds.token_id)):
        return "unknown consumer key or token"
    try:
        stamp = int(params["oauth_timestamp"])
    except ValueError:
        return "timestamp is not an integer"
    now = time.time() if now is None else now
    if abs(now - stamp) > TIMESTAMP_WINDOW:
        return "timestamp outside the allowed window"
    signed = [(k, v) for k, v in params.items() if k != "oauth_signature"]
    signed += parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
    if request.content_type == "application/x-www-form-urlencoded":
        signed += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    uri = base_string_uri(request.scheme, request.host, request.rel_url.raw_path)
    expected = hmac_sha256_signature(signature_base_string(request.method, uri, signed),
                                     creds.consumer_secret, creds.token_secret)
    if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
        return "signature does not match"
    if not nonces.first_use((params["oauth_consumer_key"], params["oauth_nonce"], params["oauth_timestamp"]), now):
        return "nonce already used"
    return None


# --- OAuth 2.0 client credentials (JWT assertion) -------------------------------------------------

class AssertionRejected(Exception):
    """A client assertion NetSuite would refuse; ``error`` is the OAuth error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


def _b64url(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise AssertionRejected("invalid_request", "client_assertion is not a JWT") from exc


def load_public_key(pem: str) -> Any:
    """A public key from a PEM public key or certificate."""
    data = pem.encode()
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def verify_client_assertion(
    assertion: str, *, public_key: Any, client_id: str, certificate_id: str,
    audiences: Iterable[str], now: float,
) -> dict[str, Any]:
    """The claims of a valid client assertion (RFC 7523 + RFC 7518 signatures); raises AssertionRejected."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise AssertionRejected("invalid_request", "client_assertion is not a JWT")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except ValueError as exc:
        raise AssertionRejected("invalid_request", "client_assertion is not a JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AssertionRejected("invalid_request", "client_assertion is not a JWT")
    algorithm = header.get("alg")
    if algorithm not in JWT_ALGORITHMS:
        raise AssertionRejected("invalid_client", f"unsupported JWT algorithm {algorithm!r}")
    if header.get("typ", "JWT") != "JWT":
        raise AssertionRejected("invalid_request", "JWT typ must be JWT")
    if not hmac.compare_digest(str(header.get("kid", "")), certificate_id):
        raise AssertionRejected("invalid_client", "unknown certificate id (kid)")
    digest = JWT_ALGORITHMS[algorithm]()
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    signature = _b64url(parts[2])
    try:
        if algorithm.startswith("PS"):
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise AssertionRejected("invalid_client", "the certificate's key is not RSA")
            # RFC 7518 §3.5: PSS with MGF1 of the same hash and a salt as long as the hash.
            public_key.verify(signature, signing_input,
                              padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
        else:
            if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != _CURVES[algorithm]:
                raise AssertionRejected("invalid_client", f"the certificate's key does not fit {algorithm}")
            # RFC 7518 §3.4: the JWS signature is R || S, each as long as the curve's order.
            half = (public_key.curve.key_size + 7) // 8
            if len(signature) != 2 * half:
                raise InvalidSignature()
            r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            public_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
    except InvalidSignature as exc:
        raise AssertionRejected("invalid_client", "client_assertion signature does not verify") from exc
    if not hmac.compare_digest(str(claims.get("iss", "")), client_id):
        raise AssertionRejected("invalid_client", "iss is not the integration's client id")
    scope = claims.get("scope")
    scopes = scope if isinstance(scope, list) else re.split(r"[\s,]+", str(scope or ""))
    if "rest_webservices" not in scopes:
        raise AssertionRejected("invalid_scope", "scope must include rest_webservices")
    audience = claims.get("aud")
    given = audience if isinstance(audience, list) else [audience]
    if not set(map(str, given)) & set(audiences):
        raise AssertionRejected("invalid_grant", "aud is not the token endpoint")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)):
        raise AssertionRejected("invalid_grant", "iat and exp are required")
    if exp <= now:
        raise AssertionRejected("invalid_grant", "client_assertion has expired")
    if iat > now + 60:
        raise AssertionRejected("invalid_grant", "iat is in the future")
    if exp - iat > 3600:
        raise AssertionRejected("invalid_grant", "exp is more than 60 minutes after iat")
    return claims


# --- the record store ----------------------------------------------------------------------------

_HOST = re.compile(r"https://[A-Za-z0-9_.-]+\.suitetalk\.api\.netsuite\.com")


def _collapse(record: dict[str, Any]) -> dict[str, Any]:
    """A record as sent without expandSubResources: sublists and subrecords as links only."""
    collapsed: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict) and ("items" in value or ("links" in value and "id" not in value
                                                             and "refName" not in value)):
            collapsed[key] = {"links": value.get("links", [])}
        else:
            collapsed[key] = value
    return collapsed


@dataclass(frozen=True)
class StoredRecord:
    """One record API body as the dataset holds it (expanded)."""

    kind: str
    body: dict[str, Any]

    def text(self, expand: bool) -> str:
        """The body as sent, with or without expandSubResources."""
        return json.dumps(self.body if expand else _collapse(self.body), separators=(",", ":"))


class RecordStore:
    """The record API bodies of the dataset by (type, internal id)."""

    def __init__(self, files: Iterable[tuple[str, Any]]) -> None:
        self.records: dict[tuple[str, str], StoredRecord] = {}
        for path, payload in files:
            if not isinstance(payload, dict):
                continue
            kind = record_kind(path, payload)
            if kind is None or payload.get("id") is None:
                continue
            internal_id = str(payload["id"])
            self.records[(kind.lower(), internal_id)] = StoredRecord(kind, payload)

    def get(self, kind: str, internal_id: str) -> StoredRecord | None:
        """A record by type (any case: the links NetSuite sends are lower case) and internal id."""
        return self.records.get((kind.lower(), internal_id))

    def ids(self, kind: str) -> list[str]:
        """The internal ids of one record type, in numeric order."""
        return sorted((i for k, i in self.records if k == kind.lower()), key=lambda i: (len(i), i))


# --- the emulator ---------------------------------------------------------------------------------

class NetSuiteEmulator:
    """State and handlers of one NetSuite account."""

    def __init__(self, dataset: Dataset, settings: EmulatorSettings, log: RequestLog,
                 service_time: float | None = None) -> None:
        self.settings = settings
        self.log = log
        files = list(dataset.files_for("netsuite"))
        self.database: SuiteQLDatabase = build_database(files, NETSUITE_ZONE)
        self.records = RecordStore(files)
        self.nonces = NonceLedger()
        self.tokens: dict[str, float] = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.refused_for_concurrency = 0
        seconds = service_time if service_time is not None else getattr(settings, "netsuite_service_time", 0.0)
        self.service_time = max(0.0, float(seconds)) / settings.time_scale
        self._public_key = None
        if settings.netsuite.public_key_pem:
            self._public_key = load_public_key(settings.netsuite.public_key_pem)

    # Middleware -----------------------------------------------------------------------------
    @web.middleware
    async def gate(self, request: web.Request,
                   handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Route errors shaped like NetSuite's, then auth, then the account's concurrency limit."""
        routing_error = request.match_info.http_exception
        if routing_error is not None:
            if routing_error.status == 405:
                return error_response(405, "Method Not Allowed",
                                      f"The sandbox is read-only: {request.method} {request.path} is refused.",
                                      "INVALID_REQUEST", headers={"Allow": "GET, POST"})
            return error_response(404, "Not Found", f"No REST resource at {request.path}.", "INVALID_URL")
        if request.path != TOKEN_PATH:
            failure = await self.authenticate(request)
            if failure is not None:
                return _login_failure(failure)
        limit = self.settings.netsuite_concurrency
        if self.in_flight >= limit:
            self.refused_for_concurrency += 1
            return error_response(
                429, "Too Many Requests",
                f"Concurrent request limit exceeded ({limit} for this account). Request blocked.",
                "CONCURRENCY_LIMIT_EXCEEDED")
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.service_time:
                await asyncio.sleep(self.service_time)
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def authenticate(self, request: web.Request) -> str | None:
        """None if the request is authorised (TBA or bearer), else why not."""
        header = request.headers.get("Authorization", "")
        scheme = header.split(" ", 1)[0].lower()
        if scheme == "bearer":
            token = header[7:].strip()
            expiry = self.tokens.get(token)
            if expiry is None:
                return "unknown bearer token"
            if time.monotonic() >= expiry:
                self.tokens.pop(token, None)
                return "bearer token expired"
            return None
        if scheme == "oauth":
            return verify_oauth1(request, await request.read(), self.settings, self.nonces)
        return "no Authorization header" if not header else "unsupported Authorization scheme"

    # Token endpoint ---------------------------------------------------------------------------
    async def token(self, request: web.Request) -> web.Response:
        """OAuth 2.0 client credentials with a JWT client assertion -> a bearer access token."""
        form = await request.post()

        def refuse(error: str, description: str) -> web.Response:
            return web.json_response({"error": error, "error_description": description}, status=400)

        if form.get("grant_type") != "client_credentials":
            return refuse("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return refuse("invalid_request", "client_assertion_type must be jwt-bearer")
        assertion = form.get("client_assertion")
        if not isinstance(assertion, str) or not assertion:
            return refuse("invalid_request", "client_assertion is required")
        if self._public_key is None:
            return refuse("unauthorized_client", "OAuth 2.0 client credentials are not configured "
                                                 "(settings.netsuite.public_key_pem)")
        creds = self.settings.netsuite
        audiences = {f"{request.scheme}://{request.host}{TOKEN_PATH}",
                     f"https://{creds.account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com{TOKEN_PATH}"}
        try:
            verify_client_assertion(assertion, public_key=self._public_key, client_id=creds.client_id,
                                    certificate_id=creds.certificate_id, audiences=audiences, now=time.time())
        except AssertionRejected as rejected:
            return refuse(rejected.error, str(rejected))
        lifetime = TOKEN_LIFETIME / self.settings.time_scale
        access_token = secrets.token_urlsafe(32)
        now = time.monotonic()
        self.tokens = {t: e for t, e in self.tokens.items() if e > now}
        self.tokens[access_token] = now + lifetime
        # NetSuite sends expires_in as a string ("3600"; unconfirmed): clients should accept both.
        return web.json_response({"access_token": access_token, "token_type": "bearer",
                                  "expires_in": str(max(1, int(lifetime)))})

    # SuiteQL ----------------------------------------------------------------------------------
    async def suiteql(self, request: web.Request) -> web.Response:
        """``POST /query/v1/suiteql``: one page of a SELECT's rows."""
        if "transient" not in request.headers.get("Prefer", "").lower():
            return _bad_request("The request header 'Prefer: transient' is required to run a SuiteQL "
                                "query.", "INVALID_HEADER")
        try:
            limit = int(request.query.get("limit", DEFAULT_LIMIT))
            offset = int(request.query.get("offset", 0))
        except ValueError:
            return _bad_request("Invalid value for the query parameter limit or offset.", query_param="limit")
        if not 1 <= limit <= DEFAULT_LIMIT:
            return _bad_request(f"Invalid value for the query parameter limit: it must be between 1 and "
                                f"{DEFAULT_LIMIT}.", query_param="limit")
        if offset < 0:
            return _bad_request("Invalid value for the query parameter offset.", query_param="offset")
        try:
            payload = json.loads(await request.read() or b"null")
        except ValueError:
            return _bad_request("The request body is not valid JSON.", "INVALID_CONTENT")
        q = payload.get("q") if isinstance(payload, dict) else None
        if not isinstance(q, str) or not q.strip():
            return _bad_request("The request body must be a JSON object with the query in 'q'.",
                                "INVALID_CONTENT")
        try:
            # In a worker thread: a slow statement must not stall the other emulators' loop.
            rows = (await asyncio.to_thread(self.database.execute, q)).rows
        except SuiteQLError as exc:
            return _bad_request(ERROR_PREFIX + str(exc), query_param="q")
        page = rows[offset:offset + limit]
        total = len(rows)
        has_more = offset + len(page) < total
        base = f"{request.scheme}://{request.host}{SUITEQL_PATH}"

        def link(rel: str, at: int) -> dict[str, str]:
            return {"rel": rel, "href": f"{base}?limit={limit}&offset={at}"}

        links = []
        if total > limit:
            last = max(0, (total - 1) // limit * limit)
            if offset > 0:
                links.append(link("previous", max(0, offset - limit)))
            links.append(link("first", 0))
            if has_more:
                links.append(link("next", offset + limit))
            links.append(link("last", last))
        links.append(link("self", offset))
        body = {"links": links, "count": len(page), "hasMore": has_more,
                "items": [{"links": [], **row} for row in page], "offset": offset, "totalResults": total}
        return _json(body, content_type=COLLECTION)

    # Record API -------------------------------------------------------------------------------
    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _send(self, request: web.Request, text: str) -> web.Response:
        return web.Response(body=_HOST.sub(self._base(request), text).encode(),
                            headers={"Content-Type": SINGULAR})

    def _find(self, request: web.Request) -> StoredRecord | web.Response:
        kind = request.match_info["type"]
        record = self.records.get(kind, request.match_info["id"]) if kind.lower() in RECORD_KINDS else None
        if record is None:
            return _not_found("The record instance does not exist. Provide a valid record instance ID.")
        return record

    async def record(self, request: web.Request) -> web.Response:
        """``GET /record/v1/{type}/{id}[?expandSubResources=true]``."""
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        expand = request.query.get("expandSubResources", "false").lower() == "true"
        return self._send(request, found.text(expand))

    async def sublist(self, request: web.Request) -> web.Response:
        """``GET /record/v1/{type}/{id}/{sublist}[/{line}]``: a sublist, or one of its lines."""
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        value = found.body.get(request.match_info["sublist"])
        if not isinstance(value, dict) or "links" not in value or "refName" in value:
            return _not_found(f"The sublist {request.match_info['sublist']} does not exist on this record.")
        line = request.match_info.get("line")
        if line is not None:
            value = next((item for item in value.get("items", [])
                          if str(item.get("line", "")) == line or
                          any(str(l.get("href", "")).endswith(f"/{line}") for l in item.get("links", []))), None)
            if value is None:
                return _not_found("The sublist line does not exist.")
        return self._send(request, json.dumps(value, separators=(",", ":")))

    async def collection(self, request: web.Request) -> web.Response:
        """``GET /record/v1/{type}?limit=&offset=``: the ids of one record type (no ``q`` filter)."""
        kind = request.match_info["type"]
        if kind.lower() not in RECORD_KINDS:
            return _not_found(f"The record type {kind} is not served by the sandbox.")
        if "q" in request.query:
            return _bad_request("The sandbox does not filter record collections: use SuiteQL.", query_param="q")
        try:
            limit = int(request.query.get("limit", DEFAULT_LIMIT))
            offset = int(request.query.get("offset", 0))
        except ValueError:
            return _bad_request("Invalid value for the query parameter limit or offset.", query_param="limit")
        if not 1 <= limit <= DEFAULT_LIMIT or offset < 0:
            return _bad_request("Invalid value for the query parameter limit or offset.", query_param="limit")
        ids = self.records.ids(kind)
        page = ids[offset:offset + limit]
        base = f"{self._base(request)}{REST}/record/v1/{kind.lower()}"
        body = {
            "links": [{"rel": "self", "href": f"{base}?limit={limit}&offset={offset}"}],
            "count": len(page), "hasMore": offset + len(page) < len(ids),
            "items": [{"links": [{"rel": "self", "href": f"{base}/{i}"}], "id": i} for i in page],
            "offset": offset, "totalResults": len(ids),
        }
        return _json(body, content_type=COLLECTION)

    async def server_time(self, request: web.Request) -> web.Response:
        """``GET /system/v1/serverTime``."""
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return _json({"serverTime": now})


def make_app(dataset: Dataset, settings: EmulatorSettings, log: RequestLog, *,
             service_time: float | None = None) -> web.Application:
    """The NetSuite REST emulator as an aiohttp application.

    Args:
        dataset: the cases to serve (their ``netsuite/`` payloads).
        settings: credentials (``settings.netsuite``), ``netsuite_concurrency``, ``time_scale``.
        log: the shared request log (the core's middleware writes it).
        service_time: seconds each request takes before time scaling (default
            ``settings.netsuite_service_time`` if present, else 0).

    Returns:
        The app; ``app[NETSUITE_KEY]`` is its :class:`NetSuiteEmulator`.
    """
    emulator = NetSuiteEmulator(dataset, settings, log, service_time)
    app = web.Application(middlewares=[emulator.gate])
    app[NETSUITE_KEY] = emulator
    app.router.add_post(TOKEN_PATH, emulator.token)
    app.router.add_post(SUITEQL_PATH, emulator.suiteql)
    app.router.add_get(f"{REST}/record/v1/{{type}}", emulator.collection)
    app.router.add_get(f"{REST}/record/v1/{{type}}/{{id}}", emulator.record)
    app.router.add_get(f"{REST}/record/v1/{{type}}/{{id}}/{{sublist}}", emulator.sublist)
    app.router.add_get(f"{REST}/record/v1/{{type}}/{{id}}/{{sublist}}/{{line}}", emulator.sublist)
    app.router.add_get(f"{REST}/system/v1/serverTime", emulator.server_time)
    return app
