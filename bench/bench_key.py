"""`ddaudit key` full report on the reference file (DESIGN.md budget: ≤ 2.5 s wall, ≤ 700 MB peak RSS),
next to the key recipe's jq step 2 on the same file.

Usage: python bench/bench_key.py [--events 200000] [--file PATH] [--key KEY_ID] [--format json] [--runs 3]

Uses (or writes, like bench_decode.py) bench/data/demo200k.json — `ddaudit demo-data --events 200000`,
the `pup -o json` shape. Each run is a fresh process (interpreter start and imports included), the whole
command: read, needle-decode the key's items, org-country baseline from raw bytes, analysis, render,
write. The JSON groupings are checked against jq's. Timings are machine-dependent: record the machine.
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

# The recipe's step 2 on a file: `select` stands in for pup's `--query "@metadata.api_key.id:KEY_ID"`.
JQ_STEP = """[.data[] | select(.attributes.attributes.metadata.api_key.id == $key) | {
  country: .attributes.attributes.network.client.geoip.country.name,
  asn: .attributes.attributes.network.client.geoip.as.name,
  ip: .attributes.attributes.network.client.ip }]
| group_by(.country)
| map({country: .[0].country, count: length, asns: [.[].asn] | unique, ips: [.[].ip] | unique})
| sort_by(-.count)"""

# The `key` command as `ddaudit key` runs it (through its own parser until cli.py registers it).
KEY_CMD = """
import argparse, sys
from ddaudit_tui.commands import key
p = argparse.ArgumentParser(prog="ddaudit key")
key.add_arguments(p)
raise SystemExit(key.run(p.parse_args(sys.argv[1:])))
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of that child alone, stdout)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{cmd[0]} failed with exit code {code}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--key", help="API key id (default: the demo's planted compromised key)")
    ap.add_argument("--format", default="json", choices=["text", "md", "json", "html"])
    ap.add_argument("--runs", type=int, default=3)
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
    print(f"input: {path} ({path.stat().st_size / 1e6:.0f} MB)   key: {key}   load: {os.getloadavg()[0]:.2f}")

    rows = []
    out = ""
    for i in range(max(1, args.runs)):
        wall, rss, out = timed(
            [sys.executable, "-c", KEY_CMD, key, "--input", str(path), "--format", args.format]
        )
        rows.append((f"ddaudit key --format {args.format} (run {i + 1})", wall, rss))
    if shutil.which("jq"):
        wall, rss, out_jq = timed(["jq", "--arg", "key", key, JQ_STEP, str(path)])
        rows.append(("jq key-recipe step 2", wall, rss))
        if args.format == "json":
            ours = [
                {k: o[k] for k in ("country", "count", "asns", "ips")} for o in json.loads(out)["origins"]
            ]
            print(f"origins identical to jq's: {ours == json.loads(out_jq)}")
    else:
        print("jq not installed: install it to compare (apt-get install jq)")
    print(f"{'contender':<40} {'wall s':>8} {'peak RSS MB':>12}")
    for name, wall, rss in rows:
        print(f"{name:<40} {wall:>8.2f} {rss:>12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
