"""`python -m collectors [--once] [--only NAME ...] [--group bulk|live]`.

Forever, the live pollers (registry.LIVE) run in a child process of their own
(`collectors.live_process`) and the others in this one, each group under its own
leader lock. `--group` runs one group only, in this process: a deployment may also
run the two groups as separate services.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from collectors.live_process import LiveProcess
from collectors.registry import BULK, GROUPS, JOBS, LIVE, in_group, job
from collectors.runner import CollectorRunner, install_signal_handlers
from dashapp import lifeline
from dashapp.config import ConfigError, load_settings
from dashapp.malloc_arenas import limit_malloc_arenas


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m collectors", description=__doc__)
    p.add_argument(
        "--once",
        action="store_true",
        help="run every collector once and exit (non-zero if one failed)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=[j.name for j in JOBS],
        help="run only these collectors",
    )
    p.add_argument(
        "--group",
        choices=GROUPS,
        help="run only this group's collectors, in this process (default: both groups, "
        "the live pollers in a child process)",
    )
    args = p.parse_args(argv)
    who = "collectors" if args.group in (None, BULK) else f"collectors-{args.group}"
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {who} %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # A continuous job (the event consumer) overlapping its next fire time is expected.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    jobs = [job(n) for n in args.only] if args.only else list(JOBS)
    if args.group:
        jobs = in_group(jobs, args.group)
        if not jobs:
            p.error(f"none of {', '.join(args.only or [])} is in the {args.group} group")
    limit_malloc_arenas()  # before the scheduler's and the collectors' threads start
    if args.once:
        return CollectorRunner(settings, jobs=jobs).run_once()
    live = in_group(jobs, LIVE)
    here = args.group or (LIVE if len(live) == len(jobs) else BULK)
    child = None
    if here == BULK and live:
        jobs = in_group(jobs, BULK)
        child = LiveProcess([j.name for j in live])
    runner = CollectorRunner(settings, jobs=jobs, group=here)
    install_signal_handlers(runner)
    lifeline.watch_parent()
    if child is None:
        lifeline.exit_now(runner.run_forever())
    runner.check_schema()  # one message, not one from each process
    child.start()
    try:
        code = runner.run_forever()
    finally:
        child.stop()
    # A cycle abandoned at stop would hold a normal exit until its call returns.
    lifeline.exit_now(code)
