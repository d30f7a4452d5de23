"""`python -m sandbox [demo]`: the local AWS account, or the whole product on top of it.

Lives outside `dashapp/` so the production image carries neither moto nor the demo
data; `python -m dashapp sandbox|demo` hand over to this module when it is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sandbox.datasets import datasets_json


def cmd_serve(args: argparse.Namespace) -> int:
    from dashapp import lifeline
    from dashapp.config import ConfigError, load_settings
    from sandbox.run import run_sandbox

    os.environ.setdefault("SMD_DATASETS", datasets_json())
    try:
        settings = load_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    port = settings.sandbox_port if args.port is None else args.port
    lifeline.watch_parent()
    code = run_sandbox(
        settings,
        port=port,
        simulate=not args.no_simulator,
        glue_jobs=args.glue_jobs,
        lambda_functions=args.lambda_functions,
    )
    # The account was only in memory; freeing moto's heap would add a second or more.
    lifeline.exit_now(code)


def cmd_demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo(fresh=not args.keep_data)


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    """The sandbox's options (`python -m dashapp sandbox` passes its arguments through)."""
    p.add_argument("--port", type=int, default=None, help="default: SMD_SANDBOX_PORT")
    p.add_argument("--no-simulator", action="store_true", help="seed only, no live pipelines")
    p.add_argument(
        "--glue-jobs",
        type=int,
        default=None,
        metavar="N",
        help="grow the account to N Glue jobs (load benchmarks)",
    )
    p.add_argument(
        "--lambda-functions",
        type=int,
        default=None,
        metavar="N",
        help="grow the account to N Lambda functions (load benchmarks)",
    )
    p.set_defaults(func=cmd_serve)


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep-data", action="store_true", help="keep the demo database between runs")
    p.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    add_serve_arguments(p)
    sub = p.add_subparsers(dest="command")
    add_demo_arguments(
        sub.add_parser("demo", help="sandbox + collectors + web on this machine (no AWS needed)")
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
