"""Exporting a case: Markdown for people, JSON for machines, an SVG screenshot of what was on screen.

The JSON extends the audit's contract (``audit.report.case_json``) with the grid
and the timeline; nothing here reads payload bodies, so no secret can leak into
an export.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from audit.model import CaseResult
from audit.report import case_json, iso
from audit.settings import AuditSettings
from tui.present import (
    divergence_text,
    event_label,
    event_time,
    finding_title,
    lane_order,
    timeline_lines,
    truth_grid,
    utc,
    verdict_label,
)


def safe_name(ref: str) -> str:
    """A ref as a folder name: ``#1042`` -> ``1042``, anything unsafe -> ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ref).strip("_") or "case"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def case_markdown(result: CaseResult, settings: AuditSettings) -> str:
    """The case as a Markdown report: verdict, grid, findings with what to check next, timeline."""
    case = result.case
    out = [
        f"# {case.ref}: {verdict_label(result.verdict.value)}",
        "",
        f"Born in **{case.origin}**; audited as of {utc(result.as_of)} (the newest fetch of its records).",
        "",
        f"**{_sentence_case(divergence_text(result))}**",
        "",
        "## The three truths",
        "",
    ]
    grid = truth_grid(result)
    out.append("| | " + " | ".join(_cell(c.label) for c in grid.columns) + " |")
    out.append("|---|" + "---|" * len(grid.columns))
    out.append("| role · platform | " + " | ".join(f"{c.role} · {c.platform}" for c in grid.columns) + " |")
    out.append("| ref | " + " | ".join(_cell(c.record.ref) if c.record else c.missing_text for c in grid.columns) + " |")
    for row in grid.rows:
        cells = [f"**{_cell(cell.text)}** ≠" if cell.state else _cell(cell.text) for cell in row.cells]
        out.append(f"| {row.label} | " + " | ".join(cells) + " |")
    out += ["", "Cells marked ≠ disagree between systems.", "", "## Findings", ""]
    if not result.findings:
        out.append("None: every system agrees on this order.")
    for finding in result.findings:
        out += [f"### {finding.kind.value.replace('_', ' ')}: {finding_title(finding)[2:]}", "", f"At {utc(finding.at)}. {finding.message}"]
        if finding.check_next:
            out += ["", f"**Check next:** {finding.check_next}"]
        out.append("")
    lanes = [h.system.name for h in lane_order(result)]
    out += ["## Timeline", "", "| UTC | raw | " + " | ".join(lanes) + " | findings |", "|---|---|" + "---|" * (len(lanes) + 1)]
    for line in timeline_lines(result, settings):
        if line.event is None:
            continue
        event = line.event
        mark = "**▶** " if line.divergence else ""
        cells = [f"{mark}{event_label(event)}" if name == event.system else "" for name in lanes]
        arrows = "; ".join(
            f"{a.source} → {a.target} {a.label}".strip() for a in line.arrows
        )
        if arrows:
            cells[lanes.index(event.system)] += f" ({arrows})"
        notes = ", ".join(f.rule for f in line.findings)
        out.append(f"| {event_time(event, False)} | {_cell(event_time(event, True))} | " + " | ".join(_cell(c) for c in cells) + f" | {notes} |")
    out.append("")
    return "\n".join(out)


def case_document(result: CaseResult, settings: AuditSettings) -> dict[str, Any]:
    """The audit's JSON for the case, plus its timeline."""
    document = case_json(result)
    document["timeline"] = [
        {
            "id": e.id,
            "system": e.system,
            "kind": e.kind.value,
            "at": iso(e.at.earliest),
            "at_latest": iso(e.at.latest) if e.at.is_day else None,
            "raw": e.at.raw,
            "precision": e.at.precision.value,
            "source_tz": e.at.source_tz,
            "fulfillment": e.fulfillment.value if e.fulfillment else None,
            "financial": e.financial.value if e.financial else None,
            "origin": e.origin.value,
            "source": e.source,
            "detail": e.detail,
        }
        for e in result.timeline
    ]
    return document


def export_case(result: CaseResult, settings: AuditSettings, svg: str, root: Path) -> tuple[Path, list[str]]:
    """Write ``case.md``, ``case.json`` and ``screen.svg`` into ``root/<ref>/``; returns the folder and file names."""
    folder = Path(root).expanduser() / safe_name(result.case.ref)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "case.md": case_markdown(result, settings),
        "case.json": json.dumps(case_document(result, settings), indent=2) + "\n",
        "screen.svg": svg,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder.resolve(), list(files)


def _sentence_case(text: str) -> str:
    """The first letter upper case and the rest as it is (str.capitalize would lower "Z" and system names)."""
    return text[:1].upper() + text[1:]
