"""The house rules, read off the source: no import circle, no private name across subpackages, small modules,
every module saying what it owns, and imports inside functions only where a heavy library is deferred.

The import graph is read with :mod:`ast` (nothing is imported), so a rule broken anywhere in ``src/mixsim`` fails
here with the module and line that break it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "mixsim"

MAX_LINES = 600
"""No module over this many lines: past it a module almost always holds more than one concept."""

HEAVY = frozenset(
    {"pandas", "scipy", "matplotlib", "openpyxl", "pulp", "highspy", "dask", "distributed", "pyarrow", "tqdm"}
)
"""Third-party libraries slow enough to import that deferring them is worth an import inside a function."""

INNER_STDLIB = {"ctypes": "the C library's allocator is tuned only where the C library is glibc"}
"""Standard-library modules that may be imported inside a function, and why."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, as the importing module sees it."""

    module: str  # the importing module
    target: str  # the imported module (for ``from M import name``: ``M.name`` when that is a module, else ``M``)
    names: tuple[str, ...]  # names taken from the target (empty for ``import M``)
    line: int
    inner: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, inner: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, inner)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, (), child.lineno, inner) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _absolute(module, child)
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    if sub in MODULES:  # ``from mixsim.optimizer import program``: the module itself
                        found.append(Import(module, sub, (), child.lineno, inner))
                    else:
                        found.append(Import(module, target, (alias.name,), child.lineno, inner))
            visit(child, inner or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return found


IMPORTS: dict[str, list[Import]] = {m: _imports(m) for m in MODULES}


def _unit(module: str) -> str:
    """The subpackage (or top-level module) a module belongs to: ``mixsim.optimizer.weekly.plan`` -> ``optimize``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return out


def _runtime_edges() -> dict[str, set[str]]:
    return {m: {i.target for i in found if i.target in MODULES and i.target != m} for m, found in IMPORTS.items()}


def test_the_import_graph_is_read() -> None:
    # The rules below are only as good as the graph: it must see the package's real imports.
    edges = _runtime_edges()
    assert "mixsim.scenario" in edges["mixsim.engine.population"]
    assert len(MODULES) > 40


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle() -> None:
    cycles = _cycles(_runtime_edges())
    assert not cycles, "modules that import each other (at run time, TYPE_CHECKING aside): " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_no_private_name_crosses_a_subpackage() -> None:
    bad = []
    for module, found in IMPORTS.items():
        for imp in found:
            if not imp.target.startswith("mixsim.") or _unit(imp.target) == _unit(module):
                continue
            below = imp.target.split(".")[2:]  # the parts under the subpackage: a private module there is private
            private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
            if private or any(p.startswith("_") for p in below):
                bad.append(f"{module}:{imp.line} imports {', '.join(private) or imp.target} from {imp.target}")
    assert not bad, "private names used across subpackages:\n" + "\n".join(bad)


def test_modules_are_small() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    big = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_every_module_says_what_it_owns() -> None:
    missing = [m for m, p in MODULES.items() if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, f"modules without a docstring: {missing}"
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module.count(".") == 1 and module != "mixsim":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "must not" in doc or "never" in doc, f"{module}: say what the subpackage must not touch"


def _heavy_closure() -> dict[str, frozenset[str]]:
    """Per module, the heavy libraries importing it loads (module-level imports, followed through mixsim)."""
    memo: dict[str, frozenset[str]] = {}

    def closure(module: str, seen: frozenset[str]) -> frozenset[str]:
        if module in memo:
            return memo[module]
        heavy: set[str] = set()
        for imp in IMPORTS[module]:
            if imp.inner:
                continue
            root = imp.target.split(".")[0]
            if root in HEAVY:
                heavy.add(root)
            elif imp.target in MODULES and imp.target not in seen:
                heavy |= closure(imp.target, seen | {module})
        memo[module] = frozenset(heavy)
        return memo[module]

    for m in MODULES:
        closure(m, frozenset())
    return memo


def test_imports_inside_functions_defer_a_heavy_library() -> None:
    heavy = _heavy_closure()
    bad = []
    for module, found in IMPORTS.items():
        for imp in found:
            if not imp.inner:
                continue
            root = imp.target.split(".")[0]
            if root in INNER_STDLIB:
                continue
            brings = {root} & HEAVY if root != "mixsim" else set(heavy.get(imp.target, frozenset()))
            if not brings - heavy[module]:
                bad.append(f"{module}:{imp.line} imports {imp.target} inside a function without deferring anything")
    assert not bad, "\n".join(bad)


def _loaded(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from mixsim.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(run.stdout.split())


def test_help_loads_no_numerical_library() -> None:
    assert not _loaded(["--help"]) & (HEAVY | {"numpy", "simpy"})


@pytest.mark.parametrize("command", ["validate", "schema"])
def test_validate_loads_no_heavy_library(repo_root: Path, command: str) -> None:
    argv = [command, str(repo_root / "scenarios" / "d2c_ecommerce.toml")] if command == "validate" else [command]
    assert not _loaded(argv) & HEAVY
