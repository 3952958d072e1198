"""A demo org behind the fake Datadog API on 127.0.0.1, for trying profiles and `--all-profiles` by hand.

    python -m ddaudit_tui.demo.serve_fake --seed 8 --port 8802 \\
        --api-key-env EU_DD_API_KEY --app-key-env EU_DD_APP_KEY [--without-key KEY_ID] [--events N]

The fake accepts only the keys found in the named environment variables (the ones the profile reads too),
so each org is reached with its own credentials; they are never printed. `--without-key` leaves out every
event mentioning that key: an org the key never reached. Stops on ctrl+c (or SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from ddaudit_tui.demo.fake_datadog import FakeCredentials, FakeDatadog
from ddaudit_tui.demo.loopback import start_loopback
from ddaudit_tui.demo.org import generate


def demo_items(
    seed: int, events: int | None = None, without_key: str | None = None, end_ms: int | None = None
) -> list[dict[str, Any]]:
    """The demo org of `seed`; without any event mentioning `without_key` when given."""
    import msgspec

    items = generate(seed=seed, events=events, end_ms=end_ms)
    if without_key:
        needle = without_key.encode()
        enc = msgspec.json.Encoder()
        items = [i for i in items if needle not in enc.encode(i)]
    return items


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m ddaudit_tui.demo.serve_fake", description=__doc__.split("\n")[0]
    )
    p.add_argument("--seed", type=int, default=7, help="the demo org's seed (default 7)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    p.add_argument("--events", type=int, help="this many events (default: the demo's own size)")
    p.add_argument("--without-key", metavar="KEY_ID", help="leave out every event mentioning this API key id")
    p.add_argument("--api-key-env", metavar="NAME", required=True, help="env variable holding the API key")
    p.add_argument("--app-key-env", metavar="NAME", required=True, help="env variable holding the app key")
    args = p.parse_args(argv)
    api_key, app_key = os.environ.get(args.api_key_env), os.environ.get(args.app_key_env)
    if not api_key or not app_key:
        p.error(f"set {args.api_key_env} and {args.app_key_env} (the keys this fake org accepts)")
    fake = FakeDatadog(
        demo_items(args.seed, args.events, args.without_key), credentials=FakeCredentials(api_key, app_key)
    )
    base_url, stop = start_loopback(fake, args.port)
    print(f"demo org (seed {args.seed}) at {base_url}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
