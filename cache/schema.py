"""The cache schema, as versioned migrations (sqlite-utils ``Migrations``).

Each migration runs in its own transaction together with the record of it
having been applied. Never edit an applied migration: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("threetruth")


@MIGRATIONS(name="m001_initial")
def m001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE systems (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            platform TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE cases (
            ref TEXT PRIMARY KEY,
            origin TEXT NOT NULL,
            created_at TEXT,          -- when the origin system created the order (UTC ISO)
            written_at TEXT NOT NULL, -- newest fetch/import time of any of its payloads
            verdict TEXT,             -- NULL until audited, and again after any new data
            audited_as_of TEXT,
            finding_count INTEGER,
            divergence_at TEXT,
            divergence_rule TEXT,
            divergence_from TEXT,
            divergence_to TEXT,
            divergence_system TEXT,
            divergence_event TEXT
        )"""
    )
    db.execute(
        """
        CREATE TABLE holdings (
            case_ref TEXT NOT NULL REFERENCES cases(ref),
            system TEXT NOT NULL REFERENCES systems(name),
            presence TEXT NOT NULL,
            fetched_at TEXT,
            proof TEXT,
            PRIMARY KEY (case_ref, system)
        )"""
    )
    db.execute(
        """
        CREATE TABLE payloads (
            case_ref TEXT NOT NULL,
            id TEXT NOT NULL,
            system TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            body TEXT NOT NULL,       -- the response exactly as received
            PRIMARY KEY (case_ref, id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE records (
            case_ref TEXT NOT NULL,
            system TEXT NOT NULL,
            seq INTEGER NOT NULL,
            ref TEXT NOT NULL,
            native_id TEXT NOT NULL,
            native_status TEXT NOT NULL,
            fulfillment TEXT NOT NULL,
            financial TEXT NOT NULL,
            total TEXT,
            currency TEXT,
            -- Lists and timestamps are joined with the ASCII unit separator (0x1F), which
            -- never occurs in refs, ids or tracking numbers: the audit reads these columns
            -- for every record, and splitting is several times cheaper than JSON.
            created TEXT,             -- earliest 0x1F latest 0x1F precision 0x1F zone 0x1F raw
            updated TEXT,
            tracking TEXT NOT NULL,
            links TEXT NOT NULL,
            unmapped TEXT NOT NULL,   -- JSON list of [field, value, dimension]
            payload_ids TEXT NOT NULL,
            sources TEXT NOT NULL,    -- JSON list of [value name, field path]
            PRIMARY KEY (case_ref, system, seq)
        )"""
    )
    db.execute("CREATE INDEX records_by_ref ON records(ref)")
    db.execute(
        """
        CREATE TABLE lines (
            case_ref TEXT NOT NULL,
            system TEXT NOT NULL,
            record_seq INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            sku TEXT NOT NULL,
            ordered INTEGER NOT NULL,
            shipped INTEGER NOT NULL,
            cancelled INTEGER NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (case_ref, system, record_seq, seq)
        )"""
    )
    db.execute(
        """
        CREATE TABLE events (
            case_ref TEXT NOT NULL,
            system TEXT NOT NULL,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at_earliest TEXT NOT NULL,
            at_latest TEXT NOT NULL,  -- empty when equal to at_earliest (an instant)
            at_raw TEXT NOT NULL,
            precision TEXT NOT NULL,
            source_tz TEXT,
            fulfillment TEXT,
            financial TEXT,
            source TEXT NOT NULL,
            origin TEXT NOT NULL,
            native_status TEXT,
            detail TEXT NOT NULL,
            record_ref TEXT,
            payload_id TEXT,
            PRIMARY KEY (case_ref, system, seq)
        )"""
    )
    db.execute(
        """
        CREATE TABLE findings (
            case_ref TEXT NOT NULL,
            seq INTEGER NOT NULL,
            rule TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT,
            handoff_from TEXT,
            handoff_to TEXT,
            events TEXT NOT NULL,     -- JSON list of event ids
            message TEXT NOT NULL,
            latency_seconds INTEGER,
            PRIMARY KEY (case_ref, seq)
        )"""
    )
    db.execute("CREATE INDEX cases_by_verdict ON cases(verdict, created_at)")
    db.execute("CREATE INDEX cases_by_time ON cases(created_at)")
    db.execute("CREATE INDEX holdings_by_system ON holdings(system, presence)")


@MIGRATIONS(name="m002_finding_advice_and_settings")
def m002_finding_advice_and_settings(db: Database) -> None:
    """Findings keep what to check next and the systems involved; verdicts remember their settings."""
    db.execute("ALTER TABLE findings ADD COLUMN check_next TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE findings ADD COLUMN systems TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE cases ADD COLUMN settings_key TEXT")
    db.execute("CREATE INDEX findings_by_rule ON findings(rule, case_ref)")
    db.execute("CREATE INDEX cases_by_origin ON cases(origin, created_at)")
    # Verdicts written before this version were computed without a settings key:
    # mark them stale so the next audit recomputes them.
    db.execute("UPDATE cases SET verdict = NULL")




@MIGRATIONS(name="m003_sync_progress")
def m003_sync_progress(db: Database) -> None:
    """Where each system's sync of a time window got to, so an interrupted sync resumes."""
    db.execute(
        """
        CREATE TABLE sync_progress (
            system TEXT NOT NULL,
            since TEXT NOT NULL,
            until TEXT NOT NULL,      -- '' for an open window
            cursor TEXT,              -- where the listing resumes; NULL before the first page
            done INTEGER NOT NULL DEFAULT 0,
            cases INTEGER NOT NULL DEFAULT 0,
            total INTEGER,            -- orders in the window, when the platform tells
            updated_at TEXT NOT NULL,
            PRIMARY KEY (system, since, until)
        )"""
    )


def known_migrations() -> tuple[str, ...]:
    """Names of every migration this version of threetruth knows, in order."""
    return tuple(migration.name for migration in MIGRATIONS.pending(Database(memory=True)))
