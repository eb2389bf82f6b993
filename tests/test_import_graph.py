"""The package's modules import each other without a cycle (lazy imports included)."""

import ast
from pathlib import Path

import skhanrock

PACKAGE = Path(skhanrock.__file__).parent


def _module_name(path):
    parts = ["skhanrock", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module, path, node, modules):
    """The skhanrock modules one import statement of ``module`` loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
        if node.level else node.module
    # ``from pkg import sub`` loads the submodule, not the package's names again.
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}


def import_graph():
    """Module name -> the skhanrock modules it imports anywhere in its code."""
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for module, path in paths.items():
        nodes = [node for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Import | ast.ImportFrom)]
        graph[module] = {name for node in nodes for name in _imported(module, path, node, paths)
                         if name in paths and name != module}
    return graph


def test_no_module_imports_one_that_imports_it_back():
    graph = import_graph()
    assert "skhanrock.nn._buckets" in graph["skhanrock.nn._fine_tuning"]  # the walk sees imports

    def reaches(start, goal, seen):
        return any(step == goal or (step not in seen and not seen.add(step)
                                    and reaches(step, goal, seen)) for step in graph[start])

    cycles = sorted(module for module in graph if reaches(module, module, set()))
    assert not cycles, f"modules on an import cycle: {cycles}"
