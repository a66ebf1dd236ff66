"""Injected faults: each kind appears at fault rate 1, shaped like the platform's own, and a
retried request then gets the right answer (a fault never changes data)."""

from __future__ import annotations

import asyncio
import importlib.util
import json

import httpx
import pytest

from sandbox.core import FAULTS_BY_PLATFORM, EmulatorSettings, Fault
from sandbox.server import Sandbox

from .conftest import amazon_token, shopify_query

ORDER_QUERY = '{ order(id: "gid://shopify/Order/5512345678902") { name displayFulfillmentStatus } }'
AMAZON_PATH = "/orders/2026-01-01/orders/113-2201934-5567102?includedData=FULFILLMENT"


async def _send(client: httpx.AsyncClient, box: Sandbox, platform: str, token: str | None) -> httpx.Response:
    if platform == "shopify":
        return await shopify_query(client, box.urls.shopify, ORDER_QUERY)
    return await client.get(f"{box.urls.amazon}{AMAZON_PATH}", headers={"x-amz-access-token": token or ""})


def _assert_fault_shape(platform: str, fault: Fault, outcome: httpx.Response | Exception) -> None:
    if fault is Fault.TIMEOUT:
        assert isinstance(outcome, httpx.TimeoutException)
        return
    if fault is Fault.DROPPED:
        assert isinstance(outcome, (httpx.RemoteProtocolError, httpx.ReadError))
        return
    assert isinstance(outcome, httpx.Response), outcome
    response = outcome
    if fault is Fault.TRUNCATED:
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
        return
    body = response.json()
    if fault is Fault.RATE_LIMITED:
        assert response.status_code == 429 and float(response.headers["Retry-After"]) >= 0
        if platform == "amazon":
            assert body["errors"][0]["code"] == "QuotaExceeded"
    elif fault is Fault.THROTTLED:
        assert response.status_code in (200, 429)
        assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert body["extensions"]["cost"]["actualQueryCost"] is None
    elif fault is Fault.SERVER_ERROR:
        assert response.status_code == 500
    elif fault is Fault.UNAVAILABLE:
        assert response.status_code == 503
    elif fault is Fault.EXPIRED_TOKEN:
        assert platform == "amazon" and response.status_code == 403
        assert body["errors"][0]["details"] == "The access token you provided has expired."
    if platform == "amazon":
        assert response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    "platform, fault", [(p, f) for p in ("shopify", "amazon") for f in FAULTS_BY_PLATFORM[p]],
    ids=lambda v: str(v),
)
async def test_each_fault_appears_and_a_retry_succeeds(samples, client, platform, fault):
    settings = EmulatorSettings(time_scale=1000, fault_rate=1.0, faults=(fault,), seed=1, timeout_delay=0.6)
    async with Sandbox(samples, settings, platforms=("shopify", "amazon")) as box:
        box.set_faults(0.0)
        token = await amazon_token(client, box.urls.amazon) if platform == "amazon" else None
        expected = (await _send(client, box, platform, token)).json()
        box.set_faults(1.0, [fault])
        async with httpx.AsyncClient(timeout=0.2) as impatient:
            try:
                outcome: httpx.Response | Exception = await _send(impatient, box, platform, token)
            except httpx.HTTPError as exc:
                outcome = exc
        _assert_fault_shape(platform, fault, outcome)
        box.set_faults(0.0)
        retry = await _send(client, box, platform, token)
        assert retry.status_code == 200 and retry.json() == expected
        for _ in range(50):  # a held (TIMEOUT) request is logged once the sandbox answers it
            faulted = [e for e in box.log.entries(platform) if e.fault]
            if faulted:
                break
            await asyncio.sleep(0.05)
        assert [e.fault for e in faulted] == [fault.value]
        if fault is Fault.DROPPED:
            assert faulted[0].status is None


@pytest.mark.skipif(importlib.util.find_spec("sandbox.netsuite") is None, reason="NetSuite emulator not present")
@pytest.mark.parametrize("fault, status", [(Fault.EXPIRED_TOKEN, 401), (Fault.RATE_LIMITED, 429),
                                           (Fault.SERVER_ERROR, 500), (Fault.UNAVAILABLE, 503)])
async def test_netsuite_faults_use_its_error_body(samples, client, fault, status):
    settings = EmulatorSettings(fault_rate=1.0, faults=(fault,), seed=2)
    async with Sandbox(samples, settings, platforms=("netsuite",)) as box:
        response = await client.get(f"{box.urls.netsuite}/services/rest/record/v1/salesOrder/20483")
    body = response.json()
    assert response.status_code == status == body["status"]
    assert body["o:errorDetails"][0]["o:errorCode"]


async def test_fault_sequences_repeat_with_the_same_seed(samples, client):
    async def run(seed: int) -> list[str | None]:
        settings = EmulatorSettings(time_scale=1000, fault_rate=0.5, seed=seed,
                                    faults=(Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.RATE_LIMITED))
        async with Sandbox(samples, settings, platforms=("shopify",)) as box:
            for _ in range(30):
                await shopify_query(client, box.urls.shopify, ORDER_QUERY)
            return [e.fault for e in box.log.entries()]

    first, again, other = await run(9), await run(9), await run(10)
    assert first == again != other
    assert 5 < sum(f is not None for f in first) < 25


async def test_a_retrying_client_gets_the_same_answers_through_faults(samples, client):
    settings = EmulatorSettings(time_scale=1000, fault_rate=0.4, seed=4, timeout_delay=0.4)
    async with Sandbox(samples, EmulatorSettings(time_scale=1000), platforms=("shopify",)) as clean:
        expected = (await shopify_query(client, clean.urls.shopify, ORDER_QUERY)).json()["data"]
    async with Sandbox(samples, settings, platforms=("shopify",)) as box, \
            httpx.AsyncClient(timeout=0.2) as impatient:
        answers = []
        for _ in range(8):
            for _attempt in range(30):
                try:
                    response = await shopify_query(impatient, box.urls.shopify, ORDER_QUERY)
                    body = response.json()
                except (httpx.HTTPError, json.JSONDecodeError):
                    continue
                if response.status_code == 200 and "errors" not in body:
                    answers.append(body["data"])
                    break
        assert answers == [expected] * 8
        assert {e.fault for e in box.log.entries()} - {None}
