"""The live-adapter contract: how a platform package reads one system over its real API.

A live adapter only fetches: it returns verbatim responses as ``RawPayload``
values, and the same pure normaliser that reads imported files reads them.
Adapters are read-only: GET requests, GraphQL queries, SuiteQL SELECTs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from adapters.base import NormaliseContext
from adapters.http import RetryPolicy
from audit.model import RawPayload


@dataclass(frozen=True)
class LiveSettings:
    """Everything a live adapter needs from the configuration of one system."""

    name: str
    base_url: str
    context: NormaliseContext
    options: Mapping[str, Any] = field(default_factory=dict)  # platform keys: api_version, marketplace_ids, account_id...
    secrets: Mapping[str, SecretStr] = field(default_factory=dict)
    policy: RetryPolicy = RetryPolicy()
    time_scale: float = 1.0  # > 1 only against the sandbox, whose published limits are scaled the same way
    transport: httpx.AsyncBaseTransport | None = None  # tests may inject one; None = real network
    secret_env: Mapping[str, str] = field(default_factory=dict)  # config key -> the environment variable it names
    timeout: httpx.Timeout | None = None  # None = adapters.http.DEFAULT_TIMEOUT

    def secret(self, key: str) -> str:
        """A secret's value; an empty one is a configuration problem named without the value."""
        value = self.secrets.get(key)
        return value.get_secret_value() if value is not None else ""

    def missing_secret(self, key: str) -> str:
        """How to supply a secret that is empty: the config key and the variable to export (never a value)."""
        variable = self.secret_env.get(key)
        if variable:
            return f"[systems.{self.name}] {key} reads ${variable}, which is not set: export it"
        return f"[systems.{self.name}] has no {key}: add {key} = \"env:VARIABLE\" and export VARIABLE"


@dataclass(frozen=True)
class WindowPage:
    """One page of the orders a system changed in a time window."""

    refs: list[str]  # refs a lookup accepts (the system's own order refs)
    cursor: str | None  # where to resume after this page; None when the window is done
    total: int | None = None  # orders in the whole window, when the platform tells


class LiveAdapter(Protocol):
    """One configured system, read over its API."""

    name: str

    async def lookup(self, ref: str) -> list[RawPayload]:
        """Every response needed to know what this system holds for the order ``ref`` names.

        Args:
            ref: the system's own ref or id, or another system's ref that this
                system stores as a link (an Amazon order id in a Shopify custom
                attribute, a channel ref in NetSuite ``otherrefnum``).

        Returns:
            The verbatim responses, search results that came back empty included:
            they are the proof that the system holds nothing. Never an empty list.

        Raises:
            FetchError: the system could not be read; the message says what to check.
        """
        ...

    def window(self, since: datetime, until: datetime | None, cursor: str | None = None) -> AsyncIterator[WindowPage]:
        """The refs of orders updated in ``[since, until)``, a page at a time, resumable from ``cursor``."""
        ...

    async def aclose(self) -> None: ...


class LivePlatform(Protocol):
    """What a platform package exposes as ``LIVE``: a way to connect one configured system."""

    def connect(self, settings: LiveSettings) -> LiveAdapter: ...
