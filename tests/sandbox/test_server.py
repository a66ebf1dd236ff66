"""The sandbox as a whole: ports, runners, the request log, read-only traffic, independence."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import random
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.core import EmulatorSettings
from sandbox.server import HOST, Sandbox, serve_async

from .conftest import FAST, LWA_FORM, amazon_token, shopify_query

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox"
HAS_NETSUITE = importlib.util.find_spec("sandbox.netsuite") is not None
AVAILABLE = ("shopify", "amazon", "netsuite") if HAS_NETSUITE else ("shopify", "amazon")


def _free_base_port() -> int:
    """A port N with N, N+1, N+2 free on the loopback interface right now."""
    for _ in range(50):
        base = random.randint(20_000, 60_000)
        sockets = []
        try:
            for offset in range(3):
                s = socket.socket()
                sockets.append(s)
                s.bind((HOST, base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    pytest.skip("no three consecutive free ports")


async def test_base_port_n_gives_shopify_n_amazon_n1_netsuite_n2(samples):
    base = _free_base_port()
    async with Sandbox(samples, FAST, port=base, platforms=AVAILABLE) as box:
        assert box.urls.shopify == f"http://127.0.0.1:{base}"
        assert box.urls.amazon == f"http://127.0.0.1:{base + 1}"
        if HAS_NETSUITE:
            assert box.urls.netsuite == f"http://127.0.0.1:{base + 2}"


@pytest.mark.skipif(not HAS_NETSUITE, reason="NetSuite emulator not present")
async def test_all_three_emulators_start_on_ephemeral_loopback_ports(samples, client):
    async with Sandbox(samples, FAST) as box:
        urls = [box.urls.shopify, box.urls.amazon, box.urls.netsuite]
        assert all(u.startswith("http://127.0.0.1:") for u in urls) and len(set(urls)) == 3
        response = await client.get(f"{box.urls.netsuite}/services/rest/record/v1/salesOrder/20483")
        assert response.status_code == 401  # no OAuth header: NetSuite's own refusal
        assert box.log.entries("netsuite")[0].status == 401


def test_thread_runner_serves_synchronous_callers(samples):
    with Sandbox(samples, FAST, platforms=("shopify", "amazon")) as box:
        response = httpx.post(f"{box.urls.amazon}/auth/o2/token", data=LWA_FORM)
        assert response.status_code == 200
        url = box.urls.amazon
    assert len(box.log) == 1
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/auth/o2/token", data=LWA_FORM, timeout=1)


async def test_listens_on_loopback_only(box):
    for app_url in (box.urls.shopify, box.urls.amazon):
        assert app_url.startswith("http://127.0.0.1:")
    for runner in box._runners:
        assert {address[0] for address in runner.addresses} == {"127.0.0.1"}


async def test_the_log_records_every_request_without_secrets(box, client, tmp_path):
    token = await amazon_token(client, box.urls.amazon)
    responses = [
        await client.get(f"{box.urls.amazon}/orders/v0/orders/113-2201934-5567102", headers={"x-amz-access-token": token}),
        await client.get(f"{box.urls.amazon}/orders/v0/orders/000-0000000-0000000", headers={"x-amz-access-token": token}),
        await shopify_query(client, box.urls.shopify, "{ orders(first: 1, query: \"name:#1042\") { nodes { id } } }"),
        await shopify_query(client, box.urls.shopify, "{ shop { name } }", token="shpat_wrong"),
    ]
    entries = box.log.entries()
    assert len(entries) == 1 + len(responses)
    assert [e.status for e in entries[1:]] == [r.status_code for r in responses]
    assert entries[0].method == "POST" and entries[0].path == "/auth/o2/token"
    assert "client_secret=%2A%2A%2A" in entries[0].body and "refresh_token=%2A%2A%2A" in entries[0].body
    assert entries[3].platform == "shopify" and "name:#1042" in json.loads(entries[3].body)["query"]
    assert entries[1].path == "/orders/v0/orders/113-2201934-5567102" and entries[1].body is None
    path = tmp_path / "requests.jsonl"
    box.log.dump(path)
    dumped = path.read_text()
    for secret in (token, LWA_FORM["client_secret"], LWA_FORM["refresh_token"], "shpat_sandbox", "shpat_wrong"):
        assert secret not in dumped
    assert len(dumped.splitlines()) == 5


async def test_a_sessions_traffic_proves_read_only_use(box, client):
    token = await amazon_token(client, box.urls.amazon)
    await client.get(f"{box.urls.amazon}/orders/2026-01-01/orders/113-2201934-5567102",
                     headers={"x-amz-access-token": token})
    await shopify_query(client, box.urls.shopify, '{ order(id: "gid://shopify/Order/5512345678901") { name } }')
    allowed_posts = {"/auth/o2/token", "/admin/api/2025-10/graphql.json"}
    for entry in box.log.entries():
        assert entry.method == "GET" or (entry.method == "POST" and entry.path in allowed_posts)
        if entry.path.endswith("graphql.json"):
            assert not json.loads(entry.body)["query"].lstrip().startswith("mutation")


async def test_serve_async_announces_and_dumps_the_log(samples, tmp_path):
    announced = []
    log_path = tmp_path / "log.jsonl"
    task = asyncio.create_task(serve_async(0, samples, EmulatorSettings(), log_path=log_path,
                                           on_ready=announced.append))
    while not announced:
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{announced[0].amazon}/auth/o2/token", data=LWA_FORM)).status_code == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert json.loads(log_path.read_text())["path"] == "/auth/o2/token"


def test_the_sandbox_loads_no_adapter_cache_audit_or_tui_code():
    modules = sorted(f"sandbox.{p.stem}" for p in SANDBOX.glob("*.py") if p.stem != "__init__")
    code = "import sys\n" + "".join(f"import {m}\n" for m in ["sandbox", *modules]) + (
        "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = {name.split(".")[0] for name in out.stdout.split()}
    assert not loaded & {"adapters", "cache", "audit", "tui", "textual", "sqlite_utils"}
    assert {"aiohttp", "graphql"} <= loaded


def test_the_sandbox_source_neither_imports_the_app_nor_reads_the_vendor_models():
    for file in SANDBOX.rglob("*.py"):
        source = file.read_text(encoding="utf-8")
        assert "api-specs" not in source, file
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"adapters", "cache", "audit", "tui"}, (file, name)
