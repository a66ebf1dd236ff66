"""A stand-in for a live adapter that answers from the sample scenarios, for tests that fetch."""

from __future__ import annotations

import json
from datetime import datetime

from adapters.base import make_payload
from adapters.http import FetchError
from adapters.live import WindowPage
from adapters.registry import platform
from audit.model import UTC
from tui.ingest import bundled_scenarios

SCENARIOS = bundled_scenarios()
NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)  # the fetch time every answer is stamped with
EMPTY = {
    "amazon": {"orders": [], "pagination": {}, "createdBefore": "2026-03-05T11:58:00Z"},
    "shopify": {"data": {"orders": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}},
    "netsuite": {"links": [], "count": 0, "hasMore": False, "items": [], "offset": 0, "totalResults": 0},
}


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
