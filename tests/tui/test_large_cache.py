"""A cache of 100,000 cases: the list opens at once, moves anywhere, filters and jumps."""

from __future__ import annotations

import time

import pytest

from tests.tui.bulk import amazon_ref, build_bulk_cache
from tests.tui.conftest import make_app, settle
from tui.widgets.case_list import KEEP_WINDOWS, WINDOW, CaseList

COUNT = 100_000


@pytest.fixture(scope="module")
def big_cache(tmp_path_factory):
    return build_bulk_cache(tmp_path_factory.mktemp("big") / "big.db", COUNT, records=False)


async def test_a_100k_case_cache_opens_and_scrolls(big_cache):
    app = make_app(big_cache)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, until=lambda: app.views is not None and app.screen.query_one(CaseList).current is not None)
        first = time.perf_counter() - started
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        assert len(cases.rowids) == COUNT
        assert cases.current.ref == amazon_ref(COUNT - 1)  # newest first
        assert first < 5  # generous for a loaded CI machine; the benchmark measures it properly
        assert "100,000 cases" in str(app.screen.query_one("#chip-total").render())
        await pilot.press("G")
        await settle(pilot)
        assert cases.current.ref == amazon_ref(0)
        await pilot.press("g", "pagedown", "pagedown")
        await settle(pilot)
        assert cases.cursor == 2 * cases.page
        # Only a bounded number of windows is ever held, however far the list went.
        assert len(cases._windows) <= KEEP_WINDOWS
        await pilot.press("1")
        await settle(pilot)
        assert len(cases.rowids) == COUNT // 5 and cases.current.verdict == "mismatch"
        app.screen.jump_to(amazon_ref(54_321))  # a mismatch (every tenth case from the second) deep in the list
        await settle(pilot, until=lambda: cases.current is not None and cases.current.ref == amazon_ref(54_321))
        assert cases.cursor > 10 * WINDOW
