"""Under the timeline: everything about the highlighted event, and the findings that rest on it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.present import TimelineLine, event_label, utc
from tui.widgets.findings import KIND_COLOURS


class EventDetail(Static):
    """The raw time, zone and precision, the source field, who made the change, and the findings."""

    def show(self, line: TimelineLine | None) -> None:
        if line is None:
            self.update("")
        elif line.event is None:
            finding = line.finding
            assert finding is not None
            colour = KIND_COLOURS.get(finding.kind.value, "$text-muted")
            parts = [Content.from_markup(f"[b {colour}]$rule[/] $message", rule=finding.rule, message=finding.message)]
            if finding.check_next:
                parts.append(Content.from_markup("[b]Check next:[/] $next", next=finding.check_next))
            self.update(Content("\n").join(parts))
        else:
            event = line.event
            stamp = event.at
            precision = "a date without a time (the whole local day)" if stamp.is_day else "an instant"
            lines = [
                Content.from_markup(
                    "[b]$system[/] · [b]$label[/] · $utc  [$text-muted]raw[/] $raw [$text-muted]zone[/] $zone [$text-muted]·[/] $precision",
                    system=event.system,
                    label=event_label(event),
                    utc=utc(stamp.earliest, seconds=True) + (f" – {utc(stamp.latest, seconds=True)}" if stamp.is_day else ""),
                    raw=stamp.raw,
                    zone=stamp.source_tz or "unknown",
                    precision=precision,
                ),
                Content.from_markup(
                    "$detail  [$text-muted]source[/] $source [$text-muted]by[/] $origin$status",
                    detail=event.detail or event.kind.value,
                    source=event.source or "—",
                    origin=event.origin.value,
                    status=f" · native status {event.native_status}" if event.native_status else "",
                ),
            ]
            for finding in line.findings:
                colour = KIND_COLOURS.get(finding.kind.value, "$text-muted")
                lines.append(Content.from_markup(f"[b {colour}]$rule:[/] $message", rule=finding.rule, message=finding.message))
            if event.payload_id:
                lines.append(Content.from_markup("[$text-muted]enter or p: the payload behind this event[/]"))
            self.update(Content("\n").join(lines))
