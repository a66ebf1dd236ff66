"""Linking and writing live fetches, with stand-in adapters that answer from the sample payloads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.base import make_payload
from adapters.http import FetchError
from adapters.live import WindowPage
from adapters.registry import platform
from audit.model import UTC, Presence
from cache.store import Cache
from tui.config import parse_config
from tui.fetching import fetch_case, fetch_refs, sync_window
from tui.ingest import bundled_scenarios

SCENARIOS = bundled_scenarios()
NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)
EMPTY = {
    "amazon": {"orders": [], "pagination": {}, "createdBefore": "2026-03-05T11:58:00Z"},
    "shopify": {"data": {"orders": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}},
    "netsuite": {"links": [], "count": 0, "hasMore": False, "items": [], "offset": 0, "totalResults": 0},
}


def config_for(tmp_path: Path):
    systems = {
        "amazon": {"role": "marketplace", "platform": "amazon", "base_url": "https://sellingpartnerapi-na.amazon.com"},
        "shopify": {"role": "storefront", "platform": "shopify", "base_url": "https://acme.myshopify.com"},
        "netsuite": {"role": "erp", "platform": "netsuite", "base_url": "https://1234567.suitetalk.api.netsuite.com",
                     "timezone": "America/Los_Angeles"},
    }
    return parse_config({"cache": {"path": str(tmp_path / "cache.db")}, "systems": systems}, None, {})


class SampleAdapter:
    """Answers lookups like the real system would, from the sample scenarios' payloads."""

    def __init__(self, name: str, config, scenarios: list[str], failing: bool = False):
        self.name, self.failing, self.asked = name, failing, []
        self.orders: list[tuple[set[str], list[str]]] = []  # (refs this order answers to, payload texts)
        system = config.systems[name]
        for scenario in scenarios:
            texts = [p.read_text() for p in sorted((SCENARIOS / scenario / name).glob("*.json"))]
            payloads = [make_payload(name, f"file {i}", NOW, t) for i, t in enumerate(texts)]
            records = platform(system.platform).normalise(payloads, system.context()).records
            if records:
                keys = {r.ref for r in records} | {k for r in records for k in r.links} | {r.native_id for r in records}
                self.orders.append((keys, texts))

    async def lookup(self, ref: str):
        self.asked.append(ref)
        if self.failing:
            raise FetchError(self.name, "cannot connect to example:443", "check base_url")
        for keys, texts in self.orders:
            if ref in keys:
                return [make_payload(self.name, f"lookup {ref} #{i}", NOW, t) for i, t in enumerate(texts)]
        return [make_payload(self.name, f"search {ref}", NOW, json.dumps(EMPTY[self.name]))]

    async def window(self, since, until, cursor=None):
        refs = sorted(next(iter(sorted(k for k in keys if k.startswith("113-") or k.startswith("#"))), "") for keys, _ in self.orders)
        start = int(cursor or 0)
        for offset in range(start, len(refs), 2):
            yield WindowPage(refs[offset : offset + 2], str(offset + 2) if offset + 2 < len(refs) else None, len(refs))

    async def aclose(self):
        return None


def adapters_for(config, scenarios, failing=()):
    return {n: SampleAdapter(n, config, scenarios, failing=n in failing) for n in ("amazon", "shopify", "netsuite")}


async def test_a_storefront_ref_finds_the_marketplace_and_erp_records_through_links(tmp_path):
    config = config_for(tmp_path)
    adapters = adapters_for(config, ["01-classic-cascade"])
    fetched = await fetch_case("#1042", config, adapters)
    assert fetched.case is not None and fetched.problems == {}
    assert fetched.case.ref == "113-4519876-3382210"  # keyed by where it was born
    assert fetched.case.origin == "amazon"
    assert {h.system.name: h.presence for h in fetched.case.holdings} == {
        "amazon": Presence.PRESENT, "netsuite": Presence.PRESENT, "shopify": Presence.PRESENT}
    assert "113-4519876-3382210" in adapters["netsuite"].asked


async def test_a_system_that_holds_nothing_is_absent_with_the_query_that_proved_it(tmp_path):
    config = config_for(tmp_path)
    adapters = adapters_for(config, ["14-missing-record"])
    fetched = await fetch_case("113-6677889-0011223", config, adapters)
    netsuite = fetched.case.holding("netsuite")
    assert netsuite.presence is Presence.ABSENT
    assert "search 113-6677889-0011223" in netsuite.proof


async def test_a_system_that_cannot_be_read_keeps_its_cached_record(tmp_path):
    config = config_for(tmp_path)
    with Cache.open(config.cache_path) as cache:
        good = adapters_for(config, ["02-healthy-order"])
        await fetch_refs(["113-2201934-5567102"], config, cache, good)
        before = cache.load_case("113-2201934-5567102").holding("netsuite")
        broken = adapters_for(config, ["02-healthy-order"], failing={"netsuite"})
        report = await fetch_refs(["113-2201934-5567102"], config, cache, broken)
        assert report.problems == ["netsuite: cannot connect to example:443; check base_url"]
        assert cache.load_case("113-2201934-5567102").holding("netsuite") == before


async def test_a_ref_no_system_holds_is_reported_and_nothing_is_written(tmp_path):
    config = config_for(tmp_path)
    with Cache.open(config.cache_path) as cache:
        report = await fetch_refs(["113-0000000-0000000"], config, cache, adapters_for(config, ["02-healthy-order"]))
        assert report.problems == ["113-0000000-0000000: no configured system holds an order with this ref"]
        assert cache.count_cases() == 0


async def test_sync_walks_every_page_and_a_rerun_after_an_interruption_continues(tmp_path):
    config = config_for(tmp_path)
    scenarios = ["01-classic-cascade", "02-healthy-order", "03-late-sync", "04-missing-handoff", "05-cancel-vs-ship"]
    since, until = NOW - timedelta(days=10), NOW

    class Interrupted(Exception):
        pass

    with Cache.open(config.cache_path) as cache:
        adapters = adapters_for(config, scenarios)
        pages_seen = []

        def stop_after_first_page(status):
            pages_seen.append(status.cases)
            if status.cases == 2:
                raise Interrupted

        with pytest.raises(Interrupted):
            await sync_window(config, cache, adapters, since, until, systems=["amazon"], on_progress=stop_after_first_page)
        assert cache.count_cases() == 2
        statuses = await sync_window(config, cache, adapters_for(config, scenarios), since, until, systems=["amazon"])
        assert statuses[0].resumed and statuses[0].done and statuses[0].cases == 5
        assert cache.count_cases() == 5

