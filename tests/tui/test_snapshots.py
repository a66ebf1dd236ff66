"""Snapshots of the key states, at a fixed size, theme and clock, from the bundled samples.

Update after a deliberate change of the look with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs it writes under ``__snapshots__``.
"""

from __future__ import annotations

import sqlite3

from tests.tui.conftest import make_app, settle
from tui.screens.case import CaseScreen
from tui.screens.compare import CompareScreen

CASCADE = "113-4519876-3382210"


def opening(ref: str, *keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot)
        app.push_screen(CaseScreen(ref))
        await settle(pilot, until=lambda: isinstance(app.screen, CaseScreen) and app.screen.result is not None)
        await pilot.press(*keys)
        await settle(pilot, until=lambda: True)

    return run_before


async def listed(pilot) -> None:
    await settle(pilot)


def test_cases_at_80_by_24(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(80, 24), run_before=listed)


def test_cases_filtered_to_mismatches_sorted_by_ref(snap_compare, cache_path):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("1", "s", "s", "s", "s", "j", "j")
        await settle(pilot)

    assert snap_compare(make_app(cache_path), terminal_size=(110, 30), run_before=run_before)


def test_case_grid(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(100, 30), run_before=opening(CASCADE))


def test_case_timeline_at_the_first_divergence(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(100, 30), run_before=opening("113-1029384-5647382", "2"))


def test_case_timeline_raw_times_and_dimmed(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(110, 30), run_before=opening("113-3390127-6650281", "2", "t", "d"))


def test_case_findings(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(100, 30), run_before=opening("113-1029384-5647382", "3"))


def test_case_at_80_by_24(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(80, 24), run_before=opening("113-0458823-9911734", "2"))


def test_payload_inspector(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(100, 30), run_before=opening(CASCADE, "2", "p"))


def test_compare(snap_compare, cache_path):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot)
        app.push_screen(CompareScreen(CASCADE, "113-2201934-5567102"))
        await settle(pilot, until=lambda: isinstance(app.screen, CompareScreen) and app.screen.results is not None)

    assert snap_compare(make_app(cache_path), terminal_size=(100, 30), run_before=run_before)


def test_help(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(100, 30), run_before=opening(CASCADE, "question_mark"))


def test_terminal_too_small(snap_compare, cache_path):
    assert snap_compare(make_app(cache_path), terminal_size=(50, 12))


def test_unreadable_case(snap_compare, cache_path):
    conn = sqlite3.connect(cache_path)
    conn.execute("UPDATE records SET fulfillment = 'teleported' WHERE case_ref = ?", (CASCADE,))
    conn.commit()
    conn.close()

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot)
        app.push_screen(CaseScreen(CASCADE))
        await settle(pilot, until=lambda: app.screen.has_class("-failed"))

    assert snap_compare(make_app(cache_path), terminal_size=(100, 24), run_before=run_before)
