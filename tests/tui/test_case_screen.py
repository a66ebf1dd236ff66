"""The case screen: grid, timeline, findings, the payload inspector, export, copy, compare, help, palette."""

from __future__ import annotations

import json
import sqlite3

from textual.command import CommandPalette

from tests.tui.conftest import open_case, settle
from tui.present import REDACTED, redact
from tui.screens.case import CaseScreen
from tui.screens.compare import ChooseCaseScreen, CompareScreen
from tui.screens.help import HelpScreen
from tui.screens.inspector import InspectorScreen
from tui.widgets.aligned import AlignedTimelines
from tui.widgets.findings import FindingsList
from tui.widgets.payload_view import PayloadView
from tui.widgets.timeline import TimelineView
from tui.widgets.truth_grid import TruthGrid

CASCADE = "113-4519876-3382210"  # amazon shipped; netsuite never fulfilled
QUANTITIES = "113-1029384-5647382"  # two quantity mismatches
DUPLICATE = "113-6614478-0035519"  # two NetSuite sales orders
WEB = "#1187"  # born on Shopify; Amazon holds nothing


async def test_the_grid_has_a_column_per_record_and_marks_disagreement(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot, CASCADE)
        grid = screen.query_one(TruthGrid).grid
        assert [c.label for c in grid.columns] == ["amazon", "shopify", "netsuite"]
        rows = {row.key: row for row in grid.rows}
        assert [c.text for c in rows["fulfillment"].cells] == ["shipped", "open", "open"]
        assert rows["fulfillment"].cells[0].state == "-mismatch"  # the finding's systems
        assert rows["fulfillment"].cells[2].state == "-mismatch"
        assert not rows["total"].disagrees and not rows["ordered"].disagrees
        assert [c.text for c in rows["tracking"].cells] == ["1Z999AA10123456784", "—", "—"]


async def test_duplicates_get_a_column_each_and_a_missing_system_says_so(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot, DUPLICATE)
        assert [c.label for c in screen.query_one(TruthGrid).grid.columns] == ["amazon", "shopify", "netsuite 1/2", "netsuite 2/2"]
        screen.dismiss()
        screen = await open_case(pilot, WEB)
        columns = screen.query_one(TruthGrid).grid.columns
        assert [(c.system, c.record.ref if c.record else c.missing_text) for c in columns] == [
            ("shopify", "#1187"),  # the system where the order was born comes first
            ("amazon", "no record"),
            ("netsuite", "SO10487"),
        ]


async def test_the_timeline_starts_on_the_first_divergence_and_n_walks_the_divergences(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot, QUANTITIES)
        await pilot.press("2")
        timeline = screen.query_one(TimelineView)
        assert timeline.has_focus
        first = timeline.current
        assert first.divergence and first.event.system == "amazon" and first.event.kind.value == "shipped"
        await pilot.press("n")
        assert timeline.current.event.system == "shopify" and timeline.current.findings[0].rule == "quantity-mismatch"
        await pilot.press("n")  # no further divergence: the cursor stays and a note says so
        assert timeline.current.event.system == "shopify"
        assert "No later divergence" in list(app._notifications)[-1].message
        await pilot.press("N")
        assert timeline.current is first
        header = timeline.render_line(0).text
        assert header.split() == ["UTC", "AMAZON", "SHOPIFY", "NETSUITE"]
        drawn = timeline.render_line(timeline.cursor + 1).text
        assert drawn.startswith("▶ 03-03 10:04") and "◀● shipped" in drawn and "4m" in drawn


async def test_handoffs_are_drawn_between_lanes(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot, CASCADE)
        await pilot.press("2")
        timeline = screen.query_one(TimelineView)
        lines = [timeline.render_line(i + 1).text for i in range(len(timeline.lines))]
        created = next(line for line in lines if "● created" in line and "╶ 6m" in line)
        assert created.index("╶") < created.index("▶● created")  # from amazon's lane to netsuite's
        assert any("╰ ✖ out-of-sequence · amazon → netsuite" in line for line in lines)


async def test_dim_and_raw_time_toggles(app):
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_case(pilot, "113-3390127-6650281")  # the timezone trap
        timeline = screen.query_one(TimelineView)
        await pilot.press("t")
        assert timeline.raw_times and timeline.has_focus
        lines = [timeline.render_line(i + 1).text for i in range(len(timeline.lines))]
        assert any("3/3/2026 day America/Los_Angeles" in line for line in lines)
        await pilot.press("t")
        lines = [timeline.render_line(i + 1).text for i in range(len(timeline.lines))]
        assert any(line.startswith("  03-03 day") for line in lines)
        await pilot.press("d")
        assert timeline.dim_agreed


async def test_the_event_detail_shows_zone_precision_and_findings(app):
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_case(pilot, CASCADE)
        await pilot.press("2")
        detail = str(screen.query_one("#event-detail").render())
        assert "amazon · shipped · 2026-03-03 14:02:00Z" in detail and "zone UTC" in detail and "an instant" in detail
        assert "out-of-sequence:" in detail


async def test_findings_explain_and_enter_shows_the_event(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot, CASCADE)
        await pilot.press("3")
        findings = screen.query_one(FindingsList)
        prompt = str(findings.get_option_at_index(0).prompt)
        assert "MISMATCH ✖ out-of-sequence · amazon → netsuite" in prompt
        assert "a mismatch, not a delay" in prompt and "Check next:" in prompt
        await pilot.press("enter")
        assert screen.query_one("TabbedContent").active == "tab-timeline"
        assert screen.query_one(TimelineView).current.finding is findings.findings[0]


async def test_copy_a_finding_or_the_refs(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("y")
        assert app.clipboard == f"{CASCADE} | amazon: {CASCADE} | shopify: #1042 | netsuite: SO10482"
        await pilot.press("3", "y")
        assert app.clipboard.startswith("[mismatch] out-of-sequence (amazon → netsuite) at 2026-03-03 14:02Z")
        assert "Check next:" in app.clipboard
        assert list(app._notifications)[-1].title == "Copied the finding to the clipboard"


async def test_the_inspector_shows_the_payload_behind_a_grid_cell(app):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_case(pilot, CASCADE)
        grid = screen.query_one(TruthGrid)
        grid.focus()
        grid.move_cursor(row=4, column=1)  # fulfillment, amazon
        await pilot.press("p")
        inspector = app.screen
        assert isinstance(inspector, InspectorScreen)
        head = str(inspector.query_one("#inspector-head").render())
        assert "GET /orders/2026-01-01/orders/113-4519876-3382210" in head and "fetched 2026-03-05 12:00:00Z" in head
        assert "field order.fulfillment.fulfillmentStatus" in head
        view = inspector.query_one(PayloadView)
        assert view.matches and "fulfillmentStatus" in view.lines[view.matches[0][0]]
        await pilot.press("slash", *"UPS", "enter")
        assert view.matches and all("UPS" in view.lines[line].upper() for line, _s, _e in view.matches)
        await pilot.press("escape")
        assert isinstance(app.screen, CaseScreen)


async def test_the_inspector_redacts_secrets_and_enter_on_an_event_opens_it(cache_path, tmp_path):
    from tests.tui.conftest import make_app

    secret = {"headers": {"Authorization": "Bearer abc.def", "x-amz-access-token": "Atza|IwEB"}, "access_token": "shpat_123",
              "order": {"note": "shpat_0123456789", "id": 7}}
    conn = sqlite3.connect(cache_path)
    conn.execute(
        "INSERT INTO payloads(case_ref, id, system, endpoint, fetched_at, body) VALUES (?, 'p-secret', 'amazon', 'GET /x', "
        "'2026-03-05T12:00:00+00:00', ?)",
        (CASCADE, json.dumps(secret)),
    )
    conn.execute("UPDATE events SET payload_id = 'p-secret' WHERE case_ref = ? AND kind = 'shipped' AND system = 'amazon'", (CASCADE,))
    conn.commit()
    conn.close()
    app = make_app(cache_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("2", "enter")
        assert isinstance(app.screen, InspectorScreen)
        text = "\n".join(app.screen.query_one(PayloadView).lines)
        for value in ("abc.def", "Atza|IwEB", "shpat_123", "shpat_0123456789"):
            assert value not in text
        assert text.count(REDACTED) == 4 and '"id": 7' in text


def test_redaction_keeps_plain_values():
    data = {"AmazonOrderId": "113-1", "status": "Shipped", "client_secret": "s3", "items": [{"token": "t"}], "NextToken": None}
    assert redact(data) == {"AmazonOrderId": "113-1", "status": "Shipped", "client_secret": REDACTED, "items": [{"token": REDACTED}],
                            "NextToken": None}


async def test_export_writes_markdown_json_and_an_svg(app, tmp_path):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("e")
        await settle(pilot, until=lambda: any(n.title.startswith("Exported") for n in app._notifications))
        folder = tmp_path / "exports" / "113-4519876-3382210"
        markdown = (folder / "case.md").read_text()
        assert markdown.startswith("# 113-4519876-3382210: MISMATCH")
        assert "| fulfillment | **shipped** ≠ | **open** ≠ | **open** ≠ |" in markdown
        assert "**Check next:**" in markdown
        assert "**First divergence 2026-03-03 14:02Z · amazon → netsuite · shipped out-of-sequence**" in markdown
        document = json.loads((folder / "case.json").read_text())
        assert document["verdict"] == "mismatch" and document["first_divergence"]["rule"] == "out-of-sequence"
        assert len(document["timeline"]) == 8
        assert (folder / "screen.svg").read_text().startswith("<svg")
        assert str(folder) in list(app._notifications)[-1].message


async def test_compare_with_a_healthy_order_aligns_the_timelines(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("c")
        await settle(pilot, until=lambda: isinstance(app.screen, ChooseCaseScreen))
        await settle(pilot, until=lambda: app.screen.query_one("#choose-list").option_count > 0)
        options = app.screen.query_one("#choose-list")
        assert options.get_option_at_index(0).id == "113-3390127-6650281"  # the newest in-sync Amazon order
        await pilot.press("tab", "enter")
        await settle(pilot, until=lambda: isinstance(app.screen, CompareScreen) and app.screen.results is not None)
        table = app.screen.query_one(AlignedTimelines)
        steps = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert steps[0] == "amazon created" and "netsuite shipped" in steps
        row = table.get_row_at(steps.index("netsuite shipped"))
        assert str(row[1]) == "—" and str(row[3]) == "never happened on one side"
        await pilot.press("escape")
        assert isinstance(app.screen, CaseScreen)


async def test_compare_with_a_typed_ref(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("c")
        await settle(pilot, until=lambda: isinstance(app.screen, ChooseCaseScreen))
        await pilot.press(*"SO10483", "enter")
        await settle(pilot, until=lambda: isinstance(app.screen, CompareScreen) and app.screen.results is not None)
        assert app.screen.right_ref == "113-2201934-5567102"


async def test_help_lists_the_screens_keys(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and app.screen.context_name == "CaseScreen"
        await pilot.press("escape")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_the_palette_holds_every_action_of_the_screen(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, CASCADE)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"export markdown")
        await settle(pilot, until=lambda: app.screen.query_one("CommandList").option_count > 0)
        await pilot.press("enter")
        await settle(pilot, until=lambda: any(n.title.startswith("Exported") for n in app._notifications))


async def test_a_case_that_cannot_be_read_shows_an_error_in_place(cache_path):
    from tests.tui.conftest import make_app

    conn = sqlite3.connect(cache_path)
    conn.execute("UPDATE events SET kind = 'teleported' WHERE case_ref = ?", (CASCADE,))
    conn.commit()
    conn.close()
    app = make_app(cache_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(CaseScreen(CASCADE))
        await settle(pilot, until=lambda: app.screen.has_class("-failed"))
        error = str(app.screen.query_one("#case-error").render())
        assert "Unreadable case" in error and "re-import or refresh" in error
        await pilot.press("escape")  # the rest keeps working
        app.push_screen(CaseScreen("#1187"))
        await settle(pilot, until=lambda: app.screen.result is not None)
