"""HTTP plumbing shared by the live adapters: one client per system, pacing, retries, errors.

Every call goes through :meth:`SystemClient.request`: it waits for the system's
pacer, signs the request, sends it, and retries what is worth retrying (429,
5xx, timeouts, dropped connections, a cut-off body) with the platform's own
``Retry-After`` or an exponential backoff with jitter, up to a cap. A 4xx that
retrying cannot fix fails at once with a message naming the system and what to
check. Cancellation is never retried or swallowed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

import httpx

# aiolimiter: a maintained asyncio leaky bucket with fair FIFO waiting; its capacity
# is the burst and its drip the sustained rate, which is exactly SP-API's model.
from aiolimiter import AsyncLimiter

# tenacity: the maintained retry library (async-aware, composable stop/wait rules);
# its wait can read Retry-After from the failure, and it never retries CancelledError.
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_exponential_jitter

from audit.model import UTC, ThreetruthError

try:
    _VERSION = version("threetruth")
except PackageNotFoundError:  # a source checkout that was never installed
    _VERSION = "0"

USER_AGENT = f"threetruth/{_VERSION} (read-only order audit)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class FetchError(ThreetruthError):
    """A system could not be read: which system, what failed, what to check."""

    title = "Fetch failed"

    def __init__(self, system: str, problem: str, check: str = "", *, status: int | None = None) -> None:
        message = f"{system}: {problem}" + (f"; {check}" if check else "")
        super().__init__(message, title=f"Cannot read {system}")
        self.system = system
        self.status = status


class RetryableError(Exception):
    """A failure the next attempt may not meet (throttling, a server error, a broken connection)."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, the backoff curve, and the longest total wait."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    give_up_after: float = 120.0
    jitter: float = 0.5
    retry_after_cap: float = 60.0  # a server asking for longer than this is not waited for blindly
    # Credentials renewed after a 401/403 within one call. A client cannot tell an expired
    # token from a refused one, so a few renewals, then the refusal is reported.
    renewals: int = 3


# --- pacing ----------------------------------------------------------------------------


class Pacer(Protocol):
    """Holds a request back until the platform's limits allow it, and learns from responses."""

    def slot(self, cost: float = 1) -> Any:
        """An async context manager held around one request."""

    def observe(self, response: httpx.Response, body: Any) -> None:
        """Adjust to what the platform said about its limits."""


class Unpaced:
    @asynccontextmanager
    async def slot(self, cost: float = 1) -> AsyncIterator[None]:
        yield

    def observe(self, response: httpx.Response, body: Any) -> None:
        return None


class RateBurstPacer:
    """A published rate and burst (SP-API), re-planned from ``x-amzn-RateLimit-Limit`` when sent.

    A tenth of the burst (at least one request) is held back as headroom: this
    bucket counts a request when it leaves, the platform's when it arrives, and
    connection set-up and scheduling jitter bunch arrivals at the edge. The
    sustained rate is unchanged.
    """

    def __init__(self, rate: float, burst: int, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._emptied = False  # the server said 429: its bucket is empty, whatever ours believes
        self._set(rate, burst)

    def _set(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, max(1, burst)
        room = max(1, self.burst - max(1, self.burst // 10))
        self._limiter = AsyncLimiter(max_rate=room, time_period=room / (rate * self.time_scale))

    @asynccontextmanager
    async def slot(self, cost: float = 1) -> AsyncIterator[None]:
        if self._emptied:
            self._emptied = False
            await self._drain()
        await self._limiter.acquire(cost)
        yield

    async def _drain(self) -> None:
        """Spend whatever our bucket holds, so the next request waits for the server's to refill.

        SP-API's 429 carries no Retry-After; the server's bucket can be empty while ours is
        full (another process, or an earlier run, spent it), and retrying on a short backoff
        would only meet more 429s. Spent in shrinking amounts, the level ends within 1/64
        of a request of full, through the limiter's public calls only.
        """
        amount = 1.0
        while amount >= 1 / 64:
            while self._limiter.has_capacity(amount):
                await self._limiter.acquire(amount)
            amount /= 2

    def observe(self, response: httpx.Response, body: Any) -> None:
        if response.status_code == 429:
            self._emptied = True
        header = response.headers.get("x-amzn-RateLimit-Limit")
        try:
            # The header is the rate the server enforces; a time-scaled sandbox enforces (and
            # reports) the scaled rate, so it is stored unscaled or it would be scaled twice.
            applied = float(header) / self.time_scale if header else None
        except ValueError:
            return
        if applied and applied > 0 and abs(applied - self.rate) > 1e-9:
            # The seller's applied plan differs from the published default: follow it.
            self._set(applied, self.burst)


class CostBucketPacer:
    """Shopify's GraphQL cost bucket, kept in step with the ``throttleStatus`` each response carries.

    No library models a bucket whose size and restore rate the server reports
    per response, so this one is small and local: it spends the requested cost
    before sending and waits for the restore rate when the bucket is short.
    """

    def __init__(self, maximum: float = 1000.0, restore_rate: float = 50.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available = maximum
        self._clock = clock
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self._reported = asyncio.Event()  # set when a response reports the real bucket level

    def _refill(self) -> None:
        now = self._clock()
        self.available = min(self.maximum, self.available + (now - self._stamp) * self.restore_rate)
        self._stamp = now

    @asynccontextmanager
    async def slot(self, cost: float = 1) -> AsyncIterator[None]:
        async with self._lock:
            cost = min(cost, self.maximum)
            while True:
                self._refill()
                if self.available >= cost:
                    self.available -= cost
                    break
                # Wait for the restore rate, or less: a query in flight usually costs far less
                # than it requested, and its response refunds the difference.
                self._reported.clear()
                try:
                    await asyncio.wait_for(self._reported.wait(), (cost - self.available) / self.restore_rate)
                except TimeoutError:
                    pass
        yield

    def observe(self, response: httpx.Response, body: Any) -> None:
        status = ((body or {}).get("extensions") or {}).get("cost", {}).get("throttleStatus") if isinstance(body, dict) else None
        if not isinstance(status, Mapping):
            return
        try:
            self.maximum = float(status.get("maximumAvailable", self.maximum))
            self.restore_rate = float(status.get("restoreRate", self.restore_rate)) or self.restore_rate
            self.available = float(status.get("currentlyAvailable", self.available))
        except (TypeError, ValueError):
            return
        self._stamp = self._clock()
        self._reported.set()


class ConcurrencyPacer:
    """At most N requests in flight: NetSuite's account-wide concurrency limit."""

    def __init__(self, limit: int = 5) -> None:
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def slot(self, cost: float = 1) -> AsyncIterator[None]:
        async with self._semaphore:
            yield

    def observe(self, response: httpx.Response, body: Any) -> None:
        return None


# --- auth --------------------------------------------------------------------------------


class Auth(Protocol):
    """Adds credentials to a request; may refresh them once when the platform says they expired.

    An auth that fetches tokens may also define ``async def ready()``: it is awaited
    before a request takes its pacing slot, so a token fetch never delays a slot
    already granted (which would bunch the requests after it past the platform's bucket).
    """

    async def apply(self, request: httpx.Request) -> None: ...

    async def refresh(self) -> bool:
        """Renew expired credentials; False when there is nothing to renew."""
        ...


class NoAuth:
    async def apply(self, request: httpx.Request) -> None:
        return None

    async def refresh(self) -> bool:
        return False


# --- the client -------------------------------------------------------------------------


def build_client(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The one place an ``httpx.AsyncClient`` is made: explicit timeouts, a User-Agent, no redirects to elsewhere."""
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
    )


@dataclass
class Reply:
    """One successful response: the verbatim text, its JSON, and when and where it was fetched."""

    response: httpx.Response
    text: str
    body: Any
    endpoint: str
    fetched_at: datetime


Classifier = Callable[[httpx.Response, Any], "str | None"]


class SystemClient:
    """One configured system's connection: its httpx client, pacers, auth and retry policy."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        *,
        auth: Auth | None = None,
        pacers: Mapping[str, Pacer] | None = None,
        policy: RetryPolicy = RetryPolicy(),
        throttled: Classifier | None = None,
        hint: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self.client = client
        self.auth = auth or NoAuth()
        self.pacers = dict(pacers or {})
        self.policy = policy
        self._backoff = wait_exponential_jitter(multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.jitter)
        self.throttled = throttled  # a platform whose throttle comes back as HTTP 200 says so here
        self.hint = hint  # what to check when the system refuses us
        self.clock = clock  # stamps fetched_at: the adapters' edge is where the wall clock is read
        self.sleep = sleep

    async def aclose(self) -> None:
        await self.client.aclose()

    def pacer(self, operation: str) -> Pacer:
        return self.pacers.get(operation) or self.pacers.get("*") or Unpaced()

    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: str = "*",
        cost: float = 1,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        describe: str | None = None,
    ) -> Reply:
        """Send one call with pacing and retries; returns the decoded JSON reply.

        Raises:
            FetchError: the system refused the call (a 4xx retrying cannot fix),
                or every attempt failed; the message says which and what to check.
        """
        endpoint = describe or f"{method} {url}"
        renewals = 0
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(RetryableError),
                stop=stop_after_attempt(self.policy.attempts) | stop_after_delay(self.policy.give_up_after),
                wait=self._wait,
                sleep=self.sleep,
                reraise=True,
            ):
                with attempt:
                    pacer = self.pacer(operation)
                    ready = getattr(self.auth, "ready", None)
                    if ready is not None:
                        await ready()
                    async with pacer.slot(cost):
                        request = self.client.build_request(method, url, params=params, json=json_body, data=data, headers=headers)
                        await self.auth.apply(request)
                        response = await self._send(request)
                    text, body = self._decode(response)
                    pacer.observe(response, body)
                    # Credentials can expire more than once in a long call; a few renewals, not unlimited.
                    if response.status_code in (401, 403) and renewals < self.policy.renewals and await self.auth.refresh():
                        renewals += 1
                        raise RetryableError(f"HTTP {response.status_code}: credentials expired, renewed", retry_after=0)
                    self._check(response, body, endpoint)
                    return Reply(response, text, body, endpoint, self.clock())
        except RetryableError as exc:
            raise FetchError(
                self.name,
                f"{endpoint} failed {self.policy.attempts} times or for {self.policy.give_up_after:.0f} s, last: {exc}",
                "the system may be down or throttling hard; try again later",
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover - AsyncRetrying either returns or raises

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.client.send(request)
        except httpx.TimeoutException:
            raise RetryableError("timed out") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise RetryableError(f"connection dropped ({type(exc).__name__})") from None
        except httpx.ConnectError as exc:
            raise FetchError(self.name, f"cannot connect to {request.url.host}:{request.url.port or ''} ({exc})",
                             "check base_url and that the host is reachable") from None

    def _decode(self, response: httpx.Response) -> tuple[str, Any]:
        try:
            text = response.text
        except UnicodeDecodeError:
            raise RetryableError("response was not text") from None
        if not text.strip():
            return text, None
        try:
            return text, json.loads(text)
        except ValueError:
            if response.status_code < 300 and "json" in response.headers.get("content-type", "json"):
                raise RetryableError("response body was cut off (invalid JSON)") from None
            return text, None

    def _check(self, response: httpx.Response, body: Any, endpoint: str) -> None:
        status = response.status_code
        problem = self.throttled(response, body) if self.throttled else None
        if problem:
            raise RetryableError(problem, retry_after=retry_after(response))
        if status == 429:
            raise RetryableError("HTTP 429 too many requests", retry_after=retry_after(response))
        if status >= 500:
            raise RetryableError(f"HTTP {status}", retry_after=retry_after(response))
        if status >= 400:
            raise FetchError(self.name, f"{endpoint} refused: HTTP {status} {error_text(body) or response.reason_phrase}",
                             self.hint if status in (401, 403) else "", status=status)

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        asked = getattr(failure, "retry_after", None)
        if asked is not None:
            return min(max(asked, 0.0), self.policy.retry_after_cap)
        return self._backoff(state)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` as seconds (maybe fractional) or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def error_text(body: Any) -> str:
    """The human part of a platform's error body (SP-API, Shopify, NetSuite shapes)."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return ": ".join(str(first[k]) for k in ("code", "message", "details") if first.get(k))
    if isinstance(errors, str):
        return errors
    if isinstance(body.get("error"), str):  # OAuth token endpoints (LWA, NetSuite): error + error_description
        return ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
    details = body.get("o:errorDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return f"{details[0].get('o:errorCode', '')}: {details[0].get('detail', '')}".strip(": ")
    return str(body.get("title") or body.get("message") or "")
