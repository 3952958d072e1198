"""The terminal sizes the layouts need: the panes' full layout, and the compact Spike watch below it (a
small tmux pane). Shared by the screens and the widgets, so it sits below both."""

from __future__ import annotations

MIN_WIDTH = 60
MIN_HEIGHT = 20
# Down to this size the Spike watch shows, compact (widgets/watch_compact.py): a small tmux pane.
COMPACT_MIN_WIDTH = 40
COMPACT_MIN_HEIGHT = 6

# Several orgs: a profile name (the user's own text) is cropped here in org columns and lines.
ORG_MAX = 16

__all__ = ["COMPACT_MIN_HEIGHT", "COMPACT_MIN_WIDTH", "MIN_HEIGHT", "MIN_WIDTH", "ORG_MAX"]
