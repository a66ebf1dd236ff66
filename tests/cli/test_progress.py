"""The sync's progress display when its output is a file or a pipe: plain lines, not bars."""

from __future__ import annotations

import io

from tui.fetching import SyncStatus
from tui.progress import LINE_EVERY, SyncProgressDisplay


def test_a_pipe_gets_a_line_at_start_every_half_minute_and_at_the_end():
    out, now = io.StringIO(), [0.0]
    with SyncProgressDisplay(out, clock=lambda: now[0]) as display:
        display.update(SyncStatus("amazon", cases=0, total=40))
        display.update(SyncStatus("netsuite", cases=12, resumed=True))
        display.update(SyncStatus("amazon", cases=5, total=40))  # too soon for another line
        now[0] = LINE_EVERY
        display.update(SyncStatus("amazon", cases=20, total=40))
        display.update(SyncStatus("amazon", cases=40, total=40, done=True))
        display.update(SyncStatus("netsuite", cases=13, problem="netsuite: HTTP 401"))  # a new problem: at once
        display.update(SyncStatus("netsuite", cases=14, problem="netsuite: HTTP 401"))  # the same one: not again
    assert out.getvalue().splitlines() == [
        "amazon: started",
        "netsuite: resumed at 12 orders",
        "amazon: 20/40 orders",
        "amazon: done, 40/40 orders",
        "netsuite: 13 orders; problem: netsuite: HTTP 401",
    ]
