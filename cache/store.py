"""The local cache: one SQLite file holding every fetched or imported case.

sqlite-utils owns the connection, the migrations and the transactions; the
hot paths (writing a case, streaming cases to the audit) use plain
``executemany`` and ordered scans because they run per row over hundreds of
thousands of rows, where a per-row Python wrapper would dominate the cost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlite_utils import Database

from audit.model import (
    Case,
    CaseResult,
    Event,
    EventKind,
    Financial,
    Fulfillment,
    Holding,
    Line,
    Origin,
    Precision,
    Presence,
    RawPayload,
    Record,
    Role,
    SystemDef,
    ThreetruthError,
    Timestamp,
    UnmappedStatus,
)
from cache.schema import MIGRATIONS, known_migrations


class CacheError(ThreetruthError):
    title = "Cache problem"


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One line of the case list."""

    ref: str
    origin: str
    created_at: str | None
    written_at: str
    verdict: str | None
    finding_count: int | None
    divergence_at: str | None
    divergence_rule: str | None
    divergence_from: str | None
    divergence_to: str | None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


SEP = "\x1f"  # the ASCII unit separator: joins list and timestamp columns (see schema.py)

# Enum members by value: a dict lookup is several times cheaper than calling the enum,
# and the audit rebuilds every event of every case from these strings.
_FULFILLMENT = {m.value: m for m in Fulfillment}
_FINANCIAL = {m.value: m for m in Financial}
_KIND = {m.value: m for m in EventKind}
_ORIGIN = {m.value: m for m in Origin}
_PRECISION = {m.value: m for m in Precision}


def _join(values: Iterable[str]) -> str:
    return SEP.join(values)


def _split(text: str) -> list[str]:
    return text.split(SEP) if text else []


def _json_list(text: str) -> list:
    return json.loads(text) if text != "[]" else []


def _stamp_text(stamp: Timestamp | None) -> str | None:
    if stamp is None:
        return None
    latest = "" if stamp.latest == stamp.earliest else stamp.latest.isoformat()
    return SEP.join((stamp.earliest.isoformat(), latest, stamp.precision.value, stamp.source_tz or "", stamp.raw))


def _stamp_from_text(text: str | None) -> Timestamp | None:
    if text is None:
        return None
    earliest_text, latest_text, precision, zone, raw = text.split(SEP, 4)
    earliest = datetime.fromisoformat(earliest_text)
    latest = datetime.fromisoformat(latest_text) if latest_text else earliest
    return Timestamp(earliest, latest, raw, _PRECISION[precision], zone or None)


class Cache:
    """A threetruth cache file. Open it with :meth:`open`; every write of a case is one transaction."""

    def __init__(self, db: Database, path: str) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, migrate: bool = True) -> Cache:
        """Open (creating if needed) and bring the schema up to date.

        Raises:
            CacheError: the file is not a SQLite database, or was written by a
                newer threetruth whose schema this version does not know.
        """
        location = str(path)
        if location != ":memory:":
            Path(location).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            db = Database(location) if location != ":memory:" else Database(memory=True)
            db.execute("PRAGMA foreign_keys = ON")
            if location != ":memory:":
                db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses at most the last commit
            applied = {m.name for m in MIGRATIONS.applied(db)}
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"{location} is not a threetruth cache ({exc}); move it aside or choose another [cache] path") from None
        unknown = applied - set(known_migrations())
        if unknown:
            raise CacheError(
                f"{location} was written by a newer threetruth (schema step {sorted(unknown)[0]}); upgrade threetruth to read it"
            )
        if migrate:
            MIGRATIONS.apply(db)
        return cls(db, location)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_steps(self) -> list[str]:
        return [m.name for m in MIGRATIONS.applied(self.db)]

    # --- writing -----------------------------------------------------------

    def write_case(self, case: Case, payloads: Sequence[RawPayload]) -> None:
        """Store what the given holdings say about a case, in one transaction.

        Only the systems present in ``case.holdings`` are replaced; what other
        systems hold for the case stays. The case's verdict becomes stale.
        """
        with self.db.atomic():
            self._write_case(case, payloads)

    def write_cases(self, items: Iterable[tuple[Case, Sequence[RawPayload]]]) -> int:
        """Store many cases in one transaction (all of them or, after a crash, none); returns how many."""
        count = 0
        with self.db.atomic():
            for case, payloads in items:
                self._write_case(case, payloads)
                count += 1
        return count

    def _write_case(self, case: Case, payloads: Sequence[RawPayload]) -> None:
        conn = self.db.conn
        stored = conn.execute("SELECT origin FROM cases WHERE ref = ?", (case.ref,)).fetchone()
        if stored is not None and stored[0] == case.origin and self._unchanged(case, payloads):
            return  # re-importing the same data must not even make the verdict stale
        conn.executemany(
            "INSERT INTO systems(name, role, platform) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET role = excluded.role, platform = excluded.platform",
            [(h.system.name, h.system.role.value, h.system.platform) for h in case.holdings],
        )
        origin = case.holding(case.origin)
        origin_created = None
        if origin is not None:
            created = [r.created.earliest for r in origin.records if r.created is not None]
            origin_created = min(created) if created else None
        written_at = max((p.fetched_at for p in payloads), default=None) or case.newest_fetch
        conn.execute(
            "INSERT INTO cases(ref, origin, created_at, written_at, verdict) VALUES (?, ?, ?, ?, NULL) "
            "ON CONFLICT(ref) DO UPDATE SET origin = excluded.origin, "
            "created_at = COALESCE(excluded.created_at, cases.created_at), "
            "written_at = MAX(cases.written_at, excluded.written_at), verdict = NULL",
            (case.ref, case.origin, _iso(origin_created), _iso(written_at) or ""),
        )
        if stored is not None:  # replace what these systems held; a new case has nothing to replace
            systems = [(case.ref, h.system.name) for h in case.holdings]
            for table in ("holdings", "payloads", "records", "lines", "events"):
                conn.executemany(f"DELETE FROM {table} WHERE case_ref = ? AND system = ?", systems)
        conn.executemany(
            "INSERT INTO holdings(case_ref, system, presence, fetched_at, proof) VALUES (?, ?, ?, ?, ?)",
            [(case.ref, h.system.name, h.presence.value, _iso(h.fetched_at), h.proof) for h in case.holdings],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO payloads(case_ref, id, system, endpoint, fetched_at, body) VALUES (?, ?, ?, ?, ?, ?)",
            [(case.ref, p.id, p.system, p.endpoint, p.fetched_at.isoformat(), p.body) for p in payloads],
        )
        record_rows, line_rows, event_rows = [], [], []
        for holding in case.holdings:
            name = holding.system.name
            for seq, record in enumerate(holding.records):
                record_rows.append(
                    (
                        case.ref, name, seq, record.ref, record.native_id, record.native_status,
                        record.fulfillment.value, record.financial.value,
                        str(record.total) if record.total is not None else None, record.currency,
                        _stamp_text(record.created), _stamp_text(record.updated),
                        _join(sorted(record.tracking)), _join(sorted(record.links)),
                        json.dumps([[u.field, u.value, u.dimension] for u in record.unmapped]),
                        _join(record.payload_ids), json.dumps([list(s) for s in record.sources]),
                    )
                )
                line_rows.extend(
                    (case.ref, name, seq, line_seq, line.sku, line.ordered, line.shipped, line.cancelled, line.source)
                    for line_seq, line in enumerate(record.lines)
                )
            event_rows.extend(
                (
                    case.ref, name, seq, e.id, e.kind.value, e.at.earliest.isoformat(),
                    "" if e.at.latest == e.at.earliest else e.at.latest.isoformat(),
                    e.at.raw, e.at.precision.value, e.at.source_tz,
                    e.fulfillment.value if e.fulfillment else None, e.financial.value if e.financial else None,
                    e.source, e.origin.value, e.native_status, e.detail, e.record_ref, e.payload_id,
                )
                for seq, e in enumerate(holding.events)
            )
        conn.executemany("INSERT INTO records VALUES (" + ",".join("?" * 17) + ")", record_rows)
        conn.executemany("INSERT INTO lines VALUES (" + ",".join("?" * 9) + ")", line_rows)
        conn.executemany("INSERT INTO events VALUES (" + ",".join("?" * 18) + ")", event_rows)
        conn.execute("DELETE FROM findings WHERE case_ref = ?", (case.ref,))

    def _unchanged(self, case: Case, payloads: Sequence[RawPayload]) -> bool:
        stored = self.load_case(case.ref)
        if stored is None:
            return False
        names = {h.system.name for h in case.holdings}
        kept = tuple(h for h in stored.holdings if h.system.name in names)
        stored_payloads = [p for p in self.payloads(case.ref) if p.system in names]
        return kept == tuple(sorted(case.holdings, key=lambda h: h.system.name)) and sorted(
            stored_payloads, key=lambda p: p.id
        ) == sorted(payloads, key=lambda p: p.id)

    def save_results(self, results: Iterable[CaseResult], settings_key: str) -> int:
        """Store verdicts and findings of audited cases; returns how many."""
        return self.save_verdicts([verdict_row(r, settings_key) for r in results])

    def save_verdicts(self, rows: Sequence[VerdictRow]) -> int:
        """Store rows made by :func:`verdict_row`, in one transaction; returns how many."""
        with self.db.atomic():
            conn = self.db.conn
            conn.executemany(
                "UPDATE cases SET verdict = ?, audited_as_of = ?, finding_count = ?, settings_key = ?, "
                "divergence_at = ?, divergence_rule = ?, divergence_from = ?, divergence_to = ?, "
                "divergence_system = ?, divergence_event = ? WHERE ref = ?",
                [row.case for row in rows],
            )
            conn.executemany("DELETE FROM findings WHERE case_ref = ?", [(row.case[-1],) for row in rows])
            conn.executemany(
                "INSERT INTO findings(case_ref, seq, rule, kind, at, handoff_from, handoff_to, events, message, "
                "latency_seconds, check_next, systems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [finding for row in rows for finding in row.findings],
            )
        return len(rows)

    def sync_progress(self, system: str, since: str, until: str) -> SyncProgress:
        row = self.db.execute(
            "SELECT cursor, done, cases, total FROM sync_progress WHERE system = ? AND since = ? AND until = ?",
            (system, since, until),
        ).fetchone()
        return SyncProgress(row[0], bool(row[1]), row[2], row[3]) if row else SyncProgress()

    def save_sync_progress(self, system: str, since: str, until: str, progress: SyncProgress, now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO sync_progress(system, since, until, cursor, done, cases, total, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(system, since, until) DO UPDATE SET "
                "cursor = excluded.cursor, done = excluded.done, cases = excluded.cases, total = excluded.total, "
                "updated_at = excluded.updated_at",
                (system, since, until, progress.cursor, int(progress.done), progress.cases, progress.total, now.isoformat()),
            )

    # --- reading -----------------------------------------------------------

    def count_cases(self) -> int:
        return self.db.execute("SELECT count(*) FROM cases").fetchone()[0]

    def case_refs(self, *, stale_for: str | None = None) -> list[str]:
        """Every case ref in order; with ``stale_for``, only those not audited under that settings key."""
        if stale_for is None:
            rows = self.db.execute("SELECT ref FROM cases ORDER BY ref")
        else:
            rows = self.db.execute(
                "SELECT ref FROM cases WHERE verdict IS NULL OR settings_key IS NOT ? ORDER BY ref", (stale_for,)
            )
        return [row[0] for row in rows]

    def find_case(self, ref: str) -> str | None:
        """The case a ref belongs to: a case ref, or any system's record ref or native id."""
        row = self.db.execute("SELECT ref FROM cases WHERE ref = ?", (ref,)).fetchone()
        if row:
            return row[0]
        row = self.db.execute(
            "SELECT case_ref FROM records WHERE ref = ? OR native_id = ? ORDER BY case_ref LIMIT 1", (ref, ref)
        ).fetchone()
        return row[0] if row else None

    def load_case(self, ref: str) -> Case | None:
        """One case with everything: event details and the provenance of every value."""
        return next(self.iter_cases([ref], details=True), None)

    def iter_cases(
        self,
        refs: Sequence[str] | None = None,
        *,
        details: bool = False,
        after: str | None = None,
        upto: str | None = None,
    ) -> Iterator[Case]:
        """Stream cases in ref order, rebuilding the canonical model from the rows.

        Without ``refs`` every case is read by one ordered scan per table, so the
        whole cache streams through in constant memory. Without ``details`` the
        columns no rule reads (event descriptions and sources, value provenance)
        are left empty: a bulk audit spends most of its time building objects.
        ``after`` and ``upto`` bound the scan to the refs in ``(after, upto]``, so
        several processes can each audit one slice.
        """
        if refs is not None:
            for ref in refs:
                yield from self._scan("WHERE case_ref = ?", "WHERE ref = ?", (ref,), details)
            return
        bounds, params = [], []
        if after is not None:
            bounds.append("{} > ?")
            params.append(after)
        if upto is not None:
            bounds.append("{} <= ?")
            params.append(upto)
        where = " AND ".join(bounds)
        yield from self._scan(
            "WHERE " + where.format("case_ref", "case_ref") if where else "",
            "WHERE " + where.format("ref", "ref") if where else "",
            tuple(params),
            details,
        )

    def slice_bounds(self, parts: int) -> list[tuple[str | None, str | None]]:
        """Split the refs into ``parts`` contiguous slices of about equal size, for :meth:`iter_cases`."""
        total = self.count_cases()
        cuts = [
            self.db.execute("SELECT ref FROM cases ORDER BY ref LIMIT 1 OFFSET ?", (total * i // parts - 1,)).fetchone()[0]
            for i in range(1, parts)
            if total * i // parts > 0
        ]
        edges: list[str | None] = [None, *cuts, None]
        return list(zip(edges[:-1], edges[1:]))

    def _scan(self, child_where: str, case_where: str, params: tuple, details: bool) -> Iterator[Case]:
        conn = self.db.conn
        systems = {
            name: SystemDef(name, Role(role), platform)
            for name, role, platform in conn.execute("SELECT name, role, platform FROM systems")
        }
        cases = conn.execute(f"SELECT ref, origin FROM cases {case_where} ORDER BY ref", params)
        holdings = _Grouped(
            conn.execute(f"SELECT case_ref, system, presence, fetched_at, proof FROM holdings {child_where} ORDER BY case_ref, system", params)
        )
        record_columns = _RECORD_COLUMNS if details else _RECORD_COLUMNS.replace("sources", "'[]'")
        event_columns = _EVENT_COLUMNS if details else _EVENT_COLUMNS_FOR_RULES
        records = _Grouped(conn.execute(f"SELECT {record_columns} FROM records {child_where} ORDER BY case_ref, system, seq", params))
        lines = _Grouped(conn.execute(f"SELECT * FROM lines {child_where} ORDER BY case_ref, system, record_seq, seq", params))
        events = _Grouped(conn.execute(f"SELECT {event_columns} FROM events {child_where} ORDER BY case_ref, system, seq", params))
        for ref, origin in cases.fetchall() if "?" in case_where else cases:
            lines_by_record: dict[tuple[str, int], list[Line]] = {}
            for row in lines.take(ref):
                lines_by_record.setdefault((row[1], row[2]), []).append(Line(row[4], row[5], row[6], row[7], row[8]))
            records_by_system: dict[str, list[Record]] = {}
            for row in records.take(ref):
                records_by_system.setdefault(row[1], []).append(_record(row, lines_by_record.get((row[1], row[2]), [])))
            events_by_system: dict[str, list[Event]] = {}
            for row in events.take(ref):
                events_by_system.setdefault(row[1], []).append(_event(row))
            built = []
            for _case_ref, system, presence, fetched_at, proof in holdings.take(ref):
                built.append(
                    Holding(
                        system=systems[system],
                        presence=Presence(presence),
                        records=tuple(records_by_system.get(system, ())),
                        events=tuple(events_by_system.get(system, ())),
                        fetched_at=datetime.fromisoformat(fetched_at) if fetched_at else None,
                        proof=proof,
                    )
                )
            yield Case(ref=ref, origin=origin, holdings=tuple(built))

    def payloads(self, case_ref: str) -> list[RawPayload]:
        rows = self.db.execute(
            "SELECT id, system, endpoint, fetched_at, body FROM payloads WHERE case_ref = ? ORDER BY system, endpoint, id",
            (case_ref,),
        )
        return [RawPayload(i, s, e, datetime.fromisoformat(f), b) for i, s, e, f, b in rows]

    def list_cases(
        self,
        *,
        verdict: str | None = None,
        system: str | None = None,
        rule: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CaseRow]:
        """Cases for a listing, newest first, filtered by verdict, by a system holding a record of them, or by a rule that fired."""
        where, params = [], []
        if verdict:
            where.append("verdict = ?")
            params.append(verdict)
        if system:
            where.append("ref IN (SELECT case_ref FROM holdings WHERE system = ? AND presence = 'present')")
            params.append(system)
        if rule:
            where.append("ref IN (SELECT case_ref FROM findings WHERE rule = ?)")
            params.append(rule)
        sql = (
            "SELECT ref, origin, created_at, written_at, verdict, finding_count, divergence_at, divergence_rule, "
            "divergence_from, divergence_to FROM cases"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created_at DESC, ref"
            + (f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else "")
        )
        return [CaseRow(*row) for row in self.db.execute(sql, params)]

    def verdict_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT COALESCE(verdict, 'not audited'), count(*) FROM cases GROUP BY 1")
        return dict(rows.fetchall())


_RECORD_COLUMNS = (
    "case_ref, system, seq, ref, native_id, native_status, fulfillment, financial, total, currency, "
    "created, updated, tracking, links, unmapped, payload_ids, sources"
)
_EVENT_COLUMNS = (
    "case_ref, system, seq, id, kind, at_earliest, at_latest, at_raw, precision, source_tz, "
    "fulfillment, financial, source, origin, native_status, detail, record_ref, payload_id"
)
# What the rules read; the rest stays in the database until a person asks for it.
_EVENT_COLUMNS_FOR_RULES = _EVENT_COLUMNS.replace("source, origin, native_status, detail", "'', origin, NULL, ''").replace(
    "payload_id", "NULL"
)


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One audited case as the cache stores it: plain tuples, cheap to pass between processes."""

    case: tuple
    findings: list[tuple]


def verdict_row(result: CaseResult, settings_key: str) -> VerdictRow:
    ref, d = result.case.ref, result.first_divergence
    case = (
        result.verdict.value, result.as_of.isoformat(), len(result.findings), settings_key,
        _iso(d.at) if d else None, d.rule if d else None,
        d.handoff.source if d and d.handoff else None, d.handoff.target if d and d.handoff else None,
        d.system if d else None, d.event.value if d and d.event else None, ref,
    )
    findings = [
        (
            ref, seq, f.rule, f.kind.value, _iso(f.at),
            f.handoff.source if f.handoff else None, f.handoff.target if f.handoff else None,
            json.dumps(list(f.events)), f.message,
            int(f.latency.total_seconds()) if f.latency is not None else None,
            f.check_next, json.dumps(list(f.systems)),
        )
        for seq, f in enumerate(result.findings)
    ]
    return VerdictRow(case, findings)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """How far one system's sync of one window got."""

    cursor: str | None = None
    done: bool = False
    cases: int = 0
    total: int | None = None


class _Grouped:
    """Walks a cursor ordered by case_ref, handing out the rows of one case at a time."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows = iter(cursor)
        self._next = next(self._rows, None)

    def take(self, ref: str) -> list[tuple]:
        rows = []
        current = self._next
        while current is not None and current[0] <= ref:
            if current[0] == ref:
                rows.append(current)
            current = next(self._rows, None)
        self._next = current
        return rows


def _record(row: tuple, lines: list[Line]) -> Record:
    (
        _case, system, _seq, ref, native_id, native_status, fulfillment, financial, total, currency,
        created, updated, tracking, links, unmapped, payload_ids, sources,
    ) = row
    return Record(
        system=system,
        ref=ref,
        native_id=native_id,
        native_status=native_status,
        fulfillment=_FULFILLMENT[fulfillment],
        financial=_FINANCIAL[financial],
        lines=tuple(lines),
        tracking=frozenset(_split(tracking)),
        total=Decimal(total) if total is not None else None,
        currency=currency,
        created=_stamp_from_text(created),
        updated=_stamp_from_text(updated),
        links=frozenset(_split(links)),
        unmapped=tuple(UnmappedStatus(*u) for u in _json_list(unmapped)),
        payload_ids=tuple(_split(payload_ids)),
        sources=tuple(tuple(s) for s in _json_list(sources)),  # type: ignore[misc]
    )


def _event(row: tuple) -> Event:
    (
        _case, system, _seq, event_id, kind, earliest, latest, raw, precision, source_tz,
        fulfillment, financial, source, origin, native_status, detail, record_ref, payload_id,
    ) = row
    start = datetime.fromisoformat(earliest)
    return Event(
        id=event_id,
        system=system,
        at=Timestamp(start, datetime.fromisoformat(latest) if latest else start, raw, _PRECISION[precision], source_tz),
        kind=_KIND[kind],
        fulfillment=_FULFILLMENT[fulfillment] if fulfillment else None,
        financial=_FINANCIAL[financial] if financial else None,
        source=source,
        origin=_ORIGIN[origin],
        native_status=native_status,
        detail=detail,
        record_ref=record_ref,
        payload_id=payload_id,
    )
