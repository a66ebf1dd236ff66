"""The NetSuite adapter: status tables, the 16 sample scenarios, the unconfirmed payload forms, robustness."""

from __future__ import annotations

import copy
import json
import tomllib
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import NormaliseContext, PayloadError, StatusMapping, make_payload
from adapters.netsuite import PLATFORM, queries, statuses
from adapters.netsuite.normalise import NativeStatus, lookup_status
from audit.model import EventKind, Financial, Fulfillment, Origin, Precision, Role, SystemDef

F, M = Fulfillment, Financial
SCENARIOS = Path(__file__).resolve().parents[2] / "sample_data" / "scenarios"
SYSTEM = SystemDef("netsuite", Role.ERP, "netsuite")
CONTEXT = NormaliseContext(SYSTEM, timezone="America/Los_Angeles")
FETCHED = datetime(2026, 3, 5, 12, tzinfo=timezone.utc)
BASE = "https://1234567.suitetalk.api.netsuite.com/services/rest"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def payload(body: Any, endpoint: str = "GET /services/rest/record/v1/salesOrder/1") -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return make_payload("netsuite", endpoint, FETCHED, text)


def run(*bodies: Any, context: NormaliseContext = CONTEXT):
    return PLATFORM.normalise([payload(body) for body in bodies], context)


def scenario_payloads(folder: str):
    directory = SCENARIOS / folder / "netsuite"
    requests = tomllib.loads((directory / "requests.toml").read_text())
    assert requests, f"{folder}: requests.toml lists no files"
    return [make_payload("netsuite", request, FETCHED, (directory / name).read_text()) for name, request in requests.items()]


def sales_order(**fields: Any) -> dict[str, Any]:
    """A minimal record API sales order, fetched with expandSubResources=true."""
    body: dict[str, Any] = {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/salesorder/700"}],
        "createdDate": "2026-03-02T09:00:00Z",
        "id": "700",
        "item": {
            "links": [{"rel": "self", "href": f"{BASE}/record/v1/salesorder/700/item"}],
            "items": [
                {"item": {"id": "501", "refName": "TEE-RED-M"}, "line": 1, "quantity": 2.0, "quantityFulfilled": 0.0, "isClosed": False}
            ],
        },
        "orderStatus": {"id": "B", "refName": "Pending Fulfillment"},
        "otherRefNum": "113-0000000-0000001",
        "total": 49.98,
        "tranDate": "2026-03-02",
        "tranId": "SO700",
    }
    body.update(fields)
    return body


def suiteql(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "links": [{"rel": "self", "href": f"{BASE}/query/v1/suiteql?limit=1000&offset=0"}],
        "count": len(rows), "hasMore": False, "items": rows, "offset": 0, "totalResults": len(rows),
    }


# ----------------------------------------------------------------------------- status tables

SALES_ORDER_EXPECTED = [
    ("A", "Pending Approval", F.OPEN, M.PENDING),
    ("B", "Pending Fulfillment", F.OPEN, M.PENDING),
    ("C", "Cancelled", F.CANCELLED, M.VOIDED),
    ("D", "Partially Fulfilled", F.PARTIAL, M.INVOICED),
    ("E", "Pending Billing/Partially Fulfilled", F.PARTIAL, M.PENDING),
    ("F", "Pending Billing", F.SHIPPED, M.PENDING),
    ("G", "Billed", F.SHIPPED, M.INVOICED),
    ("H", "Closed", None, None),  # derived from the lines by the normaliser
]


@pytest.mark.parametrize(("letter", "name", "fulfillment", "financial"), SALES_ORDER_EXPECTED)
def test_sales_order_table_maps_letter_and_name_alike(letter, name, fulfillment, financial):
    expected = StatusMapping(fulfillment, financial)
    assert statuses.SALES_ORDER.lookup(letter) == expected
    assert statuses.SALES_ORDER.lookup(name) == expected
    assert statuses.SALES_ORDER.lookup(f"  {name.upper()} ") == expected


@pytest.mark.parametrize(
    ("table", "value", "expected"),
    [
        (statuses.ITEM_FULFILLMENT, "A", StatusMapping(F.OPEN)),
        (statuses.ITEM_FULFILLMENT, "Picked", StatusMapping(F.OPEN)),
        (statuses.ITEM_FULFILLMENT, "B", StatusMapping(F.OPEN)),
        (statuses.ITEM_FULFILLMENT, "Packed", StatusMapping(F.OPEN)),
        (statuses.ITEM_FULFILLMENT, "C", StatusMapping(F.SHIPPED)),
        (statuses.ITEM_FULFILLMENT, "Shipped", StatusMapping(F.SHIPPED)),
        (statuses.INVOICE, "A", StatusMapping(financial=M.INVOICED)),
        (statuses.INVOICE, "Open", StatusMapping(financial=M.INVOICED)),
        (statuses.INVOICE, "B", StatusMapping(financial=M.INVOICED)),
        (statuses.INVOICE, "Paid In Full", StatusMapping(financial=M.INVOICED)),
        (statuses.CASH_SALE, "A", StatusMapping(financial=M.PENDING)),
        (statuses.CASH_SALE, "Unapproved Payment", StatusMapping(financial=M.PENDING)),
        (statuses.CASH_SALE, "B", StatusMapping(financial=M.INVOICED)),
        (statuses.CASH_SALE, "Not Deposited", StatusMapping(financial=M.INVOICED)),
        (statuses.CASH_SALE, "C", StatusMapping(financial=M.INVOICED)),
        (statuses.CASH_SALE, "Deposited", StatusMapping(financial=M.INVOICED)),
    ],
)
def test_transaction_tables(table, value, expected):
    assert table.lookup(value) == expected


@pytest.mark.parametrize(
    ("table", "value"),
    [
        (statuses.SALES_ORDER, "Y"),  # in the REST enum, meaning unconfirmed
        (statuses.ITEM_FULFILLMENT, "D"),  # shipStatus enum lists A–J, only A–C are documented
        (statuses.ITEM_FULFILLMENT, "J"),
        (statuses.INVOICE, "D"),
        (statuses.INVOICE, "E"),
        (statuses.INVOICE, "V"),
        (statuses.INVOICE, "Y"),
        (statuses.CASH_SALE, "Y"),
    ],
)
def test_unconfirmed_enum_values_stay_unmapped(table, value):
    assert table.lookup(value) is None


@pytest.mark.parametrize(
    "status",
    [
        NativeStatus("B", None),
        NativeStatus("B", "Pending Fulfillment"),
        NativeStatus("pendingFulfillment", "Pending Fulfillment"),
        NativeStatus("pendingFulfillment", None),
        NativeStatus("Pending Fulfillment", None),
        NativeStatus("SalesOrd:B", None),
        NativeStatus("Pending Fulfillment", "Pending Fulfillment"),
    ],
)
def test_every_status_form_finds_the_mapping(status):
    assert lookup_status(statuses.SALES_ORDER, status, None) == StatusMapping(F.OPEN, M.PENDING)


def test_an_override_beats_the_table_in_any_form():
    overrides = {"Pending Fulfillment": StatusMapping(F.ON_HOLD, M.PENDING)}
    assert lookup_status(statuses.SALES_ORDER, NativeStatus("B", "Pending Fulfillment"), overrides).fulfillment is F.ON_HOLD


@pytest.mark.parametrize(
    ("context", "origin"),
    [
        ("UIF", Origin.PERSON), ("uif", Origin.PERSON), ("UI", Origin.PERSON), ("Mass Update", Origin.PERSON),
        ("CSV", Origin.INTEGRATION), ("RST", Origin.INTEGRATION), ("SCH", Origin.INTEGRATION),
        ("UES", Origin.INTEGRATION), ("MPR", Origin.INTEGRATION), ("SLT", Origin.INTEGRATION),
        ("SOAP Web Services", Origin.INTEGRATION), ("REST Web Services", Origin.INTEGRATION),
        ("Script (RESTlet)", Origin.INTEGRATION), ("WST", Origin.PLATFORM), ("Scheduled Workflow", Origin.PLATFORM),
        ("XYZ", Origin.UNKNOWN), (None, Origin.UNKNOWN),
    ],
)
def test_system_note_context_origin(context, origin):
    assert statuses.origin_of_context(context) is origin


# ----------------------------------------------------------------------------- the 16 scenarios

# ref: (native id, fulfillment, financial, {sku: (ordered, shipped, cancelled)}, tracking, total, created)
RECORDS: dict[str, list[tuple]] = {
    "01-classic-cascade": [("SO10482", "20482", F.OPEN, M.PENDING, {"TEE-RED-M": (2, 0, 0), "MUG-BLK": (1, 0, 0)}, set(), "62.48", "2026-03-02T09:21:00Z")],
    "02-healthy-order": [("SO10483", "20483", F.SHIPPED, M.INVOICED, {"TEE-RED-M": (1, 1, 0), "CAP-NVY": (1, 1, 0)}, {"1Z999AA10123456785"}, "44.98", "2026-03-02T10:04:00Z")],
    "03-late-sync": [("SO10484", "20484", F.SHIPPED, M.PENDING, {"MUG-BLK": (2, 2, 0)}, {"1Z999AA10123456786"}, "25.00", "2026-03-02T11:05:00Z")],
    "04-missing-handoff": [("SO10485", "20485", F.SHIPPED, M.PENDING, {"CAP-NVY": (1, 1, 0)}, {"1Z999AA10123456787"}, "19.99", "2026-03-01T20:05:00Z")],
    "05-cancel-vs-ship": [("SO10486", "20486", F.SHIPPED, M.PENDING, {"TEE-RED-M": (1, 1, 0)}, {"1Z999AA10123456788"}, "24.99", "2026-03-02T12:06:00Z")],
    "06-web-order-no-marketplace": [("SO10487", "20487", F.SHIPPED, M.PENDING, {"MUG-BLK": (1, 1, 0), "CAP-NVY": (1, 1, 0)}, {"1Z999AA10123456789"}, "32.49", "2026-03-03T08:36:00Z")],
    "07-timezone-trap": [("SO10488", "20488", F.SHIPPED, M.PENDING, {"TEE-RED-M": (1, 1, 0)}, {"1Z999AA10123456790"}, "24.99", "2026-03-03T02:36:00Z")],
    "08-duplicate-erp-import": [
        ("SO10490", "20490", F.OPEN, M.PENDING, {"MUG-BLK": (1, 0, 0)}, set(), "12.50", "2026-03-02T07:05:00Z"),
        ("SO10491", "20491", F.OPEN, M.PENDING, {"MUG-BLK": (1, 0, 0)}, set(), "12.50", "2026-03-02T07:35:00Z"),
    ],
    "09-unmapped-status": [("SO10492", "20492", F.UNKNOWN, M.UNKNOWN, {"CAP-NVY": (1, 0, 0)}, set(), "19.99", "2026-03-02T15:04:00Z")],
    "10-quantity-mismatch": [("SO10493", "20493", F.SHIPPED, M.INVOICED, {"MUG-BLK": (3, 2, 1), "CAP-NVY": (1, 1, 0)}, {"1Z999AA10123456791"}, "57.49", "2026-03-02T08:04:00Z")],
    "11-tracking-mismatch": [("SO10494", "20494", F.SHIPPED, M.PENDING, {"TEE-RED-M": (1, 1, 0)}, {"1Z999AA10123456792"}, "24.99", "2026-03-02T09:34:00Z")],
    "12-amount-mismatch": [("SO10495", "20495", F.OPEN, M.PENDING, {"TEE-RED-M": (3, 0, 0)}, set(), "64.97", "2026-03-02T14:05:00Z")],
    "13-status-regression": [("SO10496", "20496", F.OPEN, M.PENDING, {"CAP-NVY": (1, 0, 0)}, set(), "19.99", "2026-03-02T08:05:00Z")],
    "14-missing-record": [],
    "15-in-flight-shipment": [("SO10497", "20497", F.SHIPPED, M.PENDING, {"TEE-RED-M": (1, 1, 0), "MUG-BLK": (1, 1, 0)}, {"1Z999AA10123456794"}, "37.49", "2026-03-02T06:04:00Z")],
    "16-invoiced-before-shipping": [("SO10498", "20498", F.OPEN, M.PENDING, {"MUG-BLK": (1, 0, 0)}, set(), "12.50", "2026-03-02T10:05:00Z")],
}

# (kind, instant) for every event; day-precision events are checked separately.
EVENTS: dict[str, list[tuple[EventKind, str]]] = {
    "01-classic-cascade": [(EventKind.CREATED, "2026-03-02T09:21:00Z")],
    "02-healthy-order": [
        (EventKind.CREATED, "2026-03-02T10:04:00Z"),
        (EventKind.FULFILLMENT_CREATED, "2026-03-03T15:00:00Z"),
        (EventKind.SHIPPED, "2026-03-03T15:00:00Z"),
        (EventKind.INVOICED, "2026-03-03T15:30:00Z"),
    ],
    "03-late-sync": [(EventKind.CREATED, "2026-03-02T11:05:00Z"), (EventKind.FULFILLMENT_CREATED, "2026-03-03T09:00:00Z"), (EventKind.SHIPPED, "2026-03-03T09:00:00Z")],
    "04-missing-handoff": [(EventKind.CREATED, "2026-03-01T20:05:00Z"), (EventKind.FULFILLMENT_CREATED, "2026-03-02T16:00:00Z"), (EventKind.SHIPPED, "2026-03-02T16:00:00Z")],
    "05-cancel-vs-ship": [(EventKind.CREATED, "2026-03-02T12:06:00Z"), (EventKind.FULFILLMENT_CREATED, "2026-03-02T18:00:00Z"), (EventKind.SHIPPED, "2026-03-02T18:00:00Z")],
    "06-web-order-no-marketplace": [(EventKind.CREATED, "2026-03-03T08:36:00Z"), (EventKind.FULFILLMENT_CREATED, "2026-03-04T10:00:00Z"), (EventKind.SHIPPED, "2026-03-04T10:00:00Z")],
    "07-timezone-trap": [(EventKind.CREATED, "2026-03-03T02:36:00Z")],
    "08-duplicate-erp-import": [(EventKind.CREATED, "2026-03-02T07:05:00Z"), (EventKind.CREATED, "2026-03-02T07:35:00Z")],
    "09-unmapped-status": [(EventKind.CREATED, "2026-03-02T15:04:00Z")],
    "10-quantity-mismatch": [
        (EventKind.CREATED, "2026-03-02T08:04:00Z"),
        (EventKind.FULFILLMENT_CREATED, "2026-03-03T10:00:00Z"),
        (EventKind.SHIPPED, "2026-03-03T10:00:00Z"),
        (EventKind.INVOICED, "2026-03-03T10:30:00Z"),
    ],
    "11-tracking-mismatch": [(EventKind.CREATED, "2026-03-02T09:34:00Z"), (EventKind.FULFILLMENT_CREATED, "2026-03-03T09:00:00Z"), (EventKind.SHIPPED, "2026-03-03T09:00:00Z")],
    "12-amount-mismatch": [(EventKind.CREATED, "2026-03-02T14:05:00Z")],
    "13-status-regression": [
        (EventKind.CREATED, "2026-03-02T08:05:00Z"),
        (EventKind.STATUS_CHANGED, "2026-03-03T10:00:00Z"),
        (EventKind.STATUS_CHANGED, "2026-03-03T16:00:00Z"),
    ],
    "14-missing-record": [],
    "15-in-flight-shipment": [(EventKind.CREATED, "2026-03-02T06:04:00Z"), (EventKind.FULFILLMENT_CREATED, "2026-03-02T10:00:00Z"), (EventKind.SHIPPED, "2026-03-02T10:00:00Z")],
    "16-invoiced-before-shipping": [(EventKind.CREATED, "2026-03-02T10:05:00Z"), (EventKind.INVOICED, "2026-03-02T11:00:00Z")],
}


def test_every_scenario_has_a_netsuite_folder():
    assert sorted(p.name for p in SCENARIOS.iterdir() if (p / "netsuite").is_dir()) == sorted(RECORDS)


@pytest.mark.parametrize("folder", sorted(RECORDS))
def test_scenario_records(folder):
    result = PLATFORM.normalise(scenario_payloads(folder), CONTEXT)
    got = [
        (
            r.ref, r.native_id, r.fulfillment, r.financial,
            {line.sku: (line.ordered, line.shipped, line.cancelled) for line in r.lines},
            set(r.tracking), r.total, r.currency, r.created.earliest if r.created else None,
        )
        for r in result.records
    ]
    expected = [
        (ref, nid, ful, fin, lines, tracking, Decimal(total), "USD", utc(created))
        for ref, nid, ful, fin, lines, tracking, total, created in RECORDS[folder]
    ]
    assert got == expected
    for record in result.records:
        assert record.payload_ids and record.system == "netsuite"


@pytest.mark.parametrize("folder", sorted(EVENTS))
def test_scenario_events(folder):
    result = PLATFORM.normalise(scenario_payloads(folder), CONTEXT)
    instants = [(e.kind, e.at.earliest) for e in result.events if e.at.precision is Precision.INSTANT]
    assert instants == [(kind, utc(at)) for kind, at in EVENTS[folder]]
    ids = [e.id for e in result.events]
    assert len(ids) == len(set(ids)), "event ids must be unique within the system"
    assert all(e.id.startswith("netsuite/") and e.payload_id for e in result.events)


def test_links_name_the_channel_order():
    marketplace = PLATFORM.normalise(scenario_payloads("01-classic-cascade"), CONTEXT).records[0]
    storefront = PLATFORM.normalise(scenario_payloads("06-web-order-no-marketplace"), CONTEXT).records[0]
    assert marketplace.links == {"113-4519876-3382210"}
    assert storefront.links == {"#1187"}


def test_timezone_trap_fulfillment_is_a_local_day_not_an_instant():
    result = PLATFORM.normalise(scenario_payloads("07-timezone-trap"), CONTEXT)
    days = [e for e in result.events if e.at.is_day]
    assert {e.kind for e in days} == {EventKind.FULFILLMENT_CREATED, EventKind.SHIPPED}
    shipped = next(e for e in days if e.kind is EventKind.SHIPPED)
    # trandate 3/3/2026 in Los Angeles (PST, UTC-8) is 08:00Z to 08:00Z next day
    assert shipped.at.earliest == utc("2026-03-03T08:00:00Z")
    assert utc("2026-03-04T07:59:59Z") < shipped.at.latest < utc("2026-03-04T08:00:00Z")
    amazon_shipped = utc("2026-03-04T01:15:00Z")
    assert shipped.at.earliest <= amazon_shipped <= shipped.at.latest
    assert shipped.fulfillment is F.SHIPPED and shipped.record_ref == "SO10488"


def test_unmapped_status_is_reported_with_its_field():
    record = PLATFORM.normalise(scenario_payloads("09-unmapped-status"), CONTEXT).records[0]
    assert record.native_status == "Pending Review"
    assert {(u.field, u.value, u.dimension) for u in record.unmapped} == {
        ("salesOrder.orderStatus", "Y", "fulfillment"),
        ("salesOrder.orderStatus", "Y", "financial"),
    }


def test_duplicate_import_gives_two_records_for_one_ref():
    records = PLATFORM.normalise(scenario_payloads("08-duplicate-erp-import"), CONTEXT).records
    assert [r.ref for r in records] == ["SO10490", "SO10491"]
    assert records[0].links == records[1].links == {"113-6614478-0035519"}


def test_status_regression_notes_carry_state_and_origin():
    events = PLATFORM.normalise(scenario_payloads("13-status-regression"), CONTEXT).events
    notes = [e for e in events if e.kind is EventKind.STATUS_CHANGED]
    assert [(e.fulfillment, e.financial, e.origin, e.native_status) for e in notes] == [
        (F.SHIPPED, M.PENDING, Origin.INTEGRATION, "Pending Billing"),
        (F.OPEN, M.PENDING, Origin.PERSON, "Pending Fulfillment"),
    ]
    assert all(e.record_ref == "SO10496" for e in notes)


def test_quantity_mismatch_shipment_completes_the_order_after_the_closed_line():
    events = PLATFORM.normalise(scenario_payloads("10-quantity-mismatch"), CONTEXT).events
    shipped = next(e for e in events if e.kind is EventKind.SHIPPED)
    invoiced = next(e for e in events if e.kind is EventKind.INVOICED)
    assert shipped.fulfillment is F.SHIPPED and invoiced.financial is M.INVOICED


def test_empty_suiteql_result_holds_nothing():
    result = PLATFORM.normalise(scenario_payloads("14-missing-record"), CONTEXT)
    assert result.records == [] and result.events == []


# ----------------------------------------------------------------------------- unconfirmed and alternative forms


@pytest.mark.parametrize(
    "status",
    [
        "B",
        "SalesOrd:B",
        "Pending Fulfillment",
        {"id": "B", "refName": "Pending Fulfillment"},
        {"id": "pendingFulfillment", "refName": "Pending Fulfillment"},
        {"id": "Pending Fulfillment", "refName": "Pending Fulfillment"},
    ],
)
def test_sales_order_status_forms(status):
    body = sales_order()
    del body["orderStatus"]
    body["status"] = status
    record = run(body).records[0]
    assert (record.fulfillment, record.financial, record.native_status) == (F.OPEN, M.PENDING, "Pending Fulfillment")
    assert record.unmapped == ()


def test_sales_order_without_expanded_sublists():
    body = sales_order(item={"links": [{"rel": "self", "href": f"{BASE}/record/v1/salesorder/700/item"}]})
    record = run(body).records[0]
    assert record.lines == () and record.fulfillment is F.OPEN


def test_record_recognised_by_fields_when_links_are_missing():
    body = sales_order()
    del body["links"]
    assert PLATFORM.recognise(body) == "record:salesOrder"
    assert run(body).records[0].ref == "SO700"


@pytest.mark.parametrize(
    "body",
    [
        {"order": {"orderId": "113-0000000-0000001"}},
        {"payload": {"AmazonOrderId": "113"}},
        {"orders": [], "pagination": {}},
        {"data": {"order": {"name": "#1042"}}},
        {"links": [{"rel": "self", "href": f"{BASE}/record/v1/customer/5"}], "id": "5"},
        [],
        "text",
    ],
)
def test_other_responses_are_not_recognised(body):
    assert PLATFORM.recognise(body) is None
    with pytest.raises(PayloadError):
        run(body)


def test_suiteql_only_sales_order_reads_local_times_in_the_account_zone():
    row = {
        "links": [], "createddate": "2026-03-02 01:21:00", "currency": "USD", "foreigntotal": "62.48", "id": "20482",
        "lastmodifieddate": "2026-03-02 01:21:00", "otherrefnum": "113-4519876-3382210", "status": "SalesOrd:B",
        "trandate": "3/2/2026", "tranid": "SO10482", "type": "SalesOrd",
    }
    record = run(suiteql([row])).records[0]
    assert record.created.earliest == utc("2026-03-02T09:21:00Z")  # PST is UTC-8
    assert (record.total, record.currency, record.fulfillment) == (Decimal("62.48"), "USD", F.OPEN)
    assert record.lines == ()


def test_trandate_alone_gives_a_day_in_either_format():
    for trandate in ("3/2/2026", "2026-03-02"):
        row = {"links": [], "id": "1", "status": "B", "trandate": trandate, "tranid": "SO1", "type": "SalesOrd"}
        created = run(suiteql([row])).records[0].created
        assert created.is_day and created.earliest == utc("2026-03-02T08:00:00Z")


def test_item_fulfillment_shipstatus_and_tracking_sources():
    order = sales_order(linkedTrackingNumbers="1Z999AA10123456780  9400111899223197428490")
    picked = {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/itemfulfillment/801"}],
        "createdDate": "2026-03-03T10:00:00Z", "createdFrom": {"id": "700", "refName": "Sales Order #SO700"},
        "id": "801", "shipStatus": {"id": "A", "refName": "Picked"}, "tranId": "IF-801",
        "item": {"items": [{"item": {"refName": "TEE-RED-M"}, "quantity": 1.0, "itemReceive": True}]},
        "packageUps": {"items": [{"packageTrackingNumberUps": "1z-999-aa1-0123456781"}]},
    }
    shipped = copy.deepcopy(picked) | {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/itemfulfillment/802"}], "id": "802", "tranId": "IF-802",
        "createdDate": "2026-03-03T12:00:00Z", "shipStatus": "C",
        "packageUps": {"links": []},
        "package": {"items": [{"packageTrackingNumber": "1Z999AA10123456782"}]},
    }
    result = run(order, picked, shipped)
    record = result.records[0]
    assert record.tracking == {"1Z999AA10123456780", "9400111899223197428490", "1Z999AA10123456781", "1Z999AA10123456782"}
    kinds = [(e.kind, e.id) for e in result.events if e.kind in (EventKind.FULFILLMENT_CREATED, EventKind.SHIPPED)]
    assert kinds == [
        (EventKind.FULFILLMENT_CREATED, "netsuite/itemFulfillment/801/fulfillment_created"),
        (EventKind.FULFILLMENT_CREATED, "netsuite/itemFulfillment/802/fulfillment_created"),
        (EventKind.SHIPPED, "netsuite/itemFulfillment/802/shipped"),
    ]
    shipped_event = next(e for e in result.events if e.kind is EventKind.SHIPPED)
    assert shipped_event.fulfillment is F.PARTIAL  # one of two tees has left
    assert {line.sku: line.shipped for line in record.lines} == {"TEE-RED-M": 1}


def test_unknown_fulfillment_status_is_unmapped_and_not_shipped():
    fulfillment = {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/itemfulfillment/801"}], "id": "801",
        "createdDate": "2026-03-03T10:00:00Z", "createdFrom": {"id": "700"}, "shipStatus": {"id": "E", "refName": "E"},
    }
    result = run(sales_order(), fulfillment)
    assert ("itemFulfillment[801].shipStatus", "E", "fulfillment") in {
        (u.field, u.value, u.dimension) for u in result.records[0].unmapped
    }
    assert EventKind.SHIPPED not in {e.kind for e in result.events}


def test_cash_sale_is_invoiced_and_captured():
    cash_sale = {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/cashsale/900"}], "id": "900", "tranId": "CS-900",
        "createdDate": "2026-03-03T10:00:00Z", "createdFrom": {"id": "700"}, "status": {"id": "B", "refName": "Not Deposited"},
        "trackingNumbers": "1Z999AA10123456799",
    }
    result = run(sales_order(), cash_sale)
    kinds = {(e.kind, e.financial) for e in result.events if e.id.startswith("netsuite/cashSale/")}
    assert kinds == {(EventKind.INVOICED, M.INVOICED), (EventKind.PAYMENT_CAPTURED, M.INVOICED)}
    assert "1Z999AA10123456799" in result.records[0].tracking


def test_cancelled_order_cancels_open_quantities_and_dates_the_cancel():
    body = sales_order(orderStatus={"id": "C", "refName": "Cancelled"}, lastModifiedDate="2026-03-02T13:00:00Z")
    result = run(body)
    record = result.records[0]
    assert (record.fulfillment, record.financial) == (F.CANCELLED, M.VOIDED)
    assert [(line.ordered, line.cancelled) for line in record.lines] == [(2, 2)]
    cancelled = next(e for e in result.events if e.kind is EventKind.CANCELLED)
    assert cancelled.at.earliest == utc("2026-03-02T13:00:00Z")


@pytest.mark.parametrize(
    ("fulfilled", "closed", "fulfillment", "financial"),
    [(0, True, F.CANCELLED, M.VOIDED), (2, False, F.SHIPPED, M.PENDING)],
)
def test_closed_order_state_comes_from_its_lines(fulfilled, closed, fulfillment, financial):
    body = sales_order(orderStatus={"id": "H", "refName": "Closed"})
    body["item"]["items"][0].update(quantityFulfilled=float(fulfilled), isClosed=closed)
    record = run(body).records[0]
    assert (record.fulfillment, record.financial) == (fulfillment, financial)
    assert record.unmapped == ()


def test_override_maps_an_unknown_status():
    context = NormaliseContext(SYSTEM, timezone="America/Los_Angeles", status_overrides={"Pending Review": StatusMapping(F.ON_HOLD, M.PENDING)})
    body = sales_order(orderStatus={"id": "Y", "refName": "Pending Review"})
    record = run(body, context=context).records[0]
    assert (record.fulfillment, record.financial, record.unmapped) == (F.ON_HOLD, M.PENDING, ())


def test_order_ref_field_and_external_id_are_links():
    context = NormaliseContext(SYSTEM, timezone="America/Los_Angeles", order_ref_field="custbody_channel_order")
    body = sales_order(custbody_channel_order="#2001", externalId="amazon-113-1")
    assert run(body, context=context).records[0].links == {"#2001", "amazon-113-1"}


def test_record_api_wins_over_the_suiteql_row_and_payloads_merge_in_any_order():
    row = {"links": [], "id": "700", "status": "B", "trandate": "3/2/2026", "tranid": "SO700", "type": "SalesOrd", "foreigntotal": "1.00"}
    forward = run(suiteql([row]), sales_order())
    backward = run(sales_order(), suiteql([row]))
    assert forward.records == backward.records and forward.events == backward.events
    record = forward.records[0]
    assert record.total == Decimal("49.98") and not record.created.is_day
    assert len(record.payload_ids) == 2


def test_fulfillment_without_its_order_still_yields_events():
    row = {"links": [], "id": "801", "status": "C", "trandate": "3/3/2026", "tranid": "IF-801", "type": "ItemShip", "createdfrom": "999"}
    result = run(suiteql([row]))
    assert result.records == []
    assert {(e.kind, e.record_ref) for e in result.events} == {(EventKind.FULFILLMENT_CREATED, None), (EventKind.SHIPPED, None)}


def test_discount_lines_are_not_goods():
    body = sales_order()
    body["item"]["items"].append({"item": {"refName": "Amazon Promotion"}, "itemType": {"id": "Discount"}, "rate": -10.0, "quantity": 1.0})
    assert [line.sku for line in run(body).records[0].lines] == ["TEE-RED-M"]


# ----------------------------------------------------------------------------- errors and robustness


def test_malformed_json_is_a_one_line_payload_error():
    with pytest.raises(PayloadError) as caught:
        PLATFORM.normalise([payload("{not json", "POST /services/rest/query/v1/suiteql")], CONTEXT)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("POST /services/rest/query/v1/suiteql")


@pytest.mark.parametrize(
    "body",
    [
        suiteql([{"links": [], "foo": "bar"}]),
        suiteql([{"links": [], "id": "1", "type": "SalesOrd", "tranid": "SO1", "createddate": "yesterday"}]),
        suiteql([{"links": [], "id": "1", "type": "SalesOrd", "tranid": "SO1", "foreigntotal": "NaN"}]),
        sales_order(createdDate="2026-02-30T00:00:00Z"),
        sales_order(item={"items": [{"quantity": "lots"}]}),
    ],
)
def test_bad_values_are_payload_errors_naming_the_endpoint(body):
    with pytest.raises(PayloadError) as caught:
        run(body)
    assert str(caught.value).startswith("GET /services/rest/record/v1/salesOrder/1") and "\n" not in str(caught.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
interesting_keys = st.sampled_from(
    ["links", "items", "count", "hasMore", "id", "tranId", "type", "tranid", "status", "orderStatus", "shipStatus",
     "createdFrom", "createdfrom", "createdDate", "createddate", "trandate", "tranDate", "item", "quantity",
     "recordid", "field", "newvalue", "date", "total", "foreigntotal", "package", "amountRemaining"]
)
shaped_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["B", "C", "SalesOrd", "ItemShip", "3/3/2026", "2026-03-02 01:21:00", "2026-03-02T09:00:00Z", f"{BASE}/record/v1/salesorder/1"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(interesting_keys, children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(json_values, shaped_bodies))
def test_arbitrary_json_never_raises_anything_but_payload_error(body):
    try:
        run(body)
    except PayloadError as error:
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(status=st.text(max_size=30), ref_name=st.one_of(st.none(), st.text(max_size=30)), as_reference=st.booleans())
def test_arbitrary_status_strings_map_or_are_unmapped(status, ref_name, as_reference):
    body = sales_order(orderStatus={"id": status, "refName": ref_name} if as_reference else status)
    record = run(body).records[0]
    sent_name = (ref_name or "").strip() or None if as_reference else None
    mapping = lookup_status(statuses.SALES_ORDER, NativeStatus(status.strip() or None, sent_name), None)
    if mapping is None:
        assert (record.fulfillment, record.financial) == (F.UNKNOWN, M.UNKNOWN)
        assert {u.dimension for u in record.unmapped} == {"fulfillment", "financial"}
    else:
        assert record.fulfillment is not F.UNKNOWN and record.financial is not M.UNKNOWN


@settings(max_examples=200, deadline=None)
@given(note_status=st.text(max_size=30), context=st.one_of(st.none(), st.text(max_size=10)))
def test_arbitrary_system_note_values_never_raise(note_status, context):
    note = {"links": [], "id": "1", "recordid": "700", "date": "2026-03-03 02:00:00", "field": "TRANDOC.KSTATUS", "newvalue": note_status}
    if context is not None:
        note["context"] = context
    result = run(sales_order(), suiteql([note]))
    assert [e.kind for e in result.events].count(EventKind.STATUS_CHANGED) == 1


# ----------------------------------------------------------------------------- SuiteQL statements


def test_render_escapes_refs_and_never_interpolates_them_raw():
    sql = queries.render(queries.TRANSACTIONS_BY_ORDER_REF, ["113-1' OR '1'='1", "113-1' OR '1'='1"])
    assert sql.count("'113-1'' OR ''1''=''1'") == 2
    assert "?" not in sql
    assert "TO_CHAR(t.createddate, 'YYYY-MM-DD HH24:MI:SS')" in sql


def test_render_counts_placeholders_and_skips_those_inside_literals():
    assert queries.render("SELECT '?' AS q FROM t WHERE a = ?", [7]) == "SELECT '?' AS q FROM t WHERE a = 7"
    with pytest.raises(ValueError):
        queries.render(queries.TRANSACTIONS_BY_ORDER_REF, ["only one"])
    with pytest.raises(ValueError):
        queries.render("SELECT 1", ["extra"])
    with pytest.raises(ValueError):
        queries.sql_literal("nul\x00")
    with pytest.raises(TypeError):
        queries.sql_literal(1.5)  # type: ignore[arg-type]


def test_statements_are_read_only_and_columns_are_checked():
    notes = queries.render(queries.system_notes_for_transactions(2), [20496, 20497])
    assert "IN (20496, 20497)" in notes and "recordtypeid = -30" in notes
    for statement in (queries.TRANSACTIONS_BY_ORDER_REF, notes):
        assert statement.lstrip().upper().startswith("SELECT")
        assert not any(word in statement.upper().split() for word in ("INSERT", "UPDATE", "DELETE", "MERGE"))
    assert "t.custbody_channel_order = ?" in queries.transactions_by_order_ref("custbody_channel_order")
    with pytest.raises(ValueError):
        queries.transactions_by_order_ref("otherrefnum = '1' OR 1=1 --")
