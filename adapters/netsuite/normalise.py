"""Turn SuiteTalk REST responses (record API GETs and SuiteQL pages) into canonical records and events.

One Record per sales order. Item fulfillments, invoices and cash sales hang off their sales
order through ``createdFrom`` (record API) or ``createdfrom`` / ``previousdoc`` (SuiteQL) and
add shipped quantities, tracking numbers and dated events. The same transaction may arrive
both as a SuiteQL row and as a record GET: the record API wins field by field, since its
date-times carry a zone and its sublists carry the lines.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import pydantic

from adapters.base import (
    Normalised,
    NormaliseContext,
    PayloadError,
    StatusMapping,
    StatusTable,
    decode,
    normalise_tracking,
    parse_day,
    parse_instant,
    unmapped,
    validate,
)
from adapters.netsuite import models, statuses
from audit.model import (
    Event,
    EventKind,
    Financial,
    Fulfillment,
    Line,
    Origin,
    RawPayload,
    Record,
    Timestamp,
    UnmappedStatus,
)

SALES_ORDER = "salesOrder"
ITEM_FULFILLMENT = "itemFulfillment"
INVOICE = "invoice"
CASH_SALE = "cashSale"
SUITEQL = "suiteql"

_RECORD_MODELS: dict[str, type[models.TransactionRecord]] = {
    SALES_ORDER: models.SalesOrder,
    ITEM_FULFILLMENT: models.ItemFulfillment,
    INVOICE: models.Invoice,
    CASH_SALE: models.CashSale,
}
_KIND_BY_LOWER = {kind.lower(): kind for kind in _RECORD_MODELS}
# SuiteQL transaction.type codes of the transactions the audit reads; rows of other types
# (credit memos, return authorizations...) are not part of an order's forward flow and are skipped.
_KIND_BY_SUITEQL_TYPE = {"salesord": SALES_ORDER, "itemship": ITEM_FULFILLMENT, "custinvc": INVOICE, "cashsale": CASH_SALE}
_TABLES: dict[str, StatusTable] = {
    SALES_ORDER: statuses.SALES_ORDER,
    ITEM_FULFILLMENT: statuses.ITEM_FULFILLMENT,
    INVOICE: statuses.INVOICE,
    CASH_SALE: statuses.CASH_SALE,
}
_LABELS = {SALES_ORDER: "sales order", ITEM_FULFILLMENT: "item fulfillment", INVOICE: "invoice", CASH_SALE: "cash sale"}
# The dimension a child transaction's status speaks to.
_DIMENSION = {ITEM_FULFILLMENT: "fulfillment", INVOICE: "financial", CASH_SALE: "financial"}
_NAMES: dict[str, dict[str, str]] = {
    SALES_ORDER: statuses.SALES_ORDER_NAMES,
    ITEM_FULFILLMENT: statuses.ITEM_FULFILLMENT_NAMES,
    INVOICE: statuses.INVOICE_NAMES,
    CASH_SALE: statuses.CASH_SALE_NAMES,
}

_RECORD_HREF = re.compile(r"/record/v1/([A-Za-z]+)/([^/?#]+)/?(?:[?#].*)?$")
_SUITEQL_HREF = "/query/v1/suiteql"
# Item lines that are not goods: they carry amounts (a promotion, a subtotal) but nothing to ship.
_NON_GOODS_ITEM_TYPES = {"discount", "markup", "subtotal", "description", "payment", "endgroup", "group"}
# The system-note field that holds a transaction's status (header field internal name).
_STATUS_NOTE_FIELDS = {"trandoc.kstatus", "status", "orderstatus"}
# SystemNote.name -4 is the system itself rather than an employee.
_SYSTEM_AUTHOR = "-4"
_TRACKING_SPLIT = re.compile(r"[\s,;]+|<br\s*/?>", re.IGNORECASE)
# SuiteQL without TO_CHAR renders date-times in the user's preference; the US default forms.
_USER_DATETIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
# Currency records are named by the account ("US Dollar", or "USA" on older accounts); the
# audit compares ISO codes, so the stock names are translated and anything else is dropped.
_CURRENCY_NAMES = {
    "usa": "USD", "us dollar": "USD", "u.s. dollar": "USD", "canadian dollar": "CAD", "euro": "EUR",
    "british pound": "GBP", "pound sterling": "GBP", "australian dollar": "AUD", "japanese yen": "JPY",
    "mexican peso": "MXN",
}
_UTC = ZoneInfo("UTC")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A value with the field path and payload it was read from."""

    value: T
    path: str
    payload_id: str


@dataclass(frozen=True, slots=True)
class NativeStatus:
    """A status as sent: a bare code or display name (``code``) and/or a display name (``name``)."""

    code: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class LineFact:
    sku: str
    quantity: int
    fulfilled: int | None = None
    closed: bool = False


@dataclass(slots=True)
class TransactionFacts:
    """What one response says about one transaction."""

    kind: str
    id: str
    rank: int  # 2: record API, 1: SuiteQL row; the higher wins field by field
    payload_id: str
    tran_id: str | None = None
    parent: str | None = None
    status: Sourced[NativeStatus] | None = None
    created: Sourced[Timestamp] | None = None
    tran_date: Sourced[Timestamp] | None = None
    updated: Sourced[Timestamp] | None = None
    total: Sourced[Decimal] | None = None
    currency: Sourced[str] | None = None
    refs: list[Sourced[str]] = field(default_factory=list)
    lines: Sourced[tuple[LineFact, ...]] | None = None
    tracking: list[Sourced[str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StatusNote:
    """One SystemNote row about a status field."""

    id: str
    record_id: str | None
    at: Timestamp
    old: str | None
    new: str | None
    context: str | None
    author: str | None
    payload_id: str


@dataclass(slots=True)
class Transaction:
    """Every response's facts about one transaction, merged."""

    kind: str
    id: str
    facts: list[TransactionFacts]

    def pick(self, name: str) -> Any:
        """The value of a field from the most authoritative response that has it."""
        for facts in self.facts:
            value = getattr(facts, name)
            if value is not None:
                return value
        return None

    @property
    def tran_id(self) -> str:
        return self.pick("tran_id") or self.id

    @property
    def when(self) -> Sourced[Timestamp] | None:
        """When it was created: createdDate, or the transaction date (a day) when that is all there is."""
        return self.pick("created") or self.pick("tran_date")

    @property
    def payload_ids(self) -> list[str]:
        return sorted({facts.payload_id for facts in self.facts})

    def all_of(self, name: str) -> list[Any]:
        return [item for facts in self.facts for item in getattr(facts, name)]


# ----------------------------------------------------------------------------- recognise


def recognise(body: Any) -> str | None:
    """``"suiteql"``, ``"record:<type>"`` for a transaction GET, or None for anything else."""
    if not isinstance(body, dict):
        return None
    href = _self_href(body)
    if href is not None:
        if _SUITEQL_HREF in href.lower():
            return SUITEQL
        match = _RECORD_HREF.search(href)
        if match:
            kind = _KIND_BY_LOWER.get(match.group(1).lower())
            return f"record:{kind}" if kind else None
        return None
    if isinstance(body.get("items"), list) and any(key in body for key in ("count", "hasMore", "totalResults")):
        return SUITEQL
    if not any(key in body for key in ("tranId", "createdFrom", "tranDate")):
        return None
    # No self link: recognise the transaction by fields only its type has.
    if "orderStatus" in body:
        return f"record:{SALES_ORDER}"
    if "shipStatus" in body or "package" in body:
        return f"record:{ITEM_FULFILLMENT}"
    if any(key in body for key in ("paymentMethod", "undepFunds", "ccApproved")):
        return f"record:{CASH_SALE}"
    if any(key in body for key in ("amountRemaining", "dueDate", "amountPaid")):
        return f"record:{INVOICE}"
    return None


def _self_href(body: Mapping[str, Any]) -> str | None:
    links = body.get("links")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
            return link["href"]
    return None


# ----------------------------------------------------------------------------- reading


def _read_payload(payload: RawPayload, context: NormaliseContext) -> tuple[list[TransactionFacts], list[StatusNote]]:
    body = decode(payload)
    kind = recognise(body)
    if kind is None:
        raise PayloadError(f"{payload.endpoint}: not a NetSuite transaction record or SuiteQL response")
    try:
        if kind == SUITEQL:
            return _read_suiteql(body, payload, context)
        return [_read_record(kind.removeprefix("record:"), body, payload, context)], []
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise PayloadError(f"{payload.endpoint}: {exc}") from None


def _read_record(kind: str, body: dict[str, Any], payload: RawPayload, context: NormaliseContext) -> TransactionFacts:
    record = validate(_RECORD_MODELS[kind], body, payload)
    href = _self_href(body)
    match = _RECORD_HREF.search(href) if href else None
    native_id = record.id or (match.group(2) if match else None)
    if not native_id:
        raise ValueError(f"{kind} without an id")
    pid = payload.id
    facts = TransactionFacts(kind=kind, id=native_id, rank=2, payload_id=pid, tran_id=record.tranId)
    if record.createdFrom is not None and record.createdFrom.id:
        facts.parent = record.createdFrom.id
    status_field = {SALES_ORDER: "orderStatus", ITEM_FULFILLMENT: "shipStatus"}.get(kind)
    raw_status = getattr(record, status_field) if status_field else None
    if raw_status is None:
        status_field, raw_status = "status", record.status
    if raw_status is not None:
        facts.status = Sourced(_native_status(raw_status), f"{kind}.{status_field}", pid)
    zone = context.zone
    if record.createdDate:
        facts.created = Sourced(_record_instant(record.createdDate), f"{kind}.createdDate", pid)
    if record.tranDate:
        facts.tran_date = Sourced(parse_day(record.tranDate, zone), f"{kind}.tranDate", pid)
    if record.lastModifiedDate:
        facts.updated = Sourced(_record_instant(record.lastModifiedDate), f"{kind}.lastModifiedDate", pid)
    if record.total is not None:
        facts.total = Sourced(_money(str(record.total)), f"{kind}.total", pid)
    currency = _currency_code(record.currencySymbol) or _currency_code(record.currency.refName if record.currency else None)
    if currency:
        path = f"{kind}.currencySymbol" if record.currencySymbol else f"{kind}.currency.refName"
        facts.currency = Sourced(currency, path, pid)
    facts.refs = _record_refs(kind, body, context, pid)
    if isinstance(record, models.SalesOrder):
        facts.lines = _order_lines(record, pid)
        facts.tracking = _split_tracking(record.linkedTrackingNumbers, f"{kind}.linkedTrackingNumbers", pid)
    elif isinstance(record, models.ItemFulfillment):
        facts.lines = _fulfillment_lines(record, pid)
        facts.tracking = _package_tracking(record, pid)
    else:
        facts.tracking = _split_tracking(record.trackingNumbers, f"{kind}.trackingNumbers", pid)
    return facts


def _record_instant(raw: str) -> Timestamp:
    # REST record datetimes are ISO-8601 UTC ("Using Datetime Fields"); one without an offset is UTC too.
    return parse_instant(raw, zone=_UTC)


def _native_status(raw: models.StatusValue) -> NativeStatus:
    if isinstance(raw, models.Reference):
        return NativeStatus(_clean(raw.id), _clean(raw.refName))
    return NativeStatus(_clean(raw), None)


def _clean(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def _record_refs(kind: str, body: Mapping[str, Any], context: NormaliseContext, pid: str) -> list[Sourced[str]]:
    """The order refs this transaction names: the configured ref body field and externalId."""
    wanted = {context.order_ref_field.casefold(), "externalid"}
    refs: list[Sourced[str]] = []
    for key, value in body.items():
        if key.casefold() not in wanted:
            continue
        text = value.get("refName") if isinstance(value, dict) else value
        if isinstance(text, str) and text.strip():
            refs.append(Sourced(text.strip(), f"{kind}.{key}", pid))
    return refs


def _sku(reference: models.Reference | None) -> str | None:
    if reference is None:
        return None
    # Matrix items are named "Parent : Child"; the child's name is the SKU the channels know.
    name = _clean(reference.refName)
    return name.rsplit(" : ", 1)[-1].strip() if name else _clean(reference.id)


def _int(quantity: float | None) -> int | None:
    return None if quantity is None else int(round(quantity))


def _item_type(raw: models.StatusValue | None) -> str:
    if isinstance(raw, models.Reference):
        return (raw.id or raw.refName or "").casefold()
    return (raw or "").casefold()


def _order_lines(order: models.SalesOrder, pid: str) -> Sourced[tuple[LineFact, ...]] | None:
    if order.item is None or order.item.items is None:
        return None  # fetched without expandSubResources: the lines are only a link
    lines: list[LineFact] = []
    for line in order.item.items:
        sku, quantity = _sku(line.item), _int(line.quantity)
        if sku is None or quantity is None or _item_type(line.itemType) in _NON_GOODS_ITEM_TYPES:
            continue
        lines.append(LineFact(sku, quantity, _int(line.quantityFulfilled), bool(line.isClosed)))
    return Sourced(tuple(lines), "salesOrder.item", pid)


def _fulfillment_lines(fulfillment: models.ItemFulfillment, pid: str) -> Sourced[tuple[LineFact, ...]] | None:
    if fulfillment.item is None or fulfillment.item.items is None:
        return None
    lines = tuple(
        LineFact(sku, quantity)
        for line in fulfillment.item.items
        if line.itemReceive is not False
        and (sku := _sku(line.item)) is not None
        and (quantity := _int(line.quantity)) is not None
    )
    return Sourced(lines, "itemFulfillment.item", pid)


def _package_tracking(fulfillment: models.ItemFulfillment, pid: str) -> list[Sourced[str]]:
    found: list[Sourced[str]] = []
    for sublist_name, number_field in (
        ("package", "packageTrackingNumber"),
        ("packageUps", "packageTrackingNumberUps"),
        ("packageFedEx", "packageTrackingNumberFedEx"),
        ("packageUsps", "packageTrackingNumberUsps"),
    ):
        sublist = getattr(fulfillment, sublist_name)
        for package in (sublist.items or []) if sublist else []:
            path = f"itemFulfillment.{sublist_name}.{number_field}"
            found.extend(_split_tracking(getattr(package, number_field), path, pid))
    return found


def _split_tracking(text: str | None, path: str, pid: str) -> list[Sourced[str]]:
    """Tracking numbers from a field that may hold several (NetSuite joins them with spaces or <BR>)."""
    if not text:
        return []
    numbers = (normalise_tracking(part) for part in _TRACKING_SPLIT.split(text))
    return [Sourced(number, path, pid) for number in numbers if number]


def _money(text: str) -> Decimal:
    amount = Decimal(text.strip())
    if not amount.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    return amount


def _currency_code(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    cleaned = text.strip()
    if cleaned.casefold() in _CURRENCY_NAMES:
        return _CURRENCY_NAMES[cleaned.casefold()]
    return cleaned.upper() if len(cleaned) == 3 and cleaned.isalpha() else None


def _read_suiteql(
    body: dict[str, Any], payload: RawPayload, context: NormaliseContext
) -> tuple[list[TransactionFacts], list[StatusNote]]:
    page = validate(models.SuiteQLResponse, body, payload)
    transactions: list[TransactionFacts] = []
    notes: list[StatusNote] = []
    for index, row in enumerate(page.items):
        if not isinstance(row, dict):
            raise ValueError(f"items[{index}] is not a row")
        if any(column in row for column in ("recordid", "field", "newvalue", "oldvalue")):
            note = _note_from_row(_row(models.SystemNoteRow, row, index), index, payload, context)
            if note is not None:
                notes.append(note)
        elif "id" in row and ("type" in row or "tranid" in row):
            facts = _facts_from_row(_row(models.TransactionRow, row, index), row, payload, context)
            if facts is not None:
                transactions.append(facts)
        else:
            raise ValueError(f"items[{index}] is neither a transaction row nor a system note row")
    return transactions, notes


RowT = TypeVar("RowT", bound=pydantic.BaseModel)


def _row(model: type[RowT], row: dict[str, Any], index: int) -> RowT:
    try:
        return model.model_validate(row)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"items[{index}].{where}: {first['msg']}") from None


def _facts_from_row(
    row: models.TransactionRow, raw: Mapping[str, Any], payload: RawPayload, context: NormaliseContext
) -> TransactionFacts | None:
    kind = _KIND_BY_SUITEQL_TYPE.get((row.type or "").strip().casefold())
    if kind is None:
        return None
    pid, zone = payload.id, context.zone
    facts = TransactionFacts(kind=kind, id=row.id, rank=1, payload_id=pid, tran_id=_clean(row.tranid))
    facts.parent = _clean(row.createdfrom) or _clean(row.previousdoc)
    if _clean(row.status):
        facts.status = Sourced(NativeStatus(_clean(row.status), None), "transaction.status", pid)
    if _clean(row.createddate):
        facts.created = Sourced(_suiteql_time(row.createddate, zone), "transaction.createddate", pid)
    if _clean(row.trandate):
        facts.tran_date = Sourced(parse_day(row.trandate, zone), "transaction.trandate", pid)
    if _clean(row.lastmodifieddate):
        facts.updated = Sourced(_suiteql_time(row.lastmodifieddate, zone), "transaction.lastmodifieddate", pid)
    if _clean(row.foreigntotal):
        facts.total = Sourced(_money(row.foreigntotal), "transaction.foreigntotal", pid)
    currency = _currency_code(row.currency)
    if currency:
        facts.currency = Sourced(currency, "transaction.currency", pid)
    for column in (context.order_ref_field.lower(), "externalid"):
        value = raw.get(column)
        if isinstance(value, str) and value.strip():
            facts.refs.append(Sourced(value.strip(), f"transaction.{column}", pid))
    return facts


def _suiteql_time(raw: str, zone: ZoneInfo) -> Timestamp:
    """A SuiteQL date-time: local to the account's zone, as TO_CHAR or the user's preference renders it."""
    text = raw.strip()
    if ":" not in text:
        return parse_day(text, zone)  # a bare date (no TO_CHAR): the whole local day
    try:
        return parse_instant(text, zone=zone)
    except ValueError:
        pass
    for pattern in _USER_DATETIME_FORMATS:
        try:
            local = datetime.strptime(text.upper(), pattern)
        except ValueError:
            continue
        return Timestamp.instant(local.replace(tzinfo=zone), raw, source_tz=zone.key)
    raise ValueError(f"not a SuiteQL date-time: {raw!r}")


def _note_from_row(
    row: models.SystemNoteRow, index: int, payload: RawPayload, context: NormaliseContext
) -> StatusNote | None:
    if (row.field or "").strip().casefold() not in _STATUS_NOTE_FIELDS:
        return None  # only status changes are events; other field changes are noise for the audit
    if not _clean(row.date):
        raise ValueError(f"items[{index}]: system note without a date")
    note_id = _clean(row.id) or f"{row.recordid}@{row.date.strip()}"
    return StatusNote(
        id=note_id,
        record_id=_clean(row.recordid),
        at=_suiteql_time(row.date, context.zone),
        old=_clean(row.oldvalue),
        new=_clean(row.newvalue),
        context=_clean(row.context),
        author=_clean(row.name),
        payload_id=payload.id,
    )


# ----------------------------------------------------------------------------- statuses


def _candidates(status: NativeStatus) -> list[str]:
    """The spellings to try: the code, a "SalesOrd:B" code's letter, a camelCase id's words, the name."""
    found: list[str] = []
    for value in (status.code, status.name):
        if not value:
            continue
        found.append(value)
        prefix, colon, rest = value.partition(":")
        if colon and prefix.isalpha() and rest.strip():
            found.append(rest.strip())
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", value)
        if words != value:
            found.append(words)
    return found


def lookup_status(
    table: StatusTable, status: NativeStatus, overrides: Mapping[str, StatusMapping] | None
) -> StatusMapping | None:
    """The mapping of a status in any of its forms; a configured override beats the table."""
    candidates = _candidates(status)
    if overrides:
        folded = {key.strip().casefold() for key in overrides}
        for candidate in candidates:
            if candidate.strip().casefold() in folded:
                return table.lookup(candidate, overrides)
    for candidate in candidates:
        mapping = table.lookup(candidate)
        if mapping is not None:
            return mapping
    return None


def _display(kind: str, status: NativeStatus) -> str:
    """How NetSuite shows the status: its display name where known, else what was sent."""
    if status.name:
        return status.name
    names = _NAMES.get(kind, {})
    for candidate in _candidates(status):
        if candidate.upper() in names:
            return names[candidate.upper()]
    return status.code or ""


# ----------------------------------------------------------------------------- assembling


def normalise(payloads: Sequence[RawPayload], context: NormaliseContext) -> Normalised:
    """Every NetSuite response of one case, merged into one Record per sales order plus dated events."""
    facts: list[TransactionFacts] = []
    notes: list[StatusNote] = []
    for payload in payloads:
        read_facts, read_notes = _read_payload(payload, context)
        facts.extend(read_facts)
        notes.extend(read_notes)

    transactions = _merge(facts)
    notes_by_record: dict[str | None, list[StatusNote]] = defaultdict(list)
    for note in sorted({note.id: note for note in notes}.values(), key=lambda n: (n.at.sort_key, n.id)):
        notes_by_record[note.record_id if note.record_id in transactions else None].append(note)

    children: dict[str | None, list[Transaction]] = defaultdict(list)
    for transaction in transactions.values():
        if transaction.kind != SALES_ORDER:
            children[_sales_order_of(transaction, transactions)].append(transaction)

    result = Normalised()
    orders = sorted(
        (t for t in transactions.values() if t.kind == SALES_ORDER), key=lambda t: (t.tran_id, t.id)
    )
    for order in orders:
        record, events = _order(order, children.get(order.id, []), notes_by_record.get(order.id, []), context)
        result.records.append(record)
        result.events.extend(events)
    # Fulfillments or invoices whose sales order was not fetched, and notes on other records,
    # still say something happened: their events stand without a record.
    for orphan in sorted(children.get(None, []), key=lambda t: t.id):
        result.events.extend(_transaction_events(orphan, None, None, context)[0])
    for record_id, record_notes in notes_by_record.items():
        if record_id is None or transactions[record_id].kind != SALES_ORDER:
            kind = transactions[record_id].kind if record_id is not None else SALES_ORDER
            result.events.extend(_note_events(record_notes, kind, None, context)[0])
    result.events.sort(key=lambda event: (event.at.sort_key, event.id))
    return result


def _merge(facts: list[TransactionFacts]) -> dict[str, Transaction]:
    grouped: dict[str, list[TransactionFacts]] = defaultdict(list)
    for item in facts:
        grouped[item.id].append(item)
    merged: dict[str, Transaction] = {}
    for native_id, items in grouped.items():
        items.sort(key=lambda f: (-f.rank, f.payload_id))
        merged[native_id] = Transaction(kind=items[0].kind, id=native_id, facts=items)
    return merged


def _sales_order_of(transaction: Transaction, transactions: Mapping[str, Transaction]) -> str | None:
    """The sales order a transaction was created from, following a short chain of parents."""
    current, seen = transaction, {transaction.id}
    for _ in range(5):
        parent_id = current.pick("parent")
        parent = transactions.get(parent_id) if parent_id else None
        if parent is None or parent.id in seen:
            return None
        if parent.kind == SALES_ORDER:
            return parent.id
        current = parent
        seen.add(parent.id)
    return None


@dataclass(slots=True)
class _Status:
    """A transaction's status as read: display form, mapping and the unmapped dimensions."""

    display: str
    mapping: StatusMapping | None
    source: Sourced[NativeStatus] | None

    @property
    def unmapped_value(self) -> str:
        if self.source is None:
            return "(no status)"
        return self.source.value.code or self.source.value.name or ""


def _status_of(transaction: Transaction, context: NormaliseContext) -> _Status:
    sourced: Sourced[NativeStatus] | None = transaction.pick("status")
    if sourced is None:
        return _Status("", None, None)
    table = _TABLES[transaction.kind]
    mapping = lookup_status(table, sourced.value, context.status_overrides)
    return _Status(_display(transaction.kind, sourced.value), mapping, sourced)


def _order(
    order: Transaction, children: list[Transaction], notes: list[StatusNote], context: NormaliseContext
) -> tuple[Record, list[Event]]:
    system = context.system.name
    status = _status_of(order, context)
    unmapped_statuses: list[UnmappedStatus] = []
    sources: list[tuple[str, str]] = []
    if status.source is not None:
        sources.append(("status", status.source.path))
    status_path = status.source.path if status.source else "salesOrder.orderStatus"

    fulfillments = sorted((c for c in children if c.kind == ITEM_FULFILLMENT), key=_chronological)
    billing = [c for c in children if c.kind in (INVOICE, CASH_SALE)]
    shipped_fulfillments = [f for f in fulfillments if _has_shipped(f, context)]

    cancelled_order = status.mapping is not None and status.mapping.fulfillment is Fulfillment.CANCELLED
    lines, line_source = _lines(order, shipped_fulfillments, cancelled_order)
    if line_source:
        sources.append(("lines", line_source))

    fulfillment_state = status.mapping.fulfillment if status.mapping else None
    financial_state = status.mapping.financial if status.mapping else None
    if status.mapping is not None and fulfillment_state is None:
        # Closed: nothing shipped means the order was called off; otherwise it ended shipped.
        fulfillment_state = Fulfillment.SHIPPED if any(line.shipped for line in lines) else Fulfillment.CANCELLED
    if status.mapping is not None and financial_state is None:
        if billing:
            financial_state = Financial.INVOICED
        else:
            financial_state = Financial.VOIDED if fulfillment_state is Fulfillment.CANCELLED else Financial.PENDING
    if fulfillment_state is None:
        fulfillment_state = Fulfillment.UNKNOWN
        unmapped_statuses.append(unmapped(status_path, status.unmapped_value, "fulfillment"))
    if financial_state is None:
        financial_state = Financial.UNKNOWN
        unmapped_statuses.append(unmapped(status_path, status.unmapped_value, "financial"))

    tracking_sources = order.all_of("tracking") + [item for child in children for item in child.all_of("tracking")]
    tracking = frozenset(item.value for item in tracking_sources)
    sources.extend(("tracking", path) for path in sorted({item.path for item in tracking_sources}))

    total: Sourced[Decimal] | None = order.pick("total")
    currency: Sourced[str] | None = order.pick("currency")
    created: Sourced[Timestamp] | None = order.when
    updated: Sourced[Timestamp] | None = order.pick("updated")
    links = order.all_of("refs")
    for name, sourced in (("total", total), ("currency", currency), ("created", created), ("updated", updated)):
        if sourced is not None:
            sources.append((name, sourced.path))
    sources.extend(("link", path) for path in sorted({ref.path for ref in links}))

    events: list[Event] = []
    ref = order.tran_id
    if created is not None:
        events.append(
            Event(
                id=f"{system}/{SALES_ORDER}/{order.id}/created",
                system=system,
                at=created.value,
                kind=EventKind.CREATED,
                source=created.path,
                detail=f"sales order {ref} created",
                record_ref=ref,
                payload_id=created.payload_id,
            )
        )
    required = {line.sku: line.ordered - line.cancelled for line in lines}
    shipped_so_far: dict[str, int] = defaultdict(int)
    for child in fulfillments + sorted(billing, key=_chronological):
        child_events, child_unmapped = _transaction_events(child, ref, (required, shipped_so_far), context)
        events.extend(child_events)
        unmapped_statuses.extend(child_unmapped)
    note_events, note_unmapped = _note_events(notes, SALES_ORDER, ref, context)
    events.extend(note_events)
    unmapped_statuses.extend(note_unmapped)
    if fulfillment_state is Fulfillment.CANCELLED:
        cancelled_event = _cancelled_event(order, note_events, updated, status, ref, system)
        if cancelled_event is not None:
            events.append(cancelled_event)

    payload_ids = sorted(
        set(order.payload_ids)
        | {pid for child in children for pid in child.payload_ids}
        | {note.payload_id for note in notes}
    )
    record = Record(
        system=system,
        ref=ref,
        native_id=order.id,
        native_status=status.display,
        fulfillment=fulfillment_state,
        financial=financial_state,
        lines=tuple(lines),
        tracking=tracking,
        total=total.value if total else None,
        currency=currency.value if currency else None,
        created=created.value if created else None,
        updated=updated.value if updated else None,
        links=frozenset(item.value for item in links),
        unmapped=tuple(dict.fromkeys(unmapped_statuses)),
        payload_ids=tuple(payload_ids),
        sources=tuple(dict.fromkeys(sources)),
    )
    return record, events


def _has_shipped(fulfillment: Transaction, context: NormaliseContext) -> bool:
    mapping = _status_of(fulfillment, context).mapping
    return mapping is not None and mapping.fulfillment is Fulfillment.SHIPPED


def _indexed(path: str, native_id: str) -> str:
    """A child's field path naming which one: ``itemFulfillment[20533].shipStatus``."""
    head, _, rest = path.partition(".")
    return f"{head}[{native_id}].{rest}"


def _chronological(transaction: Transaction) -> tuple[Any, str]:
    when = transaction.when
    return (when.value.sort_key if when else datetime.max.replace(tzinfo=_UTC), transaction.id)


def _lines(order: Transaction, shipped_fulfillments: list[Transaction], cancelled_order: bool) -> tuple[list[Line], str]:
    """Per-SKU quantities: ordered from the sales order, shipped from its shipped fulfillments.

    The fulfillments' own item lines are the evidence of what left; when none was fetched, or
    one was seen only as a SuiteQL row (no lines), the order's quantityFulfilled stands in.
    """
    order_lines: Sourced[tuple[LineFact, ...]] | None = order.pick("lines")
    if order_lines is None:
        return [], ""
    fulfillment_lines = [f.pick("lines") for f in shipped_fulfillments]
    from_fulfillments = bool(fulfillment_lines) and all(lines is not None for lines in fulfillment_lines)
    shipped_by_fulfillments: dict[str, int] = defaultdict(int)
    for lines in fulfillment_lines:
        for line in lines.value if lines else ():
            shipped_by_fulfillments[line.sku] += line.quantity

    ordered: dict[str, int] = defaultdict(int)
    fulfilled_on_order: dict[str, int] = defaultdict(int)
    closed_remainder: dict[str, int] = defaultdict(int)
    for line in order_lines.value:
        ordered[line.sku] += line.quantity
        fulfilled = line.fulfilled or 0
        fulfilled_on_order[line.sku] += fulfilled
        if line.closed or cancelled_order:
            # A closed line will never ship what it has not shipped yet; a cancelled order closes every line.
            closed_remainder[line.sku] += max(line.quantity - fulfilled, 0)
    result = []
    for sku in ordered:
        shipped = shipped_by_fulfillments[sku] if from_fulfillments else fulfilled_on_order[sku]
        result.append(Line(sku, ordered[sku], shipped, closed_remainder[sku], order_lines.path))
    return result, order_lines.path


def _transaction_events(
    transaction: Transaction,
    ref: str | None,
    progress: tuple[dict[str, int], dict[str, int]] | None,
    context: NormaliseContext,
) -> tuple[list[Event], list[UnmappedStatus]]:
    """The events of a fulfillment, invoice or cash sale, and its status if the table does not know it."""
    system = context.system.name
    when = transaction.when
    status = _status_of(transaction, context)
    problems: list[UnmappedStatus] = []
    if status.source is not None and status.mapping is None:
        dimension = _DIMENSION[transaction.kind]
        problems.append(unmapped(_indexed(status.source.path, transaction.id), status.unmapped_value, dimension))
    if when is None:
        return [], problems
    name = f"{_LABELS[transaction.kind]} {transaction.tran_id}"
    common = dict(
        system=system,
        at=when.value,
        source=when.path,
        native_status=status.display or None,
        record_ref=ref,
        payload_id=when.payload_id,
    )

    def event(kind: EventKind, detail: str, **states: Any) -> Event:
        return Event(id=f"{system}/{transaction.kind}/{transaction.id}/{kind.value}", kind=kind, detail=detail, **common, **states)

    mapping = status.mapping
    events: list[Event] = []
    if transaction.kind == ITEM_FULFILLMENT:
        events.append(event(EventKind.FULFILLMENT_CREATED, f"{name} created"))
        if mapping is not None and mapping.fulfillment is Fulfillment.SHIPPED:
            after = _fulfillment_after(transaction, progress)
            events.append(event(EventKind.SHIPPED, f"{name} shipped", fulfillment=after))
    else:
        financial = mapping.financial if mapping else None
        events.append(event(EventKind.INVOICED, f"{name} created", financial=financial))
        if transaction.kind == CASH_SALE and financial is Financial.INVOICED:
            events.append(event(EventKind.PAYMENT_CAPTURED, f"{name} payment received", financial=financial))
    return events, problems


def _fulfillment_after(transaction: Transaction, progress: tuple[dict[str, int], dict[str, int]] | None) -> Fulfillment:
    """The order's state once this shipment left: shipped when every line has all it will get."""
    lines: Sourced[tuple[LineFact, ...]] | None = transaction.pick("lines")
    if progress is None or lines is None or not progress[0]:
        return Fulfillment.SHIPPED  # no line evidence: the shipment's own state is all there is
    required, shipped_so_far = progress
    for line in lines.value:
        shipped_so_far[line.sku] += line.quantity
    complete = all(shipped_so_far[sku] >= need for sku, need in required.items())
    return Fulfillment.SHIPPED if complete else Fulfillment.PARTIAL


def _note_events(
    notes: list[StatusNote], kind: str, ref: str | None, context: NormaliseContext
) -> tuple[list[Event], list[UnmappedStatus]]:
    system = context.system.name
    table = _TABLES[kind]
    events: list[Event] = []
    problems: list[UnmappedStatus] = []
    for note in notes:
        mapping = lookup_status(table, NativeStatus(None, note.new), context.status_overrides) if note.new else None
        if note.new and mapping is None:
            dimensions = ("fulfillment", "financial") if kind == SALES_ORDER else (_DIMENSION[kind],)
            problems.extend(unmapped(f"systemNote[{note.id}].newvalue", note.new, d) for d in dimensions)
        origin = statuses.origin_of_context(note.context)
        if origin is Origin.UNKNOWN and not note.context and note.author == _SYSTEM_AUTHOR:
            origin = Origin.PLATFORM
        how = f" via {note.context}" if note.context else ""
        events.append(
            Event(
                id=f"{system}/systemNote/{note.id}/status_changed",
                system=system,
                at=note.at,
                kind=EventKind.STATUS_CHANGED,
                fulfillment=mapping.fulfillment if mapping else None,
                financial=mapping.financial if mapping else None,
                source="SystemNote.newvalue (TRANDOC.KSTATUS)",
                origin=origin,
                native_status=note.new,
                detail=f"status {note.old or '(none)'} -> {note.new or '(none)'}{how}",
                record_ref=ref,
                payload_id=note.payload_id,
            )
        )
    return events, problems


def _cancelled_event(
    order: Transaction,
    note_events: list[Event],
    updated: Sourced[Timestamp] | None,
    status: _Status,
    ref: str,
    system: str,
) -> Event | None:
    """When the order was cancelled: the system note that says so, else its last modification."""
    note = next((e for e in note_events if e.fulfillment is Fulfillment.CANCELLED), None)
    if note is not None:
        at, source, origin, pid = note.at, note.source, note.origin, note.payload_id
    elif updated is not None:
        at, source, origin, pid = updated.value, updated.path, Origin.UNKNOWN, updated.payload_id
    else:
        return None
    return Event(
        id=f"{system}/{SALES_ORDER}/{order.id}/cancelled",
        system=system,
        at=at,
        kind=EventKind.CANCELLED,
        fulfillment=Fulfillment.CANCELLED,
        financial=status.mapping.financial if status.mapping else None,
        source=source,
        origin=origin,
        native_status=status.display,
        detail=f"sales order {ref} is {status.display or 'cancelled'}",
        record_ref=ref,
        payload_id=pid,
    )
