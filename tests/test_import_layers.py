"""Our modules import one way (issue 12): no import circle among them, and ``dashboard.audit``,
the base every app writes to, imports no other app of ours.

Read from the source with ``ast`` (nothing is imported): every ``import`` counts, at module level
or inside a function, since a deferred import is still a circle a reader has to hold in mind.
Migrations are left out (Django generates their cross-app references).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dashboard", "icws_client")
BASE_APP = "dashboard.audit"
# What the base app may import besides itself: plumbing that imports none of our apps.
BASE_MAY_IMPORT = ("dashboard.core",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            modules[_module_name(path)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``name`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # ``from pkg import mod`` imports the module; ``from pkg import name``, the package.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # The longest of ours it names: ``dashboard.api.errors.error_body`` -> the module.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_no_import_circle_among_our_modules():
    assert circles(import_graph()) == []


def test_the_audit_app_imports_no_other_app_of_ours():
    offending = {
        f"{name} -> {target}"
        for name, targets in import_graph().items()
        if name == BASE_APP or name.startswith(BASE_APP + ".")
        for target in targets
        if target.startswith("dashboard") and not target.startswith((BASE_APP, *BASE_MAY_IMPORT))
    }
    assert offending == set()


def test_the_graph_sees_imports_of_every_form(tmp_path):
    """The parser itself: absolute, ``from pkg import module``, relative and deferred imports."""
    modules = {"pkg": tmp_path, "pkg.a": tmp_path, "pkg.b": tmp_path, "pkg.c": tmp_path}
    source = tmp_path / "a.py"
    source.write_text("import pkg.b\nfrom . import c\ndef f():\n    from .b import x\n")
    assert imports_of("pkg.a", source, modules) == {"pkg.b", "pkg.c"}
    source.write_text("from pkg import something_in_init\n")
    assert imports_of("pkg.a", source, modules) == {"pkg"}
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
