"""The timeline: every event of every system in time order, a swimlane per system, handoffs drawn between lanes.

A Line API view: each line is an event (its marker in its system's lane, the
handoff that brought it drawn from the sending lane) or a finding anchored
under the event it rests on. The first-divergence line is highlighted; agreed
events can be dimmed; times show as UTC or as the systems wrote them.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from audit.model import CaseResult, Event, Finding
from audit.settings import AuditSettings
from tui.present import KIND_MARKS, TimelineLine, event_label, event_time, finding_title, lane_order, timeline_lines, worst_kind
from tui.widgets.cursor import CURSOR_BINDINGS, LineCursor

GUTTER = 2


class TimelineView(LineCursor, ScrollView, can_focus=True):
    """Swimlanes of one case's events."""

    COMPONENT_CLASSES = {
        "timeline--header",
        "timeline--cursor",
        "timeline--divergence",
        "timeline--time",
        "timeline--day",
        "timeline--lane",
        "timeline--arrow",
        "timeline--broken",
        "timeline--dim",
        "timeline--mismatch",
        "timeline--missing",
        "timeline--delay",
        "timeline--unknown",
    }
    BINDINGS = [
        *CURSOR_BINDINGS,
    ]

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    dim_agreed: reactive[bool] = reactive(False)
    raw_times: reactive[bool] = reactive(False)

    class Highlighted(Message):
        def __init__(self, line: TimelineLine | None) -> None:
            super().__init__()
            self.line = line

    class Chosen(Message):
        """Enter on an event: show its payload."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[TimelineLine] = []
        self.lanes: list[str] = []

    def show(self, result: CaseResult, settings: AuditSettings) -> None:
        self.lines = timeline_lines(result, settings)
        self.lanes = [h.system.name for h in lane_order(result)]
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.lines) + 1)
        divergence = next((i for i, line in enumerate(self.lines) if line.divergence), 0)
        self.set_reactive(TimelineView.cursor, -1)
        self.cursor = divergence
        self.refresh()

    # --- cursor and divergences ----------------------------------------------------------

    @property
    def current(self) -> TimelineLine | None:
        return self.lines[self.cursor] if 0 <= self.cursor < len(self.lines) else None

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def move_to(self, index: int) -> None:
        if self.lines:
            self.cursor = max(0, min(index, len(self.lines) - 1))

    def watch_cursor(self, new: int) -> None:
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + self.page:
            self.scroll_to(y=new - self.page + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    def watch_dim_agreed(self) -> None:
        self.refresh()

    def watch_raw_times(self) -> None:
        self.refresh()

    def divergence_lines(self) -> list[int]:
        """Lines of events some finding rests on, and of findings that rest on no event."""
        return [
            i
            for i, line in enumerate(self.lines)
            if (line.event is not None and line.findings) or (line.finding is not None and not line.finding.events)
        ]

    def next_divergence(self, step: int = 1) -> bool:
        """Move to the next (or previous) divergence; False when there is none that way."""
        marks = self.divergence_lines()
        ahead = [i for i in marks if i > self.cursor] if step > 0 else [i for i in reversed(marks) if i < self.cursor]
        if not ahead:
            return False
        self.move_to(ahead[0])
        return True

    def show_finding(self, finding: Finding) -> bool:
        for index, line in enumerate(self.lines):
            if line.finding is finding:
                self.move_to(index)
                return True
        return False

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if 0 <= index < len(self.lines):
            again = index == self.cursor
            self.move_to(index)
            line = self.lines[index]
            if (again or event.chain > 1) and line.event is not None:
                self.post_message(self.Chosen(line.event))

    def key_enter(self) -> None:
        line = self.current
        if line is not None and line.event is not None:
            self.post_message(self.Chosen(line.event))

    # --- drawing ---------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.lines) + 1)

    def _layout(self, width: int) -> tuple[int, int]:
        """(time column width, lane width)."""
        if self.raw_times:
            time_width = max((len(event_time(line.event, True)) for line in self.lines if line.event), default=12)
            time_width = min(time_width, max(width // 3, 12))
        else:
            time_width = 11
        lanes = max(len(self.lanes), 1)
        lane = max((width - GUTTER - time_width - 1) // lanes, 6)
        return time_width, lane

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"timeline--{name}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        time_width, lane = self._layout(width)
        if y == 0:
            text = " " * GUTTER + ("raw time".ljust(time_width) if self.raw_times else "UTC".ljust(time_width)) + " "
            text += "".join(_fit(name.upper(), lane) for name in self.lanes)
            return Strip([Segment(text, self._style("header"))]).adjust_cell_length(width, self.rich_style)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        line = self.lines[index]
        segments = self._event_segments(line, time_width, lane) if line.event else self._finding_segments(line, time_width)
        strip = Strip(segments).adjust_cell_length(width, self.rich_style)
        if line.divergence:
            strip = strip.apply_style(self._style("divergence"))
        if index == self.cursor:
            strip = strip.apply_style(self._style("cursor"))
        return strip

    def _event_segments(self, line: TimelineLine, time_width: int, lane: int) -> list[Segment]:
        event = line.event
        assert event is not None
        plain = self.rich_style
        dim = self.dim_agreed and not line.flagged and not any(not a.arrived for a in line.arrows)
        base = self._style("dim") if dim else plain
        kind = worst_kind(line.findings)
        mark_style = self._style(_kind_class(kind)) if kind else self._style("lane")
        gutter = "▶ " if line.divergence else (f"{KIND_MARKS.get(kind, '•')} " if kind else "  ")
        stamp = event_time(event, self.raw_times)
        time_style = self._style("day") if event.at.is_day else self._style("time")
        segments = [Segment(gutter, mark_style if not dim else base), Segment(_fit(stamp, time_width) + " ", base if dim else time_style)]
        cells = [_Cell(" " * lane, base) for _ in self.lanes]
        position = {name: i for i, name in enumerate(self.lanes)}
        here = position.get(event.system, 0)
        for arrow in line.arrows:
            start, end = position.get(arrow.source), position.get(arrow.target)
            if start is None or end is None:
                continue
            style = base if dim else (self._style("broken") if not arrow.arrived else self._style("arrow"))
            label = f" {arrow.label} " if arrow.label else ""
            if arrow.arrived:  # drawn on the receiving event's line: from the sender's lane to here
                low, high = sorted((start, end))
                for i in range(low, high + 1):
                    if i == end:
                        continue
                    text = "─" * lane
                    if i == start:
                        text = ("╶" + label).ljust(lane, "─") if start < end else (label + "╴").rjust(lane, "─")
                    cells[i] = _Cell(text[:lane], style)
                head = "▶" if start < end else "◀"
                cells[end] = _Cell(head, style, tail=True)
            else:  # drawn on the sending event's line: towards a lane it never reached
                low, high = sorted((start, end))
                for i in range(low, high + 1):
                    if i == start:
                        continue
                    cells[i] = _Cell(("─" * lane) if i != end else ("╳ " + arrow.label).ljust(lane), style)
        label = f"● {event_label(event)}"
        own = cells[here]
        if own.tail:
            cells[here] = _Cell(_fit(own.text + label, lane), own.style, label_from=len(own.text))
        else:
            cells[here] = _Cell(_fit(label, lane), base, label_from=0)
        for i, cell in enumerate(cells):
            if i == here:
                split = cell.label_from or 0
                if split:
                    segments.append(Segment(cell.text[:split], cell.style))
                segments.append(Segment("●", mark_style if not dim else base))
                segments.append(Segment(cell.text[split + 1 :], base))
            else:
                segments.append(Segment(cell.text, cell.style))
        return segments

    def _finding_segments(self, line: TimelineLine, time_width: int) -> list[Segment]:
        finding = line.finding
        assert finding is not None
        style = self._style(_kind_class(finding.kind.value))
        indent = " " * (GUTTER + time_width + 1)
        return [Segment(indent + "╰ ", self._style("lane")), Segment(finding_title(finding), style)]


class _Cell:
    __slots__ = ("text", "style", "tail", "label_from")

    def __init__(self, text: str, style: Style, *, tail: bool = False, label_from: int | None = None) -> None:
        self.text, self.style, self.tail, self.label_from = text, style, tail, label_from


def _kind_class(kind: str | None) -> str:
    return {"mismatch": "mismatch", "missing_record": "missing", "missing_handoff": "missing", "delay": "delay"}.get(kind or "", "unknown")


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(width - 1, 0)] + "…"
    return text.ljust(width)
