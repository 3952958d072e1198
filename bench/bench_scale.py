"""The demo's heavy key (1,002,785 events over 90 days) through the fake Datadog API at 150 ms per request:
`--engine auto` (DDSQL aggregates) writes the full key report; `--engine search` (paging) beside it.

Usage: python bench/bench_scale.py [--latency 0.15] [--search-pages 20 | --full] [--running-polls 1]

The fake runs in its own process on a loopback port, as Datadog runs on its own servers (bench_fetch.py
does the same); its heavy key is generated and loaded into SQLite before the clock starts (Datadog's
storage is loaded too), and the time that takes is printed. `--search-pages N` caps the paging engine at
N pages of 1,000 (the client's `max_events`); `--full` pages every event, with the client's concurrency
(8 time slices), and then compares the two reports: totals, origins, endpoints and flags.
`--running-polls` is how many `running` answers the fake DDSQL gives before `completed`: 1 by default (the
realistic case: execute answers `running`, one fetch gets the result), 0 for inline answers (as production
was observed to answer quick statements; docs/ddsql.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from ddaudit_tui.analysis.key_engine import EXACT_PAST_BUDGET
from ddaudit_tui.analysis.key_investigation import InvestigationOptions, investigate_key
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY
from ddaudit_tui.demo.heavy import HEAVY_KEY
from ddaudit_tui.report import key_report
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END_MS = 1_785_525_780_000  # fixed, so runs are comparable
DAY_MS = 86_400_000

SERVER = """
import sys, time
from ddaudit_tui.demo.fake_datadog import FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.loopback import start_loopback
t0 = time.perf_counter()
fake = FakeDatadog.from_demo(seed=7, end_ms={end}, latency_s={latency},
                             ddsql=DdsqlConfig(running_polls={polls}))
fake.events  # the org decoded, as a search server has its index
org_s = time.perf_counter() - t0
fake.heavy.ensure()
fake.heavy.load()
fake.ddsql.handle("POST", "/api/v2/ddsql/query/tabular", {{}}, b'{{"data":{{"type":"ddsql_query_request",'
                  b'"attributes":{{"query":"SELECT 1","time":{{"from_timestamp":0,"to_timestamp":1}}}}}}}}')  # sqlglot loaded
url, stop = start_loopback(fake)
print(url, len(fake.heavy), round(org_s, 2), round(fake.heavy.build_s, 2), round(fake.heavy.load_s, 2), flush=True)
for _ in sys.stdin:  # each line asks for the fake's CPU time so far
    print(time.process_time(), flush=True)
"""


async def lookup(base_url: str, engine: str, max_events: int | None) -> tuple[Any, float, str, float]:
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), base_url=base_url, max_events=max_events
    )
    window = Window(END_MS - 90 * DAY_MS, END_MS)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        report = await investigate_key(
            client, HEAVY_KEY, window, options=InvestigationOptions(engine=engine), now_ms=END_MS
        )
    finally:
        await client.aclose()
    text = key_report.render_text(report)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        out.write(key_report.render_json(report))  # the full report, as `ddaudit key -o` writes it
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    os.unlink(out.name)
    return report, elapsed, text, cpu


def flag_view(report: Any, signals: set[str] | None = None) -> list[tuple]:
    return [
        (f.signal, f.severity, f.subject, f.reason, f.event_ids, f.details)
        for f in report.flags
        if signals is None or f.signal in signals
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latency", type=float, default=0.15, help="seconds per request (default 0.15)")
    ap.add_argument(
        "--search-pages", type=int, default=20, help="cap of the paging engine, in pages of 1,000"
    )
    ap.add_argument("--full", action="store_true", help="page every event and compare the two reports")
    ap.add_argument(
        "--running-polls", type=int, default=1, help="DDSQL `running` answers before `completed` (default 1)"
    )
    ap.add_argument("--show", action="store_true", help="print auto's text report")
    args = ap.parse_args()
    load = os.getloadavg()
    code = SERVER.format(end=END_MS, latency=args.latency, polls=args.running_polls)
    server = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline().split()  # type: ignore[union-attr]
        url, n, org_s, build_s, load_s = line[0], int(line[1]), *map(float, line[2:])

        def fake_cpu() -> float:
            server.stdin.write("cpu\n")  # type: ignore[union-attr]
            server.stdin.flush()  # type: ignore[union-attr]
            return float(server.stdout.readline())  # type: ignore[union-attr]

        f0 = fake_cpu()
        auto, auto_s, text, auto_cpu = asyncio.run(lookup(url, "auto", None))
        f1 = fake_cpu()
        cap = None if args.full else args.search_pages * 1000
        search, search_s, _, search_cpu = asyncio.run(lookup(url, "search", cap))
        f2 = fake_cpu()
    finally:
        server.terminate()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {load[0]:.1f} / {os.getloadavg()[0]:.1f} (before / after)"
    )
    print(
        f"heavy key: {n:,} events over 90 days; fake: {args.latency * 1000:.0f} ms per request, own process, "
        f"DDSQL running polls {args.running_polls}"
    )
    print(
        f"fake set-up (before the clock): org {org_s:.1f} s, heavy key generated {build_s:.1f} s, "
        f"loaded into SQLite {load_s:.1f} s"
    )
    runs = (
        ("auto", auto, auto_s, auto_cpu, f1 - f0),
        (
            "search" + ("" if args.full else f" (≤ {args.search_pages} pages)"),
            search,
            search_s,
            search_cpu,
            f2 - f1,
        ),
    )
    for name, r, s, cpu, fcpu in runs:
        c = r.completeness
        print(
            f"{name:24} engine {r.engine:6} {c.requests:5,} requests {s:7.1f} s (CPU: client {cpu:5.1f} s, "
            f"fake {fcpu:5.1f} s)  {c.events_fetched:9,} events fetched of {r.total_events:,}  "
            f"{'complete' if c.complete else 'partial'}"
        )
    ok = auto.completeness.requests <= 40 and auto_s <= 15
    print(f"auto within budget (≤ 40 requests, ≤ 15 s): {'yes' if ok else 'NO'}")
    if args.full:
        exact = set(EXACT_PAST_BUDGET)
        same = {
            "totals": auto.total_events == search.total_events
            and (auto.first_seen, auto.last_seen) == (search.first_seen, search.last_seen),
            "origins": auto.origins == search.origins,
            "endpoints": auto.endpoints == search.endpoints and auto.routes == search.routes,
            "flags": flag_view(auto) == flag_view(search, exact),
        }
        print("equal: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items()))
        others = sorted({f.signal for f in search.flags} - exact)
        print(f"flags only paging can evaluate (not evaluated by auto): {', '.join(others) or 'none raised'}")
        print(f"flags: {', '.join(sorted({f.signal for f in auto.flags}))}")
    if args.show:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
