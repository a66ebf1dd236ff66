"""The case screen: one order's three truths (grid), its timeline, its findings; refresh, compare, export, copy."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, OptionList, Static, TabbedContent, TabPane

from audit.engine import audit_case
from audit.model import CaseResult, Event, RawPayload, ThreetruthError
from tui.commands import Command
from tui.present import case_refs, divergence_text, finding_text, plural, source_of, state_class, utc, verdict_label
from tui.widgets.event_detail import EventDetail
from tui.widgets.findings import FindingsList
from tui.widgets.timeline import TimelineView
from tui.widgets.truth_grid import TruthGrid


def read_case(path: str, ref: str, settings) -> tuple[CaseResult, list[RawPayload]]:
    """Load and audit one case (as of its newest fetch, with the config's settings).

    Raises:
        ThreetruthError: the case is not in the cache, or a row of it cannot be read.
    """
    from cache.store import Cache

    try:
        with Cache.open(path, migrate=False) as cache:
            case = cache.load_case(ref)
            if case is None:
                raise ThreetruthError(f"{ref} is not in the cache {path}; it may have been removed", title="Case not found")
            payloads = cache.payloads(ref)
    except (ValueError, KeyError, TypeError, sqlite3.Error) as exc:
        raise ThreetruthError(
            f"a row of {ref} cannot be read ({type(exc).__name__}: {exc}). The rest of the cache is fine; "
            "re-import or refresh this case to replace it.",
            title="Unreadable case",
        ) from None
    return audit_case(case, settings), payloads


class CaseScreen(Screen[None]):
    """Everything about one case."""

    BINDINGS = [
        Binding("escape,backspace", "back", "Back", tooltip="Back to the cases"),
        Binding("1", "tab('tab-grid')", "Grid", show=False, tooltip="Show the truth grid"),
        Binding("2", "tab('tab-timeline')", "Timeline", show=False, tooltip="Show the timeline"),
        Binding("3", "tab('tab-findings')", "Findings", show=False, tooltip="Show the findings"),
        Binding("n", "divergence(1)", "Next div", tooltip="Next divergence in the timeline"),
        Binding("N", "divergence(-1)", "Prev div", show=False, key_display="N", tooltip="Previous divergence in the timeline"),
        Binding("d", "dim", "Dim agreed", show=False, tooltip="Dim the events the systems agree on"),
        Binding("t", "times", "UTC/raw", show=False, tooltip="Timestamps in UTC or as each system wrote them"),
        Binding("p", "inspect", "Payload", tooltip="Raw payload behind the cell or event"),
        Binding("r", "refresh", "Refresh", tooltip="Re-fetch this case from the live systems"),
        Binding("c", "compare", "Compare", tooltip="Compare with another case"),
        Binding("e", "export", "Export", tooltip="Export Markdown, JSON and an SVG screenshot"),
        Binding("y", "copy", "Copy", tooltip="Copy the highlighted finding, else the refs"),
    ]

    class CaseLoaded(Message):
        def __init__(self, result: CaseResult, payloads: list[RawPayload]) -> None:
            super().__init__()
            self.result, self.payloads = result, payloads

    class CaseLoadFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    class Refreshed(Message):
        def __init__(self, problems: list[str]) -> None:
            super().__init__()
            self.problems = problems

    class RefreshFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    class Exported(Message):
        def __init__(self, folder: Path, files: list[str]) -> None:
            super().__init__()
            self.folder, self.files = folder, files

    class ExportFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.result: CaseResult | None = None
        self.payloads: list[RawPayload] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="case-head"):
            yield Static(Content(self.ref), id="case-title")
            yield Static("Loading…", id="case-divergence")
        with Horizontal(id="refresh-status"):
            yield LoadingIndicator(id="refresh-spinner")
            yield Static("", id="refresh-text")
        yield Static("", id="case-error")
        with TabbedContent(initial="tab-grid", id="case-tabs"):
            with TabPane("1 Truth grid", id="tab-grid"):
                yield TruthGrid(id="grid")
            with TabPane("2 Timeline", id="tab-timeline"):
                yield TimelineView(id="timeline")
                yield EventDetail(id="event-detail")
            with TabPane("3 Findings", id="tab-findings"):
                yield FindingsList(id="findings")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    # --- loading -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-load")
    def load(self) -> None:
        try:
            result, payloads = read_case(self.app.cache_path, self.ref, self.app.config.audit)
        except ThreetruthError as exc:
            self.post_message(self.CaseLoadFailed(exc.title, exc.message))
            return
        self.post_message(self.CaseLoaded(result, payloads))

    def on_case_screen_case_loaded(self, message: CaseLoaded) -> None:
        result = self.result = message.result
        self.payloads = message.payloads
        self.remove_class("-failed")
        title = Content.from_markup(
            "[b]$ref[/]  [b]$verdict[/]  [$text-muted]born in $origin · $count · as of $as_of[/]",
            ref=result.case.ref,
            verdict=verdict_label(result.verdict.value),
            origin=result.case.origin,
            count=plural(len(result.findings), "finding"),
            as_of=utc(result.as_of),
        )
        head = self.query_one("#case-title", Static)
        head.update(title)
        for name in ("-mismatch", "-missing", "-delay", "-in-sync"):
            head.remove_class(name)
        head.add_class(state_class(result.verdict.value))
        self.query_one("#case-divergence", Static).update(Content(divergence_text(result)))
        self.query_one(TruthGrid).show(result)
        self.query_one(TimelineView).show(result, self.app.config.audit)
        self.query_one(FindingsList).show(result)

    def on_case_screen_case_load_failed(self, message: CaseLoadFailed) -> None:
        self.add_class("-failed")
        self.query_one("#case-divergence", Static).update("")
        self.query_one("#case-error", Static).update(Content.from_markup("[b]$title[/]\n$message", title=message.title, message=message.message))

    # --- navigation ----------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab(tab)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._focus_tab(event.pane.id or "")

    def _focus_tab(self, tab: str) -> None:
        widget = {"tab-grid": TruthGrid, "tab-timeline": TimelineView, "tab-findings": FindingsList}.get(tab)
        if widget is not None:
            self.query_one(widget).focus()

    def action_divergence(self, step: int) -> None:
        if self.result is None:
            return
        timeline = self.query_one(TimelineView)
        self.action_tab("tab-timeline")
        if not timeline.next_divergence(step):
            what = "later" if step > 0 else "earlier"
            self.notify(f"No {what} divergence in this case.", title="Timeline", timeout=3)

    def action_dim(self) -> None:
        timeline = self.query_one(TimelineView)
        timeline.dim_agreed = not timeline.dim_agreed
        self.action_tab("tab-timeline")

    def action_times(self) -> None:
        timeline = self.query_one(TimelineView)
        timeline.raw_times = not timeline.raw_times
        self.action_tab("tab-timeline")

    @on(TimelineView.Highlighted)
    def _event_highlighted(self, message: TimelineView.Highlighted) -> None:
        self.query_one(EventDetail).show(message.line)

    @on(OptionList.OptionSelected, "#findings")
    def _finding_chosen(self, event: OptionList.OptionSelected) -> None:
        finding = self.query_one(FindingsList).current
        if finding is not None:
            self.action_tab("tab-timeline")
            self.query_one(TimelineView).show_finding(finding)

    # --- the payload inspector ---------------------------------------------------------

    def action_inspect(self) -> None:
        if self.result is None:
            return
        active = self.query_one(TabbedContent).active
        if active == "tab-grid":
            self._inspect_cell()
        else:
            line = self.query_one(TimelineView).current
            if line is not None and line.event is not None:
                self._inspect_event(line.event)
            else:
                self.notify("Move to an event (Timeline) or a cell (Truth grid) first.", title="No payload here", timeout=4)

    @on(TruthGrid.CellSelected)
    def _cell_selected(self) -> None:
        self._inspect_cell()

    @on(TimelineView.Chosen)
    def _event_chosen(self, message: TimelineView.Chosen) -> None:
        self._inspect_event(message.event)

    def _inspect_cell(self) -> None:
        column, row = self.query_one(TruthGrid).selected()
        if column is None or column.record is None:
            self.notify("This column holds no record, so there is no payload behind it.", title="No payload here", timeout=4)
            return
        record = column.record
        path = source_of(record, row) if row else None
        self._open_inspector(list(record.payload_ids), path, f"{column.label} · {row}")

    def _inspect_event(self, event: Event) -> None:
        ids = [event.payload_id] if event.payload_id else []
        self._open_inspector(ids, event.source or None, f"{event.system} · {event.kind.value}")

    def _open_inspector(self, ids: list[str], path: str | None, what: str) -> None:
        from tui.screens.inspector import InspectorScreen

        chosen = [p for p in self.payloads if p.id in ids] or []
        if not chosen:
            self.notify("No stored payload is linked to this value.", title="No payload here", timeout=4)
            return
        self.app.push_screen(InspectorScreen(chosen, path=path, what=what))

    # --- refresh -----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.query_one("#refresh-status").has_class("-busy"):
            self.notify("A refresh of this case is already running.", title="Refresh", timeout=3)
            return
        systems = sorted(self.app.config.systems)
        self.query_one("#refresh-text", Static).update(
            f"Refreshing {self.ref} from {', '.join(systems) or 'the configured systems'}…"
        )
        self.query_one("#refresh-status").add_class("-busy")
        self.refresh_case()

    @work(exclusive=True, exit_on_error=False, group="case-refresh")
    async def refresh_case(self) -> None:
        """Fetch the case again from every configured system, store it, audit it."""
        app = self.app
        try:
            from tui.auditing import audit_cache
            from tui.fetching import close_all, fetch_refs

            adapters = app.connect(app.config)
            try:
                from cache.store import Cache

                with Cache.open(app.config.cache_path) as cache:
                    report = await fetch_refs([self.ref], app.config, cache, adapters)
            finally:
                await close_all(adapters)
            fetched = [f for f in report.fetched if f.case is not None]
            if not fetched:
                problems = report.problems or ["no configured system holds this order any more"]
                self.post_message(
                    self.RefreshFailed(f"Cannot refresh {self.ref}", "\n".join(problems) + "\nThe cached data is unchanged.")
                )
                return
            await asyncio.to_thread(audit_cache, app.cache_path, app.config.audit, refs=[fetched[0].case.ref], jobs=1)
        except ThreetruthError as exc:
            self.post_message(self.RefreshFailed(exc.title, exc.message + "\nThe cached data is unchanged."))
            return
        except Exception as exc:  # noqa: BLE001 - the worker's edge: whatever went wrong, say so and stop spinning
            self.post_message(
                self.RefreshFailed(f"Cannot refresh {self.ref}", f"{type(exc).__name__}: {exc}\nThe cached data is unchanged.")
            )
            return
        self.post_message(self.Refreshed(report.problems))

    def on_case_screen_refreshed(self, message: Refreshed) -> None:
        self.query_one("#refresh-status").remove_class("-busy")
        if message.problems:
            self.notify(
                "\n".join(message.problems) + "\nWhat those systems held before is kept.",
                title="Refreshed, but some systems could not be read",
                severity="warning",
                timeout=10,
            )
        else:
            self.notify(f"{self.ref} re-fetched from every system and audited again.", title="Refreshed")
        self.app.post_message(self.app.CaseChanged(self.ref))
        self.load()

    def on_case_screen_refresh_failed(self, message: RefreshFailed) -> None:
        self.query_one("#refresh-status").remove_class("-busy")
        self.notify(message.message, title=message.title, severity="error", timeout=12)

    # --- compare, export, copy ------------------------------------------------------------

    def action_compare(self) -> None:
        from tui.screens.compare import ChooseCaseScreen, CompareScreen

        if self.result is None:
            return

        def chosen(other: str | None) -> None:
            if other:
                self.app.push_screen(CompareScreen(self.ref, other))

        self.app.push_screen(ChooseCaseScreen(self.ref), chosen)

    def action_export(self) -> None:
        if self.result is None:
            return
        svg = self.app.export_screenshot(title=f"threetruth · {self.ref}")
        self.export_case(self.result, svg, self.app.export_dir)

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-export")
    def export_case(self, result: CaseResult, svg: str, root: Path) -> None:
        from tui.export import export_case

        try:
            folder, files = export_case(result, self.app.config.audit, svg, root)
        except OSError as exc:
            self.post_message(self.ExportFailed("Export failed", f"Cannot write to {root}: {exc.strerror or exc}"))
            return
        except Exception as exc:  # noqa: BLE001 - the worker's edge: report, never crash
            self.post_message(self.ExportFailed("Export failed", f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Exported(folder, files))

    def on_case_screen_exported(self, message: Exported) -> None:
        self.notify(f"{', '.join(message.files)}\nin {message.folder}", title=f"Exported {self.ref}", timeout=8)

    def on_case_screen_export_failed(self, message: ExportFailed) -> None:
        self.notify(message.message, title=message.title, severity="error", timeout=10)

    def action_copy(self) -> None:
        """Copy the highlighted finding's text (Findings tab or a finding line), else the case's refs."""
        if self.result is None:
            return
        finding = None
        active = self.query_one(TabbedContent).active
        if active == "tab-findings":
            finding = self.query_one(FindingsList).current
        elif active == "tab-timeline":
            line = self.query_one(TimelineView).current
            finding = line.finding if line is not None else None
        if finding is not None:
            self.app.copy(finding_text(finding), "the finding")
        else:
            self.action_copy_refs()

    def action_copy_refs(self) -> None:
        if self.result is not None:
            self.app.copy(case_refs(self.result), "the refs")

    def palette_commands(self) -> Iterator[Command]:
        yield ("Copy the case's refs", "every system's ref of this order", self.action_copy_refs)
        yield ("Show the truth grid", "key: 1", lambda: self.action_tab("tab-grid"))
        yield ("Show the timeline", "key: 2", lambda: self.action_tab("tab-timeline"))
        yield ("Show the findings", "key: 3", lambda: self.action_tab("tab-findings"))
        yield ("Toggle dimming of agreed events", "key: d", self.action_dim)
        yield ("Toggle UTC / raw timestamps", "key: t", self.action_times)
