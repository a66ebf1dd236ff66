"""Auditing the cache in slices, one process each: the same result as one process, from any thread."""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import replace

import pytest

from cache.store import Cache
from tui.auditing import audit_cache
from tui.config import load_config
from tui.ingest import bundled_scenarios, import_paths


@pytest.fixture
def cache_path(tmp_path):
    path = tmp_path / "cache.db"
    config = replace(load_config(None, {}), cache_path=path)
    with Cache.open(path) as cache:
        assert not import_paths([bundled_scenarios()], config, cache).problems
    return path


def stored_verdicts(path) -> list[tuple]:
    with Cache.open(path) as cache:
        cases = cache.db.execute("SELECT ref, verdict, finding_count, divergence_rule FROM cases ORDER BY ref").fetchall()
        findings = cache.db.execute("SELECT case_ref, seq, rule, message FROM findings ORDER BY case_ref, seq").fetchall()
        cache.db.execute("UPDATE cases SET verdict = NULL")
        cache.db.conn.commit()
    return cases + findings


def test_slices_in_two_processes_give_what_one_process_gives(cache_path):
    settings = load_config(None, {}).audit
    alone = audit_cache(str(cache_path), settings, fmt="json", jobs=1)
    one = stored_verdicts(cache_path)
    sliced = audit_cache(str(cache_path), settings, fmt="json", jobs=2)
    assert sliced.texts == alone.texts and sliced.verdicts == alone.verdicts
    assert stored_verdicts(cache_path) == one


def test_a_parallel_audit_started_from_a_thread_spawns_its_workers(cache_path, monkeypatch):
    # The explorer audits from a worker thread: forking there could copy a held lock into the child.
    settings = load_config(None, {}).audit
    expected = audit_cache(str(cache_path), settings, fmt="json", jobs=1).texts
    methods: list[str] = []
    get_context = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: methods.append(method) or get_context(method))
    got: list = []
    worker = threading.Thread(target=lambda: got.append(audit_cache(str(cache_path), settings, fmt="json", jobs=2)))
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive() and got and got[0].texts == expected
    assert methods == ["spawn"]
