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


def _declared_public(path):
    """The names a module lists in ``__all__``, or None when it has no ``__all__``."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__all__"
                for target in node.targets):
            return set(ast.literal_eval(node.value))
    return None


#: The helpers every subpackage shares: their modules count as the root's.
SHARED = "skhanrock._utils"


def _package_of(module, paths):
    """The subpackage a module belongs to (``skhanrock.nn``), or ``skhanrock`` for the root's
    and the shared helpers'."""
    package = module if paths[module].name == "__init__.py" else module.rpartition(".")[0]
    package = ".".join(package.split(".")[:2])
    return "skhanrock" if package == SHARED else package


def private_imports():
    """``(module, line, owner, name)`` of each name a module imports that its owner keeps private.

    A name is private to its module when it starts with an underscore or,
    in a module with an ``__all__``, when ``__all__`` does not list it.
    Dunders (``__version__``) and submodules are not names of that kind. A
    subpackage's private modules are private to other subpackages as a whole:
    they import what its ``__init__`` lists.
    """
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    found = []
    for module, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            [owner] = _imported(module, path, ast.ImportFrom(
                module=node.module, names=[ast.alias("*")], level=node.level), paths) or [None]
            if owner not in paths or owner == module:
                continue
            if _package_of(owner, paths) not in ("skhanrock", _package_of(module, paths), owner):
                # another subpackage's private module, not the names its __init__ lists
                found.append((module, node.lineno, owner, "(its private module)"))
                continue
            public = _declared_public(paths[owner])
            for alias in node.names:
                name = alias.name
                if f"{owner}.{name}" in paths or (name.startswith("__") and name.endswith("__")):
                    continue
                if name.startswith("_") or (public is not None and name not in public):
                    found.append((module, node.lineno, owner, name))
    return found


def test_the_root_holds_only_the_product_modules():
    # helpers live in _utils and commands in _commands, so a maintainer finds them
    root = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert root == ["__init__.py", "__main__.py", "_pipeline.py", "_saving.py", "_stream.py",
                    "_testing.py", "_version.py", "conftest.py", "exceptions.py"]


def test_no_module_imports_a_name_its_owner_keeps_private():
    found = private_imports()
    assert not found, "private names imported across modules (make them public in their " \
        "owner's __all__, or move the code to the owner):\n" + \
        "\n".join(f"{m}:{line} imports {name} from {owner}" for m, line, owner, name in found)
