"""Amazon Selling Partner API, Orders: v2026-01-01 and v0 responses, and ORDER_CHANGE notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.amazon.normalise import normalise, recognise
from adapters.base import NormaliseContext, Normalised
from audit.model import RawPayload


class AmazonPlatform:
    """The Amazon adapter as the registry sees it (adapters.base.Platform)."""

    name = "amazon"

    def recognise(self, body: Any) -> str | None:
        """Which Amazon Orders response a decoded body is, or None."""
        return recognise(body)

    def normalise(self, payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
        """Every Amazon response for one case as canonical records and events."""
        return normalise(payloads, context)


PLATFORM = AmazonPlatform()

__all__ = ["PLATFORM", "AmazonPlatform", "normalise", "recognise"]
