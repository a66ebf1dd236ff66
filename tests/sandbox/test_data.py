"""Sample loading and bulk generation: re-keyed consistently across the three platforms."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sandbox.data import Dataset, shift_times

LA = ZoneInfo("America/Los_Angeles")


def test_samples_load_every_scenario_with_its_requests(samples):
    assert len(samples.cases) == 16
    case = next(c for c in samples.cases if c.name == "02-healthy-order")
    assert set(case.files) == {
        "amazon/getOrder.json", "shopify/order.json", "netsuite/suiteql-transactions.json",
        "netsuite/salesOrder-20483.json", "netsuite/itemFulfillment-20533.json", "netsuite/invoice-20601.json",
    }
    assert case.requests["netsuite/salesOrder-20483.json"].startswith("GET /services/rest/record/v1/salesOrder/20483")
    assert case.meta["expected"]["verdict"] == "in_sync"
    names = [name for name, _ in samples.files_for("netsuite")]
    assert "02-healthy-order/netsuite/salesOrder-20483.json" in names
    assert all(name.split("/")[1] == "netsuite" for name in names)


@pytest.fixture(scope="module")
def generated():
    return Dataset.generate(3, seed=7, window_days=30)


def _text(case) -> str:
    return json.dumps(case.files, sort_keys=True) + json.dumps(case.requests)


def test_generation_is_deterministic_and_seeded(generated):
    again = Dataset.generate(3, seed=7, window_days=30)
    assert [_text(c) for c in again.cases] == [_text(c) for c in generated.cases]
    other = Dataset.generate(3, seed=8, window_days=30)
    assert [_text(c) for c in other.cases] != [_text(c) for c in generated.cases]
    assert len(generated.cases) == 48 and len({c.name for c in generated.cases}) == 48


def test_no_sample_identifier_survives_in_a_copy(samples, generated):
    sample_text = "".join(_text(c) for c in samples.cases)
    old_ids = set(re.findall(r"\d{3}-\d{7}-\d{7}", sample_text))
    old_ids |= set(re.findall(r"gid://shopify/\w+/\d+", sample_text))
    old_ids |= set(re.findall(r"1Z[0-9A-Z]{16}", sample_text))
    old_ids |= set(re.findall(r'"(?:SO|IF-|INV-)\d+"', sample_text))
    for case in generated.cases:
        text = _text(case)
        assert not [i for i in old_ids if i in text], case.name


def test_identifiers_are_unique_across_copies(generated):
    per_copy: dict[str, set[str]] = {}
    for case in generated.cases:
        for amazon_id in set(re.findall(r"\d{3}-\d{7}-\d{7}", _text(case))):
            per_copy.setdefault(amazon_id, set()).add(case.name)
    assert all(len(cases) == 1 for cases in per_copy.values())
    gids = [json.loads(json.dumps(c.files["shopify/order.json"]))["data"]["order"]["id"]
            for c in generated.cases if "shopify/order.json" in c.files]
    assert len(gids) == len(set(gids))


def test_a_copy_links_the_same_new_ids_across_platforms(generated):
    for case in (c for c in generated.cases if c.scenario == "02-healthy-order"):
        amazon_id = case.files["amazon/getOrder.json"]["order"]["orderId"]
        assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", amazon_id)
        order = case.files["shopify/order.json"]["data"]["order"]
        attributes = {a["key"]: a["value"] for a in order["customAttributes"]}
        assert attributes["Amazon Order ID"] == amazon_id == order["sourceIdentifier"]
        assert re.fullmatch(r"#\d+", order["name"])
        assert order["legacyResourceId"] == order["id"].rsplit("/", 1)[1]
        rows = case.files["netsuite/suiteql-transactions.json"]["items"]
        sales_order = next(r for r in rows if r["type"] == "SalesOrd")
        assert sales_order["otherrefnum"] == amazon_id
        record = case.files[f"netsuite/salesOrder-{sales_order['id']}.json"]
        assert record["otherRefNum"] == amazon_id and record["tranId"] == sales_order["tranid"]
        assert all(r.get("createdfrom", sales_order["id"]) == sales_order["id"] for r in rows)
        tracking = case.files["amazon/getOrder.json"]["order"]["packages"][0]["trackingNumber"]
        assert order["fulfillments"][0]["trackingInfo"][0]["number"] == tracking
        assert tracking in order["fulfillments"][0]["trackingInfo"][0]["url"]
        assert f"/salesOrder/{sales_order['id']}?" in case.requests[f"netsuite/salesOrder-{sales_order['id']}.json"]


def test_the_storefront_name_moves_into_netsuite_for_a_web_order(generated):
    for case in (c for c in generated.cases if c.scenario == "06-web-order-no-marketplace"):
        name = case.files["shopify/order.json"]["data"]["order"]["name"]
        rows = case.files["netsuite/suiteql-transactions.json"]["items"]
        assert next(r for r in rows if r["type"] == "SalesOrd")["otherrefnum"] == name


def test_a_transposed_tracking_number_stays_a_transposition(generated):
    for case in (c for c in generated.cases if c.scenario == "11-tracking-mismatch"):
        shop = case.files["shopify/order.json"]["data"]["order"]["fulfillments"][0]["trackingInfo"][0]["number"]
        amazon = case.files["amazon/getOrder.json"]["order"]["packages"][0]["trackingNumber"]
        assert shop != amazon and shop[:-2] == amazon[:-2] and shop[-2:] == amazon[-2:][::-1]


def test_times_spread_over_the_window_and_stay_consistent(samples, generated):
    shifts = sorted({c.day_shift for c in generated.cases})
    assert shifts == [-20, -10, 0]
    base = next(c for c in samples.cases if c.scenario == "07-timezone-trap")
    for case in (c for c in generated.cases if c.scenario == "07-timezone-trap"):
        record = next(v for k, v in case.files.items() if k.startswith("netsuite/salesOrder-"))
        created = datetime.fromisoformat(record["createdDate"].replace("Z", "+00:00"))
        # The date-only tranDate is still the Los Angeles date of the creation instant.
        assert record["tranDate"] == created.astimezone(LA).date().isoformat()
        rows = case.files["netsuite/suiteql-transactions.json"]["items"]
        so = next(r for r in rows if r["type"] == "SalesOrd")
        assert so["createddate"] == created.astimezone(LA).strftime("%Y-%m-%d %H:%M:%S")
        month, day, year = map(int, so["trandate"].split("/"))
        assert date(year, month, day).isoformat() == record["tranDate"]
        old = base.files["amazon/getOrder.json"]["order"]["createdTime"]
        new = case.files["amazon/getOrder.json"]["order"]["createdTime"]
        delta = datetime.fromisoformat(new.replace("Z", "+00:00")) - datetime.fromisoformat(old.replace("Z", "+00:00"))
        assert delta.days == case.day_shift and delta.seconds == 0
        # The API version in a request path is not a date.
        assert "/orders/2026-01-01/orders/" in case.requests["amazon/getOrder.json"]


def test_anchor_moves_the_latest_copy_to_the_anchor_day():
    dataset = Dataset.generate(2, seed=1, anchor=date(2026, 11, 20), window_days=10)
    assert {c.day_shift for c in dataset.cases} == {260, 255}
    latest = max(c.meta["fetched_at"] for c in dataset.cases)
    assert latest.date() == date(2026, 11, 20)


@pytest.mark.parametrize(
    "text, days, expected",
    [
        ("2026-03-02T09:15:00Z", 1, "2026-03-03T09:15:00Z"),
        ("2026-03-02", -2, "2026-02-28"),
        ("3/2/2026", 30, "4/1/2026"),
        # A local NetSuite time across the DST change: moved as an instant, rendered in LA.
        ("2026-03-07 10:00:00", 2, "2026-03-09 11:00:00"),
        ("GET /orders/2026-01-01/orders?createdAfter=2026-03-03T08:00:00Z", 1,
         "GET /orders/2026-01-01/orders?createdAfter=2026-03-04T08:00:00Z"),
        ("no time here 12345", 5, "no time here 12345"),
    ],
)
def test_shift_times(text, days, expected):
    assert shift_times(text, days) == expected
