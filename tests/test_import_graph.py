"""The import-graph reader on small made-up trees: it must see what Python would import,
or the architecture tests could pass on a graph missing the very edge that breaks them."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import describe, find_cycle, find_cycles, imports, package_graph, scan


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def top(module: str) -> str:
    return module.split(".")[0]


def test_imports_are_resolved_as_python_would_wherever_they_are_written(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/core.py": "X = 1\n",
            "app/web/__init__.py": "from . import views\n",
            "app/web/views.py": (
                "from ..core import X\n"
                "from app import core as c\n"
                "\n"
                "def late():\n"
                "    import lib.deep.mod\n"
                "    from lib import helper\n"
            ),
            "lib/__init__.py": "",
            "lib/helper.py": "import importlib\nM = importlib.import_module('app.web')\n",
            "lib/deep/__init__.py": "",
            "lib/deep/mod.py": (
                "from typing import TYPE_CHECKING\n"
                "import json\n"
                "if TYPE_CHECKING:\n"
                "    from app.core import X\n"
            ),
            "lib/deep/__pycache__/stale.py": "import nowhere\n",
        },
    )
    tree = scan(tmp_path, ("app", "lib"))
    assert "lib.deep.__pycache__.stale" not in tree.modules
    assert {(i.importer, i.target, i.dynamic, i.type_checking) for i in imports(tree)} == {
        ("app.web", "app.web.views", False, False),  # `from . import views`: the module
        ("app.web.views", "app.core", False, False),  # `from ..core import X`: X is a name
        ("app.web.views", "lib.deep.mod", False, False),  # inside a function
        ("app.web.views", "lib.helper", False, False),
        ("lib.helper", "importlib", False, False),
        ("lib.helper", "app.web", True, False),
        ("lib.deep.mod", "typing", False, False),
        ("lib.deep.mod", "json", False, False),
        ("lib.deep.mod", "app.core", False, True),
    }


def test_a_cycle_between_packages_is_reported_with_the_lines_that_make_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/core.py": "import app.util\n\ndef f():\n    from lib.helper import h\n",
            "app/util.py": "import app.core\n",  # inside one package: not a package cycle
            "lib/__init__.py": "",
            "lib/helper.py": "from app.core import X\n",
            "other/__init__.py": "import lib.helper\n",
        },
    )
    tree = scan(tmp_path, ("app", "lib", "other"))
    graph = package_graph(tree, imports(tree), top)
    assert graph == {
        "app": {"lib": graph["app"]["lib"]},
        "lib": {"app": graph["lib"]["app"]},
        "other": {"lib": graph["other"]["lib"]},
    }
    assert find_cycles(graph) == [["app", "lib", "app"]]
    assert describe(["app", "lib", "app"], graph).splitlines() == [
        "app -> lib -> app",
        "  app -> lib:",
        f"    {Path('app/core.py')}:4 (app.core): from lib.helper import h",
        "  lib -> app:",
        f"    {Path('lib/helper.py')}:1 (lib.helper): from app.core import X",
    ]
    del graph["lib"]["app"]
    assert find_cycle(graph) is None
