"""The three floors, read from the folders and the imports (every import, also inside functions).

A module's floor is its folder:
- core ``leadops/``: imports only the core and the bundled ``expectations/`` data;
- stages ``tasks/<stage>/``: the core, ``tasks/features`` and their own stage;
- ``tasks/features/``: the core and itself;
- ``flows/``: the core, the stages and other flows (a subflow is wiring);
- ``deployments/``: anything but the app shell;
- the app shell ``app/``: anything.
``bench/`` imports nothing from ``tests/``. No two modules import each other in a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("leadops", "app", "tasks", "flows", "deployments", "expectations", "tests", "bench")
FLOORS = ("leadops", "app", "tasks", "flows", "deployments", "expectations")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """First-party modules ``path`` imports (absolute imports; the project has no relative ones)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from leadops import registry`` imports the module leadops.models.registry
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in FIRST_PARTY}


def import_graph(folders: tuple[str, ...]) -> dict[str, set[str]]:
    modules = {module_name(p): p for folder in folders for p in (ROOT / folder).rglob("*.py")}
    return {name: {t for t in imports_of(path) if t in modules} for name, path in modules.items()}


def floor(module: str) -> str:
    """``core``, ``data``, ``features``, ``stage:<name>``, ``flows``, ``deployments`` or ``app``:
    the top folder of the module's path (and a stage's own folder under ``tasks/``)."""
    parts = module.split(".")
    if parts[0] == "leadops":
        return "core"
    if parts[0] == "expectations":
        return "data"
    if parts[0] == "tasks":
        if len(parts) == 1 or parts[1] == "features":
            return "features"
        return f"stage:{parts[1]}"
    return parts[0]


def allowed(source: str, target: str) -> bool:
    src, dst = floor(source), floor(target)
    if dst == "data":  # the bundled suites: files under every floor
        return src != "data" or dst == "data"
    if src == "app":
        return True
    if src in ("core", "data"):
        return dst in ("core", "data")
    if src == "features":
        return dst in ("core", "features")
    if src.startswith("stage:"):
        return dst in ("core", "features", src)
    if src == "flows":
        return dst in ("core", "features", "flows") or dst.startswith("stage:")
    if src == "deployments":
        return dst != "app"
    return True


def test_imports_only_go_down() -> None:
    graph = import_graph(FLOORS)
    wrong = sorted(
        f"{s} -> {t}" for s, targets in graph.items() for t in targets if not allowed(s, t)
    )
    assert not wrong, "imports against the floors:\n" + "\n".join(wrong)


def test_no_import_loops() -> None:
    graph = import_graph(FLOORS)
    # A package's __init__ importing its own modules is not a loop between concerns.
    edges = {
        s: {t for t in ts if not t.startswith(s + ".") and not s.startswith(t + ".")}
        for s, ts in graph.items()
    }
    loops = _cycles(edges)
    assert not loops, "import loops:\n" + "\n".join(" -> ".join(c) for c in loops)


def test_bench_imports_nothing_from_tests() -> None:
    offenders = [
        p.name
        for p in (ROOT / "bench").rglob("*.py")
        if any(name.split(".")[0] == "tests" for name in imports_of(p))
    ]
    assert not offenders


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        ("tasks.rollout.run", "tasks.scoring.scorer", False),
        ("leadops.models.registry", "tasks.training.model", False),
        ("leadops.decisions.metrics", "app.cli.main", False),
        ("tasks.scoring.scorer", "tasks.features.reasons", True),
        ("app.cli.main", "flows.train", True),
        ("leadops.storage.lake", "expectations", True),
        ("expectations", "app.cli.main", False),
    ],
)
def test_the_rule_itself(source: str, target: str, ok: bool) -> None:
    assert allowed(source, target) is ok


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), as example paths."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
