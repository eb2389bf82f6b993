"""Sphinx configuration of the skhanrock documentation.

Build: ``sh docs/build.sh`` (the README's and CI's command; it says which settings it sets).
The API page and one page per function or class are generated from each
subpackage's ``__all__`` at build time (:func:`api_page`, :func:`object_page`), so a
new public name appears without editing them; the test suite checks that they
cover every public name. Offline (CI machines have no network), intersphinx is
switched off.
"""

import importlib
import inspect
import os
import sys
from pathlib import Path

import skhanrock

project = "skhanrock"
version = release = skhanrock.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = []
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
# The object pages are written by object_page below, not by autosummary: its
# default class template lists every inherited torch/skorch/sklearn method as a
# link to a page that does not exist.
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False

OFFLINE = bool(os.environ.get("SKHANROCK_DOCS_OFFLINE") or os.environ.get("CI"))
EXTERNAL = {
    "python": "https://docs.python.org/3",
    "sklearn": "https://scikit-learn.org/stable",
    "skorch": "https://skorch.readthedocs.io/en/stable",
    "torch": "https://pytorch.org/docs/stable",
    "pandas": "https://pandas.pydata.org/docs",
    "numpy": "https://numpy.org/doc/stable",
    "matplotlib": "https://matplotlib.org/stable",
}
intersphinx_mapping = {} if OFFLINE else {name: (url, None) for name, url in EXTERNAL.items()}
# Every reference to skhanrock's own names must resolve, so a renamed function
# or constant breaks the build instead of leaving dead text. Offline, references
# into the projects above cannot resolve and stay plain text.
nitpicky = True
_EXTERNAL_TARGETS = r"(builtins|str|collections|joblib|sklearn|skorch|torch|pandas|numpy|matplotlib|dask|distributed)\b.*"
nitpick_ignore_regex = [(r"py:.*", _EXTERNAL_TARGETS)] if OFFLINE else []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "abort_on_example_error": True,
}

SUBPACKAGES = ["skhanrock", "skhanrock.datasets", "skhanrock.preprocessing", "skhanrock.nn",
               "skhanrock.model_selection", "skhanrock.metrics", "skhanrock.inspection",
               "skhanrock.experiments", "skhanrock.exceptions"]
_LONGEST_VALUE = 120


def api_entries():
    """What the API page documents: ``{subpackage: (objects, constants)}``.

    Objects (functions and classes) are listed in an autosummary table and get
    a page each (:func:`object_page`); constants (every other public name) are
    documented on the API page itself. A name that the top
    level re-exports is documented there only, so each has one page.
    """
    top_level = set(skhanrock.__all__)
    entries = {}
    for name in SUBPACKAGES:
        module = importlib.import_module(name)
        public = sorted(n for n in module.__all__ if not n.startswith("_")
                        and (name == "skhanrock" or n not in top_level))
        constants = [n for n in public if not callable(getattr(module, n))]
        entries[name] = ([n for n in public if n not in constants], constants)
    return entries


def constant_comment(package, name):
    """The ``#:`` doc comment of ``package.name``, from the module that assigns it.

    Autodoc only reads comments in the module a constant is documented under,
    and the public packages re-export constants defined in private modules.
    """
    from sphinx.pycode import ModuleAnalyzer

    candidates = [package] + sorted(m for m in sys.modules if m.startswith(package + "."))
    for module_name in candidates:
        comments = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        if ("", name) in comments:
            return list(comments[("", name)])
    return []


def _constant_lines(package, name):
    value = getattr(importlib.import_module(package), name)
    shown = repr(value)
    # Values that are long or hold objects (functions at some address) read
    # better in the comment than in a signature line.
    options = [f"   :type: {type(value).__name__}"]
    if len(shown) <= _LONGEST_VALUE and " at 0x" not in shown:
        options.append(f"   :value: {shown}")
    body = [f"   {line}" for line in constant_comment(package, name)]
    return [f".. data:: {name}", *options, "", *body, ""]


def _class_members(cls):
    """Public methods and properties that skhanrock itself defines and documents on ``cls``."""
    members = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("skhanrock"):
            continue
        members.update(name for name, value in vars(klass).items()
                       if not name.startswith("_") and inspect.getdoc(value)
                       and (inspect.isfunction(value) or isinstance(value, property)))
    return sorted(members)


def object_page(package, name):
    """The reStructuredText page of the function or class ``package.name``."""
    obj = getattr(importlib.import_module(package), name)
    title = f"{package}.{name}"
    lines = [title, "=" * len(title), "", f".. currentmodule:: {package}", ""]
    if not inspect.isclass(obj):
        return "\n".join([*lines, f".. autofunction:: {name}", ""])
    lines.append(f".. autoclass:: {name}")
    members = _class_members(obj)
    if members:
        lines.append(f"   :members: {', '.join(members)}")
    return "\n".join([*lines, ""])


def _section(name, objects, constants):
    lines = [f"``{name}``", "-" * (len(name) + 4), "", f".. automodule:: {name}", ""]
    if objects:
        lines += [".. autosummary::", ""] + [f"   {n}" for n in objects] + [""]
    if constants:
        lines += [".. rubric:: Constants", ""]
    for constant in constants:
        lines += _constant_lines(name, constant)
    return lines


def api_page():
    """The reStructuredText of ``docs/api.rst``."""
    entries = api_entries()
    lines = ["API reference", "=============", ""]
    for name, (objects, constants) in entries.items():
        lines += _section(name, objects, constants)
    lines += [".. toctree::", "   :hidden:", ""]
    lines += [f"   generated/{name}.{n}" for name, (objects, _) in entries.items()
              for n in objects]
    return "\n".join(lines) + "\n"


def _write_api_pages(folder):
    generated = folder / "generated"
    generated.mkdir(exist_ok=True)
    # Pages of names that are no longer public would otherwise be built as orphans.
    for stale in generated.glob("*.rst"):
        stale.unlink()
    for package, (objects, _) in api_entries().items():
        for name in objects:
            (generated / f"{package}.{name}.rst").write_text(object_page(package, name))
    (folder / "api.rst").write_text(api_page())


def resolve_short_name(app, env, node, contnode):
    """Resolve a brief name such as ``FrameValidSplit`` to the one skhanrock object so named.

    Docstrings name their package's neighbours briefly, but a class re-exported
    at the top level is documented there, where the brief name does not resolve.
    A name that matches no documented object, or several, is still reported.
    """
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    suffix = "." + node["reftarget"].lstrip("~.")
    # Aliased entries are the same objects under their private defining module.
    matches = [name for name, entry in domain.objects.items()
               if name.startswith("skhanrock.") and name.endswith(suffix) and not entry.aliased]
    if len(matches) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0],
                               node, contnode)


def setup(app):
    """Write the API pages before Sphinx looks for sources; resolve brief names."""
    _write_api_pages(Path(__file__).parent)
    app.connect("missing-reference", resolve_short_name)
