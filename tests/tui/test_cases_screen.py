"""The cases screen: listing, moving, filtering, sorting, jumping, copying, errors."""

from __future__ import annotations

import sqlite3

from cache.store import Cache
from cache.views import CaseFilter
from tests.tui.conftest import make_app, settle
from tui.screens.case import CaseScreen
from tui.screens.cases import CasesScreen
from tui.screens.dialogs import ErrorScreen, PromptScreen, TooSmallScreen
from tui.widgets.case_list import CaseList


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_the_list_opens_with_counts_and_every_case(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        assert len(cases.rowids) == 16
        assert "MISMATCH 8" in text_of(app, "#chip-mismatch")
        assert "16 cases" in text_of(app, "#chip-total")
        assert "all 16 cases" in text_of(app, "#filter-line")
        assert cases.current.ref == "#1187"  # newest first


async def test_vim_keys_and_arrows_move_the_cursor(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        await pilot.press("j", "j", "down")
        assert cases.cursor == 3
        await pilot.press("k", "up")
        assert cases.cursor == 1
        await pilot.press("G")
        assert cases.cursor == 15
        await pilot.press("g")
        assert cases.cursor == 0
        await pilot.press("end")
        await settle(pilot)
        assert cases.current.ref == "113-0458823-9911734"  # the oldest
        assert "113-0458823-9911734" in text_of(app, "#case-summary")


async def test_enter_opens_the_case_and_escape_comes_back(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, CaseScreen) and app.screen.ref == "#1187"
        await pilot.press("escape")
        assert isinstance(app.screen, CasesScreen)


async def test_a_click_selects_and_a_second_click_opens(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        await pilot.click(CaseList, offset=(5, 3))  # line 0 is the header: this is the third case
        assert cases.cursor == 2 and isinstance(app.screen, CasesScreen)
        await pilot.click(CaseList, offset=(5, 3))
        assert isinstance(app.screen, CaseScreen)


async def test_verdict_toggles_filter_and_combine(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        await pilot.press("1")
        await settle(pilot)
        assert len(cases.rowids) == 8 and cases.current.verdict == "mismatch"
        assert "8 of 16 cases" in text_of(app, "#filter-line")
        await pilot.press("4")
        await settle(pilot)
        assert len(cases.rowids) == 10
        await pilot.press("x")
        await settle(pilot)
        assert len(cases.rowids) == 16


async def test_clicking_a_count_toggles_its_verdict(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#chip-delay")
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        assert len(cases.rowids) == 2 and app.screen.view.verdicts == {"delay"}


async def test_the_filter_box_takes_verdicts_systems_and_rules(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#filter-input")
        assert box.has_focus
        await pilot.press(*"mismatch netsuite tracking-mismatch", "enter")
        await settle(pilot)
        assert app.screen.view == CaseFilter(frozenset({"mismatch"}), "netsuite", "tracking-mismatch")
        cases = app.screen.query_one(CaseList)
        assert [cases.line_at(0).ref] == ["113-4455667-1122334"] and len(cases.rowids) == 1
        assert cases.has_focus


async def test_a_filter_that_matches_nothing_says_how_to_clear_it(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5", "u")  # in sync, and the first rule: no in-sync case has a finding of it
        await settle(pilot)
        assert not app.screen.query_one(CaseList).rowids
        assert "x clears the filters" in text_of(app, "#filter-line")


async def test_system_and_rule_filters_cycle(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert app.screen.view.system == "amazon" and len(app.screen.query_one(CaseList).rowids) == 15
        await pilot.press("w", "w", "w")
        await settle(pilot)
        assert app.screen.view.system is None


async def test_sort_cycles_and_keeps_the_cursor_on_its_case(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        chosen = cases.current.ref
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.view.sort == "oldest" and cases.current.ref == chosen
        assert "oldest first" in text_of(app, "#filter-line")


async def test_jump_to_a_ref_of_any_system(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"SO10482", "enter")
        await settle(pilot)
        assert app.screen.query_one(CaseList).current.ref == "113-4519876-3382210"


async def test_jumping_to_a_filtered_out_case_clears_the_filters(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")  # delays only
        await settle(pilot)
        app.screen.jump_to("#1042")
        await settle(pilot, until=lambda: not app.screen.view.is_filtered)
        await settle(pilot)
        assert app.screen.query_one(CaseList).current.ref == "113-4519876-3382210"


async def test_an_unknown_ref_is_a_notification(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.jump_to("no-such-order")
        await settle(pilot, until=lambda: bool(app._notifications))
        assert "no-such-order" in list(app._notifications)[-1].message


async def test_copy_puts_the_refs_on_the_clipboard(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.jump_to("113-4519876-3382210")
        await settle(pilot, until=lambda: app.screen.query_one(CaseList).current.ref == "113-4519876-3382210")
        await pilot.press("y")
        assert app.clipboard == "113-4519876-3382210 | netsuite: SO10482 | shopify: #1042"
        assert list(app._notifications)[-1].title.startswith("Copied")


async def test_a_corrupt_row_shows_as_an_error_line_in_its_place(cache_path):
    conn = sqlite3.connect(cache_path)
    conn.execute("UPDATE cases SET created_at = 'not a date' WHERE ref = '113-4519876-3382210'")
    conn.commit()
    conn.close()
    app = make_app(cache_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        lines = [cases.line_at(i) for i in range(len(cases.rowids))]
        broken = [line for line in lines if line.error]
        assert len(broken) == 1 and broken[0].ref == "113-4519876-3382210"
        index = lines.index(broken[0])
        assert "⚠ 113-4519876-3382210: unreadable row" in cases.render_line(index + 1).text
        await pilot.press("G")  # the rest keeps working
        assert cases.current.ref == "113-0458823-9911734"


async def test_a_cache_from_a_newer_threetruth_is_refused_with_a_message(cache_path):
    conn = sqlite3.connect(cache_path)
    conn.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) VALUES ('threetruth', 'm999_future', '2030-01-01')")
    conn.commit()
    conn.close()
    app = make_app(cache_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, until=lambda: isinstance(app.screen, ErrorScreen))
        assert "newer threetruth" in str(app.screen.query_one("#error-message").render())
        await pilot.press("q")
    assert app.return_value == 2


async def test_a_file_that_is_not_a_cache_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    app = make_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, until=lambda: isinstance(app.screen, ErrorScreen))
        assert "is not a threetruth cache" in str(app.screen.query_one("#error-message").render())


async def test_an_old_cache_is_migrated_and_its_cases_audited(cache_path):
    conn = sqlite3.connect(cache_path)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_sync_progress'")
    conn.execute("DROP TABLE sync_progress")
    conn.execute("UPDATE cases SET verdict = NULL")
    conn.commit()
    conn.close()
    app = make_app(cache_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, until=lambda: any("Audited 16" in n.message for n in app._notifications))
        await settle(pilot)
        assert "MISMATCH 8" in text_of(app, "#chip-mismatch")


async def test_an_empty_cache_is_filled_with_the_bundled_samples(tmp_path):
    app = make_app(tmp_path / "fresh.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, until=lambda: any("Audited" in n.message for n in app._notifications))
        await settle(pilot)
        assert len(app.screen.query_one(CaseList).rowids) == 16


async def test_a_terminal_too_small_says_so_and_recovers(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.resize_terminal(50, 12)
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        assert "Terminal too small: 50×12" in str(app.screen.query_one("#too-small").render())
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)


async def test_usable_at_80_by_24(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        header = cases.render_line(0).text
        assert "VERDICT" in header and "CASE" in header and "FIRST DIVERGENCE" in header
        assert cases.scrollable_content_region.height >= 15


async def test_the_palette_offers_filters_and_sorts(app):
    from textual.command import CommandPalette

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"rule tracking")
        await settle(pilot, until=lambda: app.screen.query_one("CommandList").option_count > 0)
        await pilot.press("enter")
        await settle(pilot, until=lambda: isinstance(app.screen, CasesScreen) and app.screen.view.rule == "tracking-mismatch")
        await settle(pilot)
        assert len(app.screen.query_one(CaseList).rowids) == 1


async def test_switching_theme_redraws_in_the_new_colours(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        before = cases.render_line(1)
        app.theme = "textual-light"
        await pilot.pause()
        after = cases.render_line(1)
        assert before.text == after.text and list(before) != list(after)


async def test_an_empty_cache_says_how_to_fill_it_and_an_empty_filter_how_to_clear_it(tmp_path, cache_path):
    with Cache.open(tmp_path / "empty.db"):
        pass
    app = make_app(tmp_path / "empty.db", import_samples=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        assert "No cases in this cache yet" in cases.render_line(1).text
        assert "threetruth fetch REF" in cases.render_line(2).text
    app = make_app(cache_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cases = app.screen.query_one(CaseList)
        assert len(cases.rowids) == 16 and "No case" not in cases.render_line(1).text
        await pilot.press("6")  # only cases not audited yet: the sample cache has none
        await settle(pilot)
        assert not cases.rowids
        assert "x clears them" in cases.render_line(1).text
