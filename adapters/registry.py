"""Finds platform adapters: the bundled ones and any installed through entry points."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points

from adapters.base import Platform
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


def recognise(body: object) -> tuple[str, str] | None:
    """(platform, kind) for a decoded response body, or None when no adapter claims it."""
    for name, adapter in platforms().items():
        kind = adapter.recognise(body)
        if kind is not None:
            return name, kind
    return None
