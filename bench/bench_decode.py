"""Decode + group-by on the reference file, side by side with the jq step of the key recipe.

Usage: python bench/bench_decode.py [--events 200000] [--file PATH] [--key KEY_ID]

Writes the reference input with `ddaudit demo-data --events N` (the `pup -o json` shape) under
bench/data/ if it is missing, then runs each contender in its own process (so peak RSS is its own) and
prints wall time and peak RSS. Timings are machine-dependent: record them in docs/performance.md with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Step 2 of the key-compromise recipe (detections.md §3.1), on a file instead of one pup page: the
# `select` stands in for the `--query "@metadata.api_key.id:KEY_ID"` that pup would have sent.
JQ_STEP = """[.data[] | select(.attributes.attributes.metadata.api_key.id == $key) | {
  country: .attributes.attributes.network.client.geoip.country.name,
  asn: .attributes.attributes.network.client.geoip.as.name,
  ip: .attributes.attributes.network.client.ip }]
| group_by(.country)
| map({country: .[0].country, count: length, asns: [.[].asn] | unique, ips: [.[].ip] | unique})
| sort_by(-.count)"""

DDAUDIT_STEP = """
import json, sys
from collections import defaultdict
from ddaudit_tui.events.decode import iter_decode
data = open(sys.argv[1], "rb").read()
events = list(iter_decode(data, sys.argv[1]))
del data
key = sys.argv[2]
groups = defaultdict(lambda: [0, set(), set()])
for e in events:
    if e.api_key_id == key:
        g = groups[e.country]
        g[0] += 1
        g[1].add(e.asn_name)
        g[2].add(e.client_ip)
out = sorted(({"country": c, "count": n, "asns": sorted(a, key=str), "ips": sorted(i, key=str)}
              for c, (n, a, i) in groups.items()), key=lambda r: -r["count"])
json.dump({"decoded": len(events), "origins": out}, sys.stdout)
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of that child alone, stdout)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)  # per-child rusage, unlike RUSAGE_CHILDREN
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--key", help="API key id to group (default: the demo's planted compromised key)")
    args = ap.parse_args()

    path = args.file or HERE / "data" / f"demo{args.events // 1000}k.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing {path} …", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "ddaudit_tui", "demo-data", "--events", str(args.events), "-o", str(path)],
            check=True,
        )
    key = args.key
    if key is None:
        from ddaudit_tui.demo.org import PLANTED

        key = PLANTED.compromised_key
    size_mb = path.stat().st_size / 1e6
    print(f"input: {path} ({size_mb:.0f} MB)   key: {key}")

    # Each contender runs in a fresh process, once; ddaudit first so its peak RSS is not masked by jq's.
    wall_dd, rss_dd, out_dd = timed([sys.executable, "-c", DDAUDIT_STEP, str(path), key])
    rows = [("ddaudit decode + group-by", wall_dd, rss_dd)]
    result = json.loads(out_dd)
    if shutil.which("jq"):
        wall_jq, rss_jq, out_jq = timed(["jq", "--arg", "key", key, JQ_STEP, str(path)])
        rows.append(("jq key-recipe step 2", wall_jq, rss_jq))
        same = json.loads(out_jq) == [
            {**r, "asns": sorted(r["asns"], key=str), "ips": sorted(r["ips"], key=str)}
            for r in result["origins"]
        ]
        print(f"results identical: {same}")
    else:
        print("jq not installed: install it to compare (apt-get install jq)")
    print(f"{'contender':<28} {'wall s':>8} {'peak RSS MB':>12}")
    for name, wall, rss in rows:
        print(f"{name:<28} {wall:>8.2f} {rss:>12.0f}")
    print(f"decoded events: {result['decoded']:,}; origins of the key: {len(result['origins'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
