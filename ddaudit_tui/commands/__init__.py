"""Headless commands beyond the foundation (key, revoke, ai, watch, report): one module each."""
