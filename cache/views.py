"""Read-only windowed queries over the cache, for a case list that stays fast at a million cases.

The list never holds its rows. Opening a filter runs one ordered scan that
yields only rowids, in batches (8 bytes a case: a million cases is 8 MB); the
rows a person can see are then read by rowid, a window at a time. Every sort
follows an index of the schema where one exists (``cases_by_time``,
``cases_by_verdict``, the primary key), so the first batch arrives in
milliseconds whatever the size of the cache.

Connections are opened read-only (``mode=ro``) and pooled, so that any worker
thread can borrow one; SQLite's WAL lets them read while the cache is written.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from itertools import chain
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from audit.model import Verdict

NOT_AUDITED = "not_audited"
"""The verdict filter value for cases with no stored verdict yet."""

# Verdicts from worst to best, as the audit model ranks them; unaudited cases last.
SEVERITY: tuple[str, ...] = (*(v.value for v in Verdict), NOT_AUDITED)
SORTS: dict[str, str] = {
    "newest": "newest first",
    "oldest": "oldest first",
    "severity": "worst verdict first",
    "divergence": "latest divergence first",
    "ref": "by ref",
}
_ORDER_BY = {
    # Each of these follows an index: created_at (cases_by_time, which carries the rowid), ref (the key).
    "newest": "ORDER BY created_at DESC, rowid DESC",
    "oldest": "ORDER BY created_at, rowid",
    "ref": "ORDER BY ref",
    # No index: SQLite sorts once per filter, in the scan's worker.
    "divergence": "ORDER BY divergence_at IS NULL, divergence_at DESC, rowid DESC",
}
_ROW_COLUMNS = (
    "rowid, ref, origin, created_at, verdict, finding_count, divergence_at, divergence_rule, divergence_from, divergence_to, "
    "divergence_system"
)


class ViewError(Exception):
    """The cache cannot be read for a listing."""


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a list shows, and in what order."""

    verdicts: frozenset[str] = frozenset()  # empty: every verdict; NOT_AUDITED for cases not audited yet
    system: str | None = None  # only cases this system holds a record for
    rule: str | None = None  # only cases where this rule fired
    sort: str = "newest"

    @property
    def is_filtered(self) -> bool:
        return bool(self.verdicts or self.system or self.rule)


@dataclass(frozen=True, slots=True)
class Holder:
    """What one system holds for a listed case: its record refs, or why there are none."""

    system: str
    presence: str  # "present", "absent" (asked, holds nothing), "not_fetched"
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One line of the case list. ``error`` is set, and the rest may be empty, for a row that cannot be read."""

    rowid: int
    ref: str
    origin: str = ""
    created_at: datetime | None = None
    verdict: str | None = None
    finding_count: int = 0
    divergence_at: datetime | None = None
    divergence_rule: str | None = None
    divergence_from: str | None = None
    divergence_to: str | None = None
    divergence_system: str | None = None  # where it split, when no handoff carried it
    holders: tuple[Holder, ...] = field(default=())
    error: str | None = None


class CaseViews:
    """Windowed, read-only access to one cache file."""

    def __init__(self, path: str | Path) -> None:
        location = str(path)
        if location == ":memory:" or not Path(location).exists():
            raise ViewError(f"{location}: no cache file to read")
        self.path = location
        self._uri = f"file:{quote(str(Path(location).resolve()))}?mode=ro"
        self._free: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._free.pop() if self._free else None
        if conn is None:
            try:
                conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise ViewError(f"{self.path}: cannot open it for reading ({exc})") from None
            with self._lock:
                self._all.append(conn)
        try:
            yield conn
        finally:
            with self._lock:
                self._free.append(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._free.clear()

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._connection() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise ViewError(f"{self.path}: {exc}") from None

    # --- totals ------------------------------------------------------------------

    def total(self) -> int:
        return self._rows("SELECT count(*) FROM cases")[0][0]

    def verdict_counts(self) -> dict[str, int]:
        """Cases per verdict (``not_audited`` for those without one), from the verdict index alone."""
        counts = {key: 0 for key in SEVERITY}
        for verdict, count in self._rows("SELECT verdict, count(*) FROM cases GROUP BY verdict"):
            key = verdict or NOT_AUDITED
            counts[key] = counts.get(key, 0) + count
        return counts

    def stale_count(self, settings_key: str) -> int:
        """Cases whose stored verdict is missing or was computed under other settings."""
        return self._rows("SELECT count(*) FROM cases WHERE verdict IS NULL OR settings_key IS NOT ?", (settings_key,))[0][0]

    def systems(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT name FROM systems ORDER BY name")]

    def rules(self) -> list[str]:
        """Rule ids that fired on some case (one index seek per distinct id)."""
        return [row[0] for row in self._rows("SELECT DISTINCT rule FROM findings ORDER BY rule")]

    # --- the ordered scan ------------------------------------------------------------

    def scan(self, view: CaseFilter, *, first: int = 200, batch: int = 10_000) -> Iterator[array]:
        """The rowids of the cases ``view`` selects, in its order: a small first batch, then large ones."""
        size = first
        with self._connection() as conn:
            for sql, params in self._scan_statements(view):
                try:
                    cursor = conn.execute(sql, params)
                    while True:
                        rows = cursor.fetchmany(size)
                        if not rows:
                            break
                        size = batch
                        # Flattened in C: the scan runs in a thread beside the UI, and a Python
                        # loop over every rowid would hold the interpreter lock between keypresses.
                        yield array("q", chain.from_iterable(rows))
                except sqlite3.Error as exc:
                    raise ViewError(f"{self.path}: {exc}") from None

    def _scan_statements(self, view: CaseFilter) -> list[tuple[str, list]]:
        where, params = _where(view)
        if view.sort != "severity":
            order = _ORDER_BY.get(view.sort, _ORDER_BY["newest"])
            return [(f"SELECT rowid FROM cases{_clause(where)} {order}", params)]
        # Worst first without a sort: one index range scan of cases_by_verdict per verdict.
        others, other_params = _where(CaseFilter(system=view.system, rule=view.rule))
        statements = []
        for verdict in SEVERITY:
            if view.verdicts and verdict not in view.verdicts:
                continue
            test, extra = ("verdict IS NULL", []) if verdict == NOT_AUDITED else ("verdict = ?", [verdict])
            statements.append(
                (f"SELECT rowid FROM cases{_clause([test, *others])} ORDER BY created_at DESC, rowid DESC", extra + other_params)
            )
        return statements

    # --- windows -------------------------------------------------------------------

    def window(self, rowids: Sequence[int]) -> list[CaseLine]:
        """The list lines of these rowids, in the same order; an unreadable row becomes an error line."""
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        with self._connection() as conn:
            try:
                rows = {row[0]: row for row in conn.execute(f"SELECT {_ROW_COLUMNS} FROM cases WHERE rowid IN ({marks})", list(rowids))}
                refs = [row[1] for row in rows.values() if isinstance(row[1], str)]
                ref_marks = ",".join("?" * len(refs))
                presence: dict[str, dict[str, str]] = {}
                held: dict[tuple[str, str], list[str]] = {}
                if refs:
                    for case_ref, system, state in conn.execute(
                        f"SELECT case_ref, system, presence FROM holdings WHERE case_ref IN ({ref_marks})", refs
                    ):
                        presence.setdefault(case_ref, {})[system] = state
                    for case_ref, system, ref in conn.execute(
                        f"SELECT case_ref, system, ref FROM records WHERE case_ref IN ({ref_marks}) ORDER BY case_ref, system, seq",
                        refs,
                    ):
                        held.setdefault((case_ref, system), []).append(ref)
            except sqlite3.Error as exc:
                raise ViewError(f"{self.path}: {exc}") from None
        lines = []
        for rowid in rowids:
            row = rows.get(rowid)
            if row is None:
                lines.append(CaseLine(rowid, "", error="this case is no longer in the cache"))
                continue
            lines.append(_line(row, presence.get(row[1], {}), held))
        return lines

    def locate(self, ref: str) -> tuple[str, int] | None:
        """(case ref, rowid) of the case any system's ref or id names; ``1042`` also finds ``#1042``."""
        text = ref.strip()
        if not text:
            return None
        candidates = [text] + ([f"#{text}"] if not text.startswith("#") else [])
        with self._connection() as conn:
            for candidate in candidates:
                row = conn.execute("SELECT ref, rowid FROM cases WHERE ref = ?", (candidate,)).fetchone()
                if row is None:
                    # By record ref first (indexed); an internal id needs a scan of the records, so it comes second.
                    found = conn.execute("SELECT case_ref FROM records WHERE ref = ? LIMIT 1", (candidate,)).fetchone() or conn.execute(
                        "SELECT case_ref FROM records WHERE native_id = ? LIMIT 1", (candidate,)
                    ).fetchone()
                    if found is not None:
                        row = conn.execute("SELECT ref, rowid FROM cases WHERE ref = ?", (found[0],)).fetchone()
                if row is not None:
                    return row[0], row[1]
        return None

    def matches(self, view: CaseFilter, rowid: int) -> bool:
        """Whether the case at ``rowid`` passes the filter."""
        where, params = _where(view)
        return bool(self._rows(f"SELECT 1 FROM cases{_clause(['rowid = ?', *where])}", [rowid, *params]))

    def similar(self, ref: str, verdict: str = Verdict.IN_SYNC.value, limit: int = 20) -> list[CaseLine]:
        """Cases born in the same system as ``ref`` with the given verdict, newest first: partners to compare with."""
        found = self._rows("SELECT origin FROM cases WHERE ref = ?", (ref,))
        if not found:
            return []
        rowids = [
            row[0]
            for row in self._rows(
                "SELECT rowid FROM cases WHERE verdict = ? AND origin = ? AND ref != ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (verdict, found[0][0], ref, limit),
            )
        ]
        return self.window(rowids)


def _where(view: CaseFilter) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    if view.verdicts:
        named = sorted(v for v in view.verdicts if v != NOT_AUDITED)
        tests = []
        if named:
            tests.append(f"verdict IN ({','.join('?' * len(named))})")
            params.extend(named)
        if NOT_AUDITED in view.verdicts:
            tests.append("verdict IS NULL")
        where.append("(" + " OR ".join(tests) + ")")
    if view.system:
        where.append("EXISTS (SELECT 1 FROM holdings h WHERE h.case_ref = cases.ref AND h.system = ? AND h.presence = 'present')")
        params.append(view.system)
    if view.rule:
        where.append("EXISTS (SELECT 1 FROM findings f WHERE f.case_ref = cases.ref AND f.rule = ?)")
        params.append(view.rule)
    return where, params


def _clause(where: list[str]) -> str:
    return " WHERE " + " AND ".join(where) if where else ""


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _line(row: tuple, presence: dict[str, str], held: dict[tuple[str, str], list[str]]) -> CaseLine:
    rowid, ref = row[0], row[1]
    try:
        verdict = row[4]
        if verdict is not None and verdict not in SEVERITY:
            raise ValueError(f"unknown verdict {verdict!r}")
        holders = tuple(
            Holder(system, state, tuple(held.get((ref, system), ()))) for system, state in sorted(presence.items())
        )
        return CaseLine(
            rowid=rowid,
            ref=ref,
            origin=row[2],
            created_at=_moment(row[3]),
            verdict=verdict,
            finding_count=int(row[5] or 0),
            divergence_at=_moment(row[6]),
            divergence_rule=row[7],
            divergence_from=row[8],
            divergence_to=row[9],
            divergence_system=row[10],
            holders=holders,
        )
    except (TypeError, ValueError) as exc:
        return CaseLine(rowid, ref if isinstance(ref, str) else str(ref), error=f"unreadable row: {exc}")
