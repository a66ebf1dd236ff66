"""The cases screen: every case of the cache, its verdict, where it split; filters, sorts and jumps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from audit.rules import RULES
from cache.views import NOT_AUDITED, SEVERITY, SORTS, CaseFilter, CaseLine, CaseViews, ViewError
from tui.commands import Command
from tui.present import VERDICT_LABELS, handoff_text, plural, utc, verdict_label
from tui.screens.dialogs import ask
from tui.widgets.case_list import CaseList
from tui.widgets.verdict_bar import VerdictBar

# Words the filter box understands for each verdict, besides its value.
VERDICT_WORDS = {
    **{v: v for v in SEVERITY},
    **{label.lower().replace(" ", "-"): v for v, label in VERDICT_LABELS.items()},
    "in-sync": "in_sync",
    "insync": "in_sync",
    "missing-record": "missing_record",
    "missing-handoff": "missing_handoff",
    "not-audited": NOT_AUDITED,
}


class CasesScreen(Screen[None]):
    """The list of cases, read from the cache in windows."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter by verdict, system or rule words, or a ref"),
        Binding("f", "jump", "Jump", tooltip="Jump to any system's ref or id"),
        Binding("s", "sort", "Sort", tooltip="Next sort order"),
        Binding("1", "toggle_verdict('mismatch')", "Mismatch", show=False, tooltip="Toggle mismatches"),
        Binding("2", "toggle_verdict('missing_record')", "No record", show=False, tooltip="Toggle missing records"),
        Binding("3", "toggle_verdict('missing_handoff')", "No handoff", show=False, tooltip="Toggle missing handoffs"),
        Binding("4", "toggle_verdict('delay')", "Delay", show=False, tooltip="Toggle delays"),
        Binding("5", "toggle_verdict('in_sync')", "In sync", show=False, tooltip="Toggle in-sync cases"),
        Binding("6", "toggle_verdict('not_audited')", "Unaudited", show=False, tooltip="Toggle cases not audited yet"),
        Binding("w", "cycle_system", "System", show=False, tooltip="Next system filter (cases it holds)"),
        Binding("u", "cycle_rule", "Rule", show=False, tooltip="Next rule filter"),
        Binding("x", "clear_filters", "Clear", show=False, tooltip="Clear every filter"),
        Binding("y", "copy_refs", "Copy", show=False, tooltip="Copy the highlighted case's refs"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]

    class CountsLoaded(Message):
        def __init__(self, counts: dict[str, int], systems: list[str], rules: list[str]) -> None:
            super().__init__()
            self.counts, self.systems, self.rules = counts, systems, rules

    class CountsFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    class Listed(Message):
        """The first full listing is on screen: the app may now start background work that competes with it."""

    class RefLocated(Message):
        def __init__(self, asked: str, found: tuple[str, int] | None, listed: bool) -> None:
            super().__init__()
            self.asked, self.found, self.listed = asked, found, listed

    def __init__(self) -> None:
        super().__init__()
        self.view = CaseFilter()
        self.views: CaseViews | None = None
        self.counts: dict[str, int] = {}
        self.systems: list[str] = []
        self.rules: list[str] = []
        self._stale = False
        self._listed = False

    def compose(self) -> ComposeResult:
        yield VerdictBar(id="verdicts")
        yield Static("Opening the cache…", id="filter-line")
        yield CaseList(clock=self.app.clock, id="cases")
        yield Static("", id="case-summary", markup=False)
        yield Input(
            placeholder="verdicts, systems or rules (mismatch netsuite sync-delay); a ref jumps to it; empty clears",
            id="filter-input",
        )
        yield Footer(compact=True)

    @property
    def case_list(self) -> CaseList:
        return self.query_one(CaseList)

    # --- data ------------------------------------------------------------------------

    def cache_ready(self, views: CaseViews) -> None:
        """The app opened the cache: count and list."""
        self.views = views
        self._apply(self.view)  # list at once; the counts, the systems and the rules arrive in parallel
        self._load_counts(views)
        self.case_list.focus()

    def data_changed(self) -> None:
        """Verdicts or cases changed underneath: read counts and the list again (now, or when shown again)."""
        if self.views is None:
            return
        if self.is_current:
            self._reread(self.views)
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale and self.views is not None:
            self._stale = False
            self._reread(self.views)

    def _reread(self, views: CaseViews) -> None:
        self._load_counts(views)
        self.case_list.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-counts")
    def _load_counts(self, views: CaseViews) -> None:
        try:
            counts, systems, rules = views.verdict_counts(), views.systems(), views.rules()
        except ViewError as exc:
            self.post_message(self.CountsFailed("Cannot read the cache", str(exc)))
            return
        self.post_message(self.CountsLoaded(counts, systems, rules))

    def on_cases_screen_counts_loaded(self, message: CountsLoaded) -> None:
        self.counts, self.systems = message.counts, message.systems
        self.rules = sorted(set(message.rules) | set(RULES))
        self.query_one(VerdictBar).show_counts(message.counts)
        self.case_list.set_systems(message.systems)
        self._describe()

    def on_cases_screen_counts_failed(self, message: CountsFailed) -> None:
        self.notify(message.message, title=message.title, severity="error")

    def _apply(self, view: CaseFilter, keep: int | None = None) -> None:
        self.view = view
        self.query_one(VerdictBar).show_active(view.verdicts)
        if self.views is not None:
            self.case_list.show(self.views, view, self.systems, keep=keep if keep is not None else self.case_list.current_rowid)
        self._describe()

    def _describe(self) -> None:
        view, cases = self.view, self.case_list
        total = sum(self.counts.values())
        shown = len(cases.rowids)
        parts = [f"{shown:,} of {total:,} cases" if view.is_filtered else f"all {total:,} cases"]
        if view.verdicts:
            parts.append("verdict " + ", ".join(verdict_label(v).lower() for v in SEVERITY if v in view.verdicts))
        if view.system:
            parts.append(f"held by {view.system}")
        if view.rule:
            parts.append(f"rule {view.rule}")
        parts.append(SORTS.get(view.sort, view.sort))
        if cases.scanning:
            parts.append("listing…")
        elif view.is_filtered and not shown:
            parts.append("nothing matches: x clears the filters")
        self.query_one("#filter-line", Static).update(" · ".join(parts))

    @on(CaseList.Scanned)
    def _scanned(self, message: CaseList.Scanned) -> None:
        self.call_after_refresh(self._describe)
        if message.done and not self._listed:
            self._listed = True
            self.post_message(self.Listed())

    @on(CaseList.ScanFailed)
    def _scan_failed(self, message: CaseList.ScanFailed) -> None:
        self.notify(message.message, title=message.title, severity="error")

    @on(CaseList.Highlighted)
    def _highlighted(self, message: CaseList.Highlighted) -> None:
        self._describe()
        self.query_one("#case-summary", Static).update(summary(message.line) if message.line else "")

    @on(CaseList.Chosen)
    def _chosen(self, message: CaseList.Chosen) -> None:
        from tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(message.ref))

    # --- filters -----------------------------------------------------------------------

    def action_toggle_verdict(self, verdict: str) -> None:
        verdicts = set(self.view.verdicts) ^ {verdict}
        self._apply(replace(self.view, verdicts=frozenset(verdicts)))

    @on(VerdictBar.Toggled)
    def _chip(self, message: VerdictBar.Toggled) -> None:
        self.action_toggle_verdict(message.verdict)

    def action_cycle_system(self) -> None:
        self._apply(replace(self.view, system=_next(self.systems, self.view.system)))

    def action_cycle_rule(self) -> None:
        self._apply(replace(self.view, rule=_next(self.rules, self.view.rule)))

    def action_sort(self) -> None:
        self._apply(replace(self.view, sort=_next(list(SORTS), self.view.sort, wrap=True) or "newest"))

    def action_clear_filters(self) -> None:
        self._apply(CaseFilter(sort=self.view.sort))

    def action_filter(self) -> None:
        box = self.query_one("#filter-input", Input)
        box.add_class("-shown")
        box.value = self._filter_words()
        box.focus()

    def action_close_filter(self) -> None:
        box = self.query_one("#filter-input", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.case_list.focus()

    def _filter_words(self) -> str:
        words = [v for v in SEVERITY if v in self.view.verdicts]
        words += [w for w in (self.view.system, self.view.rule) if w]
        return " ".join(words)

    @on(Input.Submitted, "#filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_close_filter()
        verdicts: set[str] = set()
        system = rule = None
        unknown = []
        for word in event.value.split():
            key = word.lower()
            if key in VERDICT_WORDS:
                verdicts.add(VERDICT_WORDS[key])
            elif key in self.systems:
                system = key
            elif key in self.rules:
                rule = key
            else:
                unknown.append(word)
        self._apply(CaseFilter(frozenset(verdicts), system, rule, self.view.sort))
        if unknown:
            self.jump_to(" ".join(unknown))

    # --- jumping -----------------------------------------------------------------------

    def action_jump(self) -> None:
        ask(self, "Jump to a case", "any system's ref or id: 113-4519876-3382210, #1042, SO10482", self._jump_answered)

    def _jump_answered(self, answer: str | None) -> None:
        if answer:
            self.jump_to(answer)

    def jump_to(self, ref: str) -> None:
        if self.views is not None:
            self._locate(self.views, ref, self.view)

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-locate")
    def _locate(self, views: CaseViews, ref: str, view: CaseFilter) -> None:
        try:
            found = views.locate(ref)
            listed = found is not None and views.matches(view, found[1])
        except ViewError as exc:
            self.post_message(self.CountsFailed("Cannot search the cache", str(exc)))
            return
        self.post_message(self.RefLocated(ref, found, listed))

    def on_cases_screen_ref_located(self, message: RefLocated) -> None:
        if message.found is None:
            self.notify(f"No case in the cache has the ref or id {message.asked!r}.", title="Not found", severity="warning")
            return
        case_ref, rowid = message.found
        if not message.listed:
            self.notify(f"{case_ref} is hidden by the filters: showing all cases.", title="Filters cleared")
            self._apply(CaseFilter(sort=self.view.sort), keep=rowid)
            return
        try:
            self.case_list.move_to(self.case_list.rowids.index(rowid))
        except ValueError:  # the scan has not reached it yet: keep it as the cursor's target
            self._apply(self.view, keep=rowid)

    # --- copy and palette --------------------------------------------------------------

    def action_copy_refs(self) -> None:
        line = self.case_list.current
        if line is None or not line.ref:
            self.notify("Move to a case first.", title="Nothing to copy", severity="warning")
            return
        refs = [line.ref] + [f"{h.system}: {', '.join(h.refs)}" for h in line.holders if h.refs and h.system != line.origin]
        self.app.copy(" | ".join(refs), "the case's refs")

    def palette_commands(self) -> Iterator[Command]:
        for verdict in SEVERITY:
            on_now = verdict in self.view.verdicts
            yield (
                f"{'Hide' if on_now else 'Show only'} {verdict_label(verdict).lower()} cases",
                "toggle the verdict filter",
                lambda v=verdict: self.action_toggle_verdict(v),
            )
        for system in self.systems:
            yield (f"Filter: cases {system} holds", "system filter", lambda s=system: self._apply(replace(self.view, system=s)))
        for rule in self.rules:
            yield (f"Filter: rule {rule}", "cases where this rule fired", lambda r=rule: self._apply(replace(self.view, rule=r)))
        for sort, text in SORTS.items():
            yield (f"Sort: {text}", "order of the list", lambda s=sort: self._apply(replace(self.view, sort=s)))
        yield ("Open the highlighted case", "key: enter", self.case_list.action_open)


def _next(values: list[str], current: str | None, *, wrap: bool = False) -> str | None:
    """The value after ``current`` in ``values``; past the last, None (no filter) or the first."""
    if not values:
        return None
    if current not in values:
        return values[0]
    index = values.index(current) + 1
    if index < len(values):
        return values[index]
    return values[0] if wrap else None


def summary(line: CaseLine) -> str:
    """Two lines about the highlighted case: everything the narrow columns may hide."""
    if line.error:
        return f"{line.ref or f'row {line.rowid}'}: {line.error}"
    first = f"{line.ref} · {verdict_label(line.verdict)} · born in {line.origin} {utc(line.created_at)} · {plural(line.finding_count, 'finding')}"
    holders = " · ".join(
        f"{h.system} {', '.join(h.refs) or ('no record' if h.presence == 'absent' else 'not fetched')}" for h in line.holders
    )
    divergence = ""
    if line.divergence_rule:
        divergence = f" · split {utc(line.divergence_at)} {handoff_text(line.divergence_from, line.divergence_to)} {line.divergence_rule}"
    return f"{first}\n{holders}{divergence}"
