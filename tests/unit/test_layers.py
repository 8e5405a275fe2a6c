"""The package's folders are layers: nothing imports a higher one, and there is no circle.

Lazy imports inside functions count too: an upward import hidden in a function is
still a module that cannot be understood without the layer above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wscli

PACKAGE = Path(wscli.__file__).parent

# Lowest first. Top-level modules are the spine and the pure core, except cli/__main__.
LAYERS = [
    "core",
    "output",
    "net",
    "checks",
    "server",
    "session",
    "validate",
    "probe",
    "load",
    "options",
    "commands",
    "cli",
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    if len(parts) >= 2 and parts[1] in ("cli", "__main__"):
        return LAYERS.index("cli")
    return LAYERS.index("core")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "wscli":
                found.update(f"wscli.{alias.name}" for alias in node.names)
            elif node.module.startswith("wscli."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("wscli."))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for target in imports_of(path):
            # `from wscli.net import tap` names a module; `from wscli.net.tap import X` too.
            targets.add(target if target in modules else target.rpartition(".")[0])
        edges[name] = {t for t in targets if t in modules and t != name and t != "wscli"}
    return edges


def test_no_module_imports_a_higher_layer() -> None:
    """A module in layer N imports only from layers 0..N (``LAYERS`` above)."""
    upward = [
        f"{source} ({LAYERS[layer_of(source)]}) imports {target} ({LAYERS[layer_of(target)]})"
        for source, targets in graph().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(source)
    ]
    assert upward == []


def test_no_import_circle() -> None:
    """Module imports form no cycle (lazy imports included), so each can be read bottom-up."""
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_the_top_level_stays_small() -> None:
    """At most a dozen modules beside the layer folders (plus ``__init__``/``__main__``)."""
    top = [p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")]
    assert len(top) <= 12, sorted(top)
