"""The AI activity summary on the demo org through the fake Datadog API at 150 ms per request: requests and
wall time per engine (`auto`, `search`, `ddsql`), the 30-day baseline included.

Usage: python bench/bench_ai.py [--latency 0.15] [--running-polls 0] [--runs 3] [--end ISO]

The window is the 7 days before `--end` (pinned, so runs compare: the demo's AI activity differs by hour).
The fake runs in-process (its latency is an `asyncio.sleep`, so concurrent requests overlap as they do
against Datadog); the org is built before the clock starts. `--running-polls` is how many `running` answers
the fake DDSQL gives before `completed` (0: inline, as production was observed to answer; the demo's own
default is 1, which adds the client's 0.5 s poll pause to every statement). Requests are the completeness
record's count (every search page, existence check and DDSQL execute / fetch). The best of `--runs` is
printed: the 2-core machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from ddaudit_tui.analysis.ai_investigation import investigate_ai
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window, parse_instant

DAY_MS = 86_400_000


async def once(fake: FakeDatadog, window: Window, engine: str) -> tuple[int, float, int]:
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake, retention_days=None
    )
    try:
        started = time.perf_counter()
        result = await investigate_ai(client, window, engine=engine)
        elapsed = time.perf_counter() - started
    finally:
        await client.aclose()
    c = result.completeness
    assert c is not None and c.complete, c
    return c.requests, elapsed, len(result.flags)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.15, help="seconds per request (default 0.15)")
    ap.add_argument("--running-polls", type=int, default=0, help="DDSQL `running` answers before `completed`")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--end", default="2026-12-07T19:00:00Z", help="end of the 7-day window (pinned)")
    args = ap.parse_args()
    end = parse_instant(args.end)
    window = Window(end - 7 * DAY_MS, end)
    fake = FakeDatadog.from_demo(
        seed=7, end_ms=end, latency_s=args.latency, ddsql=DdsqlConfig(running_polls=args.running_polls)
    )
    fake.events  # noqa: B018  (the org built before the clock starts, as Datadog's index exists)
    print(
        f"AI activity, 7 days to {args.end}; fake: {args.latency * 1000:.0f} ms per request, "
        f"DDSQL running polls {args.running_polls}; best of {args.runs}"
    )
    print(f"{'engine':8} {'requests':>8} {'wall s':>7} {'flags':>5}")
    for engine in ("auto", "search", "ddsql"):
        runs = [asyncio.run(once(fake, window, engine)) for _ in range(args.runs)]
        requests, _t, flags = runs[0]
        best = min(t for _r, t, _f in runs)
        print(f"{engine:8} {requests:8d} {best:7.2f} {flags:5d}")


if __name__ == "__main__":
    main()
