"""Refresh (r): the case is fetched again in a worker; success updates the view, failure is a titled notification."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.sample_adapter import SampleAdapter
from tests.tui.conftest import make_app, open_case, settle
from tui.config import parse_config
from tui.screens.case import CaseScreen
from tui.widgets.truth_grid import TruthGrid

REF = "113-4519876-3382210"
SYSTEMS = {
    "amazon": {"role": "marketplace", "platform": "amazon", "base_url": "https://sellingpartnerapi-na.amazon.com"},
    "shopify": {"role": "storefront", "platform": "shopify", "base_url": "https://acme.myshopify.com"},
    "netsuite": {"role": "erp", "platform": "netsuite", "base_url": "https://1234567.suitetalk.api.netsuite.com",
                 "timezone": "America/Los_Angeles"},
}


def config_on(path, systems=SYSTEMS, environ=None):
    return parse_config({"cache": {"path": str(path)}, "systems": systems}, None, environ or {})


def last_notification(app):
    return list(app._notifications)[-1]


async def test_refresh_fetches_writes_and_shows_the_new_truth(cache_path):
    # The cache holds an old picture: NetSuite said nothing about the order yet.
    conn = sqlite3.connect(cache_path)
    conn.execute("UPDATE holdings SET presence = 'not_fetched' WHERE case_ref = ? AND system = 'netsuite'", (REF,))
    conn.execute("DELETE FROM records WHERE case_ref = ? AND system = 'netsuite'", (REF,))
    conn.execute("DELETE FROM events WHERE case_ref = ? AND system = 'netsuite'", (REF,))
    conn.commit()
    conn.close()
    config = config_on(cache_path)
    adapters = {}
    gate = asyncio.Event()

    class Slow(SampleAdapter):
        async def lookup(self, ref):
            await gate.wait()  # held until the test has seen the progress indicator
            return await super().lookup(ref)

    def connect(cfg):
        adapters.update({n: Slow(n, cfg, ["01-classic-cascade"]) for n in ("amazon", "shopify", "netsuite")})
        return adapters

    app = make_app(cache_path, config=config, connect=connect)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot)
        grid = screen.query_one(TruthGrid)
        assert "not fetched" in [c.missing_text for c in grid.grid.columns if c.record is None]
        await pilot.press("r")
        assert screen.query_one("#refresh-status").has_class("-busy")  # the progress indicator shows while it runs
        assert "Refreshing 113-4519876-3382210 from amazon, netsuite, shopify" in str(screen.query_one("#refresh-text").render())
        gate.set()
        await settle(pilot, until=lambda: not screen.query_one("#refresh-status").has_class("-busy"))
        await settle(pilot, until=lambda: all(c.record is not None for c in screen.query_one(TruthGrid).grid.columns))
        assert REF in adapters["amazon"].asked
        assert last_notification(app).title == "Refreshed"
        assert {c.record.ref for c in screen.query_one(TruthGrid).grid.columns} == {REF, "#1042", "SO10482"}


async def test_a_fetch_error_is_a_titled_notification_and_the_cache_is_kept(cache_path):
    config = config_on(cache_path)
    app = make_app(
        cache_path,
        config=config,
        connect=lambda cfg: {n: SampleAdapter(n, cfg, ["01-classic-cascade"], failing=True) for n in ("amazon", "shopify", "netsuite")},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot)
        before = screen.result
        await pilot.press("r")
        await settle(pilot, until=lambda: not screen.query_one("#refresh-status").has_class("-busy"))
        note = last_notification(app)
        assert note.severity == "error" and note.title == f"Cannot refresh {REF}"
        assert "cannot connect to example:443; check base_url" in note.message
        assert "The cached data is unchanged." in note.message
        assert screen.result is before and isinstance(app.screen, CaseScreen)


async def test_one_system_failing_refreshes_the_rest_with_a_warning(cache_path):
    config = config_on(cache_path)
    app = make_app(
        cache_path,
        config=config,
        connect=lambda cfg: {
            n: SampleAdapter(n, cfg, ["01-classic-cascade"], failing=n == "netsuite") for n in ("amazon", "shopify", "netsuite")
        },
    )
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot)
        await pilot.press("r")
        await settle(pilot, until=lambda: not screen.query_one("#refresh-status").has_class("-busy"))
        note = last_notification(app)
        assert note.severity == "warning" and "netsuite" in note.message


async def test_refresh_without_configured_systems_says_what_to_configure(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot)
        await pilot.press("r")
        await settle(pilot, until=lambda: not screen.query_one("#refresh-status").has_class("-busy"))
        note = last_notification(app)
        assert note.title == "Configuration problem" and "[systems.NAME]" in note.message


async def test_refresh_through_the_sandbox(cache_path):
    pytest.importorskip("aiohttp")
    from sandbox.core import EmulatorSettings
    from sandbox.data import Dataset
    from sandbox.server import Sandbox
    from tui.fetching import connect

    async with Sandbox(Dataset.from_samples(), EmulatorSettings(time_scale=100.0)) as box:
        systems = {
            "amazon": {"role": "marketplace", "platform": "amazon", "base_url": box.urls.amazon,
                       "token_url": f"{box.urls.amazon}/auth/o2/token", "marketplace_ids": ["ATVPDKIKX0DER"],
                       "client_id": "env:A_ID", "client_secret": "env:A_SECRET", "refresh_token": "env:A_REFRESH"},
            "shopify": {"role": "storefront", "platform": "shopify", "base_url": box.urls.shopify, "access_token": "env:S_TOKEN"},
            "netsuite": {"role": "erp", "platform": "netsuite", "base_url": box.urls.netsuite, "account_id": "1234567",
                         "timezone": "America/Los_Angeles", "consumer_key": "env:N_KEY", "consumer_secret": "env:N_SECRET",
                         "token_id": "env:N_TOKEN", "token_secret": "env:N_TOKEN_SECRET"},
        }
        environ = {
            "A_ID": "sandbox-client-id", "A_SECRET": "sandbox-client-secret", "A_REFRESH": "sandbox-refresh-token",
            "S_TOKEN": "shpat_sandbox", "N_KEY": "sandbox-consumer-key", "N_SECRET": "sandbox-consumer-secret",
            "N_TOKEN": "sandbox-token-id", "N_TOKEN_SECRET": "sandbox-token-secret",
        }
        config = config_on(cache_path, systems, environ)
        app = make_app(cache_path, config=config, connect=lambda cfg: connect(cfg, time_scale=100.0))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_case(pilot)
            before = {p.endpoint for p in screen.payloads}
            await pilot.press("r")
            await settle(pilot, until=lambda: not screen.query_one("#refresh-status").has_class("-busy"), timeout=60)
            note = last_notification(app)
            assert note.title == "Refreshed", note.message
            await settle(pilot, until=lambda: {p.endpoint for p in screen.payloads} != before)
            assert {p.system for p in screen.payloads} == {"amazon", "shopify", "netsuite"}
        requests = box.log.entries()
        assert requests and all(r.method in ("GET", "POST") for r in requests)
