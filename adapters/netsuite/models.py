"""Pydantic models of the SuiteTalk REST responses the adapter reads.

Lenient on purpose: every field the API may omit is optional (the record API leaves out
empty fields, SuiteQL leaves out null columns), unknown fields are kept, and status fields
accept every form seen in the wild (bare letter, display name, ``{"id", "refName"}``), so
an unexpected value becomes an unmapped status rather than a validation error. Field names
follow platform-apis.md §3 (REST 2020.2 metadata names).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, coerce_numbers_to_str=True)


class Link(_Lenient):
    rel: str | None = None
    href: str | None = None


class Reference(_Lenient):
    """A reference field: ``{"id": "1", "refName": "USA", "links": [...]}``."""

    id: str | None = None
    refName: str | None = None
    links: list[Link] | None = None


# A status as the record API may send it: "B", "Pending Fulfillment", "SalesOrd:B" or a reference.
StatusValue = str | Reference

LineT = TypeVar("LineT", bound=BaseModel)


class Sublist(_Lenient, Generic[LineT]):
    """A sublist: lines under ``items`` with expandSubResources=true, otherwise only ``links``."""

    links: list[Link] | None = None
    items: list[LineT] | None = None
    count: int | None = None
    hasMore: bool | None = None
    offset: int | None = None
    totalResults: int | None = None


class SalesOrderLine(_Lenient):
    item: Reference | None = None
    itemType: StatusValue | None = None  # e.g. {"id": "InvtPart"}; Discount lines carry no quantity
    line: int | None = None
    quantity: float | None = None
    quantityFulfilled: float | None = None
    quantityBilled: float | None = None
    isClosed: bool | None = None
    rate: float | None = None
    amount: float | None = None


class FulfillmentLine(_Lenient):
    item: Reference | None = None
    itemReceive: bool | None = None  # false: the line is listed but not part of this fulfillment
    orderLine: int | None = None
    quantity: float | None = None


class PackageLine(_Lenient):
    """One package; the carrier-specific sublists name the tracking field after the carrier."""

    packageTrackingNumber: str | None = None
    packageTrackingNumberUps: str | None = None
    packageTrackingNumberFedEx: str | None = None
    packageTrackingNumberUsps: str | None = None


class TransactionRecord(_Lenient):
    """Fields every transaction GET shares."""

    links: list[Link] | None = None
    id: str | None = None
    tranId: str | None = None
    tranDate: str | None = None
    createdDate: str | None = None
    lastModifiedDate: str | None = None
    status: StatusValue | None = None
    externalId: str | None = None
    createdFrom: Reference | None = None
    total: float | None = None
    currency: Reference | None = None
    currencySymbol: str | None = None
    trackingNumbers: str | None = None


class SalesOrder(TransactionRecord):
    orderStatus: StatusValue | None = None
    linkedTrackingNumbers: str | None = None
    item: Sublist[SalesOrderLine] | None = None


class ItemFulfillment(TransactionRecord):
    shipStatus: StatusValue | None = None
    item: Sublist[FulfillmentLine] | None = None
    package: Sublist[PackageLine] | None = None
    packageUps: Sublist[PackageLine] | None = None
    packageFedEx: Sublist[PackageLine] | None = None
    packageUsps: Sublist[PackageLine] | None = None


class Invoice(TransactionRecord):
    pass


class CashSale(TransactionRecord):
    pass


class SuiteQLResponse(_Lenient):
    """``POST /query/v1/suiteql``: one page of rows, each a dict of lowercase column -> string."""

    links: list[Link] | None = None
    count: int | None = None
    hasMore: bool | None = None
    items: list[dict[str, Any]]
    offset: int | None = None
    totalResults: int | None = None


class TransactionRow(_Lenient):
    """A ``transaction`` row (see queries.TRANSACTIONS_BY_ORDER_REF); null columns are absent."""

    id: str
    tranid: str | None = None
    type: str | None = None
    status: str | None = None
    trandate: str | None = None
    createddate: str | None = None
    lastmodifieddate: str | None = None
    otherrefnum: str | None = None
    externalid: str | None = None
    createdfrom: str | None = None
    previousdoc: str | None = None
    foreigntotal: str | None = None
    currency: str | None = None


class SystemNoteRow(_Lenient):
    """A ``SystemNote`` row (see queries.SYSTEM_NOTES_FOR_TRANSACTIONS)."""

    id: str | None = None
    recordid: str | None = None
    date: str | None = None
    field: str | None = None
    oldvalue: str | None = None
    newvalue: str | None = None
    context: str | None = None
    name: str | None = None
    type: str | None = None
