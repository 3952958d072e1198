"""Where the watch state lives: one definition, read by the watcher (`state.py`) and by the tmux status
line (`status_line.py`), which must stay cheap to import — hence standard library only, and platformdirs
imported when it is needed."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "DDAUDIT_STATE_DIR"
DB_NAME = "watch.sqlite3"


def default_state_dir() -> Path:
    """`$DDAUDIT_STATE_DIR`, else the platform's state directory for ddaudit."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("ddaudit"))


__all__ = ["DB_NAME", "STATE_ENV", "default_state_dir"]
