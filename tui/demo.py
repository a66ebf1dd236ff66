"""The demo: the sandbox's emulated Shopify, Amazon and NetSuite, read through the real adapters.

``threetruth`` with no command on an empty cache starts the sandbox on loopback
ports, configures the three systems against it, fetches every sample order
over HTTP (linking, pacing, retries and all), and then shows the audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from audit.model import UTC, Role
from sandbox.core import EmulatorSettings
from sandbox.data import Dataset
from sandbox.server import Sandbox, SandboxURLs
from tui.config import Config, SystemConfig

# The sandbox's demo world runs ten times faster than the platforms' published limits.
DEMO_TIME_SCALE = 10.0


def sandbox_systems(urls: SandboxURLs, settings: EmulatorSettings) -> dict[str, SystemConfig]:
    """The three systems of the demo, pointed at a running sandbox with its demo credentials."""
    shopify, amazon, netsuite = settings.shopify, settings.amazon, settings.netsuite

    def secrets(**values: str) -> dict[str, SecretStr]:
        return {key: SecretStr(value) for key, value in values.items()}

    return {
        "amazon": SystemConfig(
            "amazon", Role.MARKETPLACE, "amazon",
            options={"base_url": urls.amazon, "token_url": f"{urls.amazon}/auth/o2/token",
                     "marketplace_ids": [amazon.marketplace_id]},
            secrets=secrets(client_id=amazon.client_id, client_secret=amazon.client_secret, refresh_token=amazon.refresh_token),
        ),
        "shopify": SystemConfig(
            "shopify", Role.STOREFRONT, "shopify",
            options={"base_url": urls.shopify, "marketplace_link": "custom_attribute:Amazon Order ID"},
            secrets=secrets(access_token=shopify.access_token),
        ),
        "netsuite": SystemConfig(
            "netsuite", Role.ERP, "netsuite",
            options={"base_url": urls.netsuite, "account_id": netsuite.account_id, "timezone": "America/Los_Angeles",
                     "order_ref_field": "otherrefnum"},
            secrets=secrets(consumer_key=netsuite.consumer_key, consumer_secret=netsuite.consumer_secret,
                            token_id=netsuite.token_id, token_secret=netsuite.token_secret),
        ),
    }


def sandbox_environment(settings: EmulatorSettings) -> dict[str, str]:
    """The environment variables :func:`sandbox_config_text` reads its secrets from, with the sandbox's values."""
    return {
        "LWA_CLIENT_ID": settings.amazon.client_id,
        "LWA_CLIENT_SECRET": settings.amazon.client_secret,
        "LWA_REFRESH_TOKEN": settings.amazon.refresh_token,
        "SHOPIFY_ACCESS_TOKEN": settings.shopify.access_token,
        "NS_CONSUMER_KEY": settings.netsuite.consumer_key,
        "NS_CONSUMER_SECRET": settings.netsuite.consumer_secret,
        "NS_TOKEN_ID": settings.netsuite.token_id,
        "NS_TOKEN_SECRET": settings.netsuite.token_secret,
    }


def sandbox_config_text(urls: SandboxURLs, settings: EmulatorSettings) -> str:
    """A config file that reads a running sandbox; its demo secrets are exported as shown."""
    env = sandbox_environment(settings)
    return f'''[systems.amazon]
role = "marketplace"
platform = "amazon"
base_url = "{urls.amazon}"
token_url = "{urls.amazon}/auth/o2/token"
marketplace_ids = ["{settings.amazon.marketplace_id}"]
client_id = "env:LWA_CLIENT_ID"            # export LWA_CLIENT_ID={env['LWA_CLIENT_ID']}
client_secret = "env:LWA_CLIENT_SECRET"    # export LWA_CLIENT_SECRET={env['LWA_CLIENT_SECRET']}
refresh_token = "env:LWA_REFRESH_TOKEN"    # export LWA_REFRESH_TOKEN={env['LWA_REFRESH_TOKEN']}

[systems.shopify]
role = "storefront"
platform = "shopify"
base_url = "{urls.shopify}"
access_token = "env:SHOPIFY_ACCESS_TOKEN"  # export SHOPIFY_ACCESS_TOKEN={env['SHOPIFY_ACCESS_TOKEN']}

[systems.netsuite]
role = "erp"
platform = "netsuite"
account_id = "{settings.netsuite.account_id}"
base_url = "{urls.netsuite}"
timezone = "America/Los_Angeles"
consumer_key = "env:NS_CONSUMER_KEY"       # export NS_CONSUMER_KEY={env['NS_CONSUMER_KEY']}
consumer_secret = "env:NS_CONSUMER_SECRET" # export NS_CONSUMER_SECRET={env['NS_CONSUMER_SECRET']}
token_id = "env:NS_TOKEN_ID"               # export NS_TOKEN_ID={env['NS_TOKEN_ID']}
token_secret = "env:NS_TOKEN_SECRET"       # export NS_TOKEN_SECRET={env['NS_TOKEN_SECRET']}
'''


def origin_refs(dataset: Dataset) -> list[str]:
    """The ref of every case in the system where it was born, as a person would type it."""
    refs = []
    for case in dataset.cases:
        origin = case.meta.get("origin", "amazon")
        for name, body in case.files_for(origin):
            ref = _order_ref(origin, body)
            if ref:
                refs.append(ref)
                break
    return refs


def _order_ref(platform: str, body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if platform == "amazon":
        return (body.get("order") or {}).get("orderId") or (body.get("payload") or {}).get("AmazonOrderId")
    if platform == "shopify":
        return ((body.get("data") or {}).get("order") or {}).get("name")
    return None


class DemoWorld:
    """A running sandbox with the samples moved to the present, and a config that reads it."""

    def __init__(self, config: Config, now: datetime | None = None, *, fault_rate: float = 0.0) -> None:
        self.dataset = Dataset.current(now or datetime.now(UTC))
        self.settings = EmulatorSettings(time_scale=DEMO_TIME_SCALE, fault_rate=fault_rate, seed=7)
        self.sandbox = Sandbox(self.dataset, self.settings)
        self.base_config = config

    def __enter__(self) -> DemoWorld:
        self.sandbox.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.__exit__(None, None, None)

    @property
    def config(self) -> Config:
        return replace(self.base_config, systems=sandbox_systems(self.sandbox.urls, self.settings))

    @property
    def refs(self) -> Iterable[str]:
        return origin_refs(self.dataset)
