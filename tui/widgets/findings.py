"""The findings panel: each finding's kind, rule and handoff, what it means and what to check next."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from audit.model import CaseResult, Finding
from audit.settings import format_duration
from tui.present import KIND_MEANINGS, finding_title, utc

# Theme variables per kind: the Content markup resolves them against the current theme.
KIND_COLOURS = {
    "mismatch": "$text-error",
    "missing_record": "$text-warning",
    "missing_handoff": "$text-warning",
    "delay": "$text-accent",
    "unknown": "$text-muted",
}


def finding_prompt(finding: Finding) -> Content:
    colour = KIND_COLOURS.get(finding.kind.value, "$text-muted")
    head = Content.from_markup(
        f"[b {colour}]$kind[/] [b]$title[/]  [$text-muted]$at[/]",
        kind=finding.kind.value.replace("_", " ").upper(),
        title=finding_title(finding),
        at=utc(finding.at),
    )
    lines = [head, Content.from_markup("[$text-muted i]$meaning[/]", meaning=KIND_MEANINGS.get(finding.kind.value, ""))]
    lines.append(Content(finding.message))
    if finding.latency is not None:
        lines.append(Content.from_markup("[$text-muted]Late by[/] $late", late=format_duration(finding.latency)))
    if finding.check_next:
        lines.append(Content.from_markup("[b]Check next:[/] $next", next=finding.check_next))
    return Content("\n").join(lines)


class FindingsList(OptionList):
    """One option per finding; Enter shows its event in the timeline."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings: tuple[Finding, ...] = ()

    def show(self, result: CaseResult) -> None:
        self.findings = result.findings
        self.clear_options()
        if not result.findings:
            self.add_option(Option(Content("No findings: every system agrees on this order."), disabled=True))
            return
        for index, finding in enumerate(result.findings):
            self.add_option(Option(finding_prompt(finding), id=f"f{index}"))
            self.add_option(None)
        self.highlighted = 0

    @property
    def current(self) -> Finding | None:
        if self.highlighted is None or not self.findings:
            return None
        option = self.get_option_at_index(self.highlighted)
        return self.findings[int(option.id[1:])] if option.id else None
