"""`ai_new_client`: an AI client new against the baseline (the scenario of `ai_first_time_user`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from test_ai_first_time_user import _scenario  # noqa: E402


def test_new_client_against_the_baseline():
    flags = _scenario()
    (client,) = flags["ai_new_client"]
    assert client.subject == "Windsurf" and client.details["users"] == [
        "alice@example.com",
        "tom@example.com",
    ]
