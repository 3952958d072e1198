"""Fetch a 90-day window from the fake Datadog API with 150 ms per page: serial paging vs time-sliced
concurrency (DESIGN.md budget: ≥ 5× faster, while honouring X-RateLimit-*).

Usage: python bench/bench_fetch.py [--latency 0.15] [--events N] [--concurrency 8] [--in-process]

By default the fake API runs in its own process on a loopback port, as Datadog runs on its own servers:
in-process, the fake's filtering and JSON encoding would compete with the client for the same core.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

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


async def fetch_once(
    fake: FakeDatadog | None, concurrency: int, window: Window, base_url: str | None = None
) -> tuple[float, int, int]:
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=fake,
        base_url=base_url,
        concurrency=concurrency,
    )
    start = time.perf_counter()
    result = await client.fetch("*", window)
    elapsed = time.perf_counter() - start
    await client.aclose()
    return elapsed, len(result.events), result.pages


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.15)
    ap.add_argument("--events", type=int)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--in-process", action="store_true", help="serve the fake in this process")
    args = ap.parse_args()
    window = Window(END_MS - 90 * 86_400_000, END_MS + 1)
    n_items = len(generate(seed=7, events=args.events, end_ms=END_MS))
    if args.in_process:
        fake = FakeDatadog(generate(seed=7, events=args.events, end_ms=END_MS), latency_s=args.latency)
        serial, n1, p1 = asyncio.run(fetch_once(fake, 1, window))
        sliced, n2, p2 = asyncio.run(fetch_once(fake, args.concurrency, window))
        where = "in-process"
    else:
        code = SERVER.format(events=args.events, end=END_MS, latency=args.latency)
        server = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            base_url = server.stdout.readline().strip()  # type: ignore[union-attr]
            serial, n1, p1 = asyncio.run(fetch_once(None, 1, window, base_url))
            sliced, n2, p2 = asyncio.run(fetch_once(None, args.concurrency, window, base_url))
        finally:
            server.terminate()
        where = "loopback, own process"
    assert n1 == n2 == n_items, (n1, n2, n_items)
    print(f"{n_items:,} events over 90 days, {args.latency * 1000:.0f} ms per page, fake API {where}")
    print(f"serial paging            {serial:6.2f} s  ({p1} pages)")
    print(f"{args.concurrency} time slices concurrent {sliced:6.2f} s  ({p2} pages)")
    print(f"speed-up                 {serial / sliced:6.1f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
