"""Fixtures for the UI tests: a cache of the bundled scenarios, an app on it, and a way to wait for it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable

from audit.model import UTC
from cache.store import Cache
from tui.app import ThreetruthApp
from tui.auditing import audit_cache
from tui.config import load_config
from tui.ingest import bundled_scenarios, import_paths
from tui.screens.case import CaseScreen
from tui.widgets.case_list import CaseList

NOW = datetime(2026, 3, 6, 12, tzinfo=UTC)  # the frozen clock: ages on the list are measured from it
THEME = "textual-dark"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """The bundled scenarios, imported and audited once for the whole session (copy before writing)."""
    path = tmp_path_factory.mktemp("samples") / "samples.db"
    config = replace(load_config(None, {}), cache_path=path)
    with Cache.open(path) as cache:
        report = import_paths([bundled_scenarios()], config, cache)
        assert not report.problems
        cache.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    audit_cache(str(path), config.audit, jobs=1)
    with Cache.open(path) as cache:
        cache.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def cache_path(sample_db, tmp_path) -> Path:
    """A private copy of the sample cache, for tests that write to it."""
    target = tmp_path / "cache.db"
    shutil.copy(sample_db, target)
    return target


def make_app(path: Path, **options) -> ThreetruthApp:
    config = options.pop("config", None) or replace(load_config(None, {}), cache_path=path)
    options.setdefault("clock", lambda: NOW)
    options.setdefault("theme", THEME)
    return ThreetruthApp(config, **options)


@pytest.fixture
def app(cache_path, tmp_path) -> ThreetruthApp:
    return make_app(cache_path, export_dir=tmp_path / "exports")


async def settle(pilot, until=None, timeout: float = 10.0) -> None:
    """Pause until ``until()`` holds (default: the case list is fully listed and its first window drawn)."""
    app = pilot.app

    def listed() -> bool:
        lists = app.screen.query(CaseList)
        if app.views is None or not lists:
            return False
        cases = lists.first()
        return not cases.scanning and (not cases.rowids or cases.current is not None)

    check = until or listed
    waited = 0.0
    while not check():
        await pilot.pause(0.02)
        waited += 0.02
        if waited > timeout:
            raise AssertionError("the app did not settle")
    await app.workers.wait_for_complete()
    await pilot.pause()
    # Tables size their columns when idle: wait for that too, or a screenshot may catch them half laid out.
    while any(table._require_update_dimensions or table._new_rows for table in app.screen.query(DataTable)):
        await pilot.pause(0.02)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def open_case(pilot, ref: str = "113-4519876-3382210") -> CaseScreen:
    """Open a case's screen and wait until its audit is shown (default: the classic cascade)."""
    app = pilot.app
    await settle(pilot)
    app.push_screen(CaseScreen(ref))
    await settle(pilot, until=lambda: isinstance(app.screen, CaseScreen) and app.screen.result is not None)
    return app.screen
