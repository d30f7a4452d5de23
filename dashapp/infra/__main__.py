"""`python -m dashapp.infra render|check`: write infra/*.yaml, or fail when they are stale.

Why its own module: the command line is the contract CI and operators use;
``check`` exits 1 (naming the stale files) so a settings change cannot ship
without its rendered templates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashapp import infra
from dashapp.infra import INFRA_DIR, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashapp.infra", description=infra.__doc__.splitlines()[0]
    )
    parser.add_argument(
        "action", choices=["render", "check"], help="write infra/*.yaml, or check they are current"
    )
    parser.add_argument("--out", type=Path, default=INFRA_DIR)
    args = parser.parse_args(argv)
    from dashapp.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    stale = []
    for name, text in render(settings).items():
        path = args.out / name
        if args.action == "render":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    if stale:
        print(
            f"out of date: {', '.join(stale)}; run python -m dashapp.infra render", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
