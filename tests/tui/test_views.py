"""The windowed, read-only queries behind the case list."""

from __future__ import annotations

import sqlite3

import pytest

from cache.views import NOT_AUDITED, CaseFilter, CaseViews, ViewError


@pytest.fixture
def views(sample_db):
    views = CaseViews(sample_db)
    yield views
    views.close()


def everything(views: CaseViews, view: CaseFilter) -> list[int]:
    return [rowid for batch in views.scan(view, first=3, batch=5) for rowid in batch]


def test_counts_per_verdict_add_up_to_every_case(views):
    counts = views.verdict_counts()
    assert sum(counts.values()) == views.total() == 16
    assert counts["mismatch"] == 8 and counts["in_sync"] == 4 and counts[NOT_AUDITED] == 0


def test_the_scan_lists_every_case_once_newest_first(views):
    rowids = everything(views, CaseFilter())
    assert len(rowids) == len(set(rowids)) == 16
    lines = views.window(rowids)
    born = [line.created_at for line in lines]
    assert born == sorted(born, reverse=True)


def test_filters_select_by_verdict_system_and_rule(views):
    mismatches = views.window(everything(views, CaseFilter(verdicts=frozenset({"mismatch"}))))
    assert len(mismatches) == 8 and {line.verdict for line in mismatches} == {"mismatch"}
    two = everything(views, CaseFilter(verdicts=frozenset({"mismatch", "delay"})))
    assert len(two) == 10
    # amazon holds no record of the web order #1187: "held by amazon" leaves it out
    held = views.window(everything(views, CaseFilter(system="amazon")))
    assert "#1187" not in {line.ref for line in held} and len(held) == 15
    tracking = views.window(everything(views, CaseFilter(rule="tracking-mismatch")))
    assert [line.ref for line in tracking] == ["113-4455667-1122334"]


def test_sorting_by_severity_puts_the_worst_first(views):
    lines = views.window(everything(views, CaseFilter(sort="severity")))
    order = ["mismatch", "missing_record", "missing_handoff", "delay", "in_sync"]
    ranks = [order.index(line.verdict) for line in lines]
    assert ranks == sorted(ranks)


def test_sorting_by_ref(views):
    refs = [line.ref for line in views.window(everything(views, CaseFilter(sort="ref")))]
    assert refs == sorted(refs)


def test_a_window_carries_each_systems_refs_and_presence(views):
    rowid = views.locate("113-4519876-3382210")[1]
    (line,) = views.window([rowid])
    holders = {h.system: h for h in line.holders}
    assert holders["netsuite"].refs == ("SO10482",) and holders["shopify"].refs == ("#1042",)
    assert line.divergence_rule == "out-of-sequence" and line.divergence_from == "amazon"
    web = views.window([views.locate("#1187")[1]])[0]
    assert {h.system: h.presence for h in web.holders}["amazon"] == "absent"


def test_locate_finds_a_case_by_any_systems_ref_or_id(views):
    assert views.locate("SO10482")[0] == "113-4519876-3382210"
    assert views.locate("1042")[0] == "113-4519876-3382210"  # a Shopify name without its '#'
    assert views.locate("20482")[0] == "113-4519876-3382210"  # a NetSuite internal id
    assert views.locate("nothing-like-this") is None


def test_a_corrupt_row_becomes_an_error_line_and_the_rest_still_read(cache_path):
    conn = sqlite3.connect(cache_path)
    conn.execute("UPDATE cases SET created_at = 'yesterday-ish', verdict = 'bogus' WHERE ref = '#1187'")
    conn.commit()
    conn.close()
    views = CaseViews(cache_path)
    lines = views.window(everything(views, CaseFilter(sort="ref")))
    broken = [line for line in lines if line.error]
    assert [line.ref for line in broken] == ["#1187"] and "unreadable" in broken[0].error
    assert sum(1 for line in lines if not line.error) == 15
    views.close()


def test_views_refuse_a_missing_file(tmp_path):
    with pytest.raises(ViewError):
        CaseViews(tmp_path / "nope.db")


def test_views_never_write(sample_db):
    views = CaseViews(sample_db)
    with views._connection() as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM cases")
    views.close()
