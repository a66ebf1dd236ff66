"""The shared machinery: token bucket, fault draws, request log, settings."""

from __future__ import annotations

import json

import pytest

from sandbox.core import (
    EmulatorSettings,
    Fault,
    FaultPlan,
    LoggedRequest,
    RequestLog,
    TokenBucket,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_refills_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.5)
    clock.now = 0.5
    assert bucket.try_take() is True
    assert bucket.try_take() is False
    clock.now = 100.0
    assert bucket.available == 3  # never above the burst


def test_token_bucket_takes_costs_and_gives_back():
    clock = FakeClock()
    bucket = TokenBucket(rate=50, burst=1000, clock=clock)
    assert bucket.try_take(900)
    assert not bucket.try_take(200)  # a request is refused whole, nothing is taken
    assert bucket.available == pytest.approx(100)
    bucket.give_back(880)
    assert bucket.available == pytest.approx(980)


@pytest.mark.parametrize("rate, burst", [(0, 1), (1, 0), (-1, 5)])
def test_token_bucket_rejects_non_positive_limits(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_settings_validate_and_scale():
    settings = EmulatorSettings(time_scale=10)
    assert settings.scaled(0.5) == 5
    assert settings.with_(fault_rate=0.3).fault_rate == 0.3
    with pytest.raises(ValueError):
        EmulatorSettings(fault_rate=1.5)
    with pytest.raises(ValueError):
        EmulatorSettings(time_scale=0)


def test_fault_draws_are_reproducible_with_a_seed():
    settings = EmulatorSettings(fault_rate=0.5, seed=42)
    plan_a, plan_b = FaultPlan(settings, "amazon"), FaultPlan(settings, "amazon")
    draws_a = [plan_a.draw("/orders/v0/orders")[0] for _ in range(200)]
    draws_b = [plan_b.draw("/orders/v0/orders")[0] for _ in range(200)]
    assert draws_a == draws_b
    assert 60 < sum(d is not None for d in draws_a) < 140
    other = FaultPlan(EmulatorSettings(fault_rate=0.5, seed=43), "amazon")
    assert [other.draw("/orders/v0/orders")[0] for _ in range(200)] != draws_a


def test_fault_kinds_fit_the_platform():
    everything = EmulatorSettings(fault_rate=1.0, seed=1)
    plan = FaultPlan(everything, "shopify")
    shopify = {plan.draw("/admin/api/2025-10/graphql.json")[0] for _ in range(500)}
    assert Fault.EXPIRED_TOKEN not in shopify and Fault.THROTTLED in shopify
    plan = FaultPlan(everything, "amazon")
    amazon = {plan.draw("/orders/v0/orders")[0] for _ in range(500)}
    assert Fault.THROTTLED not in amazon and Fault.EXPIRED_TOKEN in amazon
    # An expired token makes no sense on a token endpoint: a 500 is drawn instead.
    plan = FaultPlan(everything.with_(faults=(Fault.EXPIRED_TOKEN,)), "amazon")
    assert plan.draw("/auth/o2/token")[0] is Fault.SERVER_ERROR
    assert FaultPlan(everything.with_(fault_rate=0.0), "netsuite").draw("/")[0] is None


def test_request_log_snapshots_filters_and_dumps(tmp_path):
    log = RequestLog()
    log.record(LoggedRequest("amazon", "GET", "/b", {}, None, 200, None, at=2.0))
    log.record(LoggedRequest("shopify", "POST", "/a", {"X": "1"}, "{}", 429, "rate_limited", at=1.0))
    assert [e.path for e in log.entries()] == ["/a", "/b"]  # arrival order
    assert [e.path for e in log.entries("amazon")] == ["/b"]
    path = tmp_path / "log.jsonl"
    assert log.dump(path) == 2
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["fault"] == "rate_limited" and lines[1]["status"] == 200
    log.clear()
    assert len(log) == 0
