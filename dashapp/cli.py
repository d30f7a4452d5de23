"""`python -m dashapp demo|web|sandbox|db|config` — the product's command line.

Invalid configuration ends every command with one line naming the setting (exit 2).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from dashapp.config import ConfigError, Settings, env_name, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None


def cmd_config(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.markdown:
        print(settings_table())
    else:
        print(json.dumps(settings.redacted(), indent=2 if not args.compact else None))
    return 0


def settings_table() -> str:
    """The README's configuration table, generated from `Settings` so the two cannot drift."""
    defaults = Settings.model_construct()
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        value = getattr(defaults, name, None)
        if name == "datasets":
            shown = "(required)"
        elif name == "secret_key":
            shown = "(dev only)"
        elif value is None:
            shown = "—"
        else:
            shown = f"`{value}`"
        lines.append(f"| `{env_name(name)}` | {shown} | {field.description or ''} |")
    return "\n".join(lines)


def cmd_db(args: argparse.Namespace) -> int:
    from dashapp.db import current_revision, head_revision, make_engine, upgrade

    settings = _settings()
    if args.action == "upgrade":
        upgrade(settings.database_url)
        print(f"database at {head_revision()} (head)")
        return 0
    engine = make_engine(settings.database_url)
    rev = current_revision(engine)
    engine.dispose()
    head = head_revision()
    print(f"database at {rev or 'nothing (not migrated)'}; code expects {head}")
    return 0 if rev == head else 1


def cmd_web(args: argparse.Namespace) -> int:
    from dashapp.serve import serve

    settings = _settings()
    if args.migrate:
        from dashapp.db import upgrade

        upgrade(settings.database_url)
    serve(settings, workers=args.workers, threads=args.threads)
    return 0


def _in_sandbox(command: str, args: argparse.Namespace) -> int:
    """Hand over to the sandbox, which only a checkout with requirements-sandbox.txt has."""
    try:
        cli = importlib.import_module("sandbox.cli")
        return int(cli.main(args.args) if command == "serve" else cli.cmd_demo(args))
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith(("sandbox", "moto")):
            raise
        print(
            f"the sandbox is not installed here ({e.name} is missing): it ships with the source "
            "checkout (requirements-sandbox.txt), not with the image; run `make demo` there",
            file=sys.stderr,
        )
        return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashapp", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="sandbox + collectors + web on this machine (no AWS needed)")
    d.add_argument("--keep-data", action="store_true", help="keep the demo database between runs")
    d.set_defaults(func=lambda a: _in_sandbox("demo", a))

    w = sub.add_parser("web", help="serve the dashboard (gunicorn, gthread workers)")
    w.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    w.add_argument("--threads", type=int, default=8)
    w.add_argument("--migrate", action="store_true", help="apply migrations first")
    w.set_defaults(func=cmd_web)

    s = sub.add_parser(
        "sandbox",
        help="local AWS (moto + fidelity layer + simulator); same as `python -m sandbox`",
        add_help=False,
    )
    s.add_argument("args", nargs=argparse.REMAINDER)
    s.set_defaults(func=lambda a: _in_sandbox("serve", a))

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db)

    c = sub.add_parser("config", help="print the effective configuration (secrets redacted)")
    fmt = c.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON (the default)")
    fmt.add_argument("--markdown", action="store_true", help="the README's settings table")
    c.add_argument("--compact", action="store_true")
    c.set_defaults(func=cmd_config)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["sandbox"]:
        # Everything after `sandbox` is the sandbox's own (argparse's REMAINDER drops a
        # leading option such as --port).
        return _in_sandbox("serve", argparse.Namespace(args=given[1:]))
    args = build_parser().parse_args(given)
    return int(args.func(args) or 0)
