"""Large caches for tests and benchmarks, built fast by direct inserts of minimal, audited rows.

Each case is born on Amazon and held by Amazon, NetSuite and Shopify; verdicts and
first divergences cycle through every kind, and the rows carry the settings key of
the default audit settings, so the UI finds nothing stale and never re-audits them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from audit.model import UTC
from audit.settings import AuditSettings
from cache.store import Cache

START = datetime(2026, 1, 1, tzinfo=UTC)
SYSTEMS = (("amazon", "marketplace", "amazon"), ("netsuite", "erp", "netsuite"), ("shopify", "storefront", "shopify"))
# (verdict, finding count, rule, from, to): one cycle of ten cases.
PATTERN = (
    ("in_sync", 0, None, None, None),
    ("mismatch", 1, "out-of-sequence", "amazon", "netsuite"),
    ("in_sync", 0, None, None, None),
    ("delay", 1, "sync-delay", "netsuite", "amazon"),
    ("in_sync", 0, None, None, None),
    ("mismatch", 2, "tracking-mismatch", "netsuite", "shopify"),
    ("missing_handoff", 1, "missing-handoff", "netsuite", "amazon"),
    ("in_sync", 0, None, None, None),
    ("missing_record", 1, "missing-record", "amazon", "netsuite"),
    ("in_sync", 0, None, None, None),
)


def amazon_ref(i: int) -> str:
    return f"113-{i // 10_000_000:07d}-{i % 10_000_000:07d}"


def build_bulk_cache(path: str | Path, count: int, *, records: bool = True, batch: int = 50_000) -> Path:
    """Create (or top up to ``count``) a cache of minimal audited cases; returns its path."""
    path = Path(path)
    key = AuditSettings().fingerprint
    with Cache.open(path) as cache:
        conn = cache.db.conn
        have = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        conn.execute("PRAGMA synchronous = OFF")
        with cache.db.atomic():
            conn.executemany("INSERT OR IGNORE INTO systems(name, role, platform) VALUES (?, ?, ?)", SYSTEMS)
        for start in range(have, count, batch):
            cases, holdings, recs, findings = [], [], [], []
            for i in range(start, min(count, start + batch)):
                ref = amazon_ref(i)
                born = START + timedelta(minutes=i)
                verdict, found, rule, source, target = PATTERN[i % len(PATTERN)]
                divergence = (born + timedelta(hours=5)).isoformat() if rule else None
                fetched = (born + timedelta(days=2)).isoformat()
                cases.append((ref, "amazon", born.isoformat(), fetched, verdict, fetched, found, divergence, rule,
                              source, target, source, "shipped" if rule else None, key))
                for name, _role, _platform in SYSTEMS:
                    holdings.append((ref, name, "present", fetched))
                if records:
                    recs.append((ref, "amazon", 0, ref, ref, "Shipped", "shipped", "paid"))
                    recs.append((ref, "netsuite", 0, f"SO{i + 10000}", str(i + 20000), "Billed", "shipped", "invoiced"))
                    recs.append((ref, "shopify", 0, f"#{i + 1000}", f"gid://shopify/Order/{i}", "FULFILLED", "shipped", "paid"))
                if rule:
                    findings.append((ref, 0, rule, verdict if verdict != "in_sync" else "delay", divergence, source, target,
                                     "[]", f"{rule} between {source} and {target}", None, "", "[]"))
            with cache.db.atomic():
                conn.executemany(
                    "INSERT INTO cases(ref, origin, created_at, written_at, verdict, audited_as_of, finding_count, "
                    "divergence_at, divergence_rule, divergence_from, divergence_to, divergence_system, divergence_event, "
                    "settings_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    cases,
                )
                conn.executemany("INSERT INTO holdings(case_ref, system, presence, fetched_at) VALUES (?, ?, ?, ?)", holdings)
                conn.executemany(
                    "INSERT INTO records(case_ref, system, seq, ref, native_id, native_status, fulfillment, financial, "
                    "tracking, links, unmapped, payload_ids, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '', '[]', '', '[]')",
                    recs,
                )
                conn.executemany(
                    "INSERT INTO findings(case_ref, seq, rule, kind, at, handoff_from, handoff_to, events, message, "
                    "latency_seconds, check_next, systems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    findings,
                )
    return path
