"""Shopify adapter: the GraphQL Admin API's order responses as canonical records and events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.base import NormaliseContext, Normalised
from adapters.shopify.normalise import normalise, recognise
from audit.model import RawPayload


class ShopifyPlatform:
    """The Shopify platform adapter (see :class:`adapters.base.Platform`)."""

    name = "shopify"

    def recognise(self, body: Any) -> str | None:
        """Say which Shopify GraphQL response a decoded body is ("order", "orders search", "GraphQL error <code>")."""
        return recognise(body)

    def normalise(self, payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
        """Merge the case's Shopify responses by order id into records and events."""
        return normalise(payloads, context)


PLATFORM = ShopifyPlatform()

__all__ = ["PLATFORM", "ShopifyPlatform"]
