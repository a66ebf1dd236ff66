"""Fixtures: a running sandbox on 127.0.0.1 (ephemeral ports) and authenticated httpx clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.core import EmulatorSettings
from sandbox.data import Dataset
from sandbox.server import Sandbox

FAST = EmulatorSettings(time_scale=1000.0)
"""Published limits x1000: tests never wait for a bucket, yet the limits' shape is intact."""

SHOPIFY_VERSION = "2025-10"
LWA_FORM = {
    "grant_type": "refresh_token",
    "refresh_token": "sandbox-refresh-token",
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
}


@pytest.fixture(scope="session")
def samples() -> Dataset:
    return Dataset.from_samples()


@pytest.fixture
async def box(samples: Dataset) -> AsyncIterator[Sandbox]:
    async with Sandbox(samples, FAST, platforms=("shopify", "amazon")) as sandbox:
        yield sandbox


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


async def amazon_token(http: httpx.AsyncClient, base: str) -> str:
    """An LWA access token from the sandbox."""
    response = await http.post(f"{base}/auth/o2/token", data=LWA_FORM)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def shopify_query(http: httpx.AsyncClient, base: str, query: str, variables: dict | None = None,
                        token: str = "shpat_sandbox") -> httpx.Response:
    """POST one GraphQL document to the Shopify emulator."""
    return await http.post(
        f"{base}/admin/api/{SHOPIFY_VERSION}/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
    )
