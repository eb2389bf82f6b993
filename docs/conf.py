"""Sphinx configuration of the skhanrock documentation.

Build: ``SKHANROCK_DOCS_OFFLINE=1 python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The API pages are generated from each subpackage's ``__all__`` at build time, so a
new public name appears without editing them. Offline (CI machines have no network),
intersphinx is switched off.
"""

import os
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
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False

OFFLINE = bool(os.environ.get("SKHANROCK_DOCS_OFFLINE") or os.environ.get("CI"))
intersphinx_mapping = {} if OFFLINE else {
    "python": ("https://docs.python.org/3", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
    "pandas": ("https://pandas.pydata.org/docs", None),
}
# Offline, references into those projects stay plain text instead of warnings.
nitpicky = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "abort_on_example_error": True,
}

SUBPACKAGES = ["skhanrock", "skhanrock.datasets", "skhanrock.preprocessing", "skhanrock.nn",
               "skhanrock.model_selection", "skhanrock.metrics", "skhanrock.inspection",
               "skhanrock.experiments"]


def _write_api_page():
    """docs/api.rst from every subpackage's __all__ (constants are listed, not documented)."""
    import importlib

    lines = ["API reference", "=============", ""]
    top_level = set(importlib.import_module("skhanrock").__all__)
    for name in SUBPACKAGES:
        module = importlib.import_module(name)
        # Names re-exported at the top level are documented there only.
        public = [n for n in module.__all__ if not n.startswith("_") and not n.isupper()
                  and (name == "skhanrock" or n not in top_level)]
        lines += [f"``{name}``", "-" * (len(name) + 4), "", f".. currentmodule:: {name}", "",
                  ".. autosummary::", "   :toctree: generated/", ""]
        lines += [f"   {n}" for n in sorted(public)] + [""]
    Path(__file__).with_name("api.rst").write_text("\n".join(lines))


_write_api_page()
