"""No import loops (issue #25): between folders of our code, and between modules of ``judge``.

The graph is drawn from every import statement (lazy ones inside functions and
``TYPE_CHECKING`` blocks too, since a loop hidden by a lazy import is still a loop a reader
has to untangle). A *folder* is a directory: ``referee/review`` is one node, the files directly
in ``referee/`` (``errors.py``, ``settings.py``, ...) are the node ``referee``. An edge
``a -> b`` means some module of folder ``a`` imports a module of folder ``b``; the graph must
have no cycle, so the folders can be read (and drawn, ``docs/architecture.md``) bottom-up.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "referee",
    "judge",
    "routing",
    "workers",
    "calibration",
    "redaction",
    "formats",
    "kernel",
)

Edges = dict[str, set[tuple[str, str, str]]]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path) -> set[str]:
    """Dotted names ``module`` imports (``from a import b`` gives ``a`` and ``a.b``)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def module_edges() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    modules = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for name in _imported(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                edges[module].add(name)
    return edges


def _folder(module: str, modules: dict[str, Path]) -> str:
    return ".".join(modules[module].relative_to(REPO).parent.parts)


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or ``[]`` when it has none (depth-first
    search; a node met again while still on the path closes a cycle)."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_folders_import_each_other_without_loops() -> None:
    modules = _modules()
    folders: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], str] = {}
    for module, targets in module_edges().items():
        for target in targets:
            a, b = _folder(module, modules), _folder(target, modules)
            if a != b:
                folders[a].add(b)
                why.setdefault((a, b), f"{module} imports {target}")
    cycle = find_cycle(folders)
    assert cycle == [], [why[(a, b)] for a, b in pairwise(cycle)]


def test_judge_modules_import_each_other_without_loops() -> None:
    judge = {
        module: {t for t in targets if t == "judge" or t.startswith("judge.")}
        for module, targets in module_edges().items()
        if module.startswith("judge.")
    }
    judge = {m: {t for t in ts if t != "judge"} for m, ts in judge.items()}  # not the facade
    assert find_cycle(judge) == []


def test_a_loop_is_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
