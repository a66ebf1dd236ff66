"""The case list: a Line API view over the cache that holds rowids, never rows.

Like Toolong's log view: a ``ScrollView`` whose ``render_line`` draws only the
visible lines. The order of the list is a compact array of rowids filled by a
background scan; the lines themselves are read from SQLite a window at a time
in worker threads, kept in a small LRU, and rendered strips are cached too. A
window that has not arrived yet draws as a quiet placeholder and repaints when
it lands.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from cache.views import CaseFilter, CaseLine, CaseViews, ViewError
from tui.present import age, short_utc, verdict_label
from tui.widgets.cursor import CURSOR_BINDINGS, LineCursor

WINDOW = 100  # lines read from SQLite at a time
KEEP_WINDOWS = 64  # windows kept in memory (6,400 lines)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    right: bool = False


class CaseList(LineCursor, ScrollView, can_focus=True):
    """Every case of a filter, one line each, read in windows."""

    COMPONENT_CLASSES = {
        "case-list--header",
        "case-list--cursor",
        "case-list--pending",
        "case-list--error",
        "case-list--dim",
        "case-list--mismatch",
        "case-list--missing",
        "case-list--delay",
        "case-list--in-sync",
        "case-list--unaudited",
    }
    BINDINGS = [
        *CURSOR_BINDINGS,
        Binding("space", "page_down", "Page down", show=False),
        Binding("enter", "open", "Open case"),
    ]

    cursor: reactive[int] = reactive(0, repaint=False, init=False)

    class Highlighted(Message):
        """The cursor moved onto a case (``line`` is None until its window has arrived)."""

        def __init__(self, index: int, line: CaseLine | None) -> None:
            super().__init__()
            self.index, self.line = index, line

    class Chosen(Message):
        """A person asked to open a case."""

        def __init__(self, ref: str) -> None:
            super().__init__()
            self.ref = ref

    class Scanned(Message):
        """More rowids of the current filter arrived (``done`` on the last batch)."""

        def __init__(self, generation: int, rowids: array, done: bool) -> None:
            super().__init__()
            self.generation, self.rowids, self.done = generation, rowids, done

    class ScanFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    class WindowLoaded(Message):
        def __init__(self, generation: int, window: int, lines: list[CaseLine]) -> None:
            super().__init__()
            self.generation, self.window, self.lines = generation, window, lines

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.views: CaseViews | None = None
        self.view = CaseFilter()
        self.systems: list[str] = []
        self.rowids = array("q")
        self.scanning = False
        self._generation = 0
        self._windows: LRUCache[int, list[CaseLine]] = LRUCache(KEEP_WINDOWS)
        self._pending: set[int] = set()
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)
        self._select_rowid: int | None = None  # after a rescan, put the cursor back on this case

    # --- feeding ---------------------------------------------------------------------

    def show(self, views: CaseViews, view: CaseFilter, systems: list[str], *, keep: int | None = None) -> None:
        """List the cases ``view`` selects; ``keep`` is a rowid to keep the cursor on when it stays listed."""
        self.views, self.view, self.systems = views, view, systems
        self._generation += 1
        self.rowids = array("q")
        self._windows.clear()
        self._pending.clear()
        self._strips.clear()
        self._select_rowid = keep
        self.scanning = True
        self.set_reactive(CaseList.cursor, 0)
        self._resize()
        self.scroll_to(y=0, animate=False)
        self._scan(views, view, self._generation)

    def set_systems(self, systems: list[str]) -> None:
        """The systems of the cache, one ref column each where there is room."""
        if systems != self.systems:
            self.systems = systems
            self._strips.clear()
            self.refresh()

    def reload(self) -> None:
        """Read the same filter again (after an audit or a refresh changed rows), keeping the cursor's case."""
        if self.views is not None:
            self.show(self.views, self.view, self.systems, keep=self.current_rowid)

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-scan")
    def _scan(self, views: CaseViews, view: CaseFilter, generation: int) -> None:
        worker = get_current_worker()
        try:
            for batch in views.scan(view):
                if worker.is_cancelled:
                    return
                self.post_message(self.Scanned(generation, batch, False))
        except ViewError as exc:
            self.post_message(self.ScanFailed("Cannot list the cases", str(exc)))
            return
        self.post_message(self.Scanned(generation, array("q"), True))

    def on_case_list_scanned(self, message: Scanned) -> None:
        if message.generation != self._generation:
            message.stop()  # from a scan that a newer filter replaced
            return
        first = not self.rowids
        self.rowids.extend(message.rowids)
        self.scanning = not message.done
        self._resize()
        if self._select_rowid is not None:
            try:
                index = self.rowids.index(self._select_rowid)
            except ValueError:
                index = None
            if index is not None:
                self._select_rowid = None
                self.move_to(index)
                return
            if message.done:
                self._select_rowid = None
        if first or message.done:
            self._announce()
        if message.done and self.rowids:
            self._request((len(self.rowids) - 1) // WINDOW)  # G lands on a window already read
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rowids) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self._resize()

    @work(thread=True, exit_on_error=False, group="case-windows")
    def _load(self, views: CaseViews, generation: int, window: int, rowids: list[int]) -> None:
        try:
            lines = views.window(rowids)
        except ViewError as exc:
            lines = [CaseLine(rowid, "", error=str(exc)) for rowid in rowids]
        self.post_message(self.WindowLoaded(generation, window, lines))

    def on_case_list_window_loaded(self, message: WindowLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._windows.set(message.window, message.lines)
        self._pending.discard(message.window)
        self.refresh()
        if self.cursor // WINDOW == message.window:
            self._announce()

    def line_at(self, index: int) -> CaseLine | None:
        """The line at ``index`` if its window is loaded; otherwise ask for it and return None."""
        if not 0 <= index < len(self.rowids):
            return None
        window = index // WINDOW
        lines = self._windows.get(window)
        if lines is None:
            self._request(window)
            return None
        offset = index - window * WINDOW
        return lines[offset] if offset < len(lines) else None

    def _request(self, window: int) -> None:
        if window in self._pending or self.views is None:
            return
        start = window * WINDOW
        rowids = list(self.rowids[start : start + WINDOW])
        if not rowids:
            return
        self._pending.add(window)
        self._load(self.views, self._generation, window, rowids)

    @property
    def current(self) -> CaseLine | None:
        return self.line_at(self.cursor)

    @property
    def current_rowid(self) -> int | None:
        return self.rowids[self.cursor] if 0 <= self.cursor < len(self.rowids) else None

    # --- cursor ----------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self.rowids)

    def move_to(self, index: int) -> None:
        if not self.rowids:
            return
        self.cursor = max(0, min(index, len(self.rowids) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + self.page:
            self.scroll_to(y=new - self.page + 1, animate=False, immediate=True)
        self.refresh()
        self._prefetch(new)
        self._announce()

    def _prefetch(self, index: int) -> None:
        """Ask for the windows around the cursor before they are needed."""
        window = index // WINDOW
        for near in (window, window + 1, window - 1):
            if 0 <= near * WINDOW < len(self.rowids) and self._windows.get(near) is None:
                self._request(near)

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self.cursor, self.current))

    def action_open(self) -> None:
        line = self.current
        if line is not None and line.ref:
            self.post_message(self.Chosen(line.ref))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if not 0 <= index < len(self.rowids):
            return
        if index == self.cursor or event.chain > 1:
            self.move_to(index)
            self.action_open()
        else:
            self.move_to(index)

    # --- drawing ---------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def columns(self, width: int) -> list[Column]:
        """The columns that fit ``width``: a ref column per system when there is room, else one for the other refs."""
        fixed = [Column("verdict", "VERDICT", 10), Column("ref", "CASE", 19), Column("age", "AGE", 5, right=True)]
        systems = [Column(f"system:{name}", name.upper(), max(min(len(name), 12), 9)) for name in self.systems]
        minimum = 20
        for chosen in (fixed + systems, fixed + [Column("refs", "OTHER REFS", 14)], fixed):
            if sum(c.width + 1 for c in chosen) + minimum <= width:
                break
        else:
            chosen = fixed[:2]
        rest = max(width - sum(c.width + 1 for c in chosen), 0)
        return [*chosen, Column("divergence", "FIRST DIVERGENCE", rest)]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header(width)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self.rowids):
            hints = self._empty_hints()
            if 1 <= index + 1 <= len(hints):
                style = self.get_component_rich_style("case-list--pending")
                return Strip([Segment(_fit("  " + hints[index], width), style)]).adjust_cell_length(width, style)
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        key = (index, selected, width)
        strip = self._strips.get(key)
        if strip is not None:
            return strip
        line = self.line_at(index)
        strip = self._render(index, line, selected, width)
        if line is not None:
            self._strips.set(key, strip)
        return strip

    def _empty_hints(self) -> tuple[str, ...]:
        """What to do when there is nothing to list (shown only once a scan has ended empty)."""
        if self.views is None or self.scanning or self.rowids:
            return ()
        if self.view.is_filtered:
            return ("No case matches these filters: x clears them.",)
        return (
            "No cases in this cache yet. Fill it from the command line:",
            "  threetruth fetch REF...            one order from every configured system",
            "  threetruth sync --since ISO        every order the systems changed since then",
            "  threetruth import --samples        the bundled scenarios, offline",
        )

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("case-list--header")
        segments = []
        for column in self.columns(width):
            segments.append(Segment(_fit(column.title, column.width, column.right) + " ", style))
        return Strip(segments).adjust_cell_length(width, style)

    def _render(self, index: int, line: CaseLine | None, selected: bool, width: int) -> Strip:
        base = self.rich_style
        if line is None:
            style = self.get_component_rich_style("case-list--pending")
            segments = [Segment(_fit("  …", width), style)]
        elif line.error:
            style = self.get_component_rich_style("case-list--error")
            text = f"⚠ {line.ref or f'row {line.rowid}'}: {line.error}"
            segments = [Segment(_fit(text, width), style)]
        else:
            segments = self._cells(line, width)
        strip = Strip(segments).adjust_cell_length(width, base)
        if selected:
            strip = strip.apply_style(self.get_component_rich_style("case-list--cursor"))
        return strip

    def _cells(self, line: CaseLine, width: int) -> list[Segment]:
        verdict_key = (line.verdict or "unaudited").replace("missing_record", "missing").replace("missing_handoff", "missing")
        badge = self.get_component_rich_style(f"case-list--{verdict_key.replace('_', '-')}")
        dim = self.get_component_rich_style("case-list--dim")
        plain = self.rich_style
        holders = {h.system: h for h in line.holders}
        segments: list[Segment] = []
        for column in self.columns(width):
            style: Style = plain
            if column.key == "verdict":
                text, style = verdict_label(line.verdict), badge
            elif column.key == "ref":
                text = line.ref
            elif column.key == "age":
                text, style = (age(self.clock() - line.created_at) if line.created_at else "—"), dim
            elif column.key == "refs":
                others = [h for h in line.holders if h.system != line.origin]
                text = " ".join(",".join(h.refs) if h.refs else "—" for h in others)
            elif column.key.startswith("system:"):
                name = column.key.split(":", 1)[1]
                holder = holders.get(name)
                if name == line.origin:
                    text, style = "origin", dim
                elif holder is None or holder.presence == "not_fetched":
                    text, style = "not fetched", dim
                elif not holder.refs:
                    text, style = "no record", badge if line.verdict == "missing_record" else dim
                else:
                    text = ",".join(holder.refs)
            else:
                if line.divergence_rule:
                    where = f"{line.divergence_from}→{line.divergence_to}" if line.divergence_from else f"in {line.divergence_system or '?'}"
                    text = f"{short_utc(line.divergence_at)} {where} {line.divergence_rule}"
                else:
                    text, style = ("—" if line.verdict else "not audited yet"), dim
            segments.append(Segment(_fit(text, column.width, column.right), style))
            segments.append(Segment(" ", plain))
        return segments


def _fit(text: str, width: int, right: bool = False) -> str:
    if width <= 0:
        return ""
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text.rjust(width) if right else text.ljust(width)
