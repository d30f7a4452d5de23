"""Which collectors were running while another collector's cycle ran past its interval.

Why: the collectors share one process (one GIL) and one AWS account, so a cycle that runs
long may wait on its own calls or on a neighbour's work. Counting, for each slow cycle,
the neighbours whose cycles overlapped it, next to how often they overlap any of its
cycles, says which neighbour the slow ones wait on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["print_overruns"]


def _overlapping(cycle: Any, others: Sequence[Any]) -> set[str]:
    end = cycle.started + cycle.took
    return {o.collector for o in others if o.started < end and o.started + o.took > cycle.started}


def print_overruns(cycles: Sequence[Any], interval_of: Callable[[str], float]) -> None:
    """For each collector with cycles past its interval in the window: which others ran
    beside its slow cycles, and (in brackets) beside any of its cycles."""
    window = [c for c in cycles if c.phase == "window"]
    names = sorted({c.collector for c in window if c.collector != "events"})
    for name in names:
        interval = interval_of(name)
        mine = [c for c in window if c.collector == name][1:]  # the steady state, as the table
        slow = [c for c in mine if c.took > interval]
        if not slow:
            continue
        others = [c for c in window if c.collector not in (name, "events")]
        beside_slow: Counter[str] = Counter()
        beside_any: Counter[str] = Counter()
        for c in mine:
            hits = _overlapping(c, others)
            beside_any.update(hits)
            if c.took > interval:
                beside_slow.update(hits)
        alone = sum(1 for c in slow if not _overlapping(c, others))
        parts = [
            f"{other} {n} ({100 * beside_any[other] / len(mine):.0f} % of all)"
            for other, n in beside_slow.most_common()
        ]
        print(
            f"   {name}: {len(slow)} of {len(mine)} cycles over {interval:g} s; running beside "
            f"them: {', '.join(parts) or 'nothing'}; beside no other collector: {alone}"
        )
