"""Fetch a 90-day window from the fake Datadog API with 150 ms per page: serial paging vs time-sliced
concurrency (DESIGN.md budget: ≥ 5× faster, while honouring X-RateLimit-*).

Usage: python bench/bench_fetch.py [--latency 0.15] [--events N] [--concurrency 8[,16]] [--runs 5]
                                   [--one-ended] [--in-process | --simulate]

Slices are two-ended (the default engine: each paged newest first and oldest first at once);
`--one-ended` also runs each level with newest-first slices only, as before, for comparison. Each line
gives the requests the fetch made (its completeness record's count).

By default the fake API runs in its own process on a loopback port, as Datadog runs on its own servers:
in-process, the fake's filtering and JSON encoding would compete with the client for the same core.

The machine may be shared (other jobs running): serial and sliced runs alternate, each figure is the
median of `--runs`, and the load average is printed before and after. Besides wall time, each run reports
the client's CPU time per page (this process only: the fake serves from another one) — the quantity that
bounds the speed-up once the round trips overlap: a sliced fetch cannot end before the client has
decoded every page on its one core.

`--simulate` runs the real slicing engine (`FetchRun`) over a model of the search endpoint that answers
from memory after `--latency` and costs no CPU: the speed-up the slicing itself allows, whatever the
machine's load — the round trips each mode needs, as a count of latencies, the requests, the events
served (what a real client would decode: two-ended slices decode some twice where the chains meet) and
the most requests in flight at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END_MS = 1_785_525_780_000  # fixed, so runs are comparable


SERVER = """
import sys, time
from ddaudit_tui.demo.org import generate
from ddaudit_tui.demo.fake_datadog import FakeDatadog
from ddaudit_tui.demo.loopback import start_loopback
fake = FakeDatadog(generate(seed=7, events={events}, end_ms={end}), latency_s={latency})
url, stop = start_loopback(fake)
print(url, flush=True)
sys.stdin.read()
"""


@dataclass
class Run:
    wall_s: float
    cpu_s: float  # this process's CPU time during the fetch
    events: int
    pages: int
    requests: int = 0  # HTTP requests (the completeness record's count: retries included)

    @property
    def cpu_ms_per_page(self) -> float:
        return self.cpu_s * 1000 / max(1, self.pages)


async def fetch_once(
    fake: FakeDatadog | None, concurrency: int, window: Window, base_url: str | None = None
) -> tuple[float, int, int]:
    run = await measure(fake, concurrency, window, base_url)
    return run.wall_s, run.events, run.pages


async def measure(
    fake: FakeDatadog | None,
    concurrency: int,
    window: Window,
    base_url: str | None = None,
    two_ended: bool = True,
) -> Run:
    from ddaudit_tui.sources.datadog_fetch import FetchRun

    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=fake,
        base_url=base_url,
        concurrency=concurrency,
    )
    FetchRun.two_ended = two_ended
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        result = await client.fetch("*", window)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finally:
        FetchRun.two_ended = True
    await client.aclose()
    requests = result.completeness.requests if result.completeness else 0
    return Run(elapsed, cpu, len(result.events), result.pages, requests)


class _Model:
    """The search endpoint as `FetchRun` sees it: pages of the newest events of a window, a cursor while
    a page is not empty (so a slice ends on an empty page, as Datadog's do), `latency` per page, no CPU."""

    host = "model"
    page_limit = 1000
    max_events = None
    deadline_s = None

    def __init__(self, events: list, concurrency: int, latency: float) -> None:
        self.events = sorted(events, key=lambda e: (e.ts, e.id))
        self.ts = [e.ts for e in self.events]
        self.concurrency = concurrency
        self.latency = latency
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0  # events on the pages: what a real client decodes

    async def search_page(self, query, window, *, cursor, limit, sort="-timestamp", report, what):  # noqa: ANN001, ANN201, E501
        import bisect

        from ddaudit_tui.sources.datadog_fetch import SearchPage

        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(self.latency)
        self.in_flight -= 1
        lo, hi = bisect.bisect_left(self.ts, window.start), bisect.bisect_left(self.ts, window.end)
        offset = int(cursor) if cursor else 0
        inside = self.events[lo:hi]
        page = (inside if sort == "timestamp" else inside[::-1])[offset : offset + limit]
        self.served += len(page)
        return SearchPage(events=page, cursor=str(offset + limit) if page else None)


def simulate(levels: list[int], latency: float, events: int | None, window: Window) -> None:
    import msgspec

    from ddaudit_tui.events.decode import decode_item
    from ddaudit_tui.sources.datadog_fetch import FetchRun

    decoded = [decode_item(msgspec.json.encode(i)) for i in generate(seed=7, events=events, end_ms=END_MS)]
    print(
        f"{len(decoded):,} events over 90 days, {latency * 1000:.0f} ms per page, modelled endpoint (no CPU)"
    )
    serial = 0.0
    for c, two in [(1, False), *((c, two) for c in levels for two in (False, True))]:
        model = _Model(decoded, c, latency)
        FetchRun.two_ended = two
        start = time.perf_counter()
        try:
            result = asyncio.run(FetchRun(model, "*", window, None).run())
        finally:
            FetchRun.two_ended = True
        wall = time.perf_counter() - start
        assert len(result.events) == len(decoded)
        serial = serial or wall
        name = "serial paging" if c == 1 else f"{c} slices, " + ("two-ended" if two else "newest first")
        speed = "" if c == 1 else f"  speed-up {serial / wall:4.1f}×"
        print(
            f"{name:<26} {wall:6.2f} s  {model.requests:3d} requests  {model.served:6,} events served  "
            f"{wall / latency:5.1f} round trips  ≤ {model.max_in_flight:2d} in flight{speed}"
        )


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.15)
    ap.add_argument("--events", type=int)
    ap.add_argument("--concurrency", default="8", help="one or more, comma-separated (default 8)")
    ap.add_argument("--runs", type=int, default=5, help="alternating runs of each mode (default 5)")
    ap.add_argument("--in-process", action="store_true", help="serve the fake in this process")
    ap.add_argument("--simulate", action="store_true", help="the slicing alone: a modelled endpoint, no CPU")
    ap.add_argument(
        "--one-ended", action="store_true", help="also run each level with newest-first slices only (before)"
    )
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    window = Window(END_MS - 90 * 86_400_000, END_MS + 1)
    if args.simulate:
        simulate(levels, args.latency, args.events, window)
        return 0
    n_items = len(generate(seed=7, events=args.events, end_ms=END_MS))
    server = None
    fake: FakeDatadog | None = None
    base_url: str | None = None
    if args.in_process:
        fake = FakeDatadog(generate(seed=7, events=args.events, end_ms=END_MS), latency_s=args.latency)
        where = "in-process"
    else:
        code = SERVER.format(events=args.events, end=END_MS, latency=args.latency)
        server = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        base_url = server.stdout.readline().strip()  # type: ignore[union-attr]
        where = "loopback, own process"
    modes = [
        (1, False),
        *((c, two) for c in levels for two in ((False, True) if args.one_ended else (True,))),
    ]
    runs: dict[tuple[int, bool], list[Run]] = {m: [] for m in modes}
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {_load()}")
    try:
        asyncio.run(measure(fake, levels[0], window, base_url))  # warm: connections, caches, imports
        for _ in range(args.runs):
            for c, two in runs:  # alternating: a load spike hits every mode alike
                run = asyncio.run(measure(fake, c, window, base_url, two))
                assert run.events == n_items, (run.events, n_items)
                runs[(c, two)].append(run)
    finally:
        if server is not None:
            server.terminate()
    print(f"{n_items:,} events over 90 days, {args.latency * 1000:.0f} ms per page, fake API {where}")
    print(f"median of {args.runs} alternating runs; load after: {_load()}")
    serial = statistics.median(r.wall_s for r in runs[(1, False)])
    for (c, two), rs in runs.items():
        wall = statistics.median(r.wall_s for r in rs)
        cpu = statistics.median(r.cpu_ms_per_page for r in rs)
        name = "serial paging" if c == 1 else f"{c} slices, " + ("two-ended" if two else "newest first")
        speed = "" if c == 1 else f"  speed-up {serial / wall:4.1f}×"
        spread = f"{min(r.wall_s for r in rs):.2f}–{max(r.wall_s for r in rs):.2f}"
        print(
            f"{name:<26} {wall:6.2f} s ({spread})  {rs[0].requests:3d} requests  "
            f"client CPU {cpu:5.1f} ms/page{speed}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
