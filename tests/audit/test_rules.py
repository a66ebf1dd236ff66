"""Every rule on hand-built cases, both sides of every threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from audit.engine import audit_case
from audit.model import EventKind, Financial, FindingKind, Fulfillment, Handoff, Line, Presence, UnmappedStatus, Verdict
from audit.settings import AuditSettings

from .builders import T0, at, day, ev, hold, rec

SHIP = 24 * 60  # minutes after T0 at which the ERP ships in the default stack


def stack(
    *,
    erp_created: float | None = 4,
    shopify_created: float | None = 2,
    erp_ship: float | None = SHIP,
    amazon_ship: float | None = SHIP + 5,
    shopify_ship: float | None = SHIP + 6,
    as_of_hours: float = 72,
    erp_absent: bool = False,
    tracking: dict[str, frozenset[str]] | None = None,
    lines: dict[str, tuple[Line, ...]] | None = None,
    totals: dict[str, str] | None = None,
    states: dict[str, Fulfillment] | None = None,
    extra_events: dict[str, list] | None = None,
    erp_ship_stamp=None,
):
    """A marketplace-born order held by Amazon, Shopify and NetSuite; each knob bends one fact."""
    tracking = tracking or {}
    lines = lines or {}
    totals = totals or {}
    states = states or {}
    extra_events = extra_events or {}
    fetched = at(hours=as_of_hours)
    created_at = {"amazon": 0, "shopify": shopify_created, "netsuite": erp_created}
    shipped_at = {"amazon": amazon_ship, "shopify": shopify_ship, "netsuite": erp_ship}
    holdings = []
    for system in ("amazon", "shopify", "netsuite"):
        if system == "netsuite" and erp_absent:
            holdings.append(hold("netsuite", presence=Presence.ABSENT, fetched=fetched))
            continue
        events = [ev(system, EventKind.CREATED, at(created_at[system]))]
        shipped = shipped_at[system] is not None
        if shipped:
            moment = erp_ship_stamp if (system == "netsuite" and erp_ship_stamp is not None) else at(shipped_at[system])
            events.append(ev(system, EventKind.SHIPPED, moment))
        events.extend(extra_events.get(system, []))
        state = states.get(system, Fulfillment.SHIPPED if shipped else Fulfillment.OPEN)
        default_lines = (Line("TEE-RED-M", 1, 1 if state in (Fulfillment.SHIPPED, Fulfillment.DELIVERED) else 0),)
        record = rec(
            system,
            state,
            Financial.PAID,
            created=at(created_at[system]),
            tracking=tracking.get(system, frozenset({"1Z1"}) if shipped else frozenset()),
            lines=lines.get(system, default_lines),
            total=totals.get(system, "24.99"),
        )
        holdings.append(hold(system, [record], events, fetched=fetched))
    from audit.model import Case

    return Case(ref="113-0000000-0000001", origin="amazon", holdings=tuple(holdings))


def rules_fired(case, **settings):
    return sorted({f.rule for f in audit_case(case, AuditSettings(**settings)).findings})


def result(case, **settings):
    return audit_case(case, AuditSettings(**settings))


def test_healthy_stack_is_in_sync():
    outcome = result(stack())
    assert outcome.verdict is Verdict.IN_SYNC
    assert outcome.findings == ()
    assert outcome.first_divergence is None


# --- thresholds, both sides ----------------------------------------------------------

THRESHOLDS = [
    # (description, stack knobs, expected rules, expected verdict)
    ("ERP import 14 min after the order: inside the sync tolerance", dict(erp_created=14), [], Verdict.IN_SYNC),
    ("ERP import 16 min after the order: a delay", dict(erp_created=16), ["sync-delay"], Verdict.DELAY),
    ("Amazon told 14 min after the ERP shipped", dict(amazon_ship=SHIP + 14), [], Verdict.IN_SYNC),
    ("Amazon told 16 min after the ERP shipped", dict(amazon_ship=SHIP + 16), ["sync-delay"], Verdict.DELAY),
    ("Amazon still open 23h59m after the ERP shipped", dict(amazon_ship=None, as_of_hours=24 + 23 + 59 / 60),
     ["sync-delay"], Verdict.DELAY),
    ("Amazon still open 24h01m after the ERP shipped", dict(amazon_ship=None, as_of_hours=48 + 1 / 60),
     ["missing-handoff"], Verdict.MISSING_HANDOFF),
    ("ERP absent 1h59m after the order: inside the grace period",
     dict(erp_absent=True, erp_ship=None, amazon_ship=None, shopify_ship=None, as_of_hours=1 + 59 / 60),
     ["missing-record"], Verdict.DELAY),
    ("ERP absent 2h01m after the order: a missing record",
     dict(erp_absent=True, erp_ship=None, amazon_ship=None, shopify_ship=None, as_of_hours=2 + 1 / 60),
     ["missing-record"], Verdict.MISSING_RECORD),
    ("Amazon shipped 4 min before the ERP fulfillment: clock skew", dict(erp_ship=SHIP + 9), [], Verdict.IN_SYNC),
    ("Amazon shipped 6 min before the ERP fulfillment: out of sequence", dict(erp_ship=SHIP + 11),
     ["out-of-sequence"], Verdict.MISMATCH),
    ("Amazon shipped and the ERP has no fulfillment at all",
     dict(erp_ship=None, shopify_ship=None), ["out-of-sequence"], Verdict.MISMATCH),
    ("totals differ by a cent: rounding", dict(totals={"netsuite": "25.00"}), [], Verdict.IN_SYNC),
    ("totals differ by two cents", dict(totals={"netsuite": "25.01"}), ["amount-mismatch"], Verdict.MISMATCH),
    ("tracking differs once both shipped", dict(tracking={"shopify": frozenset({"1Z2"})}),
     ["tracking-mismatch"], Verdict.MISMATCH),
    ("tracking missing in a system that says shipped", dict(tracking={"amazon": frozenset()}),
     ["tracking-mismatch"], Verdict.MISMATCH),
]


@pytest.mark.parametrize("description, knobs, expected_rules, expected_verdict", THRESHOLDS, ids=[t[0] for t in THRESHOLDS])
def test_threshold(description, knobs, expected_rules, expected_verdict):
    outcome = result(stack(**knobs))
    assert sorted({f.rule for f in outcome.findings}) == expected_rules
    assert outcome.verdict is expected_verdict


def test_thresholds_come_from_settings():
    late = stack(amazon_ship=SHIP + 40)
    assert rules_fired(late) == ["sync-delay"]
    assert rules_fired(late, sync_tolerance=timedelta(hours=1)) == []


def test_delay_carries_its_latency_and_handoff():
    outcome = result(stack(amazon_ship=SHIP + 280))
    (finding,) = outcome.findings
    assert finding.latency == timedelta(minutes=280)
    assert finding.handoff == Handoff("netsuite", "amazon")
    assert "4h40m" in finding.message


def test_out_of_sequence_is_reported_against_the_stray_direction_and_not_as_a_delay():
    # ERP fulfils 4h38m after Amazon said shipped; Shopify hears from the ERP in time.
    outcome = result(stack(erp_ship=SHIP + 4 * 60 + 38, shopify_ship=SHIP + 4 * 60 + 40))
    assert [f.rule for f in outcome.findings] == ["out-of-sequence"]
    assert outcome.first_divergence.handoff == Handoff("amazon", "netsuite")
    assert outcome.first_divergence.system == "amazon"
    assert outcome.first_divergence.event is EventKind.SHIPPED
    assert "a mismatch, not a delay" in outcome.findings[0].message


def test_date_only_erp_fulfillment_on_the_same_local_day_is_not_out_of_sequence():
    # ERP knows the fulfillment only as a Los Angeles date; Amazon shipped that evening LA time.
    amazon_ship = T0.replace(day=3, hour=1, minute=15) + timedelta(days=1)  # 2026-03-04T01:15Z = 3 March in LA
    minutes = (amazon_ship - T0).total_seconds() / 60
    outcome = result(stack(erp_ship=0, erp_ship_stamp=day("2026-03-03", "America/Los_Angeles"),
                           amazon_ship=minutes, shopify_ship=minutes + 5))
    assert outcome.findings == ()


def test_date_only_erp_fulfillment_a_day_after_amazon_shipped_is_out_of_sequence():
    outcome = result(stack(erp_ship=0, erp_ship_stamp=day("2026-03-05", "America/Los_Angeles")))
    assert [f.rule for f in outcome.findings] == ["out-of-sequence", "out-of-sequence"]  # Amazon and Shopify


# --- state conflicts ------------------------------------------------------------------


def test_cancelled_versus_shipped_is_a_state_conflict_not_a_missing_handoff():
    cancel = ev("amazon", EventKind.CANCELLED, at(60))
    relayed = ev("shopify", EventKind.CANCELLED, at(64))
    outcome = result(stack(amazon_ship=None, shopify_ship=None,
                           states={"amazon": Fulfillment.CANCELLED, "shopify": Fulfillment.CANCELLED},
                           extra_events={"amazon": [cancel], "shopify": [relayed]}))
    assert [f.rule for f in outcome.findings] == ["state-conflict", "state-conflict"]
    assert outcome.first_divergence.handoff == Handoff("amazon", "netsuite")
    assert outcome.first_divergence.event_id == cancel.id


def test_cancel_not_yet_in_the_erp_is_a_handoff_problem_not_a_conflict():
    cancel = ev("amazon", EventKind.CANCELLED, at(60))
    fresh = stack(erp_ship=None, amazon_ship=None, shopify_ship=None, states={"amazon": Fulfillment.CANCELLED},
                  extra_events={"amazon": [cancel]}, as_of_hours=2)
    stale = replace(fresh, holdings=tuple(replace(h, fetched_at=at(hours=30)) for h in fresh.holdings))
    assert rules_fired(fresh) == ["sync-delay"]
    assert rules_fired(stale) == ["missing-handoff"]


def test_refunded_versus_paid_and_open():
    def refunded_case(refund_minutes_before_fetch: float):
        fetch_hours = 10
        refund = ev("amazon", EventKind.REFUNDED, at(hours=fetch_hours) - timedelta(minutes=refund_minutes_before_fetch))
        base = stack(erp_ship=None, amazon_ship=None, shopify_ship=None, as_of_hours=fetch_hours)
        holdings = []
        for h in base.holdings:
            if h.system.name == "amazon":
                h = replace(h, records=(replace(h.records[0], financial=Financial.REFUNDED),), events=h.events + (refund,))
            holdings.append(h)
        return replace(base, holdings=tuple(holdings))

    assert rules_fired(refunded_case(30)) == ["state-conflict"]
    assert rules_fired(refunded_case(10)) == []


# --- quantities -----------------------------------------------------------------------


def test_shipped_quantities_that_differ_once_settled_are_a_mismatch():
    outcome = result(stack(lines={"amazon": (Line("MUG-BLK", 3, 3),), "netsuite": (Line("MUG-BLK", 3, 2, 1),),
                                  "shopify": (Line("MUG-BLK", 3, 2, 1),)}))
    assert [f.rule for f in outcome.findings] == ["quantity-mismatch"]
    assert "MUG-BLK shipped 2 in netsuite, 3 in amazon" in outcome.findings[0].message


def test_quantities_of_a_system_still_behind_are_lag_not_a_mismatch():
    outcome = result(stack(amazon_ship=None, as_of_hours=30, lines={"amazon": (Line("TEE-RED-M", 1, 0),)}))
    assert rules_fired(stack(amazon_ship=None, as_of_hours=30)) == ["sync-delay"]
    assert "quantity-mismatch" not in {f.rule for f in outcome.findings}


def test_ordered_quantities_that_differ_are_a_mismatch_at_import():
    lines = {"netsuite": (Line("TEE-RED-M", 2, 2),)}
    assert "quantity-mismatch" in rules_fired(stack(lines=lines))


# --- duplicates, regressions, unknowns -----------------------------------------------


def test_two_records_in_one_system_are_a_duplicate():
    base = stack(erp_ship=None, amazon_ship=None, shopify_ship=None, as_of_hours=3)
    holdings = []
    for h in base.holdings:
        if h.system.name == "netsuite":
            second = rec("netsuite", ref="SO2", created=at(35))
            h = replace(h, records=h.records + (second,), events=h.events + (ev("netsuite", EventKind.CREATED, at(35), ref="SO2"),))
        holdings.append(h)
    outcome = result(replace(base, holdings=tuple(holdings)))
    assert [f.rule for f in outcome.findings] == ["duplicate-record"]
    assert outcome.first_divergence.handoff == Handoff("amazon", "netsuite")
    assert outcome.first_divergence.at == at(35)


def test_status_moving_backward_without_cancel_is_a_regression():
    forward = ev("netsuite", EventKind.STATUS_CHANGED, at(SHIP), fulfillment=Fulfillment.SHIPPED)
    backward = ev("netsuite", EventKind.STATUS_CHANGED, at(SHIP + 360), fulfillment=Fulfillment.OPEN)
    outcome = result(stack(erp_ship=None, states={"netsuite": Fulfillment.OPEN},
                           extra_events={"netsuite": [forward, backward]}))
    assert [f.rule for f in outcome.findings] == ["status-regression"]
    assert outcome.first_divergence.handoff is None
    assert outcome.first_divergence.event_id == backward.id


def test_status_moving_backward_after_a_cancel_is_not_a_regression():
    forward = ev("netsuite", EventKind.STATUS_CHANGED, at(SHIP), fulfillment=Fulfillment.SHIPPED)
    cancel = ev("netsuite", EventKind.CANCELLED, at(SHIP + 60))
    backward = ev("netsuite", EventKind.STATUS_CHANGED, at(SHIP + 360), fulfillment=Fulfillment.OPEN)
    case = stack(erp_ship=None, states={"netsuite": Fulfillment.OPEN}, extra_events={"netsuite": [forward, cancel, backward]})
    assert "status-regression" not in rules_fired(case)


def test_unmapped_status_is_listed_but_does_not_set_the_verdict():
    base = stack()
    holdings = []
    for h in base.holdings:
        if h.system.name == "netsuite":
            odd = replace(h.records[0], unmapped=(UnmappedStatus("orderStatus", "Y", "fulfillment"),))
            h = replace(h, records=(odd,))
        holdings.append(h)
    outcome = result(replace(base, holdings=tuple(holdings)))
    assert [(f.rule, f.kind) for f in outcome.findings] == [("unmapped-status", FindingKind.UNKNOWN)]
    assert outcome.verdict is Verdict.IN_SYNC
    assert outcome.first_divergence is None
    assert "'Y'" in outcome.findings[0].message


def test_invoice_before_any_shipment_is_out_of_sequence():
    invoice = ev("netsuite", EventKind.INVOICED, at(60))
    outcome = result(stack(erp_ship=None, amazon_ship=None, shopify_ship=None, as_of_hours=5,
                           extra_events={"netsuite": [invoice]}))
    assert [f.rule for f in outcome.findings] == ["out-of-sequence"]
    assert outcome.first_divergence.handoff is None


def test_invoice_after_shipping_is_fine():
    invoice = ev("netsuite", EventKind.INVOICED, at(SHIP + 30))
    assert rules_fired(stack(extra_events={"netsuite": [invoice]})) == []


def test_erp_fulfillment_before_its_sales_order_is_out_of_sequence():
    early = ev("netsuite", EventKind.FULFILLMENT_CREATED, at(-30))
    assert "out-of-sequence" in rules_fired(stack(extra_events={"netsuite": [early]}))


# --- verdict and first divergence -----------------------------------------------------


def test_verdict_precedence_mismatch_beats_everything():
    outcome = result(stack(erp_created=30, totals={"shopify": "30.00"}))
    assert {f.kind for f in outcome.findings} == {FindingKind.DELAY, FindingKind.MISMATCH}
    assert outcome.verdict is Verdict.MISMATCH


def test_first_divergence_skips_an_earlier_delay_when_something_worse_happened():
    outcome = result(stack(erp_created=30, erp_ship=None, shopify_ship=None))
    assert outcome.first_divergence.rule == "out-of-sequence"


def test_as_of_defaults_to_the_newest_fetch_and_can_be_given():
    late = stack(amazon_ship=None, as_of_hours=30)
    assert result(late).verdict is Verdict.DELAY
    assert audit_case(late, AuditSettings(), as_of=at(hours=60)).verdict is Verdict.MISSING_HANDOFF


def test_storefront_born_order_needs_no_marketplace():
    shop_record, erp_record = rec("shopify", created=at(0)), rec("netsuite", created=at(5))
    from audit.model import Case

    case = Case("#1001", "shopify", (
        hold("shopify", [shop_record], [ev("shopify", EventKind.CREATED, at(0))], fetched=at(hours=5)),
        hold("netsuite", [erp_record], [ev("netsuite", EventKind.CREATED, at(5))], fetched=at(hours=5)),
        hold("amazon", presence=Presence.ABSENT, fetched=at(hours=5)),
    ))
    assert audit_case(case).verdict is Verdict.IN_SYNC


def test_a_system_never_asked_is_not_reported_missing():
    case = stack(erp_absent=True, erp_ship=None, amazon_ship=None, shopify_ship=None, as_of_hours=10)
    not_asked = replace(case, holdings=tuple(
        replace(h, presence=Presence.NOT_FETCHED) if h.system.name == "netsuite" else h for h in case.holdings
    ))
    assert rules_fired(case) == ["missing-record"]
    assert rules_fired(not_asked) == []
