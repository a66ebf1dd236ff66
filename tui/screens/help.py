"""Help (? or F1): the keys of the screen it was opened from, and what the verdicts mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

from tui.present import KIND_MEANINGS, VERDICT_LABELS

GENERAL = """\
## Everywhere

| key | does |
|---|---|
| `ctrl+p` | command palette: every action, by name |
| `?` `F1` | this help |
| `q` | quit |
| `j` `k` `↓` `↑` | move; `g` `G` `Home` `End` first / last; `PgUp` `PgDn` a page |
| mouse | click to select, click again (or double-click) to open; the wheel scrolls |

Themes: `ctrl+p`, then *Theme*.
"""

SCREEN_KEYS = {
    "CasesScreen": """\
## Cases

| key | does |
|---|---|
| `Enter` | open the case |
| `/` | filter by verdict, system or rule words, or type a ref to jump to it |
| `1`–`6` | toggle mismatch, missing record, missing handoff, delay, in sync, not audited (or click the counts) |
| `w` | next system filter (cases that system holds) |
| `u` | next rule filter |
| `x` | clear every filter |
| `s` | next sort: newest, oldest, worst verdict, latest divergence, ref |
| `f` | jump to any system's ref or id |
| `y` | copy the case's refs |
""",
    "CaseScreen": """\
## A case

| key | does |
|---|---|
| `1` `2` `3` | truth grid, timeline, findings |
| `n` / `N` | next / previous divergence in the timeline |
| `d` | dim events on which the systems agree |
| `t` | timestamps in UTC or as each system wrote them (zone and precision; *day* marks a date without a time) |
| `p` `Enter` | the raw payload behind a grid cell or an event |
| `r` | re-fetch the case from the live systems |
| `c` | compare with another case |
| `e` | export Markdown, JSON and an SVG screenshot |
| `y` | copy the highlighted finding, else the case's refs |
| `Esc` | back to the cases |

In the timeline, `▶` marks the first divergence; `╶──▶` is a handoff from the sending system's lane, with its latency;
`╳` a handoff that never arrived. Findings hang under the event they rest on.
""",
    "InspectorScreen": """\
## Payload inspector

| key | does |
|---|---|
| `/` | search |
| `n` / `N` | next / previous match |
| `[` / `]` | previous / next payload of the same value |
| `y` | copy the (redacted) JSON |
| `Esc` | back |

Values of header-like and token-like keys are redacted.
""",
    "CompareScreen": """\
## Compare

Each step is a system and an event kind, shown as time after that order was born. `x` swaps the sides; `Esc` goes back.
""",
}


def verdicts_text() -> str:
    rows = "\n".join(f"| {VERDICT_LABELS[key]} | {KIND_MEANINGS.get(key, 'not audited yet')} |" for key in VERDICT_LABELS if key != "not_audited")
    return "## Verdicts\n\n| verdict | means |\n|---|---|\n" + rows + "\n\nA delay is late but correct; a mismatch was wrong when it arrived.\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, context: Screen) -> None:
        super().__init__()
        self.context_name = type(context).__name__

    def compose(self) -> ComposeResult:
        text = SCREEN_KEYS.get(self.context_name, "") + "\n" + GENERAL + "\n" + verdicts_text()
        with VerticalScroll(id="help-box"):
            yield Markdown(text)

    def action_close(self) -> None:
        self.dismiss(None)
