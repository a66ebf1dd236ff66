"""Shared machinery of the emulators: settings, request log, token bucket, fault + log middleware.

The contract every platform module follows::

    def make_app(dataset: Dataset, settings: EmulatorSettings, log: RequestLog) -> web.Application

and ``instrument(app, platform, settings, log)`` (called by the server, not by the platform
module) puts the logging and fault middleware in front of the platform's own handlers.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

PLATFORMS = ("shopify", "amazon", "netsuite")


class Fault(StrEnum):
    """The failures the sandbox can inject, each shaped like the platform's own."""

    RATE_LIMITED = "rate_limited"  # 429 with Retry-After
    THROTTLED = "throttled"  # Shopify GraphQL THROTTLED (HTTP 200, sometimes 429); Shopify only
    SERVER_ERROR = "server_error"  # 500
    UNAVAILABLE = "unavailable"  # 503
    TIMEOUT = "timeout"  # the response is held for settings.timeout_delay seconds
    DROPPED = "dropped"  # the connection is closed without a response
    TRUNCATED = "truncated"  # a 200 whose JSON body is cut mid-way
    EXPIRED_TOKEN = "expired_token"  # Amazon 403 expired token, NetSuite 401; not Shopify


# Shopify offline tokens do not expire, and THROTTLED is a GraphQL-only error.
FAULTS_BY_PLATFORM: dict[str, tuple[Fault, ...]] = {
    "shopify": tuple(f for f in Fault if f is not Fault.EXPIRED_TOKEN),
    "amazon": tuple(f for f in Fault if f is not Fault.THROTTLED),
    "netsuite": tuple(f for f in Fault if f is not Fault.THROTTLED),
}

# Token endpoints: an "expired token" there makes no sense, a 500 is drawn instead.
TOKEN_PATHS = frozenset({"/auth/o2/token", "/services/rest/auth/oauth2/v1/token"})

# Header names whose values never reach the request log (compared lower-case).
SECRET_HEADERS = frozenset(
    {"authorization", "x-shopify-access-token", "x-amz-access-token", "cookie", "proxy-authorization"}
)
# Form / JSON body fields masked in the log (LWA token requests carry secrets in the body).
SECRET_FIELDS = frozenset(
    {"client_secret", "refresh_token", "client_assertion", "access_token", "password", "code"}
)


@dataclass(frozen=True)
class ShopifyCredentials:
    """What the Shopify emulator accepts."""

    access_token: str = "shpat_sandbox"
    """The Admin API access token expected in X-Shopify-Access-Token."""
    shop: str = "sandbox-shop"
    """The shop handle (informational: the sandbox serves one shop on its own port)."""


@dataclass(frozen=True)
class AmazonCredentials:
    """What the LWA token endpoint and SP-API emulator accept."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    refresh_token: str = "sandbox-refresh-token"
    marketplace_id: str = "ATVPDKIKX0DER"
    """Default marketplace (Amazon.com) of the served orders."""


@dataclass(frozen=True)
class NetSuiteCredentials:
    """What the NetSuite emulator accepts (OAuth 1.0a TBA and OAuth 2.0 client credentials)."""

    account_id: str = "1234567"
    consumer_key: str = "sandbox-consumer-key"
    consumer_secret: str = "sandbox-consumer-secret"
    token_id: str = "sandbox-token-id"
    token_secret: str = "sandbox-token-secret"
    client_id: str = "sandbox-client-id"
    """OAuth 2.0 client credentials: the integration's client id (the JWT ``iss``)."""
    certificate_id: str = "sandbox-certificate-id"
    """OAuth 2.0 client credentials: the certificate id (the JWT ``kid``)."""
    public_key_pem: str | None = None
    """PEM public key that verifies the client assertion; None disables the OAuth 2.0 flow."""


@dataclass(frozen=True)
class EmulatorSettings:
    """Everything the emulators are configured with; immutable, shared by the three apps."""

    shopify: ShopifyCredentials = field(default_factory=ShopifyCredentials)
    amazon: AmazonCredentials = field(default_factory=AmazonCredentials)
    netsuite: NetSuiteCredentials = field(default_factory=NetSuiteCredentials)
    time_scale: float = 1.0
    """Multiplies every published rate limit and restore rate (and divides waits/expiry)."""
    fault_rate: float = 0.0
    """Probability in [0, 1] that a request gets one injected fault."""
    faults: tuple[Fault, ...] | None = None
    """The fault kinds to draw from (None: every kind that fits the platform)."""
    seed: int | None = None
    """Seed of the fault draws (None: unseeded)."""
    timeout_delay: float = 30.0
    """Seconds a TIMEOUT fault holds the response (set it above the client's timeout)."""
    retry_after: float = 1.0
    """Retry-After (seconds, before time scaling) of injected 429s."""
    netsuite_concurrency: int = 5
    """Requests in flight per NetSuite account before 429 (NetSuite's default governance)."""
    netsuite_service_time: float = 0.0
    """Seconds each NetSuite request takes (divided by time_scale): lets requests overlap, so the concurrency limit can bite."""
    amazon_token_lifetime: int = 3600
    """Seconds an LWA access token lives (expires_in; real lifetime, not time-scaled)."""
    amazon_order_items_page: int = 100
    """Order items per getOrderItems page before a NextToken."""
    shopify_bucket_size: float = 1000.0
    """Shopify GraphQL leaky bucket maximumAvailable (standard plan)."""
    shopify_restore_rate: float = 50.0
    """Shopify GraphQL restoreRate in points per second, before time scaling."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be in [0, 1], got {self.fault_rate}")
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale}")

    def scaled(self, rate: float) -> float:
        """A published rate (per second) multiplied by the time scale."""
        return rate * self.time_scale

    def with_(self, **changes: Any) -> EmulatorSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)


Clock = Callable[[], float]


class TokenBucket:
    """A token bucket: ``burst`` tokens, refilled at ``rate`` per second of ``clock``.

    Used for SP-API per-operation limits (rate, burst) and Shopify's leaky bucket
    (restoreRate, maximumAvailable). Thread-safe; the clock is injectable for tests.
    """

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._stamp = now

    @property
    def available(self) -> float:
        """Tokens available now."""
        with self._lock:
            self._refill()
            return self._tokens

    def try_take(self, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough; never blocks."""
        with self._lock:
            self._refill()
            if self._tokens + 1e-9 >= cost:
                self._tokens -= cost
                return True
            return False

    def give_back(self, amount: float) -> None:
        """Return tokens (Shopify refunds requested minus actual query cost)."""
        with self._lock:
            self._refill()
            self._tokens = min(self.burst, self._tokens + amount)

    def wait_time(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available (0 if they are now)."""
        with self._lock:
            self._refill()
            missing = cost - self._tokens
            return max(0.0, missing / self.rate)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the sandbox saw and answered it (secrets removed)."""

    platform: str
    method: str
    path: str
    """Path with query string."""
    headers: dict[str, str]
    body: str | None
    """Body of a POST (secrets masked), None otherwise."""
    status: int | None
    """Status sent; None when the connection was dropped."""
    fault: str | None
    at: float
    """Wall-clock time (epoch seconds) the request arrived."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "platform": self.platform,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
            "at": self.at,
        }


class RequestLog:
    """Every request made to the sandbox (recorded once answered); thread-safe."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def record(self, entry: LoggedRequest) -> None:
        """Append one entry."""
        with self._lock:
            self._entries.append(entry)

    def entries(self, platform: str | None = None) -> list[LoggedRequest]:
        """A snapshot of the entries in arrival order, optionally for one platform."""
        with self._lock:
            items = sorted(self._entries, key=lambda e: e.at)
        return [e for e in items if platform is None or e.platform == platform]

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def dump(self, path: str | Path) -> int:
        """Write the entries as JSON lines; returns how many were written."""
        items = self.entries()
        with Path(path).open("w", encoding="utf-8") as out:
            for entry in items:
                out.write(json.dumps(entry.to_json(), sort_keys=True) + "\n")
        return len(items)


# --- helpers the platform modules share -------------------------------------------------------

def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with the body serialised compactly (as the platforms do)."""
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
        headers=headers,
    )


FaultShaper = Callable[[Fault, web.Request], "web.StreamResponse | None"]
"""A platform's own rendering of a fault (return None to use the core's default)."""

FAULT_SHAPER = web.AppKey("sandbox_fault_shaper", FaultShaper)
"""Optional: a platform app sets ``app[FAULT_SHAPER] = shaper`` to shape some faults itself."""

PLATFORM_KEY = web.AppKey("sandbox_platform", str)
"""Set by ``instrument``: the platform name of the app."""

SETTINGS_KEY = web.AppKey("sandbox_settings", EmulatorSettings)
LOG_KEY = web.AppKey("sandbox_log", RequestLog)

FAULT_PLAN_KEY = web.AppKey("sandbox_fault_plan", object)
"""Set by ``instrument``: the app's ``FaultPlan``."""

REQUEST_FAULT = web.RequestKey("sandbox_fault", object)
"""Key in the request (``request[REQUEST_FAULT]``) recording the fault injected, if any."""


def _masked_headers(request: web.Request) -> dict[str, str]:
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in request.headers.items()}


def _masked_body(raw: bytes, content_type: str) -> str:
    text = raw.decode("utf-8", errors="replace")
    if "application/x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, "***" if k in SECRET_FIELDS else v) for k, v in pairs])
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict):
            masked = {k: ("***" if k in SECRET_FIELDS else v) for k, v in data.items()}
            return json.dumps(masked, separators=(",", ":"))
    return text


def _retry_after(settings: EmulatorSettings) -> str:
    seconds = settings.retry_after / settings.time_scale
    return f"{seconds:.3f}".rstrip("0").rstrip(".") or "0"


def amazon_error(code: str, message: str, details: str | None = None) -> dict[str, Any]:
    """The SP-API ErrorList body."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"errors": [error]}


def netsuite_error(status: int, title: str, detail: str, code: str) -> dict[str, Any]:
    """NetSuite REST's error body (RFC 7807 problem details with o:errorDetails)."""
    return {
        "type": _PROBLEM_TYPES.get(status, "https://www.rfc-editor.org/rfc/rfc9110.html#section-15"),
        "title": title,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }


# The "type" of NetSuite problem details points at the status code's definition.
_PROBLEM_TYPES = {
    400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    403: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
    404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
    405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
    429: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
    500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
    503: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4",
}


def request_id() -> str:
    """A fresh request id (x-amzn-RequestId style UUID)."""
    import uuid

    return str(uuid.uuid4())


def _default_fault_response(platform: str, fault: Fault, settings: EmulatorSettings) -> web.Response:
    retry = {"Retry-After": _retry_after(settings)}
    if platform == "amazon":
        headers = {"x-amzn-RequestId": request_id()}
        if fault is Fault.RATE_LIMITED:
            body = amazon_error("QuotaExceeded", "You exceeded your quota for the requested resource.")
            return json_response(body, 429, {**headers, **retry})
        if fault is Fault.EXPIRED_TOKEN:
            body = amazon_error(
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
            return json_response(body, 403, headers)
        if fault is Fault.UNAVAILABLE:
            body = amazon_error("ServiceUnavailable", "Service temporarily unavailable.")
            return json_response(body, 503, {**headers, **retry})
        body = amazon_error("InternalFailure", "We encountered an internal error. Please try again.")
        return json_response(body, 500, headers)
    if platform == "netsuite":
        if fault is Fault.RATE_LIMITED:
            body = netsuite_error(
                429, "Too Many Requests",
                "The request could not be processed because the account exceeded its request limit.",
                "SSS_REQUEST_LIMIT_EXCEEDED",
            )
            return json_response(body, 429, retry)
        if fault is Fault.EXPIRED_TOKEN:
            body = netsuite_error(
                401, "Unauthorized",
                "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
                "at Setup > Users/Roles > User Management > View Login Audit Trail.",
                "INVALID_LOGIN",
            )
            return json_response(body, 401)
        if fault is Fault.UNAVAILABLE:
            body = netsuite_error(503, "Service Unavailable", "The service is temporarily unavailable.",
                                  "SERVICE_UNAVAILABLE")
            return json_response(body, 503, retry)
        body = netsuite_error(500, "Internal Server Error", "An unexpected error occurred.",
                              "UNEXPECTED_ERROR")
        return json_response(body, 500)
    # Shopify
    if fault is Fault.RATE_LIMITED:
        return json_response({"errors": "Exceeded 2 calls per second for api client. Reduce request "
                              "rates to resume uninterrupted service."}, 429, retry)
    if fault is Fault.THROTTLED:
        bucket = settings.shopify_bucket_size
        body = {
            "errors": [{
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }],
            "extensions": {"cost": {
                "requestedQueryCost": int(bucket) + 1,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": bucket,
                    "currentlyAvailable": 0,
                    "restoreRate": settings.scaled(settings.shopify_restore_rate),
                },
            }},
        }
        return json_response(body, 200)
    if fault is Fault.UNAVAILABLE:
        return json_response({"errors": "Service Unavailable"}, 503, retry)
    return json_response({"errors": "Internal Server Error"}, 500)


class FaultPlan:
    """Seeded draws deciding whether, and which, fault each request gets.

    ``rate`` and ``kinds`` may be changed while serving (``Sandbox.set_faults``), e.g. to
    let a test's retry through after a fault.
    """

    def __init__(self, settings: EmulatorSettings, platform: str) -> None:
        self.platform = platform
        self.rate = settings.fault_rate
        self.kinds: tuple[Fault, ...] = ()
        self.choose(settings.faults)
        # One stream per platform so the three apps' draws do not depend on each other's traffic.
        seed = None if settings.seed is None else f"{settings.seed}:{platform}"
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def choose(self, kinds: Iterable[Fault] | None) -> None:
        """Draw from these kinds (None: every kind that fits the platform)."""
        allowed = FAULTS_BY_PLATFORM[self.platform]
        self.kinds = tuple(f for f in (kinds if kinds is not None else allowed) if f in allowed)

    def draw(self, path: str) -> tuple[Fault | None, float]:
        """The fault for the next request (or None) and a uniform draw that varies its shape."""
        if not self.kinds or self.rate <= 0:
            return None, 0.0
        with self._lock:
            if self._random.random() >= self.rate:
                return None, 0.0
            fault = self._random.choice(self.kinds)
            variant = self._random.random()
        if fault is Fault.EXPIRED_TOKEN and path in TOKEN_PATHS:
            return Fault.SERVER_ERROR, variant
        return fault, variant


def instrument(
    app: web.Application, platform: str, settings: EmulatorSettings, log: RequestLog
) -> web.Application:
    """Put the log + fault middleware in front of a platform app (before it is frozen)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    app[PLATFORM_KEY] = platform
    app[SETTINGS_KEY] = settings
    app[LOG_KEY] = log
    plan = FaultPlan(settings, platform)
    app[FAULT_PLAN_KEY] = plan

    @web.middleware
    async def sandbox_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
        arrived = time.time()
        body = None
        if request.method in ("POST", "PUT", "PATCH"):
            body = _masked_body(await request.read(), request.content_type)
        fault, variant = plan.draw(request.path)
        request[REQUEST_FAULT] = fault
        status: int | None = None
        try:
            if fault is None:
                response = await handler(request)
            else:
                response = await _apply_fault(fault, variant, request, handler, app, platform, settings)
            status = None if response is None else response.status
            if response is None:
                # The transport is already closed: nothing reaches the client.
                return web.Response(status=499)
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = None  # the client went away (e.g. its timeout fired during a TIMEOUT fault)
            raise
        except Exception:
            status = 500
            raise
        finally:
            log.record(LoggedRequest(
                platform=platform, method=request.method, path=request.path_qs,
                headers=_masked_headers(request), body=body, status=status,
                fault=None if fault is None else fault.value, at=arrived,
            ))

    app.middlewares.insert(0, sandbox_middleware)
    return app


async def _apply_fault(
    fault: Fault, variant: float, request: web.Request, handler: Callable, app: web.Application,
    platform: str, settings: EmulatorSettings,
) -> web.StreamResponse | None:
    if fault is Fault.DROPPED:
        transport = request.transport
        if transport is not None:
            transport.abort() if hasattr(transport, "abort") else transport.close()
        return None
    if fault is Fault.TIMEOUT:
        await asyncio.sleep(settings.timeout_delay)
        return await handler(request)
    if fault is Fault.TRUNCATED:
        response = await handler(request)
        body = response.body if isinstance(response, web.Response) else None
        if not isinstance(body, bytes) or len(body) < 2:
            body = b'{"errors": []}'
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-type", "content-encoding")}
        # A 200 whose body stops half-way: the Content-Length matches what is sent, so the
        # HTTP exchange is complete and only the JSON is broken.
        return web.Response(status=200, body=body[: len(body) // 2], headers=headers,
                            content_type="application/json")
    shaper = app.get(FAULT_SHAPER)
    if shaper is not None:
        shaped = shaper(fault, request)
        if shaped is not None:
            return shaped
    response = _default_fault_response(platform, fault, settings)
    if fault is Fault.THROTTLED and variant < 0.25:
        # Shopify's THROTTLED comes as HTTP 200 in the docs' examples and as 429 in some
        # reports (platform-apis.md §1a: unconfirmed): send 429 one time in four.
        response.set_status(429)
        response.headers["Retry-After"] = _retry_after(settings)
    return response
