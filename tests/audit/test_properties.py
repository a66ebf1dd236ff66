"""Properties of the audit that must hold for any case, not just the ones we thought of."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.engine import audit_case
from audit.model import Case, EventKind, Financial, Fulfillment, Line, Presence
from audit.report import case_json

from .builders import at, ev, hold, rec

SYSTEMS = ("amazon", "shopify", "netsuite")
minutes = st.integers(min_value=-120, max_value=72 * 60)


@st.composite
def holdings(draw, system: str):
    presence = draw(st.sampled_from([Presence.PRESENT, Presence.PRESENT, Presence.ABSENT, Presence.NOT_FETCHED]))
    fetched = at(hours=draw(st.integers(min_value=1, max_value=96)))
    if presence is not Presence.PRESENT:
        return hold(system, presence=presence, fetched=fetched)
    count = draw(st.integers(min_value=1, max_value=2))
    records, events = [], []
    for index in range(count):
        ref = f"{system}-{index}"
        created = draw(minutes)
        records.append(
            rec(
                system,
                draw(st.sampled_from(list(Fulfillment))),
                draw(st.sampled_from(list(Financial))),
                ref=ref,
                created=at(created),
                lines=(Line("SKU", draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 1))),),
                tracking=frozenset(draw(st.lists(st.sampled_from(["1Z1", "1Z2"]), max_size=2))),
                total=draw(st.sampled_from(["10.00", "10.01", "12.00", None])),
            )
        )
        events.append(ev(system, EventKind.CREATED, at(created), ref=ref))
        for kind in draw(st.lists(st.sampled_from(list(EventKind)), max_size=4)):
            state = draw(st.none() | st.sampled_from(list(Fulfillment)))
            events.append(ev(system, kind, at(draw(minutes)), ref=ref, fulfillment=state))
    return hold(system, records, events, fetched=fetched)


@st.composite
def cases(draw):
    held = [draw(holdings(system)) for system in SYSTEMS]
    origins = [h.system.name for h in held if h.records] or ["amazon"]
    return Case(ref="CASE", origin=draw(st.sampled_from(origins)), holdings=tuple(held))


@settings(max_examples=300, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_the_order_systems_or_events_are_listed(case, random):
    shuffled = list(case.holdings)
    random.shuffle(shuffled)
    reordered = []
    for holding in shuffled:
        events = list(holding.events)
        random.shuffle(events)
        reordered.append(replace(holding, events=tuple(events)))
    as_of = at(hours=100)
    first, second = audit_case(case, as_of=as_of), audit_case(replace(case, holdings=tuple(reordered)), as_of=as_of)
    assert first.verdict == second.verdict
    assert case_json(first) == case_json(second)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_the_audit_is_deterministic_and_every_finding_is_explained(case):
    as_of = at(hours=100)
    first, second = audit_case(case, as_of=as_of), audit_case(case, as_of=as_of)
    assert first == second
    for finding in first.findings:
        assert finding.message
        assert finding.rule


SEVERITY = ["in_sync", "delay", "missing_handoff", "missing_record", "mismatch"]


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(min_value=1, max_value=72))
def test_waiting_never_makes_a_case_look_better(case, hours):
    earlier = audit_case(case, as_of=at(hours=100))
    later = audit_case(case, as_of=at(hours=100) + timedelta(hours=hours))
    assert SEVERITY.index(later.verdict.value) >= SEVERITY.index(earlier.verdict.value)
