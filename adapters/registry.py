"""Finds platform adapters: the bundled ones and any installed through entry points."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points

from adapters.base import Platform
from adapters.live import LivePlatform
from audit.model import ThreetruthError

ENTRY_POINT_GROUP = "threetruth.platforms"

# The bundled adapters are also declared as entry points in pyproject.toml; they are
# listed here too so that a source checkout without an install still finds them.
BUNDLED = {
    "shopify": "adapters.shopify:PLATFORM",
    "amazon": "adapters.amazon:PLATFORM",
    "netsuite": "adapters.netsuite:PLATFORM",
}


def _load(target: str) -> Platform:
    module_name, _, attribute = target.partition(":")
    return getattr(import_module(module_name), attribute)


@cache
def platforms() -> dict[str, Platform]:
    """Every known platform adapter by name."""
    found: dict[str, Platform] = {name: _load(target) for name, target in BUNDLED.items()}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in found:
            found[entry.name] = entry.load()
    return found


def platform(name: str) -> Platform:
    known = platforms()
    if name not in known:
        raise ThreetruthError(
            f"unknown platform {name!r}: known platforms are {', '.join(sorted(known))}",
            title="Unknown platform",
        )
    return known[name]


# The live side of each bundled platform: how to read a configured system over its API.
BUNDLED_LIVE = {
    "shopify": "adapters.shopify.live:LIVE",
    "amazon": "adapters.amazon.live:LIVE",
    "netsuite": "adapters.netsuite.live:LIVE",
}
LIVE_ENTRY_POINT_GROUP = "threetruth.live"


@cache
def live_platforms() -> dict[str, LivePlatform]:
    """Every platform that can be fetched live, by name."""
    found: dict[str, LivePlatform] = {name: _load(target) for name, target in BUNDLED_LIVE.items()}
    for entry in entry_points(group=LIVE_ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.load())
    return found


def live_platform(name: str) -> LivePlatform:
    known = live_platforms()
    if name not in known:
        raise ThreetruthError(
            f"platform {name!r} cannot be fetched live; live platforms are {', '.join(sorted(known)) or 'none'}",
            title="No live adapter",
        )
    return known[name]


def recognise(body: object) -> tuple[str, str] | None:
    """(platform, kind) for a decoded response body, or None when no adapter claims it."""
    for name, adapter in platforms().items():
        kind = adapter.recognise(body)
        if kind is not None:
            return name, kind
    return None
