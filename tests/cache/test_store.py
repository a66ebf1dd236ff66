"""The cache: round trips, atomic writes, re-imports and migrations."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from adapters.base import make_payload
from audit.engine import audit_case
from audit.model import EventKind, Fulfillment, Line, Presence
from cache.schema import MIGRATIONS, known_migrations
from cache.store import Cache, CacheError

from ..audit.builders import at, ev, hold, rec

ROOT = Path(__file__).resolve().parents[2]


def sample_case(status: Fulfillment = Fulfillment.OPEN, ref: str = "113-0000000-0000001"):
    amazon = rec("amazon", status, ref=ref, lines=(Line("TEE-RED-M", 2, 1, 0, "orderItems[0]"),), tracking=frozenset({"1Z1"}))
    events = [ev("amazon", EventKind.CREATED, at(0), ref=ref), ev("amazon", EventKind.SHIPPED, at(60), ref=ref, fulfillment=status)]
    netsuite = rec("netsuite", ref="SO1")
    from audit.model import Case

    case = Case(ref, "amazon", (
        hold("amazon", [amazon], events, fetched=at(hours=5)),
        hold("netsuite", [netsuite], [ev("netsuite", EventKind.CREATED, at(4))], fetched=at(hours=5)),
        hold("shopify", presence=Presence.ABSENT, fetched=at(hours=5)),
    ))
    payloads = [make_payload("amazon", "GET /orders/2026-01-01/orders/x", at(hours=5), '{"order": {"orderId": "x"}}')]
    return case, payloads


@pytest.fixture
def cache(tmp_path):
    with Cache.open(tmp_path / "cache.db") as opened:
        yield opened


def test_a_case_round_trips_exactly(cache):
    case, payloads = sample_case()
    cache.write_case(case, payloads)
    assert cache.load_case(case.ref) == case
    assert cache.payloads(case.ref) == payloads


def test_streaming_every_case_matches_loading_each(cache):
    written = [sample_case(ref=f"113-0000000-000000{i}")[0] for i in range(5)]
    for case in written:
        cache.write_case(case, [])
    assert list(cache.iter_cases()) == written
    assert [cache.load_case(c.ref) for c in written] == written


def test_the_cache_is_in_wal_mode_with_the_current_schema(cache):
    assert cache.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cache.schema_steps == [m.name for m in MIGRATIONS.pending(Database(memory=True))]


def test_importing_the_same_case_twice_changes_nothing(cache):
    case, payloads = sample_case()
    cache.write_case(case, payloads)
    dump_before = list(cache.db.conn.iterdump())
    cache.write_case(case, payloads)
    assert list(cache.db.conn.iterdump()) == dump_before


def test_writing_one_system_keeps_what_the_others_hold(cache):
    case, payloads = sample_case()
    cache.write_case(case, payloads)
    amazon_only = replace(case, holdings=tuple(h for h in case.holdings if h.system.name == "amazon"))
    cache.write_case(amazon_only, [])
    stored = cache.load_case(case.ref)
    assert {h.system.name for h in stored.holdings} == {"amazon", "netsuite", "shopify"}
    assert cache.payloads(case.ref) == []  # amazon's payloads were replaced by the (empty) new set


def test_a_failed_write_leaves_the_previous_state_intact(cache):
    case, payloads = sample_case(Fulfillment.OPEN)
    cache.write_case(case, payloads)
    before = cache.load_case(case.ref)
    # A line with no SKU violates NOT NULL after the old rows were deleted and half the new ones written.
    broken_record = replace(case.holdings[0].records[0], lines=(Line(None, 1),))  # type: ignore[arg-type]
    broken = replace(case, holdings=(replace(case.holdings[0], records=(broken_record,)), *case.holdings[1:]))
    with pytest.raises(Exception, match="NOT NULL"):
        cache.write_case(broken, payloads)
    assert cache.load_case(case.ref) == before


def test_a_process_killed_mid_write_leaves_the_previous_state_intact(tmp_path):
    path = tmp_path / "cache.db"
    case, payloads = sample_case(Fulfillment.OPEN)
    with Cache.open(path) as cache:
        cache.write_case(case, payloads)
        before = cache.load_case(case.ref)
    # The child deletes the old rows, starts inserting, and dies without a commit or a rollback.
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from cache.store import Cache
        from tests.cache.test_store import sample_case
        from audit.model import Fulfillment
        cache = Cache.open({str(path)!r})
        class Dying:
            def __init__(self, conn): self.conn = conn
            def __getattr__(self, name): return getattr(self.conn, name)
            def executemany(self, sql, rows):
                if sql.startswith("INSERT INTO records"):
                    os._exit(9)
                return self.conn.executemany(sql, rows)
        cache.db.conn = Dying(cache.db.conn)
        case, payloads = sample_case(Fulfillment.SHIPPED)
        cache.write_case(case, payloads)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    with Cache.open(path) as cache:
        assert cache.load_case(case.ref) == before


def test_saved_results_are_listed_and_filtered(cache):
    shipped, _ = sample_case(Fulfillment.SHIPPED, ref="113-0000000-0000001")
    opened, _ = sample_case(Fulfillment.OPEN, ref="113-0000000-0000002")
    for case in (shipped, opened):
        cache.write_case(case, [])
    results = [audit_case(c) for c in cache.iter_cases()]
    cache.save_results(results, "key")
    rows = {row.ref: row for row in cache.list_cases()}
    assert rows["113-0000000-0000001"].verdict == results[0].verdict.value
    assert cache.case_refs(stale_for="key") == []
    assert cache.case_refs(stale_for="other") == sorted(rows)
    by_verdict = cache.list_cases(verdict=results[1].verdict.value)
    assert "113-0000000-0000002" in {r.ref for r in by_verdict}
    assert {r.ref for r in cache.list_cases(system="netsuite")} == set(rows)
    # The same data again keeps the verdict; new data makes it stale.
    cache.write_case(shipped, [])
    assert cache.case_refs(stale_for="key") == []
    cache.write_case(sample_case(Fulfillment.DELIVERED, ref="113-0000000-0000001")[0], [])
    assert cache.case_refs(stale_for="key") == ["113-0000000-0000001"]


def test_find_case_by_any_systems_ref(cache):
    case, _ = sample_case()
    cache.write_case(case, [])
    assert cache.find_case("SO1") == case.ref
    assert cache.find_case(case.ref) == case.ref
    assert cache.find_case("nope") is None


def test_an_older_schema_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="m002_finding_advice_and_settings")
    db.execute("INSERT INTO systems VALUES ('amazon', 'marketplace', 'amazon')")
    db.execute(
        "INSERT INTO cases(ref, origin, created_at, written_at, verdict) VALUES ('113-1', 'amazon', NULL, ?, 'delay')",
        [at(0).isoformat()],
    )
    db.execute("INSERT INTO findings VALUES ('113-1', 0, 'sync-delay', 'delay', NULL, NULL, NULL, '[]', 'late', 60)")
    db.conn.commit()
    db.close()
    with Cache.open(path) as cache:
        assert cache.schema_steps == list(known_migrations())
        assert [r.ref for r in cache.list_cases()] == ["113-1"]
        assert cache.list_cases()[0].verdict is None  # stale: recomputed by the next audit
        row = cache.db.execute("SELECT message, check_next FROM findings").fetchone()
        assert row == ("late", "")


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "new.db"
    with Cache.open(path) as cache:
        cache.db["_sqlite_migrations"].insert(
            {"migration_set": "threetruth", "name": "m999_from_the_future", "applied_at": "2030-01-01"}
        )
    with pytest.raises(CacheError, match="newer threetruth"):
        Cache.open(path)


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(CacheError, match="not a threetruth cache"):
        Cache.open(path)
    assert path.read_bytes().startswith(b"these are my notes")


def test_listing_by_time_uses_an_index(cache):
    plan = cache.db.execute("EXPLAIN QUERY PLAN SELECT ref FROM cases WHERE verdict = ? ORDER BY created_at DESC", ["delay"]).fetchall()
    assert any("cases_by_verdict" in str(step) for step in plan)


def test_fetch_times_survive(cache):
    case, payloads = sample_case()
    cache.write_case(case, payloads)
    assert cache.load_case(case.ref).newest_fetch == at(hours=5)
    assert cache.payloads(case.ref)[0].fetched_at == at(hours=5)
