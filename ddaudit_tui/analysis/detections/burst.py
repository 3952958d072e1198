"""`burst`: a burst of the key's activity in a short window — judged against the key's own rate (robust
z-score over its active 5-minute intervals) and an absolute threshold."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import KeyContext, key_param
from ddaudit_tui.analysis.detections.key_context import ts as _ts
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.timeutil import human_duration, iso

BURST = "burst"


def detect(ctx: KeyContext) -> list[Flag]:
    cfg, evs = ctx.cfg, ctx.events
    if not evs:
        return []
    w = cfg.burst_window_s * 1000
    buckets = ctx.burst_counts if ctx.burst_counts is not None else Counter(e.ts // w for e in evs)
    counts = sorted(buckets.values())
    median = statistics.median(counts)
    mad = statistics.median(abs(c - median) for c in counts)
    scale = max(1.4826 * mad, 1.0)  # MAD 0 (a perfectly regular key) must not divide by zero
    baseline_ok = len(counts) >= cfg.burst_min_baseline_buckets
    minutes = cfg.burst_window_s // 60
    if baseline_ok:
        ctx.rate_description = (
            f"typically {median:g} event{'' if median == 1 else 's'} per active {minutes}-minute interval "
            f"(median of {len(counts)} intervals, MAD {mad:g})"
        )
    else:
        ctx.rate_description = (
            f"only {len(counts)} active {minutes}-minute intervals (need {cfg.burst_min_baseline_buckets}): "
            f"bursts judged on the absolute threshold ({cfg.burst_absolute} in {minutes} min) alone"
        )
    times = [e.ts for e in evs]
    # Sliding window: for each event, how many events fall in [its time, its time + w).
    spans: list[tuple[int, int, int, Severity]] = []  # (first index, last index, count, severity)
    j = 0
    for i in range(len(times)):
        if j < i:
            j = i
        while j < len(times) and times[j] < times[i] + w:
            j += 1
        n = j - i
        z = (n - median) / scale
        relative = baseline_ok and n >= cfg.burst_min_events and z >= cfg.burst_z
        absolute = n >= cfg.burst_absolute
        if relative and absolute:
            sev = Severity.HIGH
        elif relative or (absolute and not baseline_ok):
            sev = Severity.MEDIUM
        else:
            continue
        spans.append((i, j - 1, n, sev))
    # Merge overlapping windows into episodes.
    episodes: list[list[Any]] = []
    for i, last, n, sev in spans:
        if episodes and i <= episodes[-1][1]:
            ep = episodes[-1]
            ep[1] = max(ep[1], last)
            if n > ep[2]:
                ep[2], ep[3] = n, i
            ep[4] = max(ep[4], sev)
        else:
            episodes.append([i, last, n, i, sev])
    flags = []
    for first, last, peak, peak_i, sev in episodes:
        group = evs[first : last + 1]
        ips = sorted({e.client_ip for e in group if e.client_ip})
        ratio = f", {peak / median:.0f}× the key's typical rate" if baseline_ok and median else ""
        reason = (
            f"{peak} events within {minutes} min from {_ts(times[peak_i])} ({len(group)} in the episode "
            f"{_ts(group[0].ts)} → {_ts(group[-1].ts)}, {human_duration(group[-1].ts - group[0].ts)}){ratio}; "
            f"from {', '.join(ips[:3]) or 'unknown IPs'}"
        )
        details = {
            "peak": peak,
            "window_s": cfg.burst_window_s,
            "events": len(group),
            "typical": median,
            "ips": ips,
        }
        flags.append(Flag(BURST, sev, reason, ctx.ids(group), iso(times[peak_i]), details))
    return flags


DETECTION = Detection(
    name=BURST,
    title="Burst of activity in short window",
    analysis="key",
    severity="high when above both the key's own rate and the absolute threshold, medium for one of them "
    "(the absolute one only while the key has too little history for a rate)",
    reference="detections.md §3.2, §7.1 (bursts), §7.6 (anomalous volume), §6.3 G4",
    params=(
        key_param("burst_window_s", "s", "sliding window"),
        key_param("burst_min_events", "events", "a relative burst needs at least this many events"),
        key_param("burst_z", "robust z", "events in the window vs the key's median per active interval"),
        key_param("burst_absolute", "events", "this many in one window is a burst whatever the key's rate"),
        key_param(
            "burst_min_baseline_buckets", "intervals", "active intervals needed before the key's rate counts"
        ),
    ),
    detect=detect,
    rank=60,
)
