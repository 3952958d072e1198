"""The `ddaudit` command's entry point.

`ddaudit watch --status` runs from a tmux status bar every few seconds: it is sent to a module that imports
only the standard library before anything else (the CLI imports pydantic and the analyses: ~0.3 s).
Everything else goes to `ddaudit_tui.cli`.
"""

from __future__ import annotations

import gc
import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["watch"] and "--status" in argv:
        from ddaudit_tui.alerts.status_line import main as status

        return status(argv[1:])
    # The TUI's first frame (issue 12): before it, the cyclic collector would walk the objects of the
    # imports and of the first compose again and again (~70 ms of CPU) and free next to nothing. Paused
    # here; the first frame resumes it (DdauditApp._first_paint_done), and any other command resumes it
    # as soon as it is parsed (cli.main).
    gc.disable()
    from ddaudit_tui.cli import main as cli

    return cli(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
