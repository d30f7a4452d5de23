"""Where a soak's memory went: the first and last tracemalloc snapshot of each process.

Usage: .venv/bin/python bench/memtrace/compare.py DIR [--top 25]
Prints, per process (by pid, with its command line when it still runs), the traced
total at each snapshot, then the allocation sites that grew most between the second
snapshot (after warm-up) and the last, grouped by traceback.
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections import defaultdict
from pathlib import Path

IGNORED = (
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--pid", type=int, action="append", help="only these processes")
    args = parser.parse_args()
    by_pid: dict[int, list[Path]] = defaultdict(list)
    for path in sorted(args.dir.glob("*.snap")):
        by_pid[int(path.name.split("-")[0])].append(path)
    for pid, paths in sorted(by_pid.items()):
        if args.pid and pid not in args.pid:
            continue
        snaps = [tracemalloc.Snapshot.load(str(p)).filter_traces(IGNORED) for p in paths]
        totals = [sum(s.size for s in snap.statistics("filename")) / 1e6 for snap in snaps]
        print(f"\n== pid {pid}: traced MB per snapshot: {' '.join(f'{t:.1f}' for t in totals)}")
        if len(snaps) < 3:
            continue
        diff = snaps[-1].compare_to(snaps[1], "traceback")
        for stat in diff[: args.top]:
            print(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+8d} blocks")
            for line in stat.traceback.format(limit=6, most_recent_first=True):
                print("    " + line)


if __name__ == "__main__":
    main()
