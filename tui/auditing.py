"""Auditing the cache: reading cases, running the audit, storing verdicts, rendering the result.

A large cache is cut into contiguous slices of refs, each audited by its own
process: the audit is pure CPU work on independent cases, and most of its time
goes to rebuilding objects from rows, which one core cannot do fast enough.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import textwrap
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from audit.engine import audit_case
from audit.model import CaseResult, Presence, Verdict
from audit.report import case_json, iso
from audit.settings import AuditSettings
from cache.store import Cache, VerdictRow, verdict_row

SAVE_BATCH = 1000  # audited cases written back per transaction
PARALLEL_FROM = 20_000  # below this many cases a second process costs more than it saves


@dataclass
class AuditRun:
    """What auditing a set of cases produced, rendered and counted."""

    texts: list[str] = field(default_factory=list)  # one rendered block per case, in ref order
    verdicts: Counter = field(default_factory=Counter)
    with_findings: int = 0
    newest_as_of: datetime | None = None

    def merge(self, other: AuditRun) -> None:
        self.texts.extend(other.texts)
        self.verdicts.update(other.verdicts)
        self.with_findings += other.with_findings
        if other.newest_as_of and (self.newest_as_of is None or other.newest_as_of > self.newest_as_of):
            self.newest_as_of = other.newest_as_of

    @property
    def count(self) -> int:
        return sum(self.verdicts.values())


def audit_cache(
    path: str,
    settings: AuditSettings,
    *,
    refs: Sequence[str] | None = None,
    as_of: datetime | None = None,
    fmt: str | None = None,
    jobs: int | None = None,
) -> AuditRun:
    """Audit cached cases (all, or ``refs``), store verdicts unless ``as_of`` is given, render as ``fmt``.

    ``fmt`` is "table", "json" or None (count only). ``jobs`` is the number of
    processes; by default one per core for a large cache, one otherwise.
    """
    with Cache.open(path) as cache:
        if jobs is None:
            jobs = min(os.cpu_count() or 1, 4) if refs is None and cache.count_cases() >= PARALLEL_FROM else 1
        slices = cache.slice_bounds(jobs) if jobs > 1 and refs is None else [(None, None)]
    if len(slices) == 1:
        run = _audit_slice(path, settings, as_of, fmt, None, None, list(refs) if refs is not None else None)
    else:
        run = AuditRun()
        # fork shares the loaded code with the workers for free, but only a single-threaded
        # process forks safely (a lock another thread holds stays held in the child): the
        # explorer audits from a worker thread, so there, and where fork is missing, spawn.
        single = threading.active_count() == 1
        method = "fork" if single and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(len(slices), mp_context=multiprocessing.get_context(method)) as pool:
            futures = [pool.submit(_audit_slice, path, settings, as_of, fmt, after, upto, None) for after, upto in slices]
            for future in futures:  # in slice order, so the output stays in ref order
                run.merge(future.result())
    return run


def _audit_slice(
    path: str,
    settings: AuditSettings,
    as_of: datetime | None,
    fmt: str | None,
    after: str | None,
    upto: str | None,
    refs: list[str] | None,
) -> AuditRun:
    run = AuditRun()
    settings_key = settings.fingerprint
    # The audit builds millions of short-lived, acyclic objects (frozen dataclasses,
    # tuples) that reference counting frees on its own; the cycle collector would
    # only rescan the growing list of results, over and over (a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = _audit_into(run, path, settings, settings_key, as_of, fmt, after, upto, refs)
    finally:
        if collecting:
            gc.enable()
    # Written by each slice once its read is over, on a connection of its own: a process
    # that writes while its own long read is open would find the database moved on under
    # it (SQLITE_BUSY_SNAPSHOT). Slices finishing together simply take turns at the lock.
    if rows:
        with Cache.open(path, migrate=False) as cache:
            for start in range(0, len(rows), SAVE_BATCH):
                cache.save_verdicts(rows[start : start + SAVE_BATCH])
    return run


def _audit_into(
    run: AuditRun,
    path: str,
    settings: AuditSettings,
    settings_key: str,
    as_of: datetime | None,
    fmt: str | None,
    after: str | None,
    upto: str | None,
    refs: list[str] | None,
) -> list[VerdictRow]:
    """Audit the slice into ``run``; returns the verdicts to store (none when audited at a given as-of)."""
    rows: list[VerdictRow] = []
    with Cache.open(path, migrate=False) as cache:
        for case in cache.iter_cases(refs, after=after, upto=upto):
            result = audit_case(case, settings, as_of)
            run.verdicts[result.verdict.value] += 1
            run.with_findings += bool(result.findings)
            if run.newest_as_of is None or result.as_of > run.newest_as_of:
                run.newest_as_of = result.as_of
            if fmt is not None:
                run.texts.append(render(result, fmt))
            if as_of is None:  # verdicts as of each case's own fetch time are the ones worth keeping
                rows.append(verdict_row(result, settings_key))
    return rows


def render(result: CaseResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(case_json(result), indent=2)
    return table_block(result)


def json_document(run: AuditRun, as_of: datetime | None) -> str:
    """The contract's document, assembled from per-case JSON so it can be built in slices."""
    cases = ",\n".join(textwrap.indent(text, "    ") for text in run.texts)
    head = f'{{\n  "as_of": {json.dumps(iso(as_of or run.newest_as_of))},\n  "cases": ['
    return head + ("\n" + cases + "\n  ]\n}" if cases else "]\n}")


def table_block(result: CaseResult) -> str:
    """One case as text: its systems side by side, where it split, and every finding."""
    case = result.case
    lines = [f"{case.ref}  {result.verdict.value.upper()}  (born in {case.origin}; as of {iso(result.as_of)})"]
    status_width = max((len(r.native_status) for h in case.holdings for r in h.records), default=0) + 2
    for holding in sorted(case.holdings, key=lambda h: h.system.name):
        name, role = holding.system.name, holding.system.role.value
        if not holding.records:
            what = "holds no record" if holding.presence is Presence.ABSENT else "not fetched"
            lines.append(f"  {name:<10} {role:<11} {'-':<22} {what}")
        for record in holding.records:
            states = f"{record.fulfillment.value} / {record.financial.value}"
            lines.append(f"  {name:<10} {role:<11} {record.ref:<22} {record.native_status:<{status_width}}{states}")
    divergence = result.first_divergence
    if divergence is not None:
        handoff = f"{divergence.handoff.source} -> {divergence.handoff.target}" if divergence.handoff else "(within one system)"
        lines.append(f"  first divergence: {iso(divergence.at)}  {handoff}  {divergence.rule}")
    for finding in result.findings:
        handoff = f"{finding.handoff.source} -> {finding.handoff.target}" if finding.handoff else "-"
        lines.append(f"  [{finding.kind.value}] {finding.rule} ({handoff}): {finding.message}")
    return "\n".join(lines) + "\n"


def summary_line(run: AuditRun) -> str:
    counts = ", ".join(f"{run.verdicts[v.value]} {v.value}" for v in Verdict if run.verdicts[v.value])
    return f"{run.count} {'case' if run.count == 1 else 'cases'}: {counts}"
