"""The shared HTTP plumbing: retries, Retry-After, give-up, refusal, refresh, cancellation, pacing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from adapters.http import (
    ConcurrencyPacer,
    CostBucketPacer,
    FetchError,
    RateBurstPacer,
    RetryPolicy,
    SystemClient,
    build_client,
    retry_after,
)

FAST = RetryPolicy(attempts=4, initial_wait=0.001, max_wait=0.01, give_up_after=5, jitter=0)


def client_for(responses, *, policy=FAST, auth=None, throttled=None, pacers=None):
    """A SystemClient whose transport answers from a list of responses or exceptions, in order."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = responses[min(len(calls) - 1, len(responses) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    client = SystemClient(
        "amazon",
        build_client("https://api.example", transport=httpx.MockTransport(handler)),
        policy=policy,
        auth=auth,
        throttled=throttled,
        pacers=pacers,
        hint="check client_id and refresh_token",
        sleep=sleep,
    )
    return client, calls, waits


def ok(body='{"ok": true}', **headers):
    return httpx.Response(200, text=body, headers={"content-type": "application/json", **headers})


async def test_a_429_is_retried_after_the_time_the_server_asked_for():
    client, calls, waits = client_for([httpx.Response(429, headers={"Retry-After": "2.5"}), ok()])
    reply = await client.request("GET", "/orders/1")
    assert reply.body == {"ok": True}
    assert len(calls) == 2
    assert waits == [2.5]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503),
        httpx.Response(500, json={"errors": [{"code": "InternalFailure", "message": "x"}]}),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        ok('{"order": {"orderId": "113-'),  # a body cut off mid-way
    ],
    ids=["503", "500", "timeout", "dropped", "truncated"],
)
async def test_transient_failures_are_retried_with_growing_jittered_backoff(failure):
    client, calls, waits = client_for([failure, failure, ok()])
    reply = await client.request("GET", "/orders/1")
    assert reply.body == {"ok": True}
    assert len(calls) == 3
    assert len(waits) == 2 and waits[1] >= waits[0]


async def test_it_gives_up_after_the_cap_with_a_clear_error():
    client, calls, _ = client_for([httpx.Response(503)])
    with pytest.raises(FetchError) as caught:
        await client.request("GET", "/orders/1", describe="getOrder 113-1")
    assert len(calls) == FAST.attempts
    assert str(caught.value).startswith("amazon: getOrder 113-1 failed 4 times")
    assert caught.value.title == "Cannot read amazon"


async def test_a_refusal_is_not_retried_and_says_what_to_check():
    body = {"errors": [{"code": "InvalidInput", "message": "Invalid order id"}]}
    client, calls, waits = client_for([httpx.Response(400, json=body)])
    with pytest.raises(FetchError, match="InvalidInput: Invalid order id") as caught:
        await client.request("GET", "/orders/x")
    assert len(calls) == 1 and waits == []
    assert caught.value.status == 400


async def test_unauthorised_names_the_settings_to_check():
    client, calls, _ = client_for([httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "denied"}]})])
    with pytest.raises(FetchError, match="check client_id and refresh_token"):
        await client.request("GET", "/orders/x")
    assert len(calls) == 1


async def test_expired_credentials_are_renewed_once_and_the_call_retried():
    class Renewing:
        def __init__(self):
            self.token, self.renewed = "old", 0

        async def apply(self, request):
            request.headers["x-amz-access-token"] = self.token

        async def refresh(self):
            self.renewed += 1
            self.token = "new"
            return True

    auth = Renewing()
    client, calls, _ = client_for([httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "expired"}]}), ok()], auth=auth)
    await client.request("GET", "/orders/1")
    assert [c.headers["x-amz-access-token"] for c in calls] == ["old", "new"]
    assert auth.renewed == 1


async def test_a_throttle_sent_as_http_200_is_retried():
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}

    def classify(response, body):
        codes = [e.get("extensions", {}).get("code") for e in (body or {}).get("errors", []) if isinstance(e, dict)]
        return "THROTTLED" if "THROTTLED" in codes else None

    client, calls, _ = client_for([httpx.Response(200, json=throttled), ok()], throttled=classify)
    assert (await client.request("POST", "/graphql.json")).body == {"ok": True}
    assert len(calls) == 2


async def test_cancellation_stops_at_once_and_is_not_swallowed():
    started = asyncio.Event()

    async def slow_sleep(seconds):
        started.set()
        await asyncio.sleep(10)

    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503)

    client = SystemClient("amazon", build_client("https://api.example", transport=httpx.MockTransport(handler)),
                          policy=FAST, sleep=slow_sleep)
    task = asyncio.create_task(client.request("GET", "/orders/1"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(calls) == 1


async def test_secrets_in_headers_never_reach_the_error_message():
    class Secret:
        async def apply(self, request):
            request.headers["X-Shopify-Access-Token"] = "shpat_TOPSECRET"

        async def refresh(self):
            return False

    client, _, _ = client_for([httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})], auth=Secret())
    with pytest.raises(FetchError) as caught:
        await client.request("POST", "/graphql.json")
    assert "TOPSECRET" not in str(caught.value)


def test_retry_after_reads_seconds_and_dates():
    assert retry_after(httpx.Response(429, headers={"Retry-After": "2.0"})) == 2.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(httpx.Response(429)) is None


async def test_rate_and_burst_pacing_lets_the_burst_through_then_holds_the_rate():
    pacer = RateBurstPacer(rate=20, burst=5)
    started = time.monotonic()
    for _ in range(5):
        async with pacer.slot():
            pass
    burst_done = time.monotonic() - started
    for _ in range(4):
        async with pacer.slot():
            pass
    total = time.monotonic() - started
    assert burst_done < 0.1
    assert total >= 0.15  # four more at 20/s take about 0.2 s


async def test_a_429_empties_the_bucket_so_the_next_request_waits_for_a_refill():
    pacer = RateBurstPacer(rate=10, burst=30)  # a full bucket: 27 requests would leave at once
    pacer.observe(httpx.Response(429), None)  # SP-API's throttle carries no Retry-After
    started = time.monotonic()
    async with pacer.slot():
        pass
    assert time.monotonic() - started >= 0.08  # one request's worth of refill at 10/s is 0.1 s
    pacer.observe(httpx.Response(200), None)
    started = time.monotonic()
    async with pacer.slot():
        pass
    assert time.monotonic() - started >= 0.08  # still paced: the bucket refills at the rate, not at once


async def test_rate_follows_the_applied_limit_header():
    pacer = RateBurstPacer(rate=0.5, burst=30)
    pacer.observe(httpx.Response(200, headers={"x-amzn-RateLimit-Limit": "2.0"}), None)
    assert pacer.rate == 2.0


async def test_cost_bucket_waits_for_the_restore_rate_and_follows_throttle_status():
    pacer = CostBucketPacer(maximum=100, restore_rate=1000)
    pacer.observe(httpx.Response(200), {"extensions": {"cost": {"throttleStatus": {
        "maximumAvailable": 100.0, "currentlyAvailable": 10.0, "restoreRate": 1000.0}}}})
    assert pacer.available == 10.0
    started = time.monotonic()
    async with pacer.slot(60):
        pass
    assert time.monotonic() - started >= 0.04  # 50 points short at 1000/s


async def test_concurrency_pacer_holds_at_most_n_in_flight():
    pacer = ConcurrencyPacer(2)
    inside, peak = 0, 0

    async def one():
        nonlocal inside, peak
        async with pacer.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(one() for _ in range(6)))
    assert peak == 2
