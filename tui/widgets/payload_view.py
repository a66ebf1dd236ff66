"""A payload's JSON, highlighted with the theme's colours and searchable; secrets already redacted."""

from __future__ import annotations

import json
import re

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.present import REDACTED, redact

_TOKEN = re.compile(r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<lit>true|false|null)')


def pretty(body: str) -> tuple[list[str], bool]:
    """The redacted body, indented, as lines; (lines, True) when it was JSON, else the text as it came."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.splitlines() or [""], False
    return json.dumps(redact(data), indent=2, ensure_ascii=False).splitlines(), True


class PayloadView(ScrollView, can_focus=True):
    """Line API view of a (large) JSON document with search matches marked."""

    COMPONENT_CLASSES = {
        "payload--key",
        "payload--string",
        "payload--number",
        "payload--literal",
        "payload--redacted",
        "payload--match",
        "payload--current",
    }
    BINDINGS = [
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[str] = []
        self.matches: list[tuple[int, int, int]] = []  # (line, start, end)
        self.current = -1

    def show(self, lines: list[str]) -> None:
        self.lines = lines
        self.matches, self.current = [], -1
        self.virtual_size = Size(max((len(line) for line in lines), default=0) + 1, len(lines))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def search(self, text: str) -> int:
        """Mark every case-insensitive occurrence; returns how many, and scrolls to the first."""
        self.matches, self.current = [], -1
        if text:
            needle = re.compile(re.escape(text), re.IGNORECASE)
            self.matches = [(i, m.start(), m.end()) for i, line in enumerate(self.lines) for m in needle.finditer(line)]
        if self.matches:
            self.step(1)
        self.refresh()
        return len(self.matches)

    def step(self, direction: int) -> None:
        if not self.matches:
            return
        self.current = (self.current + direction) % len(self.matches)
        line = self.matches[self.current][0]
        height = self.scrollable_content_region.height
        self.scroll_to(y=max(line - height // 3, 0), animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        text = self.lines[index]
        styles: list[Style | None] = [None] * len(text)
        for match in _TOKEN.finditer(text):
            group = match.lastgroup or ""
            name = {"key": "key", "str": "string", "num": "number", "lit": "literal"}[group]
            if group == "str" and match.group() == f'"{REDACTED}"':
                name = "redacted"
            style = self.get_component_rich_style(f"payload--{name}", partial=True)
            for i in range(match.start(), match.end()):
                styles[i] = style
        for number, (line, start, end) in enumerate(self.matches):
            if line == index:
                mark = self.get_component_rich_style("payload--current" if number == self.current else "payload--match", partial=True)
                for i in range(start, end):
                    styles[i] = (styles[i] or Style()) + mark
        base = self.rich_style
        segments: list[Segment] = []
        start = 0
        for i in range(1, len(text) + 1):
            if i == len(text) or styles[i] != styles[start]:
                style = base + styles[start] if styles[start] else base
                segments.append(Segment(text[start:i], style))
                start = i
        strip = Strip(segments)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
