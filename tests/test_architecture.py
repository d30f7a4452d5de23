"""The layering of issue 9, held by tests rather than by review.

No import cycle between packages; the sandbox, moto and boto3 each stay in their
corner; the read side (dashapp.queries) never reaches the write side, the web tier
or AWS clients; and no module outside migrations/ grows past 500 lines. Each
failure names the modules and the import lines (or the files) to change.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.import_graph import (
    Import,
    Tree,
    describe,
    find_cycles,
    imports,
    package_graph,
    scan,
)

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500
AWS_CORNER = ("dashapp.aws", "sandbox")  # where boto3 may be imported


@cache
def project() -> tuple[Tree, tuple[Import, ...]]:
    tree = scan(ROOT)
    return tree, tuple(imports(tree))


def within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


# The composition root: the modules that assemble and start the processes (the Dash app,
# the services every callback is handed, the CLI and server). They sit above everything
# they wire, so each counts as its own node instead of joining the "dashapp" base
# (config, clock, models, identity, timerange) that every package builds on.
COMPOSITION_ROOT = frozenset(
    {"dashapp.app", "dashapp.services", "dashapp.cli", "dashapp.serve", "dashapp.__main__"}
)


def node_of(tree: Tree, *, split_pages: bool) -> Callable[[str], str]:
    """The package a module counts as: every dashapp subpackage is its own node, the
    composition root's modules are theirs, and dashapp's other root modules are "dashapp";
    pages is one node, or with `split_pages` one per page folder (its registry and spec
    modules being nodes of their own)."""

    def node(module: str) -> str:
        if module in COMPOSITION_ROOT:
            return module
        top, _, rest = module.partition(".")
        sub = rest.split(".")[0]
        if top == "dashapp" and sub and f"dashapp.{sub}" in tree.packages:
            return f"dashapp.{sub}"
        if top == "pages" and sub and split_pages:
            return f"pages.{sub}"
        return top

    return node


def listing(found: Iterable[Import]) -> str:
    return "\n".join(f"  {imp}" for imp in found)


def test_the_scan_covers_every_source_tree() -> None:
    """Guards the other tests against passing on an empty or partial scan."""
    tree, found = project()
    assert {name.split(".")[0] for name in tree.modules} == {
        "dashapp",
        "pages",
        "layouts",
        "callbacks",
        "collectors",
        "sandbox",
        "wsgi",
    }
    assert {"dashapp.queries", "dashapp.actions.uploads", "pages.overview"} <= tree.packages
    assert any(imp.importer == "wsgi" and imp.target == "dashapp.app" for imp in found)


def test_modules_map_to_their_package() -> None:
    tree, _ = project()
    coarse, fine = node_of(tree, split_pages=False), node_of(tree, split_pages=True)
    assert coarse("dashapp.config") == "dashapp"
    assert coarse("dashapp.actions.uploads.service") == "dashapp.actions"
    assert coarse("pages.overview.layout") == coarse("pages.registry") == "pages"
    assert fine("pages.overview.layout") == "pages.overview"
    assert fine("pages.registry") == "pages.registry"
    assert coarse("sandbox.fidelity.glue") == "sandbox"


@pytest.mark.parametrize("split_pages", [False, True], ids=["pages-as-one", "page-by-page"])
def test_no_import_cycle_between_packages(split_pages: bool) -> None:
    tree, found = project()
    graph = package_graph(tree, found, node_of(tree, split_pages=split_pages))
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between packages (each hop with its import lines):\n" + (
        "\n".join(describe(cycle, graph) for cycle in cycles)
    )


def test_only_the_sandbox_imports_the_sandbox_or_moto() -> None:
    """Production never knows whether it talks to AWS or to the sandbox.

    The one exception is `python -m dashapp sandbox|demo` handing over to `sandbox.cli`:
    it goes by module name at run time (importlib), so the image, which ships without
    the sandbox, still imports and starts; a plain import there would break it.
    """
    _, found = project()
    offenders = [
        imp
        for imp in found
        if within(imp.target, ("sandbox", "moto"))
        and not within(imp.importer, ("sandbox",))
        and not (imp.importer == "dashapp.cli" and imp.target == "sandbox.cli" and imp.dynamic)
    ]
    assert not offenders, "outside sandbox/, import neither sandbox nor moto:\n" + listing(
        offenders
    )


def test_boto3_is_imported_only_in_dashapp_aws_and_the_sandbox() -> None:
    """dashapp.aws is the one place AWS is called; elsewhere only botocore's exceptions, to
    catch what those calls raise."""
    _, found = project()
    offenders = [
        imp
        for imp in found
        if not within(imp.importer, AWS_CORNER)
        and (
            within(imp.target, ("boto3",))
            or (within(imp.target, ("botocore",)) and imp.target != "botocore.exceptions")
        )
    ]
    assert not offenders, "boto3 (or botocore beyond its exceptions) outside dashapp.aws:\n" + (
        listing(offenders)
    )


def test_the_read_side_reaches_neither_the_write_side_nor_the_web_tier_nor_aws() -> None:
    """Pages render from the database alone through dashapp.queries: the read side may use
    dashapp.aws's constants (run states) but never a client, an action or a page."""
    _, found = project()
    forbidden = (
        "dashapp.actions",
        "dashapp.export",
        "dashapp.web",
        "dashapp.infra",
        "dashapp.services",
        "dashapp.aws.clients",
        "pages",
        "layouts",
        "callbacks",
        "collectors",
        "sandbox",
        "boto3",
        "botocore",
    )
    offenders = [
        imp
        for imp in found
        if within(imp.importer, ("dashapp.queries",)) and within(imp.target, forbidden)
    ]
    assert not offenders, "dashapp.queries imports what it must not:\n" + listing(offenders)


def tracked_python_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", "*.py"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        missing(f"the line limit reads the files git tracks, and `git ls-files` failed: {e}")
    return [path for path in out.decode().split("\0") if path]


def test_no_module_over_500_lines_outside_migrations() -> None:
    paths = [
        path
        for path in tracked_python_files()
        if not path.startswith("migrations/") and (ROOT / path).is_file()
    ]
    assert len(paths) > 100, f"only {len(paths)} tracked .py files: not this repository?"
    sizes = {path: len((ROOT / path).read_text(encoding="utf-8").splitlines()) for path in paths}
    over = sorted((n, path) for path, n in sizes.items() if n > MAX_LINES)
    assert not over, f"modules over {MAX_LINES} lines (split them by topic):\n" + "\n".join(
        f"  {path}: {n} lines" for n, path in reversed(over)
    )
