"""The whole live path against the sandbox on 127.0.0.1: faults, resumption, read-only, secrets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.http import RetryPolicy
from audit.model import UTC
from cache.store import Cache
from sandbox.core import EmulatorSettings, Fault
from sandbox.data import Dataset
from sandbox.server import Sandbox
from tui.config import parse_config
from tui.demo import origin_refs, sandbox_config_text, sandbox_environment, sandbox_systems
from tui.fetching import close_all, connect, fetch_refs

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
# At a 20% fault rate a call fails only if every attempt is faulted: with 16 attempts that is
# 0.2**16 (about 7e-12) per call, so the ~3,500 calls of a bulk run all get through. Any number of
# those attempts may be expired-token faults, so renewals are not the cap that stops a call.
FAST = RetryPolicy(attempts=16, initial_wait=0.01, max_wait=0.2, give_up_after=60, jitter=0.01, retry_after_cap=0.2,
                   renewals=15)
TIME_SCALE = 1000.0
CLIENT_TIMEOUT = httpx.Timeout(1.0)


def base_config(folder: Path):
    return parse_config({"cache": {"path": str(folder / "cache.db")}}, None, {})


def fetch_everything(box: Sandbox, settings: EmulatorSettings, dataset: Dataset, folder: Path) -> Path:
    config = replace(base_config(folder), systems=sandbox_systems(box.urls, settings))

    async def go():
        adapters = connect(config, time_scale=TIME_SCALE, policy=FAST, timeout=CLIENT_TIMEOUT)
        try:
            with Cache.open(config.cache_path) as cache:
                return await fetch_refs(origin_refs(dataset), config, cache, adapters)
        finally:
            await close_all(adapters)

    report = asyncio.run(go())
    assert report.problems == []
    return config.cache_path


# Two things in a response say when and under what load it was answered, not what the order is:
# SP-API's listing horizon ("CreatedBefore": now minus two minutes) and Shopify's bucket level.
SERVER_CLOCK = re.compile(r'"(CreatedBefore|LastUpdatedBefore|createdBefore|lastUpdatedBefore|currentlyAvailable)": ?("[^"]*"|[0-9.]+)')


def cache_contents(path: Path) -> dict:
    """What a cache says, minus the moments of fetching (which differ between any two runs)."""
    contents = {}
    with Cache.open(path) as cache:
        for case in cache.iter_cases(details=True):
            # Payload ids hash the whole response, bookkeeping included: compare the bodies instead.
            holdings = tuple(
                replace(
                    h,
                    fetched_at=None,
                    records=tuple(replace(r, payload_ids=()) for r in h.records),
                    events=tuple(replace(e, payload_id=None) for e in h.events),
                )
                for h in case.holdings
            )
            payloads = sorted((p.system, p.endpoint, SERVER_CLOCK.sub(r'"\1": "-"', p.body)) for p in cache.payloads(case.ref))
            contents[case.ref] = (case.origin, holdings, payloads)
    return contents


def first_difference(first: dict, second: dict) -> str:
    """Where two cache contents part, said briefly (for an assertion message)."""
    for ref in sorted(set(first) | set(second)):
        a, b = first.get(ref), second.get(ref)
        if a == b:
            continue
        if a is None or b is None:
            return f"{ref} only in {'second' if a is None else 'first'}"
        if a[1] != b[1]:
            for x, y in zip(a[1], b[1]):
                if x != y:
                    return f"{ref}: {x.system.name} holding differs: {x} != {y}"
        only_a, only_b = sorted(set(a[2]) - set(b[2])), sorted(set(b[2]) - set(a[2]))
        return f"{ref}: payloads differ: {only_a[:1]} != {only_b[:1]}"
    return "no difference"


@pytest.fixture(scope="module")
def bulk_runs(tmp_path_factory):
    """512 orders (32 re-keyed copies of the 16 scenarios), fetched clean and then at a 20% fault rate.

    One sandbox serves both runs, so the responses differ only by the faults.
    """
    bulk = Dataset.generate(32, seed=3, anchor=NOW)
    settings = EmulatorSettings(time_scale=TIME_SCALE, seed=11, timeout_delay=2.0, retry_after=0.05)
    with Sandbox(bulk, settings) as box:
        clean = fetch_everything(box, settings, bulk, tmp_path_factory.mktemp("clean"))
        clean_log = box.log.entries()
        box.set_faults(0.2)
        faulty = fetch_everything(box, settings, bulk, tmp_path_factory.mktemp("faulty"))
        faults = {e.fault for e in box.log.entries()[len(clean_log):] if e.fault}
    return bulk, cache_contents(clean), cache_contents(faulty), faults, clean_log


@pytest.fixture(scope="module")
def clean_run(bulk_runs):
    _, clean, _, _, log = bulk_runs
    return clean, log


def test_five_hundred_orders_at_a_fifth_faulty_land_once_each_and_match_a_clean_run(bulk_runs):
    bulk, clean, faulty, faults, _ = bulk_runs
    assert len(clean) == len(bulk.cases) >= 500
    assert sorted(faulty) == sorted(clean)  # every order cached, exactly once
    assert faulty == clean, first_difference(clean, faulty)
    assert faults == {f.value for f in Fault}  # every kind of fault really happened, and was survived


def test_the_adapters_never_write(clean_run):
    _, log = clean_run
    assert log, "the sandbox saw the requests"
    for entry in log:
        if entry.method == "GET":
            continue
        assert entry.method == "POST", entry
        path = entry.path.split("?")[0]
        if entry.platform == "shopify":
            assert path.endswith("/graphql.json")
            query = json.loads(entry.body)["query"].lstrip()
            assert query.startswith(("query", "{", "fragment")) and "mutation" not in query.lower(), query[:80]
        elif entry.platform == "amazon":
            assert path == "/auth/o2/token", entry
        else:
            assert path in ("/services/rest/query/v1/suiteql", "/services/rest/auth/oauth2/v1/token"), entry
            if path.endswith("suiteql"):
                assert json.loads(entry.body)["q"].lstrip().upper().startswith("SELECT")


def run_sync(config_file: Path, env: dict, *, wait: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sync", "--since", (NOW - timedelta(days=40)).isoformat(),
         "--until", (NOW + timedelta(days=1)).isoformat(), "--system", "amazon", "--config", str(config_file)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    if wait:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    return process


def test_a_sync_killed_mid_way_resumes_to_the_same_cache(tmp_path):
    dataset = Dataset.generate(6, seed=5, anchor=NOW)
    # Slow enough to kill mid-way: the published limits, only ten times faster.
    settings = EmulatorSettings(time_scale=10.0, seed=2)
    with Sandbox(dataset, settings) as box:
        env = {**os.environ, **sandbox_environment(settings)}
        configs = {}
        for name in ("killed", "straight"):
            (tmp_path / name).mkdir()
            configs[name] = tmp_path / name / "threetruth.toml"
            configs[name].write_text(f'[cache]\npath = "cache.db"\n\n{sandbox_config_text(box.urls, settings)}', encoding="utf-8")

        process = run_sync(configs["killed"], env, wait=False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                with Cache.open(tmp_path / "killed" / "cache.db") as cache:
                    if cache.count_cases() >= 20:
                        break
            except Exception:
                continue  # the cache may be mid-creation
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with Cache.open(tmp_path / "killed" / "cache.db") as cache:
            partial = cache.count_cases()
        assert 0 < partial < len(dataset.cases) - 6, "the kill landed mid-way"

        run_sync(configs["killed"], env)
        run_sync(configs["straight"], env)
    killed, straight = cache_contents(tmp_path / "killed" / "cache.db"), cache_contents(tmp_path / "straight" / "cache.db")
    assert sorted(killed) == sorted(straight)
    assert killed == straight, first_difference(killed, straight)


def test_secrets_never_reach_the_cache_the_log_or_an_error(tmp_path):
    dataset = Dataset.from_samples()
    settings = EmulatorSettings(time_scale=TIME_SCALE)
    secrets = [settings.amazon.client_secret, settings.amazon.refresh_token, settings.shopify.access_token,
               settings.netsuite.consumer_secret, settings.netsuite.token_secret]
    with Sandbox(dataset, settings) as box:
        fetch_everything(box, settings, dataset, tmp_path)
        log_file = tmp_path / "requests.jsonl"
        box.log.dump(log_file)
        # A wrong secret must fail with a message that does not echo any secret.
        config = replace(base_config(tmp_path), systems=sandbox_systems(box.urls, replace(
            settings, shopify=replace(settings.shopify, access_token="shpat_WRONG_SECRET"))))
        env_problem = asyncio.run(_one_fetch(config, "#1187"))
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cache.db*")) + log_file.read_bytes()
    for secret in [*secrets, "shpat_WRONG_SECRET"]:
        assert secret.encode() not in stored
        assert secret not in env_problem
    assert "shopify" in env_problem and "401" in env_problem


async def _one_fetch(config, ref: str) -> str:
    adapters = connect(config, time_scale=TIME_SCALE, policy=FAST, timeout=CLIENT_TIMEOUT)
    try:
        with Cache.open(config.cache_path) as cache:
            report = await fetch_refs([ref], config, cache, adapters)
    finally:
        await close_all(adapters)
    return "\n".join(report.problems)
