"""Linking and writing live fetches, with stand-in adapters that answer from the sample payloads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from audit.model import Presence
from cache.store import Cache
from tests.sample_adapter import NOW, SampleAdapter
from tui.config import parse_config
from tui.fetching import fetch_case, fetch_refs, sync_window


def config_for(tmp_path: Path):
    systems = {
        "amazon": {"role": "marketplace", "platform": "amazon", "base_url": "https://sellingpartnerapi-na.amazon.com"},
        "shopify": {"role": "storefront", "platform": "shopify", "base_url": "https://acme.myshopify.com"},
        "netsuite": {"role": "erp", "platform": "netsuite", "base_url": "https://1234567.suitetalk.api.netsuite.com",
                     "timezone": "America/Los_Angeles"},
    }
    return parse_config({"cache": {"path": str(tmp_path / "cache.db")}, "systems": systems}, None, {})


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


async def test_a_sync_of_every_system_fetches_each_case_once(tmp_path):
    config = config_for(tmp_path)
    scenarios = ["01-classic-cascade", "02-healthy-order", "03-late-sync"]
    adapters = adapters_for(config, scenarios)
    since, until = NOW - timedelta(days=10), NOW
    with Cache.open(config.cache_path) as cache:
        statuses = await sync_window(config, cache, adapters, since, until)
        assert cache.count_cases() == 3
    assert [(s.system, s.cases, s.done) for s in statuses] == [("amazon", 3, True), ("netsuite", 3, True), ("shopify", 3, True)]
    # The first system's listing fetched every case from all three; the others' found them covered.
    assert {name: len(adapter.asked) for name, adapter in adapters.items()} == {"amazon": 3, "netsuite": 3, "shopify": 3}


async def test_a_listing_handle_is_asked_of_its_own_system_only(tmp_path):
    config = config_for(tmp_path)
    adapters = adapters_for(config, ["06-web-order-no-marketplace"])
    gid = next(key for keys, _ in adapters["shopify"].orders for key in keys if key.startswith("gid://"))
    fetched = await fetch_case(gid, config, adapters, home="shopify")
    assert fetched.case is not None
    assert adapters["shopify"].asked == [gid]
    # The others are asked for what the Shopify order names (its name), never for its GID.
    assert gid not in adapters["amazon"].asked and gid not in adapters["netsuite"].asked
    assert adapters["amazon"].asked[0] == "#1187"
    assert {h.system.name: h.presence for h in fetched.case.holdings}["amazon"] is Presence.ABSENT
