"""The project's import graph read from source with `ast`, for the architecture tests.

Reading source rather than `sys.modules` sees every import, including those inside
functions, under `if TYPE_CHECKING:` and the literal `importlib.import_module("x")`
hand-overs, and needs none of the optional packages (the sandbox's moto) installed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

# What production and the sandbox consist of; tests, bench and migrations are not in it.
SOURCES = ("dashapp", "pages", "layouts", "callbacks", "collectors", "sandbox", "wsgi.py")


@dataclass(frozen=True)
class Import:
    """One module naming another: where, and the statement as written."""

    importer: str
    target: str  # a project module, or the dotted name of a third-party one
    path: Path
    line: int
    statement: str
    dynamic: bool = False  # importlib.import_module("…"): by name, at run time
    type_checking: bool = False  # under `if TYPE_CHECKING:`: a dependency, never executed

    def __str__(self) -> str:
        note = " [type checking only]" if self.type_checking else ""
        return f"{self.path}:{self.line} ({self.importer}): {self.statement}{note}"


@dataclass(frozen=True)
class Tree:
    """The modules found under SOURCES: name -> file, and which names are packages."""

    root: Path
    modules: Mapping[str, Path]
    packages: frozenset[str]


def scan(root: Path, sources: Iterable[str] = SOURCES) -> Tree:
    modules: dict[str, Path] = {}
    packages: set[str] = set()
    for source in sources:
        top = root / source
        files = [top] if top.is_file() else sorted(top.rglob("*.py"))
        for path in files:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
                packages.add(".".join(parts))
            modules[".".join(parts)] = path.relative_to(root)
    # A folder of modules without __init__.py (pages/) is a namespace package.
    for name in list(modules):
        parent = name.rpartition(".")[0]
        while parent:
            packages.add(parent)
            parent = parent.rpartition(".")[0]
    return Tree(root, modules, frozenset(packages))


def _import_module_literal(node: ast.Call) -> str | None:
    """'sandbox.cli' for `importlib.import_module("sandbox.cli")`, else None."""
    func = ast.unparse(node.func)
    if func not in ("importlib.import_module", "import_module") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports(tree: Tree) -> list[Import]:
    """Every import in every module, `from a import b` resolved to module a.b when it is one."""
    found: list[Import] = []
    for name, path in tree.modules.items():
        syntax = ast.parse((tree.root / path).read_text(encoding="utf-8"), str(path))
        package = name if name in tree.packages else name.rpartition(".")[0]
        typing_only = _under_type_checking(syntax)
        for node in ast.walk(syntax):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    targets.append(submodule if submodule in tree.modules else module)
            elif isinstance(node, ast.Call) and (literal := _import_module_literal(node)):
                targets = [literal]
            if not targets:
                continue
            found += [
                Import(
                    name,
                    target,
                    path,
                    node.lineno,
                    ast.unparse(node),
                    dynamic=isinstance(node, ast.Call),
                    type_checking=id(node) in typing_only,
                )
                for target in dict.fromkeys(targets)
            ]
    return found


def _under_type_checking(syntax: ast.Module) -> set[int]:
    """ids of the nodes inside the body of an `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`)."""
    inside: set[int] = set()
    for node in ast.walk(syntax):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            inside |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return inside


Graph = dict[str, dict[str, list[Import]]]


def package_graph(tree: Tree, found: Iterable[Import], node_of: Callable[[str], str]) -> Graph:
    """Node -> node it imports -> the imports behind that edge (project modules only)."""
    tops = {name.split(".")[0] for name in tree.modules}
    graph: Graph = {node_of(name): {} for name in tree.modules}
    for imp in found:
        if imp.target.split(".")[0] not in tops:
            continue
        source, target = node_of(imp.importer), node_of(imp.target)
        if source != target:
            graph[source].setdefault(target, []).append(imp)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a path [a, b, …, a], or None; depth-first, nodes in sorted order."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, {})):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done and (cycle := visit(nxt)):
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)):
            return cycle
    return None


def find_cycles(graph: Graph, limit: int = 10) -> list[list[str]]:
    """Up to `limit` cycles, each found after cutting an edge of the previous ones, so one run
    shows every tangle rather than the first only."""
    remaining = {node: dict(edges) for node, edges in graph.items()}
    cycles: list[list[str]] = []
    while len(cycles) < limit and (cycle := find_cycle(remaining)):
        cycles.append(cycle)
        del remaining[cycle[0]][cycle[1]]
    return cycles


def describe(cycle: list[str], graph: Graph, per_edge: int = 3) -> str:
    """The cycle as a path, then the import lines that make each hop."""
    lines = [" -> ".join(cycle)]
    for a, b in pairwise(cycle):
        behind = graph[a][b]
        lines.append(f"  {a} -> {b}:")
        lines += [f"    {imp}" for imp in behind[:per_edge]]
        if len(behind) > per_edge:
            lines.append(f"    … and {len(behind) - per_edge} more")
    return "\n".join(lines)
