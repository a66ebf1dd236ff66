"""The NetSuite adapter: SuiteTalk REST record GETs and SuiteQL pages to canonical records and events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.base import Normalised, NormaliseContext
from adapters.netsuite import normalise as _normalise
from audit.model import RawPayload


class NetSuitePlatform:
    """NetSuite (SuiteTalk REST: record API and SuiteQL), the ERP of the stack."""

    name = "netsuite"

    def recognise(self, body: Any) -> str | None:
        """``"suiteql"`` or ``"record:<type>"`` for a transaction GET; None for anything else."""
        return _normalise.recognise(body)

    def normalise(self, payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
        """One Record per sales order, with its fulfillments', invoices' and system notes' events."""
        return _normalise.normalise(payloads, context)


PLATFORM = NetSuitePlatform()

__all__ = ["PLATFORM", "NetSuitePlatform"]
