"""`python -m collectors [--once] [--only NAME ...]`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from collectors.registry import JOBS, job
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
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s collectors %(levelname)s %(message)s"
    )
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
    limit_malloc_arenas()  # before the scheduler's and the collectors' threads start
    runner = CollectorRunner(settings, jobs=jobs)
    if args.once:
        return runner.run_once()
    install_signal_handlers(runner)
    lifeline.watch_parent()
    # A cycle abandoned at stop would hold a normal exit until its call returns.
    lifeline.exit_now(runner.run_forever())
