"""The Shopify adapter: status tables, the 16 sample scenarios, the unconfirmed response forms, hostile input."""

from __future__ import annotations

import copy
import functools
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import NormaliseContext, PayloadError, StatusMapping, make_payload
from adapters.shopify import PLATFORM, queries, statuses
from audit.model import (
    EventKind,
    Financial,
    Fulfillment,
    Origin,
    RawPayload,
    Role,
    SystemDef,
    ThreetruthError,
)

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "sample_data" / "scenarios"
SCHEMA = REPO.parent / "shared" / "api-specs" / "shopify" / "admin-2022-07.graphql"
ENDPOINT = "POST /admin/api/2025-10/graphql.json"
FETCHED = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
CONTEXT = NormaliseContext(system=SystemDef("shopify", Role.STOREFRONT, "shopify"))

F, M = Fulfillment, Financial


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def payload(body: object | str, endpoint: str = ENDPOINT, fetched: datetime = FETCHED) -> RawPayload:
    text = body if isinstance(body, str) else json.dumps(body)
    return make_payload("shopify", endpoint, fetched, text)


def scenario_payloads(slug: str) -> list[RawPayload]:
    """The scenario's Shopify files, each with the request line requests.toml gives it."""
    folder = SCENARIOS / slug / "shopify"
    requests = tomllib.loads((folder / "requests.toml").read_text())
    files = sorted(folder.glob("*.json"))
    assert files and {f.name for f in files} == set(requests), f"{slug}: requests.toml must name every payload"
    return [payload(f.read_text(), requests[f.name]) for f in files]


def scenario_body(slug: str) -> dict:
    return json.loads((SCENARIOS / slug / "shopify" / "order.json").read_text())


def normalise(*bodies: object, context: NormaliseContext = CONTEXT):
    return PLATFORM.normalise([payload(body) for body in bodies], context)


# --- status tables -------------------------------------------------------------------------------

EXPECTED_MAPPINGS = [
    (statuses.ORDER_FULFILLMENT, {
        "UNFULFILLED": (F.OPEN, None), "PARTIALLY_FULFILLED": (F.PARTIAL, None), "FULFILLED": (F.SHIPPED, None),
        "RESTOCKED": (F.OPEN, None), "PENDING_FULFILLMENT": (F.OPEN, None), "OPEN": (F.OPEN, None),
        "IN_PROGRESS": (F.OPEN, None), "ON_HOLD": (F.ON_HOLD, None), "SCHEDULED": (F.OPEN, None),
        "REQUEST_DECLINED": (F.OPEN, None), "FULFILLMENT_NOT_REQUIRED": (F.SHIPPED, None),
    }),
    (statuses.ORDER_FINANCIAL, {
        "PENDING": (None, M.PENDING), "AUTHORIZED": (None, M.AUTHORIZED), "PARTIALLY_PAID": (None, M.AUTHORIZED),
        "PAID": (None, M.PAID), "PARTIALLY_REFUNDED": (None, M.PARTIALLY_REFUNDED), "REFUNDED": (None, M.REFUNDED),
        "VOIDED": (None, M.VOIDED), "EXPIRED": (None, M.VOIDED),
    }),
    (statuses.FULFILLMENT_STATUS, {
        "SUCCESS": (F.SHIPPED, None), "CANCELLED": (F.CANCELLED, None), "ERROR": (F.OPEN, None),
        "FAILURE": (F.OPEN, None), "PENDING": (F.OPEN, None), "OPEN": (F.OPEN, None),
    }),
    (statuses.FULFILLMENT_DISPLAY_STATUS, {
        "ATTEMPTED_DELIVERY": (F.SHIPPED, None), "CANCELED": (F.CANCELLED, None), "CARRIER_PICKED_UP": (F.SHIPPED, None),
        "CONFIRMED": (F.SHIPPED, None), "DELAYED": (F.SHIPPED, None), "DELIVERED": (F.DELIVERED, None),
        "FAILURE": (None, None), "FULFILLED": (F.SHIPPED, None), "IN_TRANSIT": (F.SHIPPED, None),
        "LABEL_PRINTED": (F.SHIPPED, None), "LABEL_PURCHASED": (F.SHIPPED, None), "LABEL_VOIDED": (F.CANCELLED, None),
        "MARKED_AS_FULFILLED": (F.SHIPPED, None), "NOT_DELIVERED": (F.SHIPPED, None),
        "OUT_FOR_DELIVERY": (F.SHIPPED, None), "PICKED_UP": (F.DELIVERED, None), "READY_FOR_PICKUP": (F.SHIPPED, None),
        "SUBMITTED": (F.SHIPPED, None),
    }),
    (statuses.TRANSACTION_KIND, {
        "AUTHORIZATION": (None, M.AUTHORIZED), "EMV_AUTHORIZATION": (None, M.AUTHORIZED), "SALE": (None, M.PAID),
        "CAPTURE": (None, M.PAID), "REFUND": (None, M.REFUNDED), "VOID": (None, M.VOIDED),
        "CHANGE": (None, None), "SUGGESTED_REFUND": (None, None),
    }),
]


@pytest.mark.parametrize(
    ("table", "value", "expected"),
    [(table, value, expected) for table, rows in EXPECTED_MAPPINGS for value, expected in rows.items()],
    ids=lambda item: item.name if hasattr(item, "entries") else str(item),
)
def test_each_status_value_maps_as_intended(table, value, expected):
    mapping = table.lookup(value)
    assert (mapping.fulfillment, mapping.financial) == expected
    assert table.lookup(f"  {value.lower()} ") == mapping  # case and space do not make a new status


@pytest.mark.parametrize(("table", "rows"), EXPECTED_MAPPINGS, ids=lambda item: getattr(item, "name", ""))
def test_tables_hold_exactly_the_documented_values(table, rows):
    assert set(table.entries) == set(rows)
    assert table.source


def test_every_transaction_kind_has_an_event_kind():
    assert set(statuses.TRANSACTION_EVENT) == set(statuses.TRANSACTION_KIND.entries)


SCHEMA_ENUMS = {
    "OrderDisplayFulfillmentStatus": statuses.ORDER_FULFILLMENT.entries,
    "OrderDisplayFinancialStatus": statuses.ORDER_FINANCIAL.entries,
    "FulfillmentStatus": statuses.FULFILLMENT_STATUS.entries,
    "FulfillmentDisplayStatus": statuses.FULFILLMENT_DISPLAY_STATUS.entries,
    "OrderTransactionKind": statuses.TRANSACTION_KIND.entries,
    "OrderTransactionStatus": statuses.TRANSACTION_STATUSES,
}


def schema_enum(name: str) -> set[str]:
    block = re.search(rf"^enum {name} \{{(.*?)^\}}", SCHEMA.read_text(), re.S | re.M)
    assert block, name
    text = re.sub(r'""".*?"""|"[^"\n]*"', "", block.group(1), flags=re.S)
    return {m.group(1) for m in re.finditer(r"^\s*([A-Z][A-Z0-9_]*)\b", text, re.M)}


@pytest.mark.skipif(not SCHEMA.exists(), reason="shared/api-specs is not beside the repo")
@pytest.mark.parametrize("enum", sorted(SCHEMA_ENUMS))
def test_tables_cover_every_value_of_the_vendor_enum(enum):
    assert schema_enum(enum) <= set(SCHEMA_ENUMS[enum])


# --- the sample scenarios ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipment:
    at: str
    tracking: str


@dataclass(frozen=True)
class Facts:
    """What scenario-facts.md says the Shopify record of a scenario holds."""

    slug: str
    ref: str
    gid: str
    created: str
    lines: dict[str, tuple[int, int, int]]  # sku -> (ordered, shipped, cancelled)
    total: str
    fulfillment: Fulfillment
    financial: Financial
    native_status: str
    shipment: Shipment | None = None
    link: str | None = None
    cancelled_at: str | None = None
    origin: Origin = Origin.INTEGRATION
    extra_kinds: frozenset[EventKind] = field(default_factory=frozenset)


def open_paid(slug, ref, gid, created, lines, total, link):
    return Facts(slug, ref, gid, created, {s: (q, 0, 0) for s, q in lines.items()}, total, F.OPEN, M.PAID,
                 "UNFULFILLED / PAID", link=link)


def shipped_paid(slug, ref, gid, created, lines, total, link, shipped_at, tracking, shipped=None):
    shipped = shipped or lines
    return Facts(slug, ref, gid, created, {s: (q, shipped[s], 0) for s, q in lines.items()}, total, F.SHIPPED,
                 M.PAID, "FULFILLED / PAID", Shipment(shipped_at, tracking), link=link)


FACTS = [
    open_paid("01-classic-cascade", "#1042", "5512345678901", "2026-03-02T09:17:00Z",
              {"TEE-RED-M": 2, "MUG-BLK": 1}, "62.48", "113-4519876-3382210"),
    shipped_paid("02-healthy-order", "#1043", "5512345678902", "2026-03-02T10:02:00Z",
                 {"TEE-RED-M": 1, "CAP-NVY": 1}, "44.98", "113-2201934-5567102",
                 "2026-03-03T15:08:00Z", "1Z999AA10123456785"),
    shipped_paid("03-late-sync", "#1044", "5512345678903", "2026-03-02T11:03:00Z", {"MUG-BLK": 2}, "25.00",
                 "113-7730561-2049918", "2026-03-03T09:05:00Z", "1Z999AA10123456786"),
    shipped_paid("04-missing-handoff", "#1045", "5512345678904", "2026-03-01T20:02:00Z", {"CAP-NVY": 1}, "19.99",
                 "113-0458823-9911734", "2026-03-02T16:04:00Z", "1Z999AA10123456787"),
    Facts("05-cancel-vs-ship", "#1046", "5512345678905", "2026-03-02T12:02:00Z", {"TEE-RED-M": (1, 0, 1)}, "24.99",
          F.CANCELLED, M.VOIDED, "UNFULFILLED / VOIDED (cancelled: CUSTOMER)", link="113-5582910-4471623",
          cancelled_at="2026-03-02T13:04:00Z", extra_kinds=frozenset({EventKind.PAYMENT_AUTHORIZED})),
    Facts("06-web-order-no-marketplace", "#1187", "5512345679187", "2026-03-03T08:30:00Z",
          {"MUG-BLK": (1, 1, 0), "CAP-NVY": (1, 1, 0)}, "32.49", F.SHIPPED, M.PAID, "FULFILLED / PAID",
          Shipment("2026-03-04T10:07:00Z", "1Z999AA10123456789"), origin=Origin.PLATFORM,
          extra_kinds=frozenset({EventKind.NOTE})),
    shipped_paid("07-timezone-trap", "#1048", "5512345678907", "2026-03-03T02:33:00Z", {"TEE-RED-M": 1}, "24.99",
                 "113-3390127-6650281", "2026-03-04T01:20:00Z", "1Z999AA10123456790"),
    open_paid("08-duplicate-erp-import", "#1049", "5512345678908", "2026-03-02T07:03:00Z", {"MUG-BLK": 1}, "12.50",
              "113-6614478-0035519"),
    open_paid("09-unmapped-status", "#1050", "5512345678909", "2026-03-02T15:02:00Z", {"CAP-NVY": 1}, "19.99",
              "113-8812034-7720456"),
    shipped_paid("10-quantity-mismatch", "#1051", "5512345678910", "2026-03-02T08:02:00Z",
                 {"MUG-BLK": 3, "CAP-NVY": 1}, "57.49", "113-1029384-5647382",
                 "2026-03-03T10:12:00Z", "1Z999AA10123456791"),
    shipped_paid("11-tracking-mismatch", "#1052", "5512345678911", "2026-03-02T09:32:00Z", {"TEE-RED-M": 1}, "24.99",
                 "113-4455667-1122334", "2026-03-03T09:07:00Z", "1Z999AA10123456729"),
    open_paid("12-amount-mismatch", "#1053", "5512345678912", "2026-03-02T14:02:00Z", {"TEE-RED-M": 3}, "74.97",
              "113-9988776-5544332"),
    shipped_paid("13-status-regression", "#1054", "5512345678913", "2026-03-02T08:03:00Z", {"CAP-NVY": 1}, "19.99",
                 "113-2233445-6677889", "2026-03-03T10:06:00Z", "1Z999AA10123456793"),
    open_paid("14-missing-record", "#1055", "5512345678914", "2026-03-02T09:03:00Z", {"CAP-NVY": 2}, "39.98",
              "113-6677889-0011223"),
    shipped_paid("15-in-flight-shipment", "#1056", "5512345678915", "2026-03-02T06:02:00Z",
                 {"TEE-RED-M": 1, "MUG-BLK": 1}, "37.49", "113-3344556-7788990",
                 "2026-03-02T10:03:00Z", "1Z999AA10123456794"),
    open_paid("16-invoiced-before-shipping", "#1057", "5512345678916", "2026-03-02T10:02:00Z", {"MUG-BLK": 1},
              "12.50", "113-5566778-8990011"),
]


def test_there_is_a_shopify_folder_for_every_scenario():
    assert sorted(p.parent.name for p in SCENARIOS.glob("*/shopify")) == sorted(f.slug for f in FACTS)


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.slug)
def test_scenario_record_holds_the_facts(facts: Facts):
    result = PLATFORM.normalise(scenario_payloads(facts.slug), CONTEXT)
    assert len(result.records) == 1
    record = result.records[0]
    assert (record.system, record.ref, record.native_id) == ("shopify", facts.ref, f"gid://shopify/Order/{facts.gid}")
    assert (record.fulfillment, record.financial) == (facts.fulfillment, facts.financial)
    assert record.native_status == facts.native_status
    assert {line.sku: (line.ordered, line.shipped, line.cancelled) for line in record.lines} == facts.lines
    assert all(isinstance(n, int) for line in record.lines for n in (line.ordered, line.shipped, line.cancelled))
    assert record.tracking == (frozenset({facts.shipment.tracking}) if facts.shipment else frozenset())
    assert (record.total, record.currency) == (Decimal(facts.total), "USD")
    assert isinstance(record.total, Decimal)
    assert record.created.earliest == at(facts.created) and not record.created.is_day
    assert record.updated is not None and record.updated.earliest >= record.created.earliest
    assert record.links == (frozenset({facts.link}) if facts.link else frozenset())
    assert record.unmapped == ()
    assert record.payload_ids == tuple(p.id for p in scenario_payloads(facts.slug))
    assert {name for name, _ in record.sources} >= {"fulfillment", "financial", "total", "createdAt"}


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.slug)
def test_scenario_events_hold_the_facts(facts: Facts):
    events = PLATFORM.normalise(scenario_payloads(facts.slug), CONTEXT).events
    by_kind: dict[EventKind, list] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
        assert event.system == "shopify" and event.record_ref == facts.ref and event.payload_id
        assert event.id.startswith("shopify/") and event.id.endswith(f"/{event.kind.value}")
    assert len({e.id for e in events}) == len(events)
    assert [e.at.earliest for e in events] == sorted(e.at.earliest for e in events)

    (created,) = by_kind[EventKind.CREATED]
    assert created.at.earliest == at(facts.created) and created.origin is facts.origin
    payment = by_kind.get(EventKind.PAYMENT_CAPTURED, []) + by_kind.get(EventKind.PAYMENT_AUTHORIZED, [])
    assert payment and timedelta(0) <= payment[0].at.earliest - at(facts.created) <= timedelta(seconds=5)

    kinds = {EventKind.CREATED, EventKind.STATUS_CHANGED} | facts.extra_kinds
    kinds |= {EventKind.PAYMENT_CAPTURED} if facts.financial is M.PAID else set()
    if facts.shipment:
        kinds |= {EventKind.FULFILLMENT_CREATED, EventKind.SHIPPED}
        (shipped,) = by_kind[EventKind.SHIPPED]
        (made,) = by_kind[EventKind.FULFILLMENT_CREATED]
        assert shipped.at.earliest == made.at.earliest == at(facts.shipment.at)
        assert shipped.fulfillment is F.SHIPPED and facts.shipment.tracking in shipped.detail
        fulfilled_logs = [e for e in by_kind[EventKind.STATUS_CHANGED] if e.native_status == "fulfillment_success"]
        assert [e.origin for e in fulfilled_logs] == [Origin.INTEGRATION]
    if facts.cancelled_at:
        kinds |= {EventKind.CANCELLED}
        (cancelled,) = by_kind[EventKind.CANCELLED]
        assert cancelled.at.earliest == at(facts.cancelled_at) and cancelled.fulfillment is F.CANCELLED
        (void,) = [e for e in by_kind[EventKind.STATUS_CHANGED] if e.id.startswith("shopify/transaction/")]
        assert void.financial is M.VOIDED and void.at.earliest == at(facts.cancelled_at)
    assert set(by_kind) == kinds


def test_storefront_born_order_names_no_marketplace_order():
    record = PLATFORM.normalise(scenario_payloads("06-web-order-no-marketplace"), CONTEXT).records[0]
    assert record.links == frozenset()
    by_name = NormaliseContext(system=CONTEXT.system, marketplace_link="name")
    assert PLATFORM.normalise(scenario_payloads("06-web-order-no-marketplace"), by_name).records[0].links == {"#1187"}


# --- the response forms --------------------------------------------------------------------------


def order_of(slug: str) -> dict:
    return scenario_body(slug)["data"]["order"]


def test_search_with_edges_reads_like_the_order_query():
    body = {"data": {"orders": {"edges": [{"cursor": "abc", "node": order_of("02-healthy-order")}],
                                "pageInfo": {"hasNextPage": False, "endCursor": "abc"}}}}
    direct = normalise(scenario_body("02-healthy-order"))
    searched = normalise(body)
    assert [r.tracking for r in searched.records] == [r.tracking for r in direct.records]
    assert searched.records[0].sources[0][1].startswith("orders.edges[0].node.")
    assert [e.kind for e in searched.events] == [e.kind for e in direct.events]


def test_search_with_nodes_and_two_orders_gives_two_records():
    second = copy.deepcopy(order_of("08-duplicate-erp-import"))
    second.update(id="gid://shopify/Order/5512345679999", legacyResourceId="5512345679999", name="#1099")
    body = {"data": {"orders": {"nodes": [order_of("08-duplicate-erp-import"), second], "pageInfo": {}}}}
    result = normalise(body)
    assert sorted(r.ref for r in result.records) == ["#1049", "#1099"]
    assert all(r.links == {"113-6614478-0035519"} for r in result.records)
    assert len({e.id for e in result.events}) == len(result.events)


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"orders": {"edges": [], "pageInfo": {"hasNextPage": False}}}},
        {"data": {"orders": {"nodes": [], "pageInfo": {"hasNextPage": False}}}},
        {"data": {"order": None}, "extensions": {"cost": {"requestedQueryCost": 761, "actualQueryCost": 1}}},
    ],
    ids=["empty edges", "empty nodes", "order null"],
)
def test_a_response_proving_absence_gives_no_records(body):
    assert normalise(body).records == [] and normalise(body).events == []


def test_a_later_events_page_is_merged_by_order_id():
    full = scenario_body("06-web-order-no-marketplace")
    events = full["data"]["order"]["events"]["nodes"]
    first_page = copy.deepcopy(full)
    first_page["data"]["order"]["events"] = {"nodes": events[:2], "pageInfo": {"hasNextPage": True, "endCursor": "c2"}}
    later_page = {"data": {"order": {"id": full["data"]["order"]["id"],
                                     "events": {"nodes": events[2:], "pageInfo": {"hasNextPage": False}}}}}
    merged = PLATFORM.normalise(
        [payload(later_page, fetched=FETCHED), payload(first_page, fetched=FETCHED)], CONTEXT
    )
    whole = normalise(full)
    assert len(merged.records) == 1
    assert merged.records[0].fulfillment is F.SHIPPED and merged.records[0].ref == "#1187"
    assert len(merged.records[0].payload_ids) == 2
    assert sorted(e.id for e in merged.events) == sorted(e.id for e in whole.events)


def test_newest_fetch_wins_a_header_field():
    old = scenario_body("01-classic-cascade")
    new = copy.deepcopy(old)
    new["data"]["order"]["displayFulfillmentStatus"] = "ON_HOLD"
    later = datetime(2026, 3, 6, tzinfo=timezone.utc)
    for order in ([payload(new, fetched=later), payload(old)], [payload(old), payload(new, fetched=later)]):
        assert PLATFORM.normalise(order, CONTEXT).records[0].fulfillment is F.ON_HOLD


def test_responses_of_2022_07_without_action_and_source_name_are_read():
    body = scenario_body("02-healthy-order")
    order = body["data"]["order"]
    del order["sourceName"]
    for node in order["events"]["nodes"]:
        del node["action"]
    order["legacyResourceId"] = int(order["legacyResourceId"])  # UnsignedInt64 as a number, not a string
    result = normalise(body)
    assert result.records[0].fulfillment is F.SHIPPED
    created = next(e for e in result.events if e.kind is EventKind.CREATED)
    assert created.origin is Origin.UNKNOWN
    logs = [e for e in result.events if e.id.startswith("shopify/event/")]
    assert logs and {e.kind for e in logs} == {EventKind.NOTE}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
                      "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
          "extensions": {"cost": {"requestedQueryCost": 761, "actualQueryCost": None,
                                  "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 12.0,
                                                     "restoreRate": 100.0}}}}, "THROTTLED"),
        ({"errors": [{"message": "Query cost is 1250, which exceeds the single query max cost limit (1000).",
                      "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1250, "maxCost": 1000}}]},
         "MAX_COST_EXCEEDED"),
        ({"data": {"order": None}, "errors": [{"message": "Access denied for order field.",
                                               "extensions": {"code": "ACCESS_DENIED"}}]}, "ACCESS_DENIED"),
    ],
    ids=["throttled", "max cost", "access denied"],
)
def test_a_graphql_error_without_data_is_a_payload_error_naming_the_code(body, code):
    assert PLATFORM.recognise(body) is not None
    with pytest.raises(PayloadError) as caught:
        normalise(body)
    assert code in str(caught.value) and ENDPOINT in str(caught.value) and "\n" not in str(caught.value)


def test_field_errors_beside_data_do_not_discard_the_order():
    body = scenario_body("01-classic-cascade")
    body["errors"] = [{"message": "Access denied for customer field.", "extensions": {"code": "ACCESS_DENIED"}}]
    assert normalise(body).records[0].ref == "#1042"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"data": {"order": None}}, "order"),
        ({"data": {"orders": {"nodes": []}}}, "orders search"),
        ({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}, "GraphQL error THROTTLED"),
        ({"errors": [{"code": "InvalidInput", "message": "Invalid input", "details": ""}]}, None),  # SP-API
        ({"payload": {"AmazonOrderId": "113-4519876-3382210"}}, None),
        ({"order": {"orderId": "113-4519876-3382210"}}, None),
        ({"items": [], "count": 0, "totalResults": 0}, None),  # NetSuite SuiteQL
        ([], None),
    ],
)
def test_recognise(body, kind):
    assert PLATFORM.recognise(body) == kind


@pytest.mark.parametrize(
    "text",
    ['{"data": {"order": ', "<html>502 Bad Gateway</html>", "", '{"data": {"shop": {"name": "x"}}}', "[1, 2]",
     '{"data": {"order": {"name": "#1"}}}', '{"data": {"orders": {"nodes": [{"id": 5}]}}}'],
)
def test_unreadable_bodies_are_one_line_payload_errors(text):
    with pytest.raises(PayloadError) as caught:
        PLATFORM.normalise([payload(text)], CONTEXT)
    message = str(caught.value)
    assert message.startswith(ENDPOINT) and "\n" not in message


# --- states beyond the scenarios -----------------------------------------------------------------


def shipped_twice(*, delivered: bool) -> dict:
    """Scenario 10's order split into two fulfillments (mugs, then the cap)."""
    body = scenario_body("10-quantity-mismatch")
    order = body["data"]["order"]
    first = order["fulfillments"][0]
    second = copy.deepcopy(first)
    first["fulfillmentLineItems"]["nodes"] = first["fulfillmentLineItems"]["nodes"][:1]
    second["fulfillmentLineItems"]["nodes"] = second["fulfillmentLineItems"]["nodes"][1:]
    second.update(id="gid://shopify/Fulfillment/1", legacyResourceId="1", name="#1051.2",
                  createdAt="2026-03-04T08:00:00Z", trackingInfo=[{"company": "USPS", "number": "9400 1000 0000 0000 0000 00"}])
    if delivered:
        first.update(deliveredAt="2026-03-05T10:00:00Z", displayStatus="DELIVERED")
        second.update(deliveredAt="2026-03-06T10:00:00Z", displayStatus="DELIVERED")
    order["fulfillments"].append(second)
    return body


def test_two_shipments_give_partial_then_shipped():
    result = normalise(shipped_twice(delivered=False))
    shipped = [e for e in result.events if e.kind is EventKind.SHIPPED]
    assert [e.fulfillment for e in shipped] == [F.PARTIAL, F.SHIPPED]
    assert result.records[0].tracking == {"1Z999AA10123456791", "9400100000000000000000"}


def test_delivery_of_every_shipment_makes_the_order_delivered():
    result = normalise(shipped_twice(delivered=True))
    delivered = [e for e in result.events if e.kind is EventKind.DELIVERED]
    assert [(e.at.raw, e.fulfillment) for e in delivered] == [
        ("2026-03-05T10:00:00Z", F.SHIPPED), ("2026-03-06T10:00:00Z", F.DELIVERED)]
    assert result.records[0].fulfillment is F.DELIVERED


def test_in_progress_with_a_successful_fulfillment_is_partial_and_cancelled_fulfillments_do_not_count():
    body = shipped_twice(delivered=False)
    order = body["data"]["order"]
    order["displayFulfillmentStatus"] = "IN_PROGRESS"
    order["fulfillments"][1].update(status="CANCELLED", displayStatus="CANCELED", updatedAt="2026-03-04T09:00:00Z")
    result = normalise(body)
    record = result.records[0]
    assert record.fulfillment is F.PARTIAL and record.tracking == {"1Z999AA10123456791"}
    assert {line.sku: line.shipped for line in record.lines} == {"MUG-BLK": 3, "CAP-NVY": 0}
    undone = [e for e in result.events if e.id == "shopify/fulfillment/1/status_changed"]
    assert len(undone) == 1 and undone[0].at.raw == "2026-03-04T09:00:00Z"


def test_removed_units_are_cancelled_unless_they_had_shipped():
    body = scenario_body("10-quantity-mismatch")  # 3 mugs + 1 cap, all shipped in one fulfillment
    order = body["data"]["order"]
    mug, cap = order["lineItems"]["nodes"]
    mug.update(quantity=4, currentQuantity=2)  # one mug edited off the order, one shipped mug returned and restocked
    cap.update(currentQuantity=0)  # the shipped cap returned
    lines = {line.sku: (line.ordered, line.shipped, line.cancelled) for line in normalise(body).records[0].lines}
    assert lines == {"MUG-BLK": (4, 3, 1), "CAP-NVY": (1, 1, 0)}


def test_refunds_give_partially_refunded_then_refunded():
    body = scenario_body("03-late-sync")
    transactions = body["data"]["order"]["transactions"]
    for n, (when, amount) in enumerate([("2026-03-04T10:00:00Z", "10.0"), ("2026-03-04T11:00:00Z", "15.0")], 2):
        transactions.append({**transactions[0], "id": f"gid://shopify/OrderTransaction/{n}", "kind": "REFUND",
                             "createdAt": when, "processedAt": when,
                             "amountSet": {"shopMoney": {"amount": amount, "currencyCode": "USD"}}})
    refunds = [e for e in normalise(body).events if e.kind is EventKind.REFUNDED]
    assert [e.financial for e in refunds] == [M.PARTIALLY_REFUNDED, M.REFUNDED]


def test_a_failed_transaction_is_only_a_note():
    body = scenario_body("01-classic-cascade")
    body["data"]["order"]["transactions"][0]["status"] = "FAILURE"
    events = [e for e in normalise(body).events if e.id.startswith("shopify/transaction/")]
    assert [(e.kind, e.financial) for e in events] == [(EventKind.NOTE, None)]


def test_a_person_in_the_event_log_is_a_person():
    body = scenario_body("01-classic-cascade")
    body["data"]["order"]["events"]["nodes"].append(
        {"id": "gid://shopify/CommentEvent/7", "action": "comment", "createdAt": "2026-03-04T10:00:00Z",
         "message": "<p>Customer asked about <b>delivery</b> &amp; returns</p>", "appTitle": None,
         "attributeToApp": False, "attributeToUser": True})
    (note,) = [e for e in normalise(body).events if e.id == "shopify/event/7/note"]
    assert note.origin is Origin.PERSON and note.detail == "Customer asked about delivery & returns"


def test_status_overrides_map_a_custom_value():
    body = scenario_body("01-classic-cascade")
    body["data"]["order"]["displayFulfillmentStatus"] = "AWAITING_3PL"
    plain = normalise(body).records[0]
    assert plain.fulfillment is F.UNKNOWN
    assert [(u.field, u.value, u.dimension) for u in plain.unmapped] == [
        ("order.displayFulfillmentStatus", "AWAITING_3PL", "fulfillment")]
    context = NormaliseContext(system=CONTEXT.system, status_overrides={"awaiting_3pl": StatusMapping(F.ON_HOLD)})
    overridden = normalise(body, context=context).records[0]
    assert overridden.fulfillment is F.ON_HOLD and overridden.unmapped == ()


@pytest.mark.parametrize(
    ("setting", "links"),
    [
        ("custom_attribute:Amazon Order ID", {"113-4519876-3382210"}),
        ("custom_attribute:amazon order id", {"113-4519876-3382210"}),
        ("source_identifier", {"113-4519876-3382210"}),
        ("name", {"#1042"}),
        ("tag", {"Amazon", "Marketplace Connect"}),
        ("tag:Amazon", set()),  # the tag "Amazon" less its prefix is empty: no link
        ("custom_attribute:Amazon Marketplace, name", {"Amazon.com", "#1042"}),
    ],
)
def test_marketplace_link_forms(setting, links):
    context = NormaliseContext(system=CONTEXT.system, marketplace_link=setting)
    assert normalise(scenario_body("01-classic-cascade"), context=context).records[0].links == links


def test_an_unknown_marketplace_link_form_is_refused():
    with pytest.raises(ThreetruthError, match="marketplace_link"):
        normalise(scenario_body("01-classic-cascade"),
                  context=NormaliseContext(system=CONTEXT.system, marketplace_link="metafield:amazon.id"))


# --- hostile input -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
order_keys = st.sampled_from(
    ["id", "name", "createdAt", "updatedAt", "cancelledAt", "displayFinancialStatus", "displayFulfillmentStatus",
     "lineItems", "fulfillments", "events", "transactions", "totalPriceSet", "customAttributes", "tags"]
)
shopify_like = st.builds(
    lambda order, wrap: wrap(order),
    st.dictionaries(order_keys, json_values, max_size=8).map(lambda d: {"id": "gid://shopify/Order/1", **d}),
    st.sampled_from([
        lambda o: {"data": {"order": o}},
        lambda o: {"data": {"orders": {"nodes": [o]}}},
        lambda o: {"data": {"orders": {"edges": [{"node": o}]}}},
        lambda o: {"errors": [o]},
    ]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, shopify_like))
def test_arbitrary_json_raises_nothing_but_payload_error(body):
    try:
        normalise(body)
    except PayloadError as error:
        assert "\n" not in str(error)


def leaf_paths(value, path=()):
    """Every path into a JSON value (objects and lists included), for mutating a real payload."""
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from leaf_paths(child, (*path, key))


REAL_BODIES = {slug: scenario_body(slug) for slug in ("05-cancel-vs-ship", "06-web-order-no-marketplace")}
REAL_PATHS = [(slug, path) for slug, body in REAL_BODIES.items() for path in leaf_paths(body) if path]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(REAL_PATHS), json_values, st.booleans())
def test_a_real_payload_with_any_value_replaced_raises_nothing_but_payload_error(target, value, drop):
    slug, path = target
    body = copy.deepcopy(REAL_BODIES[slug])
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        normalise(body)
    except PayloadError as error:
        assert "\n" not in str(error)


status_text = st.one_of(
    st.sampled_from(sorted({*statuses.ORDER_FULFILLMENT.entries, *statuses.ORDER_FINANCIAL.entries,
                            *statuses.FULFILLMENT_DISPLAY_STATUS.entries, *statuses.TRANSACTION_KIND.entries})),
    st.text(max_size=15),
)


@settings(max_examples=200, deadline=None)
@given(fulfillment=status_text, financial=status_text, shipment=status_text, display=status_text,
       kind=status_text, outcome=status_text)
def test_arbitrary_status_strings_give_unknown_and_unmapped(fulfillment, financial, shipment, display, kind, outcome):
    body = scenario_body("02-healthy-order")
    order = body["data"]["order"]
    order.update(displayFulfillmentStatus=fulfillment, displayFinancialStatus=financial)
    order["fulfillments"][0].update(status=shipment, displayStatus=display)
    order["transactions"][0].update(kind=kind, status=outcome)
    record = normalise(body).records[0]
    unmapped = {(u.field, u.value) for u in record.unmapped}
    if statuses.ORDER_FULFILLMENT.lookup(fulfillment) is None:
        assert record.fulfillment is F.UNKNOWN and ("order.displayFulfillmentStatus", fulfillment) in unmapped
    if statuses.ORDER_FINANCIAL.lookup(financial) is None:
        assert record.financial is M.UNKNOWN and ("order.displayFinancialStatus", financial) in unmapped
    if statuses.FULFILLMENT_STATUS.lookup(shipment) is None:
        assert ("order.fulfillments[0].status", shipment) in unmapped and record.tracking == frozenset()
    if statuses.FULFILLMENT_DISPLAY_STATUS.lookup(display) is None:
        assert ("order.fulfillments[0].displayStatus", display) in unmapped
    if kind and statuses.TRANSACTION_KIND.lookup(kind) is None:
        assert ("order.transactions[0].kind", kind) in unmapped
    if outcome and outcome.strip().upper() not in statuses.TRANSACTION_STATUSES:
        assert ("order.transactions[0].status", outcome) in unmapped


# --- the queries ---------------------------------------------------------------------------------


def test_queries_are_read_only():
    for name, text in queries.ALL_QUERIES.items():
        assert re.match(r"\s*query\s", text), name
        assert "mutation" not in text.casefold(), name


@functools.cache
def graphql_schema():
    graphql = pytest.importorskip("graphql", reason="graphql-core validates the queries against the schema")
    if not SCHEMA.exists():
        pytest.skip("shared/api-specs is not beside the repo")
    # The vendor's SDL breaks a rule newer graphql-core enforces on the schema itself (a deprecated
    # Node.id implementation); only the queries are under test here, so skip validating the schema.
    return graphql, graphql.build_schema(SCHEMA.read_text(), assume_valid=True)


def test_queries_validate_against_the_schema_but_for_the_newer_fields():
    graphql, schema = graphql_schema()
    newer = {f"Cannot query field '{field}' on type '{type_}'." for type_, field in queries.FIELDS_NEWER_THAN_SCHEMA}
    seen: set[str] = set()
    for name, text in queries.ALL_QUERIES.items():
        messages = {error.message for error in graphql.validate(schema, graphql.parse(text))}
        assert messages <= newer, name
        seen |= messages
    assert seen == newer  # every declared exception is really used


def selection_keys(graphql, document) -> dict:
    """The response shape a query asks for: {field: nested shape or None}, fragments inlined."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)}

    def walk(selection_set) -> dict:
        shape: dict = {}
        for node in selection_set.selections:
            if isinstance(node, graphql.FragmentSpreadNode):
                shape.update(walk(fragments[node.name.value].selection_set))
            elif isinstance(node, graphql.FieldNode):
                shape[node.name.value] = walk(node.selection_set) if node.selection_set else None
        return shape

    operation = next(d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode))
    return walk(operation.selection_set)


def assert_shape(value, shape, path):
    if shape is None or value is None:
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            assert_shape(item, shape, f"{path}[{index}]")
        return
    assert list(value) == list(shape), f"{path}: fields {list(value)} but the query asks {list(shape)}"
    for key, sub in shape.items():
        assert_shape(value[key], sub, f"{path}.{key}")


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f.slug)
def test_sample_payloads_are_exactly_what_order_by_id_returns(facts):
    graphql, schema = graphql_schema()
    shape = selection_keys(graphql, graphql.parse(queries.ORDER_BY_ID))
    body = scenario_body(facts.slug)
    assert set(body) == {"data", "extensions"}
    assert_shape(body["data"], shape, "data")
    enums = {name: schema_enum(name) for name in SCHEMA_ENUMS}
    order = body["data"]["order"]
    assert order["displayFulfillmentStatus"] in enums["OrderDisplayFulfillmentStatus"]
    assert order["displayFinancialStatus"] in enums["OrderDisplayFinancialStatus"]
    for fulfillment in order["fulfillments"]:
        assert fulfillment["status"] in enums["FulfillmentStatus"]
        assert fulfillment["displayStatus"] in enums["FulfillmentDisplayStatus"]
    for transaction in order["transactions"]:
        assert transaction["kind"] in enums["OrderTransactionKind"]
        assert transaction["status"] in enums["OrderTransactionStatus"]


def test_a_search_hit_never_read_in_full_is_not_a_record_when_other_orders_were():
    # The fetcher searched free text for a marketplace ref; two orders matched, it read the right one.
    right = scenario_body("01-classic-cascade")["data"]["order"]
    wrong = scenario_body("02-healthy-order")["data"]["order"]
    listing = {"data": {"orders": {"nodes": [right, wrong], "pageInfo": {"hasNextPage": False}}}}
    records = normalise(listing, {"data": {"order": right}}).records
    assert [r.ref for r in records] == [right["name"]]
    # A saved listing on its own still reads as the orders it holds.
    assert sorted(r.ref for r in normalise(listing).records) == sorted([right["name"], wrong["name"]])
