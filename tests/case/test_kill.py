"""`kill -9` in the middle of writing loses at most the last action (issue 15, item 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ddaudit_tui.case.store import CaseStore

WRITER = """
import sys
from ddaudit_tui.case.store import CaseStore
from case_helpers import event
store = CaseStore("k", sys.argv[1])
n = 0
while True:
    n += 1
    # Big lines (a long label, an event each): a kill lands inside a write, not only between writes.
    store.mark("event", f"mark {n} " + "x" * 50_000, [event(n)])
    store.record("query", f"query {n} " + "y" * 50_000, query=f"q{n}")
    if n == 3:
        print("ready", flush=True)
"""


def test_kill_9_while_appending_loses_at_most_the_last_action(tmp_path):
    CaseStore("k", tmp_path).create("alice")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), *sys.path])}
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05 * (round_ + 1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        case = CaseStore("k", tmp_path).load()
        # Every whole line is there, in order; at most the one cut short is reported.
        assert len(case.problems) <= round_ + 1
        seqs = [e.seq for e in case.entries]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert len(case.entries) >= 6 * (round_ + 1)
        # Every mark's event was stored before the mark was journaled.
        stored = CaseStore("k", tmp_path).events()
        assert all(i in stored for m in case.marks.values() for i in m.event_ids)
    # The store still takes new actions after the kills.
    CaseStore("k", tmp_path).record("query", "after", query="z")
    assert CaseStore("k", tmp_path).load().entries[-1].summary == "after"
